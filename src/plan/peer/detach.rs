//! Detaching a retired node: a node declared `drain: true` leaves the trusted pool once
//! no brick of any volume is on it. Its bricks are moved off by the volume pass
//! (`volume::migrate`); the detach is planned in the same plan, after each move's
//! swap and heal, or, when a brick cannot move, not at all (its blocker says why).
//! Detached, it is never probed again, and the plan says it may leave the config.

use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::{Builder, StepSpec, change};
use crate::plan::facts::Need;
use crate::plan::gluster;
use crate::plan::health::World;
use crate::plan::model::Action;

/// Plans `peer detach` for every draining node in the pool with no brick left on it.
pub(crate) fn detaches(w: &World<'_>, b: &mut Builder) {
    for (name, node) in w.desired.nodes.iter().filter(|(_, n)| n.drain) {
        let addr = Address::Peer(name.clone());
        if !w.in_pool.contains(name) {
            if w.unknown(Need::Peers).is_none() && w.runner.is_some() {
                b.warnings.push(format!(
                    "node {name} is drained and not in the trusted pool: remove it from the config"
                ));
            }
            continue;
        }
        let Some(runner) = w.runner.as_deref().filter(|r| r != name) else {
            b.block(
                BlockerCode::NoGlusterNode,
                &addr,
                format!("node {name} is draining, but no other node of the pool can run `peer detach` for it"),
                Some("bring up glusterd on another declared node of the pool and plan again".into()),
            );
            continue;
        };
        if let Some(why) = w.unknown(Need::Volumes) {
            b.block(
                BlockerCode::FactsIncomplete,
                &addr,
                format!(
                    "node {name} is draining, but whether a brick is still on it is unknown: {why}"
                ),
                None,
            );
            continue;
        }
        // every brick still on it must be moving off in this plan: the detach waits for
        // each move's swap and heal (gluster refuses a peer that holds a brick)
        let mut after = Vec::new();
        let mut staying = Vec::new();
        for br in w
            .volumes
            .values()
            .flat_map(|v| &v.bricks)
            .filter(|br| w.node_of_host(&br.host) == Some(name.as_str()))
        {
            match move_of(b, &br.name) {
                Some(ids) => after.extend(ids),
                None => staying.push(br.name.as_str()),
            }
        }
        if !staying.is_empty() {
            // the volume pass said why they cannot move (a blocker); the detach comes after
            b.warnings.push(format!(
                "node {name} is draining: it is detached from the trusted pool once no brick is on it (staying on it: {})",
                staying.join(", ")
            ));
            continue;
        }
        // the name the pool knows it by, if it is one the config gives it
        let known = w
            .runner
            .as_deref()
            .and_then(|r| w.facts.get(r))
            .into_iter()
            .flat_map(|f| &f.peers)
            .find(|p| w.node_of_host(&p.hostname) == Some(name.as_str()))
            .map(|p| p.hostname.as_str());
        let host = match known {
            Some(h) if h == node.storage || h == node.manage => h,
            Some(h) => {
                b.block(
                    BlockerCode::UnknownBrickHost,
                    &addr,
                    format!("node {name} is draining, but the trusted pool knows it as {h:?}, not by an address the config gives it"),
                    Some(format!("detach it by hand (`gluster peer detach {}`) or declare that address", node.storage)),
                );
                continue;
            }
            None => node.storage.as_str(),
        };
        let detach = gluster::peer_detach(host);
        let after_moves = !after.is_empty();
        b.push(
            StepSpec {
                id: format!("{addr}/detach"),
                address: &addr,
                action: Action::Delete,
                node: runner,
                description: format!(
                    "detach drained node {name} ({host}) from the trusted pool{}",
                    if after_moves {
                        ", after its bricks have moved"
                    } else {
                        ": no brick is on it"
                    }
                ),
                commands: vec![detach.argv],
                guard: detach.guard,
                depends_on: after,
                destructive: false,
            },
            !w.healthy(name),
        );
        b.with_changes(vec![change("storage", Some(host), None)]);
    }
}

/// The steps of this plan that move brick `old` (`host:/path`) off its node: its
/// `replace-brick` and the heal wait after it. None when nothing in the plan moves it.
fn move_of(b: &Builder, old: &str) -> Option<Vec<String>> {
    let swap = b.steps.iter().map(|p| &p.step).find(|s| {
        s.commands.iter().any(|c| {
            c.get(2..4) == Some(&["volume".to_string(), "replace-brick".to_string()][..])
                && c.get(5).map(String::as_str) == Some(old)
        })
    })?;
    let mut ids = vec![swap.id.clone()];
    ids.extend(
        b.steps
            .iter()
            .map(|p| &p.step)
            .filter(|s| s.id.contains("/heal/") && s.depends_on.contains(&swap.id))
            .map(|s| s.id.clone()),
    );
    Some(ids)
}
