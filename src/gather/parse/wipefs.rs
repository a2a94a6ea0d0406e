//! `wipefs --no-act -J DEVICE`: signatures on a declared device. wipefs prints nothing at
//! all when there is no signature, which is the normal state of an unused disk.

use super::json;
use crate::gather::model::Signature;

pub fn parse(text: &str) -> Result<Vec<Signature>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let v = json::parse(text, "wipefs")?;
    json::array(&v, "signatures", "wipefs")?
        .iter()
        .map(|s| {
            Ok(Signature {
                kind: json::nonempty(s, "type").ok_or("wipefs: signature without type")?,
                offset: json::str_of(s, "offset").unwrap_or_default(),
                uuid: json::nonempty(s, "uuid"),
                label: json::nonempty(s, "label"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_clean() {
        assert_eq!(parse("\n").unwrap(), vec![]);
        let s = parse(r#"{"signatures":[{"device":"vdb","offset":"0x0","type":"xfs","uuid":"u","label":null}]}"#).unwrap();
        assert_eq!(s[0].kind, "xfs");
        assert_eq!(s[0].label, None);
        assert!(parse("{").is_err());
    }
}
