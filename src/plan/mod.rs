//! The pure heart: (Desired, Observed) -> Plan. No I/O, no clock, no randomness:
//! the same inputs give a byte-identical plan.
//!
//! Rooms: one per resource kind (`peer`, `device`, `brick`, `volume`), and inside
//! `volume` one file per lifecycle (`create`, `update`, `remount`, `delete`). Shared
//! services: `placement` (the only placement search), `gluster` (every gluster argv),
//! `capacity` (size maths), `ownership` (names and markers), `proof` (is this brick
//! ours, from facts, before any step touches it), `diagnose` (why a volume
//! does not fit), `builder` (the plan under construction), `order` (final ordering).
//! Typed reasons: `BlockerCode` and `Address`. `simulate` (tests only) applies a plan's
//! effects to facts. docs/architecture.md has the import rules.

mod address;
mod blocker_code;
mod brick;
mod builder;
pub mod capacity;
mod device;
mod diagnose;
mod facts;
pub mod fingerprint;
mod foreign;
pub mod fstab;
mod gluster;
mod health;
mod identity;
mod model;
mod options;
mod order;
pub mod ownership;
mod peer;
mod placement;
mod proof;
#[cfg(any(test, feature = "test-support"))]
pub mod simulate;
mod volume;

pub use address::{Address, BadAddress};
pub use blocker_code::BlockerCode;
pub(crate) use gluster::live_durability;
pub use model::*;
pub use options::PlanOptions;
pub(crate) use proof::{lv_holding, set_size};

use crate::config::Desired;
use crate::gather::Observed;

/// Compute the plan that turns `observed` into `desired`.
///
/// The passes run in this order; each only adds to the builder, and a later pass may
/// use what an earlier one returned (never the other way round):
/// 0. `identity`: which cluster this is beyond its name (the nodes' id records, the
///    config's pin, a fresh id); refused nodes go to `health` as unhealthy, and the
///    record steps come first on their nodes;
/// 1. `health`: the health gate and cluster view (who answered, who runs gluster);
///    then `facts`: which resources a failed probe section left unknown (`w.unknown`),
///    which every later pass consults before deciding anything about them;
/// 2. `peer`: probes for declared nodes outside the trusted pool;
/// 3. `adopt`: which volumes declared `adopt: true` match their declaration (`w.adopting`);
///    `device`: device and path inventory -> placement candidates, device preparation;
/// 4. `volume`: per volume, create / update (with remount and expansion) / delete,
///    placing new bricks through `placement` and building them through `brick`;
/// 5. `foreign`: what is on the nodes but not ours, listed, never touched;
/// 6. `order`: blocking propagation and a stable topological order.
///
/// Future passes slot in between 4 and 5: `migrate` (move bricks off a device or node)
/// after the volume pass, so it sees the pool as the volume pass left it, and `adopt`
/// (take over a foreign volume deliberately) before it, so an adopted volume is then
/// diffed like any other.
pub fn plan(desired: &Desired, observed: &Observed, opts: &PlanOptions) -> Plan {
    let mut b = builder::Builder::default();
    let ident = identity::decide(desired, observed, opts, &mut b);
    let mut w = health::world(desired, observed, &ident.refused, &mut b);
    w.cluster_id = ident.cluster_id.as_ref().map(|c| c.id.clone());
    let pooled: Vec<&str> = w
        .in_pool
        .iter()
        .map(String::as_str)
        .filter(|n| w.healthy(n))
        .collect();
    w.unknown = facts::unknowns(desired, &w.facts, w.runner.as_deref(), &pooled, &mut b);
    let probes = peer::probes(&w, &mut b);
    (w.adopting, w.adopt_refused) = volume::adopting(&w);
    let cands = device::candidates(&w, opts, &mut b);
    let pool = placement::Pool::new(cands);
    let pins = volume::pin_index(&w, &pool);
    let mut ctx = volume::Ctx {
        w: &w,
        opts,
        pool,
        probes,
        pins,
        keep_sets: Default::default(),
    };
    volume::plan_all(&mut ctx, &mut b);
    peer::detaches(&w, &mut b);
    foreign::scan(&w, &mut b);
    ident.first(&mut b.steps);
    let mut warnings = b.warnings;
    let (steps, blocked_steps) = order::finish(b.steps, &mut warnings);
    Plan {
        format_version: FORMAT_VERSION,
        cluster: desired.cluster.clone(),
        cluster_id: ident.cluster_id,
        planned_with: Permissions {
            allow_destroy: opts.allow_destroy,
            allow_wipe: opts.allow_wipe,
        },
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
