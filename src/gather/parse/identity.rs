//! Small text sections: glusterd.info, tool versions, glusterd's pid file.

/// `UUID=...` from /var/lib/glusterd/glusterd.info.
pub fn glusterd_uuid(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("UUID="))
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
}

/// "glusterfs 10.3" (first line of `gluster --version`) -> "10.3".
pub fn gluster_version(text: &str) -> Option<String> {
    let first = text.lines().next()?.trim();
    first
        .strip_prefix("glusterfs ")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// "  LVM version:     2.03.16(2) (2022-05-18)" -> "2.03.16(2)".
pub fn lvm_version(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("LVM version:"))
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_string)
}

/// First non-empty line, trimmed (hostname, kernel).
pub fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// The probe's `glusterd_pid` line: `pid=N alive=yes comm=glusterd`.
pub fn glusterd_alive(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.contains(&"alive=yes") && words.contains(&"comm=glusterd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_lines() {
        assert_eq!(
            glusterd_uuid("UUID=4b1c\noperating-version=100000\n").as_deref(),
            Some("4b1c")
        );
        assert_eq!(glusterd_uuid("UUID=\n"), None);
        assert_eq!(
            gluster_version("glusterfs 10.3\nRepository").as_deref(),
            Some("10.3")
        );
        assert_eq!(gluster_version("bash: gluster: not found"), None);
        assert_eq!(
            lvm_version("  LVM version:     2.03.16(2) (2022-05-18)\n").as_deref(),
            Some("2.03.16(2)")
        );
        assert!(glusterd_alive("pid=12 alive=yes comm=glusterd\n"));
        assert!(!glusterd_alive("pid=12 alive=no\n"));
        assert!(!glusterd_alive("pid=12 alive=yes comm=bash\n"));
    }
}
