//! Reading the real state of every node: one read-only probe per node over a
//! [`crate::transport::Transport`], parsed locally into [`Observed`].
//! There is no state file; these facts are the only truth the planner sees.
//! Gather is handed its [`Transports`]; it never builds one (that is `transport`'s job).

pub mod hosts;
pub mod model;
pub mod parse;
pub mod probe;
pub mod status;

pub use model::*;

use std::collections::BTreeMap;

use futures::future::join_all;
use tokio::sync::Semaphore;

use crate::config::{Desired, Node};
use crate::transport::{Transport, TransportError, Transports};

/// Gather every declared node concurrently, at most `parallelism` at a time. Never fails
/// as a whole: a node that cannot be read is recorded as [`NodeObservation::Unreachable`].
/// Each probe run gets a fresh random nonce for its section markers.
pub async fn gather(desired: &Desired, transports: &Transports, parallelism: usize) -> Observed {
    gather_with_nonces(desired, transports, parallelism, &probe::random_nonce).await
}

/// [`gather`] with the probe nonces chosen by `nonce`, called once per probe run: for
/// tests that replay recorded outputs, which need to know the nonce in advance.
pub async fn gather_with_nonces(
    desired: &Desired,
    transports: &Transports,
    parallelism: usize,
    nonce: &(dyn Fn() -> Result<String, String> + Sync),
) -> Observed {
    let sem = Semaphore::new(parallelism.max(1));
    let guess = status::guess(desired);
    let jobs = desired.nodes.iter().map(|(name, node)| {
        let sem = &sem;
        let t = transports.get(name).cloned();
        let read_status = guess == Some(name.as_str());
        async move {
            let obs = match t {
                None => NodeObservation::Unreachable(NodeError {
                    kind: "no_transport".into(),
                    message: format!("no transport was set up for node {name}"),
                }),
                Some(t) => match sem.acquire().await {
                    Ok(_permit) => match nonce() {
                        Ok(n) => gather_node(node, t.as_ref(), &n, read_status).await,
                        Err(message) => NodeObservation::Unreachable(NodeError {
                            kind: "other".into(),
                            message,
                        }),
                    },
                    Err(_) => NodeObservation::Unreachable(NodeError {
                        kind: "other".into(),
                        message: "gather was cancelled".into(),
                    }),
                },
            };
            (name.clone(), obs)
        }
    });
    let mut nodes: BTreeMap<String, NodeObservation> = join_all(jobs).await.into_iter().collect();
    settle_status(desired, transports, nonce, &mut nodes, guess).await;
    Observed {
        format_version: FORMAT_VERSION,
        nodes,
    }
}

/// Check the guessed `volume status` reader against the facts and, when it is not the
/// right one or its read failed, probe the next candidate with the read (gather::status);
/// then share the read into every node's view.
async fn settle_status(
    desired: &Desired,
    transports: &Transports,
    nonce: &(dyn Fn() -> Result<String, String> + Sync),
    nodes: &mut BTreeMap<String, NodeObservation>,
    guess: Option<&str>,
) {
    let mut tried: Vec<String> = guess.map(String::from).into_iter().collect();
    let mut from = None;
    let mut partial = None;
    for c in status::candidates(desired, nodes) {
        if !tried.contains(&c) {
            let (Some(node), Some(t)) = (desired.nodes.get(&c), transports.get(&c)) else {
                continue;
            };
            tried.push(c.clone());
            let Ok(n) = nonce() else { continue };
            let obs = gather_node(node, t.as_ref(), &n, true).await;
            nodes.insert(c.clone(), obs);
        }
        match status::read_of(nodes.get(&c)) {
            status::Read::Whole => {
                from = Some(c);
                break;
            }
            status::Read::Partial => {
                partial.get_or_insert(c);
            }
            status::Read::None => {}
        }
    }
    status::share(nodes, from.or(partial).as_deref(), &tried);
}

/// Probe one node: exactly one `Transport::run`. Output not framed with this run's
/// marker, or cut off, makes the node unreachable (`probe_failed`), not half-known.
async fn gather_node(
    node: &Node,
    t: &dyn Transport,
    nonce: &str,
    read_status: bool,
) -> NodeObservation {
    let out = match t.run(&probe::command(node, nonce, read_status)).await {
        Ok(o) => o,
        Err(e) => return NodeObservation::Unreachable(transport_error(&e)),
    };
    let stdout = out.stdout_lossy();
    if !out.success() {
        let err = out.stderr_lossy();
        let first = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return NodeObservation::Unreachable(NodeError {
            kind: "probe_failed".into(),
            message: format!(
                "the probe exited with {} on {}{}",
                out.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "a signal".into()),
                t.node(),
                if first.is_empty() {
                    String::new()
                } else {
                    format!(": {first}")
                }
            ),
        });
    }
    match parse::parse_probe(&stdout, &parse::sections::marker(nonce)) {
        Ok(f) => NodeObservation::Reachable(Box::new(f)),
        Err(e) => NodeObservation::Unreachable(NodeError {
            kind: "probe_failed".into(),
            message: format!("{} on {}", e, t.node()),
        }),
    }
}

fn transport_error(e: &TransportError) -> NodeError {
    NodeError {
        kind: e.kind().to_string(),
        message: e.to_string(),
    }
}

impl Observed {
    /// Nodes that could not be read, with their errors.
    pub fn unreachable(&self) -> impl Iterator<Item = (&String, &NodeError)> {
        self.nodes.iter().filter_map(|(n, o)| match o {
            NodeObservation::Unreachable(e) => Some((n, e)),
            NodeObservation::Reachable(_) => None,
        })
    }
}
