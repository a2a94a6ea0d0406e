//! The facts pass: which resources the probe could not read. A failed or missing probe
//! section leaves the fields it feeds empty, and empty must mean "unknown", never
//! "nothing there" (review finding #8): a failed `wipefs` would make a disk look clean, a
//! failed `vgs` would make an active PV look free, a failed `volume info` would make the
//! cluster look empty. This pass maps every section error to the resources that section
//! feeds, once, up front; the device, volume and peer passes then ask [`Unknown::get`]
//! before each decision and refuse it with `facts_incomplete` when the answer is unknown.
//!
//! | section | what is unknown |
//! |---|---|
//! | `pvs`, `vgs`, `lvs`, `lsblk`, `findmnt`, `fstab` | the node's LVM devices and LVM bricks |
//! | `wipefs:DEV`, `blkid:DEV` (or no `wipefs` section for a declared device) | that device |
//! | `path:P`, `pathfs:P`, `df:P` (or no `path` section for a declared path) | that path and its bricks |
//! | `volume_info` on any healthy node of the pool | every volume |
//! | `volume_status` on the runner (read on one node and shared: `gather::status`) | every volume |
//! | `pool_list` on the runner | the trusted pool (peer probes) |
//! | `volume_tasks` on the runner (read and shared like `volume_status`) | every volume's rebalance or remove-brick |
//! | `task:VOL` on the runner | that volume's rebalance or remove-brick |
//!
//! A probe cut off before its end never gets here: gather records the node unreachable.

use std::collections::BTreeMap;

use crate::config::Desired;
use crate::gather::NodeFacts;

use super::builder::Builder;

/// What a planner decision needs to know.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Need<'a> {
    /// Anything about the node's LVM devices: its PVs, VGs, LVs, block devices, mounts.
    Lvm { node: &'a str },
    /// Preparing or using a declared LVM device: the node's LVM view and the device's own probe.
    Device { node: &'a str, path: &'a str },
    /// Using a declared directory path.
    Path { node: &'a str, path: &'a str },
    /// Touching an existing brick of a volume at `path` on `node`: its declared path's
    /// facts for a directory brick, the node's LVM and mount view otherwise.
    Brick { node: &'a str, path: &'a str },
    /// Which volumes exist at all, with their state and options (every volume section
    /// is cluster-wide: no section reads one volume alone).
    Volumes,
    /// Who is in the trusted pool.
    Peers,
    /// Whether a rebalance or remove-brick runs on the volume, and its counts.
    Task { volume: &'a str },
}

/// The unknown resources, each with the reason (the failed sections and why).
#[derive(Debug, Default)]
pub(crate) struct Unknown {
    lvm: BTreeMap<String, String>,
    device: BTreeMap<(String, String), String>,
    path: BTreeMap<(String, String), String>,
    /// Declared directory paths per node, to tell a directory brick from an LVM one.
    dirs: BTreeMap<String, Vec<String>>,
    volumes: Option<String>,
    peers: Option<String>,
    tasks: Option<String>,
    task: BTreeMap<String, String>,
}

impl Unknown {
    /// Why `need` cannot be decided, or None when the facts it needs were read.
    pub(crate) fn get(&self, need: Need<'_>) -> Option<&str> {
        match need {
            Need::Lvm { node } => self.lvm.get(node),
            Need::Device { node, path } => self
                .lvm
                .get(node)
                .or_else(|| self.device.get(&(node.to_string(), path.to_string()))),
            Need::Path { node, path } => self.path.get(&(node.to_string(), path.to_string())),
            Need::Brick { node, path } => {
                let dir = self.dirs.get(node).into_iter().flatten().find(|d| {
                    path.strip_prefix(d.trim_end_matches('/'))
                        .is_some_and(|r| r.starts_with('/'))
                });
                match dir {
                    Some(d) => self.path.get(&(node.to_string(), d.clone())),
                    None => self.lvm.get(node),
                }
            }
            Need::Volumes => self.volumes.as_ref(),
            Need::Peers => self.peers.as_ref(),
            Need::Task { volume } => self
                .volumes
                .as_ref()
                .or(self.tasks.as_ref())
                .or_else(|| self.task.get(volume)),
        }
        .map(String::as_str)
    }
}

/// Add `why` to the reasons under `key`.
fn add<K: Ord>(map: &mut BTreeMap<K, String>, key: K, why: String) {
    map.entry(key)
        .and_modify(|w| {
            w.push_str("; ");
            w.push_str(&why);
        })
        .or_insert(why);
}

fn add_one(slot: &mut Option<String>, why: String) {
    match slot {
        Some(w) => {
            w.push_str("; ");
            w.push_str(&why);
        }
        None => *slot = Some(why),
    }
}

/// The facts pass. `facts`: reachable declared nodes; `runner`: the node whose cluster
/// view the plan uses; `pool`: healthy declared nodes of the runner's pool (the runner
/// included), whose `volume info` must all have been read.
pub(crate) fn unknowns(
    desired: &Desired,
    facts: &BTreeMap<&str, &NodeFacts>,
    runner: Option<&str>,
    pool: &[&str],
    b: &mut Builder,
) -> Unknown {
    let mut u = Unknown::default();
    for (name, node) in &desired.nodes {
        u.dirs.insert(
            name.clone(),
            node.paths.iter().map(|p| p.path.clone()).collect(),
        );
        let Some(f) = facts.get(name.as_str()) else {
            continue; // unreachable: the health gate already holds it back
        };
        for (sec, err) in &f.section_errors {
            // read on the status reader and shared into every node's view: said once
            if crate::gather::status::is_task_section(sec) && runner != Some(name.as_str()) {
                continue;
            }
            b.warnings.push(format!(
                "{name}: probe section {sec} failed ({err}); what it reports is unknown, and what depends on it is held back"
            ));
            let why = format!("probe section {sec} failed on {name} ({err})");
            let (kind, arg) = sec.split_once(':').unwrap_or((sec.as_str(), ""));
            match kind {
                "pvs" | "vgs" | "lvs" | "lsblk" | "findmnt" | "fstab" => {
                    add(&mut u.lvm, name.clone(), why)
                }
                "wipefs" | "blkid" => add(&mut u.device, (name.clone(), arg.to_string()), why),
                "path" | "pathfs" | "df" => add(&mut u.path, (name.clone(), arg.to_string()), why),
                "volume_info" if pool.contains(&name.as_str()) => add_one(&mut u.volumes, why),
                "volume_status" if runner == Some(name.as_str()) => add_one(&mut u.volumes, why),
                "pool_list" if runner == Some(name.as_str()) => add_one(&mut u.peers, why),
                "volume_tasks" => add_one(&mut u.tasks, why),
                "task" => add(&mut u.task, arg.to_string(), why),
                _ => {} // identity, versions, lock: the warning says it
            }
        }
        // a section that is not there at all (a hand-made or older facts file)
        for d in &node.devices {
            let key = (name.clone(), d.path.clone());
            if !f.signatures.contains_key(&d.path) && !u.device.contains_key(&key) {
                add(
                    &mut u.device,
                    key,
                    format!("the facts of {name} hold no wipefs result for {}", d.path),
                );
            }
        }
        for p in &node.paths {
            let key = (name.clone(), p.path.clone());
            if !f.paths.contains_key(&p.path) && !u.path.contains_key(&key) {
                add(
                    &mut u.path,
                    key,
                    format!("the facts of {name} hold no result for path {}", p.path),
                );
            }
        }
    }
    u
}
