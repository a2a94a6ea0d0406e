//! A saved plan is an approval, not a script. The file says what the operator reviewed;
//! it proves nothing about what should run, since anyone who can write it could add a
//! command or clear a `destructive` mark, and its hashes cover only public inputs. So
//! apply never runs a plan file's steps: under the lock it plans again from the fresh
//! facts, with the options the file was planned with, and runs the re-derived plan only
//! when its steps are exactly the saved ones. Everything that decides (commands, guards,
//! destructiveness) comes from the planner; the file only has to agree with it.

use crate::config::Desired;
use crate::gather::Observed;
use crate::plan::{self, Plan, PlanOptions, Step};
use crate::transport::quote;

use super::stale;

/// The options a saved plan is re-derived with: the permissions it was planned with, and
/// the cluster id it made (a fresh id would give other record steps; a plan that made
/// none must not gain record steps nobody reviewed). These pick *which* plan is
/// re-derived, they grant nothing: apply's own flags still gate every destructive step.
pub fn replan_options(saved: &Plan) -> PlanOptions {
    PlanOptions {
        allow_destroy: saved.planned_with.allow_destroy,
        allow_wipe: saved.planned_with.allow_wipe,
        new_cluster_id: saved
            .cluster_id
            .as_ref()
            .filter(|c| c.new)
            .map(|c| c.id.clone()),
    }
}

/// Plans again from `fresh` and returns that plan, the only one apply may run, when its
/// steps and blockers equal the saved ones. Otherwise the text says why: "stale" when the
/// facts changed since the plan was made (naming what the plan would now do
/// differently), or that the file does not match what brickyard derives from the same
/// facts (edited, or made by another version); both name the first difference.
pub fn recheck(saved: &Plan, desired: &Desired, fresh: &Observed) -> Result<Plan, String> {
    let now = plan::plan(desired, fresh, &replan_options(saved));
    let Some(first) = first_difference(saved, &now) else {
        return Ok(now);
    };
    if plan::fingerprint::hash(fresh) != saved.facts_fingerprint {
        let mut why =
            String::from("The plan is stale: the cluster changed since the plan was made:");
        for line in stale::plan_diff(saved, &now) {
            why.push_str(&format!("\n  plan:  {line}"));
        }
        why.push_str(&format!("\n  first difference: {first}"));
        Err(why)
    } else {
        Err(format!(
            "The saved plan does not match the plan brickyard derives from the same facts \
             (the file was edited, or made by another brickyard version): {first}"
        ))
    }
}

/// The first way the saved plan differs from the re-derived one, as one line naming the
/// step and the field; None when applying one does exactly what applying the other would
/// (same steps in the same order, field by field, and the same blockers).
pub fn first_difference(saved: &Plan, now: &Plan) -> Option<String> {
    for s in &saved.steps {
        if !now.steps.iter().any(|n| n.id == s.id) {
            return Some(format!(
                "step {} is in the saved plan but not re-derived",
                shown(&s.id)
            ));
        }
    }
    for n in &now.steps {
        if !saved.steps.iter().any(|s| s.id == n.id) {
            return Some(format!(
                "step {} is re-derived but not in the saved plan",
                shown(&n.id)
            ));
        }
    }
    for (i, (s, n)) in saved.steps.iter().zip(&now.steps).enumerate() {
        if s.id != n.id {
            return Some(format!(
                "step {} is at position {} in the saved plan, re-derived step {} is there",
                shown(&s.id),
                i + 1,
                shown(&n.id)
            ));
        }
        if let Some(field) = step_difference(s, n) {
            return Some(format!("step {}: {field}", shown(&s.id)));
        }
    }
    if saved.blockers != now.blockers {
        let list = |p: &Plan| {
            p.blockers
                .iter()
                .map(|b| format!("{} ({})", b.address, b.code))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Some(format!(
            "the blockers differ: saved [{}], re-derived [{}]",
            shown(&list(saved)),
            list(now)
        ));
    }
    None
}

/// The first field of two steps with the same id that differs.
fn step_difference(s: &Step, n: &Step) -> Option<String> {
    let pair = |field: &str, a: String, b: String| {
        Some(format!(
            "{field} differs: saved {}, re-derived {}",
            shown(&a),
            shown(&b)
        ))
    };
    if s.node != n.node {
        return pair("node", s.node.clone(), n.node.clone());
    }
    if s.address != n.address {
        return pair("address", s.address.to_string(), n.address.to_string());
    }
    if s.action != n.action {
        return pair(
            "action",
            format!("{:?}", s.action),
            format!("{:?}", n.action),
        );
    }
    let count = s.commands.len().max(n.commands.len());
    for k in 0..count {
        let (a, b) = (s.commands.get(k), n.commands.get(k));
        if a != b {
            return pair(&format!("command {}", k + 1), argv(a), argv(b));
        }
    }
    if s.guard.argv != n.guard.argv {
        return pair(
            "guard",
            argv(Some(&s.guard.argv)),
            argv(Some(&n.guard.argv)),
        );
    }
    if s.depends_on != n.depends_on {
        return pair(
            "depends_on",
            format!("{:?}", s.depends_on),
            format!("{:?}", n.depends_on),
        );
    }
    if s.destructive != n.destructive {
        return pair(
            "destructive",
            s.destructive.to_string(),
            n.destructive.to_string(),
        );
    }
    if s.guard.description != n.guard.description {
        return pair(
            "guard description",
            s.guard.description.clone(),
            n.guard.description.clone(),
        );
    }
    if s.description != n.description {
        return pair("description", s.description.clone(), n.description.clone());
    }
    if s.changes != n.changes {
        return pair(
            "changes",
            format!("{:?}", s.changes),
            format!("{:?}", n.changes),
        );
    }
    None
}

fn argv(a: Option<&Vec<String>>) -> String {
    a.map_or("(none)".to_string(), |a| format!("[{}]", quote(a)))
}

/// Text from the file made safe for a terminal: control characters are spelled out,
/// so a crafted plan cannot rewrite the error that refuses it.
fn shown(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_saved_text_are_spelled_out() {
        assert_eq!(shown("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
        assert_eq!(
            shown("brick.gfs[0][0]/lvcreate"),
            "brick.gfs[0][0]/lvcreate"
        );
    }
}
