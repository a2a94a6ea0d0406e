//! One step, one remote command: the step script that guards, runs and verifies on the
//! node, the argv that carries a step to it, and how its report becomes an [`Outcome`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::options::ApplyOptions;
use super::outcome::{Failure, NotRun, Outcome};
use crate::plan::Step;
use crate::transport::shell::sh_c;
use crate::transport::{Output, RemoteCommand, Transport, quote};

/// Runs a step on its node in ONE round trip: guard, commands in order, guard again.
/// Every argv travels as positional parameters, counted: `PRE POST GN guard... CN (N
/// argv...)...` (PRE 0 leaves the check before out:
/// [`crate::plan::Guard::redundant_when_fresh`]; POST 0 the check after, which the apply
/// then makes for the step from the facts it reads after the run: `super::later`);
/// the script evaluates only `"${i}"` references it builds itself, never a value, so
/// nothing a plan contains is ever parsed as shell text. It reports on stdout with one
/// `@@by` status line, and marks on stderr which command the following lines belong to.
pub const STEP_SCRIPT: &str = r#"ref() { R=; i=$1; e=$(($1 + $2)); while [ "$i" -lt "$e" ]; do R="$R \"\${$i}\""; i=$((i + 1)); done; }
pre=$1; post=$2; shift 2
gn=$1
ref 2 "$gn"; G=$R
p=$((gn + 2)); eval "cn=\${$p}"; p=$((p + 1))
if [ "$pre" = 1 ] && [ "$gn" -gt 0 ] && eval "$G" </dev/null >/dev/null 2>&1; then echo '@@by already'; exit 0; fi
k=0
while [ "$k" -lt "$cn" ]; do
  eval "n=\${$p}"; p=$((p + 1)); ref "$p" "$n"; p=$((p + n))
  echo "@@by cmd $k" >&2
  eval "$R" </dev/null >/dev/null; rc=$?
  [ "$rc" -eq 0 ] || { echo "@@by failed $k $rc"; exit 0; }
  k=$((k + 1))
done
if [ "$post" = 1 ] && [ "$gn" -gt 0 ]; then
  echo '@@by verify' >&2
  eval "$G" </dev/null >/dev/null; rc=$?
  [ "$rc" -eq 0 ] || { echo "@@by unverified $rc"; exit 0; }
fi
echo '@@by done'"#;

/// Runs several node-local steps of one node in ONE round trip, one after the other,
/// each through [`STEP_SCRIPT`] in a shell of its own (so each keeps its own guard,
/// commands and report): `FF STEP_SCRIPT NS (N params...)...`. Before step J it marks
/// stderr with `@@by step J`; after it, it reports `@@by J STATUS` on stdout. With FF 1
/// it stops after the first step that did not end done or already done (`--fail-fast`);
/// otherwise every step runs, since the steps of a batch were all ready at once and none
/// waits for another.
pub const BATCH_SCRIPT: &str = r#"ff=$1; s=$2; ns=$3; shift 3
ref() { R=; i=$1; e=$(($1 + $2)); while [ "$i" -lt "$e" ]; do R="$R \"\${$i}\""; i=$((i + 1)); done; }
j=0; p=1
while [ "$j" -lt "$ns" ]; do
  eval "n=\${$p}"; p=$((p + 1)); ref "$p" "$n"; p=$((p + n))
  echo "@@by step $j" >&2
  r=$(eval "sh -c \"\$s\" sh $R" </dev/null)
  echo "@@by $j ${r#@@by }"
  case $r in '@@by done' | '@@by already') ;; *) [ "$ff" = 1 ] && exit 0 ;; esac
  j=$((j + 1))
done"#;

/// Most steps in one batch, and most bytes of their parameters: the whole command
/// travels as one argument of the node's shell, which Linux caps at 128 KiB.
pub(crate) const BATCH_MAX_STEPS: usize = 64;
pub(crate) const BATCH_MAX_BYTES: usize = 48 << 10;
/// Most gluster changes in one batch: each takes about half a second of glusterd's time,
/// and a stop request (Ctrl-C) waits for the batch that was sent.
pub(crate) const BATCH_MAX_GLUSTER: usize = 8;

/// The argv that runs `step` through [`STEP_SCRIPT`]: the guard before the commands
/// when `checks.before`, after them when `checks.after`.
pub(crate) fn step_argv(step: &Step, checks: Checks) -> Vec<String> {
    sh_c(STEP_SCRIPT, step_params(step, checks))
}

/// The size a step adds to a batch's command line (its parameters, quoted, roughly).
pub(crate) fn batch_cost(step: &Step) -> usize {
    let args = |v: &[String]| v.iter().map(|a| a.len() + 3).sum::<usize>();
    args(&step.guard.argv) + step.commands.iter().map(|c| args(c) + 4).sum::<usize>() + 16
}

/// The argv that runs `steps` through [`BATCH_SCRIPT`].
pub(crate) fn batch_argv(steps: &[(&Step, Checks)], fail_fast: bool) -> Vec<String> {
    let mut args = vec![
        if fail_fast { "1" } else { "0" }.to_string(),
        STEP_SCRIPT.to_string(),
        steps.len().to_string(),
    ];
    for (step, checks) in steps {
        let p = step_params(step, *checks);
        args.push(p.len().to_string());
        args.extend(p);
    }
    sh_c(BATCH_SCRIPT, args)
}

/// [`STEP_SCRIPT`]'s positional parameters for `step`.
fn step_params(step: &Step, checks: Checks) -> Vec<String> {
    let flag = |on: bool| if on { "1" } else { "0" }.to_string();
    let mut args = vec![
        flag(checks.before),
        flag(checks.after),
        step.guard.argv.len().to_string(),
    ];
    args.extend(step.guard.argv.iter().cloned());
    args.push(step.commands.len().to_string());
    for cmd in &step.commands {
        args.push(cmd.len().to_string());
        args.extend(cmd.iter().cloned());
    }
    args
}

/// Where a step's guard runs around its commands (the scheduler's choice: `schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks {
    pub(crate) before: bool,
    pub(crate) after: bool,
}

/// A step with nothing to run or check: done without a node (never sent in a batch).
pub(super) fn is_no_op(step: &Step) -> bool {
    step.commands.is_empty() && step.guard.argv.is_empty()
}

/// Guard, commands, verify. Never decides anything beyond what the step says.
pub(super) async fn run_step(
    step: &Step,
    transport: Option<Arc<dyn Transport>>,
    opts: &ApplyOptions,
    checks: Checks,
) -> Outcome {
    let started = Instant::now();
    if is_no_op(step) {
        // A no-op step: nothing to run, nothing to check.
        return Outcome::AlreadyDone;
    }
    let Some(transport) = transport else {
        // validate() guarantees a transport for any step with something to run.
        return Outcome::Failed(Failure {
            node: step.node.clone(),
            reason: "no connection to this node".into(),
            command: None,
            exit_code: None,
            stderr: String::new(),
        });
    };
    let budget = opts.guard_timeout * 2 + opts.command_timeout * step.commands.len() as u32;
    let cmd = RemoteCommand::new(step_argv(step, checks)).with_timeout(budget);
    let out = match transport.run(&cmd).await {
        Ok(out) => out,
        Err(e) => {
            return Outcome::Failed(Failure {
                node: step.node.clone(),
                reason: format!("could not finish the step: {e}"),
                command: step.commands.first().map(|c| quote(c)),
                exit_code: None,
                stderr: String::new(),
            });
        }
    };
    interpret(step, &out, started.elapsed())
}

/// Runs `steps` (ready at once, all on one node) in one round trip: each outcome is what
/// the step would have given on its own. A step the batch did not reach is
/// `NotRun::Stopped` after a failure under `--fail-fast`, and otherwise a failure with the
/// batch's end (a connection lost midway, the node's shell killed): the next apply's
/// guards find what each step did.
pub(super) async fn run_batch(
    steps: &[(usize, &Step, Checks)],
    transport: Option<Arc<dyn Transport>>,
    opts: &ApplyOptions,
) -> Vec<(usize, Outcome)> {
    if let [(i, step, checks)] = steps {
        return vec![(*i, run_step(step, transport, opts, *checks).await)];
    }
    let started = Instant::now();
    let Some(transport) = transport else {
        return steps
            .iter()
            .map(|(i, step, _)| {
                let f = Failure {
                    node: step.node.clone(),
                    reason: "no connection to this node".into(),
                    command: None,
                    exit_code: None,
                    stderr: String::new(),
                };
                (*i, Outcome::Failed(f))
            })
            .collect();
    };
    let budget = steps
        .iter()
        .map(|(_, s, _)| opts.guard_timeout * 2 + opts.command_timeout * s.commands.len() as u32)
        .sum();
    let pairs: Vec<(&Step, Checks)> = steps.iter().map(|(_, s, c)| (*s, *c)).collect();
    let cmd = RemoteCommand::new(batch_argv(&pairs, opts.fail_fast)).with_timeout(budget);
    let out = transport.run(&cmd).await;
    let elapsed = started.elapsed();
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            return steps
                .iter()
                .map(|(i, step, _)| {
                    let f = Failure {
                        node: step.node.clone(),
                        reason: format!("could not finish the step: {e}"),
                        command: step.commands.first().map(|c| quote(c)),
                        exit_code: None,
                        stderr: String::new(),
                    };
                    (*i, Outcome::Failed(f))
                })
                .collect();
        }
    };
    let stdout = out.stdout_lossy();
    let stderr = out.stderr_lossy();
    let mut reports: Vec<Option<&str>> = vec![None; steps.len()];
    for line in stdout.lines() {
        let Some((j, status)) = line.strip_prefix("@@by ").and_then(|r| r.split_once(' ')) else {
            continue;
        };
        // an empty status: the step's shell ended without its report (killed)
        if status.is_empty() {
            continue;
        }
        if let Some(slot) = j.parse::<usize>().ok().and_then(|j| reports.get_mut(j)) {
            *slot = Some(status);
        }
    }
    let mut stopped = false;
    let mut outcomes = Vec::with_capacity(steps.len());
    for (j, (i, step, _)) in steps.iter().enumerate() {
        let outcome = match reports[j] {
            None if stopped => Outcome::NotRun(NotRun::Stopped),
            report => {
                let one = Output {
                    status: if report.is_some() {
                        Some(0)
                    } else {
                        out.status
                    },
                    stdout: report.map_or_else(Vec::new, |r| format!("@@by {r}\n").into_bytes()),
                    stderr: section(&stderr, &format!("@@by step {j}")).into_bytes(),
                };
                interpret(step, &one, elapsed)
            }
        };
        stopped |= opts.fail_fast && matches!(outcome, Outcome::Failed(_));
        outcomes.push((*i, outcome));
    }
    outcomes
}

/// Turns the step script's report into an outcome.
fn interpret(step: &Step, out: &Output, elapsed: Duration) -> Outcome {
    let stdout = out.stdout_lossy();
    let stderr = out.stderr_lossy();
    let status = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("@@by "))
        .unwrap_or("");
    let words: Vec<&str> = status.split_whitespace().collect();
    let fail = |reason: String, command: Option<String>, exit_code, stderr: String| {
        Outcome::Failed(Failure {
            node: step.node.clone(),
            reason,
            command,
            exit_code,
            stderr: stderr.trim().to_string(),
        })
    };
    match words.as_slice() {
        ["already"] => Outcome::AlreadyDone,
        ["done"] => Outcome::Done { elapsed },
        ["failed", k, rc] => {
            let k: usize = k.parse().unwrap_or(usize::MAX);
            fail(
                "command failed".into(),
                step.commands.get(k).map(|c| quote(c)),
                rc.parse().ok(),
                section(&stderr, &format!("@@by cmd {k}")),
            )
        }
        ["unverified", rc] => fail(
            format!(
                "command succeeded but effect not visible (guard: {})",
                step.guard.description
            ),
            Some(quote(&step.guard.argv)),
            rc.parse().ok(),
            section(&stderr, "@@by verify"),
        ),
        _ => fail(
            format!(
                "the step ended without a result (exit status {})",
                out.status
                    .map_or("none: killed by a signal".to_string(), |c| c.to_string())
            ),
            None,
            out.status,
            stderr
                .lines()
                .filter(|l| !l.starts_with("@@by "))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

/// The stderr lines after `marker`, up to the next marker of its kind (`@@by cmd K` up
/// to any marker; `@@by step J`, a step's part of a batch, up to the next step).
fn section(stderr: &str, marker: &str) -> String {
    let mut lines = stderr.lines();
    let mut after = Vec::new();
    let end = if marker.starts_with("@@by step ") {
        "@@by step "
    } else {
        "@@by "
    };
    if lines.by_ref().any(|l| l == marker) {
        after.extend(lines.take_while(|l| !l.starts_with(end)));
    }
    after.join("\n")
}
