//! Splits the probe's output into its delimited sections (see `probe.sh`), so that every
//! other parser sees exactly one command's stdout, stderr and exit code.

use std::collections::BTreeMap;

use crate::transport::shell::truncate;

pub const MARKER: &str = "@@brickyard@@";
/// The probe output format this parser understands (`@@brickyard@@ probe N`).
pub const PROBE_VERSION: u32 = 1;

/// One command's result as the probe reported it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub stdout: String,
    pub stderr: String,
    /// None when the end marker is missing (probe cut off) or its rc is unreadable.
    pub rc: Option<i32>,
}

impl Section {
    pub fn ok(&self) -> bool {
        self.rc == Some(0)
    }
    /// A short reason for a failed section: its stderr (or stdout) first line and rc.
    pub fn failure(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            self.stdout.trim()
        } else {
            self.stderr.trim()
        };
        let first = text.lines().next().unwrap_or("").trim();
        match self.rc {
            Some(127) => format!("command not found (rc=127){}", suffix(first)),
            Some(rc) => format!("rc={rc}{}", suffix(first)),
            None => format!("no exit code (probe output cut off){}", suffix(first)),
        }
    }
}

fn suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

/// The whole probe output, split.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sections {
    /// From the `probe N` header; None when the header was not found.
    pub version: Option<u32>,
    /// The `done` trailer was seen: the probe ran to its end.
    pub complete: bool,
    pub sections: BTreeMap<String, Section>,
    /// Structural problems (duplicate or unterminated sections, stray markers).
    pub warnings: Vec<String>,
}

impl Sections {
    pub fn get(&self, name: &str) -> Option<&Section> {
        self.sections.get(name)
    }

    /// Sections named `prefix:ARG`, as (ARG, section).
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Section)> {
        self.sections.iter().filter_map(move |(k, v)| {
            k.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(|arg| (arg, v))
        })
    }
}

enum Part {
    Out,
    Err,
}

/// Split probe stdout into sections. Never fails: anything odd becomes a warning.
pub fn split(text: &str) -> Sections {
    let mut out = Sections::default();
    // (name, section, which part is being read)
    let mut cur: Option<(String, Section, Part)> = None;

    for line in text.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let Some(rest) = bare.strip_prefix(MARKER).and_then(|r| r.strip_prefix(' ')) else {
            match cur.as_mut() {
                Some((_, s, Part::Out)) => s.stdout.push_str(line),
                Some((_, s, Part::Err)) => s.stderr.push_str(line),
                None => {} // text outside sections (e.g. a login banner) is ignored
            }
            continue;
        };
        if let Some(v) = rest.strip_prefix("probe ") {
            out.version = v.trim().parse().ok();
        } else if rest == "done" {
            if let Some((name, s, _)) = cur.take() {
                out.warnings
                    .push(format!("section {name} has no end marker"));
                insert(&mut out, name, s);
            }
            out.complete = true;
        } else if let Some(name) = rest.strip_prefix("begin ") {
            if let Some((old, s, _)) = cur.take() {
                out.warnings
                    .push(format!("section {old} has no end marker"));
                insert(&mut out, old, s);
            }
            cur = Some((name.to_string(), Section::default(), Part::Out));
        } else if let Some(name) = rest.strip_prefix("stderr ") {
            match cur.as_mut() {
                Some((n, s, part @ Part::Out)) if n == name => {
                    strip_one_newline(&mut s.stdout);
                    *part = Part::Err;
                }
                _ => out.warnings.push(format!("stray stderr marker for {name}")),
            }
        } else if let Some(tail) = rest.strip_prefix("end ") {
            let (name, rc) = match tail.rsplit_once(" rc=") {
                Some((n, rc)) => (n, rc.trim().parse::<i32>().ok()),
                None => (tail, None),
            };
            match cur.take() {
                Some((n, mut s, part)) if n == name => {
                    if let Part::Out = part {
                        strip_one_newline(&mut s.stdout);
                    }
                    strip_one_newline(&mut s.stderr);
                    s.rc = rc;
                    insert(&mut out, n, s);
                }
                other => {
                    out.warnings.push(format!("stray end marker for {name}"));
                    cur = other;
                }
            }
        } else {
            out.warnings
                .push(format!("unknown marker line: {}", truncate(bare, 80)));
        }
    }
    if let Some((name, s, _)) = cur.take() {
        out.warnings
            .push(format!("section {name} has no end marker"));
        insert(&mut out, name, s);
    }
    out
}

fn insert(out: &mut Sections, name: String, s: Section) {
    match out.sections.entry(name) {
        std::collections::btree_map::Entry::Occupied(e) => out
            .warnings
            .push(format!("duplicate section {}; the first is kept", e.key())),
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(s);
        }
    }
}

/// The probe prints one newline of its own before each stderr/end marker.
fn strip_one_newline(s: &mut String) {
    if s.ends_with('\n') {
        s.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_stdout_stderr_and_rc() {
        let text = "banner\n@@brickyard@@ probe 1\n@@brickyard@@ begin a\nline1\nline2\n\n@@brickyard@@ stderr a\noops\n@@brickyard@@ end a rc=3\n@@brickyard@@ begin b:/dev/x\nno-newline\n@@brickyard@@ stderr b:/dev/x\n@@brickyard@@ end b:/dev/x rc=0\n@@brickyard@@ done\n";
        let s = split(text);
        assert_eq!(s.version, Some(1));
        assert!(s.complete);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let a = s.get("a").unwrap();
        assert_eq!(a.stdout, "line1\nline2\n");
        assert_eq!(a.stderr, "oops");
        assert_eq!(a.rc, Some(3));
        let b = s.get("b:/dev/x").unwrap();
        assert_eq!(b.stdout, "no-newline");
        assert_eq!(b.rc, Some(0));
        assert_eq!(
            s.with_prefix("b").map(|(k, _)| k).collect::<Vec<_>>(),
            vec!["/dev/x"]
        );
    }

    #[test]
    fn cut_off_output_keeps_what_arrived() {
        let s = split("@@brickyard@@ probe 1\n@@brickyard@@ begin a\npartial");
        assert!(!s.complete);
        assert_eq!(s.get("a").unwrap().stdout, "partial");
        assert_eq!(s.get("a").unwrap().rc, None);
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn stray_and_duplicate_markers_are_warnings() {
        let s = split(
            "@@brickyard@@ end x rc=0\n@@brickyard@@ begin a\n@@brickyard@@ stderr a\n@@brickyard@@ end a rc=0\n@@brickyard@@ begin a\n@@brickyard@@ end a rc=1\n@@brickyard@@ bogus\n",
        );
        assert_eq!(s.get("a").unwrap().rc, Some(0));
        assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
    }
}
