//! A pure model of what a plan's steps do to the facts: pvcreate adds a PV, lvcreate
//! takes extents, volume create adds a volume... Used by the convergence property
//! (plan, simulate, plan again -> no changes) and for "what-if" chains of plans.
//! It reads only the argv the plan carries, so it also checks that the commands say
//! what the planner meant.

use std::collections::BTreeMap;

use crate::gather::{
    BrickDir, BrickDirKind, BrickFacts, FstabEntry, Lv, Mount, NodeFacts, NodeObservation,
    Observed, Peer, Pv, Signature, TaskKind, TaskStatus, Vg, VolumeFacts, VolumeStatus, VolumeTask,
};

use super::brick::MARKED_MKDIR;
use super::capacity::{EXTENT, raw_device_capacity};
use super::model::{Plan, Step};
use super::ownership::BRICK_XATTR;
use super::volume::ADOPT_MARK;

/// Apply every runnable step of `plan` to a copy of `observed`.
pub fn apply(plan: &Plan, observed: &Observed) -> Observed {
    apply_until(plan, observed, usize::MAX)
}

/// What an apply killed with SIGKILL leaves: the first `commands` commands of the plan's
/// runnable steps, in plan order (a valid order: every step comes after what it depends
/// on), have run, the rest have not. A step with several commands may be cut inside.
pub fn apply_until(plan: &Plan, observed: &Observed, commands: usize) -> Observed {
    let mut obs = observed.clone();
    let all = plan
        .steps
        .iter()
        .flat_map(|s| s.commands.iter().map(move |c| (s, c)));
    for (step, cmd) in all.take(commands) {
        run(&mut obs, step, cmd);
    }
    obs
}

fn facts<'a>(obs: &'a mut Observed, node: &str) -> Option<&'a mut NodeFacts> {
    match obs.nodes.get_mut(node) {
        Some(NodeObservation::Reachable(f)) => Some(f),
        _ => None,
    }
}

fn kib(arg: &str) -> u64 {
    arg.trim_end_matches('K').parse::<u64>().unwrap_or(0) * 1024
}

fn flag<'a>(cmd: &'a [String], name: &str) -> Option<&'a str> {
    cmd.iter()
        .position(|a| a == name)
        .and_then(|i| cmd.get(i + 1))
        .map(String::as_str)
}

fn tags(cmd: &[String]) -> Vec<String> {
    cmd.windows(2)
        .filter(|w| w[0] == "--addtag")
        .map(|w| w[1].clone())
        .collect()
}

/// An fstab line as gather parses it.
fn fstab_entry(line: &str) -> FstabEntry {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let field = |i: usize| fields.get(i).unwrap_or(&"").to_string();
    FstabEntry {
        source: field(0),
        target: field(1),
        fstype: field(2),
        options: field(3),
        line: line.to_string(),
    }
}

fn run(obs: &mut Observed, step: &Step, cmd: &[String]) {
    let words: Vec<&str> = cmd.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["wipefs", "-a", dev] => {
            if let Some(f) = facts(obs, &step.node) {
                f.signatures.remove(*dev);
                for bd in f.block_devices.iter_mut().filter(|b| b.path == *dev) {
                    bd.fstype = None;
                }
            }
        }
        ["pvcreate", .., dev] => {
            if let Some(f) = facts(obs, &step.node) {
                let size = f
                    .block_devices
                    .iter()
                    .find(|b| b.path == *dev)
                    .map(|b| b.size)
                    .unwrap_or(0);
                f.pvs.push(Pv {
                    name: dev.to_string(),
                    vg: None,
                    size,
                    free: size,
                    tags: vec![],
                    uuid: flag(cmd, "--uuid").map(str::to_string),
                });
                f.block_devices
                    .iter_mut()
                    .filter(|b| b.path == *dev)
                    .for_each(|b| b.fstype = Some("LVM2_member".into()));
                // as wipefs reports a fresh PV (tier V capture v-thin-lv)
                f.signatures.insert(
                    dev.to_string(),
                    vec![Signature {
                        kind: "LVM2_member".into(),
                        offset: "0x218".into(),
                        uuid: flag(cmd, "--uuid").map(str::to_string),
                        label: None,
                    }],
                );
            }
        }
        ["vgcreate", .., vg, dev] => {
            let t = tags(cmd);
            if let Some(f) = facts(obs, &step.node) {
                let size = f
                    .block_devices
                    .iter()
                    .find(|b| b.path == *dev)
                    .map(|b| raw_device_capacity(b.size))
                    .unwrap_or(0);
                for pv in f.pvs.iter_mut().filter(|p| p.name == *dev) {
                    pv.vg = Some(vg.to_string());
                }
                f.vgs.push(Vg {
                    name: vg.to_string(),
                    size,
                    free: size,
                    extent_size: EXTENT,
                    extent_count: size / EXTENT,
                    free_count: size / EXTENT,
                    pv_count: 1,
                    lv_count: 0,
                    tags: t,
                });
            }
        }
        ["lvcreate", ..] => lvcreate(obs, step, cmd),
        ["mkdir", "-p", "--", dir] => {
            if let Some(f) = facts(obs, &step.node)
                && f.paths.keys().any(|p| dir.starts_with(p.as_str()))
                && !f.brick_dirs.iter().any(|d| d.path == *dir)
            {
                f.brick_dirs.push(BrickDir {
                    path: dir.to_string(),
                    kind: BrickDirKind::Directory,
                    mark: None,
                });
            }
        }
        ["sh", "-c", script, "sh", xattr, mark, dir]
            if *script == MARKED_MKDIR && *xattr == BRICK_XATTR =>
        {
            if let Some(f) = facts(obs, &step.node)
                && f.paths.keys().any(|p| dir.starts_with(p.as_str()))
                && !f.brick_dirs.iter().any(|d| d.path == *dir)
            {
                f.brick_dirs.push(BrickDir {
                    path: dir.to_string(),
                    kind: BrickDirKind::Directory,
                    mark: Some(mark.to_string()),
                });
            }
        }
        // adoption's mark: the directory exists already; an unmarked one gets the mark,
        // one marked for this volume keeps its own, anything else fails the step
        ["sh", "-c", script, "sh", xattr, mark, dir, prefix]
            if *script == ADOPT_MARK && *xattr == BRICK_XATTR =>
        {
            if let Some(f) = facts(obs, &step.node)
                && let Some(d) = f.brick_dirs.iter_mut().find(|d| d.path == *dir)
                && d.kind == BrickDirKind::Directory
                && d.mark.is_none()
            {
                debug_assert!(mark.starts_with(&format!("{prefix}/")));
                d.mark = Some(mark.to_string());
            }
        }
        ["mount", "--", target] => {
            // by its fstab line
            if let Some(f) = facts(obs, &step.node)
                && let Some(e) = f.fstab.iter().find(|e| e.target == *target).cloned()
            {
                f.mounts.push(Mount {
                    target: e.target,
                    source: e.source,
                    fstype: e.fstype,
                    options: e.options,
                    size: None,
                    avail: None,
                });
            }
        }
        ["mount", "-o", opts, "--", dev, target] => {
            if let Some(f) = facts(obs, &step.node) {
                f.mounts.push(Mount {
                    target: target.to_string(),
                    source: dev.to_string(),
                    fstype: "xfs".into(),
                    options: opts.to_string(),
                    size: None,
                    avail: None,
                });
            }
        }
        ["umount", "--", target] => {
            if let Some(f) = facts(obs, &step.node) {
                f.mounts.retain(|m| m.target != *target);
            }
        }
        ["sh", "-c", _, "sh", file, name, id]
            if *file == crate::gather::parse::cluster_id::FILE =>
        {
            if let Some(f) = facts(obs, &step.node) {
                f.cluster_id = Some((name.to_string(), id.to_string()));
            }
        }
        ["sh", "-c", script, "sh", _fstab, line] if *script == super::fstab::ADD_SCRIPT => {
            if let Some(f) = facts(obs, &step.node) {
                f.fstab.push(fstab_entry(line));
            }
        }
        ["sh", "-c", script, "sh", _fstab, new, old] if *script == super::fstab::REPLACE_SCRIPT => {
            if let Some(f) = facts(obs, &step.node) {
                for e in f.fstab.iter_mut().filter(|e| e.line == *old) {
                    *e = fstab_entry(new);
                }
            }
        }
        ["lvchange", .., "--", full] => {
            let t = tags(cmd);
            if let Some(f) = facts(obs, &step.node)
                && let Some((vg, lv)) = full.split_once('/')
            {
                for l in f.lvs.iter_mut().filter(|l| l.vg == vg && l.name == lv) {
                    for x in &t {
                        if !l.tags.contains(x) {
                            l.tags.push(x.clone());
                        }
                    }
                }
            }
        }
        ["vgchange", .., "--", vg] => {
            let t = tags(cmd);
            if let Some(f) = facts(obs, &step.node) {
                for g in f.vgs.iter_mut().filter(|g| g.name == *vg) {
                    for x in &t {
                        if !g.tags.contains(x) {
                            g.tags.push(x.clone());
                        }
                    }
                }
            }
        }
        ["sh", "-c", script, "sh", _fstab, line] if *script == super::fstab::REMOVE_SCRIPT => {
            if let Some(f) = facts(obs, &step.node) {
                f.fstab.retain(|e| e.line != *line);
            }
        }
        ["lvremove", "-f", "--", full] => {
            if let Some(f) = facts(obs, &step.node)
                && let Some((vg, lv)) = full.split_once('/')
                && let Some(i) = f.lvs.iter().position(|l| l.vg == vg && l.name == lv)
            {
                {
                    let l = f.lvs.remove(i);
                    // a pool returns its data and metadata; a thin LV takes nothing
                    let back = if l.pool.is_none() {
                        l.size + l.metadata_size.unwrap_or(0)
                    } else {
                        0
                    };
                    for g in f.vgs.iter_mut().filter(|g| g.name == vg) {
                        g.free += back;
                        g.free_count = g.free / EXTENT;
                        g.lv_count = g.lv_count.saturating_sub(1);
                    }
                }
            }
        }
        ["rm", "-rf", "--one-file-system", "--", dir] | ["rmdir", "--", dir] => {
            if let Some(f) = facts(obs, &step.node) {
                f.brick_dirs.retain(|d| !d.path.starts_with(*dir));
            }
        }
        ["gluster", "--mode=script", rest @ ..] => gluster(obs, step, rest),
        _ => {}
    }
}

fn lvcreate(obs: &mut Observed, step: &Step, cmd: &[String]) {
    let t = tags(cmd);
    let Some(f) = facts(obs, &step.node) else {
        return;
    };
    let name = flag(cmd, "--name").unwrap_or_default().to_string();
    let virt = flag(cmd, "--virtualsize").map(kib).unwrap_or(0);
    // `lvcreate --type thin-pool ... --name POOL VG` makes a pool, then
    // `lvcreate --thin --virtualsize .. --name LV VG/POOL` a thin LV in it (the planner
    // never combines them: LVM would tag only the pool).
    let last = cmd.last().cloned().unwrap_or_default();
    let new_pool = flag(cmd, "--type") == Some("thin-pool");
    let (vg, tp) = if new_pool {
        (last, name.clone())
    } else {
        let (vg, tp) = last.split_once('/').unwrap_or_default();
        (vg.to_string(), tp.to_string())
    };
    if new_pool {
        let size = flag(cmd, "--size").map(kib).unwrap_or(0);
        let meta = flag(cmd, "--poolmetadatasize").map(kib).unwrap_or(0);
        let spare = f
            .lvs
            .iter()
            .filter(|l| l.vg == vg && l.pool.is_none() && l.metadata_size.is_some())
            .filter_map(|l| l.metadata_size)
            .max()
            .unwrap_or(0);
        let take = size + meta + meta.saturating_sub(spare);
        for g in f.vgs.iter_mut().filter(|g| g.name == vg) {
            g.free = g.free.saturating_sub(take);
            g.free_count = g.free / EXTENT;
            g.lv_count += 1;
        }
        f.lvs.push(Lv {
            name: tp.clone(),
            vg: vg.clone(),
            size,
            attr: "twi-aotz--".into(),
            pool: None,
            data_percent: Some(0.0),
            metadata_percent: Some(0.0),
            metadata_size: Some(meta),
            tags: t,
            path: None,
        });
        return;
    }
    for g in f.vgs.iter_mut().filter(|g| g.name == vg) {
        g.lv_count += 1;
    }
    f.lvs.push(Lv {
        name: name.clone(),
        vg: vg.clone(),
        size: virt,
        attr: "Vwi-aotz--".into(),
        pool: Some(tp),
        data_percent: Some(0.0),
        metadata_percent: None,
        metadata_size: None,
        tags: t,
        path: Some(format!("/dev/{vg}/{name}")),
    });
}

fn each_volume_view(obs: &mut Observed, mut fun: impl FnMut(&mut Vec<VolumeFacts>)) {
    for n in obs.nodes.values_mut() {
        if let NodeObservation::Reachable(f) = n
            && f.glusterd_running
        {
            fun(&mut f.volumes);
        }
    }
}

/// The reachable nodes a peer address names: by the hostname they report or their name.
fn nodes_known_as(obs: &Observed, host: &str) -> Vec<String> {
    obs.nodes
        .iter()
        .filter_map(|(k, v)| match v {
            NodeObservation::Reachable(f) if f.hostname == host || k == host => Some(k.clone()),
            _ => None,
        })
        .collect()
}

fn gluster(obs: &mut Observed, step: &Step, rest: &[&str]) {
    match rest {
        ["peer", "probe", host] => {
            let runner_host = match obs.nodes.get(&step.node) {
                Some(NodeObservation::Reachable(f)) => f.hostname.clone(),
                _ => step.node.clone(),
            };
            if let Some(f) = facts(obs, &step.node)
                && !f.peers.iter().any(|p| p.hostname == *host)
            {
                f.peers.push(Peer {
                    uuid: format!("uuid-{host}"),
                    hostname: host.to_string(),
                    connected: true,
                });
            }
            // the probed node now sees the runner (by the name it was probed from)
            for k in nodes_known_as(obs, host) {
                if let Some(f) = facts(obs, &k)
                    && !f.peers.iter().any(|p| p.hostname == runner_host)
                {
                    f.peers.push(Peer {
                        uuid: format!("uuid-{runner_host}"),
                        hostname: runner_host.clone(),
                        connected: true,
                    });
                }
            }
        }
        ["peer", "detach", host] => {
            // every node forgets the detached one; the detached one forgets the pool
            let gone = nodes_known_as(obs, host);
            let keys: Vec<String> = obs.nodes.keys().cloned().collect();
            for k in keys {
                if let Some(f) = facts(obs, &k) {
                    if gone.contains(&k) {
                        f.peers.clear();
                    } else {
                        f.peers.retain(|p| p.hostname != *host);
                    }
                }
            }
        }
        ["volume", "create", name, args @ ..] => {
            let mut v = VolumeFacts {
                name: name.to_string(),
                id: format!("id-{name}"),
                status: VolumeStatus::Created,
                vol_type: String::new(),
                brick_count: 0,
                dist_count: 0,
                replica_count: 1,
                arbiter_count: 0,
                disperse_count: 0,
                redundancy_count: 0,
                bricks: vec![],
                options: BTreeMap::new(),
                task: None,
            };
            let mut i = 0;
            while i < args.len() {
                match args[i] {
                    "replica" => {
                        v.replica_count = args.get(i + 1).and_then(|x| x.parse().ok()).unwrap_or(1)
                    }
                    "arbiter" => v.arbiter_count = 1,
                    "disperse-data" => {
                        v.disperse_count +=
                            args.get(i + 1).and_then(|x| x.parse().ok()).unwrap_or(0)
                    }
                    "redundancy" => {
                        let r: u32 = args.get(i + 1).and_then(|x| x.parse().ok()).unwrap_or(0);
                        v.redundancy_count = r;
                        v.disperse_count += r;
                    }
                    "force" => {}
                    b => {
                        push_brick(&mut v, b);
                        i += 1;
                        continue;
                    }
                }
                i += 2;
            }
            v.vol_type = vol_type(&v);
            // the runner sees it at once; other peers' views are refreshed by the next gather
            if let Some(f) = facts(obs, &step.node) {
                f.volumes.push(v);
            }
        }
        ["volume", "add-brick", name, bricks @ ..] => each_volume_view(obs, |vols| {
            for v in vols.iter_mut().filter(|v| v.name == *name) {
                for b in bricks.iter().filter(|b| **b != "force") {
                    push_brick(v, b);
                    if v.status == VolumeStatus::Started
                        && let Some(last) = v.bricks.last_mut()
                    {
                        last.online = Some(true);
                    }
                }
                v.vol_type = vol_type(v);
            }
        }),
        ["volume", "replace-brick", name, old, new, "commit", "force"] => {
            each_volume_view(obs, |vols| {
                for v in vols.iter_mut().filter(|v| v.name == *name) {
                    for b in v.bricks.iter_mut().filter(|b| b.name == *old) {
                        let (host, path) = new.split_once(':').unwrap_or((new, ""));
                        b.name = new.to_string();
                        b.host = host.to_string();
                        b.path = path.to_string();
                        b.host_uuid = None;
                    }
                }
            })
        }
        ["volume", "remove-brick", name, rest @ .., "start"] => each_volume_view(obs, |vols| {
            for v in vols.iter_mut().filter(|v| v.name == *name) {
                v.task = Some(VolumeTask {
                    kind: TaskKind::RemoveBrick,
                    id: format!("remove-{name}"),
                    status: TaskStatus::InProgress,
                    bricks: rest.iter().map(|b| b.to_string()).collect(),
                    progress: None,
                });
            }
        }),
        // gluster drops the task with the bricks
        ["volume", "remove-brick", name, rest @ .., "commit"] => each_volume_view(obs, |vols| {
            for v in vols.iter_mut().filter(|v| v.name == *name) {
                let set_size = (v.brick_count / v.dist_count.max(1)).max(1);
                v.bricks.retain(|b| !rest.contains(&b.name.as_str()));
                v.brick_count = v.bricks.len() as u32;
                v.dist_count = v.brick_count / set_size;
                v.vol_type = vol_type(v);
                v.task = None;
            }
        }),
        ["volume", "rebalance", name, .., "start"] => each_volume_view(obs, |vols| {
            for v in vols.iter_mut().filter(|v| v.name == *name) {
                v.task = Some(VolumeTask {
                    kind: TaskKind::Rebalance,
                    id: format!("rebalance-{name}"),
                    status: TaskStatus::Completed,
                    bricks: vec![],
                    progress: None,
                });
            }
        }),
        // the brick starts again, empty; self-heal fills it
        ["volume", "reset-brick", name, old, new, "commit", "force"] if old == new => {
            each_volume_view(obs, |vols| {
                for v in vols.iter_mut().filter(|v| v.name == *name) {
                    for b in v.bricks.iter_mut().filter(|b| b.name == *old) {
                        b.online = Some(true);
                    }
                }
            })
        }
        ["volume", "set", name, pairs @ ..] if !pairs.is_empty() && pairs.len() % 2 == 0 => {
            each_volume_view(obs, |vols| {
                for v in vols.iter_mut().filter(|v| v.name == *name) {
                    for kv in pairs.chunks(2) {
                        v.options.insert(kv[0].to_string(), kv[1].to_string());
                    }
                }
            })
        }
        ["volume", "reset", name, key] => each_volume_view(obs, |vols| {
            for v in vols.iter_mut().filter(|v| v.name == *name) {
                v.options.remove(*key);
            }
        }),
        ["volume", "start", name] => each_volume_view(obs, |vols| {
            for v in vols.iter_mut().filter(|v| v.name == *name) {
                v.status = VolumeStatus::Started;
                v.bricks.iter_mut().for_each(|b| b.online = Some(true));
            }
        }),
        ["volume", "stop", name] => each_volume_view(obs, |vols| {
            for v in vols.iter_mut().filter(|v| v.name == *name) {
                v.status = VolumeStatus::Stopped;
                v.bricks.iter_mut().for_each(|b| b.online = None);
            }
        }),
        ["volume", "delete", name] => {
            each_volume_view(obs, |vols| vols.retain(|v| v.name != *name))
        }
        _ => {}
    }
}

fn push_brick(v: &mut VolumeFacts, b: &str) {
    let (host, path) = b.split_once(':').unwrap_or((b, ""));
    let set_size = if v.disperse_count > 0 {
        v.disperse_count
    } else {
        v.replica_count.max(1)
    };
    let is_arbiter = v.arbiter_count > 0 && v.bricks.len() as u32 % set_size == set_size - 1;
    v.bricks.push(BrickFacts {
        name: b.to_string(),
        host: host.to_string(),
        path: path.to_string(),
        host_uuid: None,
        is_arbiter,
        online: None,
        port: None,
        size_total: None,
        size_free: None,
    });
    v.brick_count = v.bricks.len() as u32;
    v.dist_count = v.brick_count / set_size;
}

fn vol_type(v: &VolumeFacts) -> String {
    let dist = v.dist_count > 1;
    let base = if v.disperse_count > 0 {
        "Disperse"
    } else if v.replica_count > 1 {
        "Replicate"
    } else {
        return "Distribute".into();
    };
    if dist {
        format!("Distributed-{base}")
    } else {
        base.into()
    }
}
