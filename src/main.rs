//! The `brickyard` binary. Everything about the command line (clap, terminals, colors,
//! errors, exit codes) lives in the `cli` module here, not in the library.

#![warn(unreachable_pub)]

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::run()
}
