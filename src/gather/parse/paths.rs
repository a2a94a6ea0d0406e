//! Declared directory-brick paths: existence and subdirectories (`path:P`), the filesystem
//! holding them (`pathfs:P`, findmnt -T) and its bytes (`df:P`, df -B1).

use super::json;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PathListing {
    pub exists: bool,
    pub dirs: Vec<String>,
}

pub fn listing(text: &str) -> PathListing {
    let mut out = PathListing::default();
    for l in text.lines() {
        if l == "exists=yes" {
            out.exists = true;
        } else if let Some(d) = l.strip_prefix("dir=") {
            out.dirs.push(d.to_string());
        }
    }
    out
}

/// (mount target, fstype) of `findmnt -J -b -T PATH -o TARGET,SOURCE,FSTYPE`.
pub fn filesystem(text: &str) -> Result<(String, Option<String>), String> {
    let v = json::parse(text, "findmnt -T")?;
    let fs = json::array(&v, "filesystems", "findmnt -T")?
        .first()
        .ok_or("findmnt -T: no filesystem")?;
    Ok((
        json::nonempty(fs, "target").ok_or("findmnt -T: no target")?,
        json::nonempty(fs, "fstype"),
    ))
}

/// (total, free) bytes from `df -B1 --output=size,avail,target PATH`.
pub fn df(text: &str) -> Result<(u64, u64), String> {
    let row = text
        .lines()
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .ok_or("df: no data row")?;
    let mut f = row.split_whitespace();
    let total = f.next().and_then(|s| s.parse().ok());
    let free = f.next().and_then(|s| s.parse().ok());
    match (total, free) {
        (Some(t), Some(a)) => Ok((t, a)),
        _ => Err(format!("df: cannot read sizes from {row:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_df_and_fs() {
        let l = listing("exists=yes\ndir=/b/gv0\n");
        assert!(l.exists);
        assert_eq!(l.dirs, vec!["/b/gv0".to_string()]);
        assert_eq!(
            df(" 1B-blocks      Avail Mounted on\n4278190080 4244307968 /bricks/d0\n").unwrap(),
            (4278190080, 4244307968)
        );
        assert!(df("header only\n").is_err());
        assert!(df("h\nx y z\n").is_err());
        assert_eq!(
            filesystem(r#"{"filesystems":[{"target":"/b","source":"/dev/loop1","fstype":"xfs"}]}"#)
                .unwrap(),
            ("/b".to_string(), Some("xfs".to_string()))
        );
    }
}
