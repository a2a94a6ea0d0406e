//! HCL -> raw tree, through hcl-edit (it keeps byte spans on every node).
//!
//! HCL spells collections as labelled blocks; this module folds them into the same
//! shape the YAML file has, so one validator serves both:
//! `node "gfs1" { .. }` -> `nodes.gfs1`, `volume "gfs" { .. }` -> `volumes.gfs`,
//! `device "/dev/sdb" { .. }` -> an item of `devices` with `path = "/dev/sdb"`,
//! `path "/bricks/a" { .. }` -> an item of `paths`; an unlabelled block
//! (`ssh { .. }`, `placement { .. }`, `durability { .. }`) is a map under its name.
//! Only literal values are accepted: no variables, functions or templates.

use hcl_edit::expr::{Expression, ObjectKey, UnaryOperator};
use hcl_edit::structure::{Block, Body, Structure};

use super::diagnostic::{Diagnostic, codes};
use super::raw::{Entry, Kind, Span, Value};

/// Labelled block name -> (key in the raw tree, collected as a list with the label as `path`?).
const LABELLED: &[(&str, &str, bool)] = &[
    ("node", "nodes", false),
    ("volume", "volumes", false),
    ("device", "devices", true),
    ("path", "paths", true),
];

/// Parse HCL text. On a syntax error there is no tree; otherwise the tree plus any
/// structural findings (duplicates, expressions) are returned together.
pub(crate) fn parse(text: &str) -> Result<(Value, Vec<Diagnostic>), Diagnostic> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let at = e.location().offset();
        let message = e.message().trim().to_string();
        Diagnostic::error(codes::SYNTAX, format!("HCL syntax error: {message}"))
            .label(Span::new(at, at + 1), "here")
            .help("check quotes, braces and `=` around this spot")
    })?;
    let mut diags = Vec::new();
    let value = Value {
        kind: Kind::Map(convert_body(&body, &mut diags)),
        span: Span::new(0, 0),
    };
    Ok((value, diags))
}

fn span_of(s: &impl hcl_edit::Span) -> Span {
    s.span()
        .map(|r| Span::new(r.start, r.end))
        .unwrap_or_default()
}

fn duplicate(key: &str, first: Span, again: Span) -> Diagnostic {
    Diagnostic::error(codes::DUPLICATE_KEY, format!("duplicate key `{key}`"))
        .label(again, "given again here")
        .label(first, "first given here")
        .help("each attribute or block may appear once; remove or merge one of them")
}

/// Push `entry` unless its key is taken; report the duplicate either way.
fn push_unique(entries: &mut Vec<Entry>, entry: Entry, diags: &mut Vec<Diagnostic>) {
    if let Some(first) = entries.iter().find(|e| e.key == entry.key) {
        diags.push(duplicate(&entry.key, first.key_span, entry.key_span));
    } else {
        entries.push(entry);
    }
}

fn convert_body(body: &Body, diags: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    // keys that labelled blocks created, so later blocks append instead of clashing
    let mut grouped: Vec<String> = Vec::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.value().as_str().to_string();
                let key_span = span_of(&attr.key);
                let entry = Entry {
                    key,
                    key_span,
                    value: convert_expr(&attr.value, diags),
                };
                push_unique(&mut entries, entry, diags);
            }
            Structure::Block(block) => convert_block(block, &mut entries, &mut grouped, diags),
        }
    }
    entries
}

fn convert_block(
    block: &Block,
    entries: &mut Vec<Entry>,
    grouped: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let ident = block.ident.value().as_str();
    let ident_span = span_of(&block.ident);
    let body_entries = convert_body(&block.body, diags);
    let block_span = span_of(block);
    match block.labels.as_slice() {
        [] => {
            let value = Value {
                kind: Kind::Map(body_entries),
                span: ident_span,
            };
            let entry = Entry {
                key: ident.to_string(),
                key_span: ident_span,
                value,
            };
            push_unique(entries, entry, diags);
        }
        [label] => {
            let label_text = label.as_str().to_string();
            let label_span = match label {
                hcl_edit::structure::BlockLabel::Ident(i) => span_of(i),
                hcl_edit::structure::BlockLabel::String(s) => span_of(s),
            };
            let Some((group, as_list)) = LABELLED
                .iter()
                .find(|(b, _, _)| *b == ident)
                .map(|(_, g, l)| (g.to_string(), *l))
            else {
                let names: Vec<&str> = LABELLED.iter().map(|(b, _, _)| *b).collect();
                let help = match super::diagnostic::did_you_mean(ident, &names) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("labelled blocks are: {}", names.join(", ")),
                };
                diags.push(
                    Diagnostic::error(
                        codes::UNKNOWN_FIELD,
                        format!("unknown block `{ident} \"{label_text}\"`"),
                    )
                    .label(ident_span, "unknown block type")
                    .help(help),
                );
                return;
            };
            let existing = entries.iter().position(|e| e.key == group);
            let idx = match existing {
                Some(i) if grouped.contains(&group) => i,
                Some(i) => {
                    diags.push(
                        Diagnostic::error(
                            codes::DUPLICATE_KEY,
                            format!(
                                "`{group}` is given both as an attribute and as `{ident}` blocks"
                            ),
                        )
                        .label(ident_span, "block here")
                        .label(entries[i].key_span, "attribute here")
                        .help("use one form: either the attribute or the blocks"),
                    );
                    return;
                }
                None => {
                    grouped.push(group.clone());
                    entries.push(Entry {
                        key: group.clone(),
                        key_span: ident_span,
                        value: Value {
                            kind: if as_list {
                                Kind::Seq(Vec::new())
                            } else {
                                Kind::Map(Vec::new())
                            },
                            span: block_span,
                        },
                    });
                    entries.len() - 1
                }
            };
            let body_value = Value {
                kind: Kind::Map(body_entries),
                span: label_span,
            };
            match &mut entries[idx].value.kind {
                Kind::Seq(items) => {
                    let mut map = match body_value.kind {
                        Kind::Map(m) => m,
                        _ => Vec::new(),
                    };
                    if let Some(p) = map.iter().find(|e| e.key == "path") {
                        diags.push(duplicate("path", label_span, p.key_span));
                        map.retain(|e| e.key != "path");
                    }
                    map.insert(
                        0,
                        Entry {
                            key: "path".to_string(),
                            key_span: label_span,
                            value: Value {
                                kind: Kind::Str(label_text),
                                span: label_span,
                            },
                        },
                    );
                    items.push(Value {
                        kind: Kind::Map(map),
                        span: label_span,
                    });
                }
                Kind::Map(m) => {
                    let entry = Entry {
                        key: label_text,
                        key_span: label_span,
                        value: body_value,
                    };
                    push_unique(m, entry, diags);
                }
                _ => {}
            }
        }
        [_, second, ..] => {
            let at = match second {
                hcl_edit::structure::BlockLabel::Ident(i) => span_of(i),
                hcl_edit::structure::BlockLabel::String(s) => span_of(s),
            };
            diags.push(
                Diagnostic::error(
                    codes::SYNTAX,
                    format!("block `{ident}` takes at most one label"),
                )
                .label(at, "extra label")
                .help(format!("write `{ident} \"name\" {{ ... }}`")),
            );
        }
    }
}

fn convert_expr(expr: &Expression, diags: &mut Vec<Diagnostic>) -> Value {
    let span = span_of(expr);
    let kind = match expr {
        Expression::Null(_) => Kind::Null,
        Expression::Bool(b) => Kind::Bool(*b.value()),
        Expression::Number(n) => number(n.value(), false),
        Expression::String(s) => Kind::Str(s.value().to_string()),
        Expression::Array(items) => {
            Kind::Seq(items.iter().map(|e| convert_expr(e, diags)).collect())
        }
        Expression::Object(obj) => {
            let mut entries = Vec::new();
            for (k, v) in obj.iter() {
                let key_span = span_of(k);
                let key = match k {
                    ObjectKey::Ident(i) => Some(i.value().as_str().to_string()),
                    ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
                    ObjectKey::Expression(_) => None,
                };
                let Some(key) = key else {
                    diags.push(
                        Diagnostic::error(codes::HCL_EXPRESSION, "object keys must be names or quoted strings")
                            .label(key_span, "not a literal key")
                            .help("write the key in double quotes, e.g. \"performance.cache-size\" = \"256MB\""),
                    );
                    continue;
                };
                let entry = Entry {
                    key,
                    key_span,
                    value: convert_expr(v.expr(), diags),
                };
                push_unique(&mut entries, entry, diags);
            }
            Kind::Map(entries)
        }
        Expression::Parenthesis(p) => return convert_expr(p.inner(), diags),
        Expression::UnaryOp(op) if *op.operator.value() == UnaryOperator::Neg => match &op.expr {
            Expression::Number(n) => number(n.value(), true),
            _ => unsupported(expr, span, diags),
        },
        _ => unsupported(expr, span, diags),
    };
    Value { kind, span }
}

fn number(n: &hcl_edit::Number, negate: bool) -> Kind {
    let sign = if negate { -1 } else { 1 };
    if let Some(u) = n.as_u64() {
        Kind::Int(sign * i128::from(u))
    } else if let Some(i) = n.as_i64() {
        Kind::Int(sign * i128::from(i))
    } else {
        let x = n.as_f64().unwrap_or(f64::NAN);
        Kind::Float(if negate { -x } else { x })
    }
}

fn unsupported(expr: &Expression, span: Span, diags: &mut Vec<Diagnostic>) -> Kind {
    let (what, help) = match expr {
        Expression::Variable(v) => (
            "a bare word",
            format!(
                "brickyard configs hold literal values; quote it: \"{}\"",
                v.value().as_str()
            ),
        ),
        Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => (
            "a template",
            "interpolation (`${...}`) and heredocs are not evaluated; write the literal string"
                .to_string(),
        ),
        _ => (
            "an expression",
            "functions, operators and references are not evaluated; write the literal value"
                .to_string(),
        ),
    };
    diags.push(
        Diagnostic::error(
            codes::HCL_EXPRESSION,
            format!("{what} is not a literal value"),
        )
        .label(span, "not a literal")
        .help(help),
    );
    Kind::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_labelled_blocks_into_collections() {
        let text =
            "node \"gfs1\" {\n  manage = \"10.0.0.1\"\n  device \"/dev/sdb\" { wipe = true }\n}\n";
        let (v, diags) = parse(text).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let Kind::Map(top) = &v.kind else { panic!() };
        assert_eq!(top[0].key, "nodes");
        let Kind::Map(nodes) = &top[0].value.kind else {
            panic!()
        };
        assert_eq!(nodes[0].key, "gfs1");
        assert_eq!(
            &text[nodes[0].key_span.start..nodes[0].key_span.end],
            "\"gfs1\""
        );
        let Kind::Map(gfs1) = &nodes[0].value.kind else {
            panic!()
        };
        let Kind::Seq(devs) = &gfs1[1].value.kind else {
            panic!()
        };
        let Kind::Map(dev) = &devs[0].kind else {
            panic!()
        };
        assert_eq!(dev[0].value.kind, Kind::Str("/dev/sdb".into()));
        assert_eq!(dev[1].value.kind, Kind::Bool(true));
    }

    #[test]
    fn reports_every_duplicate_and_keeps_going() {
        let text = "ssh {}\nssh {}\nnode \"x\" {}\nnode \"x\" {}\n";
        let (_, diags) = parse(text).unwrap();
        assert_eq!(diags.len(), 2);
        assert!(diags.iter().all(|d| d.code == codes::DUPLICATE_KEY));
    }
}
