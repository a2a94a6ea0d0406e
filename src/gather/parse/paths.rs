//! Declared directory-brick paths: existence and the brick directories two levels down
//! with their kind and ownership mark (`path:P`), the filesystem holding them (`pathfs:P`,
//! findmnt -T) and its bytes (`df:P`, df -B1).

use super::json;
use crate::gather::model::{BrickDir, BrickDirKind};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PathListing {
    pub exists: bool,
    pub bricks: Vec<BrickDir>,
}

/// `exists=yes|no`, then per entry `brick=PATH` followed by its `type=`; then, for each
/// directory that carries an ownership mark, `marked=PATH` followed by its `mark=` (one
/// getfattr for all of them; a `mark=` right after an entry's `type=`, as older probes
/// printed it, belongs to that entry). An entry whose type never came is not known to be
/// a directory, so it counts as `other`; a `marked=` naming no listed entry marks
/// nothing. Lines of older probes (`dir=`, one level) name no brick directory and are
/// ignored.
pub fn listing(text: &str) -> PathListing {
    let mut out = PathListing::default();
    // the entry the next `type=` or `mark=` line is about
    let mut current: Option<usize> = None;
    for l in text.lines() {
        if l == "exists=yes" {
            out.exists = true;
        } else if let Some(p) = l.strip_prefix("brick=") {
            out.bricks.push(BrickDir {
                path: p.to_string(),
                kind: BrickDirKind::Other,
                mark: None,
            });
            current = Some(out.bricks.len() - 1);
        } else if let Some(p) = l.strip_prefix("marked=") {
            current = out.bricks.iter().position(|b| b.path == p);
        } else if let Some(t) = l.strip_prefix("type=") {
            if let Some(b) = current.and_then(|i| out.bricks.get_mut(i)) {
                b.kind = match t {
                    "directory" => BrickDirKind::Directory,
                    "symlink" => BrickDirKind::Symlink,
                    _ => BrickDirKind::Other,
                };
            }
        } else if let Some(m) = l.strip_prefix("mark=")
            && let Some(b) = current.and_then(|i| out.bricks.get_mut(i))
        {
            b.mark = Some(m.to_string());
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

    fn dir(path: &str, kind: BrickDirKind, mark: Option<&str>) -> BrickDir {
        BrickDir {
            path: path.into(),
            kind,
            mark: mark.map(str::to_string),
        }
    }

    /// What `path_facts` in probe.sh prints (run with dash on a scratch tree: a marked
    /// brick, an unmarked one, a symlink, a file, a mark with a space in it).
    #[test]
    fn brick_dirs_two_levels_with_kind_and_mark() {
        let text = "exists=yes\n\
            brick=/b/gv0/s0p0\ntype=directory\nmark=prod/gv0/s0p0\n\
            brick=/b/gv0/s0p1\ntype=directory\n\
            brick=/b/gv0/s1p0\ntype=symlink\n\
            brick=/b/gv0/s2p0\ntype=other\n\
            brick=/b/gv1/s0p0\ntype=directory\nmark=<unsafe>\n\
            brick=/b/gv1/s0p1\n";
        let l = listing(text);
        assert!(l.exists);
        assert_eq!(
            l.bricks,
            vec![
                dir(
                    "/b/gv0/s0p0",
                    BrickDirKind::Directory,
                    Some("prod/gv0/s0p0")
                ),
                dir("/b/gv0/s0p1", BrickDirKind::Directory, None),
                dir("/b/gv0/s1p0", BrickDirKind::Symlink, None),
                dir("/b/gv0/s2p0", BrickDirKind::Other, None),
                dir("/b/gv1/s0p0", BrickDirKind::Directory, Some("<unsafe>")),
                // no type line (a cut-off listing): not known to be a directory
                dir("/b/gv1/s0p1", BrickDirKind::Other, None),
            ]
        );
        assert_eq!(listing("exists=no\n"), PathListing::default());
    }

    /// What `path_facts` prints now (dash, the same scratch tree as the test above, with
    /// a symlink and a file): the listing first, then the marks of one getfattr.
    #[test]
    fn marks_after_the_listing_find_their_entries() {
        let text = "exists=yes\n\
            brick=/b/gv0/s0p0\ntype=directory\n\
            brick=/b/gv0/s0p1\ntype=directory\n\
            brick=/b/gv1/s2p0\ntype=symlink\n\
            brick=/b/gv2/s0p0\ntype=other\n\
            marked=/b/gv0/s0p0\nmark=lab/gv0/s0p0\n\
            marked=/b/gv0/s0p1\nmark=<unsafe>\n\
            marked=/b/elsewhere/s0p0\nmark=lab/x/s0p0\n";
        let l = listing(text);
        assert_eq!(
            l.bricks,
            vec![
                dir("/b/gv0/s0p0", BrickDirKind::Directory, Some("lab/gv0/s0p0")),
                dir("/b/gv0/s0p1", BrickDirKind::Directory, Some("<unsafe>")),
                dir("/b/gv1/s2p0", BrickDirKind::Symlink, None),
                dir("/b/gv2/s0p0", BrickDirKind::Other, None),
            ],
            "a mark for a directory that was not listed marks nothing"
        );
    }

    #[test]
    fn paths_df_and_fs() {
        let l = listing("exists=yes\ndir=/b/gv0\n");
        assert!(l.exists);
        assert_eq!(
            l.bricks,
            vec![],
            "an old probe's one-level listing names no brick"
        );
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
