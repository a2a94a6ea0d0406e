//! Delete a volume of ours: refused unless `--allow-destroy`, never when protected,
//! held back when a node it lives on is unhealthy. Stop, delete, then the teardown of
//! every brick the facts prove ours (a brick whose node has no facts gets none: the
//! health gate holds the volume back, and the next plan proves it).

use std::collections::BTreeSet;

use crate::gather::{VolumeFacts, VolumeStatus};

use super::Ctx;
use super::steps::{VolSteps, volume_danger};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::brick;
use crate::plan::builder::{Builder, change};
use crate::plan::gluster;
use crate::plan::model::Action;
use crate::plan::proof::ProvenBrick;

/// Delete a volume of ours the config no longer wants (`why`), then tear down its bricks.
pub(super) fn delete(
    ctx: &mut Ctx<'_, '_>,
    b: &mut Builder,
    name: &str,
    vf: &VolumeFacts,
    bricks: &[Option<ProvenBrick<'_>>],
    protect: bool,
    why: &str,
) {
    let w = ctx.w;
    let addr = Address::volume(name);
    let nodes: BTreeSet<String> = vf
        .bricks
        .iter()
        .filter_map(|br| w.node_of_host(&br.host))
        .map(str::to_string)
        .collect();
    let danger = volume_danger(w, Some(vf), &nodes, &[]);
    let blocked = protect || !ctx.opts.allow_destroy || danger.is_some();
    if protect {
        b.block(
            BlockerCode::Protected,
            &addr,
            format!("volume {name} {why}, but it has `protect: true`: it will not be deleted"),
            Some("set `protect: false` first if the data really is not needed".into()),
        );
    } else if !ctx.opts.allow_destroy {
        b.block(
            BlockerCode::DestroyNotAllowed,
            &addr,
            format!(
                "volume {name} {why}: deleting it destroys {} bricks of data",
                vf.bricks.len()
            ),
            Some("pass --allow-destroy to delete it, or put it back in the config".into()),
        );
    } else if let Some((code, d)) = &danger {
        b.block(
            *code,
            &addr,
            format!("deleting volume {name} is held back: {d}"),
            None,
        );
    }
    let Some(runner) = w.runner.clone() else {
        return;
    };
    let mut vs = VolSteps {
        b,
        name,
        runner: &runner,
        action: Action::Delete,
        blocked,
        last: vec![],
        sets: Vec::new(),
    };
    if vf.status == VolumeStatus::Started {
        vs.push(
            "stop",
            format!("stop volume {name}"),
            gluster::volume_stop(name),
            true,
        );
    }
    vs.push(
        "delete",
        format!("delete volume {name}"),
        gluster::volume_delete(name),
        true,
    );
    let status = format!("{:?}", vf.status).to_lowercase();
    vs.b.with_changes(vec![change("status", Some(&status), None)]);
    let del = vs.last.first().cloned().unwrap_or_default();
    for pb in bricks.iter().flatten() {
        let node_blocked = blocked || !w.healthy(pb.node);
        brick::destroy(b, name, pb, &del, node_blocked, brick::Emptied::No);
    }
}
