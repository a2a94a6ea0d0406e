//! How stale a lock looks from here. Only ever used to *report*: nothing is cleared on
//! this basis, because a wrong guess would let two applies race.

use std::time::{Duration, SystemTime};

use super::holder::LockInfo;
use super::time::{age, human_duration};

/// A lock held by another host for longer than this is reported as probably stale:
/// no apply takes that long, and its pid cannot be checked from here.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

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
