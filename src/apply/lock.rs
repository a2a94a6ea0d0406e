//! The apply lock: two applies against one cluster must never both proceed.
//!
//! Each node the plan touches gets a directory created with an atomic `mkdir`
//! ([`LOCK_DIR`]) holding a `holder` file (`host=`, `pid=`, `started=` lines). Nodes are
//! locked in name order so two applies cannot deadlock each holding half the nodes.
//! A lock whose holder is gone is *reported* as stale with the command that clears it;
//! it is never cleared automatically, because a wrong guess would let two applies race.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::apply::executor::Transports;
use crate::gather::LockInfo;
use crate::transport::{RemoteCommand, Transport};

/// Parent of the lock directory (created if missing).
pub const LOCK_PARENT: &str = "/var/lib/brickyard";
/// The lock itself: its existence is the lock; `holder` inside says whose it is.
pub const LOCK_DIR: &str = "/var/lib/brickyard/lock";
/// A lock held by another host for longer than this is reported as probably stale:
/// no apply takes that long, and its pid cannot be checked from here.
pub const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);

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
exit 4"#;

/// Removes the lock only if its holder is exactly the expected one (our own on release,
/// the one the operator was shown on unlock), so a lock taken since is never removed.
const CLEAR: &str = r#"[ -d "$1" ] || exit 5
[ "$(cat -- "$1/holder" 2>/dev/null)" = "$2" ] || exit 3
rm -f -- "$1/holder" "$1/holder.tmp" && rmdir -- "$1""#;

const READ: &str = r#"[ -d "$1" ] || exit 5
cat -- "$1/holder" 2>/dev/null || exit 4"#;

/// The holder record this process writes.
pub fn this_holder() -> LockInfo {
    LockInfo {
        holder_host: local_hostname(),
        pid: std::process::id(),
        started: rfc3339(SystemTime::now()),
    }
}

/// This machine's host name, as written into holder records.
pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// The `holder` file's content.
pub fn holder_text(h: &LockInfo) -> String {
    format!(
        "host={}\npid={}\nstarted={}\n",
        h.holder_host, h.pid, h.started
    )
}

/// Parses a `holder` file; None if a line is missing or the pid is not a number.
pub fn parse_holder(text: &str) -> Option<LockInfo> {
    let (mut host, mut pid, mut started) = (None, None, None);
    for line in text.lines() {
        match line.split_once('=') {
            Some(("host", v)) => host = Some(v.trim().to_string()),
            Some(("pid", v)) => pid = v.trim().parse().ok(),
            Some(("started", v)) => started = Some(v.trim().to_string()),
            _ => {}
        }
    }
    Some(LockInfo {
        holder_host: host?,
        pid: pid?,
        started: started?,
    })
}

/// Whether a lock's holder is still around, as far as this machine can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    /// The holder runs on this host and its process is alive.
    Live,
    /// The holder is gone (or almost certainly): the reason says how we know.
    Stale(String),
    /// Held from another host, recently: its process cannot be checked from here.
    Unknown,
}

/// Decides how to *report* a lock; nothing is ever cleared on this basis.
pub fn staleness(
    holder: &LockInfo,
    this_host: &str,
    now: SystemTime,
    pid_alive: &dyn Fn(u32) -> bool,
) -> Staleness {
    if holder.holder_host == this_host {
        return if pid_alive(holder.pid) {
            Staleness::Live
        } else {
            Staleness::Stale(format!(
                "process {} on this host ({this_host}) is no longer running",
                holder.pid
            ))
        };
    }
    match age(&holder.started, now) {
        Some(a) if a > STALE_AFTER => Staleness::Stale(format!(
            "taken {} ago, longer than any apply takes (its process on {} cannot be checked from here)",
            human_duration(a),
            holder.holder_host
        )),
        _ => Staleness::Unknown,
    }
}

/// Whether a local process exists (conservative: true where it cannot be checked).
pub fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
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

/// Locks held by this run. Call [`NodeLocks::release`] on every path out of apply.
pub struct NodeLocks {
    at: LockLocation,
    me: LockInfo,
    held: Vec<(String, Arc<dyn Transport>)>,
}

/// Locks `nodes` in name order; on any refusal releases what it took and says why.
pub async fn acquire(
    at: &LockLocation,
    transports: &Transports,
    nodes: &BTreeSet<String>,
    me: &LockInfo,
) -> Result<NodeLocks, LockError> {
    let mut locks = NodeLocks {
        at: at.clone(),
        me: me.clone(),
        held: Vec::new(),
    };
    for node in nodes {
        match acquire_one(at, transports, node, me).await {
            Ok(t) => locks.held.push((node.clone(), t)),
            Err(e) => {
                locks.release().await;
                return Err(e);
            }
        }
    }
    Ok(locks)
}

async fn acquire_one(
    at: &LockLocation,
    transports: &Transports,
    node: &str,
    me: &LockInfo,
) -> Result<Arc<dyn Transport>, LockError> {
    let failed = |detail: String| LockError::Failed {
        node: node.to_string(),
        detail,
    };
    let transport = transports
        .get(node)
        .cloned()
        .ok_or_else(|| failed("no connection to this node".into()))?;
    let out = transport
        .run(&script(ACQUIRE, &[&at.parent, &at.dir, &holder_text(me)]))
        .await
        .map_err(|e| failed(e.to_string()))?;
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
            let staleness = staleness(&holder, &local_hostname(), SystemTime::now(), &pid_alive);
            Err(LockError::Held {
                node: node.to_string(),
                holder,
                staleness,
            })
        }
        Some(NO_HOLDER) => Err(LockError::NoHolder {
            node: node.to_string(),
        }),
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
    NoHolder,
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
        Some(NO_HOLDER) => Ok(LockState::NoHolder),
        status => Err(format!(
            "reading the lock exited with {}: {}",
            status.map_or("a signal".to_string(), |c| c.to_string()),
            out.stderr_lossy().trim()
        )),
    }
}

/// `sh -c SCRIPT sh ARGS...`: values travel as positional parameters, never as script text.
fn script(body: &str, args: &[&str]) -> RemoteCommand {
    let mut argv = vec!["sh".to_string(), "-c".into(), body.into(), "sh".into()];
    argv.extend(args.iter().map(|a| a.to_string()));
    RemoteCommand::new(argv).with_timeout(LOCK_TIMEOUT)
}

/// `SystemTime` as RFC 3339 UTC with second precision, e.g. `2026-11-23T09:02:30Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses RFC 3339 (`Z` or `±HH:MM`, optional fraction) into seconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> {
        let t = s.get(a..b)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if s.len() < 20 || &s[4..5] != "-" || &s[7..8] != "-" || !matches!(&s[10..11], "T" | "t" | " ")
    {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let tz = rest.get(1..)?;
            if tz.len() != 5 || &tz[2..3] != ":" {
                return None;
            }
            sign * (tz[0..2].parse::<i64>().ok()? * 3600 + tz[3..5].parse::<i64>().ok()? * 60)
        }
    };
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// How long ago an RFC 3339 time was (None if unparseable or in the future).
pub fn age(started: &str, now: SystemTime) -> Option<Duration> {
    let then = parse_rfc3339(started)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    (now >= then).then(|| Duration::from_secs((now - then) as u64))
}

pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian, days since 1970-01-01).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = y - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_matches_known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_424_550);
        assert_eq!(rfc3339(t), "2026-11-23T09:02:30Z");
        assert_eq!(parse_rfc3339("2026-11-23T09:02:30Z"), Some(1_795_424_550));
        assert_eq!(
            parse_rfc3339("2026-11-23T10:02:30.123+01:00"),
            Some(1_795_424_550)
        );
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-23T09:02:30",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
        for secs in [0u64, 951_782_400, 4_102_444_800] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(secs as i64));
        }
    }

    #[test]
    fn holder_text_parses_back() {
        let h = LockInfo {
            holder_host: "ops1".into(),
            pid: 4242,
            started: "2026-11-23T09:02:30Z".into(),
        };
        assert_eq!(
            holder_text(&h),
            "host=ops1\npid=4242\nstarted=2026-11-23T09:02:30Z\n"
        );
        assert_eq!(parse_holder(&holder_text(&h)), Some(h));
        assert_eq!(parse_holder("host=a\nstarted=x\n"), None);
        assert_eq!(parse_holder("host=a\npid=abc\nstarted=x\n"), None);
    }

    #[test]
    fn staleness_is_decided_by_pid_here_and_by_age_elsewhere() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_424_550);
        let mut h = LockInfo {
            holder_host: "me".into(),
            pid: 7,
            started: "2026-11-23T09:00:00Z".into(),
        };
        assert_eq!(staleness(&h, "me", now, &|_| true), Staleness::Live);
        assert!(matches!(
            staleness(&h, "me", now, &|_| false),
            Staleness::Stale(why) if why.contains("process 7")
        ));
        h.holder_host = "other".into();
        // Recent, on another host: cannot know, so not stale, whatever our pid table says.
        assert_eq!(staleness(&h, "me", now, &|_| false), Staleness::Unknown);
        h.started = "2026-11-22T09:00:00Z".into();
        assert!(matches!(
            staleness(&h, "me", now, &|_| true),
            Staleness::Stale(why) if why.contains("1d 0h")
        ));
        h.started = "garbage".into();
        assert_eq!(staleness(&h, "me", now, &|_| false), Staleness::Unknown);
    }

    #[test]
    fn own_pid_is_alive() {
        assert!(pid_alive(std::process::id()));
    }
}
