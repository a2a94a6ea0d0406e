//! The connections of the commands that talk to nodes (gather, plan without --facts,
//! apply, unlock): one transport per node of the config, gathering, closing.

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::transport::Transports;

/// One SSH transport per node of the config (connected lazily, on first use).
pub(crate) struct Cluster {
    transports: Transports,
}

/// Nodes gathered at once (gather's own default).
pub(crate) const GATHER_PARALLELISM: usize = 32;

pub(crate) async fn connect(desired: &Desired) -> Cluster {
    Cluster {
        transports: brickyard::transport::ssh_transports(desired),
    }
}

impl Cluster {
    pub(crate) fn transports(&self) -> Transports {
        self.transports.clone()
    }

    pub(crate) async fn gather(&self, desired: &Desired, parallelism: usize) -> Observed {
        brickyard::gather::gather(desired, &self.transports, parallelism).await
    }

    /// Closes every connection (ControlMasters); safe to call more than once.
    pub(crate) async fn close(&self) {
        brickyard::transport::close_all(&self.transports).await;
    }
}
