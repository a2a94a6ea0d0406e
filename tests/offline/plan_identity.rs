//! Finding #11 (trust-review.md): the cluster name was the only ownership key, so two
//! deployments both called `prod` took each other's nodes, VGs and volumes for their own.
//! Now every node records `<cluster> <id>` and the planner refuses a node recording
//! another identity. Each test starts from a shared scenario (testdata/plan/_shared/)
//! and changes the nodes' records, the config's pin or the CLI's fresh id.

use std::collections::BTreeSet;
use std::process::Command;

use brickyard::config::{self, Desired, Format, codes};
use brickyard::gather::Observed;
use brickyard::gather::parse::sections::RECORDED_MARKER;
use brickyard::gather::parse::{cluster_id, parse_probe};
use brickyard::plan::{Plan, PlanOptions, Step, plan, simulate};
use brickyard::render::plan::human;
use serde_json::Value;

const CONVERGED: &str = include_str!("../../testdata/plan/_shared/gfs3-converged.facts.json");
const BLANK: &str = include_str!("../../testdata/plan/_shared/gfs3-blank.facts.json");
const GFS: &str = include_str!("../../testdata/plan/_shared/gfs3-volume-gfs.desired.json");
const NO_VOLUMES: &str = include_str!("../../testdata/plan/_shared/gfs3-no-volumes.desired.json");

/// The other deployment's id, ours, and the CLI's fresh one.
const X: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const Y: &str = "fedcba98765432100123456789abcdef";
const N: &str = "3f2a9c0d5e6b47a8b1c2d3e4f5a6b7c8";

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("shared fixture is JSON")
}

fn run(desired: &Value, facts: &Value, opts: &PlanOptions) -> Plan {
    let d: Desired = serde_json::from_value(desired.clone()).expect("desired");
    let o: Observed = serde_json::from_value(facts.clone()).expect("facts");
    plan(&d, &o, opts)
}

fn with_new_id(id: &str) -> PlanOptions {
    PlanOptions {
        new_cluster_id: Some(id.to_string()),
        ..PlanOptions::default()
    }
}

/// Node `node` records `<name> <id>`.
fn records(facts: &mut Value, node: &str, name: &str, id: &str) {
    facts["nodes"][node]["cluster_id"] = serde_json::json!([name, id]);
}

fn pin(desired: &mut Value, id: &str) {
    desired["cluster_id"] = id.into();
}

fn codes_of(p: &Plan) -> Vec<String> {
    p.blockers.iter().map(|b| b.code.to_string()).collect()
}

fn nodes_of(steps: &[Step]) -> BTreeSet<&str> {
    steps.iter().map(|s| s.node.as_str()).collect()
}

fn record_steps(p: &Plan) -> Vec<&Step> {
    p.steps
        .iter()
        .filter(|s| s.id.ends_with("/cluster-id"))
        .collect()
}

/// Every command line of the runnable steps, joined.
fn runnable_argv(p: &Plan) -> String {
    p.steps
        .iter()
        .flat_map(|s| s.commands.iter().map(|c| c.join(" ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Two deployments named `prod`: this config pins Y, gfs2 records the other's X. gfs2 is
/// refused (a `cluster_id_mismatch` naming both ids) and nothing runs on it or puts a
/// brick on it; the other two nodes get the pin recorded.
#[test]
fn finding_11_pinned_id_refuses_a_node_of_another_deployment() {
    let mut d = json(GFS);
    pin(&mut d, Y);
    let mut f = json(BLANK);
    records(&mut f, "gfs2", "prod", X);
    let p = run(&d, &f, &with_new_id(N));

    let b = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "cluster_id_mismatch")
        .unwrap_or_else(|| panic!("{:?}", codes_of(&p)));
    assert_eq!(b.address.to_string(), "node.gfs2");
    assert!(
        b.message.contains(X) && b.message.contains(Y),
        "{}",
        b.message
    );
    assert!(!nodes_of(&p.steps).contains("gfs2"), "{:?}", p.steps);
    assert!(!p.placements.iter().any(|pl| pl.node == "gfs2"));
    let storage = d["nodes"]["gfs2"]["storage"].as_str().unwrap_or("gfs2");
    assert!(
        !runnable_argv(&p).contains(&format!("{storage}:")),
        "no brick on gfs2: {}",
        runnable_argv(&p)
    );
    let recorded: BTreeSet<&str> = record_steps(&p).iter().map(|s| s.node.as_str()).collect();
    assert_eq!(recorded, BTreeSet::from(["gfs1", "gfs3"]));
    assert!(
        record_steps(&p)
            .iter()
            .all(|s| s.commands[0].contains(&Y.to_string()))
    );
    let id = p.cluster_id.as_ref().expect("identity");
    assert_eq!((id.id.as_str(), id.pinned, id.new), (Y, true, false));
    let text = human(&p, false);
    assert!(
        text.starts_with(&format!(
            "cluster prod (id {}…, pinned in the config)",
            &Y[..8]
        )),
        "{text}"
    );
}

/// The review's case: the other deployment's volume `gfs` (marked `prod`) on nodes this
/// config also declares, and this config drops it. With `--allow-destroy` it used to be
/// deleted; now every node records the other deployment's id, so nothing is deleted.
#[test]
fn finding_11_another_deployments_volume_is_not_deleted() {
    let mut d = json(NO_VOLUMES);
    pin(&mut d, Y);
    let mut f = json(CONVERGED);
    for n in ["gfs1", "gfs2", "gfs3"] {
        records(&mut f, n, "prod", X);
    }
    let opts = PlanOptions {
        allow_destroy: true,
        ..with_new_id(N)
    };
    let p = run(&d, &f, &opts);
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    assert_eq!(
        codes_of(&p)
            .iter()
            .filter(|c| *c == "cluster_id_mismatch")
            .count(),
        3,
        "{:?}",
        codes_of(&p)
    );
    // without the records the same inputs delete it (what the finding describes)
    let before = run(&d, &json(CONVERGED), &opts);
    assert!(
        runnable_argv(&before).contains("volume delete gfs"),
        "{}",
        runnable_argv(&before)
    );
}

/// Not pinned, one node of three records X, the others nothing, and the nodes hold
/// volumes and VGs marked `prod`: maybe a second deployment sharing that node, maybe new
/// nodes of this one. Nothing is planned until the config pins the id, and the help
/// names the exact line.
#[test]
fn finding_11_unpinned_id_on_some_nodes_needs_the_pin() {
    let d = json(GFS);
    let mut f = json(CONVERGED);
    records(&mut f, "gfs1", "prod", X);
    let p = run(&d, &f, &with_new_id(N));
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "cluster_id_unpinned")
        .unwrap_or_else(|| panic!("{:?}", codes_of(&p)));
    assert_eq!(b.address.to_string(), "cluster");
    let help = b.help.as_deref().unwrap_or_default();
    assert!(help.contains(&format!("`cluster_id: {X}`")), "{help}");
    assert!(b.message.contains("gfs1"), "{}", b.message);
    assert!(p.steps.is_empty(), "nothing runs: {:?}", p.steps);
    assert!(p.cluster_id.is_none());
    assert!(!runnable_argv(&p).contains(N));

    // with the pin, the two other nodes get it recorded and the cluster is built
    let mut pinned = d.clone();
    pin(&mut pinned, X);
    let p = run(&pinned, &f, &with_new_id(N));
    assert!(!codes_of(&p).iter().any(|c| c.starts_with("cluster_id")));
    let recorded: BTreeSet<&str> = record_steps(&p).iter().map(|s| s.node.as_str()).collect();
    assert_eq!(recorded, BTreeSet::from(["gfs2", "gfs3"]));
}

/// A first apply killed between its record steps: gfs1 records X, the others nothing,
/// and nothing anywhere is marked `prod` (every other step waited for all records). The
/// next plan finishes the job: X, not the new id N, is recorded on gfs2 and gfs3, and
/// the cluster is built after them. A marked object anywhere makes it the pin case above.
#[test]
fn finding_11_a_first_apply_killed_between_records_is_finished() {
    let d = json(GFS);
    let mut f = json(BLANK);
    records(&mut f, "gfs1", "prod", X);
    let p = run(&d, &f, &with_new_id(N));
    assert!(
        !codes_of(&p).iter().any(|c| c.starts_with("cluster_id")),
        "{:?}",
        codes_of(&p)
    );
    let recorded: BTreeSet<&str> = record_steps(&p).iter().map(|s| s.node.as_str()).collect();
    assert_eq!(recorded, BTreeSet::from(["gfs2", "gfs3"]));
    assert!(runnable_argv(&p).contains(X) && !runnable_argv(&p).contains(N));
    let id = p.cluster_id.as_ref().expect("identity");
    assert_eq!((id.id.as_str(), id.new), (X, false));
    // every other step waits for both records, not only its own node's
    for s in p.steps.iter().filter(|s| !s.id.ends_with("/cluster-id")) {
        for rec in ["node.gfs2/cluster-id", "node.gfs3/cluster-id"] {
            assert!(
                s.depends_on.iter().any(|d| d == rec),
                "{} waits for {rec}",
                s.id
            );
        }
    }
}

/// A fresh cluster: no node records anything, the CLI made id N. The first steps record
/// it on every node, every other step on a node waits for that node's record, and the
/// plan's header says the id is new and how to pin it. Applying it converges: the next
/// plan (with another fresh id) records nothing and keeps N.
#[test]
fn finding_11_fresh_cluster_records_the_new_id_on_every_node() {
    let d = json(GFS);
    let f = json(BLANK);
    let p = run(&d, &f, &with_new_id(N));
    let first: Vec<&str> = p.steps.iter().take(3).map(|s| s.id.as_str()).collect();
    assert_eq!(
        first,
        [
            "node.gfs1/cluster-id",
            "node.gfs2/cluster-id",
            "node.gfs3/cluster-id"
        ]
    );
    for s in &p.steps[3..] {
        for n in ["gfs1", "gfs2", "gfs3"] {
            let rec = format!("node.{n}/cluster-id");
            assert!(s.depends_on.contains(&rec), "{} waits for {rec}", s.id);
        }
    }
    let id = p.cluster_id.as_ref().expect("identity");
    assert_eq!((id.id.as_str(), id.new, id.pinned), (N, true, false));
    let text = human(&p, false);
    assert!(
        text.starts_with(&format!(
            "cluster prod (id {}…, new: pin it with `cluster_id: {N}`)",
            &N[..8]
        )),
        "{text}"
    );
    assert!(text.contains(&format!("record cluster identity prod/{N} on gfs2")));

    let after: Observed = simulate::apply(&p, &serde_json::from_value(f.clone()).expect("facts"));
    let again = plan(
        &serde_json::from_value(d.clone()).expect("desired"),
        &after,
        &with_new_id(X),
    );
    assert!(record_steps(&again).is_empty(), "{:?}", again.steps);
    assert_eq!(again.cluster_id.as_ref().map(|c| c.id.as_str()), Some(N));
}

/// Without a fresh id (the library default) and without records nothing changes: the
/// scenario snapshots stay as they were.
#[test]
fn finding_11_no_identity_requested_plans_as_before() {
    let p = run(&json(GFS), &json(BLANK), &PlanOptions::default());
    assert!(record_steps(&p).is_empty());
    assert!(p.cluster_id.is_none());
    assert!(!human(&p, false).contains("(id "));
}

/// Every node records (prod, X) and the config pins nothing: X is our id, no record
/// step, a warning asks to pin it, and the plan is otherwise the one without identity.
#[test]
fn finding_11_all_nodes_recording_the_id_only_warn_to_pin_it() {
    let d = json(GFS);
    let mut f = json(CONVERGED);
    for n in ["gfs1", "gfs2", "gfs3"] {
        records(&mut f, n, "prod", X);
    }
    let p = run(&d, &f, &with_new_id(N));
    let plain = run(&d, &json(CONVERGED), &PlanOptions::default());
    assert!(record_steps(&p).is_empty());
    assert_eq!(p.steps, plain.steps);
    assert_eq!(p.blockers, plain.blockers);
    assert_eq!(p.placements, plain.placements);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains(&format!("`cluster_id: {X}`"))),
        "{:?}",
        p.warnings
    );
    let id = p.cluster_id.as_ref().expect("identity");
    assert_eq!((id.id.as_str(), id.new, id.pinned), (X, false, false));
    assert!(human(&p, false).contains("not pinned: pin it with `cluster_id: "));
}

/// Another cluster's name, or two ids among our nodes, refuse them (not pinned).
#[test]
fn finding_11_another_name_or_two_ids_are_a_mismatch() {
    let d = json(GFS);
    let mut f = json(CONVERGED);
    records(&mut f, "gfs1", "prod", X);
    records(&mut f, "gfs2", "prod", X);
    records(&mut f, "gfs3", "staging", X);
    let p = run(&d, &f, &with_new_id(N));
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "cluster_id_mismatch")
        .unwrap_or_else(|| panic!("{:?}", codes_of(&p)));
    assert_eq!(b.address.to_string(), "node.gfs3");
    assert!(!nodes_of(&p.steps).contains("gfs3"));

    records(&mut f, "gfs3", "prod", Y);
    let p = run(&d, &f, &with_new_id(N));
    let mismatched: Vec<String> = p
        .blockers
        .iter()
        .filter(|b| b.code.to_string() == "cluster_id_mismatch")
        .map(|b| b.address.to_string())
        .collect();
    assert_eq!(mismatched, ["node.gfs1", "node.gfs2", "node.gfs3"]);
    assert!(p.steps.is_empty(), "{:?}", p.steps);
}

/// The probe's `cluster_id` section: garbage is a section error (never "no record"), and
/// the planner then refuses the node as unreadable instead of recording over it.
#[test]
fn finding_11_malformed_record_is_a_section_error() {
    let probe = |body: &str| {
        format!(
            "@@brickyard@@ probe 1\n@@brickyard@@ begin cluster_id\n{body}\n@@brickyard@@ stderr cluster_id\n@@brickyard@@ end cluster_id rc=0\n@@brickyard@@ done\n"
        )
    };
    let good = parse_probe(&probe(&cluster_id::line("prod", X)), RECORDED_MARKER).expect("probe");
    assert_eq!(good.cluster_id, Some(("prod".to_string(), X.to_string())));
    assert!(!good.section_errors.contains_key("cluster_id"));
    let none = parse_probe(&probe(""), RECORDED_MARKER).expect("probe");
    assert_eq!(none.cluster_id, None);
    assert!(!none.section_errors.contains_key("cluster_id"));
    for bad in [
        format!("prod {X}\nstaging {Y}\n"),
        format!("prod {}\n", X.to_uppercase()),
        "prod\n".to_string(),
        format!("prod; rm -rf / {X}\n"),
    ] {
        let f = parse_probe(&probe(&bad), RECORDED_MARKER).expect("probe");
        assert_eq!(f.cluster_id, None, "{bad:?}");
        assert!(f.section_errors.contains_key("cluster_id"), "{bad:?}");
    }

    let mut f = json(BLANK);
    f["nodes"]["gfs2"]["section_errors"]["cluster_id"] =
        "/var/lib/brickyard/cluster-id has more than one line".into();
    let p = run(&json(GFS), &f, &with_new_id(N));
    assert!(
        p.blockers
            .iter()
            .any(|b| b.code.to_string() == "cluster_id_unreadable"
                && b.address.to_string() == "node.gfs2"),
        "{:?}",
        codes_of(&p)
    );
    assert!(!nodes_of(&p.steps).contains("gfs2"));
    // one node's identity is unknown: no id is made up for the others either
    assert!(record_steps(&p).is_empty());
    assert!(p.cluster_id.is_none());
}

/// The record step itself, run by a real `sh` on a scratch file: it writes exactly the
/// line the parser reads, its guard then holds, running it again changes nothing, and a
/// record of another identity is never overwritten (the step fails instead).
#[test]
fn finding_11_record_step_writes_once_and_never_overwrites() {
    let p = run(&json(GFS), &json(BLANK), &with_new_id(N));
    let step = record_steps(&p)[0].clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sub/cluster-id");
    let file = file.to_str().expect("utf-8 path");
    let local = |argv: &[String]| {
        assert_eq!(argv[..2], ["sh", "-c"]);
        assert_eq!(argv[4], cluster_id::FILE, "the file is a positional value");
        let mut argv = argv.to_vec();
        argv[4] = file.to_string();
        Command::new(&argv[0])
            .args(&argv[1..])
            .status()
            .expect("sh runs")
            .success()
    };
    assert!(!local(&step.guard.argv), "not done yet");
    assert!(local(&step.commands[0]));
    assert_eq!(
        std::fs::read_to_string(file).expect("written"),
        cluster_id::line("prod", N)
    );
    assert!(local(&step.guard.argv), "guard holds after the step");
    assert!(local(&step.commands[0]), "running it again is fine");
    let leftovers = std::fs::read_dir(dir.path().join("sub"))
        .expect("dir")
        .count();
    assert_eq!(leftovers, 1, "no temp file left behind");

    let other = cluster_id::line("prod", X);
    std::fs::write(file, &other).expect("write");
    assert!(!local(&step.commands[0]), "another record is not replaced");
    assert_eq!(std::fs::read_to_string(file).expect("read"), other);
    assert!(!local(&step.guard.argv));
}

/// `cluster_id` in the config: YAML and HCL give the same model, a `.json` Desired
/// carrying it round-trips, and anything but 32 lowercase hex digits is refused with
/// a span on the value.
#[test]
fn finding_11_config_pins_the_cluster_id() {
    let yaml = format!(
        "cluster: prod\ncluster_id: {Y}\nnodes:\n  gfs1: {{ manage: 10.0.0.1, paths: [/bricks/a] }}\n"
    );
    let hcl = format!(
        "cluster = \"prod\"\ncluster_id = \"{Y}\"\nnode \"gfs1\" {{\n  manage = \"10.0.0.1\"\n  paths = [\"/bricks/a\"]\n}}\n"
    );
    let a = config::parse_str("t.yaml", &yaml, Format::Yaml)
        .desired
        .expect("valid yaml");
    let b = config::parse_str("t.hcl", &hcl, Format::Hcl)
        .desired
        .expect("valid hcl");
    assert_eq!(a.cluster_id.as_deref(), Some(Y));
    assert_eq!(a, b);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("desired.json");
    std::fs::write(&path, serde_json::to_string(&a).expect("json")).expect("write");
    let back = config::load(&path).expect("loads").desired.expect("valid");
    assert_eq!(back, a);
    // a Desired file without the field (every fixture so far) still loads
    let old: Desired = serde_json::from_str(GFS).expect("old desired");
    assert_eq!(old.cluster_id, None);

    for bad in [
        Y.to_uppercase(),
        Y[..31].to_string(),
        format!("{Y}0"),
        "3f2a-9c0d".to_string(),
        format!("g{}", &Y[1..]),
    ] {
        let text = format!(
            "cluster: prod\ncluster_id: \"{bad}\"\nnodes:\n  gfs1: {{ manage: 10.0.0.1, paths: [/bricks/a] }}\n"
        );
        let l = config::parse_str("t.yaml", &text, Format::Yaml);
        let d = l
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .unwrap_or_else(|| panic!("{bad} accepted"));
        assert_eq!(d.code, codes::INVALID_VALUE, "{bad}");
        let span = d.labels[0].span;
        assert!(
            text[span.start..span.end].contains(bad.as_str()),
            "{bad}: {span:?}"
        );
    }
    // digits-only ids read as YAML numbers; the text as written is still the id
    for digits in [
        "12345678901234567890123456789012",
        "00000000000000000000000000001e10",
    ] {
        let text = format!(
            "cluster: prod\ncluster_id: {digits}\nnodes:\n  gfs1: {{ manage: 10.0.0.1, paths: [/bricks/a] }}\n"
        );
        let l = config::parse_str("t.yaml", &text, Format::Yaml);
        assert_eq!(
            l.desired.and_then(|d| d.cluster_id).as_deref(),
            Some(digits),
            "{:?}",
            l.diagnostics
        );
    }
    let upper = format!(
        "cluster: prod\ncluster_id: {}\nnodes:\n  gfs1: {{ manage: 10.0.0.1, paths: [/bricks/a] }}\n",
        Y.to_uppercase()
    );
    let l = config::parse_str("t.yaml", &upper, Format::Yaml);
    assert!(
        l.diagnostics
            .iter()
            .any(|d| d.help.as_deref().is_some_and(|h| h.contains(Y))),
        "the help gives the lowercase spelling"
    );
}

/// `text` with every cluster id (a run of exactly 32 lowercase hex digits, or the 8 of
/// the header's `3f2a9c0d…`) replaced by `<id>`: the CLI makes a fresh random id for each plan of a cluster that records none,
/// so two CLI runs agree on everything but that.
pub(crate) fn redact_cluster_ids(text: &str) -> String {
    let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| hex(**c)).count();
        let bounded = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let after = chars
            .get(i + run)
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let short = run == 8 && chars.get(i + run) == Some(&'…');
        if bounded && (short || (run == 32 && after)) {
            out.push_str("<id>");
            i += run;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn redaction_replaces_ids_only() {
    assert_eq!(
        redact_cluster_ids(&format!("id {N}, `cluster_id: {N}` {}…", &N[..8])),
        "id <id>, `cluster_id: <id>` <id>…"
    );
    let sha = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
    assert_eq!(redact_cluster_ids(sha), sha);
}
