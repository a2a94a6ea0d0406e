//! How commands reach nodes. Everything above this layer speaks argv and never knows
//! about SSH; quoting for a remote shell happens here, in [`quote`], and nowhere else.

pub mod replay;
pub mod ssh;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

/// One remote command: an argv, optional stdin (e.g. a script for `sh -s`), and a timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCommand {
    pub argv: Vec<String>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl RemoteCommand {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RemoteCommand {
            argv: argv.into_iter().map(Into::into).collect(),
            stdin: None,
            timeout: Duration::from_secs(120),
        }
    }

    /// A shell script sent over stdin to `sh -s`: one command, no temp files on the node.
    pub fn script(script: impl Into<Vec<u8>>) -> Self {
        RemoteCommand {
            argv: vec!["sh".into(), "-s".into()],
            stdin: Some(script.into()),
            timeout: Duration::from_secs(120),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_stdin(mut self, stdin: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(stdin.into());
        self
    }
}

/// What a command did. A non-zero exit is an `Output`, not an error: the caller decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Exit code; None when killed by a signal.
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
    pub fn stdout_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Why a command could not be run at all, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("connection refused by {0} (is sshd running and the port right?)")]
    ConnectionRefused(String),
    /// The address is not reachable at all (e.g. nothing answers ARP on the local subnet:
    /// the node is down or the address is wrong).
    #[error("no route to {0} (is the node up and its address right?)")]
    NoRoute(String),
    #[error("timed out after {secs} s: {what}")]
    Timeout { what: String, secs: u64 },
    #[error("authentication failed for {0} (check user and identity file)")]
    AuthFailed(String),
    #[error("host key of {0} is unknown (add it to known_hosts, or set known_hosts: accept-new)")]
    HostKeyUnknown(String),
    #[error(
        "host key of {0} has CHANGED: possible man-in-the-middle, or a reinstalled node; refusing to connect"
    )]
    HostKeyChanged(String),
    #[error("sudo on {0} asks for a password (brickyard needs passwordless sudo)")]
    SudoPassword(String),
    #[error("command `{command}` not found on {node}")]
    CommandMissing { node: String, command: String },
    #[error("cannot resolve host name {0}")]
    UnknownHost(String),
    #[error("connection to {node} lost: {detail}")]
    Disconnected { node: String, detail: String },
    #[error("{0}")]
    Other(String),
}

impl TransportError {
    /// Stable kind for JSON output and `NodeError::kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            TransportError::ConnectionRefused(_) => "connection_refused",
            TransportError::NoRoute(_) => "no_route",
            TransportError::Timeout { .. } => "timeout",
            TransportError::AuthFailed(_) => "auth_failed",
            TransportError::HostKeyUnknown(_) => "host_key_unknown",
            TransportError::HostKeyChanged(_) => "host_key_changed",
            TransportError::SudoPassword(_) => "sudo_password",
            TransportError::CommandMissing { .. } => "command_missing",
            TransportError::UnknownHost(_) => "unknown_host",
            TransportError::Disconnected { .. } => "disconnected",
            TransportError::Other(_) => "other",
        }
    }
}

/// A way to run commands on one node. Implementations: SSH (production), replay (tests).
#[async_trait]
pub trait Transport: Send + Sync {
    /// Config node name this transport reaches.
    fn node(&self) -> &str;
    async fn run(&self, cmd: &RemoteCommand) -> Result<Output, TransportError>;
    /// Release the connection (ControlMaster etc.). Safe to call more than once.
    async fn close(&self) {}
}

/// Wraps any transport and counts the commands that go through it: the proof that
/// gather sends exactly one remote command per node, on replay and on real SSH alike.
pub struct Counting {
    inner: Arc<dyn Transport>,
    calls: AtomicUsize,
}

impl Counting {
    pub fn new(inner: Arc<dyn Transport>) -> Self {
        Counting {
            inner,
            calls: AtomicUsize::new(0),
        }
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Transport for Counting {
    fn node(&self) -> &str {
        self.inner.node()
    }
    async fn run(&self, cmd: &RemoteCommand) -> Result<Output, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.run(cmd).await
    }
    async fn close(&self) {
        self.inner.close().await
    }
}

/// Quote an argv for a POSIX shell: the only place remote command lines are built.
/// Words of safe characters stay bare for readable logs; everything else is single-quoted.
pub fn quote(argv: &[String]) -> String {
    argv.iter()
        .map(|a| quote_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn quote_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(
            quote(&s(&["lvs", "--reportformat", "json"])),
            "lvs --reportformat json"
        );
        assert_eq!(quote(&s(&["echo", "a b"])), "echo 'a b'");
        assert_eq!(quote(&s(&["echo", ""])), "echo ''");
        assert_eq!(quote(&s(&["echo", "it's"])), r"echo 'it'\''s'");
        assert_eq!(quote(&s(&["x", "$(rm -rf /)"])), "x '$(rm -rf /)'");
    }

    #[test]
    fn quoted_words_survive_a_real_shell() {
        let nasty = [
            "a b",
            "it's",
            "$(echo pwned)",
            "`id`",
            "\"q\"",
            "x;y",
            "\\n",
            "*",
            "~",
        ];
        for w in nasty {
            let line = format!("printf %s {}", quote_word(w));
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&line)
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), w, "word {w:?}");
        }
    }
}
