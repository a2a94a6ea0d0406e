//! The INPUT file format as Rust types, for two jobs: generating
//! `schemas/brickyard.schema.json` (editor completion for YAML) and being the one
//! registry of field names the validator accepts. The validator reads the raw tree
//! by hand (to report every mistake with a span), so these structs are never
//! deserialized into; a test checks the field lists below against them, so the
//! schema and unknown-field detection cannot drift apart.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::model::{BrickKind, KnownHosts, VolumeState, ZoneChecking};

/// Top-level keys of a config file.
pub(crate) const ROOT_FIELDS: &[&str] = &[
    "cluster",
    "cluster_id",
    "ssh",
    "placement",
    "nodes",
    "volumes",
];
pub(crate) const SSH_FIELDS: &[&str] = &[
    "user",
    "port",
    "identity_file",
    "known_hosts",
    "options",
    "sudo",
    "connect_timeout",
];
pub(crate) const PLACEMENT_FIELDS: &[&str] = &["zone_checking", "brick_min_size", "brick_max_size"];
pub(crate) const NODE_FIELDS: &[&str] = &[
    "manage", "storage", "zone", "devices", "paths", "drain", "ssh",
];
pub(crate) const DEVICE_FIELDS: &[&str] = &["path", "tags", "wipe", "drain"];
pub(crate) const PATH_FIELDS: &[&str] = &["path", "tags", "drain"];
pub(crate) const VOLUME_FIELDS: &[&str] = &[
    "size",
    "durability",
    "snapshot_factor",
    "options",
    "protect",
    "state",
    "device_tags",
    "brick_kind",
    "rebalance",
    "adopt",
];
pub(crate) const DURABILITY_FIELDS: &[&str] = &["type", "replica", "arbiter", "data", "redundancy"];

/// A size with a unit: `100GiB`, `1.5TiB`, `500GB`. Bare numbers are refused.
#[derive(JsonSchema)]
#[schemars(extend(
    "pattern" = r"^\s*[0-9]+(\.[0-9]+)?\s*(B|KiB|MiB|GiB|TiB|PiB|KB|kB|MB|GB|TB|PB)\s*$"
))]
pub struct SizeText(pub String);

/// A cluster id: 32 lowercase hex digits (128 random bits).
#[derive(JsonSchema)]
#[schemars(extend("pattern" = "^[0-9a-f]{32}$"))]
pub struct ClusterIdText(pub String);

/// A brickyard config file (YAML shape; HCL uses `node "name" {}` / `volume "name" {}`
/// blocks for the same fields, see docs/config.md).
#[derive(JsonSchema)]
#[schemars(title = "brickyard config", extend("additionalProperties" = false))]
pub struct ConfigFile {
    /// Cluster name; written into ownership markers on everything brickyard creates.
    pub cluster: String,
    /// The cluster's id, as the first plan showed it; nodes recording another are refused.
    pub cluster_id: Option<ClusterIdText>,
    /// SSH defaults for every node.
    pub ssh: Option<SshInput>,
    pub placement: Option<PlacementInput>,
    /// Nodes by name.
    pub nodes: BTreeMap<String, NodeInput>,
    /// Volumes by gluster volume name.
    pub volumes: Option<BTreeMap<String, VolumeInput>>,
}

#[derive(JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct SshInput {
    /// Default `root`.
    pub user: Option<String>,
    /// Default 22.
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    pub identity_file: Option<String>,
    /// Default `strict`.
    pub known_hosts: Option<KnownHosts>,
    /// Extra `Key=Value` options for ssh `-o`.
    pub options: Option<Vec<String>>,
    /// Run commands through `sudo -n`; default false.
    pub sudo: Option<bool>,
    /// Seconds; default 10.
    #[schemars(range(min = 1, max = 3600))]
    pub connect_timeout: Option<u32>,
}

#[derive(JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct PlacementInput {
    /// Default `strict`: bricks of one set must be in distinct zones.
    pub zone_checking: Option<ZoneChecking>,
    /// Default `1GiB`.
    pub brick_min_size: Option<SizeText>,
    /// Default `4TiB`.
    pub brick_max_size: Option<SizeText>,
}

#[derive(JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct NodeInput {
    /// Address or hostname SSH connects to (required).
    pub manage: String,
    /// Address gluster uses; default: `manage`.
    pub storage: Option<String>,
    /// Failure zone, >= 1; default 1.
    #[schemars(range(min = 1))]
    pub zone: Option<u32>,
    /// Raw block devices under /dev.
    pub devices: Option<Vec<DeviceInput>>,
    /// Directories on mounted filesystems for directory bricks.
    pub paths: Option<Vec<PathInput>>,
    /// Retire the node: every device and path of it drains (docs/operations.md).
    /// Default false.
    pub drain: Option<bool>,
    /// Overrides of the top-level `ssh` fields for this node.
    pub ssh: Option<SshInput>,
}

#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum DeviceInput {
    Path(String),
    Object(DeviceObject),
}

#[derive(JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct DeviceObject {
    pub path: String,
    pub tags: Option<BTreeMap<String, String>>,
    /// Allow wiping existing signatures (also needs `--allow-wipe`). Default false.
    pub wipe: Option<bool>,
    /// Retire the device: no new bricks; its bricks are moved to other devices
    /// (docs/operations.md). Default false.
    pub drain: Option<bool>,
}

#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum PathInput {
    Path(String),
    Object(PathObject),
}

#[derive(JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct PathObject {
    pub path: String,
    pub tags: Option<BTreeMap<String, String>>,
    /// Retire the path: no new bricks; its bricks are moved to other paths
    /// (docs/operations.md). Default false.
    pub drain: Option<bool>,
}

#[derive(JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct VolumeInput {
    /// Usable size with a unit (required).
    pub size: SizeText,
    /// Default: replicate, replica 3.
    pub durability: Option<DurabilityInput>,
    /// 1..=100, default 1.
    #[schemars(range(min = 1, max = 100))]
    pub snapshot_factor: Option<f64>,
    /// `gluster volume set` options.
    pub options: Option<BTreeMap<String, OptionValue>>,
    /// Refuse destructive changes; default false.
    pub protect: Option<bool>,
    /// `present` (exists and started, the default), `stopped` (exists, stopped) or
    /// `absent` (deleted, with `--allow-destroy`).
    pub state: Option<VolumeState>,
    pub device_tags: Option<BTreeMap<String, String>>,
    /// Default: `lvm` if any node has devices, else `directory`.
    pub brick_kind: Option<BrickKind>,
    /// What an expand starts: `fix-layout` (default) or `full` (moves old files too).
    pub rebalance: Option<crate::config::model::Rebalance>,
    /// Take over this volume although brickyard did not create it (made by hand, by
    /// gluster-ansible or by Heketi): its layout must match the declaration; the plan
    /// marks its bricks and the volume (docs/adoption.md). Default false.
    pub adopt: Option<bool>,
}

#[derive(JsonSchema)]
#[schemars(tag = "type", rename_all = "snake_case")]
pub enum DurabilityInput {
    None {},
    Replicate {
        #[schemars(range(min = 1, max = 3))]
        replica: u8,
        arbiter: Option<bool>,
    },
    Disperse {
        #[schemars(range(min = 2))]
        data: u8,
        #[schemars(range(min = 1))]
        redundancy: u8,
    },
}

#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum OptionValue {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// The committed schema's text (pretty JSON with a trailing newline).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn props(schema: &serde_json::Value, def: Option<&str>) -> BTreeSet<String> {
        let node = match def {
            Some(d) => &schema["$defs"][d],
            None => schema,
        };
        let mut out = BTreeSet::new();
        let mut collect = |n: &serde_json::Value| {
            if let Some(p) = n["properties"].as_object() {
                out.extend(p.keys().cloned());
            }
        };
        collect(node);
        for variant in node["oneOf"].as_array().into_iter().flatten() {
            collect(variant);
        }
        out
    }

    fn set(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The validator's field lists and the schema come from one place.
    #[test]
    fn field_lists_match_the_schema_types() {
        let schema: serde_json::Value = serde_json::from_str(&schema_json()).unwrap();
        assert_eq!(props(&schema, None), set(ROOT_FIELDS));
        assert_eq!(props(&schema, Some("SshInput")), set(SSH_FIELDS));
        assert_eq!(
            props(&schema, Some("PlacementInput")),
            set(PLACEMENT_FIELDS)
        );
        assert_eq!(props(&schema, Some("NodeInput")), set(NODE_FIELDS));
        assert_eq!(props(&schema, Some("DeviceObject")), set(DEVICE_FIELDS));
        assert_eq!(props(&schema, Some("PathObject")), set(PATH_FIELDS));
        assert_eq!(props(&schema, Some("VolumeInput")), set(VOLUME_FIELDS));
        assert_eq!(
            props(&schema, Some("DurabilityInput")),
            set(DURABILITY_FIELDS)
        );
    }
}
