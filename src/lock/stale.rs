//! How stale a lock looks from here, and whether `unlock` may remove it. Nothing is
//! cleared on a guess, because a wrong guess would let two applies race: the only lock
//! apply takes over by itself is one whose holder is provably this machine's (same host
//! name, boot and pid namespace) and whose process (pid *and* start time) is gone.

use std::time::{Duration, SystemTime};

use super::holder::{LockInfo, local_boot_id, local_hostname, local_pid_ns, process_start};
use super::time::{age, human_duration};

/// A lock held by another host for longer than this is reported as probably stale:
/// no apply takes that long, and its pid cannot be checked from here.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);

/// A lock directory without a holder file younger than this is being taken right now
/// (the holder is written just after the `mkdir`; a slow node may take seconds), not
/// left by a run killed halfway.
pub const NO_HOLDER_STALE_AFTER: Duration = Duration::from_secs(60);

/// Whether a lock's holder is still around, as far as this machine can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    /// The holder runs on this host and its process is alive.
    Live,
    /// The holder is provably this machine's (host name, boot id and pid namespace
    /// recorded and equal) and its process, pid and start time, is gone: apply may take
    /// the lock over, saying so.
    Dead(String),
    /// The holder is gone (or almost certainly): the reason says how we know.
    Stale(String),
    /// Held from another host, recently: its process cannot be checked from here.
    Unknown,
}

/// What this machine can check about a holder.
pub struct Here<'a> {
    pub host: String,
    pub boot_id: Option<String>,
    pub pid_ns: Option<String>,
    /// The start time of a running local process, None when no process has that pid.
    pub start_of: &'a dyn Fn(u32) -> Option<u64>,
}

impl Here<'static> {
    /// This process's view of its machine.
    pub fn local() -> Self {
        Here {
            host: local_hostname(),
            boot_id: local_boot_id(),
            pid_ns: local_pid_ns(),
            start_of: &process_start,
        }
    }
}

/// Decides how to *report* a lock (and, for `Dead`, whether apply may take it over).
pub fn staleness(holder: &LockInfo, here: &Here, now: SystemTime) -> Staleness {
    if holder.holder_host == here.host {
        let recorded = (&holder.boot_id, &holder.pid_ns, holder.pid_start);
        match recorded {
            (Some(b), Some(n), Some(start))
                if Some(b) == here.boot_id.as_ref() && Some(n) == here.pid_ns.as_ref() =>
            {
                return match (here.start_of)(holder.pid) {
                    Some(s) if s == start => Staleness::Live,
                    Some(_) => Staleness::Dead(format!(
                        "process {} on this host is gone (the pid now belongs to a later process)",
                        holder.pid
                    )),
                    None => Staleness::Dead(format!(
                        "process {} on this host ({}) is no longer running",
                        holder.pid, here.host
                    )),
                };
            }
            (None, None, None) => {
                // A holder from a brickyard before finding 18: only the pid to go by.
                return if (here.start_of)(holder.pid).is_some() {
                    Staleness::Live
                } else {
                    Staleness::Stale(format!(
                        "process {} on this host ({}) is no longer running",
                        holder.pid, here.host
                    ))
                };
            }
            // Same name, other boot or pid namespace (a container, a CI runner, or this
            // machine before a reboot): its pids mean nothing here, so judge by age.
            _ => {}
        }
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

/// A lock directory without a holder file, `age` old (None: unknown): stale only when
/// it is older than [`NO_HOLDER_STALE_AFTER`]; younger, an apply is taking it.
pub fn no_holder_staleness(age: Option<Duration>) -> Staleness {
    match age {
        Some(a) if a > NO_HOLDER_STALE_AFTER => Staleness::Stale(format!(
            "the lock directory is {} old and has no holder file: a run was killed while taking it",
            human_duration(a)
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

    fn here<'a>(start_of: &'a dyn Fn(u32) -> Option<u64>) -> Here<'a> {
        Here {
            host: "me".into(),
            boot_id: Some("boot-1".into()),
            pid_ns: Some("pid:[1]".into()),
            start_of,
        }
    }

    #[test]
    fn staleness_is_decided_by_pid_here_and_by_age_elsewhere() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_424_550);
        let mut h = LockInfo {
            holder_host: "me".into(),
            pid: 7,
            started: "2026-11-23T09:00:00Z".into(),
            ..LockInfo::default()
        };
        assert_eq!(staleness(&h, &here(&|_| Some(1)), now), Staleness::Live);
        assert!(matches!(
            staleness(&h, &here(&|_| None), now),
            Staleness::Stale(why) if why.contains("process 7")
        ));
        h.holder_host = "other".into();
        // Recent, on another host: cannot know, so not stale, whatever our pid table says.
        assert_eq!(staleness(&h, &here(&|_| None), now), Staleness::Unknown);
        h.started = "2026-11-22T09:00:00Z".into();
        assert!(matches!(
            staleness(&h, &here(&|_| Some(1)), now),
            Staleness::Stale(why) if why.contains("1d 0h")
        ));
        h.started = "garbage".into();
        assert_eq!(staleness(&h, &here(&|_| None), now), Staleness::Unknown);
    }

    #[test]
    fn finding_18_this_host_is_judged_by_pid_and_start_time() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_424_550);
        let h = LockInfo {
            holder_host: "me".into(),
            pid: 7,
            started: "2026-11-23T09:00:00Z".into(),
            pid_start: Some(500),
            boot_id: Some("boot-1".into()),
            pid_ns: Some("pid:[1]".into()),
        };
        assert_eq!(staleness(&h, &here(&|_| Some(500)), now), Staleness::Live);
        // The pid was reused by a later process: the holder is gone (no false "Live").
        assert!(matches!(
            staleness(&h, &here(&|_| Some(900)), now),
            Staleness::Dead(why) if why.contains("later process")
        ));
        assert!(matches!(
            staleness(&h, &here(&|_| None), now),
            Staleness::Dead(why) if why.contains("process 7")
        ));
        // Same host name, another machine (or container): its pid is not checked here,
        // so no false "STALE" for a recent lock.
        for (boot, ns) in [("boot-2", "pid:[1]"), ("boot-1", "pid:[2]")] {
            let other = LockInfo {
                boot_id: Some(boot.into()),
                pid_ns: Some(ns.into()),
                ..h.clone()
            };
            assert_eq!(
                staleness(&other, &here(&|_| None), now),
                Staleness::Unknown,
                "{boot} {ns}"
            );
        }
    }

    #[test]
    fn finding_18_a_lock_without_holder_is_being_taken_while_young() {
        assert_eq!(no_holder_staleness(None), Staleness::Unknown);
        assert_eq!(
            no_holder_staleness(Some(Duration::from_secs(5))),
            Staleness::Unknown
        );
        assert!(matches!(
            no_holder_staleness(Some(Duration::from_secs(120))),
            Staleness::Stale(why) if why.contains("2m 0s")
        ));
    }

    #[test]
    fn own_pid_is_alive() {
        assert!(pid_alive(std::process::id()));
    }
}
