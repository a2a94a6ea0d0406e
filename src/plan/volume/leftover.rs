//! Bricks of a volume that no longer exists: what an apply killed inside a volume's
//! teardown leaves (after `volume delete`, before its last `lvremove` or `rm -rf`), or
//! what `gluster volume delete` by hand leaves behind. No other pass sees them: the
//! volume is neither on the cluster nor in the config, and their space is out of the VG.
//! Likewise bricks of a kept volume named for a set it no longer has (`Ctx::keep_sets`):
//! what an apply killed after a shrink's `remove-brick commit` leaves, or the half-built
//! bricks of an expand the config took back. Their files were moved off (or never came),
//! so their teardown first checks that no file with data is left on them.
//! Each proven one is torn down with `--allow-destroy` (it still holds the volume's
//! files) or named in a `destroy_not_allowed` blocker, never left in silence. What fails
//! the proof is left alone and said so (`leftover_unproven`).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{VolumeState, names};
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::brick::{Emptied, LvmTeardown, destroy_dir, destroy_lvm};
use crate::plan::builder::Builder;
use crate::plan::facts::Need;
use crate::plan::ownership::{brick_identity, tag_cluster};
use crate::plan::proof::{leftover_dir_brick, leftover_lvm_brick};

use super::Ctx;

/// One leftover brick: where it is and what it still holds, for the blocker message.
struct Leftover {
    node: String,
    what: String,
}

pub(super) fn plan(ctx: &Ctx<'_, '_>, b: &mut Builder) {
    let w = ctx.w;
    // not on the cluster, and not wanted (a declared volume's half-built bricks are pins)
    let gone = |v: &str| {
        !w.volumes.contains_key(v)
            && w.desired
                .volumes
                .get(v)
                .is_none_or(|d| d.state == VolumeState::Absent)
    };
    // a set the volume does not keep: a brick of it is left over, and empty
    let beyond = |v: &str, s: u32| ctx.keep_sets.get(v).is_some_and(|k| s >= *k);
    let left = |v: &str, s: u32| gone(v) || beyond(v, s);
    let emptied = |v: &str| {
        if gone(v) { Emptied::No } else { Emptied::Check }
    };
    let blocked = !ctx.opts.allow_destroy;
    let mut found: BTreeMap<String, Vec<Leftover>> = BTreeMap::new();
    let cluster = w.desired.cluster.as_str();
    for (node, f) in &w.facts {
        if !w.healthy(node) {
            continue;
        }
        // a brick of any volume on the cluster inside it: someone's data lives there now
        let in_use = |dir: &str| {
            w.volumes.values().flat_map(|v| &v.bricks).find(|br| {
                w.node_of_host(&br.host) == Some(*node)
                    && (br.path == dir || br.path.starts_with(&format!("{dir}/")))
            })
        };
        if w.unknown(Need::Lvm { node }).is_none() {
            let ours = tag_cluster(cluster);
            // one entry per brick, whether its thin LV, its pool or both are left
            let mut bricks: BTreeSet<(String, String, u32, u32)> = BTreeSet::new();
            for lv in f.lvs.iter().filter(|l| l.tags.contains(&ours)) {
                if let Some((v, s, p)) = brick_identity(&lv.tags)
                    && names::volume_name(&v).is_ok()
                    && left(&v, s)
                {
                    bricks.insert((lv.vg.clone(), v, s, p));
                }
            }
            for (vg, v, s, p) in bricks {
                match leftover_lvm_brick(f, cluster, node, &vg, &v, s, p) {
                    Ok(l) if let Some(br) = in_use(&l.mount) => unproven(
                        b,
                        &v,
                        s,
                        p,
                        node,
                        &format!(
                            "volume brick {} lives inside its mount {}",
                            br.name, l.mount
                        ),
                    ),
                    Ok(l) => {
                        let names: Vec<String> = [l.lv, l.pool]
                            .into_iter()
                            .flatten()
                            .map(|x| format!("{vg}/{}", x.name))
                            .collect();
                        let mut what = format!("LV {}", names.join(" and "));
                        if l.mounted {
                            what.push_str(&format!(", mounted on {}", l.mount));
                        }
                        let t = LvmTeardown {
                            vg: &vg,
                            lv: l.lv.map(|x| x.name.as_str()),
                            pool: l.pool.map(|x| x.name.as_str()),
                            mount: &l.mount,
                            fstab: &l.fstab,
                        };
                        // an unmounted one was checked before its unmount (the first
                        // step of its teardown), or never held files
                        let e = if l.mounted { emptied(&v) } else { Emptied::No };
                        destroy_lvm(b, &v, s, p, node, &t, vec![], blocked, e);
                        found.entry(v).or_default().push(Leftover {
                            node: node.to_string(),
                            what,
                        });
                    }
                    Err(e) => unproven(b, &v, s, p, node, &e.to_string()),
                }
            }
        }
        let Some(decl) = w.desired.nodes.get(*node) else {
            continue;
        };
        for base in &decl.paths {
            if w.unknown(Need::Path {
                node,
                path: &base.path,
            })
            .is_some()
            {
                continue;
            }
            for d in &f.brick_dirs {
                let Some((v, s, p)) = names::dir_brick_identity(&base.path, &d.path) else {
                    continue;
                };
                if !left(&v, s) {
                    continue;
                }
                match leftover_dir_brick(f, cluster, &d.path, &v, s, p) {
                    Ok(true) if let Some(br) = in_use(&d.path) => unproven(
                        b,
                        &v,
                        s,
                        p,
                        node,
                        &format!("volume brick {} lives inside it", br.name),
                    ),
                    Ok(true) => {
                        destroy_dir(b, &v, s, p, node, &d.path, vec![], blocked, emptied(&v));
                        found.entry(v).or_default().push(Leftover {
                            node: node.to_string(),
                            what: format!("directory {}", d.path),
                        });
                    }
                    Ok(false) => {}
                    Err(e) => unproven(b, &v, s, p, node, &e.to_string()),
                }
            }
        }
    }
    if blocked {
        for (v, l) in found {
            let list: Vec<String> = l
                .iter()
                .map(|l| format!("{} on {}", l.what, l.node))
                .collect();
            let (why, help) = if gone(&v) {
                (
                    format!(
                        "volume {v} no longer exists, but {} of its bricks are left ({}): an apply stopped during its teardown, or it was deleted by hand; they still hold its files",
                        l.len(),
                        list.join("; ")
                    ),
                    "pass --allow-destroy to finish removing them, or copy the files out first",
                )
            } else {
                (
                    format!(
                        "volume {v} has {} brick(s) left from sets it no longer has ({}): a shrink's bricks after `remove-brick commit`, or an expand's that never joined",
                        l.len(),
                        list.join("; ")
                    ),
                    "pass --allow-destroy to remove them (each is first checked to hold no file with data)",
                )
            };
            b.block(
                BlockerCode::DestroyNotAllowed,
                &Address::volume(&v),
                why,
                Some(help.into()),
            );
        }
    }
}

fn unproven(b: &mut Builder, v: &str, s: u32, p: u32, node: &str, why: &str) {
    b.block(
        BlockerCode::OwnershipUnproven,
        &Address::brick(v, s, p),
        format!(
            "a brick of volume {v} (set {s}, position {p}) is left on {node}, but it is not provably brickyard's: {why}; it is left alone"
        ),
        Some("find out who changed it; remove it by hand if its data is not needed".into()),
    );
}
