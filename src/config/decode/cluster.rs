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
}
