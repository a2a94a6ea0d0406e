//! The executor's scheduling logic against a scripted fake transport: a tiny "world"
//! of named effects that commands create and guards test. Real behaviour on real nodes
//! is proven by the lab tests (tests/lab_apply_*.rs); these prove the graph rules.

use std::collections::BTreeMap;

use std::time::Duration;

use brickyard::apply::progress::{Progress, Style};
use brickyard::apply::{ApplyError, ApplyOptions, NotRun, Outcome, Silent, execute};
use brickyard::plan::{Action, Address, Plan, Step};

use super::apply_fake::*;

#[tokio::test(start_paused = true)]
async fn dependencies_run_first_even_across_nodes() {
    let c = Cluster::default();
    // Listed in reverse so plan order alone would get it wrong.
    let p = plan(vec![
        mk("c", "n3", 10, &["b"]),
        mk("b", "n2", 10, &["a"]),
        mk("a", "n1", 50, &[]),
        mk("x", "n4", 10, &[]),
    ]);
    let order = Order::default();
    let report = execute(&p, &c.transports(&NODES), &opts(8), &order, None)
        .await
        .unwrap();
    assert!(report.success(), "{report:?}");
    assert!(order.pos("end a") < order.pos("start b"));
    assert!(order.pos("end b") < order.pos("start c"));
    // x has no dependencies: it starts with the first wave, before a finishes.
    assert!(order.pos("start x") < order.pos("end a"));
    let s = report.summary();
    assert_eq!((s.done, s.already_done, s.failed, s.not_run), (4, 0, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_step_whose_guard_passes_is_skipped_without_running_commands() {
    let c = Cluster::with_effects(&["a"]);
    let p = plan(vec![mk("a", "n1", 0, &[]), mk("b", "n1", 0, &["a"])]);
    let report = execute(&p, &c.transports(&NODES), &opts(4), &Silent, None)
        .await
        .unwrap();
    assert_eq!(report.outcome("a"), Some(&Outcome::AlreadyDone));
    assert!(matches!(report.outcome("b"), Some(Outcome::Done { .. })));
    // Only b's command ran; a's guard was checked once and nothing else touched it.
    assert_eq!(c.commands(), vec!["n1: make b 0"]);
    let log = c.world().log.clone();
    assert_eq!(log.iter().filter(|(_, cmd)| cmd == "test a").count(), 1);
    // b: guard before, command, guard after.
    let b: Vec<_> = log
        .iter()
        .filter(|(_, cmd)| cmd.ends_with('b') || cmd.ends_with("b 0"))
        .collect();
    assert_eq!(b.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn success_without_the_effect_is_a_failure() {
    let c = Cluster::default();
    let p = plan(vec![
        step("a", "n1", "a", &["pretend"], &[]),
        mk("b", "n2", 0, &["a"]),
    ]);
    let report = execute(&p, &c.transports(&NODES), &opts(4), &Silent, None)
        .await
        .unwrap();
    let Some(Outcome::Failed(f)) = report.outcome("a") else {
        panic!("a should fail: {report:?}");
    };
    assert!(
        f.reason
            .contains("command succeeded but effect not visible"),
        "{}",
        f.reason
    );
    assert_eq!(f.command.as_deref(), Some("test a"));
    assert_eq!(
        report.outcome("b"),
        Some(&Outcome::NotRun(NotRun::Blocked { failed: "a".into() }))
    );
}

#[tokio::test(start_paused = true)]
async fn failure_blocks_dependents_transitively_and_independent_work_finishes() {
    let c = Cluster::default();
    let p = plan(vec![
        step(
            "a",
            "n1",
            "a",
            &[
                "make half 0",
                "fail 5 volume_create_failed:_brick_busy",
                "make a 0",
            ],
            &[],
        ),
        mk("b", "n2", 0, &["a"]),
        mk("c", "n3", 0, &["b"]),
        mk("d", "n4", 100, &[]),
        mk("e", "n5", 0, &["d"]),
    ]);
    let report = execute(&p, &c.transports(&NODES), &opts(4), &Silent, None)
        .await
        .unwrap();
    let Some(Outcome::Failed(f)) = report.outcome("a") else {
        panic!("{report:?}");
    };
    assert_eq!(f.node, "n1");
    assert_eq!(f.reason, "command failed");
    assert_eq!(
        f.command.as_deref(),
        Some("fail 5 volume_create_failed:_brick_busy")
    );
    assert_eq!(f.exit_code, Some(5));
    assert_eq!(f.stderr, "volume_create_failed:_brick_busy");
    for id in ["b", "c"] {
        assert_eq!(
            report.outcome(id),
            Some(&Outcome::NotRun(NotRun::Blocked { failed: "a".into() })),
            "{id}"
        );
    }
    assert!(matches!(report.outcome("d"), Some(Outcome::Done { .. })));
    assert!(matches!(report.outcome("e"), Some(Outcome::Done { .. })));
    // Commands after the failing one never ran; nothing behind the failure ran.
    let cmds = c.commands();
    assert!(cmds.contains(&"n1: make half 0".to_string()));
    assert!(!cmds.iter().any(|x| x == "n1: make a 0"), "{cmds:?}");
    assert!(
        !cmds
            .iter()
            .any(|x| x.starts_with("n2") || x.starts_with("n3"))
    );
    let s = report.summary();
    assert_eq!((s.done, s.already_done, s.failed, s.not_run), (2, 0, 1, 2));
    assert!(!report.success());
}

#[tokio::test(start_paused = true)]
async fn fail_fast_starts_nothing_new_but_lets_running_steps_finish() {
    let plan_ = || {
        plan(vec![
            step("bad", "n1", "bad", &["fail 1 boom"], &[]),
            mk("slow", "n2", 500, &[]),
            mk("later1", "n1", 0, &[]),
            mk("later2", "n3", 0, &["slow"]),
        ])
    };
    let c = Cluster::default();
    let o = ApplyOptions {
        fail_fast: true,
        ..opts(2)
    };
    let report = execute(&plan_(), &c.transports(&NODES), &o, &Silent, None)
        .await
        .unwrap();
    assert!(matches!(report.outcome("bad"), Some(Outcome::Failed(_))));
    // Already running when bad failed: allowed to finish, not killed half-way.
    assert!(matches!(report.outcome("slow"), Some(Outcome::Done { .. })));
    for id in ["later1", "later2"] {
        assert_eq!(
            report.outcome(id),
            Some(&Outcome::NotRun(NotRun::Stopped)),
            "{id}"
        );
    }
    // Same plan without fail-fast: the independent steps run.
    let c = Cluster::default();
    let report = execute(&plan_(), &c.transports(&NODES), &opts(2), &Silent, None)
        .await
        .unwrap();
    let s = report.summary();
    assert_eq!((s.done, s.failed, s.not_run), (3, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn parallelism_bounds_concurrent_steps() {
    let steps = || {
        NODES
            .iter()
            .map(|n| mk(&format!("s{n}"), n, 100, &[]))
            .collect()
    };
    let c = Cluster::default();
    let report = execute(
        &plan(steps()),
        &c.transports(&NODES),
        &opts(2),
        &Silent,
        None,
    )
    .await
    .unwrap();
    assert!(report.success());
    assert_eq!(c.world().max_running, 2);
    // And it does run in parallel when allowed.
    let c = Cluster::default();
    execute(
        &plan(steps()),
        &c.transports(&NODES),
        &opts(10),
        &Silent,
        None,
    )
    .await
    .unwrap();
    assert_eq!(c.world().max_running, 6);
}

#[tokio::test(start_paused = true)]
async fn one_step_at_a_time_per_node() {
    let c = Cluster::default();
    let mut steps: Vec<Step> = (0..4)
        .map(|i| mk(&format!("a{i}"), "n1", 50, &[]))
        .collect();
    steps.extend((0..4).map(|i| mk(&format!("b{i}"), "n2", 50, &[])));
    let report = execute(
        &plan(steps),
        &c.transports(&NODES),
        &opts(10),
        &Silent,
        None,
    )
    .await
    .unwrap();
    assert!(report.success());
    let w = c.world();
    assert_eq!(w.max_per_node["n1"], 1);
    assert_eq!(w.max_per_node["n2"], 1);
    // The two nodes still worked side by side.
    assert_eq!(w.max_running, 2);
}

#[tokio::test(start_paused = true)]
async fn gluster_changes_run_one_at_a_time_across_the_cluster() {
    let c = Cluster::default();
    let mut steps: Vec<Step> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| {
            step(
                &format!("g{n}"),
                n,
                &format!("g{n}"),
                &[&format!("gluster make g{n} 50")],
                &[],
            )
        })
        .collect();
    steps.extend(
        ["n4", "n5"]
            .iter()
            .map(|n| mk(&format!("l{n}"), n, 50, &[])),
    );
    let report = execute(
        &plan(steps),
        &c.transports(&NODES),
        &opts(10),
        &Silent,
        None,
    )
    .await
    .unwrap();
    assert!(report.success(), "{report:?}");
    let w = c.world();
    assert_eq!(w.max_gluster, 1);
    // Local steps on other nodes ran alongside the gluster one.
    assert_eq!(w.max_running, 3);
}

#[tokio::test(start_paused = true)]
async fn a_gluster_change_leaves_its_node_free_for_local_steps() {
    // n1 creates volumes one at a time while it makes the next brick directories: the
    // local steps still go one at a time, beside the gluster one.
    let c = Cluster::default();
    let mut steps: Vec<Step> = (0..3)
        .map(|i| {
            step(
                &format!("g{i}"),
                "n1",
                &format!("g{i}"),
                &[&format!("gluster make g{i} 100")],
                &[],
            )
        })
        .collect();
    steps.extend((0..6).map(|i| mk(&format!("l{i}"), "n1", 50, &[])));
    let report = run(&c, steps, &opts(10)).await;
    assert!(report.success(), "{report:?}");
    let w = c.world();
    assert_eq!(w.max_gluster, 1);
    assert_eq!(w.max_per_node["n1"], 1);
    assert_eq!(w.max_running, 2);
}

/// On facts read under the run's locks, gluster changes nothing waits for leave their
/// check for the read after the run, once there are enough of them to pay for it; a
/// gluster change another step waits for, and every node-local step, checks itself.
#[tokio::test(start_paused = true)]
async fn checks_are_left_for_after_the_run_only_where_nothing_waits_on_them() {
    use brickyard::apply::executor::DEFER_AT_LEAST;
    let fresh = ApplyOptions {
        fresh_facts: true,
        ..ApplyOptions::default()
    };
    let gl = |id: &str, deps: &[&str]| {
        let mut s = step(id, "n1", id, &[&format!("gluster make {id} 10")], deps);
        s.guard.redundant_when_fresh = true;
        s
    };
    let mut local = mk("dir", "n2", 10, &[]);
    local.guard.redundant_when_fresh = true;
    let mut steps = vec![local, gl("peer", &[])];
    let leaves: Vec<String> = (0..DEFER_AT_LEAST).map(|i| format!("vol{i}")).collect();
    steps.extend(leaves.iter().map(|id| gl(id, &["peer", "dir"])));
    let c = Cluster::default();
    let report = run(&c, steps.clone(), &fresh).await;
    assert!(report.success(), "{report:?}");
    assert_eq!(report.checked_later, leaves);
    let checks: BTreeMap<String, (bool, bool)> = c
        .world()
        .checks
        .iter()
        .map(|(e, b, a)| (e.clone(), (*b, *a)))
        .collect();
    assert_eq!(checks["dir"], (false, true), "node-local: checked after");
    assert_eq!(checks["peer"], (false, true), "waited on: checked after");
    for id in &leaves {
        assert_eq!(checks[id], (false, false), "{id}: checked after the run");
    }

    // one fewer leaf: one read would cost more than their own checks
    steps.pop();
    let c = Cluster::default();
    let report = run(&c, steps.clone(), &fresh).await;
    assert!(report.checked_later.is_empty());
    assert!(c.world().checks.iter().all(|(_, _, after)| *after));

    // facts that are not fresh: every check, before and after
    steps.push(gl("vol-last", &["peer"]));
    let c = Cluster::default();
    let report = run(&c, steps, &opts(10)).await;
    assert!(report.checked_later.is_empty());
    assert!(c.world().checks.iter().all(|(_, b, a)| *b && *a));
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_node_fails_its_steps_and_the_rest_goes_on() {
    let c = Cluster::default();
    c.world().down.insert("n2".into());
    let p = plan(vec![
        mk("a", "n1", 0, &[]),
        mk("b", "n2", 0, &["a"]),
        mk("c", "n3", 0, &["b"]),
        mk("d", "n3", 0, &["a"]),
    ]);
    let report = execute(&p, &c.transports(&NODES), &opts(4), &Silent, None)
        .await
        .unwrap();
    let Some(Outcome::Failed(f)) = report.outcome("b") else {
        panic!("{report:?}");
    };
    assert_eq!(f.node, "n2");
    assert!(f.reason.contains("connection to n2 lost"), "{}", f.reason);
    assert_eq!(
        report.outcome("c"),
        Some(&Outcome::NotRun(NotRun::Blocked { failed: "b".into() }))
    );
    assert!(matches!(report.outcome("d"), Some(Outcome::Done { .. })));
}

#[tokio::test(start_paused = true)]
async fn a_stop_request_lets_running_steps_finish_and_starts_nothing_else() {
    let c = Cluster::default();
    // a and b, ready at once on n1, go in one round trip: both are running when the stop
    // comes and both finish; d (ready, but one at a time) and c (behind a) never start
    let p = plan(vec![
        mk("a", "n1", 100, &[]),
        mk("b", "n1", 0, &[]),
        mk("c", "n2", 0, &["a"]),
        mk("d", "n3", 0, &[]),
    ]);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let transports = c.transports(&NODES);
    let o = opts(1);
    let run = execute(&p, &transports, &o, &Silent, Some(rx));
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        tx.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run, stopper);
    let report = report.unwrap();
    assert!(matches!(report.outcome("a"), Some(Outcome::Done { .. })));
    assert!(matches!(report.outcome("b"), Some(Outcome::Done { .. })));
    assert_eq!(report.outcome("c"), Some(&Outcome::NotRun(NotRun::Stopped)));
    assert_eq!(report.outcome("d"), Some(&Outcome::NotRun(NotRun::Stopped)));
    assert_eq!(c.world().batches, vec![2]);
}

#[tokio::test(start_paused = true)]
async fn summary_counts_every_kind() {
    let c = Cluster::with_effects(&["old1", "old2"]);
    let p = plan(vec![
        mk("old1", "n1", 0, &[]),
        mk("old2", "n2", 0, &[]),
        mk("new1", "n3", 0, &["old1"]),
        step("broken", "n4", "broken", &["fail 2 nope"], &[]),
        mk("after", "n5", 0, &["broken", "old2"]),
        mk("after2", "n6", 0, &["after"]),
    ]);
    let report = execute(&p, &c.transports(&NODES), &opts(4), &Silent, None)
        .await
        .unwrap();
    let s = report.summary();
    assert_eq!((s.done, s.already_done, s.failed, s.not_run), (1, 2, 1, 2));
    assert_eq!(s.to_string(), "1 done, 2 already done, 1 failed, 2 not run");
}

#[tokio::test(start_paused = true)]
async fn no_op_steps_need_no_connection() {
    let c = Cluster::default();
    let mut noop = step("n", "ghost", "n", &[], &[]);
    noop.action = Action::NoOp;
    noop.guard.argv.clear();
    let p = plan(vec![noop, mk("a", "n1", 0, &["n"])]);
    let report = execute(&p, &c.transports(&NODES), &opts(4), &Silent, None)
        .await
        .unwrap();
    assert_eq!(report.outcome("n"), Some(&Outcome::AlreadyDone));
    assert!(report.success());
}

#[tokio::test(start_paused = true)]
async fn malformed_or_destructive_plans_are_refused_before_anything_runs() {
    type Check = fn(&ApplyError) -> bool;
    let cases: Vec<(Plan, Check)> = vec![
        (
            plan(vec![mk("a", "n1", 0, &["b"]), mk("b", "n2", 0, &["a"])]),
            |e| matches!(e, ApplyError::Cycle(ids) if ids.len() == 2),
        ),
        (
            plan(vec![mk("a", "n1", 0, &["zzz"])]),
            |e| matches!(e, ApplyError::UnknownDependency { missing, .. } if missing == "zzz"),
        ),
        (
            plan(vec![mk("a", "n1", 0, &[]), mk("a", "n2", 0, &[])]),
            |e| matches!(e, ApplyError::DuplicateStep(id) if id == "a"),
        ),
        (
            plan(vec![mk("a", "nowhere", 0, &[])]),
            |e| matches!(e, ApplyError::UnknownNode { node, .. } if node == "nowhere"),
        ),
        (
            {
                let mut d = mk("del", "n1", 0, &[]);
                d.destructive = true;
                d.address = Address::volume("gone");
                plan(vec![mk("a", "n2", 0, &[]), d])
            },
            |e| matches!(e, ApplyError::DestroyNotAllowed(a) if a == &["volume.gone".to_string()]),
        ),
    ];
    for (p, check) in cases {
        let c = Cluster::default();
        let err = execute(&p, &c.transports(&NODES), &opts(4), &Silent, None)
            .await
            .unwrap_err();
        assert!(check(&err), "unexpected error {err:?}");
        assert!(c.world().log.is_empty(), "something ran for {err}");
    }
}

#[tokio::test(start_paused = true)]
async fn destructive_steps_run_with_allow_destroy() {
    let c = Cluster::default();
    let mut d = mk("del", "n1", 0, &[]);
    d.destructive = true;
    let o = ApplyOptions {
        allow_destroy: true,
        ..opts(4)
    };
    let report = execute(&plan(vec![d]), &c.transports(&NODES), &o, &Silent, None)
        .await
        .unwrap();
    assert!(report.success());
}

#[tokio::test(start_paused = true)]
async fn progress_lines_name_node_address_and_result() {
    let c = Cluster::with_effects(&["old"]);
    let p = plan(vec![
        mk("old", "n1", 0, &[]),
        mk("new", "n1", 1200, &[]),
        step("bad", "n2", "bad", &["fail 3 disk on fire"], &[]),
        mk("dep", "n3", 0, &["bad"]),
    ]);
    let progress = Progress::new(
        Vec::new(),
        p.steps.len(),
        Style {
            color: false,
            live: false,
        },
    );
    execute(&p, &c.transports(&NODES), &opts(1), &progress, None)
        .await
        .unwrap();
    let text = String::from_utf8(progress.into_inner().unwrap()).unwrap();
    let lines: BTreeMap<&str, &str> = text
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| (l.split(':').next().unwrap(), l))
        .collect();
    assert_eq!(
        lines["[n1] volume.old"],
        "[n1] volume.old: make old ... skipped (already done)"
    );
    assert_eq!(
        lines["[n1] volume.new"],
        "[n1] volume.new: make new ... done (1.2s)"
    );
    assert!(
        lines["[n2] volume.bad"]
            .starts_with("[n2] volume.bad: make bad ... FAILED on n2: command failed")
    );
    assert!(
        text.contains(
            "  command: fail 3 disk on fire\n  exit code: 3\n  stderr:\n    disk on fire"
        ),
        "{text}"
    );
    assert_eq!(
        lines["[n3] volume.dep"],
        "[n3] volume.dep: make dep ... not run (depends on failed bad)"
    );
    assert!(!text.contains('\x1b'), "no escapes off a terminal");
}

/// A node's local steps ready at the same moment go in one round trip; one that becomes
/// ready later goes in the next; each keeps its own outcome.
#[tokio::test(start_paused = true)]
async fn ready_local_steps_of_a_node_share_one_round_trip() {
    let c = Cluster::default();
    let steps = vec![
        mk("a", "n1", 0, &[]),
        mk("b", "n1", 0, &[]),
        mk("c", "n1", 0, &[]),
        mk("x", "n2", 0, &[]),
        mk("later", "n1", 0, &["x"]),
    ];
    let report = run(&c, steps, &opts(4)).await;
    for id in ["a", "b", "c", "x", "later"] {
        assert!(
            matches!(report.outcome(id), Some(Outcome::Done { .. })),
            "{id}"
        );
    }
    // one batch of three on n1; x and later alone (a single step is sent as before)
    assert_eq!(c.world().batches, vec![3]);
    assert_eq!(c.world().max_per_node.get("n1"), Some(&1));
}

/// A step failing inside a batch fails alone: the others of the batch run (none waits for
/// another) and only its dependents are blocked; with --fail-fast the batch stops there.
#[tokio::test(start_paused = true)]
async fn a_failure_inside_a_batch_fails_that_step_only() {
    let steps = || {
        vec![
            mk("a", "n1", 0, &[]),
            step("broken", "n1", "broken", &["fail 3 no space left"], &[]),
            mk("c", "n1", 0, &[]),
            mk("after", "n2", 0, &["broken"]),
        ]
    };
    let c = Cluster::default();
    let report = run(&c, steps(), &opts(4)).await;
    assert!(matches!(report.outcome("a"), Some(Outcome::Done { .. })));
    assert!(matches!(report.outcome("c"), Some(Outcome::Done { .. })));
    let Some(Outcome::Failed(f)) = report.outcome("broken") else {
        panic!("{:?}", report.outcome("broken"));
    };
    assert_eq!(f.exit_code, Some(3));
    assert_eq!(f.stderr, "no space left");
    assert_eq!(f.command.as_deref(), Some("fail 3 no space left"));
    assert_eq!(
        report.outcome("after"),
        Some(&Outcome::NotRun(NotRun::Blocked {
            failed: "broken".into()
        }))
    );

    let c = Cluster::default();
    let o = ApplyOptions {
        fail_fast: true,
        ..opts(4)
    };
    let report = run(&c, steps(), &o).await;
    assert!(matches!(report.outcome("a"), Some(Outcome::Done { .. })));
    assert!(matches!(report.outcome("broken"), Some(Outcome::Failed(_))));
    assert_eq!(report.outcome("c"), Some(&Outcome::NotRun(NotRun::Stopped)));
    assert!(!c.world().effects.contains("c"));
}

/// Gluster changes ready at once on the node that runs them share a round trip too, at
/// most eight at a time, and still never overlap.
#[tokio::test(start_paused = true)]
async fn ready_gluster_changes_go_in_short_batches_one_at_a_time() {
    let c = Cluster::default();
    let steps: Vec<Step> = (0..10)
        .map(|i| {
            let id = format!("g{i}");
            step(&id, "n1", &id, &[&format!("gluster make {id} 20")], &[])
        })
        .collect();
    let report = run(&c, steps, &opts(10)).await;
    assert_eq!(report.summary().done, 10);
    assert_eq!(c.world().batches, vec![8, 2]);
    assert_eq!(c.world().max_gluster, 1);
}
