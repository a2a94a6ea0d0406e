//! Moving bricks off draining storage (`drain: true` on a device or path). For each brick
//! of a kept volume whose home drains, in set order and one at a time per volume (never
//! two bricks of a set in flight): a new brick of the same identity (volume, set,
//! position) on a home the placement rules pick (a node and, with strict zones, a zone no
//! other brick of the set uses; capacity; most free space), `replace-brick ... commit
//! force`, a wait until self-heal reports 0 entries on every brick, then the teardown of
//! the old brick, proven ours from the facts, with `--allow-destroy` (without it the old
//! brick is kept and named: it still holds a full copy).
//!
//! Resuming after a kill anywhere in that chain needs no record: the pieces are found by
//! their names. A new brick built but not swapped in yet is reused where it is; an old
//! brick already swapped out (on draining storage, named for a position the volume now
//! has elsewhere) gets the heal wait and the teardown again, before anything else of the
//! volume.

use std::collections::BTreeMap;

use crate::config::{BrickKind, Volume};
use crate::gather::{NodeFacts, VolumeFacts};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::brick::{Emptied, LvmTeardown, destroy, destroy_dir, destroy_lvm};
use crate::plan::builder::Builder;
use crate::plan::gluster;
use crate::plan::ownership::{dir_brick_path, lv_name, lvm_brick_dir, mount_path};
use crate::plan::placement::place_move;
use crate::plan::proof::{self, Proven, ProvenBrick};

use super::Ctx;
use super::steps::{VolSteps, build_one};

/// How long one apply waits for a moved brick to heal before it fails the step (the next
/// apply waits again: the guard skips the wait once healed).
pub(crate) const HEAL_TIMEOUT_S: u64 = 1800;

/// The candidate a proven brick of `volume` lives on.
fn home(ctx: &Ctx<'_, '_>, pb: &ProvenBrick<'_>) -> Option<usize> {
    ctx.pool.cands.iter().position(|c| {
        c.node == pb.node
            && match &pb.kind {
                Proven::Dir { base, .. } => {
                    c.kind == BrickKind::Directory && c.device.trim_end_matches('/') == base
                }
                Proven::Lvm(p) => c.kind == BrickKind::Lvm && c.vg == p.lv.vg,
            }
    })
}

/// A brick of `volume` at (set, pos) that candidate `i` holds, proven ours, other than
/// the live one (`live`: the node and path gluster has at that position; paths repeat
/// across nodes, VG names and declared paths being the same on every node).
pub(super) enum Copy<'a> {
    Dir(String),
    Lvm {
        vg: String,
        lv: proof::LeftoverLvm<'a>,
    },
}

fn copy_on<'a>(
    ctx: &Ctx<'_, 'a>,
    f: &'a NodeFacts,
    i: usize,
    volume: &str,
    set: u32,
    pos: u32,
    live: (Option<&str>, &str),
) -> Option<Copy<'a>> {
    let c = &ctx.pool.cands[i];
    let cluster = ctx.w.desired.cluster.as_str();
    let is_live = |path: &str| live.0 == Some(c.node.as_str()) && live.1 == path;
    match c.kind {
        BrickKind::Directory => {
            let path = dir_brick_path(&c.device, volume, set, pos);
            (!is_live(&path)
                && proof::leftover_dir_brick(f, cluster, &path, volume, set, pos)
                    .is_ok_and(|there| there))
            .then_some(Copy::Dir(path))
        }
        BrickKind::Lvm => {
            let lv = lv_name(volume, set, pos);
            if is_live(&lvm_brick_dir(&c.vg, &lv)) {
                return None;
            }
            let l = proof::leftover_lvm_brick(f, cluster, &c.node, &c.vg, volume, set, pos).ok()?;
            (l.lv.is_some() || l.pool.is_some()).then(|| Copy::Lvm {
                vg: c.vg.clone(),
                lv: l,
            })
        }
    }
}

/// Old bricks of `vf` an earlier apply swapped out, still on draining storage, waiting for
/// their heal and teardown, as (set, pos, candidate, copy). Read once per volume: when
/// there are any, the heal gate must not hold the volume back for the heal `plan` waits
/// for, and `plan` finishes them.
pub(super) type SwappedOut<'a> = Vec<(u32, u32, usize, Copy<'a>)>;

pub(super) fn swapped_out<'a>(ctx: &Ctx<'_, 'a>, vf: &VolumeFacts) -> SwappedOut<'a> {
    let n = proof::set_size(vf) as usize;
    let mut out = Vec::new();
    for (i, c) in ctx.pool.cands.iter().enumerate() {
        if !c.drain {
            continue;
        }
        let Some(f) = ctx.w.facts.get(c.node.as_str()).copied() else {
            continue;
        };
        for (bi, br) in vf.bricks.iter().enumerate() {
            let (set, pos) = ((bi / n) as u32, (bi % n) as u32);
            // the live brick at this position lives elsewhere (or at another path here)
            let live = (ctx.w.node_of_host(&br.host), br.path.as_str());
            if let Some(copy) = copy_on(ctx, f, i, &vf.name, set, pos, live) {
                out.push((set, pos, i, copy));
            }
        }
    }
    out
}

/// Plans the moves of `vf`'s bricks off draining storage onto `vs`'s chain (after what
/// it holds), and the completion of the moves an earlier apply left in flight (`left`,
/// from `swapped_out`).
#[allow(clippy::too_many_arguments)]
pub(super) fn plan(
    ctx: &mut Ctx<'_, '_>,
    vs: &mut VolSteps<'_, '_>,
    vol: &Volume,
    vf: &VolumeFacts,
    proven: &[Option<ProvenBrick<'_>>],
    data_brick: u64,
    left: SwappedOut<'_>,
) {
    let name = vs.name;
    let allow = ctx.opts.allow_destroy;
    for (set, pos, i, copy) in left {
        let node = ctx.pool.cands[i].node.clone();
        // kept (no --allow-destroy): nothing to wait for, only the blocker naming it
        let after = if allow {
            vec![heal_wait(vs, set, pos)]
        } else {
            Vec::new()
        };
        let what = match &copy {
            Copy::Dir(path) => {
                destroy_dir(
                    vs.b,
                    name,
                    set,
                    pos,
                    &node,
                    path,
                    after,
                    vs.blocked || !allow,
                    Emptied::No,
                );
                format!("directory {path}")
            }
            Copy::Lvm { vg, lv } => {
                let t = LvmTeardown {
                    vg,
                    lv: lv.lv.map(|x| x.name.as_str()),
                    pool: lv.pool.map(|x| x.name.as_str()),
                    mount: &lv.mount,
                    fstab: &lv.fstab,
                };
                destroy_lvm(
                    vs.b,
                    name,
                    set,
                    pos,
                    &node,
                    &t,
                    after,
                    vs.blocked || !allow,
                    Emptied::No,
                );
                format!("LVM brick in {vg}")
            }
        };
        if !allow {
            keep_blocker(vs.b, name, set, pos, &format!("{what} on {node}"));
        }
    }

    let n = vol.durability.set_size();
    let homes: Vec<Option<usize>> = proven
        .iter()
        .map(|pb| pb.as_ref().and_then(|pb| home(ctx, pb)))
        .collect();
    for (bi, pb) in proven.iter().enumerate() {
        let Some(pb) = pb else { continue };
        let Some(h) = homes[bi] else { continue };
        if !ctx.pool.cands[h].drain {
            continue;
        }
        let (set, pos) = (pb.set, pb.pos);
        let old = vf.bricks[bi].name.clone();
        let addr = Address::brick(name, set, pos);
        if n < 2 {
            vs.b.block(
                BlockerCode::DrainBlocked,
                &addr,
                format!("brick {old} of volume {name} is on draining {}: a brick of a distribute volume has no copy to heal from, so moving it needs `remove-brick` (migrating its files), which brickyard runs to shrink a volume but not to drain a brick", ctx.pool.cands[h].device),
                Some("keep the storage (drop `drain: true`), or move the files by hand: `gluster volume remove-brick` start/status/commit".into()),
            );
            continue;
        }
        let first = (set as usize) * n;
        let others: BTreeMap<usize, usize> = (0..n)
            .filter(|&p| p != pos as usize)
            .filter_map(|p| homes.get(first + p).copied().flatten().map(|c| (p, c)))
            .collect();
        if others.len() + 1 < n {
            vs.b.block(
                BlockerCode::DrainBlocked,
                &addr,
                format!("brick {old} of volume {name} is on draining storage, but where the other bricks of set {set} live is not known, so a new home cannot keep them apart"),
                Some("fix what makes the other nodes' facts incomplete and plan again".into()),
            );
            continue;
        }
        // a new brick an earlier apply built but did not swap in is used as it is
        let br = &vf.bricks[bi];
        let live = (ctx.w.node_of_host(&br.host), br.path.as_str());
        let pinned = (0..ctx.pool.cands.len()).find(|&i| {
            let c = &ctx.pool.cands[i];
            !c.drain
                && c.kind == vol.brick_kind
                && ctx
                    .w
                    .facts
                    .get(c.node.as_str())
                    .is_some_and(|f| copy_on(ctx, f, i, name, set, pos, live).is_some())
        });
        let zones = ctx.w.desired.placement.zone_checking;
        let Some(pick) = place_move(
            &mut ctx.pool,
            zones,
            vol,
            pos as usize,
            data_brick,
            &others,
            pinned,
        ) else {
            vs.b.block(
                BlockerCode::DrainBlocked,
                &addr,
                format!(
                    "brick {old} of volume {name} is on draining storage, and no other declared device or path can take it: it needs a node no other brick of set {set} is on{}, with room for the brick",
                    if zones == crate::config::ZoneChecking::Strict { " (and a zone none of them is in)" } else { "" }
                ),
                Some("declare a device or path on another node (or a new node), or drop `drain: true`".into()),
            );
            continue;
        };
        let Some(new) = build_one(ctx, vs, vol, set, pos, pick) else {
            continue;
        };
        vs.push(
            &format!("replace-brick/s{set}p{pos}"),
            format!("move brick {old} to {} (replace-brick)", new.name),
            gluster::volume_replace_brick(name, &old, &new),
            false,
        );
        let healed = heal_wait(vs, set, pos);
        destroy(vs.b, name, pb, &healed, vs.blocked || !allow, Emptied::No);
        if !allow {
            keep_blocker(vs.b, name, set, pos, &format!("{old} (after the move)"));
        }
    }
}

/// A warning per draining device or path that no brick of any volume uses and that holds
/// nothing of brickyard's any more: the operator may now remove it from the config.
pub(super) fn drained(ctx: &Ctx<'_, '_>, b: &mut Builder) {
    let w = ctx.w;
    for c in ctx.pool.cands.iter().filter(|c| c.drain) {
        let Some(f) = w.facts.get(c.node.as_str()) else {
            continue;
        };
        let (prefix, left) = match c.kind {
            BrickKind::Directory => {
                let p = format!("{}/", c.device.trim_end_matches('/'));
                let left = f.brick_dirs.iter().any(|d| d.path.starts_with(&p));
                (p, left)
            }
            BrickKind::Lvm => (
                format!("{}/", mount_path(&c.vg, "").trim_end_matches('/')),
                f.lvs.iter().any(|l| l.vg == c.vg),
            ),
        };
        let used = w.volumes.values().flat_map(|v| &v.bricks).any(|br| {
            w.node_of_host(&br.host) == Some(c.node.as_str()) && br.path.starts_with(&prefix)
        });
        if !left && !used {
            let what = match c.kind {
                BrickKind::Directory => "path",
                BrickKind::Lvm => "device",
            };
            b.warnings.push(format!(
                "{what} {} on {} is drained: no brick uses it and nothing of brickyard's is left on it; remove it from the config",
                c.device, c.node
            ));
        }
    }
}

/// Pushes the heal wait of the move at (set, pos); returns its step id.
pub(super) fn heal_wait(vs: &mut VolSteps<'_, '_>, set: u32, pos: u32) -> String {
    let name = vs.name;
    vs.push(
        &format!("heal/s{set}p{pos}"),
        format!("wait until {name} has healed (0 entries on every brick)"),
        gluster::volume_heal_wait(name, HEAL_TIMEOUT_S),
        false,
    );
    vs.last.first().cloned().unwrap_or_default()
}

fn keep_blocker(b: &mut Builder, volume: &str, set: u32, pos: u32, what: &str) {
    b.block(
        BlockerCode::DestroyNotAllowed,
        &Address::brick(volume, set, pos),
        format!(
            "the old brick of volume {volume} at set {set}, position {pos}, {what}, is kept once it is swapped out and healed: it still holds a copy of the data"
        ),
        Some("pass --allow-destroy to remove it after the heal (the plan waits for the heal first)".into()),
    );
}
