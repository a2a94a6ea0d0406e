//! A Heketi database export (`heketi db export --dbfile heketi.db --jsonfile db.json`)
//! -> the config Heketi's view of one cluster describes: its nodes (manage and storage
//! hostnames, zone), their devices, and every volume with Heketi's name, size (GiB),
//! durability and options, as `brick_kind: lvm` with `adopt: true`. Heketi's database
//! is what drifted from reality (the reason to leave it), so nothing here is trusted:
//! planning the result against the live cluster checks every volume against what the
//! nodes hold, and each difference is a line of an `adopt_mismatch` blocker.
//!
//! Field names are Heketi's Go structs as `encoding/json` writes them
//! (`apps/glusterfs/dbcommon.go`: `clusterentries`, `nodeentries`, `deviceentries`,
//! `volumeentries`; entries carry `Info` with the API types' JSON names).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::config::heketi::{Hostnames, node_name, unique};
use crate::config::{
    BrickKind, Desired, Device, Durability, Node, Rebalance, Volume, VolumeState, ZoneChecking,
};
use crate::units::GIB;

use super::Imported;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeketiDbError {
    #[error("not a Heketi database export: {0}")]
    Json(String),
    #[error("the export has no clusters")]
    NoClusters,
    #[error("the export has {count} clusters; choose one with --cluster ID:\n{list}")]
    SeveralClusters { count: usize, list: String },
    #[error("--cluster {0}: the export has no such cluster")]
    NoSuchCluster(String),
    #[error("node {0}: no manage hostname")]
    NoManage(String),
    #[error("volume {name}: {why}")]
    Volume { name: String, why: String },
}

#[derive(Debug, Deserialize)]
struct Export {
    #[serde(default)]
    clusterentries: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    nodeentries: BTreeMap<String, NodeEntry>,
    #[serde(default)]
    deviceentries: BTreeMap<String, DeviceEntry>,
    #[serde(default)]
    volumeentries: BTreeMap<String, VolumeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeEntry {
    info: NodeInfo,
    #[serde(default)]
    devices: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct NodeInfo {
    #[serde(default)]
    zone: i64,
    hostnames: Hostnames,
    #[serde(default)]
    cluster: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeviceEntry {
    info: DeviceInfo,
}

#[derive(Debug, Deserialize)]
struct DeviceInfo {
    name: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VolumeEntry {
    info: VolumeInfo,
    #[serde(default)]
    gluster_volume_options: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct VolumeInfo {
    id: String,
    name: String,
    /// GiB.
    size: u64,
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    durability: DurabilityInfo,
    #[serde(default)]
    block: bool,
    #[serde(default)]
    snapshot: Snapshot,
}

#[derive(Debug, Default, Deserialize)]
struct DurabilityInfo {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    replicate: Replicate,
    #[serde(default)]
    disperse: Disperse,
}

#[derive(Debug, Default, Deserialize)]
struct Replicate {
    #[serde(default)]
    replica: u8,
}

#[derive(Debug, Default, Deserialize)]
struct Disperse {
    #[serde(default)]
    data: u8,
    #[serde(default)]
    redundancy: u8,
}

#[derive(Debug, Default, Deserialize)]
struct Snapshot {
    #[serde(default)]
    enable: bool,
    #[serde(default)]
    factor: f64,
}

/// The option Heketi sets on every volume it creates (`volume_entry_create.go`).
pub const HEKETI_ID: &str = "user.heketi.id";
/// The option Heketi sets on arbiter volumes (`volume_entry.go`).
pub const HEKETI_ARBITER: &str = "user.heketi.arbiter";

/// The config for cluster `cluster` (Heketi's id; needed when the export has several) of
/// export `json`, on top of `base` (its cluster name, ssh and placement defaults).
pub fn from_export(
    json: &str,
    cluster: Option<&str>,
    base: &Desired,
    source: &str,
) -> Result<Imported, HeketiDbError> {
    let ex: Export = serde_json::from_str(json).map_err(|e| HeketiDbError::Json(e.to_string()))?;
    let mut ids: BTreeSet<&str> = ex.clusterentries.keys().map(String::as_str).collect();
    // an export always lists its clusters; nodes name theirs too
    ids.extend(ex.nodeentries.values().map(|n| n.info.cluster.as_str()));
    ids.remove("");
    let id = match (cluster, ids.len()) {
        (Some(c), _) if ids.contains(c) => c.to_string(),
        (Some(c), _) => return Err(HeketiDbError::NoSuchCluster(c.to_string())),
        (None, 0) => return Err(HeketiDbError::NoClusters),
        (None, 1) => ids.first().map(|s| s.to_string()).unwrap_or_default(),
        (None, count) => {
            let list = ids
                .iter()
                .map(|c| {
                    let n = ex
                        .nodeentries
                        .values()
                        .filter(|n| n.info.cluster == *c)
                        .count();
                    format!("  {c}: {n} node(s)")
                })
                .collect::<Vec<_>>()
                .join("\n");
            return Err(HeketiDbError::SeveralClusters { count, list });
        }
    };
    let mut out = base.clone();
    out.nodes.clear();
    out.volumes.clear();
    out.placement.zone_checking = ZoneChecking::None;
    let mut used = BTreeSet::new();
    // by manage hostname, so node names do not depend on Heketi's random ids
    let mut nodes: Vec<(&String, &NodeEntry)> = ex
        .nodeentries
        .iter()
        .filter(|(_, n)| n.info.cluster == id)
        .collect();
    nodes.sort_by_key(|(k, n)| (n.info.hostnames.manage.first().cloned(), k.to_string()));
    for (nid, n) in nodes {
        let manage = n
            .info
            .hostnames
            .manage
            .first()
            .cloned()
            .ok_or_else(|| HeketiDbError::NoManage(nid.clone()))?;
        let storage = n
            .info
            .hostnames
            .storage
            .first()
            .cloned()
            .unwrap_or_else(|| manage.clone());
        let mut devices: Vec<Device> = n
            .devices
            .iter()
            .filter_map(|d| ex.deviceentries.get(d))
            .map(|d| Device {
                path: d.info.name.clone(),
                tags: d.info.tags.clone(),
                wipe: false,
                drain: false,
            })
            .collect();
        devices.sort_by(|a, b| a.path.cmp(&b.path));
        let node = Node {
            manage,
            storage,
            zone: u32::try_from(n.info.zone.max(1)).unwrap_or(1),
            devices,
            paths: Vec::new(),
            drain: false,
            ssh: base
                .nodes
                .values()
                .next()
                .map(|b| b.ssh.clone())
                .unwrap_or_default(),
        };
        out.nodes
            .insert(unique(node_name(&node.manage), &mut used), node);
    }
    let mut notes = BTreeMap::new();
    let mut left_out = Vec::new();
    for v in ex.volumeentries.values().filter(|v| v.info.cluster == id) {
        let i = &v.info;
        let mut options: BTreeMap<String, String> = BTreeMap::new();
        // "key value" each; Heketi keeps the empty string a StorageClass without options
        // splits into
        for o in v
            .gluster_volume_options
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
        {
            let (k, val) = o.split_once(char::is_whitespace).unwrap_or((o, ""));
            options.insert(k.to_string(), val.trim().to_string());
        }
        options.insert(HEKETI_ID.into(), i.id.clone());
        let arbiter = options
            .get(HEKETI_ARBITER)
            .is_some_and(|a| a.eq_ignore_ascii_case("true"));
        let durability = match i.durability.kind.as_str() {
            "replicate" | "" => Durability::Replicate {
                replica: if i.durability.replicate.replica == 0 {
                    3
                } else {
                    i.durability.replicate.replica
                },
                arbiter,
            },
            "none" => Durability::None,
            "disperse" => Durability::Disperse {
                data: i.durability.disperse.data,
                redundancy: i.durability.disperse.redundancy,
            },
            other => {
                return Err(HeketiDbError::Volume {
                    name: i.name.clone(),
                    why: format!("durability type {other:?} is none of replicate, disperse, none"),
                });
            }
        };
        let size = i
            .size
            .checked_mul(GIB)
            .ok_or_else(|| HeketiDbError::Volume {
                name: i.name.clone(),
                why: format!("size {} GiB is out of range", i.size),
            })?;
        let mut vnotes = vec![format!(
            "Heketi volume {} ({} GiB): adopted in place with its bricks and VGs",
            i.id, i.size
        )];
        if i.block {
            vnotes.push("a Heketi block-hosting volume: brickyard manages the gluster volume, not the gluster-block LUNs in it".into());
        }
        if crate::config::names::volume_name(&i.name).is_err() {
            left_out.push(i.name.clone());
            continue;
        }
        notes.insert(i.name.clone(), vnotes);
        out.volumes.insert(
            i.name.clone(),
            Volume {
                size,
                durability,
                snapshot_factor: if i.snapshot.enable && i.snapshot.factor >= 1.0 {
                    i.snapshot.factor
                } else {
                    1.0
                },
                options,
                protect: false,
                state: VolumeState::Present,
                device_tags: BTreeMap::new(),
                brick_kind: BrickKind::Lvm,
                rebalance: Rebalance::default(),
                adopt: true,
            },
        );
    }
    let mut header = vec![
        format!("brickyard import heketi: Heketi cluster {id} as its database export {source} records it."),
        "Heketi's database can differ from the cluster: `brickyard plan` checks every volume against the nodes and lists each difference before it adopts anything.".into(),
    ];
    for name in &left_out {
        header.push(format!(
            "volume {name:?}: not a name brickyard can declare: left out"
        ));
    }
    let adopted = out.volumes.keys().cloned().collect();
    Ok(Imported {
        desired: out,
        header,
        volume_notes: notes,
        zone_note: Some(
            "Heketi checks zones only on request; set strict once zones are real failure domains"
                .into(),
        ),
        adopted,
    })
}
