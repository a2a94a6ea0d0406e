//! `brickyard unlock`: explicitly clear apply locks left by a killed run. Never done
//! automatically; here too a lock is removed only if it is still the one shown, and a
//! lock whose holder is a running process on this host is refused.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::lock::{self, Cleared, LockLocation, LockState};
use crate::transport::Transport;

use super::apply::session;
use super::exit;

#[derive(Debug, clap::Args)]
pub struct UnlockArgs {
    /// Config file (default: brickyard.yaml, brickyard.yml or brickyard.hcl in the current directory).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only this node (default: every node of the config).
    #[arg(long, value_name = "NODE")]
    pub node: Vec<String>,
}

pub fn run(args: UnlockArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    ExitCode::from(rt.block_on(unlock(args)))
}

async fn unlock(args: UnlockArgs) -> u8 {
    let Some((_, desired)) = session::load_config(args.config) else {
        return exit::ERROR;
    };
    let unknown: Vec<&String> = args
        .node
        .iter()
        .filter(|n| !desired.nodes.contains_key(*n))
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "error: not a node of the config: {}",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return exit::ERROR;
    }
    let cluster = session::connect(&desired).await;
    let transports = cluster.transports();
    let at = LockLocation::default();
    let this_host = lock::local_hostname();
    let mut failed = false;
    for (node, transport) in &transports {
        if !args.node.is_empty() && !args.node.contains(node) {
            continue;
        }
        match unlock_node(&at, &**transport, &this_host).await {
            Ok(msg) => eprintln!("{node}: {msg}"),
            Err(msg) => {
                eprintln!("{node}: {msg}");
                failed = true;
            }
        }
    }
    cluster.close().await;
    if failed { exit::ERROR } else { exit::OK }
}

async fn unlock_node(
    at: &LockLocation,
    transport: &dyn Transport,
    this_host: &str,
) -> Result<String, String> {
    let state = lock::read(at, transport).await?;
    let (expected, shown) = match &state {
        LockState::Free => return Ok("not locked".into()),
        LockState::NoHolder => (String::new(), "a lock without holder file".to_string()),
        LockState::Held { text, holder } => {
            if let Some(h) = holder
                && h.holder_host == this_host
                && lock::pid_alive(h.pid)
            {
                return Err(format!(
                    "locked by process {} on this host, which is still running (an apply in progress?); not removed",
                    h.pid
                ));
            }
            let shown = match holder {
                Some(h) => format!(
                    "the lock of host {}, pid {}, started {}",
                    h.holder_host, h.pid, h.started
                ),
                None => format!("a lock with an unreadable holder ({:?})", text.trim()),
            };
            (text.clone(), shown)
        }
    };
    match lock::clear(at, transport, &expected).await? {
        Cleared::Removed => Ok(format!("removed {shown}")),
        Cleared::Gone => Ok("not locked (removed meanwhile)".into()),
        Cleared::NotOurs => Err(format!(
            "the lock changed while unlocking (was {shown}); not removed — run unlock again to see it"
        )),
    }
}
