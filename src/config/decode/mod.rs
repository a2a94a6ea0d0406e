//! Decoding: the raw tree from either format (with spans) becomes the typed model, one
//! section at a time, reporting every mistake it finds (never stopping at the first).
//! [`Desired`] is built only when there is no error.
//!
//! Like ripgrep's `LowArgs -> HiArgs`: each section decoder turns raw values into typed
//! ones that still carry their spans (e.g. [`nodes::NodeIn`]); the named cross-entity
//! rules in [`super::rules`] run on those; then the spans are dropped and the model is
//! assembled. Name and path rules are in [`super::names`], shared with the planner;
//! defaults are the model's `impl Default`s. docs/config.md lists every rule with its code.

mod cluster;
mod durability;
pub(crate) mod nodes;
mod placement;
mod ssh;
mod volumes;

use super::Format;
use super::diagnostic::{Diagnostic, codes, did_you_mean};
use super::model::Desired;
use super::names::NameError;
use super::raw::{Entry, Kind, Span, Value};
use crate::units::{self, SizeError};

/// Decode and validate a whole config: the model when there is no error, and every
/// finding in the order the file is read.
pub(crate) fn validate(
    root: &Value,
    text: &str,
    format: Format,
) -> (Option<Desired>, Vec<Diagnostic>) {
    let mut v = Decoder {
        text,
        format,
        diags: Vec::new(),
    };
    let desired = v.root(root);
    let has_errors = v.diags.iter().any(Diagnostic::is_error);
    (desired.filter(|_| !has_errors), v.diags)
}

/// The decoding pass: the text (for spans and spellings) and the findings so far.
struct Decoder<'t> {
    text: &'t str,
    format: Format,
    diags: Vec<Diagnostic>,
}

/// The known entries of one map, looked up by field name.
struct Fields<'v> {
    entries: &'v [Entry],
}

impl<'v> Fields<'v> {
    fn get(&self, name: &str) -> Option<&'v Entry> {
        self.entries.iter().find(|e| e.key == name)
    }
}

impl<'t> Decoder<'t> {
    /// Record an error labelled at `span`; the caller may add a help line.
    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        label: &str,
        message: String,
    ) -> &mut Diagnostic {
        self.push(Diagnostic::error(code, message).label(span, label))
    }

    /// Record a warning labelled at `span`; the caller may add a help line.
    fn warn(
        &mut self,
        code: &'static str,
        span: Span,
        label: &str,
        message: String,
    ) -> &mut Diagnostic {
        self.push(Diagnostic::warning(code, message).label(span, label))
    }

    fn push(&mut self, d: Diagnostic) -> &mut Diagnostic {
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn wrong_type(&mut self, what: &str, expected: &str, v: &Value) {
        if v.kind == Kind::Invalid {
            return; // reported by the parser
        }
        let found = v.kind.type_name();
        let d = self.err(
            codes::WRONG_TYPE,
            v.span,
            &format!("expected {expected}"),
            format!("`{what}` must be {expected}, found {found}"),
        );
        if expected == "a string" && matches!(v.kind, Kind::Int(_) | Kind::Float(_)) {
            d.help = Some("put the value in quotes".to_string());
        }
        if let Kind::Str(s) = &v.kind {
            let unquoted = (expected.contains("integer") && s.trim().parse::<i64>().is_ok())
                || (expected.contains("boolean") && ["true", "false"].contains(&s.trim()));
            if unquoted {
                d.help = Some(format!("remove the quotes: {}", s.trim()));
            }
        }
    }

    /// A map, or nothing (YAML `key:` with no value counts as an empty map).
    fn map<'v>(&mut self, what: &str, v: &'v Value) -> Option<&'v [Entry]> {
        match &v.kind {
            Kind::Map(m) => Some(m),
            Kind::Null => Some(&[]),
            _ => {
                self.wrong_type(what, "a map", v);
                None
            }
        }
    }

    fn fields<'v>(&mut self, section: &str, entries: &'v [Entry], known: &[&str]) -> Fields<'v> {
        for e in entries {
            if known.contains(&e.key.as_str()) {
                continue;
            }
            let mut candidates: Vec<&str> = known.to_vec();
            if self.format == Format::Hcl {
                // HCL users write the block names, so suggest those
                for (block, plural) in [
                    ("node", "nodes"),
                    ("volume", "volumes"),
                    ("device", "devices"),
                    ("path", "paths"),
                ] {
                    if let Some(i) = candidates.iter().position(|c| *c == plural) {
                        candidates.insert(i, block);
                    }
                }
            }
            let help = match did_you_mean(&e.key, &candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known fields here: {}", candidates.join(", ")),
            };
            self.err(
                codes::UNKNOWN_FIELD,
                e.key_span,
                "unknown field",
                format!("unknown field `{}` in {section}", e.key),
            )
            .help = Some(help);
        }
        Fields { entries }
    }

    fn missing(&mut self, section: &str, field: &str, span: Span) {
        self.err(
            codes::MISSING_FIELD,
            span,
            &format!("`{field}` is missing here"),
            format!("{section} has no `{field}`"),
        )
        .help = Some(format!("add `{field}`; it has no default"));
    }

    fn string<'v>(&mut self, what: &str, v: &'v Value) -> Option<&'v str> {
        match &v.kind {
            Kind::Str(s) => Some(s),
            _ => {
                self.wrong_type(what, "a string", v);
                None
            }
        }
    }

    fn boolean(&mut self, what: &str, v: &Value) -> Option<bool> {
        match v.kind {
            Kind::Bool(b) => Some(b),
            _ => {
                self.wrong_type(what, "a boolean (true or false)", v);
                None
            }
        }
    }

    fn integer(&mut self, what: &str, v: &Value, min: i128, max: i128) -> Option<i128> {
        match v.kind {
            Kind::Int(i) if (min..=max).contains(&i) => Some(i),
            Kind::Int(i) => {
                self.err(
                    codes::INVALID_VALUE,
                    v.span,
                    "out of range",
                    format!("`{what}` must be between {min} and {max}, found {i}"),
                );
                None
            }
            _ => {
                self.wrong_type(what, "an integer", v);
                None
            }
        }
    }

    fn choice<'a>(&mut self, what: &str, v: &Value, allowed: &[&'a str]) -> Option<&'a str> {
        let s = self.string(what, v)?;
        if let Some(a) = allowed.iter().find(|a| **a == s) {
            return Some(a);
        }
        let help = match did_you_mean(s, allowed) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!("use one of: {}", allowed.join(", ")),
        };
        self.err(
            codes::INVALID_VALUE,
            v.span,
            "not an allowed value",
            format!(
                "`{what}` must be one of {}, found `{s}`",
                allowed.join(", ")
            ),
        )
        .help = Some(help);
        None
    }

    fn size(&mut self, what: &str, v: &Value) -> Option<u64> {
        let s = match &v.kind {
            Kind::Str(s) => s,
            Kind::Int(_) | Kind::Float(_) => {
                let written = self.source_text(v.span).trim().to_string();
                self.err(
                    codes::INVALID_SIZE,
                    v.span,
                    "a bare number",
                    format!("`{what}` needs a unit"),
                )
                .help = Some(format!(
                    "add a unit like GiB: `{written}GiB` (binary KiB/MiB/GiB/TiB or decimal KB/MB/GB/TB)"
                ));
                return None;
            }
            _ => {
                self.wrong_type(what, "a size like `100GiB`", v);
                return None;
            }
        };
        match units::parse_size(s) {
            Ok(b) => Some(b),
            Err(e) => {
                let help = match &e {
                    SizeError::NoUnit(n) => format!("add a unit like GiB: `{}GiB`", n.trim()),
                    SizeError::UnknownUnit(_, u) => {
                        let units = [
                            "B", "KiB", "MiB", "GiB", "TiB", "PiB", "KB", "MB", "GB", "TB", "PB",
                        ];
                        match did_you_mean(u, &units) {
                            Some(m) => format!(
                                "did you mean `{m}`? units: KiB, MiB, GiB, TiB, KB, MB, GB, TB"
                            ),
                            None => {
                                "units: KiB, MiB, GiB, TiB (binary) or KB, MB, GB, TB (decimal)"
                                    .to_string()
                            }
                        }
                    }
                    SizeError::Zero(_) => "a size must be more than zero".to_string(),
                    _ => "write a number followed by a unit, e.g. `100GiB`".to_string(),
                };
                self.err(
                    codes::INVALID_SIZE,
                    v.span,
                    "invalid size",
                    format!("`{what}`: {e}"),
                )
                .help = Some(help);
                None
            }
        }
    }

    fn source_text(&self, span: Span) -> &'t str {
        let s = span.clamp_to(self.text);
        &self.text[s.start..s.end]
    }

    /// Report a cluster, node or tag name refused by its [`super::names`] rule.
    fn name_checked(
        &mut self,
        what: &str,
        name: &str,
        span: Span,
        rule: Result<(), NameError>,
    ) -> bool {
        let Err(e) = rule else { return true };
        self.err(
            codes::INVALID_NAME,
            span,
            "invalid name",
            format!("{what} `{}` {}", printable(name), e.why()),
        )
        .help = Some(super::names::safe_name_help());
        false
    }
}

/// A name as shown in a message: control characters escaped so a hostile config
/// cannot rewrite the terminal.
fn printable(s: &str) -> String {
    s.chars()
        .flat_map(char::escape_default)
        .collect::<String>()
        .replace("\\'", "'")
        .replace("\\\"", "\"")
}

#[cfg(test)]
mod tests;
