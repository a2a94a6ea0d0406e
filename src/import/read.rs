//! From facts to the config they describe. Node data decides only what the config will
//! *say*; the planner still proves everything before it touches anything, so a wrong
//! guess here becomes a blocker in the plan, never a changed brick.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::names::strictly_under;
use crate::config::{
    BrickKind, Desired, Device, DirPath, Durability, Rebalance, Volume, VolumeState, ZoneChecking,
};
use crate::gather::hosts::host_to_node;
use crate::gather::{
    BrickFacts, Lv, NodeFacts, NodeObservation, Observed, VolumeFacts, VolumeStatus,
};
use crate::plan::capacity::{data_bricks_per_set, live_capacity};
use crate::plan::ownership::{OPT_BRICK_SIZE, OPT_CLUSTER, OPT_OPTIONS, is_marker_option};
use crate::plan::{live_durability, lv_holding};
use crate::units::MIB;

/// Options `gluster volume create` sets by itself (gluster 10: seen on every volume the
/// lab made, by hand and by brickyard), with the value it gives them: not the operator's
/// choice, so an imported config leaves them out while they keep that value.
const SET_BY_CREATE: &[(&str, &str)] = &[
    ("cluster.granular-entry-heal", "on"),
    ("storage.fips-mode-rchecksum", "on"),
    ("transport.address-family", "inet"),
    ("nfs.disable", "on"),
    ("performance.client-io-threads", "off"),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("import needs facts from every node; unreachable: {0}")]
    Unreachable(String),
    #[error("no node runs glusterd, so there is no volume list to import")]
    NoGluster,
    #[error(
        "brick {brick} of volume {volume} is on host {host}, which is no node of the config: declare that node (with `storage: {host}` if gluster knows it by that name)"
    )]
    UnknownHost {
        volume: String,
        brick: String,
        host: String,
    },
    #[error(
        "brick {brick} of volume {volume} is a directory right under /: declare a path for it by hand (brickyard makes new bricks inside declared paths, never in /)"
    )]
    TopLevelBrick { volume: String, brick: String },
}

/// The config the facts describe, with the notes `write` prints as comments.
#[derive(Debug, Clone)]
pub struct Imported {
    pub desired: Desired,
    /// Comments above the whole config.
    pub header: Vec<String>,
    /// Comments above a volume.
    pub volume_notes: BTreeMap<String, Vec<String>>,
    /// Comment above `zone_checking: none`, when import had to write it.
    pub zone_note: Option<String>,
    /// Volumes the config adopts.
    pub adopted: Vec<String>,
}

/// The config for `seed`'s nodes as `observed` shows them.
pub fn from_facts(seed: &Desired, observed: &Observed) -> Result<Imported, ImportError> {
    let mut facts: BTreeMap<&str, &NodeFacts> = BTreeMap::new();
    let mut down = Vec::new();
    for name in seed.nodes.keys() {
        match observed.nodes.get(name) {
            Some(NodeObservation::Reachable(f)) => {
                facts.insert(name, f);
            }
            Some(NodeObservation::Unreachable(e)) => down.push(format!("{name} ({})", e.kind)),
            None => down.push(format!("{name} (no facts)")),
        }
    }
    if !down.is_empty() {
        return Err(ImportError::Unreachable(down.join(", ")));
    }
    if !facts.values().any(|f| f.glusterd_running) {
        return Err(ImportError::NoGluster);
    }
    let hosts = host_to_node(seed, &observed.nodes);
    let by_uuid: BTreeMap<&str, &str> = facts
        .iter()
        .filter_map(|(n, f)| f.glusterd_uuid.as_deref().map(|u| (u, *n)))
        .collect();
    let node_of = |br: &BrickFacts| -> Option<String> {
        br.host_uuid
            .as_deref()
            .and_then(|u| by_uuid.get(u))
            .map(|n| n.to_string())
            .or_else(|| hosts.get(&br.host).cloned())
    };

    let mut out = seed.clone();
    out.volumes.clear();
    let mut imp = Imported {
        desired: Desired::clone(seed),
        header: vec![
            format!(
                "brickyard import cluster: what cluster {} holds, read from its {} node(s).",
                seed.cluster,
                facts.len()
            ),
            "Review it, commit it, then `brickyard plan`: volumes marked `adopt: true` are taken over in place (their bricks and the volume get brickyard's marks; no data moves).".into(),
        ],
        volume_notes: BTreeMap::new(),
        zone_note: None,
        adopted: Vec::new(),
    };

    // the cluster identity every node records for this cluster name
    let ids: BTreeSet<&str> = facts
        .values()
        .filter_map(|f| f.cluster_id.as_ref())
        .filter(|(c, _)| *c == seed.cluster)
        .map(|(_, id)| id.as_str())
        .collect();
    if out.cluster_id.is_none() && ids.len() == 1 && facts.values().all(|f| f.cluster_id.is_some())
    {
        out.cluster_id = ids.first().map(|s| s.to_string());
    }

    let mut zone_clash = Vec::new();
    for vf in volumes(&facts) {
        let name = vf.name.as_str();
        let mut notes = Vec::new();
        let mut homes = Vec::new();
        for br in &vf.bricks {
            let Some(node) = node_of(br) else {
                return Err(ImportError::UnknownHost {
                    volume: name.into(),
                    brick: br.name.clone(),
                    host: br.host.clone(),
                });
            };
            homes.push(node);
        }
        let ours = match vf.options.get(OPT_CLUSTER) {
            Some(c) if *c == seed.cluster => true,
            Some(c) => {
                imp.header.push(format!(
                    "volume {name} is brickyard cluster {c}'s: left out (it is not this cluster's to manage)"
                ));
                continue;
            }
            None => false,
        };
        let Some(durability) = live_durability(vf) else {
            imp.header.push(format!(
                "volume {name}: its layout ({}) cannot be declared: left out",
                vf.vol_type
            ));
            continue;
        };
        // storage addresses: the names gluster uses for the nodes' bricks
        for (br, node) in vf.bricks.iter().zip(&homes) {
            if let Some(n) = out.nodes.get_mut(node)
                && n.storage != br.host
                && hosts.get(&br.host) != Some(node)
            {
                n.storage = br.host.clone();
            }
        }
        let seeded = seed.volumes.get(name);
        // the LV each brick's filesystem is (Heketi's `vg_<id>/brick_<id>`), when all are
        let lvs: Option<Vec<&Lv>> = vf
            .bricks
            .iter()
            .zip(&homes)
            .map(|(br, node)| {
                facts
                    .get(node.as_str())
                    .and_then(|f| lv_holding(f, &br.path))
                    .map(|h| h.lv)
            })
            .collect();
        let vol = if ours {
            ours_volume(vf, durability, seeded, lvs.is_some())
        } else if let Some(lvs) = lvs {
            for (lv, node) in lvs.iter().zip(&homes) {
                let (Some(n), Some(f)) = (out.nodes.get_mut(node), facts.get(node.as_str())) else {
                    continue;
                };
                for pv in f
                    .pvs
                    .iter()
                    .filter(|p| p.vg.as_deref() == Some(lv.vg.as_str()))
                {
                    if !n.devices.iter().any(|d| d.path == pv.name) {
                        n.devices.push(Device {
                            path: pv.name.clone(),
                            wipe: false,
                            tags: BTreeMap::new(),
                            drain: false,
                        });
                    }
                }
            }
            let sizes: BTreeMap<&str, u64> = vf
                .bricks
                .iter()
                .zip(&lvs)
                .map(|(b, l)| (b.name.as_str(), l.size))
                .collect();
            let size = live_capacity(vf, |b| sizes.get(b.name.as_str()).copied())
                .map(|s| s / MIB * MIB)
                .filter(|s| *s > 0)
                .unwrap_or(seed.placement.brick_min_size * data_bricks_per_set(&durability));
            let vgs: BTreeSet<&str> = lvs.iter().map(|l| l.vg.as_str()).collect();
            let vgs: Vec<&str> = vgs.into_iter().collect();
            notes.push(made_outside(
                vf,
                &format!(
                    "on LVM ({}, {} bricks on {}",
                    vf.vol_type,
                    vf.brick_count,
                    vgs.join(", ")
                ),
                "adopted in place, with its VGs",
            ));
            imp.adopted.push(name.to_string());
            adopted(vf, size, durability, seeded, BrickKind::Lvm)
        } else {
            for (br, node) in vf.bricks.iter().zip(&homes) {
                let Some(n) = out.nodes.get_mut(node) else {
                    continue;
                };
                if let Some(p) = n.paths.iter().find(|p| strictly_under(&p.path, &br.path)) {
                    let mine = format!("{}/{name}", p.path.trim_end_matches('/'));
                    if br.path == mine || br.path.starts_with(&format!("{mine}/")) {
                        notes.push(format!(
                            "new bricks of {name} cannot go under {} on {node}: brick {} is where they would be made; declare another path beside it to grow the volume",
                            p.path, br.name
                        ));
                    }
                } else {
                    let p = new_path(&br.path, name).ok_or_else(|| ImportError::TopLevelBrick {
                        volume: name.into(),
                        brick: br.name.clone(),
                    })?;
                    n.paths.push(DirPath {
                        path: p,
                        tags: BTreeMap::new(),
                        drain: false,
                    });
                }
            }
            let size = live_capacity(vf, |b| {
                b.size_total
                    .or_else(|| node_of(b).and_then(|n| fs_size(facts.get(n.as_str())?, &b.path)))
            });
            let size = match size.map(|s| s / MIB * MIB).filter(|s| *s > 0) {
                Some(s) => s,
                None => {
                    notes.push("the bricks' sizes are unknown (no brick reported one): set `size` to what the volume holds".into());
                    seed.placement.brick_min_size * data_bricks_per_set(&durability)
                }
            };
            notes.push(made_outside(
                vf,
                &format!("({}, {} bricks", vf.vol_type, vf.brick_count),
                "adopted in place",
            ));
            imp.adopted.push(name.to_string());
            adopted(vf, size, durability, seeded, BrickKind::Directory)
        };
        if clashes(&out, vf, &homes) {
            zone_clash.push(name.to_string());
        }
        if !notes.is_empty() {
            imp.volume_notes.insert(name.to_string(), notes);
        }
        out.volumes.insert(name.to_string(), vol);
    }
    if !zone_clash.is_empty() && out.placement.zone_checking == ZoneChecking::Strict {
        out.placement.zone_checking = ZoneChecking::None;
        imp.zone_note = Some(format!(
            "bricks of one set of {} share a zone of the config: zones are not checked, as the cluster was built; give each node its failure zone and set strict when they really are",
            zone_clash.join(", ")
        ));
    }
    imp.desired = out;
    Ok(imp)
}

/// Every volume the nodes know, each once: the first node (by name) that lists it, or a
/// later one whose listing has brick sizes (only the node that read the cluster-wide
/// status has them).
fn volumes<'a>(facts: &BTreeMap<&str, &'a NodeFacts>) -> Vec<&'a VolumeFacts> {
    let mut by: BTreeMap<&str, &VolumeFacts> = BTreeMap::new();
    for f in facts.values() {
        for vf in &f.volumes {
            let sized = |v: &VolumeFacts| v.bricks.iter().any(|b| b.size_total.is_some());
            match by.get(vf.name.as_str()) {
                Some(old) if sized(old) || !sized(vf) => {}
                _ => {
                    by.insert(&vf.name, vf);
                }
            }
        }
    }
    by.into_values().collect()
}

/// The note above a volume made elsewhere: `what` opens the parenthesis, which says
/// whether it is started; `then` what import does with it.
fn made_outside(vf: &VolumeFacts, what: &str, then: &str) -> String {
    let started = match vf.status {
        VolumeStatus::Started => "",
        _ => ", not started",
    };
    format!("made outside brickyard {what}{started}): {then}")
}

/// A volume made elsewhere, declared as it is with `adopt: true`.
fn adopted(
    vf: &VolumeFacts,
    size: u64,
    durability: Durability,
    seeded: Option<&Volume>,
    brick_kind: BrickKind,
) -> Volume {
    Volume {
        size,
        durability,
        snapshot_factor: seeded.map_or(1.0, |v| v.snapshot_factor),
        options: user_options(vf, None),
        protect: seeded.is_some_and(|v| v.protect),
        state: state_of(vf),
        device_tags: BTreeMap::new(),
        brick_kind,
        rebalance: seeded.map_or(Rebalance::default(), |v| v.rebalance),
        adopt: true,
    }
}

/// A volume brickyard made for this cluster, as its markers record it.
/// `on_lvs`: every brick's filesystem is an LV.
fn ours_volume(
    vf: &VolumeFacts,
    durability: Durability,
    seeded: Option<&Volume>,
    on_lvs: bool,
) -> Volume {
    let n = durability.set_size().max(1) as u64;
    let sets = (vf.brick_count as u64 / n).max(1);
    let brick = vf
        .options
        .get(OPT_BRICK_SIZE)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let size = brick
        .saturating_mul(data_bricks_per_set(&durability))
        .saturating_mul(sets);
    let keys: BTreeSet<&str> = vf
        .options
        .get(OPT_OPTIONS)
        .map(|s| s.split(',').filter(|k| !k.is_empty()).collect())
        .unwrap_or_default();
    Volume {
        size: if size > 0 {
            size
        } else {
            seeded.map_or(crate::units::GIB, |v| v.size)
        },
        durability,
        snapshot_factor: seeded.map_or(1.0, |v| v.snapshot_factor),
        options: user_options(vf, Some(&keys)),
        protect: seeded.is_some_and(|v| v.protect),
        state: state_of(vf),
        device_tags: seeded.map(|v| v.device_tags.clone()).unwrap_or_default(),
        brick_kind: if on_lvs {
            BrickKind::Lvm
        } else {
            BrickKind::Directory
        },
        rebalance: seeded.map_or(Rebalance::default(), |v| v.rebalance),
        adopt: false,
    }
}

/// The options the config should declare: the ones brickyard set (`only`), or for a
/// volume made elsewhere every option set on it except brickyard's markers and what
/// `volume create` set by itself.
fn user_options(vf: &VolumeFacts, only: Option<&BTreeSet<&str>>) -> BTreeMap<String, String> {
    vf.options
        .iter()
        .filter(|(k, _)| !is_marker_option(k))
        .filter(|(k, v)| match only {
            Some(keys) => keys.contains(k.as_str()),
            None => !SET_BY_CREATE.iter().any(|(ck, cv)| ck == k && cv == v),
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn state_of(vf: &VolumeFacts) -> VolumeState {
    match vf.status {
        VolumeStatus::Started => VolumeState::Present,
        _ => VolumeState::Stopped,
    }
}

/// The path to declare for an adopted brick at `brick` of `volume`: its parent directory,
/// or higher up where brickyard's own bricks of the volume (`<path>/<volume>/s<N>p<M>`)
/// would otherwise land inside the adopted brick. None when that is `/`.
fn new_path(brick: &str, volume: &str) -> Option<String> {
    let mut p = brick.trim_end_matches('/');
    loop {
        p = match p.rsplit_once('/') {
            Some((parent, _)) if !parent.is_empty() => parent,
            _ => return None,
        };
        let mine = format!("{p}/{volume}");
        if brick != mine && !brick.starts_with(&format!("{mine}/")) {
            return Some(p.to_string());
        }
    }
}

/// Bytes of the filesystem holding `path` on a node (the deepest mount above it).
fn fs_size(f: &NodeFacts, path: &str) -> Option<u64> {
    f.mounts
        .iter()
        .filter(|m| m.target == "/" || path == m.target || strictly_under(&m.target, path))
        .max_by_key(|m| m.target.len())
        .and_then(|m| m.size)
}

/// Two bricks of one set of `vf` are on nodes `d` puts in one zone.
fn clashes(d: &Desired, vf: &VolumeFacts, homes: &[String]) -> bool {
    let n = crate::plan::set_size(vf) as usize;
    if n < 2 {
        return false;
    }
    homes.chunks(n).any(|set| {
        let zones: BTreeSet<u32> = set
            .iter()
            .filter_map(|node| d.nodes.get(node).map(|x| x.zone))
            .collect();
        zones.len() < set.len()
    })
}
