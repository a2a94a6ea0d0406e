//! The `heal_index` section: per brick directory on this node, the number of entries in
//! its heal index (`.glusterfs/indices/{xattrop,dirty,entry-changes}`), which is what
//! gluster's self-heal works through and `heal info` reports as pending. One line per
//! brick, `brick=<path> pending=<count>`; a line brickyard's probe would not print makes
//! the section an error (the heal state is then unknown, never "nothing pending").

use std::collections::BTreeMap;

use crate::transport::shell::truncate;

pub fn parse(text: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let bad = || format!("heal index: unexpected line {:?}", truncate(line, 120));
        let rest = line.strip_prefix("brick=").ok_or_else(bad)?;
        let (path, n) = rest.rsplit_once(" pending=").ok_or_else(bad)?;
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            return Err(bad());
        }
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        out.insert(path.to_string(), n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn counts_per_brick() {
        let m = parse("brick=/bricks/d0/rep/s0p0 pending=0\nbrick=/var/lib/brickyard/mounts/by_vdb/brick_g_0_1/brick pending=  12\n").unwrap();
        assert_eq!(m["/bricks/d0/rep/s0p0"], 0);
        assert_eq!(m["/var/lib/brickyard/mounts/by_vdb/brick_g_0_1/brick"], 12);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn anything_else_is_an_error() {
        for t in [
            "brick=/a pending=x",
            "brick=relative pending=1",
            "pending=1",
            "brick=/a b pending=1",
            "brick=/a pending=-1",
        ] {
            assert!(parse(t).is_err(), "{t}");
        }
    }
}
