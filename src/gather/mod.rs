//! Reading the real state of every node: one read-only probe per node over a
//! [`crate::transport::Transport`], parsed locally into [`Observed`].
//! There is no state file; these facts are the only truth the planner sees.

pub mod model;

pub use model::*;
