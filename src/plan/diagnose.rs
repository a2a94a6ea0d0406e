//! Why a volume does not fit, in numbers: which rule fails (nodes, zones, capacity),
//! where, how many bytes short, and the largest size that would fit right now.
//! Heketi answered all of this with "No space"; an operator needs the arithmetic.

use std::collections::BTreeMap;

use crate::config::{BrickKind, Volume, ZoneChecking};
use crate::units::HumanBytes;

use super::builder::Builder;
use super::capacity::{EXTENT, brick_size, data_bricks_per_set, lvm_need, set_range};
use super::placement::Pool;
use super::volumes::{Ctx, layout, place_sets};

/// Pushes the blocker for a volume that could not be placed. `expand` is
/// (existing sets, brick size, sets to add) when growing an existing volume.
pub(crate) fn volume_blocker(
    ctx: &Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    expand: Option<(u64, u64, u64)>,
) {
    let w = ctx.w;
    let addr = format!("volume.{name}");
    let pool = &ctx.pool;
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
    // node -> (zone, best free, device)
    let mut nodes: BTreeMap<&str, (u32, u64, &str)> = BTreeMap::new();
    for i in pool.eligible_cands(vol) {
        let c = &pool.cands[i];
        let e = nodes.entry(&c.node).or_insert((c.zone, 0, &c.device));
        if c.free > e.1 || e.2.is_empty() {
            *e = (c.zone, c.free, &c.device);
        }
    }
    let unavailable: Vec<String> = w
        .desired
        .nodes
        .keys()
        .filter(|n| !nodes.contains_key(n.as_str()))
        .map(|n| match w.unhealthy.get(n) {
            Some(why) => format!("{n} ({why})"),
            None => format!("{n} (no usable {kind}{tags})"),
        })
        .collect();
    let lay = layout(&vol.durability);
    let what = format!("volume {name} ({}, {lay})", HumanBytes(vol.size));
    if nodes.len() < n {
        b.block(
            "nodes",
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
    let mut zones: Vec<u32> = nodes.values().map(|v| v.0).collect();
    zones.sort();
    zones.dedup();
    if place.zone_checking == ZoneChecking::Strict && zones.len() < n {
        let by_zone: Vec<String> = zones
            .iter()
            .map(|z| {
                let ns: Vec<&str> = nodes
                    .iter()
                    .filter(|(_, v)| v.0 == *z)
                    .map(|(k, _)| *k)
                    .collect();
                format!("zone {z}: {}", ns.join(", "))
            })
            .collect();
        b.block(
            "zones",
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
        Some((_, b0, add)) => (b0, add),
        None => {
            let lo = set_range(
                vol.size,
                &vol.durability,
                place.brick_min_size,
                place.brick_max_size,
            )
            .map(|r| r.0)
            .unwrap_or(1);
            (brick_size(vol.size, lo, &vol.durability), lo)
        }
    };
    let (total, tp, meta, _) = lvm_need(bsize, vol.snapshot_factor, 0);
    let need_of = |free_dev: &str, node: &str| -> u64 {
        pool.cands
            .iter()
            .position(|c| c.node == node && c.device == free_dev)
            .map(|i| pool.need(i, vol, bsize))
            .unwrap_or(total)
    };
    // rank nodes by margin (free - need on their best device); strict: best per zone
    let mut ranked: Vec<(i128, &str, u32, u64, &str)> = nodes
        .iter()
        .map(|(node, &(zone, free, dev))| {
            (
                free as i128 - need_of(dev, node) as i128,
                *node,
                zone,
                free,
                dev,
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut picked: Vec<&(i128, &str, u32, u64, &str)> = Vec::new();
    for r in &ranked {
        if place.zone_checking == ZoneChecking::Strict && picked.iter().any(|p| p.2 == r.2) {
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
            HumanBytes(tp + meta),
            HumanBytes(tp),
            HumanBytes(meta),
            HumanBytes(meta)
        ),
        BrickKind::Directory => HumanBytes(bsize).to_string(),
    };
    let best: Vec<String> = ranked
        .iter()
        .take(8)
        .map(|r| format!("{}:{} {}", r.1, r.4, HumanBytes(r.3)))
        .collect();
    let mut message = format!(
        "{what} does not fit: {} set(s) of {n} bricks of {}; each data brick takes {per_brick}",
        sets_wanted,
        HumanBytes(bsize)
    );
    let bottleneck = picked.last().filter(|p| p.0 < 0);
    match bottleneck {
        Some(p) => message.push_str(&format!(
            "; a set needs {n} distinct nodes{} and the {}-best, {}, has at most {} free on {}: {} short",
            if place.zone_checking == ZoneChecking::Strict { " in distinct zones" } else { "" },
            ordinal(n),
            p.1,
            HumanBytes(p.3),
            p.4,
            HumanBytes((-p.0) as u64)
        )),
        None => message.push_str(&format!(
            "; one set fits but not all {sets_wanted}: the nodes run out of space after {} set(s)",
            max_sets(pool, place.zone_checking, vol, bsize, sets_wanted)
        )),
    }
    message.push_str(&format!(". Most free per node: {}", best.join(", ")));
    let help = match expand {
        Some((k0, b0, add)) => {
            let data = data_bricks_per_set(&vol.durability);
            let fit = max_sets(pool, place.zone_checking, vol, b0, add);
            format!(
                "largest size reachable now: {} ({} bytes, {} more set(s)); add devices or nodes, or lower snapshot_factor",
                HumanBytes((k0 + fit) * b0 * data),
                (k0 + fit) * b0 * data,
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
    b.block("capacity", &addr, message, Some(help));
}

/// How many of `wanted` sets of `bsize` bricks fit (on a copy of the pool).
fn max_sets(pool: &Pool, zones: ZoneChecking, vol: &Volume, bsize: u64, wanted: u64) -> u64 {
    let mut p = pool.clone();
    let none = BTreeMap::new();
    for s in 0..wanted {
        if place_sets(
            &mut p,
            zones,
            vol,
            s as u32,
            1,
            bsize,
            &none,
            &mut Vec::new(),
        )
        .is_none()
        {
            return s;
        }
    }
    wanted
}

/// The largest volume size (multiple of extent × data bricks) that places now, by binary
/// search over sizes with the same set-count rule `create` uses.
pub(crate) fn largest_fit(
    pool: &Pool,
    place: &crate::config::Placement,
    vol: &Volume,
) -> Option<u64> {
    let unit = EXTENT * data_bricks_per_set(&vol.durability);
    // one copy of the pool; every trial is rolled back so the next starts clean
    let mut p = pool.clone();
    let mut fits = |size: u64| -> bool {
        let Some((lo, hi)) = set_range(
            size,
            &vol.durability,
            place.brick_min_size,
            place.brick_max_size,
        ) else {
            return false;
        };
        let none = BTreeMap::new();
        (lo..=hi.min(lo + 32)).any(|k| {
            let mut undo = Vec::new();
            let ok = place_sets(
                &mut p,
                place.zone_checking,
                vol,
                0,
                k,
                brick_size(size, k, &vol.durability),
                &none,
                &mut undo,
            )
            .is_some();
            p.rollback(undo);
            ok
        })
    };
    let (mut lo, mut hi) = (0u64, vol.size / unit);
    // invariant: lo fits (or is 0), hi does not
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid * unit) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo > 0).then_some(lo * unit)
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
