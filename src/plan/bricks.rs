//! Steps that build one brick (thin pool + LV, XFS, mount, fstab, brick directory) or a
//! directory brick, and the steps that tear one down after its volume is deleted.
//! Each step is guarded by a read-only check, so an interrupted apply resumes where it
//! stopped: the LV is tagged at creation, mkfs only runs on an LV without XFS, etc.

use crate::config::BrickKind;
use crate::gather::NodeFacts;

use super::builder::{Builder, StepSpec, argv, sh};
use super::capacity::lvm_need;
use super::model::Action;
use super::ownership::{
    MOUNT_OPTS, brick_tags, dir_brick_path, fstab_line, lv_device, lv_name, lvm_brick_dir,
    mount_path, pool_name,
};
use crate::units::HumanBytes;

/// A brick the plan creates, with where it goes.
pub(crate) struct NewBrick<'a> {
    pub cluster: &'a str,
    pub volume: &'a str,
    pub set: u32,
    pub pos: u32,
    pub node: &'a str,
    pub kind: BrickKind,
    /// VG (lvm) or declared directory.
    pub vg_or_dir: &'a str,
    pub size: u64,
    pub snapshot_factor: f64,
    /// Preparation steps of the device (pvcreate/vgcreate) the brick waits for.
    pub after: Vec<String>,
    pub blocked: bool,
    /// What already exists on the node (a half-applied brick): skip nothing, but say so.
    pub facts: Option<&'a NodeFacts>,
    /// A brick of an existing volume being mounted again: its filesystem holds the
    /// volume's data, so no mkfs step is ever planned for it.
    pub in_volume: bool,
}

pub(crate) fn address(volume: &str, set: u32, pos: u32) -> String {
    format!("brick.{volume}[{set}][{pos}]")
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
                    guard: (String, Vec<String>)| {
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
        push(
            b,
            false,
            "mkdir",
            format!("create brick directory {dir}"),
            vec![argv(&["mkdir", "-p", &dir])],
            ("the directory exists".into(), argv(&["test", "-d", &dir])),
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
    let (_, tp_size, meta, _) = lvm_need(nb.size, nb.snapshot_factor, 0);
    let tags = brick_tags(nb.cluster, nb.volume, nb.set, nb.pos);
    let f = nb.facts;
    let pool_exists = f.is_some_and(|f| f.lvs.iter().any(|l| l.vg == vg && l.name == tp));
    let lv_exists = f.is_some_and(|f| f.lvs.iter().any(|l| l.vg == vg && l.name == lv));
    let mounted = f.is_some_and(|f| f.mounts.iter().any(|m| m.target == mnt));
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
        (
            "lvs lists the LV".into(),
            argv(&["lvs", &format!("{vg}/{lv}")]),
        ),
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
        (
            "the LV already holds XFS (blkid -p)".into(),
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
        vec![argv(&["mkdir", "-p", &mnt])],
        ("the directory exists".into(), argv(&["test", "-d", &mnt])),
    );
    push(
        b,
        mounted,
        "mount",
        format!("mount {dev} on {mnt}"),
        vec![argv(&["mount", "-o", MOUNT_OPTS, &dev, &mnt])],
        ("mountpoint -q".into(), argv(&["mountpoint", "-q", &mnt])),
    );
    push(
        b,
        in_fstab,
        "fstab",
        format!("add {mnt} to /etc/fstab"),
        vec![sh("printf '%s\\n' \"$1\" >> /etc/fstab", &[&line])],
        (
            "/etc/fstab has the exact line".into(),
            sh("grep -qxF -- \"$1\" /etc/fstab", &[&line]),
        ),
    );
    push(
        b,
        false,
        "brickdir",
        format!("create brick directory {dir}"),
        vec![argv(&["mkdir", "-p", &dir])],
        ("the directory exists".into(), argv(&["test", "-d", &dir])),
    );
    deps
}

/// An existing brick to tear down after its volume is deleted.
pub(crate) struct OldBrick<'a> {
    pub volume: &'a str,
    pub set: u32,
    pub pos: u32,
    pub node: &'a str,
    /// Gluster's brick path.
    pub path: &'a str,
    pub facts: Option<&'a NodeFacts>,
}

/// Pushes teardown steps after `after` (the volume delete). LVM bricks are recognised by
/// their mount being one of ours (VG/LV taken from the mount source, as Heketi does);
/// directory bricks lose their directory. All destructive.
pub(crate) fn destroy(b: &mut Builder, ob: &OldBrick<'_>, after: &str, blocked: bool) {
    let addr = address(ob.volume, ob.set, ob.pos);
    let node = ob.node;
    let mut deps = vec![after.to_string()];
    let mut push = |b: &mut Builder,
                    verb: &str,
                    desc: String,
                    cmd: Vec<String>,
                    guard: (String, Vec<String>)| {
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
        .filter(|m| m.starts_with(super::ownership::MOUNT_ROOT))
    else {
        push(
            b,
            "rmdir",
            format!("remove brick directory {} and its data", ob.path),
            argv(&["rm", "-rf", "--one-file-system", "--", ob.path]),
            (
                "the directory is gone".into(),
                sh("! test -e \"$1\"", &[ob.path]),
            ),
        );
        return;
    };
    let rel = mnt
        .trim_start_matches(super::ownership::MOUNT_ROOT)
        .trim_start_matches('/');
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
        (
            "not a mount point any more".into(),
            sh("! mountpoint -q -- \"$1\"", &[mnt]),
        ),
    );
    if let Some(line) = line {
        push(
            b,
            "fstab",
            format!("remove {mnt} from /etc/fstab"),
            sh(
                "t=$(mktemp /etc/fstab.brickyard.XXXXXX) && { grep -vxF -- \"$1\" /etc/fstab > \"$t\"; cat \"$t\" > /etc/fstab; rm -f \"$t\"; }",
                &[&line],
            ),
            (
                "the line is gone from /etc/fstab".into(),
                sh("! grep -qxF -- \"$1\" /etc/fstab", &[&line]),
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
            (
                "lvs no longer lists it".into(),
                sh("! lvs -- \"$1\" >/dev/null 2>&1", &[&full]),
            ),
        );
    }
    push(
        b,
        "rmdir",
        format!("remove mount point {mnt}"),
        argv(&["rmdir", mnt]),
        (
            "the directory is gone".into(),
            sh("! test -e \"$1\"", &[mnt]),
        ),
    );
}

fn add_tags(cmd: &mut Vec<String>, tags: &[String]) {
    for t in tags {
        cmd.push("--addtag".into());
        cmd.push(t.clone());
    }
}

fn kib(bytes: u64) -> String {
    format!("{}K", bytes.div_ceil(1024))
}
