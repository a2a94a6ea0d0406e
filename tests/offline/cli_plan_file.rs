//! A saved plan file is an approval, not a script (review finding 3): `brickyard apply
//! PLANFILE` re-derives the plan under the lock and runs the re-derived steps only when
//! they equal the saved ones. These tests drive the same path as the CLI: the real lock
//! in a local shell, `locked_apply` with the CLI's re-check (`apply::saved::recheck`) on
//! saved facts, the real planner and executor. The step commands themselves are recorded
//! and answered `done`, never run: they are real `pvcreate`s and `wipefs`es.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use brickyard::apply::executor::{BATCH_SCRIPT, STEP_SCRIPT};
use brickyard::apply::run::{RunError, locked_apply};
use brickyard::apply::{ApplyOptions, Silent, saved};
use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::lock::{self, LockLocation};
use brickyard::plan::{self, Plan, PlanOptions};
use brickyard::transport::{Output, RemoteCommand, Transport, TransportError, Transports};
use tempfile::TempDir;

use crate::local_shell::LocalShell;

/// The step scripts sent: (node, the script's positional arguments).
type Sent = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// A node whose lock scripts run in a local directory and whose step scripts are only
/// recorded (node, the step script's positional arguments) and reported `done`.
struct Recording {
    shell: LocalShell,
    steps: Sent,
}

#[async_trait]
impl Transport for Recording {
    fn node(&self) -> &str {
        &self.shell.name
    }
    async fn run(&self, cmd: &RemoteCommand) -> Result<Output, TransportError> {
        if cmd.argv.get(2).map(String::as_str) == Some(STEP_SCRIPT) {
            // a saved plan ran on facts of its own time: every step is checked before
            assert_eq!(cmd.argv[4], "1", "the check before a step of a saved plan");
            assert_eq!(cmd.argv[5], "1", "the check after a step of a saved plan");
            self.steps
                .lock()
                .unwrap()
                .push((self.shell.name.clone(), cmd.argv[6..].to_vec()));
            return Ok(Output {
                status: Some(0),
                stdout: b"@@by done\n".to_vec(),
                stderr: vec![],
            });
        }
        if cmd.argv.get(2).map(String::as_str) == Some(BATCH_SCRIPT) {
            assert_eq!(cmd.argv[5], STEP_SCRIPT);
            let ns: usize = cmd.argv[6].parse().unwrap();
            let mut rest = &cmd.argv[7..];
            let mut stdout = String::new();
            for j in 0..ns {
                let n: usize = rest[0].parse().unwrap();
                let params = &rest[1..=n];
                rest = &rest[n + 1..];
                assert_eq!(params[0], "1", "the check before a step of a saved plan");
                assert_eq!(params[1], "1", "the check after a step of a saved plan");
                self.steps
                    .lock()
                    .unwrap()
                    .push((self.shell.name.clone(), params[2..].to_vec()));
                stdout.push_str(&format!("@@by {j} done\n"));
            }
            return Ok(Output {
                status: Some(0),
                stdout: stdout.into_bytes(),
                stderr: vec![],
            });
        }
        self.shell.run(cmd).await
    }
}

pub(crate) struct Nodes {
    _dirs: Vec<TempDir>,
    pub(crate) transports: Transports,
    pub(crate) steps: Sent,
}

pub(crate) fn nodes(desired: &Desired) -> Nodes {
    let steps = Arc::new(Mutex::new(Vec::new()));
    let mut dirs = Vec::new();
    let mut transports = Transports::new();
    for name in desired.nodes.keys() {
        let d = TempDir::new().unwrap();
        let t: Arc<dyn Transport> = Arc::new(Recording {
            shell: LocalShell {
                name: name.clone(),
                root: d.path().to_path_buf(),
            },
            steps: steps.clone(),
        });
        transports.insert(name.clone(), t);
        dirs.push(d);
    }
    Nodes {
        _dirs: dirs,
        transports,
        steps,
    }
}

pub(crate) fn at() -> LockLocation {
    LockLocation {
        parent: "var/lib/brickyard".into(),
        dir: "var/lib/brickyard/lock".into(),
    }
}

/// A scenario's desired state and facts (testdata/plan/NAME).
pub(crate) fn scenario(name: &str) -> (Desired, Observed) {
    let dir = Path::new("testdata/plan").join(name);
    let read = |kind: &str| {
        std::fs::read_to_string(crate::plan_scenarios::input_file(&dir, kind)).unwrap()
    };
    (
        serde_json::from_str(&read("desired")).unwrap(),
        serde_json::from_str(&read("facts")).unwrap(),
    )
}

/// The plan `brickyard plan -o` saves, as the JSON document apply reads back.
pub(crate) fn saved_json(d: &Desired, o: &Observed, opts: &PlanOptions) -> serde_json::Value {
    let p = plan::plan(d, o, opts);
    serde_json::from_str(&brickyard::render::plan::json(&p)).unwrap()
}

/// Applies the saved plan file `doc` as `brickyard apply PLANFILE` does, on facts that
/// did not change since it was saved.
pub(crate) async fn apply_saved(
    doc: &serde_json::Value,
    d: &Desired,
    o: &Observed,
    opts: &ApplyOptions,
    n: &Nodes,
) -> Result<Plan, RunError> {
    let approved: Plan = serde_json::from_value(doc.clone()).unwrap();
    let done = locked_apply(
        &approved,
        &n.transports,
        opts,
        &at(),
        &lock::this_holder(),
        &Silent,
        None,
        || async { saved::recheck(&approved, d, o) },
    )
    .await?;
    assert!(done.report.success(), "{:?}", done.report);
    Ok(done.plan)
}

/// The step script's positional arguments for a step: `GN guard... CN (N argv...)...`.
fn step_args(s: &plan::Step) -> Vec<String> {
    let mut a = vec![s.guard.argv.len().to_string()];
    a.extend(s.guard.argv.iter().cloned());
    a.push(s.commands.len().to_string());
    for c in &s.commands {
        a.push(c.len().to_string());
        a.extend(c.iter().cloned());
    }
    a
}

fn step_mut<'a>(doc: &'a mut serde_json::Value, id: &str) -> &'a mut serde_json::Value {
    doc["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// Tampers with a saved plan and checks apply refuses it: nothing run, no lock left,
/// and the error names the first difference.
async fn refused(
    name: &str,
    opts: PlanOptions,
    aopts: ApplyOptions,
    tamper: impl Fn(&mut serde_json::Value),
    expect: &str,
) {
    let (d, o) = scenario(name);
    let mut doc = saved_json(&d, &o, &opts);
    tamper(&mut doc);
    let n = nodes(&d);
    let err = apply_saved(&doc, &d, &o, &aopts, &n).await.unwrap_err();
    let RunError::Stale(msg) = &err else {
        panic!("not refused as not matching: {err:?}");
    };
    assert!(msg.contains(expect), "{msg}");
    assert!(msg.contains("does not match"), "{msg}");
    assert!(n.steps.lock().unwrap().is_empty(), "nothing ran");
    for d in &n._dirs {
        assert!(
            !d.path().join("var/lib/brickyard/lock").exists(),
            "unlocked"
        );
    }
}

#[tokio::test]
async fn finding_3_a_genuine_saved_plan_applies_its_re_derived_steps() {
    let (d, o) = scenario("empty_cluster_full_build");
    let doc = saved_json(&d, &o, &crate::cli_opts());
    let n = nodes(&d);
    let ran = apply_saved(&doc, &d, &o, &ApplyOptions::default(), &n)
        .await
        .unwrap();
    assert!(ran.steps.iter().any(|s| s.id == "brick.gfs[0][0]/lvcreate"));
    let mut sent = n.steps.lock().unwrap().clone();
    let mut want: Vec<_> = ran
        .steps
        .iter()
        .map(|s| (s.node.clone(), step_args(s)))
        .collect();
    sent.sort();
    want.sort();
    assert_eq!(sent, want, "every re-derived step ran, and nothing else");
}

#[tokio::test]
async fn finding_3_an_appended_command_is_refused() {
    refused(
        "empty_cluster_full_build",
        crate::cli_opts(),
        ApplyOptions::default(),
        |doc| {
            step_mut(doc, "brick.gfs[0][0]/lvcreate")["commands"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!(["sh", "-c", "rm -rf --no-preserve-root /"]));
        },
        "step brick.gfs[0][0]/lvcreate: command 3 differs: saved [sh -c 'rm -rf --no-preserve-root /'], re-derived (none)",
    )
    .await;
}

#[tokio::test]
async fn finding_3_a_cleared_destructive_mark_is_refused() {
    // The old apply read `destructive` from the file: with it cleared, a delete ran
    // without --allow-destroy.
    let opts = PlanOptions {
        allow_destroy: true,
        ..crate::cli_opts()
    };
    let (d, o) = scenario("delete_allowed");
    let doc = saved_json(&d, &o, &opts);
    let first = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["destructive"] == true)
        .expect("a destructive step")["id"]
        .as_str()
        .unwrap()
        .to_string();
    refused(
        "delete_allowed",
        opts,
        ApplyOptions::default(),
        |doc| {
            for s in doc["steps"].as_array_mut().unwrap() {
                s["destructive"] = false.into();
            }
        },
        &format!("step {first}: destructive differs: saved false, re-derived true"),
    )
    .await;
}

#[tokio::test]
async fn finding_3_a_changed_guard_is_refused() {
    refused(
        "empty_cluster_full_build",
        crate::cli_opts(),
        ApplyOptions::default(),
        |doc| {
            step_mut(doc, "brick.gfs[0][0]/mkfs")["guard"]["argv"] = serde_json::json!(["false"]);
        },
        "step brick.gfs[0][0]/mkfs: guard differs: saved [false], re-derived [",
    )
    .await;
}

#[tokio::test]
async fn finding_3_a_removed_step_is_refused() {
    refused(
        "empty_cluster_full_build",
        crate::cli_opts(),
        ApplyOptions::default(),
        |doc| {
            let steps = doc["steps"].as_array_mut().unwrap();
            let last = steps.pop().unwrap();
            assert!(
                steps
                    .iter()
                    .all(|s| !s["depends_on"].as_array().unwrap().contains(&last["id"])),
                "the last step is nobody's dependency"
            );
        },
        "is re-derived but not in the saved plan",
    )
    .await;
}

#[tokio::test]
async fn finding_3_a_saved_delete_still_needs_allow_destroy() {
    let opts = PlanOptions {
        allow_destroy: true,
        ..crate::cli_opts()
    };
    let (d, o) = scenario("delete_allowed");
    let doc = saved_json(&d, &o, &opts);
    let n = nodes(&d);
    let err = apply_saved(&doc, &d, &o, &ApplyOptions::default(), &n)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--allow-destroy"), "{err}");
    assert!(n.steps.lock().unwrap().is_empty());
    let allowed = ApplyOptions {
        allow_destroy: true,
        ..ApplyOptions::default()
    };
    apply_saved(&doc, &d, &o, &allowed, &n).await.unwrap();
    assert!(!n.steps.lock().unwrap().is_empty());
}

#[test]
fn finding_3_a_saved_plan_re_derives_with_the_options_it_was_planned_with() {
    let (d, o) = scenario("delete_allowed");
    let opts = PlanOptions {
        allow_destroy: true,
        allow_wipe: true,
        new_cluster_id: Some("0123456789abcdef0123456789abcdef".into()),
    };
    let doc = saved_json(&d, &o, &opts);
    let p: Plan = serde_json::from_value(doc).unwrap();
    let again = saved::replan_options(&p);
    assert!(again.allow_destroy && again.allow_wipe);
    // The id comes back only when the plan made it (it may have been settled otherwise).
    assert_eq!(
        again.new_cluster_id.is_some(),
        p.cluster_id.as_ref().is_some_and(|c| c.new)
    );
    assert_eq!(
        saved::first_difference(&p, &plan::plan(&d, &o, &again)),
        None
    );
}

/// The device_wipe_allowed scenario planned with `--allow-wipe`: a wipefs, no delete.
fn wipe_plan() -> (Desired, Observed, serde_json::Value) {
    let (d, o) = scenario("device_wipe_allowed");
    let opts = PlanOptions {
        allow_wipe: true,
        ..crate::cli_opts()
    };
    let doc = saved_json(&d, &o, &opts);
    let p: Plan = serde_json::from_value(doc.clone()).unwrap();
    assert!(
        p.steps
            .iter()
            .any(|s| s.id.ends_with("/wipefs") && s.destructive)
    );
    assert!(p.steps.iter().all(|s| s.action != plan::Action::Delete));
    (d, o, doc)
}

fn sent_wipefs(n: &Nodes) -> bool {
    n.steps
        .lock()
        .unwrap()
        .iter()
        .any(|(_, args)| args.iter().any(|a| a == "wipefs"))
}

#[tokio::test]
async fn finding_19_allow_wipe_alone_runs_a_wipe_only_plan() {
    // `apply --allow-wipe` (no --allow-destroy): the plan shown in this run and approved.
    let (d, _, doc) = wipe_plan();
    let p: Plan = serde_json::from_value(doc).unwrap();
    let n = nodes(&d);
    let opts = ApplyOptions {
        allow_wipe: true,
        ..ApplyOptions::default()
    };
    let done = locked_apply(
        &p,
        &n.transports,
        &opts,
        &at(),
        &lock::this_holder(),
        &Silent,
        None,
        || async { Ok(p.clone()) },
    )
    .await
    .unwrap();
    assert!(done.report.success(), "{:?}", done.report);
    assert!(sent_wipefs(&n));
}

#[tokio::test]
async fn finding_19_a_saved_plan_with_wipefs_needs_allow_wipe() {
    let (d, o, doc) = wipe_plan();
    let n = nodes(&d);
    let destroy_only = ApplyOptions {
        allow_destroy: true,
        ..ApplyOptions::default()
    };
    let err = apply_saved(&doc, &d, &o, &destroy_only, &n)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            RunError::Invalid(brickyard::apply::ApplyError::WipeNotAllowed(_))
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("--allow-wipe"), "{err}");
    assert!(n.steps.lock().unwrap().is_empty(), "nothing ran");
    let wipe = ApplyOptions {
        allow_wipe: true,
        ..ApplyOptions::default()
    };
    apply_saved(&doc, &d, &o, &wipe, &n).await.unwrap();
    assert!(sent_wipefs(&n));
}

#[tokio::test]
async fn finding_19_a_wipe_mark_cleared_in_the_file_is_still_gated() {
    // The pre-lock check reads the file; the one that counts reads the re-derived plan.
    let (d, o, mut doc) = wipe_plan();
    for s in doc["steps"].as_array_mut().unwrap() {
        s["destructive"] = false.into();
    }
    let n = nodes(&d);
    let err = apply_saved(&doc, &d, &o, &ApplyOptions::default(), &n)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("destructive differs"), "{err}");
    assert!(n.steps.lock().unwrap().is_empty());
}

fn brickyard(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_brickyard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("brickyard runs")
}

#[test]
fn finding_20_plan_files_are_written_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("plan.json");
    // An existing, world-readable file is made private too, not only a new one.
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = brickyard(&[
        "plan",
        "-c",
        "examples/lab-n.yaml",
        "--facts",
        "examples/facts/lab-n-empty.json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with('{') && text.contains("\"steps\""),
        "{text}"
    );
}

#[test]
fn finding_20_oversized_facts_and_plan_files_are_refused() {
    let dir = TempDir::new().unwrap();
    let big = dir.path().join("big.json");
    // Sparse: 64 MiB and one byte, without writing them.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    let big = big.to_str().unwrap();
    for args in [
        vec!["plan", "-c", "examples/lab-n.yaml", "--facts", big],
        // Refused before connecting to any node.
        vec!["apply", "-c", "examples/lab-n.yaml", big],
    ] {
        let o = brickyard(&args);
        let se = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {se}");
        assert!(se.contains("larger than 64 MiB"), "{args:?}: {se}");
    }
}
