//! Property tests of the planner on random clusters: sets never share a node (nor a
//! zone under strict checking), no device gives more than it has, plans are
//! deterministic, and plans converge (simulate, plan again: nothing left to do), also
//! across a second round that grows volumes.

use std::collections::{BTreeMap, BTreeSet};

use brickyard::config::{
    BrickKind, Desired, Device, Durability, KnownHosts, Node, Placement, Ssh, Volume, VolumeState,
    ZoneChecking,
};
use brickyard::gather::{BlockDevice, NodeFacts, NodeObservation, Observed, Peer};
use brickyard::plan::capacity::raw_device_capacity;
use brickyard::plan::{Plan, PlanOptions, plan, simulate};
use brickyard::units::GIB;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Spec {
    nodes: Vec<(u32, Vec<u64>)>, // zone, device sizes (GiB)
    volumes: Vec<(u64, u8)>,     // size GiB, layout selector
    strict: bool,
    brick_max_gib: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec((1u32..4, prop::collection::vec(2u64..120, 1..4)), 1..8),
        prop::collection::vec((1u64..150, 0u8..5), 1..5),
        any::<bool>(),
        prop::sample::select(vec![8u64, 32, 4096]),
    )
        .prop_map(|(nodes, volumes, strict, brick_max_gib)| Spec {
            nodes,
            volumes,
            strict,
            brick_max_gib,
        })
}

fn durability(sel: u8) -> Durability {
    match sel {
        0 => Durability::None,
        1 => Durability::Replicate {
            replica: 2,
            arbiter: false,
        },
        2 => Durability::Replicate {
            replica: 3,
            arbiter: false,
        },
        3 => Durability::Replicate {
            replica: 3,
            arbiter: true,
        },
        _ => Durability::Disperse {
            data: 2,
            redundancy: 1,
        },
    }
}

fn desired(s: &Spec, grow: u64) -> Desired {
    let mut nodes = BTreeMap::new();
    for (i, (zone, devs)) in s.nodes.iter().enumerate() {
        nodes.insert(
            format!("n{i:02}"),
            Node {
                manage: format!("10.99.1.{i}"),
                storage: format!("10.99.1.{i}"),
                zone: *zone,
                devices: (0..devs.len())
                    .map(|d| Device {
                        path: format!("/dev/vd{}", (b'b' + d as u8) as char),
                        tags: BTreeMap::new(),
                        wipe: false,
                        drain: false,
                    })
                    .collect(),
                paths: vec![],
                drain: false,
                ssh: Ssh {
                    user: "root".into(),
                    port: 22,
                    identity_file: None,
                    known_hosts: KnownHosts::Strict,
                    options: vec![],
                    sudo: false,
                    connect_timeout: 10,
                },
            },
        );
    }
    let volumes = s
        .volumes
        .iter()
        .enumerate()
        .map(|(i, (size, sel))| {
            (
                format!("v{i}"),
                Volume {
                    size: (size + grow) * GIB,
                    durability: durability(*sel),
                    snapshot_factor: 1.0,
                    options: BTreeMap::from([(
                        "performance.cache-size".to_string(),
                        format!("{}MB", 64 + grow),
                    )]),
                    protect: false,
                    state: VolumeState::Present,
                    rebalance: Default::default(),
                    adopt: false,
                    device_tags: BTreeMap::new(),
                    brick_kind: BrickKind::Lvm,
                },
            )
        })
        .collect();
    Desired {
        cluster: "prop".into(),
        cluster_id: None,
        placement: Placement {
            zone_checking: if s.strict {
                ZoneChecking::Strict
            } else {
                ZoneChecking::None
            },
            brick_min_size: GIB,
            brick_max_size: s.brick_max_gib * GIB,
        },
        nodes,
        volumes,
    }
}

fn observed(s: &Spec) -> Observed {
    let mut nodes = BTreeMap::new();
    for (i, (_, devs)) in s.nodes.iter().enumerate() {
        let name = format!("n{i:02}");
        let f = NodeFacts {
            hostname: name.clone(),
            glusterd_running: true,
            peers: vec![Peer {
                uuid: format!("u{i}"),
                hostname: "localhost".into(),
                connected: true,
            }],
            block_devices: devs
                .iter()
                .enumerate()
                .map(|(d, g)| BlockDevice {
                    path: format!("/dev/vd{}", (b'b' + d as u8) as char),
                    size: g * GIB,
                    kind: "disk".into(),
                    fstype: None,
                    mountpoints: vec![],
                    children: vec![],
                    read_only: false,
                })
                .collect(),
            ..NodeFacts::default()
        };
        nodes.insert(name, NodeObservation::Reachable(Box::new(f)));
    }
    Observed {
        format_version: 1,
        nodes,
    }
}

fn check_placement(s: &Spec, d: &Desired, p: &Plan) {
    let mut sets: BTreeMap<(&str, u32), Vec<&brickyard::plan::BrickPlacement>> = BTreeMap::new();
    for b in &p.placements {
        sets.entry((&b.volume, b.set)).or_default().push(b);
    }
    for ((v, set), bricks) in &sets {
        let nodes: BTreeSet<&str> = bricks.iter().map(|b| b.node.as_str()).collect();
        assert_eq!(nodes.len(), bricks.len(), "set {v}[{set}] shares a node");
        assert_eq!(
            bricks.len(),
            d.volumes[*v].durability.set_size(),
            "set {v}[{set}] incomplete"
        );
        if s.strict {
            let zones: BTreeSet<u32> = bricks.iter().map(|b| b.zone).collect();
            assert_eq!(
                zones.len(),
                bricks.len(),
                "set {v}[{set}] shares a zone under strict"
            );
        }
    }
}

fn check_capacity(s: &Spec, p: &Plan) {
    let mut used: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for b in &p.placements {
        *used.entry((&b.node, &b.device)).or_default() += b.allocated;
    }
    for ((node, dev), sum) in used {
        let i: usize = node[1..].parse().unwrap();
        let d = (dev.as_bytes()[7] - b'b') as usize;
        let cap = raw_device_capacity(s.nodes[i].1[d] * GIB);
        assert!(sum <= cap, "{node}:{dev} allocates {sum} > {cap}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn placement_is_safe_deterministic_and_converges(s in spec()) {
        let opts = PlanOptions::default();
        let d = desired(&s, 0);
        let o = observed(&s);
        let p = plan(&d, &o, &opts);
        check_placement(&s, &d, &p);
        check_capacity(&s, &p);
        let again = plan(&d, &o, &opts);
        prop_assert_eq!(serde_json::to_string(&p).unwrap(), serde_json::to_string(&again).unwrap());

        let after = simulate::apply(&p, &o);
        let p2 = plan(&d, &after, &opts);
        prop_assert!(!p2.has_changes(), "no convergence:\n{}", brickyard::render::plan::human(&p2, false));

        // second round: every volume grows, options change
        let d2 = desired(&s, 20);
        let p3 = plan(&d2, &after, &opts);
        check_placement(&s, &d2, &p3);
        for b in &p3.placements {
            prop_assert!(b.allocated <= b.device_free_before);
        }
        let after2 = simulate::apply(&p3, &after);
        let p4 = plan(&d2, &after2, &opts);
        prop_assert!(!p4.has_changes(), "no convergence after growth:\n{}", brickyard::render::plan::human(&p4, false));
    }
}
