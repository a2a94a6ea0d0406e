//! A `Transport` whose "node" is a local directory: commands run as plain processes with
//! that directory as their working directory. The step-script and lock tests use it to
//! run brickyard's real remote scripts in a real shell without a lab.

use std::path::PathBuf;

use async_trait::async_trait;
use brickyard::transport::{Output, RemoteCommand, Transport, TransportError};

pub(crate) struct LocalShell {
    pub(crate) name: String,
    pub(crate) root: PathBuf,
}

#[async_trait]
impl Transport for LocalShell {
    fn node(&self) -> &str {
        &self.name
    }
    async fn run(&self, cmd: &RemoteCommand) -> Result<Output, TransportError> {
        let out = tokio::process::Command::new(&cmd.argv[0])
            .args(&cmd.argv[1..])
            .current_dir(&self.root)
            .output()
            .await
            .map_err(|e| TransportError::Other(e.to_string()))?;
        Ok(Output {
            status: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}
