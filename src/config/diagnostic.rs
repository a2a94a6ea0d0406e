//! What the operator sees when a config is wrong: one [`Diagnostic`] per mistake, each
//! with a stable code, the file, labelled spans and a help line. Rendered as a miette
//! report for humans and as JSON for CI (`brickyard validate --format json`).

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};
use serde_json::json;

use super::raw::Span;

/// Stable diagnostic codes; documented in docs/config.md. Never rename one: CI
/// pipelines match on them.
pub mod codes {
    pub const SYNTAX: &str = "brickyard::config::syntax";
    pub const DUPLICATE_KEY: &str = "brickyard::config::duplicate_key";
    pub const UNKNOWN_FIELD: &str = "brickyard::config::unknown_field";
    pub const MISSING_FIELD: &str = "brickyard::config::missing_field";
    pub const WRONG_TYPE: &str = "brickyard::config::wrong_type";
    pub const INVALID_VALUE: &str = "brickyard::config::invalid_value";
    pub const INVALID_SIZE: &str = "brickyard::config::invalid_size";
    pub const INVALID_NAME: &str = "brickyard::config::invalid_name";
    pub const INVALID_VOLUME_NAME: &str = "brickyard::config::invalid_volume_name";
    pub const INVALID_ADDRESS: &str = "brickyard::config::invalid_address";
    pub const INVALID_PATH: &str = "brickyard::config::invalid_path";
    pub const INVALID_DEVICE: &str = "brickyard::config::invalid_device";
    pub const DUPLICATE_DEVICE: &str = "brickyard::config::duplicate_device";
    pub const DUPLICATE_ADDRESS: &str = "brickyard::config::duplicate_address";
    pub const INVALID_REPLICA: &str = "brickyard::config::invalid_replica";
    pub const REPLICA_TWO: &str = "brickyard::config::replica_two";
    pub const INVALID_ARBITER: &str = "brickyard::config::invalid_arbiter";
    pub const INVALID_DISPERSE: &str = "brickyard::config::invalid_disperse";
    pub const DISPERSE_NOT_OPTIMAL: &str = "brickyard::config::disperse_not_optimal";
    pub const INVALID_SNAPSHOT_FACTOR: &str = "brickyard::config::invalid_snapshot_factor";
    pub const NOT_ENOUGH_NODES: &str = "brickyard::config::not_enough_nodes";
    pub const NOT_ENOUGH_ZONES: &str = "brickyard::config::not_enough_zones";
    pub const BRICK_SIZE_RANGE: &str = "brickyard::config::brick_size_range";
    pub const NO_BRICK_SOURCE: &str = "brickyard::config::no_brick_source";
    pub const INVALID_OPTION: &str = "brickyard::config::invalid_option";
    pub const SSH_OPTION: &str = "brickyard::config::ssh_option";
    pub const HCL_EXPRESSION: &str = "brickyard::config::hcl_expression";
    pub const EMPTY_CONFIG: &str = "brickyard::config::empty";
    pub const TOO_LARGE: &str = "brickyard::config::too_large";
    pub const TOO_MANY_FINDINGS: &str = "brickyard::config::too_many_findings";
    pub const NOT_UTF8: &str = "brickyard::config::not_utf8";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One finding about the config. The first label is the primary location.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    pub labels: Vec<Label>,
    /// File name as given by the caller (shown in reports and JSON).
    pub file: Arc<str>,
    src: Option<Arc<NamedSource<Arc<String>>>>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            help: None,
            labels: Vec::new(),
            file: Arc::from(""),
            src: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Attach the file this diagnostic is about; labels are clamped into the text so
    /// a renderer can never index outside it.
    pub fn with_source(mut self, file: &Arc<str>, text: &Arc<String>) -> Diagnostic {
        for l in &mut self.labels {
            l.span = l.span.clamp_to(text);
        }
        self.file = file.clone();
        self.src = Some(Arc::new(NamedSource::new(&**file, text.clone())));
        self
    }

    /// Name only, for findings about a file that could not be read as text.
    pub fn with_file(mut self, file: &str) -> Diagnostic {
        self.file = Arc::from(file);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    fn text(&self) -> Option<&str> {
        self.src.as_ref().map(|s| s.inner().as_str())
    }

    /// The JSON shape `brickyard validate --format json` prints (1-based line/column).
    pub fn to_json(&self) -> serde_json::Value {
        let span = self.primary_span().unwrap_or_default();
        let text = self.text().unwrap_or("");
        let pos = |byte: usize| {
            let (line, column) = line_column(text, byte);
            json!({"line": line, "column": column, "byte": byte})
        };
        json!({
            "severity": self.severity.as_str(),
            "code": self.code,
            "message": self.message,
            "help": self.help,
            "file": &*self.file,
            "range": {"start": pos(span.start), "end": pos(span.end)},
        })
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let byte = Span::new(byte, byte).clamp_to(text).start;
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.src.as_deref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.src.as_ref()?;
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(|(i, l)| {
            let text = (!l.text.is_empty()).then(|| l.text.clone());
            let span = (l.span.start, l.span.len());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        })))
    }
}

/// Render diagnostics as miette reports, one after another. `width` fixes the layout
/// (tests use 100 so snapshots do not depend on the terminal); `color` only on a tty.
pub fn render_report(diagnostics: &[Diagnostic], width: usize, color: bool) -> String {
    let mut out = String::new();
    for d in diagnostics {
        render_one(d, width, color, &mut out);
    }
    out
}

#[cfg(feature = "fancy")]
fn render_one(d: &Diagnostic, width: usize, color: bool, out: &mut String) {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    if handler.render_report(out, d).is_err() {
        out.push_str(&format!("{}: {}\n", d.code, d.message));
    }
}

#[cfg(not(feature = "fancy"))]
fn render_one(d: &Diagnostic, _width: usize, _color: bool, out: &mut String) {
    let handler = miette::NarratableReportHandler::new();
    if handler.render_report(out, d).is_err() {
        out.push_str(&format!("{}: {}\n", d.code, d.message));
    }
}

/// The JSON document `brickyard validate --format json` prints.
pub fn report_json(diagnostics: &[Diagnostic]) -> serde_json::Value {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    json!({
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": diagnostics.len() - errors,
        "diagnostics": diagnostics.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
    })
}

/// Edit-distance suggestion for "did you mean ...?" (None when nothing is close).
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
