//! Adopting a cluster Heketi built, over facts captured from the lab's three VMs after
//! running Heketi's own command sequence on them (testdata/heketi/heketi-commands.sh via
//! `scripts/capture-testdata heketi`: VG `vg_<device id>` on /dev/vdb, thin pool
//! `tp_<brick id>`, thin LV `brick_<brick id>` mounted under /var/lib/heketi/mounts with
//! Heketi's fstab line, a replica 3 volume `vol_<id>` with `user.heketi.id`).
//!
//! `import cluster` and `import heketi` (the database export of that cluster) both give a
//! config that plans only adoption: the VG tags, each brick's pool + LV tags, the fstab
//! marker, the volume markers. An apply killed after any command of it is finished by the
//! next plan; then the volume grows with brickyard's bricks in Heketi's VGs; a VG holding
//! anything else, or a declaration that differs, is a blocker naming why.

use std::collections::BTreeMap;
use std::path::Path;

use brickyard::config::{self, BrickKind, Desired, Durability, Format};
use brickyard::gather::parse::parse_probe;
use brickyard::gather::parse::sections::RECORDED_MARKER;
use brickyard::gather::{FORMAT_VERSION, Lv, NodeObservation, Observed};
use brickyard::plan::{Action, Plan, PlanOptions, plan, simulate};

const VOL: &str = "vol_5f1e1bd3b2c14f0a9a8e7c6d5b4a3921";
const VG1: &str = "vg_9d3c1a2b4e5f60718293a4b5c6d7e8f1";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn observed() -> Observed {
    let mut nodes = BTreeMap::new();
    for n in ["v1", "v2", "v3"] {
        let text =
            std::fs::read_to_string(root().join(format!("testdata/captures/v-heketi/{n}.txt")))
                .unwrap();
        let f = parse_probe(&text, RECORDED_MARKER).unwrap();
        assert!(f.section_errors.is_empty(), "{n}: {:?}", f.section_errors);
        nodes.insert(n.to_string(), NodeObservation::Reachable(Box::new(f)));
    }
    Observed {
        format_version: FORMAT_VERSION,
        nodes,
    }
}

fn parse(text: &str) -> Desired {
    let l = config::parse_str("t.yaml", text, Format::Yaml);
    assert!(l.diagnostics.is_empty(), "{}\n{text}", l.render(100, false));
    l.desired.unwrap()
}

/// The VMs of the capture with their disk, and no volume.
fn seed() -> Desired {
    parse(
        r#"
cluster: lab
nodes:
  v1: { manage: 10.99.7.21, zone: 1, devices: [/dev/vdb] }
  v2: { manage: 10.99.7.22, zone: 2, devices: [/dev/vdb] }
  v3: { manage: 10.99.7.23, zone: 3, devices: [/dev/vdb] }
volumes: {}
"#,
    )
}

fn opts() -> PlanOptions {
    PlanOptions {
        allow_destroy: false,
        allow_wipe: false,
        new_cluster_id: Some("0123456789abcdef0123456789abcdef".into()),
    }
}

fn imported() -> Desired {
    let (yaml, imp) = brickyard::import::cluster(&seed(), &observed(), Format::Yaml).unwrap();
    let (hcl, _) = brickyard::import::cluster(&seed(), &observed(), Format::Hcl).unwrap();
    for (text, f) in [(&yaml, Format::Yaml), (&hcl, Format::Hcl)] {
        let l = config::parse_str("imported", text, f);
        assert!(l.diagnostics.is_empty(), "{text}\n{}", l.render(100, false));
        assert_eq!(l.desired.as_ref(), Some(&imp.desired), "{text}");
    }
    assert_eq!(imp.adopted, [VOL]);
    imp.desired
}

/// Steps that are neither adoption nor the identity record a first apply writes.
fn not_adoption(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .filter(|s| s.action != Action::Adopt && !s.id.ends_with("/cluster-id"))
        .map(|s| format!("{} {:?}", s.id, s.action))
        .collect()
}

fn assert_converged(d: &Desired, obs: &Observed) {
    let p = plan(d, obs, &opts());
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    let left: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.action != Action::NoOp)
        .map(|s| s.id.as_str())
        .collect();
    assert!(left.is_empty(), "not converged: {left:?}");
}

fn lv<'a>(obs: &'a Observed, node: &str, name: &str) -> &'a Lv {
    let Some(NodeObservation::Reachable(f)) = obs.nodes.get(node) else {
        panic!("{node}");
    };
    f.lvs
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{node}: no LV {name}"))
}

#[test]
fn import_cluster_declares_heketis_volume_on_its_devices_as_lvm() {
    let d = imported();
    let v = &d.volumes[VOL];
    assert!(v.adopt);
    assert_eq!(v.brick_kind, BrickKind::Lvm);
    assert_eq!(
        v.durability,
        Durability::Replicate {
            replica: 3,
            arbiter: false
        }
    );
    // the LVs' size (what Heketi asked for), not the smaller XFS inside them
    assert_eq!(v.size, 1 << 30);
    assert_eq!(
        v.options.get("user.heketi.id").map(String::as_str),
        Some("5f1e1bd3b2c14f0a9a8e7c6d5b4a3921")
    );
    for n in d.nodes.values() {
        let devs: Vec<&str> = n.devices.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(devs, ["/dev/vdb"]);
        assert!(n.paths.is_empty(), "no directory path for LVM bricks");
    }
}

#[test]
fn the_plan_adopts_vgs_lvs_fstab_and_volume_and_nothing_else() {
    let d = imported();
    let obs = observed();
    let p = plan(&d, &obs, &opts());
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    assert!(not_adoption(&p).is_empty(), "{:?}", not_adoption(&p));
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    for n in ["v1", "v2", "v3"] {
        assert!(
            ids.contains(&format!("device.{n}:/dev/vdb/adopt").as_str()),
            "{ids:?}"
        );
    }
    for pos in 0..3 {
        for what in ["adopt-tags", "adopt-fstab"] {
            let id = format!("brick.{VOL}[0][{pos}]/{what}");
            assert!(ids.contains(&id.as_str()), "{id} in {ids:?}");
        }
    }
    // the VG, the pool, the LV: tagged by name, nothing created or removed
    let cmds: Vec<String> = p
        .steps
        .iter()
        .flat_map(|s| s.commands.iter())
        .map(|c| c.join(" "))
        .collect();
    assert!(
        cmds.iter().any(|c| c
            == &format!(
                "vgchange --addtag brickyard.cluster=lab --addtag brickyard.node=v1 -- {VG1}"
            )),
        "{cmds:#?}"
    );
    for bad in [
        "lvcreate", "lvremove", "mkfs", "pvcreate", "vgcreate", "wipefs", "umount",
    ] {
        assert!(!cmds.iter().any(|c| c.starts_with(bad)), "{bad}: {cmds:#?}");
    }
    // the volume is marked after every brick and VG of it
    let vol = p
        .steps
        .iter()
        .find(|s| s.address.to_string() == format!("volume.{VOL}") && s.action == Action::Adopt)
        .expect("the volume's adoption step");
    for dep in [
        "device.v2:/dev/vdb/adopt",
        &format!("brick.{VOL}[0][2]/adopt-tags"),
    ] {
        assert!(
            vol.depends_on.iter().any(|x| x == dep),
            "{dep}: {:?}",
            vol.depends_on
        );
    }

    let after = simulate::apply(&p, &obs);
    assert_converged(&d, &after);
    let l = lv(&after, "v1", "brick_1a2b3c4d5e6f708192a3b4c5d6e7f801");
    for t in [
        "brickyard.cluster=lab",
        &format!("brickyard.volume={VOL}"),
        "brickyard.set=0",
        "brickyard.pos=0",
    ] {
        assert!(l.tags.iter().any(|x| x == t), "{t}: {:?}", l.tags);
    }
}

#[test]
fn an_apply_killed_after_any_command_of_the_adoption_is_finished_by_the_next() {
    let d = imported();
    let obs = observed();
    let p = plan(&d, &obs, &opts());
    let total: usize = p.steps.iter().map(|s| s.commands.len()).sum();
    assert!(total >= 13, "{total}");
    for k in 0..=total {
        let cut = simulate::apply_until(&p, &obs, k);
        let again = plan(&d, &cut, &opts());
        assert!(
            again.blockers.is_empty(),
            "after {k}: {:#?}",
            again.blockers
        );
        assert!(
            not_adoption(&again).is_empty(),
            "after {k}: {:?}",
            not_adoption(&again)
        );
        assert_converged(&d, &simulate::apply(&again, &cut));
    }
}

#[test]
fn once_adopted_the_volume_grows_with_new_bricks_beside_heketis_in_its_vgs() {
    let mut d = imported();
    let obs = simulate::apply(&plan(&d, &observed(), &opts()), &observed());
    d.volumes.get_mut(VOL).unwrap().size = 2 << 30;
    let p = plan(&d, &obs, &opts());
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    let cmds: Vec<String> = p
        .steps
        .iter()
        .flat_map(|s| s.commands.iter())
        .map(|c| c.join(" "))
        .collect();
    let pools: Vec<&String> = cmds
        .iter()
        .filter(|c| c.starts_with("lvcreate") && c.contains("thin-pool"))
        .collect();
    assert_eq!(pools.len(), 3, "{cmds:#?}");
    assert!(
        pools
            .iter()
            .any(|c| c.contains(&format!("--name tp_{VOL}_1_0 ")) && c.ends_with(VG1)),
        "brickyard's own names, in Heketi's VG: {pools:#?}"
    );
    for bad in ["pvcreate", "vgcreate", "wipefs"] {
        assert!(!cmds.iter().any(|c| c.starts_with(bad)), "{bad}: {cmds:#?}");
    }
    assert!(cmds.iter().any(|c| c.contains("add-brick")), "{cmds:#?}");
    assert_converged(&d, &simulate::apply(&p, &obs));
}

#[test]
fn import_heketi_reads_the_database_export_of_that_cluster_and_plans_only_adoption() {
    let json = std::fs::read_to_string(root().join("testdata/heketi/db-export.json")).unwrap();
    let mut base = seed();
    base.nodes.clear();
    let imp =
        brickyard::import::heketi_db::from_export(&json, None, &base, "db-export.json").unwrap();
    let text = brickyard::import::text(&imp, Format::Yaml);
    let l = config::parse_str("heketi.yaml", &text, Format::Yaml);
    assert!(l.diagnostics.is_empty(), "{text}\n{}", l.render(100, false));
    let d = l.desired.unwrap();
    assert_eq!(d, imp.desired);
    let hcl = brickyard::import::text(&imp, Format::Hcl);
    let h = config::parse_str("heketi.hcl", &hcl, Format::Hcl);
    assert_eq!(h.desired.as_ref(), Some(&d), "{hcl}");
    let zones: Vec<u32> = d.nodes.values().map(|n| n.zone).collect();
    assert_eq!(zones, [1, 2, 3], "Heketi's zones");
    let v = &d.volumes[VOL];
    assert_eq!(
        (v.size, v.brick_kind, v.adopt),
        (1 << 30, BrickKind::Lvm, true)
    );

    // gathered with this config, the facts carry its node names (Heketi's hostnames)
    let mut obs = observed();
    obs.nodes = obs
        .nodes
        .into_iter()
        .map(|(n, f)| (format!("node-10-99-7-2{}", &n[1..]), f))
        .collect();
    let names: Vec<&String> = d.nodes.keys().collect();
    assert_eq!(names, obs.nodes.keys().collect::<Vec<_>>());
    let p = plan(&d, &obs, &opts());
    assert!(p.blockers.is_empty(), "{text}\n{:#?}", p.blockers);
    assert!(not_adoption(&p).is_empty(), "{:?}", not_adoption(&p));
    assert_converged(&d, &simulate::apply(&p, &obs));

    // Heketi's database says 2 GiB where the bricks hold 1: the drift is named, nothing moves
    let drift = json.replace("\"size\": 1,", "\"size\": 2,");
    let imp = brickyard::import::heketi_db::from_export(&drift, None, &base, "x").unwrap();
    let p = plan(&imp.desired, &obs, &opts());
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.as_str() == "adopt_mismatch")
        .expect("adopt_mismatch");
    assert!(
        b.message
            .contains("size: the config says 2 GiB, and the bricks' LVs hold at most 1 GiB"),
        "{}",
        b.message
    );
    assert!(
        p.steps.iter().all(|s| s.id.ends_with("/cluster-id")),
        "{:?}",
        p.steps
    );
}

#[test]
fn what_differs_from_heketis_cluster_is_one_line_of_one_blocker_each() {
    let obs = observed();
    let mut d = imported();
    // not declared as LVM, and v3's disk not declared
    d.volumes.get_mut(VOL).unwrap().brick_kind = BrickKind::Directory;
    let p = plan(&d, &obs, &opts());
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.as_str() == "adopt_mismatch")
        .expect("blocker");
    assert!(
        b.message.contains(&format!(
            "(it is on LV {VG1}/brick_1a2b3c4d5e6f708192a3b4c5d6e7f801: say `brick_kind: lvm`)"
        )),
        "{}",
        b.message
    );
    let mut d = imported();
    d.nodes.get_mut("v3").unwrap().devices.clear();
    let p = plan(&d, &obs, &opts());
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.as_str() == "adopt_mismatch")
        .expect("blocker");
    assert!(
        b.message
            .contains("which node v3 does not declare in `devices`"),
        "{}",
        b.message
    );
    assert!(
        !p.steps.iter().any(|s| s.action == Action::Adopt),
        "nothing is marked while the volume differs: {:?}",
        p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    // without `adopt`, a blocker that says how
    let mut d = imported();
    d.volumes.get_mut(VOL).unwrap().adopt = false;
    let p = plan(&d, &obs, &opts());
    assert!(
        p.blockers
            .iter()
            .any(|b| b.code.as_str() == "foreign_volume"),
        "{:#?}",
        p.blockers
    );
}

#[test]
fn a_heketi_vg_holding_anything_else_is_not_taken_and_neither_is_the_volume() {
    let mut obs = observed();
    let Some(NodeObservation::Reachable(f)) = obs.nodes.get_mut("v1") else {
        panic!("v1");
    };
    let mut other = f.lvs[0].clone();
    other.name = "someones_data".into();
    other.pool = None;
    other.attr = "-wi-a-----".into();
    f.lvs.push(other);
    let d = imported();
    let p = plan(&d, &obs, &opts());
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.as_str() == "adopt_mismatch")
        .expect("blocker");
    assert!(
        b.message.contains(&format!("{VG1}/someones_data")),
        "{}",
        b.message
    );
    let dev = p
        .blockers
        .iter()
        .find(|b| b.address.to_string() == "device.v1:/dev/vdb")
        .expect("the device is refused");
    assert!(
        dev.message.contains("refusing to touch it"),
        "{}",
        dev.message
    );
    assert!(
        !p.steps.iter().any(|s| s.action == Action::Adopt),
        "{:?}",
        p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
}

#[test]
fn an_adopted_volume_is_torn_down_by_its_own_names_and_its_dropped_disk_is_not_silent() {
    let d = imported();
    let obs = simulate::apply(&plan(&d, &observed(), &opts()), &observed());
    assert_converged(&d, &obs);

    // v1's disk dropped from the config: its brick is named, never "No changes"
    let mut gone = d.clone();
    gone.nodes.get_mut("v1").unwrap().devices.clear();
    let p = plan(&gone, &obs, &opts());
    assert!(
        p.blockers
            .iter()
            .any(|b| b.address.to_string() == format!("brick.{VOL}[0][0]")),
        "{:#?}",
        p.blockers
    );

    // deleted with the usual flag: every command names Heketi's objects, found by the tags
    let mut del = d.clone();
    del.volumes.clear();
    let allow = PlanOptions {
        allow_destroy: true,
        ..opts()
    };
    let p = plan(&del, &obs, &allow);
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    let cmds: Vec<String> = p
        .steps
        .iter()
        .flat_map(|s| s.commands.iter())
        .map(|c| c.join(" "))
        .collect();
    let mnt = format!("/var/lib/heketi/mounts/{VG1}/brick_1a2b3c4d5e6f708192a3b4c5d6e7f801");
    for want in [
        format!("umount -- {mnt}"),
        format!("lvremove -f -- {VG1}/brick_1a2b3c4d5e6f708192a3b4c5d6e7f801"),
        format!("lvremove -f -- {VG1}/tp_1a2b3c4d5e6f708192a3b4c5d6e7f801"),
    ] {
        assert!(cmds.contains(&want), "{want}: {cmds:#?}");
    }
    assert!(
        cmds.iter().any(|c| c.contains(&format!(
            "{mnt} xfs rw,inode64,noatime,nouuid,x-brickyard.cluster=lab 1 2"
        ))),
        "the marked fstab line is removed: {cmds:#?}"
    );
    let after = simulate::apply(&p, &obs);
    assert_converged(&del, &after);
}

#[test]
fn an_adopted_brick_whose_mount_was_lost_is_mounted_again_by_its_fstab_line() {
    let d = imported();
    let mut obs = simulate::apply(&plan(&d, &observed(), &opts()), &observed());
    let mnt = format!("/var/lib/heketi/mounts/{VG1}/brick_1a2b3c4d5e6f708192a3b4c5d6e7f801");
    let Some(NodeObservation::Reachable(f)) = obs.nodes.get_mut("v1") else {
        panic!("v1");
    };
    f.mounts.retain(|m| m.target != mnt);
    let p = plan(&d, &obs, &opts());
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    let cmds: Vec<String> = p
        .steps
        .iter()
        .flat_map(|s| s.commands.iter())
        .map(|c| c.join(" "))
        .collect();
    assert_eq!(
        cmds,
        [format!("mount -- {mnt}")],
        "only the mount, by its own path"
    );
    assert_converged(&d, &simulate::apply(&p, &obs));
}

/// What docs/migrate-from-heketi.md shows: the imported config and the plans, rendered
/// from the captured facts (snapshots, so a change to what an operator reads is reviewed).
#[test]
fn the_runbooks_outputs() {
    let (yaml, _) = brickyard::import::cluster(&seed(), &observed(), Format::Yaml).unwrap();
    insta::assert_snapshot!("heketi_import_cluster", yaml);
    let d = imported();
    let p = plan(&d, &observed(), &opts());
    insta::assert_snapshot!(
        "heketi_adoption_plan",
        brickyard::render::plan::human(&p, false)
    );
    let obs = simulate::apply(&p, &observed());
    let mut grown = d.clone();
    grown.volumes.get_mut(VOL).unwrap().size = 2 << 30;
    let p = plan(&grown, &obs, &opts());
    insta::assert_snapshot!(
        "heketi_grow_plan",
        brickyard::render::plan::human(&p, false)
    );
    let mut drift = d.clone();
    drift.volumes.get_mut(VOL).unwrap().size = 2 << 30;
    drift.nodes.get_mut("v3").unwrap().devices.clear();
    let p = plan(&drift, &observed(), &opts());
    insta::assert_snapshot!(
        "heketi_mismatch_plan",
        brickyard::render::plan::human(&p, false)
    );
}

#[test]
fn an_adopted_volume_deleted_by_hand_leaves_bricks_torn_down_by_their_own_names() {
    let d = imported();
    let mut obs = simulate::apply(&plan(&d, &observed(), &opts()), &observed());
    for n in obs.nodes.values_mut() {
        if let NodeObservation::Reachable(f) = n {
            f.volumes.clear();
        }
    }
    let mut gone = d.clone();
    gone.volumes.clear();
    let allow = PlanOptions {
        allow_destroy: true,
        ..opts()
    };
    let p = plan(&gone, &obs, &allow);
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    let cmds: Vec<String> = p
        .steps
        .iter()
        .flat_map(|s| s.commands.iter())
        .map(|c| c.join(" "))
        .collect();
    assert!(
        cmds.contains(&format!(
            "lvremove -f -- {VG1}/brick_1a2b3c4d5e6f708192a3b4c5d6e7f801"
        )),
        "{cmds:#?}"
    );
    assert!(
        !cmds
            .iter()
            .any(|c| c.contains("/var/lib/brickyard/mounts/")),
        "nothing under brickyard's derived names: {cmds:#?}"
    );
    assert_converged(&gone, &simulate::apply(&p, &obs));
}

/// Heketi's arbiter volumes (`replica 3 arbiter 1`, `user.heketi.arbiter true`, a small
/// third brick formatted `maxpct=100`): the capture turned into one, as gluster would
/// report it. The arbiter's small LV does not count toward the size.
#[test]
fn a_heketi_arbiter_volume_is_imported_as_arbiter_and_adopted() {
    let mut obs = observed();
    let arb_lv = "brick_3c4d5e6f708192a3b4c5d6e7f8091a23";
    for (name, n) in obs.nodes.iter_mut() {
        let NodeObservation::Reachable(f) = n else {
            continue;
        };
        for v in &mut f.volumes {
            v.arbiter_count = 1;
            v.options
                .insert("user.heketi.arbiter".into(), "true".into());
            if let Some(b) = v.bricks.get_mut(2) {
                b.is_arbiter = true;
            }
        }
        if name == "v3" {
            for l in f
                .lvs
                .iter_mut()
                .filter(|l| l.name == arb_lv || l.name.starts_with("tp_3c4d"))
            {
                l.size = 64 << 20;
            }
        }
    }
    let (yaml, imp) = brickyard::import::cluster(&seed(), &obs, Format::Yaml).unwrap();
    let v = &imp.desired.volumes[VOL];
    assert_eq!(
        v.durability,
        Durability::Replicate {
            replica: 3,
            arbiter: true
        },
        "{yaml}"
    );
    assert_eq!(v.size, 1 << 30, "the data bricks' size, not the arbiter's");
    assert_eq!(
        v.options.get("user.heketi.arbiter").map(String::as_str),
        Some("true")
    );
    let p = plan(&imp.desired, &obs, &opts());
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    assert!(not_adoption(&p).is_empty(), "{:?}", not_adoption(&p));
    assert_converged(&imp.desired, &simulate::apply(&p, &obs));
}
