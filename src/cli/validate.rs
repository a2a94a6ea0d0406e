//! `brickyard validate`: check a config and say what is wrong, all at once.
//! Exit 0 when valid (warnings allowed), 1 when invalid or unreadable.

use std::io::Write;
use std::path::PathBuf;

use brickyard::config;

use super::error::{CommandError, CommandResult, Exit};
use super::loader;
use super::ui::Ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Config file (default: brickyard.yaml, brickyard.yml or brickyard.hcl in the current directory).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// `human`: reports on stderr; `json`: one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

pub(crate) fn run(ui: &Ui, args: Args) -> CommandResult {
    let (path, loaded) = match loader::read(args.config.as_deref()) {
        Ok(x) => x,
        // JSON asked for: the failure is the document on stdout, not a report.
        Err(e) if args.format == OutputFormat::Json => {
            let doc = serde_json::json!({
                "valid": false, "error_count": 1, "warning_count": 0,
                "diagnostics": [{
                    "severity": "error", "code": load_error_code(&e), "message": e.to_string(),
                    "help": null, "file": null, "range": null,
                }],
            });
            println!("{doc}");
            return Ok(Exit::Failure);
        }
        Err(e) => return Err(CommandError::from(e)),
    };
    match args.format {
        OutputFormat::Json => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", loaded.to_json());
        }
        OutputFormat::Human => {
            ui.print_diagnostics(&loaded);
            let verdict = if loaded.has_errors() {
                "invalid"
            } else {
                "valid"
            };
            eprintln!(
                "{}: {verdict} ({} error(s), {} warning(s))",
                path.display(),
                loaded.error_count(),
                loaded.warning_count()
            );
        }
    }
    Ok(if loaded.has_errors() {
        Exit::Failure
    } else {
        Exit::Success
    })
}

fn load_error_code(e: &config::LoadError) -> String {
    use miette::Diagnostic;
    e.code().map(|c| c.to_string()).unwrap_or_default()
}
