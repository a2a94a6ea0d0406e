//! The `holder` file: who holds a node's lock, as `host=`, `pid=`, `started=` lines, and
//! (since finding 18) `pid_start=`, `boot_id=`, `pid_ns=`: the process's start time and
//! the machine and pid namespace it runs in, so that "is the holder still running?" can
//! be answered without trusting a host name (containers and CI runners share them) or a
//! bare pid (reused). Written by [`super::acquire`], read back by apply, `unlock` and
//! the gather probe; files without the new lines (older brickyards) still parse.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::time::rfc3339;

/// Who holds a lock (also part of a node's gathered facts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub holder_host: String,
    pub pid: u32,
    /// As written by the holder (RFC 3339).
    pub started: String,
    /// The holder process's start time, clock ticks after boot (`/proc/PID/stat` field
    /// 22): with the pid it names one process, even after the pid is reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_start: Option<u64>,
    /// The holder machine's `/proc/sys/kernel/random/boot_id` (one per boot of a kernel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The holder's pid namespace (`/proc/self/ns/pid`, e.g. `pid:[4026531836]`): a pid
    /// means the same process only inside one namespace of one boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_ns: Option<String>,
}

/// The holder record this process writes.
pub fn this_holder() -> LockInfo {
    let pid = std::process::id();
    LockInfo {
        holder_host: local_hostname(),
        pid,
        started: rfc3339(SystemTime::now()),
        pid_start: process_start(pid),
        boot_id: local_boot_id(),
        pid_ns: local_pid_ns(),
    }
}

/// The start time of a running local process (`/proc/PID/stat` field 22), None when
/// there is no such process (or no /proc).
pub fn process_start(pid: u32) -> Option<u64> {
    parse_stat_start(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) is in parentheses and
/// may itself hold spaces and `)`, so fields are counted after the LAST `)`.
pub(crate) fn parse_stat_start(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first word, so field 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This kernel boot's id; None where there is none to read.
pub fn local_boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

/// This process's pid namespace; None where there is none to read.
pub fn local_pid_ns() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|p| p.display().to_string())
        .filter(|s| !s.is_empty() && !s.contains(['\n', '=']))
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
    let mut t = format!(
        "host={}\npid={}\nstarted={}\n",
        h.holder_host, h.pid, h.started
    );
    if let Some(s) = h.pid_start {
        t.push_str(&format!("pid_start={s}\n"));
    }
    if let Some(b) = &h.boot_id {
        t.push_str(&format!("boot_id={b}\n"));
    }
    if let Some(n) = &h.pid_ns {
        t.push_str(&format!("pid_ns={n}\n"));
    }
    t
}

/// The fields of a holder file: host, pid and started None when their line is missing
/// (or, for the pid, not a number); the identity lines are optional anyway.
fn fields<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> (Option<String>, Option<u32>, Option<String>, LockInfo) {
    let (mut host, mut pid, mut started) = (None, None, None);
    let mut info = LockInfo::default();
    for line in lines {
        match line.split_once('=') {
            Some(("host", v)) => host = Some(v.trim().to_string()),
            Some(("pid", v)) => pid = v.trim().parse().ok(),
            Some(("started", v)) => started = Some(v.trim().to_string()),
            Some(("pid_start", v)) => info.pid_start = v.trim().parse().ok(),
            Some(("boot_id", v)) => info.boot_id = Some(v.trim().to_string()),
            Some(("pid_ns", v)) => info.pid_ns = Some(v.trim().to_string()),
            _ => {}
        }
    }
    (host, pid, started, info)
}

/// Parses a `holder` file; None if a line is missing or the pid is not a number.
pub(crate) fn parse_holder(text: &str) -> Option<LockInfo> {
    let (host, pid, started, info) = fields(text.lines());
    Some(LockInfo {
        holder_host: host?,
        pid: pid?,
        started: started?,
        ..info
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
    let (host, pid, started, rest) = fields(lines);
    let info = LockInfo {
        holder_host: host.unwrap_or_default(),
        pid: pid.unwrap_or(0),
        started: started.unwrap_or_default(),
        ..rest
    };
    let warning = (info.holder_host.is_empty() || pid.is_none())
        .then(|| INCOMPLETE_HOLDER_WARNING.to_string());
    (Some(info), warning)
}

/// The facts warning for a lock directory without a complete holder (apply removes
/// exactly this warning when the lock is its own, nothing that merely mentions a lock).
pub const INCOMPLETE_HOLDER_WARNING: &str = "apply lock directory exists but its holder is missing or incomplete (an apply is taking it, or one died)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_text_parses_back() {
        let h = LockInfo {
            holder_host: "ops1".into(),
            pid: 4242,
            started: "2026-11-23T09:02:30Z".into(),
            ..LockInfo::default()
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
    fn finding_18_the_holder_names_its_process_and_parses_back() {
        let me = this_holder();
        assert_eq!(parse_holder(&holder_text(&me)), Some(me.clone()));
        if cfg!(target_os = "linux") {
            assert_eq!(me.pid_start, process_start(std::process::id()));
            assert!(me.pid_start.is_some() && me.boot_id.is_some() && me.pid_ns.is_some());
        }
        let h = parse_holder(
            "host=ops1\npid=7\nstarted=2026-11-23T09:02:30Z\npid_start=123\nboot_id=ab-cd\npid_ns=pid:[4026531836]\n",
        )
        .unwrap();
        assert_eq!(h.pid_start, Some(123));
        assert_eq!(h.boot_id.as_deref(), Some("ab-cd"));
        assert_eq!(h.pid_ns.as_deref(), Some("pid:[4026531836]"));
    }

    #[test]
    fn finding_18_stat_start_time_is_field_22_even_with_odd_names() {
        let tail = "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21";
        assert_eq!(parse_stat_start(&format!("42 (sh) {tail}")), Some(987_654));
        assert_eq!(
            parse_stat_start(&format!("42 (a) b) 1 2 (c) {tail}")),
            Some(987_654),
            "a command name with spaces and parentheses"
        );
        assert_eq!(parse_stat_start("42 (sh) S 1 2"), None);
        assert_eq!(parse_stat_start("garbage"), None);
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
