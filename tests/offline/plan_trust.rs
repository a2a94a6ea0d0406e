//! The planner's trust boundary (issue "Trust boundary", review findings #6, #7, #14):
//! crafted config and node data that once produced dangerous command lines, wrapped
//! numbers or panics must now come back as blockers. Each test starts from a shared
//! scenario (converged three-node cluster, volume `gfs`) and changes one thing.

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{Plan, PlanOptions, plan};
use serde_json::Value;

const FACTS: &str = include_str!("../../testdata/plan/_shared/gfs3-converged.facts.json");
const DESIRED: &str = include_str!("../../testdata/plan/_shared/gfs3-volume-gfs.desired.json");

fn run(desired: Value, facts: Value) -> Plan {
    run_with(desired, facts, &PlanOptions::default())
}

fn run_with(desired: Value, facts: Value, opts: &PlanOptions) -> Plan {
    let d: Desired = serde_json::from_value(desired).expect("desired");
    let o: Observed = serde_json::from_value(facts).expect("facts");
    plan(&d, &o, opts)
}

fn base() -> (Value, Value) {
    (
        serde_json::from_str(DESIRED).expect("desired json"),
        serde_json::from_str(FACTS).expect("facts json"),
    )
}

/// Set a volume option of `gfs` as every node reports it.
fn set_recorded(facts: &mut Value, key: &str, value: &str) {
    for node in facts["nodes"].as_object_mut().expect("nodes").values_mut() {
        for v in node["volumes"].as_array_mut().into_iter().flatten() {
            if v["name"] == "gfs" {
                v["options"][key] = value.into();
            }
        }
    }
}

fn argvs(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .chain(&p.blocked_steps)
        .flat_map(|s| s.commands.iter().map(|c| c.join(" ")))
        .collect()
}

/// No command of the plan (runnable or blocked) contains `needle`.
fn no_argv(p: &Plan, needle: &str) {
    let all = argvs(p);
    assert!(!all.iter().any(|a| a.contains(needle)), "{needle}: {all:?}");
}

fn has_code(p: &Plan, code: &str) {
    assert!(codes(p).iter().any(|c| c == code), "{code}: {:?}", codes(p));
}

fn codes(p: &Plan) -> Vec<String> {
    p.blockers.iter().map(|b| b.code.to_string()).collect()
}

/// Finding #6: a config option value `--log-file=...` became gluster's own option.
#[test]
fn finding_6_option_value_starting_with_dashes_is_refused() {
    let (mut d, f) = base();
    d["volumes"]["gfs"]["options"]["performance.cache-size"] =
        "--log-file=/etc/sudoers.d/zz".into();
    d["volumes"]["gfs"]["options"]["nfs.disable"] = "--remote-host=198.51.100.7".into();
    let p = run(d, f);
    assert!(
        !argvs(&p)
            .iter()
            .any(|a| a.contains("--log-file") || a.contains("--remote-host")),
        "{:?}",
        argvs(&p)
    );
    let unsafe_blockers: Vec<_> = p
        .blockers
        .iter()
        .filter(|b| b.code.to_string() == "unsafe_value")
        .collect();
    assert_eq!(unsafe_blockers.len(), 2, "{:?}", codes(&p));
    assert!(unsafe_blockers.iter().all(|b| b.message.contains("gfs")));
    assert!(
        unsafe_blockers
            .iter()
            .any(|b| b.message.contains("performance.cache-size"))
    );
    assert!(
        unsafe_blockers
            .iter()
            .any(|b| b.message.contains("nfs.disable"))
    );
}

/// Finding #6: a config option key starting with `-` is refused too (JSON desired skips
/// config validation).
#[test]
fn finding_6_option_key_starting_with_dash_is_refused() {
    let (mut d, f) = base();
    d["volumes"]["gfs"]["options"]["--xml"] = "on".into();
    let p = run(d, f);
    no_argv(&p, "--xml");
    assert!(
        p.blockers
            .iter()
            .any(|b| b.code.to_string() == "unsafe_value" && b.message.contains("--xml"))
    );
}

/// A negative number is a plain value (`storage.owner-uid -1`) and still set.
#[test]
fn finding_6_negative_number_is_a_plain_value() {
    let (mut d, f) = base();
    d["volumes"]["gfs"]["options"]["storage.owner-uid"] = "-1".into();
    let p = run(d, f);
    assert!(
        !codes(&p).contains(&"unsafe_value".to_string()),
        "{:?}",
        codes(&p)
    );
    assert!(
        argvs(&p)
            .iter()
            .any(|a| a.starts_with("gluster --mode=script volume set gfs ")
                && a.contains(" storage.owner-uid -1 ")),
        "{:?}",
        argvs(&p)
    );
}

/// Finding #6: keys recorded on the node in `user.brickyard.options` were reset
/// verbatim: `volume reset gfs all`, `force`, `--glusterd-sock=...`.
#[test]
fn finding_6_recorded_keys_all_force_and_dashes_are_refused() {
    let (d, mut f) = base();
    set_recorded(
        &mut f,
        "user.brickyard.options",
        "all,force,--glusterd-sock=/run/evil.sock,auth.allow,performance.cache-size",
    );
    let p = run(d, f);
    let resets: Vec<_> = argvs(&p)
        .into_iter()
        .filter(|a| a.contains("volume reset"))
        .collect();
    for bad in ["reset gfs all", "reset gfs force", "--glusterd-sock"] {
        assert!(!resets.iter().any(|a| a.contains(bad)), "{bad}: {resets:?}");
    }
    let msgs: Vec<_> = p
        .blockers
        .iter()
        .filter(|b| b.code.to_string() == "unsafe_value")
        .map(|b| b.message.clone())
        .collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    for key in ["\"all\"", "\"force\"", "--glusterd-sock"] {
        assert!(
            msgs.iter().any(|m| m.contains(key) && m.contains("gfs")),
            "{key}: {msgs:?}"
        );
    }
}

const BLANK: &str = include_str!("../../testdata/plan/_shared/gfs3-blank.facts.json");

/// Finding #7: a 16 EiB volume with `brick_max_size` 16 EiB "fitted" on 90 GiB disks in
/// release arithmetic (the brick's need wrapped to 31.94 GiB) and panicked in debug.
#[test]
fn finding_7_a_16_eib_volume_does_not_fit_on_small_disks() {
    let (mut d, _) = base();
    d["volumes"]["gfs"]["size"] = u64::MAX.into();
    d["placement"]["brick_max_size"] = u64::MAX.into();
    let f: Value = serde_json::from_str(BLANK).expect("facts json");
    // blank disks need the cluster id (their PV UUID comes from it), as the CLI gives it
    let p = run_with(d, f, &crate::cli_opts());
    assert!(p.placements.is_empty(), "{:?}", p.placements);
    no_argv(&p, "volume create");
    has_code(&p, "capacity");
}

/// Finding #7: the recorded brick size is node data; `0` divided by zero, `1` asked for
/// 2^34 sets, others wrapped. Each is a `bad_recorded_size` blocker naming the volume.
#[test]
fn finding_7_absurd_recorded_brick_size_is_a_blocker() {
    for bad in [
        "0",
        "1",
        "abc",
        "-5",
        "18446744073709551615",
        "9223372036854775808",
    ] {
        let (mut d, mut f) = base();
        // ask for growth so the recorded size is used for arithmetic
        d["volumes"]["gfs"]["size"] = (20u64 << 30).into();
        set_recorded(&mut f, "user.brickyard.brick-size", bad);
        let p = run(d, f);
        let hit = p
            .blockers
            .iter()
            .find(|b| b.code.to_string() == "bad_recorded_size")
            .unwrap_or_else(|| panic!("{bad}: {:?}", codes(&p)));
        assert!(hit.message.contains("gfs"), "{}", hit.message);
        assert!(
            !argvs(&p).iter().any(|a| a.contains("add-brick")),
            "{bad}: {:?}",
            argvs(&p)
        );
    }
}

/// The recorded size of a healthy volume is still used to grow it.
#[test]
fn finding_7_a_sane_recorded_size_still_expands() {
    let (mut d, f) = base();
    d["volumes"]["gfs"]["size"] = (20u64 << 30).into();
    let p = run(d, f);
    assert!(
        !codes(&p).contains(&"bad_recorded_size".to_string()),
        "{:?}",
        codes(&p)
    );
    assert!(
        argvs(&p).iter().any(|a| a.contains("add-brick")),
        "{:?}",
        argvs(&p)
    );
}

/// Finding #7: VG numbers from the node whose product overflows 64 bits wrapped to a
/// small or bogus free size; now such a VG has nothing free.
#[test]
fn finding_7_vg_free_overflow_does_not_panic_or_wrap() {
    let (mut d, mut f) = base();
    d["volumes"]["gfs"]["size"] = (20u64 << 30).into();
    for node in f["nodes"].as_object_mut().expect("nodes").values_mut() {
        for vg in node["vgs"].as_array_mut().into_iter().flatten() {
            vg["free_count"] = (u64::MAX / 2).into();
            vg["extent_size"] = 4194304u64.into();
        }
    }
    let p = run(d, f);
    no_argv(&p, "add-brick");
    has_code(&p, "capacity");
}

/// Finding #14: `/dev/mapper/a_b` and `/dev/mapper_a/b` both become VG `by_mapper_a_b`;
/// the second vgcreate's guard passed on the name and both devices' bricks went to one VG.
#[test]
fn finding_14_two_devices_with_one_vg_name_are_refused() {
    let (mut d, _) = base();
    let dev = d["nodes"]["gfs1"]["devices"][0].clone();
    let mut a = dev.clone();
    a["path"] = "/dev/mapper/a_b".into();
    let mut b = dev;
    b["path"] = "/dev/mapper_a/b".into();
    d["nodes"]["gfs1"]["devices"] = Value::Array(vec![a, b]);
    let f: Value = serde_json::from_str(BLANK).expect("facts json");
    let p = run(d, f);
    let hits: Vec<_> = p
        .blockers
        .iter()
        .filter(|b| b.code.to_string() == "vg_name_conflict")
        .collect();
    assert_eq!(hits.len(), 2, "{:?}", codes(&p));
    assert!(hits.iter().all(|b| b.message.contains("by_mapper_a_b")));
    assert!(!vgcreate_on(&p, "gfs1"));
}

/// Finding #14: a VG that already carries the derived name but lives on another PV
/// (foreign, or a renamed disk) was reused because the vgcreate guard checks the name.
#[test]
fn finding_14_existing_vg_of_our_name_on_another_pv_is_refused() {
    let (d, converged) = base();
    let mut f: Value = serde_json::from_str(BLANK).expect("facts json");
    let mut pv = converged["nodes"]["gfs1"]["pvs"][0].clone();
    pv["name"] = "/dev/sdc".into();
    let mut vg = converged["nodes"]["gfs1"]["vgs"][0].clone();
    vg["tags"] = Value::Array(vec![]);
    assert_eq!(vg["name"], "by_sdb");
    f["nodes"]["gfs1"]["pvs"] = Value::Array(vec![pv]);
    f["nodes"]["gfs1"]["vgs"] = Value::Array(vec![vg]);
    let p = run(d, f);
    let hit = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "vg_name_conflict")
        .unwrap_or_else(|| panic!("{:?}", codes(&p)));
    assert!(
        hit.message.contains("by_sdb") && hit.message.contains("/dev/sdc"),
        "{}",
        hit.message
    );
    assert!(hit.address.to_string().contains("gfs1"), "{}", hit.address);
    assert!(!vgcreate_on(&p, "gfs1"));
}

/// Whether the plan (runnable or blocked) creates a VG on `node`.
fn vgcreate_on(p: &Plan, node: &str) -> bool {
    p.steps.iter().chain(&p.blocked_steps).any(|s| {
        s.node == node
            && s.commands
                .iter()
                .any(|c| c.first().is_some_and(|w| w == "vgcreate"))
    })
}

/// Finding #7: a desired state read from JSON skips validation; `replica: 0` and
/// `disperse data: 0` divided by zero in the planner. Planning must not panic.
#[test]
fn finding_7_zero_sized_sets_from_json_do_not_panic() {
    for durability in [
        serde_json::json!({"type": "replicate", "replica": 0, "arbiter": false}),
        serde_json::json!({"type": "disperse", "data": 0, "redundancy": 0}),
        serde_json::json!({"type": "disperse", "data": 200, "redundancy": 100}),
    ] {
        for facts in [FACTS, BLANK] {
            let (mut d, _) = base();
            d["volumes"]["gfs"]["durability"] = durability.clone();
            let f: Value = serde_json::from_str(facts).expect("facts json");
            let p = run(d, f);
            no_argv(&p, "volume create");
            has_code(&p, "unsafe_value");
        }
    }
}

/// Finding #7: brick limits of one byte make the set count of a 16 EiB volume u64::MAX;
/// the count of tries past it overflowed. The plan refuses, without a panic.
#[test]
fn finding_7_set_count_near_u64_max_does_not_overflow() {
    let (mut d, _) = base();
    d["volumes"]["gfs"]["size"] = u64::MAX.into();
    d["placement"]["brick_max_size"] = 1.into();
    d["placement"]["brick_min_size"] = 1.into();
    let f: Value = serde_json::from_str(BLANK).expect("facts json");
    let p = run(d, f);
    no_argv(&p, "volume create");
    assert!(p.placements.is_empty());
    assert!(!p.blockers.is_empty());
}

/// Finding #12, after gather: two declared nodes that are one machine (a DNS name and an
/// IP of one host, say: the config check cannot see that) report one glusterd UUID; all
/// replicas of a set would land on one machine, so neither node gets anything.
#[test]
fn finding_12_two_nodes_reporting_one_glusterd_uuid_are_blocked() {
    let (d, mut f) = base();
    let uuid = f["nodes"]["gfs1"]["glusterd_uuid"].clone();
    assert!(uuid.is_string(), "the shared facts carry UUIDs");
    f["nodes"]["gfs2"]["glusterd_uuid"] = uuid;
    let mut d2 = d.clone();
    d2["volumes"]["more"] = d["volumes"]["gfs"].clone();
    let p = run(d2, f);
    has_code(&p, "duplicate_node");
    let bl = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "duplicate_node")
        .expect("blocker");
    assert!(
        bl.message.contains("gfs1") && bl.message.contains("gfs2"),
        "{}",
        bl.message
    );
    // nothing is placed on either of them
    assert!(
        p.steps.iter().all(|s| s.node != "gfs1" && s.node != "gfs2"),
        "{:?}",
        p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
}
