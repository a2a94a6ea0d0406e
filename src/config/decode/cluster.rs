//! The top of the document: one cluster with its name, ssh defaults, placement, nodes
//! and volumes. Decodes each section in file order, runs the node rules once all nodes
//! are known, and assembles [`Desired`] from the typed sections.

use std::collections::BTreeMap;

use super::super::diagnostic::{Diagnostic, codes};
use super::super::model::{Desired, Node, Placement, Ssh};
use super::super::names;
use super::super::raw::{Kind, Span, Value};
use super::super::rules;
use super::super::schema::ROOT_FIELDS;
use super::{Decoder, Format};

impl Decoder<'_> {
    pub(super) fn root(&mut self, root: &Value) -> Option<Desired> {
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
                self.name_checked("cluster name", s, e.value.span, names::cluster_name(s))
                    .then(|| s.to_string())
            }),
            None => {
                self.missing("the config", "cluster", start);
                None
            }
        };
        let cluster_id = f.get("cluster_id").and_then(|e| self.cluster_id(&e.value));
        let ssh = match f.get("ssh") {
            Some(e) => self.ssh("ssh", &e.value, &Ssh::default()),
            None => Ssh::default(),
        };
        let placement = match f.get("placement") {
            Some(e) => self.placement(&e.value),
            None => Some(Placement::default()),
        };

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
        self.diags.extend(rules::check_nodes(&nodes));

        let volumes = match f.get("volumes") {
            Some(e) => self.volumes(e, &nodes, placement.as_ref()),
            None => BTreeMap::new(),
        };

        let cluster = cluster?;
        let placement = placement?;
        Some(Desired {
            cluster,
            cluster_id,
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
                            drain: n.drain,
                            ssh: n.ssh,
                        },
                    )
                })
                .collect(),
            volumes,
        })
    }

    /// `cluster_id`: exactly 32 lowercase hex digits (one spelling, so records compare
    /// as text). An id the operator mistypes must not pass as a different cluster.
    fn cluster_id(&mut self, v: &Value) -> Option<String> {
        // An unquoted YAML id of digits (and one `e`) reads as a number; the text as
        // written is still the id, so the line the plan suggests works unquoted too.
        let s = match &v.kind {
            Kind::Int(_) | Kind::Float(_)
                if names::is_cluster_id(self.source_text(v.span).trim()) =>
            {
                return Some(self.source_text(v.span).trim().to_string());
            }
            _ => self.string("cluster_id", v)?,
        };
        if names::is_cluster_id(s) {
            return Some(s.to_string());
        }
        let help = if s.len() == names::CLUSTER_ID_LEN
            && names::is_cluster_id(&s.to_ascii_lowercase())
        {
            format!("write it in lowercase: `{}`", s.to_ascii_lowercase())
        } else {
            "copy the id the plan shows (`cluster prod (id …)`), or leave `cluster_id` out and brickyard makes one at the first apply".to_string()
        };
        self.err(
            codes::INVALID_VALUE,
            v.span,
            "not a cluster id",
            format!(
                "`cluster_id` must be {} lowercase hex digits, found `{}`",
                names::CLUSTER_ID_LEN,
                super::printable(s)
            ),
        )
        .help = Some(help);
        None
    }
}
