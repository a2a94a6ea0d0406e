//! The apply lock: two applies against one cluster must never both proceed.
//!
//! Each node the plan touches gets a directory created with an atomic `mkdir`
//! ([`LOCK_DIR`]) holding a `holder` file (`host=`, `pid=`, `started=` lines). Nodes are
//! locked in name order so two applies cannot deadlock each holding half the nodes.
//! A lock whose holder is gone is *reported* as stale with the command that clears it;
//! it is never cleared automatically, because a wrong guess would let two applies race.
//!
//! This is the one home of the lock protocol: the holder file format (`holder.rs`), the
//! remote commands that take, read and clear it (`remote.rs`), and how stale a holder
//! looks (`stale.rs`, `time.rs`). Gather reads the lock through the probe and parses it here; apply
//! and `unlock` act on it here. It sits beside `gather` and `apply` rather than inside
//! either, because both use it and `apply` already imports `gather`.

mod holder;
mod remote;
mod stale;
mod time;

pub(crate) use holder::parse_probe_section;
pub use holder::{LockInfo, holder_text, local_hostname, this_holder};
pub use remote::{Cleared, LockState, NodeLocks, acquire, clear, read};
pub use stale::{Staleness, pid_alive, staleness};
pub use time::rfc3339;

/// Parent of the lock directory (created if missing).
pub(crate) const LOCK_PARENT: &str = "/var/lib/brickyard";
/// The lock itself: its existence is the lock; `holder` inside says whose it is.
pub(crate) const LOCK_DIR: &str = "/var/lib/brickyard/lock";
/// Where the lock lives on a node. Always [`LOCK_DIR`] in production; tests point it at
/// a temporary directory to run the real lock scripts in a real shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockLocation {
    pub parent: String,
    pub dir: String,
}

impl Default for LockLocation {
    fn default() -> Self {
        LockLocation {
            parent: LOCK_PARENT.into(),
            dir: LOCK_DIR.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    #[error(
        "node {node} is locked by another apply: host {}, pid {}, started {}{}",
        holder.holder_host, holder.pid, holder.started,
        match staleness { Staleness::Stale(why) => format!(" (STALE: {why})"), _ => String::new() }
    )]
    Held {
        node: String,
        holder: LockInfo,
        staleness: Staleness,
    },
    #[error("node {node} has a lock without a holder file: a run was killed while taking it")]
    NoHolder { node: String },
    #[error("cannot lock node {node}: {detail}")]
    Failed { node: String, detail: String },
}

impl LockError {
    pub fn node(&self) -> &str {
        match self {
            LockError::Held { node, .. }
            | LockError::NoHolder { node }
            | LockError::Failed { node, .. } => node,
        }
    }

    /// A lock the operator may clear (holder gone, or never written).
    pub fn is_stale(&self) -> bool {
        matches!(
            self,
            LockError::NoHolder { .. }
                | LockError::Held {
                    staleness: Staleness::Stale(_),
                    ..
                }
        )
    }
}
