//! What create, update and delete of a volume share: the chain of gluster steps on the
//! runner (`VolSteps`), the new bricks' placements and brick steps, brick names as
//! gluster sees them, and the node health problems that hold a volume's steps back.

use std::collections::BTreeSet;

use crate::config::{BrickKind, Durability, Volume};
use crate::gather::{VolumeFacts, VolumeStatus};

use super::Ctx;
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::brick::{self, NewBrick};
use crate::plan::builder::{Builder, StepSpec, change};
use crate::plan::capacity::is_arbiter;
use crate::plan::device::Candidate;
use crate::plan::facts::Need;
use crate::plan::gluster::{self, BrickArg, GlusterCmd};
use crate::plan::health::World;
use crate::plan::model::{Action, BrickPlacement, Change, Guard};
use crate::plan::ownership::is_marker_option;
use crate::plan::placement::Pick;
use crate::plan::proof;

/// Node health problems that endanger steps on this volume.
/// `lost`: bricks known to be down and about to be rebuilt (`rebuild`), whose offline
/// state is what the plan mends, not a reason to hold it back.
pub(super) fn volume_danger(
    w: &World<'_>,
    vf: Option<&VolumeFacts>,
    nodes: &BTreeSet<String>,
    lost: &[&str],
) -> Option<(BlockerCode, String)> {
    if w.runner.is_none() {
        return Some((
            BlockerCode::NoGlusterNode,
            "no node can run gluster commands".into(),
        ));
    }
    for n in nodes {
        if let Some(why) = w.unhealthy.get(n) {
            return Some((
                BlockerCode::NodeUnhealthy,
                format!("node {n} holds bricks of it and is {why}"),
            ));
        }
    }
    if let Some(vf) = vf {
        for br in &vf.bricks {
            match w.node_of_host(&br.host) {
                None => {
                    return Some((
                        BlockerCode::UnknownBrickHost,
                        format!(
                            "brick {} is on host {} which is not a declared node",
                            br.name, br.host
                        ),
                    ));
                }
                Some(n) => {
                    if let Some(why) = w.unhealthy.get(n) {
                        return Some((
                            BlockerCode::NodeUnhealthy,
                            format!("brick {} is on node {n}, which is {why}", br.name),
                        ));
                    }
                    if let Some(why) = w.unknown(Need::Brick {
                        node: n,
                        path: &br.path,
                    }) {
                        return Some((
                            BlockerCode::FactsIncomplete,
                            format!("the state of brick {} on {n} is unknown: {why}", br.name),
                        ));
                    }
                }
            }
            if vf.status == VolumeStatus::Started && !lost.contains(&br.name.as_str()) {
                match br.online {
                    Some(true) => {}
                    Some(false) => {
                        return Some((
                            BlockerCode::BrickOffline,
                            format!("brick {} is offline", br.name),
                        ));
                    }
                    None => {
                        return Some((
                            BlockerCode::FactsIncomplete,
                            format!(
                                "whether brick {} is online is unknown: the cluster's `volume status` did not report it; plan again",
                                br.name
                            ),
                        ));
                    }
                }
            }
        }
    }
    None
}

/// The heal gate of a change to a live volume: a brick whose heal index holds entries
/// has copies on other bricks that it missed (or writes in flight), and an expansion,
/// option change or restart now would act on a set that is not whole. Every such brick
/// is named with its count; a node whose heal index could not be read holds the volume
/// back too (unknown is not "nothing pending").
pub(super) fn heal_danger(w: &World<'_>, vf: &VolumeFacts) -> Option<(BlockerCode, String)> {
    if vf.status != VolumeStatus::Started || proof::set_size(vf) < 2 {
        return None;
    }
    let mut pending = Vec::new();
    for br in &vf.bricks {
        let Some(f) = w.node_of_host(&br.host).and_then(|n| w.facts.get(n)) else {
            continue;
        };
        if let Some(why) = f.section_errors.get("heal_index") {
            return Some((
                BlockerCode::FactsIncomplete,
                format!("the heal state of brick {} is unknown: {why}", br.name),
            ));
        }
        match f.heal_index.get(&br.path) {
            Some(n) if *n > 0 => pending.push(format!("{}: {n}", br.name)),
            _ => {}
        }
    }
    (!pending.is_empty()).then(|| {
        (
            BlockerCode::HealPending,
            format!(
                "entries wait in the heal index (pending self-heal, or writes in flight): {}; wait until `gluster volume heal {} info summary` shows 0 entries on every brick and plan again",
                pending.join(", "),
                vf.name
            ),
        )
    })
}

pub(super) fn brick_name(
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
        brick::brick_path(kind, vg_or_dir, vol, set, pos)
    )
}

/// The `host:/path` gluster gets for a picked candidate, and whether it needs `force`.
pub(super) fn brick_arg(ctx: &Ctx<'_, '_>, name: &str, set: u32, pos: u32, p: &Pick) -> BrickArg {
    let c = &ctx.pool.cands[p.cand];
    BrickArg {
        name: brick_name(ctx, &c.node, c.kind, vg_or_dir(c), name, set, pos),
        on_root_fs: c.on_root_fs,
    }
}

/// Placements and brick steps for new sets starting at set index `first`. Anything the
/// node already has under a new brick's names must be proven ours first (`proof`): a
/// brick that is not gets an `ownership_unproven` blocker and no steps at all (never a
/// mkfs on someone's LV), and every other step of the volume is held back. Returns the
/// last brick step ids, and whether the volume's steps must be held back.
pub(super) fn emit_bricks(
    ctx: &Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    first: u32,
    sets: &[Vec<Pick>],
    blocked: bool,
) -> (Vec<String>, bool) {
    let list: Vec<(u32, u32, Pick)> = sets
        .iter()
        .enumerate()
        .flat_map(|(si, picks)| {
            picks
                .iter()
                .enumerate()
                .map(move |(pos, p)| (first + si as u32, pos as u32, *p))
        })
        .collect();
    emit_brick_list(ctx, b, name, vol, &list, blocked)
}

/// One new brick at (set, pos) on `pick` for a step of `vs` that takes it into the volume
/// (a move's replace-brick, a lost brick's reset-brick): its steps built, the next step of
/// `vs` waiting for them; how gluster will name it. None when what its node has there is
/// not provably ours (the blocker is pushed).
pub(super) fn build_one(
    ctx: &Ctx<'_, '_>,
    vs: &mut VolSteps<'_, '_>,
    vol: &Volume,
    set: u32,
    pos: u32,
    pick: Pick,
) -> Option<BrickArg> {
    let (built, refused) =
        emit_brick_list(ctx, vs.b, vs.name, vol, &[(set, pos, pick)], vs.blocked);
    if refused {
        return None;
    }
    vs.last.extend(built);
    Some(brick_arg(ctx, vs.name, set, pos, &pick))
}

/// `emit_bricks` for bricks given one by one as (set, position, pick): the sets of an
/// expansion, or the new home of one moved brick.
pub(super) fn emit_brick_list(
    ctx: &Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    list: &[(u32, u32, Pick)],
    blocked: bool,
) -> (Vec<String>, bool) {
    let cluster = ctx.w.desired.cluster.as_str();
    let mut have = Vec::new();
    for &(set, pos, p) in list {
        let c = &ctx.pool.cands[p.cand];
        let f = ctx.w.facts.get(c.node.as_str()).copied();
        let r = match c.kind {
            BrickKind::Lvm => proof::new_lvm_brick(f, cluster, &c.vg, name, set, pos),
            BrickKind::Directory => proof::new_dir_brick(f, cluster, &c.device, name, set, pos),
        };
        if let Err(e) = &r {
            b.block(
                BlockerCode::OwnershipUnproven,
                &Address::brick(name, set, pos),
                format!(
                    "brick {} of volume {name} (set {set}, position {pos}) would reuse what node {} already has, which is not provably brickyard's: {e}",
                    brick_name(ctx, &c.node, c.kind, vg_or_dir(c), name, set, pos),
                    c.node
                ),
                Some("it may be someone else's data: rename or remove it by hand if it is not needed, or give the brick another device or path".into()),
            );
        }
        have.push(r.ok());
    }
    let refused = have.iter().any(Option::is_none);
    let blocked = blocked || refused;
    let mut last = Vec::new();
    for (&(set, pos, p), existing) in list.iter().zip(have) {
        let c = &ctx.pool.cands[p.cand];
        let vg_or_dir = vg_or_dir(c);
        b.placements.push(BrickPlacement {
            address: Address::brick(name, set, pos),
            volume: name.to_string(),
            set,
            position: pos,
            node: c.node.clone(),
            device: c.device.clone(),
            zone: c.zone,
            arbiter: is_arbiter(&vol.durability, pos as usize),
            size: p.size,
            allocated: p.allocated,
            device_free_before: p.free_before,
            device_free_after: p.free_before - p.allocated.min(p.free_before),
            brick: brick_name(ctx, &c.node, c.kind, vg_or_dir, name, set, pos),
        });
        let Some(existing) = existing else {
            continue;
        };
        let ids = brick::create(
            b,
            &NewBrick {
                cluster,
                volume: name,
                set,
                pos,
                node: &c.node,
                kind: c.kind,
                vg_or_dir,
                size: p.size,
                snapshot_factor: vol.snapshot_factor,
                after: c.ready_step.iter().cloned().collect(),
                blocked,
                facts: ctx.w.facts.get(c.node.as_str()).copied(),
                have: existing,
                in_volume: false,
            },
        );
        last.extend(ids);
    }
    last.sort();
    last.dedup();
    (last, refused)
}

/// The VG (LVM) or declared directory a candidate's bricks go in.
fn vg_or_dir(c: &Candidate) -> &str {
    if c.kind == BrickKind::Lvm {
        &c.vg
    } else {
        &c.device
    }
}

/// Gluster steps of one volume, chained in order on the runner node.
pub(super) struct VolSteps<'b, 'n> {
    pub(super) b: &'b mut Builder,
    pub(super) name: &'n str,
    pub(super) runner: &'n str,
    pub(super) action: Action,
    pub(super) blocked: bool,
    /// Step ids the next step waits for.
    pub(super) last: Vec<String>,
    /// Options to set, gathered into one `volume set` step (key, value, value before):
    /// written out by the next other step or by [`VolSteps::flush`].
    pub(super) sets: Vec<(String, String, Option<String>)>,
}

impl VolSteps<'_, '_> {
    /// Push one gluster step after the previous ones (the options gathered so far first).
    pub(super) fn push(&mut self, verb: &str, desc: String, cmd: GlusterCmd, destructive: bool) {
        self.flush();
        self.push_now(verb, desc, vec![cmd.argv], cmd.guard, destructive);
    }

    pub(super) fn push_now(
        &mut self,
        verb: &str,
        desc: String,
        commands: Vec<Vec<String>>,
        guard: Guard,
        destructive: bool,
    ) {
        let addr = Address::volume(self.name);
        let id = self.b.push(
            StepSpec {
                id: format!("{addr}/{verb}"),
                address: &addr,
                action: self.action,
                node: self.runner,
                description: desc,
                commands,
                guard,
                depends_on: std::mem::take(&mut self.last),
                destructive,
            },
            self.blocked,
        );
        self.last = vec![id];
    }

    /// Sets `key` in the volume's next `volume set` step (one per run of sets).
    pub(super) fn set_option(&mut self, key: &str, value: &str, old: Option<&str>) {
        self.sets
            .push((key.to_string(), value.to_string(), old.map(str::to_string)));
    }

    /// The gathered sets as gluster's (key, value) pairs.
    fn pairs(&self) -> Vec<(&str, &str)> {
        self.sets
            .iter()
            .map(|(k, v, _)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// The option changes of the gathered sets, as the plan shows them.
    fn set_changes(&self) -> Vec<Change> {
        self.sets
            .iter()
            .filter(|(k, _, _)| !is_marker_option(k))
            .map(|(k, v, old)| change(&format!("options.{k}"), old.as_deref(), Some(v)))
            .collect()
    }

    /// Writes the gathered sets out as one step (`volume.V/set/<first key>`).
    pub(super) fn flush(&mut self) {
        let Some(first) = self.sets.first().map(|s| s.0.clone()) else {
            return;
        };
        let changes = self.set_changes();
        let pairs = self.pairs();
        let desc = format!(
            "set {}",
            pairs
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let cmd = gluster::volume_set(self.name, &pairs);
        self.sets.clear();
        self.push_now(
            &format!("set/{first}"),
            desc,
            vec![cmd.argv],
            cmd.guard,
            false,
        );
        if !changes.is_empty() {
            self.b.with_changes(changes);
        }
    }

    /// A new volume in one step: create it with `bricks`, set the gathered options, start
    /// it when `start` (`gluster::volume_build`). `changes` are the volume's own (size,
    /// layout, ...); the options' changes are added to them.
    pub(super) fn build(
        &mut self,
        desc: String,
        d: &Durability,
        bricks: &[BrickArg],
        mut changes: Vec<Change>,
        start: bool,
    ) {
        changes.extend(self.set_changes());
        let pairs = self.pairs();
        let (cmds, check) = gluster::volume_build(self.name, d, bricks, &pairs, start);
        self.sets.clear();
        self.push_now("create", desc, cmds, check, false);
        self.b.with_changes(changes);
    }

    pub(super) fn reset_option(&mut self, key: &str, old: Option<&str>) {
        let name = self.name;
        self.push(
            &format!("reset/{key}"),
            format!("reset {key} to its default"),
            gluster::volume_reset(name, key),
            false,
        );
        if !is_marker_option(key) {
            self.b
                .with_changes(vec![change(&format!("options.{key}"), old, None)]);
        }
    }

    pub(super) fn start(&mut self) {
        let name = self.name;
        self.push(
            "start",
            format!("start volume {name}"),
            gluster::volume_start(name),
            false,
        );
    }

    /// `volume stop`: the data stays on the bricks; clients lose the volume until it is
    /// started again.
    pub(super) fn stop(&mut self) {
        let name = self.name;
        self.push(
            "stop",
            format!("stop volume {name} (declared `state: stopped`; clients lose access, the data stays)"),
            gluster::volume_stop(name),
            false,
        );
    }
}
