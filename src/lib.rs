//! brickyard: declarative GlusterFS.
//!
//! Data flows one way: `config` (YAML/HCL -> [`config::Desired`]) and `gather`
//! (nodes over a [`transport::Transport`] -> [`gather::Observed`]) feed the pure
//! `plan` (-> [`plan::Plan`]), which `render` shows and `apply` executes.
//! `plan` and `config` do no I/O; everything that acts is thin and sits behind traits.
//! The command line lives in the binary (`src/cli/`); docs/architecture.md is the map.
//! What tests and the binary use is `pub`; the rest is `pub(crate)`, and the lint below
//! flags a `pub` item nothing outside can reach.

#![warn(unreachable_pub)]

pub mod apply;
pub mod config;
pub mod gather;
pub mod import;
pub mod lock;
pub mod plan;
pub mod render;
pub mod transport;
pub mod units;
