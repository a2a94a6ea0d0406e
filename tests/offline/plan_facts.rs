//! Review finding #8: a failed or missing probe section means "unknown", never "nothing
//! there". Each test starts from a shared scenario, makes one section fail the way a node
//! would report it (`section_errors`, the fields it feeds left empty), and checks that
//! the decisions needing it become `facts_incomplete` blockers instead of commands.

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{Plan, PlanOptions, plan};
use serde_json::{Value, json};

const BLANK: &str = include_str!("../../testdata/plan/_shared/gfs3-blank.facts.json");
const CONVERGED: &str = include_str!("../../testdata/plan/_shared/gfs3-converged.facts.json");
const GFS: &str = include_str!("../../testdata/plan/_shared/gfs3-volume-gfs.desired.json");
const NO_VOLUMES: &str = include_str!("../../testdata/plan/_shared/gfs3-no-volumes.desired.json");

fn value(text: &str) -> Value {
    serde_json::from_str(text).expect("json")
}

fn run(desired: &Value, facts: &Value, opts: PlanOptions) -> Plan {
    let d: Desired = serde_json::from_value(desired.clone()).expect("desired");
    let o: Observed = serde_json::from_value(facts.clone()).expect("facts");
    plan(&d, &o, &opts)
}

fn argvs(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .chain(&p.blocked_steps)
        .flat_map(|s| s.commands.iter().map(|c| c.join(" ")))
        .collect()
}

/// The plan has a runnable or blocked command containing `needle`.
fn has_argv(p: &Plan, needle: &str) -> bool {
    argvs(p).iter().any(|a| a.contains(needle))
}

fn incomplete_at(p: &Plan, address: &str) -> bool {
    p.blockers
        .iter()
        .any(|b| b.code.to_string() == "facts_incomplete" && b.address.to_string() == address)
}

fn fail_section(facts: &mut Value, node: &str, section: &str) {
    facts["nodes"][node]["section_errors"][section] =
        format!("rc=1: {section} failed on the node").into();
}

#[test]
fn finding_8_failed_wipefs_means_no_pvcreate() {
    let desired = value(GFS);
    let mut facts = value(BLANK);
    // the baseline prepares the blank disk
    assert!(has_argv(
        &run(&desired, &facts, crate::cli_opts()),
        "pvcreate"
    ));
    // wipefs failed on gfs1 (and udev left lsblk's FSTYPE empty): /dev/sdb looks blank
    fail_section(&mut facts, "gfs1", "wipefs:/dev/sdb");
    facts["nodes"]["gfs1"]["signatures"]["/dev/sdb"] = json!([]);
    let p = run(&desired, &facts, crate::cli_opts());
    let gfs1: Vec<_> = p
        .steps
        .iter()
        .chain(&p.blocked_steps)
        .filter(|s| s.node == "gfs1" && s.commands.iter().any(|c| c[0] == "pvcreate"))
        .collect();
    assert!(gfs1.is_empty(), "{gfs1:?}");
    assert!(
        incomplete_at(&p, "device.gfs1:/dev/sdb"),
        "{:?}",
        p.blockers
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("wipefs:/dev/sdb")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn finding_8_missing_wipefs_result_means_no_pvcreate() {
    let desired = value(GFS);
    let mut facts = value(BLANK);
    facts["nodes"]["gfs2"]["signatures"] = json!({});
    let p = run(&desired, &facts, crate::cli_opts());
    assert!(
        incomplete_at(&p, "device.gfs2:/dev/sdb"),
        "{:?}",
        p.blockers
    );
    assert!(
        !p.steps
            .iter()
            .chain(&p.blocked_steps)
            .any(|s| s.node == "gfs2" && s.commands.iter().any(|c| c[0] == "pvcreate"))
    );
}

#[test]
fn finding_8_failed_vgs_means_no_wipe_of_an_active_pv() {
    let mut desired = value(GFS);
    for n in ["gfs1", "gfs2", "gfs3"] {
        desired["nodes"][n]["devices"][0]["wipe"] = true.into();
    }
    let mut facts = value(BLANK);
    // /dev/sdb is a PV of a VG, but vgs failed: it looks like "a PV without VG"
    facts["nodes"]["gfs1"]["pvs"] = json!([{
        "name": "/dev/sdb", "vg": "datavg", "size": 107374182400u64,
        "free": 0, "tags": []
    }]);
    facts["nodes"]["gfs1"]["vgs"] = json!([]);
    fail_section(&mut facts, "gfs1", "vgs");
    let opts = PlanOptions {
        allow_wipe: true,
        ..crate::cli_opts()
    };
    let p = run(&desired, &facts, opts);
    assert!(!has_argv(&p, "wipefs -a"), "{:?}", argvs(&p));
    assert!(
        incomplete_at(&p, "device.gfs1:/dev/sdb"),
        "{:?}",
        p.blockers
    );
}

#[test]
fn finding_8_failed_volume_info_means_no_volume_create_or_delete() {
    // a configured volume the failed volume info hides is not created again
    let desired = value(GFS);
    let mut facts = value(CONVERGED);
    for n in ["gfs1", "gfs2", "gfs3"] {
        facts["nodes"][n]["volumes"] = json!([]);
        fail_section(&mut facts, n, "volume_info");
    }
    let p = run(&desired, &facts, crate::cli_opts());
    assert!(!has_argv(&p, "volume create"), "{:?}", argvs(&p));
    assert!(incomplete_at(&p, "volume.gfs"), "{:?}", p.blockers);

    // a volume the config dropped is not deleted while one pool node cannot list volumes
    let desired = value(NO_VOLUMES);
    let mut facts = value(CONVERGED);
    fail_section(&mut facts, "gfs2", "volume_info");
    facts["nodes"]["gfs2"]["volumes"] = json!([]);
    let opts = PlanOptions {
        allow_destroy: true,
        ..crate::cli_opts()
    };
    let baseline = run(&desired, &value(CONVERGED), opts.clone());
    assert!(
        has_argv(&baseline, "volume delete"),
        "{:?}",
        argvs(&baseline)
    );
    let p = run(&desired, &facts, opts);
    assert!(!has_argv(&p, "volume delete"), "{:?}", argvs(&p));
    assert!(!has_argv(&p, "rm -rf"), "{:?}", argvs(&p));
}

#[test]
fn finding_8_failed_findmnt_holds_back_the_bricks_on_that_node() {
    // findmnt failed on gfs3: its brick mounts are unknown, so nothing touches volume gfs
    let desired = value(GFS);
    let mut facts = value(CONVERGED);
    fail_section(&mut facts, "gfs3", "findmnt");
    facts["nodes"]["gfs3"]["mounts"] = json!([]);
    let p = run(&desired, &facts, crate::cli_opts());
    // the empty mount list would read as "every brick of gfs3 lost its mount"
    let runnable_mounts: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.commands.iter().any(|c| c[0] == "mount"))
        .collect();
    assert!(runnable_mounts.is_empty(), "{runnable_mounts:?}");
    assert!(incomplete_at(&p, "volume.gfs"), "{:?}", p.blockers);
    assert!(
        incomplete_at(&p, "device.gfs3:/dev/sdb"),
        "{:?}",
        p.blockers
    );
}

#[test]
fn finding_8_failed_pool_list_means_no_peer_probe() {
    let desired = value(GFS);
    let mut facts = value(CONVERGED);
    for n in ["gfs1", "gfs2", "gfs3"] {
        fail_section(&mut facts, n, "pool_list");
        facts["nodes"][n]["peers"] = json!([]);
    }
    let p = run(&desired, &facts, crate::cli_opts());
    assert!(
        !p.steps.iter().any(|s| s
            .commands
            .iter()
            .any(|c| c.join(" ").contains("peer probe"))),
        "{:?}",
        p.steps
    );
    assert!(incomplete_at(&p, "peer.gfs2"), "{:?}", p.blockers);
}
