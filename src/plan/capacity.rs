//! Capacity maths: what one brick takes from a device, and how big the bricks of a
//! volume are. Heketi's formulas (DESIGN.md) plus what Heketi forgot: the spare
//! metadata LV LVM reserves with the first thin pool of a VG. All integer arithmetic.

use crate::config::{Durability, Volume};
use crate::gather::{BrickFacts, VolumeFacts};
use crate::units::{GIB, MIB};

/// LVM extent size brickyard creates VGs with (`vgcreate --physicalextentsize=4M`).
pub(crate) const EXTENT: u64 = 4 * MIB;
/// Space before the first extent on a PV made with `--metadatasize=128M
/// --dataalignment=256K`: 128 MiB metadata area plus label and alignment, rounded up to
/// 1 MiB. On a 16 GiB disk this leaves 4063 extents, the figure Heketi showed (seed 001).
pub(crate) const PV_OVERHEAD: u64 = 129 * MIB;
/// Thin-pool metadata cap (Heketi's; LVM itself clamps slightly lower).
pub(crate) const MAX_POOL_META: u64 = 16 * GIB;
/// Smallest arbiter brick: XFS refuses filesystems under 300 MiB.
pub(crate) const MIN_ARBITER: u64 = 512 * MIB;

pub(crate) fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a).saturating_mul(a)
}

pub(crate) fn align_down(v: u64, a: u64) -> u64 {
    v / a * a
}

/// Usable bytes of a raw, uninitialised device once it becomes a PV + VG.
pub fn raw_device_capacity(size: u64) -> u64 {
    align_down(size.saturating_sub(PV_OVERHEAD), EXTENT)
}

/// Thin pool data size for a brick: `alignUp(size × snapshot_factor, extent)`.
pub(crate) fn pool_size(brick: u64, snapshot_factor: f64) -> u64 {
    // factor is validated to 1.0..=100.0; compute in 1/1000 steps to stay integral
    let milli = (snapshot_factor * 1000.0).round().clamp(1000.0, 100_000.0) as u128;
    let raw = (brick as u128 * milli).div_ceil(1000);
    align_up(raw.min(u64::MAX as u128) as u64, EXTENT)
}

/// Pool metadata: `alignUp(min(tp × 0.5%, 16 GiB), extent)`; never below one extent.
pub(crate) fn pool_meta(tp: u64) -> u64 {
    align_up(tp.div_ceil(200).min(MAX_POOL_META), EXTENT).max(EXTENT)
}

/// What one LVM brick takes from a VG (see [`lvm_need`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LvmNeed {
    /// Bytes taken from the VG: pool + metadata + growth of the spare metadata LV.
    pub(crate) total: u64,
    /// Thin pool data size.
    pub(crate) pool: u64,
    /// Thin pool metadata size.
    pub(crate) meta: u64,
    /// The VG's spare metadata LV size once this brick exists.
    pub(crate) spare_after: u64,
}

/// What one LVM brick takes from a VG whose spare metadata LV is `spare` bytes:
/// pool + metadata + growth of the spare (LVM keeps one spare as large as the largest
/// pool metadata in the VG).
pub(crate) fn lvm_need(brick: u64, snapshot_factor: f64, spare: u64) -> LvmNeed {
    let tp = pool_size(brick, snapshot_factor);
    let meta = pool_meta(tp);
    let grow = meta.saturating_sub(spare);
    LvmNeed {
        // saturating: a 16 EiB brick must never wrap to a few GiB and "fit" (finding #7)
        total: tp.saturating_add(meta).saturating_add(grow),
        pool: tp,
        meta,
        spare_after: spare.max(meta),
    }
}

/// Bricks one set contributes to usable capacity: replicate 1, disperse `data`, none 1.
pub(crate) fn data_bricks_per_set(d: &Durability) -> u64 {
    match *d {
        // at least 1: an unvalidated JSON desired state may say `data: 0` (finding #7)
        Durability::Disperse { data, .. } => (data as u64).max(1),
        _ => 1,
    }
}

/// Data brick size for `sets` sets: `alignUp(size / (sets × data), extent)`.
pub(crate) fn brick_size(volume_size: u64, sets: u64, d: &Durability) -> u64 {
    let div = sets.max(1).saturating_mul(data_bricks_per_set(d));
    align_up(volume_size.div_ceil(div), EXTENT)
}

/// Arbiter brick size: 1/16 of the data brick (Heketi's default: 64 KiB average file,
/// 4 KiB of arbiter metadata per file), at least 512 MiB for XFS, at most the data brick.
pub(crate) fn arbiter_size(data_brick: u64) -> u64 {
    align_up(data_brick / 16, EXTENT)
        .max(MIN_ARBITER)
        .min(data_brick)
}

/// Brick size at one position of a set.
pub(crate) fn position_size(vol: &Volume, data_brick: u64, pos: usize) -> u64 {
    match vol.durability {
        Durability::Replicate { arbiter: true, .. } if pos == 2 => arbiter_size(data_brick),
        _ => data_brick,
    }
}

pub(crate) fn is_arbiter(d: &Durability, pos: usize) -> bool {
    matches!(d, Durability::Replicate { arbiter: true, .. }) && pos == 2
}

/// Range of set counts that respect the brick limits: `[ceil(S/(data×max)), floor(S/(data×min))]`.
pub(crate) fn set_range(
    volume_size: u64,
    d: &Durability,
    min: u64,
    max: u64,
) -> Option<(u64, u64)> {
    let data = data_bricks_per_set(d);
    let per_set_max = max.saturating_mul(data).max(1);
    let lo = volume_size.div_ceil(per_set_max).max(1);
    let hi = volume_size / min.saturating_mul(data).max(1);
    (lo <= hi).then_some((lo, hi))
}

/// What a client of an existing volume can store: sets × data bricks per set × the
/// smallest data brick's filesystem (`fs_size` of each non-arbiter brick), when every
/// size is known. Adoption checks a declared size against it; import declares it.
pub(crate) fn live_capacity(
    vf: &VolumeFacts,
    fs_size: impl Fn(&BrickFacts) -> Option<u64>,
) -> Option<u64> {
    let n = super::proof::set_size(vf) as usize;
    let smallest = vf
        .bricks
        .iter()
        .filter(|b| !b.is_arbiter)
        .map(fs_size)
        .collect::<Option<Vec<u64>>>()?
        .into_iter()
        .min()?;
    let sets = (vf.bricks.len() / n.max(1)) as u64;
    let data = super::gluster::live_durability(vf)
        .map(|d| data_bricks_per_set(&d))
        .unwrap_or(1);
    sets.checked_mul(data)?.checked_mul(smallest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heketi_numbers_for_an_8_gib_brick() {
        // seed 001: "expected space needed for amount=8388608 snapFactor=1 : 8433664" (KiB)
        let tp = pool_size(8 * GIB, 1.0);
        assert_eq!(tp + pool_meta(tp), 8_433_664 * 1024);
        // and the spare metadata LV doubles the metadata for the first pool of a VG
        assert_eq!(lvm_need(8 * GIB, 1.0, 0).total, 8 * GIB + 88 * MIB);
    }

    #[test]
    fn finding_7_huge_numbers_saturate_instead_of_wrapping() {
        // a 16 EiB brick once took "31.94 GiB" in release arithmetic and fitted on 90 GiB
        let need = lvm_need(u64::MAX, 1.0, 0);
        assert_eq!(need.total, u64::MAX);
        assert!(need.total >= need.pool && need.pool >= u64::MAX - EXTENT);
        let need = lvm_need(u64::MAX - 3 * GIB, 1.5, 0);
        assert_eq!(need.total, u64::MAX);
        // `disperse data: 0` from a JSON desired state divided by zero
        let ec0 = Durability::Disperse {
            data: 0,
            redundancy: 2,
        };
        assert_eq!(data_bricks_per_set(&ec0), 1);
        assert_eq!(brick_size(8 * GIB, 1, &ec0), 8 * GIB);
        assert!(brick_size(u64::MAX, u64::MAX, &ec0) <= EXTENT);
    }

    #[test]
    fn raw_16_gib_disk_has_4063_extents() {
        assert_eq!(raw_device_capacity(16 * GIB), 4063 * EXTENT);
    }

    #[test]
    fn metadata_is_capped_and_has_a_floor() {
        assert_eq!(pool_meta(4 * 1024 * GIB), 16 * GIB);
        assert_eq!(pool_meta(EXTENT), EXTENT);
        assert_eq!(pool_size(GIB, 1.5), GIB + GIB / 2);
    }

    #[test]
    fn set_range_respects_limits() {
        let r3 = Durability::Replicate {
            replica: 3,
            arbiter: false,
        };
        assert_eq!(set_range(10 * GIB, &r3, GIB, 4 * GIB), Some((3, 10)));
        assert_eq!(set_range(GIB / 2, &r3, GIB, 4 * GIB), None);
        let ec = Durability::Disperse {
            data: 4,
            redundancy: 2,
        };
        assert_eq!(brick_size(8 * GIB, 1, &ec), 2 * GIB);
        assert_eq!(arbiter_size(8 * GIB), 512 * MIB);
        assert_eq!(arbiter_size(64 * GIB), 4 * GIB);
    }
}
