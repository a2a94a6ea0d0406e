//! The command line: clap commands, terminals, colors and exit codes live here only.

use std::process::ExitCode;

use clap::Parser;

mod apply;
mod gather;
pub mod import;
mod plan;
mod unlock;
pub mod validate;

/// Documented exit codes (README.md, "Commands").
pub mod exit {
    /// Success; for `plan --detailed-exitcode`, no changes.
    pub const OK: u8 = 0;
    /// Error, invalid config, or a failed apply.
    pub const ERROR: u8 = 1;
    /// `plan --detailed-exitcode`: the plan has changes.
    pub const CHANGES: u8 = 2;
    /// Bad command-line usage (clap's own code).
    pub const USAGE: u8 = 64;
}

#[derive(Debug, Parser)]
#[command(
    name = "brickyard",
    version,
    about = "Declarative GlusterFS: plan and apply storage over SSH"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
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

pub fn run() -> ExitCode {
    // clap exits 2 on usage errors, which would read as "plan has changes" under
    // --detailed-exitcode; map usage errors to their own documented code.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Import(args) => import::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Gather(args) => gather::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Unlock(args) => unlock::run(args),
    }
}
