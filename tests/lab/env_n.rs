//! Tier N test environment shared by the lab modules: a scratch config for the three
//! namespace nodes, brickyard runs against it, FUSE mounts, and a reset that leaves the
//! nodes empty (no volumes, peers, brick directories or apply lock) before and after.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::time::Duration;

use crate::common::lab::{Lab, Node, Tier, expect_exit, host_ok, wait_for};
use sha2::{Digest, Sha256};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_brickyard");

/// A scratch directory with a config for the lab's three nodes.
pub(crate) struct Env {
    pub(crate) lab: Lab,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) mounts: Vec<PathBuf>,
}

impl Env {
    pub(crate) fn new(lab: Lab) -> Env {
        let env = Env {
            lab,
            dir: tempfile::tempdir().expect("tempdir"),
            mounts: Vec::new(),
        };
        env.reset();
        env
    }

    pub(crate) fn nodes(&self) -> Vec<&Node> {
        self.lab.nodes(Tier::N)
    }

    /// n1..n3 and the spare n4.
    pub(crate) fn all_nodes(&self) -> Vec<&Node> {
        let mut v = self.lab.nodes(Tier::N);
        v.extend(self.lab.spares(Tier::N));
        v
    }

    pub(crate) fn cfg(&self) -> PathBuf {
        self.dir.path().join("brickyard.yaml")
    }

    /// Writes the config with these volumes (YAML lines under `volumes:`).
    pub(crate) fn config(&self, volumes: &str) {
        self.config_nodes(volumes, |i, _| {
            Some(format!("zone: {}, paths: [/bricks/d0, /bricks/d1]", i + 1))
        });
    }

    /// Writes the config with these volumes and, per node (index, name), the fields after
    /// `manage` (`None` leaves the node out of the config).
    pub(crate) fn config_nodes(&self, volumes: &str, node: impl Fn(usize, &str) -> Option<String>) {
        self.write_config(self.nodes(), volumes, node);
    }

    /// Like [`Env::config_nodes`], with the spare n4 (index 3) offered too.
    pub(crate) fn config_with_spare(
        &self,
        volumes: &str,
        node: impl Fn(usize, &str) -> Option<String>,
    ) {
        self.write_config(self.all_nodes(), volumes, node);
    }

    fn write_config(
        &self,
        nodes: Vec<&Node>,
        volumes: &str,
        node: impl Fn(usize, &str) -> Option<String>,
    ) {
        let first = nodes[0];
        let mut y = format!(
            "cluster: labapply\nplacement: {{ brick_max_size: 1GiB }}\nssh:\n  user: {}\n  identity_file: {}\n  known_hosts: strict\n  options: [\"UserKnownHostsFile={}\"]\nnodes:\n",
            first.user,
            first.identity_file.display(),
            first.known_hosts.display()
        );
        for (i, n) in nodes.iter().enumerate() {
            if let Some(rest) = node(i, &n.name) {
                y.push_str(&format!(
                    "  {}: {{ manage: {}, {rest} }}\n",
                    n.name, n.address
                ));
            }
        }
        y.push_str("volumes:");
        y.push_str(if volumes.trim().is_empty() {
            " {}\n"
        } else {
            volumes
        });
        std::fs::write(self.cfg(), y).expect("write config");
    }

    /// Starts `brickyard ARGS` and returns it still running once a progress line on its
    /// stderr satisfies `hit` (`what` names that moment): the test then kills it there.
    /// Panics when it ends first, or after 300 s.
    pub(crate) fn run_until(
        &self,
        args: &[&str],
        what: &str,
        hit: impl Fn(&str) -> bool,
    ) -> std::process::Child {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn brickyard");
        let lines = crate::common::lab::watch_stderr(&mut child);
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        let mut seen = Vec::new();
        loop {
            if let Ok(l) = lines.recv_timeout(Duration::from_millis(200)) {
                let done = hit(&l);
                seen.push(l);
                if done {
                    return child;
                }
            }
            assert!(
                child.try_wait().expect("wait").is_none(),
                "the run ended before {what}:\n{}",
                seen.join("\n")
            );
            assert!(
                std::time::Instant::now() < deadline,
                "no {what} in 300 s:\n{}",
                seen.join("\n")
            );
        }
    }

    /// The lab node (tier N, spare included) whose address is `host`.
    pub(crate) fn node_at(&self, host: &str) -> &Node {
        self.all_nodes()
            .into_iter()
            .find(|n| n.address == host)
            .unwrap_or_else(|| panic!("{host} is not a lab node"))
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("-c")
            .arg(self.cfg())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    pub(crate) fn by(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run brickyard")
    }

    /// Runs brickyard, asserts the exit code, returns (stdout, stderr).
    pub(crate) fn by_code(&self, code: i32, args: &[&str]) -> (String, String) {
        expect_exit(self.by(args), code, args)
    }

    pub(crate) fn apply_ok(&self, extra: &[&str]) -> String {
        let mut a = vec!["apply", "--auto-approve"];
        a.extend_from_slice(extra);
        let (_, se) = self.by_code(0, &a);
        assert!(se.contains("Apply complete."), "{se}");
        se
    }

    pub(crate) fn assert_no_changes(&self) {
        let (so, _) = self.by_code(0, &["plan", "--detailed-exitcode"]);
        assert!(so.contains("No changes"), "{so}");
    }

    pub(crate) fn volumes(&self) -> Vec<String> {
        let out = self.nodes()[0].run(&["gluster", "--mode=script", "volume", "list"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("No volumes"))
            .map(String::from)
            .collect()
    }

    pub(crate) fn mount(&mut self, vol: &str) -> PathBuf {
        let mnt = self.lab.host_dir(&format!("apply-{vol}"));
        let _ = Command::new("umount").arg(&mnt).output();
        let src = format!("{}:/{vol}", self.nodes()[0].address);
        host_ok(&["mount", "-t", "glusterfs", &src, &mnt.display().to_string()]);
        self.mounts.push(mnt.clone());
        mnt
    }

    /// Empty nodes: no FUSE mounts, volumes, peers, brick directories or apply lock.
    pub(crate) fn reset(&self) {
        for m in &self.mounts {
            let _ = Command::new("umount").arg(m).output();
        }
        for n in self.all_nodes() {
            let out = n.run(&["gluster", "--mode=script", "volume", "list"]);
            for v in String::from_utf8_lossy(&out.stdout).lines().map(str::trim) {
                if v.is_empty() || v.starts_with("No volumes") {
                    continue;
                }
                let _ = n.run(&["gluster", "--mode=script", "volume", "stop", v, "force"]);
                let _ = n.run(&["gluster", "--mode=script", "volume", "delete", v]);
            }
        }
        for n in self.all_nodes() {
            let out = n.run(&["gluster", "--mode=script", "pool", "list"]);
            for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
                let host = line.split_whitespace().nth(1).unwrap_or("localhost");
                if host != "localhost" {
                    let _ = n.run(&["gluster", "--mode=script", "peer", "detach", host, "force"]);
                }
            }
        }
        for n in self.all_nodes() {
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

pub(crate) fn sha(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes 8 files of 256 KiB (content unique to this run) and returns name -> checksum.
pub(crate) fn write_files(dir: &Path, tag: &str) -> Vec<(PathBuf, String)> {
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

pub(crate) fn assert_files(files: &[(PathBuf, String)]) {
    for (p, want) in files {
        let got = sha(&std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())));
        assert_eq!(&got, want, "{} changed", p.display());
    }
}

/// Waits until every brick of `vol` shows online (the health gate holds back changes to
/// a volume with an offline brick).
pub(crate) fn wait_online(n: &Node, vol: &str) {
    wait_for(
        &format!("bricks of {vol} online"),
        Duration::from_secs(90),
        || {
            let out = n.run(&[
                "gluster",
                "--mode=script",
                "volume",
                "status",
                vol,
                "detail",
            ]);
            let text = String::from_utf8_lossy(&out.stdout);
            let online: Vec<_> = text.lines().filter(|l| l.starts_with("Online")).collect();
            out.status.success()
                && !online.is_empty()
                && online.iter().all(|l| l.trim_end().ends_with('Y'))
        },
    );
}
