//! The node's cluster identity record, `/var/lib/brickyard/cluster-id`: one line
//! `<cluster-name> <cluster-id>`, written by a plan's "record cluster identity" step.
//! The record is what tells two deployments that share a cluster name apart, so the
//! parser is strict: anything but exactly that line is an error (the node's identity is
//! then unknown, and the planner touches nothing on it), never a guess.

use crate::config::names;
use crate::transport::shell::truncate;

/// Where a node records the identity of the cluster it belongs to. The probe reads it
/// (`probe.sh`, `cluster_id_facts`), the planner's record step writes it.
pub const FILE: &str = "/var/lib/brickyard/cluster-id";

/// The record's text for (name, id): the exact bytes the record step writes and its
/// guard compares.
pub fn line(name: &str, id: &str) -> String {
    format!("{name} {id}\n")
}

/// The `cluster_id` section: empty = no record; otherwise exactly `NAME ID` with one
/// optional final newline, NAME a valid cluster name and ID 32 lowercase hex digits.
pub fn parse(text: &str) -> Result<Option<(String, String)>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let shown = || format!("{:?}", truncate(text, 80));
    if body.contains('\n') {
        return Err(format!("{FILE} has more than one line: {}", shown()));
    }
    let Some((name, id)) = body.split_once(' ') else {
        return Err(format!(
            "{FILE} is not `<cluster-name> <cluster-id>`: {}",
            shown()
        ));
    };
    if names::cluster_name(name).is_err() {
        return Err(format!(
            "{FILE} names no valid cluster (`{}`): {}",
            truncate(&name.escape_debug().to_string(), 80),
            shown()
        ));
    }
    if !names::is_cluster_id(id) {
        return Err(format!(
            "{FILE} holds no valid cluster id ({} lowercase hex digits expected): {}",
            names::CLUSTER_ID_LEN,
            shown()
        ));
    }
    Ok(Some((name.to_string(), id.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2a9c0d5e6b47a8b1c2d3e4f5a6b7c8";

    #[test]
    fn reads_the_record_it_writes() {
        let text = line("prod", ID);
        assert_eq!(parse(&text), Ok(Some(("prod".to_string(), ID.to_string()))));
        assert_eq!(
            parse(text.trim_end()),
            Ok(Some(("prod".to_string(), ID.to_string())))
        );
        assert_eq!(parse(""), Ok(None));
    }

    #[test]
    fn anything_else_is_an_error() {
        for bad in [
            "\n",
            "prod\n",
            &format!("prod  {ID}\n"),
            &format!("prod {ID} extra\n"),
            &format!("prod {ID}\n\n"),
            &format!("prod {ID}\r\n"),
            &format!("prod {}\n", ID.to_uppercase()),
            &format!("prod {}\n", &ID[..31]),
            &format!("prod {ID}0\n"),
            &format!("-prod {ID}\n"),
            &format!("pr\u{1b}[2Jod {ID}\n"),
            &format!("prod {ID}\nprod {ID}\n"),
            &format!(" prod {ID}\n"),
        ] {
            let r = parse(bad);
            assert!(r.is_err(), "{bad:?} -> {r:?}");
            assert!(!r.unwrap_err().contains('\u{1b}'), "escaped: {bad:?}");
        }
    }
}
