//! Tier V smoke test: real LVM on a VM data disk as brickyard will use it (PV, VG, thin
//! pool, tagged thin LV, XFS, mount, fstab entry), and the tag visible in `lvs` JSON.
//! The test removes everything again, so the data disk is blank for later tests.

use crate::common::lab::{Lab, Node, Tier};

const VG: &str = "vg_labsmoke";
const POOL: &str = "tp_labsmoke";
const LV: &str = "lv_labsmoke";
const TAG: &str = "brickyard.smoke=1";
const DISK: &str = "/dev/vdb";
const MOUNT: &str = "/bricks/labsmoke";

fn dev() -> String {
    format!("/dev/{VG}/{LV}")
}

fn fstab_line() -> String {
    format!(
        "{} {MOUNT} xfs rw,inode64,noatime,nouuid 0 0 # brickyard lab smoke",
        dev()
    )
}

/// Best-effort removal of everything this test creates; runs before the test (leftovers of
/// a killed run) and after it, also when an assertion failed.
struct Cleanup<'a>(&'a Node);

impl Cleanup<'_> {
    fn run(&self) {
        let n = self.0;
        let _ = n.run(&["umount", MOUNT]);
        let _ = n.run(&[
            "sh",
            "-c",
            "grep -vxF -- \"$1\" /etc/fstab > /etc/fstab.labsmoke && mv /etc/fstab.labsmoke /etc/fstab",
            "sh",
            &fstab_line(),
        ]);
        let _ = n.run(&["lvremove", "-qy", VG]);
        let _ = n.run(&["vgremove", "-qy", VG]);
        let _ = n.run(&["pvremove", "-qy", DISK]);
        let _ = n.run(&["wipefs", "-qa", DISK]);
        let _ = n.run(&["rmdir", MOUNT]);
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        self.run();
    }
}

fn signatures(n: &Node) -> String {
    n.run_ok(&["wipefs", "--noheadings", DISK])
}

#[test]
fn thin_lv_with_tag_xfs_mount_and_fstab_on_a_vm() {
    let Some(lab) = Lab::require(Tier::V) else {
        return;
    };
    let n = lab.nodes(Tier::V)[0];
    let cleanup = Cleanup(n);
    // leftovers of a killed run? (cleaning costs about a minute under TCG, so only then)
    if !signatures(n).is_empty() || n.run_ok(&["cat", "/etc/fstab"]).contains(LV) {
        cleanup.run();
    }
    assert_eq!(signatures(n), "", "{DISK} on {} starts blank", n.name);

    n.run_ok(&[
        "pvcreate",
        "-q",
        "--metadatasize=128M",
        "--dataalignment=256K",
        DISK,
    ]);
    n.run_ok(&["vgcreate", "-q", "--physicalextentsize=4M", VG, DISK]);
    n.run_ok(&[
        "lvcreate",
        "-q",
        "-L",
        "1G",
        "--poolmetadatasize",
        "16M",
        "--chunksize",
        "256K",
        "--thinpool",
        POOL,
        VG,
    ]);
    let pool = format!("{VG}/{POOL}");
    n.run_ok(&[
        "lvcreate", "-q", "-V", "1G", "-T", &pool, "-n", LV, "--addtag", TAG,
    ]);
    n.run_ok(&[
        "mkfs.xfs",
        "-q",
        "-i",
        "size=512",
        "-n",
        "size=8192",
        &dev(),
    ]);
    n.run_ok(&["mkdir", "-p", MOUNT]);
    n.run_ok(&[
        "sh",
        "-c",
        "printf '%s\\n' \"$1\" >> /etc/fstab",
        "sh",
        &fstab_line(),
    ]);
    // mount by mount point only: this goes through the fstab entry, proving it is right
    n.run_ok(&["mount", MOUNT]);

    let json = n.run_ok(&["lvs", "--reportformat", "json", "-o", "+lv_tags", VG]);
    let report: serde_json::Value = serde_json::from_str(&json).expect("lvs prints JSON");
    let lvs = report["report"][0]["lv"]
        .as_array()
        .unwrap_or_else(|| panic!("no lv list in {json}"));
    let lv = lvs
        .iter()
        .find(|l| l["lv_name"] == LV)
        .unwrap_or_else(|| panic!("{LV} not in {json}"));
    assert_eq!(lv["lv_tags"], TAG, "{json}");
    assert_eq!(lv["pool_lv"], POOL, "{json}");
    let attr = lv["lv_attr"].as_str().unwrap_or_default();
    assert!(attr.starts_with('V'), "thin volume attr {attr}");
    assert_eq!(attr.chars().nth(4), Some('a'), "active: {attr}");
    let pool_lv = lvs
        .iter()
        .find(|l| l["lv_name"] == POOL)
        .unwrap_or_else(|| panic!("{POOL} not in {json}"));
    assert!(
        pool_lv["lv_attr"]
            .as_str()
            .unwrap_or_default()
            .starts_with('t'),
        "thin pool: {json}"
    );

    let mnt = n.run_ok(&[
        "findmnt",
        "-J",
        "-o",
        "SOURCE,FSTYPE,OPTIONS",
        "--mountpoint",
        MOUNT,
    ]);
    let mnt: serde_json::Value = serde_json::from_str(&mnt).expect("findmnt prints JSON");
    let fs = &mnt["filesystems"][0];
    assert_eq!(fs["fstype"], "xfs", "{mnt}");
    assert!(
        fs["options"]
            .as_str()
            .unwrap_or_default()
            .contains("noatime"),
        "fstab options applied: {mnt}"
    );
    n.run_ok(&[
        "sh",
        "-c",
        "echo smoke > \"$1\"/probe && cat \"$1\"/probe",
        "sh",
        MOUNT,
    ]);

    drop(cleanup);
    assert_eq!(signatures(n), "", "{DISK} on {} is blank again", n.name);
    let fstab = n.run_ok(&["cat", "/etc/fstab"]);
    assert!(!fstab.contains(LV), "fstab entry removed:\n{fstab}");
    let vgs = n.run_ok(&["vgs", "--noheadings", "-o", "vg_name"]);
    assert!(!vgs.contains(VG), "volume group removed: {vgs}");
}
