//! Declared devices and paths -> placement candidates with live free space, plus the
//! steps that initialise clean devices (pvcreate, vgcreate) and the refusals: a device
//! carrying any signature is never touched unless `wipe: true` AND `--allow-wipe`.

mod lvm;

use std::collections::BTreeMap;

use crate::config::{BrickKind, names};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::Builder;
use crate::plan::facts::Need;
use crate::plan::health::World;
use crate::plan::options::PlanOptions;

/// Somewhere a brick can go: an LVM device or a declared directory.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) node: String,
    pub(crate) zone: u32,
    /// Device path or declared directory.
    pub(crate) device: String,
    pub(crate) kind: BrickKind,
    /// VG name (lvm only).
    pub(crate) vg: String,
    /// Bytes free now (VG free, raw capacity, or directory free).
    pub(crate) free: u64,
    /// Current spare pool-metadata LV size in the VG (lvm only).
    pub(crate) spare: u64,
    pub(crate) tags: BTreeMap<String, String>,
    /// Id of the last device-preparation step; bricks on this device depend on it.
    pub(crate) ready_step: Option<String>,
    /// Directory on the root filesystem (gluster then needs `force`).
    pub(crate) on_root_fs: bool,
    /// Declared `drain: true`: takes no new brick; its bricks are moved off.
    pub(crate) drain: bool,
    /// Where new bricks must not go because an existing brick is in the way (`nesting`).
    pub(crate) nested: Nested,
}

/// A new directory brick `<path>/<vol>/s<set>p<pos>` must neither be inside an existing
/// brick of any volume (clients would see it as a directory of that volume) nor hold one
/// (an adopted brick made where brickyard would now put its own, say `<path>/<vol>`).
/// Gluster refuses the second at add-brick time, after the directory exists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Nested {
    /// The declared path is an existing brick or inside one: no new brick goes there.
    pub(crate) inside: Option<String>,
    /// Volumes whose `<path>/<vol>` is, or holds, an existing brick not of the derived
    /// form, with that brick's name.
    pub(crate) volumes: BTreeMap<String, String>,
}

/// What existing bricks of `node` (gluster's brick paths) leave of a declared path.
fn nesting(w: &World<'_>, node: &str, path: &str) -> Nested {
    let base = path.trim_end_matches('/');
    let mut out = Nested::default();
    let here = w
        .volumes
        .values()
        .flat_map(|vf| &vf.bricks)
        .filter(|br| w.node_of_host(&br.host) == Some(node));
    for br in here {
        let e = br.path.trim_end_matches('/');
        if e == base || names::strictly_under(e, base) {
            out.inside = Some(br.name.clone());
            continue;
        }
        let Some(rest) = e.strip_prefix(base).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        if names::dir_brick_identity(base, e).is_none() {
            let vol = rest.split_once('/').map_or(rest, |(v, _)| v);
            out.volumes.insert(vol.to_string(), br.name.clone());
        }
    }
    out
}

pub(crate) fn candidates(w: &World<'_>, opts: &PlanOptions, b: &mut Builder) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (name, node) in &w.desired.nodes {
        let Some(f) = w.facts.get(name.as_str()) else {
            continue;
        };
        let healthy = w.healthy(name);
        for dev in &node.devices {
            // a draining device is never initialised: only an existing one has bricks to move
            if dev.drain && !f.pvs.iter().any(|p| p.name == dev.path) {
                continue;
            }
            if let Some(mut c) = lvm::device(w, opts, b, name, node.zone, dev, f, healthy) {
                c.drain = dev.drain;
                out.push(c);
            }
        }
        for p in &node.paths {
            let addr = Address::Path {
                node: name.clone(),
                path: p.path.clone(),
            };
            if let Some(why) = w.unknown(Need::Path {
                node: name,
                path: &p.path,
            }) {
                b.block(
                    BlockerCode::FactsIncomplete,
                    &addr,
                    format!(
                        "declared path {} on {name} is not used: its state is unknown: {why}",
                        p.path
                    ),
                    Some(format!(
                        "fix what makes the probe fail on {name} and plan again"
                    )),
                );
                continue;
            }
            let pf = f.paths.get(&p.path);
            match pf {
                Some(pf) if pf.exists && pf.free.is_some() => {
                    if healthy {
                        out.push(Candidate {
                            node: name.clone(),
                            zone: node.zone,
                            device: p.path.clone(),
                            kind: BrickKind::Directory,
                            vg: String::new(),
                            free: pf.free.unwrap_or(0),
                            spare: 0,
                            tags: p.tags.clone(),
                            ready_step: None,
                            on_root_fs: pf.mount_target.as_deref() == Some("/"),
                            drain: p.drain,
                            nested: nesting(w, name, &p.path),
                        });
                    }
                }
                _ => b.block(
                    BlockerCode::PathMissing,
                    &addr,
                    format!("declared path {} does not exist on {name} (or its free space is unknown)", p.path),
                    Some("create the directory on a mounted filesystem, or remove it from the config".into()),
                ),
            }
        }
    }
    out.sort_by(|a, b| (&a.node, &a.device).cmp(&(&b.node, &b.device)));
    out
}
