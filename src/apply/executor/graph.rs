//! The plan as a graph: checked whole before anything runs (ids, dependencies, nodes,
//! cycles, destroy and wipe permission), and which steps must run one at a time.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::options::{ApplyError, ApplyOptions};
use crate::plan::{Permission, Plan, Step};
use crate::transport::Transports;

/// True for steps that change cluster-wide gluster state: they run one at a time.
pub(crate) fn is_cluster_wide(step: &Step) -> bool {
    step.commands.iter().any(|argv| {
        argv.first()
            .is_some_and(|p| p == "gluster" || p.ends_with("/gluster"))
    })
}

/// Checks the plan is a well-formed graph that these transports can run, before anything runs.
pub fn validate(
    plan: &Plan,
    transports: &Transports,
    opts: &ApplyOptions,
) -> Result<(), ApplyError> {
    let mut ids = HashMap::new();
    for (i, step) in plan.steps.iter().enumerate() {
        if ids.insert(step.id.as_str(), i).is_some() {
            return Err(ApplyError::DuplicateStep(step.id.clone()));
        }
    }
    for step in &plan.steps {
        for dep in &step.depends_on {
            if !ids.contains_key(dep.as_str()) {
                return Err(ApplyError::UnknownDependency {
                    step: step.id.clone(),
                    missing: dep.clone(),
                });
            }
        }
        if step.commands.iter().any(|c| c.is_empty()) {
            return Err(ApplyError::EmptyCommand(step.id.clone()));
        }
        if needs_transport(step) && !transports.contains_key(&step.node) {
            return Err(ApplyError::UnknownNode {
                step: step.id.clone(),
                node: step.node.clone(),
            });
        }
    }
    if let Some(cycle) = find_cycle(plan, &ids) {
        return Err(ApplyError::Cycle(cycle));
    }
    let needing = |p: Permission| -> Vec<String> {
        plan.steps
            .iter()
            .filter(|s| s.permission() == Some(p))
            .map(|s| s.address.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let deletes = needing(Permission::Destroy);
    if !deletes.is_empty() && !opts.allow_destroy {
        return Err(ApplyError::DestroyNotAllowed(deletes));
    }
    let wipes = needing(Permission::Wipe);
    if !wipes.is_empty() && !opts.allow_wipe {
        return Err(ApplyError::WipeNotAllowed(wipes));
    }
    Ok(())
}

pub(super) fn needs_transport(step: &Step) -> bool {
    !step.commands.is_empty() || !step.guard.argv.is_empty()
}

/// Kahn's algorithm; whatever cannot be ordered is on (or behind) a cycle.
fn find_cycle(plan: &Plan, ids: &HashMap<&str, usize>) -> Option<Vec<String>> {
    let n = plan.steps.len();
    let mut indegree = vec![0usize; n];
    let mut dependents = vec![Vec::new(); n];
    for (i, step) in plan.steps.iter().enumerate() {
        for dep in &step.depends_on {
            if let Some(&d) = ids.get(dep.as_str()) {
                indegree[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop_front() {
        seen += 1;
        for &j in &dependents[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                queue.push_back(j);
            }
        }
    }
    (seen < n).then(|| {
        (0..n)
            .filter(|&i| indegree[i] > 0)
            .map(|i| plan.steps[i].id.clone())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    #[test]
    fn only_gluster_commands_are_cluster_wide() {
        let mut s = Step {
            id: "x".into(),
            address: crate::plan::Address::volume("x"),
            action: Action::Create,
            node: "n".into(),
            description: String::new(),
            commands: vec![vec!["mkdir".into(), "-p".into(), "/b".into()]],
            guard: crate::plan::Guard {
                description: String::new(),
                argv: vec!["gluster".into(), "volume".into(), "info".into()],
                redundant_when_fresh: false,
            },
            depends_on: vec![],
            destructive: false,
            changes: vec![],
        };
        assert!(!is_cluster_wide(&s), "a gluster guard is a read");
        s.commands
            .push(vec!["gluster".into(), "--mode=script".into()]);
        assert!(is_cluster_wide(&s));
    }
}
