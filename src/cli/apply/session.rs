//! What `apply` and `unlock` share with the rest of the CLI: reading the config,
//! building one transport per node, gathering facts, closing connections.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config::{self, Desired};
use crate::gather::Observed;
use crate::transport::Transports;

/// Reads and validates the config, printing diagnostics on stderr. None = exit 1.
pub fn load_config(config: Option<PathBuf>) -> Option<(PathBuf, Desired)> {
    let path = match config {
        Some(p) => p,
        None => {
            match config::discover(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
            {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{:?}", miette::Report::new(e));
                    return None;
                }
            }
        }
    };
    let loaded = match config::load(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return None;
        }
    };
    if !loaded.diagnostics.is_empty() {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        eprint!("{}", loaded.render(100, color));
    }
    match loaded.desired {
        Some(d) => Some((path, d)),
        None => {
            eprintln!("{}: invalid config; nothing was changed", path.display());
            None
        }
    }
}

/// One SSH transport per node of the config (connected lazily, on first use).
pub struct Cluster {
    transports: Transports,
}

/// Nodes gathered at once (gather's own default).
const GATHER_PARALLELISM: usize = 32;

pub async fn connect(desired: &Desired) -> Cluster {
    Cluster {
        transports: crate::transport::ssh_transports(desired),
    }
}

impl Cluster {
    pub fn transports(&self) -> Transports {
        self.transports.clone()
    }

    pub async fn gather(&self, desired: &Desired) -> Observed {
        crate::gather::gather(desired, &self.transports, GATHER_PARALLELISM).await
    }

    /// Closes every connection (ControlMasters); safe to call more than once.
    pub async fn close(&self) {
        crate::transport::close_all(&self.transports).await;
    }
}
