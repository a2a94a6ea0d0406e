//! The lock's remote scripts run in a real local shell: each fake "node" is a temporary
//! directory the commands run in, and the lock lives at a relative path inside it.
//! (The lab tests prove the same on real nodes over SSH.)

use std::collections::BTreeSet;
use std::sync::Arc;

use brickyard::lock::{
    self, Cleared, LockError, LockInfo, LockLocation, LockState, Staleness, holder_text,
};
use brickyard::transport::{Transport, Transports};
use tempfile::TempDir;

use crate::local_shell::LocalShell;

fn at() -> LockLocation {
    LockLocation {
        parent: "var/lib/brickyard".into(),
        dir: "var/lib/brickyard/lock".into(),
    }
}

fn cluster(names: &[&str]) -> (Vec<TempDir>, Transports) {
    let dirs: Vec<TempDir> = names.iter().map(|_| TempDir::new().unwrap()).collect();
    let transports = names
        .iter()
        .zip(&dirs)
        .map(|(n, d)| {
            let t: Arc<dyn Transport> = Arc::new(LocalShell {
                name: n.to_string(),
                root: d.path().to_path_buf(),
            });
            (n.to_string(), t)
        })
        .collect();
    (dirs, transports)
}

fn nodes(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn holder(host: &str, pid: u32) -> LockInfo {
    LockInfo {
        holder_host: host.into(),
        pid,
        started: lock::rfc3339(std::time::SystemTime::now()),
        ..LockInfo::default()
    }
}

fn lock_dir(d: &TempDir) -> std::path::PathBuf {
    d.path().join("var/lib/brickyard/lock")
}

/// Sets a file's modification time, e.g. "10 minutes ago" (GNU touch).
fn backdate(p: &std::path::Path, when: &str) {
    let ok = std::process::Command::new("touch")
        .args(["-d", when])
        .arg(p)
        .status()
        .unwrap()
        .success();
    assert!(ok, "touch -d {when}");
}

/// A holder file left in `d`'s lock directory, as a killed run leaves it.
fn leave_lock(d: &TempDir, h: &LockInfo) {
    std::fs::create_dir_all(lock_dir(d)).unwrap();
    std::fs::write(lock_dir(d).join("holder"), holder_text(h)).unwrap();
}

#[tokio::test]
async fn finding_18_a_young_lock_without_holder_is_being_taken_not_stale() {
    let (dirs, t) = cluster(&["n1"]);
    std::fs::create_dir_all(lock_dir(&dirs[0])).unwrap();
    let err = lock::acquire(&at(), &t, &nodes(&["n1"]), &lock::this_holder())
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(err, LockError::NoHolder { age: Some(_), .. }),
        "{err:?}"
    );
    assert!(!err.is_stale(), "{err}");
    assert!(
        err.to_string().contains("being locked by another apply"),
        "{err}"
    );
    assert!(lock_dir(&dirs[0]).exists(), "left alone");
}

#[tokio::test]
async fn finding_18_a_dead_apply_of_this_machine_is_taken_over() {
    let me = lock::this_holder();
    if me.boot_id.is_none() || me.pid_ns.is_none() || me.pid_start.is_none() {
        return; // no /proc: nothing can be proven, nothing is taken over
    }
    // A pid that cannot be alive (above pid_max), and our own pid with another start
    // time (a reused pid): both provably gone.
    for (pid, start) in [(4_194_305, 1), (me.pid, me.pid_start.unwrap_or(0) + 1)] {
        let (dirs, t) = cluster(&["n1"]);
        let dead = LockInfo {
            pid,
            pid_start: Some(start),
            started: "2026-11-23T09:02:30Z".into(),
            ..me.clone()
        };
        leave_lock(&dirs[0], &dead);
        let locks = lock::acquire(&at(), &t, &nodes(&["n1"]), &me)
            .await
            .expect("taken over");
        assert_eq!(locks.taken_over.len(), 1);
        assert_eq!(locks.taken_over[0].1, dead);
        assert_eq!(
            std::fs::read_to_string(lock_dir(&dirs[0]).join("holder")).unwrap(),
            holder_text(&me)
        );
        assert!(locks.release().await.is_empty());
    }
}

#[tokio::test]
async fn finding_18_a_live_or_foreign_holder_with_our_host_name_is_not_taken_over() {
    let me = lock::this_holder();
    let (dirs, t) = cluster(&["n1"]);
    let cases = [
        // Our own process, same start time: alive.
        (me.clone(), false),
        // Same host name, another machine (other boot id), recent: cannot be checked.
        (
            LockInfo {
                pid: 4_194_305,
                boot_id: Some("00000000-0000-0000-0000-000000000000".into()),
                ..me.clone()
            },
            false,
        ),
    ];
    for (h, stale) in cases {
        leave_lock(&dirs[0], &h);
        let err = lock::acquire(&at(), &t, &nodes(&["n1"]), &lock::this_holder())
            .await
            .err()
            .expect("refused");
        assert_eq!(err.is_stale(), stale, "{err}");
        assert_eq!(
            std::fs::read_to_string(lock_dir(&dirs[0]).join("holder")).unwrap(),
            holder_text(&h),
            "left alone"
        );
        std::fs::remove_dir_all(lock_dir(&dirs[0])).unwrap();
    }
}

#[tokio::test]
async fn acquire_writes_the_holder_and_release_removes_it() {
    let (dirs, t) = cluster(&["n1", "n2"]);
    let me = lock::this_holder();
    let locks = lock::acquire(&at(), &t, &nodes(&["n1", "n2"]), &me)
        .await
        .unwrap();
    assert_eq!(locks.nodes().collect::<Vec<_>>(), ["n1", "n2"]);
    for d in &dirs {
        let text = std::fs::read_to_string(lock_dir(d).join("holder")).unwrap();
        assert_eq!(text, holder_text(&me));
        assert!(!lock_dir(d).join("holder.tmp").exists());
    }
    assert_eq!(
        lock::read(&at(), &*t["n1"]).await.unwrap(),
        LockState::Held {
            text: holder_text(&me),
            holder: Some(me.clone())
        }
    );
    assert!(locks.release().await.is_empty());
    for d in &dirs {
        assert!(!lock_dir(d).exists());
        assert!(d.path().join("var/lib/brickyard").is_dir());
    }
    assert_eq!(lock::read(&at(), &*t["n1"]).await.unwrap(), LockState::Free);
}

#[tokio::test]
async fn a_second_apply_is_refused_naming_the_holder_and_takes_nothing() {
    let (dirs, t) = cluster(&["a", "b", "c"]);
    // Another run (on another host, just now) holds b.
    let other = holder("ops-laptop", 4242);
    let only_b: Transports = t
        .iter()
        .filter(|(n, _)| *n == "b")
        .map(|(n, t)| (n.clone(), t.clone()))
        .collect();
    let theirs = lock::acquire(&at(), &only_b, &nodes(&["b"]), &other)
        .await
        .unwrap();

    let err = lock::acquire(&at(), &t, &nodes(&["a", "b", "c"]), &lock::this_holder())
        .await
        .err()
        .expect("must be refused");
    match &err {
        LockError::Held {
            node,
            holder,
            staleness,
        } => {
            assert_eq!(node, "b");
            assert_eq!(holder, &other);
            assert_eq!(staleness, &Staleness::Unknown);
        }
        e => panic!("unexpected {e:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("host ops-laptop, pid 4242, started "), "{msg}");
    assert!(!err.is_stale());
    // a was taken first (name order) and given back; c was never touched; b still theirs.
    assert!(!lock_dir(&dirs[0]).exists());
    assert!(!dirs[2].path().join("var").exists());
    assert_eq!(
        std::fs::read_to_string(lock_dir(&dirs[1]).join("holder")).unwrap(),
        holder_text(&other)
    );
    assert!(theirs.release().await.is_empty());
}

#[tokio::test]
async fn a_lock_left_by_a_dead_local_process_is_reported_stale_and_kept() {
    let (dirs, t) = cluster(&["n1"]);
    // A pid that cannot be alive (above the kernel's pid_max limit of 2^22).
    let dead = holder(&lock::local_hostname(), 4_194_305);
    let left = lock::acquire(&at(), &t, &nodes(&["n1"]), &dead)
        .await
        .unwrap();
    std::mem::forget(left); // killed: never released
    let err = lock::acquire(&at(), &t, &nodes(&["n1"]), &lock::this_holder())
        .await
        .err()
        .expect("refused");
    assert!(err.is_stale(), "{err:?}");
    assert!(err.to_string().contains("STALE: process 4194305"), "{err}");
    // Never auto-cleared.
    assert!(lock_dir(&dirs[0]).join("holder").exists());
    // Explicit clearing with the holder the operator saw.
    assert_eq!(
        lock::clear(&at(), &*t["n1"], &holder_text(&dead))
            .await
            .unwrap(),
        Cleared::Removed
    );
    assert!(!lock_dir(&dirs[0]).exists());
}

#[tokio::test]
async fn clear_never_removes_someone_elses_lock() {
    let (dirs, t) = cluster(&["n1"]);
    let theirs = holder("elsewhere", 1);
    let _held = lock::acquire(&at(), &t, &nodes(&["n1"]), &theirs)
        .await
        .unwrap();
    let shown_earlier = holder_text(&holder("elsewhere", 2));
    assert_eq!(
        lock::clear(&at(), &*t["n1"], &shown_earlier).await.unwrap(),
        Cleared::NotOurs
    );
    assert!(lock_dir(&dirs[0]).join("holder").exists());
    assert_eq!(
        lock::clear(&at(), &*t["n1"], &holder_text(&theirs))
            .await
            .unwrap(),
        Cleared::Removed
    );
    assert_eq!(
        lock::clear(&at(), &*t["n1"], &holder_text(&theirs))
            .await
            .unwrap(),
        Cleared::Gone
    );
}

#[tokio::test]
async fn a_lock_without_holder_is_reported_and_clearable() {
    let (dirs, t) = cluster(&["n1"]);
    // Killed between mkdir and writing the holder.
    std::fs::create_dir_all(lock_dir(&dirs[0])).unwrap();
    // Left long enough ago not to be one being taken right now (finding 18).
    backdate(&lock_dir(&dirs[0]), "10 minutes ago");
    let err = lock::acquire(&at(), &t, &nodes(&["n1"]), &lock::this_holder())
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(&err, LockError::NoHolder { node, age: Some(a) } if node == "n1" && a.as_secs() >= 590),
        "{err:?}"
    );
    assert!(err.is_stale());
    assert!(
        matches!(lock::read(&at(), &*t["n1"]).await.unwrap(), LockState::NoHolder { age: Some(a) } if a.as_secs() >= 590)
    );
    assert_eq!(
        lock::clear(&at(), &*t["n1"], "").await.unwrap(),
        Cleared::Removed
    );
    assert!(!lock_dir(&dirs[0]).exists());
}

#[tokio::test]
async fn values_reach_the_shell_as_data() {
    let (dirs, t) = cluster(&["n1"]);
    let weird = LockInfo {
        holder_host: "h'; touch pwned; echo '$(id)".into(),
        pid: 1,
        started: "2026-11-23T09:02:30Z".into(),
        ..LockInfo::default()
    };
    let locks = lock::acquire(&at(), &t, &nodes(&["n1"]), &weird)
        .await
        .unwrap();
    assert!(!dirs[0].path().join("pwned").exists());
    assert_eq!(
        std::fs::read_to_string(lock_dir(&dirs[0]).join("holder")).unwrap(),
        holder_text(&weird)
    );
    assert!(locks.release().await.is_empty());
    assert!(!lock_dir(&dirs[0]).exists());
}

mod locked_apply {
    use super::*;
    use brickyard::apply::run::{RunError, locked_apply};
    use brickyard::apply::{ApplyOptions, Outcome, Silent};
    use brickyard::plan::{Action, Address, Guard, Plan, Step};

    /// Steps that create a directory in each node's root, guarded by `test -d`.
    fn dir_plan(nodes: &[&str]) -> Plan {
        Plan {
            format_version: brickyard::plan::FORMAT_VERSION,
            cluster: "t".into(),
            cluster_id: None,
            planned_with: Default::default(),
            facts_fingerprint: "f".into(),
            config_hash: "c".into(),
            steps: nodes
                .iter()
                .map(|n| Step {
                    id: format!("dir.{n}"),
                    address: Address::Node(n.to_string()),
                    action: Action::Create,
                    node: n.to_string(),
                    description: "make the directory".into(),
                    commands: vec![vec!["mkdir".into(), "made".into()]],
                    guard: Guard {
                        description: "exists".into(),
                        argv: vec!["test".into(), "-d".into(), "made".into()],
                        redundant_when_fresh: false,
                    },
                    depends_on: vec![],
                    destructive: false,
                    changes: vec![],
                })
                .collect(),
            placements: vec![],
            blockers: vec![],
            foreign: vec![],
            warnings: vec![],
            blocked_steps: vec![],
        }
    }

    #[tokio::test]
    async fn runs_under_the_lock_and_releases_it() {
        let (dirs, t) = cluster(&["n1", "n2"]);
        let p = dir_plan(&["n1", "n2"]);
        let me = lock::this_holder();
        let mut seen_locked = false;
        let done = locked_apply(
            &p,
            &t,
            &ApplyOptions::default(),
            &at(),
            &me,
            &Silent,
            None,
            || {
                // The recheck runs with every touched node locked by us.
                seen_locked = dirs.iter().all(|d| lock_dir(d).join("holder").exists());
                let p = p.clone();
                async { Ok(p) }
            },
        )
        .await
        .unwrap();
        assert!(seen_locked);
        assert!(done.report.success(), "{:?}", done.report);
        assert!(done.unreleased.is_empty());
        for d in &dirs {
            assert!(d.path().join("made").is_dir());
            assert!(!lock_dir(d).exists());
        }
        // Again: everything is already done.
        let again = locked_apply(
            &p,
            &t,
            &ApplyOptions::default(),
            &at(),
            &me,
            &Silent,
            None,
            || async { Ok(p.clone()) },
        )
        .await
        .unwrap();
        assert!(
            again
                .report
                .outcomes
                .iter()
                .all(|(_, o)| *o == Outcome::AlreadyDone)
        );
    }

    #[tokio::test]
    async fn a_stale_recheck_changes_nothing_and_unlocks() {
        let (dirs, t) = cluster(&["n1", "n2"]);
        let err = locked_apply(
            &dir_plan(&["n1", "n2"]),
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &Silent,
            None,
            || async { Err("n2: volumes changed".to_string()) },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, RunError::Stale(m) if m == "n2: volumes changed"),
            "{err:?}"
        );
        for d in &dirs {
            assert!(!d.path().join("made").exists());
            assert!(!lock_dir(d).exists());
        }
    }

    #[tokio::test]
    async fn a_concurrent_apply_is_refused_before_running_anything() {
        let (dirs, t) = cluster(&["n1", "n2"]);
        let first = lock::acquire(&at(), &t, &nodes(&["n2"]), &holder("ops1", 99))
            .await
            .unwrap();
        let p = dir_plan(&["n1", "n2"]);
        let err = locked_apply(
            &p,
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &Silent,
            None,
            || async { Ok(p.clone()) },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, RunError::Locked(LockError::Held { node, .. }) if node == "n2"),
            "{err:?}"
        );
        assert!(!dirs.iter().any(|d| d.path().join("made").exists()));
        assert!(!lock_dir(&dirs[0]).exists(), "n1's lock given back");
        assert!(first.release().await.is_empty());
    }

    #[tokio::test]
    async fn a_destructive_plan_without_permission_takes_no_lock() {
        let (dirs, t) = cluster(&["n1"]);
        let mut p = dir_plan(&["n1"]);
        p.steps[0].destructive = true;
        let err = locked_apply(
            &p,
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &Silent,
            None,
            || async { Ok(p.clone()) },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, RunError::Invalid(_)), "{err:?}");
        assert!(!dirs[0].path().join("var").exists());
    }

    /// Keeps the notes an apply gives its observer.
    #[derive(Default)]
    struct Notes(std::sync::Mutex<Vec<String>>);
    impl brickyard::apply::Observer for Notes {
        fn note(&self, line: &str) {
            self.0.lock().unwrap().push(line.to_string());
        }
    }

    #[tokio::test]
    async fn locked_first_plans_with_every_node_locked_and_runs_that_plan() {
        use brickyard::apply::run::apply_locked_first;
        let (dirs, t) = cluster(&["n1", "n2", "n3"]);
        let mut seen_locked = false;
        let done = apply_locked_first(
            &nodes(&["n1", "n2", "n3"]),
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &Silent,
            None,
            || {
                // planned while every node, n3 too (the plan does not touch it), is ours
                seen_locked = dirs.iter().all(|d| lock_dir(d).join("holder").exists());
                async { Ok(dir_plan(&["n1", "n2"])) }
            },
            || async { Err("no read after the run is expected".to_string()) },
        )
        .await
        .unwrap();
        assert!(seen_locked);
        assert!(done.report.success(), "{:?}", done.report);
        assert!(done.unreleased.is_empty());
        assert!(dirs[0].path().join("made").is_dir() && dirs[1].path().join("made").is_dir());
        assert!(!dirs[2].path().join("made").exists());
        assert!(dirs.iter().all(|d| !lock_dir(d).exists()), "all released");
    }

    /// A plan made under the lock (unasked apply) leaves out the check before a step
    /// whose guard is redundant on such facts, and only those; a saved plan keeps it.
    #[tokio::test]
    async fn locked_first_checks_a_redundant_guard_only_after() {
        use brickyard::apply::run::apply_locked_first;
        let plan = || {
            let mut p = dir_plan(&["n1", "n2"]);
            for s in &mut p.steps {
                s.commands = vec![vec!["touch".into(), "ran".into()]];
            }
            p.steps[0].guard.redundant_when_fresh = true;
            p
        };
        let (dirs, t) = cluster(&["n1", "n2"]);
        for d in &dirs {
            std::fs::create_dir(d.path().join("made")).unwrap();
        }
        let done = apply_locked_first(
            &nodes(&["n1", "n2"]),
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &Silent,
            None,
            || async { Ok(plan()) },
            || async { Err("no read after the run is expected".to_string()) },
        )
        .await
        .unwrap();
        assert!(done.report.success(), "{:?}", done.report);
        assert!(
            dirs[0].path().join("ran").exists(),
            "n1: checked only after"
        );
        assert!(
            !dirs[1].path().join("ran").exists(),
            "n2: its guard is not marked"
        );
        // the same plan applied as a saved plan: checked before, nothing runs
        std::fs::remove_file(dirs[0].path().join("ran")).unwrap();
        let p = plan();
        let again = locked_apply(
            &p,
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &Silent,
            None,
            || async { Ok(plan()) },
        )
        .await
        .unwrap();
        assert!(
            again
                .report
                .outcomes
                .iter()
                .all(|(_, o)| *o == Outcome::AlreadyDone),
            "{:?}",
            again.report
        );
        assert!(!dirs[0].path().join("ran").exists());
    }

    /// A node whose sshd refuses every connection.
    struct Down;
    #[async_trait::async_trait]
    impl Transport for Down {
        fn node(&self) -> &str {
            "n2"
        }
        async fn run(
            &self,
            _cmd: &brickyard::transport::RemoteCommand,
        ) -> Result<brickyard::transport::Output, brickyard::transport::TransportError> {
            Err(brickyard::transport::TransportError::ConnectionRefused(
                "n2".into(),
            ))
        }
    }

    #[tokio::test]
    async fn locked_first_leaves_out_an_unreachable_node_and_refuses_a_plan_touching_it() {
        use brickyard::apply::run::apply_locked_first;
        let (dirs, mut t) = cluster(&["n1"]);
        t.insert("n2".into(), Arc::new(Down));
        let notes = Notes::default();
        // n2 cannot be reached: not locked, named in a note; the plan wants to touch it
        let err = apply_locked_first(
            &nodes(&["n1", "n2"]),
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &notes,
            None,
            || async { Ok(dir_plan(&["n1", "n2"])) },
            || async { Err("no read after the run is expected".to_string()) },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, RunError::Stale(m) if m.contains("not locked")),
            "{err:?}"
        );
        let notes = notes.0.into_inner().unwrap();
        assert!(
            notes.iter().any(|n| n.contains("node n2 is not locked")),
            "{notes:?}"
        );
        assert!(!dirs[0].path().join("made").exists(), "nothing ran");
        assert!(!lock_dir(&dirs[0]).exists(), "n1's lock given back");
    }

    #[tokio::test]
    async fn locked_first_is_refused_by_a_lock_on_any_node() {
        use brickyard::apply::run::apply_locked_first;
        let (dirs, t) = cluster(&["n1", "n2"]);
        let other = lock::acquire(&at(), &t, &nodes(&["n2"]), &holder("ops1", 99))
            .await
            .unwrap();
        let mut planned = false;
        let err = apply_locked_first(
            &nodes(&["n1", "n2"]),
            &t,
            &ApplyOptions::default(),
            &at(),
            &lock::this_holder(),
            &Silent,
            None,
            || {
                planned = true;
                async { Ok(dir_plan(&["n1"])) }
            },
            || async { Err("no read after the run is expected".to_string()) },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, RunError::Locked(LockError::Held { node, .. }) if node == "n2"),
            "{err:?}"
        );
        assert!(!planned, "nothing is planned without every lock");
        assert!(!dirs[0].path().join("made").exists());
        assert!(!lock_dir(&dirs[0]).exists(), "n1's lock given back");
        assert!(other.release().await.is_empty());
    }

    /// Runs the step scripts in a local shell, but panics on any step of node `n1`.
    struct PanicsOnSteps(LocalShell);

    #[async_trait::async_trait]
    impl Transport for PanicsOnSteps {
        fn node(&self) -> &str {
            &self.0.name
        }
        async fn run(
            &self,
            cmd: &brickyard::transport::RemoteCommand,
        ) -> Result<brickyard::transport::Output, brickyard::transport::TransportError> {
            let script = cmd.argv.get(2).map(String::as_str);
            if script == Some(brickyard::apply::executor::STEP_SCRIPT)
                || script == Some(brickyard::apply::executor::BATCH_SCRIPT)
            {
                panic!("a bug while running a step");
            }
            self.0.run(cmd).await
        }
    }

    #[tokio::test]
    async fn finding_18_a_panic_while_locked_releases_the_locks() {
        use futures::FutureExt;
        use std::panic::AssertUnwindSafe;
        // In the re-check (the planner, on crafted facts).
        let (dirs, t) = cluster(&["n1", "n2"]);
        let p = dir_plan(&["n1", "n2"]);
        let me = lock::this_holder();
        let (opts, at) = (ApplyOptions::default(), at());
        let run = locked_apply(&p, &t, &opts, &at, &me, &Silent, None, || async {
            if p.steps.len() == 2 {
                panic!("a planner bug");
            }
            Ok(p.clone())
        });
        assert!(
            AssertUnwindSafe(run).catch_unwind().await.is_err(),
            "the panic goes on"
        );
        for d in &dirs {
            assert!(!lock_dir(d).exists(), "released");
            assert!(!d.path().join("made").exists());
        }
        // In the run.
        let d = TempDir::new().unwrap();
        let panicking: Arc<dyn Transport> = Arc::new(PanicsOnSteps(LocalShell {
            name: "n1".into(),
            root: d.path().to_path_buf(),
        }));
        let t: Transports = [("n1".to_string(), panicking)].into_iter().collect();
        let p = dir_plan(&["n1"]);
        let run = locked_apply(&p, &t, &opts, &at, &me, &Silent, None, || async {
            Ok(p.clone())
        });
        assert!(AssertUnwindSafe(run).catch_unwind().await.is_err());
        assert!(!lock_dir(&d).exists(), "released");
    }
}
