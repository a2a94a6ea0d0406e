//! Parsers and gather over REAL probe outputs captured from lab nodes
//! (testdata/captures/<state>/<node>.txt, made by scripts/capture-testdata).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use brickyard::config::*;
use brickyard::gather::parse::sections::{RECORDED_MARKER, marker};
use brickyard::gather::parse::{ProbeError, parse_probe};
use brickyard::gather::{NodeObservation, VolumeStatus, gather_with_nonces};
use brickyard::transport::replay::{CaptureMeta, ReplayTransport};
use brickyard::transport::{Counting, Output, Transport, TransportError, Transports};

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

/// A recorded capture parsed with the fixed marker it was recorded with.
fn parse(text: &str) -> Result<brickyard::gather::NodeFacts, ProbeError> {
    parse_probe(text, RECORDED_MARKER)
}

fn read(state: &str, node: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/captures/{state}/{node}.txt")),
    )
    .unwrap()
}

/// The tasks the status reader read on the lab (tests/offline/snapshots has them whole):
/// a remove-brick in progress with gluster's counts, the same one completed, a completed
/// rebalance (not asked again); and a count gluster garbles is a section error, never 0.
#[test]
fn rebalance_and_remove_brick_tasks_are_read_with_their_counts() {
    use brickyard::gather::{TaskKind, TaskStatus};
    let task = |state: &str| {
        let f = parse(&read(state, "n1")).unwrap();
        assert!(
            f.section_errors.is_empty(),
            "{state}: {:?}",
            f.section_errors
        );
        f.volumes[0].task.clone().expect("a task")
    };
    let rb = task("n-task-rebalance");
    assert_eq!(
        (rb.kind, &rb.status),
        (TaskKind::Rebalance, &TaskStatus::Completed)
    );
    assert!(rb.progress.is_none() && rb.bricks.is_empty());
    let running = task("n-task-remove-brick");
    assert_eq!(running.kind, TaskKind::RemoveBrick);
    assert_eq!(running.status, TaskStatus::InProgress);
    assert_eq!(running.bricks.len(), 3);
    assert!(
        running
            .bricks
            .iter()
            .all(|b| b.ends_with("/bricks/d1/tv/s1p0"))
    );
    let p = running.progress.expect("counts");
    assert!(p.files > 0 && p.scanned >= p.files, "{p:?}");
    assert_eq!((p.failures, p.skipped), (0, 0));
    let done = task("n-task-removed");
    assert_eq!(done.id, running.id, "the same task, later");
    assert_eq!(done.progress.expect("counts").status, TaskStatus::Completed);

    // a garbled count, or a section cut away, leaves the task unknown, not clean
    let text = read("n-task-removed", "n1");
    let garbled = text.replacen(
        "<aggregate>\n      <files>",
        "<aggregate>\n      <files>x",
        1,
    );
    assert_ne!(garbled, text);
    let f = parse(&garbled).unwrap();
    assert!(
        f.section_errors.contains_key("task:tv"),
        "{:?}",
        f.section_errors
    );
    let f = parse(&without_section(&text, "task:tv")).unwrap();
    assert!(
        f.section_errors.contains_key("task:tv"),
        "{:?}",
        f.section_errors
    );
}

#[test]
fn every_capture_parses_into_a_snapshot() {
    let caps = captures();
    assert!(caps.len() >= 10, "captures missing: {caps:?}");
    for (state, node) in caps {
        let mut facts = parse(&read(&state, &node)).unwrap();
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
    let f = parse(&read("n-empty", "n1")).unwrap();
    assert!(f.glusterd_running && f.volumes.is_empty() && f.glusterd_uuid.is_some());
    assert_eq!(f.peers.len(), 1, "only itself: {:?}", f.peers);
    assert!(f.paths["/bricks/d0"].exists && f.paths["/bricks/d0"].total.unwrap() > 0);

    let f = parse(&read("n-peers", "n1")).unwrap();
    assert_eq!(f.peers.len(), 3);
    assert!(f.peers.iter().all(|p| p.connected));

    let f = parse(&read("n-created", "n1")).unwrap();
    assert_eq!(f.volumes[0].status, VolumeStatus::Created);

    let f = parse(&read("n-started", "n1")).unwrap();
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
    // this capture's probe listed `<path>/<vol>` (one level, `dir=` lines): that names no
    // brick directory, so nothing is listed (the probe now lists `<path>/<vol>/s*p*`)
    assert!(f.brick_dirs.is_empty(), "{:?}", f.brick_dirs);

    let f = parse(&read("n-offline-brick", "n1")).unwrap();
    let online: Vec<_> = f.volumes[0].bricks.iter().map(|b| b.online).collect();
    assert_eq!(
        online.iter().filter(|o| **o == Some(false)).count(),
        1,
        "{online:?}"
    );

    let f = parse(&read("n-stopped", "n1")).unwrap();
    assert_eq!(f.volumes[0].status, VolumeStatus::Stopped);
    assert!(f.volumes[0].bricks.iter().all(|b| b.online.is_none()));

    let f = parse(&read("v-thin-lv", "v1")).unwrap();
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
    let f = parse(&read("v-blank", "v1")).unwrap();
    assert!(f.signatures["/dev/vdb"].is_empty() && f.blkid["/dev/vdb"].is_empty());

    let f = parse(&read("n-glusterd-down", "n2")).unwrap();
    assert!(!f.glusterd_running);
    assert!(f.section_errors.contains_key("pool_list"));
}

/// gluster's `volume status all` leaves out, with success, a volume whose status it could
/// not get (its lock held by another command): a real capture with one volume's block cut
/// out as the CLI does. That volume's bricks are unknown, never offline; the others keep
/// their state, and the node's warnings say which volume was not listed.
#[test]
fn a_volume_left_out_of_volume_status_is_unknown_not_offline() {
    let real = read("n-layouts", "n1");
    let begin = real
        .find("<volume>\n        <volName>gd</volName>")
        .unwrap();
    let end = begin + real[begin..].find("</volume>").unwrap() + "</volume>\n".len();
    let cut = format!("{}{}", &real[..begin], &real[end..]);
    assert!(!cut.contains("<volName>gd</volName>") && cut.contains("<volName>gr</volName>"));
    let f = parse(&cut).unwrap();
    assert!(
        !f.section_errors.contains_key("volume_status"),
        "{:?}",
        f.section_errors
    );
    for v in &f.volumes {
        let online: Vec<_> = v.bricks.iter().map(|b| b.online).collect();
        let want = if v.name == "gd" { None } else { Some(true) };
        assert!(online.iter().all(|o| *o == want), "{}: {online:?}", v.name);
    }
    let said: Vec<_> = f
        .warnings
        .iter()
        .filter(|w| w.contains("did not list"))
        .collect();
    assert!(
        said.len() == 1 && said[0].contains("volume gd"),
        "{:?}",
        f.warnings
    );
}

/// Arbiter, disperse and a 2x3 distributed-replicate volume, started on one pool
/// (`scripts/capture-testdata layouts`): their layout fields, the arbiter brick's place,
/// the set order, and every node reporting the same cluster-wide volumes.
#[test]
fn arbiter_disperse_and_multi_set_layouts_are_read_correctly() {
    let per_node: Vec<_> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| parse(&read("n-layouts", n)).unwrap())
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
        let _ = parse(text);
    }
    let full = read("n-started", "n1");
    for cut in (0..full.len()).step_by(97) {
        if full.is_char_boundary(cut) {
            let _ = parse(&full[..cut]);
        }
    }
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(s in "(@@brickyard@@ (begin|end|stderr|probe) [a-z:/]{0,6}( rc=[0-9]{1,3})?\n|[^\n]{0,20}\n){0,30}") {
        let _ = parse(&s);
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
                drain: false,
            })
            .collect(),
        drain: false,
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

/// The nonce the replayed probe runs are given.
const NONCE: &str = "00112233445566778899aabbccddeeff";

/// `text` (a capture, recorded with the fixed marker) as a probe run given `NONCE` would
/// have printed it: every marker line carries the run's marker.
fn as_run(text: &str) -> String {
    let run = marker(NONCE);
    text.split_inclusive('\n')
        .map(|l| match l.strip_prefix(RECORDED_MARKER) {
            Some(rest) if rest.starts_with(' ') => format!("{run}{rest}"),
            _ => l.to_string(),
        })
        .collect()
}

/// A replay of capture `<dir>/<node>` answering the probe argv of a run given `NONCE`,
/// with `stdout` (the capture's text unless given).
fn replay_as_run(dir: &Path, n: &str, stdout: Option<String>) -> (ReplayTransport, Vec<String>) {
    let meta: CaptureMeta =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{n}.json"))).unwrap())
            .unwrap();
    let text = stdout
        .unwrap_or_else(|| as_run(&std::fs::read_to_string(dir.join(format!("{n}.txt"))).unwrap()));
    // the capture's own argument list (older ones carry no `s:`), with and without it:
    // a node not asked to read volume status prints no such section
    let args: Vec<String> = meta.argv[3..]
        .iter()
        .filter(|a| *a != "s:")
        .cloned()
        .collect();
    let argv = |reader: bool| {
        let mut argv = meta.argv[..3].to_vec();
        argv.push(NONCE.to_string());
        if reader {
            argv.push("s:".to_string());
        }
        argv.extend(args.iter().cloned());
        argv
    };
    let out = |stdout: String| Output {
        status: meta.status,
        stdout: stdout.into_bytes(),
        stderr: meta.stderr.clone().into_bytes(),
    };
    let t = ReplayTransport::new(n)
        .with_output(argv(false), out(without_section(&text, "volume_status")))
        .with_output(argv(true), out(text));
    (t, args)
}

/// A probe output with one section (begin to end marker lines) cut out.
fn without_section(text: &str, name: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for l in text.split_inclusive('\n') {
        let marker = l.split_once(' ').map(|(_, rest)| rest.trim_end());
        if marker == Some(&format!("begin {name}")) {
            inside = true;
        } else if inside && marker.is_some_and(|m| m.starts_with(&format!("end {name} rc="))) {
            inside = false;
            continue;
        }
        if !inside {
            out.push_str(l);
        }
    }
    out
}

fn desired_of(nodes: BTreeMap<String, Node>) -> Desired {
    Desired {
        cluster: "lab".into(),
        cluster_id: None,
        placement: Placement {
            zone_checking: ZoneChecking::Strict,
            brick_min_size: 1 << 30,
            brick_max_size: 4 << 40,
        },
        nodes,
        volumes: BTreeMap::new(),
    }
}

fn fixed_nonce() -> Result<String, String> {
    Ok(NONCE.to_string())
}

#[tokio::test]
async fn gather_sends_one_command_per_node_and_survives_a_dead_node() {
    let (mut desired, mut transports, replays) = started_cluster(&[]);
    desired.nodes.insert("n4".into(), node("n4", &[]));
    let dead = Arc::new(Counting::new(Arc::new(ReplayTransport::down(
        "n4",
        TransportError::ConnectionRefused("n4".into()),
    ))));
    transports.insert("n4".into(), dead.clone() as Arc<dyn Transport>);
    let obs = gather_with_nonces(&desired, &transports, 2, &fixed_nonce).await;
    assert_eq!(obs.format_version, brickyard::gather::FORMAT_VERSION);
    for (n, t) in &replays {
        assert_eq!(
            t.call_count(),
            1,
            "{n}: exactly one remote command per node"
        );
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

/// Replays of the n-started captures (a replica-3 volume on three pooled nodes).
fn started_cluster(dead: &[&str]) -> (Desired, Transports, BTreeMap<String, Arc<ReplayTransport>>) {
    replayed_cluster("n-started", "10.99.2", dead, |_, t| t)
}

/// Replays of the three nodes of `state` (storage addresses `<subnet>.1N`, as their pool
/// lists name them), each output passed through `edit(node, text)`.
fn replayed_cluster(
    state: &str,
    subnet: &str,
    dead: &[&str],
    edit: impl Fn(&str, String) -> String,
) -> (Desired, Transports, BTreeMap<String, Arc<ReplayTransport>>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/captures")
        .join(state);
    let mut nodes = BTreeMap::new();
    let mut transports: Transports = BTreeMap::new();
    let mut replays = BTreeMap::new();
    for n in ["n1", "n2", "n3"] {
        let text = as_run(&std::fs::read_to_string(dir.join(format!("{n}.txt"))).unwrap());
        let (t, args) = replay_as_run(&dir, n, Some(edit(n, text)));
        let paths: Vec<&str> = args.iter().map(|a| a.strip_prefix("p:").unwrap()).collect();
        let mut nd = node(n, &paths);
        // the nodes' real addresses, as their pool lists and bricks name them
        nd.storage = format!("{subnet}.1{}", &n[1..]);
        nodes.insert(n.to_string(), nd);
        let t = Arc::new(if dead.contains(&n) {
            ReplayTransport::down(n, TransportError::ConnectionRefused(n.into()))
        } else {
            t
        });
        replays.insert(n.to_string(), t.clone());
        transports.insert(n.to_string(), t as Arc<dyn Transport>);
    }
    (desired_of(nodes), transports, replays)
}

fn bricks_online(obs: &brickyard::gather::Observed, n: &str) -> Vec<Option<bool>> {
    match &obs.nodes[n] {
        NodeObservation::Reachable(f) => f.volumes[0].bricks.iter().map(|b| b.online).collect(),
        other => panic!("{n}: {other:?}"),
    }
}

/// `volume status` (cluster-wide, taking every volume's cluster lock) is asked of one
/// node, and what it read reaches every node's view of the volume.
#[tokio::test]
async fn volume_status_is_read_on_one_node_and_shared() {
    let (desired, transports, replays) = started_cluster(&[]);
    let obs = gather_with_nonces(&desired, &transports, 3, &fixed_nonce).await;
    for (n, t) in &replays {
        let calls = t.calls();
        assert_eq!(calls.len(), 1, "{n}: {calls:?}");
        let asked = calls[0].iter().any(|a| a == "s:");
        assert_eq!(asked, n == "n1", "{n}: {calls:?}");
        assert_eq!(bricks_online(&obs, n), [Some(true); 3], "{n}");
        let NodeObservation::Reachable(f) = &obs.nodes[n] else {
            unreachable!()
        };
        assert!(f.volumes[0].bricks.iter().all(|b| b.port.is_some()), "{n}");
        assert!(!f.section_errors.contains_key("volume_status"), "{n}");
    }
}

/// The guessed reader cannot be reached: the next node by the runner's rule gets one
/// more probe with the read, and the others get its answer.
#[tokio::test]
async fn an_unreachable_reader_hands_the_read_to_the_next_node() {
    let (desired, transports, replays) = started_cluster(&["n1"]);
    let obs = gather_with_nonces(&desired, &transports, 3, &fixed_nonce).await;
    let asked = |n: &str| -> Vec<bool> {
        replays[n]
            .calls()
            .iter()
            .map(|c| c.iter().any(|a| a == "s:"))
            .collect()
    };
    assert_eq!(asked("n1"), [true]);
    assert_eq!(asked("n2"), [false, true]);
    assert_eq!(asked("n3"), [false]);
    for n in ["n2", "n3"] {
        assert_eq!(bricks_online(&obs, n), [Some(true); 3], "{n}");
    }
}

/// The reader's `volume status` left a started volume out (its lock was held at that
/// moment): the next node reads it again, and every view gets the whole answer.
#[tokio::test]
async fn a_read_that_left_a_volume_out_is_asked_of_the_next_node() {
    let (desired, transports, replays) =
        replayed_cluster("n-layouts", "10.99.6", &[], |n, text| {
            if n != "n1" {
                return text;
            }
            let begin = text
                .find("<volume>\n        <volName>gd</volName>")
                .unwrap();
            let end = begin + text[begin..].find("</volume>").unwrap() + "</volume>\n".len();
            format!("{}{}", &text[..begin], &text[end..])
        });
    let obs = gather_with_nonces(&desired, &transports, 3, &fixed_nonce).await;
    let asked = |n: &str| -> Vec<bool> {
        replays[n]
            .calls()
            .iter()
            .map(|c| c.iter().any(|a| a == "s:"))
            .collect()
    };
    assert_eq!(
        (asked("n1"), asked("n2"), asked("n3")),
        (vec![true], vec![false, true], vec![false])
    );
    for n in ["n1", "n2", "n3"] {
        let NodeObservation::Reachable(f) = &obs.nodes[n] else {
            panic!("{n}: {:?}", obs.nodes[n])
        };
        assert_eq!(f.volumes.len(), 3, "{n}");
        for v in &f.volumes {
            assert!(
                v.bricks.iter().all(|b| b.online == Some(true)),
                "{n}: {}: {:?}",
                v.name,
                v.bricks
            );
        }
    }
}

/// No node can read it (every candidate's read fails): each node running glusterd
/// records the section as failed, naming the failures, and no brick state is invented.
#[tokio::test]
async fn no_reader_leaves_every_brick_unknown_and_says_why() {
    let (desired, transports, _) = replayed_cluster("n-started", "10.99.2", &[], |_, text| {
        let start = text.find("begin volume_status\n").unwrap() + "begin volume_status\n".len();
        let end = start + text[start..].find("\n@@brickyard-").unwrap();
        format!("{}Connection failed.{}", &text[..start], &text[end..])
    });
    let obs = gather_with_nonces(&desired, &transports, 3, &fixed_nonce).await;
    for n in ["n1", "n2", "n3"] {
        assert_eq!(bricks_online(&obs, n), [None; 3], "{n}");
        let NodeObservation::Reachable(f) = &obs.nodes[n] else {
            unreachable!()
        };
        let e = &f.section_errors["volume_status"];
        assert!(e.contains("not XML"), "{n}: {e}");
    }
}

/// The review's injection: a gluster option value (written by any peer administrator)
/// that ends `volume_info` and fakes a clean `wipefs:/dev/sdb`, framed with `fake` as the
/// marker. `text` is n-started/n1 plus a real wipefs section saying /dev/sdb holds XFS,
/// every marker written as `real` (and empty cluster_id and heal_index sections and a
/// volume_tasks section listing gv0 without a task: the capture predates them).
fn injected(real: &str, fake: &str) -> String {
    let capture = read("n-started", "n1");
    let wipefs_xfs = "{\n   \"signatures\": [\n      {\"device\": \"sdb\", \"offset\": \"0x0\", \"type\": \"xfs\", \"uuid\": \"c2b4afbf-7ffd-461a-afa9-080ab5c73fd6\", \"label\": null}\n   ]\n}\n";
    let tasks = "<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><volStatus><volumes><volume><volName>gv0</volName><tasks/></volume></volumes></volStatus></cliOutput>";
    let with_sdb = capture.replace(
        "@@brickyard@@ done\n",
        &format!(
            "@@brickyard@@ begin cluster_id\n@@brickyard@@ stderr cluster_id\n@@brickyard@@ end cluster_id rc=0\n@@brickyard@@ begin heal_index\n@@brickyard@@ stderr heal_index\n@@brickyard@@ end heal_index rc=0\n@@brickyard@@ begin volume_tasks\n{tasks}\n@@brickyard@@ stderr volume_tasks\n@@brickyard@@ end volume_tasks rc=0\n@@brickyard@@ begin wipefs:/dev/sdb\n{wipefs_xfs}\n@@brickyard@@ stderr wipefs:/dev/sdb\n@@brickyard@@ end wipefs:/dev/sdb rc=0\n@@brickyard@@ done\n"
        ),
    );
    let framed: String = with_sdb
        .split_inclusive('\n')
        .map(|l| match l.strip_prefix(RECORDED_MARKER) {
            Some(rest) if rest.starts_with(' ') => format!("{real}{rest}"),
            _ => l.to_string(),
        })
        .collect();
    let value = format!(
        "<value>64MB\n{fake} end volume_info rc=0\n{fake} begin wipefs:/dev/sdb\n\n{fake} stderr wipefs:/dev/sdb\n{fake} end wipefs:/dev/sdb rc=0\n{fake} begin volume_info\n</value>"
    );
    let out = framed.replacen("<value>64MB</value>", &value, 1);
    assert_ne!(out, framed, "the injection found its option value");
    out
}

#[test]
fn finding_9_injected_sections_do_not_change_what_wipefs_reports() {
    let run = marker(NONCE);
    // the attacker writes the old fixed marker (or any marker but this run's)
    let f = parse_probe(&injected(&run, RECORDED_MARKER), &run).unwrap();
    let sigs: Vec<&str> = f.signatures["/dev/sdb"]
        .iter()
        .map(|s| s.kind.as_str())
        .collect();
    assert_eq!(sigs, ["xfs"], "the real wipefs section is the one read");
    assert!(f.section_errors.is_empty(), "{:?}", f.section_errors);
    // the forged lines stayed inside the option value they came in
    let v = &f.volumes[0].options["performance.cache-size"];
    assert!(v.contains("begin wipefs:/dev/sdb"), "{v:?}");
}

#[test]
fn finding_9_a_duplicate_section_fails_the_probe() {
    // even knowing the marker (as with recordings made before nonces), the injection
    // makes sections appear twice: the probe fails instead of keeping the first
    let run = marker(NONCE);
    for (real, fake) in [
        (RECORDED_MARKER, RECORDED_MARKER),
        (run.as_str(), run.as_str()),
    ] {
        match parse_probe(&injected(real, fake), real) {
            Err(ProbeError::Framing(e)) => {
                assert!(e.to_string().contains("volume_info"), "{e}")
            }
            other => panic!("a forged frame must fail the probe: {other:?}"),
        }
    }
}

#[tokio::test]
async fn finding_9_gather_marks_a_node_with_forged_framing_unreachable() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/captures/n-started");
    let run = marker(NONCE);
    let (t, args) = replay_as_run(&dir, "n1", Some(injected(&run, &run)));
    let paths: Vec<&str> = args.iter().map(|a| a.strip_prefix("p:").unwrap()).collect();
    let nodes = BTreeMap::from([("n1".to_string(), node("n1", &paths))]);
    let transports: Transports =
        BTreeMap::from([("n1".to_string(), Arc::new(t) as Arc<dyn Transport>)]);
    let obs = gather_with_nonces(&desired_of(nodes), &transports, 1, &fixed_nonce).await;
    match &obs.nodes["n1"] {
        NodeObservation::Unreachable(e) => {
            assert_eq!(e.kind, "probe_failed");
            assert!(e.message.contains("appears twice"), "{}", e.message);
        }
        other => panic!("forged framing must not give facts: {other:?}"),
    }
    // a cut-off probe is no facts either
    let cut = as_run(&read("n-started", "n1"));
    let cut = cut[..cut.len() / 2].to_string();
    let (t, _) = replay_as_run(&dir, "n1", Some(cut));
    let transports: Transports =
        BTreeMap::from([("n1".to_string(), Arc::new(t) as Arc<dyn Transport>)]);
    let nodes = BTreeMap::from([("n1".to_string(), node("n1", &paths))]);
    let obs = gather_with_nonces(&desired_of(nodes), &transports, 1, &fixed_nonce).await;
    assert!(
        matches!(&obs.nodes["n1"], NodeObservation::Unreachable(e) if e.message.contains("ended early")),
        "{:?}",
        obs.nodes["n1"]
    );
}
