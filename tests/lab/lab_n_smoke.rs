//! Tier N smoke test: three namespace nodes form a trusted pool, serve a replica-3 volume
//! on directory bricks, and a file written through a FUSE mount on the host lands, byte
//! for byte, on every brick. The test removes what it created, so later lab tests start
//! from empty nodes.

use std::path::{Path, PathBuf};

use crate::common::lab::{Lab, Node, Tier, host_ok, replica3_volume};
use sha2::{Digest, Sha256};

const VOL: &str = "labsmoke";

fn brick_dir() -> String {
    format!("/bricks/d0/{VOL}")
}

/// Best-effort removal of everything this test creates; runs before the test (leftovers of
/// a killed run) and after it, also when an assertion failed.
struct Cleanup<'a> {
    nodes: Vec<&'a Node>,
    mnt: PathBuf,
}

impl Cleanup<'_> {
    fn run(&self) {
        let _ = std::process::Command::new("umount").arg(&self.mnt).output();
        let first = self.nodes[0];
        let _ = first.run(&["gluster", "--mode=script", "volume", "stop", VOL, "force"]);
        let _ = first.run(&["gluster", "--mode=script", "volume", "delete", VOL]);
        for n in &self.nodes[1..] {
            let _ = first.run(&["gluster", "--mode=script", "peer", "detach", &n.address]);
        }
        for n in &self.nodes {
            let _ = n.run(&["rm", "-rf", "--", &brick_dir()]);
        }
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        self.run();
    }
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn fuse_mounted(mnt: &Path) -> bool {
    let out = std::process::Command::new("findmnt")
        .args(["-n", "-o", "FSTYPE", "--mountpoint"])
        .arg(mnt)
        .output()
        .expect("findmnt runs");
    String::from_utf8_lossy(&out.stdout).trim() == "fuse.glusterfs"
}

#[test]
fn replica3_volume_on_directory_bricks_serves_a_fuse_mount() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let nodes = lab.nodes(Tier::N);
    assert_eq!(nodes.len(), 3, "tier N has three nodes: {nodes:?}");
    let mnt = lab.host_dir(VOL);
    let cleanup = Cleanup {
        nodes: nodes.clone(),
        mnt: mnt.clone(),
    };
    cleanup.run();

    // every node is its own host: own hostname, own brick filesystem
    for n in &nodes {
        assert_eq!(n.run_ok(&["hostname"]).trim(), n.name);
        let fs = n.run_ok(&[
            "findmnt",
            "-n",
            "-o",
            "FSTYPE",
            "--mountpoint",
            "/bricks/d0",
        ]);
        assert_eq!(fs.trim(), "xfs", "{}: /bricks/d0 is an XFS mount", n.name);
    }

    replica3_volume(&nodes, VOL, &brick_dir(), &[]);
    let first = nodes[0];
    let info = first.gluster(&["volume", "info", VOL, "--xml"]);
    assert!(info.contains("<statusStr>Started</statusStr>"), "{info}");
    assert!(info.contains("<replicaCount>3</replicaCount>"), "{info}");

    let source = format!("{}:/{VOL}", first.address);
    host_ok(&[
        "mount",
        "-t",
        "glusterfs",
        &source,
        &mnt.display().to_string(),
    ]);
    assert!(
        fuse_mounted(&mnt),
        "{} is a glusterfs FUSE mount",
        mnt.display()
    );

    // 1 MiB that differs per run, so a stale brick from an earlier run cannot pass
    let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
    let data: Vec<u8> = seed
        .bytes()
        .cycle()
        .take(1 << 20)
        .enumerate()
        .map(|(i, b)| b ^ (i as u8))
        .collect();
    let path = mnt.join("smoke.bin");
    std::fs::write(&path, &data).expect("write through the FUSE mount");
    let back = std::fs::read(&path).expect("read back through the FUSE mount");
    assert!(
        back == data,
        "the file read back differs from what was written"
    );

    let want = sha256_hex(&data);
    for n in &nodes {
        let file = format!("{}/smoke.bin", brick_dir());
        let out = n.run_ok(&["sha256sum", "--", &file]);
        let got = out.split_whitespace().next().unwrap_or_default();
        assert_eq!(got, want, "checksum of {file} on brick node {}", n.name);
    }

    drop(cleanup);
    assert!(!fuse_mounted(&mnt), "FUSE mount removed");
    for n in &nodes {
        let pool = n.gluster(&["pool", "list"]);
        assert_eq!(
            pool.lines().count(),
            2,
            "{}: only itself in the pool after cleanup:\n{pool}",
            n.name
        );
        let vols = n.gluster(&["volume", "list"]);
        assert!(
            !vols.lines().any(|l| l.trim() == VOL),
            "{}: volume gone:\n{vols}",
            n.name
        );
    }
}
