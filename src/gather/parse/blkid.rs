//! `blkid -c /dev/null -p -o export DEVICE`: KEY=VALUE lines (TYPE, UUID, LABEL, PTTYPE...).
//! Exit code 2 means "nothing found", which is an empty map, not a failure.

use std::collections::BTreeMap;

pub fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_and_values() {
        let m = super::parse("DEVNAME=/dev/vdb\nUUID=abc\nTYPE=xfs\njunk line\n=x\n");
        assert_eq!(m.get("TYPE").map(String::as_str), Some("xfs"));
        assert_eq!(m.len(), 3);
    }
}
