//! The observed facts of a cluster, as gathered from its nodes. Serialisable, so that
//! `brickyard gather -o facts.json` + `brickyard plan --facts facts.json` plan offline.
//! This is the contract between `gather` and `plan`: parsers fill it, the planner reads it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The holder of an apply lock seen on a node; the lock protocol (and this type) lives in
/// `crate::lock`.
pub use crate::lock::LockInfo;

/// Bumped on any incompatible change; `plan --facts` refuses other versions.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Observed {
    pub format_version: u32,
    /// Keyed by the config's node name.
    pub nodes: BTreeMap<String, NodeObservation>,
}

/// One node: either its facts, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NodeObservation {
    Reachable(Box<NodeFacts>),
    Unreachable(NodeError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeError {
    /// Stable machine-readable kind (connection_refused, no_route, timeout, auth_failed,
    /// host_key_unknown, host_key_changed, sudo_password, command_missing, probe_failed, ...).
    pub kind: String,
    /// Plain-words explanation for the operator.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NodeFacts {
    pub hostname: String,
    /// From /var/lib/glusterd/glusterd.info; None before glusterd first ran.
    pub glusterd_uuid: Option<String>,
    pub versions: Versions,
    pub glusterd_running: bool,
    /// `gluster pool list` as seen from this node (includes itself as localhost).
    pub peers: Vec<Peer>,
    /// Volumes as seen from this node (cluster-wide: the same on every peer).
    pub volumes: Vec<VolumeFacts>,
    pub block_devices: Vec<BlockDevice>,
    /// Signatures found on each declared device (wipefs --no-act), keyed by device path.
    pub signatures: BTreeMap<String, Vec<Signature>>,
    pub pvs: Vec<Pv>,
    pub vgs: Vec<Vg>,
    pub lvs: Vec<Lv>,
    pub mounts: Vec<Mount>,
    /// Lines of /etc/fstab carrying brickyard's marker.
    pub fstab: Vec<FstabEntry>,
    /// Declared directory-brick paths, keyed by path.
    pub paths: BTreeMap<String, PathFacts>,
    /// Entries `<declared path>/<vol>/s*p*` (two levels under a declared path): the
    /// directory bricks brickyard may have made, with what they are and their ownership
    /// mark, so the planner can prove a directory brick is its own before it touches it.
    #[serde(deserialize_with = "brick_dirs_compat")]
    pub brick_dirs: Vec<BrickDir>,
    /// Entries in the heal index of each brick directory on this node, keyed by brick path
    /// (`probe.sh`, `heal_index`): pending self-heals (and writes in flight). Facts gathered
    /// before brickyard read it have none; a failed section is in `section_errors`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub heal_index: BTreeMap<String, u64>,
    /// An apply lock held on this node, if any.
    pub lock: Option<LockInfo>,
    /// The cluster identity this node records (`/var/lib/brickyard/cluster-id`): (cluster
    /// name, cluster id). None when there is no record, or when it could not be read: then
    /// `section_errors` has `cluster_id` and the planner treats the identity as unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<(String, String)>,
    /// Problems parsing parts of the probe output: the rest is still usable.
    pub warnings: Vec<String>,
    /// Probe sections that failed or could not be parsed, keyed by section name
    /// (e.g. `pool_list`, `lvs`, `wipefs:/dev/vdb`), with the reason. The fields such a
    /// section feeds are left empty, so an empty list next to an error here means
    /// "unknown", not "none": the planner must not act on it.
    #[serde(default)]
    pub section_errors: BTreeMap<String, String>,
    /// `blkid -p -o export` of each declared device (KEY -> VALUE, e.g. TYPE, UUID, PTTYPE),
    /// keyed by device path; an empty map means blkid found nothing.
    #[serde(default)]
    pub blkid: BTreeMap<String, BTreeMap<String, String>>,
}

impl NodeFacts {
    /// Whether this node's trusted pool holds a connected peer that `other` (given the
    /// peer's hostname) says is another declared node: the node already serves a cluster.
    pub fn pooled_with(&self, other: impl Fn(&str) -> bool) -> bool {
        self.peers
            .iter()
            .any(|p| p.hostname != "localhost" && p.connected && other(&p.hostname))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Versions {
    pub gluster: Option<String>,
    pub lvm: Option<String>,
    pub kernel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub uuid: String,
    pub hostname: String,
    pub connected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeStatus {
    Created,
    Started,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeFacts {
    pub name: String,
    pub id: String,
    pub status: VolumeStatus,
    /// gluster's typeStr, e.g. "Replicate", "Distributed-Replicate", "Disperse", "Distribute".
    pub vol_type: String,
    pub brick_count: u32,
    pub dist_count: u32,
    pub replica_count: u32,
    pub arbiter_count: u32,
    pub disperse_count: u32,
    pub redundancy_count: u32,
    /// In gluster's order (sets are consecutive runs of set-size bricks).
    pub bricks: Vec<BrickFacts>,
    /// Options explicitly set on the volume (volume info "options"). Defaults are not
    /// read: a declared option is compared with what is set, and one that is not set is
    /// set (pinned), whatever gluster's default is. Reading the defaults meant a `volume
    /// get VOL all` per volume on every node, the one part of gather that grew with the
    /// number of volumes.
    pub options: BTreeMap<String, String>,
    /// The volume's rebalance or remove-brick task, as `volume status all tasks` lists it
    /// (read by the node that reads `volume status` and shared, like the brick states).
    /// None: no task, or not read (then `section_errors` has `volume_tasks` or
    /// `task:<volume>` on the reader, and the planner treats it as unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<VolumeTask>,
}

/// A rebalance or remove-brick of one volume. gluster keeps the last one until the next
/// starts (a completed rebalance stays listed), so its status says whether it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeTask {
    pub kind: TaskKind,
    pub id: String,
    pub status: TaskStatus,
    /// The bricks a remove-brick moves files off ("host:/path"); empty for a rebalance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bricks: Vec<String>,
    /// Its counts, summed over the nodes (`rebalance|remove-brick ... status`): None when
    /// not asked (a completed rebalance) or not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<TaskProgress>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Rebalance,
    RemoveBrick,
}

/// gluster's task states (`gf_defrag_status_t`), by the words its CLI prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Stopped,
    Completed,
    Failed,
    /// Anything else gluster says (its words), never taken for done.
    Other(String),
}

impl TaskStatus {
    /// From gluster's `statusStr`; a fix-layout says "fix-layout in progress" and so on.
    pub fn from_words(s: &str) -> TaskStatus {
        match s.trim().trim_start_matches("fix-layout ") {
            "not started" => TaskStatus::NotStarted,
            "in progress" => TaskStatus::InProgress,
            "stopped" => TaskStatus::Stopped,
            "completed" => TaskStatus::Completed,
            "failed" => TaskStatus::Failed,
            other => TaskStatus::Other(other.to_string()),
        }
    }

    pub fn words(&self) -> &str {
        match self {
            TaskStatus::NotStarted => "not started",
            TaskStatus::InProgress => "in progress",
            TaskStatus::Stopped => "stopped",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Other(s) => s,
        }
    }
}

/// A task's counts (gluster's `<aggregate>`): files moved, their bytes, files looked at,
/// files it failed to move and files it skipped (no room on the remaining bricks, or open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    pub status: TaskStatus,
    pub files: u64,
    pub bytes: u64,
    pub scanned: u64,
    pub failures: u64,
    pub skipped: u64,
    pub runtime_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrickFacts {
    /// "host:/path" as gluster names it.
    pub name: String,
    pub host: String,
    pub path: String,
    pub host_uuid: Option<String>,
    pub is_arbiter: bool,
    /// From volume status detail; None when the volume is not started.
    pub online: Option<bool>,
    pub port: Option<u32>,
    pub size_total: Option<u64>,
    pub size_free: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDevice {
    /// e.g. /dev/vdb
    pub path: String,
    pub size: u64,
    /// lsblk TYPE: disk, part, loop, lvm, ...
    pub kind: String,
    pub fstype: Option<String>,
    pub mountpoints: Vec<String>,
    /// Names of children (partitions, LVs, dm holders).
    pub children: Vec<String>,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// e.g. xfs, LVM2_member, gpt, dos
    pub kind: String,
    pub offset: String,
    pub uuid: Option<String>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pv {
    pub name: String,
    pub vg: Option<String>,
    pub size: u64,
    pub free: u64,
    pub tags: Vec<String>,
    /// `pv_uuid`; absent in facts gathered before brickyard read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vg {
    pub name: String,
    pub size: u64,
    pub free: u64,
    pub extent_size: u64,
    pub extent_count: u64,
    pub free_count: u64,
    pub pv_count: u32,
    pub lv_count: u32,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lv {
    pub name: String,
    pub vg: String,
    pub size: u64,
    /// lv_attr, e.g. "twi-aotz--" (thin pool) or "Vwi-aotz--" (thin volume).
    pub attr: String,
    /// Thin pool of a thin LV.
    pub pool: Option<String>,
    pub data_percent: Option<f64>,
    pub metadata_percent: Option<f64>,
    /// Size of the pool's metadata LV (thin pools only).
    pub metadata_size: Option<u64>,
    pub tags: Vec<String>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub target: String,
    pub source: String,
    pub fstype: String,
    pub options: String,
    pub size: Option<u64>,
    pub avail: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FstabEntry {
    pub source: String,
    pub target: String,
    pub fstype: String,
    pub options: String,
    /// The full line as written.
    pub line: String,
}

/// One entry `<declared path>/<vol>/s<N>p<M>` found on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrickDir {
    pub path: String,
    pub kind: BrickDirKind,
    /// Value of the `trusted.brickyard.brick` xattr (`<cluster>/<vol>/s<N>p<M>`), written
    /// right after brickyard made the directory; None when absent. A value with
    /// characters no mark has is reported as `<unsafe>` by the probe.
    pub mark: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrickDirKind {
    /// A real directory, reached through no symlink below the declared path.
    Directory,
    /// The entry, or the `<vol>` directory above it, is a symlink.
    Symlink,
    /// Anything else (a file, a device node).
    Other,
}

/// Facts files written before brick directories had a kind and a mark list plain
/// strings: the old probe listed `<declared path>/<vol>`, one level, which never named a
/// brick directory. Such entries are dropped (nothing known is nothing proven).
fn brick_dirs_compat<'de, D>(d: D) -> Result<Vec<BrickDir>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        New(BrickDir),
        Old(#[allow(dead_code)] String),
    }
    let entries = Vec::<Entry>::deserialize(d)?;
    Ok(entries
        .into_iter()
        .filter_map(|e| match e {
            Entry::New(b) => Some(b),
            Entry::Old(_) => None,
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathFacts {
    pub exists: bool,
    /// Filesystem holding the path (its mount target), its type, and bytes.
    pub mount_target: Option<String>,
    pub fstype: Option<String>,
    pub total: Option<u64>,
    pub free: Option<u64>,
}
