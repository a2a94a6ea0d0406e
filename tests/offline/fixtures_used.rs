//! Fails when a fixture is not used by any test: every file under testdata/ and every
//! snapshot under tests/offline/snapshots/ must be read by some test, so a fixture left
//! behind by a removed or renamed test shows up here instead of rotting silently.
//!
//! It is a static check, because nextest runs every test in its own process (a runtime
//! registry of opened files would see one test only). A testdata file counts as used when
//! either
//! - a directory-walking test lists it: the plan scenarios (`plan_scenarios::scenario_files`),
//!   the config diagnostics globs (`config_diagnostics::inputs`, which those tests assert
//!   they visited exactly) and the gather captures (`gather_captures::capture_files`), all
//!   the same functions the tests iterate with; or
//! - a test source names it: its path from the crate root (`"testdata/heketi/x.json"`), or
//!   its quoted file name in a source that also names its directory.
//!
//! `README.md` files are documentation for people and exempt. Files that only scripts use
//! (scripts/capture-testdata) are not exempt: some test must read them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{config_diagnostics, gather_captures, plan_scenarios};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `p` relative to the crate root, with `/` separators.
fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn files_under(dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.insert(rel(&p));
        }
    }
}

/// Every test source except this file, by path relative to the crate root.
fn test_sources() -> BTreeMap<String, String> {
    let mut files = BTreeSet::new();
    files_under(&root().join("tests"), &mut files);
    files
        .into_iter()
        .filter(|f| f.ends_with(".rs") && f != "tests/offline/fixtures_used.rs")
        .map(|f| {
            let text = std::fs::read_to_string(root().join(&f)).unwrap();
            (f, text)
        })
        .collect()
}

/// The testdata files the directory-walking tests read.
fn walked() -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for dir in plan_scenarios::scenarios() {
        used.extend(plan_scenarios::scenario_files(&dir).iter().map(|p| rel(p)));
    }
    for dir in [config_diagnostics::INVALID, config_diagnostics::WARNINGS] {
        used.extend(config_diagnostics::inputs(dir).iter().map(|p| rel(p)));
    }
    used.extend(gather_captures::capture_files().iter().map(|p| rel(p)));
    used
}

/// Whether some test source names `file` (a path relative to the crate root).
fn named_by_a_source(file: &str, sources: &BTreeMap<String, String>) -> bool {
    let (dir, name) = file
        .rsplit_once('/')
        .expect("testdata files are in testdata/");
    let quoted = format!("\"{name}\"");
    sources
        .values()
        .any(|text| text.contains(file) || (text.contains(&quoted) && text.contains(dir)))
}

fn unused_testdata() -> Vec<String> {
    let mut all = BTreeSet::new();
    files_under(&root().join("testdata"), &mut all);
    let walked = walked();
    let sources = test_sources();
    all.into_iter()
        .filter(|f| !f.ends_with("/README.md"))
        .filter(|f| !walked.contains(f) && !named_by_a_source(f, &sources))
        .collect()
}

#[test]
fn every_testdata_file_is_read_by_a_test() {
    let walked = walked();
    assert!(walked.len() > 100, "the walkers found only {walked:?}");
    for f in &walked {
        assert!(
            root().join(f).is_file(),
            "a walker lists a missing file {f}"
        );
    }
    let unused = unused_testdata();
    assert!(
        unused.is_empty(),
        "fixtures no test reads (use them in a test or delete them):\n  {}",
        unused.join("\n  ")
    );
}

/// The snapshot names a module's tests assert, for the modules that build them with
/// `format!` from what they iterate; other modules name their snapshots literally.
fn computed_snapshot_names(module: &str) -> BTreeSet<String> {
    match module {
        "plan_scenarios" => plan_scenarios::scenarios()
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect(),
        "gather_captures" => gather_captures::captures()
            .into_iter()
            .map(|(state, node)| format!("{state}__{node}"))
            .collect(),
        "config_examples" => {
            let mut stems = BTreeSet::new();
            for e in std::fs::read_dir(root().join("examples")).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|e| e == "yaml") {
                    let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                    stems.insert(format!("example-{stem}"));
                }
            }
            stems
        }
        _ => BTreeSet::new(),
    }
}

/// Why the snapshot file `file` (a name in tests/offline/snapshots/) has no test, if so.
fn orphan_reason(file: &str, text: &str, walked: &BTreeSet<String>) -> Option<String> {
    let Some(rest) = file
        .strip_prefix("offline__")
        .and_then(|s| s.strip_suffix(".snap"))
    else {
        return Some("not named offline__<module>__<name>.snap".into());
    };
    let Some((module, name)) = rest.split_once("__") else {
        return Some("no module in the name".into());
    };
    let Ok(source) = std::fs::read_to_string(root().join(format!("tests/offline/{module}.rs")))
    else {
        return Some(format!("no module tests/offline/{module}.rs"));
    };
    // insta::glob! snapshots: `<test fn>@<input>`, with the input recorded in the header
    if let Some((test_fn, _)) = name.split_once('@') {
        let input = text
            .lines()
            .find_map(|l| l.strip_prefix("input_file: "))
            .map(str::trim);
        return match input {
            Some(input) if walked.contains(input) && source.contains(&format!("fn {test_fn}(")) => {
                None
            }
            _ => Some(format!(
                "glob snapshot of {input:?} that {module}::{test_fn} no longer visits"
            )),
        };
    }
    if source.contains(&format!("\"{name}\"")) || computed_snapshot_names(module).contains(name) {
        return None;
    }
    Some(format!(
        "no test in {module} asserts a snapshot named {name}"
    ))
}

#[test]
fn every_snapshot_belongs_to_a_test() {
    let walked = walked();
    let dir = root().join("tests/offline/snapshots");
    let mut orphans = Vec::new();
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        seen += 1;
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        if let Some(why) = orphan_reason(&file, &text, &walked) {
            orphans.push(format!("{file}: {why}"));
        }
    }
    assert!(seen > 100, "only {seen} snapshots in {}", dir.display());
    assert!(
        orphans.is_empty(),
        "snapshots no test asserts (delete them):\n  {}",
        orphans.join("\n  ")
    );
}

/// Scenarios share desired state and facts through `_shared/` (see plan_scenarios): a
/// byte-identical copy in a scenario directory means that sharing was bypassed.
#[test]
fn no_plan_input_is_a_byte_identical_copy() {
    let mut files = BTreeSet::new();
    files_under(&root().join("testdata/plan"), &mut files);
    let mut by_content: BTreeMap<Vec<u8>, Vec<String>> = BTreeMap::new();
    for f in files
        .into_iter()
        .filter(|f| f.ends_with("desired.json") || f.ends_with("facts.json"))
    {
        let bytes = std::fs::read(root().join(&f)).unwrap();
        by_content.entry(bytes).or_default().push(f);
    }
    let copies: Vec<String> = by_content
        .into_values()
        .filter(|fs| fs.len() > 1)
        .map(|fs| fs.join(" = "))
        .collect();
    assert!(
        copies.is_empty(),
        "identical plan inputs: move one copy to testdata/plan/_shared/<name>.<kind>.json \
         and name it in <kind>.from:\n  {}",
        copies.join("\n  ")
    );
}
