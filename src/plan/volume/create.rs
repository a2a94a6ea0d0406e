//! Create a volume the cluster does not have: choose the set count and place it (or
//! explain why not), build its bricks, create it, mark it ours, set its options, start.

use std::collections::BTreeSet;

use crate::config::{Volume, VolumeState};
use crate::units::HumanBytes;

use super::steps::{VolSteps, brick_arg, emit_bricks, volume_danger};
use super::{Ctx, pins};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::{Builder, change};
use crate::plan::capacity::{brick_size, data_bricks_per_set};
use crate::plan::diagnose;
use crate::plan::gluster::layout;
use crate::plan::model::Action;
use crate::plan::ownership::{OPT_BRICK_SIZE, OPT_CLUSTER, OPT_OPTIONS};
use crate::plan::placement::{Fit, fit_new, pins_match, set_counts};

pub(super) fn create(ctx: &mut Ctx<'_, '_>, b: &mut Builder, name: &str, vol: &Volume) {
    let w = ctx.w;
    let addr = Address::volume(name);
    let place = &w.desired.placement;
    let Some(counts) = set_counts(vol.size, vol, place) else {
        let data = data_bricks_per_set(&vol.durability);
        b.block(
            BlockerCode::BrickLimits,
            &addr,
            format!(
                "volume {name} ({}, {}) would need bricks of {}, below placement.brick_min_size {}",
                HumanBytes(vol.size),
                layout(&vol.durability),
                HumanBytes(vol.size.div_ceil(data)),
                HumanBytes(place.brick_min_size)
            ),
            Some(format!(
                "raise size to at least {} or lower placement.brick_min_size",
                HumanBytes(place.brick_min_size.saturating_mul(data))
            )),
        );
        return;
    };
    let pins = pins(ctx, name);
    let found = fit_new(&mut ctx.pool, place, vol, vol.size, &pins, &mut Vec::new());
    let Some(Fit {
        brick_size: bsize,
        sets,
    }) = found
    else {
        if !pins.is_empty()
            && !counts
                .clone()
                .any(|k| pins_match(vol, &pins, k, brick_size(vol.size, k, &vol.durability)))
        {
            b.block(
                BlockerCode::HalfAppliedMismatch,
                &addr,
                format!(
                    "volume {name} was partly built by an earlier apply with a different layout or size ({} brick LVs/directories exist)",
                    pins.len()
                ),
                Some("restore the size it was planned with, or remove the leftover brick LVs by hand".into()),
            );
            return;
        }
        diagnose::volume_blocker(w, &ctx.pool, b, name, vol, None);
        return;
    };
    let nodes: BTreeSet<String> = sets
        .iter()
        .flatten()
        .map(|p| ctx.pool.cands[p.cand].node.clone())
        .collect();
    let danger = volume_danger(w, None, &nodes, &[]);
    let (brick_steps, refused) = emit_bricks(ctx, b, name, vol, 0, &sets, danger.is_some());
    let blocked = danger.is_some() || refused;
    let Some(runner) = w.runner.clone() else {
        return;
    };
    let mut deps = brick_steps;
    for n in &nodes {
        if let Some(p) = ctx.probes.get(n) {
            deps.push(p.clone());
        }
    }
    let mut bricks = Vec::new();
    for (set, picks) in sets.iter().enumerate() {
        for (pos, p) in picks.iter().enumerate() {
            bricks.push(brick_arg(ctx, name, set as u32, pos as u32, p));
        }
    }
    let mut vsteps = VolSteps {
        b,
        name,
        runner: &runner,
        action: Action::Create,
        blocked,
        last: deps,
        sets: Vec::new(),
    };
    vsteps.set_option(OPT_CLUSTER, &w.desired.cluster, None);
    vsteps.set_option(OPT_BRICK_SIZE, &bsize.to_string(), None);
    for (k, v) in &vol.options {
        vsteps.set_option(k, v, None);
    }
    if !vol.options.is_empty() {
        let keys = vol.options.keys().cloned().collect::<Vec<_>>().join(",");
        vsteps.set_option(OPT_OPTIONS, &keys, None);
    }
    let start = vol.state == VolumeState::Present;
    vsteps.build(
        format!(
            "create volume {name} ({}, {} set(s) of {} bricks), mark it, {}",
            layout(&vol.durability),
            sets.len(),
            HumanBytes(bsize),
            if start {
                "start it"
            } else {
                "leave it stopped (declared `state: stopped`)"
            }
        ),
        &vol.durability,
        &bricks,
        vec![
            change("size", None, Some(&HumanBytes(vol.size).to_string())),
            change("layout", None, Some(&layout(&vol.durability))),
            change("sets", None, Some(&sets.len().to_string())),
            change("brick_size", None, Some(&HumanBytes(bsize).to_string())),
        ],
        start,
    );
    if let Some((code, why)) = danger {
        b.block(
            code,
            &addr,
            format!("steps for volume {name} are held back: {why}"),
            None,
        );
    }
}
