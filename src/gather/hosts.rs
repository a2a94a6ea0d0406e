//! Every name gluster may use for a declared node (the node's name, manage and storage
//! addresses, the hostname its probe reported), in one place: the planner maps brick
//! hosts and peers through it, and gather uses it to find a node's pool before planning.

use std::collections::BTreeMap;

use crate::config::Desired;

use super::model::NodeObservation;

/// Name -> declared node. A storage address wins over any other spelling; a reported
/// hostname only fills a name nothing declared already claims.
pub fn host_to_node(
    desired: &Desired,
    nodes: &BTreeMap<String, NodeObservation>,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (name, node) in &desired.nodes {
        m.insert(name.clone(), name.clone());
        m.insert(node.manage.clone(), name.clone());
        m.insert(node.storage.clone(), name.clone());
    }
    for (name, node) in &desired.nodes {
        m.insert(node.storage.clone(), name.clone());
    }
    for name in desired.nodes.keys() {
        if let Some(NodeObservation::Reachable(f)) = nodes.get(name)
            && !f.hostname.is_empty()
        {
            m.entry(f.hostname.clone()).or_insert_with(|| name.clone());
        }
    }
    m
}
