//! Rule one of day-2 operations: every brick of a volume of ours lives where the config
//! still declares storage. A node, device or path dropped from the config, or a zone
//! change that puts two bricks of one set in one zone, while a brick holds data there, is
//! a change brickyard cannot carry out as asked (the data would have nowhere to go): it
//! is a blocker that names the brick, the volume and the way out (`drain: true` first), never "No changes" and never an
//! `ownership_unproven` that sends the operator looking for an intruder.
//!
//! Decided from names brickyard derives (`names`), so it needs no proof of ownership: the
//! VG of an LVM brick is `by_<device>`, a directory brick is `<path>/<vol>/s<set>p<pos>`.
//! A brick that matches neither form is left to the ownership proof.

use std::collections::BTreeMap;

use crate::config::ZoneChecking;
use crate::gather::VolumeFacts;
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::Builder;
use crate::plan::health::World;
use crate::plan::ownership::{brick_identity, dir_brick_path, lv_name, lvm_brick_dir, vg_name};
use crate::plan::proof;

/// What the config no longer declares under one brick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Gone {
    /// The brick's host is no declared node's name, manage or storage address.
    Node { host: String },
    /// The brick's VG is not the VG of any device declared on its node.
    Device { node: String, vg: String },
    /// The brick's directory is under a path not declared on its node.
    Path { node: String, path: String },
}

/// A brick of the volume whose home is gone, by index in gluster's order.
#[derive(Debug, Clone)]
pub(super) struct Homeless {
    pub(super) index: usize,
    pub(super) set: u32,
    pub(super) pos: u32,
    pub(super) brick: String,
    pub(super) gone: Gone,
}

/// Every brick of `vf` whose node, device or path the config dropped.
pub(super) fn homeless(w: &World<'_>, vf: &VolumeFacts) -> Vec<Homeless> {
    let n = proof::set_size(vf);
    let mut out = Vec::new();
    for (i, br) in vf.bricks.iter().enumerate() {
        let (set, pos) = ((i as u32) / n, (i as u32) % n);
        if let Some(gone) = gone(w, &vf.name, set, pos, &br.host, &br.path) {
            out.push(Homeless {
                index: i,
                set,
                pos,
                brick: br.name.clone(),
                gone,
            });
        }
    }
    out
}

fn gone(w: &World<'_>, volume: &str, set: u32, pos: u32, host: &str, path: &str) -> Option<Gone> {
    let Some((node, decl)) = w
        .node_of_host(host)
        .and_then(|n| w.desired.nodes.get_key_value(n))
    else {
        return Some(Gone::Node { host: host.into() });
    };
    // without facts the brick's form cannot be read; the health gate holds the volume
    let f = w.facts.get(node.as_str())?;
    let lv = lv_name(volume, set, pos);
    let id = (volume.to_string(), set, pos);
    let on_lv = f
        .lvs
        .iter()
        .find(|l| l.name == lv && lvm_brick_dir(&l.vg, &l.name) == path)
        .or_else(|| {
            // an adopted brick keeps its maker's names: its tags say which brick it is
            proof::lv_holding(f, path)
                .map(|h| h.lv)
                .filter(|l| brick_identity(&l.tags).as_ref() == Some(&id))
        });
    if let Some(l) = on_lv {
        // the VG of a declared device is the one its PV is in (Heketi's `vg_<id>`), or
        // the one brickyard would make there
        let declared = decl.devices.iter().any(|d| {
            vg_name(&d.path) == l.vg
                || f.pvs
                    .iter()
                    .any(|p| p.name == d.path && p.vg.as_deref() == Some(l.vg.as_str()))
        });
        return (!declared).then(|| Gone::Device {
            node: node.clone(),
            vg: l.vg.clone(),
        });
    }
    let suffix = dir_brick_path("", volume, set, pos);
    let Some(base) = path
        .strip_suffix(suffix.as_str())
        .filter(|b| b.starts_with('/'))
    else {
        // an adopted brick (marked where its maker put it) under no declared path now
        let adopted = proof::adopted_mark(f, &w.desired.cluster, volume, set, pos, path);
        return (adopted && proof::holding_path(decl, path).is_none()).then(|| Gone::Path {
            node: node.clone(),
            path: path.rsplit_once('/').map_or("/", |(p, _)| p).to_string(),
        });
    };
    let declared = decl
        .paths
        .iter()
        .any(|d| d.path.trim_end_matches('/') == base);
    (!declared).then(|| Gone::Path {
        node: node.clone(),
        path: base.to_string(),
    })
}

/// One blocker per homeless brick; the volume is left as it is.
pub(super) fn block(b: &mut Builder, w: &World<'_>, vf: &VolumeFacts, homeless: &[Homeless]) {
    let v = &vf.name;
    for h in homeless {
        let (what, restore) = match &h.gone {
            Gone::Node { host } => (
                format!(
                    "on host {host}, which is no declared node's name, manage or storage address"
                ),
                format!(
                    "declare the node again (with `storage: {host}` if only its storage address changed)"
                ),
            ),
            Gone::Device { node, vg } => {
                let dev = w
                    .facts
                    .get(node.as_str())
                    .and_then(|f| f.pvs.iter().find(|p| p.vg.as_deref() == Some(vg)))
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| format!("the device of VG {vg}"));
                (
                    format!(
                        "on {dev} (VG {vg}) of node {node}, which the config no longer declares"
                    ),
                    format!("declare {dev} on {node} again"),
                )
            }
            Gone::Path { node, path } => (
                format!("under {path} on node {node}, which the config no longer declares"),
                format!("declare {path} on {node} again"),
            ),
        };
        b.block(
            BlockerCode::BrickHomeRemoved,
            &Address::brick(v, h.set, h.pos),
            format!(
                "brick {} (set {}, position {}) of volume {v} holds data {what}; nothing of the volume is changed",
                h.brick, h.set, h.pos
            ),
            Some(format!(
                "{restore}; to retire it, declare it again with `drain: true` (devices and paths): brickyard then moves the brick off it (replace-brick, heal, teardown) and says when it is drained (docs/operations.md)"
            )),
        );
    }
}

/// Under `zone_checking: strict`, the sets of `vf` whose bricks the config's zones now
/// put twice in one zone (a node's zone was changed after its bricks were placed).
pub(super) fn zone_conflicts(b: &mut Builder, w: &World<'_>, vf: &VolumeFacts) -> bool {
    if w.desired.placement.zone_checking != ZoneChecking::Strict {
        return false;
    }
    let n = proof::set_size(vf) as usize;
    if n < 2 {
        return false;
    }
    let mut any = false;
    for (set, bricks) in vf.bricks.chunks(n).enumerate() {
        let mut by_zone: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        for br in bricks {
            if let Some(node) = w.node_of_host(&br.host)
                && let Some(decl) = w.desired.nodes.get(node)
            {
                by_zone.entry(decl.zone).or_default().push(node);
            }
        }
        for (zone, nodes) in by_zone.iter().filter(|(_, ns)| ns.len() > 1) {
            any = true;
            b.block(
                BlockerCode::ZoneConflict,
                &Address::volume(&vf.name),
                format!(
                    "set {set} of volume {} has bricks on {} which the config puts in one zone ({zone}): the set no longer survives the loss of that zone; brickyard does not move bricks for a zone change (only off draining storage), so nothing of the volume is changed",
                    vf.name,
                    nodes.join(" and ")
                ),
                Some("restore the nodes' zones, or set `placement: { zone_checking: none }` to accept the set as it is".into()),
            );
        }
    }
    any
}
