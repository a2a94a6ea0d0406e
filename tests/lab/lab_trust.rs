//! The trust boundary on real nodes (issue "Trust boundary"): what brickyard cannot prove
//! it owns stays byte-identical through every apply, also `--allow-destroy` and configs
//! that name it; values that gluster's CLI would read as its own options never reach it.
//! Tier N: a volume made by hand with the gluster CLI, on brick paths that even follow
//! brickyard's naming (`<path>/<vol>/s0p0`), so only the marker can make it ours.
//! Tier V: hand-made LVs, one in a VG that carries brickyard's VG name for the disk.

use std::collections::BTreeMap;

use crate::common::lab::{Lab, Node, Tier, replica3_volume};
use crate::env_n::{Env, assert_files, wait_online, write_files};

const FOREIGN: &str = "handmade";
/// The foreign volume's bricks: brickyard's own directory-brick naming on /bricks/d0.
const FOREIGN_BRICK: &str = "/bricks/d0/handmade/s0p0";

const REP: &str = "
  rep:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
    options: { nfs.disable: \"on\" }
";

/// What must not change about the foreign volume: gluster's description of it (layout,
/// options, bricks) and, per node, every file and directory on its brick (checksums,
/// modes, owners) outside gluster's own `.glusterfs` bookkeeping.
fn fingerprint(nodes: &[&Node]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert(
        "volume info".into(),
        nodes[0].gluster(&["volume", "info", FOREIGN]),
    );
    out.insert(
        "volume options".into(),
        nodes[0].gluster(&["volume", "get", FOREIGN, "all"]),
    );
    for n in nodes {
        let listing = n.run_ok(&[
            "sh",
            "-c",
            "cd \"$1\" && find . -path ./.glusterfs -prune -o -printf '%y %m %u:%g %s %p\\n' | sort \
             && find . -path ./.glusterfs -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum",
            "sh",
            FOREIGN_BRICK,
        ]);
        out.insert(format!("{} brick", n.name), listing);
    }
    out
}

fn assert_same(before: &BTreeMap<String, String>, nodes: &[&Node], when: &str) {
    let after = fingerprint(nodes);
    for (k, v) in before {
        assert_eq!(Some(v), after.get(k), "{k} of {FOREIGN} changed {when}");
    }
}

/// A file under the node's own /etc (tier N nodes have a private /etc).
fn etc_file_absent(nodes: &[&Node], path: &str) {
    for n in nodes {
        let out = n.run(&["test", "-e", path]);
        assert!(
            !out.status.success(),
            "{path} exists on {}: a value reached gluster as an option",
            n.name
        );
    }
}

#[test]
fn a_hand_made_volume_stays_byte_identical_and_option_values_never_become_gluster_options() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    let nodes = env.nodes();
    for n in &nodes {
        n.run_ok(&["mkdir", "-p", "--", FOREIGN_BRICK]);
    }
    replica3_volume(
        &nodes,
        FOREIGN,
        FOREIGN_BRICK,
        &[("performance.cache-size", "32MB")],
    );
    wait_online(nodes[0], FOREIGN);
    drop(nodes);
    let fuse = env.mount(FOREIGN);
    let files = write_files(&fuse, FOREIGN);
    let nodes = env.nodes();
    let before = fingerprint(&nodes);

    // 1. A config with a volume of its own: created beside it, the foreign one listed.
    env.config(REP);
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode"]);
    assert!(
        so.contains("Not managed by brickyard") && so.contains(&format!("volume.{FOREIGN}")),
        "the plan lists the foreign volume as not managed:\n{so}"
    );
    env.apply_ok(&[]);
    env.assert_no_changes();
    assert_same(&before, &nodes, "by an apply that created another volume");

    // 2. Everything the config held is dropped, with --allow-destroy: only ours goes.
    env.config("");
    wait_online(nodes[0], "rep");
    let se = env.apply_ok(&["--allow-destroy"]);
    assert!(se.contains("volume.rep"), "{se}");
    assert_eq!(env.volumes(), vec![FOREIGN.to_string()]);
    assert_same(&before, &nodes, "by an --allow-destroy apply");

    // 3. A config that names it, present or absent: a blocker, never an adoption or a delete.
    for (state, what) in [("present", "declared"), ("absent", "declared absent")] {
        env.config(&format!(
            "\n  {FOREIGN}:\n    size: 1GiB\n    state: {state}\n    durability: {{ type: replicate, replica: 3 }}\n"
        ));
        let (so, _) = env.by_code(1, &["plan"]);
        assert!(
            so.contains(&format!("volume.{FOREIGN}")) && so.contains("foreign"),
            "{what}: the plan blocks on the foreign volume by name:\n{so}"
        );
        let (_, se) = env.by_code(1, &["apply", "--auto-approve", "--allow-destroy"]);
        assert!(se.contains("blocked"), "{what}: {se}");
        assert_same(
            &before,
            &nodes,
            &format!("by an apply of a config where it is {what}"),
        );
    }

    // 4. An option value from the config that gluster would parse as its --log-file.
    env.config(&REP.replace("nfs.disable: \"on\"", "nfs.disable: \"--log-file=/etc/x\""));
    let (so, _) = env.by_code(1, &["plan"]);
    assert!(so.contains("unsafe_value"), "{so}");
    env.by_code(1, &["apply", "--auto-approve"]);
    etc_file_absent(&nodes, "/etc/x");
    assert_eq!(env.volumes(), vec![FOREIGN.to_string()], "nothing created");

    // 5. The same through a node: another gluster admin records `--log-file=/etc/y` as a key
    //    brickyard set on our volume; dropping an option would reset the recorded keys.
    env.config(REP);
    env.apply_ok(&[]);
    wait_online(nodes[0], "rep");
    nodes[0].gluster(&[
        "volume",
        "set",
        "rep",
        "user.brickyard.options",
        "nfs.disable,--log-file=/etc/y",
    ]);
    env.config(&REP.replace("    options: { nfs.disable: \"on\" }\n", ""));
    let (so, _) = env.by_code(1, &["plan"]);
    assert!(so.contains("unsafe_value"), "{so}");
    env.by_code(1, &["apply", "--auto-approve"]);
    etc_file_absent(&nodes, "/etc/y");

    assert_same(&before, &nodes, "at the end");
    drop(nodes);
    assert_files(&files);
}
