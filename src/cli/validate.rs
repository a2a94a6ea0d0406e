//! `brickyard validate`: check a config and say what is wrong, all at once.
//! Exit 0 when valid (warnings allowed), 1 when invalid or unreadable.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::exit;
use crate::config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file (default: brickyard.yaml, brickyard.yml or brickyard.hcl in the current directory).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `human`: reports on stderr; `json`: one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// Resolve `-c` or discover in the current directory.
pub fn config_path(config: Option<PathBuf>) -> Result<PathBuf, config::LoadError> {
    match config {
        Some(p) => Ok(p),
        None => config::discover(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    }
}

pub fn run(args: Args) -> ExitCode {
    let loaded = config_path(args.config).and_then(|p| config::load(&p).map(|l| (p, l)));
    let (path, loaded) = match loaded {
        Ok(x) => x,
        Err(e) => {
            match args.format {
                OutputFormat::Human => eprintln!("{:?}", miette::Report::new(e)),
                OutputFormat::Json => {
                    let doc = serde_json::json!({
                        "valid": false, "error_count": 1, "warning_count": 0,
                        "diagnostics": [{
                            "severity": "error", "code": load_error_code(&e), "message": e.to_string(),
                            "help": null, "file": null, "range": null,
                        }],
                    });
                    println!("{doc}");
                }
            }
            return ExitCode::from(exit::ERROR);
        }
    };
    match args.format {
        OutputFormat::Json => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", loaded.to_json());
        }
        OutputFormat::Human => {
            let stderr = std::io::stderr();
            let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let width = terminal_width();
            let mut err = stderr.lock();
            let _ = write!(err, "{}", loaded.render(width, color));
            let verdict = if loaded.has_errors() {
                "invalid"
            } else {
                "valid"
            };
            let _ = writeln!(
                err,
                "{}: {verdict} ({} error(s), {} warning(s))",
                path.display(),
                loaded.error_count(),
                loaded.warning_count()
            );
        }
    }
    ExitCode::from(if loaded.has_errors() {
        exit::ERROR
    } else {
        exit::OK
    })
}

fn load_error_code(e: &config::LoadError) -> String {
    use miette::Diagnostic;
    e.code().map(|c| c.to_string()).unwrap_or_default()
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w: &usize| *w >= 40)
        .unwrap_or(100)
}
