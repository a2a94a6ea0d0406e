//! One apply from approval to summary: refuse a malformed plan before touching
//! anything, lock the nodes, re-check that the plan is still true under the lock, run
//! the plan the re-check returns, and release the locks on every way out. An apply that
//! does not ask (`--auto-approve`) locks first and plans under the lock instead
//! ([`apply_locked_first`]): there is no gap between planning and running to re-check,
//! and the checks that some steps leave for after the run are made by one more read,
//! still under the lock (`executor::later`). The re-check
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

/// The read after the run of a re-checked plan: never made (its facts are not fresh, so
/// no step leaves its check for later).
type NoRead = fn() -> std::future::Ready<Result<Plan, String>>;

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
    let locks = lock::acquire(at, transports, &touched_nodes(plan), me).await?;
    // no check is left for later on a re-checked plan (its facts are not fresh)
    let none: Option<NoRead> = None;
    under_locks(locks, transports, opts, observer, stop, recheck, none).await
}

/// Locks first, plans after: locks every node of `nodes` that can be reached (a node
/// that cannot is left out, with a note, and the plan may not touch it), runs `plan_now`
/// under the locks (gather and plan: the facts are read under the lock, so the plan it
/// returns needs no re-check), validates and executes that plan, and releases the locks
/// whatever happened. For an apply that runs what it plans without asking
/// (`--auto-approve`): one gather instead of one before the lock and one under it. A
/// plan with no steps runs nothing; the caller tells that from `Finished::plan`.
/// `read_again` (gather and plan once more, still under the locks) runs after the steps
/// when some left their check for it (`executor::later`), and settles them.
#[allow(clippy::too_many_arguments)]
pub async fn apply_locked_first<F, Fut, A, AFut>(
    nodes: &BTreeSet<String>,
    transports: &Transports,
    opts: &ApplyOptions,
    at: &LockLocation,
    me: &LockInfo,
    observer: &dyn Observer,
    stop: Option<watch::Receiver<bool>>,
    plan_now: F,
    read_again: A,
) -> Result<Finished, RunError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Plan, String>>,
    A: FnOnce() -> AFut,
    AFut: Future<Output = Result<Plan, String>>,
{
    let (locks, left_out) = lock::acquire_reachable(at, transports, nodes, me).await?;
    for (node, why) in &left_out {
        observer.note(&format!(
            "note: node {node} is not locked (it cannot be reached: {why}); nothing will run on it"
        ));
    }
    // the plan is made from facts gathered under these very locks
    let opts = ApplyOptions {
        fresh_facts: true,
        ..opts.clone()
    };
    under_locks(
        locks,
        transports,
        &opts,
        observer,
        stop,
        plan_now,
        Some(read_again),
    )
    .await
}

/// The part both ways share: with the locks held, get the plan to run, check it (valid,
/// touching only locked nodes), execute it, settle the checks it left for after the run
/// with `read_again`, release the locks on every way out.
async fn under_locks<F, Fut, A, AFut>(
    locks: lock::NodeLocks,
    transports: &Transports,
    opts: &ApplyOptions,
    observer: &dyn Observer,
    stop: Option<watch::Receiver<bool>>,
    produce: F,
    read_again: Option<A>,
) -> Result<Finished, RunError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Plan, String>>,
    A: FnOnce() -> AFut,
    AFut: Future<Output = Result<Plan, String>>,
{
    let locked: BTreeSet<String> = locks.nodes().map(str::to_string).collect();
    for (node, holder, why) in &locks.taken_over {
        observer.note(&format!(
            "note: took over the lock on {node} left by process {} of this host (started {}): {why}",
            holder.pid, holder.started
        ));
    }
    // A panic (a planner bug on crafted facts, finding 7) must not leave the nodes
    // locked: catch it, release, and let it continue.
    let produced = AssertUnwindSafe(produce()).catch_unwind().await;
    let produced = match produced {
        Ok(r) => r,
        Err(panic) => {
            let _ = locks.release().await;
            std::panic::resume_unwind(panic)
        }
    };
    let checked = match produced {
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
    let run = async {
        let mut report = executor::execute(&to_run, transports, opts, observer, stop).await?;
        if !report.checked_later.is_empty() {
            let after = match read_again {
                Some(read) => {
                    observer.note(&format!(
                        "Checking the effect of {} step(s) by reading the nodes again...",
                        report.checked_later.len()
                    ));
                    read().await
                }
                None => Err("no read after the run was arranged".to_string()),
            };
            executor::settle(&mut report, &to_run, after.as_ref().map_err(String::as_str));
        }
        Ok::<_, ApplyError>(report)
    };
    let result = AssertUnwindSafe(run).catch_unwind().await;
    let unreleased = locks.release().await;
    let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    Ok(Finished {
        report: result?,
        plan: to_run,
        unreleased,
    })
}
