//! The one escape for text from nodes and facts in human output (review finding #13).
//! Brick paths, volume and VG names, warnings, lock holders and error messages come from
//! machines we do not control; raw, an ESC sequence can move the cursor and erase the
//! `rm -rf` line a reviewer is reading, a U+202E can reverse it, a U+2028 can split it.
//! Every human render passes such text through here at render time: the plan keeps the
//! raw strings, and JSON output needs nothing (serde escapes control characters, and the
//! reader is a program). Which characters count is `config::names::is_unsafe_char`, the
//! same rule that refuses them in config text values.

use std::borrow::Cow;

use crate::config::names::is_unsafe_char;

/// `s` with every character that could rewrite, reorder or hide terminal output written
/// as a visible escape (`\u{1b}`), newlines and tabs included: for one-line fields.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_with(s, false)
}

/// [`escape`] for multi-line messages: keeps `\n`, escapes everything else it escapes.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape_with(s, true)
}

fn escape_with(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| is_unsafe_char(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_13_terminal_bidi_and_separator_characters_become_visible() {
        assert_eq!(
            escape("/srv/gfs/s0p0\u{1b}[1A\u{1b}[2K"),
            "/srv/gfs/s0p0\\u{1b}[1A\\u{1b}[2K"
        );
        assert_eq!(
            escape("a\u{202e}b\u{2028}c\u{85}d\u{9b}e"),
            "a\\u{202e}b\\u{2028}c\\u{85}d\\u{9b}e"
        );
        assert_eq!(escape("x\ny\tz"), "x\\u{a}y\\u{9}z");
        assert_eq!(escape_text("x\ny\u{7}"), "x\ny\\u{7}");
        // plain text, UTF-8 included, is untouched and not copied
        assert!(matches!(escape("/srv/bricks/gfs/s0p0 ü"), Cow::Borrowed(_)));
    }
}
