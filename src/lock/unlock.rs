//! When `brickyard unlock` may remove a lock. It is the operator's tool for locks left by
//! killed runs, so it removes what is provably or very probably abandoned, and refuses,
//! explaining, a lock that may belong to an apply running right now unless told
//! `--force`. A lock held by a live process of this machine is never removed.

use std::time::SystemTime;

use super::remote::LockState;
use super::stale::{
    Here, NO_HOLDER_STALE_AFTER, STALE_AFTER, Staleness, no_holder_staleness, staleness,
};
use super::time::human_duration;

/// Ok when unlock may remove the lock in `state`; otherwise why not (shown as is).
pub fn may_clear(
    state: &LockState,
    here: &Here,
    now: SystemTime,
    force: bool,
) -> Result<(), String> {
    let fresh = |why: String| {
        if force {
            Ok(())
        } else {
            Err(format!(
                "{why}; not removed. If you are sure no apply is running, run unlock again with --force"
            ))
        }
    };
    match state {
        LockState::Free => Ok(()),
        LockState::NoHolder { age } => match no_holder_staleness(*age) {
            Staleness::Stale(_) => Ok(()),
            _ => fresh(format!(
                "a lock without holder file{}: an apply may be taking it right now (a lock directory gets its holder within seconds; one older than {} is left by a killed run)",
                age.map_or(String::new(), |a| format!(", {} old", human_duration(a))),
                human_duration(NO_HOLDER_STALE_AFTER)
            )),
        },
        LockState::Held { text, holder: None } => fresh(format!(
            "a lock with an unreadable holder ({:?})",
            text.trim()
        )),
        LockState::Held {
            holder: Some(h), ..
        } => match staleness(h, here, now) {
            Staleness::Live => Err(format!(
                "locked by process {} on this host, which is still running (an apply in progress?); not removed",
                h.pid
            )),
            Staleness::Dead(_) | Staleness::Stale(_) => Ok(()),
            Staleness::Unknown => fresh(format!(
                "locked by host {}, pid {}, started {}: younger than {}, and its process cannot be checked from here, so an apply may be running there",
                h.holder_host,
                h.pid,
                h.started,
                human_duration(STALE_AFTER)
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::LockInfo;
    use crate::lock::time::parse_rfc3339;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(t: &str) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(parse_rfc3339(t).unwrap().unsigned_abs())
    }

    #[test]
    fn finding_18_unlock_refuses_a_fresh_lock_of_another_host_without_force() {
        let here = Here {
            host: "me".into(),
            boot_id: Some("b".into()),
            pid_ns: Some("n".into()),
            start_of: &|_| None,
        };
        let theirs = LockState::Held {
            text: String::new(),
            holder: Some(LockInfo {
                holder_host: "ops1".into(),
                pid: 4242,
                started: "2026-11-23T09:00:00Z".into(),
                ..LockInfo::default()
            }),
        };
        let minutes_later = at("2026-11-23T09:05:00Z");
        let why = may_clear(&theirs, &here, minutes_later, false).unwrap_err();
        assert!(why.contains("ops1") && why.contains("--force"), "{why}");
        assert_eq!(may_clear(&theirs, &here, minutes_later, true), Ok(()));
        assert_eq!(
            may_clear(&theirs, &here, at("2026-11-23T16:00:00Z"), false),
            Ok(())
        );
        // Holderless: young is being taken, old is left behind.
        let young = LockState::NoHolder {
            age: Some(Duration::from_secs(2)),
        };
        assert!(
            may_clear(&young, &here, minutes_later, false)
                .unwrap_err()
                .contains("taking it")
        );
        assert_eq!(may_clear(&young, &here, minutes_later, true), Ok(()));
        let old = LockState::NoHolder {
            age: Some(Duration::from_secs(3600)),
        };
        assert_eq!(may_clear(&old, &here, minutes_later, false), Ok(()));
        // A live process of this machine: never, not even with --force.
        let mine = LockState::Held {
            text: String::new(),
            holder: Some(LockInfo {
                holder_host: "me".into(),
                pid: 7,
                started: "2026-11-23T09:00:00Z".into(),
                pid_start: Some(1),
                boot_id: Some("b".into()),
                pid_ns: Some("n".into()),
            }),
        };
        let alive = Here {
            start_of: &|_| Some(1),
            ..here
        };
        assert!(may_clear(&mine, &alive, minutes_later, true).is_err());
    }
}
