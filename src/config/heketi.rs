//! Migration from Heketi: a `topology.json` (the file `heketi-cli topology load`
//! reads) becomes a brickyard config in YAML or HCL. Pure text in, text out; the CLI
//! (`brickyard import heketi`) validates the result before printing it.
//!
//! Mapping: each cluster -> one config; node `hostnames.manage[0]` -> `manage`,
//! `hostnames.storage[0]` -> `storage`, `zone` -> `zone`; devices as strings or
//! `{name, destroydata, tags}` objects -> `devices` (`destroydata: true` -> `wipe: true`).
//! Heketi checks zones only when a StorageClass asks for it, so the config says
//! `zone_checking: none` to keep the behaviour the cluster was built with.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Deserialize;

use super::Format;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeketiError {
    #[error("not a Heketi topology: {0}")]
    Json(String),
    #[error("the topology has no clusters")]
    NoClusters,
    #[error("the topology has {count} clusters; choose one with --cluster N:\n{list}")]
    SeveralClusters { count: usize, list: String },
    #[error("--cluster {asked}: the topology has clusters 1..={count}")]
    NoSuchCluster { asked: usize, count: usize },
    #[error("cluster {cluster}, node {node}: no manage hostname")]
    NoManage { cluster: usize, node: usize },
}

#[derive(Debug, Deserialize)]
struct Topology {
    clusters: Vec<Cluster>,
}

#[derive(Debug, Deserialize)]
struct Cluster {
    #[serde(default)]
    nodes: Vec<NodeEntry>,
}

#[derive(Debug, Deserialize)]
struct NodeEntry {
    node: NodeInfo,
    #[serde(default)]
    devices: Vec<DeviceEntry>,
}

#[derive(Debug, Deserialize)]
struct NodeInfo {
    hostnames: Hostnames,
    #[serde(default = "one")]
    zone: i64,
}

fn one() -> i64 {
    1
}

/// A node's hostnames, as Heketi writes them in a topology and in its database export.
#[derive(Debug, Deserialize)]
pub(crate) struct Hostnames {
    #[serde(default)]
    pub(crate) manage: Vec<String>,
    #[serde(default)]
    pub(crate) storage: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DeviceEntry {
    Name(String),
    Object {
        name: String,
        #[serde(default)]
        destroydata: bool,
        #[serde(default)]
        tags: BTreeMap<String, String>,
    },
}

/// Options for [`convert`].
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Format,
    /// 1-based index of the cluster to convert; required when there are several.
    pub cluster: Option<usize>,
    /// brickyard cluster name (default `heketi`, or `heketi-N` when chosen among several).
    pub name: Option<String>,
    /// Shown in the header comment.
    pub source_name: String,
}

struct OutNode {
    name: String,
    manage: String,
    storage: String,
    zone: i64,
    devices: Vec<(String, BTreeMap<String, String>, bool)>,
}

/// Convert a Heketi topology to config text.
pub fn convert(json: &str, opts: &ImportOptions) -> Result<String, HeketiError> {
    let topo: Topology =
        serde_json::from_str(json).map_err(|e| HeketiError::Json(e.to_string()))?;
    let count = topo.clusters.len();
    let index = match (count, opts.cluster) {
        (0, _) => return Err(HeketiError::NoClusters),
        (_, Some(i)) if i == 0 || i > count => {
            return Err(HeketiError::NoSuchCluster { asked: i, count });
        }
        (_, Some(i)) => i,
        (1, None) => 1,
        (_, None) => {
            let list = topo
                .clusters
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let hosts: Vec<&str> = c
                        .nodes
                        .iter()
                        .filter_map(|n| n.node.hostnames.manage.first().map(String::as_str))
                        .collect();
                    format!("  {}: {} node(s): {}", i + 1, hosts.len(), hosts.join(", "))
                })
                .collect::<Vec<_>>()
                .join("\n");
            return Err(HeketiError::SeveralClusters { count, list });
        }
    };
    let cluster = &topo.clusters[index - 1];
    let name = opts.name.clone().unwrap_or_else(|| {
        if count == 1 {
            "heketi".to_string()
        } else {
            format!("heketi-{index}")
        }
    });
    let mut used = BTreeSet::new();
    let mut nodes = Vec::new();
    for (i, n) in cluster.nodes.iter().enumerate() {
        let manage = n
            .node
            .hostnames
            .manage
            .first()
            .cloned()
            .ok_or(HeketiError::NoManage {
                cluster: index,
                node: i + 1,
            })?;
        let storage = n
            .node
            .hostnames
            .storage
            .first()
            .cloned()
            .unwrap_or_else(|| manage.clone());
        let node_name = unique(node_name(&manage), &mut used);
        let devices = n
            .devices
            .iter()
            .map(|d| match d {
                DeviceEntry::Name(p) => (p.clone(), BTreeMap::new(), false),
                DeviceEntry::Object {
                    name,
                    destroydata,
                    tags,
                } => (name.clone(), tags.clone(), *destroydata),
            })
            .collect();
        nodes.push(OutNode {
            name: node_name,
            manage,
            storage,
            zone: n.node.zone,
            devices,
        });
    }
    let header = format!(
        "Imported from Heketi topology {} (cluster {index} of {count}).",
        opts.source_name
    );
    Ok(match opts.format {
        Format::Yaml => yaml(&header, &name, &nodes),
        Format::Hcl => hcl(&header, &name, &nodes),
    })
}

/// A node name from a hostname: the first DNS label, or the whole IP with `-` for
/// separators; anything outside the safe name charset becomes `-`.
pub(crate) fn node_name(manage: &str) -> String {
    let base = if manage.parse::<std::net::IpAddr>().is_ok() {
        format!("node-{manage}")
    } else {
        manage.split('.').next().unwrap_or(manage).to_string()
    };
    let mut s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s = s
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    s.truncate(56);
    if s.is_empty() { "node".to_string() } else { s }
}

pub(crate) fn unique(base: String, used: &mut BTreeSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

/// A double-quoted string valid in both YAML and HCL (JSON escapes; HCL templates off).
fn quote(s: &str, hcl: bool) -> String {
    let q = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
    if hcl {
        q.replace("${", "$${").replace("%{", "%%{")
    } else {
        q
    }
}

const WIPE_NOTE: &str = "Heketi destroydata: brickyard still needs --allow-wipe to wipe it";
const ZONE_NOTE: &str =
    "Heketi checks zones only on request; set strict once zones are real failure domains";

fn yaml(header: &str, name: &str, nodes: &[OutNode]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {header}");
    let _ = writeln!(o, "cluster: {}", quote(name, false));
    let _ = writeln!(o, "placement:\n  # {ZONE_NOTE}\n  zone_checking: none");
    let _ = writeln!(o, "nodes:");
    for n in nodes {
        let _ = writeln!(o, "  {}:", n.name);
        let _ = writeln!(o, "    manage: {}", quote(&n.manage, false));
        let _ = writeln!(o, "    storage: {}", quote(&n.storage, false));
        let _ = writeln!(o, "    zone: {}", n.zone);
        if n.devices.is_empty() {
            continue;
        }
        let _ = writeln!(o, "    devices:");
        for (path, tags, wipe) in &n.devices {
            if tags.is_empty() && !wipe {
                let _ = writeln!(o, "      - {}", quote(path, false));
                continue;
            }
            let _ = writeln!(o, "      - path: {}", quote(path, false));
            if !tags.is_empty() {
                let t: Vec<String> = tags
                    .iter()
                    .map(|(k, v)| format!("{}: {}", quote(k, false), quote(v, false)))
                    .collect();
                let _ = writeln!(o, "        tags: {{ {} }}", t.join(", "));
            }
            if *wipe {
                let _ = writeln!(o, "        # {WIPE_NOTE}\n        wipe: true");
            }
        }
    }
    o
}

fn hcl(header: &str, name: &str, nodes: &[OutNode]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {header}");
    let _ = writeln!(o, "cluster = {}\n", quote(name, true));
    let _ = writeln!(
        o,
        "placement {{\n  # {ZONE_NOTE}\n  zone_checking = \"none\"\n}}"
    );
    for n in nodes {
        let _ = writeln!(o, "\nnode {} {{", quote(&n.name, true));
        let _ = writeln!(o, "  manage  = {}", quote(&n.manage, true));
        let _ = writeln!(o, "  storage = {}", quote(&n.storage, true));
        let _ = writeln!(o, "  zone    = {}", n.zone);
        for (path, tags, wipe) in &n.devices {
            if tags.is_empty() && !wipe {
                let _ = writeln!(o, "  device {} {{}}", quote(path, true));
                continue;
            }
            let _ = writeln!(o, "  device {} {{", quote(path, true));
            if !tags.is_empty() {
                let t: Vec<String> = tags
                    .iter()
                    .map(|(k, v)| format!("{} = {}", quote(k, true), quote(v, true)))
                    .collect();
                let _ = writeln!(o, "    tags = {{ {} }}", t.join(", "));
            }
            if *wipe {
                let _ = writeln!(o, "    # {WIPE_NOTE}\n    wipe = true");
            }
            let _ = writeln!(o, "  }}");
        }
        let _ = writeln!(o, "}}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_safe_and_unique() {
        let mut used = BTreeSet::new();
        assert_eq!(unique(node_name("gfs1.example.com"), &mut used), "gfs1");
        assert_eq!(unique(node_name("gfs1.other.net"), &mut used), "gfs1-2");
        assert_eq!(unique(node_name("10.0.0.4"), &mut used), "node-10-0-0-4");
        assert_eq!(unique(node_name("fe80::1"), &mut used), "node-fe80--1");
        assert_eq!(unique(node_name("$(x)"), &mut used), "x");
    }

    #[test]
    fn hcl_strings_never_interpolate() {
        assert_eq!(quote("a${b}", true), "\"a$${b}\"");
        assert_eq!(quote("a\"b", false), "\"a\\\"b\"");
    }
}
