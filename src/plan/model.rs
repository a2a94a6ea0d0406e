//! A Plan is data: steps with ids, addresses, the node each runs on, the exact argv
//! it runs, a guard that says whether it is already done, and its dependencies.
//! `render` prints it, `apply` executes it without deciding anything, `--json` serialises it.

use serde::{Deserialize, Serialize};

use super::address::Address;
use super::blocker_code::BlockerCode;

/// Bumped on any incompatible change; apply refuses plan files of other versions.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub cluster: String,
    /// The cluster's identity as the plan settled it (see `plan/identity.rs`); None when it
    /// is not settled (refused, unknown, or not requested) and in plans made before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<ClusterIdentity>,
    /// The command-line permissions the plan was made with. Apply re-derives a saved plan
    /// with them (so it plans what was shown), but never trusts them: its own
    /// `--allow-destroy`/`--allow-wipe` still gate every destructive step.
    #[serde(default, skip_serializing_if = "Permissions::is_none")]
    pub planned_with: Permissions,
    /// Hash of the Observed facts the plan was computed from (apply refuses a stale plan).
    pub facts_fingerprint: String,
    /// Hash of the validated Desired model.
    pub config_hash: String,
    pub steps: Vec<Step>,
    /// Where every new brick goes and why it fits.
    pub placements: Vec<BrickPlacement>,
    /// Changes the planner refused to plan, and why (blocked deletes, refused devices,
    /// capacity, health). A plan with blockers still shows what it would do.
    pub blockers: Vec<Blocker>,
    /// Things brickyard found but does not own: shown, never touched.
    pub foreign: Vec<Foreign>,
    pub warnings: Vec<String>,
    /// Steps the planner would run but refused because of a blocker (destroy not
    /// allowed, protected volume, unhealthy node, ...). Shown to the operator, never
    /// executed: apply runs `steps` only. Every step depending on a blocked step is
    /// blocked too, so `steps` is always closed under `depends_on`.
    #[serde(default)]
    pub blocked_steps: Vec<Step>,
}

/// Which cluster, beyond its name: the id every declared node records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterIdentity {
    /// 32 lowercase hex digits.
    pub id: String,
    /// Made for this plan (`PlanOptions::new_cluster_id`): no node recorded an identity,
    /// and the plan's first steps record this one. Re-planning must reuse it.
    pub new: bool,
    /// The config pins it (`cluster_id`).
    pub pinned: bool,
}

/// `--allow-destroy` and `--allow-wipe`, as a plan was made with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    #[serde(default)]
    pub allow_destroy: bool,
    #[serde(default)]
    pub allow_wipe: bool,
}

impl Permissions {
    pub fn is_none(&self) -> bool {
        *self == Permissions::default()
    }
}

/// Which flag a destructive step needs at apply time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// `--allow-destroy`: deletes (volumes, bricks, their LVs and mounts).
    Destroy,
    /// `--allow-wipe`: wiping the signatures of a declared device before it is prepared.
    Wipe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    Replace,
    /// Mark a resource brickyard did not make as its own (`adopt: true`); its data and
    /// layout stay as they are.
    Adopt,
    NoOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable id, unique in the plan (e.g. `brick.gfs[0][1]/mkfs`).
    pub id: String,
    /// Resource address, e.g. `volume.gfs`, `brick.gfs[0][1]`, `device.gfs1:/dev/sdb`, `peer.gfs2`,
    /// serialised as that string; a saved plan with an address brickyard cannot read is refused.
    pub address: Address,
    pub action: Action,
    /// Config node name the commands run on.
    pub node: String,
    /// One line for humans.
    pub description: String,
    /// Exact argv of every command, run in order; quoting happens in one place (transport).
    pub commands: Vec<Vec<String>>,
    /// How apply knows the step's effect already exists (checked before, verified after).
    pub guard: Guard,
    /// Ids of steps that must succeed first.
    pub depends_on: Vec<String>,
    /// Destroys data or configuration that cannot be recreated.
    pub destructive: bool,
    /// Attribute changes shown as `old -> new`.
    pub changes: Vec<Change>,
}

impl Step {
    /// The flag this step needs at apply time, None when it destroys nothing. The one
    /// destructive step that creates something is the wipe of a declared device (`wipe:
    /// true` in the config, planned only with `--allow-wipe`); every other destructive
    /// step (a delete, or any kind added later) needs `--allow-destroy`.
    pub fn permission(&self) -> Option<Permission> {
        if !self.destructive {
            None
        } else if self.action == Action::Create && matches!(self.address, Address::Device { .. }) {
            Some(Permission::Wipe)
        } else {
            Some(Permission::Destroy)
        }
    }
}

/// A read-only remote check: the step is done when `argv` exits 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    pub description: String,
    pub argv: Vec<String>,
    /// The check before the step adds nothing when the plan was just made from facts
    /// read under the locks the run holds: the step's commands fail on an object that is
    /// already there rather than harm it. Such a step is then only checked after
    /// (docs/apply.md, "Checks before and after").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redundant_when_fresh: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub attribute: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrickPlacement {
    /// e.g. `brick.gfs[0][1]` (set 0, position 1).
    pub address: Address,
    pub volume: String,
    pub set: u32,
    pub position: u32,
    pub node: String,
    /// Device path (lvm bricks) or declared directory (directory bricks).
    pub device: String,
    pub zone: u32,
    pub arbiter: bool,
    /// Brick (filesystem) size in bytes.
    pub size: u64,
    /// What it takes from the device: thin pool + metadata (lvm), or size (directory).
    pub allocated: u64,
    pub device_free_before: u64,
    pub device_free_after: u64,
    /// The brick path gluster gets (`host:/path`).
    pub brick: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    /// Stable code, e.g. `capacity`, `zones`, `nodes`, `brick_limits`, `destroy_not_allowed`,
    /// `protected`, `device_signature`, `node_unreachable`, `peer_disconnected`, `brick_offline`.
    pub code: BlockerCode,
    /// Address of the resource it blocks.
    pub address: Address,
    pub message: String,
    /// Evidence and the way out (e.g. largest size that fits now, flag to pass).
    pub help: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Foreign {
    pub address: Address,
    pub node: Option<String>,
    pub description: String,
}

impl Plan {
    /// Counts for the summary line: (add, change, destroy).
    pub fn summary(&self) -> (usize, usize, usize) {
        let mut s = (0, 0, 0);
        for step in &self.steps {
            match step.action {
                Action::Create => s.0 += 1,
                Action::Update | Action::Adopt => s.1 += 1,
                Action::Delete => s.2 += 1,
                Action::Replace => {
                    s.0 += 1;
                    s.2 += 1
                }
                Action::NoOp => {}
            }
        }
        s
    }

    /// Counts per resource address for the `Plan: N to add, M to change, K to destroy.`
    /// line, like Terraform counts resources rather than API calls: an address with any
    /// delete step counts as destroyed (or replaced when it also has create steps), one
    /// with only create steps as added, anything else as changed.
    pub fn resource_summary(&self) -> (usize, usize, usize) {
        let mut by_addr: std::collections::BTreeMap<&Address, (bool, bool, bool)> =
            std::collections::BTreeMap::new();
        for step in &self.steps {
            let e = by_addr.entry(&step.address).or_default();
            match step.action {
                Action::Create => e.0 = true,
                Action::Update | Action::Adopt => e.1 = true,
                Action::Delete => e.2 = true,
                Action::Replace => {
                    e.0 = true;
                    e.2 = true
                }
                Action::NoOp => {}
            }
        }
        let mut s = (0, 0, 0);
        for (create, update, delete) in by_addr.values() {
            match (create, update, delete) {
                (true, _, true) => {
                    s.0 += 1;
                    s.2 += 1
                }
                (_, _, true) => s.2 += 1,
                (true, _, false) => s.0 += 1,
                (false, true, false) => s.1 += 1,
                _ => {}
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| s.action != Action::NoOp)
    }
}
