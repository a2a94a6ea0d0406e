//! `brickyard plan`: read the config and the facts (a facts file, or live gathering),
//! compute the plan, show it (human or JSON), optionally save it for apply.
//! Exit codes: 0 ok (no changes with --detailed-exitcode), 1 error, 2 changes
//! (--detailed-exitcode only). A plan with blockers is still a plan: it exits 0/2 and
//! lists them; apply runs only the unblocked steps.

use std::io::Read;
use std::path::{Path, PathBuf};

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{PlanOptions, plan};
use brickyard::render::plan as render;

use super::error::{CommandError, CommandResult, Exit};
use super::ui::Ui;
use super::{loader, session};

/// Nodes gathered at once when plan gathers live.
const GATHER_PARALLELISM: usize = 16;

#[derive(Debug, clap::Args)]
pub(crate) struct PlanArgs {
    /// Config file (YAML or HCL; a `.json` file is read as the Desired model, validated too).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Plan offline from facts saved by `brickyard gather -o FILE`.
    #[arg(long, value_name = "FILE")]
    facts: Option<PathBuf>,
    /// Save the plan (JSON, with facts fingerprint and config hash) for `brickyard apply`.
    #[arg(short = 'o', long = "out", value_name = "PLANFILE")]
    out: Option<PathBuf>,
    /// Print the plan as the versioned JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Never color the output (NO_COLOR is respected too).
    #[arg(long)]
    pub(crate) no_color: bool,
    /// Allow steps that destroy data (volume deletion).
    #[arg(long)]
    allow_destroy: bool,
    /// Allow wiping devices whose config says `wipe: true`.
    #[arg(long)]
    allow_wipe: bool,
}

pub(crate) fn run(ui: &Ui, args: PlanArgs) -> CommandResult {
    let desired = loader::load(ui, args.config.as_deref())?.desired;
    let observed = match &args.facts {
        Some(path) => load_facts(path)?,
        None => gather_live(ui, &desired)?,
    };
    let opts = PlanOptions {
        allow_destroy: args.allow_destroy,
        allow_wipe: args.allow_wipe,
        new_cluster_id: Some(new_cluster_id()?),
    };
    let p = plan(&desired, &observed, &opts);
    if let Some(out) = &args.out {
        super::files::write_private(out, &render::json(&p)).map_err(|e| {
            CommandError::message(format!("cannot write plan to {}: {e}", out.display()))
        })?;
        eprintln!(
            "Saved the plan to {} (apply it with `brickyard apply {}`).",
            out.display(),
            out.display()
        );
    }
    if args.json {
        print!("{}", render::json(&p));
    } else {
        print!("{}", render::human(&p, ui.color_stdout()));
    }
    // A blocker means the cluster cannot be brought to match the config with these
    // flags: the plan is still shown, but a pipeline must not read it as success.
    if !p.blockers.is_empty() {
        return Err(CommandError::message(format!(
            "{} change(s) are blocked; see \"Blocked\" above. Nothing blocked will be applied.",
            p.blockers.len()
        )));
    }
    Ok(if args.detailed_exitcode && p.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Read every node over SSH (read-only probes); unreachable nodes become facts too.
pub(crate) fn gather_live(ui: &Ui, desired: &Desired) -> Result<Observed, CommandError> {
    ui.block_on(async {
        eprintln!("Gathering facts from {} node(s)...", desired.nodes.len());
        let cluster = session::connect(desired).await;
        let obs = cluster.gather(desired, GATHER_PARALLELISM).await;
        cluster.close().await;
        obs
    })
}

pub(crate) fn load_facts(path: &Path) -> Result<Observed, CommandError> {
    let text = super::files::read_capped(path, "facts file").map_err(CommandError::message)?;
    let obs: Observed = serde_json::from_str(&text).map_err(|e| {
        CommandError::message(format!("{}: not a valid facts file: {e}", path.display()))
    })?;
    if obs.format_version != brickyard::gather::FORMAT_VERSION {
        return Err(CommandError::message(format!(
            "{}: facts format version {} is not the supported {}; gather again with this brickyard",
            path.display(),
            obs.format_version,
            brickyard::gather::FORMAT_VERSION
        )));
    }
    Ok(obs)
}

/// A fresh cluster id for this run: 128 bits from the kernel's CSPRNG, as 32 lowercase
/// hex digits. The planner uses it only when no node records an identity yet (and the
/// config pins none); it is made here because the planner does no I/O and no randomness.
pub(crate) fn new_cluster_id() -> Result<String, CommandError> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| {
            CommandError::message(format!(
                "cannot read /dev/urandom for a new cluster id: {e}"
            ))
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
