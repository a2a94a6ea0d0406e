//! The `holder` file: who holds a node's lock, as `host=`, `pid=`, `started=` lines.
//! Written by [`super::acquire`], read back by apply, `unlock` and the gather probe.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::time::rfc3339;

/// Who holds a lock (also part of a node's gathered facts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub holder_host: String,
    pub pid: u32,
    /// As written by the holder (RFC 3339).
    pub started: String,
}

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

/// The three fields of a holder file, each None when its line is missing (or, for the
/// pid, not a number).
fn fields<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> (Option<String>, Option<u32>, Option<String>) {
    let (mut host, mut pid, mut started) = (None, None, None);
    for line in lines {
        match line.split_once('=') {
            Some(("host", v)) => host = Some(v.trim().to_string()),
            Some(("pid", v)) => pid = v.trim().parse().ok(),
            Some(("started", v)) => started = Some(v.trim().to_string()),
            _ => {}
        }
    }
    (host, pid, started)
}

/// Parses a `holder` file; None if a line is missing or the pid is not a number.
pub(crate) fn parse_holder(text: &str) -> Option<LockInfo> {
    let (host, pid, started) = fields(text.lines());
    Some(LockInfo {
        holder_host: host?,
        pid: pid?,
        started: started?,
    })
}

/// Parses the probe's `lock` section (`dir=yes` or `dir=no`, then the holder file).
/// None when there is no lock; otherwise the holder (fields empty/0 when unknown) and a
/// warning when the holder is missing or incomplete. A lock directory without a readable
/// holder is still a lock: an apply is taking it, or one died halfway.
pub(crate) fn parse_probe_section(text: &str) -> (Option<LockInfo>, Option<String>) {
    let mut lines = text.lines();
    if lines.next() != Some("dir=yes") {
        return (None, None);
    }
    let (host, pid, started) = fields(lines);
    let info = LockInfo {
        holder_host: host.unwrap_or_default(),
        pid: pid.unwrap_or(0),
        started: started.unwrap_or_default(),
    };
    let warning = (info.holder_host.is_empty() || pid.is_none()).then(|| {
        "apply lock directory exists but its holder is missing or incomplete (an apply is taking it, or one died)".to_string()
    });
    (Some(info), warning)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn probe_section_lock_states() {
        assert_eq!(parse_probe_section("dir=no\n"), (None, None));
        let (l, w) =
            parse_probe_section("dir=yes\nhost=ops1\npid=42\nstarted=2026-11-23T09:00:00Z\n");
        let l = l.expect("a lock");
        assert_eq!((l.holder_host.as_str(), l.pid), ("ops1", 42));
        assert!(w.is_none());
        let (l, w) = parse_probe_section("dir=yes\n");
        assert!(l.is_some() && w.is_some());
    }
}
