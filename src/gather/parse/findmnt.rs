//! `findmnt -J -l -b`: mounts (all, without sizes) and sizes of local block filesystems
//! (queried separately so that a hung network mount cannot hang the probe's statfs).

use super::json;
use crate::gather::model::Mount;

pub fn mounts(text: &str) -> Result<Vec<Mount>, String> {
    let v = json::parse(text, "findmnt")?;
    json::array(&v, "filesystems", "findmnt")?
        .iter()
        .map(|f| {
            Ok(Mount {
                target: json::nonempty(f, "target").ok_or("findmnt: entry without target")?,
                source: json::str_of(f, "source").unwrap_or_default(),
                fstype: json::str_of(f, "fstype").unwrap_or_default(),
                options: json::str_of(f, "options").unwrap_or_default(),
                size: json::u64_of(f, "size"),
                avail: json::u64_of(f, "avail"),
            })
        })
        .collect()
}

/// Add sizes from the `findmnt_df` listing to mounts with the same target.
pub fn merge_sizes(mounts: &mut [Mount], sized: &[Mount]) {
    for m in mounts.iter_mut() {
        if let Some(s) = sized.iter().find(|s| s.target == m.target) {
            m.size = s.size.or(m.size);
            m.avail = s.avail.or(m.avail);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_merge_by_target() {
        let mut m = mounts(
            r#"{"filesystems":[{"target":"/b","source":"/dev/x","fstype":"xfs","options":"rw"}]}"#,
        )
        .unwrap();
        let s = mounts(r#"{"filesystems":[{"target":"/b","size":10,"avail":"4"}]}"#).unwrap();
        merge_sizes(&mut m, &s);
        assert_eq!((m[0].size, m[0].avail), (Some(10), Some(4)));
        assert!(mounts(r#"{"filesystems":[{}]}"#).is_err());
    }
}
