//! What happened to each step, in the words an operator acts on.

use std::time::Duration;

use crate::plan::Step;

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

/// Told about every step as it starts and ends (progress display, test hooks), and
/// about anything else the operator must hear during a run (a lock taken over).
pub trait Observer: Send + Sync {
    fn started(&self, _step: &Step) {}
    fn finished(&self, _step: &Step, _outcome: &Outcome) {}
    fn note(&self, _line: &str) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// The outcome of every step, in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub outcomes: Vec<(String, Outcome)>,
    /// Done steps whose effect was not checked on the node right after their commands,
    /// but is left to one read of every node after the run (`super::later`). Until
    /// [`super::later::settle`] has seen that read, they are done but unconfirmed.
    pub checked_later: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
