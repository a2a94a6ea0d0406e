//! Steps that tear down a brick after its volume is deleted: unmount, drop the fstab
//! line, remove the mount point, remove thin LV and pool; or remove a directory brick.
//! Only a brick `proof` proved ours gets here (a brick of a live volume, or what is left
//! of one whose volume is gone), and every name on a command line comes from its proven
//! facts (the LV entry, the derived directory), after a `--`.
//!
//! The mount point goes before the LVs: an apply killed anywhere in the teardown leaves
//! something the next plan sees (an LV, a pool, a mount, an fstab line) and finishes
//! from, never only an empty directory that gather does not look for.

use crate::gather::FstabEntry;
use crate::plan::builder::{Builder, StepSpec, argv, guard, sh};
use crate::plan::model::{Action, Guard};
use crate::plan::proof::{Proven, ProvenBrick};

use super::address;

/// What of one LVM brick is to be torn down: names from the proven facts.
pub(crate) struct LvmTeardown<'a> {
    pub(crate) vg: &'a str,
    /// The thin LV, unless it is already gone.
    pub(crate) lv: Option<&'a str>,
    /// The thin pool, unless it is already gone.
    pub(crate) pool: Option<&'a str>,
    pub(crate) mount: &'a str,
    /// Every fstab line for the mount (each carries our marker).
    pub(crate) fstab: &'a [&'a FstabEntry],
}

/// Whether a teardown first checks that the brick holds no file with data: a brick whose
/// files gluster moved away (`remove-brick`), where a file left behind is one it did not
/// move, not a copy (docs/operations.md, shrinking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emptied {
    /// A copy of data that lives on elsewhere, or data the operator let go of.
    No,
    /// Files were moved off: refuse to remove it while a file with data is left.
    Check,
}

/// Pushes teardown steps of proven brick `pb` of `volume` after `after` (the volume
/// delete, or the swap or removal that took it out). All destructive.
pub(crate) fn destroy(
    b: &mut Builder,
    volume: &str,
    pb: &ProvenBrick<'_>,
    after: &str,
    blocked: bool,
    emptied: Emptied,
) {
    let deps = vec![after.to_string()];
    match &pb.kind {
        Proven::Dir { path, .. } => {
            destroy_dir(
                b, volume, pb.set, pb.pos, pb.node, path, deps, blocked, emptied,
            );
        }
        Proven::Lvm(p) => {
            let t = LvmTeardown {
                vg: &p.lv.vg,
                lv: Some(&p.lv.name),
                pool: Some(&p.pool.name),
                mount: &p.mount,
                fstab: &p.fstab,
            };
            destroy_lvm(
                b, volume, pb.set, pb.pos, pb.node, &t, deps, blocked, emptied,
            );
        }
    }
}

/// Pushes the steps removing directory brick `path`, after `deps`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn destroy_dir(
    b: &mut Builder,
    volume: &str,
    set: u32,
    pos: u32,
    node: &str,
    path: &str,
    deps: Vec<String>,
    blocked: bool,
    emptied: Emptied,
) {
    let mut chain = Chain::new(volume, set, pos, node, deps, blocked);
    if emptied == Emptied::Check {
        chain.check = Some(path.to_string());
    }
    chain.push(
        b,
        "rmdir",
        format!("remove brick directory {path} and its data"),
        argv(&["rm", "-rf", "--one-file-system", "--", path]),
        guard("the directory is gone", sh("! test -e \"$1\"", &[path])),
    );
}

/// Pushes the steps tearing down what `t` names of an LVM brick, after `deps`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn destroy_lvm(
    b: &mut Builder,
    volume: &str,
    set: u32,
    pos: u32,
    node: &str,
    t: &LvmTeardown<'_>,
    deps: Vec<String>,
    blocked: bool,
    emptied: Emptied,
) {
    let mut chain = Chain::new(volume, set, pos, node, deps, blocked);
    let mnt = t.mount;
    // the brick directory in the mounted filesystem: checked before the unmount (the
    // first step), so an apply cut short after it has checked already
    if emptied == Emptied::Check {
        chain.check = Some(format!("{mnt}/brick"));
    }
    chain.push(
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
    for (i, line) in t.fstab.iter().map(|e| &e.line).enumerate() {
        let verb = if i == 0 {
            "fstab".into()
        } else {
            format!("fstab{i}")
        };
        chain.push(
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
    chain.push(
        b,
        "rmdir",
        format!("remove mount point {mnt}"),
        argv(&["rmdir", "--", mnt]),
        guard("the directory is gone", sh("! test -e \"$1\"", &[mnt])),
    );
    for (verb, name) in [("lvremove", t.lv), ("poolremove", t.pool)] {
        let Some(name) = name else { continue };
        let full = format!("{}/{name}", t.vg);
        chain.push(
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
}

/// Fails, naming the first one, when brick directory `dir` holds a file with data outside
/// gluster's own `.glusterfs` (what gluster's `remove-brick commit` tells the operator to
/// look for). DHT's link files are empty; a missing directory holds nothing.
fn nothing_left(dir: &str) -> Vec<String> {
    sh(
        "f=$(find \"$1\" -path \"$1/.glusterfs\" -prune -o -type f -size +0c -print 2>/dev/null | head -n 1); [ -z \"$f\" ] || { echo \"files with data are still on removed brick $1 (first: $f): gluster did not move them; copy them in through a client mount, then apply again\" >&2; exit 1; }",
        &[dir],
    )
}

/// Teardown steps of one brick, each after the one before.
struct Chain<'a> {
    addr: crate::plan::address::Address,
    node: &'a str,
    deps: Vec<String>,
    blocked: bool,
    /// A brick directory the first step checks holds no file with data ([`Emptied`]).
    check: Option<String>,
}

impl<'a> Chain<'a> {
    fn new(
        volume: &str,
        set: u32,
        pos: u32,
        node: &'a str,
        deps: Vec<String>,
        blocked: bool,
    ) -> Self {
        Chain {
            addr: address(volume, set, pos),
            node,
            deps,
            blocked,
            check: None,
        }
    }

    fn push(&mut self, b: &mut Builder, verb: &str, desc: String, cmd: Vec<String>, guard: Guard) {
        let id = b.push(
            StepSpec {
                // `teardown/`: a moved brick's new copy is built under the same address
                // (same volume, set and position) in the same plan, with its own verbs
                id: format!("{}/teardown/{verb}", self.addr),
                address: &self.addr,
                action: Action::Delete,
                node: self.node,
                description: desc,
                commands: self
                    .check
                    .take()
                    .map(|d| nothing_left(&d))
                    .into_iter()
                    .chain([cmd])
                    .collect(),
                guard,
                depends_on: std::mem::take(&mut self.deps),
                destructive: true,
            },
            self.blocked,
        );
        self.deps = vec![id];
    }
}
