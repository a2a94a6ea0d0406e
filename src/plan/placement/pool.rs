//! The candidate pool and the placement of ONE set: the rules below, and the running
//! free space that every placed set takes from (with undo for trial placements).
//! - bricks of one set on distinct nodes; with strict zone checking on distinct zones,
//!   otherwise distinct zones are preferred;
//! - each brick goes to the eligible device with the MOST free space, ties broken by
//!   node name then device path: spreads load and keeps large holes for large bricks;
//! - a bounded depth-first search backs out of a greedy dead end inside a set.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use crate::config::{BrickKind, Volume, ZoneChecking};

use crate::plan::capacity::{lvm_need, pool_meta, pool_size};
use crate::plan::device::Candidate;

/// Candidate devices with their running free space, indexed by free space.
#[derive(Clone)]
pub(crate) struct Pool {
    pub(crate) cands: Vec<Candidate>,
    /// The volume being placed (the volume pass sets it before each volume): a
    /// candidate an existing brick leaves no room for it on is not eligible.
    pub(crate) volume: String,
    order: BTreeSet<(Reverse<u64>, usize)>,
}

/// One brick to place: its position in the set and size.
#[derive(Debug, Clone, Copy)]
pub(super) struct Want {
    pub(crate) pos: usize,
    pub(crate) size: u64,
}

/// A chosen device for a brick and what it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pick {
    pub(crate) cand: usize,
    pub(crate) size: u64,
    /// Bytes taken from the device (0 for a pinned brick that already exists).
    pub(crate) allocated: u64,
    pub(crate) free_before: u64,
}

/// A candidate's free space and spare metadata before a `commit`, to roll it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Undo {
    pub(crate) cand: usize,
    pub(crate) free: u64,
    pub(crate) spare: u64,
}

/// How many candidates one set may look at, backtracking included: enough for any real
/// cluster's dead ends, small enough that a hopeless set fails fast.
const SET_BUDGET: usize = 200_000;

impl Pool {
    pub(crate) fn new(cands: Vec<Candidate>) -> Pool {
        let order = cands
            .iter()
            .enumerate()
            .map(|(i, c)| (Reverse(c.free), i))
            .collect();
        Pool {
            cands,
            order,
            volume: String::new(),
        }
    }

    /// Bytes `size` takes on candidate `i` (pool + metadata + spare growth, or size).
    pub(crate) fn need(&self, i: usize, vol: &Volume, size: u64) -> u64 {
        let c = &self.cands[i];
        match c.kind {
            BrickKind::Lvm => lvm_need(size, vol.snapshot_factor, c.spare).total,
            BrickKind::Directory => size,
        }
    }

    fn eligible(&self, i: usize, vol: &Volume) -> bool {
        let c = &self.cands[i];
        !c.drain
            && c.nested.inside.is_none()
            && !c.nested.volumes.contains_key(&self.volume)
            && c.kind == vol.brick_kind
            && vol
                .device_tags
                .iter()
                .all(|(k, v)| c.tags.get(k) == Some(v))
    }

    /// Place one set. `pinned` are positions already fixed (existing LVs/dirs) as
    /// (pos, candidate). Returns picks in position order, or None.
    pub(super) fn place_set(
        &self,
        vol: &Volume,
        zones: ZoneChecking,
        wants: &[Want],
        pinned: &BTreeMap<usize, usize>,
    ) -> Option<Vec<Pick>> {
        let mut used_nodes: Vec<&str> = Vec::new();
        let mut used_zones: Vec<u32> = Vec::new();
        for &ci in pinned.values() {
            used_nodes.push(&self.cands[ci].node);
            used_zones.push(self.cands[ci].zone);
        }
        let free: Vec<&Want> = wants
            .iter()
            .filter(|w| !pinned.contains_key(&w.pos))
            .collect();
        let mut chosen: Vec<usize> = Vec::new();
        // the budget counts every candidate looked at, so a hopeless set costs a bounded scan
        let mut budget = SET_BUDGET;
        if !self.dfs(
            vol,
            zones,
            &free,
            &mut used_nodes,
            &mut used_zones,
            &mut chosen,
            &mut budget,
        ) {
            return None;
        }
        let mut by_pos: BTreeMap<usize, Pick> = BTreeMap::new();
        for (w, &ci) in free.iter().zip(&chosen) {
            by_pos.insert(
                w.pos,
                Pick {
                    cand: ci,
                    size: w.size,
                    allocated: self.need(ci, vol, w.size),
                    free_before: self.cands[ci].free,
                },
            );
        }
        for w in wants {
            if let Some(&ci) = pinned.get(&w.pos) {
                by_pos.insert(
                    w.pos,
                    Pick {
                        cand: ci,
                        size: w.size,
                        allocated: 0,
                        free_before: self.cands[ci].free,
                    },
                );
            }
        }
        Some(by_pos.into_values().collect())
    }

    #[allow(clippy::too_many_arguments)]
    fn dfs<'p>(
        &'p self,
        vol: &Volume,
        zones: ZoneChecking,
        wants: &[&Want],
        used_nodes: &mut Vec<&'p str>,
        used_zones: &mut Vec<u32>,
        chosen: &mut Vec<usize>,
        budget: &mut usize,
    ) -> bool {
        let Some(w) = wants.get(chosen.len()) else {
            return true;
        };
        // lower bound of what the brick takes on any device: stop scanning below it
        let floor = match vol.brick_kind {
            BrickKind::Lvm => {
                let tp = pool_size(w.size, vol.snapshot_factor);
                tp.saturating_add(pool_meta(tp))
            }
            BrickKind::Directory => w.size,
        };
        // strict: distinct zones only; none: distinct zones first, then any
        let passes: &[bool] = match zones {
            ZoneChecking::Strict => &[true],
            ZoneChecking::None => &[true, false],
        };
        for &distinct_zone in passes {
            for &(Reverse(free), ci) in &self.order {
                if free < floor {
                    break;
                }
                if *budget == 0 {
                    return false;
                }
                *budget -= 1;
                let c = &self.cands[ci];
                let zone_used = used_zones.contains(&c.zone);
                if distinct_zone == zone_used || used_nodes.contains(&c.node.as_str()) {
                    continue;
                }
                if !self.eligible(ci, vol) || self.need(ci, vol, w.size) > free {
                    continue;
                }
                used_nodes.push(&c.node);
                used_zones.push(c.zone);
                chosen.push(ci);
                if self.dfs(vol, zones, wants, used_nodes, used_zones, chosen, budget) {
                    return true;
                }
                chosen.pop();
                used_zones.pop();
                used_nodes.pop();
            }
        }
        false
    }

    /// Take the picks' space from their devices.
    pub(super) fn commit(&mut self, vol: &Volume, picks: &[Pick]) {
        for p in picks {
            if p.allocated == 0 {
                continue;
            }
            let c = &mut self.cands[p.cand];
            self.order.remove(&(Reverse(c.free), p.cand));
            c.free = c.free.saturating_sub(p.allocated);
            if c.kind == BrickKind::Lvm {
                c.spare = lvm_need(p.size, vol.snapshot_factor, c.spare).spare_after;
            }
            self.order.insert((Reverse(c.free), p.cand));
        }
    }

    /// Undo `commit`s, given the states they replaced, oldest first.
    pub(crate) fn rollback(&mut self, undo: Vec<Undo>) {
        for u in undo.into_iter().rev() {
            let c = &mut self.cands[u.cand];
            self.order.remove(&(Reverse(c.free), u.cand));
            c.free = u.free;
            c.spare = u.spare;
            self.order.insert((Reverse(u.free), u.cand));
        }
    }

    /// Candidates a volume may use (kind and tags), for diagnostics.
    pub(crate) fn eligible_cands(&self, vol: &Volume) -> Vec<usize> {
        (0..self.cands.len())
            .filter(|&i| self.eligible(i, vol))
            .collect()
    }
}
