//! The apply lock: two applies against one cluster must never both proceed.
//!
//! Each node the plan touches gets a directory created with an atomic `mkdir`
//! ([`LOCK_DIR`]) holding a `holder` file (`host=`, `pid=`, `started=` lines). Nodes are
//! locked in name order so two applies cannot deadlock each holding half the nodes.
//! A lock whose holder is gone is *reported* as stale with the command that clears it;
//! it is not cleared on a guess, because a wrong guess would let two applies race. The
//! one exception needs no guess: a holder that is provably this machine's (host name,
//! boot id, pid namespace) and whose process (pid and start time) is gone is taken over,
//! and the caller says so.
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
mod unlock;

pub(crate) use holder::parse_probe_section;
pub use holder::{
    INCOMPLETE_HOLDER_WARNING, LockInfo, holder_text, local_boot_id, local_hostname, local_pid_ns,
    process_start, this_holder,
};
pub use remote::{Cleared, LockState, NodeLocks, acquire, acquire_reachable, clear, read};
pub use stale::{
    Here, NO_HOLDER_STALE_AFTER, Staleness, no_holder_staleness, pid_alive, staleness,
};
pub use time::rfc3339;
pub use unlock::may_clear;

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
        match staleness {
            Staleness::Stale(why) | Staleness::Dead(why) => format!(" (STALE: {why})"),
            _ => String::new(),
        }
    )]
    Held {
        node: String,
        holder: LockInfo,
        staleness: Staleness,
    },
    #[error("node {node} {}", match no_holder_staleness(*age) {
        Staleness::Stale(why) => format!("has a lock without a holder file (STALE: {why})"),
        _ => "is being locked by another apply right now (its lock directory has no holder file yet)".to_string(),
    })]
    NoHolder {
        node: String,
        /// How old the holderless lock directory is (None: unknown).
        age: Option<std::time::Duration>,
    },
    #[error("cannot lock node {node}: {detail}")]
    Failed { node: String, detail: String },
    /// The node could not be reached to lock it (no connection, ssh failed).
    #[error("cannot lock node {node}: {detail}")]
    Unreachable { node: String, detail: String },
}

impl LockError {
    pub fn node(&self) -> &str {
        match self {
            LockError::Held { node, .. }
            | LockError::NoHolder { node, .. }
            | LockError::Failed { node, .. }
            | LockError::Unreachable { node, .. } => node,
        }
    }

    /// A lock the operator may clear (holder gone, or never written and old enough not
    /// to be one being taken right now).
    pub fn is_stale(&self) -> bool {
        match self {
            LockError::NoHolder { age, .. } => {
                matches!(no_holder_staleness(*age), Staleness::Stale(_))
            }
            LockError::Held { staleness, .. } => {
                matches!(staleness, Staleness::Stale(_) | Staleness::Dead(_))
            }
            LockError::Failed { .. } | LockError::Unreachable { .. } => false,
        }
    }
}
