//! Where new bricks go (docs/placement.md has the why and worked numbers). `pool` places
//! one set on the candidate devices; this module is the only way the rest of the planner
//! asks for space: [`place_sets`] places whole sets of one brick size (expansion, and every
//! trial below), [`fit_new`] chooses the set count of a new volume, and [`max_sets`] /
//! [`largest_fit`] answer "how much would fit" for the blocker explanations. Create,
//! expand and diagnosis therefore search with exactly the same rules.
//!
//! Existing and half-built bricks stay where they are: they arrive as [`Pins`].

mod pool;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use crate::config::{Placement, Volume, ZoneChecking};

use super::capacity::{
    EXTENT, brick_size, data_bricks_per_set, pool_size, position_size, set_range,
};

use pool::Want;
pub(crate) use pool::{Pick, Pool, Undo};

/// How many set counts past the smallest allowed one are tried before giving up: more
/// sets make smaller bricks that fit more holes, but past a few dozen the answer is no.
const K_TRIES: u64 = 32;

/// A brick that already exists (LV or directory) at a (set, position) of a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pin {
    /// Candidate it is on.
    pub(crate) cand: usize,
    /// Its size in bytes; 0 when unknown (directory bricks), which matches any size.
    /// For a `pool_only` pin, the thin pool's data size.
    pub(crate) size: u64,
    /// Only the brick's thin pool exists (an apply stopped between the pool's and the
    /// thin LV's `lvcreate`): its space is already out of the VG, and the brick must be
    /// of the size that pool was made for.
    pub(crate) pool_only: bool,
}

/// Pinned positions of half-built bricks of one volume, by (set, position).
pub(crate) type Pins = BTreeMap<(u32, u32), Pin>;

/// Whole new sets of one brick size: indices `first..first + count`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetRequest {
    pub(crate) first: u32,
    pub(crate) count: u64,
    /// Data brick size (arbiter positions get theirs from it).
    pub(crate) brick_size: u64,
}

/// A new volume's placement: the chosen brick size and every set's picks.
pub(crate) struct Fit {
    pub(crate) brick_size: u64,
    pub(crate) sets: Vec<Vec<Pick>>,
}

/// Place the requested sets, all or nothing: on success their space is taken from the
/// pool and the replaced states are appended to `undo`; on failure the pool is unchanged.
pub(crate) fn place_sets(
    pool: &mut Pool,
    zones: ZoneChecking,
    vol: &Volume,
    req: SetRequest,
    pins: &Pins,
    undo: &mut Vec<Undo>,
) -> Option<Vec<Vec<Pick>>> {
    let n = vol.durability.set_size();
    let wants: Vec<Want> = (0..n)
        .map(|pos| Want {
            pos,
            size: position_size(vol, req.brick_size, pos),
        })
        .collect();
    let mut mine: Vec<Undo> = Vec::new();
    let mut out = Vec::new();
    // set indices are u32 in gluster-facing names; more sets than that never fit (finding #7)
    let end = u32::try_from(req.count)
        .ok()
        .and_then(|c| req.first.checked_add(c))?;
    for s in req.first..end {
        let pinned: BTreeMap<usize, usize> = (0..n)
            .filter_map(|p| pins.get(&(s, p as u32)).map(|pin| (p, pin.cand)))
            .collect();
        match pool.place_set(vol, zones, &wants, &pinned) {
            Some(picks) => {
                for p in &picks {
                    let c = &pool.cands[p.cand];
                    mine.push(Undo {
                        cand: p.cand,
                        free: c.free,
                        spare: c.spare,
                    });
                }
                pool.commit(vol, &picks);
                out.push(picks);
            }
            None => {
                pool.rollback(mine);
                return None;
            }
        }
    }
    undo.extend(mine);
    Some(out)
}

/// A new home for the brick at `pos` of an existing set whose other bricks stay where they
/// are (`others`: position -> candidate; they count for the node and zone rules but take
/// no space). `pinned`: a candidate that already holds this brick half-built (an apply
/// stopped between building it and swapping it in), used as it is. The pick's space is
/// taken from the pool.
pub(crate) fn place_move(
    pool: &mut Pool,
    zones: ZoneChecking,
    vol: &Volume,
    pos: usize,
    data_brick: u64,
    others: &BTreeMap<usize, usize>,
    pinned: Option<usize>,
) -> Option<Pick> {
    let n = vol.durability.set_size();
    let wants: Vec<Want> = (0..n)
        .map(|p| Want {
            pos: p,
            size: position_size(vol, data_brick, p),
        })
        .collect();
    let mut fixed = others.clone();
    fixed.remove(&pos);
    if let Some(c) = pinned {
        fixed.insert(pos, c);
    }
    let picks = pool.place_set(vol, zones, &wants, &fixed)?;
    let pick = *picks.get(pos)?;
    pool.commit(vol, &[pick]);
    Some(pick)
}

/// A brick built again where it was (a lost brick's own path, empty again): the space it
/// takes there, taken from the pool. None when the candidate drains or lacks the room.
/// The node and zone rules held for it before and still do: its set is the same.
pub(crate) fn place_again(pool: &mut Pool, vol: &Volume, cand: usize, size: u64) -> Option<Pick> {
    let need = pool.need(cand, vol, size);
    let c = pool.cands.get(cand)?;
    if c.drain || c.kind != vol.brick_kind || c.free < need {
        return None;
    }
    let pick = Pick {
        cand,
        size,
        allocated: need,
        free_before: c.free,
    };
    pool.commit(vol, &[pick]);
    Some(pick)
}

/// Set counts a new volume of `size` may have under the brick limits, capped at
/// `K_TRIES` past the smallest; None when no count respects the limits.
pub(crate) fn set_counts(
    size: u64,
    vol: &Volume,
    place: &Placement,
) -> Option<RangeInclusive<u64>> {
    let (lo, hi) = set_range(
        size,
        &vol.durability,
        place.brick_min_size,
        place.brick_max_size,
    )?;
    Some(lo..=hi.min(lo.saturating_add(K_TRIES)))
}

/// Do the pins fit a layout of `sets` sets (from 0) of `data_brick` bricks?
pub(crate) fn pins_match(vol: &Volume, pins: &Pins, sets: u64, data_brick: u64) -> bool {
    pins.iter().all(|(&(s, p), pin)| {
        (s as u64) < sets
            && (p as usize) < vol.durability.set_size()
            && match (pin.pool_only, pin.size) {
                (true, pool) => {
                    pool == pool_size(
                        position_size(vol, data_brick, p as usize),
                        vol.snapshot_factor,
                    )
                }
                (false, 0) => true,
                (false, size) => size == position_size(vol, data_brick, p as usize),
            }
    })
}

/// Place a new volume of `size`: the smallest set count (within the limits) whose sets
/// all place and agree with the pins. Space is taken as in [`place_sets`].
pub(crate) fn fit_new(
    pool: &mut Pool,
    place: &Placement,
    vol: &Volume,
    size: u64,
    pins: &Pins,
    undo: &mut Vec<Undo>,
) -> Option<Fit> {
    let counts = set_counts(size, vol, place)?;
    // cheap necessary conditions first, so an impossible layout fails without a search
    if !layout_possible(pool, place.zone_checking, vol) {
        return None;
    }
    for k in counts {
        let bsize = brick_size(size, k, &vol.durability);
        if !pins_match(vol, pins, k, bsize) {
            continue;
        }
        let req = SetRequest {
            first: 0,
            count: k,
            brick_size: bsize,
        };
        if let Some(sets) = place_sets(pool, place.zone_checking, vol, req, pins, undo) {
            return Some(Fit {
                brick_size: bsize,
                sets,
            });
        }
    }
    None
}

/// Enough distinct nodes (and zones under strict) among the eligible candidates?
fn layout_possible(pool: &Pool, zones: ZoneChecking, vol: &Volume) -> bool {
    let n = vol.durability.set_size();
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    let mut zs: BTreeSet<u32> = BTreeSet::new();
    for i in pool.eligible_cands(vol) {
        nodes.insert(&pool.cands[i].node);
        zs.insert(pool.cands[i].zone);
        if nodes.len() >= n && (zones == ZoneChecking::None || zs.len() >= n) {
            return true;
        }
    }
    false
}

/// How many of `wanted` sets of `bsize` bricks fit (on a copy of the pool).
pub(crate) fn max_sets(
    pool: &Pool,
    zones: ZoneChecking,
    vol: &Volume,
    bsize: u64,
    wanted: u64,
) -> u64 {
    let mut p = pool.clone();
    let none = Pins::new();
    for s in 0..wanted {
        let req = SetRequest {
            first: s as u32,
            count: 1,
            brick_size: bsize,
        };
        if place_sets(&mut p, zones, vol, req, &none, &mut Vec::new()).is_none() {
            return s;
        }
    }
    wanted
}

/// The largest volume size (multiple of extent × data bricks) that places now, by binary
/// search over sizes with the same set-count rule a new volume gets ([`fit_new`]).
pub(crate) fn largest_fit(pool: &Pool, place: &Placement, vol: &Volume) -> Option<u64> {
    let unit = EXTENT * data_bricks_per_set(&vol.durability);
    // one copy of the pool; every trial is rolled back so the next starts clean
    let mut p = pool.clone();
    let none = Pins::new();
    let mut fits = |size: u64| -> bool {
        let mut undo = Vec::new();
        let ok = fit_new(&mut p, place, vol, size, &none, &mut undo).is_some();
        p.rollback(undo);
        ok
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
