//! brickyard's own /etc/fstab lines: those whose options carry the `x-brickyard.*` marker
//! (the probe greps for "brickyard"; comment lines and malformed lines are skipped here).

use crate::gather::model::FstabEntry;

/// Entries plus warnings for marked lines that are not valid fstab entries.
pub fn parse(text: &str) -> (Vec<FstabEntry>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        if f.len() < 4 {
            warnings.push(format!("fstab: malformed line {t:?}"));
            continue;
        }
        out.push(FstabEntry {
            source: f[0].to_string(),
            target: f[1].to_string(),
            fstype: f[2].to_string(),
            options: f[3].to_string(),
            line: line.to_string(),
        });
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_comments_and_junk() {
        let (e, w) = super::parse(
            "/dev/by_vdb/brick_gv_0_0 /var/lib/brickyard/mounts/by_vdb/brick_gv_0_0 xfs rw,inode64,noatime,nouuid,x-brickyard.cluster=lab 0 0\n# brickyard notes\nbrickyard\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].fstype, "xfs");
        assert_eq!(w.len(), 1);
    }
}
