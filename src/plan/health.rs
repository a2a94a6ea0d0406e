//! The health gate and the cluster view: which declared nodes answered, whose glusterd
//! runs, which peers are connected, and which node runs cluster-wide gluster commands.
//! An unhealthy node gets no new bricks and blocks the volume steps it would endanger.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Desired;
use crate::gather::hosts::host_to_node;
use crate::gather::{NodeFacts, NodeObservation, Observed, VolumeFacts};

use super::address::Address;
use super::blocker_code::BlockerCode;
use super::builder::Builder;
use super::facts::{Need, Unknown};

pub(crate) struct World<'a> {
    pub(crate) desired: &'a Desired,
    /// Facts of reachable declared nodes.
    pub(crate) facts: BTreeMap<&'a str, &'a NodeFacts>,
    /// Declared node -> why it must not be touched (unreachable, glusterd down, ...).
    pub(crate) unhealthy: BTreeMap<String, String>,
    /// Node that runs cluster-wide gluster commands.
    pub(crate) runner: Option<String>,
    /// Declared nodes already in the runner's trusted pool (the runner included).
    pub(crate) in_pool: BTreeSet<String>,
    /// Any name gluster may use for a node (storage, manage, hostname, node name) -> node.
    pub(crate) host_to_node: BTreeMap<String, String>,
    /// Volumes as the runner sees them (cluster-wide), by name.
    pub(crate) volumes: BTreeMap<&'a str, &'a VolumeFacts>,
    /// What the probes could not read (filled by the facts pass, `plan::facts`).
    pub(crate) unknown: Unknown,
    /// Our cluster id once the identity pass settled it (it derives PV UUIDs).
    pub(crate) cluster_id: Option<String>,
    /// Volumes the config adopts (`adopt: true`) that exist unmarked and match their
    /// declaration (the adopt pass, before the device pass: a VG another tool made is
    /// adopted with the bricks it holds, and only then).
    pub(crate) adopting: BTreeSet<String>,
    /// Volumes declared `adopt: true` that match their declaration but are not adopted,
    /// with why (a VG of theirs holds LVs nothing adopted has as bricks).
    pub(crate) adopt_refused: BTreeMap<String, String>,
}

impl World<'_> {
    pub(crate) fn healthy(&self, node: &str) -> bool {
        self.facts.contains_key(node) && !self.unhealthy.contains_key(node)
    }
    pub(crate) fn node_of_host(&self, host: &str) -> Option<&str> {
        self.host_to_node.get(host).map(String::as_str)
    }
    /// Why the facts `need` asks for are unknown (a failed probe section), if they are.
    pub(crate) fn unknown(&self, need: Need<'_>) -> Option<&str> {
        self.unknown.get(need)
    }
}

/// `refused`: declared nodes the identity pass refused (node -> why); they are held back
/// like any unhealthy node, and never run gluster commands.
pub(crate) fn world<'a>(
    desired: &'a Desired,
    observed: &'a Observed,
    refused: &BTreeMap<String, String>,
    b: &mut Builder,
) -> World<'a> {
    let mut facts = BTreeMap::new();
    let mut unhealthy = BTreeMap::new();
    let host_to_node = host_to_node(desired, &observed.nodes);
    for (name, node) in &desired.nodes {
        let addr = Address::Node(name.clone());
        match observed.nodes.get(name) {
            None => {
                unhealthy.insert(name.clone(), "no facts were gathered".to_string());
                b.block(
                    BlockerCode::NodeUnreachable,
                    &addr,
                    format!("node {name} has no facts (it was not gathered)"),
                    Some("gather again, or check that the facts file matches this config".into()),
                );
            }
            Some(NodeObservation::Unreachable(e)) => {
                unhealthy.insert(name.clone(), format!("unreachable ({})", e.kind));
                b.block(
                    BlockerCode::NodeUnreachable,
                    &addr,
                    format!("node {name} ({}) is unreachable: {}", node.manage, e.message),
                    Some(format!(
                        "nothing is placed on {name} and steps that need it are held back; fix SSH access and plan again"
                    )),
                );
            }
            Some(NodeObservation::Reachable(f)) => {
                facts.insert(name.as_str(), f.as_ref());
                if !f.glusterd_running {
                    unhealthy.insert(name.clone(), "glusterd is not running".to_string());
                    b.block(
                        BlockerCode::GlusterdDown,
                        &addr,
                        format!("glusterd is not running on {name}"),
                        Some(format!(
                            "start it (systemctl start glusterd) on {name} and plan again"
                        )),
                    );
                }
                if let Some(lock) = &f.lock {
                    b.warnings.push(format!(
                        "node {name} holds an apply lock from {} (pid {}, since {}); apply will wait for it",
                        lock.holder_host, lock.pid, lock.started
                    ));
                }
                for w in &f.warnings {
                    b.warnings.push(format!("{name}: {w}"));
                }
            }
        }
    }

    for (n, why) in refused {
        unhealthy.entry(n.clone()).or_insert_with(|| why.clone());
    }
    same_machine(&facts, &mut unhealthy, b);
    let runner = choose_runner(desired, &facts, &unhealthy, &host_to_node);
    let mut in_pool = BTreeSet::new();
    let mut volumes = BTreeMap::new();
    if let Some(r) = &runner {
        in_pool.insert(r.clone());
        if let Some(f) = facts.get(r.as_str()) {
            for peer in &f.peers {
                if peer.hostname == "localhost" {
                    continue;
                }
                match host_to_node.get(&peer.hostname) {
                    Some(n) => {
                        in_pool.insert(n.clone());
                        if !peer.connected && !unhealthy.contains_key(n) {
                            unhealthy.insert(n.clone(), "peer disconnected".to_string());
                            b.block(
                                BlockerCode::PeerDisconnected,
                                &Address::Peer(n.clone()),
                                format!(
                                    "peer {} ({n}) is disconnected from the trusted pool as seen from {r}",
                                    peer.hostname
                                ),
                                Some(format!(
                                    "check glusterd and the network on {n}; steps touching it are held back"
                                )),
                            );
                        }
                    }
                    None => b.foreign(
                        Address::Peer(peer.hostname.clone()),
                        None,
                        format!(
                            "peer {} ({}) is in the trusted pool but not declared in the config; it is left alone",
                            peer.hostname,
                            if peer.connected { "connected" } else { "disconnected" }
                        ),
                    ),
                }
            }
            for v in &f.volumes {
                volumes.insert(v.name.as_str(), v);
            }
        }
    } else if !desired.nodes.is_empty() && refused.is_empty() {
        b.block(
            BlockerCode::NoGlusterNode,
            &Address::Cluster,
            "no declared node is reachable with glusterd running: gluster commands cannot run"
                .into(),
            Some("start glusterd on at least one node and plan again".into()),
        );
    } else if !desired.nodes.is_empty() {
        b.block(
            BlockerCode::NoGlusterNode,
            &Address::Cluster,
            "no declared node can run gluster commands: every reachable one with glusterd running is refused by the cluster identity check".into(),
            Some("settle the cluster identity (see the cluster_id blockers) and plan again".into()),
        );
    }
    World {
        desired,
        facts,
        unhealthy,
        runner,
        in_pool,
        host_to_node,
        volumes,
        unknown: Unknown::default(),
        cluster_id: None,
        adopting: BTreeSet::new(),
        adopt_refused: BTreeMap::new(),
    }
}

/// Two declared nodes whose glusterd reports one UUID are one machine under two names
/// (an address alias the config check cannot see, e.g. a DNS name and an IP, or a cloned
/// image): replicas placed on both would share one machine, so neither gets anything.
fn same_machine(
    facts: &BTreeMap<&str, &NodeFacts>,
    unhealthy: &mut BTreeMap<String, String>,
    b: &mut Builder,
) {
    let mut by_uuid: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, f) in facts {
        if let Some(u) = f.glusterd_uuid.as_deref().filter(|u| !u.is_empty()) {
            by_uuid.entry(u).or_default().push(name);
        }
    }
    for (uuid, names) in by_uuid.into_iter().filter(|(_, n)| n.len() > 1) {
        let list = names.join(", ");
        for name in &names {
            unhealthy.insert(name.to_string(), format!("the same machine as {list}"));
        }
        b.block(
            BlockerCode::DuplicateNode,
            &Address::Node(names[0].to_string()),
            format!("nodes {list} report the same glusterd UUID {uuid}: they are one machine under several names"),
            Some("declare each machine once; if the nodes were cloned from one image, give each its own UUID (stop glusterd, remove UUID= from /var/lib/glusterd/glusterd.info, start it) before it joins a pool".into()),
        );
    }
}

/// The first node by name that is reachable, runs glusterd and already shares a pool with
/// another declared node; failing that the first healthy node by name (a fresh cluster).
/// A draining node comes after every other (it is leaving the pool, and cannot detach
/// itself). Deterministic so that two plans of one cluster run gluster commands in the
/// same place.
fn choose_runner(
    desired: &Desired,
    facts: &BTreeMap<&str, &NodeFacts>,
    unhealthy: &BTreeMap<String, String>,
    host_to_node: &BTreeMap<String, String>,
) -> Option<String> {
    let mut healthy: Vec<&str> = desired
        .nodes
        .keys()
        .map(String::as_str)
        .filter(|n| facts.contains_key(n) && !unhealthy.contains_key(*n))
        .collect();
    healthy.sort_by_key(|n| desired.nodes[*n].drain);
    let pooled = healthy
        .iter()
        .find(|n| facts[**n].pooled_with(|h| host_to_node.get(h).is_some_and(|o| o != **n)));
    pooled.or(healthy.first()).map(|n| n.to_string())
}
