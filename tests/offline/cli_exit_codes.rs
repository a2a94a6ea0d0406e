//! The exit codes README.md documents, from the real binary: 0 success (or no changes),
//! 1 error, 2 plan has changes (only with --detailed-exitcode), 64 usage error (never
//! clap's own 2, which would read as "plan has changes").

use std::process::{Command, Stdio};

fn code(args: &[&str]) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_brickyard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("brickyard runs")
        .status
        .code()
}

const PLAN: &[&str] = &[
    "plan",
    "-c",
    "examples/lab-n.yaml",
    "--facts",
    "examples/facts/lab-n-empty.json",
];

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    assert_eq!(code(&["plan", "--no-such-flag"]), Some(64));
    assert_eq!(code(&["no-such-command"]), Some(64));
    assert_eq!(code(&[]), Some(64), "a command is required");
    assert_eq!(code(&["apply", "--parallelism", "0"]), Some(64));
    assert_eq!(code(&["--help"]), Some(0));
    assert_eq!(code(&["plan", "--help"]), Some(0));
    assert_eq!(code(&["--version"]), Some(0));
}

#[test]
fn plan_exits_2_for_changes_only_with_detailed_exitcode() {
    assert_eq!(code(PLAN), Some(0));
    assert_eq!(code(&[PLAN, &["--detailed-exitcode"]].concat()), Some(2));
}

#[test]
fn errors_exit_1() {
    let no_facts = [
        "plan",
        "-c",
        "examples/lab-n.yaml",
        "--facts",
        "no-such-facts.json",
    ];
    assert_eq!(code(&no_facts), Some(1));
    assert_eq!(code(&["plan", "-c", "no-such-config.yaml"]), Some(1));
    assert_eq!(
        code(&["apply", "-c", "examples/lab-n.yaml", "no-such.plan"]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "unlock",
            "-c",
            "examples/lab-n.yaml",
            "--node",
            "no-such-node"
        ]),
        Some(1)
    );
    assert_eq!(
        code(&["import", "heketi", "no-such-topology.json"]),
        Some(1)
    );
}
