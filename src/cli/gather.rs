//! `brickyard gather`: read every node (one read-only probe each) and write the facts.
//! JSON to `-o FILE` or stdout (`--json`); a human summary on a terminal. Exit 1 names
//! the unreachable nodes.

use std::path::PathBuf;

use super::error::{CommandError, CommandResult, Exit};
use super::ui::Ui;
use super::{loader, session};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Config file (YAML or HCL, or a `.json` Desired model); default: discovered in the current directory.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write the facts (JSON) to this file.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the facts as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Nodes gathered at once.
    #[arg(long, default_value_t = session::GATHER_PARALLELISM)]
    parallelism: usize,
}

pub(crate) fn run(ui: &Ui, args: Args) -> CommandResult {
    let desired = loader::load(ui, args.config.as_deref())?.desired;
    let obs = ui.block_on(async {
        let cluster = session::connect(&desired).await;
        // Ctrl-C: stop gathering, but still close every ControlMaster before exiting.
        let r = tokio::select! {
            o = cluster.gather(&desired, args.parallelism) => Some(o),
            _ = tokio::signal::ctrl_c() => None,
        };
        cluster.close().await;
        r
    })?;
    let Some(obs) = obs else {
        eprintln!("interrupted");
        return Ok(Exit::Failure);
    };
    let json =
        serde_json::to_string_pretty(&obs).map_err(|e| CommandError::message(e.to_string()))?;
    if let Some(out) = &args.out {
        super::files::write_private(out, &format!("{json}\n"))
            .map_err(|e| CommandError::message(format!("cannot write {}: {e}", out.display())))?;
    }
    if args.json {
        println!("{json}");
    } else if ui.stdout_is_terminal() || args.out.is_none() {
        print!("{}", brickyard::render::facts::summary(&obs));
    }
    let down: Vec<String> = obs
        .unreachable()
        .map(|(n, e)| format!("{n} ({})", e.kind))
        .collect();
    if down.is_empty() {
        Ok(Exit::Success)
    } else {
        Err(CommandError::message(format!(
            "unreachable: {}",
            down.join(", ")
        )))
    }
}
