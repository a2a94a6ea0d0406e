//! SIGKILL at every command, offline (issue "Crash-safe LVM apply"): for a scenario's
//! plan, every prefix of its commands is what an apply killed there leaves (a step with
//! several commands cut inside it included). From each, the next plan must have no
//! blocker (nothing half-made is refused as foreign or counted twice), and applying it
//! must converge to the same end state as the uninterrupted apply: the same bricks,
//! volumes and free space on every VG. `simulate` models the commands' effects; the lab
//! test `tests/lab/lab_classic_v.rs` does the same on real LVM at chosen points.

use std::path::Path;

use brickyard::gather::{NodeObservation, Observed};
use brickyard::plan::{Plan, plan, simulate};

use crate::plan_scenarios::load;

/// Per node: (VG, free bytes), (LV, size, tags), mounts, volumes: what "the same end
/// state" compares.
fn end_state(o: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    for (n, obs) in &o.nodes {
        let NodeObservation::Reachable(f) = obs else {
            continue;
        };
        for g in &f.vgs {
            out.push(format!(
                "{n} vg {} free {} tags {:?}",
                g.name, g.free, g.tags
            ));
        }
        for p in &f.pvs {
            out.push(format!("{n} pv {} vg {:?}", p.name, p.vg));
        }
        for l in &f.lvs {
            out.push(format!(
                "{n} lv {}/{} {} {:?}",
                l.vg, l.name, l.size, l.tags
            ));
        }
        for m in &f.mounts {
            out.push(format!("{n} mount {} {}", m.source, m.target));
        }
        for e in &f.fstab {
            out.push(format!("{n} fstab {}", e.line));
        }
        for d in &f.brick_dirs {
            out.push(format!("{n} dir {}", d.path));
        }
        for v in &f.volumes {
            let bricks: Vec<String> = v
                .bricks
                .iter()
                .map(|b| format!("{}:{}", b.host, b.path))
                .collect();
            out.push(format!("{n} volume {} {:?} {bricks:?}", v.name, v.status));
        }
    }
    out.sort();
    out
}

fn ids(p: &Plan) -> Vec<&str> {
    p.steps.iter().map(|s| s.id.as_str()).collect()
}

/// The command the prefix of length `k` ends with, for messages.
fn nth_command(p: &Plan, k: usize) -> String {
    p.steps
        .iter()
        .flat_map(|s| {
            s.commands
                .iter()
                .map(move |c| format!("{}: {}", s.id, c.join(" ")))
        })
        .nth(k - 1)
        .unwrap_or_default()
}

/// `recorded`: the scenario's facts predate identity records but hold objects marked with
/// the cluster's name; an apply killed between its record steps is then refused until the
/// config pins the id, by design (see `plan::identity`), so the records are made first.
fn kill_everywhere(scenario: &str, recorded: bool) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/plan")
        .join(scenario);
    let (d, mut o, opts) = load(&dir);
    if recorded {
        let mut records = plan(&d, &o, &opts);
        records.steps.retain(|s| s.id.ends_with("/cluster-id"));
        assert!(
            !records.steps.is_empty(),
            "{scenario}: no identity to record"
        );
        o = simulate::apply(&records, &o);
    }
    let first = plan(&d, &o, &opts);
    assert!(
        first.blockers.is_empty(),
        "{scenario}: the scenario must be fully runnable: {:?}",
        first.blockers
    );
    let want = end_state(&simulate::apply(&first, &o));
    let total: usize = first.steps.iter().map(|s| s.commands.len()).sum();
    assert!(total > 0, "{scenario}: nothing to do");
    for k in 1..total {
        let at = nth_command(&first, k);
        let killed = simulate::apply_until(&first, &o, k);
        let next = plan(&d, &killed, &opts);
        assert!(
            next.blockers.is_empty(),
            "{scenario}: killed after command {k} ({at}), the next plan is blocked: {:#?}",
            next.blockers
        );
        let done = simulate::apply(&next, &killed);
        let last = plan(&d, &done, &opts);
        assert!(
            last.steps.is_empty() && last.blockers.is_empty(),
            "{scenario}: killed after command {k} ({at}), the resumed apply does not converge: {:?} {:?}",
            ids(&last),
            last.blockers
        );
        assert_eq!(
            end_state(&done),
            want,
            "{scenario}: killed after command {k} ({at}), the end state differs from the uninterrupted apply's"
        );
    }
    total
}

#[test]
fn a_blank_cluster_build_resumes_from_a_kill_after_any_command() {
    for s in [
        "empty_cluster_full_build",
        "seed_16gib_8gib",
        "arbiter",
        "disperse_4_2",
        "distribute_three_sets",
        "directory_bricks",
    ] {
        kill_everywhere(s, false);
    }
    kill_everywhere("add_device", true);
}

#[test]
fn an_expansion_resumes_from_a_kill_after_any_command() {
    kill_everywhere("expand", true);
}

#[test]
fn a_volume_teardown_resumes_from_a_kill_after_any_command() {
    kill_everywhere("delete_allowed", true);
}

/// Issue "Day-2 operations": a brick moved off a draining path (build the new brick,
/// replace-brick, heal wait, teardown of the old one) is finished by the next apply
/// wherever the first was killed, and ends where the uninterrupted move ends.
#[test]
fn a_brick_move_off_a_draining_path_resumes_from_a_kill_after_any_command() {
    assert_eq!(kill_everywhere("drain_path_allowed", false), 4);
}

/// The same for an LVM brick moved off a draining device onto another node's VG.
#[test]
fn an_lvm_brick_move_off_a_draining_device_resumes_from_a_kill_after_any_command() {
    assert!(kill_everywhere("drain_device", false) > 10);
}

/// Killed after replace-brick, the old brick is swapped out but still on the draining
/// path: the next plan waits for the heal and tears it down, and the heal that move
/// started does not hold the volume back.
#[test]
fn a_move_killed_after_replace_brick_waits_for_its_heal_then_tears_down() {
    let (_, _, next) = killed_at("drain_path_allowed", "replace-brick");
    let ids = ids(&next);
    assert_eq!(
        ids,
        [
            "volume.shared/heal/s0p2",
            "brick.shared[0][2]/teardown/rmdir"
        ],
        "{ids:?}"
    );
    assert!(next.blockers.is_empty(), "{:?}", next.blockers);
}

/// A shrink by one set (remove-brick start, wait, the commit's check and commit, each
/// removed brick's empty check and removal), killed after any command: the next plan
/// finishes it, never starting gluster's move twice, and ends where one apply ends.
#[test]
fn a_shrink_resumes_from_a_kill_after_any_command() {
    assert!(kill_everywhere("shrink_sets_destroy", false) >= 9);
}

/// Killed right after `remove-brick ... start`, gluster moves the files on: the next plan
/// follows that task (wait, commit, teardown), it does not start another.
#[test]
fn a_shrink_killed_after_its_start_follows_the_running_move() {
    let (_, _, next) = killed_at("shrink_sets_destroy", "remove-brick");
    let ids = ids(&next);
    assert_eq!(
        ids,
        [
            "volume.sv/shrink/wait",
            "volume.sv/shrink/commit",
            "brick.sv[1][0]/teardown/rmdir",
            "brick.sv[1][1]/teardown/rmdir",
            "brick.sv[1][2]/teardown/rmdir"
        ],
        "{ids:?}"
    );
    assert!(next.blockers.is_empty(), "{:?}", next.blockers);
}

/// A lost brick rebuilt in place (its marked directory made again, `reset-brick`, the
/// heal wait), killed after any command: killed between the directory and the
/// reset-brick, the brick is ours but never served (no heal index), still lost, and the
/// next plan takes it back instead of holding the volume for an offline brick.
#[test]
fn a_lost_brick_rebuild_resumes_from_a_kill_after_any_command() {
    assert!(kill_everywhere("brick_lost_rebuilt", false) >= 3);
    let (_, _, next) = killed_at("brick_lost_rebuilt", "setfattr");
    let ids = ids(&next);
    assert_eq!(
        ids,
        ["volume.sv/reset-brick/s0p2", "volume.sv/heal/s0p2"],
        "{ids:?}"
    );
}

/// The number of commands up to and including the first one containing `at`.
fn through(p: &Plan, at: &str) -> usize {
    p.steps
        .iter()
        .flat_map(|s| &s.commands)
        .position(|c| c.join(" ").contains(at))
        .unwrap_or_else(|| panic!("no command {at} in {:?}", ids(p)))
        + 1
}

/// The plan of `scenario` and the facts an apply killed after the first command matching
/// `at` leaves.
fn killed_at(scenario: &str, at: &str) -> (brickyard::config::Desired, Observed, Plan) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/plan")
        .join(scenario);
    let (d, o, opts) = load(&dir);
    let first = plan(&d, &o, &opts);
    let killed = simulate::apply_until(&first, &o, through(&first, at));
    let next = plan(&d, &killed, &opts);
    (d, killed, next)
}

/// Issue "Crash-safe LVM": killed right after `pvcreate`, the disk is a PV without VG.
/// Its UUID is the one brickyard derives for this cluster, node and disk, so it is ours
/// and unfinished: only the vgcreate is planned, with no signature blocker.
#[test]
fn a_disk_left_as_our_bare_pv_gets_only_its_vgcreate() {
    let (_, killed, next) = killed_at("seed_16gib_8gib", "pvcreate");
    assert!(next.blockers.is_empty(), "{:?}", next.blockers);
    let node = &next
        .steps
        .iter()
        .find(|s| s.id.ends_with("/vgcreate"))
        .expect("vgcreate")
        .node;
    let on_node: Vec<&str> = next
        .steps
        .iter()
        .filter(|s| &s.node == node && s.address.to_string().starts_with("device."))
        .map(|s| s.id.as_str())
        .collect();
    assert!(
        on_node.iter().all(|id| !id.ends_with("/pvcreate")),
        "{on_node:?}"
    );
    // the facts really show the LVM label brickyard's apply left
    let NodeObservation::Reachable(f) = &killed.nodes[node.as_str()] else {
        panic!("{node} reachable");
    };
    assert!(f.pvs.iter().any(|p| p.vg.is_none() && p.uuid.is_some()));
}

/// The same bare PV with another UUID is someone else's (or an older brickyard's): a
/// `device_signature` blocker that names both UUIDs, and nothing is done to the disk.
#[test]
fn a_bare_pv_with_another_uuid_is_refused_naming_both_uuids() {
    let (d, mut killed, _) = killed_at("seed_16gib_8gib", "pvcreate");
    let mut node = String::new();
    for (n, obs) in killed.nodes.iter_mut() {
        if let NodeObservation::Reachable(f) = obs
            && let Some(p) = f.pvs.iter_mut().find(|p| p.vg.is_none())
        {
            p.uuid = Some("aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa".into());
            node = n.clone();
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/plan/seed_16gib_8gib");
    let (_, _, opts) = load(&dir);
    let p = plan(&d, &killed, &opts);
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "device_signature")
        .unwrap_or_else(|| panic!("{:?}", p.blockers));
    assert!(
        b.message.contains("aaaaaa-aaaa") && b.message.contains("not the "),
        "{}",
        b.message
    );
    assert!(
        !p.steps
            .iter()
            .any(|s| s.node == node && s.address.to_string().starts_with("device.")),
        "{:?}",
        ids(&p)
    );
}

/// Killed between the thin pool's and the thin LV's `lvcreate` on the seeds' 16 GiB disk:
/// the pool is pinned (its space is not counted twice, which blocked "264 MiB short"), and
/// only the thin LV is created in it.
#[test]
fn a_thin_pool_without_its_lv_is_finished_not_counted_twice() {
    let (_, _, next) = killed_at("seed_16gib_8gib", "--type thin-pool");
    assert!(next.blockers.is_empty(), "{:?}", next.blockers);
    let creates: Vec<String> = next
        .steps
        .iter()
        .flat_map(|s| &s.commands)
        .filter(|c| c[0] == "lvcreate")
        .map(|c| c.join(" "))
        .collect();
    let pools = creates.iter().filter(|c| c.contains("thin-pool")).count();
    let thins = creates.iter().filter(|c| c.contains("--thin")).count();
    assert_eq!(thins, pools + 1, "one pool already there: {creates:#?}");
}

/// Killed after `volume delete`, before the teardown: without `--allow-destroy` the bricks
/// left are a `destroy_not_allowed` blocker naming them, never "No changes".
#[test]
fn bricks_left_by_a_killed_teardown_are_named_without_allow_destroy() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/plan/delete_allowed");
    let (d, o, mut opts) = load(&dir);
    let first = plan(&d, &o, &opts);
    let killed = simulate::apply_until(&first, &o, through(&first, "volume delete"));
    opts.allow_destroy = false;
    let p = plan(&d, &killed, &opts);
    assert!(p.steps.iter().all(|s| !s.destructive), "{:?}", ids(&p));
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "destroy_not_allowed")
        .unwrap_or_else(|| panic!("{:?}", p.blockers));
    assert!(
        b.message.contains("no longer exists") && b.message.contains("brick_gfs_0_0"),
        "{}",
        b.message
    );
    assert_eq!(
        p.blocked_steps
            .iter()
            .filter(|s| s.id.ends_with("/poolremove"))
            .count(),
        3
    );
}

/// A brick left by a deleted volume is not torn down when a live volume's brick sits
/// inside its mount (someone re-used the directory): `ownership_unproven`, left alone.
#[test]
fn a_leftover_brick_that_a_live_volume_uses_is_left_alone() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/plan/delete_allowed");
    let (d, o, opts) = load(&dir);
    let first = plan(&d, &o, &opts);
    let mut killed = simulate::apply_until(&first, &o, through(&first, "volume delete"));
    // a hand-made volume `reuse` whose brick on gfs1 lives inside brick_gfs_0_0's mount
    let mount = "/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_0";
    let mut host = String::new();
    for obs in killed.nodes.values_mut() {
        if let NodeObservation::Reachable(f) = obs
            && f.mounts.iter().any(|m| m.target == mount)
        {
            host = f.hostname.clone();
        }
    }
    assert!(!host.is_empty(), "some node has {mount}");
    // gfs as gluster reported it, renamed, with one brick inside that mount
    let mut reuse = o
        .nodes
        .values()
        .find_map(|obs| match obs {
            NodeObservation::Reachable(f) => f.volumes.iter().find(|v| v.name == "gfs").cloned(),
            _ => None,
        })
        .expect("volume gfs in the facts");
    reuse.name = "reuse".into();
    reuse
        .options
        .retain(|k, _| !k.starts_with("user.brickyard."));
    let mut br = reuse
        .bricks
        .iter()
        .find(|b| b.host == host || b.path.starts_with(mount))
        .cloned()
        .expect("gfs's brick on that node");
    br.path = format!("{mount}/other");
    br.name = format!("{}:{}", br.host, br.path);
    reuse.bricks = vec![br];
    reuse.brick_count = 1;
    for obs in killed.nodes.values_mut() {
        if let NodeObservation::Reachable(f) = obs {
            f.volumes.push(reuse.clone());
        }
    }
    let p = plan(&d, &killed, &opts);
    let b = p
        .blockers
        .iter()
        .find(|b| b.code.to_string() == "ownership_unproven")
        .unwrap_or_else(|| panic!("{:?}", p.blockers));
    assert!(
        b.message.contains("lives inside its mount"),
        "{}",
        b.message
    );
    assert!(
        !p.steps.iter().chain(&p.blocked_steps).any(|s| s
            .commands
            .iter()
            .any(|c| c.iter().any(|a| a == mount || a.ends_with("brick_gfs_0_0")))),
        "nothing touches {mount}: {:?}",
        ids(&p)
    );
}
