//! The remote side of the lock: three small `sh -c` scripts (take, clear, read), each
//! one round trip, with values passed as positional parameters.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::holder::{LockInfo, holder_text, parse_holder};
use super::stale::{Here, Staleness, staleness};
use super::{LockError, LockLocation};
use crate::transport::shell::sh_c;
use crate::transport::{RemoteCommand, Transport, Transports};

const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Exit codes of the lock scripts (anything else is an error with stderr).
const HELD: i32 = 3;
const NO_HOLDER: i32 = 4;
const GONE: i32 = 5;

/// Takes the lock in one round trip: atomic mkdir, then the holder written to a temp
/// file and renamed, so a reader sees either no holder or a complete one.
const ACQUIRE: &str = r#"mkdir -p -- "$1" || exit 2
if err=$(mkdir -- "$2" 2>&1); then
  if printf '%s' "$3" > "$2/holder.tmp" && mv -f -- "$2/holder.tmp" "$2/holder"; then exit 0; fi
  rm -f -- "$2/holder.tmp"; rmdir -- "$2"; exit 2
fi
[ -d "$2" ] || { printf '%s\n' "$err" >&2; exit 2; }
for i in 1 2 3; do
  if [ -f "$2/holder" ]; then cat -- "$2/holder"; exit 3; fi
  sleep 1
done
m=$(stat -c %Y -- "$2" 2>/dev/null) && echo "age=$(( $(date +%s) - m ))"
exit 4"#;

/// Removes the lock only if its holder is exactly the expected one (our own on release,
/// the one the operator was shown on unlock), so a lock taken since is never removed.
const CLEAR: &str = r#"[ -d "$1" ] || exit 5
[ "$(cat -- "$1/holder" 2>/dev/null)" = "$2" ] || exit 3
rm -f -- "$1/holder" "$1/holder.tmp" && rmdir -- "$1""#;

const READ: &str = r#"[ -d "$1" ] || exit 5
cat -- "$1/holder" 2>/dev/null && exit 0
m=$(stat -c %Y -- "$1" 2>/dev/null) && echo "age=$(( $(date +%s) - m ))"
exit 4"#;

/// The age a lock script printed for a lock directory without holder (`age=SECONDS`).
fn printed_age(stdout: &str) -> Option<Duration> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("age="))
        .and_then(|a| a.trim().parse::<i64>().ok())
        .map(|a| Duration::from_secs(a.max(0).unsigned_abs()))
}

/// Locks held by this run. Call [`NodeLocks::release`] on every path out of apply.
pub struct NodeLocks {
    at: LockLocation,
    me: LockInfo,
    held: Vec<(String, Arc<dyn Transport>)>,
    /// Locks of this machine's dead applies that were taken over: (node, the holder,
    /// why it is known to be gone). The caller says so.
    pub taken_over: Vec<(String, LockInfo, String)>,
}

/// Locks `nodes` in name order; on any refusal releases what it took and says why.
pub async fn acquire(
    at: &LockLocation,
    transports: &Transports,
    nodes: &BTreeSet<String>,
    me: &LockInfo,
) -> Result<NodeLocks, LockError> {
    acquire_all(at, transports, nodes, me, false)
        .await
        .map(|(locks, _)| locks)
}

/// [`acquire`] for an apply that locks before it knows what it will touch: every node of
/// `nodes` that can be reached is locked; a node that cannot be reached is left out and
/// returned with the reason (the plan made under these locks may then not touch it: the
/// caller checks). Any other refusal (held, being taken, a failing lock command) still
/// fails the whole acquisition, as in [`acquire`].
pub async fn acquire_reachable(
    at: &LockLocation,
    transports: &Transports,
    nodes: &BTreeSet<String>,
    me: &LockInfo,
) -> Result<(NodeLocks, Vec<(String, String)>), LockError> {
    acquire_all(at, transports, nodes, me, true).await
}

async fn acquire_all(
    at: &LockLocation,
    transports: &Transports,
    nodes: &BTreeSet<String>,
    me: &LockInfo,
    skip_unreachable: bool,
) -> Result<(NodeLocks, Vec<(String, String)>), LockError> {
    let mut locks = NodeLocks {
        at: at.clone(),
        me: me.clone(),
        held: Vec::new(),
        taken_over: Vec::new(),
    };
    let mut left_out = Vec::new();
    for node in nodes {
        match acquire_one(at, transports, node, me, &mut locks.taken_over).await {
            Ok(t) => locks.held.push((node.clone(), t)),
            Err(LockError::Unreachable { node, detail }) if skip_unreachable => {
                left_out.push((node, detail))
            }
            Err(e) => {
                locks.release().await;
                return Err(e);
            }
        }
    }
    Ok((locks, left_out))
}

async fn acquire_one(
    at: &LockLocation,
    transports: &Transports,
    node: &str,
    me: &LockInfo,
    taken_over: &mut Vec<(String, LockInfo, String)>,
) -> Result<Arc<dyn Transport>, LockError> {
    match try_acquire(at, transports, node, me).await {
        // Provably ours and dead: remove exactly that holder (a lock taken since stays)
        // and try once more.
        Err((
            LockError::Held {
                holder,
                staleness: Staleness::Dead(why),
                ..
            },
            Some(text),
        )) => {
            let transport = transports
                .get(node)
                .cloned()
                .ok_or(LockError::Unreachable {
                    node: node.to_string(),
                    detail: "no connection to this node".into(),
                })?;
            if clear(at, &*transport, &text).await == Ok(Cleared::Removed) {
                taken_over.push((node.to_string(), holder, why));
            }
            try_acquire(at, transports, node, me)
                .await
                .map_err(|(e, _)| e)
        }
        other => other.map_err(|(e, _)| e),
    }
}

/// One attempt; a refusal comes with the holder text it read, if any.
async fn try_acquire(
    at: &LockLocation,
    transports: &Transports,
    node: &str,
    me: &LockInfo,
) -> Result<Arc<dyn Transport>, (LockError, Option<String>)> {
    let failed = |detail: String| {
        (
            LockError::Failed {
                node: node.to_string(),
                detail,
            },
            None,
        )
    };
    let unreachable = |detail: String| {
        (
            LockError::Unreachable {
                node: node.to_string(),
                detail,
            },
            None,
        )
    };
    let transport = transports
        .get(node)
        .cloned()
        .ok_or_else(|| unreachable("no connection to this node".into()))?;
    let out = transport
        .run(&script(ACQUIRE, &[&at.parent, &at.dir, &holder_text(me)]))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    match out.status {
        Some(0) => Ok(transport),
        Some(HELD) => {
            let text = out.stdout_lossy();
            let holder = parse_holder(&text).ok_or_else(|| {
                failed(format!(
                    "{} exists but its holder file is unreadable: {:?}",
                    at.dir,
                    text.trim()
                ))
            })?;
            let staleness = staleness(&holder, &Here::local(), SystemTime::now());
            Err((
                LockError::Held {
                    node: node.to_string(),
                    holder,
                    staleness,
                },
                Some(text),
            ))
        }
        Some(NO_HOLDER) => Err((
            LockError::NoHolder {
                node: node.to_string(),
                age: printed_age(&out.stdout_lossy()),
            },
            None,
        )),
        status => Err(failed(format!(
            "lock command exited with {}: {}",
            status.map_or("a signal".to_string(), |c| c.to_string()),
            out.stderr_lossy().trim()
        ))),
    }
}

impl NodeLocks {
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.held.iter().map(|(n, _)| n.as_str())
    }

    /// Releases every lock (in reverse order); returns problems per node, which the
    /// caller reports (a lock that cannot be released is cleared later with `unlock`).
    pub async fn release(mut self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let expected = holder_text(&self.me);
        while let Some((node, transport)) = self.held.pop() {
            match clear(&self.at, &*transport, &expected).await {
                Ok(Cleared::Removed) => {}
                Ok(Cleared::Gone) => problems.push((
                    node,
                    "the lock was already removed by someone else".to_string(),
                )),
                Ok(Cleared::NotOurs) => problems.push((
                    node,
                    "the lock now belongs to another holder; left in place".to_string(),
                )),
                Err(e) => problems.push((node, e)),
            }
        }
        problems
    }
}

/// What [`clear`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleared {
    Removed,
    /// There was no lock.
    Gone,
    /// The holder is not the expected one: nothing removed.
    NotOurs,
}

/// Removes the node's lock if its holder file is exactly `expected_holder`
/// (use "" for a lock without a holder file).
pub async fn clear(
    at: &LockLocation,
    transport: &dyn Transport,
    expected_holder: &str,
) -> Result<Cleared, String> {
    let expected = expected_holder.trim_end_matches('\n');
    let out = transport
        .run(&script(CLEAR, &[&at.dir, expected]))
        .await
        .map_err(|e| e.to_string())?;
    match out.status {
        Some(0) => Ok(Cleared::Removed),
        Some(GONE) => Ok(Cleared::Gone),
        Some(HELD) => Ok(Cleared::NotOurs),
        status => Err(format!(
            "unlock command exited with {}: {}",
            status.map_or("a signal".to_string(), |c| c.to_string()),
            out.stderr_lossy().trim()
        )),
    }
}

/// What a node's lock looks like right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    Free,
    /// Holder file and its parsed content (None if unparseable).
    Held {
        text: String,
        holder: Option<LockInfo>,
    },
    /// A lock directory without a holder file, this old (None: its age is unknown).
    NoHolder {
        age: Option<Duration>,
    },
}

pub async fn read(at: &LockLocation, transport: &dyn Transport) -> Result<LockState, String> {
    let out = transport
        .run(&script(READ, &[&at.dir]))
        .await
        .map_err(|e| e.to_string())?;
    match out.status {
        Some(0) => {
            let text = out.stdout_lossy();
            let holder = parse_holder(&text);
            Ok(LockState::Held { text, holder })
        }
        Some(GONE) => Ok(LockState::Free),
        Some(NO_HOLDER) => Ok(LockState::NoHolder {
            age: printed_age(&out.stdout_lossy()),
        }),
        status => Err(format!(
            "reading the lock exited with {}: {}",
            status.map_or("a signal".to_string(), |c| c.to_string()),
            out.stderr_lossy().trim()
        )),
    }
}

/// `sh -c SCRIPT sh ARGS...`: values travel as positional parameters, never as script text.
fn script(body: &str, args: &[&str]) -> RemoteCommand {
    RemoteCommand::new(sh_c(body, args)).with_timeout(LOCK_TIMEOUT)
}
