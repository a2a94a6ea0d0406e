//! Runs a plan's steps as a dependency graph. The scheduler only enforces what keeps
//! nodes safe (dependencies, one node-local step per node, one cluster-wide gluster
//! change at a time, a parallelism bound); what to run and how to tell it is done comes
//! from the plan's commands and guards. Every step is guarded before and verified after
//! (on facts read under the run's locks, some only after, some by one read of the nodes
//! after the run), so an interrupted run is finished by the next one.
//!
//! The parts: `options.rs` (how much at once, and why a plan is refused), `graph.rs`
//! (the checks before anything runs), `schedule.rs` (the state machine that starts
//! steps), `script.rs` (the one remote command per step, or per batch of a node's ready local
//! steps, and how each report is read),
//! `later.rs` (the checks left for one read after the run) and `outcome.rs` (what
//! happened, for the operator).

mod graph;
mod later;
mod options;
mod outcome;
mod schedule;
mod script;

pub use graph::validate;
pub use later::{DEFER_AT_LEAST, settle};
pub use options::{ApplyError, ApplyOptions};
pub use outcome::{Failure, NotRun, Observer, Outcome, Report, Silent, Summary};
pub use schedule::execute;
pub use script::{BATCH_SCRIPT, STEP_SCRIPT};
