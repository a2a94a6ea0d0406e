//! The volume pass, by lifecycle: `create` a volume the cluster lacks (choose the set
//! count, place, build bricks, create, mark, set options, start), `update` an existing
//! managed one (remount lost brick mounts, expand, options, start), `delete` one the
//! config no longer wants (blocked unless allowed). Unmarked volumes are foreign and
//! never touched. Placement questions go to `placement`, command lines to `gluster`,
//! brick steps to `brick`, explanations of a refused placement to `diagnose`.

mod create;
mod delete;
mod remount;
mod steps;
mod update;
mod words;

use std::collections::BTreeMap;

use crate::config::names;
use crate::config::{BrickKind, VolumeState};
use crate::gather::VolumeFacts;

use super::address::Address;
use super::blocker_code::BlockerCode;
use super::builder::Builder;
use super::facts::Need;
use super::health::World;
use super::options::PlanOptions;
use super::ownership::{
    MOUNT_ROOT, OPT_CLUSTER, brick_identity, dir_brick_path, lv_name, lvm_safe,
};
use super::placement::{Pin, Pins, Pool};

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
    // volumes on the cluster that are not ours: listed, never touched
    for (name, vf) in &w.volumes {
        if let Err(owner) = ownership(w, vf) {
            let who = match owner {
                Some(c) => format!("managed by brickyard cluster {c}"),
                None => format!("not marked with {OPT_CLUSTER}"),
            };
            b.foreign(
                Address::volume(name),
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
        let addr = Address::volume(name);
        if names::volume_name(name).is_err() {
            b.block(
                BlockerCode::InvalidName,
                &addr,
                format!("volume name {name:?} is not a plain name"),
                None,
            );
            continue;
        }
        if let Some(why) = w.unknown(Need::Volume(name)) {
            incomplete(b, name, why);
            continue;
        }
        if vol.state == VolumeState::Present
            && words::refuse_unsafe(b, name, vol, w.volumes.get(name.as_str()).copied())
        {
            continue;
        }
        match (w.volumes.get(name.as_str()), vol.state) {
            (Some(vf), state) => match ownership(w, vf) {
                Ok(marked) => match state {
                    VolumeState::Present => update::update(ctx, b, name, vol, vf, marked),
                    VolumeState::Absent => {
                        delete::delete(ctx, b, name, vf, vol.protect, "has `state: absent`")
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
                            BlockerCode::ForeignConflict,
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
            (None, VolumeState::Present) => create::create(ctx, b, name, vol),
            (None, VolumeState::Absent) => {}
        }
    }
    // managed volumes the config dropped
    for (name, vf) in &w.volumes {
        if !w.desired.volumes.contains_key(*name) && ownership(w, vf) == Ok(true) {
            if let Some(why) = w.unknown(Need::Volume(name)) {
                incomplete(b, name, why);
                continue;
            }
            delete::delete(ctx, b, name, vf, false, "is no longer in the config");
        }
    }
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
                        out.entry(v).or_default().insert(
                            (s, p),
                            Pin {
                                cand: i,
                                size: lv.size,
                            },
                        );
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
                            .insert((s, p), Pin { cand: i, size: 0 });
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
