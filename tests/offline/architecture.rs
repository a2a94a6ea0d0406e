//! Keeps the map in docs/architecture.md true: which room may import which, no import
//! cycle between the modules of a room, no source file over 800 lines, and the pure rooms
//! (`config`, `plan`) free of I/O, clock and environment. A static read of `src/`: it
//! fails the moment a change adds an import the table does not allow, so the structure
//! cannot drift back silently.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let p = e.expect("readable directory entry").path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Path components of `p` below `src/`, e.g. `["plan", "volume", "create.rs"]`.
fn parts(p: &Path) -> Vec<String> {
    p.strip_prefix(root().join("src"))
        .expect("a file under src/")
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect()
}

/// The code of a file that is not a unit test: files named `tests.rs` are tests, and by
/// convention a file's `#[cfg(test)]` module comes last.
fn non_test_code(p: &Path) -> Option<String> {
    if p.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let code = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    // comments may name other rooms freely
    Some(
        code.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn idents_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let after = &rest[i + prefix.len()..];
        if let Some(inner) = after.strip_prefix('{') {
            // `prefix{a, b::c, d}`: the first name of each item
            let end = inner.find('}').unwrap_or(inner.len());
            for item in inner[..end].split(',') {
                let name: &str = item
                    .trim()
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("");
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end > 0 {
                out.push(&after[..end]);
            }
        }
        rest = after;
    }
    out
}

/// The top-level rooms and the rooms each may import (docs/architecture.md). `a::b`
/// allows only that module of room `a`: the pure rooms may use transport's quoting
/// (`transport::shell`), never a transport.
const ALLOWED: &[(&str, &[&str])] = &[
    ("units", &[]),
    ("config", &["units"]),
    ("transport", &["config"]),
    ("lock", &["transport", "units"]),
    ("gather", &["config", "transport", "lock", "units"]),
    ("plan", &["config", "gather", "transport::shell", "units"]),
    (
        "render",
        &["config", "gather", "plan", "transport::shell", "units"],
    ),
    (
        "apply",
        &[
            "config",
            "gather",
            "plan",
            "transport",
            "lock",
            "units",
            "render::escape",
        ],
    ),
    ("import", &["config", "gather", "plan", "units"]),
];

/// `crate::a::b::..` -> ("a", "a::b") for every use in `code`.
fn room_uses(code: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for room in idents_after(code, "crate::") {
        let sub = idents_after(code, &format!("crate::{room}::"));
        if sub.is_empty() {
            out.insert((room.to_string(), room.to_string()));
        }
        for s in sub {
            out.insert((room.to_string(), format!("{room}::{s}")));
        }
    }
    out
}

#[test]
fn rooms_import_only_what_the_map_allows() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut files = Vec::new();
    rs_files(&root().join("src"), &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let parts = parts(f);
        let room = parts[0].trim_end_matches(".rs");
        let Some(ok) = allowed.get(room) else {
            // lib.rs, main.rs and the binary's cli/ may use everything; a new room
            // must get its row in the map before it gets code
            if !["lib", "main", "cli"].contains(&room) {
                bad.push(format!(
                    "src/{}: room `{room}` is not in the map",
                    parts.join("/")
                ));
            }
            continue;
        };
        let Some(code) = non_test_code(f) else {
            continue;
        };
        for (r, path) in room_uses(&code) {
            if r != room && !ok.contains(&r.as_str()) && !ok.contains(&path.as_str()) {
                bad.push(format!("src/{}: {room} imports {path}", parts.join("/")));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports the map in docs/architecture.md does not allow:\n{}",
        bad.join("\n")
    );
}

/// Edges between the direct submodules of `room` (`src/<room>/<sub>[.rs|/]`).
fn module_edges(room: &str, files: &[PathBuf]) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let parts = parts(f);
        if parts[0] != room || parts.len() < 2 {
            continue;
        }
        let sub = parts[1].trim_end_matches(".rs").to_string();
        if sub == "mod" {
            continue; // the room's mod.rs runs the passes: it may use everything
        }
        let Some(code) = non_test_code(f) else {
            continue;
        };
        let depth = parts.len() - 2; // 0: src/room/sub.rs; 1: src/room/sub/x.rs
        let is_mod = parts.last().is_some_and(|n| n == "mod.rs");
        let mut targets: Vec<&str> = idents_after(&code, &format!("crate::{room}::"));
        // `super::` from src/room/sub.rs or src/room/sub/mod.rs names a sibling of sub;
        // from src/room/sub/x.rs it names sub itself, and `super::super::` a sibling.
        if depth == 0 || (depth == 1 && is_mod) {
            targets.extend(idents_after(&code, "super::"));
        } else if depth == 1 {
            targets.extend(idents_after(&code, "super::super::"));
        }
        let e = edges.entry(sub.clone()).or_default();
        for t in targets {
            if t != sub && t != "super" && t != "self" {
                e.insert(t.to_string());
            }
        }
    }
    edges
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let i = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut c = stack[i..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        let mut stack = Vec::new();
        if let Some(c) = visit(n, edges, &mut state, &mut stack) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_import_cycle_between_the_modules_of_a_room() {
    let mut files = Vec::new();
    rs_files(&root().join("src"), &mut files);
    for (room, _) in ALLOWED {
        let edges = module_edges(room, &files);
        if let Some(c) = find_cycle(&edges) {
            panic!("import cycle in src/{room}: {}", c.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    // the check above must be able to fail
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges
        .entry("volume".into())
        .or_default()
        .insert("diagnose".into());
    edges
        .entry("diagnose".into())
        .or_default()
        .insert("volume".into());
    assert!(find_cycle(&edges).is_some());
    edges.remove("diagnose");
    assert!(find_cycle(&edges).is_none());
    assert_eq!(
        idents_after("use super::{a, b::c};\nuse crate::plan::d;", "super::"),
        ["a", "b"]
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    rs_files(&root().join("src"), &mut files);
    rs_files(&root().join("tests"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).ok()?.lines().count();
            (n > 800).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over 800 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn config_and_plan_do_no_io() {
    // config/mod.rs reads the one config file it is given; nothing else may.
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "std::net::Tcp",
        "std::env",
        "std::process",
        "SystemTime",
        "Instant",
        "tokio",
        "rand::",
    ];
    let mut files = Vec::new();
    rs_files(&root().join("src/config"), &mut files);
    rs_files(&root().join("src/plan"), &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let parts = parts(f);
        if parts == ["config", "mod.rs"] {
            continue;
        }
        let Some(code) = non_test_code(f) else {
            continue;
        };
        for word in FORBIDDEN {
            if code.contains(word) {
                bad.push(format!("src/{}: uses {word}", parts.join("/")));
            }
        }
    }
    assert!(bad.is_empty(), "I/O in a pure room:\n{}", bad.join("\n"));
}
