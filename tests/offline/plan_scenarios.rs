//! Snapshot every scenario under testdata/plan/<name>/ (desired.json, facts.json,
//! optional opts.json) rendered as human text, and check on each that the plan is
//! deterministic and converges: simulate its runnable steps, plan again, nothing to do.

use std::path::Path;

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{PlanOptions, plan, simulate};
use brickyard::render::plan::{human, json};

fn load(dir: &Path) -> (Desired, Observed, PlanOptions) {
    let desired: Desired =
        serde_json::from_str(&std::fs::read_to_string(dir.join("desired.json")).unwrap()).unwrap();
    let observed: Observed =
        serde_json::from_str(&std::fs::read_to_string(dir.join("facts.json")).unwrap()).unwrap();
    let mut opts = PlanOptions::default();
    if let Ok(s) = std::fs::read_to_string(dir.join("opts.json")) {
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        opts.allow_destroy = v["allow_destroy"].as_bool().unwrap_or(false);
        opts.allow_wipe = v["allow_wipe"].as_bool().unwrap_or(false);
    }
    (desired, observed, opts)
}

fn scenarios() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir("testdata/plan")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("desired.json").exists())
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
