//! Peer probes: every declared node not yet in the runner's trusted pool is probed by
//! its storage address from the runner, except a draining one, which only ever leaves
//! (`detach`).

mod detach;

pub(crate) use detach::detaches;

use std::collections::BTreeMap;

use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::{Builder, StepSpec, change};
use crate::plan::facts::Need;
use crate::plan::gluster;
use crate::plan::health::World;
use crate::plan::model::Action;

/// Returns node -> probe step id.
pub(crate) fn probes(w: &World<'_>, b: &mut Builder) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let runner = w.runner.as_deref();
    for (name, node) in &w.desired.nodes {
        if w.in_pool.contains(name) || node.drain {
            continue;
        }
        let addr = Address::Peer(name.clone());
        // an unread pool list makes every node look outside the pool (finding #8)
        let unknown = w.unknown(Need::Peers);
        if let Some(why) = unknown {
            b.block(
                BlockerCode::FactsIncomplete,
                &addr,
                format!("the trusted pool is unknown, so {name} is not probed: {why}"),
                None,
            );
        }
        let blocked = runner.is_none() || !w.healthy(name) || unknown.is_some();
        let (commands, guard) = gluster::peer_probe(&node.storage);
        let id = b.push(
            StepSpec {
                id: format!("{addr}/probe"),
                address: &addr,
                action: Action::Create,
                node: runner.unwrap_or(name),
                description: format!("probe {name} ({}) into the trusted pool", node.storage),
                commands,
                guard,
                depends_on: vec![],
                destructive: false,
            },
            blocked,
        );
        b.with_changes(vec![change("storage", None, Some(&node.storage))]);
        out.insert(name.clone(), id);
    }
    out
}
