//! Snapshot every scenario under testdata/plan/<name>/ (desired.json, the facts, optional
//! opts.json) rendered as human text, and check on each that the plan is deterministic
//! and converges: simulate its runnable steps, plan again, nothing to do.
//!
//! A scenario's desired state and facts are each either its own file (`desired.json`,
//! `facts.json`) or, when several scenarios share the same one, a one-line
//! `desired.from` / `facts.from` naming `testdata/plan/_shared/<name>.<kind>.json`: one
//! copy instead of byte-identical ones in every scenario directory.

use std::path::{Path, PathBuf};

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{PlanOptions, plan, simulate};
use brickyard::render::plan::{human, json};

pub(crate) fn load(dir: &Path) -> (Desired, Observed, PlanOptions) {
    let desired: Desired =
        serde_json::from_str(&std::fs::read_to_string(input_file(dir, "desired")).unwrap())
            .unwrap();
    let observed: Observed =
        serde_json::from_str(&std::fs::read_to_string(input_file(dir, "facts")).unwrap()).unwrap();
    let mut opts = crate::cli_opts();
    if let Ok(s) = std::fs::read_to_string(dir.join("opts.json")) {
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        opts.allow_destroy = v["allow_destroy"].as_bool().unwrap_or(false);
        opts.allow_wipe = v["allow_wipe"].as_bool().unwrap_or(false);
        // facts gathered before nodes recorded a cluster identity, planned as a library
        // caller that mints no id (else the plan's first steps would record one)
        if v["fresh_cluster_id"].as_bool() == Some(false) {
            opts.new_cluster_id = None;
        }
    }
    (desired, observed, opts)
}

/// Where the scenario in `dir` keeps its `kind` ("desired" or "facts"): its own
/// `<kind>.json`, or the shared `_shared/<name>.<kind>.json` its `<kind>.from` names.
/// Having both, or neither, is a broken scenario.
pub(crate) fn input_file(dir: &Path, kind: &str) -> PathBuf {
    let own = dir.join(format!("{kind}.json"));
    let from = dir.join(format!("{kind}.from"));
    match (own.exists(), std::fs::read_to_string(&from)) {
        (true, Err(_)) => own,
        (false, Ok(name)) => {
            let shared = dir
                .parent()
                .unwrap()
                .join("_shared")
                .join(format!("{}.{kind}.json", name.trim()));
            assert!(
                shared.exists(),
                "{}: no {}",
                from.display(),
                shared.display()
            );
            shared
        }
        (true, Ok(_)) => panic!("{}: both {kind}.json and {kind}.from", dir.display()),
        (false, Err(e)) => panic!("{}: no {kind}.json, no {kind}.from ({e})", dir.display()),
    }
}

/// The files a scenario's test reads: desired and facts (own, or the `.from` file and the
/// shared file it names) and opts.json when present; the fixture-usage check counts these.
pub(crate) fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = vec![input_file(dir, "desired"), input_file(dir, "facts")];
    for optional in ["desired.from", "facts.from", "opts.json"] {
        if dir.join(optional).exists() {
            v.push(dir.join(optional));
        }
    }
    v
}

pub(crate) fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir("testdata/plan")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("desired.json").exists() || p.join("desired.from").exists())
        .collect();
    v.sort();
    v
}

#[test]
fn scenario_snapshots() {
    let all = scenarios();
    assert!(all.len() >= 25, "only {} scenarios", all.len());
    for dir in all {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (d, o, opts) = load(&dir);
        let p = plan(&d, &o, &opts);
        insta::assert_snapshot!(name, human(&p, false));
    }
}

#[test]
fn json_snapshot_of_the_full_build() {
    let (d, o, opts) = load(Path::new("testdata/plan/seed_16gib_8gib"));
    insta::assert_snapshot!("seed_16gib_8gib_json", json(&plan(&d, &o, &opts)));
}

#[test]
fn every_scenario_is_deterministic_and_converges() {
    for dir in scenarios() {
        let (d, o, opts) = load(&dir);
        let p1 = plan(&d, &o, &opts);
        let p2 = plan(&d, &o, &opts);
        assert_eq!(json(&p1), json(&p2), "{} not deterministic", dir.display());
        let after = simulate::apply(&p1, &o);
        let again = plan(&d, &after, &opts);
        assert!(
            !again.has_changes(),
            "{} does not converge; second plan:\n{}",
            dir.display(),
            human(&again, false)
        );
    }
}
