//! The `volumes` section: each volume's name, size, durability, options and brick
//! kind. A present volume's topology is then checked by the volume rules
//! ([`super::super::rules::check_volume`]) right after the volume itself, so findings
//! stay in file order.

use std::collections::BTreeMap;

use super::super::diagnostic::codes;
use super::super::model::{BrickKind, Durability, Placement, Rebalance, Volume, VolumeState};
use super::super::names;
use super::super::raw::{Entry, Kind, Span, Value};
use super::super::rules::{self, VolumeCtx};
use super::super::schema::VOLUME_FIELDS;
use super::{Decoder, printable};
use crate::config::decoded::NodeIn;

impl Decoder<'_> {
    pub(super) fn volumes(
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

    /// [`names::volume_name`], reported.
    fn volume_name(&mut self, name: &str, span: Span) -> bool {
        let Err(e) = names::volume_name(name) else {
            return true;
        };
        self.err(
            codes::INVALID_VOLUME_NAME,
            span,
            "gluster refuses this name",
            format!("volume name `{}` {}", printable(name), e.why()),
        )
        .help = Some(names::volume_name_help());
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
            None => Some(Durability::default()),
        };
        let snapshot_factor = match f.get("snapshot_factor") {
            Some(s) => self.snapshot_factor(&s.value),
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
                .choice("state", &s.value, &["present", "stopped", "absent"])
                .map(|s| match s {
                    "absent" => VolumeState::Absent,
                    "stopped" => VolumeState::Stopped,
                    _ => VolumeState::Present,
                }),
            None => Some(VolumeState::default()),
        };
        let rebalance = match f.get("rebalance") {
            Some(r) => self
                .choice("rebalance", &r.value, &["fix-layout", "full"])
                .map(|r| {
                    if r == "full" {
                        Rebalance::Full
                    } else {
                        Rebalance::FixLayout
                    }
                }),
            None => Some(Rebalance::default()),
        };
        let adopt = match f.get("adopt") {
            Some(a) => self.boolean("adopt", &a.value),
            None => Some(false),
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
        if let (Some(dur), Some(kind), Some(tags), Some(true)) = (
            durability,
            brick_kind,
            device_tags.as_ref(),
            state.map(VolumeState::exists),
        ) {
            let dur_span = dur_entry.map(|d| d.key_span).unwrap_or(e.key_span);
            let ctx = VolumeCtx {
                name: name_ok.then_some(e.key.as_str()),
                name_span: e.key_span,
                size,
                section: &section,
                nodes,
                durability: dur,
                kind,
                tags,
                placement,
                kind_span: kind_entry.map(|k| k.value.span).unwrap_or(dur_span),
                dur_span,
            };
            self.diags.extend(rules::check_volume(&ctx));
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
            rebalance: rebalance?,
            adopt: adopt?,
        })
    }

    fn snapshot_factor(&mut self, v: &Value) -> Option<f64> {
        let x = match v.kind {
            Kind::Int(i) => i as f64,
            Kind::Float(x) => x,
            _ => {
                self.wrong_type("snapshot_factor", "a number", v);
                return None;
            }
        };
        if (1.0..=100.0).contains(&x) {
            return Some(x);
        }
        self.err(
            codes::INVALID_SNAPSHOT_FACTOR,
            v.span,
            "outside 1..100",
            format!("snapshot_factor {x} is outside 1..=100"),
        )
        .help = Some(
            "1 means no room for snapshots; 2 doubles the thin pool; Heketi allows at most 100"
                .to_string(),
        );
        None
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
                // bidi controls and line separators reorder or split what an operator
                // reviews, and char::is_control misses them (finding #13)
                Some(s) if s.chars().any(names::is_unsafe_char) => {
                    let c = s.chars().find(|c| names::is_unsafe_char(*c)).unwrap_or(' ');
                    self.err(
                        codes::INVALID_OPTION,
                        e.value.span,
                        "invisible character",
                        format!(
                            "the value of option `{}` contains {}",
                            e.key,
                            names::describe_char(c)
                        ),
                    )
                    .help = Some("gluster option values are plain single-line text: remove the bidi control or separator".to_string());
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
