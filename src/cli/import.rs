//! `brickyard import heketi TOPOLOGY.json`: print an equivalent brickyard config.
//! The output is validated before it is printed; problems carried over from the
//! topology (say, a device not under /dev) are reported on stderr with exit 1.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::exit;
use crate::config::{self, Format, heketi};

/// Topology files are small; this only guards against reading a wrong huge file.
const MAX_TOPOLOGY_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(Debug, clap::Subcommand)]
pub enum Source {
    /// Convert a Heketi topology.json (the file `heketi-cli topology load` reads).
    Heketi(HeketiArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    Yaml,
    Hcl,
}

#[derive(Debug, clap::Args)]
pub struct HeketiArgs {
    /// Path to the Heketi topology JSON.
    pub topology: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
    pub format: OutFormat,
    /// Which cluster of the topology to convert (1-based); needed when there are several.
    #[arg(long, value_name = "N")]
    pub cluster: Option<usize>,
    /// brickyard cluster name for the output (default `heketi`, or `heketi-N`).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    match args.source {
        Source::Heketi(a) => heketi_run(a),
    }
}

fn heketi_run(a: HeketiArgs) -> ExitCode {
    let mut text = String::new();
    let read = std::fs::File::open(&a.topology)
        .and_then(|f| f.take(MAX_TOPOLOGY_BYTES).read_to_string(&mut text));
    if let Err(e) = read {
        eprintln!("error: cannot read {}: {e}", a.topology.display());
        return ExitCode::from(exit::ERROR);
    }
    let format = match a.format {
        OutFormat::Yaml => Format::Yaml,
        OutFormat::Hcl => Format::Hcl,
    };
    let opts = heketi::ImportOptions {
        format,
        cluster: a.cluster,
        name: a.name,
        source_name: a.topology.display().to_string(),
    };
    let out = match heketi::convert(&text, &opts) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let file = match format {
        Format::Yaml => "imported.yaml",
        Format::Hcl => "imported.hcl",
    };
    let loaded = config::parse_str(file, &out, format);
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if loaded.diagnostics.is_empty() {
        return ExitCode::from(exit::OK);
    }
    let stderr = std::io::stderr();
    let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = write!(stderr.lock(), "{}", loaded.render(100, color));
    if loaded.has_errors() {
        eprintln!("error: the imported config does not validate; fix the topology or the output");
        ExitCode::from(exit::ERROR)
    } else {
        ExitCode::from(exit::OK)
    }
}
