//! Things on the nodes that brickyard did not make (no cluster tag): VGs, LVs in our
//! VGs. Listed so the operator sees them; never touched. (Brick LVs of ours whose volume
//! is gone are `volume::leftover`'s.)

use std::collections::BTreeSet;

use crate::units::HumanBytes;

use super::address::Address;
use super::builder::Builder;
use super::health::World;
use super::ownership::{tag_cluster, tag_value};
use super::proof;

pub(crate) fn scan(w: &World<'_>, b: &mut Builder) {
    let ours = tag_cluster(&w.desired.cluster);
    for (node, f) in &w.facts {
        let mut our_vgs = BTreeSet::new();
        for vg in &f.vgs {
            if vg.tags.contains(&ours) {
                our_vgs.insert(vg.name.as_str());
                continue;
            }
            // a VG adopted with its volumes in this plan (the device pass tags it)
            let declared = w.desired.nodes.get(*node).is_some_and(|n| {
                f.pvs.iter().any(|p| {
                    p.vg.as_deref() == Some(vg.name.as_str())
                        && n.devices.iter().any(|d| d.path == p.name)
                })
            });
            if declared && tag_value(&vg.tags, "cluster").is_none() {
                let (held, others) = proof::vg_split(w, node, f, &vg.name, &w.adopting);
                if !held.is_empty() && others.is_empty() {
                    continue;
                }
            }
            let who = match tag_value(&vg.tags, "cluster") {
                Some(c) => format!("belongs to brickyard cluster {c}"),
                None => "has no brickyard tag".into(),
            };
            b.foreign(
                Address::Vg {
                    node: node.to_string(),
                    vg: vg.name.clone(),
                },
                Some(node),
                format!(
                    "VG {} ({} LVs, {} of {} free) {who}",
                    vg.name,
                    vg.lv_count,
                    HumanBytes(vg.free),
                    HumanBytes(vg.size)
                ),
            );
        }
        for lv in &f.lvs {
            // hidden LVs (`[lvol0_pmspare]`, `[tp_x_tdata]`, with `lvs -a`) are LVM's own
            if !our_vgs.contains(lv.vg.as_str()) || lv.name.starts_with('[') {
                continue;
            }
            if !lv.tags.contains(&ours) {
                b.foreign(
                    Address::Lv {
                        node: node.to_string(),
                        vg: lv.vg.clone(),
                        lv: lv.name.clone(),
                    },
                    Some(node),
                    format!(
                        "LV {}/{} in a brickyard VG has no brickyard tag",
                        lv.vg, lv.name
                    ),
                );
                continue;
            }
        }
    }
}
