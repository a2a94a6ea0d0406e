//! The `nodes` section: each node's addresses, zone, devices, paths and ssh. Decoded
//! nodes keep their spans ([`NodeIn`]) so the cross-node rules can point at both
//! entries of a duplicate.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::super::diagnostic::{Diagnostic, codes};
use super::super::model::{Device, DirPath, Ssh};
use super::super::names::{self, LVM_NAME_MAX, PathError};
use super::super::raw::{Entry, Kind, Span, Value};
use super::super::schema::{DEVICE_FIELDS, NODE_FIELDS, PATH_FIELDS};
use super::{Decoder, printable};
use crate::config::decoded::NodeIn;

impl Decoder<'_> {
    pub(super) fn nodes(&mut self, e: &Entry, ssh: &Ssh) -> Vec<NodeIn> {
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
        // A bad name is reported, but the node is kept (no model will be built):
        // cross-node checks still see its addresses and disks.
        self.name_checked("node name", &e.key, e.key_span, names::node_name(&e.key));
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
        // a draining node is all its devices and paths draining
        let drain = match f.get("drain") {
            Some(d) => self.boolean("drain", &d.value),
            None => Some(false),
        };
        let (mut devices, mut paths) = (devices, paths);
        if drain == Some(true) {
            for d in devices.iter_mut().flatten() {
                d.drain = true;
            }
            for p in paths.iter_mut().flatten() {
                p.drain = true;
            }
        }
        let ssh = match f.get("ssh") {
            Some(s) => self.ssh(
                &format!("ssh of node `{}`", printable(&e.key)),
                &s.value,
                base_ssh,
            ),
            None => base_ssh.clone(),
        };
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
            drain: drain.unwrap_or(false),
            ssh,
        })
    }

    /// Hostname or IP literal; nothing a shell or ssh would read as an option.
    fn address(&mut self, what: &str, v: &Value) -> Option<(String, Span)> {
        let s = self.string(what, v)?;
        if let Some(alias) = names::numeric_ipv4_alias(s) {
            let help = match alias {
                Ok(ip) => format!("the resolver reads this as `{ip}`; write that dotted quad"),
                Err(()) => {
                    "write an IPv4 address as four decimal numbers 0..255 without leading zeros"
                        .to_string()
                }
            };
            self.err(
                codes::INVALID_ADDRESS,
                v.span,
                "numeric alias of an IPv4 address",
                format!(
                    "`{what}` address `{}` is a numeric IPv4 spelling, not a hostname",
                    printable(s)
                ),
            )
            .help = Some(help);
            return None;
        }
        if s.parse::<IpAddr>().is_ok() || names::is_hostname(s) {
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

    /// [`names::abs_path`], reported: unsafe characters as `invalid_path`, a path that
    /// is not normalised and absolute as `code`.
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
        if names::abs_path(path).is_err() {
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

    pub(super) fn tags(&mut self, what: &str, v: &Value) -> Option<BTreeMap<String, String>> {
        let entries = self.map(what, v)?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for e in entries {
            let key_ok = self.name_checked("tag name", &e.key, e.key_span, names::tag(&e.key));
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
                Some(s)
                    if key_ok
                        && self.name_checked("tag value", &s, e.value.span, names::tag(&s)) =>
                {
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
            let (path, pspan, tags, wipe, drain) = match &item.kind {
                Kind::Str(s) => (
                    s.as_str(),
                    item.span,
                    Some(BTreeMap::new()),
                    Some(false),
                    Some(false),
                ),
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
                    let drain = match f.get("drain") {
                        Some(d) => self.boolean("drain", &d.value),
                        None => Some(false),
                    };
                    match f.get("path") {
                        Some(p) => match self.string("path", &p.value) {
                            Some(s) => (s, p.value.span, tags, wipe, drain),
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
            let valid = self.abs_path(codes::INVALID_DEVICE, "device", path, pspan, "/dev/")
                && self.device_rule(path, pspan);
            self.listed_once("device", path, pspan, section, &mut seen);
            if let (true, Some(tags), Some(wipe), Some(drain)) = (valid, tags, wipe, drain) {
                out.push(Device {
                    path: path.to_string(),
                    tags,
                    wipe,
                    drain,
                })
            }
        }
        // the valid entries; errors for the others are already recorded
        Some(out)
    }

    /// The rest of [`names::device_path`] for a path already known absolute and safe.
    fn device_rule(&mut self, path: &str, span: Span) -> bool {
        match names::device_path(path) {
            Ok(()) => true,
            Err(PathError::NotUnderDev) => {
                self.err(codes::INVALID_DEVICE, span, "not under /dev", format!("device `{path}` is not under /dev"))
                    .help = Some("devices are raw block devices like `/dev/sdb`; use `paths` for directories on a mounted filesystem".to_string());
                false
            }
            Err(PathError::NotABlockDevice) => {
                self.err(codes::INVALID_DEVICE, span, "not a disk", format!("device `{path}` is not a block device brickyard may initialise"))
                    .help = Some("name a raw disk such as `/dev/sdb` or `/dev/disk/by-id/...`; `/dev/` itself, null, zero, mem, tty, shm and similar are refused".to_string());
                false
            }
            Err(PathError::VgNameTooLong) => {
                self.err(
                    codes::INVALID_DEVICE,
                    span,
                    "path too long",
                    format!(
                        "device `{path}` is too long: its volume group `{}` would be longer than LVM's {LVM_NAME_MAX} characters",
                        names::vg_name(path)
                    ),
                )
                .help = Some(format!(
                    "the VG brickyard creates is `by_` + the path after /dev/, so the path after /dev/ may have at most {} characters; use a shorter link to the same disk (e.g. /dev/disk/by-id/wwn-...)",
                    LVM_NAME_MAX - 3
                ));
                false
            }
            Err(_) => false, // reported by abs_path
        }
    }

    fn paths(&mut self, section: &str, v: &Value) -> Option<Vec<DirPath>> {
        let Kind::Seq(items) = &v.kind else {
            self.wrong_type("paths", "a list", v);
            return None;
        };
        let mut out = Vec::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for item in items {
            let (path, pspan, tags, drain) = match &item.kind {
                Kind::Str(s) => (s.as_str(), item.span, Some(BTreeMap::new()), Some(false)),
                Kind::Map(m) => {
                    let f = self.fields(&format!("a path of {section}"), m, PATH_FIELDS);
                    let tags = match f.get("tags") {
                        Some(t) => self.tags("tags", &t.value),
                        None => Some(BTreeMap::new()),
                    };
                    let drain = match f.get("drain") {
                        Some(d) => self.boolean("drain", &d.value),
                        None => Some(false),
                    };
                    match f.get("path") {
                        Some(p) => match self.string("path", &p.value) {
                            Some(s) => (s, p.value.span, tags, drain),
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
            let mut valid = self.abs_path(codes::INVALID_PATH, "path", path, pspan, "/bricks/");
            if valid && names::dir_path(path) == Err(PathError::SystemDir) {
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
                valid = false;
            }
            if valid && names::dir_path(path) == Err(PathError::TooShallow) {
                self.err(
                    codes::INVALID_PATH,
                    pspan,
                    "top-level directory",
                    format!("path `{path}` is a top-level directory"),
                )
                .help = Some(
                    "a brick base is at least two levels deep, on a dedicated mounted filesystem, e.g. `/bricks/d0`"
                        .to_string(),
                );
                valid = false;
            }
            self.listed_once("path", path, pspan, section, &mut seen);
            match (tags, drain) {
                (Some(tags), Some(drain)) if valid => out.push(DirPath {
                    path: path.trim_end_matches('/').to_string(),
                    tags,
                    drain,
                }),
                _ => {}
            }
        }
        // the valid entries; errors for the others are already recorded
        Some(out)
    }
}
