//! The plan under construction: steps (some blocked), placements, blockers, foreign
//! things and warnings, gathered by the planning passes and finished by `order`.

use super::model::{Action, Blocker, BrickPlacement, Change, Foreign, Guard, Step};

/// A step plus whether a blocker holds it back.
#[derive(Debug, Clone)]
pub(crate) struct PStep {
    pub step: Step,
    pub blocked: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Builder {
    pub steps: Vec<PStep>,
    pub placements: Vec<BrickPlacement>,
    pub blockers: Vec<Blocker>,
    pub foreign: Vec<Foreign>,
    pub warnings: Vec<String>,
}

/// Everything needed to describe one step; `Builder::push` turns it into a `Step`.
pub(crate) struct StepSpec<'a> {
    pub id: String,
    pub address: &'a str,
    pub action: Action,
    pub node: &'a str,
    pub description: String,
    pub commands: Vec<Vec<String>>,
    pub guard: (String, Vec<String>),
    pub depends_on: Vec<String>,
    pub destructive: bool,
}

pub(crate) fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// A read-only `sh -c SCRIPT sh ARGS...` check: user values travel as positional args.
pub(crate) fn sh(script: &str, args: &[&str]) -> Vec<String> {
    crate::transport::shell::sh_c(script, args)
}

impl Builder {
    /// Adds a step and returns its id (for `depends_on` of later steps).
    pub fn push(&mut self, spec: StepSpec<'_>, blocked: bool) -> String {
        let id = spec.id.clone();
        self.steps.push(PStep {
            step: Step {
                id: spec.id,
                address: spec.address.to_string(),
                action: spec.action,
                node: spec.node.to_string(),
                description: spec.description,
                commands: spec.commands,
                guard: Guard {
                    description: spec.guard.0,
                    argv: spec.guard.1,
                },
                depends_on: spec.depends_on,
                destructive: spec.destructive,
                changes: Vec::new(),
            },
            blocked,
        });
        id
    }

    /// Attach `old -> new` changes to the step just pushed.
    pub fn with_changes(&mut self, changes: Vec<Change>) {
        if let Some(last) = self.steps.last_mut() {
            last.step.changes = changes;
        }
    }

    pub fn block(&mut self, code: &str, address: &str, message: String, help: Option<String>) {
        self.blockers.push(Blocker {
            code: code.to_string(),
            address: address.to_string(),
            message,
            help,
        });
    }

    pub fn foreign(&mut self, address: String, node: Option<&str>, description: String) {
        self.foreign.push(Foreign {
            address,
            node: node.map(str::to_string),
            description,
        });
    }
}

pub(crate) fn change(attr: &str, old: Option<&str>, new: Option<&str>) -> Change {
    Change {
        attribute: attr.to_string(),
        old: old.map(str::to_string),
        new: new.map(str::to_string),
    }
}
