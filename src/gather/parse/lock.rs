//! The apply lock (`/var/lib/brickyard/lock` with its `holder` file of `host=`, `pid=`,
//! `started=` lines; see src/apply/lock.rs). A lock directory without a readable holder
//! is still a lock: an apply is taking it, or one died halfway.

use crate::gather::model::LockInfo;

/// None when no lock; otherwise the holder (fields empty/0 when unknown) and an optional warning.
pub fn parse(text: &str) -> (Option<LockInfo>, Option<String>) {
    let mut lines = text.lines();
    if lines.next() != Some("dir=yes") {
        return (None, None);
    }
    let mut info = LockInfo {
        holder_host: String::new(),
        pid: 0,
        started: String::new(),
    };
    let mut pid_ok = false;
    for l in lines {
        if let Some(h) = l.strip_prefix("host=") {
            info.holder_host = h.trim().to_string();
        } else if let Some(p) = l.strip_prefix("pid=") {
            if let Ok(p) = p.trim().parse() {
                info.pid = p;
                pid_ok = true;
            }
        } else if let Some(s) = l.strip_prefix("started=") {
            info.started = s.trim().to_string();
        }
    }
    let warning = (info.holder_host.is_empty() || !pid_ok).then(|| {
        "apply lock directory exists but its holder is missing or incomplete (an apply is taking it, or one died)".to_string()
    });
    (Some(info), warning)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_states() {
        assert_eq!(super::parse("dir=no\n"), (None, None));
        let (l, w) = super::parse("dir=yes\nhost=ops1\npid=42\nstarted=2026-11-23T09:00:00Z\n");
        let l = l.unwrap();
        assert_eq!((l.holder_host.as_str(), l.pid), ("ops1", 42));
        assert!(w.is_none());
        let (l, w) = super::parse("dir=yes\n");
        assert!(l.is_some() && w.is_some());
    }
}
