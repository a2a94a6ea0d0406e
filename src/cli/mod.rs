//! The command line: clap commands, terminals, colors, errors and exit codes live here
//! only (in the binary, not the library). Every command is
//! `fn run(ui: &Ui, args) -> CommandResult`: it reads its config through `loader`,
//! talks to nodes through `session`, asks `Ui` about colors and the terminal, and
//! returns an error instead of printing it; [`run`] prints it, once, and maps exit codes.

use std::process::ExitCode;

use clap::Parser;

mod apply;
mod error;
mod files;
mod gather;
mod import;
mod loader;
mod plan;
mod session;
mod ui;
mod unlock;
mod validate;

use error::{CommandError, CommandResult};
use ui::Ui;

#[derive(Debug, Parser)]
#[command(
    name = "brickyard",
    version,
    about = "Declarative GlusterFS: plan and apply storage over SSH"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check a config file and report every mistake (exit 0 valid, 1 invalid).
    Validate(validate::Args),
    /// Convert another tool's description of a cluster into a brickyard config.
    Import(import::Args),
    /// Show what apply would change, where every brick goes, and why it fits.
    Plan(plan::PlanArgs),
    /// Read every node's real state over SSH (read-only) and write the facts.
    Gather(gather::Args),
    /// Carry out the plan over SSH: guarded, parallel, resumable, locked.
    Apply(apply::ApplyArgs),
    /// Clear an apply lock left by a killed run (explicit; never automatic).
    Unlock(unlock::UnlockArgs),
}

impl Command {
    /// The command's own `--no-color` flag.
    fn no_color(&self) -> bool {
        match self {
            Command::Plan(a) => a.no_color,
            Command::Apply(a) => a.no_color,
            _ => false,
        }
    }
}

pub(crate) fn run() -> ExitCode {
    let result = match Cli::try_parse() {
        Ok(cli) => dispatch(cli.command),
        Err(e) => Err(CommandError::cli(e)),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            e.print();
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(command: Command) -> CommandResult {
    let ui = Ui::new(command.no_color());
    match command {
        Command::Validate(args) => validate::run(&ui, args),
        Command::Import(args) => import::run(&ui, args),
        Command::Plan(args) => plan::run(&ui, args),
        Command::Gather(args) => gather::run(&ui, args),
        Command::Apply(args) => apply::run(&ui, args),
        Command::Unlock(args) => unlock::run(&ui, args),
    }
}
