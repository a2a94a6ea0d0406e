//! Planner benchmark: a synthetic cluster of 1,000 nodes × 12 devices and 2,000
//! volumes. Measures (1) a full build plan from fresh nodes and (2) a steady-state plan
//! against the converged facts (simulated), with peak RSS (VmHWM) and a same-run
//! baseline: serialising the facts to JSON (one pass over the same data).
//!
//! cargo run --release --example bench_plan
//! Results go to docs/performance.md ("Plan").

use std::collections::BTreeMap;
use std::time::Instant;

use brickyard::config::{
    BrickKind, Desired, Device, Durability, KnownHosts, Node, Placement, Ssh, Volume, VolumeState,
    ZoneChecking,
};
use brickyard::gather::{BlockDevice, NodeFacts, NodeObservation, Observed, Peer};
use brickyard::plan::{PlanOptions, plan, simulate};
use brickyard::units::{GIB, TIB};

const NODES: usize = 1000;
const DEVICES: usize = 12;
const VOLUMES: usize = 2000;

/// Zones (default 6); `BENCH_ZONES=4` makes every 4+2 disperse volume infeasible under
/// strict zone checking, to time the blocker path.
fn zones() -> usize {
    std::env::var("BENCH_ZONES")
        .ok()
        .and_then(|z| z.parse().ok())
        .filter(|z| *z > 0)
        .unwrap_or(6)
}

fn desired() -> Desired {
    let ssh = Ssh {
        user: "root".into(),
        port: 22,
        identity_file: None,
        known_hosts: KnownHosts::Strict,
        options: vec![],
        sudo: false,
        connect_timeout: 10,
    };
    let nodes = (0..NODES)
        .map(|i| {
            (
                format!("node{i:04}"),
                Node {
                    manage: format!("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256),
                    storage: format!("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256),
                    zone: (i % zones()) as u32 + 1,
                    devices: (0..DEVICES)
                        .map(|d| Device {
                            path: format!("/dev/sd{}", (b'b' + d as u8) as char),
                            tags: BTreeMap::new(),
                            wipe: false,
                            drain: false,
                        })
                        .collect(),
                    paths: vec![],
                    drain: false,
                    ssh: ssh.clone(),
                },
            )
        })
        .collect();
    let volumes = (0..VOLUMES)
        .map(|v| {
            let durability = match v % 10 {
                0 => Durability::Disperse {
                    data: 4,
                    redundancy: 2,
                },
                1 => Durability::Replicate {
                    replica: 3,
                    arbiter: true,
                },
                _ => Durability::Replicate {
                    replica: 3,
                    arbiter: false,
                },
            };
            (
                format!("vol{v:04}"),
                Volume {
                    size: (10 + (v as u64 * 37) % 500) * GIB,
                    durability,
                    snapshot_factor: 1.0,
                    options: BTreeMap::from([(
                        "performance.cache-size".to_string(),
                        "256MB".to_string(),
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
        cluster: "bench".into(),
        cluster_id: None,
        placement: Placement {
            zone_checking: ZoneChecking::Strict,
            brick_min_size: GIB,
            brick_max_size: 4 * TIB,
        },
        nodes,
        volumes,
    }
}

fn observed(d: &Desired) -> Observed {
    let nodes = d
        .nodes
        .iter()
        .map(|(name, n)| {
            let f = NodeFacts {
                hostname: name.clone(),
                glusterd_running: true,
                peers: vec![Peer {
                    uuid: format!("uuid-{name}"),
                    hostname: "localhost".into(),
                    connected: true,
                }],
                block_devices: n
                    .devices
                    .iter()
                    .map(|dev| BlockDevice {
                        path: dev.path.clone(),
                        size: 4 * TIB,
                        kind: "disk".into(),
                        fstype: None,
                        mountpoints: vec![],
                        children: vec![],
                        read_only: false,
                    })
                    .collect(),
                ..NodeFacts::default()
            };
            (name.clone(), NodeObservation::Reachable(Box::new(f)))
        })
        .collect();
    Observed {
        format_version: 1,
        nodes,
    }
}

fn hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let d = desired();
    let fresh = observed(&d);
    let opts = PlanOptions::default();
    println!("inputs built; VmHWM {} MiB", hwm_kib() / 1024);

    let t = Instant::now();
    let p = plan(&d, &fresh, &opts);
    let full = t.elapsed();
    println!(
        "full build plan: {:.3} s, {} steps, {} placements, {} blockers; VmHWM {} MiB",
        full.as_secs_f64(),
        p.steps.len(),
        p.placements.len(),
        p.blockers.len(),
        hwm_kib() / 1024
    );

    let converged = simulate::apply(&p, &fresh);
    drop(p);
    let t = Instant::now();
    let json = serde_json::to_vec(&converged).unwrap_or_default();
    let base = t.elapsed();
    println!(
        "baseline (serialise converged facts, {} MiB JSON): {:.3} s",
        json.len() >> 20,
        base.as_secs_f64()
    );
    drop(json);

    let t = Instant::now();
    let steady = plan(&d, &converged, &opts);
    let st = t.elapsed();
    println!(
        "steady-state plan: {:.3} s, {} steps, {} blockers; VmHWM {} MiB",
        st.as_secs_f64(),
        steady.steps.len(),
        steady.blockers.len(),
        hwm_kib() / 1024
    );
    println!(
        "ratios to baseline: full {:.2}x, steady {:.2}x",
        full.as_secs_f64() / base.as_secs_f64(),
        st.as_secs_f64() / base.as_secs_f64()
    );
}
