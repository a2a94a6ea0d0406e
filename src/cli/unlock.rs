//! `brickyard unlock`: explicitly clear apply locks left by a killed run. Never done
//! automatically; here too a lock is removed only if it is still the one shown, and a
//! lock whose holder is a running process on this host is refused.

use std::path::PathBuf;

use brickyard::lock::{self, Cleared, LockLocation, LockState};
use brickyard::render::escape::escape_text;
use brickyard::transport::Transport;

use super::error::{CommandError, CommandResult, Exit};
use super::ui::Ui;
use super::{loader, session};

#[derive(Debug, clap::Args)]
pub(crate) struct UnlockArgs {
    /// Config file (default: brickyard.yaml, brickyard.yml or brickyard.hcl in the current directory).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only this node (default: every node of the config).
    #[arg(long, value_name = "NODE")]
    node: Vec<String>,
}

pub(crate) fn run(ui: &Ui, args: UnlockArgs) -> CommandResult {
    let desired = loader::load(ui, args.config.as_deref())?.desired;
    let unknown: Vec<&str> = args
        .node
        .iter()
        .filter(|n| !desired.nodes.contains_key(*n))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(CommandError::message(format!(
            "not a node of the config: {}",
            unknown.join(", ")
        )));
    }
    ui.block_on(unlock(&desired, &args.node))
}

async fn unlock(desired: &brickyard::config::Desired, only: &[String]) -> Exit {
    let cluster = session::connect(desired).await;
    let transports = cluster.transports();
    let at = LockLocation::default();
    let this_host = lock::local_hostname();
    let mut failed = false;
    for (node, transport) in &transports {
        if !only.is_empty() && !only.contains(node) {
            continue;
        }
        match unlock_node(&at, &**transport, &this_host).await {
            // the holder text comes from the node
            Ok(msg) => eprintln!("{node}: {}", escape_text(&msg)),
            Err(msg) => {
                eprintln!("{node}: {}", escape_text(&msg));
                failed = true;
            }
        }
    }
    cluster.close().await;
    if failed { Exit::Failure } else { Exit::Success }
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
