//! Parsers and gather over REAL probe outputs captured from lab nodes
//! (testdata/captures/<state>/<node>.txt, made by scripts/capture-testdata).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use brickyard::config::*;
use brickyard::gather::parse::parse_probe;
use brickyard::gather::{NodeObservation, VolumeStatus, gather};
use brickyard::transport::replay::{CaptureMeta, ReplayTransport};
use brickyard::transport::{Counting, Transport, TransportError, Transports};

/// Every capture file the tests here read: each `<node>.txt` probe output (snapshotted)
/// and its `<node>.json` metadata (checked below); the fixture-usage check counts these.
pub(crate) fn capture_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/captures");
    captures()
        .into_iter()
        .flat_map(|(state, node)| {
            let dir = root.join(state);
            [
                dir.join(format!("{node}.txt")),
                dir.join(format!("{node}.json")),
            ]
        })
        .collect()
}

/// (state, node) of every `testdata/captures/<state>/<node>.txt`, sorted.
pub(crate) fn captures() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/captures");
    let mut out = Vec::new();
    for state in std::fs::read_dir(&root).unwrap() {
        let state = state.unwrap().path();
        for f in std::fs::read_dir(&state).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "txt") {
                out.push((
                    state.file_name().unwrap().to_string_lossy().into_owned(),
                    f.file_stem().unwrap().to_string_lossy().into_owned(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn read(state: &str, node: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/captures/{state}/{node}.txt")),
    )
    .unwrap()
}

#[test]
fn every_capture_parses_into_a_snapshot() {
    let caps = captures();
    assert!(caps.len() >= 10, "captures missing: {caps:?}");
    for (state, node) in caps {
        let mut facts = parse_probe(&read(&state, &node)).unwrap();
        // Host-wide loop devices and mounts of other lab instances vary between runs on
        // tier N nodes (they share the host's kernel): keep them out of the snapshot.
        if state.starts_with("n-") {
            facts.block_devices.clear();
            facts.mounts.retain(|m| m.target.starts_with("/bricks"));
        }
        insta::assert_yaml_snapshot!(format!("{state}__{node}"), facts);
    }
}

/// Each capture's metadata (what `scripts/capture-testdata` records next to the probe
/// output, and the replay transport reads) names its node and the probe's argv.
#[test]
fn every_capture_has_metadata_for_its_node() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/captures");
    for (state, node) in captures() {
        let file = root.join(&state).join(format!("{node}.json"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let meta: CaptureMeta =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(meta.node, node, "{}", file.display());
        assert_eq!(meta.argv[..3], ["sh", "-s", "--"], "{}", file.display());
        assert_eq!(
            meta.status,
            Some(0),
            "{}: the probe itself ran",
            file.display()
        );
    }
}

#[test]
fn states_are_read_correctly() {
    let f = parse_probe(&read("n-empty", "n1")).unwrap();
    assert!(f.glusterd_running && f.volumes.is_empty() && f.glusterd_uuid.is_some());
    assert_eq!(f.peers.len(), 1, "only itself: {:?}", f.peers);
    assert!(f.paths["/bricks/d0"].exists && f.paths["/bricks/d0"].total.unwrap() > 0);

    let f = parse_probe(&read("n-peers", "n1")).unwrap();
    assert_eq!(f.peers.len(), 3);
    assert!(f.peers.iter().all(|p| p.connected));

    let f = parse_probe(&read("n-created", "n1")).unwrap();
    assert_eq!(f.volumes[0].status, VolumeStatus::Created);

    let f = parse_probe(&read("n-started", "n1")).unwrap();
    let v = &f.volumes[0];
    assert_eq!(
        (v.status.clone(), v.replica_count, v.bricks.len()),
        (VolumeStatus::Started, 3, 3)
    );
    assert!(
        v.bricks
            .iter()
            .all(|b| b.online == Some(true) && b.port.is_some())
    );
    assert_eq!(
        v.options.get("performance.cache-size").map(String::as_str),
        Some("64MB")
    );
    assert_eq!(
        v.effective_options
            .get("performance.cache-size")
            .map(String::as_str),
        Some("64MB")
    );
    // this capture's probe listed `<path>/<vol>` (one level, `dir=` lines): that names no
    // brick directory, so nothing is listed (the probe now lists `<path>/<vol>/s*p*`)
    assert!(f.brick_dirs.is_empty(), "{:?}", f.brick_dirs);

    let f = parse_probe(&read("n-offline-brick", "n1")).unwrap();
    let online: Vec<_> = f.volumes[0].bricks.iter().map(|b| b.online).collect();
    assert_eq!(
        online.iter().filter(|o| **o == Some(false)).count(),
        1,
        "{online:?}"
    );

    let f = parse_probe(&read("n-stopped", "n1")).unwrap();
    assert_eq!(f.volumes[0].status, VolumeStatus::Stopped);
    assert!(f.volumes[0].bricks.iter().all(|b| b.online.is_none()));

    let f = parse_probe(&read("v-thin-lv", "v1")).unwrap();
    let pool = f
        .lvs
        .iter()
        .find(|l| l.name == "tp_gv0_0_0")
        .expect("thin pool");
    assert!(pool.attr.starts_with("twi-a"), "{}", pool.attr);
    assert!(
        pool.data_percent.is_some()
            && pool.metadata_percent.is_some()
            && pool.metadata_size.is_some()
    );
    let lv = f
        .lvs
        .iter()
        .find(|l| l.name == "brick_gv0_0_0")
        .expect("thin lv");
    assert_eq!(lv.pool.as_deref(), Some("tp_gv0_0_0"));
    assert!(lv.tags.iter().any(|t| t == "brickyard.volume=gv0"));
    assert_eq!(f.fstab.len(), 1);
    assert!(
        f.mounts.iter().any(
            |m| m.target == "/var/lib/brickyard/mounts/by_vdb/brick_gv0_0_0" && m.size.is_some()
        )
    );
    assert_eq!(f.signatures["/dev/vdc"][0].kind, "xfs");
    let f = parse_probe(&read("v-blank", "v1")).unwrap();
    assert!(f.signatures["/dev/vdb"].is_empty() && f.blkid["/dev/vdb"].is_empty());

    let f = parse_probe(&read("n-glusterd-down", "n2")).unwrap();
    assert!(!f.glusterd_running);
    assert!(f.section_errors.contains_key("pool_list"));
}

/// Arbiter, disperse and a 2x3 distributed-replicate volume, started on one pool
/// (`scripts/capture-testdata layouts`): their layout fields, the arbiter brick's place,
/// the set order, and every node reporting the same cluster-wide volumes.
#[test]
fn arbiter_disperse_and_multi_set_layouts_are_read_correctly() {
    let per_node: Vec<_> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| parse_probe(&read("n-layouts", n)).unwrap())
        .collect();
    let f = &per_node[0];
    let vol = |name: &str| {
        f.volumes
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("volume {name} in {:?}", f.volumes))
    };
    let layout = |name: &str| {
        let v = vol(name);
        (
            v.vol_type.as_str(),
            v.status.clone(),
            v.brick_count,
            v.dist_count,
            v.replica_count,
            v.arbiter_count,
            v.disperse_count,
            v.redundancy_count,
        )
    };
    use VolumeStatus::Started;
    assert_eq!(layout("ga"), ("Replicate", Started, 3, 1, 3, 1, 0, 0));
    assert_eq!(layout("gd"), ("Disperse", Started, 3, 1, 1, 0, 3, 1));
    assert_eq!(
        layout("gr"),
        ("Distributed-Replicate", Started, 6, 2, 3, 0, 0, 0)
    );
    // the arbiter is the last brick of its set, and only it
    let arb: Vec<bool> = vol("ga").bricks.iter().map(|b| b.is_arbiter).collect();
    assert_eq!(arb, [false, false, true]);
    // gluster's order: set 0 is the three d0 bricks, set 1 the three d1 bricks
    let gr: Vec<&str> = vol("gr").bricks.iter().map(|b| b.path.as_str()).collect();
    assert_eq!(gr[..3], ["/bricks/d0/gr"; 3]);
    assert_eq!(gr[3..], ["/bricks/d1/gr"; 3]);
    let hosts: Vec<&str> = vol("gr").bricks.iter().map(|b| b.host.as_str()).collect();
    assert_eq!(hosts[..3], hosts[3..]);
    for v in ["ga", "gd", "gr"] {
        assert!(
            vol(v).bricks.iter().all(|b| b.online == Some(true)),
            "{v}: every brick online"
        );
    }
    // cluster-wide state is the same whichever node is asked
    for other in &per_node[1..] {
        let names = |f: &brickyard::gather::NodeFacts| {
            f.volumes
                .iter()
                .map(|v| (v.name.clone(), v.vol_type.clone(), v.brick_count))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(f), names(other));
    }
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "\0\0\0",
        "@@brickyard@@ probe 1\n@@brickyard@@ begin lvs\n{\"report\":",
        "@@brickyard@@ probe 9\n",
    ] {
        let _ = parse_probe(text);
    }
    let full = read("n-started", "n1");
    for cut in (0..full.len()).step_by(97) {
        if full.is_char_boundary(cut) {
            let _ = parse_probe(&full[..cut]);
        }
    }
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(s in "(@@brickyard@@ (begin|end|stderr|probe) [a-z:/]{0,6}( rc=[0-9]{1,3})?\n|[^\n]{0,20}\n){0,30}") {
        let _ = parse_probe(&s);
    }
}

fn node(manage: &str, paths: &[&str]) -> Node {
    Node {
        manage: manage.into(),
        storage: manage.into(),
        zone: 1,
        devices: vec![],
        paths: paths
            .iter()
            .map(|p| DirPath {
                path: p.to_string(),
                tags: BTreeMap::new(),
            })
            .collect(),
        ssh: Ssh {
            user: "root".into(),
            port: 22,
            identity_file: None,
            known_hosts: KnownHosts::Strict,
            options: vec![],
            sudo: false,
            connect_timeout: 5,
        },
    }
}

#[tokio::test]
async fn gather_sends_one_command_per_node_and_survives_a_dead_node() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/captures/n-started");
    let mut nodes = BTreeMap::new();
    let mut transports: Transports = BTreeMap::new();
    let mut counters = Vec::new();
    for n in ["n1", "n2", "n3"] {
        let meta: CaptureMeta =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{n}.json"))).unwrap())
                .unwrap();
        let paths: Vec<&str> = meta.argv[3..]
            .iter()
            .map(|a| a.strip_prefix("p:").unwrap())
            .collect();
        nodes.insert(n.to_string(), node(n, &paths));
        let c = Arc::new(Counting::new(Arc::new(
            ReplayTransport::from_capture(n, &dir, n).unwrap(),
        )));
        counters.push(c.clone());
        transports.insert(n.to_string(), c as Arc<dyn Transport>);
    }
    nodes.insert("n4".into(), node("n4", &[]));
    let dead = Arc::new(Counting::new(Arc::new(ReplayTransport::down(
        "n4",
        TransportError::ConnectionRefused("n4".into()),
    ))));
    transports.insert("n4".into(), dead.clone() as Arc<dyn Transport>);
    let desired = Desired {
        cluster: "lab".into(),
        cluster_id: None,
        placement: Placement {
            zone_checking: ZoneChecking::Strict,
            brick_min_size: 1 << 30,
            brick_max_size: 4 << 40,
        },
        nodes,
        volumes: BTreeMap::new(),
    };
    let obs = gather(&desired, &transports, 2).await;
    assert_eq!(obs.format_version, brickyard::gather::FORMAT_VERSION);
    for c in &counters {
        assert_eq!(c.calls(), 1, "exactly one remote command per node");
    }
    assert_eq!(dead.calls(), 1);
    for n in ["n1", "n2", "n3"] {
        assert!(
            matches!(obs.nodes[n], NodeObservation::Reachable(_)),
            "{n}: {:?}",
            obs.nodes[n]
        );
    }
    match &obs.nodes["n4"] {
        NodeObservation::Unreachable(e) => assert_eq!(e.kind, "connection_refused"),
        other => panic!("n4 should be unreachable: {other:?}"),
    }
    assert_eq!(obs.unreachable().count(), 1);
}
