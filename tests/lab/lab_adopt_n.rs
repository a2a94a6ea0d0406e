//! Adoption on real nodes (tier N): volumes made by hand with the gluster CLI, as an
//! operator or gluster-ansible leaves them (a replica 3 with a non-default option and a
//! plain distribute, bricks at `/bricks/dX/hand/<vol>`), holding files written through
//! FUSE. `brickyard import cluster` prints a config for them; without `adopt: true` the
//! plan refuses them by name; with it, the plan marks them and nothing else; then an
//! option change and an expansion through brickyard, the files identical throughout and
//! "No changes" at the end.

use std::time::Duration;

use crate::common::lab::{Lab, Tier, wait_for};
use crate::env_n::{Env, assert_files, wait_online, write_files};

/// The hand-made cluster: peers, brick directories, two volumes, an option, started.
fn build_by_hand(env: &Env) {
    let nodes = env.nodes();
    let n1 = nodes[0];
    for n in &nodes[1..] {
        n1.gluster(&["peer", "probe", &n.address]);
    }
    wait_for("peers connected", Duration::from_secs(60), || {
        let out = n1.gluster(&["pool", "list"]);
        out.lines().filter(|l| l.contains("Connected")).count() == nodes.len()
    });
    for n in &nodes {
        n.run_ok(&["mkdir", "-p", "/bricks/d0/hand/hv", "/bricks/d1/hand/hd"]);
    }
    let bricks =
        |p: &str| -> Vec<String> { nodes.iter().map(|n| format!("{}:{p}", n.address)).collect() };
    let hv = bricks("/bricks/d0/hand/hv");
    let hd = bricks("/bricks/d1/hand/hd");
    let mut create = vec!["volume", "create", "hv", "replica", "3"];
    create.extend(hv.iter().map(String::as_str));
    n1.gluster(&create);
    let mut create = vec!["volume", "create", "hd"];
    create.extend(hd.iter().map(String::as_str));
    n1.gluster(&create);
    n1.gluster(&["volume", "set", "hv", "performance.cache-size", "64MB"]);
    n1.gluster(&["volume", "start", "hv"]);
    n1.gluster(&["volume", "start", "hd"]);
}

#[test]
fn hand_made_volumes_are_imported_adopted_then_changed_and_grown() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    build_by_hand(&env);
    wait_online(env.nodes()[0], "hv");
    wait_online(env.nodes()[0], "hd");
    let hv_mnt = env.mount("hv");
    let hd_mnt = env.mount("hd");
    let n1 = env.nodes()[0];
    let mut files = write_files(&hv_mnt, "hv");
    files.extend(write_files(&hd_mnt, "hd"));

    // the seed names the nodes only; import prints the rest
    env.config("");
    let (imported, se) = env.by_code(0, &["import", "cluster"]);
    assert!(se.contains("for 2 volume(s)"), "{se}");
    for want in [
        "adopt: true",
        r#"options: { "performance.cache-size": "64MB" }"#,
        r#"durability: { type: "none" }"#,
        "made outside brickyard (Replicate, 3 bricks)",
    ] {
        assert!(
            imported.contains(want),
            "import does not say {want:?}:\n{imported}"
        );
    }
    // what `volume create` set by itself is no declaration
    assert!(!imported.contains("nfs.disable"), "{imported}");

    // without `adopt`, a hand-made volume the config names is refused by name
    std::fs::write(env.cfg(), imported.replace("adopt: true", "adopt: false"))
        .expect("write config");
    let (so, _) = env.by_code(1, &["plan"]);
    assert!(so.contains("[foreign_volume] volume.hv"), "{so}");
    assert!(so.contains("adopt: true"), "{so}");

    // import declares the most the bricks' filesystems hold (three filesystems of about
    // 4 GiB); these share them with other bricks, so the operator says less, which
    // adoption accepts (a volume may hold more than declared, never less)
    let hd_size = size_line(&imported, "hd");
    assert!(hd_size.contains("MiB"), "{hd_size}");
    let sized = |s: &str| format!("    size: \"{s}\"");
    let imported = imported.replace(&hd_size, &sized("3GiB"));
    std::fs::write(env.cfg(), &imported).expect("write config");
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("# volume.hv will be adopted"), "{so}");
    assert!(so.contains("# volume.hd will be adopted"), "{so}");
    let (json, _) = env.by_code(0, &["plan", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(&json).expect("plan JSON");
    let steps = plan["steps"].as_array().expect("steps");
    let other: Vec<&str> = steps
        .iter()
        .filter(|s| {
            s["action"] != "adopt" && !s["id"].as_str().unwrap_or("").contains("cluster-id")
        })
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(other.is_empty(), "not adoption: {other:?}");
    let info_before = n1.gluster(&["volume", "info", "hd"]);
    env.apply_ok(&[]);
    env.assert_no_changes();
    assert_files(&files);
    // adoption marked, it moved nothing: same bricks, hand-set option kept
    let info = n1.gluster(&["volume", "info", "hd"]);
    let bricks = |i: &str| -> Vec<String> {
        i.lines()
            .filter(|l| l.starts_with("Brick") && l.contains(':') && !l.starts_with("Bricks"))
            .map(String::from)
            .collect()
    };
    assert_eq!(bricks(&info), bricks(&info_before));
    assert!(info.contains("user.brickyard.cluster: labapply"), "{info}");
    for n in env.nodes() {
        let mark = n.run_ok(&[
            "getfattr",
            "--only-values",
            "-n",
            "trusted.brickyard.brick",
            "--",
            "/bricks/d0/hand/hv",
        ]);
        assert!(mark.starts_with("labapply/hv/s0p"), "{}: {mark}", n.name);
    }

    // from now on ours: an option change and one more set of the distribute
    let changed = imported
        .replace(
            r#""performance.cache-size": "64MB""#,
            r#""performance.cache-size": "128MB""#,
        )
        .replace(&sized("3GiB"), &sized("4GiB"));
    std::fs::write(env.cfg(), &changed).expect("write config");
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("performance.cache-size"), "{so}");
    assert!(so.contains("add-brick"), "{so}");
    assert!(!so.contains("will be adopted"), "{so}");
    env.apply_ok(&[]);
    env.assert_no_changes();
    let info = n1.gluster(&["volume", "info", "hv"]);
    assert!(info.contains("performance.cache-size: 128MB"), "{info}");
    let info = n1.gluster(&["volume", "info", "hd"]);
    assert_eq!(bricks(&info).len(), 4, "{info}");
    assert_files(&files);
    // new files land on the new brick too, and all read back
    let more = write_files(&hd_mnt, "after");
    assert_files(&more);
    assert_files(&files);
}

/// The `size:` line of volume `vol` in the imported YAML.
fn size_line(yaml: &str, vol: &str) -> String {
    let start = yaml
        .find(&format!("\n  \"{vol}\":\n"))
        .unwrap_or_else(|| panic!("no volume {vol}:\n{yaml}"));
    yaml[start..]
        .lines()
        .find(|l| l.trim_start().starts_with("size:"))
        .unwrap_or_else(|| panic!("no size for {vol}:\n{yaml}"))
        .to_string()
}
