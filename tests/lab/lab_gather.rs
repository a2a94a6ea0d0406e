//! Tier N (namespace nodes): `gather` against real sshd + glusterd. The facts it returns
//! are compared with what the nodes report through independent commands, the nodes are
//! shown unchanged by a gather, a node that cannot be reached (or whose host key changed)
//! is reported per node while the others are still read, and every node gets exactly one
//! remote command. Every test leaves the nodes as it found them: empty pool, no volumes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::lab::{Lab, Node, Tier, host_ok, replica3_volume, wait_for};
use brickyard::config::{Desired, Format};
use brickyard::gather::{self, BrickDirKind, NodeFacts, NodeObservation, Observed, VolumeStatus};
use brickyard::transport::{self, Counting, Transport, Transports};

const VOL: &str = "labgather";
const OPTION: (&str, &str) = ("performance.cache-size", "64MB");

fn brick_dir() -> String {
    format!("/bricks/d0/{VOL}")
}

/// A validated config for the lab's tier-N nodes, reaching them with the lab's key and
/// `known_hosts` file. `extra` adds YAML to one node's map, e.g. `("n3", "ssh: { port: 2 }")`.
fn desired(nodes: &[&Node], known_hosts: &Path, extra: &[(&str, &str)]) -> Desired {
    let y = config_text(nodes, known_hosts, extra);
    let loaded = brickyard::config::parse_str("lab-gather.yaml", &y, Format::Yaml);
    match loaded.desired {
        Some(d) => d,
        None => panic!("config invalid:\n{}\n{y}", loaded.render(100, false)),
    }
}

fn config_text(nodes: &[&Node], known_hosts: &Path, extra: &[(&str, &str)]) -> String {
    let first = nodes[0];
    let mut y = format!(
        "cluster: labgather\nssh:\n  user: {}\n  identity_file: {}\n  known_hosts: strict\n  options: [\"UserKnownHostsFile={}\", \"GlobalKnownHostsFile=/dev/null\"]\nnodes:\n",
        first.user,
        first.identity_file.display(),
        known_hosts.display()
    );
    for (i, n) in nodes.iter().enumerate() {
        let more: String = extra
            .iter()
            .filter(|(name, _)| *name == n.name)
            .map(|(_, e)| format!(", {e}"))
            .collect();
        y.push_str(&format!(
            "  {}: {{ manage: {}, zone: {}, paths: [/bricks/d0, /bricks/d1]{more} }}\n",
            n.name,
            n.address,
            i + 1
        ));
    }
    y
}

/// Gather with real SSH transports, each wrapped by `wrap`, closing every ControlMaster
/// before returning.
fn gather_with(
    desired: &Desired,
    wrap: impl Fn(Arc<dyn Transport>) -> Arc<dyn Transport>,
) -> Observed {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let transports: Transports = transport::ssh_transports(desired)
            .into_iter()
            .map(|(name, t)| (name, wrap(t)))
            .collect();
        let obs = gather::gather(desired, &transports, 32).await;
        transport::close_all(&transports).await;
        obs
    })
}

fn facts<'a>(obs: &'a Observed, node: &str) -> &'a NodeFacts {
    match obs.nodes.get(node) {
        Some(NodeObservation::Reachable(f)) => f,
        Some(NodeObservation::Unreachable(e)) => panic!("{node} unreachable: {e:?}"),
        None => panic!("{node} missing from {:?}", obs.nodes.keys()),
    }
}

fn volume_names(n: &Node) -> Vec<String> {
    n.gluster(&["volume", "list"])
        .lines()
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.starts_with("No volumes"))
        .map(String::from)
        .collect()
}

/// Best-effort removal of what these tests create (volume, peers, brick directories);
/// runs before a test (leftovers of a killed run) and on drop, also after a failed assertion.
struct Cleanup<'a> {
    nodes: Vec<&'a Node>,
}

impl<'a> Cleanup<'a> {
    /// Cleans up leftovers and checks the nodes start empty.
    fn start(nodes: &[&'a Node]) -> Cleanup<'a> {
        let c = Cleanup {
            nodes: nodes.to_vec(),
        };
        c.run();
        c.assert_empty();
        c
    }

    /// Cleans up and checks the nodes are left empty.
    fn finish(self) {
        self.run();
        self.assert_empty();
    }

    fn run(&self) {
        let first = self.nodes[0];
        let _ = first.run(&["gluster", "--mode=script", "volume", "stop", VOL, "force"]);
        let _ = first.run(&["gluster", "--mode=script", "volume", "delete", VOL]);
        for n in &self.nodes[1..] {
            let _ = first.run(&["gluster", "--mode=script", "peer", "detach", &n.address]);
        }
        for n in &self.nodes {
            let _ = n.run(&["rm", "-rf", "--", &brick_dir()]);
        }
    }

    /// The nodes are as a lab test must find and leave them.
    fn assert_empty(&self) {
        for n in &self.nodes {
            let pool = n.gluster(&["pool", "list"]);
            assert_eq!(
                pool.lines().count(),
                2,
                "{}: only itself in the pool:\n{pool}",
                n.name
            );
            assert_eq!(
                volume_names(n),
                Vec::<String>::new(),
                "{}: no volumes",
                n.name
            );
        }
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        self.run();
    }
}

/// Bricks of VOL shown online (`Y`) by `gluster volume status`.
fn bricks_online(n: &Node) -> usize {
    let out = n.run(&["gluster", "--mode=script", "volume", "status", VOL]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("Brick "))
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 2 && w[w.len() - 2] == "Y"
        })
        .count()
}

/// Trusted pool of the three nodes and a started replica-3 volume VOL with one option set,
/// made with plain gluster commands (not brickyard).
fn make_cluster(nodes: &[&Node]) {
    replica3_volume(nodes, VOL, &brick_dir(), &[OPTION]);
    let first = nodes[0];
    wait_for("all 3 bricks online", Duration::from_secs(60), || {
        bricks_online(first) == 3
    });
}

/// `UUID=` of /var/lib/glusterd/glusterd.info, read over ssh.
fn glusterd_uuid(n: &Node) -> String {
    let info = n.run_ok(&["cat", "/var/lib/glusterd/glusterd.info"]);
    info.lines()
        .find_map(|l| l.strip_prefix("UUID="))
        .unwrap_or_else(|| panic!("{}: no UUID= in glusterd.info:\n{info}", n.name))
        .trim()
        .to_string()
}

/// (size, avail) in bytes of the filesystem holding `path`, from `df -B1` on the node.
fn df(n: &Node, path: &str) -> (u64, u64) {
    let out = n.run_ok(&["df", "-B1", "--output=size,avail", path]);
    let row: Vec<u64> = out
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("{}: no df row:\n{out}", n.name))
        .split_whitespace()
        .map(|w| w.parse().expect("df prints numbers"))
        .collect();
    (row[0], row[1])
}

#[test]
fn gather_matches_what_nodes_hold() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let nodes = lab.nodes(Tier::N);
    assert_eq!(nodes.len(), 3, "tier N has three nodes: {nodes:?}");
    let cleanup = Cleanup::start(&nodes);
    make_cluster(&nodes);

    let d = desired(&nodes, &lab.known_hosts, &[]);
    // glusterd can report a brick it just started as offline for a moment after it was
    // online (seen in CI with the VMs loading the host): gather again, a bounded number
    // of times, until every node's facts say every brick is online; the assertions below
    // then hold the facts to the truth read over plain ssh
    let mut obs = gather_with(&d, |t| t);
    for _ in 0..4 {
        let online = nodes.iter().all(|n| match obs.nodes.get(&n.name) {
            Some(NodeObservation::Reachable(f)) => f
                .volumes
                .iter()
                .flat_map(|v| &v.bricks)
                .all(|b| b.online == Some(true)),
            _ => true,
        });
        if online {
            break;
        }
        eprintln!("a brick was read as offline right after the volume started; gathering again");
        std::thread::sleep(Duration::from_secs(3));
        wait_for("all 3 bricks online", Duration::from_secs(60), || {
            bricks_online(nodes[0]) == 3
        });
        obs = gather_with(&d, |t| t);
    }
    assert_eq!(obs.format_version, gather::FORMAT_VERSION);
    assert_eq!(
        obs.nodes.keys().collect::<Vec<_>>(),
        nodes.iter().map(|n| &n.name).collect::<Vec<_>>()
    );
    assert_eq!(obs.unreachable().count(), 0, "{:?}", obs.nodes);

    // independent truth, read over plain ssh
    let uuids: BTreeMap<&str, String> = nodes
        .iter()
        .map(|n| (n.address.as_str(), glusterd_uuid(n)))
        .collect();
    let all_uuids: BTreeSet<&str> = uuids.values().map(String::as_str).collect();
    assert_eq!(
        all_uuids.len(),
        3,
        "three distinct glusterd UUIDs: {uuids:?}"
    );

    for n in &nodes {
        let f = facts(&obs, &n.name);
        let ctx = &n.name;
        for s in [
            "hostname",
            "glusterd_info",
            "pool_list",
            "volume_info",
            "volume_status",
            "findmnt",
            "path:/bricks/d0",
            "df:/bricks/d0",
            "cluster_id",
        ] {
            assert!(
                !f.section_errors.contains_key(s),
                "{ctx}: section {s} failed: {:?}",
                f.section_errors
            );
        }
        assert_eq!(f.hostname, n.name, "{ctx}: hostname");
        assert!(f.glusterd_running, "{ctx}: glusterd runs");
        assert_eq!(
            f.glusterd_uuid.as_deref(),
            Some(uuids[n.address.as_str()].as_str()),
            "{ctx}: glusterd UUID"
        );
        assert_eq!(
            f.versions.kernel.as_deref(),
            Some(n.run_ok(&["uname", "-r"]).trim()),
            "{ctx}: kernel"
        );
        let gv = n.run_ok(&["gluster", "--version"]);
        let gluster_version = f
            .versions
            .gluster
            .as_deref()
            .unwrap_or_else(|| panic!("{ctx}: no gluster version"));
        assert!(
            gv.lines()
                .next()
                .is_some_and(|l| l.contains(gluster_version)),
            "{ctx}: gluster version {gluster_version:?} vs {gv}"
        );

        // pool list: itself (as localhost) and the two others, all connected, named as
        // the plain `gluster pool list` on that node names them
        let peer_uuids: BTreeSet<&str> = f.peers.iter().map(|p| p.uuid.as_str()).collect();
        assert_eq!(peer_uuids, all_uuids, "{ctx}: pool members {:?}", f.peers);
        let pool = n.gluster(&["pool", "list"]);
        let listed: BTreeMap<&str, (&str, &str)> = pool
            .lines()
            .skip(1)
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.len() == 3).then(|| (w[0], (w[1], w[2])))
            })
            .collect();
        assert_eq!(listed.len(), 3, "{ctx}: {pool}");
        for p in &f.peers {
            assert!(p.connected, "{ctx}: peer {p:?} connected");
            assert_eq!(
                listed.get(p.uuid.as_str()),
                Some(&(p.hostname.as_str(), "Connected")),
                "{ctx}: {p:?} vs pool list:\n{pool}"
            );
            if p.uuid == uuids[n.address.as_str()] {
                assert_eq!(p.hostname, "localhost", "{ctx}: {p:?}");
            }
        }

        // the volume, the same from every node
        assert_eq!(f.volumes.len(), 1, "{ctx}: {:?}", f.volumes);
        let v = &f.volumes[0];
        assert_eq!(v.name, VOL);
        assert_eq!(v.status, VolumeStatus::Started, "{ctx}");
        assert_eq!(v.vol_type, "Replicate", "{ctx}");
        assert_eq!(
            (v.brick_count, v.replica_count, v.dist_count),
            (3, 3, 1),
            "{ctx}"
        );
        assert_eq!(v.arbiter_count, 0, "{ctx}");
        assert_eq!(v.disperse_count, 0, "{ctx}");
        let want_id = n
            .gluster(&["volume", "info", VOL])
            .lines()
            .find_map(|l| l.strip_prefix("Volume ID: "))
            .map(|s| s.trim().to_string());
        assert_eq!(Some(v.id.clone()), want_id, "{ctx}: volume id");
        assert_eq!(v.bricks.len(), 3, "{ctx}");
        for (b, owner) in v.bricks.iter().zip(&nodes) {
            assert_eq!(b.host, owner.address, "{ctx}: {b:?}");
            assert_eq!(b.path, brick_dir(), "{ctx}: {b:?}");
            assert_eq!(b.name, format!("{}:{}", owner.address, brick_dir()));
            assert_eq!(
                b.host_uuid.as_deref(),
                Some(uuids[owner.address.as_str()].as_str()),
                "{ctx}: {b:?}"
            );
            assert!(!b.is_arbiter, "{ctx}: {b:?}");
            assert_eq!(b.online, Some(true), "{ctx}: {b:?}");
            assert!(b.port.is_some_and(|p| p > 0), "{ctx}: {b:?}");
            assert!(b.size_free.is_some_and(|s| s > 0), "{ctx}: {b:?}");
            assert!(b.size_total.is_some_and(|s| s > 0), "{ctx}: {b:?}");
        }
        assert_eq!(
            v.options.get(OPTION.0).map(String::as_str),
            Some(OPTION.1),
            "{ctx}: explicitly set options {:?}",
            v.options
        );
        // only what is set on the volume: defaults are not read (no per-volume command)
        let info = n.gluster(&["volume", "info", VOL]);
        let set: Vec<&str> = info
            .lines()
            .skip_while(|l| !l.starts_with("Options Reconfigured:"))
            .skip(1)
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k.trim()))
            .collect();
        assert_eq!(
            v.options
                .keys()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            set.iter().copied().collect::<BTreeSet<_>>(),
            "{ctx}: the options `volume info {VOL}` lists as reconfigured:\n{info}"
        );

        // the declared directory-brick paths
        for path in ["/bricks/d0", "/bricks/d1"] {
            let p = f
                .paths
                .get(path)
                .unwrap_or_else(|| panic!("{ctx}: no facts for {path}: {:?}", f.paths));
            assert!(p.exists, "{ctx}: {path} exists");
            assert_eq!(p.mount_target.as_deref(), Some(path), "{ctx}: {p:?}");
            assert_eq!(p.fstype.as_deref(), Some("xfs"), "{ctx}: {p:?}");
            let (size, avail) = df(n, path);
            assert_eq!(p.total, Some(size), "{ctx}: {path} size vs df -B1");
            let free = p.free.unwrap_or_else(|| panic!("{ctx}: {path} free"));
            assert!(free > 0, "{ctx}: {path} free > 0");
            // the brick process writes into /bricks/d0 while we look (.glusterfs, health
            // checks): a few MiB either way is the same filesystem state
            assert!(
                free.abs_diff(avail) <= 8 << 20,
                "{ctx}: {path} free {free} vs df avail {avail}"
            );
        }
        // brick directories brickyard may have made are listed two levels down
        // (`<path>/<vol>/s*p*`); a brick gluster places on this node is listed wherever
        // it is (`local_bricks`), so this test's hand-made brick `/bricks/d0/<VOL>` is
        // there, a plain unmarked directory (what adoption needs to see)
        let hand: Vec<_> = f
            .brick_dirs
            .iter()
            .filter(|d| d.path == brick_dir())
            .collect();
        assert_eq!(
            hand.len(),
            1,
            "{ctx}: the node's brick once in {:?}",
            f.brick_dirs
        );
        assert_eq!(
            hand[0].kind,
            BrickDirKind::Directory,
            "{ctx}: {:?}",
            hand[0]
        );
        assert_eq!(hand[0].mark, None, "{ctx}: {:?}", hand[0]);
        for d in f.brick_dirs.iter().filter(|d| d.path != brick_dir()) {
            let rest = ["/bricks/d0/", "/bricks/d1/"]
                .iter()
                .find_map(|b| d.path.strip_prefix(b));
            assert!(
                rest.is_some_and(|r| r.split('/').count() == 2),
                "{ctx}: {d:?} is two levels under a declared path"
            );
        }
        let m = f
            .mounts
            .iter()
            .find(|m| m.target == "/bricks/d0")
            .unwrap_or_else(|| panic!("{ctx}: /bricks/d0 not among mounts"));
        assert_eq!(m.fstype, "xfs", "{ctx}: {m:?}");
        assert!(f.lock.is_none(), "{ctx}: no apply lock");
    }

    cleanup.finish();
}

/// Everything a gather could conceivably change on a node, as text.
fn snapshot(n: &Node) -> String {
    let cmds: &[&[&str]] = &[
        &["gluster", "--mode=script", "volume", "info"],
        &["gluster", "--mode=script", "pool", "list"],
        &["findmnt", "-rn"],
        &["cat", "/etc/fstab"],
        // --full-time: a rewrite within the same minute must still show. Nothing is
        // excluded: on these nodes glusterd rewrites no file under /var/lib/glusterd on
        // its own while nothing is asked of it (the test would show it, on both sides).
        &["ls", "-laR", "--full-time", "/var/lib/glusterd"],
        &[
            "ls",
            "-la",
            "--full-time",
            "/var/lib/brickyard",
            "/bricks/d0",
            "/bricks/d1",
        ],
    ];
    let mut s = String::new();
    for argv in cmds {
        let out = n.run(argv);
        s.push_str(&format!(
            "$ {}\nstatus: {}\n{}{}\n",
            argv.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    s
}

#[test]
fn gather_is_read_only() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let nodes = lab.nodes(Tier::N);
    let cleanup = Cleanup::start(&nodes);
    make_cluster(&nodes);
    // let glusterd finish what volume start set in motion before the first snapshot
    std::thread::sleep(Duration::from_secs(3));

    let before: Vec<String> = nodes.iter().map(|n| snapshot(n)).collect();
    let d = desired(&nodes, &lab.known_hosts, &[]);
    let obs = gather_with(&d, |t| t);
    assert_eq!(obs.unreachable().count(), 0, "{:?}", obs.nodes);
    for n in &nodes {
        assert_eq!(facts(&obs, &n.name).volumes.len(), 1, "{}", n.name);
    }
    let after: Vec<String> = nodes.iter().map(|n| snapshot(n)).collect();
    for ((n, b), a) in nodes.iter().zip(&before).zip(&after) {
        assert!(
            b == a,
            "{}: the node changed during a gather:\n--- before\n{b}\n--- after\n{a}",
            n.name
        );
    }

    cleanup.finish();
}

/// Count of successful logins recorded by a node's sshd (its log is on the host).
fn logins(n: &Node) -> usize {
    std::fs::read_to_string(n.state_dir.join("sshd.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("Accepted publickey"))
        .count()
}

#[test]
fn one_unreachable_node_does_not_stop_the_others() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let nodes = lab.nodes(Tier::N);
    let cleanup = Cleanup::start(&nodes);

    // n3 on a port nothing listens on: connection refused
    let d = desired(&nodes, &lab.known_hosts, &[("n3", "ssh: { port: 2 }")]);
    let obs = gather_with(&d, |t| t);
    for n in ["n1", "n2"] {
        let f = facts(&obs, n);
        assert_eq!(f.hostname, n);
        assert!(f.glusterd_running, "{n}");
        assert!(f.paths["/bricks/d0"].exists, "{n}");
    }
    match &obs.nodes["n3"] {
        NodeObservation::Unreachable(e) => {
            assert_eq!(e.kind, "connection_refused", "{e:?}");
            assert!(e.message.contains("n3"), "names the node: {e:?}");
        }
        other => panic!("n3 on port 2 reachable? {other:?}"),
    }
    assert_eq!(
        obs.unreachable()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["n3"]
    );

    // n3 at an address of the lab's own subnet that no node has: nothing answers ARP
    let prefix = lab
        .subnet_n
        .strip_suffix(".0/24")
        .unwrap_or_else(|| panic!("tier N subnet {} is a /24", lab.subnet_n));
    let nowhere = format!("{prefix}.99");
    assert!(nodes.iter().all(|n| n.address != nowhere));
    let mut d = desired(&nodes, &lab.known_hosts, &[]);
    d.nodes.get_mut("n3").expect("n3 declared").manage = nowhere.clone();
    let obs = gather_with(&d, |t| t);
    for n in ["n1", "n2"] {
        assert_eq!(facts(&obs, n).hostname, n);
    }
    match &obs.nodes["n3"] {
        NodeObservation::Unreachable(e) => {
            assert_eq!(e.kind, "no_route", "{e:?}");
            assert!(e.message.contains("n3"), "names the node: {e:?}");
            assert!(e.message.contains(&nowhere), "names the address: {e:?}");
        }
        other => panic!("n3 at {nowhere} reachable? {other:?}"),
    }

    // n2 presents a key other than the one known_hosts holds for it
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = tmp.path().join("other");
    host_ok(&[
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        &key.display().to_string(),
    ]);
    let other_pub = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
    let other: Vec<&str> = other_pub.split_whitespace().take(2).collect();
    let known = std::fs::read_to_string(&lab.known_hosts).expect("lab known_hosts");
    let n2 = lab.node("n2");
    let mut replaced = 0;
    let tampered: String = known
        .lines()
        .map(|l| {
            let hosts = l.split_whitespace().next().unwrap_or("");
            if hosts.split(',').any(|h| h == n2.address || h == n2.name) {
                replaced += 1;
                format!("{hosts} {} {}\n", other[0], other[1])
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_eq!(replaced, 1, "one known_hosts line for n2:\n{known}");
    assert_ne!(tampered, known);
    let kh = tmp.path().join("known_hosts");
    std::fs::write(&kh, &tampered).expect("write known_hosts");

    let d = desired(&nodes, &kh, &[]);
    let logins_before = logins(n2);
    let obs = gather_with(&d, |t| t);
    let logins_after = logins(n2);
    for n in ["n1", "n3"] {
        assert_eq!(facts(&obs, n).hostname, n);
    }
    match &obs.nodes["n2"] {
        NodeObservation::Unreachable(e) => {
            assert_eq!(e.kind, "host_key_changed", "{e:?}");
            assert!(e.message.contains("n2"), "names the node: {e:?}");
        }
        other => panic!("n2 with a changed host key reachable? {other:?}"),
    }
    // refused before authenticating: n2's sshd recorded no login
    assert_eq!(logins_before, logins_after, "no login on n2");
    assert!(
        logins_before > 0,
        "sshd.log records logins (else the check above proves nothing)"
    );

    cleanup.finish();
}

/// One command per node, `volume status` read on one of them for all; with the guessed
/// reader unreachable, one more command on the next node reads it.
#[test]
fn exactly_one_remote_command_per_node() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let nodes = lab.nodes(Tier::N);
    let cleanup = Cleanup::start(&nodes);
    // with a volume, so that volume facts (its options, its bricks' state) are part of
    // the one command
    make_cluster(&nodes);

    let d = desired(&nodes, &lab.known_hosts, &[]);
    let counters = std::sync::Mutex::new(Vec::<Arc<Counting>>::new());
    let obs = gather_with(&d, |t| {
        let c = Arc::new(Counting::new(t));
        counters.lock().expect("lock").push(c.clone());
        c
    });
    for n in &nodes {
        let f = facts(&obs, &n.name);
        assert_eq!(f.volumes.len(), 1, "{}", n.name);
        assert!(
            !f.volumes[0].options.is_empty(),
            "{}: the volume's options were read",
            n.name
        );
    }
    let counters = counters.into_inner().expect("lock");
    assert_eq!(counters.len(), nodes.len());
    for c in &counters {
        assert_eq!(c.calls(), 1, "remote commands sent to {}", c.node());
    }
    // `volume status` was read on one node (n1) and its brick states reach every view
    let all_online = |obs: &gather::Observed, n: &str| {
        facts(obs, n).volumes[0]
            .bricks
            .iter()
            .all(|b| b.online == Some(true) && b.port.is_some())
    };
    for n in &nodes {
        assert!(
            all_online(&obs, &n.name),
            "{}: {:?}",
            n.name,
            facts(&obs, &n.name).volumes
        );
    }

    // n1, the first-guessed reader, cannot be reached: n2 gets one more command that
    // reads it, n3 still one, and both views hold the bricks' states
    let d = desired(&nodes, &lab.known_hosts, &[("n1", "ssh: { port: 2 }")]);
    let counters = std::sync::Mutex::new(Vec::<Arc<Counting>>::new());
    let obs = gather_with(&d, |t| {
        let c = Arc::new(Counting::new(t));
        counters.lock().expect("lock").push(c.clone());
        c
    });
    let calls: BTreeMap<String, usize> = counters
        .into_inner()
        .expect("lock")
        .iter()
        .map(|c| (c.node().to_string(), c.calls()))
        .collect();
    assert_eq!(
        calls,
        BTreeMap::from([("n1".into(), 1), ("n2".into(), 2), ("n3".into(), 1)])
    );
    for n in ["n2", "n3"] {
        assert!(all_online(&obs, n), "{n}: {:?}", facts(&obs, n).volumes);
    }

    cleanup.finish();
}

/// Live ssh ControlMasters whose parent is `pid` (zombies excluded).
fn masters_of(pid: u32) -> Vec<u32> {
    let out = std::process::Command::new("pgrep")
        .args(["-P", &pid.to_string(), "-f", "^ssh -E"])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            // state is the field after the parenthesised command name
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn ssh_masters_die_with_a_killed_brickyard() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let nodes = lab.nodes(Tier::N);
    // n3 at an unused address of the lab's own subnet: its connect hangs for seconds, so
    // brickyard is still running, with the other masters open, when it is killed.
    let unused = {
        let a = &nodes[2].address;
        let prefix = a.rsplit_once('.').map(|(p, _)| p).unwrap_or(a);
        format!("{prefix}.99")
    };
    let mut text = config_text(&nodes, &lab.known_hosts, &[]);
    text = text.replace(
        &format!("manage: {},", nodes[2].address),
        &format!("manage: {unused},"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("brickyard.yaml");
    std::fs::write(&cfg, &text).expect("write config");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_brickyard"))
        .args(["gather", "-c"])
        .arg(&cfg)
        .arg("-o")
        .arg(dir.path().join("facts.json"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("brickyard runs");
    let mut masters = Vec::new();
    let start = Instant::now();
    while masters.len() < 3 && start.elapsed() < Duration::from_secs(10) {
        if child.try_wait().expect("try_wait").is_some() {
            panic!("brickyard gather ended before its 3 masters were seen");
        }
        masters = masters_of(child.id());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(masters.len() >= 3, "saw masters {masters:?}");
    // the control directory (`-S DIR/m`) is private: its socket is a door into the node
    for m in &masters {
        let cmdline = std::fs::read(format!("/proc/{m}/cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let i = args
            .iter()
            .position(|a| a == "-S")
            .unwrap_or_else(|| panic!("master {m} has no -S: {args:?}"));
        let sock = Path::new(&args[i + 1]);
        let dir = sock.parent().expect("socket has a directory");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir)
                .expect("control dir exists")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o700, "{}", dir.display());
    }
    child.kill().expect("kill -9 brickyard");
    let _ = child.wait();
    wait_for(
        "ssh masters to exit after brickyard was killed",
        Duration::from_secs(10),
        || masters.iter().all(|m| !alive(*m)),
    );
}
