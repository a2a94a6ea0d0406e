//! Carrying out a Plan over transports: guarded, parallel, resumable, locked.
//! Apply never decides what to do; the plan already did. The lock it takes lives in
//! `crate::lock`; the transports it is given come from `crate::transport`.

pub mod executor;
pub mod progress;
pub mod run;
pub mod saved;
pub mod stale;

pub use executor::{
    ApplyError, ApplyOptions, Failure, NotRun, Observer, Outcome, Report, Silent, Summary, execute,
    validate,
};
