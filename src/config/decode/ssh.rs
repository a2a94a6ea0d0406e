//! The `ssh` section, at the top level and per node: a node's section starts from the
//! cluster's and overrides what it names.

use super::super::diagnostic::codes;
use super::super::model::{KnownHosts, Ssh};
use super::super::names::{self, PathError};
use super::super::raw::{Kind, Span, Value};
use super::super::schema::SSH_FIELDS;
use super::super::ssh_options::{self, OptionError};
use super::{Decoder, printable};

impl Decoder<'_> {
    pub(super) fn ssh(&mut self, section: &str, v: &Value, base: &Ssh) -> Ssh {
        let mut ssh = base.clone();
        let Some(entries) = self.map(section, v) else {
            return ssh;
        };
        let f = self.fields(&format!("`{section}`"), entries, SSH_FIELDS);
        if let Some(e) = f.get("user")
            && let Some(u) = self.string("ssh.user", &e.value)
        {
            if names::ssh_user(u) {
                ssh.user = u.to_string();
            } else {
                self.err(codes::INVALID_NAME, e.value.span, "invalid user name", format!("ssh user `{}` is not a valid user name", printable(u)))
                        .help = Some("use a POSIX user name: letters, digits, `_`, `-`, `.`, starting with a letter or `_`".to_string());
            }
        }
        if let Some(e) = f.get("port")
            && let Some(p) = self.integer("ssh.port", &e.value, 1, 65535)
        {
            ssh.port = p as u16;
        }
        if let Some(e) = f.get("identity_file")
            && let Some(p) = self.string("ssh.identity_file", &e.value)
        {
            let rest = p.strip_prefix("~/").unwrap_or(p);
            if self.check_path_chars("ssh.identity_file", rest, e.value.span) {
                ssh.identity_file = Some(p.to_string());
            }
        }
        if let Some(e) = f.get("known_hosts") {
            ssh.known_hosts =
                match self.choice("ssh.known_hosts", &e.value, &["strict", "accept-new"]) {
                    Some("accept-new") => KnownHosts::AcceptNew,
                    _ => KnownHosts::Strict,
                };
        }
        if let Some(e) = f.get("options") {
            match &e.value.kind {
                Kind::Seq(items) => {
                    let mut opts = Vec::new();
                    for item in items {
                        let Some(o) = self.string("ssh.options item", item) else {
                            continue;
                        };
                        let valid = o.split_once('=').is_some_and(|(k, val)| {
                            !k.is_empty()
                                && k.chars().all(|c| c.is_ascii_alphanumeric())
                                && !val.chars().any(names::is_unsafe_char)
                        });
                        if valid {
                            if self.ssh_option_allowed(o, item.span) {
                                opts.push(o.to_string());
                            }
                        } else {
                            self.err(codes::INVALID_VALUE, item.span, "not `Key=Value`", format!("ssh option `{}` is not `Key=Value`", printable(o)))
                                .help = Some("write ssh `-o` options as `Key=Value`, e.g. `ServerAliveInterval=15`".to_string());
                        }
                    }
                    ssh.options = opts;
                }
                _ => self.wrong_type("ssh.options", "a list of strings", &e.value),
            }
        }
        if let Some(e) = f.get("sudo")
            && let Some(b) = self.boolean("ssh.sudo", &e.value)
        {
            ssh.sudo = b;
        }
        if let Some(e) = f.get("connect_timeout")
            && let Some(t) = self.integer("ssh.connect_timeout", &e.value, 1, 3600)
        {
            ssh.connect_timeout = t as u32;
        }
        ssh
    }

    /// Finding #10: only connection-tuning keys may reach `ssh -o`; anything that runs
    /// a command, forwards, or weakens host key checking is refused by name.
    fn ssh_option_allowed(&mut self, option: &str, span: Span) -> bool {
        let (key, value) = option.split_once('=').unwrap_or((option, ""));
        let (message, help) = match ssh_options::check(key, value) {
            Ok(()) => return true,
            Err(OptionError::NotAllowed { field: Some(field) }) => (
                format!("ssh option `{key}` is not allowed in `ssh.options`"),
                format!("use the field `{field}` instead"),
            ),
            Err(OptionError::NotAllowed { field: None }) => (
                format!("ssh option `{key}` is not allowed in `ssh.options`"),
                match ssh_options::closest(key) {
                    Some(k) => format!(
                        "did you mean `{k}`? allowed keys: {}",
                        ssh_options::allowed_keys()
                    ),
                    None => format!(
                        "options that run commands, forward connections or change host key checking are refused; allowed keys: {}; user, port, identity file, host keys and timeout have fields of their own (`ssh.user`, `ssh.port`, `ssh.identity_file`, `ssh.known_hosts`, `ssh.connect_timeout`)",
                        ssh_options::allowed_keys()
                    ),
                },
            ),
            Err(OptionError::BadValue { expected }) => (
                format!("ssh option `{key}` has the value `{}`", printable(value)),
                format!("`{key}` takes {expected}"),
            ),
        };
        self.err(codes::SSH_OPTION, span, "not allowed", message)
            .help = Some(help);
        false
    }

    /// The characters a path may carry ([`names::path_chars`]), reported as
    /// `invalid_path` whatever the path is for.
    pub(super) fn check_path_chars(&mut self, what: &str, path: &str, span: Span) -> bool {
        let Err(PathError::BadChar(c)) = names::path_chars(path) else {
            return true;
        };
        self.err(
            codes::INVALID_PATH,
            span,
            "unsafe character",
            format!(
                "{what} `{}` contains {}",
                printable(path),
                names::describe_char(c)
            ),
        )
        .help = Some("paths may use letters, digits and `/ . _ - : + @`".to_string());
        false
    }
}
