//! A `.json` config is the [`Desired`] model itself (plan fixtures, generated configs).
//! It must not be trusted more than a YAML config: the model is written back as the
//! config it stands for (JSON is YAML, so only sizes and absent values need rewriting),
//! that text goes through the same decoder and rules as any config, and the result must
//! be the very model the file holds. So every `-c` input is validated the same way.

use std::sync::Arc;

use serde_json::Value;

use super::raw::Span;
use super::{Desired, Diagnostic, Format, Loaded, MAX_CONFIG_BYTES, codes, parse_str, too_large};

/// Validate the bytes of a `.json` Desired model.
pub(crate) fn parse(file_name: &str, bytes: &[u8]) -> Loaded {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Loaded::failed(too_large(file_name));
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Loaded::failed(
            Diagnostic::error(codes::NOT_UTF8, "the config is not valid UTF-8")
                .help("save the file as UTF-8")
                .with_file(file_name),
        );
    };
    let file: Arc<str> = Arc::from(file_name);
    let desired: Desired = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            let at = byte_offset(text, e.line(), e.column());
            let d = Diagnostic::error(codes::SYNTAX, format!("not a valid desired model: {e}"))
                .label(Span::new(at, at + 1), "here")
                .help("a `.json` config is the Desired model (as `brickyard plan` fixtures hold it); write YAML or HCL otherwise")
                .with_source(&file, &Arc::new(text.to_string()));
            return Loaded::failed(d);
        }
    };
    let as_config = serde_json::to_string_pretty(&config_value(&desired)).unwrap_or_default();
    let mut loaded = parse_str(
        &format!("{file_name} (as config)"),
        &as_config,
        Format::Yaml,
    );
    if let Some(checked) = &loaded.desired
        && *checked != desired
    {
        loaded.desired = None;
        loaded.diagnostics.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                "the desired model is not the one its config would give",
            )
            .help("generate the model from a validated config instead of editing it")
            .with_file(file_name),
        );
    }
    loaded
}

/// The model as config text would write it: sizes with a unit, no `null`s.
fn config_value(desired: &Desired) -> Value {
    let mut v = serde_json::to_value(desired).unwrap_or(Value::Null);
    let bytes = |x: &mut Value| {
        if let Some(n) = x.as_u64() {
            *x = Value::String(format!("{n}B"));
        }
    };
    if let Some(p) = v.get_mut("placement") {
        for k in ["brick_min_size", "brick_max_size"] {
            if let Some(x) = p.get_mut(k) {
                bytes(x);
            }
        }
    }
    if let Some(Value::Object(volumes)) = v.get_mut("volumes") {
        for vol in volumes.values_mut() {
            if let Some(x) = vol.get_mut("size") {
                bytes(x);
            }
        }
    }
    if let Some(Value::Object(nodes)) = v.get_mut("nodes") {
        for node in nodes.values_mut() {
            if let Some(Value::Object(ssh)) = node.get_mut("ssh") {
                ssh.retain(|_, x| !x.is_null());
            }
        }
    }
    v
}

/// serde_json's 1-based line and column as a byte offset into `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}
