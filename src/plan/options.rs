//! What the command line grants the planner beyond the config. Its own module so every
//! pass can read it without importing the pass runner (`plan/mod.rs`).

/// Command-line permissions that the config alone cannot grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--allow-destroy`: deletions and other data-destroying steps may run.
    pub allow_destroy: bool,
    /// `--allow-wipe`: devices with `wipe: true` may have their signatures wiped.
    pub allow_wipe: bool,
}
