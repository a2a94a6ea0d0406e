//! Steps that build one brick (thin pool + LV, XFS, mount, fstab, brick directory) or a
//! directory brick, and the steps that tear one down after its volume is deleted.
//! Each step is guarded by a read-only check, so an interrupted apply resumes where it
//! stopped: the LV is tagged at creation, mkfs only runs on an LV without XFS, etc.
//! What already exists is used only when `proof` shows it is ours.

mod create;
mod destroy;

#[cfg(any(test, feature = "test-support"))]
pub(crate) use create::MARKED_MKDIR;
pub(crate) use create::create;
pub(crate) use destroy::{Emptied, LvmTeardown, destroy, destroy_dir, destroy_lvm};

use crate::config::BrickKind;
use crate::gather::NodeFacts;
use crate::plan::address::Address;
use crate::plan::ownership::{dir_brick_path, lv_name, lvm_brick_dir};
use crate::plan::proof::Existing;

/// A brick the plan creates, with where it goes.
pub(crate) struct NewBrick<'a> {
    pub(crate) cluster: &'a str,
    pub(crate) volume: &'a str,
    pub(crate) set: u32,
    pub(crate) pos: u32,
    pub(crate) node: &'a str,
    pub(crate) kind: BrickKind,
    /// VG (lvm) or declared directory.
    pub(crate) vg_or_dir: &'a str,
    pub(crate) size: u64,
    pub(crate) snapshot_factor: f64,
    /// Preparation steps of the device (pvcreate/vgcreate) the brick waits for.
    pub(crate) after: Vec<String>,
    pub(crate) blocked: bool,
    /// The node's facts (the exact fstab line already there).
    pub(crate) facts: Option<&'a NodeFacts>,
    /// What of the brick already exists and is proven ours (`proof::new_lvm_brick`,
    /// `proof::new_dir_brick`, or a proven brick being mounted again): left out.
    pub(crate) have: Existing,
    /// A brick of an existing volume being mounted again: its filesystem holds the
    /// volume's data, so no mkfs step is ever planned for it.
    pub(crate) in_volume: bool,
}

pub(crate) fn address(volume: &str, set: u32, pos: u32) -> Address {
    Address::brick(volume, set, pos)
}

/// Gluster's path for the brick.
pub(crate) fn brick_path(
    kind: BrickKind,
    vg_or_dir: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> String {
    match kind {
        BrickKind::Lvm => lvm_brick_dir(vg_or_dir, &lv_name(volume, set, pos)),
        BrickKind::Directory => dir_brick_path(vg_or_dir, volume, set, pos),
    }
}
