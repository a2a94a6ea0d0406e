//! Malformed input never panics: random bytes and random mutations of every example
//! (byte flips, truncations, line deletions and duplications) in both formats. Any
//! failure yields at least one error diagnostic whose spans lie inside the text.

use std::path::Path;

use brickyard::config::{self, Format, Loaded};
use proptest::prelude::*;

fn examples() -> Vec<(Format, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if let Some(f) = Format::from_path(&p) {
            out.push((f, std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

fn check(bytes: &[u8], format: Format) -> Loaded {
    let loaded = config::parse_bytes("fuzz", bytes, format);
    let text_len = String::from_utf8_lossy(bytes).len();
    assert_eq!(loaded.desired.is_some(), !loaded.has_errors());
    if loaded.has_errors() {
        let first = loaded.diagnostics.iter().find(|d| d.is_error()).unwrap();
        assert!(
            !first.labels.is_empty(),
            "error without a location: {}",
            first.message
        );
    }
    for d in &loaded.diagnostics {
        for l in &d.labels {
            assert!(
                l.span.start <= l.span.end && l.span.end <= text_len,
                "{}: {:?}",
                d.message,
                l.span
            );
        }
    }
    // rendering must not panic either
    let _ = loaded.render(100, false);
    let _ = loaded.to_json();
    loaded
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    Insert(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (
            any::<usize>(),
            prop::sample::select(b"{}[]\":=#\n -,&*!|>'$\\\t".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    let n = bytes.len();
    match *m {
        Mutation::Flip(i, b) => bytes[i % n] = b,
        Mutation::Truncate(i) => bytes.truncate(i % n),
        Mutation::Insert(i, b) => bytes.insert(i % n, b),
        Mutation::DeleteLine(i) | Mutation::DuplicateLine(i) => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let k = i % lines.len();
            if matches!(m, Mutation::DeleteLine(_)) {
                lines.remove(k);
            } else {
                let dup = lines[k].clone();
                lines.insert(k, dup);
            }
            bytes = lines.join(&b'\n');
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), hcl in any::<bool>()) {
        check(&bytes, if hcl { Format::Hcl } else { Format::Yaml });
    }

    #[test]
    fn mutated_examples_never_panic(
        pick in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
        swap_format in any::<bool>(),
    ) {
        let all = examples();
        let (format, bytes) = &all[pick.index(all.len())];
        let bytes = muts.iter().fold(bytes.clone(), apply);
        let format = match (format, swap_format) {
            (f, false) => *f,
            (Format::Yaml, true) => Format::Hcl,
            (Format::Hcl, true) => Format::Yaml,
        };
        check(&bytes, format);
    }
}

#[test]
fn unmutated_examples_pass_the_same_checks() {
    for (format, bytes) in examples() {
        assert!(!check(&bytes, format).has_errors());
    }
}
