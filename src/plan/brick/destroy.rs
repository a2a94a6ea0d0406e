//! Steps that tear down a brick after its volume is deleted: unmount, drop the fstab
//! line, remove thin LV and pool, remove the mount point; or remove a directory brick.

use crate::plan::builder::{Builder, StepSpec, argv, guard, sh};
use crate::plan::model::{Action, Guard};
use crate::plan::ownership::MOUNT_ROOT;

use super::{OldBrick, address};

/// Pushes teardown steps after `after` (the volume delete). LVM bricks are recognised by
/// their mount being one of ours (VG/LV taken from the mount source, as Heketi does);
/// directory bricks lose their directory. All destructive.
pub(crate) fn destroy(b: &mut Builder, ob: &OldBrick<'_>, after: &str, blocked: bool) {
    let addr = address(ob.volume, ob.set, ob.pos);
    let node = ob.node;
    let mut deps = vec![after.to_string()];
    let mut push = |b: &mut Builder, verb: &str, desc: String, cmd: Vec<String>, guard: Guard| {
        let id = b.push(
            StepSpec {
                id: format!("{addr}/{verb}"),
                address: &addr,
                action: Action::Delete,
                node,
                description: desc,
                commands: vec![cmd],
                guard,
                depends_on: deps.clone(),
                destructive: true,
            },
            blocked,
        );
        deps = vec![id];
    };
    let Some(mnt) = ob
        .path
        .strip_suffix("/brick")
        .filter(|m| m.starts_with(MOUNT_ROOT))
    else {
        push(
            b,
            "rmdir",
            format!("remove brick directory {} and its data", ob.path),
            argv(&["rm", "-rf", "--one-file-system", "--", ob.path]),
            guard("the directory is gone", sh("! test -e \"$1\"", &[ob.path])),
        );
        return;
    };
    let rel = mnt.trim_start_matches(MOUNT_ROOT).trim_start_matches('/');
    let (vg, lv) = rel.split_once('/').unwrap_or((rel, ""));
    let pool = ob
        .facts
        .and_then(|f| f.lvs.iter().find(|l| l.vg == vg && l.name == lv))
        .and_then(|l| l.pool.clone())
        .unwrap_or_else(|| lv.replacen("brick_", "tp_", 1));
    let line = ob
        .facts
        .and_then(|f| f.fstab.iter().find(|e| e.target == mnt))
        .map(|e| e.line.clone());
    push(
        b,
        "umount",
        format!("unmount {mnt}"),
        argv(&["umount", mnt]),
        guard(
            "not a mount point any more",
            sh("! mountpoint -q -- \"$1\"", &[mnt]),
        ),
    );
    if let Some(line) = line {
        push(
            b,
            "fstab",
            format!("remove {mnt} from /etc/fstab"),
            crate::plan::fstab::remove_line(&line),
            guard(
                "the line is gone from /etc/fstab",
                crate::plan::fstab::lacks_line(&line),
            ),
        );
    }
    for (verb, name) in [("lvremove", lv.to_string()), ("poolremove", pool)] {
        let full = format!("{vg}/{name}");
        push(
            b,
            verb,
            format!("remove LV {full}"),
            argv(&["lvremove", "-f", &full]),
            guard(
                "lvs no longer lists it",
                sh("! lvs -- \"$1\" >/dev/null 2>&1", &[&full]),
            ),
        );
    }
    push(
        b,
        "rmdir",
        format!("remove mount point {mnt}"),
        argv(&["rmdir", mnt]),
        guard("the directory is gone", sh("! test -e \"$1\"", &[mnt])),
    );
}
