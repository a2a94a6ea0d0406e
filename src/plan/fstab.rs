//! The one home for editing fstab on a node: the add and remove scripts and the guards
//! that prove them. Pure: each builds an `sh -c` argv with the fstab path and the line as
//! positional parameters (`$1`, `$2`), never inside the script text.
//!
//! Why this shape (trust review, finding 4): an edit that truncates fstab and reports
//! success leaves a node that does not boot, so every command's status is checked and a
//! failure exits non-zero with fstab untouched. The new content is written to a temp file
//! in fstab's own directory (so the final `mv` is an atomic rename, never a truncate and
//! rewrite), given fstab's mode, owner and (where `chcon` exists) SELinux context,
//! fsynced, and renamed over fstab after fstab itself is copied to `<fstab>.bak` (one
//! backup, replaced by each edit). Appending first adds the final newline fstab may lack,
//! so the new entry never glues onto the last line. A symlinked fstab is edited at its
//! target, so the link stays a link.
//!
//! `grep` exits 0 (found) or 1 (not found); anything else (an unreadable file, EIO) is
//! an error and aborts; the absence guard accepts status 1 only, so an unreadable fstab
//! never passes for "the line is gone".

/// The fstab every production step edits; tests pass their own file to the `_at` forms.
pub const ETC_FSTAB: &str = "/etc/fstab";

/// Shared head: resolve fstab, return early when nothing is to be done (`$want` is the
/// grep status of the exact line that means "already so"), make the temp file next to
/// fstab and remove it on every exit. After a successful rename it no longer exists.
macro_rules! head {
    () => {
        "f=$(readlink -f -- \"$1\") && [ -n \"$f\" ] || exit 1; l=$2; grep -qxF -- \"$l\" \"$f\"; s=$?; [ \"$s\" -le 1 ] || exit 1; [ \"$s\" -ne \"$want\" ] || exit 0; t=$(mktemp -- \"$f.brickyard.XXXXXX\") || exit 1; trap 'rm -f -- \"$t\"' EXIT; trap 'exit 1' HUP INT TERM; "
    };
}

/// Shared tail: carry mode, owner and SELinux context over, fsync, keep one backup,
/// rename over fstab, fsync its directory so the rename itself is durable.
macro_rules! commit {
    () => {
        "chmod --reference=\"$f\" -- \"$t\" || exit 1; chown --reference=\"$f\" -- \"$t\" || exit 1; if command -v chcon >/dev/null 2>&1; then chcon --reference=\"$f\" -- \"$t\" 2>/dev/null || :; fi; sync -- \"$t\" || exit 1; cp -p -- \"$f\" \"$f.bak\" || exit 1; mv -f -- \"$t\" \"$f\" || exit 1; sync -- \"$(dirname -- \"$f\")\" || exit 1"
    };
}

/// Appends `$2` to `$1` unless the exact line is there.
pub(crate) const ADD_SCRIPT: &str = concat!(
    "want=0; ",
    head!(),
    "cat -- \"$f\" > \"$t\" || exit 1; c=$(tail -c1 -- \"$t\") || exit 1; if [ -n \"$c\" ]; then printf '\\n' >> \"$t\" || exit 1; fi; printf '%s\\n' \"$l\" >> \"$t\" || exit 1; ",
    commit!(),
);

/// Drops every line of `$1` equal to `$2` (a no-op when there is none).
pub(crate) const REMOVE_SCRIPT: &str = concat!(
    "want=1; ",
    head!(),
    // status 1 means "no line left", so it must come with an empty file (bash reports a
    // failed redirection as 1 too)
    "grep -vxF -- \"$l\" \"$f\" > \"$t\"; s=$?; [ \"$s\" -eq 0 ] || { [ \"$s\" -eq 1 ] && [ ! -s \"$t\" ]; } || exit 1; ",
    commit!(),
);

/// Rewrites every line of `$1` equal to `$3` as `$2` (adoption marks a line another tool
/// wrote), in place of the old line, so the mount is never in fstab twice or not at all;
/// fails, changing nothing, when no line is `$3`. The values reach awk through the
/// environment: `awk -v` would expand backslashes (fstab spells a space `\040`).
pub(crate) const REPLACE_SCRIPT: &str = concat!(
    "want=0; ",
    head!(),
    "BY_OLD=$3 BY_NEW=$l awk '$0 == ENVIRON[\"BY_OLD\"] { print ENVIRON[\"BY_NEW\"]; r = 1; next } { print } END { exit !r }' \"$f\" > \"$t\" || exit 1; ",
    commit!(),
);

const HAS_SCRIPT: &str = "grep -qxF -- \"$2\" \"$1\"";
const LACKS_SCRIPT: &str = "grep -qxF -- \"$2\" \"$1\"; [ \"$?\" -eq 1 ]";

fn sh(script: &str, fstab: &str, line: &str) -> Vec<String> {
    super::builder::sh(script, &[fstab, line])
}

/// Adds `line` to /etc/fstab unless it is there (the step's command).
pub(crate) fn add_line(line: &str) -> Vec<String> {
    add_line_at(ETC_FSTAB, line)
}

/// Removes every copy of `line` from /etc/fstab (the step's command).
pub(crate) fn remove_line(line: &str) -> Vec<String> {
    remove_line_at(ETC_FSTAB, line)
}

/// The guard of [`add_line`]: the exact line is in /etc/fstab.
pub(crate) fn has_line(line: &str) -> Vec<String> {
    has_line_at(ETC_FSTAB, line)
}

/// The guard of [`remove_line`]: /etc/fstab was read and the line is not in it.
pub(crate) fn lacks_line(line: &str) -> Vec<String> {
    lacks_line_at(ETC_FSTAB, line)
}

/// Replaces `old` by `new` in /etc/fstab (the step's command); its guard is
/// [`has_line`] of `new`.
pub(crate) fn replace_line(old: &str, new: &str) -> Vec<String> {
    replace_line_at(ETC_FSTAB, old, new)
}

/// [`replace_line`] on any fstab file.
pub fn replace_line_at(fstab: &str, old: &str, new: &str) -> Vec<String> {
    super::builder::sh(REPLACE_SCRIPT, &[fstab, new, old])
}

/// [`add_line`] on any fstab file.
pub fn add_line_at(fstab: &str, line: &str) -> Vec<String> {
    sh(ADD_SCRIPT, fstab, line)
}

/// [`remove_line`] on any fstab file.
pub fn remove_line_at(fstab: &str, line: &str) -> Vec<String> {
    sh(REMOVE_SCRIPT, fstab, line)
}

/// [`has_line`] on any fstab file.
pub fn has_line_at(fstab: &str, line: &str) -> Vec<String> {
    sh(HAS_SCRIPT, fstab, line)
}

/// [`lacks_line`] on any fstab file.
pub fn lacks_line_at(fstab: &str, line: &str) -> Vec<String> {
    sh(LACKS_SCRIPT, fstab, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_travel_as_positional_parameters() {
        let a = add_line("x y $(id)");
        assert_eq!(&a[..2], ["sh", "-c"]);
        assert_eq!(&a[3..], ["sh", ETC_FSTAB, "x y $(id)"]);
        assert!(!a[2].contains("/etc/fstab") && !a[2].contains("$(id)"));
        assert_eq!(remove_line("l")[4..], [ETC_FSTAB, "l"]);
    }
}
