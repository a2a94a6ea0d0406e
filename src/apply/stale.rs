//! Is an approved plan still true? Apply re-reads the nodes after taking the lock and
//! compares with what the plan was made from. These pure functions say *what* changed,
//! so that a refused plan names the nodes and resources instead of a bare hash mismatch.

use std::collections::{BTreeMap, BTreeSet};

use crate::gather::{NodeFacts, NodeObservation, Observed};
use crate::lock::LockInfo;
use crate::plan::{Plan, Step};

/// Removes our own lock record from the facts: it was not there when the plan was made,
/// and it is not a change anyone else made. Ours means the whole holder record is ours
/// (host, pid, start time, boot, namespace); only the lock's own warning goes with it,
/// never a warning that merely mentions a lock (or a "block").
pub fn strip_own_lock(observed: &mut Observed, me: &LockInfo) {
    for obs in observed.nodes.values_mut() {
        if let NodeObservation::Reachable(facts) = obs
            && facts.lock.as_ref() == Some(me)
        {
            facts.lock = None;
            facts
                .warnings
                .retain(|w| w != crate::lock::INCOMPLETE_HOLDER_WARNING);
        }
    }
}

/// The same steps (ids, nodes, commands, guards, dependencies) and the same blockers:
/// applying one plan does exactly what applying the other would.
pub fn same_actions(a: &Plan, b: &Plan) -> bool {
    a.steps == b.steps && a.blockers == b.blockers
}

/// How the plan computed now differs from the approved one, one line per difference,
/// grouped by node.
pub fn plan_diff(approved: &Plan, now: &Plan) -> Vec<String> {
    let old: BTreeMap<&str, &Step> = approved.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    let new: BTreeMap<&str, &Step> = now.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut lines: Vec<(String, String)> = Vec::new();
    for (id, s) in &old {
        match new.get(id) {
            None => lines.push((
                s.node.clone(),
                format!("step {id} is no longer needed (done or changed by someone else)"),
            )),
            Some(n) if n.commands != s.commands || n.node != s.node => lines.push((
                n.node.clone(),
                format!("step {id} would now run different commands"),
            )),
            Some(n) if n != s => lines.push((
                n.node.clone(),
                format!("step {id} changed (description, guard or dependencies)"),
            )),
            Some(_) => {}
        }
    }
    for (id, s) in &new {
        if !old.contains_key(id) {
            lines.push((s.node.clone(), format!("new step {id}: {}", s.description)));
        }
    }
    let old_b: BTreeSet<(String, &str)> = approved
        .blockers
        .iter()
        .map(|b| (b.address.to_string(), b.message.as_str()))
        .collect();
    let new_b: BTreeSet<(String, &str)> = now
        .blockers
        .iter()
        .map(|b| (b.address.to_string(), b.message.as_str()))
        .collect();
    for (address, message) in new_b.difference(&old_b) {
        lines.push((
            "cluster".into(),
            format!("now blocked: {address}: {message}"),
        ));
    }
    for (address, message) in old_b.difference(&new_b) {
        lines.push((
            "cluster".into(),
            format!("no longer blocked: {address}: {message}"),
        ));
    }
    if lines.is_empty() && !same_actions(approved, now) {
        lines.push((
            "cluster".into(),
            "the plan computed now differs in the details of its steps or blockers".into(),
        ));
    }
    lines.sort();
    lines
        .into_iter()
        .map(|(node, line)| format!("{node}: {line}"))
        .collect()
}

/// Which nodes' facts differ, at the level an operator thinks in (volumes, peers, LVM,
/// mounts, ...). Usage figures (free bytes, fill percentages, ports) are summarised
/// separately because they change with every write.
pub fn facts_diff(old: &Observed, new: &Observed) -> Vec<String> {
    node_changes(old, new)
        .into_iter()
        .map(|(node, what)| format!("{node}: {what}"))
        .collect()
}

/// True when the only differences are usage figures: the approved plan still describes
/// the same cluster (same volumes, bricks and their health, peers, LVM objects, mounts,
/// reachability); only free space and fill levels moved, as they do with every write.
pub fn only_usage_changed(old: &Observed, new: &Observed) -> bool {
    node_changes(old, new)
        .iter()
        .all(|(_, what)| what == &format!("{USAGE} changed"))
}

const USAGE: &str = "usage figures (free space, fill levels, brick ports)";

fn node_changes(old: &Observed, new: &Observed) -> Vec<(String, String)> {
    let nodes: BTreeSet<&String> = old.nodes.keys().chain(new.nodes.keys()).collect();
    let mut out = Vec::new();
    for node in nodes {
        let what = match (old.nodes.get(node), new.nodes.get(node)) {
            (Some(NodeObservation::Reachable(a)), Some(NodeObservation::Reachable(b))) => {
                let kinds = differing_parts(a, b);
                if kinds.is_empty() {
                    continue;
                }
                format!("{} changed", kinds.join(", "))
            }
            (Some(NodeObservation::Reachable(_)), Some(NodeObservation::Unreachable(e))) => {
                format!("no longer reachable ({})", e.message)
            }
            (Some(NodeObservation::Unreachable(_)), Some(NodeObservation::Reachable(_))) => {
                "reachable again".to_string()
            }
            (Some(NodeObservation::Unreachable(_)), Some(NodeObservation::Unreachable(_)))
            | (None, None) => continue,
            (None, Some(_)) => "new node".to_string(),
            (Some(_), None) => "no longer in the facts".to_string(),
        };
        out.push((node.clone(), what));
    }
    out
}

/// Names of the parts of one node's facts that differ.
fn differing_parts(a: &NodeFacts, b: &NodeFacts) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    let mut check = |name: &'static str, differs: bool| {
        if differs {
            kinds.push(name);
        }
    };
    check(
        "identity",
        a.hostname != b.hostname
            || a.glusterd_uuid != b.glusterd_uuid
            || a.cluster_id != b.cluster_id,
    );
    check(
        "glusterd",
        a.glusterd_running != b.glusterd_running || a.versions != b.versions,
    );
    check("peers", a.peers != b.peers);
    let vol_shape = |f: &NodeFacts| {
        f.volumes
            .iter()
            .map(|v| {
                // Brick health counts as shape: the planner's health gate depends on it.
                let bricks: Vec<(String, Option<bool>)> = v
                    .bricks
                    .iter()
                    .map(|b| (b.name.clone(), b.online))
                    .collect();
                (
                    v.name.clone(),
                    format!("{:?}", v.status),
                    bricks,
                    v.options.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    check("volumes", vol_shape(a) != vol_shape(b));
    check(
        "block devices",
        names(&a.block_devices, |d| (&d.path, &d.fstype, &d.children))
            != names(&b.block_devices, |d| (&d.path, &d.fstype, &d.children))
            || a.signatures != b.signatures,
    );
    check(
        "LVM PVs/VGs",
        names(&a.pvs, |p| (&p.name, &p.vg, &p.tags))
            != names(&b.pvs, |p| (&p.name, &p.vg, &p.tags))
            || names(&a.vgs, |v| (&v.name, &v.tags, v.size))
                != names(&b.vgs, |v| (&v.name, &v.tags, v.size)),
    );
    check(
        "LVM LVs",
        names(&a.lvs, |l| (&l.name, &l.vg, &l.pool, &l.tags, l.size))
            != names(&b.lvs, |l| (&l.name, &l.vg, &l.pool, &l.tags, l.size)),
    );
    check(
        "mounts",
        names(&a.mounts, |m| (&m.target, &m.source, &m.fstype))
            != names(&b.mounts, |m| (&m.target, &m.source, &m.fstype)),
    );
    check("fstab", a.fstab != b.fstab);
    check(
        "brick directories",
        a.brick_dirs != b.brick_dirs
            || a.paths
                .iter()
                .map(|(p, f)| (p, f.exists))
                .collect::<Vec<_>>()
                != b.paths
                    .iter()
                    .map(|(p, f)| (p, f.exists))
                    .collect::<Vec<_>>(),
    );
    check("apply lock", a.lock != b.lock);
    if kinds.is_empty() && a != b {
        kinds.push(USAGE);
    }
    kinds
}

fn names<'a, T, K: Ord + 'a>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<K> {
    let mut v: Vec<K> = items.iter().map(key).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::{Lv, Mount, NodeError, VolumeFacts, VolumeStatus};
    use crate::plan::{Action, Address, Blocker, BlockerCode, Guard};

    fn step(id: &str, node: &str, cmd: &str) -> Step {
        Step {
            id: id.into(),
            address: Address::volume(id),
            action: Action::Create,
            node: node.into(),
            description: format!("do {id}"),
            commands: vec![vec![cmd.into()]],
            guard: Guard {
                description: "g".into(),
                argv: vec!["true".into()],
                redundant_when_fresh: false,
            },
            depends_on: vec![],
            destructive: false,
            changes: vec![],
        }
    }

    fn plan(steps: Vec<Step>) -> Plan {
        Plan {
            format_version: 1,
            cluster: "c".into(),
            cluster_id: None,
            planned_with: Default::default(),
            facts_fingerprint: "f".into(),
            config_hash: "h".into(),
            steps,
            placements: vec![],
            blockers: vec![],
            foreign: vec![],
            warnings: vec![],
            blocked_steps: vec![],
        }
    }

    #[test]
    fn plan_diff_names_removed_added_and_changed_steps_by_node() {
        let old = plan(vec![
            step("a", "n1", "x"),
            step("b", "n2", "y"),
            step("c", "n3", "z"),
        ]);
        let mut new = plan(vec![
            step("a", "n1", "x"),
            step("b", "n2", "y2"),
            step("d", "n3", "w"),
        ]);
        new.blockers.push(Blocker {
            code: BlockerCode::Capacity,
            address: Address::volume("v"),
            message: "does not fit".into(),
            help: None,
        });
        assert!(!same_actions(&old, &new));
        assert_eq!(
            plan_diff(&old, &new),
            vec![
                "cluster: now blocked: volume.v: does not fit",
                "n2: step b would now run different commands",
                "n3: new step d: do d",
                "n3: step c is no longer needed (done or changed by someone else)",
            ]
        );
        assert_eq!(
            plan_diff(&new, &old),
            vec![
                "cluster: no longer blocked: volume.v: does not fit",
                "n2: step b would now run different commands",
                "n3: new step c: do c",
                "n3: step d is no longer needed (done or changed by someone else)",
            ]
        );
        let mut reworded = old.clone();
        reworded.steps[0].description = "worded differently".into();
        assert_eq!(
            plan_diff(&old, &reworded),
            vec!["n1: step a changed (description, guard or dependencies)"]
        );
        let mut helped = old.clone();
        helped.blockers.push(Blocker {
            code: BlockerCode::Capacity,
            address: Address::volume("a"),
            message: "m".into(),
            help: None,
        });
        let mut helped2 = helped.clone();
        helped2.blockers[0].help = Some("now with help".into());
        assert_eq!(
            plan_diff(&helped, &helped2),
            vec!["cluster: the plan computed now differs in the details of its steps or blockers"]
        );
        let mut same = old.clone();
        same.facts_fingerprint = "other".into();
        assert!(same_actions(&old, &same));
        assert!(plan_diff(&old, &same).is_empty());
    }

    fn facts() -> NodeFacts {
        NodeFacts {
            hostname: "n".into(),
            glusterd_running: true,
            ..NodeFacts::default()
        }
    }

    fn observed(nodes: Vec<(&str, NodeObservation)>) -> Observed {
        Observed {
            format_version: 1,
            nodes: nodes.into_iter().map(|(n, o)| (n.to_string(), o)).collect(),
        }
    }

    #[test]
    fn facts_diff_is_coarse_and_per_node() {
        let base = facts();
        let mut vol = base.clone();
        vol.volumes.push(VolumeFacts {
            name: "v".into(),
            id: "1".into(),
            status: VolumeStatus::Started,
            vol_type: "Replicate".into(),
            brick_count: 0,
            dist_count: 1,
            replica_count: 3,
            arbiter_count: 0,
            disperse_count: 0,
            redundancy_count: 0,
            bricks: vec![],
            options: Default::default(),
            task: None,
        });
        vol.mounts.push(Mount {
            target: "/b".into(),
            source: "/dev/x".into(),
            fstype: "xfs".into(),
            options: "rw".into(),
            size: Some(10),
            avail: Some(5),
        });
        let mut usage = base.clone();
        usage.lvs.push(Lv {
            name: "lv".into(),
            vg: "vg".into(),
            size: 1,
            attr: "V".into(),
            pool: None,
            data_percent: Some(1.0),
            metadata_percent: None,
            metadata_size: None,
            tags: vec![],
            path: None,
        });
        let mut usage2 = usage.clone();
        usage2.lvs[0].data_percent = Some(50.0);
        let r = |f: &NodeFacts| NodeObservation::Reachable(Box::new(f.clone()));
        let old = observed(vec![
            ("n1", r(&base)),
            ("n2", r(&base)),
            ("n3", r(&usage)),
            ("n4", r(&base)),
        ]);
        let new = observed(vec![
            ("n1", r(&base)),
            ("n2", r(&vol)),
            ("n3", r(&usage2)),
            (
                "n4",
                NodeObservation::Unreachable(NodeError {
                    kind: "timeout".into(),
                    message: "timed out".into(),
                }),
            ),
        ]);
        assert_eq!(
            facts_diff(&old, &new),
            vec![
                "n2: volumes, mounts changed",
                "n3: usage figures (free space, fill levels, brick ports) changed",
                "n4: no longer reachable (timed out)",
            ]
        );
        assert!(!only_usage_changed(&old, &new));
        let usage_only = observed(vec![
            ("n1", r(&base)),
            ("n2", r(&base)),
            ("n3", r(&usage2)),
            ("n4", r(&base)),
        ]);
        assert!(only_usage_changed(&old, &usage_only));
        assert!(only_usage_changed(&old, &old));
        // A brick going offline is health, not usage: the health gate depends on it.
        let mut online = vol.clone();
        online.volumes[0].bricks.push(crate::gather::BrickFacts {
            name: "n2:/b".into(),
            host: "n2".into(),
            path: "/b".into(),
            host_uuid: None,
            is_arbiter: false,
            online: Some(true),
            port: Some(49152),
            size_total: None,
            size_free: Some(10),
        });
        let mut offline = online.clone();
        offline.volumes[0].bricks[0].online = Some(false);
        let mut moved = online.clone();
        moved.volumes[0].bricks[0].size_free = Some(5);
        let o = |f: &NodeFacts| observed(vec![("n2", r(f))]);
        assert_eq!(
            facts_diff(&o(&online), &o(&offline)),
            vec!["n2: volumes changed"]
        );
        assert!(!only_usage_changed(&o(&online), &o(&offline)));
        assert!(only_usage_changed(&o(&online), &o(&moved)));
    }

    #[test]
    fn only_our_own_lock_is_stripped() {
        let me = LockInfo {
            holder_host: "h".into(),
            pid: 1,
            started: "s".into(),
            ..LockInfo::default()
        };
        let other = LockInfo {
            pid: 2,
            ..me.clone()
        };
        let mut a = facts();
        a.lock = Some(me.clone());
        a.warnings = vec!["/dev/sdb: block device changed size".into()];
        let mut b = facts();
        b.lock = Some(other.clone());
        let mut o = observed(vec![
            ("a", NodeObservation::Reachable(Box::new(a))),
            ("b", NodeObservation::Reachable(Box::new(b))),
        ]);
        strip_own_lock(&mut o, &me);
        let lock_of = |n: &str| match &o.nodes[n] {
            NodeObservation::Reachable(f) => f.lock.clone(),
            NodeObservation::Unreachable(_) => None,
        };
        assert_eq!(lock_of("a"), None);
        assert_eq!(lock_of("b"), Some(other));
    }

    #[test]
    fn finding_18_stripping_our_lock_keeps_warnings_that_mention_a_lock() {
        let me = LockInfo {
            holder_host: "h".into(),
            pid: 1,
            started: "s".into(),
            pid_start: Some(10),
            ..LockInfo::default()
        };
        let mut a = facts();
        a.lock = Some(me.clone());
        a.warnings = vec![
            "/dev/sdb: block device changed size".into(),
            "glusterd lock file found".into(),
        ];
        let mut b = facts();
        // Same host and pid, another start time: a later process, not us.
        b.lock = Some(LockInfo {
            pid_start: Some(11),
            ..me.clone()
        });
        let mut o = observed(vec![
            ("a", NodeObservation::Reachable(Box::new(a.clone()))),
            ("b", NodeObservation::Reachable(Box::new(b.clone()))),
        ]);
        strip_own_lock(&mut o, &me);
        let NodeObservation::Reachable(fa) = &o.nodes["a"] else {
            panic!()
        };
        assert_eq!(fa.lock, None);
        assert_eq!(fa.warnings, a.warnings);
        let NodeObservation::Reachable(fb) = &o.nodes["b"] else {
            panic!()
        };
        assert_eq!(fb.lock, b.lock);
    }
}
