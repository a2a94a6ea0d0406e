//! Decoding as a whole: documented defaults, value spellings, and that a name the
//! config accepts is never refused by the planner (both call [`crate::config::names`]).

use crate::config::model::*;
use crate::config::{Format, parse_str};
use crate::units::{GIB, TIB};

const MINIMAL: &str = "cluster: c\nnodes:\n  a: { manage: h1, paths: [/b/0] }\n  b: { manage: h2, zone: 2, paths: [/b/0] }\n  c: { manage: h3, zone: 3, paths: [/b/0] }\nvolumes:\n  v:\n    size: 1GiB\n    options: { a.on: true, a.off: false, a.num: 0.50, a.int: 0x10, a.text: \"256MB\" }\n";

#[test]
fn documented_defaults_apply() {
    let l = parse_str("m.yaml", MINIMAL, Format::Yaml);
    assert!(l.diagnostics.is_empty(), "{}", l.render(100, false));
    let d = l.desired.unwrap();
    assert_eq!(
        d.placement,
        Placement {
            zone_checking: ZoneChecking::Strict,
            brick_min_size: GIB,
            brick_max_size: 4 * TIB
        }
    );
    let a = &d.nodes["a"];
    assert_eq!((a.storage.as_str(), a.zone), ("h1", 1));
    assert_eq!(
        a.ssh,
        Ssh {
            user: "root".into(),
            port: 22,
            identity_file: None,
            known_hosts: KnownHosts::Strict,
            options: vec![],
            sudo: false,
            connect_timeout: 10
        }
    );
    let v = &d.volumes["v"];
    assert_eq!(
        v.durability,
        Durability::Replicate {
            replica: 3,
            arbiter: false
        }
    );
    assert_eq!(
        (v.snapshot_factor, v.protect, v.state, v.brick_kind),
        (1.0, false, VolumeState::Present, BrickKind::Directory)
    );
}

#[test]
fn option_values_keep_their_spelling_and_bools_become_on_off() {
    let d = parse_str("m.yaml", MINIMAL, Format::Yaml).desired.unwrap();
    let o = &d.volumes["v"].options;
    assert_eq!(o["a.on"], "on");
    assert_eq!(o["a.off"], "off");
    assert_eq!(o["a.num"], "0.50");
    assert_eq!(o["a.int"], "0x10");
    assert_eq!(o["a.text"], "256MB");
}

#[test]
fn replica_one_is_plain_distribute_with_a_warning() {
    let text = MINIMAL.replace(
        "size: 1GiB",
        "size: 1GiB\n    durability: { type: replicate, replica: 1 }",
    );
    let l = parse_str("m.yaml", &text, Format::Yaml);
    assert_eq!(l.warning_count(), 1);
    assert_eq!(l.desired.unwrap().volumes["v"].durability, Durability::None);
}

#[test]
fn zone_checking_none_accepts_one_zone() {
    let text = MINIMAL.replace("zone: 2, ", "").replace("zone: 3, ", "");
    assert!(parse_str("m.yaml", &text, Format::Yaml).has_errors());
    let text = text.replace(
        "cluster: c\n",
        "cluster: c\nplacement: { zone_checking: none }\n",
    );
    let l = parse_str("m.yaml", &text, Format::Yaml);
    assert!(!l.has_errors(), "{}", l.render(100, false));
}

#[test]
fn absent_volumes_skip_topology_checks() {
    let text = MINIMAL.replace(
        "size: 1GiB",
        "size: 1GiB\n    state: absent\n    durability: { type: disperse, data: 4, redundancy: 2 }",
    );
    let l = parse_str("m.yaml", &text, Format::Yaml);
    assert!(!l.has_errors(), "{}", l.render(100, false));
}

/// The planner's `invalid_name` blockers for a desired state, as `(address)`s. Read
/// from the JSON form so the test does not depend on how blocker codes are typed.
fn invalid_name_blockers(d: &Desired) -> Vec<String> {
    use crate::gather::{NodeFacts, NodeObservation, Observed};
    let nodes = d
        .nodes
        .keys()
        .map(|n| {
            let f = NodeFacts {
                hostname: n.clone(),
                ..NodeFacts::default()
            };
            (n.clone(), NodeObservation::Reachable(Box::new(f)))
        })
        .collect();
    let observed = Observed {
        format_version: 1,
        nodes,
    };
    let plan = crate::plan::plan(d, &observed, &crate::plan::PlanOptions::default());
    let json = serde_json::to_value(&plan).unwrap_or_default();
    json["blockers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["code"] == "invalid_name")
        .map(|b| b["address"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn lvm_config(volume: &str, device: &str) -> String {
    format!(
        "cluster: c\nplacement: {{ zone_checking: none }}\nnodes:\n  a: {{ manage: h1, devices: [{device}] }}\nvolumes:\n  {volume}:\n    size: 1GiB\n    durability: {{ type: none }}\n"
    )
}

/// Bug: `validate` accepted a 70-character volume name that `plan` then blocked as
/// `invalid_name`. Around the limit, whatever validate accepts plan accepts, and what
/// validate refuses it explains with the limit.
#[test]
fn validate_and_plan_agree_on_volume_names() {
    use crate::config::names::VOLUME_NAME_MAX;
    let mut names: Vec<String> = [1, 63, 64, 65, 70, VOLUME_NAME_MAX, VOLUME_NAME_MAX + 1, 256]
        .iter()
        .map(|n| "v".repeat(*n))
        .collect();
    names.extend(["gfs_tdata", "tmeta", "a-b_c"].map(String::from));
    for name in names {
        let l = parse_str("m.yaml", &lvm_config(&name, "/dev/sdb"), Format::Yaml);
        match l.desired {
            Some(d) => assert_eq!(
                invalid_name_blockers(&d),
                Vec::<String>::new(),
                "validate accepted volume {name} ({} chars), plan blocked it",
                name.len()
            ),
            None => {
                let d = &l.diagnostics[0];
                assert_eq!(d.code, crate::config::codes::INVALID_VOLUME_NAME, "{name}");
                if name.len() > VOLUME_NAME_MAX {
                    assert!(
                        d.message
                            .ends_with(&format!("is longer than {VOLUME_NAME_MAX} characters")),
                        "{}",
                        d.message
                    );
                    let help = d.help.as_deref().unwrap_or_default();
                    assert!(
                        help.contains(&format!("at most {VOLUME_NAME_MAX} characters")),
                        "{help}"
                    );
                } else {
                    assert!(d.message.ends_with("which LVM reserves"), "{}", d.message);
                }
            }
        }
    }
    // the boundary itself: the longest name validates, one more does not
    let at = "v".repeat(VOLUME_NAME_MAX);
    assert!(!parse_str("m.yaml", &lvm_config(&at, "/dev/sdb"), Format::Yaml).has_errors());
    let over = "v".repeat(VOLUME_NAME_MAX + 1);
    assert!(parse_str("m.yaml", &lvm_config(&over, "/dev/sdb"), Format::Yaml).has_errors());
}

/// The same for device paths: a device validate accepts is never `invalid_name` in the
/// plan, and a path whose VG name LVM would refuse is refused by validate, saying so.
/// (Near that limit the device-mapper name of the pool, a cross-entity rule, refuses
/// the path first for any volume.)
#[test]
fn validate_and_plan_agree_on_device_paths() {
    use crate::config::names::LVM_NAME_MAX;
    for len in [
        10,
        90,
        110,
        LVM_NAME_MAX - 4,
        LVM_NAME_MAX - 3,
        LVM_NAME_MAX - 2,
        200,
    ] {
        let device = format!("/dev/{}", "d".repeat(len));
        let l = parse_str("m.yaml", &lvm_config("gfs", &device), Format::Yaml);
        if len <= 90 {
            assert!(l.desired.is_some(), "{len}: {}", l.render(100, false));
        }
        match l.desired {
            Some(d) => assert_eq!(invalid_name_blockers(&d), Vec::<String>::new(), "{device}"),
            None if len > LVM_NAME_MAX - 3 => {
                assert!(
                    l.diagnostics[0]
                        .message
                        .contains("longer than LVM's 127 characters")
                )
            }
            None => assert!(l.diagnostics[0].message.contains("device-mapper name")),
        }
    }
    for device in [
        "/dev/disk/by-id/wwn-0x5000:1",
        "/dev/sdb/",
        "/dev/mapper/a+b@c",
    ] {
        let d = parse_str("m.yaml", &lvm_config("gfs", device), Format::Yaml)
            .desired
            .unwrap_or_else(|| panic!("{device} should validate"));
        assert_eq!(invalid_name_blockers(&d), Vec::<String>::new(), "{device}");
    }
}

/// Cluster, node and tag names share one rule and one limit.
#[test]
fn cluster_node_and_tag_names_share_one_limit() {
    use crate::config::names::NAME_MAX;
    for len in [NAME_MAX, NAME_MAX + 1] {
        let n = "n".repeat(len);
        for text in [
            format!("cluster: {n}\nnodes:\n  a: {{ manage: h1 }}\n"),
            format!("cluster: c\nnodes:\n  {n}: {{ manage: h1 }}\n"),
            format!(
                "cluster: c\nnodes:\n  a: {{ manage: h1, paths: [{{ path: /b/0, tags: {{ {n}: x }} }}] }}\n"
            ),
            format!(
                "cluster: c\nnodes:\n  a: {{ manage: h1, paths: [{{ path: /b/0, tags: {{ k: {n} }} }}] }}\n"
            ),
        ] {
            let l = parse_str("m.yaml", &text, Format::Yaml);
            assert_eq!(
                l.has_errors(),
                len > NAME_MAX,
                "{text}\n{}",
                l.render(100, false)
            );
            if len > NAME_MAX {
                let help = l.diagnostics[0].help.as_deref().unwrap_or_default();
                assert!(
                    help.contains(&format!("at most {NAME_MAX} characters")),
                    "{help}"
                );
            }
        }
    }
}

/// glusterd refuses a brick whose volfile name `<vol>.<host>.<brick path>.vol` reaches
/// 256 characters; no single name's limit covers the sum, so the volume rule checks it.
#[test]
fn brick_volfile_names_must_fit_glusterd() {
    let vol = "v".repeat(crate::config::names::VOLUME_NAME_MAX);
    let host = format!("{}.example.com", "h".repeat(63));
    let device = "/dev/sdb".to_string();
    let text = format!(
        "cluster: c\nplacement: {{ zone_checking: none }}\nnodes:\n  a: {{ manage: {host}, devices: [{device}] }}\nvolumes:\n  {vol}:\n    size: 1GiB\n    durability: {{ type: none }}\n"
    );
    let l = parse_str("m.yaml", &text, Format::Yaml);
    assert_eq!(l.error_count(), 1, "{}", l.render(100, false));
    let d = &l.diagnostics[0];
    assert_eq!(d.code, crate::config::codes::INVALID_VOLUME_NAME);
    assert!(d.message.contains("volfile name would be"), "{}", d.message);
    // the same volume on a short host and device is fine
    let short = text.replace(&host, "gfs1");
    let l = parse_str("m.yaml", &short, Format::Yaml);
    assert!(!l.has_errors(), "{}", l.render(100, false));
}

/// device-mapper names `<vg>-<lv>` double every `-` and must stay under 128 characters.
#[test]
fn lvm_device_mapper_names_must_fit() {
    let vol = format!("v{}", "-v".repeat(31)); // 63 characters, 31 of them `-`
    let device = format!("/dev/disk/by-id/{}", "d".repeat(30));
    let text = lvm_config(&vol, &device);
    let l = parse_str("m.yaml", &text, Format::Yaml);
    assert_eq!(l.error_count(), 1, "{}", l.render(100, false));
    assert!(l.diagnostics[0].message.contains("device-mapper name"));
    let l = parse_str("m.yaml", &lvm_config(&vol, "/dev/sdb"), Format::Yaml);
    assert!(!l.has_errors(), "{}", l.render(100, false));
}
