//! The one error type every command returns, and the one place errors are printed.
//! Model: jj's `CommandError` — an error of some kind, an optional hint, an exit code.
//! A command that has already said why it failed (a blocked plan, failed steps) does not
//! return an error: it returns [`Exit::Failure`].

use std::process::ExitCode;

use brickyard::render::escape::escape_text;

/// How a command ended, when it ended normally (README.md, "Commands").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: success; for `plan --detailed-exitcode`, no changes.
    Success,
    /// 1: the command failed and has already said why (invalid config, blocked plan,
    /// failed apply, unreachable nodes).
    Failure,
    /// 2: `plan --detailed-exitcode` and the plan has changes.
    Changes,
}

/// Bad command-line usage (clap's own code would be 2, which reads as "plan has
/// changes" under --detailed-exitcode).
const USAGE: u8 = 64;

impl Exit {
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Changes => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// Why a command could not do its job.
#[derive(Debug)]
pub(crate) struct CommandError {
    kind: Kind,
    /// Printed verbatim on the lines after the error (advice, the command to run next).
    hint: Option<String>,
}

#[derive(Debug)]
enum Kind {
    /// The command line itself (clap): usage errors exit 64, `--help`/`--version` 0.
    Cli(clap::Error),
    /// A finding with a code and a help line (config discovery, unreadable config):
    /// printed as the full miette report.
    Diagnostic(miette::Report),
    /// Everything else: `error: {message}`.
    Message(String),
}

impl CommandError {
    /// `error: {message}` (exit 1).
    pub(crate) fn message(message: impl Into<String>) -> CommandError {
        CommandError {
            kind: Kind::Message(message.into()),
            hint: None,
        }
    }

    /// A report with its code and help line (exit 1).
    pub(crate) fn diagnostic(d: impl miette::Diagnostic + Send + Sync + 'static) -> CommandError {
        CommandError {
            kind: Kind::Diagnostic(miette::Report::new(d)),
            hint: None,
        }
    }

    pub(crate) fn cli(e: clap::Error) -> CommandError {
        CommandError {
            kind: Kind::Cli(e),
            hint: None,
        }
    }

    /// Lines printed as they are after the error.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> CommandError {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match &self.kind {
            Kind::Cli(e) if e.use_stderr() => USAGE,
            Kind::Cli(_) => Exit::Success.code(),
            Kind::Diagnostic(_) | Kind::Message(_) => Exit::Failure.code(),
        }
    }

    /// The one place a command's error is shown (stderr; clap's help goes to stdout).
    pub(crate) fn print(&self) {
        match &self.kind {
            Kind::Cli(e) => {
                let _ = e.print();
            }
            Kind::Diagnostic(report) => eprintln!("{report:?}"),
            // messages quote node text (lock holders, probe errors, stale-plan diffs)
            Kind::Message(m) => eprintln!("error: {}", escape_text(m)),
        }
        if let Some(hint) = &self.hint {
            eprintln!("{}", escape_text(hint));
        }
    }
}

impl From<brickyard::config::LoadError> for CommandError {
    fn from(e: brickyard::config::LoadError) -> CommandError {
        CommandError::diagnostic(e)
    }
}

/// Results of every command.
pub(crate) type CommandResult = Result<Exit, CommandError>;
