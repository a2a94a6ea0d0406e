//! Tier V with three VMs: a cluster as Heketi builds it, taken over by brickyard in place.
//! Heketi's own command sequence (testdata/heketi/heketi-commands.sh, from heketi's
//! `executors/cmdexec`) runs on each VM: PV and VG `vg_<device id>` on /dev/vdb, thin pool
//! `tp_<brick id>` with thin LV `brick_<brick id>`, XFS, Heketi's fstab line, the mount
//! under /var/lib/heketi/mounts, the brick directory with its gid; then peer probes and a
//! replica 3 volume `vol_<id>` with `user.heketi.id`. Files are written through FUSE.
//!
//! `import cluster` prints the config (LVM, `adopt: true`, the disks) and plans it against
//! the nodes: adoption only; the apply tags the VGs, pools and LVs, marks Heketi's fstab
//! lines in place and marks the volume; the next plan has no changes. (`import heketi` of
//! this cluster's database export is planned against facts captured from these VMs in
//! tests/offline/heketi_adopt.rs.) Then brickyard grows the volume by a set whose bricks it makes in Heketi's
//! VGs, and every file reads back identical.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::lab::{Lab, Node, Tier, expect_exit, host_ok};
use crate::env_n::{assert_files, wait_online, write_files};

const BIN: &str = env!("CARGO_BIN_EXE_brickyard");
const CLUSTER: &str = "fromheketi";
const HEKETI: &str = include_str!("../../testdata/heketi/heketi-commands.sh");
/// The ids of testdata/heketi/db-export.json (and of the capture in testdata/captures/v-heketi).
const VOL_ID: &str = "5f1e1bd3b2c14f0a9a8e7c6d5b4a3921";
const DEV: [&str; 3] = [
    "9d3c1a2b4e5f60718293a4b5c6d7e8f1",
    "8c2b0a1f3d4e5f60718293a4b5c6d7e2",
    "7b1a9f0e2c3d4e5f60718293a4b5c6d3",
];
const BRICK: [&str; 3] = [
    "1a2b3c4d5e6f708192a3b4c5d6e7f801",
    "2b3c4d5e6f708192a3b4c5d6e7f80912",
    "3c4d5e6f708192a3b4c5d6e7f8091a23",
];

struct Env {
    nodes: Vec<Node>,
    lab: Lab,
    dir: tempfile::TempDir,
    fuse: Vec<PathBuf>,
}

impl Env {
    fn reset(&self) {
        for m in &self.fuse {
            let _ = Command::new("umount").arg(m).output();
        }
        let script = format!(
            "{}{}",
            crate::lab_apply_v::CLEANUP,
            crate::lab_classic_v::CLEANUP_PEERS
        );
        // one VM at a time under TCG costs minutes: all three at once
        std::thread::scope(|s| {
            for n in &self.nodes {
                let script = &script;
                s.spawn(move || {
                    let out = n.run(&["sh", "-c", script]);
                    if !out.status.success() {
                        eprintln!("on {}: {}", n.name, String::from_utf8_lossy(&out.stderr));
                    }
                });
            }
        });
    }

    fn heketi(&self, i: usize, args: &[&str]) {
        let mut argv = vec!["sh", "-c", HEKETI, "heketi-commands.sh"];
        argv.extend_from_slice(args);
        self.nodes[i].run_ok(&argv);
    }

    /// What Heketi does for `heketi-cli topology load` + `volume create --size=1`: each
    /// VM's device and brick (the VMs side by side, as Heketi's executor runs them), then
    /// the peers and the volume from the first.
    fn build_like_heketi(&self) -> String {
        std::thread::scope(|s| {
            for i in 0..self.nodes.len() {
                s.spawn(move || {
                    self.heketi(i, &["device", "/dev/vdb", DEV[i]]);
                    self.heketi(i, &["brick", DEV[i], BRICK[i], "1048576", "2001"]);
                });
            }
        });
        let bricks: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!(
                    "{}:/var/lib/heketi/mounts/vg_{}/brick_{}/brick",
                    n.address, DEV[i], BRICK[i]
                )
            })
            .collect();
        for n in &self.nodes[1..] {
            self.heketi(0, &["probe", &n.address]);
        }
        let vol = format!("vol_{VOL_ID}");
        let mut args = vec!["volume", vol.as_str(), VOL_ID, "3"];
        args.extend(bricks.iter().map(String::as_str));
        // a probed peer may need a moment before volume create accepts its bricks
        let mut tries = 0;
        loop {
            let mut argv = vec!["sh", "-c", HEKETI, "heketi-commands.sh"];
            argv.extend_from_slice(&args);
            let out = self.nodes[0].run(&argv);
            if out.status.success() {
                break;
            }
            tries += 1;
            assert!(
                tries < 10,
                "volume create: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        wait_online(&self.nodes[0], &vol);
        vol
    }

    fn seed(&self) -> PathBuf {
        let n = &self.nodes[0];
        let mut y = format!(
            "cluster: {CLUSTER}\nssh:\n  user: {}\n  identity_file: {}\n  known_hosts: strict\n  options: [\"UserKnownHostsFile={}\"]\nnodes:\n",
            n.user,
            n.identity_file.display(),
            n.known_hosts.display()
        );
        for (i, n) in self.nodes.iter().enumerate() {
            y.push_str(&format!(
                "  v{}: {{ manage: {}, zone: {}, devices: [/dev/vdb] }}\n",
                i + 1,
                n.address,
                i + 1
            ));
        }
        y.push_str("volumes: {}\n");
        let p = self.dir.path().join("seed.yaml");
        std::fs::write(&p, y).expect("write seed");
        p
    }

    fn by(&self, cfg: &PathBuf, code: i32, args: &[&str]) -> (String, String) {
        let out = Command::new(BIN)
            .args(args)
            .arg("-c")
            .arg(cfg)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run brickyard");
        expect_exit(out, code, args)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.reset();
    }
}

#[test]
fn a_cluster_heketi_built_is_adopted_in_place_and_grown_beside_heketis_bricks() {
    let Some(lab) = Lab::require(Tier::V) else {
        return;
    };
    let nodes: Vec<Node> = lab.nodes(Tier::V).into_iter().cloned().collect();
    if nodes.len() < 3 {
        assert!(
            std::env::var("BRICKYARD_LAB").as_deref() != Ok("required"),
            "tier V has {} VM(s); this test needs three (LAB_VMS=3 scripts/lab up v)",
            nodes.len()
        );
        return;
    }
    let mut env = Env {
        nodes: nodes[..3].to_vec(),
        lab,
        dir: tempfile::tempdir().expect("tempdir"),
        fuse: Vec::new(),
    };
    env.reset();
    let t0 = std::time::Instant::now();
    let vol = env.build_like_heketi();
    eprintln!("[{:?}] built like Heketi", t0.elapsed());
    let mnt = env.lab.host_dir("heketi-v");
    let _ = Command::new("umount").arg(&mnt).output();
    host_ok(&[
        "mount",
        "-t",
        "glusterfs",
        &format!("{}:/{vol}", env.nodes[0].address),
        &mnt.display().to_string(),
    ]);
    env.fuse.push(mnt.clone());
    let files = write_files(&mnt, "heketi");

    // the config for what the cluster holds
    let seed = env.seed();
    let (imported, se) = env.by(&seed, 0, &["import", "cluster"]);
    assert!(
        se.contains("for 1 volume(s)") && se.contains(" 0 other step(s)"),
        "{se}"
    );
    // LVM is the default kind where nodes declare devices: nothing to say per volume
    for want in ["adopt: true", "user.heketi.id", "\"/dev/vdb\""] {
        assert!(imported.contains(want), "no {want:?} in:\n{imported}");
    }
    eprintln!("[{:?}] imported", t0.elapsed());
    let cfg = env.dir.path().join("brickyard.yaml");
    std::fs::write(&cfg, &imported).expect("write config");

    // the apply adopts, and only adopts (import planned the same against these nodes:
    // "0 other step(s)")
    let (so, se) = env.by(&cfg, 0, &["apply", "--auto-approve"]);
    assert!(se.contains("Apply complete"), "{se}");
    assert!(
        so.contains(&format!("# volume.{vol} will be adopted")),
        "{so}"
    );
    for l in so
        .lines()
        .filter(|l| l.starts_with("  # ") && l.contains(" will be "))
    {
        assert!(
            l.ends_with(" will be adopted")
                || (l.starts_with("  # node.") && l.ends_with(" will be created")),
            "not adoption (the identity record aside): {l}\n{so}"
        );
    }
    let (so, _) = env.by(&cfg, 0, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("No changes"), "{so}");
    assert_files(&files);
    eprintln!("[{:?}] adopted", t0.elapsed());

    // marked where Heketi made everything (one round trip per VM)
    std::thread::scope(|s| {
        for (i, n) in env.nodes.iter().enumerate() {
            let vol = &vol;
            s.spawn(move || {
                let vg = format!("vg_{}", DEV[i]);
                let out = n.run_ok(&[
                    "sh",
                    "-c",
                    "vgs --noheadings -o vg_tags -- \"$1\"; echo @; lvs --noheadings -o lv_tags -- \"$1/brick_$2\"; echo @; lvs --noheadings -o lv_tags -- \"$1/tp_$2\"; echo @; cat /etc/fstab",
                    "sh",
                    &vg,
                    BRICK[i],
                ]);
                let parts: Vec<&str> = out.split("@\n").collect();
                assert_eq!(parts.len(), 4, "{out}");
                assert!(
                    parts[0].contains(&format!("brickyard.cluster={CLUSTER}"))
                        && parts[0].contains(&format!("brickyard.node=v{}", i + 1)),
                    "VG {vg}: {out}"
                );
                for t in &parts[1..3] {
                    assert!(
                        t.contains(&format!("brickyard.volume={vol}"))
                            && t.contains(&format!("brickyard.pos={i}")),
                        "LVs of {vg}: {out}"
                    );
                }
                let lines: Vec<&str> = parts[3]
                    .lines()
                    .filter(|l| l.contains("/var/lib/heketi/mounts/"))
                    .collect();
                assert_eq!(lines.len(), 1, "{out}");
                assert!(
                    lines[0].ends_with(&format!(
                        "rw,inode64,noatime,nouuid,x-brickyard.cluster={CLUSTER} 1 2"
                    )),
                    "{out}"
                );
            });
        }
    });
    let info = env.nodes[0].gluster(&["volume", "info", &vol]);
    assert!(
        info.contains(&format!("user.brickyard.cluster: {CLUSTER}"))
            && info.contains(&format!("user.heketi.id: {VOL_ID}")),
        "{info}"
    );

    // grown by brickyard: a second set, made in Heketi's VGs under brickyard's names
    let grown = imported.replace("size: \"1GiB\"", "size: \"2GiB\"");
    assert_ne!(grown, imported, "the size line:\n{imported}");
    std::fs::write(&cfg, &grown).expect("write config");
    let (so, se) = env.by(&cfg, 0, &["apply", "--auto-approve"]);
    assert!(
        so.contains("add-brick") && !so.contains("will be adopted"),
        "{so}"
    );
    assert!(se.contains("Apply complete"), "{se}");
    wait_online(&env.nodes[0], &vol);
    let (so, _) = env.by(&cfg, 0, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("No changes"), "{so}");
    let info = env.nodes[0].gluster(&["volume", "info", &vol]);
    for (i, dev) in DEV.iter().enumerate() {
        let b = format!("/var/lib/brickyard/mounts/vg_{dev}/brick_{vol}_1_{i}/brick");
        assert!(info.contains(&b), "{b}:\n{info}");
    }
    assert_files(&files);
    let more = write_files(&mnt, "grown");
    assert_files(&more);
    eprintln!("[{:?}] grown", t0.elapsed());
}
