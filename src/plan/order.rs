//! Final ordering: blocked steps pull their dependants with them (so `steps` is closed
//! under `depends_on`), then a stable topological order that keeps the planner's order
//! wherever dependencies allow, which makes the output deterministic and readable.

use std::collections::{BTreeMap, BTreeSet};

use super::builder::PStep;
use super::model::Step;

/// Split into (runnable, blocked) steps, each in dependency order.
pub(crate) fn finish(mut steps: Vec<PStep>, warnings: &mut Vec<String>) -> (Vec<Step>, Vec<Step>) {
    // propagate blocking to a fixed point (dependencies may point forward or back)
    let index: BTreeMap<String, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.step.id.clone(), i))
        .collect();
    loop {
        let mut changed = false;
        for i in 0..steps.len() {
            if steps[i].blocked {
                continue;
            }
            let dep_blocked = steps[i].step.depends_on.iter().any(|d| match index.get(d) {
                Some(&j) => steps[j].blocked,
                None => true, // a dependency that is not in the plan cannot be satisfied
            });
            if dep_blocked {
                steps[i].blocked = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let ordered = topo(steps, warnings);
    let (blocked, run): (Vec<PStep>, Vec<PStep>) = ordered.into_iter().partition(|s| s.blocked);
    (
        run.into_iter().map(|s| s.step).collect(),
        blocked.into_iter().map(|s| s.step).collect(),
    )
}

/// Kahn's algorithm, always taking the earliest-pushed ready step.
fn topo(steps: Vec<PStep>, warnings: &mut Vec<String>) -> Vec<PStep> {
    let index: BTreeMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.step.id.as_str(), i))
        .collect();
    let mut indeg = vec![0usize; steps.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, s) in steps.iter().enumerate() {
        let deps: BTreeSet<usize> = s
            .step
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .collect();
        indeg[i] = deps.len();
        for d in deps {
            users[d].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..steps.len()).filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::with_capacity(steps.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &u in &users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                ready.insert(u);
            }
        }
    }
    if order.len() < steps.len() {
        // a cycle is a planner bug; keep every step, in push order, and say so
        warnings.push("internal: dependency cycle among steps; order may be wrong".into());
        let seen: BTreeSet<usize> = order.iter().copied().collect();
        order.extend((0..steps.len()).filter(|i| !seen.contains(i)));
    }
    let mut slots: Vec<Option<PStep>> = steps.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}
