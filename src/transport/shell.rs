//! Shell words: the one place argv is turned into shell text ([`quote`]) and the one
//! place a script is wrapped into an `sh` argv ([`sh_c`], [`sh_s`]). Pure functions, no
//! I/O, so the planner may build its commands with them too.
//!
//! Every script here takes its values as positional parameters (`"$1"`, `"$@"`), never
//! inside the script text, so nothing a config or a node says is parsed as shell code.

/// `sh -c SCRIPT sh ARGS...`: the script runs with `$0` = `sh` and the values as `$1...`.
pub fn sh_c<I>(script: &str, args: I) -> Vec<String>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut argv = vec!["sh".to_string(), "-c".into(), script.into(), "sh".into()];
    argv.extend(args.into_iter().map(|a| a.as_ref().to_string()));
    argv
}

/// `sh -s -- ARGS...`: for a script sent on stdin (too long for a command line).
pub fn sh_s<I>(args: I) -> Vec<String>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut argv = vec!["sh".to_string(), "-s".into(), "--".into()];
    argv.extend(args.into_iter().map(|a| a.as_ref().to_string()));
    argv
}

/// Quote an argv for a POSIX shell: the only place remote command lines are built.
/// Words of safe characters stay bare for readable logs; everything else is single-quoted.
pub fn quote(argv: &[String]) -> String {
    argv.iter()
        .map(|a| quote_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn quote_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// At most `max` characters of `s`, with `…` when cut: keeps messages about long
/// command lines and odd output readable.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn sh_helpers_put_values_after_the_script() {
        assert_eq!(
            sh_c("test -d \"$1\"", ["/b"]),
            s(&["sh", "-c", "test -d \"$1\"", "sh", "/b"])
        );
        assert_eq!(sh_s(["d:/dev/x"]), s(&["sh", "-s", "--", "d:/dev/x"]));
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(
            quote(&s(&["lvs", "--reportformat", "json"])),
            "lvs --reportformat json"
        );
        assert_eq!(quote(&s(&["echo", "a b"])), "echo 'a b'");
        assert_eq!(quote(&s(&["echo", ""])), "echo ''");
        assert_eq!(quote(&s(&["echo", "it's"])), r"echo 'it'\''s'");
        assert_eq!(quote(&s(&["x", "$(rm -rf /)"])), "x '$(rm -rf /)'");
    }

    #[test]
    fn quoted_words_survive_a_real_shell() {
        let nasty = [
            "a b",
            "it's",
            "$(echo pwned)",
            "`id`",
            "\"q\"",
            "x;y",
            "\\n",
            "*",
            "~",
        ];
        for w in nasty {
            let line = format!("printf %s {}", quote_word(w));
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&line)
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), w, "word {w:?}");
        }
    }
}
