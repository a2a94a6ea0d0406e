//! The trust boundary as a property (issue "Trust boundary"): on random and adversarial
//! `Observed` (the converged three-node capture mutated with the hostile strings of
//! testdata/adversarial/strings.txt: odd paths, foreign and colliding names, forged tags,
//! fstab lines and option values) the planner never panics, and every mutating command
//! of every runnable step targets something whose ownership the facts prove, or that an
//! earlier step of the same plan creates. The oracle below is written from the ownership
//! rules of docs/trust.md, independently of the planner's own proof code.

use std::collections::{BTreeMap, BTreeSet};

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{Plan, PlanOptions, plan};
use proptest::prelude::*;
use serde_json::{Value, json};

const FACTS: &str = include_str!("../../testdata/plan/_shared/gfs3-converged.facts.json");
const DESIRED: &str = include_str!("../../testdata/plan/_shared/gfs3-volume-gfs.desired.json");
const STRINGS: &str = include_str!("../../testdata/adversarial/strings.txt");
const CLUSTER: &str = "prod";
const MOUNT_ROOT: &str = "/var/lib/brickyard/mounts/";
const NODES: [&str; 3] = ["gfs1", "gfs2", "gfs3"];

/// The corpus, unescaped.
fn corpus() -> Vec<String> {
    STRINGS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(unescape)
        .collect()
}

fn unescape(l: &str) -> String {
    let mut out = String::new();
    let mut rest = l;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let (c, used) = match tail.chars().next() {
            Some('n') => ('\n', 1),
            Some('t') => ('\t', 1),
            Some('e') => ('\u{1b}', 1),
            Some('u') if tail.starts_with("u{") => {
                let end = tail.find('}').expect("corpus: unterminated \\u{");
                let code = u32::from_str_radix(&tail[2..end], 16).expect("corpus: hex");
                (char::from_u32(code).expect("corpus: char"), end + 1)
            }
            _ => ('\\', 0),
        };
        out.push(c);
        rest = &tail[used..];
    }
    out.push_str(rest);
    out
}

/// One change to the facts, with indexes and corpus picks chosen by proptest.
#[derive(Debug, Clone)]
enum Mutation {
    /// gluster's path of brick `i` of `gfs` (as every node reports the volume).
    BrickPath(usize, usize),
    /// Replace LV `i`'s tag `j` on node `n` by a corpus string, or drop it.
    LvTag(usize, usize, usize, Option<usize>),
    /// Rename LV `i` of node `n` (name or VG).
    LvName(usize, usize, usize, bool),
    /// Replace the VG's tags on node `n`.
    VgTag(usize, usize),
    /// Remove or change the volume marker of `gfs`.
    Marker(Option<usize>),
    /// A second volume with three bricks from the corpus, marked ours or not.
    ForeignVolume(usize, [usize; 3], bool),
    /// The fstab line of node `n`: its text or its target.
    Fstab(usize, usize, bool),
    /// A recorded option key and value on `gfs`.
    Option(usize, usize),
    /// `user.brickyard.brick-size` of `gfs`.
    BrickSize(usize),
    /// A mount target of node `n`.
    Mount(usize, usize),
}

fn mutation(n: usize) -> impl Strategy<Value = Mutation> {
    let s = 0..n;
    let node = 0usize..3;
    prop_oneof![
        (0usize..3, s.clone()).prop_map(|(i, v)| Mutation::BrickPath(i, v)),
        (
            node.clone(),
            0usize..6,
            0usize..4,
            prop::option::of(s.clone())
        )
            .prop_map(|(n, i, j, v)| Mutation::LvTag(n, i, j, v)),
        (node.clone(), 0usize..6, s.clone(), any::<bool>())
            .prop_map(|(n, i, v, vg)| Mutation::LvName(n, i, v, vg)),
        (node.clone(), s.clone()).prop_map(|(n, v)| Mutation::VgTag(n, v)),
        prop::option::of(s.clone()).prop_map(Mutation::Marker),
        (s.clone(), [s.clone(), s.clone(), s.clone()], any::<bool>())
            .prop_map(|(name, b, marked)| Mutation::ForeignVolume(name, b, marked)),
        (node.clone(), s.clone(), any::<bool>()).prop_map(|(n, v, t)| Mutation::Fstab(n, v, t)),
        (s.clone(), s.clone()).prop_map(|(k, v)| Mutation::Option(k, v)),
        s.clone().prop_map(Mutation::BrickSize),
        (node, s).prop_map(|(n, v)| Mutation::Mount(n, v)),
    ]
}

fn volumes_mut(facts: &mut Value) -> Vec<&mut Value> {
    facts["nodes"]
        .as_object_mut()
        .expect("nodes")
        .values_mut()
        .flat_map(|n| n["volumes"].as_array_mut().into_iter().flatten())
        .collect()
}

fn node_mut(facts: &mut Value, n: usize) -> &mut Value {
    &mut facts["nodes"][NODES[n]]
}

fn apply_mutation(facts: &mut Value, m: &Mutation, c: &[String]) {
    match m {
        Mutation::BrickPath(i, v) => {
            for vol in volumes_mut(facts) {
                if vol["name"] == "gfs"
                    && let Some(b) = vol["bricks"].get_mut(*i)
                {
                    let host = b["host"].as_str().unwrap_or_default().to_string();
                    b["path"] = c[*v].clone().into();
                    b["name"] = format!("{host}:{}", c[*v]).into();
                }
            }
        }
        Mutation::LvTag(n, i, j, v) => {
            if let Some(lv) = node_mut(facts, *n)["lvs"].get_mut(*i)
                && let Some(tags) = lv["tags"].as_array_mut()
                && *j < tags.len()
            {
                match v {
                    Some(v) => tags[*j] = c[*v].clone().into(),
                    None => {
                        tags.remove(*j);
                    }
                }
            }
        }
        Mutation::LvName(n, i, v, vg) => {
            if let Some(lv) = node_mut(facts, *n)["lvs"].get_mut(*i) {
                lv[if *vg { "vg" } else { "name" }] = c[*v].clone().into();
            }
        }
        Mutation::VgTag(n, v) => {
            if let Some(vg) = node_mut(facts, *n)["vgs"].get_mut(0) {
                vg["tags"] = json!([c[*v]]);
            }
        }
        Mutation::Marker(v) => {
            for vol in volumes_mut(facts) {
                if vol["name"] == "gfs" {
                    let o = vol["options"].as_object_mut().expect("options");
                    match v {
                        Some(v) => o.insert("user.brickyard.cluster".into(), c[*v].clone().into()),
                        None => o.remove("user.brickyard.cluster"),
                    };
                }
            }
        }
        Mutation::ForeignVolume(name, bricks, marked) => {
            let mut options = serde_json::Map::new();
            if *marked {
                options.insert("user.brickyard.cluster".into(), CLUSTER.into());
            }
            let bricks: Vec<Value> = bricks
                .iter()
                .enumerate()
                .map(|(k, b)| {
                    let host = format!("10.99.0.{}", 11 + k);
                    json!({"host": host, "host_uuid": null, "is_arbiter": false,
                           "name": format!("{host}:{}", c[*b]), "path": c[*b], "online": true,
                           "port": null, "size_free": null, "size_total": null})
                })
                .collect();
            let vol = json!({"arbiter_count": 0, "brick_count": 3, "bricks": bricks,
                "disperse_count": 0, "dist_count": 1, "id": "id-foreign", "name": c[*name], "options": options,
                "redundancy_count": 0, "replica_count": 3, "status": "started",
                "vol_type": "Replicate"});
            for n in 0..3 {
                if let Some(v) = node_mut(facts, n)["volumes"].as_array_mut() {
                    v.push(vol.clone());
                }
            }
        }
        Mutation::Fstab(n, v, target) => {
            if let Some(e) = node_mut(facts, *n)["fstab"].get_mut(0) {
                e[if *target { "target" } else { "line" }] = c[*v].clone().into();
            }
        }
        Mutation::Option(k, v) => {
            for vol in volumes_mut(facts) {
                if vol["name"] == "gfs" {
                    vol["options"][c[*k].as_str()] = c[*v].clone().into();
                    let keys = format!("performance.cache-size,{}", c[*k]);
                    vol["options"]["user.brickyard.options"] = keys.into();
                }
            }
        }
        Mutation::BrickSize(v) => {
            for vol in volumes_mut(facts) {
                if vol["name"] == "gfs" {
                    vol["options"]["user.brickyard.brick-size"] = c[*v].clone().into();
                }
            }
        }
        Mutation::Mount(n, v) => {
            if let Some(m) = node_mut(facts, *n)["mounts"].get_mut(0) {
                m["target"] = c[*v].clone().into();
            }
        }
    }
}

/// What the facts prove brickyard owns, computed from the raw JSON.
struct Proven {
    /// (node, "vg/lv") of thin LVs whose LV, pool and VG carry our tags, with the volume
    /// the tags name.
    lvs: BTreeMap<(String, String), String>,
    /// Volumes whose every brick is a proven LVM brick of that volume, or (marked ours
    /// only) a declared directory-brick path. Unmarked with all LVM bricks proven is the
    /// state an apply killed before the marker leaves; the planner may mark it.
    volumes: BTreeSet<String>,
}

fn tag<'a>(tags: &'a Value, key: &str) -> Option<&'a str> {
    tags.as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|t| t.strip_prefix(&format!("brickyard.{key}=")))
}

fn prove(facts: &Value, desired: &Value) -> Proven {
    let mut lvs = BTreeMap::new();
    // node -> storage address, to map a brick's host to a node
    let mut by_host = BTreeMap::new();
    for node in NODES {
        let f = &facts["nodes"][node];
        if let Some(a) = desired["nodes"][node]["storage"].as_str() {
            by_host.insert(a.to_string(), node.to_string());
        }
        let vg_ok = |vg: &str| {
            f["vgs"].as_array().into_iter().flatten().any(|g| {
                g["name"] == vg
                    && tag(&g["tags"], "cluster") == Some(CLUSTER)
                    && tag(&g["tags"], "node") == Some(node)
            })
        };
        let all = f["lvs"].as_array().cloned().unwrap_or_default();
        for lv in &all {
            let (Some(vg), Some(name), Some(pool)) =
                (lv["vg"].as_str(), lv["name"].as_str(), lv["pool"].as_str())
            else {
                continue;
            };
            let id = brick_id;
            let Some((c, v, s, p)) = id(&lv["tags"]) else {
                continue;
            };
            let pool_ok = all.iter().any(|pl| {
                pl["vg"] == vg && pl["name"] == pool && id(&pl["tags"]) == Some((c, v, s, p))
            });
            if c == CLUSTER
                && name == format!("brick_{v}_{s}_{p}")
                && pool == format!("tp_{v}_{s}_{p}")
                && pool_ok
                && vg_ok(vg)
            {
                lvs.insert((node.to_string(), format!("{vg}/{name}")), v.to_string());
            }
        }
    }
    let mut volumes = BTreeSet::new();
    for vol in facts["nodes"]["gfs1"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(name) = vol["name"].as_str() else {
            continue;
        };
        let marked = vol["options"]["user.brickyard.cluster"] == CLUSTER;
        if vol["options"].get("user.brickyard.cluster").is_some() && !marked {
            continue;
        }
        let bricks = vol["bricks"].as_array().cloned().unwrap_or_default();
        let ok = !bricks.is_empty()
            && bricks.iter().all(|b| {
                let (Some(host), Some(path)) = (b["host"].as_str(), b["path"].as_str()) else {
                    return false;
                };
                let Some(node) = by_host.get(host) else {
                    return false;
                };
                lvm_brick(path)
                    .is_some_and(|vl| lvs.get(&(node.clone(), vl)).is_some_and(|v| v == name))
                    || (marked && declared_dir_brick(desired, node, name, path))
            });
        if ok {
            volumes.insert(name.to_string());
        }
    }
    Proven { lvs, volumes }
}

/// (cluster, volume, set, pos) of an LV's brickyard tags.
fn brick_id(t: &Value) -> Option<(&str, &str, u32, u32)> {
    Some((
        tag(t, "cluster")?,
        tag(t, "volume")?,
        tag(t, "set")?.parse::<u32>().ok()?,
        tag(t, "pos")?.parse::<u32>().ok()?,
    ))
}

/// `vg/lv` of a brick path `<MOUNT_ROOT><vg>/<lv>/brick` with plain components.
fn lvm_brick(path: &str) -> Option<String> {
    let rel = path.strip_prefix(MOUNT_ROOT)?.strip_suffix("/brick")?;
    let (vg, lv) = rel.split_once('/')?;
    (plain(vg) && plain(lv)).then(|| format!("{vg}/{lv}"))
}

fn plain(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+.-".contains(c))
        && s != "."
        && s != ".."
}

/// `<declared path of node>/<vol>/s<N>p<M>` exactly, N and M plain decimals.
fn declared_dir_brick(desired: &Value, node: &str, vol: &str, path: &str) -> bool {
    desired["nodes"][node]["paths"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|base| {
            path.strip_prefix(&format!("{base}/{vol}/s"))
                .and_then(|r| r.split_once('p'))
                .is_some_and(|(s, p)| dec(s) && dec(p))
        })
}

fn dec(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// Options of the tools in a plan whose next word is their value, not an operand.
const VALUED: &[&str] = &[
    "-o",
    "-t",
    "-n",
    "-i",
    "--type",
    "--poolmetadatasize",
    "--chunksize",
    "--size",
    "--name",
    "--virtualsize",
    "--addtag",
    "--deltag",
];

/// The words a command acts on: for `sh -c SCRIPT sh ARGS`, the ARGS; otherwise the argv
/// after the program with options (and their values) and `--` left out.
fn operands(argv: &[String]) -> Vec<&str> {
    if argv.first().map(String::as_str) == Some("sh")
        && argv.get(1).map(String::as_str) == Some("-c")
    {
        return argv.iter().skip(4).map(String::as_str).collect();
    }
    let mut out = Vec::new();
    let mut words = argv.iter().skip(1).map(String::as_str);
    while let Some(w) = words.next() {
        if VALUED.contains(&w) {
            words.next();
        } else if w != "--" && !w.starts_with('-') {
            out.push(w);
        }
    }
    out
}

/// Every violation of the ownership rules in the plan's runnable steps.
fn violations(p: &Plan, facts: &Value, desired: &Value) -> Vec<String> {
    let proven = prove(facts, desired);
    let mut made = Made::default();
    let mut bad = Vec::new();
    for step in &p.steps {
        for argv in &step.commands {
            for why in check(&step.node, argv, &proven, &mut made) {
                bad.push(format!("{}: {why}: {argv:?}", step.id));
            }
        }
    }
    bad
}

/// What earlier steps of the same plan create (so later steps may act on it).
#[derive(Default)]
struct Made {
    volumes: BTreeSet<String>,
    lvs: BTreeSet<(String, String)>,
}

fn check(node: &str, argv: &[String], proven: &Proven, made: &mut Made) -> Vec<&'static str> {
    let mut bad = Vec::new();
    if argv
        .iter()
        .any(|w| w.chars().any(|c| c.is_control() && c != '\n'))
    {
        bad.push("a control character in a word");
    }
    let key = |vl: &str| (node.to_string(), vl.to_string());
    let ours =
        |vl: &str, made: &Made| proven.lvs.contains_key(&key(vl)) || made.lvs.contains(&key(vl));
    // A path or device the command names must be a proven (or just made) brick LV's.
    let lv_of = |word: &str| -> Option<String> {
        if let Some(rel) = word.strip_prefix(MOUNT_ROOT) {
            Some(rel.strip_suffix("/brick").unwrap_or(rel).to_string())
        } else {
            word.strip_prefix("/dev/").map(str::to_string)
        }
    };
    let prog = argv.first().map(String::as_str).unwrap_or_default();
    let ops = operands(argv);
    match prog {
        "gluster" => {
            // gluster --mode=script [--] volume OP NAME ...
            let words: Vec<&str> = argv
                .iter()
                .skip(1)
                .map(String::as_str)
                .filter(|w| *w != "--mode=script" && *w != "--")
                .collect();
            if words.iter().any(|w| w.starts_with("--")) {
                bad.push("a word gluster reads as its own option");
            }
            if words.first() == Some(&"volume")
                && let (Some(op), Some(name)) = (words.get(1), words.get(2))
            {
                match *op {
                    "create" => {
                        made.volumes.insert(name.to_string());
                    }
                    "info" | "status" | "get" | "list" => {}
                    _ if made.volumes.contains(*name) || proven.volumes.contains(*name) => {}
                    _ => bad.push("changes a volume the facts do not prove ours"),
                }
            }
        }
        "lvcreate" => {
            let name = argv.iter().position(|w| w == "-n" || w == "--name");
            if let (Some(i), Some(target)) = (name, ops.last()) {
                let vg = target.split('/').next().unwrap_or_default();
                if let Some(n) = argv.get(i + 1) {
                    made.lvs.insert(key(&format!("{vg}/{n}")));
                }
            }
        }
        "lvremove" | "lvchange" => {
            for o in &ops {
                let pool_of_proven = proven
                    .lvs
                    .iter()
                    .any(|((n, vl), _)| n == node && vl.replacen("/brick_", "/tp_", 1) == *o);
                if !proven.lvs.contains_key(&key(o)) && !pool_of_proven {
                    bad.push("removes or changes an LV the facts do not prove ours");
                }
            }
        }
        "mkfs.xfs" | "umount" | "mount" | "rmdir" => {
            for o in &ops {
                if !lv_of(o).is_some_and(|vl| ours(&vl, made)) {
                    bad.push("acts on a filesystem, mount or mount point not proven ours");
                }
            }
        }
        "sh" => {
            // scripts (fstab edits, guarded writes): every path, device or fstab line they get
            for o in &ops {
                let words: Vec<&str> = o.split_whitespace().collect();
                if words.len() >= 3 {
                    let marked = words.get(3).is_some_and(|opts| {
                        opts.split(',')
                            .any(|x| x == format!("x-brickyard.cluster={CLUSTER}"))
                    });
                    if !marked
                        || !words[..2]
                            .iter()
                            .all(|w| lv_of(w).is_some_and(|vl| ours(&vl, made)))
                    {
                        bad.push("edits an fstab line that is not a proven brick's");
                    }
                } else if (o.starts_with(MOUNT_ROOT) || o.starts_with("/dev/"))
                    && !lv_of(o).is_some_and(|vl| ours(&vl, made))
                {
                    bad.push("a script acts on a path not proven ours");
                }
            }
        }
        "rm" => bad.push("rm of a path (this scenario has no directory bricks)"),
        "wipefs" | "pvcreate" | "vgcreate" | "pvremove" | "vgremove" => {
            bad.push("touches a device none of the scenario's configs lets it prepare");
        }
        _ => {}
    }
    bad
}

fn run(desired: &Value, facts: &Value) -> Result<Plan, String> {
    let d: Desired = serde_json::from_value(desired.clone()).map_err(|e| e.to_string())?;
    let o: Observed = serde_json::from_value(facts.clone()).map_err(|e| e.to_string())?;
    let opts = PlanOptions {
        allow_destroy: true,
        allow_wipe: true,
        ..PlanOptions::default()
    };
    std::panic::catch_unwind(|| plan(&d, &o, &opts)).map_err(|_| "the planner panicked".into())
}

/// The three configs each mutated cluster is planned against: `gfs` declared, `gfs`
/// dropped (teardown), and `gfs` plus a foreign-named volume declared absent.
fn desireds(c: &[String], foreign: Option<usize>) -> Vec<Value> {
    let keep: Value = serde_json::from_str(DESIRED).expect("desired");
    let mut dropped = keep.clone();
    dropped["volumes"] = json!({});
    let mut absent = keep.clone();
    if let Some(f) = foreign {
        let mut v = keep["volumes"]["gfs"].clone();
        v["state"] = "absent".into();
        absent["volumes"][c[f].as_str()] = v;
    }
    vec![keep, dropped, absent]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn every_mutating_command_targets_a_proven_resource(
        ms in prop::collection::vec(mutation(corpus().len()), 1..5)
    ) {
        let c = corpus();
        let mut facts: Value = serde_json::from_str(FACTS).expect("facts");
        let mut foreign = None;
        for m in &ms {
            apply_mutation(&mut facts, m, &c);
            if let Mutation::ForeignVolume(n, _, _) = m {
                foreign = Some(*n);
            }
        }
        for desired in desireds(&c, foreign) {
            // node data that does not even deserialise is refused before planning
            let Ok(p) = run(&desired, &facts) else {
                let r = run(&desired, &facts);
                prop_assert!(!matches!(&r, Err(e) if e == "the planner panicked"), "{ms:?}");
                continue;
            };
            let bad = violations(&p, &facts, &desired);
            prop_assert!(bad.is_empty(), "{ms:?}\n{}", bad.join("\n"));
        }
    }
}

/// The review's reproductions (findings 1, 2, 5) as fixed cases of the same oracle.
#[test]
fn the_reviews_crafted_facts_plan_nothing_unproven() {
    let c = corpus();
    let idx = |s: &str| {
        c.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} not in corpus"))
    };
    let cases: Vec<Vec<Mutation>> = vec![
        vec![
            Mutation::BrickPath(0, idx("/")),
            Mutation::BrickPath(1, idx("/etc")),
        ],
        vec![Mutation::BrickPath(
            2,
            idx("/var/lib/brickyard/mounts/../../../../srv"),
        )],
        vec![Mutation::BrickPath(
            0,
            idx("/var/lib/brickyard/mounts/rootvg/home/brick"),
        )],
        vec![Mutation::BrickPath(
            0,
            idx("/var/lib/brickyard/mounts/by_sdb/--select=lv_name=~./brick"),
        )],
        vec![Mutation::ForeignVolume(
            idx("prod"),
            [idx("/srv/data/snapshots"); 3],
            false,
        )],
        vec![
            Mutation::LvTag(0, 1, 0, None),
            Mutation::LvTag(0, 0, 0, None),
        ],
        vec![Mutation::Option(idx("all"), idx("force"))],
        vec![Mutation::Option(
            idx("--glusterd-sock=/run/evil.sock"),
            idx("prod"),
        )],
    ];
    let facts0: Value = serde_json::from_str(FACTS).expect("facts");
    assert!(
        violations(
            &run(&desireds(&c, None)[1], &facts0).expect("plan"),
            &facts0,
            &desireds(&c, None)[1]
        )
        .is_empty(),
        "the unmutated teardown is proven"
    );
    for ms in cases {
        let mut facts = facts0.clone();
        for m in &ms {
            apply_mutation(&mut facts, m, &c);
        }
        for desired in desireds(&c, Some(idx("prod"))) {
            let p = run(&desired, &facts).expect("plan");
            let bad = violations(&p, &facts, &desired);
            assert!(bad.is_empty(), "{ms:?}\n{}", bad.join("\n"));
        }
    }
}
