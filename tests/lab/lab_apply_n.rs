//! Tier N (namespace nodes, directory bricks): `brickyard apply` on real sshd + glusterd.
//! Every test starts by resetting the nodes to empty (no volumes, no peers, no brick
//! directories, no apply lock) and leaves them empty, so lab tests can run in any order.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::lab::{Lab, Node, Tier, expect_exit, host_ok};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_brickyard");

/// A scratch directory with a config for the lab's three nodes.
struct Env {
    lab: Lab,
    dir: tempfile::TempDir,
    mounts: Vec<PathBuf>,
}

const V1: &str = "
  rep:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
    options: { performance.cache-size: 64MB }
  dist:
    size: 1GiB
    durability: { type: none }
";

/// V1 with an option changed, a volume added and `dist` expanded to two bricks.
const V2: &str = "
  rep:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
    options: { performance.cache-size: 128MB }
  dist:
    size: 2GiB
    durability: { type: none }
  extra:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
";

impl Env {
    fn new(lab: Lab) -> Env {
        let env = Env {
            lab,
            dir: tempfile::tempdir().expect("tempdir"),
            mounts: Vec::new(),
        };
        env.reset();
        env
    }

    fn nodes(&self) -> Vec<&Node> {
        self.lab.nodes(Tier::N)
    }

    fn cfg(&self) -> PathBuf {
        self.dir.path().join("brickyard.yaml")
    }

    /// Writes the config with these volumes (YAML lines under `volumes:`).
    fn config(&self, volumes: &str) {
        let nodes = self.nodes();
        let first = nodes[0];
        let mut y = format!(
            "cluster: labapply\nplacement: {{ brick_max_size: 1GiB }}\nssh:\n  user: {}\n  identity_file: {}\n  known_hosts: strict\n  options: [\"UserKnownHostsFile={}\"]\nnodes:\n",
            first.user,
            first.identity_file.display(),
            first.known_hosts.display()
        );
        for (i, n) in nodes.iter().enumerate() {
            y.push_str(&format!(
                "  {}: {{ manage: {}, zone: {}, paths: [/bricks/d0, /bricks/d1] }}\n",
                n.name,
                n.address,
                i + 1
            ));
        }
        y.push_str("volumes:");
        y.push_str(if volumes.trim().is_empty() {
            " {}\n"
        } else {
            volumes
        });
        std::fs::write(self.cfg(), y).expect("write config");
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("-c")
            .arg(self.cfg())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    fn by(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run brickyard")
    }

    /// Runs brickyard, asserts the exit code, returns (stdout, stderr).
    fn by_code(&self, code: i32, args: &[&str]) -> (String, String) {
        expect_exit(self.by(args), code, args)
    }

    fn apply_ok(&self, extra: &[&str]) -> String {
        let mut a = vec!["apply", "--auto-approve"];
        a.extend_from_slice(extra);
        let (_, se) = self.by_code(0, &a);
        assert!(se.contains("Apply complete."), "{se}");
        se
    }

    fn assert_no_changes(&self) {
        let (so, _) = self.by_code(0, &["plan", "--detailed-exitcode"]);
        assert!(so.contains("No changes"), "{so}");
    }

    fn volumes(&self) -> Vec<String> {
        let out = self.nodes()[0].run(&["gluster", "--mode=script", "volume", "list"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("No volumes"))
            .map(String::from)
            .collect()
    }

    fn mount(&mut self, vol: &str) -> PathBuf {
        let mnt = self.lab.host_dir(&format!("apply-{vol}"));
        let _ = Command::new("umount").arg(&mnt).output();
        let src = format!("{}:/{vol}", self.nodes()[0].address);
        host_ok(&["mount", "-t", "glusterfs", &src, &mnt.display().to_string()]);
        self.mounts.push(mnt.clone());
        mnt
    }

    /// Empty nodes: no FUSE mounts, volumes, peers, brick directories or apply lock.
    fn reset(&self) {
        for m in &self.mounts {
            let _ = Command::new("umount").arg(m).output();
        }
        for n in self.nodes() {
            let out = n.run(&["gluster", "--mode=script", "volume", "list"]);
            for v in String::from_utf8_lossy(&out.stdout).lines().map(str::trim) {
                if v.is_empty() || v.starts_with("No volumes") {
                    continue;
                }
                let _ = n.run(&["gluster", "--mode=script", "volume", "stop", v, "force"]);
                let _ = n.run(&["gluster", "--mode=script", "volume", "delete", v]);
            }
        }
        for n in self.nodes() {
            let out = n.run(&["gluster", "--mode=script", "pool", "list"]);
            for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
                let host = line.split_whitespace().nth(1).unwrap_or("localhost");
                if host != "localhost" {
                    let _ = n.run(&["gluster", "--mode=script", "peer", "detach", host, "force"]);
                }
            }
        }
        for n in self.nodes() {
            n.run_ok(&[
                "find",
                "/bricks/d0",
                "/bricks/d1",
                "-mindepth",
                "1",
                "-maxdepth",
                "1",
                "-exec",
                "rm",
                "-rf",
                "--",
                "{}",
                "+",
            ]);
            // the cluster identity too: each test's config is a new deployment
            n.run_ok(&[
                "rm",
                "-rf",
                "--",
                "/var/lib/brickyard/lock",
                "/var/lib/brickyard/cluster-id",
            ]);
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.reset();
    }
}

fn sha(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes 8 files of 256 KiB (content unique to this run) and returns name -> checksum.
fn write_files(dir: &Path, tag: &str) -> Vec<(PathBuf, String)> {
    let seed = format!(
        "{tag}{:?}{}",
        std::time::SystemTime::now(),
        std::process::id()
    );
    (0..8)
        .map(|i| {
            let data: Vec<u8> = seed
                .bytes()
                .cycle()
                .take(256 << 10)
                .enumerate()
                .map(|(j, b)| b ^ (j as u8) ^ (i as u8))
                .collect();
            let p = dir.join(format!("{tag}-{i}.bin"));
            std::fs::write(&p, &data).expect("write through FUSE");
            (p, sha(&data))
        })
        .collect()
}

fn assert_files(files: &[(PathBuf, String)]) {
    for (p, want) in files {
        let got = sha(&std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())));
        assert_eq!(&got, want, "{} changed", p.display());
    }
}

#[test]
fn converges_from_empty_changes_safely_and_deletes_only_when_allowed() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    env.config(V1);

    let se = env.apply_ok(&[]);
    assert!(
        se.contains("] volume.rep"),
        "progress names the volume: {se}"
    );
    assert_eq!(env.volumes(), vec!["dist", "rep"]);
    env.assert_no_changes();
    // A second apply finds nothing to do and says so.
    let (so, _) = env.by_code(0, &["apply", "--auto-approve"]);
    assert!(so.contains("No changes"), "{so}");

    let rep = env.mount("rep");
    let dist = env.mount("dist");
    let mut files = write_files(&rep, "rep");
    files.extend(write_files(&dist, "dist"));

    env.config(V2);
    env.apply_ok(&[]);
    env.assert_no_changes();
    assert_eq!(env.volumes(), vec!["dist", "extra", "rep"]);
    let n1 = env.nodes()[0];
    let cache = n1.gluster(&["volume", "get", "rep", "performance.cache-size"]);
    assert!(cache.contains("128MB"), "{cache}");
    let info = n1.gluster(&["volume", "info", "dist"]);
    assert!(
        info.contains("Number of Bricks: 2"),
        "dist expanded to 2 bricks:\n{info}"
    );
    assert_files(&files);

    // The planner's health gate holds back changes to a volume with an offline brick; a
    // just-started volume's brick processes may take a moment to come online.
    let t0 = std::time::Instant::now();
    loop {
        let out = n1.run(&[
            "gluster",
            "--mode=script",
            "volume",
            "status",
            "extra",
            "detail",
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let online = text.lines().filter(|l| l.starts_with("Online")).count();
        if out.status.success()
            && online == 3
            && !text
                .lines()
                .any(|l| l.starts_with("Online") && l.trim_end().ends_with('N'))
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "bricks of extra never came online:\n{text}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // Drop `extra` from the config: a managed volume missing is a delete, blocked by default.
    env.config(&V2.replace(
        "  extra:\n    size: 1GiB\n    durability: { type: replicate, replica: 3 }\n",
        "",
    ));
    let (_, se) = env.by_code(1, &["apply", "--auto-approve"]);
    assert!(se.contains("blocked"), "{se}");
    assert!(
        env.volumes().contains(&"extra".to_string()),
        "not deleted without the flag"
    );
    let se = env.apply_ok(&["--allow-destroy"]);
    assert!(se.contains("volume.extra"), "{se}");
    assert_eq!(env.volumes(), vec!["dist", "rep"]);
    env.assert_no_changes();
    assert_files(&files);
}

/// Runs `apply --auto-approve` and SIGKILLs it after `n` steps reported done.
/// Returns the progress lines seen. Also kills the ssh ControlMasters it left behind.
fn kill_after(env: &Env, n: usize, config_args: &[&str]) -> Vec<String> {
    let mut args = vec!["apply", "--auto-approve", "--parallelism", "1"];
    args.extend_from_slice(config_args);
    let mut child = env
        .cmd(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn brickyard");
    let lines = watch_stderr(&mut child);
    let mut seen = Vec::new();
    let mut done = 0;
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(120)) {
        if line.contains(" ... done (") {
            done += 1;
        }
        seen.push(line);
        if done == n {
            break;
        }
    }
    assert_eq!(
        done,
        n,
        "expected {n} steps done before killing:\n{}",
        seen.join("\n")
    );
    let orphans = children_of(child.id());
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    for pid in orphans {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .output();
    }
    seen
}

fn watch_stderr(child: &mut Child) -> mpsc::Receiver<String> {
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
fn children_of(pid: u32) -> Vec<u32> {
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

#[test]
fn killed_at_several_points_a_fresh_apply_converges_and_data_survives() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    for n in [1, 3, 5] {
        env.reset();
        env.config(V1);
        kill_after(&env, n, &[]);
        // The killed run's lock is left behind and reported stale, never cleared silently.
        let (_, se) = env.by_code(1, &["apply", "--auto-approve"]);
        assert!(se.contains("STALE"), "after kill at {n}: {se}");
        assert!(se.contains("brickyard unlock"), "{se}");
        let (_, se) = env.by_code(0, &["unlock"]);
        assert!(se.contains("removed the lock of host"), "{se}");
        env.apply_ok(&[]);
        env.assert_no_changes();
    }
    // Now with data on the volumes: kill the V2 apply mid-way, finish it, check the data.
    let rep = env.mount("rep");
    let dist = env.mount("dist");
    let mut files = write_files(&rep, "rep");
    files.extend(write_files(&dist, "dist"));
    env.config(V2);
    kill_after(&env, 3, &[]);
    env.by_code(0, &["unlock"]);
    env.apply_ok(&[]);
    env.assert_no_changes();
    assert_files(&files);
}

#[test]
fn a_concurrent_apply_is_refused_naming_the_holder() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let mut first = env
        .cmd(&["apply", "--auto-approve", "--parallelism", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = watch_stderr(&mut first);
    let pid = first.id().to_string();
    // Once a step is done the first apply holds every lock; freeze it there.
    loop {
        let l = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("progress");
        if l.contains(" ... done (") {
            break;
        }
    }
    host_ok(&["kill", "-STOP", &pid]);
    let (_, se) = env.by_code(1, &["apply", "--auto-approve"]);
    host_ok(&["kill", "-CONT", &pid]);
    assert!(se.contains("locked by another apply"), "{se}");
    assert!(
        se.contains(&format!("pid {pid}")),
        "names the holder's pid: {se}"
    );
    assert!(!se.contains("STALE"), "a live holder is not stale: {se}");
    let status = first.wait().expect("first apply ends");
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(
        status.success(),
        "first apply finished fine:\n{}",
        rest.join("\n")
    );
    env.assert_no_changes();
}

#[test]
fn a_saved_plan_is_applied_only_while_current() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let plan = env.dir.path().join("plan.json");
    let plan_s = plan.display().to_string();
    env.by_code(0, &["plan", "-o", &plan_s]);
    // Someone changes the cluster behind the plan's back.
    let n1 = env.nodes()[0];
    let n2 = env.nodes()[1];
    n1.gluster(&["peer", "probe", &n2.address]);
    let (_, se) = env.by_code(1, &["apply", &plan_s]);
    assert!(se.contains("stale"), "{se}");
    assert!(
        se.contains("peer.n2") || se.contains("n2"),
        "names what changed: {se}"
    );
    assert!(env.volumes().is_empty(), "nothing was changed");

    // A fresh plan file applies without a prompt (no terminal, no --auto-approve).
    env.by_code(0, &["plan", "-o", &plan_s]);
    let (_, se) = env.by_code(0, &["apply", &plan_s]);
    assert!(se.contains("Apply complete."), "{se}");
    env.assert_no_changes();

    // A plan made for another config is refused.
    env.by_code(0, &["plan", "-o", &plan_s]);
    env.config(V2);
    let (_, se) = env.by_code(1, &["apply", &plan_s]);
    assert!(se.contains("configuration changed"), "{se}");
}

#[test]
fn without_a_terminal_and_without_auto_approve_nothing_changes() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let (_, se) = env.by_code(1, &["apply"]);
    assert!(se.contains("--auto-approve"), "{se}");
    assert!(env.volumes().is_empty());
    for n in env.nodes() {
        let pool = n.gluster(&["pool", "list"]);
        assert_eq!(
            pool.lines().count(),
            2,
            "{}: no peers probed\n{pool}",
            n.name
        );
    }
}

/// Kills every sshd of a node (listener and sessions) and restarts the listener on drop.
struct SshdDown {
    ns: String,
    state_dir: PathBuf,
}

impl SshdDown {
    fn pids(&self, comm: &str) -> Vec<String> {
        let out = host_ok(&["ip", "netns", "pids", &self.ns]);
        out.lines()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == comm)
            })
            .map(String::from)
            .collect()
    }

    fn take_down(ns: String, state_dir: PathBuf) -> SshdDown {
        let d = SshdDown { ns, state_dir };
        for p in d.pids("sshd") {
            let _ = Command::new("kill").args(["-KILL", &p]).output();
        }
        d
    }
}

impl Drop for SshdDown {
    fn drop(&mut self) {
        let Some(anchor) = self.pids("glusterd").into_iter().next() else {
            return;
        };
        let log = self.state_dir.join("sshd.log");
        let _ = Command::new("nsenter")
            .args([
                "-t",
                &anchor,
                "-n",
                "-m",
                "-u",
                "--",
                "/usr/sbin/sshd",
                "-f",
                "/etc/ssh/sshd_config",
                "-E",
            ])
            .arg(log)
            .output();
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_node_lost_mid_apply_is_reported_and_independent_work_is_done() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let n3 = env.nodes()[2].clone();
    let mut run = env
        .cmd(&["apply", "--auto-approve", "--parallelism", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = watch_stderr(&mut run);
    let pid = run.id().to_string();
    loop {
        let l = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("progress");
        if l.contains(" ... done (") {
            break;
        }
    }
    host_ok(&["kill", "-STOP", &pid]);
    let down = SshdDown::take_down(
        format!("bylab{}-{}", env.lab.id, n3.name),
        n3.state_dir.clone(),
    );
    host_ok(&["kill", "-CONT", &pid]);
    let status = run.wait().expect("apply ends");
    let rest: Vec<String> = lines.iter().collect();
    let text = rest.join("\n");
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("[n3]") && l.contains("FAILED")),
        "n3's step is reported failed:\n{text}"
    );
    assert!(
        rest.iter()
            .any(|l| (l.starts_with("[n1]") || l.starts_with("[n2]")) && l.contains(" ... done (")),
        "work on the other nodes went on:\n{text}"
    );
    assert!(text.contains("Apply summary:"), "{text}");
    drop(down);
    // n3 is back: a fresh apply finishes the job.
    env.by_code(0, &["unlock"]);
    env.apply_ok(&[]);
    env.assert_no_changes();
}
