//! How commands reach nodes. Everything above this layer speaks argv and never knows
//! about SSH; shell words (quoting, `sh -c` argv) are built in [`shell`] and nowhere else.
//! This room imports only `config` (for a node's `ssh:` settings).

pub mod replay;
pub mod shell;
mod ssh;

pub use shell::{quote, quote_word};
pub use ssh::ssh_transports;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::join_all;

/// One transport per config node name: what gather, apply and unlock are given.
pub type Transports = BTreeMap<String, Arc<dyn Transport>>;

/// Close every transport (ControlMasters), concurrently.
pub async fn close_all(transports: &Transports) {
    join_all(transports.values().map(|t| t.close())).await;
}

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
