//! One step, one remote command: the step script that guards, runs and verifies on the
//! node, the argv that carries a step to it, and how its report becomes an [`Outcome`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::options::ApplyOptions;
use super::outcome::{Failure, Outcome};
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

/// The argv that runs `step` through [`STEP_SCRIPT`]: the guard before the commands
/// when `checks.before`, after them when `checks.after`.
pub(crate) fn step_argv(step: &Step, checks: Checks) -> Vec<String> {
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
    sh_c(STEP_SCRIPT, args)
}

/// Where a step's guard runs around its commands (the scheduler's choice: `schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks {
    pub(crate) before: bool,
    pub(crate) after: bool,
}

/// Guard, commands, verify. Never decides anything beyond what the step says.
pub(super) async fn run_step(
    step: &Step,
    transport: Option<Arc<dyn Transport>>,
    opts: &ApplyOptions,
    checks: Checks,
) -> Outcome {
    let started = Instant::now();
    if step.commands.is_empty() && step.guard.argv.is_empty() {
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

/// The stderr lines after `marker`, up to the next marker.
fn section(stderr: &str, marker: &str) -> String {
    let mut lines = stderr.lines();
    let mut after = Vec::new();
    if lines.by_ref().any(|l| l == marker) {
        after.extend(lines.take_while(|l| !l.starts_with("@@by ")));
    }
    after.join("\n")
}
