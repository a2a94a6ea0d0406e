//! Carrying out a Plan over transports: guarded, parallel, resumable, locked.
//! Apply never decides what to do; the plan already did.

pub mod executor;
pub mod lock;
pub mod progress;
pub mod run;
pub mod stale;

pub use executor::{
    ApplyError, ApplyOptions, Failure, NotRun, Observer, Outcome, Report, Silent, Summary,
    Transports, execute, validate,
};
