//! `brickyard unlock`: explicitly clear apply locks left by a killed run. A lock is
//! removed only if it is still the one shown; one that may belong to an apply running
//! right now (another host's, younger than the stale age; a holderless one being taken)
//! needs `--force`; one whose holder is a running process on this host is refused
//! (`lock::may_clear` decides).

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
    /// Also remove locks that may belong to an apply running right now: another host's
    /// recent lock, or one being taken (never a running process of this host).
    #[arg(long)]
    force: bool,
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
    ui.block_on(unlock(&desired, &args.node, args.force))
}

async fn unlock(desired: &brickyard::config::Desired, only: &[String], force: bool) -> Exit {
    let cluster = session::connect(desired).await;
    let transports = cluster.transports();
    let at = LockLocation::default();
    let here = lock::Here::local();
    let mut failed = false;
    for (node, transport) in &transports {
        if !only.is_empty() && !only.contains(node) {
            continue;
        }
        match unlock_node(&at, &**transport, &here, force).await {
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
    here: &lock::Here<'_>,
    force: bool,
) -> Result<String, String> {
    let state = lock::read(at, transport).await?;
    lock::may_clear(&state, here, std::time::SystemTime::now(), force)?;
    let (expected, shown) = match &state {
        LockState::Free => return Ok("not locked".into()),
        LockState::NoHolder { .. } => (String::new(), "a lock without holder file".to_string()),
        LockState::Held { text, holder } => {
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
