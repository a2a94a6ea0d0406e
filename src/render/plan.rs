//! A Plan for humans (Terraform-like: `+` create, `~` update, `-` destroy, `-/+`
//! replace, per-resource blocks, placement table, blockers with help, foreign list,
//! summary line) or for machines (the versioned JSON document, serde of Plan).
//! Color is the caller's decision (terminal, NO_COLOR, --no-color). Every string that
//! comes from the plan (much of it from nodes) is shown through `escape`.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape::{escape, escape_text};
use crate::plan::{Action, Address, Plan, Step};
use crate::transport::shell::quote;
use crate::units::HumanBytes;

struct Paint(bool);

impl Paint {
    fn c(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Change,
    Destroy,
    Replace,
    Adopt,
}

fn classify(steps: &[&Step]) -> Kind {
    let c = steps
        .iter()
        .any(|s| matches!(s.action, Action::Create | Action::Replace));
    let d = steps
        .iter()
        .any(|s| matches!(s.action, Action::Delete | Action::Replace));
    match (c, d) {
        (true, true) => Kind::Replace,
        (false, true) => Kind::Destroy,
        (true, false) => Kind::Add,
        _ if steps.iter().any(|s| s.action == Action::Adopt) => Kind::Adopt,
        _ => Kind::Change,
    }
}

fn group(steps: &[Step]) -> Vec<(&Address, Vec<&Step>)> {
    let mut order: Vec<&Address> = Vec::new();
    let mut by: BTreeMap<&Address, Vec<&Step>> = BTreeMap::new();
    for s in steps {
        let e = by.entry(&s.address).or_default();
        if e.is_empty() {
            order.push(&s.address);
        }
        e.push(s);
    }
    order
        .into_iter()
        .map(|a| (a, by.remove(a).unwrap_or_default()))
        .collect()
}

/// The human rendering.
pub fn human(plan: &Plan, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    let groups = group(&plan.steps);
    if let Some(line) = identity_line(plan) {
        let _ = writeln!(out, "{}\n", p.c("1", &line));
    }
    if !groups.is_empty() {
        let _ = writeln!(
            out,
            "brickyard will perform the following actions on cluster {}:\n",
            escape(&plan.cluster)
        );
    }
    for (addr, steps) in &groups {
        let kind = classify(steps);
        let (sym, code, verb) = match kind {
            Kind::Add => ("+", "32", "created"),
            Kind::Change => ("~", "33", "updated in-place"),
            Kind::Destroy => ("-", "31", "destroyed"),
            Kind::Replace => ("-/+", "35", "replaced"),
            Kind::Adopt => ("~", "36", "adopted"),
        };
        let addr = escape(&addr.to_string()).into_owned();
        let _ = writeln!(out, "  {}", p.c("1", &format!("# {addr} will be {verb}")));
        let _ = writeln!(out, "  {} {addr} {{", p.c(code, sym));
        for s in steps {
            for ch in &s.changes {
                let attr = escape(&ch.attribute);
                let q = |v: &String| escape(&format!("{v:?}")).into_owned();
                let line = match (&ch.old, &ch.new) {
                    (None, Some(n)) => format!("{} {attr} = {}", p.c("32", "+"), q(n)),
                    (Some(o), Some(n)) => {
                        format!("{} {attr} = {} -> {}", p.c("33", "~"), q(o), q(n))
                    }
                    (Some(o), None) if s.action == Action::Delete => {
                        format!("{} {attr} = {}", p.c("31", "-"), q(o))
                    }
                    (Some(o), None) => {
                        format!("{} {attr} = {} -> (default)", p.c("31", "-"), q(o))
                    }
                    (None, None) => continue,
                };
                let _ = writeln!(out, "      {line}");
            }
        }
        for s in steps {
            let mark = if s.destructive {
                p.c("31", " (destructive)")
            } else {
                String::new()
            };
            let _ = writeln!(out, "      # {}{mark}", escape(&s.description));
            for cmd in &s.commands {
                let _ = writeln!(out, "      $ [{}] {}", escape(&s.node), escape(&quote(cmd)));
            }
        }
        let _ = writeln!(out, "    }}\n");
    }
    if !plan.placements.is_empty() {
        let _ = writeln!(out, "{}", p.c("1", "Placement:"));
        let header = [
            "BRICK",
            "NODE",
            "DEVICE",
            "ZONE",
            "SIZE",
            "TAKES",
            "FREE BEFORE",
            "FREE AFTER",
        ];
        let rows: Vec<[String; 8]> = plan
            .placements
            .iter()
            .map(|b| {
                [
                    if b.arbiter {
                        format!("{} (arbiter)", escape(&b.address.to_string()))
                    } else {
                        escape(&b.address.to_string()).into_owned()
                    },
                    escape(&b.node).into_owned(),
                    escape(&b.device).into_owned(),
                    b.zone.to_string(),
                    HumanBytes(b.size).to_string(),
                    if b.allocated == 0 {
                        "(exists)".into()
                    } else {
                        HumanBytes(b.allocated).to_string()
                    },
                    HumanBytes(b.device_free_before).to_string(),
                    HumanBytes(b.device_free_after).to_string(),
                ]
            })
            .collect();
        let mut width = header.map(str::len);
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.len());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from(" ");
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(s, " {:<w$} ", c, w = width[i]);
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&header.map(String::from)));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r));
        }
        let _ = writeln!(out);
    }
    if !plan.blockers.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.c("1;31", &format!("Blocked ({}):", plan.blockers.len()))
        );
        let blocked = group(&plan.blocked_steps);
        for bl in &plan.blockers {
            let _ = writeln!(
                out,
                "  {} [{}] {}",
                p.c("31", "!"),
                bl.code,
                escape(&bl.address.to_string())
            );
            // a message may list several findings, one per line (`adopt_mismatch`)
            let msg = escape_text(&bl.message).replace('\n', "\n      ");
            let _ = writeln!(out, "      {msg}");
            if let Some(h) = &bl.help {
                let _ = writeln!(out, "      help: {}", escape(h));
            }
            if let Some((_, steps)) = blocked.iter().find(|(a, _)| **a == bl.address) {
                let _ = writeln!(out, "      held back:");
                for s in steps {
                    let _ = writeln!(
                        out,
                        "        - [{}] {}",
                        escape(&s.node),
                        escape(&s.description)
                    );
                }
            }
        }
        let others: Vec<&(&Address, Vec<&Step>)> = blocked
            .iter()
            .filter(|(a, _)| !plan.blockers.iter().any(|b| b.address == **a))
            .collect();
        if !others.is_empty() {
            let _ = writeln!(
                out,
                "  Also held back because a step they depend on is blocked:"
            );
            for (a, steps) in others {
                let _ = writeln!(
                    out,
                    "    {} ({} step(s))",
                    escape(&a.to_string()),
                    steps.len()
                );
            }
        }
        let _ = writeln!(out);
    }
    if !plan.foreign.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.c("1", "Not managed by brickyard (never touched):")
        );
        for f in &plan.foreign {
            let _ = writeln!(
                out,
                "  {}  {}",
                escape(&f.address.to_string()),
                escape(&f.description)
            );
        }
        let _ = writeln!(out);
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "{}", p.c("33", "Warnings:"));
        for w in &plan.warnings {
            let _ = writeln!(out, "  - {}", escape(w));
        }
        let _ = writeln!(out);
    }
    let (add, change, destroy) = plan.resource_summary();
    if plan.has_changes() {
        let _ = writeln!(
            out,
            "{}",
            p.c(
                "1",
                &format!("Plan: {add} to add, {change} to change, {destroy} to destroy.")
            )
        );
    } else if plan.blockers.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.c("32", "No changes. The cluster matches the configuration.")
        );
    } else {
        let _ = writeln!(
            out,
            "{}",
            p.c(
                "1",
                &format!(
                    "No runnable changes: {} blocker(s) above.",
                    plan.blockers.len()
                )
            )
        );
    }
    out
}

/// `cluster prod (id 3f2a9c0d…, new: pin it with `cluster_id: …`)`: which cluster the
/// plan is for beyond its name, and whether the config pins that yet.
fn identity_line(plan: &Plan) -> Option<String> {
    let c = plan.cluster_id.as_ref()?;
    let short: String = c.id.chars().take(8).collect();
    let state = match (c.pinned, c.new) {
        (true, _) => "pinned in the config".to_string(),
        (false, true) => format!("new: pin it with `cluster_id: {}`", c.id),
        (false, false) => format!(
            "recorded on the nodes, not pinned: pin it with `cluster_id: {}`",
            c.id
        ),
    };
    Some(format!("cluster {} (id {short}…, {state})", plan.cluster))
}

/// The JSON document (`format_version` inside), pretty-printed with a trailing newline.
pub fn json(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}
