//! The pure heart: (Desired, Observed) -> Plan. No I/O, no clock, no randomness:
//! the same inputs give a byte-identical plan.
//!
//! Passes, in order: health gate and cluster view (`health`), peer probes (`peers`),
//! device inventory and initialisation (`devices`), per-volume diff with placement and
//! capacity (`volumes`, `placement`, `capacity`, `diagnose`, `bricks`), foreign scan
//! (`foreign`), then ordering and blocking (`order`). `simulate` applies a plan's
//! effects to facts, for convergence tests.

mod bricks;
mod builder;
pub mod capacity;
mod devices;
mod diagnose;
pub mod fingerprint;
mod foreign;
mod health;
pub mod model;
mod order;
pub mod ownership;
mod peers;
mod placement;
pub mod simulate;
mod volumes;

pub use model::*;

use crate::config::Desired;
use crate::gather::Observed;

/// Command-line permissions that the config alone cannot grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--allow-destroy`: deletions and other data-destroying steps may run.
    pub allow_destroy: bool,
    /// `--allow-wipe`: devices with `wipe: true` may have their signatures wiped.
    pub allow_wipe: bool,
}

/// Compute the plan that turns `observed` into `desired`.
pub fn plan(desired: &Desired, observed: &Observed, opts: &PlanOptions) -> Plan {
    let mut b = builder::Builder::default();
    let w = health::world(desired, observed, &mut b);
    let probes = peers::probes(&w, &mut b);
    let cands = devices::candidates(&w, opts, &mut b);
    let pool = placement::Pool::new(cands);
    let pins = volumes::pin_index(&w, &pool);
    let mut ctx = volumes::Ctx {
        w: &w,
        opts,
        pool,
        probes,
        pins,
    };
    volumes::plan_all(&mut ctx, &mut b);
    foreign::scan(&w, &mut b);
    let mut warnings = b.warnings;
    let (steps, blocked_steps) = order::finish(b.steps, &mut warnings);
    Plan {
        format_version: FORMAT_VERSION,
        cluster: desired.cluster.clone(),
        facts_fingerprint: fingerprint::hash(observed),
        config_hash: fingerprint::hash(desired),
        steps,
        placements: b.placements,
        blockers: b.blockers,
        foreign: b.foreign,
        warnings,
        blocked_steps,
    }
}
