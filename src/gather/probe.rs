//! The one remote command gather sends per node: `sh -s -- NONCE ARGS` with the read-only
//! probe script (probe.sh, compiled in) on stdin. The nonce, fresh for every run, goes into
//! the probe's section markers so node data cannot forge them (review finding #9);
//! declared devices and paths travel as positional arguments (`d:/dev/vdb`,
//! `p:/srv/bricks`), never inside the script text.

use std::io::Read;
use std::time::Duration;

use crate::config::Node;
use crate::transport::RemoteCommand;
use crate::transport::shell::sh_s;

/// The probe script. Read-only by construction; see its header and docs/gather.md.
pub const SCRIPT: &str = include_str!("probe.sh");

/// Generous: under software emulation the gluster CLI alone takes seconds per call.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(180);

/// Bytes of randomness in a nonce: 128 bits cannot be guessed by text written in advance.
const NONCE_BYTES: usize = 16;

/// A fresh nonce for one probe run: lowercase hex from the operator machine's kernel
/// random source (gather may do I/O; the nonce never needs to be reproducible).
pub fn random_nonce() -> Result<String, String> {
    let mut buf = [0u8; NONCE_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("cannot read /dev/urandom for the probe's nonce: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

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

/// The probe command for one node and run: the nonce is the first positional argument;
/// `read_status` makes this node the one that reads `volume status` for the cluster.
pub fn command(node: &Node, nonce: &str, read_status: bool) -> RemoteCommand {
    let mut argv = vec![nonce.to_string()];
    if read_status {
        argv.push(super::status::ARG.to_string());
    }
    argv.extend(args(node));
    RemoteCommand::new(sh_s(argv))
        .with_stdin(SCRIPT.as_bytes())
        .with_timeout(TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_fresh_hex() {
        let (a, b) = (random_nonce(), random_nonce());
        let (Ok(a), Ok(b)) = (a, b) else {
            panic!("no nonce")
        };
        assert_eq!(a.len(), 2 * NONCE_BYTES);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}
