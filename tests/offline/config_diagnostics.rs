//! Every bad config in testdata/config/invalid is refused with a snapshot of exactly
//! what the operator would read; warning-only configs in testdata/config/warnings are
//! accepted and their warnings snapshotted too.

use std::path::{Path, PathBuf};

use brickyard::config::{self, Format, Loaded};

/// The fixture directories the two glob tests walk (relative to the crate root).
pub(crate) const INVALID: &str = "testdata/config/invalid";
pub(crate) const WARNINGS: &str = "testdata/config/warnings";

/// The files `insta::glob!(dir, "*.{yaml,hcl}")` visits, sorted; each glob test asserts it
/// visited exactly these, so the fixture-usage check can rely on this list.
pub(crate) fn inputs(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "hcl"))
        .collect();
    v.sort();
    v
}

fn load_fixture(path: &Path) -> (String, Loaded) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let format = Format::from_path(path).expect("fixture extension");
    let bytes = std::fs::read(path).unwrap();
    (name.clone(), config::parse_bytes(&name, &bytes, format))
}

#[test]
fn invalid_configs_are_refused_with_pointed_diagnostics() {
    let mut visited = Vec::new();
    insta::glob!("../../testdata/config/invalid", "*.{yaml,hcl}", |path| {
        visited.push(path.to_path_buf());
        let (name, loaded) = load_fixture(path);
        assert!(loaded.has_errors(), "{name} should be invalid");
        assert!(
            loaded.desired.is_none(),
            "{name}: no model from an invalid config"
        );
        for d in loaded.diagnostics.iter().filter(|d| d.is_error()) {
            assert!(
                d.code.starts_with("brickyard::config::"),
                "{name}: code {}",
                d.code
            );
            assert!(
                !d.labels.is_empty(),
                "{name}: `{}` points nowhere",
                d.message
            );
        }
        insta::assert_snapshot!(loaded.render(100, false));
    });
    visited.sort();
    assert_eq!(visited, inputs(INVALID));
}

#[test]
fn warning_only_configs_are_valid_and_say_why() {
    let mut visited = Vec::new();
    insta::glob!("../../testdata/config/warnings", "*.{yaml,hcl}", |path| {
        visited.push(path.to_path_buf());
        let (name, loaded) = load_fixture(path);
        assert!(
            !loaded.has_errors(),
            "{name}: {}",
            loaded.render(100, false)
        );
        assert!(loaded.desired.is_some());
        assert!(loaded.warning_count() >= 1, "{name} should warn");
        insta::assert_snapshot!(loaded.render(100, false));
    });
    visited.sort();
    assert_eq!(visited, inputs(WARNINGS));
}

/// All mistakes in one run, not the first one only.
#[test]
fn multi_error_files_report_everything_at_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(INVALID);
    for (file, at_least, codes) in [
        (
            "multi-error.yaml",
            11,
            &[
                "unknown_field",
                "invalid_device",
                "duplicate_device",
                "duplicate_address",
                "invalid_value",
                "invalid_volume_name",
                "invalid_size",
                "invalid_arbiter",
                "invalid_snapshot_factor",
            ][..],
        ),
        (
            "hcl-multi-error.hcl",
            8,
            &[
                "invalid_name",
                "unknown_field",
                "wrong_type",
                "duplicate_device",
                "duplicate_address",
                "invalid_volume_name",
                "invalid_size",
                "invalid_snapshot_factor",
                "invalid_replica",
                "invalid_value",
            ][..],
        ),
    ] {
        let (_, loaded) = load_fixture(&root.join(file));
        let found: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
        assert!(loaded.error_count() >= at_least, "{file}: {found:?}");
        for code in codes {
            let full = format!("brickyard::config::{code}");
            assert!(
                found.contains(&full.as_str()),
                "{file}: missing {full} in {found:?}"
            );
        }
    }
}

#[test]
fn oversized_config_is_refused_before_parsing() {
    let mut text = String::from("cluster: prod\n");
    while text.len() <= config::MAX_CONFIG_BYTES {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    let loaded = config::parse_str("big.yaml", &text, Format::Yaml);
    assert_eq!(loaded.diagnostics.len(), 1);
    assert_eq!(loaded.diagnostics[0].code, config::codes::TOO_LARGE);
    let loaded = config::parse_bytes("big.hcl", text.as_bytes(), Format::Hcl);
    assert_eq!(loaded.diagnostics[0].code, config::codes::TOO_LARGE);
}

#[test]
fn json_report_has_the_documented_shape() {
    let text = "cluster: prod\nnodes:\n  gfs1: { manage: 10.0.0.1, devcies: [] }\n";
    let loaded = config::parse_str("c.yaml", text, Format::Yaml);
    let json = loaded.to_json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error_count"], 1);
    assert_eq!(json["warning_count"], 0);
    let d = &json["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "brickyard::config::unknown_field");
    assert_eq!(d["message"], "unknown field `devcies` in node `gfs1`");
    assert_eq!(d["help"], "did you mean `devices`?");
    assert_eq!(d["file"], "c.yaml");
    let start = &d["range"]["start"];
    assert_eq!(
        (start["line"].as_u64(), start["column"].as_u64()),
        (Some(3), Some(29))
    );
    assert_eq!(
        start["byte"].as_u64(),
        text.find("devcies").map(|b| b as u64)
    );
    assert_eq!(d["range"]["end"]["column"], 36);
}

#[test]
fn discover_finds_one_file_and_refuses_two() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        config::discover(dir.path()),
        Err(config::LoadError::NotFound { .. })
    ));
    std::fs::write(dir.path().join("brickyard.hcl"), "cluster = \"x\"\n").unwrap();
    assert_eq!(
        config::discover(dir.path()).unwrap(),
        dir.path().join("brickyard.hcl")
    );
    std::fs::write(dir.path().join("brickyard.yaml"), "cluster: x\n").unwrap();
    let err = config::discover(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("brickyard.yaml") && err.contains("brickyard.hcl"),
        "{err}"
    );
}

#[test]
fn load_picks_the_format_by_extension_and_reads_errors_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(&p, "x").unwrap();
    assert!(matches!(
        config::load(&p),
        Err(config::LoadError::UnknownFormat { .. })
    ));
    assert!(matches!(
        config::load(&dir.path().join("missing.yaml")),
        Err(config::LoadError::Read { .. })
    ));
    let p = dir.path().join("c.yml");
    std::fs::write(&p, "cluster: x\nnodes:\n  a: { manage: h1 }\n").unwrap();
    let loaded = config::load(&p).unwrap();
    assert!(!loaded.has_errors(), "{}", loaded.render(100, false));
    assert_eq!(loaded.desired.unwrap().nodes["a"].storage, "h1");
}

/// `drain: true` on a device, a path or a whole node, in both formats; validation counts
/// only storage that does not drain, so draining the only storage of one of three nodes
/// leaves a replica-3 volume two nodes.
#[test]
fn drain_marks_devices_paths_and_whole_nodes_and_counts_against_capacity() {
    let yaml = "cluster: prod
nodes:
  a: { manage: 10.0.0.1, zone: 1, paths: [{ path: /bricks/d0, drain: true }, /bricks/d1] }
  b: { manage: 10.0.0.2, zone: 2, devices: [{ path: /dev/sdb, drain: true }, /dev/sdc], paths: [/bricks/d0] }
  c: { manage: 10.0.0.3, zone: 3, drain: true, devices: [/dev/sdb], paths: [/bricks/d0] }
  d: { manage: 10.0.0.4, zone: 3, paths: [/bricks/d0] }
volumes:
  v: { size: 1GiB, brick_kind: directory }
";
    let loaded = config::parse_str("c.yaml", yaml, Format::Yaml);
    let d = loaded.desired.expect("valid");
    let drains = |n: &str| -> (Vec<bool>, Vec<bool>) {
        let n = &d.nodes[n];
        (
            n.devices.iter().map(|x| x.drain).collect(),
            n.paths.iter().map(|x| x.drain).collect(),
        )
    };
    assert_eq!(drains("a"), (vec![], vec![true, false]));
    assert_eq!(drains("b"), (vec![true, false], vec![false]));
    assert_eq!(drains("c"), (vec![true], vec![true]));
    assert_eq!(drains("d"), (vec![], vec![false]));
    let hcl = r#"cluster = "prod"
node "a" {
  manage = "10.0.0.1"
  path "/bricks/d0" { drain = true }
}
"#;
    let loaded = config::parse_str("c.hcl", hcl, Format::Hcl);
    let d = loaded.desired.expect("valid HCL");
    assert!(d.nodes["a"].paths[0].drain);
    // c drains whole: a, b and d host the volume; without d only two nodes can
    let without_d = yaml.replace(
        "  d: { manage: 10.0.0.4, zone: 3, paths: [/bricks/d0] }\n",
        "",
    );
    let loaded = config::parse_str("c.yaml", &without_d, Format::Yaml);
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|x| x.code == config::codes::NOT_ENOUGH_NODES),
        "{:?}",
        loaded.diagnostics
    );
}
