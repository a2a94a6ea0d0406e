//! Why a volume does not fit, in numbers: which rule fails (nodes, zones, capacity),
//! where, how many bytes short, and the largest size that would fit right now.
//! Heketi answered all of this with "No space"; an operator needs the arithmetic.

use std::collections::BTreeMap;

use crate::config::{BrickKind, Volume, ZoneChecking};
use crate::units::HumanBytes;

use super::address::Address;
use super::blocker_code::BlockerCode;
use super::builder::Builder;
use super::capacity::{brick_size, data_bricks_per_set, lvm_need};
use super::gluster::layout;
use super::health::World;
use super::placement::{Pool, largest_fit, max_sets, set_counts};

/// Growing an existing volume by whole sets of its brick size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expand {
    /// Sets the volume has now.
    pub(crate) sets: u64,
    /// Its data brick size.
    pub(crate) brick_size: u64,
    /// Sets it needs on top.
    pub(crate) add: u64,
}

/// A node's best eligible device, for the explanation.
struct Best<'a> {
    zone: u32,
    free: u64,
    device: &'a str,
}

/// A node ranked by how much room its best device leaves for one brick.
struct Ranked<'a> {
    /// Free minus need on its best device (negative: short by that much).
    margin: i128,
    node: &'a str,
    zone: u32,
    free: u64,
    device: &'a str,
}

/// Why an existing brick keeps new bricks of `volume` off every path of `node`, if it does.
fn nested(pool: &Pool, node: &str, volume: &str, vol: &Volume) -> Option<String> {
    pool.cands
        .iter()
        .filter(|c| c.node == node && c.kind == vol.brick_kind)
        .find_map(|c| {
            if let Some(br) = &c.nested.inside {
                return Some(format!("path {} is inside brick {br}", c.device));
            }
            c.nested.volumes.get(volume).map(|br| {
                format!(
                    "new bricks of {volume} would go under {}/{volume}, where brick {br} is: declare a path beside it, not above it",
                    c.device.trim_end_matches('/')
                )
            })
        })
}

/// Pushes the blocker for a volume that could not be placed (new, or growing by
/// `expand`), explaining the first rule that fails with numbers from the same
/// placement search that refused it.
pub(crate) fn volume_blocker(
    w: &World<'_>,
    pool: &Pool,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    expand: Option<Expand>,
) {
    let addr = Address::volume(name);
    let place = &w.desired.placement;
    let n = vol.durability.set_size();
    let kind = match vol.brick_kind {
        BrickKind::Lvm => "devices",
        BrickKind::Directory => "paths",
    };
    let tags = if vol.device_tags.is_empty() {
        String::new()
    } else {
        let t: Vec<String> = vol
            .device_tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(" tagged {}", t.join(","))
    };
    let mut nodes: BTreeMap<&str, Best<'_>> = BTreeMap::new();
    for i in pool.eligible_cands(vol) {
        let c = &pool.cands[i];
        let e = nodes.entry(&c.node).or_insert(Best {
            zone: c.zone,
            free: 0,
            device: &c.device,
        });
        if c.free > e.free || e.device.is_empty() {
            *e = Best {
                zone: c.zone,
                free: c.free,
                device: &c.device,
            };
        }
    }
    let unavailable: Vec<String> = w
        .desired
        .nodes
        .keys()
        .filter(|n| !nodes.contains_key(n.as_str()))
        .map(|n| match (w.unhealthy.get(n), nested(pool, n, name, vol)) {
            (Some(why), _) => format!("{n} ({why})"),
            (None, Some(why)) => format!("{n} ({why})"),
            (None, None) => format!("{n} (no usable {kind}{tags})"),
        })
        .collect();
    let lay = layout(&vol.durability);
    let what = format!("volume {name} ({}, {lay})", HumanBytes(vol.size));
    if nodes.len() < n {
        b.block(
            BlockerCode::Nodes,
            &addr,
            format!(
                "{what} needs {n} bricks per set on distinct nodes, but only {} node(s) have usable {kind}{tags}: {}; not usable: {}",
                nodes.len(),
                list(nodes.keys().copied()),
                if unavailable.is_empty() { "none".into() } else { unavailable.join(", ") }
            ),
            Some(format!("add nodes with {kind}, fix the unavailable ones, or lower the set size")),
        );
        return;
    }
    let mut zones: Vec<u32> = nodes.values().map(|v| v.zone).collect();
    zones.sort();
    zones.dedup();
    if place.zone_checking == ZoneChecking::Strict && zones.len() < n {
        let by_zone: Vec<String> = zones
            .iter()
            .map(|z| {
                let ns: Vec<&str> = nodes
                    .iter()
                    .filter(|(_, v)| v.zone == *z)
                    .map(|(k, _)| *k)
                    .collect();
                format!("zone {z}: {}", ns.join(", "))
            })
            .collect();
        b.block(
            BlockerCode::Zones,
            &addr,
            format!(
                "{what} needs {n} bricks per set in distinct zones (zone_checking: strict), but the usable {kind}{tags} are in only {} zone(s): {}",
                zones.len(),
                by_zone.join("; ")
            ),
            Some("add nodes in other zones, or set placement.zone_checking: none".into()),
        );
        return;
    }
    // capacity: explain the first set that does not fit
    let (bsize, sets_wanted) = match expand {
        Some(e) => (e.brick_size, e.add),
        None => {
            // the smallest set count a new volume is tried with
            let lo = set_counts(vol.size, vol, place)
                .map(|r| *r.start())
                .unwrap_or(1);
            (brick_size(vol.size, lo, &vol.durability), lo)
        }
    };
    let need = lvm_need(bsize, vol.snapshot_factor, 0);
    let (total, tp, meta) = (need.total, need.pool, need.meta);
    let need_of = |free_dev: &str, node: &str| -> u64 {
        pool.cands
            .iter()
            .position(|c| c.node == node && c.device == free_dev)
            .map(|i| pool.need(i, vol, bsize))
            .unwrap_or(total)
    };
    // rank nodes by margin (free - need on their best device); strict: best per zone
    let mut ranked: Vec<Ranked<'_>> = nodes
        .iter()
        .map(|(node, best)| Ranked {
            margin: best.free as i128 - need_of(best.device, node) as i128,
            node,
            zone: best.zone,
            free: best.free,
            device: best.device,
        })
        .collect();
    ranked.sort_by(|a, b| b.margin.cmp(&a.margin).then(a.node.cmp(b.node)));
    let mut picked: Vec<&Ranked<'_>> = Vec::new();
    for r in &ranked {
        if place.zone_checking == ZoneChecking::Strict && picked.iter().any(|p| p.zone == r.zone) {
            continue;
        }
        picked.push(r);
        if picked.len() == n {
            break;
        }
    }
    let per_brick = match vol.brick_kind {
        BrickKind::Lvm => format!(
            "{} ({} thin pool + {} metadata, plus up to {} spare metadata on a VG's first pool)",
            HumanBytes(tp.saturating_add(meta)),
            HumanBytes(tp),
            HumanBytes(meta),
            HumanBytes(meta)
        ),
        BrickKind::Directory => HumanBytes(bsize).to_string(),
    };
    let best: Vec<String> = ranked
        .iter()
        .take(8)
        .map(|r| format!("{}:{} {}", r.node, r.device, HumanBytes(r.free)))
        .collect();
    let mut message = format!(
        "{what} does not fit: {} set(s) of {n} bricks of {}; each data brick takes {per_brick}",
        sets_wanted,
        HumanBytes(bsize)
    );
    let bottleneck = picked.last().filter(|p| p.margin < 0);
    match bottleneck {
        Some(p) => message.push_str(&format!(
            "; a set needs {n} distinct nodes{} and the {}-best, {}, has at most {} free on {}: {} short",
            if place.zone_checking == ZoneChecking::Strict { " in distinct zones" } else { "" },
            ordinal(n),
            p.node,
            HumanBytes(p.free),
            p.device,
            HumanBytes((-p.margin) as u64)
        )),
        None => message.push_str(&format!(
            "; one set fits but not all {sets_wanted}: the nodes run out of space after {} set(s)",
            max_sets(pool, place.zone_checking, vol, bsize, sets_wanted)
        )),
    }
    message.push_str(&format!(". Most free per node: {}", best.join(", ")));
    let help = match expand {
        Some(Expand {
            sets: k0,
            brick_size: b0,
            add,
        }) => {
            let data = data_bricks_per_set(&vol.durability);
            let fit = max_sets(pool, place.zone_checking, vol, b0, add);
            let reach = k0
                .saturating_add(fit)
                .saturating_mul(b0)
                .saturating_mul(data);
            format!(
                "largest size reachable now: {} ({} bytes, {} more set(s)); add devices or nodes, or lower snapshot_factor",
                HumanBytes(reach),
                reach,
                fit
            )
        }
        None => match largest_fit(pool, place, vol) {
            Some(s) => format!(
                "largest {lay} volume that fits now: {} ({s} bytes); or add devices or nodes, or lower snapshot_factor",
                HumanBytes(s)
            ),
            None => {
                format!("no {lay} volume of at least brick_min_size fits now; add devices or nodes")
            }
        },
    };
    b.block(BlockerCode::Capacity, &addr, message, Some(help));
}

fn list<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "1st".into(),
        2 => "2nd".into(),
        3 => "3rd".into(),
        n => format!("{n}th"),
    }
}
