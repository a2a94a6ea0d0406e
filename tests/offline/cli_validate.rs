//! The `brickyard validate` and `brickyard import heketi` binaries: exit codes,
//! where output goes (data on stdout, reports on stderr) and discovery.

use std::path::Path;
use std::process::{Command, Output};

fn brickyard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brickyard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn valid_config_exits_zero_with_a_summary_on_stderr() {
    let out = brickyard(&["validate", "-c", "examples/lab-n.yaml"], root());
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("examples/lab-n.yaml: valid (0 error(s), 0 warning(s))"),
        "{err}"
    );
}

#[test]
fn invalid_config_exits_one_and_json_goes_to_stdout() {
    let out = brickyard(
        &[
            "validate",
            "-c",
            "testdata/config/invalid/multi-error.yaml",
            "--format",
            "json",
        ],
        root(),
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert!(json["error_count"].as_u64().unwrap() >= 11);
    assert_eq!(json["diagnostics"][0]["range"]["start"]["line"], 2);
    assert_eq!(
        json["diagnostics"][0]["file"],
        "testdata/config/invalid/multi-error.yaml"
    );

    let out = brickyard(
        &["validate", "-c", "testdata/config/invalid/multi-error.yaml"],
        root(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("brickyard::config::unknown_field") && err.contains("invalid ("),
        "{err}"
    );
}

#[test]
fn warnings_alone_keep_the_config_valid() {
    let out = brickyard(
        &[
            "validate",
            "-c",
            "testdata/config/warnings/replica-two.yaml",
            "--format",
            "json",
        ],
        root(),
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["valid"].as_bool(), json["warning_count"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(json["diagnostics"][0]["severity"], "warning");
}

#[test]
fn without_c_the_config_is_discovered_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let none = brickyard(&["validate"], dir.path());
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no config file"));
    std::fs::copy(
        root().join("examples/arbiter.hcl"),
        dir.path().join("brickyard.hcl"),
    )
    .unwrap();
    assert_eq!(brickyard(&["validate"], dir.path()).status.code(), Some(0));
    std::fs::copy(
        root().join("examples/arbiter.yaml"),
        dir.path().join("brickyard.yaml"),
    )
    .unwrap();
    let two = brickyard(&["validate", "--format", "json"], dir.path());
    assert_eq!(two.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&two.stdout).unwrap();
    assert_eq!(
        json["diagnostics"][0]["code"],
        "brickyard::config::ambiguous"
    );
}

#[test]
fn import_heketi_prints_a_config_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    for (format, file) in [("yaml", "brickyard.yaml"), ("hcl", "brickyard.hcl")] {
        let topo = root().join("testdata/heketi/seed-001-topology.json");
        let out = brickyard(
            &[
                "import",
                "heketi",
                topo.to_str().unwrap(),
                "--format",
                format,
            ],
            dir.path(),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sub = dir.path().join(format);
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join(file), &out.stdout).unwrap();
        assert_eq!(brickyard(&["validate"], &sub).status.code(), Some(0));
    }
    let two = root().join("testdata/heketi/two-clusters.json");
    let out = brickyard(&["import", "heketi", two.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cluster"));
}
