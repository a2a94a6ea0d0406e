//! The production [`Transport`]: the system `ssh` as one ControlMaster per node, with
//! commands multiplexed over it by the `openssh` crate's native mux client.
//!
//! Why the master is spawned here rather than by `openssh::SessionBuilder`: the builder
//! cannot pass arbitrary `-o` options (the config's `ssh.options`), and it daemonizes the
//! master (`-f`), which then outlives us if we are interrupted. Here the master runs in
//! the foreground as our child (`kill_on_drop`), in our process group (a terminal's Ctrl-C
//! reaches it too), with its socket and log in a private `/tmp/byXXXXXX` directory (0700,
//! short enough for a unix socket path) that is removed when the transport goes away.
//! Because the system ssh is used, `~/.ssh/config` (ProxyJump, certificates, agent) applies.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use super::shell::{quote, truncate};
use super::{Output, RemoteCommand, Transport, TransportError, Transports};
use crate::config::{Desired, KnownHosts, Node, Ssh};

/// SSH transports for every node of the config (connections open lazily, on first use).
pub fn ssh_transports(desired: &Desired) -> Transports {
    desired
        .nodes
        .iter()
        .map(|(name, node)| {
            let t: Arc<dyn Transport> =
                Arc::new(SshTransport::new(SshTarget::from_node(name, node)));
            (name.clone(), t)
        })
        .collect()
}

/// How to reach one node. Built from the config's `Node` (see [`SshTarget::from_node`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshTarget {
    /// Config node name (for messages and `Transport::node`).
    pub(crate) node: String,
    /// Host or address given to ssh (the node's `manage`).
    pub(crate) host: String,
    pub(crate) ssh: Ssh,
}

impl SshTarget {
    pub(crate) fn from_node(name: &str, node: &Node) -> Self {
        SshTarget {
            node: name.to_string(),
            host: node.manage.clone(),
            ssh: node.ssh.clone(),
        }
    }

    /// The argv of the ControlMaster (without the `ssh` program name), for this target
    /// with its socket and log in `dir`.
    pub(crate) fn master_args(&self, dir: &Path) -> Vec<String> {
        let s = &self.ssh;
        let mut a: Vec<String> = vec![
            "-E".into(),
            dir.join("l").display().to_string(),
            "-S".into(),
            dir.join("m").display().to_string(),
            "-M".into(),
            "-N".into(),
            "-T".into(),
            // A ControlPersist from ~/.ssh/config would fork the master into the background.
            "-o".into(),
            "ControlPersist=no".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            match s.known_hosts {
                KnownHosts::Strict => "StrictHostKeyChecking=yes".into(),
                KnownHosts::AcceptNew => "StrictHostKeyChecking=accept-new".into(),
            },
            "-o".into(),
            format!("ConnectTimeout={}", s.connect_timeout.max(1)),
            "-o".into(),
            "ServerAliveInterval=15".into(),
            "-o".into(),
            "ServerAliveCountMax=4".into(),
            "-p".into(),
            s.port.to_string(),
            "-l".into(),
            s.user.clone(),
        ];
        if let Some(id) = &s.identity_file {
            a.extend([
                "-i".into(),
                expand_tilde(id),
                "-o".into(),
                "IdentitiesOnly=yes".into(),
            ]);
        }
        for o in &s.options {
            a.extend(["-o".into(), o.clone()]);
        }
        a.extend(["--".into(), self.host.clone()]);
        a
    }
}

fn expand_tilde(p: &str) -> String {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest).display().to_string(),
        _ => p.to_string(),
    }
}

/// A live ControlMaster. Dropping it kills the master and removes its directory.
struct Master {
    session: Option<openssh::Session>,
    child: tokio::process::Child,
    dir: tempfile::TempDir,
}

pub(crate) struct SshTransport {
    target: SshTarget,
    /// Connected lazily on the first command, so that building transports never fails
    /// and a dead node shows up as that command's error.
    master: Mutex<Option<Arc<Master>>>,
}

impl SshTransport {
    pub(crate) fn new(target: SshTarget) -> Self {
        SshTransport {
            target,
            master: Mutex::new(None),
        }
    }

    async fn master(&self) -> Result<Arc<Master>, TransportError> {
        let mut guard = self.master.lock().await;
        if let Some(m) = guard.as_ref() {
            return Ok(m.clone());
        }
        let m = Arc::new(self.connect().await?);
        *guard = Some(m.clone());
        Ok(m)
    }

    async fn connect(&self) -> Result<Master, TransportError> {
        let t = &self.target;
        // 0700: the control socket is a door into a root session on the node
        let dir = tempfile::Builder::new()
            .prefix("by")
            .rand_bytes(6)
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(control_parent())
            .map_err(|e| {
                TransportError::Other(format!("cannot create ssh control directory: {e}"))
            })?;
        let mut cmd = tokio::process::Command::new("ssh");
        cmd.args(t.master_args(dir.path()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| TransportError::Other(format!("cannot run ssh: {e}")))?;
        let sock = dir.path().join("m");
        let log = dir.path().join("l");
        // ssh's own ConnectTimeout covers TCP; this also bounds key exchange, auth and ProxyJump.
        let budget = Duration::from_secs(u64::from(t.ssh.connect_timeout.max(1)) + 30);
        let start = Instant::now();
        loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| TransportError::Other(e.to_string()))?
            {
                let mut text = std::fs::read_to_string(&log).unwrap_or_default();
                if let Some(mut e) = child.stderr.take() {
                    let mut s = String::new();
                    let _ = e.read_to_string(&mut s).await;
                    text.push_str(&s);
                }
                return Err(classify_master_failure(
                    &t.node,
                    &t.host,
                    &text,
                    status.code(),
                    u64::from(t.ssh.connect_timeout),
                ));
            }
            if sock.exists() {
                let session = openssh::Session::resume_mux(sock.clone().into_boxed_path(), None);
                if session.check().await.is_ok() {
                    return Ok(Master {
                        session: Some(session),
                        child,
                        dir,
                    });
                }
            }
            if start.elapsed() > budget {
                let _ = child.kill().await;
                return Err(TransportError::Timeout {
                    what: format!("connecting to {} ({})", t.node, t.host),
                    secs: budget.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn full_argv(&self, argv: &[String]) -> Vec<String> {
        if self.target.ssh.sudo {
            let mut v = vec!["sudo".to_string(), "-n".into(), "--".into()];
            v.extend(argv.iter().cloned());
            v
        } else {
            argv.to_vec()
        }
    }
}

/// Parent directory of the control directories: short, because unix socket paths are
/// limited to about 100 bytes.
fn control_parent() -> PathBuf {
    let tmp = std::env::temp_dir();
    if tmp.as_os_str().len() <= 40 {
        tmp
    } else {
        PathBuf::from("/tmp")
    }
}

#[async_trait]
impl Transport for SshTransport {
    fn node(&self) -> &str {
        &self.target.node
    }

    async fn run(&self, cmd: &RemoteCommand) -> Result<Output, TransportError> {
        let master = self.master().await?;
        let Some(session) = master.session.as_ref() else {
            return Err(TransportError::Disconnected {
                node: self.target.node.clone(),
                detail: "transport already closed".into(),
            });
        };
        let argv = self.full_argv(&cmd.argv);
        let line = quote(&argv);
        let node = self.target.node.clone();
        let work = async {
            let mut c = session.raw_command(&line);
            c.stdin(if cmd.stdin.is_some() {
                openssh::Stdio::piped()
            } else {
                openssh::Stdio::null()
            })
            .stdout(openssh::Stdio::piped())
            .stderr(openssh::Stdio::piped());
            let mut child = c.spawn().await.map_err(|e| mux_error(&node, e))?;
            let stdin = child.stdin().take();
            let mut stdout = child.stdout().take();
            let mut stderr = child.stderr().take();
            // Write stdin while reading both outputs: a script's output can fill the
            // pipe before the script has been read completely.
            let write = async {
                if let (Some(mut w), Some(data)) = (stdin, cmd.stdin.as_ref()) {
                    // A command that exits without reading all of stdin is not an error here.
                    let _ = w.write_all(data).await;
                    let _ = w.shutdown().await;
                }
            };
            let read_out = async {
                match stdout.as_mut() {
                    Some(r) => read_capped(r, MAX_OUTPUT).await,
                    None => Ok(Vec::new()),
                }
                .map_err(|e| output_error(&node, "stdout", e))
            };
            let read_err = async {
                match stderr.as_mut() {
                    Some(r) => read_capped(r, MAX_OUTPUT).await,
                    None => Ok(Vec::new()),
                }
                .map_err(|e| output_error(&node, "stderr", e))
            };
            // try_join: output over the cap ends the command at once (dropping the
            // child closes its channel) instead of waiting for the other stream.
            let ((), out, err) = tokio::try_join!(
                async {
                    write.await;
                    Ok(())
                },
                read_out,
                read_err
            )?;
            let status = match child.wait().await {
                Ok(st) => st.code(),
                // openssh turns exit status 127 into this error; keep it an exit status
                // so the stderr-based classification below can name the missing command.
                Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    Some(127)
                }
                // The mux protocol cannot tell a signal-killed process from a lost
                // connection: ask the master which it was.
                Err(openssh::Error::RemoteProcessTerminated) => {
                    if session.check().await.is_err() {
                        return Err(TransportError::Disconnected {
                            node: node.clone(),
                            detail: "the ssh connection dropped while the command ran".into(),
                        });
                    }
                    None
                }
                Err(e) => return Err(mux_error(&node, e)),
            };
            Ok(Output {
                status,
                stdout: out,
                stderr: err,
            })
        };
        let out = match tokio::time::timeout(cmd.timeout, work).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(TransportError::Timeout {
                    what: format!("`{}` on {}", short(&line), self.target.node),
                    secs: cmd.timeout.as_secs(),
                });
            }
        };
        match classify_command_failure(&self.target.node, &argv, self.target.ssh.sudo, &out) {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    async fn close(&self) {
        let m = self.master.lock().await.take();
        let Some(m) = m else { return };
        // Other holders (commands still running) keep it alive; drop then kills it.
        if let Ok(mut m) = Arc::try_unwrap(m) {
            if let Some(s) = m.session.take() {
                let _ = s.close().await;
            }
            if tokio::time::timeout(Duration::from_secs(3), m.child.wait())
                .await
                .is_err()
            {
                let _ = m.child.kill().await;
            }
            let _ = m.dir.close();
        }
    }
}

fn short(line: &str) -> String {
    truncate(line, 60)
}

fn mux_error(node: &str, e: openssh::Error) -> TransportError {
    match e {
        openssh::Error::Disconnected => TransportError::Disconnected {
            node: node.to_string(),
            detail: "the ssh control connection is gone".into(),
        },
        other => TransportError::Disconnected {
            node: node.to_string(),
            detail: other.to_string(),
        },
    }
}

/// Most output one remote command may write to stdout, and to stderr: far above any probe
/// or step (a gather of a large node is a few MiB), far below what would exhaust memory
/// if a node (or anything between) sent output without end.
pub(crate) const MAX_OUTPUT: u64 = 64 * 1024 * 1024;

/// Reads `r` to its end, failing (not growing) once more than `cap` bytes arrive.
pub(crate) async fn read_capped<R: tokio::io::AsyncRead + Unpin>(
    r: &mut R,
    cap: u64,
) -> std::io::Result<Vec<u8>> {
    let mut b = Vec::new();
    r.take(cap + 1).read_to_end(&mut b).await?;
    if b.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "more than {} MiB of output; the command was stopped",
                cap / 1024 / 1024
            ),
        ));
    }
    Ok(b)
}

fn output_error(node: &str, what: &str, e: std::io::Error) -> TransportError {
    if e.kind() == std::io::ErrorKind::FileTooLarge {
        TransportError::Other(format!("{node}: {what}: {e}"))
    } else {
        TransportError::Disconnected {
            node: node.to_string(),
            detail: format!("reading {what}: {e}"),
        }
    }
}

/// The meaningful lines of ssh's stderr/log: without warnings about added keys and blank lines.
fn ssh_detail(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
        .filter(|l| !l.chars().all(|c| c == '@'))
        .collect();
    lines
        .iter()
        .rev()
        .find(|l| !l.starts_with('@'))
        .map(|l| l.to_string())
        .unwrap_or_default()
}

/// Classify why the ControlMaster could not be established, from ssh's log/stderr and exit code.
pub(crate) fn classify_master_failure(
    node: &str,
    host: &str,
    text: &str,
    code: Option<i32>,
    connect_timeout: u64,
) -> TransportError {
    let who = if node == host {
        node.to_string()
    } else {
        format!("{node} ({host})")
    };
    let has = |s: &str| text.contains(s);
    if has("REMOTE HOST IDENTIFICATION HAS CHANGED") || has("Host key for") && has("has changed") {
        TransportError::HostKeyChanged(who)
    } else if has("No ED25519 host key is known")
        || has("No ECDSA host key is known")
        || has("No RSA host key is known")
        || has("host key is known for")
        || has("Host key verification failed")
    {
        TransportError::HostKeyUnknown(who)
    } else if has("Could not resolve hostname")
        || has("Name or service not known")
        || has("Temporary failure in name resolution")
    {
        TransportError::UnknownHost(who)
    } else if has("Connection refused") {
        TransportError::ConnectionRefused(who)
    } else if has("No route to host") {
        TransportError::NoRoute(who)
    } else if has("timed out") || has("Connection timed out") {
        TransportError::Timeout {
            what: format!("connecting to {who}: {}", ssh_detail(text)),
            secs: connect_timeout,
        }
    } else if has("Permission denied (")
        || has("Too many authentication failures")
        || has("no such identity")
    {
        TransportError::AuthFailed(who)
    } else if has("Connection closed by")
        || has("Connection reset by")
        || has("kex_exchange_identification")
    {
        TransportError::Disconnected {
            node: node.to_string(),
            detail: ssh_detail(text),
        }
    } else {
        let detail = ssh_detail(text);
        TransportError::Other(format!(
            "ssh to {who} failed (exit {}){}",
            code.map(|c| c.to_string())
                .unwrap_or_else(|| "signal".into()),
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ))
    }
}

/// The login shell's (or sudo's) "no such command" line for program `p` on line 1.
fn names_missing(line: &str, p: &str) -> bool {
    let l = line.trim();
    l == format!("bash: line 1: {p}: command not found")
        || l == format!("bash: {p}: command not found")
        || l.ends_with(&format!(": 1: {p}: not found"))
        || l == format!("sudo: {p}: command not found")
        || l.ends_with(&format!("command not found: {p}"))
}

/// Turn a finished command into an error when the failure is the transport's business
/// (sudo wants a password, the program does not exist) rather than the command's result.
pub(crate) fn classify_command_failure(
    node: &str,
    argv: &[String],
    sudo: bool,
    out: &Output,
) -> Option<TransportError> {
    let err = String::from_utf8_lossy(&out.stderr);
    if sudo
        && out.status == Some(1)
        && (err.contains("sudo: a password is required")
            || err.contains("sudo: a terminal is required"))
    {
        return Some(TransportError::SudoPassword(node.to_string()));
    }
    if out.status == Some(127) {
        // Only the shell's complaint about the command line's first word counts: a script
        // whose own inner command is missing reports a later line ("sh: 3: lvs: not found").
        let mut candidates: Vec<&String> = argv.first().into_iter().collect();
        if sudo {
            candidates.extend(argv.iter().skip_while(|a| *a != "--").nth(1));
        }
        for p in candidates {
            if err.lines().any(|l| names_missing(l, p)) {
                return Some(TransportError::CommandMissing {
                    node: node.to_string(),
                    command: p.clone(),
                });
            }
        }
    }
    None
}

/// kill_on_drop covers every exit that unwinds; a `kill -9` of brickyard does not unwind,
/// and the ControlMaster (and its connection) would outlive us. Ask the kernel to send the
/// master SIGTERM when brickyard dies. The signal follows the *thread* that spawned the
/// child: masters are spawned from runtime worker threads or the block_on thread, which
/// live until the command ends.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut tokio::process::Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls prctl,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut tokio::process::Command) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finding_20_remote_output_is_capped_not_buffered_without_end() {
        let big = vec![b'x'; 3 * 1024 * 1024 + 1];
        let e = read_capped(&mut &big[..], 3 * 1024 * 1024)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("more than 3 MiB"), "{e}");
        let ok = read_capped(&mut &big[1..], 3 * 1024 * 1024).await.unwrap();
        assert_eq!(ok.len(), 3 * 1024 * 1024);
        assert!(matches!(
            output_error("n1", "stdout", e),
            TransportError::Other(m) if m.starts_with("n1: stdout: more than")
        ));
    }

    fn out(status: i32, stderr: &str) -> Output {
        Output {
            status: Some(status),
            stdout: vec![],
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn sudo_password_and_missing_commands() {
        let e = classify_command_failure(
            "n1",
            &s(&["sudo", "-n", "--", "sh", "-s"]),
            true,
            &out(1, "sudo: a password is required\n"),
        );
        assert_eq!(e, Some(TransportError::SudoPassword("n1".into())));
        // without sudo, the same text is the command's business
        assert_eq!(
            classify_command_failure(
                "n1",
                &s(&["x"]),
                false,
                &out(1, "sudo: a password is required\n")
            ),
            None
        );
        let e = classify_command_failure(
            "n1",
            &s(&["gluster", "pool", "list"]),
            false,
            &out(127, "bash: line 1: gluster: command not found\n"),
        );
        assert_eq!(
            e,
            Some(TransportError::CommandMissing {
                node: "n1".into(),
                command: "gluster".into()
            })
        );
        let e = classify_command_failure(
            "n1",
            &s(&["gluster"]),
            false,
            &out(127, "sh: 1: gluster: not found\n"),
        );
        assert!(matches!(e, Some(TransportError::CommandMissing { .. })));
        let e = classify_command_failure(
            "n1",
            &s(&["sudo", "-n", "--", "gluster"]),
            true,
            &out(127, "sudo: gluster: command not found\n"),
        );
        assert!(
            matches!(e, Some(TransportError::CommandMissing { command, .. }) if command == "gluster")
        );
        // a script that itself exits 127 for another reason is an Output, not a missing command
        assert_eq!(
            classify_command_failure(
                "n1",
                &s(&["sh", "-s"]),
                false,
                &out(127, "sh: 3: lvs: not found\n")
            ),
            None
        );
    }

    const CHANGED: &str = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Offending ED25519 key in /tmp/kh:1
Host key for [127.0.0.1]:2299 has changed and you have requested strict checking.
Host key verification failed.
";

    /// ssh's own words (OpenSSH 9.2, captured with `ssh -E log -M -N`), one per failure.
    #[test]
    fn master_failures_from_real_ssh_logs() {
        let cases = [
            (
                "root@127.0.0.1: Permission denied (publickey,password,keyboard-interactive).\n",
                "auth_failed",
            ),
            (CHANGED, "host_key_changed"),
            (
                "No ED25519 host key is known for [127.0.0.1]:2299 and you have requested strict checking.\nHost key verification failed.\n",
                "host_key_unknown",
            ),
            (
                "ssh: connect to host 127.0.0.1 port 2298: Connection refused\n",
                "connection_refused",
            ),
            (
                // an unused address on the lab subnet, ConnectTimeout=5 (ARP gives up first)
                "ssh: connect to host 10.99.6.99 port 22: No route to host\n",
                "no_route",
            ),
            (
                "ssh: Could not resolve hostname nosuch.invalid: Name or service not known\n",
                "unknown_host",
            ),
            (
                "Connection timed out during banner exchange\nConnection to 10.99.2.99 port 22 timed out\n",
                "timeout",
            ),
            (
                "ssh: connect to host 10.99.2.99 port 22: Connection timed out\n",
                "timeout",
            ),
            (
                "kex_exchange_identification: Connection closed by remote host\n",
                "disconnected",
            ),
            ("something new\n", "other"),
            ("", "other"),
        ];
        for (text, kind) in cases {
            let e = classify_master_failure("n1", "10.0.0.1", text, Some(255), 5);
            assert_eq!(e.kind(), kind, "{text:?} -> {e}");
        }
        let e = classify_master_failure("n1", "10.0.0.1", CHANGED, Some(255), 5);
        assert!(e.to_string().contains("CHANGED") && e.to_string().contains("n1 (10.0.0.1)"));
        let e = classify_master_failure("n1", "10.0.0.1", "weird failure\n", Some(255), 5);
        assert_eq!(
            e.to_string(),
            "ssh to n1 (10.0.0.1) failed (exit 255): weird failure"
        );
    }

    #[test]
    fn master_args_carry_config() {
        let t = SshTarget {
            node: "n1".into(),
            host: "10.0.0.1".into(),
            ssh: Ssh {
                user: "admin".into(),
                port: 2222,
                identity_file: Some("/k/id".into()),
                known_hosts: KnownHosts::AcceptNew,
                options: vec!["UserKnownHostsFile=/k/kh".into()],
                sudo: true,
                connect_timeout: 7,
            },
        };
        let a = t.master_args(Path::new("/tmp/byX"));
        let j = a.join(" ");
        assert!(j.contains("-S /tmp/byX/m -M -N"), "{j}");
        assert!(j.contains("StrictHostKeyChecking=accept-new"));
        assert!(j.contains("ConnectTimeout=7"));
        assert!(j.contains("-p 2222 -l admin -i /k/id -o IdentitiesOnly=yes -o UserKnownHostsFile=/k/kh -- 10.0.0.1"));
        assert!(j.contains("ControlPersist=no"));
        let sudo = SshTransport::new(t).full_argv(&s(&["sh", "-s"]));
        assert_eq!(sudo, s(&["sudo", "-n", "--", "sh", "-s"]));
    }
}
