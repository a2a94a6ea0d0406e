//! The validated desired state. Everything here has passed validation: names are safe
//! to hand to a shell quoter, sizes are non-zero bytes, layouts are ones gluster accepts.
//! This is the contract between `config` and `plan`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::units::{GIB, TIB};

/// Default smallest brick (Heketi's default too).
pub const DEFAULT_BRICK_MIN: u64 = GIB;
/// Default largest brick before a volume gets another distribute set.
pub const DEFAULT_BRICK_MAX: u64 = 4 * TIB;

/// The whole declared cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Desired {
    /// Cluster name; written into ownership markers (LVM tags, volume option).
    pub cluster: String,
    /// The cluster's identity pinned in the config (32 lowercase hex). Every declared
    /// node records `<cluster> <id>` in `/var/lib/brickyard/cluster-id`; a node recording
    /// another identity is refused. Absent in configs written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    pub placement: Placement,
    /// Keyed by node name (the config's key, not the hostname).
    pub nodes: BTreeMap<String, Node>,
    /// Keyed by gluster volume name.
    pub volumes: BTreeMap<String, Volume>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Placement {
    pub zone_checking: ZoneChecking,
    /// Smallest brick brickyard will create (default 1 GiB, like Heketi).
    pub brick_min_size: u64,
    /// Largest brick; larger volumes get more distribute sets (default 4 TiB).
    pub brick_max_size: u64,
}

/// What an absent `placement` (or an absent field of it) means.
impl Default for Placement {
    fn default() -> Placement {
        Placement {
            zone_checking: ZoneChecking::default(),
            brick_min_size: DEFAULT_BRICK_MIN,
            brick_max_size: DEFAULT_BRICK_MAX,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ZoneChecking {
    /// Bricks of one set must be in distinct zones.
    #[default]
    Strict,
    /// Zones are a preference only: spread when possible.
    None,
}

/// How to reach a node over SSH, after merging the cluster defaults with the node's overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ssh {
    pub user: String,
    pub port: u16,
    pub identity_file: Option<String>,
    pub known_hosts: KnownHosts,
    /// Extra `-o Key=Value` options passed to ssh, in order.
    pub options: Vec<String>,
    /// Run remote commands through `sudo -n` (for a non-root user).
    pub sudo: bool,
    /// Seconds to wait for the TCP connection and authentication.
    pub connect_timeout: u32,
}

/// The documented ssh defaults: root on port 22, strict host keys, 10 s to connect.
impl Default for Ssh {
    fn default() -> Ssh {
        Ssh {
            user: "root".to_string(),
            port: 22,
            identity_file: None,
            known_hosts: KnownHosts::default(),
            options: Vec::new(),
            sudo: false,
            connect_timeout: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KnownHosts {
    /// Unknown or changed host keys are refused.
    #[default]
    Strict,
    /// Unknown keys are recorded on first contact; changed keys are still refused.
    AcceptNew,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Node {
    /// Address or hostname SSH connects to.
    pub manage: String,
    /// Address or hostname gluster uses (peer probe, brick hosts). Defaults to `manage`.
    pub storage: String,
    /// Failure zone; bricks of a set are spread across zones.
    pub zone: u32,
    /// Raw block devices brickyard may initialise with LVM.
    pub devices: Vec<Device>,
    /// Directories on already-mounted filesystems used for directory bricks.
    pub paths: Vec<DirPath>,
    /// Retire the node: every device and path of it drains (each marked `drain` too),
    /// it is never probed into the pool, and once no brick of any volume is on it, it is
    /// detached from the trusted pool.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drain: bool,
    pub ssh: Ssh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Device {
    /// Absolute path under /dev.
    pub path: String,
    /// Free-form labels; volumes may require tags with `device_tags`.
    pub tags: BTreeMap<String, String>,
    /// The operator allows brickyard to wipe existing signatures on this device
    /// (also needs `--allow-wipe` on the command line).
    pub wipe: bool,
    /// Retire this device: no new bricks, and the bricks on it are moved elsewhere
    /// (replace-brick, heal, teardown), one at a time per volume.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DirPath {
    /// Absolute directory on a mounted filesystem; bricks go in subdirectories.
    pub path: String,
    pub tags: BTreeMap<String, String>,
    /// Retire this path: no new bricks, and the bricks under it are moved elsewhere.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drain: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Volume {
    /// Usable size in bytes.
    pub size: u64,
    pub durability: Durability,
    /// Thin-pool space per brick = brick size × this (room for snapshots). 1.0..=100.0.
    pub snapshot_factor: f64,
    /// Gluster volume options, key -> value, exactly as `gluster volume set` takes them.
    pub options: BTreeMap<String, String>,
    /// Refuse any destructive change to this volume, even with `--allow-destroy`.
    pub protect: bool,
    pub state: VolumeState,
    /// Only place bricks on devices/paths carrying all of these tags.
    pub device_tags: BTreeMap<String, String>,
    /// `lvm` (raw devices) or `directory` (declared `paths`); default: lvm if any node
    /// has devices, else directory.
    pub brick_kind: BrickKind,
    /// What an expand starts once the new bricks are in: `fix-layout` (the default: new
    /// files may land on the new bricks; old files stay) or `full` (old files move too).
    #[serde(default, skip_serializing_if = "Rebalance::is_default")]
    pub rebalance: Rebalance,
    /// Take over the volume of this name that exists unmarked (made by hand or by
    /// Heketi), once its live layout matches this declaration; without it, such a volume
    /// is a blocker. Once marked, the volume is brickyard's like any other.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Rebalance {
    /// `gluster volume rebalance VOL fix-layout start`: only the directory layouts.
    #[default]
    FixLayout,
    /// `gluster volume rebalance VOL start`: layouts and files.
    Full,
}

impl Rebalance {
    fn is_default(&self) -> bool {
        *self == Rebalance::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BrickKind {
    Lvm,
    Directory,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeState {
    /// Exists and is started (the default).
    #[default]
    Present,
    /// Exists and is stopped: no brick processes, clients cannot mount it.
    Stopped,
    Absent,
}

impl VolumeState {
    /// The volume should exist (started or stopped).
    pub fn exists(self) -> bool {
        self != VolumeState::Absent
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Durability {
    /// Plain distribute: one brick per set, no redundancy.
    None,
    /// `replica` copies; with `arbiter`, replica must be 3 and the third brick holds metadata only.
    Replicate { replica: u8, arbiter: bool },
    /// Erasure coding: `data` + `redundancy` bricks per set.
    Disperse { data: u8, redundancy: u8 },
}

/// An absent `durability`: three full copies.
impl Default for Durability {
    fn default() -> Durability {
        Durability::Replicate {
            replica: 3,
            arbiter: false,
        }
    }
}

impl Durability {
    /// Bricks in one replica/disperse set (each on a distinct node).
    pub fn set_size(&self) -> usize {
        match *self {
            Durability::None => 1,
            Durability::Replicate { replica, .. } => replica as usize,
            Durability::Disperse { data, redundancy } => (data + redundancy) as usize,
        }
    }
}
