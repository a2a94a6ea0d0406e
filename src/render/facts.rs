//! Human summary of gathered facts, one block per node: devices, VGs, peers, volumes.
//! Nearly every string here comes from a node, so each goes through `escape`.

use std::fmt::Write;

use super::escape::escape as e;
use crate::gather::{NodeObservation, Observed};
use crate::units::HumanBytes as Bytes;

pub fn summary(obs: &Observed) -> String {
    let mut s = String::new();
    for (name, o) in &obs.nodes {
        let name = e(name);
        match o {
            NodeObservation::Unreachable(err) => {
                let _ = writeln!(
                    s,
                    "{name}: UNREACHABLE ({}): {}",
                    e(&err.kind),
                    e(&err.message)
                );
            }
            NodeObservation::Reachable(f) => {
                let gd = if f.glusterd_running {
                    "running"
                } else {
                    "NOT running"
                };
                let _ = writeln!(s, "{name}: {} (glusterd {gd})", e(&f.hostname));
                for (dev, sigs) in &f.signatures {
                    let size = f
                        .block_devices
                        .iter()
                        .find(|b| &b.path == dev)
                        .map(|b| b.size);
                    let state = if sigs.is_empty() {
                        "blank".to_string()
                    } else {
                        sigs.iter()
                            .map(|x| e(&x.kind))
                            .collect::<Vec<_>>()
                            .join(",")
                    };
                    let size = size
                        .map(|b| Bytes(b).to_string())
                        .unwrap_or_else(|| "?".into());
                    let _ = writeln!(s, "  device {} {size} {state}", e(dev));
                }
                for vg in &f.vgs {
                    let _ = writeln!(
                        s,
                        "  vg {} free {} of {}",
                        e(&vg.name),
                        Bytes(vg.free),
                        Bytes(vg.size)
                    );
                }
                for (p, pf) in &f.paths {
                    let free = pf
                        .free
                        .map(|b| Bytes(b).to_string())
                        .unwrap_or_else(|| "?".into());
                    let _ = writeln!(
                        s,
                        "  path {} {} free {free}",
                        e(p),
                        if pf.exists { "exists" } else { "missing" }
                    );
                }
                if let Some((name, id)) = &f.cluster_id {
                    let _ = writeln!(s, "  cluster identity {name} {id}");
                }
                for p in &f.peers {
                    let c = if p.connected {
                        "connected"
                    } else {
                        "DISCONNECTED"
                    };
                    let _ = writeln!(s, "  peer {} {c}", e(&p.hostname));
                }
                for v in &f.volumes {
                    let on = v.bricks.iter().filter(|b| b.online == Some(true)).count();
                    let _ = writeln!(
                        s,
                        "  volume {} {} {:?} bricks online {on}/{}",
                        e(&v.name),
                        e(&v.vol_type),
                        v.status,
                        v.bricks.len()
                    );
                }
                for (sec, why) in &f.section_errors {
                    let _ = writeln!(s, "  ! {}: {}", e(sec), e(why));
                }
            }
        }
    }
    s
}
