//! Steps that tear down a brick after its volume is deleted: unmount, drop the fstab
//! line, remove thin LV and pool, remove the mount point; or remove a directory brick.
//! Only a brick `proof` proved ours gets here, and every name on a command line comes
//! from its proven facts (the LV entry, the derived directory), after a `--`.

use crate::plan::builder::{Builder, StepSpec, argv, guard, sh};
use crate::plan::model::{Action, Guard};
use crate::plan::proof::{Proven, ProvenBrick};

use super::address;

/// Pushes teardown steps of proven brick `pb` of `volume` after `after` (the volume
/// delete). All destructive.
pub(crate) fn destroy(
    b: &mut Builder,
    volume: &str,
    pb: &ProvenBrick<'_>,
    after: &str,
    blocked: bool,
) {
    let addr = address(volume, pb.set, pb.pos);
    let node = pb.node;
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
    let p = match &pb.kind {
        Proven::Dir { path } => {
            push(
                b,
                "rmdir",
                format!("remove brick directory {path} and its data"),
                argv(&["rm", "-rf", "--one-file-system", "--", path]),
                guard("the directory is gone", sh("! test -e \"$1\"", &[path])),
            );
            return;
        }
        Proven::Lvm(p) => p,
    };
    let (vg, lv, pool) = (p.lv.vg.as_str(), p.lv.name.as_str(), p.pool.name.as_str());
    let mnt = p.mount.as_str();
    push(
        b,
        "umount",
        format!("unmount {mnt}"),
        argv(&["umount", "--", mnt]),
        guard(
            "not a mount point any more",
            sh("! mountpoint -q -- \"$1\"", &[mnt]),
        ),
    );
    // the proof saw our marker on every fstab line for the mount
    for (i, line) in p.fstab.iter().map(|e| &e.line).enumerate() {
        let verb = if i == 0 {
            "fstab".into()
        } else {
            format!("fstab{i}")
        };
        push(
            b,
            &verb,
            format!("remove {mnt} from /etc/fstab"),
            crate::plan::fstab::remove_line(line),
            guard(
                "the line is gone from /etc/fstab",
                crate::plan::fstab::lacks_line(line),
            ),
        );
    }
    for (verb, name) in [("lvremove", lv), ("poolremove", pool)] {
        let full = format!("{vg}/{name}");
        push(
            b,
            verb,
            format!("remove LV {full}"),
            argv(&["lvremove", "-f", "--", &full]),
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
        argv(&["rmdir", "--", mnt]),
        guard("the directory is gone", sh("! test -e \"$1\"", &[mnt])),
    );
}
