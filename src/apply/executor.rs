//! Runs a plan's steps as a dependency graph. The scheduler only enforces what keeps
//! nodes safe (dependencies, one step per node, one cluster-wide gluster change at a
//! time, a parallelism bound); what to run and how to tell it is done comes from the
//! plan's commands and guards. Every step is guarded before and verified after, so an
//! interrupted run is finished by the next one.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::watch;

use crate::plan::{Plan, Step};
use crate::transport::{Output, RemoteCommand, Transport, quote};

/// Transports by config node name.
pub type Transports = BTreeMap<String, Arc<dyn Transport>>;

/// How to run a plan. Nothing here changes *what* runs, only how much at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Steps running at once across the cluster (at least 1).
    pub parallelism: usize,
    /// Destructive steps are refused without it (the planner blocks them too: defence in depth).
    pub allow_destroy: bool,
    /// Stop starting new steps after the first failure.
    pub fail_fast: bool,
    /// Limit for one command of a step (mkfs, volume start, ...).
    pub command_timeout: Duration,
    /// Limit for one guard run (read-only checks).
    pub guard_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            allow_destroy: false,
            fail_fast: false,
            command_timeout: Duration::from_secs(600),
            guard_timeout: Duration::from_secs(120),
        }
    }
}

/// Why a plan is not run at all. Nothing has been executed when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan has two steps with id `{0}`")]
    DuplicateStep(String),
    #[error("step `{step}` depends on `{missing}`, which is not in the plan")]
    UnknownDependency { step: String, missing: String },
    #[error("the plan's dependencies form a cycle through: {}", .0.join(", "))]
    Cycle(Vec<String>),
    #[error("step `{step}` runs on node `{node}`, which has no connection")]
    UnknownNode { step: String, node: String },
    #[error("step `{0}` has an empty command")]
    EmptyCommand(String),
    #[error(
        "the plan destroys data ({}); refusing without --allow-destroy",
        .0.join(", ")
    )]
    DestroyNotAllowed(Vec<String>),
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Commands ran and the guard confirmed the effect.
    Done {
        elapsed: Duration,
    },
    /// The guard passed before anything ran (or the step is a no-op).
    AlreadyDone,
    Failed(Failure),
    NotRun(NotRun),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    /// A step it depends on (directly or not) failed; `failed` is that step's id.
    Blocked { failed: String },
    /// Not started because the run stopped (`--fail-fast` after a failure, or interrupted).
    Stopped,
}

/// Lines of a failed command's stderr shown in reports (the full text stays in [`Failure`]).
const STDERR_LINES: usize = 20;

/// Everything an operator needs to act on a failed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub node: String,
    /// What went wrong, in words: "command failed", "cannot reach node: ...", ...
    pub reason: String,
    /// The command involved, quoted for display (copy-pasteable on the node).
    pub command: Option<String>,
    /// None when the command did not run to an exit (signal, transport error).
    pub exit_code: Option<i32>,
    pub stderr: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "on {}: {}", self.node, self.reason)?;
        if let Some(cmd) = &self.command {
            write!(f, "\n  command: {cmd}")?;
        }
        if let Some(code) = self.exit_code {
            write!(f, "\n  exit code: {code}")?;
        }
        if !self.stderr.is_empty() {
            // The end of stderr is where tools say what went wrong; keep logs readable.
            let lines: Vec<&str> = self.stderr.lines().collect();
            let skip = lines.len().saturating_sub(STDERR_LINES);
            write!(f, "\n  stderr:")?;
            if skip > 0 {
                write!(f, "\n    ({skip} earlier lines omitted)")?;
            }
            for line in &lines[skip..] {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

/// Told about every step as it starts and ends (progress display, test hooks).
pub trait Observer: Send + Sync {
    fn started(&self, _step: &Step) {}
    fn finished(&self, _step: &Step, _outcome: &Outcome) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// The outcome of every step, in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub outcomes: Vec<(String, Outcome)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub done: usize,
    pub already_done: usize,
    pub failed: usize,
    pub not_run: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for (_, o) in &self.outcomes {
            match o {
                Outcome::Done { .. } => s.done += 1,
                Outcome::AlreadyDone => s.already_done += 1,
                Outcome::Failed(_) => s.failed += 1,
                Outcome::NotRun(_) => s.not_run += 1,
            }
        }
        s
    }

    /// Every step is done or already done.
    pub fn success(&self) -> bool {
        let s = self.summary();
        s.failed == 0 && s.not_run == 0
    }

    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|(i, _)| i == id).map(|(_, o)| o)
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} done, {} already done, {} failed, {} not run",
            self.done, self.already_done, self.failed, self.not_run
        )
    }
}

/// True for steps that change cluster-wide gluster state: they run one at a time.
pub fn is_cluster_wide(step: &Step) -> bool {
    step.commands.iter().any(|argv| {
        argv.first()
            .is_some_and(|p| p == "gluster" || p.ends_with("/gluster"))
    })
}

/// Checks the plan is a well-formed graph that these transports can run, before anything runs.
pub fn validate(
    plan: &Plan,
    transports: &Transports,
    opts: &ApplyOptions,
) -> Result<(), ApplyError> {
    let mut ids = HashMap::new();
    for (i, step) in plan.steps.iter().enumerate() {
        if ids.insert(step.id.as_str(), i).is_some() {
            return Err(ApplyError::DuplicateStep(step.id.clone()));
        }
    }
    for step in &plan.steps {
        for dep in &step.depends_on {
            if !ids.contains_key(dep.as_str()) {
                return Err(ApplyError::UnknownDependency {
                    step: step.id.clone(),
                    missing: dep.clone(),
                });
            }
        }
        if step.commands.iter().any(|c| c.is_empty()) {
            return Err(ApplyError::EmptyCommand(step.id.clone()));
        }
        if needs_transport(step) && !transports.contains_key(&step.node) {
            return Err(ApplyError::UnknownNode {
                step: step.id.clone(),
                node: step.node.clone(),
            });
        }
    }
    if let Some(cycle) = find_cycle(plan, &ids) {
        return Err(ApplyError::Cycle(cycle));
    }
    let destructive: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.destructive)
        .map(|s| s.address.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !destructive.is_empty() && !opts.allow_destroy {
        return Err(ApplyError::DestroyNotAllowed(destructive));
    }
    Ok(())
}

fn needs_transport(step: &Step) -> bool {
    !step.commands.is_empty() || !step.guard.argv.is_empty()
}

/// Kahn's algorithm; whatever cannot be ordered is on (or behind) a cycle.
fn find_cycle(plan: &Plan, ids: &HashMap<&str, usize>) -> Option<Vec<String>> {
    let n = plan.steps.len();
    let mut indegree = vec![0usize; n];
    let mut dependents = vec![Vec::new(); n];
    for (i, step) in plan.steps.iter().enumerate() {
        for dep in &step.depends_on {
            if let Some(&d) = ids.get(dep.as_str()) {
                indegree[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop_front() {
        seen += 1;
        for &j in &dependents[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                queue.push_back(j);
            }
        }
    }
    (seen < n).then(|| {
        (0..n)
            .filter(|&i| indegree[i] > 0)
            .map(|i| plan.steps[i].id.clone())
            .collect()
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Finished(Outcome),
}

impl State {
    fn satisfied(&self) -> bool {
        matches!(
            self,
            State::Finished(Outcome::Done { .. } | Outcome::AlreadyDone)
        )
    }
}

/// Executes the plan. Returns Err only when the plan is refused before anything ran;
/// step failures are in the [`Report`]. When `stop` turns true, running steps finish
/// and nothing new starts (the caller then releases locks and exits cleanly).
pub async fn execute(
    plan: &Plan,
    transports: &Transports,
    opts: &ApplyOptions,
    observer: &dyn Observer,
    mut stop: Option<watch::Receiver<bool>>,
) -> Result<Report, ApplyError> {
    validate(plan, transports, opts)?;
    let steps = &plan.steps;
    let n = steps.len();
    let index: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let deps: Vec<Vec<usize>> = steps
        .iter()
        .map(|s| s.depends_on.iter().map(|d| index[d.as_str()]).collect())
        .collect();
    let mut dependents = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let cluster_wide: Vec<bool> = steps.iter().map(is_cluster_wide).collect();
    let parallelism = opts.parallelism.max(1);

    let mut state = vec![State::Pending; n];
    let mut busy_nodes: BTreeSet<&str> = BTreeSet::new();
    let mut gluster_busy = false;
    let mut stopping = stop.as_ref().is_some_and(|s| *s.borrow());
    let mut running = FuturesUnordered::new();

    loop {
        if !stopping {
            for i in 0..n {
                if running.len() >= parallelism {
                    break;
                }
                if state[i] != State::Pending
                    || !deps[i].iter().all(|&d| state[d].satisfied())
                    || busy_nodes.contains(steps[i].node.as_str())
                    || (cluster_wide[i] && gluster_busy)
                {
                    continue;
                }
                let step = &steps[i];
                state[i] = State::Running;
                busy_nodes.insert(step.node.as_str());
                gluster_busy |= cluster_wide[i];
                observer.started(step);
                let transport = transports.get(&step.node).cloned();
                running.push(async move { (i, run_step(step, transport, opts).await) });
            }
        }
        if running.is_empty() {
            break;
        }
        let finished = match stop.as_mut() {
            Some(rx) if !stopping => {
                tokio::select! {
                    f = running.next() => f,
                    changed = rx.changed() => {
                        // A dropped sender means nobody can ask us to stop any more.
                        if changed.is_ok() && *rx.borrow() {
                            stopping = true;
                        } else if changed.is_err() {
                            stop = None;
                        }
                        continue;
                    }
                }
            }
            _ => running.next().await,
        };
        let Some((i, outcome)) = finished else {
            break;
        };
        let step = &steps[i];
        busy_nodes.remove(step.node.as_str());
        if cluster_wide[i] {
            gluster_busy = false;
        }
        let failed = matches!(outcome, Outcome::Failed(_));
        observer.finished(step, &outcome);
        state[i] = State::Finished(outcome);
        if failed {
            block_dependents(i, steps, &dependents, &mut state, observer);
            stopping |= opts.fail_fast;
        }
    }

    // Anything still pending was never started because the run stopped (steps behind a
    // failure were already marked blocked when it failed).
    for (i, s) in state.iter_mut().enumerate() {
        if *s == State::Pending {
            let outcome = Outcome::NotRun(NotRun::Stopped);
            observer.finished(&steps[i], &outcome);
            *s = State::Finished(outcome);
        }
    }
    Ok(Report {
        outcomes: steps
            .iter()
            .zip(state)
            .map(|(step, s)| match s {
                State::Finished(o) => (step.id.clone(), o),
                // Unreachable by construction: the loop only exits with nothing running.
                State::Pending | State::Running => {
                    (step.id.clone(), Outcome::NotRun(NotRun::Stopped))
                }
            })
            .collect(),
    })
}

/// Marks every step behind a failed one (transitively) as blocked by it.
fn block_dependents(
    failed: usize,
    steps: &[Step],
    dependents: &[Vec<usize>],
    state: &mut [State],
    observer: &dyn Observer,
) {
    let mut queue: VecDeque<usize> = dependents[failed].iter().copied().collect();
    while let Some(j) = queue.pop_front() {
        if state[j] != State::Pending {
            continue;
        }
        let outcome = Outcome::NotRun(NotRun::Blocked {
            failed: steps[failed].id.clone(),
        });
        observer.finished(&steps[j], &outcome);
        state[j] = State::Finished(outcome);
        queue.extend(dependents[j].iter().copied());
    }
}

/// Runs a step on its node in ONE round trip: guard, commands in order, guard again.
/// Every argv travels as positional parameters, counted: `GN guard... CN (N argv...)...`;
/// the script evaluates only `"${i}"` references it builds itself, never a value, so
/// nothing a plan contains is ever parsed as shell text. It reports on stdout with one
/// `@@by` status line, and marks on stderr which command the following lines belong to.
pub const STEP_SCRIPT: &str = r#"ref() { R=; i=$1; e=$(($1 + $2)); while [ "$i" -lt "$e" ]; do R="$R \"\${$i}\""; i=$((i + 1)); done; }
gn=$1
ref 2 "$gn"; G=$R
p=$((gn + 2)); eval "cn=\${$p}"; p=$((p + 1))
if [ "$gn" -gt 0 ] && eval "$G" </dev/null >/dev/null 2>&1; then echo '@@by already'; exit 0; fi
k=0
while [ "$k" -lt "$cn" ]; do
  eval "n=\${$p}"; p=$((p + 1)); ref "$p" "$n"; p=$((p + n))
  echo "@@by cmd $k" >&2
  eval "$R" </dev/null >/dev/null; rc=$?
  [ "$rc" -eq 0 ] || { echo "@@by failed $k $rc"; exit 0; }
  k=$((k + 1))
done
if [ "$gn" -gt 0 ]; then
  echo '@@by verify' >&2
  eval "$G" </dev/null >/dev/null; rc=$?
  [ "$rc" -eq 0 ] || { echo "@@by unverified $rc"; exit 0; }
fi
echo '@@by done'"#;

/// The argv that runs `step` through [`STEP_SCRIPT`].
pub fn step_argv(step: &Step) -> Vec<String> {
    let mut argv = vec!["sh".into(), "-c".into(), STEP_SCRIPT.into(), "sh".into()];
    argv.push(step.guard.argv.len().to_string());
    argv.extend(step.guard.argv.iter().cloned());
    argv.push(step.commands.len().to_string());
    for cmd in &step.commands {
        argv.push(cmd.len().to_string());
        argv.extend(cmd.iter().cloned());
    }
    argv
}

/// Guard, commands, verify. Never decides anything beyond what the step says.
async fn run_step(
    step: &Step,
    transport: Option<Arc<dyn Transport>>,
    opts: &ApplyOptions,
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
    let cmd = RemoteCommand::new(step_argv(step)).with_timeout(budget);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    #[test]
    fn failure_report_keeps_the_end_of_long_stderr() {
        let f = Failure {
            node: "gfs1".into(),
            reason: "command failed".into(),
            command: Some("mkfs.xfs /dev/x".into()),
            exit_code: Some(1),
            stderr: (1..=25)
                .map(|i| format!("line {i}"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        let text = f.to_string();
        assert!(text.starts_with("on gfs1: command failed\n  command: mkfs.xfs /dev/x\n  exit code: 1\n  stderr:\n    (5 earlier lines omitted)\n    line 6\n"), "{text}");
        assert!(text.ends_with("    line 25"), "{text}");
        assert!(!text.contains("line 5\n"));
    }

    #[test]
    fn only_gluster_commands_are_cluster_wide() {
        let mut s = Step {
            id: "x".into(),
            address: "x".into(),
            action: Action::Create,
            node: "n".into(),
            description: String::new(),
            commands: vec![vec!["mkdir".into(), "-p".into(), "/b".into()]],
            guard: crate::plan::Guard {
                description: String::new(),
                argv: vec!["gluster".into(), "volume".into(), "info".into()],
            },
            depends_on: vec![],
            destructive: false,
            changes: vec![],
        };
        assert!(!is_cluster_wide(&s), "a gluster guard is a read");
        s.commands
            .push(vec!["gluster".into(), "--mode=script".into()]);
        assert!(is_cluster_wide(&s));
    }
}
