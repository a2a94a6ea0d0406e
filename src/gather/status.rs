//! Who reads `volume status` for the cluster, and how its answer reaches every node's
//! view. `volume status all` is the one probe read that is cluster-wide and takes
//! gluster's per-volume cluster locks: every node running it at once contend for each
//! lock, and the CLI leaves out, with success, a volume it could not lock (docs/gather.md).
//! Its answer is the same from any node of a pool, so one node reads it and the others'
//! views of the same volumes get its brick states.
//!
//! The reader is guessed before the probe (the first declared node, in the one run every
//! node gets anyway) and checked after it against the facts, by the planner's own rule
//! for its runner (`plan::health`): the first node, by name, that runs glusterd and shares
//! a pool with another declared node, else the first that runs glusterd. A wrong guess, or
//! a reader whose read failed or left a started volume out (another command held its
//! lock at that moment), costs one more probe on the next candidate; when none reads
//! every volume, the first read that worked is used and what it left out stays unknown.

use std::collections::BTreeMap;

use crate::config::Desired;

use super::hosts::host_to_node;
use super::model::{NodeFacts, NodeObservation, VolumeStatus};

/// The section the reader's probe adds, and the probe argument that asks for it.
pub const SECTION: &str = "volume_status";
pub const ARG: &str = "s:";

/// The node the first run asks: the first declared one.
pub fn guess(desired: &Desired) -> Option<&str> {
    desired.nodes.keys().next().map(String::as_str)
}

/// Nodes that may read it, best first: running glusterd, pooled before not, by name.
pub fn candidates(desired: &Desired, nodes: &BTreeMap<String, NodeObservation>) -> Vec<String> {
    let hosts = host_to_node(desired, nodes);
    let mut c: Vec<(bool, &String)> = desired
        .nodes
        .keys()
        .filter_map(|n| match nodes.get(n) {
            Some(NodeObservation::Reachable(f)) if f.glusterd_running => {
                let pooled = f.pooled_with(|h| hosts.get(h).is_some_and(|o| o != n));
                Some((!pooled, n))
            }
            _ => None,
        })
        .collect();
    c.sort();
    c.into_iter().map(|(_, n)| n.clone()).collect()
}

/// How good a node's `volume status` read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Not read, or failed.
    None,
    /// Read, but it left out a started volume (the CLI skips, with success, a volume
    /// whose lock another command held at that moment).
    Partial,
    /// Read, and it reports every started volume.
    Whole,
}

pub fn read_of(obs: Option<&NodeObservation>) -> Read {
    match obs {
        Some(NodeObservation::Reachable(f))
            if f.glusterd_running && !f.section_errors.contains_key(SECTION) =>
        {
            let missed = f.volumes.iter().any(|v| {
                v.status == VolumeStatus::Started && v.bricks.iter().any(|b| b.online.is_none())
            });
            if missed { Read::Partial } else { Read::Whole }
        }
        _ => Read::None,
    }
}

/// Give every other node's view the brick states `from` read, where both nodes are in
/// one pool (the reader's pool list names the node's glusterd); a brick or volume the
/// reader did not report, or a node outside its pool, keeps no state: unknown. A node
/// whose own read failed keeps that as a warning, not an error, once another read it.
/// With no reader, every node running glusterd records the section as failed, so the
/// planner holds back what needs it (`plan::facts`).
pub fn share(nodes: &mut BTreeMap<String, NodeObservation>, from: Option<&str>, tried: &[String]) {
    let reader: Option<NodeFacts> = from.and_then(|r| match nodes.get(r) {
        Some(NodeObservation::Reachable(f)) => Some(f.as_ref().clone()),
        _ => None,
    });
    let failures: Vec<String> = tried
        .iter()
        .filter_map(|n| match nodes.get(n) {
            Some(NodeObservation::Reachable(f)) => {
                f.section_errors.get(SECTION).map(|e| format!("{n}: {e}"))
            }
            Some(NodeObservation::Unreachable(e)) => Some(format!("{n}: {}", e.message)),
            None => None,
        })
        .collect();
    for (name, obs) in nodes.iter_mut() {
        let NodeObservation::Reachable(f) = obs else {
            continue;
        };
        match (&reader, from) {
            (Some(r), Some(rn)) if rn != name => {
                if let Some(e) = f.section_errors.remove(SECTION) {
                    f.warnings.push(format!(
                        "volume status failed here ({e}); it was read on {rn}"
                    ));
                }
                let same_pool = f
                    .glusterd_uuid
                    .as_deref()
                    .is_some_and(|u| r.peers.iter().any(|p| p.uuid == u));
                copy_states(f, same_pool.then_some(r));
            }
            (Some(_), _) => {}
            (None, _) => {
                if f.glusterd_running && !f.section_errors.contains_key(SECTION) {
                    let why = if failures.is_empty() {
                        "no node could read it".to_string()
                    } else {
                        format!("no node could read it ({})", failures.join("; "))
                    };
                    f.section_errors.insert(SECTION.to_string(), why);
                }
                copy_states(f, None);
            }
        }
    }
}

/// Section errors of the reader's task reads (`volume_tasks`, `task:VOL`), which go with
/// the tasks they leave unknown.
pub fn is_task_section(name: &str) -> bool {
    name == "volume_tasks" || name.starts_with("task:")
}

fn copy_states(f: &mut NodeFacts, reader: Option<&NodeFacts>) {
    f.section_errors.retain(|k, _| !is_task_section(k));
    if let Some(r) = reader {
        for (k, e) in r.section_errors.iter().filter(|(k, _)| is_task_section(k)) {
            f.section_errors.insert(k.clone(), e.clone());
        }
    }
    for v in f.volumes.iter_mut() {
        let rv = reader.and_then(|r| r.volumes.iter().find(|rv| rv.name == v.name));
        v.task = rv.and_then(|rv| rv.task.clone());
        for b in v.bricks.iter_mut() {
            let rb = rv.and_then(|rv| {
                rv.bricks
                    .iter()
                    .find(|rb| rb.host == b.host && rb.path == b.path)
            });
            b.online = rb.and_then(|rb| rb.online);
            b.port = rb.and_then(|rb| rb.port);
            b.size_total = rb.and_then(|rb| rb.size_total);
            b.size_free = rb.and_then(|rb| rb.size_free);
        }
    }
}
