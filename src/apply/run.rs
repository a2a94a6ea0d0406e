//! One apply from approval to summary: refuse a malformed plan before touching
//! anything, lock the nodes, re-check that the plan is still true under the lock, run
//! the plan the re-check returns, and release the locks on every way out. The re-check
//! is the caller's (it needs gather and the planner); for a saved plan it returns the
//! plan re-derived under the lock (`apply::saved`), so the executor never runs a step
//! that came from a file. This module only guarantees the order and the unlocking,
//! also when the re-check or the run panics.

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

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
    /// The plan that ran (the re-check's).
    pub plan: Plan,
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

/// Validates, locks, runs `recheck` under the lock (Ok = the plan to run, Err = stale or
/// not approved, with the explanation), validates that plan again, executes it, and
/// releases the locks whatever happened. The plan given is checked before locking only to
/// refuse early; what runs, and what its permissions are checked on, is the re-check's.
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
    Fut: Future<Output = Result<Plan, String>>,
{
    executor::validate(plan, transports, opts)?;
    let locked = touched_nodes(plan);
    let locks = lock::acquire(at, transports, &locked, me).await?;
    for (node, holder, why) in &locks.taken_over {
        observer.note(&format!(
            "note: took over the lock on {node} left by process {} of this host (started {}): {why}",
            holder.pid, holder.started
        ));
    }
    // A panic (a planner bug on crafted facts, finding 7) must not leave the nodes
    // locked: catch it, release, and let it continue.
    let rechecked = AssertUnwindSafe(recheck()).catch_unwind().await;
    let rechecked = match rechecked {
        Ok(r) => r,
        Err(panic) => {
            let _ = locks.release().await;
            std::panic::resume_unwind(panic)
        }
    };
    let checked = match rechecked {
        Ok(to_run) => match executor::validate(&to_run, transports, opts) {
            Ok(()) if touched_nodes(&to_run).is_subset(&locked) => Ok(to_run),
            Ok(()) => Err(RunError::Stale(
                "the plan to run touches nodes that were not locked".into(),
            )),
            Err(e) => Err(RunError::Invalid(e)),
        },
        Err(why) => Err(RunError::Stale(why)),
    };
    let to_run = match checked {
        Ok(p) => p,
        Err(mut e) => {
            let unreleased = locks.release().await;
            if let RunError::Stale(msg) = &mut e {
                for (node, problem) in unreleased {
                    msg.push_str(&format!("\n(lock on {node} not released: {problem})"));
                }
            }
            return Err(e);
        }
    };
    let result = AssertUnwindSafe(executor::execute(&to_run, transports, opts, observer, stop))
        .catch_unwind()
        .await;
    let unreleased = locks.release().await;
    let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    Ok(Finished {
        report: result?,
        plan: to_run,
        unreleased,
    })
}
