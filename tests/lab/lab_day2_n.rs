//! Day-2 operations on real nodes (tier N). Rule one: a path dropped from the config while
//! a brick of a volume lives on it is a named blocker on the live cluster; dropping a node
//! or merging two zones, which three nodes in three zones cannot survive, is refused by
//! the config check. Never "No changes" and never a change: the volumes stay
//! byte-identical, and restoring the config gives "No changes" again with the data read
//! back identical through FUSE. Then the operations: the heal gate, bricks moved off a
//! draining path and a draining node, and a brick whose disk failed rebuilt in place.

use std::path::PathBuf;
use std::time::Duration;

use crate::common::lab::{Lab, Tier};
use crate::env_n::{Env, assert_files, wait_online, write_files};

const VOLS: &str = "
  rep:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
  arb:
    size: 1GiB
    durability: { type: replicate, replica: 3, arbiter: true }
";

/// A node's fields after `manage`, by index (`None`: left out of the config).
type NodeFields = dyn Fn(usize) -> Option<String>;

/// The default node fields of `Env::config`.
fn default_node(i: usize) -> String {
    format!("zone: {}, paths: [/bricks/d0, /bricks/d1]", i + 1)
}

/// The plan must refuse (exit 1), name every expected fragment, and an apply must change
/// nothing on the cluster.
fn blocked_and_unchanged(env: &Env, want: &[&str]) -> String {
    let n1 = env.nodes()[0];
    let before = n1.gluster(&["volume", "info"]);
    let (so, se) = env.by_code(1, &["plan", "--detailed-exitcode"]);
    assert!(!so.contains("No changes"), "{so}");
    for w in want {
        assert!(so.contains(w), "plan does not say {w:?}:\n{so}\n{se}");
    }
    let (ao, _) = env.by_code(1, &["apply", "--auto-approve"]);
    assert!(ao.contains("[brick_home_removed]"), "{ao}");
    assert_eq!(
        n1.gluster(&["volume", "info"]),
        before,
        "the apply changed a volume"
    );
    so
}

#[test]
fn storage_dropped_under_live_bricks_is_a_named_blocker_never_no_changes() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    env.config(VOLS);
    env.apply_ok(&[]);
    wait_online(env.nodes()[0], "rep");
    wait_online(env.nodes()[0], "arb");
    env.assert_no_changes();
    let rep = env.mount("rep");
    let arb = env.mount("arb");
    let mut files = write_files(&rep, "rep");
    files.extend(write_files(&arb, "arb"));
    let n1 = env.nodes()[0];

    // where n3's brick of rep lives, as gluster lists it
    let n3 = env.nodes()[2].address.clone();
    let brick = brick_on(n1, "rep", &n3);
    let (_, path) = brick.split_once(':').expect("host:path");
    let base = path
        .strip_suffix("/rep/s0p2")
        .unwrap_or_else(|| panic!("brick {brick} is not rep's third brick"));
    let other = if base == "/bricks/d0" {
        "/bricks/d1"
    } else {
        "/bricks/d0"
    };

    // 1. the path that holds n3's brick dropped from the config
    env.config_nodes(VOLS, |i, _| {
        Some(if i == 2 {
            format!("zone: 3, paths: [{other}]")
        } else {
            default_node(i)
        })
    });
    let so = blocked_and_unchanged(
        &env,
        &[
            "[brick_home_removed] brick.rep[0][2]",
            &brick,
            &format!("under {base} on node n3, which the config no longer declares"),
            "declare it again with `drain: true`",
        ],
    );
    assert!(!so.contains("ownership_unproven"), "{so}");

    // 2. node n3 dropped, 3. n3 moved into n1's zone: with three nodes in three zones the
    // config itself is refused (replica 3 needs three nodes, strict zones three zones),
    // before any node is read, and nothing changes. The planner's answers for a larger
    // cluster are the offline scenarios `node_dropped` and `zone_changed`.
    let refusals: [(&NodeFields, &str); 2] = [
        (&|i| (i != 2).then(|| default_node(i)), "not_enough_nodes"),
        (
            &|i| {
                Some(if i == 2 {
                    "zone: 1, paths: [/bricks/d0, /bricks/d1]".to_string()
                } else {
                    default_node(i)
                })
            },
            "not_enough_zones",
        ),
    ];
    let before = n1.gluster(&["volume", "info"]);
    for (nodes, code) in refusals {
        env.config_nodes(VOLS, |i, _| nodes(i));
        for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
            let (_, se) = env.by_code(1, args);
            assert!(se.contains(code) && se.contains("volume `rep`"), "{se}");
        }
    }
    assert_eq!(n1.gluster(&["volume", "info"]), before);

    // the config restored: the cluster matches it, the data is intact
    env.config(VOLS);
    env.assert_no_changes();
    files.extend(write_files(&rep, "rep-after"));
    assert_files(&files);
}

/// One replica-3 volume, rep.
const REP: &str = "\n  rep:\n    size: 1GiB\n    durability: { type: replicate, replica: 3 }\n";

/// Declares `vols` (rep alone), applies, waits for rep to be online, mounts it and
/// writes files: (the mount, the files with their checksums).
fn rep_with_files(env: &mut Env, vols: &str) -> (PathBuf, Vec<(PathBuf, String)>) {
    env.config(vols);
    env.apply_ok(&[]);
    wait_online(env.nodes()[0], "rep");
    let mnt = env.mount("rep");
    let files = write_files(&mnt, "before");
    (mnt, files)
}

/// Applies the config, waits for rep and arb to be online, mounts both and writes files
/// into each: (rep's mount, arb's mount, the files with their checksums).
fn rep_and_arb_with_files(env: &mut Env) -> (PathBuf, PathBuf, Vec<(PathBuf, String)>) {
    env.apply_ok(&[]);
    wait_online(env.nodes()[0], "rep");
    wait_online(env.nodes()[0], "arb");
    let rep = env.mount("rep");
    let arb = env.mount("arb");
    let mut files = write_files(&rep, "rep");
    files.extend(write_files(&arb, "arb"));
    (rep, arb, files)
}

/// The pid gluster reports for `host:path` in `volume status VOL`.
fn brick_pid(n: &crate::common::lab::Node, vol: &str, brick: &str) -> String {
    let st = n.gluster(&["volume", "status", vol]);
    st.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(brick))
        .and_then(|l| l.split_whitespace().last())
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no pid for {brick}:\n{st}"))
        .to_string()
}

#[test]
fn a_brick_that_missed_writes_holds_changes_back_until_it_has_healed() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    let (mnt, mut files) = rep_with_files(&mut env, REP);
    let (n1, n3) = (env.nodes()[0], env.nodes()[2]);
    // self-heal by hand only, so the lag lasts until the test heals it (set directly with
    // gluster: options brickyard did not set are left alone)
    for k in [
        "cluster.self-heal-daemon",
        "cluster.data-self-heal",
        "cluster.metadata-self-heal",
        "cluster.entry-self-heal",
    ] {
        n1.gluster(&["volume", "set", "rep", k, "off"]);
    }
    let brick = brick_on(n1, "rep", &n3.address);
    // n3's brick process killed: the writes that follow reach n1 and n2 only
    n3.run_ok(&["kill", "-KILL", &brick_pid(n1, "rep", &brick)]);
    let lagged = write_files(&mnt, "lagged");
    // glusterd takes the killed brick for running until it has seen the disconnect
    // (measured: the first `start force` right after the kill says success and starts
    // nothing), so start it until it is online
    crate::common::lab::wait_for("n3's brick restarted", Duration::from_secs(90), || {
        n1.gluster(&["volume", "start", "rep", "force"]);
        std::thread::sleep(Duration::from_secs(2));
        let st = n1.gluster(&["volume", "status", "rep"]);
        st.lines().any(|l| {
            l.split_whitespace().nth(1) == Some(brick.as_str())
                && l.split_whitespace().nth(4) == Some("Y")
        })
    });
    wait_online(n1, "rep");

    // a change to the volume is held back, with the counts
    env.config(&format!(
        "{REP}    options: {{ performance.cache-size: 64MB }}\n"
    ));
    let (so, _) = env.by_code(1, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("[heal_pending] volume.rep"), "{so}");
    assert!(so.contains("set performance.cache-size = 64MB"), "{so}");
    for n in &env.nodes()[..2] {
        assert!(so.contains(&format!("{}:/", n.address)), "{so}");
    }
    let (ao, _) = env.by_code(1, &["apply", "--auto-approve"]);
    assert!(ao.contains("[heal_pending]"), "{ao}");
    let opt = n1.gluster(&["volume", "get", "rep", "performance.cache-size"]);
    assert!(
        !opt.contains("64MB"),
        "the held-back change was made:\n{opt}"
    );

    // healed: the change goes through, the lagging brick holds the data
    n1.gluster(&["volume", "set", "rep", "cluster.self-heal-daemon", "on"]);
    n1.gluster(&["volume", "heal", "rep"]);
    crate::common::lab::wait_for("rep healed", Duration::from_secs(120), || {
        let s = n1.run(&[
            "gluster",
            "--mode=script",
            "volume",
            "heal",
            "rep",
            "info",
            "summary",
        ]);
        let t = String::from_utf8_lossy(&s.stdout);
        s.status.success()
            && t.contains("Total Number of entries")
            && t.lines()
                .filter(|l| l.contains("Total Number of entries"))
                .all(|l| l.trim_end().ends_with(": 0"))
    });
    env.apply_ok(&[]);
    env.assert_no_changes();
    let base = brick.split_once(':').expect("host:path").1.to_string();
    for (p, h) in &lagged {
        let name = p.file_name().expect("file name").to_string_lossy();
        let on_brick = n3.run_ok(&["sha256sum", &format!("{base}/{name}")]);
        assert!(on_brick.starts_with(h.as_str()), "{name} on n3: {on_brick}");
    }
    files.extend(lagged);
    assert_files(&files);
}

/// The brick of `vol` whose host is `addr`, as gluster lists it.
fn brick_on(n1: &crate::common::lab::Node, vol: &str, addr: &str) -> String {
    let info = n1.gluster(&["volume", "info", vol]);
    info.lines()
        .filter_map(|l| l.split_once(": ").map(|(_, b)| b.trim()))
        .find(|b| b.starts_with(&format!("{addr}:/")))
        .unwrap_or_else(|| panic!("no brick of {vol} on {addr}:\n{info}"))
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn bricks_move_off_a_draining_path_through_a_kill_in_the_heal_wait() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    // both volumes' bricks of n3 on /bricks/d0: d1 of n3 is where they can go
    let n3_fields = |d: &str| format!("zone: 3, paths: [{d}]");
    let nodes = |i: usize, n3: &str| {
        Some(if i == 2 {
            n3.to_string()
        } else {
            default_node(i)
        })
    };
    env.config_nodes(VOLS, |i, _| nodes(i, &n3_fields("/bricks/d0")));
    let (rep, arb, mut files) = rep_and_arb_with_files(&mut env);
    let (n1, n3) = (env.nodes()[0], env.nodes()[2]);
    let old_rep = brick_on(n1, "rep", &n3.address);
    let old_arb = brick_on(n1, "arb", &n3.address);
    assert!(old_rep.ends_with(":/bricks/d0/rep/s0p2"), "{old_rep}");
    assert!(old_arb.ends_with(":/bricks/d0/arb/s0p2"), "{old_arb}");

    // /bricks/d0 of n3 drains
    let draining = "zone: 3, paths: [{ path: /bricks/d0, drain: true }, /bricks/d1]";
    env.config_nodes(VOLS, |i, _| nodes(i, draining));
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode", "--allow-destroy"]);
    for want in [
        format!(
            "move brick {old_rep} to {}:/bricks/d1/rep/s0p2 (replace-brick)",
            n3.address
        ),
        format!(
            "move brick {old_arb} to {}:/bricks/d1/arb/s0p2 (replace-brick)",
            n3.address
        ),
        "wait until rep has healed".to_string(),
        "remove brick directory /bricks/d0/rep/s0p2 and its data".to_string(),
    ] {
        assert!(so.contains(&want), "plan does not say {want:?}:\n{so}");
    }
    // without --allow-destroy the old copies are named as kept (a blocker: exit 1)
    let (so, _) = env.by_code(1, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("[destroy_not_allowed] brick.rep[0][2]"), "{so}");

    // self-heal off by hand: the first apply's heal wait cannot end; it is killed there,
    // right after rep's replace-brick finished
    n1.gluster(&["volume", "set", "rep", "cluster.self-heal-daemon", "off"]);
    let mut child = env.run_until(
        &["apply", "--auto-approve", "--allow-destroy"],
        "rep's replace-brick",
        |l| l.contains("move brick") && l.contains("/rep/") && l.contains("done"),
    );
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the heal wait ended with self-heal off"
    );
    crate::common::lab::kill_with_children(&mut child);
    // the remote wait loop dies with its SSH session, leaving nothing that polls gluster
    crate::common::lab::wait_for("the remote heal wait gone", Duration::from_secs(30), || {
        let ps = n1.run_ok(&["ps", "-eo", "args"]);
        !ps.lines()
            .any(|l| l.contains("volume heal") && l.ends_with(" sh rep 1800"))
    });
    // the remote wait loop dies with its ssh session; the lock is a dead process's
    assert!(brick_on(n1, "rep", &n3.address).ends_with(":/bricks/d1/rep/s0p2"));
    let old_dir = old_rep.split_once(':').expect("host:path").1.to_string();
    n3.run_ok(&["test", "-d", &old_dir]);

    // the next plan finishes the move: the heal wait first, then the old brick's teardown
    n1.gluster(&["volume", "set", "rep", "cluster.self-heal-daemon", "on"]);
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode", "--allow-destroy"]);
    assert!(so.contains("wait until rep has healed"), "{so}");
    assert!(!so.contains("[heal_pending]"), "{so}");
    let se = env.apply_ok(&["--allow-destroy"]);
    assert!(
        se.contains("took over the lock"),
        "the stale lock was not taken over visibly:\n{se}"
    );
    let (so, _) = env.by_code(0, &["plan", "--detailed-exitcode", "--allow-destroy"]);
    assert!(so.contains("No changes"), "{so}");
    assert!(so.contains("/bricks/d0 on n3 is drained"), "{so}");
    assert!(brick_on(n1, "arb", &n3.address).ends_with(":/bricks/d1/arb/s0p2"));
    let gone = n3.run(&["test", "-e", &old_dir]);
    assert!(!gone.status.success(), "{old_dir} is still there");
    // the moved bricks hold the data: rep's whole files on n3's new brick
    for (p, h) in files.iter().filter(|(p, _)| p.starts_with(&rep)) {
        let name = p.file_name().expect("name").to_string_lossy();
        let on = n3.run_ok(&["sha256sum", &format!("/bricks/d1/rep/s0p2/{name}")]);
        assert!(on.starts_with(h.as_str()), "{name} on n3's new brick: {on}");
    }
    files.extend(write_files(&arb, "arb-after"));
    assert_files(&files);
}

/// A whole node retired into the spare: n3 declared `drain: true` and n4 (the lab's spare,
/// zone 3) declared beside it. One apply probes n4, moves n3's bricks of a replica-3 and an
/// arbiter volume onto it (replace-brick, heal, old brick removed with --allow-destroy)
/// and detaches n3 from the trusted pool; the next plan has no changes and says n3 may
/// leave the config; the files written through FUSE before read back identical.
#[test]
fn a_draining_node_is_moved_into_the_spare_and_detached() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    if env.all_nodes().len() < 4 {
        panic!("tier N has no spare node n4 (scripts/lab up n makes one)");
    }
    env.config(VOLS);
    let (_, _, files) = rep_and_arb_with_files(&mut env);

    let fields = |i: usize, _: &str| {
        Some(match i {
            2 => "zone: 3, paths: [/bricks/d0, /bricks/d1], drain: true".to_string(),
            3 => "zone: 3, paths: [/bricks/d0, /bricks/d1]".to_string(),
            _ => default_node(i),
        })
    };
    env.config_with_spare(VOLS, fields);
    // a node new to a recorded deployment joins only one that pins its id
    // (docs/trust.md, cluster identity): pin what n1..n3 recorded
    let record = env.nodes()[0].run_ok(&["cat", "/var/lib/brickyard/cluster-id"]);
    let id = record
        .split_whitespace()
        .nth(1)
        .expect("cluster-id record")
        .to_string();
    let cfg = std::fs::read_to_string(env.cfg()).expect("config");
    std::fs::write(env.cfg(), format!("cluster_id: {id}\n{cfg}")).expect("config");
    let all = env.all_nodes();
    let (n1, n3, n4) = (all[0], all[2], all[3]);
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode", "--allow-destroy"]);
    for vol in ["rep", "arb"] {
        // onto the spare, on whichever of its paths the placement picks
        let moved = so.lines().any(|l| {
            l.contains(&format!("move brick {}:", n3.address))
                && l.contains(&format!("to {}:/bricks/", n4.address))
                && l.contains(&format!("/{vol}/s0p2 (replace-brick)"))
        });
        assert!(
            moved,
            "the plan does not move {vol}'s brick from n3 to n4:\n{so}"
        );
    }
    for want in [
        format!("probe n4 ({})", n4.address),
        format!(
            "detach drained node n3 ({}) from the trusted pool, after its bricks have moved",
            n3.address
        ),
    ] {
        assert!(so.contains(&want), "plan does not say {want:?}:\n{so}");
    }
    env.apply_ok(&["--allow-destroy"]);

    let pool = n1.gluster(&["pool", "list"]);
    assert!(!pool.contains(&n3.address), "n3 still in the pool:\n{pool}");
    assert!(pool.contains(&n4.address), "n4 not in the pool:\n{pool}");
    for vol in ["rep", "arb"] {
        let info = n1.gluster(&["volume", "info", vol]);
        assert!(
            !info.contains(&format!("{}:", n3.address)),
            "{vol} on n3:\n{info}"
        );
        let on_n4 = info.lines().any(|l| {
            l.contains(&format!("{}:/bricks/", n4.address)) && l.contains(&format!("/{vol}/s0p2"))
        });
        assert!(on_n4, "{vol} not on n4:\n{info}");
    }
    let (so, _) = env.by_code(0, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("No changes"), "{so}");
    assert!(
        so.contains("node n3 is drained and not in the trusted pool: remove it from the config"),
        "{so}"
    );
    assert_files(&files);
}

/// A disk failed under a brick and was replaced: n3's brick process of rep is killed, the
/// filesystem of its path unmounted, formatted anew and mounted again (the brick directory
/// is gone), and files are written meanwhile. One apply makes the marked directory again,
/// takes it back with `reset-brick ... commit force` and waits for the heal; the next plan
/// has no changes, and the new brick holds every file, identical.
#[test]
fn a_brick_whose_disk_failed_is_rebuilt_in_place_from_its_set() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    let (mnt, mut files) = rep_with_files(&mut env, REP);
    let (n1, n3) = (env.nodes()[0], env.nodes()[2]);
    let brick = brick_on(n1, "rep", &n3.address);
    let dir = brick.split_once(':').expect("host:path").1.to_string();
    let (base, disk) = n3
        .brick_mounts
        .iter()
        .zip(&n3.disks)
        .find(|(m, _)| dir.starts_with(&format!("{m}/")))
        .unwrap_or_else(|| panic!("{dir} is on none of n3's lab disks"));

    // the disk "fails": its brick stops, a new empty filesystem takes the path
    n3.run_ok(&["kill", "-KILL", &brick_pid(n1, "rep", &brick)]);
    crate::common::lab::wait_for("n3's brick offline", Duration::from_secs(60), || {
        let st = n1.gluster(&["volume", "status", "rep", &brick, "detail"]);
        st.lines()
            .any(|l| l.starts_with("Online") && l.trim_end().ends_with(": N"))
    });
    n3.run_ok(&["umount", base]);
    n3.run_ok(&["mkfs.xfs", "-q", "-f", "-i", "size=512", disk]);
    n3.run_ok(&["mount", "-o", "rw,inode64,noatime", disk, base]);
    files.extend(write_files(&mnt, "while-lost"));

    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode"]);
    for want in [
        format!("create brick directory {dir}, marked as brickyard's"),
        format!("take lost brick {brick} back into rep (reset-brick commit force"),
        "wait until rep has healed".to_string(),
    ] {
        assert!(so.contains(&want), "plan does not say {want:?}:\n{so}");
    }
    assert!(!so.contains("[ownership_unproven]"), "{so}");
    env.apply_ok(&[]);
    env.assert_no_changes();
    for (p, h) in &files {
        let name = p.file_name().expect("name").to_string_lossy();
        let on = n3.run_ok(&["sha256sum", &format!("{dir}/{name}")]);
        assert!(
            on.starts_with(h.as_str()),
            "{name} on the rebuilt brick: {on}"
        );
    }
    files.extend(write_files(&mnt, "after"));
    assert_files(&files);
}
