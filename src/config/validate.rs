//! The one validator: walks the raw tree from either format, reports every mistake it
//! finds (never stopping at the first), and builds [`Desired`] only when there is no
//! error. Every rule lives here exactly once; docs/config.md lists them with codes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::Format;
use super::diagnostic::{Diagnostic, codes, did_you_mean};
use super::model::*;
use super::raw::{Entry, Kind, Span, Value};
use super::schema::*;
use crate::units::{self, GIB, HumanBytes, SizeError, TIB};

/// Default smallest brick (Heketi's default too).
pub const DEFAULT_BRICK_MIN: u64 = GIB;
/// Default largest brick before a volume gets another distribute set.
pub const DEFAULT_BRICK_MAX: u64 = 4 * TIB;

/// Names gluster's CLI refuses as volume names (glusterfs cli/src/cli-cmd-parser.c,
/// `cli_validate_volname`).
const RESERVED_VOLUME_NAMES: &[&str] = &[
    "volume",
    "type",
    "subvolumes",
    "option",
    "end-volume",
    "all",
    "volume_not_in_ring",
    "description",
    "force",
    "snap-max-hard-limit",
    "snap-max-soft-limit",
    "auto-delete",
    "activate-on-create",
];
/// `GD_VOLUME_NAME_MAX` in glusterfs rpc/rpc-lib/src/protocol-common.h.
const VOLUME_NAME_MAX: usize = 256;
/// Node and cluster names end up in LVM tags, logs and plan ids: keep them short.
const NAME_MAX: usize = 63;

pub fn validate(root: &Value, text: &str, format: Format) -> (Option<Desired>, Vec<Diagnostic>) {
    let mut v = Validator {
        text,
        format,
        diags: Vec::new(),
    };
    let desired = v.root(root);
    let has_errors = v.diags.iter().any(Diagnostic::is_error);
    (desired.filter(|_| !has_errors), v.diags)
}

struct Validator<'t> {
    text: &'t str,
    format: Format,
    diags: Vec<Diagnostic>,
}

/// The known entries of one map, looked up by field name.
struct Fields<'v> {
    entries: &'v [Entry],
}

impl<'v> Fields<'v> {
    fn get(&self, name: &str) -> Option<&'v Entry> {
        self.entries.iter().find(|e| e.key == name)
    }
}

struct NodeIn {
    name: String,
    manage: String,
    manage_span: Span,
    storage: String,
    storage_span: Span,
    zone: u32,
    devices: Vec<Device>,
    paths: Vec<DirPath>,
    ssh: Ssh,
}

fn default_ssh() -> Ssh {
    Ssh {
        user: "root".to_string(),
        port: 22,
        identity_file: None,
        known_hosts: KnownHosts::Strict,
        options: Vec::new(),
        sudo: false,
        connect_timeout: 10,
    }
}

impl<'t> Validator<'t> {
    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        label: &str,
        message: String,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::error(code, message).label(span, label));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn warn(
        &mut self,
        code: &'static str,
        span: Span,
        label: &str,
        message: String,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::warning(code, message).label(span, label));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn wrong_type(&mut self, what: &str, expected: &str, v: &Value) {
        if v.kind == Kind::Invalid {
            return; // reported by the parser
        }
        let found = v.kind.type_name();
        let d = self.err(
            codes::WRONG_TYPE,
            v.span,
            &format!("expected {expected}"),
            format!("`{what}` must be {expected}, found {found}"),
        );
        if expected == "a string" && matches!(v.kind, Kind::Int(_) | Kind::Float(_)) {
            d.help = Some("put the value in quotes".to_string());
        }
        if let Kind::Str(s) = &v.kind {
            let unquoted = (expected.contains("integer") && s.trim().parse::<i64>().is_ok())
                || (expected.contains("boolean") && ["true", "false"].contains(&s.trim()));
            if unquoted {
                d.help = Some(format!("remove the quotes: {}", s.trim()));
            }
        }
    }

    /// A map, or nothing (YAML `key:` with no value counts as an empty map).
    fn map<'v>(&mut self, what: &str, v: &'v Value) -> Option<&'v [Entry]> {
        match &v.kind {
            Kind::Map(m) => Some(m),
            Kind::Null => Some(&[]),
            _ => {
                self.wrong_type(what, "a map", v);
                None
            }
        }
    }

    fn fields<'v>(&mut self, section: &str, entries: &'v [Entry], known: &[&str]) -> Fields<'v> {
        for e in entries {
            if known.contains(&e.key.as_str()) {
                continue;
            }
            let mut candidates: Vec<&str> = known.to_vec();
            if self.format == Format::Hcl {
                // HCL users write the block names, so suggest those
                for (block, plural) in [
                    ("node", "nodes"),
                    ("volume", "volumes"),
                    ("device", "devices"),
                    ("path", "paths"),
                ] {
                    if let Some(i) = candidates.iter().position(|c| *c == plural) {
                        candidates.insert(i, block);
                    }
                }
            }
            let help = match did_you_mean(&e.key, &candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known fields here: {}", candidates.join(", ")),
            };
            self.err(
                codes::UNKNOWN_FIELD,
                e.key_span,
                "unknown field",
                format!("unknown field `{}` in {section}", e.key),
            )
            .help = Some(help);
        }
        Fields { entries }
    }

    fn missing(&mut self, section: &str, field: &str, span: Span) {
        self.err(
            codes::MISSING_FIELD,
            span,
            &format!("`{field}` is missing here"),
            format!("{section} has no `{field}`"),
        )
        .help = Some(format!("add `{field}`; it has no default"));
    }

    fn string<'v>(&mut self, what: &str, v: &'v Value) -> Option<&'v str> {
        match &v.kind {
            Kind::Str(s) => Some(s),
            _ => {
                self.wrong_type(what, "a string", v);
                None
            }
        }
    }

    fn boolean(&mut self, what: &str, v: &Value) -> Option<bool> {
        match v.kind {
            Kind::Bool(b) => Some(b),
            _ => {
                self.wrong_type(what, "a boolean (true or false)", v);
                None
            }
        }
    }

    fn integer(&mut self, what: &str, v: &Value, min: i128, max: i128) -> Option<i128> {
        match v.kind {
            Kind::Int(i) if (min..=max).contains(&i) => Some(i),
            Kind::Int(i) => {
                self.err(
                    codes::INVALID_VALUE,
                    v.span,
                    "out of range",
                    format!("`{what}` must be between {min} and {max}, found {i}"),
                );
                None
            }
            _ => {
                self.wrong_type(what, "an integer", v);
                None
            }
        }
    }

    fn choice<'a>(&mut self, what: &str, v: &Value, allowed: &[&'a str]) -> Option<&'a str> {
        let s = self.string(what, v)?;
        if let Some(a) = allowed.iter().find(|a| **a == s) {
            return Some(a);
        }
        let help = match did_you_mean(s, allowed) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!("use one of: {}", allowed.join(", ")),
        };
        self.err(
            codes::INVALID_VALUE,
            v.span,
            "not an allowed value",
            format!(
                "`{what}` must be one of {}, found `{s}`",
                allowed.join(", ")
            ),
        )
        .help = Some(help);
        None
    }

    fn size(&mut self, what: &str, v: &Value) -> Option<u64> {
        let s = match &v.kind {
            Kind::Str(s) => s,
            Kind::Int(_) | Kind::Float(_) => {
                let written = self.source_text(v.span).trim().to_string();
                self.err(
                    codes::INVALID_SIZE,
                    v.span,
                    "a bare number",
                    format!("`{what}` needs a unit"),
                )
                .help = Some(format!(
                    "add a unit like GiB: `{written}GiB` (binary KiB/MiB/GiB/TiB or decimal KB/MB/GB/TB)"
                ));
                return None;
            }
            _ => {
                self.wrong_type(what, "a size like `100GiB`", v);
                return None;
            }
        };
        match units::parse_size(s) {
            Ok(b) => Some(b),
            Err(e) => {
                let help = match &e {
                    SizeError::NoUnit(n) => format!("add a unit like GiB: `{}GiB`", n.trim()),
                    SizeError::UnknownUnit(_, u) => {
                        let units = [
                            "B", "KiB", "MiB", "GiB", "TiB", "PiB", "KB", "MB", "GB", "TB", "PB",
                        ];
                        match did_you_mean(u, &units) {
                            Some(m) => format!(
                                "did you mean `{m}`? units: KiB, MiB, GiB, TiB, KB, MB, GB, TB"
                            ),
                            None => {
                                "units: KiB, MiB, GiB, TiB (binary) or KB, MB, GB, TB (decimal)"
                                    .to_string()
                            }
                        }
                    }
                    SizeError::Zero(_) => "a size must be more than zero".to_string(),
                    _ => "write a number followed by a unit, e.g. `100GiB`".to_string(),
                };
                self.err(
                    codes::INVALID_SIZE,
                    v.span,
                    "invalid size",
                    format!("`{what}`: {e}"),
                )
                .help = Some(help);
                None
            }
        }
    }

    fn source_text(&self, span: Span) -> &'t str {
        let s = span.clamp_to(self.text);
        &self.text[s.start..s.end]
    }

    /// Cluster, node and tag names: a charset no shell or LVM tag can trip over.
    fn safe_name(&mut self, what: &str, name: &str, span: Span, max: usize) -> bool {
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let first_ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if ok_chars && first_ok && name.len() <= max {
            return true;
        }
        let why = if name.is_empty() {
            "is empty".to_string()
        } else if name.len() > max {
            format!("is longer than {max} characters")
        } else if !first_ok {
            "must start with a letter or digit".to_string()
        } else {
            let bad = name
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(' ');
            format!("contains {}", describe_char(bad))
        };
        self.err(
            codes::INVALID_NAME,
            span,
            "invalid name",
            format!("{what} `{}` {why}", printable(name)),
        )
        .help = Some(format!(
            "use letters, digits, `-`, `_` and `.`, starting with a letter or digit, at most {max} characters"
        ));
        false
    }

    fn root(&mut self, root: &Value) -> Option<Desired> {
        let entries = match &root.kind {
            Kind::Map(m) if !m.is_empty() => m,
            Kind::Null | Kind::Map(_) => {
                self.diags.push(
                    Diagnostic::error(codes::EMPTY_CONFIG, "the config is empty")
                        .label(root.span, "nothing declared")
                        .help("declare at least `cluster` and `nodes`; see examples/ and docs/config.md"),
                );
                return None;
            }
            _ => {
                self.wrong_type("the config", "a map of fields", root);
                return None;
            }
        };
        let f = self.fields("the config", entries, ROOT_FIELDS);
        let start = Span::new(0, 0);

        let cluster = match f.get("cluster") {
            Some(e) => self.string("cluster", &e.value).and_then(|s| {
                self.safe_name("cluster name", s, e.value.span, NAME_MAX)
                    .then(|| s.to_string())
            }),
            None => {
                self.missing("the config", "cluster", start);
                None
            }
        };
        let ssh = match f.get("ssh") {
            Some(e) => self.ssh("ssh", &e.value, &default_ssh()),
            None => default_ssh(),
        };
        let placement = f.get("placement").map(|e| self.placement(&e.value));
        let placement = placement.unwrap_or(Some(Placement {
            zone_checking: ZoneChecking::Strict,
            brick_min_size: DEFAULT_BRICK_MIN,
            brick_max_size: DEFAULT_BRICK_MAX,
        }));

        let nodes = match f.get("nodes") {
            Some(e) => self.nodes(e, &ssh),
            None => {
                let help = match self.format {
                    Format::Yaml => "add a `nodes:` map, e.g. `nodes: { gfs1: { manage: 10.0.0.1, devices: [/dev/sdb] } }`".to_string(),
                    Format::Hcl => "add a block like `node \"gfs1\" { manage = \"10.0.0.1\" devices = [\"/dev/sdb\"] }`".to_string(),
                };
                self.err(
                    codes::MISSING_FIELD,
                    start,
                    "no nodes declared",
                    "the config has no `nodes`".to_string(),
                )
                .help = Some(help);
                Vec::new()
            }
        };
        self.cross_node_checks(&nodes);

        let volumes = match f.get("volumes") {
            Some(e) => self.volumes(e, &nodes, placement.as_ref()),
            None => BTreeMap::new(),
        };

        let cluster = cluster?;
        let placement = placement?;
        Some(Desired {
            cluster,
            placement,
            nodes: nodes
                .into_iter()
                .map(|n| {
                    (
                        n.name,
                        Node {
                            manage: n.manage,
                            storage: n.storage,
                            zone: n.zone,
                            devices: n.devices,
                            paths: n.paths,
                            ssh: n.ssh,
                        },
                    )
                })
                .collect(),
            volumes,
        })
    }

    fn ssh(&mut self, section: &str, v: &Value, base: &Ssh) -> Ssh {
        let mut ssh = base.clone();
        let Some(entries) = self.map(section, v) else {
            return ssh;
        };
        let f = self.fields(&format!("`{section}`"), entries, SSH_FIELDS);
        if let Some(e) = f.get("user")
            && let Some(u) = self.string("ssh.user", &e.value)
        {
            let ok = !u.is_empty()
                && u.len() <= 32
                && u.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if ok {
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
                                && !val.chars().any(char::is_control)
                        });
                        if valid {
                            opts.push(o.to_string());
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

    fn placement(&mut self, v: &Value) -> Option<Placement> {
        let entries = self.map("placement", v)?;
        let f = self.fields("`placement`", entries, PLACEMENT_FIELDS);
        let mut p = Placement {
            zone_checking: ZoneChecking::Strict,
            brick_min_size: DEFAULT_BRICK_MIN,
            brick_max_size: DEFAULT_BRICK_MAX,
        };
        let mut ok = true;
        if let Some(e) = f.get("zone_checking") {
            match self.choice("placement.zone_checking", &e.value, &["strict", "none"]) {
                Some("none") => p.zone_checking = ZoneChecking::None,
                Some(_) => {}
                None => ok = false,
            }
        }
        let min = f.get("brick_min_size");
        let max = f.get("brick_max_size");
        if let Some(e) = min {
            match self.size("placement.brick_min_size", &e.value) {
                Some(b) => p.brick_min_size = b,
                None => ok = false,
            }
        }
        if let Some(e) = max {
            match self.size("placement.brick_max_size", &e.value) {
                Some(b) => p.brick_max_size = b,
                None => ok = false,
            }
        }
        if ok && p.brick_min_size > p.brick_max_size {
            let span = max.or(min).map(|e| e.value.span).unwrap_or(v.span);
            let mut d = Diagnostic::error(
                codes::BRICK_SIZE_RANGE,
                format!(
                    "brick_min_size ({}) is larger than brick_max_size ({})",
                    HumanBytes(p.brick_min_size),
                    HumanBytes(p.brick_max_size)
                ),
            )
            .label(span, "this bound")
            .help("brick_min_size must be at most brick_max_size (defaults: 1GiB and 4TiB)");
            if let (Some(a), Some(b)) = (min, max) {
                d.labels.clear();
                d = d
                    .label(a.value.span, "minimum")
                    .label(b.value.span, "maximum");
            }
            self.diags.push(d);
            ok = false;
        }
        ok.then_some(p)
    }

    fn nodes(&mut self, e: &Entry, ssh: &Ssh) -> Vec<NodeIn> {
        let Some(entries) = self.map("nodes", &e.value) else {
            return Vec::new();
        };
        if entries.is_empty() {
            self.err(
                codes::MISSING_FIELD,
                e.key_span,
                "no nodes",
                "`nodes` is empty".to_string(),
            )
            .help = Some("declare at least one node".to_string());
        }
        let mut out = Vec::new();
        for n in entries {
            if let Some(node) = self.node(n, ssh) {
                out.push(node);
            }
        }
        out
    }

    fn node(&mut self, e: &Entry, base_ssh: &Ssh) -> Option<NodeIn> {
        let name_ok = self.safe_name("node name", &e.key, e.key_span, NAME_MAX);
        let section = format!("node `{}`", printable(&e.key));
        let entries = self.map(&section, &e.value)?;
        let f = self.fields(&section, entries, NODE_FIELDS);
        let manage = match f.get("manage") {
            Some(m) => self.address("manage", &m.value),
            None => {
                self.missing(&section, "manage", e.key_span);
                None
            }
        };
        let storage = match f.get("storage") {
            Some(s) => self.address("storage", &s.value),
            None => manage.clone(),
        };
        let zone = match f.get("zone") {
            Some(z) => self
                .integer("zone", &z.value, 1, u32::MAX as i128)
                .map(|z| z as u32),
            None => Some(1),
        };
        let devices = match f.get("devices") {
            Some(d) => self.devices(&section, &d.value),
            None => Some(Vec::new()),
        };
        let paths = match f.get("paths") {
            Some(p) => self.paths(&section, &p.value),
            None => Some(Vec::new()),
        };
        let ssh = match f.get("ssh") {
            Some(s) => self.ssh(
                &format!("ssh of node `{}`", printable(&e.key)),
                &s.value,
                base_ssh,
            ),
            None => base_ssh.clone(),
        };
        // Keep a node whose other fields failed (their errors are already recorded and
        // no model will be built): cross-node checks still see its addresses and disks.
        let _ = name_ok;
        let (manage, manage_span) = manage?;
        let (storage, storage_span) = storage?;
        Some(NodeIn {
            name: e.key.clone(),
            manage,
            manage_span,
            storage,
            storage_span,
            zone: zone.unwrap_or(1),
            devices: devices.unwrap_or_default(),
            paths: paths.unwrap_or_default(),
            ssh,
        })
    }

    /// Hostname or IP literal; nothing a shell or ssh would read as an option.
    fn address(&mut self, what: &str, v: &Value) -> Option<(String, Span)> {
        let s = self.string(what, v)?;
        if s.parse::<IpAddr>().is_ok() || is_hostname(s) {
            return Some((s.to_string(), v.span));
        }
        self.err(
            codes::INVALID_ADDRESS,
            v.span,
            "not a hostname or IP address",
            format!(
                "`{what}` address `{}` is not a hostname or IP address",
                printable(s)
            ),
        )
        .help = Some(
            "write an IPv4/IPv6 address or a DNS name (letters, digits, `-`, dots between labels)"
                .to_string(),
        );
        None
    }

    /// The characters a path may carry: no shell metacharacters, no whitespace.
    fn check_path_chars(&mut self, what: &str, path: &str, span: Span) -> bool {
        match path.chars().find(|c| !is_path_char(*c)) {
            None => true,
            Some(c) => {
                self.err(
                    codes::INVALID_PATH,
                    span,
                    "unsafe character",
                    format!("{what} `{}` contains {}", printable(path), describe_char(c)),
                )
                .help = Some("paths may use letters, digits and `/ . _ - : + @`".to_string());
                false
            }
        }
    }

    /// Absolute, normalised (no `.`/`..`/empty components) and made of safe characters.
    fn abs_path(
        &mut self,
        code: &'static str,
        what: &str,
        path: &str,
        span: Span,
        under: &str,
    ) -> bool {
        if !self.check_path_chars(what, path, span) {
            return false;
        }
        let comps: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let normal = path.starts_with('/')
            && !comps.is_empty()
            && comps
                .iter()
                .all(|c| !c.is_empty() && *c != "." && *c != "..");
        if !normal {
            self.err(
                code,
                span,
                "not an absolute path",
                format!("{what} `{path}` is not a normalised absolute path"),
            )
            .help = Some(format!(
                "write a full path like `{under}...` without `.`, `..` or `//`"
            ));
            return false;
        }
        true
    }

    fn tags(&mut self, what: &str, v: &Value) -> Option<BTreeMap<String, String>> {
        let entries = self.map(what, v)?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for e in entries {
            let key_ok = self.safe_name("tag name", &e.key, e.key_span, NAME_MAX);
            let val = match &e.value.kind {
                Kind::Str(s) => Some(s.clone()),
                Kind::Int(_) | Kind::Float(_) => {
                    Some(self.source_text(e.value.span).trim().to_string())
                }
                _ => {
                    self.wrong_type(&format!("{what}.{}", e.key), "a string", &e.value);
                    None
                }
            };
            match val {
                Some(s) if key_ok && self.safe_name("tag value", &s, e.value.span, NAME_MAX) => {
                    out.insert(e.key.clone(), s);
                }
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A device or path may appear once per node (trailing `/` ignored).
    fn listed_once(
        &mut self,
        what: &str,
        path: &str,
        span: Span,
        section: &str,
        seen: &mut BTreeMap<String, Span>,
    ) {
        let key = path.trim_end_matches('/').to_string();
        if let Some(first) = seen.get(&key) {
            self.diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_DEVICE,
                    format!("{what} `{path}` is listed twice on {section}"),
                )
                .label(span, "listed again here")
                .label(*first, "first listed here")
                .help(format!("list each {what} once per node")),
            );
        }
        seen.insert(key, span);
    }

    fn devices(&mut self, section: &str, v: &Value) -> Option<Vec<Device>> {
        let Kind::Seq(items) = &v.kind else {
            self.wrong_type("devices", "a list", v);
            return None;
        };
        let mut out: Vec<Device> = Vec::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for item in items {
            let (path, pspan, tags, wipe) = match &item.kind {
                Kind::Str(s) => (s.as_str(), item.span, Some(BTreeMap::new()), Some(false)),
                Kind::Map(m) => {
                    let f = self.fields(&format!("a device of {section}"), m, DEVICE_FIELDS);
                    let tags = match f.get("tags") {
                        Some(t) => self.tags("tags", &t.value),
                        None => Some(BTreeMap::new()),
                    };
                    let wipe = match f.get("wipe") {
                        Some(w) => self.boolean("wipe", &w.value),
                        None => Some(false),
                    };
                    match f.get("path") {
                        Some(p) => match self.string("path", &p.value) {
                            Some(s) => (s, p.value.span, tags, wipe),
                            None => continue,
                        },
                        None => {
                            self.missing(&format!("a device of {section}"), "path", item.span);
                            continue;
                        }
                    }
                }
                _ => {
                    self.wrong_type("devices item", "a device path or a map with `path`", item);
                    continue;
                }
            };
            let valid = self.abs_path(codes::INVALID_DEVICE, "device", path, pspan, "/dev/");
            let under_dev = path.starts_with("/dev/");
            if valid && !under_dev {
                self.err(codes::INVALID_DEVICE, pspan, "not under /dev", format!("device `{path}` is not under /dev"))
                    .help = Some("devices are raw block devices like `/dev/sdb`; use `paths` for directories on a mounted filesystem".to_string());
            }
            self.listed_once("device", path, pspan, section, &mut seen);
            if let (true, Some(tags), Some(wipe)) = (valid && under_dev, tags, wipe) {
                out.push(Device {
                    path: path.to_string(),
                    tags,
                    wipe,
                })
            }
        }
        // the valid entries; errors for the others are already recorded
        Some(out)
    }

    fn paths(&mut self, section: &str, v: &Value) -> Option<Vec<DirPath>> {
        let Kind::Seq(items) = &v.kind else {
            self.wrong_type("paths", "a list", v);
            return None;
        };
        let mut out = Vec::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for item in items {
            let (path, pspan, tags) = match &item.kind {
                Kind::Str(s) => (s.as_str(), item.span, Some(BTreeMap::new())),
                Kind::Map(m) => {
                    let f = self.fields(&format!("a path of {section}"), m, PATH_FIELDS);
                    let tags = match f.get("tags") {
                        Some(t) => self.tags("tags", &t.value),
                        None => Some(BTreeMap::new()),
                    };
                    match f.get("path") {
                        Some(p) => match self.string("path", &p.value) {
                            Some(s) => (s, p.value.span, tags),
                            None => continue,
                        },
                        None => {
                            self.missing(&format!("a path of {section}"), "path", item.span);
                            continue;
                        }
                    }
                }
                _ => {
                    self.wrong_type("paths item", "a directory path or a map with `path`", item);
                    continue;
                }
            };
            let valid = self.abs_path(codes::INVALID_PATH, "path", path, pspan, "/bricks/");
            let system = [
                "/dev", "/proc", "/sys", "/run", "/etc", "/boot", "/usr", "/bin", "/sbin", "/lib",
            ]
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")));
            if valid && system {
                self.err(
                    codes::INVALID_PATH,
                    pspan,
                    "system directory",
                    format!("path `{path}` is inside a system directory"),
                )
                .help = Some(
                    "directory bricks belong on a dedicated mounted filesystem, e.g. `/bricks/d0`"
                        .to_string(),
                );
            }
            self.listed_once("path", path, pspan, section, &mut seen);
            match tags {
                Some(tags) if valid && !system => out.push(DirPath {
                    path: key_or_root(path),
                    tags,
                }),
                _ => {}
            }
        }
        // the valid entries; errors for the others are already recorded
        Some(out)
    }

    fn cross_node_checks(&mut self, nodes: &[NodeIn]) {
        for (what, get) in [
            (
                "manage",
                (|n: &NodeIn| (n.manage.to_ascii_lowercase(), n.manage_span))
                    as fn(&NodeIn) -> (String, Span),
            ),
            ("storage", |n: &NodeIn| {
                (n.storage.to_ascii_lowercase(), n.storage_span)
            }),
        ] {
            let mut seen: BTreeMap<String, (String, Span)> = BTreeMap::new();
            for n in nodes {
                let (addr, span) = get(n);
                if let Some((first_name, first_span)) = seen.get(&addr) {
                    let d = Diagnostic::error(
                        codes::DUPLICATE_ADDRESS,
                        format!("nodes `{first_name}` and `{}` have the same {what} address `{addr}`", n.name),
                    )
                    .label(span, "same address again")
                    .label(*first_span, "first used here")
                    .help("every node needs its own address; two entries for one machine would put two bricks of a set on it");
                    self.diags.push(d);
                } else {
                    seen.insert(addr, (n.name.clone(), span));
                }
            }
        }
    }

    fn volumes(
        &mut self,
        e: &Entry,
        nodes: &[NodeIn],
        placement: Option<&Placement>,
    ) -> BTreeMap<String, Volume> {
        let mut out = BTreeMap::new();
        let Some(entries) = self.map("volumes", &e.value) else {
            return out;
        };
        for v in entries {
            if let Some(vol) = self.volume(v, nodes, placement) {
                out.insert(v.key.clone(), vol);
            }
        }
        out
    }

    fn volume_name(&mut self, name: &str, span: Span) -> bool {
        let bad_char = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'));
        let why = if name.is_empty() {
            Some("is empty".to_string())
        } else if name.starts_with('-') {
            Some("starts with `-`".to_string())
        } else if RESERVED_VOLUME_NAMES.contains(&name) {
            Some("is a word gluster reserves".to_string())
        } else if name.len() > VOLUME_NAME_MAX {
            Some(format!("is longer than {VOLUME_NAME_MAX} characters"))
        } else {
            bad_char.map(|c| format!("contains {}", describe_char(c)))
        };
        let Some(why) = why else { return true };
        self.err(
            codes::INVALID_VOLUME_NAME,
            span,
            "gluster refuses this name",
            format!("volume name `{}` {why}", printable(name)),
        )
        .help = Some(format!(
            "gluster volume names use letters, digits, `-` and `_`, do not start with `-`, are at most {VOLUME_NAME_MAX} characters and are not one of: {}",
            RESERVED_VOLUME_NAMES.join(", ")
        ));
        false
    }

    fn volume(
        &mut self,
        e: &Entry,
        nodes: &[NodeIn],
        placement: Option<&Placement>,
    ) -> Option<Volume> {
        let name_ok = self.volume_name(&e.key, e.key_span);
        let section = format!("volume `{}`", printable(&e.key));
        let entries = self.map(&section, &e.value)?;
        let f = self.fields(&section, entries, VOLUME_FIELDS);
        let size = match f.get("size") {
            Some(s) => self.size("size", &s.value),
            None => {
                self.missing(&section, "size", e.key_span);
                None
            }
        };
        let dur_entry = f.get("durability");
        let durability = match dur_entry {
            Some(d) => self.durability(&d.value),
            None => Some(Durability::Replicate {
                replica: 3,
                arbiter: false,
            }),
        };
        let snapshot_factor = match f.get("snapshot_factor") {
            Some(s) => {
                let x = match s.value.kind {
                    Kind::Int(i) => Some(i as f64),
                    Kind::Float(x) => Some(x),
                    _ => {
                        self.wrong_type("snapshot_factor", "a number", &s.value);
                        None
                    }
                };
                match x {
                    Some(x) if (1.0..=100.0).contains(&x) => Some(x),
                    Some(x) => {
                        self.err(codes::INVALID_SNAPSHOT_FACTOR, s.value.span, "outside 1..100", format!("snapshot_factor {x} is outside 1..=100"))
                            .help = Some("1 means no room for snapshots; 2 doubles the thin pool; Heketi allows at most 100".to_string());
                        None
                    }
                    None => None,
                }
            }
            None => Some(1.0),
        };
        let options = match f.get("options") {
            Some(o) => self.options(&o.value),
            None => Some(BTreeMap::new()),
        };
        let protect = match f.get("protect") {
            Some(p) => self.boolean("protect", &p.value),
            None => Some(false),
        };
        let state = match f.get("state") {
            Some(s) => self
                .choice("state", &s.value, &["present", "absent"])
                .map(|s| {
                    if s == "absent" {
                        VolumeState::Absent
                    } else {
                        VolumeState::Present
                    }
                }),
            None => Some(VolumeState::Present),
        };
        let device_tags = match f.get("device_tags") {
            Some(t) => self.tags("device_tags", &t.value),
            None => Some(BTreeMap::new()),
        };
        let any_devices = nodes.iter().any(|n| !n.devices.is_empty());
        let kind_entry = f.get("brick_kind");
        let brick_kind = match kind_entry {
            Some(k) => self
                .choice("brick_kind", &k.value, &["lvm", "directory"])
                .map(|k| {
                    if k == "lvm" {
                        BrickKind::Lvm
                    } else {
                        BrickKind::Directory
                    }
                }),
            None => Some(if any_devices {
                BrickKind::Lvm
            } else {
                BrickKind::Directory
            }),
        };

        // Capacity-free feasibility: does the declared topology have room for one set?
        if let (Some(dur), Some(kind), Some(tags), Some(VolumeState::Present)) =
            (durability, brick_kind, device_tags.as_ref(), state)
        {
            let at = kind_entry
                .map(|k| k.value.span)
                .or(dur_entry.map(|d| d.key_span))
                .unwrap_or(e.key_span);
            self.feasibility(
                &section,
                nodes,
                dur,
                kind,
                tags,
                placement,
                at,
                dur_entry.map(|d| d.key_span).unwrap_or(e.key_span),
            );
        }

        if !name_ok {
            return None;
        }
        Some(Volume {
            size: size?,
            durability: durability?,
            snapshot_factor: snapshot_factor?,
            options: options?,
            protect: protect?,
            state: state?,
            device_tags: device_tags?,
            brick_kind: brick_kind?,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn feasibility(
        &mut self,
        section: &str,
        nodes: &[NodeIn],
        dur: Durability,
        kind: BrickKind,
        tags: &BTreeMap<String, String>,
        placement: Option<&Placement>,
        kind_span: Span,
        dur_span: Span,
    ) {
        let has_tags = |t: &BTreeMap<String, String>| tags.iter().all(|(k, v)| t.get(k) == Some(v));
        let eligible: Vec<&NodeIn> = nodes
            .iter()
            .filter(|n| match kind {
                BrickKind::Lvm => n.devices.iter().any(|d| has_tags(&d.tags)),
                BrickKind::Directory => n.paths.iter().any(|p| has_tags(&p.tags)),
            })
            .collect();
        if nodes.is_empty() {
            return; // already reported: no nodes
        }
        let (what, field) = match kind {
            BrickKind::Lvm => ("devices", "devices"),
            BrickKind::Directory => ("directory paths", "paths"),
        };
        if eligible.is_empty() {
            let tag_note = if tags.is_empty() {
                String::new()
            } else {
                " with the required device_tags".to_string()
            };
            let kind_name = if kind == BrickKind::Lvm {
                "lvm"
            } else {
                "directory"
            };
            self.err(
                codes::NO_BRICK_SOURCE,
                kind_span,
                "no node can host these bricks",
                format!(
                    "{section} uses `{kind_name}` bricks but no node declares {what}{tag_note}"
                ),
            )
            .help = Some(format!(
                "add `{field}` to the nodes, or choose the other `brick_kind`"
            ));
            return;
        }
        let need = dur.set_size();
        if eligible.len() < need {
            let names: Vec<&str> = eligible.iter().map(|n| n.name.as_str()).collect();
            self.err(
                codes::NOT_ENOUGH_NODES,
                dur_span,
                &format!("needs {need} nodes per set"),
                format!("{section} needs {need} distinct nodes per set, but only {} can host its bricks ({})", eligible.len(), names.join(", ")),
            )
            .help = Some(format!("add nodes with {what}, or lower the durability"));
            return;
        }
        if placement.is_some_and(|p| p.zone_checking == ZoneChecking::Strict) {
            let zones: BTreeSet<u32> = eligible.iter().map(|n| n.zone).collect();
            if zones.len() < need {
                self.err(
                    codes::NOT_ENOUGH_ZONES,
                    dur_span,
                    &format!("needs {need} zones per set"),
                    format!("{section} needs {need} distinct zones per set with strict zone checking, but its nodes are in {} zone(s)", zones.len()),
                )
                .help = Some("give the nodes distinct `zone` numbers, or set `placement.zone_checking: none` to accept several bricks of a set in one zone".to_string());
            }
        }
    }

    fn durability(&mut self, v: &Value) -> Option<Durability> {
        let entries = self.map("durability", v)?;
        let f = self.fields("`durability`", entries, DURABILITY_FIELDS);
        let Some(t) = f.get("type") else {
            self.missing("`durability`", "type", v.span);
            return None;
        };
        let ty = self.choice(
            "durability.type",
            &t.value,
            &["none", "replicate", "disperse"],
        )?;
        let allowed: &[&str] = match ty {
            "none" => &["type"],
            "replicate" => &["type", "replica", "arbiter"],
            _ => &["type", "data", "redundancy"],
        };
        for e in entries {
            if DURABILITY_FIELDS.contains(&e.key.as_str()) && !allowed.contains(&e.key.as_str()) {
                self.err(
                    codes::UNKNOWN_FIELD,
                    e.key_span,
                    &format!("not used by `{ty}`"),
                    format!("`{}` does not apply to durability type `{ty}`", e.key),
                )
                .help = Some(format!("fields for `{ty}`: {}", allowed.join(", ")));
            }
        }
        match ty {
            "none" => Some(Durability::None),
            "replicate" => {
                let replica = match f.get("replica") {
                    Some(r) => match r.value.kind {
                        Kind::Int(n) if (1..=3).contains(&n) => Some((n as u8, r.value.span)),
                        Kind::Int(n) => {
                            self.err(codes::INVALID_REPLICA, r.value.span, "outside 1..3", format!("replica {n} is outside 1..=3"))
                                .help = Some("use replica 3 (or replica 3 with `arbiter: true`); more copies than 3 is not supported".to_string());
                            None
                        }
                        _ => {
                            self.wrong_type("replica", "an integer", &r.value);
                            None
                        }
                    },
                    None => Some((3, t.value.span)),
                };
                let arbiter = match f.get("arbiter") {
                    Some(a) => self.boolean("arbiter", &a.value).map(|b| (b, a.value.span)),
                    None => Some((false, v.span)),
                };
                let ((replica, rspan), (arbiter, aspan)) = (replica?, arbiter?);
                if arbiter && replica != 3 {
                    self.diags.push(
                        Diagnostic::error(codes::INVALID_ARBITER, format!("arbiter needs replica 3, found replica {replica}"))
                            .label(aspan, "arbiter requested")
                            .label(rspan, "replica here")
                            .help("gluster: \"For arbiter configuration, replica count must be 3 and arbiter count must be 1\""),
                    );
                    return None;
                }
                if replica == 2 {
                    self.warn(codes::REPLICA_TWO, rspan, "two copies", "replica 2 is prone to split-brain".to_string())
                        .help = Some("with two copies gluster cannot tell which one is right after a partition; use replica 3 or `arbiter: true` with replica 3".to_string());
                }
                if replica == 1 {
                    self.warn(
                        codes::INVALID_REPLICA,
                        rspan,
                        "one copy",
                        "replica 1 keeps a single copy: it is plain distribute".to_string(),
                    )
                    .help = Some("write `type: none` to say so, or use replica 3".to_string());
                    return Some(Durability::None);
                }
                Some(Durability::Replicate { replica, arbiter })
            }
            _ => {
                let data = match f.get("data") {
                    Some(d) => self
                        .integer("data", &d.value, 0, 255)
                        .map(|n| (n as u32, d.value.span)),
                    None => {
                        self.missing("`durability` (disperse)", "data", t.key_span);
                        None
                    }
                };
                let redundancy = match f.get("redundancy") {
                    Some(r) => self
                        .integer("redundancy", &r.value, 0, 255)
                        .map(|n| (n as u32, r.value.span)),
                    None => {
                        self.missing("`durability` (disperse)", "redundancy", t.key_span);
                        None
                    }
                };
                let ((data, dspan), (red, rspan)) = (data?, redundancy?);
                // glusterfs cli/src/cli-cmd-parser.c: disperse-data > 1, redundancy > 0,
                // disperse count > 2, redundancy <= (disperse - 1) / 2.
                let total = data + red;
                let why = if red < 1 {
                    Some(("redundancy must be at least 1", rspan))
                } else if data < 2 {
                    Some(("data must be at least 2", dspan))
                } else if total > 255 {
                    Some(("data + redundancy must be at most 255", dspan))
                } else if red > (total - 1) / 2 {
                    Some(("redundancy must be less than data", rspan))
                } else {
                    None
                };
                if let Some((why, span)) = why {
                    self.diags.push(
                        Diagnostic::error(codes::INVALID_DISPERSE, format!("gluster rejects disperse {data}+{red}: {why}"))
                            .label(span, why)
                            .help("gluster needs data >= 2, redundancy >= 1 and redundancy < data (e.g. 4+2, 8+3, 2+1)"),
                    );
                    return None;
                }
                if !data.is_power_of_two() {
                    self.warn(codes::DISPERSE_NOT_OPTIMAL, dspan, "not a power of two", format!("disperse with {data} data bricks is not optimal"))
                        .help = Some("gluster asks for confirmation here: data counts that are powers of two (2, 4, 8, 16) perform best".to_string());
                }
                Some(Durability::Disperse {
                    data: data as u8,
                    redundancy: red as u8,
                })
            }
        }
    }

    fn options(&mut self, v: &Value) -> Option<BTreeMap<String, String>> {
        let entries = self.map("options", v)?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for e in entries {
            let key_ok = !e.key.is_empty()
                && e.key.len() <= 128
                && e.key
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
                && e.key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !key_ok {
                self.err(codes::INVALID_OPTION, e.key_span, "invalid option name", format!("option name `{}` is not a gluster option key", printable(&e.key)))
                    .help = Some("gluster option keys look like `performance.cache-size` or `user.owner`: letters, digits, `.`, `-`, `_`".to_string());
                ok = false;
            }
            let value = match &e.value.kind {
                Kind::Str(s) => Some(s.clone()),
                Kind::Bool(b) => Some(if *b { "on" } else { "off" }.to_string()),
                Kind::Int(_) | Kind::Float(_) => {
                    Some(self.source_text(e.value.span).trim().to_string())
                }
                _ => {
                    self.wrong_type(
                        &format!("options.{}", e.key),
                        "a string, number or boolean",
                        &e.value,
                    );
                    None
                }
            };
            match value {
                Some(s) if s.chars().any(char::is_control) => {
                    self.err(
                        codes::INVALID_OPTION,
                        e.value.span,
                        "control character",
                        format!(
                            "the value of option `{}` contains a control character or newline",
                            e.key
                        ),
                    )
                    .help = Some("gluster option values are single-line text".to_string());
                    ok = false;
                }
                Some(s) if key_ok => {
                    out.insert(e.key.clone(), s);
                }
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }
}

fn key_or_root(path: &str) -> String {
    path.trim_end_matches('/').to_string()
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | '+' | '@')
}

fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A name as shown in a message: control characters escaped so a hostile config
/// cannot rewrite the terminal.
fn printable(s: &str) -> String {
    s.chars()
        .flat_map(char::escape_default)
        .collect::<String>()
        .replace("\\'", "'")
        .replace("\\\"", "\"")
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        '\n' => "a newline".to_string(),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        c if "$`;|&<>()\\\"'*?![]{}~#".contains(c) => format!("the shell metacharacter `{c}`"),
        c => format!("the character `{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::model::*;
    use crate::config::{Format, parse_str};
    use crate::units::{GIB, TIB};

    const MINIMAL: &str = "cluster: c\nnodes:\n  a: { manage: h1, paths: [/b/0] }\n  b: { manage: h2, zone: 2, paths: [/b/0] }\n  c: { manage: h3, zone: 3, paths: [/b/0] }\nvolumes:\n  v:\n    size: 1GiB\n    options: { a.on: true, a.off: false, a.num: 0.50, a.int: 0x10, a.text: \"256MB\" }\n";

    #[test]
    fn documented_defaults_apply() {
        let l = parse_str("m.yaml", MINIMAL, Format::Yaml);
        assert!(l.diagnostics.is_empty(), "{}", l.render(100, false));
        let d = l.desired.unwrap();
        assert_eq!(
            d.placement,
            Placement {
                zone_checking: ZoneChecking::Strict,
                brick_min_size: GIB,
                brick_max_size: 4 * TIB
            }
        );
        let a = &d.nodes["a"];
        assert_eq!((a.storage.as_str(), a.zone), ("h1", 1));
        assert_eq!(
            a.ssh,
            Ssh {
                user: "root".into(),
                port: 22,
                identity_file: None,
                known_hosts: KnownHosts::Strict,
                options: vec![],
                sudo: false,
                connect_timeout: 10
            }
        );
        let v = &d.volumes["v"];
        assert_eq!(
            v.durability,
            Durability::Replicate {
                replica: 3,
                arbiter: false
            }
        );
        assert_eq!(
            (v.snapshot_factor, v.protect, v.state, v.brick_kind),
            (1.0, false, VolumeState::Present, BrickKind::Directory)
        );
    }

    #[test]
    fn option_values_keep_their_spelling_and_bools_become_on_off() {
        let d = parse_str("m.yaml", MINIMAL, Format::Yaml).desired.unwrap();
        let o = &d.volumes["v"].options;
        assert_eq!(o["a.on"], "on");
        assert_eq!(o["a.off"], "off");
        assert_eq!(o["a.num"], "0.50");
        assert_eq!(o["a.int"], "0x10");
        assert_eq!(o["a.text"], "256MB");
    }

    #[test]
    fn replica_one_is_plain_distribute_with_a_warning() {
        let text = MINIMAL.replace(
            "size: 1GiB",
            "size: 1GiB\n    durability: { type: replicate, replica: 1 }",
        );
        let l = parse_str("m.yaml", &text, Format::Yaml);
        assert_eq!(l.warning_count(), 1);
        assert_eq!(l.desired.unwrap().volumes["v"].durability, Durability::None);
    }

    #[test]
    fn zone_checking_none_accepts_one_zone() {
        let text = MINIMAL.replace("zone: 2, ", "").replace("zone: 3, ", "");
        assert!(parse_str("m.yaml", &text, Format::Yaml).has_errors());
        let text = text.replace(
            "cluster: c\n",
            "cluster: c\nplacement: { zone_checking: none }\n",
        );
        let l = parse_str("m.yaml", &text, Format::Yaml);
        assert!(!l.has_errors(), "{}", l.render(100, false));
    }

    #[test]
    fn absent_volumes_skip_topology_checks() {
        let text = MINIMAL.replace("size: 1GiB", "size: 1GiB\n    state: absent\n    durability: { type: disperse, data: 4, redundancy: 2 }");
        let l = parse_str("m.yaml", &text, Format::Yaml);
        assert!(!l.has_errors(), "{}", l.render(100, false));
    }
}
