//! A volume's `durability`: none, replicate (with arbiter) or disperse, checked against
//! the layouts gluster's CLI accepts (glusterfs cli/src/cli-cmd-parser.c).

use super::super::diagnostic::{Diagnostic, codes};
use super::super::model::Durability;
use super::super::raw::{Kind, Value};
use super::super::schema::DURABILITY_FIELDS;
use super::Decoder;

impl Decoder<'_> {
    pub(super) fn durability(&mut self, v: &Value) -> Option<Durability> {
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
}
