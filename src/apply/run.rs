//! One apply from approval to summary: refuse a malformed plan before touching
//! anything, lock the nodes, re-check that the plan is still true under the lock, run
//! it, and release the locks on every way out. The re-check is the caller's (it needs
//! gather and the planner); this module only guarantees the order and the unlocking.

use std::collections::BTreeSet;
use std::future::Future;

use tokio::sync::watch;

use crate::apply::executor::{self, ApplyError, ApplyOptions, Observer, Report};
use crate::lock::{self, LockError, LockInfo, LockLocation};
use crate::plan::Plan;
use crate::transport::Transports;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Invalid(#[from] ApplyError),
    #[error(transparent)]
    Locked(#[from] LockError),
    /// The plan no longer describes the cluster; the text says what changed.
    #[error("{0}")]
    Stale(String),
}

/// What a finished run did, and locks that could not be released (cleared later with
/// `brickyard unlock`).
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    pub unreleased: Vec<(String, String)>,
}

/// Nodes the plan runs anything on: those get locked.
pub(crate) fn touched_nodes(plan: &Plan) -> BTreeSet<String> {
    plan.steps
        .iter()
        .filter(|s| !s.commands.is_empty() || !s.guard.argv.is_empty())
        .map(|s| s.node.clone())
        .collect()
}

/// Validates, locks, runs `recheck` under the lock (Err = stale, with the explanation),
/// executes, and releases the locks whatever happened.
#[allow(clippy::too_many_arguments)]
pub async fn locked_apply<F, Fut>(
    plan: &Plan,
    transports: &Transports,
    opts: &ApplyOptions,
    at: &LockLocation,
    me: &LockInfo,
    observer: &dyn Observer,
    stop: Option<watch::Receiver<bool>>,
    recheck: F,
) -> Result<Finished, RunError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    executor::validate(plan, transports, opts)?;
    let locks = lock::acquire(at, transports, &touched_nodes(plan), me).await?;
    if let Err(why) = recheck().await {
        let unreleased = locks.release().await;
        let mut msg = why;
        for (node, problem) in unreleased {
            msg.push_str(&format!("\n(lock on {node} not released: {problem})"));
        }
        return Err(RunError::Stale(msg));
    }
    let result = executor::execute(plan, transports, opts, observer, stop).await;
    let unreleased = locks.release().await;
    Ok(Finished {
        report: result?,
        unreleased,
    })
}
