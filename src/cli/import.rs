//! `brickyard import heketi TOPOLOGY.json`: print an equivalent brickyard config.
//! The output is validated before it is printed; problems carried over from the
//! topology (say, a device not under /dev) are reported on stderr with exit 1.

use std::io::{Read, Write};
use std::path::PathBuf;

use brickyard::config::{self, Format, heketi};

use super::error::{CommandError, CommandResult, Exit};
use super::ui::Ui;

/// Topology files are small; this only guards against reading a wrong huge file.
const MAX_TOPOLOGY_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    source: Source,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Source {
    /// Convert a Heketi topology.json (the file `heketi-cli topology load` reads).
    Heketi(HeketiArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutFormat {
    Yaml,
    Hcl,
}

#[derive(Debug, clap::Args)]
pub(crate) struct HeketiArgs {
    /// Path to the Heketi topology JSON.
    topology: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
    format: OutFormat,
    /// Which cluster of the topology to convert (1-based); needed when there are several.
    #[arg(long, value_name = "N")]
    cluster: Option<usize>,
    /// brickyard cluster name for the output (default `heketi`, or `heketi-N`).
    #[arg(long)]
    name: Option<String>,
}

pub(crate) fn run(ui: &Ui, args: Args) -> CommandResult {
    match args.source {
        Source::Heketi(a) => heketi_run(ui, a),
    }
}

fn heketi_run(ui: &Ui, a: HeketiArgs) -> CommandResult {
    let mut text = String::new();
    std::fs::File::open(&a.topology)
        .and_then(|f| f.take(MAX_TOPOLOGY_BYTES).read_to_string(&mut text))
        .map_err(|e| CommandError::message(format!("cannot read {}: {e}", a.topology.display())))?;
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
    let out = heketi::convert(&text, &opts).map_err(|e| CommandError::message(e.to_string()))?;
    let file = match format {
        Format::Yaml => "imported.yaml",
        Format::Hcl => "imported.hcl",
    };
    let loaded = config::parse_str(file, &out, format);
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if loaded.diagnostics.is_empty() {
        return Ok(Exit::Success);
    }
    ui.print_diagnostics(&loaded);
    if loaded.has_errors() {
        Err(CommandError::message(
            "the imported config does not validate; fix the topology or the output",
        ))
    } else {
        Ok(Exit::Success)
    }
}
