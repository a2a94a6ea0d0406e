//! What the operator sees while apply runs: one line per finished step on stderr
//! (`[node] address: description ... done (1.2s)`), and on a terminal a status line
//! under them listing what is running now. Plain lines only when not a terminal, so
//! logs and CI output stay greppable (the lab tests read these lines).

use crate::render::escape::{escape, escape_text};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::apply::executor::{NotRun, Observer, Outcome};
use crate::plan::Step;

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// ANSI colors (terminal only, never with NO_COLOR or --no-color).
    pub color: bool,
    /// Redraw a status line of running steps (terminal only).
    pub live: bool,
}

pub struct Progress<W: Write + Send> {
    style: Style,
    total: AtomicUsize,
    inner: Mutex<Inner<W>>,
}

struct Inner<W> {
    out: W,
    finished: usize,
    /// Running steps in start order: (node, address, started).
    running: Vec<(String, String, Instant)>,
    status_drawn: bool,
}

impl<W: Write + Send> Progress<W> {
    pub fn new(out: W, total: usize, style: Style) -> Self {
        Progress {
            style,
            total: AtomicUsize::new(total),
            inner: Mutex::new(Inner {
                out,
                finished: 0,
                running: Vec::new(),
                status_drawn: false,
            }),
        }
    }

    /// The number of steps, when it is known only after the progress was made (an apply
    /// that plans under the lock).
    pub fn set_total(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
    }

    /// Removes the status line (call before printing the summary).
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            clear_status(&mut inner);
            let _ = inner.out.flush();
        }
    }

    /// The writer back (tests read what was drawn).
    pub fn into_inner(self) -> Option<W> {
        self.inner.into_inner().ok().map(|i| i.out)
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.style.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn redraw(&self, inner: &mut Inner<W>) {
        if !self.style.live {
            return;
        }
        clear_status(inner);
        if inner.running.is_empty() {
            return;
        }
        let width = terminal_width().saturating_sub(1).max(20);
        let names: Vec<String> = inner
            .running
            .iter()
            .map(|(node, address, t)| format!("[{node}] {address} {}s", t.elapsed().as_secs()))
            .collect();
        let mut line = format!(
            "{}/{} finished, running: {}",
            inner.finished,
            self.total.load(Ordering::Relaxed),
            names.join(", ")
        );
        if line.chars().count() > width {
            line = line
                .chars()
                .take(width.saturating_sub(1))
                .collect::<String>()
                + "…";
        }
        let _ = write!(inner.out, "{}", self.paint("2", &line));
        inner.status_drawn = true;
        let _ = inner.out.flush();
    }
}

fn clear_status<W: Write>(inner: &mut Inner<W>) {
    if inner.status_drawn {
        let _ = write!(inner.out, "\r\x1b[2K");
        inner.status_drawn = false;
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// `[node] address: description` — the prefix every line about a step starts with.
pub(crate) fn step_label(step: &Step) -> String {
    // descriptions name paths and values from the facts (finding #13)
    escape(&format!(
        "[{}] {}: {}",
        step.node, step.address, step.description
    ))
    .into_owned()
}

impl<W: Write + Send> Observer for Progress<W> {
    fn note(&self, line: &str) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        clear_status(&mut inner);
        let _ = writeln!(inner.out, "{}", escape_text(line));
        self.redraw(&mut inner);
    }

    fn started(&self, step: &Step) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner
            .running
            .push((step.node.clone(), step.address.to_string(), Instant::now()));
        self.redraw(&mut inner);
    }

    fn finished(&self, step: &Step, outcome: &Outcome) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        clear_status(&mut inner);
        if let Some(pos) = inner
            .running
            .iter()
            .position(|(n, a, _)| *n == step.node && *a == step.address.to_string())
        {
            inner.running.remove(pos);
        }
        inner.finished += 1;
        let verdict = match outcome {
            Outcome::Done { elapsed } => {
                self.paint("32", &format!("done ({:.1}s)", elapsed.as_secs_f64()))
            }
            Outcome::AlreadyDone => self.paint("2", "skipped (already done)"),
            Outcome::Failed(f) => {
                let mut text = self.paint("1;31", "FAILED");
                // the failure carries the node's stderr
                text.push_str(&format!(" {}", escape_text(&f.to_string())));
                text
            }
            Outcome::NotRun(NotRun::Blocked { failed }) => {
                self.paint("33", &format!("not run (depends on failed {failed})"))
            }
            Outcome::NotRun(NotRun::Stopped) => self.paint("33", "not run (apply stopped)"),
        };
        let _ = writeln!(inner.out, "{} ... {verdict}", step_label(step));
        self.redraw(&mut inner);
        let _ = inner.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Guard};

    fn step(node: &str, volume: &str) -> Step {
        Step {
            id: volume.into(),
            address: crate::plan::Address::volume(volume),
            action: Action::Create,
            node: node.into(),
            description: "do it".into(),
            commands: vec![],
            guard: Guard {
                description: String::new(),
                argv: vec![],
                redundant_when_fresh: false,
            },
            depends_on: vec![],
            destructive: false,
            changes: vec![],
        }
    }

    #[test]
    fn on_a_terminal_a_status_line_lists_running_steps_and_is_cleared_before_each_line() {
        let p = Progress::new(
            Vec::new(),
            2,
            Style {
                color: true,
                live: true,
            },
        );
        let (a, b) = (step("n1", "a"), step("n2", "b"));
        p.started(&a);
        p.started(&b);
        p.finished(&a, &Outcome::AlreadyDone);
        p.clear();
        let text = String::from_utf8(p.into_inner().unwrap()).unwrap();
        assert!(
            text.contains("0/2 finished, running: [n1] volume.a 0s, [n2] volume.b 0s"),
            "{text:?}"
        );
        // The finished line starts on a cleared line and is colored.
        assert!(
            text.contains(
                "\r\x1b[2K[n1] volume.a: do it ... \x1b[2mskipped (already done)\x1b[0m\n"
            ),
            "{text:?}"
        );
        assert!(
            text.contains("1/2 finished, running: [n2] volume.b 0s"),
            "{text:?}"
        );
        assert!(
            text.ends_with("\r\x1b[2K"),
            "status cleared at the end: {text:?}"
        );
    }

    #[test]
    fn finding_13_node_text_in_progress_lines_is_escaped() {
        let p = Progress::new(
            Vec::new(),
            1,
            Style {
                color: false,
                live: false,
            },
        );
        let mut a = step("n1", "a");
        a.description = "remove /srv/x\u{1b}[1A\u{1b}[2K".into();
        p.note("node says \u{202e}olleh");
        p.finished(&a, &Outcome::AlreadyDone);
        let text = String::from_utf8(p.into_inner().unwrap()).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text:?}"
        );
        assert!(
            text.contains("remove /srv/x\\u{1b}[1A\\u{1b}[2K ... skipped"),
            "{text:?}"
        );
        assert!(text.contains("node says \\u{202e}olleh"), "{text:?}");
    }
}
