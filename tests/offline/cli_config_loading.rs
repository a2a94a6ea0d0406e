//! Every command finds and reads its config the same way (one loader in the binary):
//! two config files in one directory give every command the same full report (code and
//! help line), and every command taking `-c` accepts a `.json` Desired model — validated
//! like a YAML config. Commands that need nodes talk to 127.0.0.1 on a port where nothing
//! listens: they must get as far as connecting, which shows the config was accepted.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The commands that read a config, with the arguments that make them run offline or
/// against the local dead port only.
const COMMANDS: &[&[&str]] = &[
    &["validate"],
    &["plan"],
    &["gather"],
    &["apply", "--auto-approve"],
    &["unlock"],
];

fn brickyard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brickyard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("brickyard runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A local port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    l.local_addr().expect("local address").port()
}

/// One node at 127.0.0.1 on a dead port; no proxy, so nothing but 127.0.0.1 is contacted.
fn local_config(port: u16) -> String {
    format!(
        "cluster: t\n\
         ssh: {{ port: {port}, connect_timeout: 2, options: [ProxyCommand=none, ProxyJump=none] }}\n\
         nodes:\n  a: {{ manage: 127.0.0.1, zone: 1, paths: [/bricks/a] }}\n"
    )
}

/// The Desired model of a YAML config, as a `.json` config file holds it.
fn desired_json(yaml: &Path) -> String {
    let loaded = brickyard::config::load(yaml).expect("config readable");
    let desired = loaded.desired.expect("config valid");
    serde_json::to_string_pretty(&desired).expect("model serializes")
}

/// A tempdir with `desired.json`: the model of [`local_config`], passed through `edit`.
fn local_dir(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = dir.path().join("local.yaml");
    std::fs::write(&yaml, local_config(dead_port())).expect("write");
    std::fs::write(dir.path().join("desired.json"), edit(desired_json(&yaml))).expect("write");
    dir
}

#[test]
fn two_config_files_give_every_command_the_same_full_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = local_config(dead_port());
    std::fs::write(dir.path().join("brickyard.yaml"), &text).expect("write");
    std::fs::write(dir.path().join("brickyard.yml"), &text).expect("write");
    let mut reports = Vec::new();
    for args in COMMANDS {
        let out = brickyard(args, dir.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert!(
            err.contains("brickyard::config::ambiguous")
                && err.contains("two config files in")
                && err.contains("brickyard.yaml and brickyard.yml")
                && err.contains("keep one of them, or pick one with -c FILE"),
            "{args:?}: the full report with its code and help line:\n{err}"
        );
        reports.push((args, err));
    }
    for (args, err) in &reports[1..] {
        assert_eq!(err, &reports[0].1, "{args:?} prints what validate prints");
    }
}

#[test]
fn validate_and_plan_accept_a_json_desired_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("desired.json");
    std::fs::write(&json, desired_json(&root.join("examples/lab-n.yaml"))).expect("write");
    let json = json.to_str().expect("utf-8 path");

    let out = brickyard(&["validate", "-c", json], root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("desired.json: valid (0 error(s), 0 warning(s))"));

    let facts = ["--facts", "examples/facts/lab-n-empty.json", "--no-color"];
    let from_yaml = brickyard(
        &[&["plan", "-c", "examples/lab-n.yaml"], &facts[..]].concat(),
        root,
    );
    let from_json = brickyard(&[&["plan", "-c", json], &facts[..]].concat(), root);
    assert_eq!(from_json.status.code(), Some(0), "{}", stderr(&from_json));
    // each run makes its own fresh cluster id (finding #11); all else is the same
    let redact =
        |o: &Output| crate::plan_identity::redact_cluster_ids(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(
        redact(&from_json),
        redact(&from_yaml),
        "the same plan from the model as from its config"
    );
}

#[test]
fn commands_that_connect_accept_a_json_desired_model() {
    let dir = local_dir(|json| json);
    for args in [
        &["gather", "-c", "desired.json"][..],
        &["apply", "-c", "desired.json", "--auto-approve"],
        &["unlock", "-c", "desired.json"],
        &["plan", "-c", "desired.json"],
    ] {
        let out = brickyard(args, dir.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        let all = format!("{}{err}", String::from_utf8_lossy(&out.stdout));
        assert!(
            all.contains("connection refused by a (127.0.0.1)")
                || all.contains("no declared node is reachable"),
            "{args:?}: got as far as connecting to the node:\n{err}"
        );
        assert!(
            !err.contains("brickyard::config") && !err.contains("not valid"),
            "{args:?}: the config was accepted:\n{err}"
        );
    }
}

/// Finding #15: `-c FILE.json` (the Desired model) once skipped every config rule.
#[test]
fn finding_15_a_json_desired_model_is_validated_like_a_config() {
    // A name the config rules refuse, written straight into the model.
    let dir = local_dir(|json| json.replace("\"cluster\": \"t\"", "\"cluster\": \"-t;rm\""));
    for args in COMMANDS {
        let args = [*args, &["-c", "desired.json"][..]].concat();
        let out = brickyard(&args, dir.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("brickyard::config::invalid_name"),
            "{args:?}: the cluster name is refused as in a YAML config:\n{err}"
        );
        assert!(
            !err.contains("connection refused"),
            "{args:?}: never connects"
        );
    }
    let out = brickyard(
        &["validate", "-c", "desired.json", "--format", "json"],
        dir.path(),
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(doc["valid"], false);
}

#[test]
fn a_json_file_that_is_not_a_model_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("desired.json"), "{\"cluster\": 1}").expect("write");
    let out = brickyard(&["validate", "-c", "desired.json"], dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("brickyard::config::syntax") && err.contains("not a valid desired model"),
        "{err}"
    );
}
