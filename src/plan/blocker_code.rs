//! Why the planner refused something, as a closed set. The serialised form is the
//! snake_case string plans have always carried (`"device_signature"`, `"nodes"`, ...),
//! so JSON output and saved plans are unchanged; a new refusal is a new variant here.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockerCode {
    // cluster identity (`identity`)
    ClusterIdMismatch,
    ClusterIdUnpinned,
    ClusterIdUnreadable,
    // health gate (`health`)
    NodeUnreachable,
    GlusterdDown,
    /// Two declared nodes are one machine (same glusterd UUID).
    DuplicateNode,
    PeerDisconnected,
    NoGlusterNode,
    // what a volume's steps would endanger (`volume`)
    NodeUnhealthy,
    UnknownBrickHost,
    BrickOffline,
    /// Entries in a brick's heal index: the set is not whole.
    HealPending,
    /// A rebalance or a remove-brick runs on the volume (or one that is not the config's
    /// waits for its commit): bricks do not change under it.
    TaskRunning,
    // names the planner will not put on a command line
    InvalidName,
    // devices and paths (`device`)
    PathMissing,
    DeviceSignature,
    DeviceMissing,
    DeviceInUse,
    DeviceReadOnly,
    DeviceTooSmall,
    // placement (`diagnose`)
    Nodes,
    Zones,
    Capacity,
    BrickLimits,
    // volume lifecycle (`volume`)
    /// A volume of another brickyard cluster, or one declared absent that is not ours.
    ForeignConflict,
    /// A volume the config declares exists, unmarked, and the config does not adopt it.
    ForeignVolume,
    /// A volume declared with `adopt: true` differs from its declaration.
    AdoptMismatch,
    HalfAppliedMismatch,
    LayoutChange,
    Shrink,
    /// More sets asked of a volume declared stopped: the new bricks need a rebalance,
    /// which gluster runs only on a started volume.
    ExpandStopped,
    Protected,
    DestroyNotAllowed,
    // a brick of a kept volume on storage the config dropped (`volume::homes`)
    BrickHomeRemoved,
    ZoneConflict,
    /// A brick on draining storage that cannot be moved (no home, distribute volume).
    DrainBlocked,
    /// A lost brick (directory gone, offline) that cannot be rebuilt in place.
    BrickLost,
    // a brick of a marked volume the facts do not prove ours (`proof`)
    OwnershipUnproven,
    // values the planner will not put on a command line (`volume`)
    UnsafeValue,
    // node-recorded numbers out of range (`volume`)
    BadRecordedSize,
    // derived VG names that do not identify one device (`device`)
    VgNameConflict,
    // a probe section the decision needs failed or is missing (`facts`; device, volume, peer)
    FactsIncomplete,
}

impl BlockerCode {
    /// The stable string, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockerCode::ClusterIdMismatch => "cluster_id_mismatch",
            BlockerCode::ClusterIdUnpinned => "cluster_id_unpinned",
            BlockerCode::ClusterIdUnreadable => "cluster_id_unreadable",
            BlockerCode::NodeUnreachable => "node_unreachable",
            BlockerCode::GlusterdDown => "glusterd_down",
            BlockerCode::DuplicateNode => "duplicate_node",
            BlockerCode::PeerDisconnected => "peer_disconnected",
            BlockerCode::NoGlusterNode => "no_gluster_node",
            BlockerCode::NodeUnhealthy => "node_unhealthy",
            BlockerCode::UnknownBrickHost => "unknown_brick_host",
            BlockerCode::BrickOffline => "brick_offline",
            BlockerCode::HealPending => "heal_pending",
            BlockerCode::InvalidName => "invalid_name",
            BlockerCode::PathMissing => "path_missing",
            BlockerCode::DeviceSignature => "device_signature",
            BlockerCode::DeviceMissing => "device_missing",
            BlockerCode::DeviceInUse => "device_in_use",
            BlockerCode::DeviceReadOnly => "device_read_only",
            BlockerCode::DeviceTooSmall => "device_too_small",
            BlockerCode::Nodes => "nodes",
            BlockerCode::Zones => "zones",
            BlockerCode::Capacity => "capacity",
            BlockerCode::BrickLimits => "brick_limits",
            BlockerCode::ForeignConflict => "foreign_conflict",
            BlockerCode::ForeignVolume => "foreign_volume",
            BlockerCode::AdoptMismatch => "adopt_mismatch",
            BlockerCode::HalfAppliedMismatch => "half_applied_mismatch",
            BlockerCode::LayoutChange => "layout_change",
            BlockerCode::Shrink => "shrink",
            BlockerCode::TaskRunning => "task_running",
            BlockerCode::ExpandStopped => "expand_stopped",
            BlockerCode::Protected => "protected",
            BlockerCode::DestroyNotAllowed => "destroy_not_allowed",
            BlockerCode::BrickHomeRemoved => "brick_home_removed",
            BlockerCode::ZoneConflict => "zone_conflict",
            BlockerCode::DrainBlocked => "drain_blocked",
            BlockerCode::BrickLost => "brick_lost",
            BlockerCode::OwnershipUnproven => "ownership_unproven",
            BlockerCode::UnsafeValue => "unsafe_value",
            BlockerCode::BadRecordedSize => "bad_recorded_size",
            BlockerCode::VgNameConflict => "vg_name_conflict",
            BlockerCode::FactsIncomplete => "facts_incomplete",
        }
    }
}

impl fmt::Display for BlockerCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::BlockerCode;

    #[test]
    fn json_is_the_display_string() {
        let all = [
            BlockerCode::ClusterIdMismatch,
            BlockerCode::ClusterIdUnpinned,
            BlockerCode::ClusterIdUnreadable,
            BlockerCode::NodeUnreachable,
            BlockerCode::GlusterdDown,
            BlockerCode::DuplicateNode,
            BlockerCode::PeerDisconnected,
            BlockerCode::NoGlusterNode,
            BlockerCode::NodeUnhealthy,
            BlockerCode::UnknownBrickHost,
            BlockerCode::BrickOffline,
            BlockerCode::HealPending,
            BlockerCode::TaskRunning,
            BlockerCode::InvalidName,
            BlockerCode::PathMissing,
            BlockerCode::DeviceSignature,
            BlockerCode::DeviceMissing,
            BlockerCode::DeviceInUse,
            BlockerCode::DeviceReadOnly,
            BlockerCode::DeviceTooSmall,
            BlockerCode::Nodes,
            BlockerCode::Zones,
            BlockerCode::Capacity,
            BlockerCode::BrickLimits,
            BlockerCode::ForeignConflict,
            BlockerCode::ForeignVolume,
            BlockerCode::AdoptMismatch,
            BlockerCode::HalfAppliedMismatch,
            BlockerCode::LayoutChange,
            BlockerCode::Shrink,
            BlockerCode::ExpandStopped,
            BlockerCode::Protected,
            BlockerCode::DestroyNotAllowed,
            BlockerCode::BrickHomeRemoved,
            BlockerCode::ZoneConflict,
            BlockerCode::DrainBlocked,
            BlockerCode::BrickLost,
            BlockerCode::OwnershipUnproven,
            BlockerCode::UnsafeValue,
            BlockerCode::BadRecordedSize,
            BlockerCode::VgNameConflict,
            BlockerCode::FactsIncomplete,
        ];
        for c in all {
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<BlockerCode>(&json).ok(), Some(c));
        }
    }
}
