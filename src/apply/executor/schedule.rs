//! The scheduler: starts every step whose dependencies are done, at most one node-local
//! step per node and one cluster-wide gluster change at a time, within the parallelism
//! bound; blocks what sits behind a failure; stops starting new steps when asked.
//!
//! A node's local steps that are ready at the same moment go to it in one round trip
//! (`script::run_batch`), one after the other as before, each with its own guard and
//! report: twenty brick directories cost one SSH exchange instead of twenty. Gluster
//! changes ready at the same moment on the node that runs them are batched the same way,
//! a few at a time: they still run one after the other, one batch at a time.
//!
//! A gluster change does not hold its node's slot: it changes glusterd's state, not the
//! node's files, so the node's next brick directory or LV can be made while the cluster
//! creates a volume (what it needs is ordered by the plan's dependencies). Node-local
//! steps stay one at a time per node: two fstab edits must not interleave.

use std::collections::{BTreeSet, HashMap, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::watch;

use super::graph::{is_cluster_wide, validate};
use super::later;
use super::options::{ApplyError, ApplyOptions};
use super::outcome::{NotRun, Observer, Outcome, Report};
use super::script::{
    BATCH_MAX_BYTES, BATCH_MAX_GLUSTER, BATCH_MAX_STEPS, Checks, batch_cost, is_no_op, run_batch,
};
use crate::plan::{Plan, Step};
use crate::transport::Transports;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Finished(Outcome),
}

impl State {
    fn satisfied(&self) -> bool {
        matches!(
            self,
            State::Finished(Outcome::Done { .. } | Outcome::AlreadyDone)
        )
    }
}

/// Executes the plan. Returns Err only when the plan is refused before anything ran;
/// step failures are in the [`Report`]. When `stop` turns true, running steps finish
/// and nothing new starts (the caller then releases locks and exits cleanly).
pub async fn execute(
    plan: &Plan,
    transports: &Transports,
    opts: &ApplyOptions,
    observer: &dyn Observer,
    mut stop: Option<watch::Receiver<bool>>,
) -> Result<Report, ApplyError> {
    validate(plan, transports, opts)?;
    let steps = &plan.steps;
    let n = steps.len();
    let index: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let deps: Vec<Vec<usize>> = steps
        .iter()
        .map(|s| s.depends_on.iter().map(|d| index[d.as_str()]).collect())
        .collect();
    let mut dependents = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let cluster_wide: Vec<bool> = steps.iter().map(is_cluster_wide).collect();
    let checks = later::checks(plan, opts);
    let parallelism = opts.parallelism.max(1);

    let mut state = vec![State::Pending; n];
    let mut busy_nodes: BTreeSet<&str> = BTreeSet::new();
    let mut gluster_busy = false;
    let mut stopping = stop.as_ref().is_some_and(|s| *s.borrow());
    let mut running = FuturesUnordered::new();

    loop {
        if !stopping {
            for i in 0..n {
                if running.len() >= parallelism {
                    break;
                }
                if state[i] != State::Pending
                    || !deps[i].iter().all(|&d| state[d].satisfied())
                    || (!cluster_wide[i] && busy_nodes.contains(steps[i].node.as_str()))
                    || (cluster_wide[i] && gluster_busy)
                {
                    continue;
                }
                let step = &steps[i];
                // the node's other local steps that are ready now go in the same round trip
                // the node's other steps of the same kind that are ready now go in the same
                // round trip: local steps, or gluster changes (still one at a time, in a
                // shorter batch, so that a stop request waits for a few at most)
                let mut batch = vec![i];
                if !is_no_op(step) {
                    let most = if cluster_wide[i] {
                        BATCH_MAX_GLUSTER
                    } else {
                        BATCH_MAX_STEPS
                    };
                    let mut bytes = batch_cost(step);
                    for j in i + 1..n {
                        if batch.len() >= most {
                            break;
                        }
                        if state[j] != State::Pending
                            || cluster_wide[j] != cluster_wide[i]
                            || is_no_op(&steps[j])
                            || steps[j].node != step.node
                            || !deps[j].iter().all(|&d| state[d].satisfied())
                        {
                            continue;
                        }
                        bytes += batch_cost(&steps[j]);
                        if bytes > BATCH_MAX_BYTES {
                            break;
                        }
                        batch.push(j);
                    }
                }
                if cluster_wide[i] {
                    gluster_busy = true;
                } else {
                    busy_nodes.insert(step.node.as_str());
                }
                let members: Vec<(usize, &Step, Checks)> =
                    batch.iter().map(|&j| (j, &steps[j], checks[j])).collect();
                for &j in &batch {
                    state[j] = State::Running;
                    observer.started(&steps[j]);
                }
                let transport = transports.get(&step.node).cloned();
                running.push(async move {
                    let outcomes = run_batch(&members, transport, opts).await;
                    (i, outcomes)
                });
            }
        }
        if running.is_empty() {
            break;
        }
        let finished = match stop.as_mut() {
            Some(rx) if !stopping => {
                tokio::select! {
                    f = running.next() => f,
                    changed = rx.changed() => {
                        // A dropped sender means nobody can ask us to stop any more.
                        if changed.is_ok() && *rx.borrow() {
                            stopping = true;
                        } else if changed.is_err() {
                            stop = None;
                        }
                        continue;
                    }
                }
            }
            _ => running.next().await,
        };
        let Some((first, outcomes)) = finished else {
            break;
        };
        if cluster_wide[first] {
            gluster_busy = false;
        } else {
            busy_nodes.remove(steps[first].node.as_str());
        }
        for (i, outcome) in outcomes {
            let failed = matches!(outcome, Outcome::Failed(_));
            observer.finished(&steps[i], &outcome);
            state[i] = State::Finished(outcome);
            if failed {
                block_dependents(i, steps, &dependents, &mut state, observer);
                stopping |= opts.fail_fast;
            }
        }
    }

    // Anything still pending was never started because the run stopped (steps behind a
    // failure were already marked blocked when it failed).
    for (i, s) in state.iter_mut().enumerate() {
        if *s == State::Pending {
            let outcome = Outcome::NotRun(NotRun::Stopped);
            observer.finished(&steps[i], &outcome);
            *s = State::Finished(outcome);
        }
    }
    let checked_later = steps
        .iter()
        .zip(&checks)
        .zip(&state)
        .filter(|((s, c), st)| {
            !c.after
                && !s.guard.argv.is_empty()
                && matches!(st, State::Finished(Outcome::Done { .. }))
        })
        .map(|((s, _), _)| s.id.clone())
        .collect();
    Ok(Report {
        checked_later,
        outcomes: steps
            .iter()
            .zip(state)
            .map(|(step, s)| match s {
                State::Finished(o) => (step.id.clone(), o),
                // Unreachable by construction: the loop only exits with nothing running.
                State::Pending | State::Running => {
                    (step.id.clone(), Outcome::NotRun(NotRun::Stopped))
                }
            })
            .collect(),
    })
}

/// Marks every step behind a failed one (transitively) as blocked by it.
fn block_dependents(
    failed: usize,
    steps: &[Step],
    dependents: &[Vec<usize>],
    state: &mut [State],
    observer: &dyn Observer,
) {
    let mut queue: VecDeque<usize> = dependents[failed].iter().copied().collect();
    while let Some(j) = queue.pop_front() {
        if state[j] != State::Pending {
            continue;
        }
        let outcome = Outcome::NotRun(NotRun::Blocked {
            failed: steps[failed].id.clone(),
        });
        observer.finished(&steps[j], &outcome);
        state[j] = State::Finished(outcome);
        queue.extend(dependents[j].iter().copied());
    }
}
