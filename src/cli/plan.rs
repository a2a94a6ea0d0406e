//! `brickyard plan`: read the config and the facts (a facts file, or live gathering),
//! compute the plan, show it (human or JSON), optionally save it for apply.
//! Exit codes: 0 ok (no changes with --detailed-exitcode), 1 error, 2 changes
//! (--detailed-exitcode only). A plan with blockers is still a plan: it exits 0/2 and
//! lists them; apply runs only the unblocked steps.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::Desired;
use crate::gather::Observed;
use crate::plan::{PlanOptions, plan};
use crate::render::plan as render;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Config file (YAML or HCL; a `.json` file is read as the validated Desired model).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Plan offline from facts saved by `brickyard gather -o FILE`.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// Save the plan (JSON, with facts fingerprint and config hash) for `brickyard apply`.
    #[arg(short = 'o', long = "out", value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Print the plan as the versioned JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Never color the output (NO_COLOR is respected too).
    #[arg(long)]
    pub no_color: bool,
    /// Allow steps that destroy data (volume deletion).
    #[arg(long)]
    pub allow_destroy: bool,
    /// Allow wiping devices whose config says `wipe: true`.
    #[arg(long)]
    pub allow_wipe: bool,
}

pub fn run(args: PlanArgs) -> ExitCode {
    match plan_cmd(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn plan_cmd(args: &PlanArgs) -> Result<u8, String> {
    let config = super::validate::config_path(args.config.clone()).map_err(|e| e.to_string())?;
    let desired = load_desired(&config)?;
    let observed = match &args.facts {
        Some(path) => load_facts(path)?,
        None => gather_live(&desired)?,
    };
    let opts = PlanOptions {
        allow_destroy: args.allow_destroy,
        allow_wipe: args.allow_wipe,
    };
    let p = plan(&desired, &observed, &opts);
    if let Some(out) = &args.out {
        std::fs::write(out, render::json(&p))
            .map_err(|e| format!("cannot write plan to {}: {e}", out.display()))?;
        eprintln!(
            "Saved the plan to {} (apply it with `brickyard apply {}`).",
            out.display(),
            out.display()
        );
    }
    if args.json {
        print!("{}", render::json(&p));
    } else {
        let color = !args.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal();
        print!("{}", render::human(&p, color));
    }
    // A blocker means the cluster cannot be brought to match the config with these
    // flags: the plan is still shown, but a pipeline must not read it as success.
    if !p.blockers.is_empty() {
        eprintln!(
            "error: {} change(s) are blocked; see \"Blocked\" above. Nothing blocked will be applied.",
            p.blockers.len()
        );
        return Ok(exit::ERROR);
    }
    Ok(if args.detailed_exitcode && p.has_changes() {
        exit::CHANGES
    } else {
        exit::OK
    })
}

/// The validated model: a `.json` file is read as the Desired model itself (fixtures,
/// generated configs); YAML/HCL go through the config loader, whose diagnostics are
/// printed on stderr (all of them, warnings included).
fn load_desired(path: &Path) -> Result<Desired, String> {
    if path.extension().is_some_and(|e| e == "json") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        return serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a valid desired model: {e}", path.display()));
    }
    let loaded = crate::config::load(path).map_err(|e| e.to_string())?;
    if !loaded.diagnostics.is_empty() {
        let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
        eprint!("{}", loaded.render(100, color));
    }
    loaded
        .desired
        .ok_or_else(|| format!("{} is not valid (see above)", path.display()))
}

/// Read every node over SSH (read-only probes); unreachable nodes become facts too.
fn gather_live(desired: &Desired) -> Result<Observed, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    eprintln!("Gathering facts from {} node(s)...", desired.nodes.len());
    Ok(rt.block_on(async {
        let transports = crate::transport::ssh_transports(desired);
        let obs = crate::gather::gather(desired, &transports, 16).await;
        crate::transport::close_all(&transports).await;
        obs
    }))
}

fn load_facts(path: &Path) -> Result<Observed, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read facts {}: {e}", path.display()))?;
    let obs: Observed = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a valid facts file: {e}", path.display()))?;
    if obs.format_version != crate::gather::FORMAT_VERSION {
        return Err(format!(
            "{}: facts format version {} is not the supported {}; gather again with this brickyard",
            path.display(),
            obs.format_version,
            crate::gather::FORMAT_VERSION
        ));
    }
    Ok(obs)
}
