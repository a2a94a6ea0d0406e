//! `brickyard apply`: gather, plan, show, ask, then run the plan under the node locks
//! (or, for a saved plan file, run without asking the plan re-derived under the lock
//! when it equals the file's: `apply::saved`; with `--auto-approve`, lock first and plan
//! under the lock: `apply_unasked`). The decisions are
//! the planner's; this file only wires config, gather, plan, render and apply together
//! and turns outcomes into exit codes (0 applied / nothing to do / cancelled, 1 otherwise).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use tokio::sync::watch;

use brickyard::apply::progress::{Progress, Style};
use brickyard::apply::run::{Finished, RunError, apply_locked_first, locked_apply};
use brickyard::apply::{ApplyOptions, Outcome, Report, saved, stale};
use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::lock::{LockError, LockLocation};
use brickyard::plan::{self, Plan, PlanOptions};
use brickyard::render::escape::escape_text;
use brickyard::render::plan as render;

use super::error::{CommandError, CommandResult, Exit};
use super::loader::{self, Config};
use super::session::{self, Cluster, GATHER_PARALLELISM};
use super::ui::{Approval, Ui};

#[derive(Debug, clap::Args)]
pub(crate) struct ApplyArgs {
    /// Config file (default: brickyard.yaml, brickyard.yml or brickyard.hcl in the current directory).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// A plan saved with `brickyard plan -o`: applied without a prompt if planning again
    /// under the lock gives exactly its steps.
    #[arg(value_name = "PLANFILE")]
    planfile: Option<PathBuf>,
    /// Apply without asking (needed when there is no terminal to ask on).
    #[arg(long)]
    auto_approve: bool,
    /// Steps running at once across the cluster (one node-local step per node at most).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=256))]
    parallelism: u16,
    /// Allow steps that destroy data (volume deletion).
    #[arg(long)]
    allow_destroy: bool,
    /// Allow wiping devices whose config says `wipe: true`.
    #[arg(long)]
    allow_wipe: bool,
    /// Start nothing new after the first failed step.
    #[arg(long)]
    fail_fast: bool,
    /// Never color the output (NO_COLOR is respected too).
    #[arg(long)]
    pub(crate) no_color: bool,
}

pub(crate) fn run(ui: &Ui, args: ApplyArgs) -> CommandResult {
    let config = loader::load(ui, args.config.as_deref())?;
    let saved = match &args.planfile {
        Some(path) => Some(read_plan(path, &config.desired).map_err(CommandError::message)?),
        None => None,
    };
    // A saved plan is re-derived with the options it was planned with (the id it made,
    // its permissions: `saved::replan_options`); those grant nothing, the flags given
    // here still gate every destructive step.
    let popts = match &saved {
        Some(p) => saved::replan_options(p),
        None => PlanOptions {
            allow_destroy: args.allow_destroy,
            allow_wipe: args.allow_wipe,
            new_cluster_id: Some(super::plan::new_cluster_id()?),
        },
    };
    ui.block_on(async {
        let cluster = session::connect(&config.desired).await;
        let result = apply(ui, &args, &config, &popts, saved, &cluster).await;
        cluster.close().await;
        result
    })?
}

/// Everything after connecting; the caller closes the connections whatever happens.
async fn apply(
    ui: &Ui,
    args: &ApplyArgs,
    config: &Config,
    popts: &PlanOptions,
    saved: Option<Plan>,
    cluster: &Cluster,
) -> CommandResult {
    let desired = &config.desired;
    let transports = cluster.transports();
    let opts = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        allow_destroy: args.allow_destroy,
        allow_wipe: args.allow_wipe,
        fail_fast: args.fail_fast,
        ..ApplyOptions::default()
    };
    if saved.is_none() && args.auto_approve {
        return apply_unasked(ui, config, popts, cluster, &opts).await;
    }

    // The plan approved, and the facts it was computed from (when we computed it). A
    // saved plan is only an approval: under the lock it is re-derived, and the
    // re-derived plan is what runs (`apply::saved`).
    let from_file = saved.is_some();
    let (approved, before): (Plan, Option<Observed>) = match saved {
        Some(p) => (p, None),
        None => {
            let observed = cluster.gather(desired, GATHER_PARALLELISM).await;
            let p = plan::plan(desired, &observed, popts);
            print!("{}", render::human(&p, ui.color_stdout()));
            let _ = std::io::stdout().flush();
            if p.steps.is_empty() {
                return Ok(if p.blockers.is_empty() {
                    Exit::Success
                } else {
                    eprintln!("Nothing can be applied: every change is blocked (see above).");
                    Exit::Failure
                });
            }
            match approve(ui, args.auto_approve) {
                Approval::Yes => {}
                Approval::No => {
                    eprintln!("Apply cancelled.");
                    return Ok(Exit::Success);
                }
                Approval::NoTerminal => {
                    return Err(CommandError::message(
                        "no terminal to ask for approval, and --auto-approve was not given; nothing was changed.",
                    )
                    .with_hint(
                        "  Pass --auto-approve, or save a reviewed plan with `brickyard plan -o PLANFILE` and run `brickyard apply PLANFILE`.",
                    ));
                }
            }
            (p, Some(observed))
        }
    };

    let me = brickyard::lock::this_holder();
    let stop = interrupt_watch();
    let progress = progress(ui, approved.steps.len());
    let recheck = || async {
        let mut fresh = cluster.gather(desired, GATHER_PARALLELISM).await;
        stale::strip_own_lock(&mut fresh, &me);
        if from_file {
            saved::recheck(&approved, desired, &fresh)
        } else {
            still_current(&approved, desired, popts, before.as_ref(), &fresh)
        }
    };
    let result = locked_apply(
        &approved,
        &transports,
        &opts,
        &LockLocation::default(),
        &me,
        &progress,
        Some(stop),
        recheck,
    )
    .await;
    progress.clear();
    match result {
        Ok(done) => {
            warn_unreleased(&done, config);
            Ok(finish(&done.report, &done.plan))
        }
        Err(e) => run_error(e, config),
    }
}

/// `--auto-approve` without a plan file: nothing is shown for approval, so the nodes are
/// locked first and the facts read once, under the lock; the plan made from them is
/// shown and run as it is (no re-check: nothing can have changed between planning and
/// running that the lock keeps out). Half the reads of the approve-then-lock way.
async fn apply_unasked(
    ui: &Ui,
    config: &Config,
    popts: &PlanOptions,
    cluster: &Cluster,
    opts: &ApplyOptions,
) -> CommandResult {
    let desired = &config.desired;
    let transports = cluster.transports();
    let me = brickyard::lock::this_holder();
    let stop = interrupt_watch();
    let progress = progress(ui, 0);
    let nodes: BTreeSet<String> = desired.nodes.keys().cloned().collect();
    // one read and one planner, before the steps and after them (what they did is then
    // on the nodes)
    let read_and_plan = || async {
        let mut observed = cluster.gather(desired, GATHER_PARALLELISM).await;
        stale::strip_own_lock(&mut observed, &me);
        plan::plan(desired, &observed, popts)
    };
    let plan_now = || async {
        let p = read_and_plan().await;
        print!("{}", render::human(&p, ui.color_stdout()));
        let _ = std::io::stdout().flush();
        progress.set_total(p.steps.len());
        Ok(p)
    };
    let read_again = || async { Ok(read_and_plan().await) };
    let result = apply_locked_first(
        &nodes,
        &transports,
        opts,
        &LockLocation::default(),
        &me,
        &progress,
        Some(stop),
        plan_now,
        read_again,
    )
    .await;
    progress.clear();
    match result {
        Ok(done) => {
            warn_unreleased(&done, config);
            if done.plan.steps.is_empty() {
                return Ok(if done.plan.blockers.is_empty() {
                    Exit::Success
                } else {
                    eprintln!("Nothing can be applied: every change is blocked (see above).");
                    Exit::Failure
                });
            }
            Ok(finish(&done.report, &done.plan))
        }
        Err(e) => run_error(e, config),
    }
}

/// Step progress on stderr, drawn the way this terminal (or log) wants it.
fn progress(ui: &Ui, steps: usize) -> Progress<std::io::Stderr> {
    Progress::new(
        std::io::stderr(),
        steps,
        Style {
            color: ui.color_stderr(),
            live: ui.stderr_is_terminal(),
        },
    )
}

fn warn_unreleased(done: &Finished, config: &Config) {
    for (node, problem) in &done.unreleased {
        eprintln!(
            "warning: the lock on {node} was not released ({problem}); clear it with `{}`",
            unlock_hint(config, node)
        );
    }
}

/// A run that did not get to execute, as the operator sees it.
fn run_error(e: RunError, config: &Config) -> CommandResult {
    match e {
        RunError::Locked(e) => {
            let hint = lock_help(&e, config);
            Err(CommandError::message(e.to_string()).with_hint(hint))
        }
        RunError::Stale(why) => Err(CommandError::message(format!(
            "the plan cannot be applied; nothing was changed.\n{why}"
        ))
        .with_hint("Run `brickyard plan` again and review the new plan.")),
        RunError::Invalid(e) => Err(CommandError::message(format!("{e}; nothing was changed"))),
    }
}

/// Is the plan approved in this run still true? It was derived here, from facts this
/// run holds, so it may run when the fresh facts hash the same; when planning again
/// gives exactly the same steps; or when the only change since it was shown is usage
/// figures (free space moves with every write, and may tip placement between two
/// near-equal devices: the approved placement still fits, and the operator approved
/// that one). Anything structural refuses the plan. (A saved plan never takes this
/// path: `saved::recheck` re-derives it.)
fn still_current(
    approved: &Plan,
    desired: &Desired,
    popts: &PlanOptions,
    before: Option<&Observed>,
    fresh: &Observed,
) -> Result<Plan, String> {
    if plan::fingerprint::hash(fresh) == approved.facts_fingerprint {
        return Ok(approved.clone());
    }
    let now = plan::plan(desired, fresh, popts);
    if stale::same_actions(approved, &now) {
        return Ok(now);
    }
    if let Some(before) = before
        && stale::only_usage_changed(before, fresh)
    {
        eprintln!(
            "note: free space changed since the plan was shown; applying the plan as approved."
        );
        return Ok(approved.clone());
    }
    let mut why = String::from("The plan is stale: the cluster changed since the plan was made:");
    if let Some(before) = before {
        for line in stale::facts_diff(before, fresh) {
            why.push_str(&format!("\n  facts: {line}"));
        }
    }
    for line in stale::plan_diff(approved, &now) {
        why.push_str(&format!("\n  plan:  {line}"));
    }
    Err(why)
}

fn read_plan(path: &Path, desired: &Desired) -> Result<Plan, String> {
    let text = super::files::read_capped(path, "plan file")?;
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("{}: not a plan file: {e}", path.display()))?
        .get("format_version")
        .and_then(|v| v.as_u64());
    if version != Some(u64::from(plan::FORMAT_VERSION)) {
        return Err(format!(
            "{}: plan format version {} is not the supported {}; make the plan again with this brickyard",
            path.display(),
            version.map_or("(missing)".to_string(), |v| v.to_string()),
            plan::FORMAT_VERSION
        ));
    }
    let p: Plan = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a valid plan file: {e}", path.display()))?;
    if p.cluster != desired.cluster {
        return Err(format!(
            "{} is a plan for cluster `{}`, but the config is for `{}`",
            path.display(),
            p.cluster,
            desired.cluster
        ));
    }
    if p.config_hash != plan::fingerprint::hash(desired) {
        return Err(format!(
            "the plan is stale: the configuration changed since {} was made; nothing was changed.\n\
             Run `brickyard plan -o {}` again and review the new plan.",
            path.display(),
            path.display()
        ));
    }
    Ok(p)
}

fn approve(ui: &Ui, auto: bool) -> Approval {
    if auto {
        return Approval::Yes;
    }
    ui.approve(
        "\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: ",
    )
}

/// First Ctrl-C (or SIGTERM): finish running steps, start nothing new, release the locks.
fn interrupt_watch() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let term = async {
            #[cfg(unix)]
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
                return;
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        eprintln!(
            "\nInterrupted: waiting for running steps to finish; nothing new will start. The locks will be released."
        );
        let _ = tx.send(true);
    });
    rx
}

fn finish(report: &Report, plan: &Plan) -> Exit {
    let failures: Vec<_> = report
        .outcomes
        .iter()
        .filter_map(|(id, o)| match o {
            Outcome::Failed(f) => Some((id, f)),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        eprintln!("\nFailed steps:");
        for (id, f) in &failures {
            eprintln!("- {id} {}", escape_text(&f.to_string()));
        }
    }
    let summary = report.summary();
    eprintln!("\nApply summary: {summary}.");
    if !plan.blockers.is_empty() {
        eprintln!(
            "{} change(s) were blocked and not applied (see the plan's blockers).",
            plan.blockers.len()
        );
    }
    if report.success() && plan.blockers.is_empty() {
        eprintln!("Apply complete.");
        Exit::Success
    } else {
        Exit::Failure
    }
}

fn unlock_hint(config: &Config, node: &str) -> String {
    if config.explicit {
        format!(
            "brickyard unlock -c {} --node {node}",
            brickyard::transport::quote_word(&config.path.display().to_string())
        )
    } else {
        format!("brickyard unlock --node {node}")
    }
}

/// What to do about a lock apply could not take (printed after the error).
fn lock_help(e: &LockError, config: &Config) -> String {
    let cmd = unlock_hint(config, e.node());
    if e.is_stale() {
        format!(
            "  The lock is stale. If you are sure no apply is running, clear it with:\n    {cmd}"
        )
    } else {
        format!(
            "  Another apply is running against this cluster. Wait for it to finish.\n  \
             If it is gone (its machine died), clear the lock with:\n    {cmd} --force"
        )
    }
}
