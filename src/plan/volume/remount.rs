//! Lost brick mounts of an existing volume: mounted again (and fstab fixed) before any
//! other step of the volume, never re-made.

use crate::config::{BrickKind, Volume};
use crate::gather::VolumeFacts;

use super::Ctx;
use crate::plan::brick::{self, NewBrick};
use crate::plan::builder::Builder;
use crate::plan::ownership::{MOUNT_ROOT, lv_name};

/// Bricks of an existing volume whose LV is there but no longer mounted (an operator's
/// umount, a reboot with a lost fstab line): mount them again, and fix fstab, before any
/// other step of the volume. Without this the plan would only say "start the volume",
/// and glusterd fails to find a brick directory that lives inside the missing mount.
/// Only bricks named by our convention are touched; never a mkfs (the data is there).
pub(super) fn remount_bricks(
    ctx: &Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    vf: &VolumeFacts,
    per_set: u64,
    blocked: bool,
) -> Vec<String> {
    let w = ctx.w;
    let mut ids = Vec::new();
    for (i, br) in vf.bricks.iter().enumerate() {
        let (set, pos) = ((i as u64 / per_set) as u32, (i as u64 % per_set) as u32);
        let Some(node) = w.node_of_host(&br.host) else {
            continue;
        };
        let Some(f) = w.facts.get(node).copied() else {
            continue;
        };
        let Some(mnt) = br
            .path
            .strip_suffix("/brick")
            .filter(|m| m.starts_with(MOUNT_ROOT))
        else {
            continue;
        };
        let Some((vg, lv)) = mnt[MOUNT_ROOT.len()..]
            .trim_start_matches('/')
            .split_once('/')
        else {
            continue;
        };
        if lv != lv_name(name, set, pos) || f.mounts.iter().any(|m| m.target == mnt) {
            continue;
        }
        let Some(l) = f.lvs.iter().find(|l| l.vg == vg && l.name == lv) else {
            continue;
        };
        ids.extend(brick::create(
            b,
            &NewBrick {
                cluster: &w.desired.cluster,
                volume: name,
                set,
                pos,
                node,
                kind: BrickKind::Lvm,
                vg_or_dir: vg,
                size: l.size,
                snapshot_factor: vol.snapshot_factor,
                after: vec![],
                blocked,
                facts: Some(f),
                in_volume: true,
            },
        ));
    }
    ids
}
