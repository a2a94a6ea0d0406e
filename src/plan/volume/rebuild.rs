//! Rebuilding a lost brick in place: a directory brick of a volume of ours whose directory
//! is gone from its declared path (a failed disk replaced by an empty one mounted at the
//! same path) while gluster reports it offline. Its set's other bricks hold the data, so
//! brickyard makes the brick directory again (with its mark), has gluster take it back
//! under the same name (`reset-brick ... commit force`, which marks the set's other bricks
//! as the source of a heal onto it), and waits for the heal. Nothing of the old brick is
//! left to remove.
//!
//! What is not a lost brick stays an `ownership_unproven` blocker: a directory gone from a
//! brick gluster says is online (a brick process serving a directory that was removed
//! under it), a path on the root filesystem (the disk was not replaced: a brick there
//! would fill the root), a stopped volume, a plain distribute volume (no copy to heal
//! from).

use crate::config::BrickKind;
use crate::gather::{VolumeFacts, VolumeStatus};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::capacity::data_bricks_per_set;
use crate::plan::gluster;
use crate::plan::health::World;
use crate::plan::ownership::dir_brick_path;
use crate::plan::placement::place_again;
use crate::plan::proof::{self, ProvenBrick};

use super::Ctx;
use super::migrate::heal_wait;
use super::steps::{VolSteps, build_one};

/// Whether brick `i` of `vf` is a lost brick to rebuild in place: offline in a started
/// volume with copies, on a declared path that exists and is its own mount (not the root
/// filesystem), and either its directory is gone (`present: false`) or it is there, ours,
/// but never served by gluster: no `.glusterfs` heal index in it (what an apply killed
/// between making the directory again and `reset-brick` leaves; a brick gluster has run
/// always has one).
pub(super) fn is_lost(w: &World<'_>, vf: &VolumeFacts, i: usize, present: bool) -> bool {
    let n = proof::set_size(vf);
    let Some(br) = vf.bricks.get(i) else {
        return false;
    };
    if vf.status != VolumeStatus::Started || n < 2 || br.online != Some(false) {
        return false;
    }
    let Some(node) = w.node_of_host(&br.host) else {
        return false;
    };
    let (set, pos) = ((i as u32) / n, (i as u32) % n);
    let Some(base) = w.desired.nodes.get(node).and_then(|d| {
        d.paths
            .iter()
            .find(|p| dir_brick_path(&p.path, &vf.name, set, pos) == br.path)
    }) else {
        return false;
    };
    let Some(f) = w.facts.get(node) else {
        return false;
    };
    let own_fs = f
        .paths
        .get(&base.path)
        .is_some_and(|p| p.exists && p.mount_target.as_deref().is_some_and(|t| t != "/"));
    own_fs
        && (!present
            || (!f.section_errors.contains_key("heal_index")
                && !f.heal_index.contains_key(&br.path)))
}

/// Plans the rebuild of each lost brick (`lost`: brick indices) onto `vs`'s chain: the
/// marked directory, `reset-brick`, the heal wait. The volume's other changes come after
/// (the chain), once the set is whole again.
pub(super) fn plan(
    ctx: &mut Ctx<'_, '_>,
    vs: &mut VolSteps<'_, '_>,
    vol: &crate::config::Volume,
    vf: &VolumeFacts,
    proven: &[Option<ProvenBrick<'_>>],
    data_brick: u64,
    lost: &[usize],
) {
    let name = vs.name;
    let n = proof::set_size(vf) as usize;
    for &i in lost {
        let br = &vf.bricks[i];
        let (set, pos) = ((i / n) as u32, (i % n) as u32);
        let addr = Address::brick(name, set, pos);
        // enough of the set's other bricks online (and proven ours) to heal from
        let first = (set as usize) * n;
        let up = (0..n)
            .filter(|&p| p != pos as usize && !lost.contains(&(first + p)))
            .filter(|&p| {
                vf.bricks
                    .get(first + p)
                    .is_some_and(|b| b.online == Some(true))
                    && proven.get(first + p).is_some_and(Option::is_some)
            })
            .count() as u64;
        let need = if vf.disperse_count > 0 {
            data_bricks_per_set(&vol.durability)
        } else {
            1
        };
        if up < need {
            vs.b.block(
                BlockerCode::BrickLost,
                &addr,
                format!("brick {} of volume {name} is lost (its directory is gone and gluster reports it offline), and set {set} has {up} other brick(s) online where {need} are needed to heal it", br.name),
                Some("bring the set's other bricks back online first; what no online brick of the set holds is lost with the brick".into()),
            );
            continue;
        }
        let Some(node) = ctx.w.node_of_host(&br.host).map(str::to_string) else {
            continue;
        };
        let here = ctx.pool.cands.iter().position(|c| {
            c.node == node
                && c.kind == BrickKind::Directory
                && dir_brick_path(&c.device, name, set, pos) == br.path
        });
        let size = crate::plan::capacity::position_size(vol, data_brick, pos as usize);
        let pick = here.and_then(|h| place_again(&mut ctx.pool, vol, h, size));
        let Some(pick) = pick else {
            vs.b.block(
                BlockerCode::BrickLost,
                &addr,
                format!("brick {} of volume {name} is lost (its directory is gone and gluster reports it offline), and its path cannot take it again (draining, or without room for a {} brick)", br.name, crate::units::HumanBytes(data_brick)),
                Some("mount the replacement disk at the path, or declare the path `drain: true` and another home for the brick".into()),
            );
            continue;
        };
        let Some(again) = build_one(ctx, vs, vol, set, pos, pick) else {
            continue;
        };
        vs.push(
            &format!("reset-brick/s{set}p{pos}"),
            format!(
                "take lost brick {} back into {name} (reset-brick commit force; the set's other bricks heal it)",
                br.name
            ),
            gluster::volume_reset_brick(name, &again),
            false,
        );
        heal_wait(vs, set, pos);
    }
}
