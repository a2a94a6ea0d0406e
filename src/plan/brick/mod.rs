//! Steps that build one brick (thin pool + LV, XFS, mount, fstab, brick directory) or a
//! directory brick, and the steps that tear one down after its volume is deleted.
//! Each step is guarded by a read-only check, so an interrupted apply resumes where it
//! stopped: the LV is tagged at creation, mkfs only runs on an LV without XFS, etc.

mod create;
mod destroy;

pub(crate) use create::create;
pub(crate) use destroy::destroy;

use crate::config::BrickKind;
use crate::gather::NodeFacts;
use crate::plan::address::Address;
use crate::plan::ownership::{dir_brick_path, lv_name, lvm_brick_dir};

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
    /// What already exists on the node (a half-applied brick): skip nothing, but say so.
    pub(crate) facts: Option<&'a NodeFacts>,
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

/// An existing brick to tear down after its volume is deleted.
pub(crate) struct OldBrick<'a> {
    pub(crate) volume: &'a str,
    pub(crate) set: u32,
    pub(crate) pos: u32,
    pub(crate) node: &'a str,
    /// Gluster's brick path.
    pub(crate) path: &'a str,
    pub(crate) facts: Option<&'a NodeFacts>,
}
