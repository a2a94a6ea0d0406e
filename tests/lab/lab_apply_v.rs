//! Tier V (QEMU VM, real LVM): `brickyard apply` builds the whole brick stack the planner
//! lays out (PV, tagged VG, thin pool + tagged thin LV, XFS, mount, fstab line, brick
//! directory) and a volume on it, converges (the next plan has no changes), serves data,
//! refuses a disk that already holds a filesystem without touching it, and mounts a lost
//! brick mount again (without mkfs) before starting its volume.
//! The cleanup guard runs before (leftovers of a killed run) and on drop, and leaves v1's
//! data disks blank.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::common::lab::{Lab, Node, Tier, expect_exit, host_ok};

const BIN: &str = env!("CARGO_BIN_EXE_brickyard");
const CLUSTER: &str = "labapplyv";
const VOL: &str = "vv";
const VG: &str = "by_vdb";
const POOL: &str = "tp_vv_0_0";
const LV: &str = "brick_vv_0_0";
const MOUNT: &str = "/var/lib/brickyard/mounts/by_vdb/brick_vv_0_0";

/// Everything the test may leave on v1, removed in one round trip (TCG ssh is slow).
/// A fixed script: it takes no values from outside. Also the base of
/// `lab_classic_v`'s and `lab_heketi_v`'s cleanup on each of their VMs (Heketi's VGs,
/// mounts and fstab lines included).
pub(crate) const CLEANUP: &str = r#"
for v in $(gluster --mode=script volume list 2>/dev/null | grep -v '^No volumes'); do
  gluster --mode=script volume stop "$v" force >/dev/null 2>&1
  gluster --mode=script volume delete "$v" >/dev/null 2>&1
done
for m in $(findmnt -rn -o TARGET | grep -E '^/var/lib/(brickyard|heketi)/mounts/'); do umount "$m"; done
if grep -qE 'x-brickyard|/var/lib/heketi/' /etc/fstab; then
  grep -vE 'x-brickyard|/var/lib/heketi/' /etc/fstab > /etc/fstab.labapplyv; cat /etc/fstab.labapplyv > /etc/fstab
  rm -f /etc/fstab.labapplyv
fi
rm -f /etc/fstab.brickyard.*
for vg in $(vgs --noheadings -o vg_name 2>/dev/null); do
  case "$vg" in by_*|vg_*) vgremove -ffy "$vg" >/dev/null 2>&1;; esac
done
for d in /dev/vdb /dev/vdc; do
  pvremove -ffy "$d" >/dev/null 2>&1
  wipefs -qa "$d"
done
rm -rf /var/lib/brickyard/mounts /var/lib/brickyard/lock /var/lib/brickyard/cluster-id /var/lib/heketi
"#;

struct Env {
    lab: Lab,
    dir: tempfile::TempDir,
    fuse: Option<PathBuf>,
}

impl Env {
    fn new(lab: Lab) -> Env {
        let env = Env {
            lab,
            dir: tempfile::tempdir().expect("tempdir"),
            fuse: None,
        };
        env.reset();
        assert_blank(env.v1());
        env
    }

    fn v1(&self) -> &Node {
        self.lab.nodes(Tier::V)[0]
    }

    fn cfg(&self) -> PathBuf {
        self.dir.path().join("brickyard.yaml")
    }

    /// One node v1 with these devices and one 1 GiB volume without redundancy.
    fn config(&self, devices: &[&str]) {
        let n = self.v1();
        let y = format!(
            "cluster: {CLUSTER}\nssh:\n  user: {}\n  identity_file: {}\n  known_hosts: strict\n  options: [\"UserKnownHostsFile={}\"]\nnodes:\n  v1: {{ manage: {}, zone: 1, devices: [{}] }}\nvolumes:\n  {VOL}:\n    size: 1GiB\n    durability: {{ type: none }}\n",
            n.user,
            n.identity_file.display(),
            n.known_hosts.display(),
            n.address,
            devices.join(", ")
        );
        std::fs::write(self.cfg(), y).expect("write config");
    }

    /// [`Env::config`] with its `volumes:` section (and anything after it) replaced.
    fn config_volumes(&self, devices: &[&str], tail: &str) {
        self.config(devices);
        let cfg = std::fs::read_to_string(self.cfg()).expect("read config");
        let (head, _) = cfg.split_once("volumes:").expect("volumes in the config");
        std::fs::write(self.cfg(), format!("{head}{tail}")).expect("write config");
    }

    fn by(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .arg("-c")
            .arg(self.cfg())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run brickyard")
    }

    /// Runs brickyard, asserts the exit code, returns (stdout, stderr).
    fn by_code(&self, code: i32, args: &[&str]) -> (String, String) {
        expect_exit(self.by(args), code, args)
    }

    fn reset(&self) {
        if let Some(m) = &self.fuse {
            let _ = Command::new("umount").arg(m).output();
        }
        let out = self.v1().run(&["sh", "-c", CLEANUP]);
        if !out.status.success() {
            eprintln!(
                "cleanup on v1 reported: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.reset();
    }
}

/// No signature on either disk, no brickyard fstab line, mount, VG or volume.
fn assert_blank(n: &Node) {
    let state = n.run_ok(&[
        "sh",
        "-c",
        "wipefs --noheadings /dev/vdb /dev/vdc; grep x-brickyard /etc/fstab; \
         findmnt -rn -o TARGET | grep /var/lib/brickyard/; vgs --noheadings -o vg_name; \
         gluster --mode=script volume list | grep -v '^No volumes'; true",
    ]);
    assert_eq!(state.trim(), "", "{} is not blank:\n{state}", n.name);
}

/// `lvs`/`vgs` JSON report rows.
fn report(json: &str, kind: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"));
    v["report"][0][kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} list in {json}"))
        .clone()
}

fn tags(row: &serde_json::Value, field: &str) -> Vec<String> {
    row[field]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

fn brick_tags() -> Vec<String> {
    let mut t = vec![
        format!("brickyard.cluster={CLUSTER}"),
        "brickyard.pos=0".to_string(),
        "brickyard.set=0".to_string(),
        format!("brickyard.volume={VOL}"),
    ];
    t.sort();
    t
}

/// `blkid -p` of a device: its probed properties, one `KEY=value` per line.
fn probe(n: &Node, dev: &str) -> String {
    n.run_ok(&["blkid", "-p", "-o", "export", dev])
}

#[test]
fn lvm_bricks_from_a_blank_disk_converge_serve_data_and_a_formatted_disk_is_refused() {
    let Some(lab) = Lab::require(Tier::V) else {
        return;
    };
    let mut env = Env::new(lab);
    let n = env.v1().clone();

    // 1. From a blank /dev/vdb to a started volume on a thin LVM brick.
    env.config(&["/dev/vdb"]);
    let (_, se) = env.by_code(0, &["apply", "--auto-approve"]);
    assert!(se.contains("Apply complete."), "{se}");
    // Every step of the brick stack ran (none was "already done" on a blank disk).
    for step in [
        "make /dev/vdb an LVM physical volume",
        "create volume group by_vdb on /dev/vdb",
        "create thin pool by_vdb/tp_vv_0_0",
        "make an XFS filesystem on /dev/by_vdb/brick_vv_0_0",
        "mount /dev/by_vdb/brick_vv_0_0 on /var/lib/brickyard/mounts/by_vdb/brick_vv_0_0",
        "add /var/lib/brickyard/mounts/by_vdb/brick_vv_0_0 to /etc/fstab",
        // one step: create, one `volume set` of the markers, start; checked Started
        "create volume vv (distribute, 1 set(s) of 1 GiB bricks), mark it, start it",
    ] {
        assert!(
            se.lines()
                .any(|l| l.starts_with("[v1]") && l.contains(step) && l.contains(" ... done (")),
            "progress shows `{step}` done:\n{se}"
        );
    }

    let pvs = report(
        &n.run_ok(&[
            "pvs",
            "--reportformat",
            "json",
            "-o",
            "pv_name,vg_name,pv_mda_size",
        ]),
        "pv",
    );
    let pv = pvs
        .iter()
        .find(|p| p["pv_name"] == "/dev/vdb")
        .unwrap_or_else(|| panic!("/dev/vdb is not a PV: {pvs:?}"));
    assert_eq!(pv["vg_name"], VG, "{pv}");

    let vgs = report(
        &n.run_ok(&[
            "vgs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "vg_name,vg_tags,vg_extent_size,pv_count",
            VG,
        ]),
        "vg",
    );
    assert_eq!(vgs.len(), 1, "{vgs:?}");
    assert_eq!(
        tags(&vgs[0], "vg_tags"),
        vec![
            format!("brickyard.cluster={CLUSTER}"),
            "brickyard.node=v1".to_string()
        ],
        "{vgs:?}"
    );
    assert_eq!(
        vgs[0]["vg_extent_size"], "4194304B",
        "4 MiB extents: {vgs:?}"
    );
    assert_eq!(vgs[0]["pv_count"], "1", "{vgs:?}");

    let lvs = report(
        &n.run_ok(&[
            "lvs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "+lv_tags,vg_tags",
            VG,
        ]),
        "lv",
    );
    let row = |name: &str| {
        lvs.iter()
            .find(|l| l["lv_name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {lvs:?}"))
            .clone()
    };
    let pool = row(POOL);
    let lv = row(LV);
    assert!(
        pool["lv_attr"]
            .as_str()
            .unwrap_or_default()
            .starts_with('t'),
        "{POOL} is a thin pool: {pool}"
    );
    let attr = lv["lv_attr"].as_str().unwrap_or_default();
    assert!(attr.starts_with('V'), "{LV} is a thin volume: {lv}");
    assert_eq!(attr.chars().nth(4), Some('a'), "{LV} is active: {lv}");
    assert_eq!(lv["pool_lv"], POOL, "{lv}");
    assert_eq!(lv["lv_size"], "1073741824B", "1 GiB thin LV: {lv}");
    let mut lv_tags = tags(&lv, "lv_tags");
    lv_tags.sort();
    assert_eq!(lv_tags, brick_tags(), "thin LV tagged at creation: {lv}");
    let mut pool_tags = tags(&pool, "lv_tags");
    pool_tags.sort();
    assert_eq!(
        pool_tags,
        brick_tags(),
        "thin pool tagged at creation: {pool}"
    );

    let dev = format!("/dev/{VG}/{LV}");
    let fs = probe(&n, &dev);
    assert!(
        fs.lines().any(|l| l == "TYPE=xfs"),
        "{dev} holds XFS:\n{fs}"
    );

    let mnt: serde_json::Value = serde_json::from_str(&n.run_ok(&[
        "findmnt",
        "-J",
        "-o",
        "SOURCE,FSTYPE,OPTIONS",
        "--mountpoint",
        MOUNT,
    ]))
    .expect("findmnt prints JSON");
    let m = &mnt["filesystems"][0];
    assert_eq!(m["fstype"], "xfs", "{mnt}");
    let src = m["source"].as_str().unwrap_or_default();
    assert!(
        src == format!("/dev/mapper/{VG}-{LV}") || src == dev,
        "mounted from the brick LV: {mnt}"
    );
    let opts: Vec<&str> = m["options"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .collect();
    for o in ["inode64", "noatime", "nouuid"] {
        assert!(opts.contains(&o), "mount option {o}: {mnt}");
    }

    let fstab = n.run_ok(&["cat", "/etc/fstab"]);
    let line =
        format!("{dev} {MOUNT} xfs rw,inode64,noatime,nouuid,x-brickyard.cluster={CLUSTER} 0 0");
    assert_eq!(
        fstab.lines().filter(|l| *l == line).count(),
        1,
        "fstab has the brickyard line exactly once:\n{fstab}"
    );

    let info = n.gluster(&["volume", "info", VOL]);
    assert!(info.contains("Status: Started"), "{info}");
    let brick = format!("{}:{MOUNT}/brick", n.address);
    assert!(
        info.lines().any(|l| l.trim() == format!("Brick1: {brick}")),
        "the brick is on the LVM mount ({brick}):\n{info}"
    );
    assert!(info.contains("Number of Bricks: 1"), "{info}");

    // 2. Converged: the next plan finds nothing to do.
    let (so, _) = env.by_code(0, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("No changes"), "{so}");

    // 3. Data through gluster lands on the LVM brick and reads back.
    let fuse = env.lab.host_dir("apply-v");
    let _ = Command::new("umount").arg(&fuse).output();
    host_ok(&[
        "mount",
        "-t",
        "glusterfs",
        &format!("{}:/{VOL}", n.address),
        &fuse.display().to_string(),
    ]);
    env.fuse = Some(fuse.clone());
    let payload = format!("brickyard lab apply v {:?}\n", std::time::SystemTime::now());
    std::fs::write(fuse.join("hello.txt"), &payload).expect("write through FUSE");
    assert_eq!(
        std::fs::read_to_string(fuse.join("hello.txt")).expect("read through FUSE"),
        payload
    );
    let on_brick = n.run_ok(&["cat", &format!("{MOUNT}/brick/hello.txt")]);
    assert_eq!(on_brick, payload, "the file is on the XFS brick");

    // 4. A disk that already holds a filesystem is refused, with evidence, and untouched.
    n.run_ok(&["mkfs.xfs", "-q", "-f", "-L", "userdata", "/dev/vdc"]);
    let before = probe(&n, "/dev/vdc");
    let uuid = before
        .lines()
        .find_map(|l| l.strip_prefix("UUID="))
        .unwrap_or_else(|| panic!("no UUID in blkid -p /dev/vdc:\n{before}"))
        .to_string();
    env.config(&["/dev/vdb", "/dev/vdc"]);
    let (so, se) = env.by_code(1, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("device_signature"), "{so}");
    assert!(so.contains("device.v1:/dev/vdc"), "names the device: {so}");
    assert!(so.contains("xfs"), "evidence names the filesystem: {so}");
    assert!(so.contains(&uuid), "evidence shows the UUID {uuid}: {so}");
    assert!(so.contains("wipe: true"), "says how to proceed: {so}");
    assert!(se.contains("blocked"), "{se}");
    // docs/apply.md: blocked changes make apply exit 1; here nothing else is left to do.
    let (_, se) = env.by_code(1, &["apply", "--auto-approve"]);
    assert!(se.contains("blocked"), "{se}");
    assert!(!se.contains("Apply complete."), "{se}");
    assert_eq!(
        probe(&n, "/dev/vdc"),
        before,
        "/dev/vdc is untouched (blkid -p)"
    );
    let pvs = n.run_ok(&["pvs", "--noheadings", "-o", "pv_name"]);
    assert!(
        !pvs.contains("/dev/vdc"),
        "/dev/vdc did not become a PV: {pvs}"
    );
    assert_eq!(
        std::fs::read_to_string(fuse.join("hello.txt")).expect("read through FUSE"),
        payload,
        "the volume still serves its data"
    );

    // 5. A lost brick mount of an existing volume: the plan mounts it again (never a
    //    mkfs) before starting the volume, and apply converges.
    env.config(&["/dev/vdb"]);
    let _ = Command::new("umount").arg(&fuse).output();
    env.fuse = None;
    n.gluster(&["volume", "stop", VOL]);
    n.run_ok(&["umount", MOUNT]);
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode"]);
    assert!(
        so.contains(&format!("mount {dev} on {MOUNT}")),
        "the plan mounts the brick again:\n{so}"
    );
    assert!(so.contains("start volume vv"), "{so}");
    assert!(
        !so.contains("mkfs"),
        "never a mkfs on a brick with data:\n{so}"
    );
    assert!(!so.contains("lvcreate"), "the LV is there:\n{so}");
    let (_, se) = env.by_code(0, &["apply", "--auto-approve"]);
    assert!(se.contains("Apply complete."), "{se}");
    n.run_ok(&["mountpoint", "-q", MOUNT]);
    let (so, _) = env.by_code(0, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("No changes"), "{so}");
    assert_eq!(
        n.run_ok(&["cat", &format!("{MOUNT}/brick/hello.txt")]),
        payload,
        "the data on the brick survived"
    );
    assert!(
        n.gluster(&["volume", "info", VOL])
            .contains("Status: Started")
    );

    drop(env);
    assert_blank(&n);
}

/// Hand-made LVM on v1 that brickyard must never touch: VG `by_vdc` (brickyard's VG name
/// for /dev/vdc, but untagged) holding an LV of brickyard's brick name, full of data.
const FOREIGN_LVM: &str = "vgcreate -y by_vdc /dev/vdc >/dev/null && \
    lvcreate -y -L 64M -n brick_vv_0_0 by_vdc >/dev/null && \
    dd if=/dev/urandom of=/dev/by_vdc/brick_vv_0_0 bs=1M count=64 status=none && sync";

/// Everything about the hand-made LVM that must stay the same: the LV's bytes, its
/// attributes and tags, its VG and PV.
fn foreign_lvm(n: &Node) -> String {
    n.run_ok(&[
        "sh",
        "-c",
        "sha256sum /dev/by_vdc/brick_vv_0_0 && \
         lvs --noheadings -o lv_name,lv_attr,lv_size,lv_tags,lv_uuid by_vdc && \
         vgs --noheadings -o vg_name,vg_tags,vg_uuid,pv_count,lv_count by_vdc && \
         pvs --noheadings -o pv_name,pv_uuid,vg_name /dev/vdc",
    ])
}

#[test]
fn a_hand_made_lv_stays_byte_identical_through_apply_destroy_and_a_config_naming_its_disk() {
    let Some(lab) = Lab::require(Tier::V) else {
        return;
    };
    let env = Env::new(lab);
    let n = env.v1().clone();
    n.run_ok(&["sh", "-c", FOREIGN_LVM]);
    let before = foreign_lvm(&n);

    // 1. A volume on the other disk: built beside it.
    env.config(&["/dev/vdb"]);
    let (_, se) = env.by_code(0, &["apply", "--auto-approve"]);
    assert!(se.contains("Apply complete."), "{se}");
    assert_eq!(foreign_lvm(&n), before, "changed by an apply on /dev/vdb");

    // 2. The config names its disk, with wipe allowed: refused by name, never wiped.
    env.config(&["/dev/vdb", "{ path: /dev/vdc, wipe: true }"]);
    let (so, _) = env.by_code(1, &["plan", "--allow-wipe"]);
    assert!(
        so.contains("device_signature") && so.contains("/dev/vdc") && so.contains("by_vdc"),
        "the plan refuses the disk, naming its VG:\n{so}"
    );
    let (_, se) = env.by_code(
        1,
        &["apply", "--auto-approve", "--allow-wipe", "--allow-destroy"],
    );
    assert!(se.contains("blocked"), "{se}");
    assert_eq!(
        foreign_lvm(&n),
        before,
        "changed by an apply naming /dev/vdc"
    );

    // 3. Our volume dropped with --allow-destroy: our brick goes, the hand-made LV stays.
    env.config_volumes(&["/dev/vdb"], "volumes: {}\n");
    let (_, se) = env.by_code(0, &["apply", "--auto-approve", "--allow-destroy"]);
    assert!(se.contains("Apply complete."), "{se}");
    let lvs = n.run_ok(&["lvs", "--noheadings", "-o", "lv_name", VG]);
    assert!(
        !lvs.contains(LV) && !lvs.contains(POOL),
        "our brick is gone: {lvs}"
    );
    assert_eq!(
        foreign_lvm(&n),
        before,
        "changed by an --allow-destroy apply"
    );
    let (so, _) = env.by_code(0, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("No changes"), "{so}");
}

/// The capacity model against real LVM (issue "Crash-safe LVM"): the plan's predicted
/// free space after the last brick equals what `vgs` reports after the apply, within one
/// extent: first for one brick with a snapshot factor above 1, then for two more bricks
/// (one more with a snapshot factor) on the same VG.
#[test]
fn predicted_free_space_matches_vgs_within_one_extent() {
    let Some(lab) = Lab::require(Tier::V) else {
        return;
    };
    let env = Env::new(lab);
    let n = env.v1().clone();
    let one = "placement: { brick_min_size: 256MiB }\nvolumes:\n  vv:\n    size: 1GiB\n    snapshot_factor: 1.5\n    durability: { type: none }\n";
    let three = format!(
        "{one}  vw:\n    size: 300MiB\n    durability: {{ type: none }}\n  \
         vx:\n    size: 700MiB\n    snapshot_factor: 2\n    durability: {{ type: none }}\n"
    );
    for (volumes, bricks) in [(one.to_string(), 1), (three, 2)] {
        if bricks == 2 {
            // a brick coming online between the plan saved and the apply's re-plan under
            // the lock makes the saved plan stale (see lab_apply_n)
            crate::env_n::wait_online(&n, "vv");
        }
        env.config_volumes(&["/dev/vdb"], &volumes);
        let plan = env.dir.path().join("plan.json");
        let plan_s = plan.display().to_string();
        env.by_code(0, &["plan", "-o", &plan_s]);
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&plan).expect("read plan"))
                .expect("plan JSON");
        let placements = saved["plan"]["placements"]
            .as_array()
            .or_else(|| saved["placements"].as_array())
            .unwrap_or_else(|| panic!("no placements in the saved plan: {saved}"))
            .clone();
        assert_eq!(
            placements.len(),
            bricks,
            "new bricks placed: {placements:?}"
        );
        // bricks take from the device in plan order: the last one's "after" is the VG's end
        let predicted = placements
            .iter()
            .filter_map(|p| p["device_free_after"].as_u64())
            .min()
            .expect("device_free_after");
        let (_, se) = env.by_code(0, &["apply", &plan_s]);
        assert!(se.contains("Apply complete."), "{se}");
        let vgs = report(
            &n.run_ok(&[
                "vgs",
                "--reportformat",
                "json",
                "--units",
                "b",
                "--nosuffix",
                "-o",
                "vg_free,vg_extent_size",
                VG,
            ]),
            "vg",
        );
        let num = |k: &str| -> u64 {
            vgs[0][k]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{k} in {vgs:?}"))
        };
        let (free, extent) = (num("vg_free"), num("vg_extent_size"));
        assert!(
            predicted.abs_diff(free) <= extent,
            "plan predicted {predicted} B free on {VG} after {bricks} new brick(s), vgs says {free} B (extent {extent} B)"
        );
        let (so, _) = env.by_code(0, &["plan", "--detailed-exitcode"]);
        assert!(so.contains("No changes"), "{so}");
    }
}
