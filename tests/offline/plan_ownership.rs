//! Ownership is proven per brick, from facts, before any mutating step (issue "trust
//! review findings 1, 2, 5"). The review's crafted inputs, rebuilt by changing one thing
//! in the shared scenarios: a marked volume whose bricks are system paths or foreign
//! LVs, an unmarked foreign volume whose brick names loosely look like ours, an untagged
//! LV that carries our name. Every test looks at the full argv list of the plan
//! (runnable and blocked steps) and at the blocker codes.

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{Plan, PlanOptions, plan};
use serde_json::{Value, json};

const CONVERGED: &str = include_str!("../../testdata/plan/_shared/gfs3-converged.facts.json");
const WITH_GFS: &str = include_str!("../../testdata/plan/_shared/gfs3-volume-gfs.desired.json");
const NO_VOLUMES: &str = include_str!("../../testdata/plan/_shared/gfs3-no-volumes.desired.json");
const HALF_APPLIED: &str = include_str!("../../testdata/plan/half_applied/facts.json");
const DIR_FACTS: &str = include_str!("../../testdata/plan/directory_bricks/facts.json");
const DIR_DESIRED: &str =
    include_str!("../../testdata/plan/_shared/gfs3-directory-bricks.desired.json");

const HOSTS: [&str; 3] = ["10.99.0.11", "10.99.0.12", "10.99.0.13"];
const NODES: [&str; 3] = ["gfs1", "gfs2", "gfs3"];

fn parse(s: &str) -> Value {
    serde_json::from_str(s).expect("json")
}

fn run(desired: &Value, facts: &Value, allow_destroy: bool) -> Plan {
    let d: Desired = serde_json::from_value(desired.clone()).expect("desired");
    let o: Observed = serde_json::from_value(facts.clone()).expect("facts");
    let opts = PlanOptions {
        allow_destroy,
        ..PlanOptions::default()
    };
    plan(&d, &o, &opts)
}

/// Every command of the plan, runnable or blocked, as argv.
fn commands(p: &Plan) -> Vec<Vec<String>> {
    p.steps
        .iter()
        .chain(&p.blocked_steps)
        .flat_map(|s| s.commands.iter().cloned())
        .collect()
}

fn argvs(p: &Plan) -> Vec<String> {
    commands(p).iter().map(|c| c.join(" ")).collect()
}

fn codes(p: &Plan) -> Vec<String> {
    p.blockers.iter().map(|b| b.code.to_string()).collect()
}

/// No command whose program is one of `programs`.
fn no_program(p: &Plan, programs: &[&str]) {
    for c in commands(p) {
        assert!(
            !programs.contains(&c[0].as_str()),
            "{c:?} in {:?}",
            argvs(p)
        );
    }
}

/// Every command (runnable or blocked) on `node` other than gluster's (the runner's).
/// The commands of the node-local steps on `node` (a gluster step runs on the runner
/// for the whole cluster: left out).
fn on_node(p: &Plan, node: &str) -> Vec<Vec<String>> {
    p.steps
        .iter()
        .chain(&p.blocked_steps)
        .filter(|s| s.node == node && !s.commands.iter().any(|c| c[0] == "gluster"))
        .flat_map(|s| s.commands.iter().cloned())
        .collect()
}

fn no_argv(p: &Plan, needle: &str) {
    let all = argvs(p);
    assert!(!all.iter().any(|a| a.contains(needle)), "{needle}: {all:?}");
}

fn node<'a>(facts: &'a mut Value, n: &str) -> &'a mut Value {
    &mut facts["nodes"][n]
}

/// Volume `gfs` as the runner (gfs1) reports it.
fn volume(facts: &mut Value) -> &mut Value {
    node(facts, "gfs1")["volumes"]
        .as_array_mut()
        .and_then(|v| v.iter_mut().find(|v| v["name"] == "gfs"))
        .expect("volume gfs")
}

/// Gluster reports these brick paths for volume `gfs` (one per node, in order).
fn set_brick_paths(facts: &mut Value, paths: [&str; 3]) {
    let v = volume(facts);
    for (i, path) in paths.iter().enumerate() {
        v["bricks"][i]["path"] = (*path).into();
        v["bricks"][i]["name"] = format!("{}:{path}", HOSTS[i]).into();
    }
}

/// Volume `gfs` becomes the unmarked volume `data`. gfs's own brick LVs go with it (else
/// they are the bricks of a volume that is gone, which `volume::leftover` tears down).
fn foreign_data(facts: &mut Value, paths: [&str; 3]) {
    for n in ["gfs1", "gfs2", "gfs3"] {
        let nf = node(facts, n);
        if let Some(lvs) = nf["lvs"].as_array_mut() {
            lvs.retain(|l| {
                !l["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "brickyard.volume=gfs"))
            });
        }
        for k in ["mounts", "fstab"] {
            if let Some(a) = nf[k].as_array_mut() {
                a.retain(|m| {
                    !m["target"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("/var/lib/brickyard/mounts/"))
                });
            }
        }
    }
    set_brick_paths(facts, paths);
    let v = volume(facts);
    v["name"] = "data".into();
    let o = v["options"].as_object_mut().expect("options");
    o.retain(|k, _| !k.starts_with("user.brickyard."));
}

/// The config declares volume `data` (the `gfs` definition renamed) in `state`.
fn declare_data(desired: &mut Value, kind: &str, state: &str) {
    let mut vol = desired["volumes"]["gfs"].take();
    vol["brick_kind"] = kind.into();
    vol["state"] = state.into();
    desired["volumes"] = json!({ "data": vol });
}

fn dropped_with_allow_destroy(facts: &Value) -> Plan {
    run(&parse(NO_VOLUMES), facts, true)
}

/// Finding 1: a marked volume whose bricks are `/`, `/etc` and a `..` path under the
/// mount root was torn down with `rm -rf -- /etc`, `umount` and `lvremove` of the path.
#[test]
fn finding_1_marked_volume_with_system_paths_is_blocked_not_torn_down() {
    let mut f = parse(CONVERGED);
    set_brick_paths(
        &mut f,
        ["/", "/etc", "/var/lib/brickyard/mounts/../../../../srv"],
    );
    let p = dropped_with_allow_destroy(&f);
    assert_eq!(argvs(&p), Vec::<String>::new(), "nothing at all is planned");
    assert_eq!(codes(&p), vec!["ownership_unproven"; 3]);
    for (b, path) in p.blockers.iter().zip(["/", "/etc", "../../../../srv"]) {
        assert!(b.message.contains(path), "{}", b.message);
        assert!(
            b.message.contains("is not one brickyard derives"),
            "{}",
            b.message
        );
    }
    // declared, with a changed option: no update either
    let mut d = parse(WITH_GFS);
    d["volumes"]["gfs"]["options"]["performance.cache-size"] = "512MB".into();
    let p = run(&d, &f, false);
    assert_eq!(argvs(&p), Vec::<String>::new());
    assert_eq!(codes(&p), vec!["ownership_unproven"; 3]);
}

/// Finding 1: a brick path under the mount root naming a foreign, untagged LV
/// (`rootvg/home`) gave `umount .../rootvg/home` and `lvremove -f rootvg/home`.
#[test]
fn finding_1_mount_naming_a_foreign_untagged_lv_is_never_removed() {
    let mut f = parse(CONVERGED);
    let g1 = node(&mut f, "gfs1");
    g1["vgs"].as_array_mut().expect("vgs").push(json!({
        "name": "rootvg", "size": 53687091200u64, "free": 0, "extent_size": 4194304,
        "extent_count": 12800, "free_count": 0, "pv_count": 1, "lv_count": 1, "tags": []
    }));
    for name in ["home", "brick_gfs_0_0"] {
        g1["lvs"].as_array_mut().expect("lvs").push(json!({
            "name": name, "vg": "rootvg", "size": 53687091200u64, "attr": "-wi-ao----",
            "pool": null, "data_percent": null, "metadata_percent": null,
            "metadata_size": null, "tags": [], "path": format!("/dev/rootvg/{name}")
        }));
    }
    g1["mounts"].as_array_mut().expect("mounts").push(json!({
        "target": "/var/lib/brickyard/mounts/rootvg/home", "source": "/dev/mapper/rootvg-home",
        "fstype": "xfs", "options": "rw", "size": null, "avail": null
    }));
    let ours = [
        "/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_1/brick",
        "/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_2/brick",
    ];
    for (first, why) in [
        (
            "/var/lib/brickyard/mounts/rootvg/home/brick",
            "is not one brickyard derives",
        ),
        // our LV name in a foreign VG: found by name, refused on its tags
        (
            "/var/lib/brickyard/mounts/rootvg/brick_gfs_0_0/brick",
            "is not a thin LV in pool rootvg/tp_gfs_0_0",
        ),
    ] {
        let mut f = f.clone();
        set_brick_paths(&mut f, [first, ours[0], ours[1]]);
        let p = dropped_with_allow_destroy(&f);
        assert_eq!(argvs(&p), Vec::<String>::new(), "{first}");
        assert_eq!(codes(&p), vec!["ownership_unproven"], "{first}");
        assert_eq!(p.blockers[0].address.to_string(), "brick.gfs[0][0]");
        assert!(
            p.blockers[0].message.contains(why),
            "{}",
            p.blockers[0].message
        );
    }
}

/// Finding 1: node data starting with `-` became an LVM option
/// (`lvremove -f '--select=lv_name=~./x'`).
#[test]
fn finding_1_lv_path_starting_with_a_dash_is_never_an_option() {
    let mut f = parse(CONVERGED);
    set_brick_paths(
        &mut f,
        [
            "/var/lib/brickyard/mounts/--select=lv_name=~./x/brick",
            "/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_1/brick",
            "/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_2/brick",
        ],
    );
    let p = dropped_with_allow_destroy(&f);
    no_argv(&p, "--select");
    no_program(&p, &["lvremove", "umount", "rmdir", "rm"]);
    assert_eq!(codes(&p), vec!["ownership_unproven"]);
}

/// The positive side: a proven volume the config dropped is still torn down in full,
/// with the names of its proven LVs, and `--` ends the options of every command that
/// takes a path or LV name.
#[test]
fn finding_1_proven_volume_dropped_plans_its_full_teardown_with_double_dash() {
    let p = dropped_with_allow_destroy(&parse(CONVERGED));
    assert!(p.blockers.is_empty(), "{:?}", codes(&p));
    let all = argvs(&p);
    for (i, n) in NODES.iter().enumerate() {
        let mnt = format!("/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_{i}");
        for want in [
            format!("umount -- {mnt}"),
            format!("lvremove -f -- by_sdb/brick_gfs_0_{i}"),
            format!("lvremove -f -- by_sdb/tp_gfs_0_{i}"),
            format!("rmdir -- {mnt}"),
        ] {
            assert!(all.contains(&want), "{n}: {want} in {all:?}");
        }
        // the fstab line removed is the marked one
        assert!(
            commands(&p).iter().any(|c| c[0] == "sh"
                && c.iter().any(|a| a.contains("grep -vxF"))
                && c.last()
                    .is_some_and(|l| l.contains(&mnt) && l.contains("x-brickyard.cluster=prod"))),
            "{all:?}"
        );
    }
    assert!(all.iter().any(|a| a.ends_with("volume delete gfs")));
    for c in commands(&p) {
        if ["lvremove", "umount", "rmdir", "mount", "rm", "mkdir"].contains(&c[0].as_str()) {
            assert!(c.iter().any(|a| a == "--"), "{c:?}");
        }
    }
}

/// Finding 2: an unmarked volume `data` with bricks `/srv/data/snapshots` matched the
/// loose "ours" test and was adopted (`volume set data user.brickyard.cluster prod`).
#[test]
fn finding_2_unmarked_foreign_volume_present_is_blocked_not_adopted() {
    let mut f = parse(CONVERGED);
    foreign_data(&mut f, ["/srv/data/snapshots"; 3]);
    let mut d = parse(WITH_GFS);
    declare_data(&mut d, "lvm", "present");
    let p = run(&d, &f, false);
    assert_eq!(argvs(&p), Vec::<String>::new());
    assert_eq!(codes(&p), vec!["foreign_volume"]);
    let help = p.blockers[0].help.clone().unwrap_or_default();
    assert!(!help.contains("gluster volume set"), "{help}");
    assert!(help.contains("adopt: true"), "{help}");
    assert!(
        p.foreign
            .iter()
            .any(|x| x.address.to_string() == "volume.data")
    );
}

/// Finding 2: the same volume with `state: absent` and `--allow-destroy` was stopped,
/// deleted, and its bricks removed with `rm -rf`.
#[test]
fn finding_2_unmarked_foreign_volume_absent_deletes_nothing() {
    let mut f = parse(CONVERGED);
    foreign_data(&mut f, ["/srv/data/snapshots"; 3]);
    let mut d = parse(WITH_GFS);
    declare_data(&mut d, "lvm", "absent");
    let p = run(&d, &f, true);
    assert_eq!(argvs(&p), Vec::<String>::new());
    // and it is said: declared absent but foreign is a blocker, never "No changes"
    assert_eq!(codes(&p), vec!["foreign_conflict".to_string()]);
    assert!(
        p.blockers[0].message.contains("will not delete it"),
        "{}",
        p.blockers[0].message
    );
}

fn dir_brick_facts(facts: &mut Value, mark: impl Fn(usize) -> Option<String>) {
    foreign_data(
        facts,
        ["/srv/data/s0p0", "/srv/data/s0p1", "/srv/data/s0p2"],
    );
    for (i, n) in NODES.iter().enumerate() {
        let g = node(facts, n);
        g["paths"] = json!({ "/srv": {
            "exists": true, "mount_target": "/srv", "fstype": "xfs",
            "total": 107374182400u64, "free": 96636764160u64
        }});
        g["brick_dirs"] = json!([{
            "path": format!("/srv/data/s0p{i}"), "kind": "directory", "mark": mark(i)
        }]);
    }
}

fn declare_dir_data(desired: &mut Value, state: &str) {
    declare_data(desired, "directory", state);
    for n in NODES {
        desired["nodes"][n]["paths"] = json!([{ "path": "/srv", "tags": {} }]);
    }
}

/// Finding 2: even bricks at exactly the derived directory path are no proof: without
/// the mark brickyard writes right after mkdir, the volume is foreign.
#[test]
fn finding_2_unmarked_volume_with_unmarked_directory_bricks_is_foreign() {
    let mut f = parse(CONVERGED);
    dir_brick_facts(&mut f, |_| None);
    let mut d = parse(WITH_GFS);
    declare_dir_data(&mut d, "present");
    let p = run(&d, &f, false);
    no_argv(&p, "volume set data");
    assert!(
        codes(&p).contains(&"foreign_volume".to_string()),
        "{:?}",
        codes(&p)
    );
    let mut d = parse(WITH_GFS);
    declare_dir_data(&mut d, "absent");
    let p = run(&d, &f, true);
    assert_eq!(argvs(&p), Vec::<String>::new());
}

/// The one exception: a create killed between `volume create` and the marker. Its
/// directory bricks carry their marks, so the plan sets the marker (and deletes it, when
/// the config says `state: absent`, with `--allow-destroy`).
#[test]
fn finding_2_unmarked_volume_with_marked_directory_bricks_gets_its_marker() {
    let mut f = parse(CONVERGED);
    dir_brick_facts(&mut f, |i| Some(format!("prod/data/s0p{i}")));
    let mut d = parse(WITH_GFS);
    declare_dir_data(&mut d, "present");
    let p = run(&d, &f, false);
    assert!(
        argvs(&p)
            .iter()
            .any(|a| a
                .starts_with("gluster --mode=script volume set data user.brickyard.cluster prod ")),
        "{:?}",
        argvs(&p)
    );
    assert!(!codes(&p).iter().any(|c| c.starts_with("foreign_")));
    let mut d = parse(WITH_GFS);
    declare_dir_data(&mut d, "absent");
    let p = run(&d, &f, true);
    for i in 0..3 {
        let want = format!("rm -rf --one-file-system -- /srv/data/s0p{i}");
        assert!(argvs(&p).contains(&want), "{want}: {:?}", argvs(&p));
    }
    // one brick marked for another cluster: foreign again, nothing deleted
    let mut f = parse(CONVERGED);
    dir_brick_facts(&mut f, |i| {
        Some(if i == 1 {
            "other/data/s0p1".into()
        } else {
            format!("prod/data/s0p{i}")
        })
    });
    let p = run(&d, &f, true);
    assert_eq!(argvs(&p), Vec::<String>::new());
}

/// Finding 2 (the other loose match): volume `a` claimed the LVs of volume `a_b`.
#[test]
fn finding_2_lv_prefix_of_another_volume_is_no_proof() {
    // `brick_data_x_0_0` starts with `brick_data_`: the old prefix test said "ours"
    let mut f = parse(CONVERGED);
    foreign_data(
        &mut f,
        [
            "/var/lib/brickyard/mounts/by_sdb/brick_data_x_0_0/brick",
            "/var/lib/brickyard/mounts/by_sdb/brick_data_x_0_1/brick",
            "/var/lib/brickyard/mounts/by_sdb/brick_data_x_0_2/brick",
        ],
    );
    let mut d = parse(WITH_GFS);
    declare_data(&mut d, "lvm", "present");
    let p = run(&d, &f, false);
    no_argv(&p, "volume set data");
    assert!(
        codes(&p).contains(&"foreign_volume".to_string()),
        "{:?}",
        codes(&p)
    );
}

/// Finding 5: an existing LV with our name but not our tags was "skipped" by lvcreate
/// and then formatted by `mkfs.xfs`, although the plan listed it as never touched.
#[test]
fn finding_5_untagged_lv_with_our_name_is_blocked_not_formatted() {
    let base = parse(HALF_APPLIED);
    let untagged = |lv: &mut Value| lv["tags"] = json!([]);
    let not_thin = |lv: &mut Value| {
        lv["attr"] = "-wi-a-----".into();
        lv["pool"] = Value::Null;
    };
    type Change = dyn Fn(&mut Value);
    let cases: [(&str, &Change, &str); 3] = [
        (
            "brick_gfs_0_",
            &untagged,
            "lacks the tag brickyard.cluster=prod",
        ),
        ("brick_gfs_0_", &not_thin, "is not a thin LV in pool"),
        (
            "tp_gfs_0_",
            &untagged,
            "lacks the tag brickyard.cluster=prod",
        ),
    ];
    // gfs2 holds a pool and an LV named for every position of set 0, so whichever one
    // placement gives it, it meets an LV with our name; `change` makes them not ours
    let lvs = node(&mut base.clone(), "gfs2")["lvs"].clone();
    for (prefix, change, why) in cases {
        let mut f = base.clone();
        let mut all = Vec::new();
        for pos in 0..3 {
            for lv in lvs.as_array().expect("lvs") {
                let mut lv = lv.clone();
                let name = lv["name"]
                    .as_str()
                    .unwrap_or_default()
                    .replace("_0_1", &format!("_0_{pos}"));
                lv["name"] = name.clone().into();
                if lv["pool"].is_string() {
                    lv["pool"] = format!("tp_gfs_0_{pos}").into();
                }
                lv["tags"][3] = format!("brickyard.pos={pos}").into();
                if name.starts_with(prefix) {
                    change(&mut lv);
                }
                all.push(lv);
            }
        }
        node(&mut f, "gfs2")["lvs"] = Value::Array(all);
        let p = run(&parse(WITH_GFS), &f, false);
        assert_eq!(on_node(&p, "gfs2"), Vec::<Vec<String>>::new(), "{prefix}");
        assert!(
            !p.steps.iter().any(|s| s.node == "gfs2"),
            "{prefix}: nothing runs on gfs2: {:?}",
            argvs(&p)
        );
        assert!(
            !p.steps
                .iter()
                .any(|s| s.commands.iter().any(|c| c.contains(&"create".to_string()))),
            "{prefix}: the volume is not created"
        );
        let b = p
            .blockers
            .iter()
            .find(|b| b.code.to_string() == "ownership_unproven")
            .unwrap_or_else(|| panic!("{prefix}: {:?}", codes(&p)));
        assert!(
            b.address.to_string().starts_with("brick.gfs[0]"),
            "{}",
            b.address
        );
        assert!(b.message.contains("node gfs2"), "{prefix}: {}", b.message);
        assert!(b.message.contains(why), "{prefix}: {}", b.message);
    }
    // untouched, the half-applied brick is reused: no lvcreate on gfs2, one mkfs (guarded)
    let p = run(&parse(WITH_GFS), &base, false);
    assert!(p.blockers.is_empty(), "{:?}", codes(&p));
    assert!(
        argvs(&p)
            .iter()
            .any(|a| a.starts_with("mkfs.xfs") && a.contains("brick_gfs_0_1"))
    );
}

/// Finding 5 for directory bricks: an existing directory without our mark at the path a
/// new brick would use may be anyone's data; it is never marked or used.
#[test]
fn finding_5_existing_unmarked_directory_is_never_marked() {
    let mut f = parse(DIR_FACTS);
    node(&mut f, "gfs1")["brick_dirs"] = json!([{
        "path": "/srv/bricks/shared/s0p0", "kind": "directory", "mark": null
    }]);
    let p = run(&parse(DIR_DESIRED), &f, false);
    // no step for that directory at all (gfs1 gets none); the others are held back
    no_argv(&p, "-- /srv/bricks/shared/s0p0");
    assert_eq!(on_node(&p, "gfs1"), Vec::<Vec<String>>::new());
    assert!(
        codes(&p).contains(&"ownership_unproven".to_string()),
        "{:?}",
        codes(&p)
    );
    assert!(
        p.steps.iter().all(|s| s.id.ends_with("/probe")),
        "only peer probes run: {:?}",
        p.steps
    );
    // a symlink there is refused too; a marked directory is reused (no mkdir, no mark)
    node(&mut f, "gfs1")["brick_dirs"][0]["kind"] = "symlink".into();
    let p = run(&parse(DIR_DESIRED), &f, false);
    assert!(codes(&p).contains(&"ownership_unproven".to_string()));
    node(&mut f, "gfs1")["brick_dirs"][0]["kind"] = "directory".into();
    node(&mut f, "gfs1")["brick_dirs"][0]["mark"] = "prod/shared/s0p0".into();
    let p = run(&parse(DIR_DESIRED), &f, false);
    assert!(p.blockers.is_empty(), "{:?}", codes(&p));
    no_argv(&p, "mkdir -p -- /srv/bricks/shared/s0p0");
    no_argv(&p, "-- /srv/bricks/shared/s0p0");
    assert!(
        argvs(&p)
            .iter()
            .any(|a| a.contains("setfattr") && a.contains("s0p1"))
    );
}

/// Finding 1/5 for remount: a lost mount is mounted again only for a proven brick.
#[test]
fn finding_5_remount_only_of_a_proven_lv() {
    let mut f = parse(CONVERGED);
    node(&mut f, "gfs1")["mounts"] = json!([]);
    let p = run(&parse(WITH_GFS), &f, false);
    assert!(
        argvs(&p).iter().any(|a| a.starts_with("mount -o")
            && a.ends_with(
                "-- /dev/by_sdb/brick_gfs_0_0 /var/lib/brickyard/mounts/by_sdb/brick_gfs_0_0"
            )),
        "{:?}",
        argvs(&p)
    );
    for lv in node(&mut f, "gfs1")["lvs"].as_array_mut().expect("lvs") {
        lv["tags"] = json!(["brickyard.cluster=prod"]);
    }
    let p = run(&parse(WITH_GFS), &f, false);
    no_program(&p, &["mount", "mkfs.xfs"]);
    assert_eq!(codes(&p), vec!["ownership_unproven"]);
}

/// The directory-brick step as it runs: the mkdir step of a planned directory brick, run
/// by the real `sh` on a scratch path (its last word), makes the directory with its mark
/// in one rename, so its guard (the mark) holds after it; and interrupted before the
/// rename (simulated by a failing `mv`) it leaves no directory of the brick's name, which
/// the proof would otherwise refuse forever as an unmarked directory.
#[test]
fn a_directory_brick_appears_only_with_its_mark() {
    if std::process::Command::new("setfattr")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("setfattr (Debian package attr) is needed for this test");
    }
    let p = run(&parse(DIR_DESIRED), &parse(DIR_FACTS), false);
    let step = p
        .steps
        .iter()
        .find(|s| s.id.ends_with("/mkdir") && s.node == "gfs1")
        .unwrap_or_else(|| panic!("{:?}", p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()));
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path().join("shared/s0p0");
    let with_dir = |argv: &[String]| -> Vec<String> {
        let mut a = argv.to_vec();
        *a.last_mut().expect("argv") = dir.display().to_string();
        a
    };
    let run_sh = |argv: &[String], path: Option<&std::path::Path>| {
        let mut c = std::process::Command::new(&argv[0]);
        c.args(&argv[1..]);
        if let Some(p) = path {
            c.env("PATH", p);
        }
        c.status().expect("run sh")
    };
    assert_eq!(step.commands.len(), 1, "one command: {:?}", step.commands);
    // a failing mv: nothing of the brick's name appears
    let stub = tempfile::tempdir().expect("stub dir");
    std::fs::write(stub.path().join("mv"), "#!/bin/sh\nexit 1\n").expect("stub");
    std::fs::set_permissions(
        stub.path().join("mv"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod stub");
    let path = format!("{}:/usr/bin:/bin", stub.path().display());
    let st = run_sh(
        &with_dir(&step.commands[0]),
        Some(std::path::Path::new(&path)),
    );
    assert!(!st.success());
    assert!(
        !dir.exists(),
        "no unmarked brick directory after an interrupted step"
    );
    // for real: the directory exists, 0755, and the guard (its mark) holds
    assert!(run_sh(&with_dir(&step.commands[0]), None).success());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&dir).expect("brick dir").permissions(),
    );
    assert_eq!(mode & 0o777, 0o755);
    assert!(
        run_sh(&with_dir(&step.guard.argv), None).success(),
        "the guard sees the mark"
    );
}
