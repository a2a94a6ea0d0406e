//! Rebalance and remove-brick tasks, as the facts show them (`gather` reads `volume status
//! all tasks` and each task's counts on the status reader). A task that moves files is a
//! health gate: no brick of the volume changes under it, and the plan says what runs,
//! with gluster's numbers. The one task that does not hold the volume back is the
//! remove-brick the config asks for (`shrink`), which the plan follows instead.

use crate::gather::{TaskKind, TaskProgress, TaskStatus, VolumeFacts, VolumeTask};
use crate::plan::blocker_code::BlockerCode;
use crate::plan::facts::Need;
use crate::plan::health::World;
use crate::units::HumanBytes;

/// gluster's counts in words: "48 files (960.0 KiB) moved, 620 looked at, 0 failures, 0 skipped, for 5 s".
pub(super) fn counts(p: &TaskProgress) -> String {
    format!(
        "{} files ({}) moved, {} looked at, {} failures, {} skipped, for {} s",
        p.files,
        HumanBytes(p.bytes),
        p.scanned,
        p.failures,
        p.skipped,
        p.runtime_s
    )
}

/// A remove-brick not committed yet: its bricks are all still in the volume. After
/// `commit` gluster drops the task; a stopped one has given up (the bricks stay, and any
/// file it moved is found where it went).
pub(super) fn pending_removal(vf: &VolumeFacts) -> Option<&VolumeTask> {
    vf.task.as_ref().filter(|t| {
        t.kind == TaskKind::RemoveBrick
            && t.status != TaskStatus::Stopped
            && t.bricks
                .iter()
                .all(|b| vf.bricks.iter().any(|br| br.name == *b))
    })
}

/// The pending remove-brick of exactly the bricks the config's shrink removes
/// (`followed`), which the plan follows.
pub(super) fn followed_removal<'a>(
    vf: &'a VolumeFacts,
    followed: Option<&[String]>,
) -> Option<&'a VolumeTask> {
    pending_removal(vf).filter(|t| followed == Some(&t.bricks[..]))
}

/// The pending remove-brick the config does not ask for (no shrink, or of other bricks).
pub(super) fn unasked_removal<'a>(
    vf: &'a VolumeFacts,
    followed: Option<&[String]>,
) -> Option<&'a VolumeTask> {
    pending_removal(vf).filter(|t| followed != Some(&t.bricks[..]))
}

/// A task's counts after `lead` (" (", " (now: " or ": "; closed with ")" when `lead`
/// opens one), or nothing when they were not read.
pub(super) fn numbers(t: &VolumeTask, lead: &str) -> String {
    let close = if lead.contains('(') { ")" } else { "" };
    t.progress
        .as_ref()
        .map(|p| format!("{lead}{}{close}", counts(p)))
        .unwrap_or_default()
}

/// Why no brick of `vf` may change now, if a task says so: a rebalance in progress, a
/// remove-brick of other bricks than `followed` (the config's shrink), or tasks that
/// could not be read.
pub(super) fn danger(
    w: &World<'_>,
    vf: &VolumeFacts,
    followed: Option<&[String]>,
) -> Option<(BlockerCode, String)> {
    if let Some(why) = w.unknown(Need::Task { volume: &vf.name }) {
        return Some((
            BlockerCode::FactsIncomplete,
            format!("whether a rebalance or remove-brick runs on it is unknown: {why}"),
        ));
    }
    let name = &vf.name;
    let task = vf.task.as_ref()?;
    let numbers = numbers(task, " (");
    match task.kind {
        TaskKind::Rebalance if task.status == TaskStatus::InProgress => Some((
            BlockerCode::TaskRunning,
            format!(
                "a rebalance is in progress{numbers}; wait until `gluster volume rebalance {name} status` says completed, and plan again"
            ),
        )),
        TaskKind::Rebalance => None,
        TaskKind::RemoveBrick => {
            let t = unasked_removal(vf, followed)?;
            let bricks = t.bricks.join(" ");
            Some((
                BlockerCode::TaskRunning,
                format!(
                    "a remove-brick of {bricks} is {}{numbers}, and the config does not ask for it; finish it by hand (`gluster volume remove-brick {name} {bricks} commit` once its status says completed with 0 failures and 0 skipped) or stop it (`gluster volume remove-brick {name} {bricks} stop`), then plan again",
                    t.status.words()
                ),
            ))
        }
    }
}

/// What the plan says of a task, whether or not it holds a change back: a rebalance
/// running, or one that failed or stopped (its files stay where they are until it runs
/// again); a remove-brick the config does not ask for (someone else's: when it is
/// committed, the volume loses those bricks).
pub(super) fn note(vf: &VolumeFacts, followed: Option<&[String]>) -> Option<String> {
    let name = &vf.name;
    if let Some(t) = unasked_removal(vf, followed) {
        return Some(format!(
            "volume {name}: a remove-brick of {} is {}{}, and the config does not ask for it: once committed, the volume no longer has those bricks; brickyard changes no brick of {name} until it is committed or stopped",
            t.bricks.join(" "),
            t.status.words(),
            numbers(t, " (")
        ));
    }
    let t = vf.task.as_ref().filter(|t| t.kind == TaskKind::Rebalance)?;
    let numbers = numbers(t, ": ");
    match &t.status {
        TaskStatus::InProgress => Some(format!("volume {name}: rebalance in progress{numbers}")),
        TaskStatus::Completed | TaskStatus::NotStarted => None,
        other => Some(format!(
            "volume {name}: the last rebalance is {}{numbers}; files it did not move stay where they are (see /var/log/glusterfs/{name}-rebalance.log; `gluster volume rebalance {name} start` runs it again)",
            other.words()
        )),
    }
}
