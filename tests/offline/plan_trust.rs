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
    let d: Desired = serde_json::from_value(desired).expect("desired");
    let o: Observed = serde_json::from_value(facts).expect("facts");
    plan(&d, &o, &PlanOptions::default())
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
                v["effective_options"][key] = value.into();
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
    assert!(
        !argvs(&p).iter().any(|a| a.contains("--xml")),
        "{:?}",
        argvs(&p)
    );
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
            .any(|a| a.ends_with("volume set gfs storage.owner-uid -1"))
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
