//! The format-neutral tree both parsers produce. The validator only ever sees this,
//! so YAML and HCL reach the same [`super::Desired`] through the same rules.

/// A byte range in the config text (`start..end`, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Clamp into `0..=text_len` on char boundaries so a span can never make a
    /// renderer slice outside the text.
    pub fn clamp_to(self, text: &str) -> Span {
        let fix = |mut i: usize| {
            i = i.min(text.len());
            while i > 0 && !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        Span::new(fix(self.start), fix(self.end))
    }
}

/// A value with the span of the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Value {
    pub(crate) kind: Kind,
    pub(crate) span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// Keys in source order; duplicates were already reported by the parser.
    Map(Vec<Entry>),
    Seq(Vec<Value>),
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
    /// A value the parser already reported as unusable (e.g. an HCL expression);
    /// the validator skips it silently so one mistake gives one diagnostic.
    Invalid,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: Value,
}

impl Kind {
    /// The word used in "expected X, found Y" messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Map(_) => "a map",
            Kind::Seq(_) => "a list",
            Kind::Str(_) => "a string",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Bool(_) => "a boolean",
            Kind::Null => "nothing (null)",
            Kind::Invalid => "an invalid value",
        }
    }
}
