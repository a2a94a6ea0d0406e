//! `brickyard import heketi TOPOLOGY.json`: print an equivalent brickyard config.
//! The output is validated before it is printed; problems carried over from the
//! topology (say, a device not under /dev) are reported on stderr with exit 1.
//!
//! `brickyard import cluster [-c SEED] [--facts FILE]`: print the config for what the
//! cluster holds (`brickyard::import`). The text is parsed back and must give the very
//! model it was written from; gathered live, it is then planned against a fresh gather
//! and the plan's steps are counted on stderr (adoption only, when the import is true).

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
    /// Convert a Heketi topology.json (the file `heketi-cli topology load` reads), or a
    /// Heketi database export (`heketi db export`: nodes, devices and every volume,
    /// adopted in place).
    Heketi(HeketiArgs),
    /// Print the config for what a running cluster holds: nodes, the paths its bricks are
    /// in, every volume (`adopt: true` on volumes brickyard did not make).
    Cluster(ClusterArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ClusterArgs {
    /// Seed config naming the nodes and how to reach them (volumes in it are ignored).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Import from facts saved by `brickyard gather -o FILE` instead of reading the nodes.
    #[arg(long, value_name = "FILE")]
    facts: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
    format: OutFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutFormat {
    Yaml,
    Hcl,
}

#[derive(Debug, clap::Args)]
pub(crate) struct HeketiArgs {
    /// Path to the Heketi topology JSON, or to a `heketi db export` JSON file.
    topology: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
    format: OutFormat,
    /// Which cluster to convert when there are several: 1-based in a topology, Heketi's
    /// cluster id in a database export.
    #[arg(long, value_name = "N|ID")]
    cluster: Option<String>,
    /// brickyard cluster name for the output (default `heketi`, or `heketi-N`).
    #[arg(long)]
    name: Option<String>,
}

pub(crate) fn run(ui: &Ui, args: Args) -> CommandResult {
    match args.source {
        Source::Heketi(a) => heketi_run(ui, a),
        Source::Cluster(a) => cluster_run(ui, a),
    }
}

fn cluster_run(ui: &Ui, a: ClusterArgs) -> CommandResult {
    let seed = super::loader::load(ui, a.config.as_deref())?.desired;
    let live = a.facts.is_none();
    let observed = match &a.facts {
        Some(path) => super::plan::load_facts(path)?,
        None => super::plan::gather_live(ui, &seed)?,
    };
    let format = match a.format {
        OutFormat::Yaml => Format::Yaml,
        OutFormat::Hcl => Format::Hcl,
    };
    let (out, imported) = brickyard::import::cluster(&seed, &observed, format)
        .map_err(|e| CommandError::message(e.to_string()))?;
    let file = match format {
        Format::Yaml => "imported.yaml",
        Format::Hcl => "imported.hcl",
    };
    let loaded = config::parse_str(file, &out, format);
    if loaded.has_errors() || loaded.desired.as_ref() != Some(&imported.desired) {
        let _ = std::io::stdout().lock().write_all(out.as_bytes());
        ui.print_diagnostics(&loaded);
        return Err(CommandError::message(
            "the imported config does not read back as what was imported (above); please report this",
        ));
    }
    if live {
        let again = super::plan::gather_live(ui, &imported.desired)?;
        let opts = brickyard::plan::PlanOptions {
            allow_destroy: false,
            allow_wipe: false,
            new_cluster_id: Some(super::plan::new_cluster_id()?),
        };
        let p = brickyard::plan::plan(&imported.desired, &again, &opts);
        let adopt = p
            .steps
            .iter()
            .filter(|s| s.action == brickyard::plan::Action::Adopt)
            .count();
        // a first apply records the cluster identity on each node: not a change to storage
        let records = p
            .steps
            .iter()
            .filter(|s| s.id.ends_with("/cluster-id"))
            .count();
        let other: Vec<String> = p
            .steps
            .iter()
            .filter(|s| {
                !matches!(
                    s.action,
                    brickyard::plan::Action::Adopt | brickyard::plan::Action::NoOp
                ) && !s.id.ends_with("/cluster-id")
            })
            .map(|s| s.address.to_string())
            .collect();
        eprintln!(
            "Planned against the cluster: {adopt} adoption step(s) for {} volume(s), {records} identity record(s), {} other step(s){}, {} blocker(s).",
            imported.adopted.len(),
            other.len(),
            if other.is_empty() {
                String::new()
            } else {
                format!(" ({})", other.join(", "))
            },
            p.blockers.len()
        );
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(Exit::Success)
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
    let file = match format {
        Format::Yaml => "imported.yaml",
        Format::Hcl => "imported.hcl",
    };
    if is_db_export(&text) {
        return heketi_db_run(ui, &a, &text, format, file);
    }
    let cluster = match a.cluster.as_deref().map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return Err(CommandError::message(format!(
                "--cluster {}: a topology's clusters are numbered 1, 2, ...",
                a.cluster.as_deref().unwrap_or_default()
            )));
        }
    };
    let opts = heketi::ImportOptions {
        format,
        cluster,
        name: a.name,
        source_name: a.topology.display().to_string(),
    };
    let out = heketi::convert(&text, &opts).map_err(|e| CommandError::message(e.to_string()))?;
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

/// A `heketi db export` file (its top-level keys are the database's buckets).
fn is_db_export(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.as_object().map(|o| o.contains_key("clusterentries")))
        .unwrap_or(false)
}

/// The config a Heketi database export describes, validated by reading it back.
fn heketi_db_run(ui: &Ui, a: &HeketiArgs, text: &str, format: Format, file: &str) -> CommandResult {
    let base = brickyard::config::Desired {
        cluster: a.name.clone().unwrap_or_else(|| "heketi".into()),
        cluster_id: None,
        placement: Default::default(),
        nodes: Default::default(),
        volumes: Default::default(),
    };
    let imported = brickyard::import::heketi_db::from_export(
        text,
        a.cluster.as_deref(),
        &base,
        &a.topology.display().to_string(),
    )
    .map_err(|e| CommandError::message(e.to_string()))?;
    let out = brickyard::import::text(&imported, format);
    let loaded = config::parse_str(file, &out, format);
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if loaded.has_errors() || loaded.desired.as_ref() != Some(&imported.desired) {
        ui.print_diagnostics(&loaded);
        return Err(CommandError::message(
            "the imported config does not validate or does not read back as what was imported (above)",
        ));
    }
    eprintln!(
        "Imported {} node(s) and {} volume(s) from Heketi's database; `brickyard plan` checks each volume against the cluster before adopting it.",
        imported.desired.nodes.len(),
        imported.adopted.len()
    );
    Ok(Exit::Success)
}
