//! What is left of a brick whose volume is gone (an apply killed inside a teardown, a
//! volume deleted by hand): proven ours before the leftover pass tears it down, by
//! brickyard's names or, for an adopted LVM brick, by its tags and its own mount.

use crate::config::names;
use crate::gather::{FstabEntry, Lv, NodeFacts};

use super::{
    Named, ProofFailure, check_fstab, check_mount, check_named, check_pair, dir_state,
    is_lv_source, vg_ours,
};
use crate::plan::ownership::{brick_tags, dir_brick_mark, lv_name, mount_path};

/// What is left of LVM brick `volume`/`set`/`pos` in `vg` on `node` once its volume is
/// gone (an apply killed inside the teardown, or a volume deleted by hand): the VG is
/// this node's of this cluster, the LV and pool present carry the brick's tags, whatever
/// is mounted on its mount path is that LV, and its fstab lines carry our marker.
pub(crate) struct LeftoverLvm<'a> {
    pub(crate) lv: Option<&'a Lv>,
    pub(crate) pool: Option<&'a Lv>,
    pub(crate) mount: String,
    pub(crate) mounted: bool,
    pub(crate) fstab: Vec<&'a FstabEntry>,
}

pub(crate) fn leftover_lvm_brick<'a>(
    f: &'a NodeFacts,
    cluster: &str,
    node: &str,
    vg: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<LeftoverLvm<'a>, ProofFailure> {
    vg_ours(f, cluster, node, vg)?;
    let Named { lv, pool } = check_pair(f, cluster, vg, volume, set, pos)?;
    if lv.is_none() && pool.is_none() {
        return leftover_adopted(f, cluster, vg, volume, set, pos);
    }
    let mount = mount_path(vg, &lv_name(volume, set, pos));
    let mounted = check_mount(f, &mount, lv)?;
    let fstab = check_fstab(f, cluster, &mount)?;
    Ok(LeftoverLvm {
        lv,
        pool,
        mount,
        mounted,
        fstab,
    })
}

/// Nothing of the brick under brickyard's names: an adopted LVM brick (Heketi's names),
/// its thin LV and pool tagged for it, mounted (or in fstab) where its maker put it.
/// Anything less is no proof, and nothing under a derived name is torn down for it.
fn leftover_adopted<'a>(
    f: &'a NodeFacts,
    cluster: &str,
    vg: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<LeftoverLvm<'a>, ProofFailure> {
    let want = brick_tags(cluster, volume, set, pos);
    let not_found = || ProofFailure::NotDerived {
        path: format!("{vg}/<an LV tagged for {volume} s{set}p{pos}>"),
        want_lv: lv_name(volume, set, pos),
    };
    let l = f
        .lvs
        .iter()
        .find(|l| {
            l.vg == vg
                && l.attr.starts_with('V')
                && l.name != lv_name(volume, set, pos)
                && names::is_lvm_name(&l.name)
                && want.iter().all(|t| l.tags.contains(t))
        })
        .ok_or_else(not_found)?;
    let tp = l
        .pool
        .as_deref()
        .filter(|p| names::is_lvm_name(p))
        .ok_or_else(not_found)?;
    let Named { lv, pool } = check_named(f, cluster, vg, &l.name, tp, volume, set, pos)?;
    let pool = pool.ok_or_else(|| ProofFailure::PoolMissing {
        pool: format!("{vg}/{tp}"),
    })?;
    let mount = f
        .mounts
        .iter()
        .find(|m| is_lv_source(&m.source, l))
        .map(|m| m.target.clone())
        .or_else(|| {
            f.fstab
                .iter()
                .find(|e| is_lv_source(&e.source, l))
                .map(|e| e.target.clone())
        })
        .filter(|t| names::abs_path(t).is_ok() && t != "/" && super::adopted_mount(t))
        .ok_or_else(not_found)?;
    let mounted = check_mount(f, &mount, lv)?;
    let fstab = check_fstab(f, cluster, &mount)?;
    Ok(LeftoverLvm {
        lv,
        pool: Some(pool),
        mount,
        mounted,
        fstab,
    })
}

/// A directory brick of a volume that is gone: `path` is listed by gather as a real
/// directory carrying exactly this brick's mark (unmarked, it may be anyone's data).
pub(crate) fn leftover_dir_brick(
    f: &NodeFacts,
    cluster: &str,
    path: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<bool, ProofFailure> {
    let want = dir_brick_mark(cluster, volume, set, pos);
    Ok(dir_state(f, path, &want, true)?.is_some())
}
