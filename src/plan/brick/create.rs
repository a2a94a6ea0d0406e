//! Steps that build one brick: thin pool + thin LV (tagged), XFS, mount point, mount,
//! fstab line, brick directory; or, for a directory brick, the directory and its mark
//! (an xattr set right after mkdir, so an apply killed between `volume create` and the
//! volume's marker still leaves proof of whose bricks these are). A step whose object
//! `proof` shows exists and is ours (half-applied brick) is left out and the chain
//! continues.

use crate::config::BrickKind;
use crate::plan::builder::{Builder, StepSpec, argv, fresh_guard, guard, sh};
use crate::plan::capacity::lvm_need;
use crate::plan::model::{Action, Guard};
use crate::plan::ownership::{
    BRICK_XATTR, MOUNT_OPTS, brick_tags, dir_brick_mark, dir_brick_path, fstab_line, lv_device,
    lv_name, lvm_brick_dir, mount_path, pool_name,
};
use crate::units::HumanBytes;

/// `sh -c MARKED_MKDIR sh XATTR MARK DIR`: make DIR (mode 0755) with the xattr set, by
/// building it under a temporary name beside it and renaming it into place.
pub(crate) const MARKED_MKDIR: &str = "p=$(dirname -- \"$3\") && mkdir -p -- \"$p\" && \
t=$(mktemp -d -- \"$p/.brickyard-new.XXXXXX\") && chmod 0755 -- \"$t\" && \
setfattr -n \"$1\" -v \"$2\" -- \"$t\" && mv -T -- \"$t\" \"$3\"";

use super::{NewBrick, address};

/// Pushes the brick's steps; returns the id of its last step (the volume waits for it),
/// or the device's steps when nothing is left to do.
pub(crate) fn create(b: &mut Builder, nb: &NewBrick<'_>) -> Vec<String> {
    let addr = address(nb.volume, nb.set, nb.pos);
    let node = nb.node;
    // Each step waits for the previous one; a step the facts prove done (half-applied
    // brick) is left out and the chain continues from the one before.
    let mut deps = nb.after.clone();
    let mut push = |b: &mut Builder,
                    done: bool,
                    verb: &str,
                    desc: String,
                    commands: Vec<Vec<String>>,
                    guard: Guard| {
        if done {
            return;
        }
        let id = b.push(
            StepSpec {
                id: format!("{addr}/{verb}"),
                address: &addr,
                action: Action::Create,
                node,
                description: desc,
                commands,
                guard,
                depends_on: deps.clone(),
                destructive: false,
            },
            nb.blocked,
        );
        deps = vec![id];
    };
    if nb.kind == BrickKind::Directory {
        let dir = dir_brick_path(nb.vg_or_dir, nb.volume, nb.set, nb.pos);
        let mark = dir_brick_mark(nb.cluster, nb.volume, nb.set, nb.pos);
        // One step, atomic by rename: the directory appears under its name only once it
        // carries the mark, so an apply killed in between leaves no unmarked brick
        // directory (which the proof would refuse forever), only a hidden temporary one.
        push(
            b,
            nb.have.dir,
            "mkdir",
            format!("create brick directory {dir}, marked as brickyard's ({BRICK_XATTR}={mark})"),
            vec![sh(MARKED_MKDIR, &[BRICK_XATTR, &mark, &dir])],
            fresh_guard(
                "the directory carries the mark",
                sh(
                    "test \"$(getfattr --only-values -n \"$1\" -- \"$3\" 2>/dev/null)\" = \"$2\"",
                    &[BRICK_XATTR, &mark, &dir],
                ),
            ),
        );
        return deps;
    }
    let vg = nb.vg_or_dir;
    let lv = lv_name(nb.volume, nb.set, nb.pos);
    let tp = pool_name(nb.volume, nb.set, nb.pos);
    let dev = lv_device(vg, &lv);
    let mnt = mount_path(vg, &lv);
    let dir = lvm_brick_dir(vg, &lv);
    let line = fstab_line(nb.cluster, vg, &lv);
    let need = lvm_need(nb.size, nb.snapshot_factor, 0);
    let (tp_size, meta) = (need.pool, need.meta);
    let tags = brick_tags(nb.cluster, nb.volume, nb.set, nb.pos);
    let f = nb.facts;
    let (pool_exists, lv_exists, mounted) = (nb.have.pool, nb.have.lv, nb.have.mounted);
    let in_fstab = f.is_some_and(|f| f.fstab.iter().any(|e| e.line == line));
    // Pool and thin LV are made by two lvcreate calls, each with the tags. One combined
    // call (`--size .. --thin VG/POOL --virtualsize .. --addtag ..`) puts the tags on the
    // pool only (LVM moves its tag list to the first LV it creates), leaving the thin LV
    // untagged, so a half-applied brick would not be recognised as ours (seen on the VM
    // lab, LVM 2.03.16). Interrupted between the two, the next plan sees the pool and
    // plans only the thin LV.
    let mut cmds = Vec::new();
    if !pool_exists {
        let mut pool = argv(&[
            "lvcreate",
            "--type",
            "thin-pool",
            "--poolmetadatasize",
            &kib(meta),
            "--chunksize",
            "256K",
            "--size",
            &kib(tp_size),
            "--name",
            &tp,
        ]);
        add_tags(&mut pool, &tags);
        pool.push(vg.to_string());
        cmds.push(pool);
    }
    let mut thin = argv(&[
        "lvcreate",
        "--thin",
        "--virtualsize",
        &kib(nb.size),
        "--name",
        &lv,
    ]);
    add_tags(&mut thin, &tags);
    thin.push(format!("{vg}/{tp}"));
    cmds.push(thin);
    push(
        b,
        lv_exists,
        "lvcreate",
        format!(
            "create thin pool {vg}/{tp} ({} + {} metadata) and thin LV {lv} ({})",
            HumanBytes(tp_size),
            HumanBytes(meta),
            HumanBytes(nb.size)
        ),
        cmds,
        guard("lvs lists the LV", argv(&["lvs", &format!("{vg}/{lv}")])),
    );
    push(
        b,
        mounted || nb.in_volume,
        "mkfs",
        format!("make an XFS filesystem on {dev}"),
        vec![argv(&[
            "mkfs.xfs",
            "-i",
            "size=512",
            "-n",
            "size=8192",
            &dev,
        ])],
        guard(
            "the LV already holds XFS (blkid -p)",
            sh(
                "test \"$(blkid -p -s TYPE -o value -- \"$1\")\" = xfs",
                &[&dev],
            ),
        ),
    );
    push(
        b,
        mounted,
        "mountpoint",
        format!("create mount point {mnt}"),
        vec![argv(&["mkdir", "-p", "--", &mnt])],
        guard("the directory exists", argv(&["test", "-d", &mnt])),
    );
    push(
        b,
        mounted,
        "mount",
        format!("mount {dev} on {mnt}"),
        vec![argv(&["mount", "-o", MOUNT_OPTS, "--", &dev, &mnt])],
        guard("mountpoint -q", argv(&["mountpoint", "-q", &mnt])),
    );
    push(
        b,
        in_fstab,
        "fstab",
        format!("add {mnt} to /etc/fstab"),
        vec![crate::plan::fstab::add_line(&line)],
        guard(
            "/etc/fstab has the exact line",
            crate::plan::fstab::has_line(&line),
        ),
    );
    push(
        b,
        false,
        "brickdir",
        format!("create brick directory {dir}"),
        vec![argv(&["mkdir", "-p", "--", &dir])],
        guard("the directory exists", argv(&["test", "-d", &dir])),
    );
    deps
}

pub(super) fn add_tags(cmd: &mut Vec<String>, tags: &[String]) {
    for t in tags {
        cmd.push("--addtag".into());
        cmd.push(t.clone());
    }
}

pub(super) fn kib(bytes: u64) -> String {
    format!("{}K", bytes.div_ceil(1024))
}
