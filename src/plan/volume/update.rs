//! Diff an existing volume of ours against the config: refuse a layout change or a
//! shrink, mount lost brick mounts again, expand by whole sets of the recorded brick
//! size, mark a half-created volume, set and reset options, start it.

use std::collections::BTreeSet;

use crate::config::{Durability, Rebalance, Volume, VolumeState};
use crate::gather::{TaskKind, VolumeFacts, VolumeStatus};
use crate::units::HumanBytes;

use super::adopt::{self, Adoption};
use super::shrink::{self, Shrink};
use super::steps::{VolSteps, brick_arg, emit_bricks, heal_danger, volume_danger};
use super::{Ctx, migrate, pins, rebuild, remount, tasks};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::{Builder, change};
use crate::plan::capacity::{EXTENT, brick_size, data_bricks_per_set};
use crate::plan::diagnose::{self, Expand};
use crate::plan::gluster::{self, layout};
use crate::plan::health::World;
use crate::plan::model::Action;
use crate::plan::ownership::{OPT_BRICK_SIZE, OPT_CLUSTER, OPT_OPTIONS, is_marker_option};
use crate::plan::placement::{Pick, SetRequest, place_sets};
use crate::plan::proof::{Proven, ProvenBrick};

/// Current layout of an existing volume matches the config?
pub(super) fn same_layout(d: &Durability, vf: &VolumeFacts) -> bool {
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

/// The brick size recorded on the volume (`user.brickyard.brick-size`), if it is one a
/// brick of this cluster could have: a number, at least one extent, and no larger than
/// all block devices of the cluster together. It is node data, written by whoever
/// administers gluster: `0` once divided by zero, `1` asked for 2^34 new sets (finding #7).
fn recorded_brick_size(w: &World<'_>, v: &str) -> Result<u64, String> {
    let b0 = v
        .parse::<u64>()
        .map_err(|_| "is not a whole number of bytes".to_string())?;
    if b0 < EXTENT {
        return Err(format!("is below one LVM extent ({})", HumanBytes(EXTENT)));
    }
    let disks = w
        .facts
        .values()
        .flat_map(|f| &f.block_devices)
        .fold(0u64, |t, d| t.saturating_add(d.size));
    if disks > 0 && b0 > disks {
        return Err(format!(
            "is larger than every disk of the cluster together ({})",
            HumanBytes(disks)
        ));
    }
    Ok(b0)
}

fn bad_size(b: &mut Builder, addr: &Address, name: &str, why: String) {
    b.block(
        BlockerCode::BadRecordedSize,
        addr,
        format!("volume {name}: {why}; brickyard will not plan changes from it"),
        Some(format!(
            "set {OPT_BRICK_SIZE} on the volume back to the size of its data bricks in bytes"
        )),
    );
}

/// How far the volume carries brickyard's marker options.
pub(super) enum Marking<'m, 'a> {
    Marked,
    /// A create of the config interrupted before its marker step.
    Unmarked,
    /// Adopted by this plan: its bricks are marked first, then the volume.
    Adopt(&'m Adoption<'a>),
}

/// Diff an existing volume of ours against the config.
#[allow(clippy::too_many_arguments)]
pub(super) fn update(
    ctx: &mut Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    vf: &VolumeFacts,
    marking: Marking<'_, '_>,
    proven: &[Option<ProvenBrick<'_>>],
    lost: &[usize],
) {
    let w = ctx.w;
    let addr = Address::volume(name);
    if !same_layout(&vol.durability, vf) {
        b.block(
            BlockerCode::LayoutChange,
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
    // at least 1: a JSON desired state skips validation and may say `replica: 0` (finding #7)
    let n = (vol.durability.set_size() as u64).max(1);
    let k0 = (vf.brick_count as u64 / n).max(1);
    let data = data_bricks_per_set(&vol.durability);
    let b0 = match vf.options.get(OPT_BRICK_SIZE) {
        Some(v) => match recorded_brick_size(w, v) {
            Ok(b0) => b0,
            Err(why) => {
                bad_size(
                    b,
                    &addr,
                    name,
                    format!("its {OPT_BRICK_SIZE} option {v:?} {why}"),
                );
                return;
            }
        },
        // the first brick's proven LV (a create interrupted before the marker)
        None => proven
            .first()
            .and_then(Option::as_ref)
            .and_then(|pb| match &pb.kind {
                Proven::Lvm(p) => Some(p.lv.size),
                Proven::Dir { .. } => None,
            })
            .filter(|s| *s > 0)
            .unwrap_or_else(|| brick_size(vol.size, k0, &vol.durability)),
    };
    // node data: the product may not fit in 64 bits (finding #7)
    let Some(per_set) = b0.checked_mul(data).filter(|p| *p > 0) else {
        bad_size(
            b,
            &addr,
            name,
            format!("its brick size {b0} times {data} data bricks per set is out of range"),
        );
        return;
    };
    let Some(cur) = k0.checked_mul(per_set) else {
        bad_size(
            b,
            &addr,
            name,
            format!("{k0} set(s) of {b0}-byte bricks is more than 16 EiB"),
        );
        return;
    };
    let mut nodes: BTreeSet<String> = vf
        .bricks
        .iter()
        .filter_map(|br| w.node_of_host(&br.host))
        .map(str::to_string)
        .collect();

    // expansion: whole new sets of the same brick size; or a shrink by whole sets
    let mut new_sets: Vec<Vec<Pick>> = Vec::new();
    let mut shrinking: Option<Shrink> = None;
    if vol.size > cur && vol.state == VolumeState::Stopped {
        b.block(
            BlockerCode::ExpandStopped,
            &addr,
            format!(
                "volume {name} is declared stopped and the config asks for {} where it holds {}: new bricks need a rebalance, which gluster runs only on a started volume",
                HumanBytes(vol.size),
                HumanBytes(cur)
            ),
            Some(format!(
                "expand it started (`state: present`) and stop it afterwards, or keep its size at {}",
                HumanBytes(cur)
            )),
        );
    } else if vol.size > cur {
        let add = (vol.size - cur).div_ceil(per_set);
        let pins = pins(ctx, name);
        let req = SetRequest {
            first: k0 as u32,
            count: add,
            brick_size: b0,
        };
        let zones = w.desired.placement.zone_checking;
        match place_sets(&mut ctx.pool, zones, vol, req, &pins, &mut Vec::new()) {
            Some(s) => new_sets = s,
            None => {
                let expand = Expand {
                    sets: k0,
                    brick_size: b0,
                    add,
                };
                diagnose::volume_blocker(w, &ctx.pool, b, name, vol, Some(expand));
                return;
            }
        }
    } else if k0 > 1 && vol.size.div_ceil(per_set) < k0 {
        // Growth rounds up to whole sets, so a grown volume holds up to one set more than
        // its size: a shrink is asking for a size a whole set less would hold.
        shrinking = Some(Shrink::new(
            vf,
            k0,
            vol.size.div_ceil(per_set).max(1),
            per_set,
        ));
    } else if k0 == 1 && brick_size(vol.size, k0, &vol.durability) < b0 {
        b.block(
            BlockerCode::Shrink,
            &addr,
            format!(
                "volume {name} holds {} (one set of {} bricks) and the config asks for {}: a volume shrinks by whole sets, and this one has a single set",
                HumanBytes(cur),
                HumanBytes(b0),
                HumanBytes(vol.size)
            ),
            Some(format!("set size to {} (or more); a smaller one-set volume means migrating the data to a new volume", HumanBytes(cur))),
        );
    }
    for p in new_sets.iter().flatten() {
        nodes.insert(ctx.pool.cands[p.cand].node.clone());
    }
    // a move an earlier apply left in flight waits for its own heal (the first step of
    // this volume's chain): that heal does not hold the volume back
    let in_flight = migrate::swapped_out(ctx, vf);
    let removing = shrinking.as_ref().map(|s| &s.bricks[..]);
    // gluster's own moves of a remove-brick in flight fill the heal index as they go
    // (measured on the lab): following it to its commit is not held back by them
    let following = tasks::followed_removal(vf, removing).is_some();
    // a lost brick is offline and missed writes: its rebuild is what heals the set, and
    // the volume's other changes wait for it (they come after it in the chain)
    let lost_names: Vec<&str> = lost.iter().map(|&i| vf.bricks[i].name.as_str()).collect();
    let danger = volume_danger(w, Some(vf), &nodes, &lost_names)
        .or_else(|| tasks::danger(w, vf, removing))
        .or_else(|| {
            (in_flight.is_empty() && !following && lost.is_empty())
                .then(|| heal_danger(w, vf))
                .flatten()
        });
    if let Some(note) = tasks::note(vf, removing) {
        b.warnings.push(note);
    }
    // what the volume keeps: a brick of a later set is left over (`leftover`)
    let wanted = vol.size.div_ceil(per_set).max(1);
    ctx.keep_sets.insert(
        name.to_string(),
        (k0 + new_sets.len() as u64).max(wanted).max(k0) as u32,
    );
    let before = b.steps.len();
    let (brick_steps, refused) =
        emit_bricks(ctx, b, name, vol, k0 as u32, &new_sets, danger.is_some());
    let blocked = danger.is_some() || refused;
    let mut last = remount::remount_bricks(ctx, b, name, vol, proven, blocked);
    if let Marking::Adopt(a) = &marking {
        last.extend(adopt::mark_bricks(w, b, name, a, blocked));
        // the volume is marked once the VGs holding its bricks are ours too
        for pb in &a.bricks {
            if let Proven::Lvm(p) = &pb.kind {
                let vg_step = ctx
                    .pool
                    .cands
                    .iter()
                    .find(|c| c.node == pb.node && c.vg == p.lv.vg)
                    .and_then(|c| c.ready_step.clone());
                last.extend(vg_step.filter(|s| !last.contains(s)));
            }
        }
    }
    let Some(runner) = w.runner.clone() else {
        return;
    };
    let mut vs = VolSteps {
        b,
        name,
        runner: &runner,
        action: match marking {
            Marking::Adopt(_) => Action::Adopt,
            _ => Action::Update,
        },
        blocked,
        last,
        sets: Vec::new(),
    };
    if !matches!(marking, Marking::Marked) {
        vs.set_option(OPT_CLUSTER, &w.desired.cluster, None);
        vs.set_option(OPT_BRICK_SIZE, &b0.to_string(), None);
    }
    rebuild::plan(ctx, &mut vs, vol, vf, proven, b0, lost);
    migrate::plan(ctx, &mut vs, vol, vf, proven, b0, in_flight);
    if let Some(s) = &shrinking {
        shrink::plan(ctx, &mut vs, vol, vf, proven, s);
    }
    if !new_sets.is_empty() {
        let mut deps = brick_steps;
        let mut bricks = Vec::new();
        for (si, picks) in new_sets.iter().enumerate() {
            for (pos, p) in picks.iter().enumerate() {
                let c = &ctx.pool.cands[p.cand];
                if let Some(pr) = ctx.probes.get(&c.node) {
                    deps.push(pr.clone());
                }
                bricks.push(brick_arg(ctx, name, k0 as u32 + si as u32, pos as u32, p));
            }
        }
        deps.sort();
        deps.dedup();
        vs.last.extend(deps);
        vs.push(
            "add-brick",
            format!(
                "add {} set(s) of {} bricks to {name}",
                new_sets.len(),
                HumanBytes(b0)
            ),
            gluster::volume_add_brick(name, &bricks),
            false,
        );
        vs.b.with_changes(vec![
            change(
                "size",
                Some(&HumanBytes(cur).to_string()),
                Some(
                    &HumanBytes(
                        cur.saturating_add((new_sets.len() as u64).saturating_mul(per_set)),
                    )
                    .to_string(),
                ),
            ),
            change(
                "sets",
                Some(&k0.to_string()),
                Some(&(k0 + new_sets.len() as u64).to_string()),
            ),
        ]);
        let previous = vf
            .task
            .as_ref()
            .filter(|t| t.kind == TaskKind::Rebalance)
            .map(|t| t.id.as_str());
        vs.push(
            "rebalance",
            match vol.rebalance {
                Rebalance::FixLayout => format!(
                    "start a fix-layout rebalance of {name}: new files may land on the new bricks (`rebalance: full` moves old ones too)"
                ),
                Rebalance::Full => {
                    format!("start rebalancing {name}: files move onto the new bricks")
                }
            },
            gluster::volume_rebalance_start(name, vol.rebalance, previous),
            false,
        );
    }
    // options: set where what is set on the volume differs (or nothing is set: the
    // declared value is then pinned, whatever the default); reset what we set before
    for (k, v) in &vol.options {
        let live = vf.options.get(k);
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
            let old = vf.options.get(*k);
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
    // the declared state last: a volume is stopped after its changes, started after them
    let old = format!("{:?}", vf.status).to_lowercase();
    match vol.state {
        VolumeState::Present if vf.status != VolumeStatus::Started => {
            vs.start();
            vs.b.with_changes(vec![change("status", Some(&old), Some("started"))]);
        }
        VolumeState::Stopped if vf.status == VolumeStatus::Started => {
            vs.stop();
            vs.b.with_changes(vec![change("status", Some(&old), Some("stopped"))]);
        }
        _ => {}
    }
    vs.flush();
    // a remove-brick the config does not ask for will take bricks away once committed:
    // the cluster is about to differ from the config, so the plan never says "No changes"
    let unasked = tasks::unasked_removal(vf, removing).is_some();
    if let Some((code, why)) = danger
        && (b.steps.len() > before || unasked)
    {
        b.block(
            code,
            &addr,
            format!("changes to volume {name} are held back: {why}"),
            None,
        );
    }
}
