//! How to run a plan, and why a plan is refused before anything runs.

use std::time::Duration;

/// How to run a plan. Nothing here changes *what* runs, only how much at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Steps running at once across the cluster (at least 1).
    pub parallelism: usize,
    /// Destructive steps that delete are refused without it (the planner blocks them too:
    /// defence in depth).
    pub allow_destroy: bool,
    /// Wipes of declared devices (`Permission::Wipe`) are refused without it; they need
    /// only this flag, as in the planner, so `--allow-wipe` alone runs a wipe-only plan.
    pub allow_wipe: bool,
    /// Stop starting new steps after the first failure.
    pub fail_fast: bool,
    /// Limit for one command of a step (mkfs, volume start, ...).
    pub command_timeout: Duration,
    /// Limit for one guard run (read-only checks).
    pub guard_timeout: Duration,
    /// The plan was made from facts read under the locks this run holds (an unasked
    /// apply: `apply::run::apply_locked_first`), so a step whose guard is marked
    /// `redundant_when_fresh` is checked only after its commands, not before too.
    pub fresh_facts: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            allow_destroy: false,
            allow_wipe: false,
            fail_fast: false,
            command_timeout: Duration::from_secs(600),
            guard_timeout: Duration::from_secs(120),
            fresh_facts: false,
        }
    }
}

/// Why a plan is not run at all. Nothing has been executed when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan has two steps with id `{0}`")]
    DuplicateStep(String),
    #[error("step `{step}` depends on `{missing}`, which is not in the plan")]
    UnknownDependency { step: String, missing: String },
    #[error("the plan's dependencies form a cycle through: {}", .0.join(", "))]
    Cycle(Vec<String>),
    #[error("step `{step}` runs on node `{node}`, which has no connection")]
    UnknownNode { step: String, node: String },
    #[error("step `{0}` has an empty command")]
    EmptyCommand(String),
    #[error(
        "the plan destroys data ({}); refusing without --allow-destroy",
        .0.join(", ")
    )]
    DestroyNotAllowed(Vec<String>),
    #[error(
        "the plan wipes devices ({}); refusing without --allow-wipe",
        .0.join(", ")
    )]
    WipeNotAllowed(Vec<String>),
}
