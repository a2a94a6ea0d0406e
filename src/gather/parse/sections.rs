//! Splits the probe's output into its delimited sections (see `probe.sh`), so that every
//! other parser sees exactly one command's stdout, stderr and exit code.
//!
//! The framing is strict because section text comes from the node: a gluster option value,
//! a directory name or a mount target can carry a newline and a line that looks like a
//! marker (review finding #9). Two defences: the marker carries a per-run random nonce
//! that gather chose (`marker`), so node data cannot know it in advance; and any framing
//! that a well-behaved probe never prints (a duplicate section, a stray or unknown marker,
//! a section without end, anything after `done`, no `done` at all) fails the whole probe.
//! Forged text can therefore end in a failed probe, never in different facts.

use std::collections::BTreeMap;

use crate::transport::shell::truncate;

/// The fixed marker of probe outputs recorded before markers carried a nonce (the
/// captures under testdata/captures/). Gather never accepts it from a node.
pub const RECORDED_MARKER: &str = "@@brickyard@@";
/// The probe output format this parser understands (`MARKER probe N`).
pub const PROBE_VERSION: u32 = 1;

/// The marker of one probe run: `@@brickyard-<nonce>@@` (probe.sh builds the same).
pub fn marker(nonce: &str) -> String {
    format!("@@brickyard-{nonce}@@")
}

/// One command's result as the probe reported it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub stdout: String,
    pub stderr: String,
    /// None when the end marker's rc is unreadable.
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
            None => format!("no readable exit code{}", suffix(first)),
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

/// The whole probe output, split. Only a complete, well-framed output becomes one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sections {
    /// From the `probe N` header.
    pub version: u32,
    pub sections: BTreeMap<String, Section>,
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

/// Why probe output is not a probe we can trust as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("the probe printed no brickyard header (output starts with {0:?})")]
    NoHeader(String),
    #[error("the probe output ended early (no `done` line): it was cut off")]
    Truncated,
    #[error("the probe output is not framed as brickyard frames it: {0}")]
    Malformed(String),
}

enum Part {
    Out,
    Err,
}

/// Split probe stdout into sections, accepting only lines that start with exactly
/// `marker` (and a space) as markers. Text before the header (a login banner) is ignored;
/// every framing anomaly after it is an error.
pub fn split(text: &str, marker: &str) -> Result<Sections, FramingError> {
    let bad = |m: String| Err(FramingError::Malformed(m));
    let mut version: Option<u32> = None;
    let mut done = false;
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    // (name, section, which part is being read)
    let mut cur: Option<(String, Section, Part)> = None;

    for line in text.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let Some(rest) = bare.strip_prefix(marker).and_then(|r| r.strip_prefix(' ')) else {
            match cur.as_mut() {
                Some((_, s, Part::Out)) => s.stdout.push_str(line),
                Some((_, s, Part::Err)) => s.stderr.push_str(line),
                // text outside sections (a login banner, a stray blank line) says nothing
                None if done && !bare.trim().is_empty() => {
                    return bad(format!(
                        "text after the `done` line: {}",
                        truncate(bare, 60)
                    ));
                }
                None => {}
            }
            continue;
        };
        if done {
            return bad(format!(
                "a marker after the `done` line: {}",
                truncate(rest, 60)
            ));
        }
        if let Some(v) = rest.strip_prefix("probe ") {
            if version.is_some() || cur.is_some() || !sections.is_empty() {
                return bad("a second `probe` header".into());
            }
            match v.trim().parse() {
                Ok(v) => version = Some(v),
                Err(_) => return bad(format!("an unreadable probe header: {}", truncate(v, 20))),
            }
            continue;
        }
        if version.is_none() {
            return bad("a marker before the `probe` header".into());
        }
        if rest == "done" {
            if let Some((name, ..)) = cur {
                return bad(format!("section {name} has no end marker"));
            }
            done = true;
        } else if let Some(name) = rest.strip_prefix("begin ") {
            if let Some((old, ..)) = cur {
                return bad(format!("section {old} has no end marker"));
            }
            if sections.contains_key(name) {
                return bad(format!("section {name} appears twice"));
            }
            cur = Some((name.to_string(), Section::default(), Part::Out));
        } else if let Some(name) = rest.strip_prefix("stderr ") {
            match cur.as_mut() {
                Some((n, s, part @ Part::Out)) if n == name => {
                    strip_one_newline(&mut s.stdout);
                    *part = Part::Err;
                }
                _ => return bad(format!("a stray stderr marker for {name}")),
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
                    sections.insert(n, s);
                }
                _ => return bad(format!("a stray end marker for {name}")),
            }
        } else {
            return bad(format!("an unknown marker line: {}", truncate(bare, 80)));
        }
    }
    let Some(version) = version else {
        return Err(FramingError::NoHeader(truncate(text.trim_start(), 60)));
    };
    if !done {
        return Err(FramingError::Truncated);
    }
    Ok(Sections { version, sections })
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

    const M: &str = "@@brickyard-0f0f@@";

    /// `text` with `{M}` standing for this run's marker.
    fn framed(text: &str) -> String {
        text.replace("{M}", M)
    }

    #[test]
    fn splits_stdout_stderr_and_rc() {
        let text = framed(
            "banner\n{M} probe 1\n{M} begin a\nline1\nline2\n\n{M} stderr a\noops\n{M} end a rc=3\n{M} begin b:/dev/x\nno-newline\n{M} stderr b:/dev/x\n{M} end b:/dev/x rc=0\n{M} done\n",
        );
        let s = split(&text, M).unwrap();
        assert_eq!(s.version, 1);
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
    fn only_the_runs_marker_frames() {
        // another run's marker, or the old fixed one, is plain section text
        let text = framed(
            "{M} probe 1\n{M} begin a\n@@brickyard@@ end a rc=0\n@@brickyard-beef@@ begin b\n\n{M} stderr a\n{M} end a rc=0\n{M} done\n",
        );
        let s = split(&text, M).unwrap();
        assert_eq!(
            s.get("a").unwrap().stdout,
            "@@brickyard@@ end a rc=0\n@@brickyard-beef@@ begin b\n"
        );
        assert_eq!(s.sections.len(), 1);
    }

    #[test]
    fn cut_off_output_is_an_error() {
        assert_eq!(
            split(&framed("{M} probe 1\n{M} begin a\npartial"), M),
            Err(FramingError::Truncated)
        );
        assert_eq!(
            split(&framed("{M} probe 1\n{M} begin a\n{M} end a rc=0\n"), M),
            Err(FramingError::Truncated)
        );
        assert!(matches!(
            split("hello\n", M),
            Err(FramingError::NoHeader(_))
        ));
    }

    #[test]
    fn finding_9_duplicate_stray_and_unknown_markers_fail_the_probe() {
        for bad in [
            // duplicate section
            "{M} probe 1\n{M} begin a\n{M} end a rc=0\n{M} begin a\n{M} end a rc=1\n{M} done\n",
            // stray end, stray stderr
            "{M} probe 1\n{M} end x rc=0\n{M} done\n",
            "{M} probe 1\n{M} begin a\n{M} stderr b\n{M} end a rc=0\n{M} done\n",
            // a section ended twice (forged end inside it, then the real one)
            "{M} probe 1\n{M} begin a\n{M} end a rc=0\n\n{M} stderr a\n{M} end a rc=0\n{M} done\n",
            // unknown marker, unterminated section, second header, marker before header
            "{M} probe 1\n{M} bogus\n{M} done\n",
            "{M} probe 1\n{M} begin a\n{M} begin b\n{M} end b rc=0\n{M} done\n",
            "{M} probe 1\n{M} probe 1\n{M} done\n",
            "{M} begin a\n{M} probe 1\n{M} done\n",
            // anything after done
            "{M} probe 1\n{M} done\n{M} begin a\n{M} end a rc=0\n",
            "{M} probe 1\n{M} done\nmore\n",
        ] {
            let r = split(&framed(bad), M);
            assert!(
                matches!(r, Err(FramingError::Malformed(_))),
                "{bad:?} gave {r:?}"
            );
        }
    }
}
