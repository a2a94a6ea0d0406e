//! Checks made after the run instead of after each step.
//!
//! Every step's effect is checked. On facts read under the run's own locks
//! ([`ApplyOptions::fresh_facts`]), a gluster change that nothing else in the plan waits
//! for (a new volume's create, mark and start; an option change) is checked once for all,
//! after the run, instead of by a gluster CLI call of its own after its commands: the
//! apply reads the nodes again, still holding its locks, and plans again. A step whose
//! resource that plan still wants to change, or can no longer plan for a new reason, did
//! not take effect: it fails as `unverified`, as its own check would have failed it.
//! Steps that others depend on keep their own check, so nothing ever runs on top of an
//! effect that was not seen.
//!
//! One read of every node costs about what [`DEFER_AT_LEAST`] such checks cost on the lab
//! (docs/performance.md), so checks are left for later only when at least that many
//! steps qualify; below that every step checks itself as before.

use super::graph::is_cluster_wide;
use super::options::ApplyOptions;
use super::outcome::{Failure, Outcome, Report};
use super::script::Checks;
use crate::plan::Plan;
use crate::transport::quote;

/// Fewest qualifying steps for which one read after the run is cheaper than a check
/// after each of them.
pub const DEFER_AT_LEAST: usize = 5;

/// Where each step's guard runs, in plan order.
pub(crate) fn checks(plan: &Plan, opts: &ApplyOptions) -> Vec<Checks> {
    let waited_on: std::collections::BTreeSet<&str> = plan
        .steps
        .iter()
        .flat_map(|s| s.depends_on.iter().map(String::as_str))
        .collect();
    let fresh = |i: usize| opts.fresh_facts && plan.steps[i].guard.redundant_when_fresh;
    let later: Vec<bool> = (0..plan.steps.len())
        .map(|i| {
            let s = &plan.steps[i];
            fresh(i) && is_cluster_wide(s) && !waited_on.contains(s.id.as_str())
        })
        .collect();
    let defer = later.iter().filter(|l| **l).count() >= DEFER_AT_LEAST;
    (0..plan.steps.len())
        .map(|i| Checks {
            before: !fresh(i),
            after: !(defer && later[i]),
        })
        .collect()
}

/// Settles the steps whose check was left for after the run ([`Report::checked_later`])
/// with `after`: the plan made from the nodes read again after the run, or why they
/// could not be read. A done step stays done only when that plan wants no change to its
/// resource and has no blocker on it that the plan which ran did not have.
pub fn settle(report: &mut Report, ran: &Plan, after: Result<&Plan, &str>) {
    for id in &report.checked_later {
        let Some(step) = ran.steps.iter().find(|s| &s.id == id) else {
            continue;
        };
        let Some((_, outcome)) = report.outcomes.iter_mut().find(|(i, _)| i == id) else {
            continue;
        };
        if !matches!(outcome, Outcome::Done { .. }) {
            continue;
        }
        let problem = match after {
            Err(why) => Some(format!(
                "the commands succeeded, but their effect could not be checked: reading the nodes again after the run failed: {why}"
            )),
            Ok(next) => {
                if let Some(left) = next.steps.iter().find(|s| s.address == step.address) {
                    Some(format!(
                        "command succeeded but effect not visible (guard: {}): read again after the run, {} still needs `{}`",
                        step.guard.description, step.address, left.description
                    ))
                } else {
                    next.blockers
                        .iter()
                        .find(|b| {
                            b.address == step.address
                                && !ran
                                    .blockers
                                    .iter()
                                    .any(|o| o.address == b.address && o.code == b.code)
                        })
                        .map(|b| {
                            format!(
                                "the commands succeeded, but their effect could not be checked: read again after the run, {} is blocked: {}",
                                step.address, b.message
                            )
                        })
                }
            }
        };
        if let Some(reason) = problem {
            *outcome = Outcome::Failed(Failure {
                node: step.node.clone(),
                reason,
                command: Some(quote(&step.guard.argv)),
                exit_code: None,
                stderr: String::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Address, Blocker, BlockerCode, Guard, Step};
    use std::time::Duration;

    fn step(volume: &str) -> Step {
        Step {
            id: format!("volume.{volume}/create"),
            address: Address::volume(volume),
            action: Action::Create,
            node: "n1".into(),
            description: format!("create volume {volume}"),
            commands: vec![vec!["gluster".into(), "volume".into()]],
            guard: Guard {
                description: "volume info says Started".into(),
                argv: vec!["gluster".into(), "volume".into(), "info".into()],
                redundant_when_fresh: true,
            },
            depends_on: vec![],
            destructive: false,
            changes: vec![],
        }
    }

    fn plan(steps: Vec<Step>, blockers: Vec<Blocker>) -> Plan {
        Plan {
            format_version: crate::plan::FORMAT_VERSION,
            cluster: "t".into(),
            cluster_id: None,
            planned_with: Default::default(),
            facts_fingerprint: String::new(),
            config_hash: String::new(),
            steps,
            placements: vec![],
            blockers,
            foreign: vec![],
            warnings: vec![],
            blocked_steps: vec![],
        }
    }

    fn blocker(volume: &str, code: BlockerCode) -> Blocker {
        Blocker {
            code,
            address: Address::volume(volume),
            message: format!("{volume} is blocked"),
            help: None,
        }
    }

    fn done() -> Outcome {
        Outcome::Done {
            elapsed: Duration::from_millis(5),
        }
    }

    fn report(ids: &[&str]) -> Report {
        Report {
            outcomes: ids
                .iter()
                .map(|i| (format!("volume.{i}/create"), done()))
                .collect(),
            checked_later: ids.iter().map(|i| format!("volume.{i}/create")).collect(),
        }
    }

    fn reason(r: &Report, volume: &str) -> Option<String> {
        match r.outcome(&format!("volume.{volume}/create")) {
            Some(Outcome::Failed(f)) => Some(f.reason.clone()),
            Some(Outcome::Done { .. }) => None,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_step_whose_resource_the_next_plan_still_changes_is_unverified() {
        let ran = plan(vec![step("a"), step("b"), step("c")], vec![]);
        let mut r = report(&["a", "b", "c"]);
        let mut b_again = step("b");
        b_again.id = "volume.b/options".into();
        b_again.description = "set 1 option".into();
        let next = plan(vec![b_again], vec![]);
        settle(&mut r, &ran, Ok(&next));
        assert_eq!(reason(&r, "a"), None);
        let b = reason(&r, "b").unwrap();
        assert!(
            b.contains("effect not visible") && b.contains("set 1 option"),
            "{b}"
        );
        assert_eq!(reason(&r, "c"), None);
    }

    #[test]
    fn a_new_blocker_leaves_a_step_unchecked_but_an_old_one_does_not() {
        let ran = plan(
            vec![step("a"), step("b")],
            vec![blocker("a", BlockerCode::Capacity)],
        );
        let mut r = report(&["a", "b"]);
        let next = plan(
            vec![],
            vec![
                blocker("a", BlockerCode::Capacity),
                blocker("b", BlockerCode::FactsIncomplete),
            ],
        );
        settle(&mut r, &ran, Ok(&next));
        assert_eq!(reason(&r, "a"), None, "blocked before the run as well");
        let b = reason(&r, "b").unwrap();
        assert!(
            b.contains("could not be checked") && b.contains("b is blocked"),
            "{b}"
        );
    }

    #[test]
    fn a_failed_read_leaves_every_step_unchecked_and_says_why() {
        let ran = plan(vec![step("a"), step("b")], vec![]);
        let mut r = report(&["a", "b"]);
        r.checked_later.retain(|id| id == "volume.a/create");
        settle(&mut r, &ran, Err("n2: connection refused"));
        let a = reason(&r, "a").unwrap();
        assert!(a.contains("connection refused"), "{a}");
        assert_eq!(reason(&r, "b"), None, "b checked itself: not touched");
        assert!(!r.success());
    }
}
