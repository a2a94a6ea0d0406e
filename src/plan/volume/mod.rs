//! The volume pass, by lifecycle: `create` a volume the cluster lacks (choose the set
//! count, place, build bricks, create, mark, set options, start), `update` an existing
//! managed one (remount lost brick mounts, expand, options, start), `delete` one the
//! config no longer wants (blocked unless allowed). Ownership is proven per brick from
//! facts (`proof`) before any of this: an unmarked volume is foreign and never touched
//! (unless its bricks carry the proofs brickyard writes before `volume create`), and a
//! marked volume with a brick that fails its proof is blocked, never changed or deleted. Placement questions go to `placement`, command lines to `gluster`,
//! brick steps to `brick`, explanations of a refused placement to `diagnose`.

mod adopt;
mod create;
mod delete;
mod homes;
mod leftover;
mod migrate;
mod rebuild;
mod remount;
mod shrink;
mod steps;
mod tasks;
mod update;
mod words;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::names;
use crate::config::{BrickKind, VolumeState};
use crate::gather::VolumeFacts;

use super::address::Address;
use super::blocker_code::BlockerCode;
use super::builder::Builder;
use super::facts::Need;
use super::health::World;
use super::options::PlanOptions;
use super::ownership::{OPT_CLUSTER, brick_identity, dir_brick_path, lv_name, pool_name};
use super::placement::{Pin, Pins, Pool};
use super::proof::{self, ProofFailure, ProvenBrick};
#[cfg(any(test, feature = "test-support"))]
pub(crate) use adopt::MARK as ADOPT_MARK;

/// The volumes the config adopts that exist without brickyard's marker and match their
/// declaration: the ones whose bricks (and VGs) this plan marks. A volume with a brick
/// in a VG another tool made is taken only with every LV in that VG (each a brick of a
/// volume adopted with it): otherwise its bricks would be ours in a VG that is not. The
/// refused, with why, are in the second map.
pub(crate) fn adopting(w: &World<'_>) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut yes: BTreeSet<String> = w
        .volumes
        .values()
        .filter(|vf| !vf.options.contains_key(OPT_CLUSTER))
        .filter(|vf| {
            w.desired.volumes.get(&vf.name).is_some_and(|vol| {
                vol.adopt && vol.state.exists() && adopt::check(w, vol, vf).is_ok()
            })
        })
        .map(|vf| vf.name.clone())
        .collect();
    let mut refused = BTreeMap::new();
    let tag = super::ownership::tag_cluster(&w.desired.cluster);
    loop {
        let mut out = None;
        'vols: for name in &yes {
            let Some(vf) = w.volumes.get(name.as_str()) else {
                continue;
            };
            for br in &vf.bricks {
                let Some(node) = w.node_of_host(&br.host) else {
                    continue;
                };
                let Some(f) = w.facts.get(node) else {
                    continue;
                };
                let Some(h) = proof::lv_holding(f, &br.path) else {
                    continue;
                };
                let ours = f
                    .vgs
                    .iter()
                    .any(|g| g.name == h.lv.vg && g.tags.contains(&tag));
                if ours {
                    continue;
                }
                let (_, others) = proof::vg_split(w, node, f, &h.lv.vg, &yes);
                if !others.is_empty() {
                    out = Some((
                        name.clone(),
                        format!(
                            "brick {}: VG {} on {node} also holds {}, which no volume adopted with it has as a brick; brickyard takes over a VG with every LV in it (adopt those volumes too, or move their data off)",
                            br.name,
                            h.lv.vg,
                            others.join(", ")
                        ),
                    ));
                    break 'vols;
                }
            }
        }
        let Some((name, why)) = out else {
            break;
        };
        yes.remove(&name);
        refused.insert(name, why);
    }
    (yes, refused)
}
use update::Marking;

/// What every volume of the pass shares: the cluster view, the options, the candidate
/// pool (each placed volume takes its space from it) and the peer probes.
pub(crate) struct Ctx<'a, 'w> {
    pub(crate) w: &'a World<'w>,
    pub(crate) opts: &'a PlanOptions,
    pub(crate) pool: Pool,
    /// Probe step id per node not yet in the pool.
    pub(crate) probes: BTreeMap<String, String>,
    /// Half-built bricks by volume (see `pin_index`).
    pub(crate) pins: BTreeMap<String, Pins>,
    /// Sets each kept volume of ours has or is given by this plan (`update`): a proven
    /// brick of it named for a set from there on is left over (a shrink or an expand cut
    /// short), and `leftover` tears it down.
    pub(crate) keep_sets: BTreeMap<String, u32>,
}

/// Whose volume this is, decided from facts only (see `proof`).
enum Owner<'a> {
    /// Marked with our cluster (or, `marked: false`, a create of the config interrupted
    /// before the marker, recognised by proofs written before the volume existed), every
    /// brick proven; `None` for a brick whose node has no facts or is not declared (the
    /// health gate holds every step of the volume back then).
    Ours {
        marked: bool,
        bricks: Vec<Option<ProvenBrick<'a>>>,
        /// Bricks whose directory is gone (or made again, never served) while gluster
        /// reports them offline, on a declared path that holds a filesystem of its own:
        /// lost, rebuilt in place (`rebuild`). A gone one's entry in `bricks` is None.
        lost: Vec<usize>,
    },
    /// Marked with our cluster, but these bricks (index, failure) are not proven ours.
    Unproven(Vec<(usize, ProofFailure)>),
    /// Unmarked, declared with `adopt: true`, and matching its declaration.
    Adopting(adopt::Adoption<'a>),
    /// Unmarked, declared with `adopt: true`, and differing from it: each difference.
    Mismatch(Vec<String>),
    /// Anyone else's: why.
    Foreign(String),
}

fn ownership<'a>(w: &World<'a>, vf: &VolumeFacts) -> Owner<'a> {
    match vf.options.get(OPT_CLUSTER) {
        Some(c) if *c == w.desired.cluster => {
            let mut bricks = Vec::new();
            let mut failed = Vec::new();
            let mut lost = Vec::new();
            for (i, r) in proof::prove_volume(w, vf, false).into_iter().enumerate() {
                match r {
                    Ok(p) => {
                        if matches!(p.kind, proof::Proven::Dir { .. })
                            && rebuild::is_lost(w, vf, i, true)
                        {
                            lost.push(i);
                        }
                        bricks.push(Some(p))
                    }
                    Err(e) if e.is_unknown() => bricks.push(None),
                    Err(ProofFailure::DirMissing { .. }) if rebuild::is_lost(w, vf, i, false) => {
                        bricks.push(None);
                        lost.push(i);
                    }
                    Err(e) => failed.push((i, e)),
                }
            }
            if failed.is_empty() {
                Owner::Ours {
                    marked: true,
                    bricks,
                    lost,
                }
            } else {
                Owner::Unproven(failed)
            }
        }
        Some(c) => Owner::Foreign(format!("managed by brickyard cluster {c}")),
        None => {
            let unmarked = format!("not marked with {OPT_CLUSTER}");
            let Some(vol) = w.desired.volumes.get(&vf.name) else {
                return Owner::Foreign(unmarked);
            };
            if vol.adopt && vol.state.exists() {
                return match adopt::check(w, vol, vf) {
                    Ok(_) if w.adopt_refused.contains_key(&vf.name) => Owner::Mismatch(
                        w.adopt_refused.get(&vf.name).cloned().into_iter().collect(),
                    ),
                    Ok(a) => Owner::Adopting(a),
                    Err(diffs) => Owner::Mismatch(diffs),
                };
            }
            if vf.bricks.is_empty() {
                return Owner::Foreign(unmarked);
            }
            let mut bricks = Vec::new();
            for (br, r) in vf.bricks.iter().zip(proof::prove_volume(w, vf, true)) {
                match r {
                    // marked where its maker put it: an adoption that did not finish,
                    // which only `adopt: true` finishes (never a create's own brick)
                    Ok(ProvenBrick {
                        kind: proof::Proven::Dir { path, base },
                        set,
                        pos,
                        ..
                    }) if path != dir_brick_path(&base, &vf.name, set, pos) => {
                        return Owner::Foreign(format!(
                            "{unmarked}; its brick {} carries brickyard's mark from an adoption that did not finish (add `adopt: true` to finish it)",
                            br.name
                        ));
                    }
                    Ok(p) => bricks.push(Some(p)),
                    Err(e) => {
                        return Owner::Foreign(format!(
                            "{unmarked}, and brick {} is not brickyard's: {e}",
                            br.name
                        ));
                    }
                }
            }
            Owner::Ours {
                marked: false,
                bricks,
                lost: Vec::new(),
            }
        }
    }
}

/// One blocker per brick of a marked volume that failed its proof: nothing of the
/// volume is changed or deleted while any brick is not provably ours.
fn block_unproven(b: &mut Builder, vf: &VolumeFacts, failed: &[(usize, ProofFailure)]) {
    let n = proof::set_size(vf);
    for (i, e) in failed {
        let (set, pos) = ((*i as u32) / n, (*i as u32) % n);
        let name = vf.bricks.get(*i).map(|br| br.name.as_str()).unwrap_or("?");
        b.block(
            BlockerCode::OwnershipUnproven,
            &Address::brick(&vf.name, set, pos),
            format!(
                "volume {} is marked as this cluster's, but its brick {name} (set {set}, position {pos}) is not provably brickyard's: {e}; nothing of the volume will be changed or deleted",
                vf.name
            ),
            Some(match e {
                // what a failed disk leaves: rebuilt in place once a filesystem of its
                // own is mounted there and gluster reports the brick offline (`rebuild`)
                ProofFailure::DirMissing { .. } => "if its disk failed: stop the brick if it still runs, mount a replacement filesystem at its path and plan again (the brick is then rebuilt from its set); otherwise find out who removed the directory".to_string(),
                _ => format!(
                    "find out who changed the brick (replace-brick, a hand-made volume marked by hand); to release the volume from brickyard, `gluster volume reset {} {OPT_CLUSTER}`",
                    vf.name
                ),
            }),
        );
    }
}

/// The volume pass: list foreign volumes, then create, update or delete each volume
/// the config names, then delete managed volumes the config dropped.
pub(crate) fn plan_all(ctx: &mut Ctx<'_, '_>, b: &mut Builder) {
    let w = ctx.w;
    // without the cluster's volume list a volume that exists looks absent (finding #8)
    if let Some(why) = w.unknown(Need::Volumes) {
        for name in w.desired.volumes.keys() {
            incomplete(b, name, why);
        }
        return;
    }
    let owners: BTreeMap<&str, Owner<'_>> = w
        .volumes
        .iter()
        .map(|(name, vf)| (*name, ownership(w, vf)))
        .collect();
    // rule one: a marked volume the config keeps, with a brick where the config no longer
    // declares storage (or two bricks of a set now in one zone), is held as it is
    let mut held = BTreeSet::new();
    for (name, vf) in &w.volumes {
        let keeps = w
            .desired
            .volumes
            .get(*name)
            .is_some_and(|v| v.state.exists());
        if !keeps || matches!(owners[name], Owner::Foreign(_) | Owner::Mismatch(_)) {
            continue;
        }
        let homeless = homes::homeless(w, vf);
        homes::block(b, w, vf, &homeless);
        let zones = homes::zone_conflicts(b, w, vf);
        if !homeless.is_empty() || zones {
            held.insert(*name);
        }
        if let Owner::Unproven(failed) = &owners[name] {
            // a brick on dropped storage fails its proof for that reason alone
            let rest: Vec<_> = failed
                .iter()
                .filter(|(i, _)| !homeless.iter().any(|h| h.index == *i))
                .cloned()
                .collect();
            if !rest.is_empty() {
                block_unproven(b, vf, &rest);
            }
            held.insert(*name);
        }
    }
    // volumes on the cluster that are not ours: listed, never touched; marked ones with
    // an unproven brick: blocked, never touched
    for (name, vf) in &w.volumes {
        match &owners[name] {
            Owner::Foreign(who) => b.foreign(
                Address::volume(name),
                None,
                format!(
                    "{} volume {name} ({} bricks, {:?}) {who}",
                    vf.vol_type, vf.brick_count, vf.status
                )
                .replace("Started", "started")
                .replace("Stopped", "stopped")
                .replace("Created", "created"),
            ),
            Owner::Unproven(failed) if !held.contains(name) => block_unproven(b, vf, failed),
            Owner::Unproven(_) | Owner::Ours { .. } | Owner::Adopting(_) | Owner::Mismatch(_) => {}
        }
    }
    for (name, vol) in &w.desired.volumes {
        let addr = Address::volume(name);
        ctx.pool.volume = name.clone();
        if names::volume_name(name).is_err() {
            b.block(
                BlockerCode::InvalidName,
                &addr,
                format!("volume name {name:?} is not a plain name"),
                None,
            );
            continue;
        }
        if let Some(why) = w.unknown(Need::Volumes) {
            incomplete(b, name, why);
            continue;
        }
        if vol.state.exists()
            && words::refuse_unsafe(b, name, vol, w.volumes.get(name.as_str()).copied())
        {
            continue;
        }
        if held.contains(name.as_str()) {
            continue;
        }
        match (w.volumes.get(name.as_str()), vol.state) {
            (Some(vf), state) => match &owners[name.as_str()] {
                Owner::Ours {
                    marked,
                    bricks,
                    lost,
                } => match state {
                    VolumeState::Present | VolumeState::Stopped => {
                        let marking = if *marked {
                            Marking::Marked
                        } else {
                            Marking::Unmarked
                        };
                        update::update(ctx, b, name, vol, vf, marking, bricks, lost)
                    }
                    VolumeState::Absent => {
                        delete::delete(ctx, b, name, vf, bricks, vol.protect, "has `state: absent`")
                    }
                },
                Owner::Unproven(_) => {}
                Owner::Adopting(a) => {
                    let bricks: Vec<_> = a.bricks.iter().cloned().map(Some).collect();
                    update::update(ctx, b, name, vol, vf, Marking::Adopt(a), &bricks, &[])
                }
                Owner::Mismatch(diffs) => adopt::block(b, name, diffs),
                // A plan never lies: a foreign volume the config names, present or
                // absent, is a blocker, never a silent adoption, a delete or "No changes".
                Owner::Foreign(who) => match state {
                    VolumeState::Present | VolumeState::Stopped
                        if !vf.options.contains_key(OPT_CLUSTER) =>
                    {
                        b.block(
                            BlockerCode::ForeignVolume,
                            &addr,
                            format!("volume {name} already exists and brickyard did not make it: it is {who}"),
                            Some(format!("to take it over as it is, add `adopt: true` to volume {name} (the plan then shows what adoption marks, after checking the volume matches the declaration; `brickyard import cluster` prints a matching one); otherwise rename the volume in the config")),
                        )
                    }
                    VolumeState::Present | VolumeState::Stopped => b.block(
                        BlockerCode::ForeignConflict,
                        &addr,
                        format!("volume {name} already exists and is not managed by this cluster: it is {who}"),
                        Some("rename the volume in the config; brickyard never takes over another brickyard cluster's volume".into()),
                    ),
                    VolumeState::Absent => b.block(
                        BlockerCode::ForeignConflict,
                        &addr,
                        format!("volume {name} is declared absent, but it exists and is not managed by this cluster ({who}): brickyard will not delete it"),
                        Some("delete it by hand if it really must go, or remove it from the config".into()),
                    ),
                },
            },
            (None, VolumeState::Present | VolumeState::Stopped) => {
                create::create(ctx, b, name, vol)
            }
            (None, VolumeState::Absent) => {}
        }
    }
    // managed volumes the config dropped
    for (name, vf) in &w.volumes {
        if !w.desired.volumes.contains_key(*name)
            && let Owner::Ours {
                marked: true,
                bricks,
                ..
            } = &owners[name]
        {
            if let Some(why) = w.unknown(Need::Volumes) {
                incomplete(b, name, why);
                continue;
            }
            delete::delete(
                ctx,
                b,
                name,
                vf,
                bricks,
                false,
                "is no longer in the config",
            );
        }
    }
    migrate::drained(ctx, b);
    leftover::plan(ctx, b);
}

/// A volume nothing is decided about: the facts it needs are unknown.
fn incomplete(b: &mut Builder, name: &str, why: &str) {
    b.block(
        BlockerCode::FactsIncomplete,
        &Address::volume(name),
        format!("volume {name} is left as it is: its state on the cluster is unknown: {why}"),
        Some("fix what makes the probe fail and plan again".into()),
    );
}

/// One pass over every candidate's LVs and brick directories, indexed by volume, so a
/// large cluster does not rescan all devices for each volume. Only bricks the facts prove
/// ours are pinned (`proof::new_lvm_brick`, `proof::new_dir_brick`); anything else named
/// like one is refused when a brick is placed on it.
pub(crate) fn pin_index(w: &World<'_>, pool: &Pool) -> BTreeMap<String, Pins> {
    let cluster = w.desired.cluster.as_str();
    let mut out: BTreeMap<String, Pins> = BTreeMap::new();
    for (i, c) in pool.cands.iter().enumerate() {
        let Some(f) = w.facts.get(c.node.as_str()).copied() else {
            continue;
        };
        match c.kind {
            BrickKind::Lvm => {
                for lv in f.lvs.iter().filter(|l| l.vg == c.vg) {
                    let Some((v, s, p)) = brick_identity(&lv.tags) else {
                        continue;
                    };
                    // A thin LV pins its brick; so does a thin pool alone (an apply stopped
                    // between the two lvcreate calls), or its space would be counted twice:
                    // once as used in the VG and once more for a new pool elsewhere.
                    let pool_only = if lv.name == lv_name(&v, s, p) {
                        false
                    } else if lv.name == pool_name(&v, s, p) {
                        true
                    } else {
                        continue;
                    };
                    let Ok(e) = proof::new_lvm_brick(Some(f), cluster, &c.vg, &v, s, p) else {
                        continue;
                    };
                    if (pool_only && (e.lv || !e.pool)) || (!pool_only && !e.lv) {
                        continue;
                    }
                    out.entry(v).or_default().insert(
                        (s, p),
                        Pin {
                            cand: i,
                            size: lv.size,
                            pool_only,
                        },
                    );
                }
            }
            BrickKind::Directory => {
                let base = format!("{}/", c.device.trim_end_matches('/'));
                for d in &f.brick_dirs {
                    let Some((volume, last)) =
                        d.path.strip_prefix(&base).and_then(|r| r.split_once('/'))
                    else {
                        continue;
                    };
                    if let Some((s, p)) = last.strip_prefix('s').and_then(|r| r.split_once('p'))
                        && let (Ok(s), Ok(p)) = (s.parse::<u32>(), p.parse::<u32>())
                        && d.path == dir_brick_path(&c.device, volume, s, p)
                        && proof::new_dir_brick(Some(f), cluster, &c.device, volume, s, p)
                            .is_ok_and(|e| e.dir)
                    {
                        out.entry(volume.to_string()).or_default().insert(
                            (s, p),
                            Pin {
                                cand: i,
                                size: 0,
                                pool_only: false,
                            },
                        );
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
