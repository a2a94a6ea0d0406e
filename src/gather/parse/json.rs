//! Small helpers for the JSON that util-linux and LVM print: numbers arrive as JSON numbers
//! or as strings depending on the tool version, booleans as `true` or `"1"`.

use serde_json::Value;

pub fn parse(text: &str, what: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Err(format!("{what}: empty output"));
    }
    serde_json::from_str(text).map_err(|e| format!("{what}: invalid JSON: {e}"))
}

pub fn str_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A non-empty string field.
pub fn nonempty(v: &Value, key: &str) -> Option<String> {
    str_of(v, key).filter(|s| !s.trim().is_empty())
}

pub fn u64_of(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn f64_of(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn bool_of(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "1" || s == "true",
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

/// The array at `key`, or an error naming what was expected.
pub fn array<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a Vec<Value>, String> {
    v.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{what}: missing array \"{key}\""))
}
