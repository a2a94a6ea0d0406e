//! Shrinking a distributed volume by whole sets: the config's size needs fewer sets than
//! the volume has. The last sets go (gluster's order: the newest, added by the last
//! expand). gluster moves their files onto the sets that stay (`remove-brick ... start`);
//! the plan waits for that with the counts as progress, and takes the bricks out
//! (`commit`) only when gluster says completed with 0 failures and 0 skipped, checked
//! again on the node right before the commit; never `force`. Then the removed bricks are
//! torn down, each first checked to hold no file with data, with `--allow-destroy`
//! (without it they are kept and named).
//!
//! Resuming needs no record: the remove-brick task is in the facts. One in progress (an
//! apply killed in the wait) is followed to its end; a completed one is committed; one
//! that failed, or finished with failures or skipped files, is a blocker that says how
//! to start over. After the commit the bricks are no longer the volume's, and what an
//! apply killed then leaves is `leftover`'s.

use crate::config::{BrickKind, Volume};
use crate::gather::{TaskStatus, VolumeFacts, VolumeStatus};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::brick::{Emptied, destroy};
use crate::plan::builder::change;
use crate::plan::gluster;
use crate::plan::proof::ProvenBrick;
use crate::units::HumanBytes;

use super::Ctx;
use super::steps::VolSteps;
use super::tasks::{followed_removal, numbers};

/// How long one apply waits for gluster to move the files off before it fails the step
/// (the next apply waits again: the check skips the wait once they are moved).
pub(crate) const MIGRATE_TIMEOUT_S: u64 = 3600;

/// The shrink the config asks of a volume holding `k0` sets: keep `k1`.
pub(super) struct Shrink {
    pub(super) k0: u64,
    pub(super) k1: u64,
    /// Bytes one set holds (data bricks × brick size).
    pub(super) per_set: u64,
    /// The bricks that go: every brick of the last `k0 - k1` sets, as gluster names them.
    pub(super) bricks: Vec<String>,
}

impl Shrink {
    pub(super) fn new(vf: &VolumeFacts, k0: u64, k1: u64, per_set: u64) -> Shrink {
        let n = crate::plan::proof::set_size(vf) as usize;
        let bricks = vf
            .bricks
            .iter()
            .skip(k1 as usize * n)
            .take((k0 - k1) as usize * n)
            .map(|b| b.name.clone())
            .collect();
        Shrink {
            k0,
            k1,
            per_set,
            bricks,
        }
    }
}

/// Why the shrink cannot be planned at all, before any step.
pub(super) fn refusal(
    vol: &Volume,
    vf: &VolumeFacts,
    s: &Shrink,
) -> Option<(BlockerCode, String, String)> {
    let name = &vf.name;
    if vol.protect {
        return Some((
            BlockerCode::Protected,
            format!(
                "volume {name} is protected, and the config asks it to shrink from {} to {} set(s): its removed bricks would be torn down",
                s.k0, s.k1
            ),
            format!(
                "keep its size at {} (or more), or drop `protect: true`",
                HumanBytes(s.k0 * s.per_set)
            ),
        ));
    }
    if vf.status != VolumeStatus::Started {
        return Some((
            BlockerCode::Shrink,
            format!(
                "volume {name} is not started, and the config asks it to shrink from {} to {} set(s): gluster moves files off bricks only on a started volume",
                s.k0, s.k1
            ),
            format!(
                "shrink it started (`state: present`) and stop it afterwards, or keep its size at {}",
                HumanBytes(s.k0 * s.per_set)
            ),
        ));
    }
    None
}

/// What the removed sets hold against what the kept sets have free, when every brick is
/// its own filesystem (LVM bricks) and volume status reported their sizes: `Err` with
/// the numbers when it does not fit. Directory bricks share their filesystem with
/// whatever else is on it, so no per-brick number says what moves: the migration's own
/// "skipped" count (a file with no room is skipped, and the commit waits for 0) is then
/// the only check.
fn room(vol: &Volume, vf: &VolumeFacts, s: &Shrink) -> Result<Option<String>, String> {
    if vol.brick_kind != BrickKind::Lvm {
        return Ok(None);
    }
    let n = crate::plan::proof::set_size(vf) as usize;
    let mut used = 0u64;
    let mut free = 0u64;
    for (si, set) in vf.bricks.chunks(n).enumerate() {
        let sizes: Option<Vec<(u64, u64)>> =
            set.iter().map(|b| b.size_total.zip(b.size_free)).collect();
        let Some(sizes) = sizes else {
            return Ok(None);
        };
        if (si as u64) < s.k1 {
            free = free.saturating_add(sizes.iter().map(|(_, f)| *f).min().unwrap_or(0));
        } else {
            used = used.saturating_add(
                sizes
                    .iter()
                    .map(|(t, f)| t.saturating_sub(*f))
                    .max()
                    .unwrap_or(0),
            );
        }
    }
    let said = format!(
        "the removed set(s) hold {}, the kept set(s) have {} free",
        HumanBytes(used),
        HumanBytes(free)
    );
    if used > free {
        Err(said)
    } else {
        Ok(Some(said))
    }
}

/// Plans the shrink on `vs`'s chain: start (unless gluster already runs or ran it), wait,
/// commit, then the teardown of the removed bricks.
pub(super) fn plan(
    ctx: &Ctx<'_, '_>,
    vs: &mut VolSteps<'_, '_>,
    vol: &Volume,
    vf: &VolumeFacts,
    proven: &[Option<ProvenBrick<'_>>],
    s: &Shrink,
) {
    let name = vs.name;
    let addr = Address::volume(name);
    if let Some((code, why, fix)) = refusal(vol, vf, s) {
        vs.b.block(code, &addr, why, Some(fix));
        return;
    }
    let bricks = &s.bricks;
    let sets = if s.k0 - s.k1 == 1 {
        format!("set {}", s.k1)
    } else {
        format!("sets {}..{}", s.k1, s.k0 - 1)
    };
    let task = followed_removal(vf, Some(bricks));
    let now = task.map(|t| numbers(t, " (now: ")).unwrap_or_default();
    match task.map(|t| (&t.status, t.progress.as_ref())) {
        None => {
            let fits = match room(vol, vf, s) {
                Ok(f) => f,
                Err(numbers) => {
                    vs.b.block(
                        BlockerCode::Capacity,
                        &addr,
                        format!(
                            "volume {name} cannot shrink from {} to {} set(s): {numbers}",
                            s.k0, s.k1
                        ),
                        Some(format!(
                            "free space on the volume, or keep its size at {}",
                            HumanBytes(s.k0 * s.per_set)
                        )),
                    );
                    return;
                }
            };
            vs.push(
                "shrink/start",
                format!(
                    "start moving the files of {sets} of {name} ({} bricks) onto the other set(s) (remove-brick start{})",
                    bricks.len(),
                    fits.map(|f| format!("; {f}")).unwrap_or_default()
                ),
                gluster::remove_brick_start(name, bricks),
                false,
            );
        }
        Some((TaskStatus::InProgress, _)) => {}
        Some((TaskStatus::Completed, Some(p))) if p.failures == 0 && p.skipped == 0 => {}
        Some((status, p)) => {
            let list = bricks.join(" ");
            let what = match p {
                Some(p) if *status == TaskStatus::Completed => {
                    format!(
                        "completed with {} failure(s) and {} skipped file(s), so files are still on the bricks being removed",
                        p.failures, p.skipped
                    )
                }
                _ => format!("{}{now}", status.words()),
            };
            vs.b.block(
                BlockerCode::Shrink,
                &addr,
                format!("the remove-brick of {sets} of {name} is {what}: brickyard does not commit it"),
                Some(format!("read /var/log/glusterfs/{name}-rebalance.log on the bricks' nodes, stop it (`gluster volume remove-brick {name} {list} stop`) and plan again to start over")),
            );
            return;
        }
    }
    vs.push(
        "shrink/wait",
        format!("wait until gluster has moved every file off {sets} of {name}{now}"),
        gluster::remove_brick_wait(name, bricks, MIGRATE_TIMEOUT_S),
        false,
    );
    let (commands, guard) = gluster::remove_brick_commit(name, bricks);
    vs.push_now(
        "shrink/commit",
        format!("take {sets} out of {name} (remove-brick commit, once gluster says completed with 0 failures and 0 skipped)"),
        commands,
        guard,
        false,
    );
    vs.b.with_changes(vec![
        change(
            "size",
            Some(&HumanBytes(s.k0.saturating_mul(s.per_set)).to_string()),
            Some(&HumanBytes(s.k1.saturating_mul(s.per_set)).to_string()),
        ),
        change("sets", Some(&s.k0.to_string()), Some(&s.k1.to_string())),
    ]);
    let commit = vs.last.first().cloned().unwrap_or_default();
    let allow = ctx.opts.allow_destroy;
    let first = (s.k1 as usize) * crate::plan::proof::set_size(vf) as usize;
    for pb in proven.iter().skip(first).flatten() {
        destroy(
            vs.b,
            name,
            pb,
            &commit,
            vs.blocked || !allow,
            Emptied::Check,
        );
    }
    if !allow {
        vs.b.block(
            BlockerCode::DestroyNotAllowed,
            &addr,
            format!("the bricks of {sets} of {name} are kept once they are out of the volume ({})", bricks.join(", ")),
            Some("pass --allow-destroy to remove them after the commit (each is first checked to hold no file with data)".into()),
        );
    }
}
