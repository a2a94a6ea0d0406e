//! Which `ssh -o` options a config may pass (review finding #10). A config is data that
//! CI runs `plan` on: an option such as `ProxyCommand` or `LocalCommand` would turn it
//! into code run on the operator's machine, and `UserKnownHostsFile=/dev/null` or
//! `StrictHostKeyChecking` would switch host key checking off. So only keys that tune
//! the connection are allowed; everything else is refused by name.

/// How a value of an allowed key is checked.
#[derive(Clone, Copy)]
enum Val {
    /// Decimal digits.
    Number,
    /// `yes` or `no`.
    YesNo,
    /// `yes` only (e.g. `BatchMode`: `no` would let ssh prompt).
    Yes,
    /// Words of `[A-Za-z0-9@.,+_^:-]`, space-separated only where ssh takes several.
    Words { spaces: bool },
    /// One real file: absolute or `~/`, safe path characters, not under `/dev/`.
    File,
    /// `none` only: switches off a proxy the operator's own ssh config may set, so
    /// brickyard's connections go straight to the node (any other value runs a command
    /// or connects through another host).
    NoneOnly,
    /// `/dev/null` only (`GlobalKnownHostsFile`): trusting no system-wide host key only
    /// narrows trust to brickyard's own known_hosts; any file would add keys to trust.
    DevNull,
}

/// The allow-list, in the spelling ssh documents; keys are matched case-insensitively,
/// as ssh does.
const ALLOWED: &[(&str, Val)] = &[
    ("AddressFamily", Val::Words { spaces: false }),
    ("BatchMode", Val::Yes),
    ("CASignatureAlgorithms", Val::Words { spaces: false }),
    ("Ciphers", Val::Words { spaces: false }),
    ("Compression", Val::YesNo),
    ("ConnectionAttempts", Val::Number),
    ("GlobalKnownHostsFile", Val::DevNull),
    ("HostKeyAlgorithms", Val::Words { spaces: false }),
    ("IdentitiesOnly", Val::YesNo),
    ("IPQoS", Val::Words { spaces: true }),
    ("KexAlgorithms", Val::Words { spaces: false }),
    ("LogLevel", Val::Words { spaces: false }),
    ("MACs", Val::Words { spaces: false }),
    ("PreferredAuthentications", Val::Words { spaces: false }),
    ("ProxyCommand", Val::NoneOnly),
    ("ProxyJump", Val::NoneOnly),
    ("PubkeyAcceptedAlgorithms", Val::Words { spaces: false }),
    ("PubkeyAcceptedKeyTypes", Val::Words { spaces: false }),
    ("RekeyLimit", Val::Words { spaces: true }),
    ("ServerAliveCountMax", Val::Number),
    ("ServerAliveInterval", Val::Number),
    ("TCPKeepAlive", Val::YesNo),
    ("UserKnownHostsFile", Val::File),
];

/// Keys that have a field of their own in the `ssh` section, named in the refusal.
const DEDICATED: &[(&str, &str)] = &[
    ("user", "ssh.user"),
    ("port", "ssh.port"),
    ("identityfile", "ssh.identity_file"),
    ("stricthostkeychecking", "ssh.known_hosts"),
    ("connecttimeout", "ssh.connect_timeout"),
];

/// Why an option is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OptionError {
    /// The key is not on the allow-list; `field` names the dedicated field if there is one.
    NotAllowed { field: Option<&'static str> },
    /// The key is allowed, the value is not (`expected` says what would be).
    BadValue { expected: &'static str },
}

/// Check one `Key=Value` option (key already split off).
pub(crate) fn check(key: &str, value: &str) -> Result<(), OptionError> {
    let lower = key.to_ascii_lowercase();
    let Some((_, val)) = ALLOWED.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
        let field = DEDICATED.iter().find(|(k, _)| *k == lower).map(|(_, f)| *f);
        return Err(OptionError::NotAllowed { field });
    };
    let (ok, expected) = match val {
        Val::Number => (
            !value.is_empty() && value.len() <= 9 && value.bytes().all(|b| b.is_ascii_digit()),
            "a number",
        ),
        Val::YesNo => (matches!(value, "yes" | "no"), "`yes` or `no`"),
        Val::Yes => (value == "yes", "`yes`"),
        Val::DevNull => (
            value == "/dev/null",
            "`/dev/null` (no system-wide host keys; another file would add keys to trust)",
        ),
        Val::NoneOnly => (value == "none", "`none` (a proxy is never configured here)"),
        Val::Words { spaces } => (
            !value.is_empty()
                && !value.starts_with(' ')
                && value.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '@' | '.' | ',' | '+' | '_' | '^' | ':' | '-')
                        || (*spaces && c == ' ')
                }),
            "letters, digits and `@ . , + _ ^ : -`",
        ),
        Val::File => {
            let rest = value.strip_prefix("~/").unwrap_or(value);
            let absolute = value.starts_with("~/") || super::names::abs_path(value).is_ok();
            (
                absolute
                    && !rest.is_empty()
                    && super::names::path_chars(rest).is_ok()
                    && !value.starts_with("/dev/")
                    && !value.starts_with("/proc/"),
                "one absolute (or `~/`) path to a real file, not under /dev or /proc",
            )
        }
    };
    if ok {
        Ok(())
    } else {
        Err(OptionError::BadValue { expected })
    }
}

/// The allowed keys, for the help line.
pub(crate) fn allowed_keys() -> String {
    ALLOWED
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closest allowed key, if the refused one looks like a typo of it.
pub(crate) fn closest(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    ALLOWED
        .iter()
        .map(|(k, _)| (*k, strsim::levenshtein(&lower, &k.to_ascii_lowercase())))
        .filter(|(_, d)| *d <= 2)
        .min_by_key(|(_, d)| *d)
        .map(|(k, _)| k)
}
