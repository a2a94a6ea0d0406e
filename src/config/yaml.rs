//! YAML -> raw tree, through serde-saphyr: its `Spanned<T>` gives every node's
//! location, it refuses duplicate keys, and it resolves scalars by YAML 1.2 rules.
//! A small recursive `Deserialize` turns any document into a [`raw::Value`].

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use super::diagnostic::{Diagnostic, codes};
use super::raw::{Entry, Kind, Span, Value};

/// Parse YAML text. A syntax error stops here (the tree is unusable after it) and is
/// returned as a single diagnostic pointing at the parser's location.
pub(crate) fn parse(text: &str) -> Result<Value, Diagnostic> {
    match serde_saphyr::from_str::<Node>(text) {
        Ok(node) => Ok(node.into_value(text)),
        Err(err) => Err(convert_error(text, &err)),
    }
}

fn convert_error(text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let bare = err.without_snippet();
    let span = bare
        .location()
        .map(|l| to_span(text, &l))
        .unwrap_or_default();
    let mut message = bare.to_string();
    // serde-saphyr appends " at line N, column M"; the label already shows where.
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    match bare {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
            let key = key.clone().unwrap_or_default();
            Diagnostic::error(codes::DUPLICATE_KEY, format!("duplicate key `{key}`"))
                .label(span, "this key was already given above in the same map")
                .help("each key may appear once per map; remove or merge one of them")
        }
        _ => Diagnostic::error(codes::SYNTAX, format!("YAML syntax error: {message}"))
            .label(span, "here")
            .help("check indentation, quoting and brackets around this spot"),
    }
}

/// Byte span of a serde-saphyr location. Byte offsets are normally present for string
/// input; when they are not, the (1-based, character) line/column is converted.
fn to_span(text: &str, loc: &Location) -> Span {
    let s = loc.span();
    if let (Some(start), Some(len)) = (s.byte_offset(), s.byte_len()) {
        let start = start as usize;
        return Span::new(start, start + len as usize).clamp_to(text);
    }
    let start = byte_of_line_col(text, loc.line() as usize, loc.column() as usize);
    Span::new(start, start)
}

fn byte_of_line_col(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map(|(b, _)| b)
                .unwrap_or(l.len());
            return offset + col;
        }
        offset += l.len();
    }
    text.len()
}

struct Node(Spanned<NodeKind>);
struct NodeKind(Kind0);
struct Key(String);

/// Like [`Kind`] but with locations still in serde-saphyr's form.
enum Kind0 {
    Map(Vec<(Spanned<Key>, Node)>),
    Seq(Vec<Node>),
    Scalar(Kind),
}

impl Node {
    fn into_value(self, text: &str) -> Value {
        let span = to_span(text, &self.0.referenced);
        let kind = match self.0.value.0 {
            Kind0::Scalar(k) => k,
            Kind0::Seq(items) => Kind::Seq(items.into_iter().map(|n| n.into_value(text)).collect()),
            Kind0::Map(entries) => Kind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Entry {
                        key_span: to_span(text, &k.referenced),
                        key: k.value.0,
                        value: v.into_value(text),
                    })
                    .collect(),
            ),
        };
        Value { kind, span }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Node(Spanned::<NodeKind>::deserialize(d)?))
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a scalar map key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Key, E> {
        Ok(Key("null".to_string()))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = NodeKind;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_str<E>(self, v: &str) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Str(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Str(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Int(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Int(v.into())))
    }
    fn visit_i128<E>(self, v: i128) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Int(v)))
    }
    fn visit_u128<E>(self, v: u128) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Int(i128::try_from(v).unwrap_or(i128::MAX))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Float(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Bool(v)))
    }
    fn visit_unit<E>(self) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Null))
    }
    fn visit_none<E>(self) -> Result<NodeKind, E> {
        Ok(scalar(Kind::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeKind, D::Error> {
        NodeKind::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<NodeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(x) = a.next_element::<Node>()? {
            items.push(x);
        }
        Ok(NodeKind(Kind0::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<NodeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = a.next_key::<Spanned<Key>>()? {
            let v = a.next_value::<Node>()?;
            entries.push((k, v));
        }
        Ok(NodeKind(Kind0::Map(entries)))
    }
}

fn scalar(k: Kind) -> NodeKind {
    NodeKind(Kind0::Scalar(k))
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_byte_spans_of_keys_and_values() {
        let text = "cluster: prod\nnodes:\n  gfs1:\n    zone: 2\n";
        let v = parse(text).unwrap();
        let Kind::Map(top) = &v.kind else { panic!() };
        assert_eq!(&text[top[0].key_span.start..top[0].key_span.end], "cluster");
        assert_eq!(
            &text[top[0].value.span.start..top[0].value.span.end],
            "prod"
        );
        let Kind::Map(nodes) = &top[1].value.kind else {
            panic!()
        };
        let Kind::Map(gfs1) = &nodes[0].value.kind else {
            panic!()
        };
        assert_eq!(gfs1[0].value.kind, Kind::Int(2));
        assert_eq!(&text[gfs1[0].value.span.start..gfs1[0].value.span.end], "2");
    }

    #[test]
    fn duplicate_keys_are_a_diagnostic() {
        let d = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(d.code, codes::DUPLICATE_KEY);
        assert_eq!(d.primary_span(), Some(Span::new(10, 11)));
    }
}
