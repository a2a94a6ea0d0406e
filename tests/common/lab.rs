//! Harness for lab tests (the `lab` test binary, tests/lab/): real sshd, glusterd and LVM
//! on the nodes `scripts/lab` brings up on this machine.
//!
//! It reads `scripts/lab info` for the instance `LAB_ID` (default 0) and hands out typed
//! node descriptions plus helpers to run argv commands on a node over ssh, with strict host
//! key checking against the lab's own known_hosts file.
//!
//! [`Lab::require`] decides what happens when a tier is not up: the test is skipped with a
//! loud message on stderr, unless `BRICKYARD_LAB=required` (set by `scripts/test` and CI),
//! where the test fails with the reason. A lab test starts with
//! `let Some(lab) = Lab::require(Tier::N) else { return };`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The two kinds of lab node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Tier {
    /// Namespace nodes n1..n3: sshd + glusterd, XFS loop disks at /bricks/d0 and /bricks/d1,
    /// no device-mapper (no LVM).
    #[serde(rename = "n")]
    N,
    /// QEMU VMs v1..: sshd + glusterd + real LVM, blank data disks /dev/vdb and /dev/vdc.
    #[serde(rename = "v")]
    V,
}

impl Tier {
    fn letter(self) -> &'static str {
        match self {
            Tier::N => "n",
            Tier::V => "v",
        }
    }
}

/// One lab node, as `scripts/lab info` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    pub name: String,
    pub tier: Tier,
    /// A node tests leave out unless they ask for it (tier N's n4, the spare a node is
    /// drained into): [`Lab::spares`].
    #[serde(default)]
    pub spare: bool,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity_file: PathBuf,
    pub known_hosts: PathBuf,
    /// Tier N: the loop devices behind /bricks/d0 and /bricks/d1 (already XFS, mounted).
    /// Tier V: the blank data disks.
    pub disks: Vec<String>,
    /// Tier N: mounted XFS filesystems for directory bricks. Empty on tier V.
    pub brick_mounts: Vec<String>,
    /// Host-side directory with the node's state (logs, private /etc, console log).
    pub state_dir: PathBuf,
}

#[derive(Debug, Deserialize)]
struct TierInfo {
    up: bool,
    subnet: String,
}

#[derive(Debug, Deserialize)]
struct Tiers {
    n: TierInfo,
    v: TierInfo,
}

#[derive(Debug, Deserialize)]
struct Info {
    lab_id: u8,
    state_dir: PathBuf,
    identity_file: PathBuf,
    known_hosts: PathBuf,
    tiers: Tiers,
    nodes: Vec<Node>,
}

/// A running lab instance.
#[derive(Debug)]
pub struct Lab {
    pub id: u8,
    pub state_dir: PathBuf,
    pub identity_file: PathBuf,
    pub known_hosts: PathBuf,
    pub subnet_n: String,
    pub subnet_v: String,
    nodes: Vec<Node>,
}

/// `LAB_ID` of the instance the tests use.
pub fn lab_id() -> String {
    std::env::var("LAB_ID").unwrap_or_else(|_| "0".to_string())
}

/// Path of `scripts/lab` in this checkout.
pub fn lab_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lab")
}

impl Lab {
    /// The lab with `tier` up, or `None` after printing why the test is skipped.
    /// With `BRICKYARD_LAB=required` a missing tier panics (the test fails) instead.
    pub fn require(tier: Tier) -> Option<Lab> {
        let reason = match Lab::load() {
            Ok(lab) if lab.is_up(tier) => return Some(lab),
            Ok(_) => format!("lab tier {} is not up", tier.letter().to_uppercase()),
            Err(e) => format!("lab tier {} is not up ({e})", tier.letter().to_uppercase()),
        };
        let id = lab_id();
        let env = if id == "0" {
            String::new()
        } else {
            format!("LAB_ID={id} ")
        };
        let hint = format!("run: sudo {env}scripts/lab up {}", tier.letter());
        if std::env::var("BRICKYARD_LAB").as_deref() == Ok("required") {
            panic!("{reason} but BRICKYARD_LAB=required ({hint})");
        }
        eprintln!("SKIPPED: {reason} ({hint})");
        None
    }

    /// Reads `scripts/lab info` for `LAB_ID`.
    pub fn load() -> Result<Lab, String> {
        let script = lab_script();
        let out = Command::new(&script)
            .arg("info")
            .env("LAB_ID", lab_id())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} info failed: {}",
                script.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let info: Info = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("cannot parse `scripts/lab info`: {e}"))?;
        // Only nodes of tiers that are up, as judged by the same `info` run.
        let (n_up, v_up) = (info.tiers.n.up, info.tiers.v.up);
        let nodes = info
            .nodes
            .into_iter()
            .filter(|n| match n.tier {
                Tier::N => n_up,
                Tier::V => v_up,
            })
            .collect();
        Ok(Lab {
            id: info.lab_id,
            state_dir: info.state_dir,
            identity_file: info.identity_file,
            known_hosts: info.known_hosts,
            subnet_n: info.tiers.n.subnet,
            subnet_v: info.tiers.v.subnet,
            nodes,
        })
    }

    pub fn is_up(&self, tier: Tier) -> bool {
        self.nodes.iter().any(|n| n.tier == tier)
    }

    /// Nodes of one tier, in name order (n1, n2, n3 / v1, ...), spares left out.
    pub fn nodes(&self, tier: Tier) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| n.tier == tier && !n.spare)
            .collect()
    }

    /// The spare nodes of one tier (tier N: n4), for tests that move storage onto one.
    pub fn spares(&self, tier: Tier) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| n.tier == tier && n.spare)
            .collect()
    }

    /// The node called `name`; panics when the lab has no such node.
    pub fn node(&self, name: &str) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("lab {} has no node {name}", self.id))
    }

    /// A fresh directory on the host under the lab state dir, for FUSE mounts and the like;
    /// `scripts/lab down` unmounts whatever is left there.
    pub fn host_dir(&self, name: &str) -> PathBuf {
        let dir = self.state_dir.join("mnt").join(name);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        dir
    }
}

impl Node {
    /// ssh arguments (without the command) reaching this node as its lab user.
    pub fn ssh_args(&self) -> Vec<String> {
        let o = |s: &str| vec!["-o".to_string(), s.to_string()];
        let mut a = vec!["-i".to_string(), self.identity_file.display().to_string()];
        a.extend(o("IdentitiesOnly=yes"));
        a.extend(o(&format!(
            "UserKnownHostsFile={}",
            self.known_hosts.display()
        )));
        a.extend(o("GlobalKnownHostsFile=/dev/null"));
        a.extend(o("StrictHostKeyChecking=yes"));
        a.extend(o("BatchMode=yes"));
        a.extend(o("ConnectTimeout=10"));
        a.extend(o("LogLevel=ERROR"));
        a.extend(["-p".to_string(), self.port.to_string()]);
        a.push(format!("{}@{}", self.user, self.address));
        a
    }

    /// Runs `argv` on the node (quoted by brickyard's one quoting function) and returns
    /// whatever happened; a non-zero exit is not an error here.
    pub fn run(&self, argv: &[&str]) -> Output {
        let words: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let line = brickyard::transport::quote(&words);
        Command::new("ssh")
            .args(self.ssh_args())
            .arg("--")
            .arg(&line)
            .output()
            .unwrap_or_else(|e| panic!("cannot run ssh to {}: {e}", self.name))
    }

    /// Runs `argv` on the node and returns its stdout; panics with the node's stderr when
    /// the command fails.
    pub fn run_ok(&self, argv: &[&str]) -> String {
        let out = self.run(argv);
        if !out.status.success() {
            panic!(
                "on {}: `{}` failed ({}):\nstdout: {}\nstderr: {}",
                self.name,
                argv.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `gluster --mode=script ARGS...` on the node; panics on failure.
    pub fn gluster(&self, args: &[&str]) -> String {
        let mut argv = vec!["gluster", "--mode=script"];
        argv.extend_from_slice(args);
        self.run_ok(&argv)
    }
}

/// Runs a command on the host; panics with its stderr when it fails.
pub fn host_ok(argv: &[&str]) -> String {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", argv[0]));
    if !out.status.success() {
        panic!(
            "on the host: `{}` failed ({}): {}",
            argv.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `ok` every 500 ms until it holds; panics naming `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !ok() {
        assert!(
            t0.elapsed() < timeout,
            "timed out after {timeout:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Peers `gluster peer status` on the node shows as connected members of its pool.
pub fn connected_peers(n: &Node) -> usize {
    n.run(&["gluster", "--mode=script", "peer", "status"])
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| l == b"State: Peer in Cluster (Connected)")
        .count()
}

/// The tier-N setup several lab tests start from, with plain gluster commands (not
/// brickyard): the first node probes the others, every node sees two connected peers,
/// then a replica-3 volume `vol` on `brick_dir` of each node is created, gets `options`
/// set and is started. Callers that need the bricks online wait for that themselves.
pub fn replica3_volume(nodes: &[&Node], vol: &str, brick_dir: &str, options: &[(&str, &str)]) {
    let first = nodes[0];
    for n in &nodes[1..] {
        first.gluster(&["peer", "probe", &n.address]);
    }
    for n in nodes {
        wait_for(
            &format!("{} sees 2 connected peers", n.name),
            Duration::from_secs(60),
            || connected_peers(n) == 2,
        );
    }
    let bricks: Vec<String> = nodes
        .iter()
        .map(|n| format!("{}:{brick_dir}", n.address))
        .collect();
    let mut create = vec!["volume", "create", vol, "replica", "3"];
    create.extend(bricks.iter().map(String::as_str));
    first.gluster(&create);
    for (key, value) in options {
        first.gluster(&["volume", "set", vol, key, value]);
    }
    first.gluster(&["volume", "start", vol]);
}

/// Asserts that a finished `brickyard ARGS...` run exited with `code`; returns its
/// (stdout, stderr). The failure message shows both streams.
pub fn expect_exit(out: Output, code: i32, args: &[&str]) -> (String, String) {
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "brickyard {args:?}\n--- stdout\n{so}\n--- stderr\n{se}"
    );
    (so, se)
}

/// The child's stderr, line by line, read by a thread (so the pipe never fills).
pub fn watch_stderr(child: &mut Child) -> mpsc::Receiver<String> {
    let err = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Direct children of `pid` (brickyard's ssh ControlMasters).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// SIGKILLs a running `brickyard` and then the ssh processes it started (its
/// ControlMasters, which a SIGKILL of their parent leaves running).
pub fn kill_with_children(child: &mut Child) {
    let orphans = children_of(child.id());
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    for pid in orphans {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .output();
    }
}
