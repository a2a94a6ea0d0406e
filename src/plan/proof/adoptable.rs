//! What `adopt: true` accepts: a brick another tool made, checked where it is before
//! adoption marks it. A directory brick under a declared path, or an LVM brick (Heketi's
//! `vg_<id>`/`tp_<id>`/`brick_<id>`, mounted under `/var/lib/heketi/mounts`) on a
//! declared device; after adoption the ordinary proofs in the parent module hold.

use std::collections::BTreeSet;

use crate::config::names;
use crate::gather::{FstabEntry, NodeFacts};

use super::{
    ProofFailure, Proven, ProvenBrick, ProvenLvm, brick_node, dir_state, fstab_says, holding_path,
    is_lv_source, lv_holding,
};
use crate::plan::health::World;
use crate::plan::ownership::{brick_tags, dir_brick_mark, fstab_marked, lv_name, tag_cluster};

/// A brick of a volume brickyard is asked to adopt (`adopt: true`): on a declared node
/// with facts, under a declared path of it, a real directory reached through no symlink,
/// unmarked or marked for this cluster's volume. `Ok(true)`: it carries the mark already.
/// LVM bricks (Heketi's) are checked by [`adoptable_lvm`].
pub(crate) fn adoptable<'a>(
    w: &World<'a>,
    volume: &str,
    set: u32,
    pos: u32,
    host: &str,
    path: &str,
) -> Result<(ProvenBrick<'a>, bool), ProofFailure> {
    let cluster = w.desired.cluster.as_str();
    let (node, decl, f) = brick_node(w, volume, host)?;
    let Some(base) = holding_path(decl, path) else {
        return Err(ProofFailure::NotDerived {
            path: path.into(),
            want_lv: lv_name(volume, set, pos),
        });
    };
    let marked = dir_state(f, path, &dir_brick_mark(cluster, volume, set, pos), false)?
        .ok_or(ProofFailure::DirMissing { path: path.into() })?;
    Ok((
        ProvenBrick {
            node: node.as_str(),
            set,
            pos,
            kind: Proven::Dir {
                path: path.into(),
                base: base.into(),
            },
        },
        marked,
    ))
}

/// What adoption still has to write for one LVM brick (all of it when nothing is there).
#[derive(Debug, Clone, Default)]
pub(crate) struct LvmMarks<'a> {
    /// The thin pool and the thin LV lack this brick's tags.
    pub(crate) tags: bool,
    /// The fstab lines for the mount that lack the marker (each is rewritten with it).
    pub(crate) fstab: Vec<&'a FstabEntry>,
    /// No fstab line mounts the brick at boot: brickyard's marked one is added.
    pub(crate) fstab_missing: bool,
}

/// An LVM brick of a volume brickyard is asked to adopt (Heketi's `vg_<id>`/`tp_<id>`/
/// `brick_<id>` under `/var/lib/heketi/mounts`, or any thin LV with a pool of its own):
/// mounted, a thin LV alone in its thin pool, in a VG whose PV the node declares, and
/// untagged or tagged for exactly this brick. Every way it is not, as one line each.
pub(crate) fn adoptable_lvm<'a>(
    w: &World<'a>,
    volume: &str,
    set: u32,
    pos: u32,
    host: &str,
    path: &str,
) -> Result<(ProvenBrick<'a>, LvmMarks<'a>), Vec<String>> {
    let cluster = w.desired.cluster.as_str();
    let (node, decl, f) = brick_node(w, volume, host).map_err(|e| vec![e.to_string()])?;
    let Some(h) = lv_holding(f, path) else {
        return Err(vec![format!(
            "{path} is on no LVM logical volume gather lists, and the config says `brick_kind: lvm` (say `brick_kind: directory` for bricks on plain filesystems)"
        )]);
    };
    let l = h.lv;
    let full = format!("{}/{}", l.vg, l.name);
    let mut diffs = Vec::new();
    if !super::adopted_mount(&h.mount) {
        diffs.push(format!(
            "{full} is mounted at {}, in brickyard's own mount root or with a trailing `/`",
            h.mount
        ));
    }
    if !h.mounted {
        diffs.push(format!(
            "{full} is not mounted at {} (mount it, then plan again)",
            h.mount
        ));
    }
    if !names::is_lvm_name(&l.vg) || !names::is_lvm_name(&l.name) {
        diffs.push(format!("{full} is not a plain LVM name"));
    }
    let pool = l.pool.as_deref().and_then(|p| {
        f.lvs
            .iter()
            .find(|x| x.vg == l.vg && x.name == p && x.attr.starts_with('t'))
    });
    let Some(pool) = pool.filter(|_| l.attr.starts_with('V')) else {
        diffs.push(format!(
            "{full} is not a thin LV in a thin pool (attr {:?}); brickyard adopts thin-provisioned bricks",
            l.attr
        ));
        return Err(diffs);
    };
    if !names::is_lvm_name(&pool.name) {
        diffs.push(format!(
            "thin pool {}/{} is not a plain LVM name",
            l.vg, pool.name
        ));
    }
    let sharing = f
        .lvs
        .iter()
        .filter(|x| x.vg == l.vg && x.pool.as_deref() == Some(pool.name.as_str()))
        .count();
    if sharing > 1 {
        diffs.push(format!(
            "thin pool {}/{} holds {sharing} thin LVs; brickyard gives each brick a pool of its own",
            l.vg, pool.name
        ));
    }
    let pvs: Vec<&str> = f
        .pvs
        .iter()
        .filter(|p| p.vg.as_deref() == Some(l.vg.as_str()))
        .map(|p| p.name.as_str())
        .collect();
    if !pvs
        .iter()
        .any(|p| decl.devices.iter().any(|d| d.path == *p))
    {
        diffs.push(format!(
            "VG {} is on {}, which node {node} does not declare in `devices`",
            l.vg,
            if pvs.is_empty() {
                "no PV gather lists".to_string()
            } else {
                pvs.join(", ")
            }
        ));
    }
    let want = brick_tags(cluster, volume, set, pos);
    let mut tagged = true;
    for (what, x) in [("LV", l), ("thin pool", pool)] {
        let theirs: Vec<&String> = x
            .tags
            .iter()
            .filter(|t| t.starts_with("brickyard.") && !want.contains(t))
            .collect();
        if !theirs.is_empty() {
            diffs.push(format!(
                "{what} {}/{} carries brickyard tags of something else: {}",
                x.vg,
                x.name,
                theirs
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        tagged &= want.iter().all(|t| x.tags.contains(t));
    }
    let lines: Vec<&FstabEntry> = f.fstab.iter().filter(|e| e.target == h.mount).collect();
    let mut unmarked = Vec::new();
    for e in &lines {
        if !fstab_says(e, &h.mount) || !is_lv_source(&e.source, l) {
            diffs.push(format!(
                "the fstab line {:?} does not mount {full} at {} as gather read it",
                e.line, h.mount
            ));
        } else if !fstab_marked(&e.options, cluster) {
            unmarked.push(*e);
        }
    }
    if !diffs.is_empty() {
        return Err(diffs);
    }
    Ok((
        ProvenBrick {
            node: node.as_str(),
            set,
            pos,
            kind: Proven::Lvm(ProvenLvm {
                lv: l,
                pool,
                mount: h.mount.clone(),
                mounted: h.mounted,
                fstab: lines.clone(),
            }),
        },
        LvmMarks {
            tags: !tagged,
            fstab: unmarked,
            fstab_missing: lines.is_empty(),
        },
    ))
}

/// The LVs of VG `vg` on `node` split in two: those holding a brick of one of `volumes`
/// on this node, with the brick's thin pool, or tagged for this cluster already; and
/// every other one. Names as `vg/lv`. A VG another tool made is adopted only when the
/// second list is empty: brickyard never calls a VG its own that holds someone's LV.
pub(crate) fn vg_split(
    w: &World<'_>,
    node: &str,
    f: &NodeFacts,
    vg: &str,
    volumes: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let mut held = BTreeSet::new();
    for name in volumes {
        let Some(vf) = w.volumes.get(name.as_str()) else {
            continue;
        };
        for br in vf
            .bricks
            .iter()
            .filter(|br| w.node_of_host(&br.host) == Some(node))
        {
            if let Some(h) = lv_holding(f, &br.path).filter(|h| h.lv.vg == vg) {
                held.insert(h.lv.name.clone());
                held.extend(h.lv.pool.clone());
            }
        }
    }
    let tag = tag_cluster(&w.desired.cluster);
    let others = f
        .lvs
        .iter()
        .filter(|l| l.vg == vg && !held.contains(&l.name) && !l.tags.contains(&tag))
        .map(|l| format!("{vg}/{}", l.name))
        .collect();
    (
        held.into_iter().map(|l| format!("{vg}/{l}")).collect(),
        others,
    )
}
