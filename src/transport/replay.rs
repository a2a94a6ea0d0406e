//! A [`Transport`] that answers from recordings instead of a network: parser, gather and
//! planner tests run on outputs captured from real nodes (testdata/captures/), and every
//! call is counted so tests can prove how many remote commands a code path issues.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Output, RemoteCommand, Transport, TransportError};

/// What is stored next to a capture's stdout (`<node>.json` beside `<node>.txt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureMeta {
    /// Lab node name the capture came from (e.g. n1, v1).
    pub node: String,
    /// The argv the probe ran with (its stdin was the probe script).
    pub argv: Vec<String>,
    pub status: Option<i32>,
    #[serde(default)]
    pub stderr: String,
}

/// One recorded answer: either an output or a transport error.
#[derive(Debug, Clone)]
pub enum Recorded {
    Output(Output),
    Error(TransportError),
}

pub struct ReplayTransport {
    node: String,
    answers: BTreeMap<Vec<String>, Recorded>,
    calls: Mutex<Vec<Vec<String>>>,
}

impl ReplayTransport {
    pub fn new(node: impl Into<String>) -> Self {
        ReplayTransport {
            node: node.into(),
            answers: BTreeMap::new(),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Answer `argv` with `out`.
    pub fn with_output(mut self, argv: Vec<String>, out: Output) -> Self {
        self.answers.insert(argv, Recorded::Output(out));
        self
    }

    /// Answer `argv` with a transport error (unreachable node and the like).
    pub fn with_error(mut self, argv: Vec<String>, err: TransportError) -> Self {
        self.answers.insert(argv, Recorded::Error(err));
        self
    }

    /// Answer every call with this error, whatever the argv (a node that is down).
    pub fn down(node: impl Into<String>, err: TransportError) -> Self {
        let mut t = ReplayTransport::new(node);
        t.answers.insert(Vec::new(), Recorded::Error(err));
        t
    }

    /// Load a capture: `<dir>/<name>.json` (argv, status, stderr) and `<dir>/<name>.txt` (stdout).
    pub fn from_capture(node: impl Into<String>, dir: &Path, name: &str) -> std::io::Result<Self> {
        let meta: CaptureMeta =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json")))?)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let stdout = std::fs::read(dir.join(format!("{name}.txt")))?;
        Ok(ReplayTransport::new(node).with_output(
            meta.argv,
            Output {
                status: meta.status,
                stdout,
                stderr: meta.stderr.into_bytes(),
            },
        ))
    }

    /// Every argv run so far, in order.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn call_count(&self) -> usize {
        self.calls.lock().map(|c| c.len()).unwrap_or(0)
    }
}

#[async_trait]
impl Transport for ReplayTransport {
    fn node(&self) -> &str {
        &self.node
    }

    async fn run(&self, cmd: &RemoteCommand) -> Result<Output, TransportError> {
        if let Ok(mut c) = self.calls.lock() {
            c.push(cmd.argv.clone());
        }
        let answer = self
            .answers
            .get(&cmd.argv)
            .or_else(|| self.answers.get(&Vec::new()));
        match answer {
            Some(Recorded::Output(o)) => Ok(o.clone()),
            Some(Recorded::Error(e)) => Err(e.clone()),
            None => Err(TransportError::Other(format!(
                "replay: no recording on {} for `{}`",
                self.node,
                super::quote(&cmd.argv)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_by_argv_and_counts() {
        let out = Output {
            status: Some(0),
            stdout: b"hi".to_vec(),
            stderr: vec![],
        };
        let t =
            ReplayTransport::new("n1").with_output(vec!["echo".into(), "hi".into()], out.clone());
        assert_eq!(
            t.run(&RemoteCommand::new(["echo", "hi"])).await.unwrap(),
            out
        );
        assert!(
            t.run(&RemoteCommand::new(["rm", "-rf", "/"]))
                .await
                .is_err()
        );
        assert_eq!(t.call_count(), 2);
        let d = ReplayTransport::down("n2", TransportError::ConnectionRefused("n2".into()));
        assert_eq!(
            d.run(&RemoteCommand::new(["x"])).await.unwrap_err().kind(),
            "connection_refused"
        );
    }
}
