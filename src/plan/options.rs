//! What the command line grants the planner beyond the config. Its own module so every
//! pass can read it without importing the pass runner (`plan/mod.rs`).

/// Command-line permissions that the config alone cannot grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--allow-destroy`: deletions and other data-destroying steps may run.
    pub allow_destroy: bool,
    /// `--allow-wipe`: devices with `wipe: true` may have their signatures wiped.
    pub allow_wipe: bool,
    /// A fresh cluster id (32 lowercase hex) the CLI made for this run: recorded on every
    /// node when no node records an identity yet and the config pins none. The planner
    /// makes no randomness of its own; None (the library default) records no identity on
    /// a cluster that has none. A saved plan carries the id it was made with
    /// (`Plan::cluster_id`), so re-planning it must pass that id back.
    pub new_cluster_id: Option<String>,
}
