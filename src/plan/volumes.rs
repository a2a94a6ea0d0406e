//! Per volume: create (choose the set count, place, build bricks, create, mark, set
//! options, start), or diff an existing managed volume (expand, start, options), or
//! delete one the config no longer wants (blocked unless allowed). Unmarked volumes are
//! foreign and never touched.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{BrickKind, Durability, Volume, VolumeState};
use crate::gather::{VolumeFacts, VolumeStatus};
use crate::units::HumanBytes;

use super::PlanOptions;
use super::bricks::{self, NewBrick, OldBrick};
use super::builder::{Builder, StepSpec, argv, change, sh};
use super::capacity::{brick_size, data_bricks_per_set, is_arbiter, position_size, set_range};
use super::diagnose;
use super::health::World;
use super::model::{Action, BrickPlacement};
use super::ownership::{
    MOUNT_ROOT, OPT_BRICK_SIZE, OPT_CLUSTER, OPT_OPTIONS, brick_identity, dir_brick_path,
    is_marker_option, lv_name, lvm_safe,
};
use super::placement::{Pick, Pool, Want};
use crate::config::names;

/// How many set counts past the smallest allowed one are tried before giving up: more
/// sets make smaller bricks that fit more holes, but past a few dozen the answer is no.
const K_TRIES: u64 = 32;

pub(crate) struct Ctx<'a, 'w> {
    pub w: &'a World<'w>,
    pub opts: &'a PlanOptions,
    pub pool: Pool,
    /// Probe step id per node not yet in the pool.
    pub probes: BTreeMap<String, String>,
    /// Half-built bricks by volume (see `pin_index`).
    pub pins: BTreeMap<String, Pins>,
}

pub(crate) fn layout(d: &Durability) -> String {
    match *d {
        Durability::None => "distribute".into(),
        Durability::Replicate {
            replica,
            arbiter: false,
        } => format!("replica {replica}"),
        Durability::Replicate {
            replica,
            arbiter: true,
        } => format!("replica {replica} arbiter 1"),
        Durability::Disperse { data, redundancy } => format!("disperse {data}+{redundancy}"),
    }
}

fn layout_args(d: &Durability) -> Vec<String> {
    match *d {
        Durability::None => vec![],
        Durability::Replicate { replica, arbiter } => {
            let mut v = argv(&["replica", &replica.to_string()]);
            if arbiter {
                v.extend(argv(&["arbiter", "1"]));
            }
            v
        }
        Durability::Disperse { data, redundancy } => argv(&[
            "disperse-data",
            &data.to_string(),
            "redundancy",
            &redundancy.to_string(),
        ]),
    }
}

fn gluster(words: &[&str]) -> Vec<String> {
    let mut v = argv(&["gluster", "--mode=script"]);
    v.extend(argv(words));
    v
}

/// Is this volume ours: marked with our cluster, or a half-created volume of the config
/// whose bricks all carry brickyard's names for it (interrupted before the marker).
fn ownership(w: &World<'_>, vf: &VolumeFacts) -> Result<bool, Option<String>> {
    match vf.options.get(OPT_CLUSTER) {
        Some(c) if *c == w.desired.cluster => Ok(true),
        Some(c) => Err(Some(c.clone())),
        None => {
            let declared = w.desired.volumes.contains_key(&vf.name);
            let ours = !vf.bricks.is_empty()
                && vf
                    .bricks
                    .iter()
                    .all(|br| is_our_brick_path(&vf.name, &br.path));
            if declared && ours {
                Ok(false)
            } else {
                Err(None)
            }
        }
    }
}

/// A brick path brickyard would have made for this volume (LVM or directory brick).
fn is_our_brick_path(volume: &str, path: &str) -> bool {
    let lvm = path
        .strip_prefix(MOUNT_ROOT)
        .and_then(|r| r.strip_suffix("/brick"))
        .and_then(|r| r.rsplit('/').next())
        .and_then(|lv| lv.strip_prefix(&format!("brick_{}_", lvm_safe(volume))))
        .is_some();
    let dir = path.rsplit_once('/').is_some_and(|(head, last)| {
        head.ends_with(&format!("/{volume}")) && last.starts_with('s') && last.contains('p')
    });
    lvm || dir
}

pub(crate) fn plan_all(ctx: &mut Ctx<'_, '_>, b: &mut Builder) {
    let w = ctx.w;
    // volumes on the cluster that are not ours: listed, never touched
    for (name, vf) in &w.volumes {
        if let Err(owner) = ownership(w, vf) {
            let who = match owner {
                Some(c) => format!("managed by brickyard cluster {c}"),
                None => format!("not marked with {OPT_CLUSTER}"),
            };
            b.foreign(
                format!("volume.{name}"),
                None,
                format!(
                    "{} volume {name} ({} bricks, {:?}) {who}",
                    vf.vol_type, vf.brick_count, vf.status
                )
                .replace("Started", "started")
                .replace("Stopped", "stopped")
                .replace("Created", "created"),
            );
        }
    }
    for (name, vol) in &w.desired.volumes {
        let addr = format!("volume.{name}");
        if names::volume_name(name).is_err() {
            b.block(
                "invalid_name",
                &addr,
                format!("volume name {name:?} is not a plain name"),
                None,
            );
            continue;
        }
        match (w.volumes.get(name.as_str()), vol.state) {
            (Some(vf), state) => match ownership(w, vf) {
                Ok(marked) => match state {
                    VolumeState::Present => existing(ctx, b, name, vol, vf, marked),
                    VolumeState::Absent => {
                        delete(ctx, b, name, vf, vol.protect, "has `state: absent`")
                    }
                },
                Err(owner) => {
                    if state == VolumeState::Present {
                        let why = match owner {
                            Some(c) => format!("it belongs to brickyard cluster {c}"),
                            None => format!(
                                "it has no {OPT_CLUSTER} option and its bricks are not brickyard's"
                            ),
                        };
                        b.block(
                            "foreign_conflict",
                            &addr,
                            format!("volume {name} already exists and is not managed by this cluster: {why}"),
                            Some(format!(
                                "rename the volume in the config, or adopt it deliberately with `gluster volume set {name} {OPT_CLUSTER} {}` if its layout matches",
                                w.desired.cluster
                            )),
                        );
                    }
                }
            },
            (None, VolumeState::Present) => create(ctx, b, name, vol),
            (None, VolumeState::Absent) => {}
        }
    }
    // managed volumes the config dropped
    for (name, vf) in &w.volumes {
        if !w.desired.volumes.contains_key(*name) && ownership(w, vf) == Ok(true) {
            delete(ctx, b, name, vf, false, "is no longer in the config");
        }
    }
}

/// Node health problems that endanger steps on this volume.
fn volume_danger(
    w: &World<'_>,
    vf: Option<&VolumeFacts>,
    nodes: &BTreeSet<String>,
) -> Option<(String, String)> {
    if w.runner.is_none() {
        return Some((
            "no_gluster_node".into(),
            "no node can run gluster commands".into(),
        ));
    }
    for n in nodes {
        if let Some(why) = w.unhealthy.get(n) {
            return Some((
                "node_unhealthy".into(),
                format!("node {n} holds bricks of it and is {why}"),
            ));
        }
    }
    if let Some(vf) = vf {
        for br in &vf.bricks {
            match w.node_of_host(&br.host) {
                None => {
                    return Some((
                        "unknown_brick_host".into(),
                        format!(
                            "brick {} is on host {} which is not a declared node",
                            br.name, br.host
                        ),
                    ));
                }
                Some(n) => {
                    if let Some(why) = w.unhealthy.get(n) {
                        return Some((
                            "node_unhealthy".into(),
                            format!("brick {} is on node {n}, which is {why}", br.name),
                        ));
                    }
                }
            }
            if vf.status == VolumeStatus::Started && br.online == Some(false) {
                return Some((
                    "brick_offline".into(),
                    format!("brick {} is offline", br.name),
                ));
            }
        }
    }
    None
}

/// Pinned positions of half-built bricks, per volume: (set, pos) -> (candidate, size).
pub(crate) type Pins = BTreeMap<(u32, u32), (usize, u64)>;

/// One pass over every candidate's LVs and brick directories, indexed by volume, so a
/// large cluster does not rescan all devices for each volume.
pub(crate) fn pin_index(w: &World<'_>, pool: &Pool) -> BTreeMap<String, Pins> {
    let mut out: BTreeMap<String, Pins> = BTreeMap::new();
    for (i, c) in pool.cands.iter().enumerate() {
        let Some(f) = w.facts.get(c.node.as_str()) else {
            continue;
        };
        match c.kind {
            BrickKind::Lvm => {
                for lv in f.lvs.iter().filter(|l| l.vg == c.vg && l.pool.is_some()) {
                    if let Some((v, s, p)) = brick_identity(&lv.tags)
                        && lv.name == lv_name(&v, s, p)
                    {
                        out.entry(v).or_default().insert((s, p), (i, lv.size));
                    }
                }
            }
            BrickKind::Directory => {
                let base = format!("{}/", c.device.trim_end_matches('/'));
                for d in &f.brick_dirs {
                    let Some((volume, last)) =
                        d.strip_prefix(&base).and_then(|r| r.split_once('/'))
                    else {
                        continue;
                    };
                    if let Some((s, p)) = last.strip_prefix('s').and_then(|r| r.split_once('p'))
                        && let (Ok(s), Ok(p)) = (s.parse::<u32>(), p.parse::<u32>())
                        && *d == dir_brick_path(&c.device, volume, s, p)
                    {
                        out.entry(volume.to_string())
                            .or_default()
                            .insert((s, p), (i, 0));
                    }
                }
            }
        }
    }
    out
}

fn pins(ctx: &Ctx<'_, '_>, volume: &str) -> Pins {
    ctx.pins.get(volume).cloned().unwrap_or_default()
}

/// Cheap necessary conditions (enough distinct nodes, and zones under strict) checked
/// before any search, so an impossible layout fails in one pass, not a search.
fn layout_possible(pool: &Pool, zones: crate::config::ZoneChecking, vol: &Volume) -> bool {
    let n = vol.durability.set_size();
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    let mut zs: BTreeSet<u32> = BTreeSet::new();
    for i in pool.eligible_cands(vol) {
        nodes.insert(&pool.cands[i].node);
        zs.insert(pool.cands[i].zone);
        if nodes.len() >= n && (zones == crate::config::ZoneChecking::None || zs.len() >= n) {
            return true;
        }
    }
    false
}

/// Place `sets` new sets (indices `first..first+sets`) of `data_brick` bricks; all or nothing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn place_sets(
    pool: &mut Pool,
    zones: crate::config::ZoneChecking,
    vol: &Volume,
    first: u32,
    sets: u64,
    data_brick: u64,
    pins: &BTreeMap<(u32, u32), (usize, u64)>,
    undo_out: &mut Vec<(usize, u64, u64)>,
) -> Option<Vec<Vec<Pick>>> {
    let n = vol.durability.set_size();
    let wants: Vec<Want> = (0..n)
        .map(|pos| Want {
            pos,
            size: position_size(vol, data_brick, pos),
        })
        .collect();
    let mut undo: Vec<(usize, u64, u64)> = Vec::new();
    let mut out = Vec::new();
    for s in first..first + sets as u32 {
        let pinned: BTreeMap<usize, usize> = (0..n)
            .filter_map(|p| pins.get(&(s, p as u32)).map(|&(ci, _)| (p, ci)))
            .collect();
        match pool.place_set(vol, zones, &wants, &pinned) {
            Some(picks) => {
                for p in &picks {
                    let c = &pool.cands[p.cand];
                    undo.push((p.cand, c.free, c.spare));
                }
                pool.commit(vol, &picks);
                out.push(picks);
            }
            None => {
                pool.rollback(undo);
                return None;
            }
        }
    }
    undo_out.extend(undo);
    Some(out)
}

fn pins_match(
    vol: &Volume,
    pins: &BTreeMap<(u32, u32), (usize, u64)>,
    first: u32,
    sets: u64,
    data_brick: u64,
) -> bool {
    pins.iter().all(|(&(s, p), &(_, size))| {
        s >= first
            && (s as u64) < first as u64 + sets
            && (p as usize) < vol.durability.set_size()
            && (size == 0 || size == position_size(vol, data_brick, p as usize))
    })
}

fn create(ctx: &mut Ctx<'_, '_>, b: &mut Builder, name: &str, vol: &Volume) {
    let w = ctx.w;
    let addr = format!("volume.{name}");
    let place = &w.desired.placement;
    let Some((lo, hi)) = set_range(
        vol.size,
        &vol.durability,
        place.brick_min_size,
        place.brick_max_size,
    ) else {
        let data = data_bricks_per_set(&vol.durability);
        b.block(
            "brick_limits",
            &addr,
            format!(
                "volume {name} ({}, {}) would need bricks of {}, below placement.brick_min_size {}",
                HumanBytes(vol.size),
                layout(&vol.durability),
                HumanBytes(vol.size.div_ceil(data)),
                HumanBytes(place.brick_min_size)
            ),
            Some(format!(
                "raise size to at least {} or lower placement.brick_min_size",
                HumanBytes(place.brick_min_size * data)
            )),
        );
        return;
    };
    let pins = pins(ctx, name);
    let mut found = None;
    let possible = layout_possible(&ctx.pool, place.zone_checking, vol);
    for k in lo..=hi.min(lo + K_TRIES) {
        let bsize = brick_size(vol.size, k, &vol.durability);
        if !possible || !pins_match(vol, &pins, 0, k, bsize) {
            continue;
        }
        if let Some(sets) = place_sets(
            &mut ctx.pool,
            place.zone_checking,
            vol,
            0,
            k,
            bsize,
            &pins,
            &mut Vec::new(),
        ) {
            found = Some((bsize, sets));
            break;
        }
    }
    let Some((bsize, sets)) = found else {
        if !pins.is_empty()
            && !(lo..=hi.min(lo + K_TRIES))
                .any(|k| pins_match(vol, &pins, 0, k, brick_size(vol.size, k, &vol.durability)))
        {
            b.block(
                "half_applied_mismatch",
                &addr,
                format!(
                    "volume {name} was partly built by an earlier apply with a different layout or size ({} brick LVs/directories exist)",
                    pins.len()
                ),
                Some("restore the size it was planned with, or remove the leftover brick LVs by hand".into()),
            );
            return;
        }
        diagnose::volume_blocker(ctx, b, name, vol, None);
        return;
    };
    let nodes: BTreeSet<String> = sets
        .iter()
        .flatten()
        .map(|p| ctx.pool.cands[p.cand].node.clone())
        .collect();
    let danger = volume_danger(w, None, &nodes);
    let blocked = danger.is_some();
    let brick_steps = emit_bricks(ctx, b, name, vol, 0, &sets, blocked);
    let Some(runner) = w.runner.clone() else {
        return;
    };
    let mut deps = brick_steps;
    for n in &nodes {
        if let Some(p) = ctx.probes.get(n) {
            deps.push(p.clone());
        }
    }
    let mut create = gluster(&["volume", "create", name]);
    create.extend(layout_args(&vol.durability));
    let mut force = false;
    for (set, picks) in sets.iter().enumerate() {
        for (pos, p) in picks.iter().enumerate() {
            let c = &ctx.pool.cands[p.cand];
            force |= c.on_root_fs;
            let vg_or_dir = if c.kind == BrickKind::Lvm {
                &c.vg
            } else {
                &c.device
            };
            create.push(brick_name(
                ctx, &c.node, c.kind, vg_or_dir, name, set as u32, pos as u32,
            ));
        }
    }
    if force {
        // gluster refuses bricks on the root filesystem without `force`
        create.push("force".into());
    }
    let mut vsteps = VolSteps {
        b,
        name,
        runner: &runner,
        action: Action::Create,
        blocked,
        last: deps,
    };
    vsteps.push(
        "create",
        format!(
            "create volume {name} ({}, {} set(s) of {} bricks)",
            layout(&vol.durability),
            sets.len(),
            HumanBytes(bsize)
        ),
        create,
        (
            "volume info finds it".into(),
            gluster(&["volume", "info", name]),
        ),
        false,
    );
    vsteps.b.with_changes(vec![
        change("size", None, Some(&HumanBytes(vol.size).to_string())),
        change("layout", None, Some(&layout(&vol.durability))),
        change("sets", None, Some(&sets.len().to_string())),
        change("brick_size", None, Some(&HumanBytes(bsize).to_string())),
    ]);
    vsteps.set_option(OPT_CLUSTER, &w.desired.cluster, None);
    vsteps.set_option(OPT_BRICK_SIZE, &bsize.to_string(), None);
    for (k, v) in &vol.options {
        vsteps.set_option(k, v, None);
    }
    if !vol.options.is_empty() {
        let keys = vol.options.keys().cloned().collect::<Vec<_>>().join(",");
        vsteps.set_option(OPT_OPTIONS, &keys, None);
    }
    vsteps.start();
    if let Some((code, why)) = danger {
        b.block(
            &code,
            &addr,
            format!("steps for volume {name} are held back: {why}"),
            None,
        );
    }
}

fn brick_name(
    ctx: &Ctx<'_, '_>,
    node: &str,
    kind: BrickKind,
    vg_or_dir: &str,
    vol: &str,
    set: u32,
    pos: u32,
) -> String {
    let host = ctx
        .w
        .desired
        .nodes
        .get(node)
        .map(|n| n.storage.as_str())
        .unwrap_or(node);
    format!(
        "{host}:{}",
        bricks::brick_path(kind, vg_or_dir, vol, set, pos)
    )
}

/// Placements and brick steps for new sets starting at set index `first`.
fn emit_bricks(
    ctx: &Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    first: u32,
    sets: &[Vec<Pick>],
    blocked: bool,
) -> Vec<String> {
    let mut last = Vec::new();
    for (si, picks) in sets.iter().enumerate() {
        let set = first + si as u32;
        for (pos, p) in picks.iter().enumerate() {
            let c = &ctx.pool.cands[p.cand];
            let vg_or_dir = if c.kind == BrickKind::Lvm {
                c.vg.as_str()
            } else {
                c.device.as_str()
            };
            let addr = bricks::address(name, set, pos as u32);
            b.placements.push(BrickPlacement {
                address: addr,
                volume: name.to_string(),
                set,
                position: pos as u32,
                node: c.node.clone(),
                device: c.device.clone(),
                zone: c.zone,
                arbiter: is_arbiter(&vol.durability, pos),
                size: p.size,
                allocated: p.allocated,
                device_free_before: p.free_before,
                device_free_after: p.free_before - p.allocated.min(p.free_before),
                brick: brick_name(ctx, &c.node, c.kind, vg_or_dir, name, set, pos as u32),
            });
            let ids = bricks::create(
                b,
                &NewBrick {
                    cluster: &ctx.w.desired.cluster,
                    volume: name,
                    set,
                    pos: pos as u32,
                    node: &c.node,
                    kind: c.kind,
                    vg_or_dir,
                    size: p.size,
                    snapshot_factor: vol.snapshot_factor,
                    after: c.ready_step.iter().cloned().collect(),
                    blocked,
                    facts: ctx.w.facts.get(c.node.as_str()).copied(),
                    in_volume: false,
                },
            );
            last.extend(ids);
        }
    }
    last.sort();
    last.dedup();
    last
}

/// Gluster steps of one volume, chained in order on the runner node.
struct VolSteps<'b, 'n> {
    b: &'b mut Builder,
    name: &'n str,
    runner: &'n str,
    action: Action,
    blocked: bool,
    last: Vec<String>,
}

impl VolSteps<'_, '_> {
    fn push(
        &mut self,
        verb: &str,
        desc: String,
        cmd: Vec<String>,
        guard: (String, Vec<String>),
        destructive: bool,
    ) {
        let addr = format!("volume.{}", self.name);
        let id = self.b.push(
            StepSpec {
                id: format!("{addr}/{verb}"),
                address: &addr,
                action: self.action,
                node: self.runner,
                description: desc,
                commands: vec![cmd],
                guard,
                depends_on: std::mem::take(&mut self.last),
                destructive,
            },
            self.blocked,
        );
        self.last = vec![id];
    }

    fn set_option(&mut self, key: &str, value: &str, old: Option<&str>) {
        let name = self.name;
        self.push(
            &format!("set/{key}"),
            format!("set {key} = {value}"),
            gluster(&["volume", "set", name, key, value]),
            (
                "volume get shows the value".into(),
                sh(
                    "test \"$(gluster --mode=script volume get \"$1\" \"$2\" | awk -v k=\"$2\" '$1==k {print $2}')\" = \"$3\"",
                    &[name, key, value],
                ),
            ),
            false,
        );
        if !is_marker_option(key) {
            self.b
                .with_changes(vec![change(&format!("options.{key}"), old, Some(value))]);
        }
    }

    fn reset_option(&mut self, key: &str, old: Option<&str>) {
        let name = self.name;
        self.push(
            &format!("reset/{key}"),
            format!("reset {key} to its default"),
            gluster(&["volume", "reset", name, key]),
            (
                "volume info no longer lists the option".into(),
                sh(
                    "! gluster --mode=script volume info \"$1\" | grep -qF -- \"$2: \"",
                    &[name, key],
                ),
            ),
            false,
        );
        if !is_marker_option(key) {
            self.b
                .with_changes(vec![change(&format!("options.{key}"), old, None)]);
        }
    }

    fn start(&mut self) {
        let name = self.name;
        self.push(
            "start",
            format!("start volume {name}"),
            gluster(&["volume", "start", name]),
            ("volume info says Started".into(), sh(STARTED, &[name])),
            false,
        );
    }
}

const STARTED: &str = "gluster --mode=script volume info \"$1\" | grep -qx 'Status: Started'";

/// Current layout of an existing volume matches the config?
fn same_layout(d: &Durability, vf: &VolumeFacts) -> bool {
    match *d {
        Durability::None => vf.replica_count <= 1 && vf.disperse_count == 0,
        Durability::Replicate { replica, arbiter } => {
            vf.replica_count == replica as u32
                && (vf.arbiter_count > 0) == arbiter
                && vf.disperse_count == 0
        }
        Durability::Disperse { data, redundancy } => {
            vf.disperse_count == (data + redundancy) as u32
                && vf.redundancy_count == redundancy as u32
        }
    }
}

fn existing(
    ctx: &mut Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    vf: &VolumeFacts,
    marked: bool,
) {
    let w = ctx.w;
    let addr = format!("volume.{name}");
    if !same_layout(&vol.durability, vf) {
        b.block(
            "layout_change",
            &addr,
            format!(
                "volume {name} is {} ({} bricks) but the config says {}: brickyard does not convert volumes",
                vf.vol_type,
                vf.brick_count,
                layout(&vol.durability)
            ),
            Some("restore the durability in the config, or migrate the data to a new volume".into()),
        );
        return;
    }
    let n = vol.durability.set_size() as u64;
    let k0 = (vf.brick_count as u64 / n).max(1);
    let data = data_bricks_per_set(&vol.durability);
    let b0 = vf
        .options
        .get(OPT_BRICK_SIZE)
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| {
            let br = vf.bricks.first()?;
            let f = w.facts.get(w.node_of_host(&br.host)?)?;
            f.lvs
                .iter()
                .find(|l| l.name == lv_name(name, 0, 0) && l.pool.is_some())
                .map(|l| l.size)
        })
        .unwrap_or_else(|| brick_size(vol.size, k0, &vol.durability));
    let cur = k0 * b0 * data;
    let mut nodes: BTreeSet<String> = vf
        .bricks
        .iter()
        .filter_map(|br| w.node_of_host(&br.host))
        .map(str::to_string)
        .collect();

    // expansion: whole new sets of the same brick size
    let mut new_sets: Vec<Vec<Pick>> = Vec::new();
    if vol.size > cur {
        let add = (vol.size - cur).div_ceil(b0 * data);
        let pins = pins(ctx, name);
        match place_sets(
            &mut ctx.pool,
            w.desired.placement.zone_checking,
            vol,
            k0 as u32,
            add,
            b0,
            &pins,
            &mut Vec::new(),
        ) {
            Some(s) => new_sets = s,
            None => {
                diagnose::volume_blocker(ctx, b, name, vol, Some((k0, b0, add)));
                return;
            }
        }
    } else if brick_size(vol.size, k0, &vol.durability) < b0 {
        b.block(
            "shrink",
            &addr,
            format!(
                "volume {name} holds {} ({k0} set(s) of {} bricks) and the config asks for {}: volumes cannot shrink",
                HumanBytes(cur),
                HumanBytes(b0),
                HumanBytes(vol.size)
            ),
            Some(format!("set size to {} (or more); shrinking means migrating data to a new, smaller volume", HumanBytes(cur))),
        );
    }
    for p in new_sets.iter().flatten() {
        nodes.insert(ctx.pool.cands[p.cand].node.clone());
    }
    let danger = volume_danger(w, Some(vf), &nodes);
    let blocked = danger.is_some();
    let before = b.steps.len();
    let brick_steps = emit_bricks(ctx, b, name, vol, k0 as u32, &new_sets, blocked);
    let remounts = remount_bricks(ctx, b, name, vol, vf, n, blocked);
    let Some(runner) = w.runner.clone() else {
        return;
    };
    let mut vs = VolSteps {
        b,
        name,
        runner: &runner,
        action: Action::Update,
        blocked,
        last: remounts,
    };
    if !marked {
        vs.set_option(OPT_CLUSTER, &w.desired.cluster, None);
        vs.set_option(OPT_BRICK_SIZE, &b0.to_string(), None);
    }
    if !new_sets.is_empty() {
        let mut cmd = gluster(&["volume", "add-brick", name]);
        let mut deps = brick_steps;
        let mut last_brick = String::new();
        for (si, picks) in new_sets.iter().enumerate() {
            for (pos, p) in picks.iter().enumerate() {
                let c = &ctx.pool.cands[p.cand];
                if let Some(pr) = ctx.probes.get(&c.node) {
                    deps.push(pr.clone());
                }
                let vg_or_dir = if c.kind == BrickKind::Lvm {
                    &c.vg
                } else {
                    &c.device
                };
                last_brick = brick_name(
                    ctx,
                    &c.node,
                    c.kind,
                    vg_or_dir,
                    name,
                    k0 as u32 + si as u32,
                    pos as u32,
                );
                cmd.push(last_brick.clone());
                if c.on_root_fs && !cmd.iter().any(|a| a == "force") {
                    cmd.push("force".into());
                }
            }
        }
        if let Some(i) = cmd.iter().position(|a| a == "force") {
            let f = cmd.remove(i);
            cmd.push(f);
        }
        deps.sort();
        deps.dedup();
        vs.last.extend(deps);
        vs.push(
            "add-brick",
            format!("add {} set(s) of {} bricks to {name}", new_sets.len(), HumanBytes(b0)),
            cmd,
            (
                "volume info lists the last new brick".into(),
                sh(
                    "gluster --mode=script volume info \"$1\" | awk -v b=\"$2\" '$2==b {f=1} END {exit !f}'",
                    &[name, &last_brick],
                ),
            ),
            false,
        );
        vs.b.with_changes(vec![
            change(
                "size",
                Some(&HumanBytes(cur).to_string()),
                Some(&HumanBytes(cur + new_sets.len() as u64 * b0 * data).to_string()),
            ),
            change(
                "sets",
                Some(&k0.to_string()),
                Some(&(k0 + new_sets.len() as u64).to_string()),
            ),
        ]);
        vs.push(
            "rebalance",
            format!("start rebalancing {name} onto the new bricks"),
            gluster(&["volume", "rebalance", name, "start"]),
            (
                "a rebalance is running or completed".into(),
                sh("gluster --mode=script volume rebalance \"$1\" status 2>/dev/null | grep -qE 'in progress|completed'", &[name]),
            ),
            false,
        );
    }
    // options: set where the live effective value differs; reset what we set before
    for (k, v) in &vol.options {
        let live = vf.effective_options.get(k).or_else(|| vf.options.get(k));
        if live != Some(v) {
            vs.set_option(k, v, live.map(String::as_str));
        }
    }
    let recorded: BTreeSet<&str> = vf
        .options
        .get(OPT_OPTIONS)
        .map(|s| s.split(',').filter(|k| !k.is_empty()).collect())
        .unwrap_or_default();
    for k in &recorded {
        if !vol.options.contains_key(*k) && !is_marker_option(k) {
            let old = vf.options.get(*k).or_else(|| vf.effective_options.get(*k));
            vs.reset_option(k, old.map(String::as_str));
        }
    }
    let want: BTreeSet<&str> = vol.options.keys().map(String::as_str).collect();
    if want != recorded {
        if want.is_empty() {
            vs.reset_option(OPT_OPTIONS, None);
        } else {
            let keys = want.iter().copied().collect::<Vec<_>>().join(",");
            vs.set_option(OPT_OPTIONS, &keys, None);
        }
    }
    if vf.status != VolumeStatus::Started {
        vs.start();
        let old = format!("{:?}", vf.status).to_lowercase();
        vs.b.with_changes(vec![change("status", Some(&old), Some("started"))]);
    }
    if let Some((code, why)) = danger
        && b.steps.len() > before
    {
        b.block(
            &code,
            &addr,
            format!("changes to volume {name} are held back: {why}"),
            None,
        );
    }
}

/// Bricks of an existing volume whose LV is there but no longer mounted (an operator's
/// umount, a reboot with a lost fstab line): mount them again, and fix fstab, before any
/// other step of the volume. Without this the plan would only say "start the volume",
/// and glusterd fails to find a brick directory that lives inside the missing mount.
/// Only bricks named by our convention are touched; never a mkfs (the data is there).
fn remount_bricks(
    ctx: &Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    vf: &VolumeFacts,
    per_set: u64,
    blocked: bool,
) -> Vec<String> {
    let w = ctx.w;
    let mut ids = Vec::new();
    for (i, br) in vf.bricks.iter().enumerate() {
        let (set, pos) = ((i as u64 / per_set) as u32, (i as u64 % per_set) as u32);
        let Some(node) = w.node_of_host(&br.host) else {
            continue;
        };
        let Some(f) = w.facts.get(node).copied() else {
            continue;
        };
        let Some(mnt) = br
            .path
            .strip_suffix("/brick")
            .filter(|m| m.starts_with(MOUNT_ROOT))
        else {
            continue;
        };
        let Some((vg, lv)) = mnt[MOUNT_ROOT.len()..]
            .trim_start_matches('/')
            .split_once('/')
        else {
            continue;
        };
        if lv != lv_name(name, set, pos) || f.mounts.iter().any(|m| m.target == mnt) {
            continue;
        }
        let Some(l) = f.lvs.iter().find(|l| l.vg == vg && l.name == lv) else {
            continue;
        };
        ids.extend(bricks::create(
            b,
            &NewBrick {
                cluster: &w.desired.cluster,
                volume: name,
                set,
                pos,
                node,
                kind: BrickKind::Lvm,
                vg_or_dir: vg,
                size: l.size,
                snapshot_factor: vol.snapshot_factor,
                after: vec![],
                blocked,
                facts: Some(f),
                in_volume: true,
            },
        ));
    }
    ids
}

fn delete(
    ctx: &mut Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vf: &VolumeFacts,
    protect: bool,
    why: &str,
) {
    let w = ctx.w;
    let addr = format!("volume.{name}");
    let nodes: BTreeSet<String> = vf
        .bricks
        .iter()
        .filter_map(|br| w.node_of_host(&br.host))
        .map(str::to_string)
        .collect();
    let danger = volume_danger(w, Some(vf), &nodes);
    let blocked = protect || !ctx.opts.allow_destroy || danger.is_some();
    if protect {
        b.block(
            "protected",
            &addr,
            format!("volume {name} {why}, but it has `protect: true`: it will not be deleted"),
            Some("set `protect: false` first if the data really is not needed".into()),
        );
    } else if !ctx.opts.allow_destroy {
        b.block(
            "destroy_not_allowed",
            &addr,
            format!(
                "volume {name} {why}: deleting it destroys {} bricks of data",
                vf.bricks.len()
            ),
            Some("pass --allow-destroy to delete it, or put it back in the config".into()),
        );
    } else if let Some((code, d)) = &danger {
        b.block(
            code,
            &addr,
            format!("deleting volume {name} is held back: {d}"),
            None,
        );
    }
    let Some(runner) = w.runner.clone() else {
        return;
    };
    let mut vs = VolSteps {
        b,
        name,
        runner: &runner,
        action: Action::Delete,
        blocked,
        last: vec![],
    };
    if vf.status == VolumeStatus::Started {
        vs.push(
            "stop",
            format!("stop volume {name}"),
            gluster(&["volume", "stop", name]),
            (
                "volume is not started".into(),
                sh(&format!("! {STARTED}"), &[name]),
            ),
            true,
        );
    }
    vs.push(
        "delete",
        format!("delete volume {name}"),
        gluster(&["volume", "delete", name]),
        (
            "volume info no longer finds it".into(),
            sh(
                "! gluster --mode=script volume info \"$1\" >/dev/null 2>&1",
                &[name],
            ),
        ),
        true,
    );
    let status = format!("{:?}", vf.status).to_lowercase();
    vs.b.with_changes(vec![change("status", Some(&status), None)]);
    let del = vs.last.first().cloned().unwrap_or_default();
    let set_size = if vf.replica_count > 1 {
        vf.replica_count as usize
    } else if vf.disperse_count > 0 {
        vf.disperse_count as usize
    } else {
        1
    };
    for (i, br) in vf.bricks.iter().enumerate() {
        let Some(node) = w.node_of_host(&br.host) else {
            continue;
        };
        let node_blocked = blocked || !w.healthy(node);
        bricks::destroy(
            b,
            &OldBrick {
                volume: name,
                set: (i / set_size) as u32,
                pos: (i % set_size) as u32,
                node,
                path: &br.path,
                facts: w.facts.get(node).copied(),
            },
            &del,
            node_blocked,
        );
    }
}
