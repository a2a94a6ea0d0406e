//! Peer probes: every declared node not yet in the runner's trusted pool is probed by
//! its storage address from the runner.

use std::collections::BTreeMap;

use super::builder::{Builder, StepSpec, argv, sh};
use super::health::World;
use super::model::Action;

/// Returns node -> probe step id.
pub(crate) fn probes(w: &World<'_>, b: &mut Builder) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let runner = w.runner.as_deref();
    for (name, node) in &w.desired.nodes {
        if w.in_pool.contains(name) {
            continue;
        }
        let addr = format!("peer.{name}");
        let blocked = runner.is_none() || !w.healthy(name);
        let id = b.push(
            StepSpec {
                id: format!("{addr}/probe"),
                address: &addr,
                action: Action::Create,
                node: runner.unwrap_or(name),
                description: format!("probe {name} ({}) into the trusted pool", node.storage),
                commands: vec![argv(&["gluster", "--mode=script", "peer", "probe", &node.storage])],
                guard: (
                    "pool list shows the peer".into(),
                    sh(
                        "gluster --mode=script pool list | awk 'NR>1 {print $2}' | grep -qxF -- \"$1\"",
                        &[&node.storage],
                    ),
                ),
                depends_on: vec![],
                destructive: false,
            },
            blocked,
        );
        b.with_changes(vec![super::builder::change(
            "storage",
            None,
            Some(&node.storage),
        )]);
        out.insert(name.clone(), id);
    }
    out
}
