//! What a command may know about where it runs, decided once per process (model: jj's
//! `Ui`): whether to color (a terminal, no `NO_COLOR`, no `--no-color`), the width for
//! reports, asking the operator, and the async runtime. Library code (render, apply's
//! progress) takes these as arguments and reads no environment.

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::OnceLock;

use brickyard::config::Loaded;

use super::error::CommandError;

/// Report width when `COLUMNS` is not set (or too narrow to be useful).
const DEFAULT_WIDTH: usize = 100;
const MIN_WIDTH: usize = 40;

pub(crate) struct Ui {
    color_stdout: bool,
    color_stderr: bool,
    stdout_terminal: bool,
    stderr_terminal: bool,
    /// Width of config reports: `COLUMNS` when set and usable, else 100.
    width: usize,
    runtime: OnceLock<tokio::runtime::Runtime>,
}

/// The operator's answer to "do you want to perform these actions?".
pub(crate) enum Approval {
    Yes,
    No,
    /// stdin is not a terminal: nobody can be asked.
    NoTerminal,
}

impl Ui {
    /// `no_color`: the command's `--no-color` flag (commands without one pass false).
    pub(crate) fn new(no_color: bool) -> Ui {
        let may_color = !no_color && std::env::var_os("NO_COLOR").is_none();
        let stdout_terminal = std::io::stdout().is_terminal();
        let stderr_terminal = std::io::stderr().is_terminal();
        Ui {
            color_stdout: may_color && stdout_terminal,
            color_stderr: may_color && stderr_terminal,
            stdout_terminal,
            stderr_terminal,
            width: std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .filter(|w: &usize| *w >= MIN_WIDTH)
                .unwrap_or(DEFAULT_WIDTH),
            runtime: OnceLock::new(),
        }
    }

    /// Color what goes to stdout (the plan).
    pub(crate) fn color_stdout(&self) -> bool {
        self.color_stdout
    }

    /// Color what goes to stderr (reports, progress).
    pub(crate) fn color_stderr(&self) -> bool {
        self.color_stderr
    }

    /// A person reads stdout (summaries are for them, data for pipes).
    pub(crate) fn stdout_is_terminal(&self) -> bool {
        self.stdout_terminal
    }

    /// Live status lines only make sense on a terminal.
    pub(crate) fn stderr_is_terminal(&self) -> bool {
        self.stderr_terminal
    }

    /// The config findings (errors and warnings) on stderr.
    pub(crate) fn print_diagnostics(&self, loaded: &Loaded) {
        let _ = write!(
            std::io::stderr().lock(),
            "{}",
            loaded.render(self.width, self.color_stderr)
        );
    }

    /// Runs `f` on the process's one runtime (built on first use).
    pub(crate) fn block_on<F: Future>(&self, f: F) -> Result<F::Output, CommandError> {
        let rt = match self.runtime.get() {
            Some(rt) => rt,
            None => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        CommandError::message(format!("cannot start the async runtime: {e}"))
                    })?;
                self.runtime.get_or_init(|| rt)
            }
        };
        Ok(rt.block_on(f))
    }

    /// Asks on the terminal; only the word `yes` approves.
    pub(crate) fn approve(&self, question: &str) -> Approval {
        if !std::io::stdin().is_terminal() {
            return Approval::NoTerminal;
        }
        eprint!("{question}");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        match std::io::stdin().lock().read_line(&mut answer) {
            Ok(_) if answer.trim() == "yes" => Approval::Yes,
            _ => Approval::No,
        }
    }
}
