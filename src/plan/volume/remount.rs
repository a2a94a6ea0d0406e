//! Lost brick mounts of an existing volume: mounted again (and fstab fixed) before any
//! other step of the volume, never re-made.

use crate::config::{BrickKind, Volume};

use super::Ctx;
use crate::plan::address::Address;
use crate::plan::brick::{self, NewBrick};
use crate::plan::builder::{Builder, StepSpec, argv, guard};
use crate::plan::model::Action;
use crate::plan::ownership::{lv_name, mount_path};
use crate::plan::proof::{Existing, Proven, ProvenBrick};

/// Bricks of an existing volume whose LV is there but no longer mounted (an operator's
/// umount, a reboot with a lost fstab line): mount them again, and fix fstab, before any
/// other step of the volume. Without this the plan would only say "start the volume",
/// and glusterd fails to find a brick directory that lives inside the missing mount.
/// Only bricks `proof` proved ours are touched, by the names of their proven LV; never a
/// mkfs (the data is there).
pub(super) fn remount_bricks(
    ctx: &Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    proven: &[Option<ProvenBrick<'_>>],
    blocked: bool,
) -> Vec<String> {
    let w = ctx.w;
    let mut ids = Vec::new();
    for pb in proven.iter().flatten() {
        let Proven::Lvm(p) = &pb.kind else {
            continue;
        };
        if p.mounted {
            continue;
        }
        if p.lv.name != lv_name(name, pb.set, pb.pos) || p.mount != mount_path(&p.lv.vg, &p.lv.name)
        {
            // an adopted brick: mounted again where its marked fstab line says, by that line
            let addr = Address::brick(name, pb.set, pb.pos);
            ids.push(b.push(
                StepSpec {
                    id: format!("{addr}/mount"),
                    address: &addr,
                    action: Action::Create,
                    node: pb.node,
                    description: format!(
                        "mount {}/{} on {} again, as its fstab line says",
                        p.lv.vg, p.lv.name, p.mount
                    ),
                    commands: vec![argv(&["mount", "--", &p.mount])],
                    guard: guard("mountpoint -q", argv(&["mountpoint", "-q", &p.mount])),
                    depends_on: Vec::new(),
                    destructive: false,
                },
                blocked,
            ));
            continue;
        }
        ids.extend(brick::create(
            b,
            &NewBrick {
                cluster: &w.desired.cluster,
                volume: name,
                set: pb.set,
                pos: pb.pos,
                node: pb.node,
                kind: BrickKind::Lvm,
                vg_or_dir: &p.lv.vg,
                size: p.lv.size,
                snapshot_factor: vol.snapshot_factor,
                after: vec![],
                blocked,
                facts: w.facts.get(pb.node).copied(),
                have: Existing {
                    pool: true,
                    lv: true,
                    mounted: false,
                    dir: false,
                },
                in_volume: true,
            },
        ));
    }
    ids
}
