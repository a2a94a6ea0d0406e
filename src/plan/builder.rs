//! The plan under construction: steps (some blocked), placements, blockers, foreign
//! things and warnings, gathered by the planning passes and finished by `order`.

use super::address::Address;
use super::blocker_code::BlockerCode;
use super::model::{Action, Blocker, BrickPlacement, Change, Foreign, Guard, Step};

/// A step plus whether a blocker holds it back.
#[derive(Debug, Clone)]
pub(crate) struct PStep {
    pub(crate) step: Step,
    pub(crate) blocked: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Builder {
    pub(crate) steps: Vec<PStep>,
    pub(crate) placements: Vec<BrickPlacement>,
    pub(crate) blockers: Vec<Blocker>,
    pub(crate) foreign: Vec<Foreign>,
    pub(crate) warnings: Vec<String>,
}

/// Everything needed to describe one step; `Builder::push` turns it into a `Step`.
pub(crate) struct StepSpec<'a> {
    pub(crate) id: String,
    pub(crate) address: &'a Address,
    pub(crate) action: Action,
    pub(crate) node: &'a str,
    pub(crate) description: String,
    pub(crate) commands: Vec<Vec<String>>,
    pub(crate) guard: Guard,
    pub(crate) depends_on: Vec<String>,
    pub(crate) destructive: bool,
}

/// A guard: the step is done when `argv` (read-only) exits 0.
pub(crate) fn guard(description: &str, argv: Vec<String>) -> Guard {
    Guard {
        description: description.to_string(),
        argv,
        redundant_when_fresh: false,
    }
}

/// A guard whose check before the step is redundant on facts read under the run's locks
/// ([`Guard::redundant_when_fresh`]): for commands that refuse a done object (gluster
/// will not create, start, stop, delete, add or replace twice; `volume set`, `reset` and
/// `peer probe` are idempotent; the marked mkdir's rename fails onto a non-empty
/// directory). Never for LVM, mkfs, mount or fstab steps, nor for long waits.
pub(crate) fn fresh_guard(description: &str, argv: Vec<String>) -> Guard {
    Guard {
        redundant_when_fresh: true,
        ..guard(description, argv)
    }
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
    pub(crate) fn push(&mut self, spec: StepSpec<'_>, blocked: bool) -> String {
        let id = spec.id.clone();
        self.steps.push(PStep {
            step: Step {
                id: spec.id,
                address: spec.address.clone(),
                action: spec.action,
                node: spec.node.to_string(),
                description: spec.description,
                commands: spec.commands,
                guard: spec.guard,
                depends_on: spec.depends_on,
                destructive: spec.destructive,
                changes: Vec::new(),
            },
            blocked,
        });
        id
    }

    /// Attach `old -> new` changes to the step just pushed.
    pub(crate) fn with_changes(&mut self, changes: Vec<Change>) {
        if let Some(last) = self.steps.last_mut() {
            last.step.changes = changes;
        }
    }

    pub(crate) fn block(
        &mut self,
        code: BlockerCode,
        address: &Address,
        message: String,
        help: Option<String>,
    ) {
        self.blockers.push(Blocker {
            code,
            address: address.clone(),
            message,
            help,
        });
    }

    pub(crate) fn foreign(&mut self, address: Address, node: Option<&str>, description: String) {
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
