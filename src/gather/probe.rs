//! The one remote command gather sends per node: `sh -s -- ARGS` with the read-only probe
//! script (probe.sh, compiled in) on stdin. Declared devices and paths travel as positional
//! arguments (`d:/dev/vdb`, `p:/srv/bricks`), never inside the script text.

use std::time::Duration;

use crate::config::Node;
use crate::transport::RemoteCommand;
use crate::transport::shell::sh_s;

/// The probe script. Read-only by construction; see its header and docs/gather.md.
pub const SCRIPT: &str = include_str!("probe.sh");

/// Generous: under software emulation the gluster CLI alone takes seconds per call.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(180);

/// Positional arguments for the probe, from a node's declared devices and paths.
pub fn args(node: &Node) -> Vec<String> {
    let mut a: Vec<String> = node
        .devices
        .iter()
        .map(|d| format!("d:{}", d.path))
        .collect();
    a.extend(node.paths.iter().map(|p| format!("p:{}", p.path)));
    a
}

/// The probe command for one node.
pub fn command(node: &Node) -> RemoteCommand {
    command_with_args(args(node))
}

fn command_with_args(args: Vec<String>) -> RemoteCommand {
    RemoteCommand::new(sh_s(args))
        .with_stdin(SCRIPT.as_bytes())
        .with_timeout(TIMEOUT)
}
