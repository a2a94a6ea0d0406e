//! `brickyard gather`: read every node (one read-only probe each) and write the facts.
//! JSON to `-o FILE` or stdout (`--json`); a human summary on a terminal. Exit 1 names
//! the unreachable nodes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file (YAML or HCL); default: discovered in the current directory.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write the facts (JSON) to this file.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the facts as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Nodes gathered at once.
    #[arg(long, default_value_t = 32)]
    pub parallelism: usize,
}

pub fn run(args: Args) -> ExitCode {
    match gather_cmd(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn gather_cmd(args: &Args) -> Result<u8, String> {
    let path = super::validate::config_path(args.config.clone()).map_err(|e| e.to_string())?;
    let loaded = crate::config::load(&path).map_err(|e| e.to_string())?;
    if !loaded.diagnostics.is_empty() {
        let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
        eprint!("{}", loaded.render(100, color));
    }
    let desired = loaded
        .desired
        .ok_or_else(|| format!("{} is not valid (see above)", path.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let obs = rt.block_on(async {
        let transports = crate::transport::ssh_transports(&desired);
        // Ctrl-C: stop gathering, but still close every ControlMaster before exiting.
        let r = tokio::select! {
            o = crate::gather::gather(&desired, &transports, args.parallelism) => Some(o),
            _ = tokio::signal::ctrl_c() => None,
        };
        crate::transport::close_all(&transports).await;
        r
    });
    let Some(obs) = obs else {
        eprintln!("interrupted");
        return Ok(exit::ERROR);
    };
    let json = serde_json::to_string_pretty(&obs).map_err(|e| e.to_string())?;
    if let Some(out) = &args.out {
        std::fs::write(out, format!("{json}\n"))
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    if args.json {
        println!("{json}");
    } else if std::io::stdout().is_terminal() || args.out.is_none() {
        print!("{}", crate::render::facts::summary(&obs));
    }
    let down: Vec<String> = obs
        .unreachable()
        .map(|(n, e)| format!("{n} ({})", e.kind))
        .collect();
    if down.is_empty() {
        Ok(exit::OK)
    } else {
        eprintln!("error: unreachable: {}", down.join(", "));
        Ok(exit::ERROR)
    }
}
