//! The one-round-trip step runner (`STEP_SCRIPT`) in a real shell: each test node is a
//! temporary directory the commands run in. Proves the guard/commands/verify semantics
//! and that argument values reach commands verbatim, never parsed as shell text.

use std::sync::Arc;

use brickyard::apply::{ApplyOptions, Outcome, Silent, execute};
use brickyard::plan::{Action, Address, Guard, Plan, Step};
use brickyard::transport::{Transport, Transports};
use tempfile::TempDir;

use crate::local_shell::LocalShell;

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn step(guard: &[&str], commands: &[&[&str]]) -> Step {
    Step {
        id: "s".into(),
        address: Address::volume("s"),
        action: Action::Create,
        node: "local".into(),
        description: "the step".into(),
        commands: commands.iter().map(|c| words(c)).collect(),
        guard: Guard {
            description: "the marker exists".into(),
            argv: words(guard),
            redundant_when_fresh: false,
        },
        depends_on: vec![],
        destructive: false,
        changes: vec![],
    }
}

/// Runs one step in a fresh directory; returns its outcome and the directory.
async fn run(step: Step) -> (Outcome, TempDir) {
    let dir = TempDir::new().unwrap();
    let o = run_in(&dir, step).await;
    (o, dir)
}

async fn run_in(dir: &TempDir, step: Step) -> Outcome {
    run_with(dir, step, &ApplyOptions::default()).await
}

async fn run_with(dir: &TempDir, step: Step, opts: &ApplyOptions) -> Outcome {
    run_all(dir, vec![step], opts).await[0].1.clone()
}

/// Runs `steps` (all on the one node, so those ready at once share a round trip).
async fn run_all(dir: &TempDir, steps: Vec<Step>, opts: &ApplyOptions) -> Vec<(String, Outcome)> {
    let t: Arc<dyn Transport> = Arc::new(LocalShell {
        name: "local".to_string(),
        root: dir.path().to_path_buf(),
    });
    let transports: Transports = [("local".to_string(), t)].into_iter().collect();
    let plan = Plan {
        format_version: brickyard::plan::FORMAT_VERSION,
        cluster: "t".into(),
        cluster_id: None,
        planned_with: Default::default(),
        facts_fingerprint: String::new(),
        config_hash: String::new(),
        steps,
        placements: vec![],
        blockers: vec![],
        foreign: vec![],
        warnings: vec![],
        blocked_steps: vec![],
    };
    let report = execute(&plan, &transports, opts, &Silent, None)
        .await
        .unwrap();
    report.outcomes
}

#[tokio::test]
async fn a_passing_guard_skips_the_commands() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    let o = run_in(&dir, step(&["test", "-d", "m"], &[&["touch", "ran"]])).await;
    assert_eq!(o, Outcome::AlreadyDone);
    assert!(!dir.path().join("ran").exists());
}

/// On facts read under the run's locks, a guard marked redundant then is not asked
/// before the commands (they run although it already passes), only after; unmarked
/// guards, and any guard on a run without fresh facts, are asked before as ever.
#[tokio::test]
async fn the_check_before_is_left_out_only_for_a_redundant_guard_on_fresh_facts() {
    let fresh = ApplyOptions {
        fresh_facts: true,
        ..ApplyOptions::default()
    };
    let marked = |redundant: bool| {
        let mut s = step(&["test", "-d", "m"], &[&["touch", "ran"]]);
        s.guard.redundant_when_fresh = redundant;
        s
    };
    for (redundant, opts, runs) in [
        (true, &fresh, true),
        (false, &fresh, false),
        (true, &ApplyOptions::default(), false),
    ] {
        let dir = TempDir::new().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        let o = run_with(&dir, marked(redundant), opts).await;
        let ran = dir.path().join("ran").exists();
        assert_eq!(
            ran, runs,
            "redundant {redundant}, fresh {}",
            opts.fresh_facts
        );
        if runs {
            assert!(matches!(o, Outcome::Done { .. }), "{o:?}");
        } else {
            assert_eq!(o, Outcome::AlreadyDone);
        }
    }
    // the check after still holds the step to its effect
    let dir = TempDir::new().unwrap();
    let mut s = step(&["test", "-d", "never"], &[&["touch", "ran"]]);
    s.guard.redundant_when_fresh = true;
    let o = run_with(&dir, s, &fresh).await;
    assert!(
        matches!(o, Outcome::Failed(ref f) if f.reason.contains("effect not visible")),
        "{o:?}"
    );
}

#[tokio::test]
async fn commands_run_in_order_then_the_guard_verifies() {
    let (o, dir) = run(step(
        &["test", "-f", "m/done"],
        &[
            &["mkdir", "m"],
            &["sh", "-c", "echo first > m/log"],
            &["touch", "m/done"],
        ],
    ))
    .await;
    assert!(matches!(o, Outcome::Done { .. }), "{o:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m/log")).unwrap(),
        "first\n"
    );
}

#[tokio::test]
async fn the_first_failing_command_stops_the_step_with_its_own_stderr() {
    let (o, dir) = run(step(
        &["test", "-f", "never"],
        &[
            &["sh", "-c", "echo noise from the first >&2"],
            &["sh", "-c", "echo 'mkfs: device busy' >&2; exit 3", "x"],
            &["touch", "third"],
        ],
    ))
    .await;
    let Outcome::Failed(f) = o else {
        panic!("{o:?}")
    };
    assert_eq!(f.reason, "command failed");
    assert_eq!(
        f.command.as_deref(),
        Some("sh -c 'echo '\\''mkfs: device busy'\\'' >&2; exit 3' x")
    );
    assert_eq!(f.exit_code, Some(3));
    assert_eq!(f.stderr, "mkfs: device busy");
    assert!(!dir.path().join("third").exists());
}

#[tokio::test]
async fn success_without_effect_is_reported_with_the_guards_stderr() {
    let (o, _dir) = run(step(
        &["sh", "-c", "echo 'no such volume' >&2; exit 1"],
        &[&["true"]],
    ))
    .await;
    let Outcome::Failed(f) = o else {
        panic!("{o:?}")
    };
    assert!(
        f.reason
            .starts_with("command succeeded but effect not visible (guard: the marker exists)"),
        "{}",
        f.reason
    );
    assert_eq!(f.exit_code, Some(1));
    assert_eq!(f.stderr, "no such volume");
}

#[tokio::test]
async fn a_missing_program_is_a_failed_command() {
    let (o, _dir) = run(step(&["false"], &[&["brickyard-no-such-program", "x"]])).await;
    let Outcome::Failed(f) = o else {
        panic!("{o:?}")
    };
    assert_eq!(f.exit_code, Some(127));
    assert!(f.stderr.contains("not found"), "{}", f.stderr);
}

#[tokio::test]
async fn values_reach_commands_verbatim() {
    let nasty = [
        "$(touch pwned)",
        "`touch pwned`",
        "a b",
        "it's",
        "\"q\"",
        "x; touch pwned",
        "back\\slash",
        "line\nbreak",
        "${1}",
        "$gn",
        "",
        "*",
        "-n",
        "@@by done",
    ];
    // printf writes each argument on its own line, NUL-separated to keep newlines exact.
    let mut cmd = vec!["sh", "-c", "printf '%s\\0' \"$@\" > out", "sh"];
    cmd.extend(nasty);
    let (o, dir) = run(step(&["test", "-f", "out"], &[&cmd])).await;
    assert!(matches!(o, Outcome::Done { .. }), "{o:?}");
    assert!(!dir.path().join("pwned").exists());
    let got = std::fs::read(dir.path().join("out")).unwrap();
    let want: Vec<u8> = nasty
        .iter()
        .flat_map(|w| w.bytes().chain(std::iter::once(0)))
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[tokio::test]
async fn more_than_nine_words_and_no_guard() {
    let many: Vec<String> = (1..=12).map(|i| format!("f{i}")).collect();
    let mut cmd = vec!["touch"];
    cmd.extend(many.iter().map(String::as_str));
    // Without a guard the commands always run and nothing is verified.
    let (o, dir) = run(step(&[], &[&cmd])).await;
    assert!(matches!(o, Outcome::Done { .. }), "{o:?}");
    for f in &many {
        assert!(dir.path().join(f).exists(), "{f}");
    }
}

/// Several steps in one round trip (BATCH_SCRIPT), in a real shell: each is guarded,
/// run and verified on its own, values reach commands verbatim, a failing step reports
/// its own command and stderr and the others still run.
#[tokio::test]
async fn a_batch_runs_each_step_as_its_own() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("there")).unwrap();
    let named = |id: &str, mut s: Step| {
        s.id = id.into();
        s.address = Address::volume(id);
        s
    };
    let nasty = "$(touch pwned) `touch pwned` it's \"q\" ${1}";
    let steps = vec![
        named("skip", step(&["test", "-d", "there"], &[&["touch", "ran"]])),
        named(
            "nasty",
            step(&["test", "-f", nasty], &[&["touch", "--", nasty]]),
        ),
        named(
            "broken",
            step(
                &["test", "-f", "never"],
                &[&["sh", "-c", "echo out; echo 'disk on fire' >&2; exit 4"]],
            ),
        ),
        named("lies", step(&["test", "-f", "absent"], &[&["true"]])),
        named("last", step(&["test", "-f", "last"], &[&["touch", "last"]])),
    ];
    let outcomes: std::collections::BTreeMap<_, _> = run_all(&dir, steps, &ApplyOptions::default())
        .await
        .into_iter()
        .collect();
    assert_eq!(outcomes["skip"], Outcome::AlreadyDone);
    assert!(!dir.path().join("ran").exists());
    assert!(
        matches!(outcomes["nasty"], Outcome::Done { .. }),
        "{:?}",
        outcomes["nasty"]
    );
    assert!(dir.path().join(nasty).exists());
    assert!(!dir.path().join("pwned").exists());
    let Outcome::Failed(f) = &outcomes["broken"] else {
        panic!("{:?}", outcomes["broken"]);
    };
    assert_eq!((f.exit_code, f.stderr.as_str()), (Some(4), "disk on fire"));
    let Outcome::Failed(f) = &outcomes["lies"] else {
        panic!("{:?}", outcomes["lies"]);
    };
    assert!(f.reason.contains("effect not visible"), "{f}");
    assert!(matches!(outcomes["last"], Outcome::Done { .. }));
    assert!(dir.path().join("last").exists());
}
