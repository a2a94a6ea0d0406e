//! The operator's declared storage: parsed from YAML or HCL, validated, and turned
//! into one [`Desired`] model. Pure: reads nothing but the config text it is given.
//!
//! Two stages, like ripgrep's: format parsers produce a raw tree that keeps source
//! spans; the validator walks that tree, reports every mistake at its line, and only
//! then builds the model the planner trusts.

pub mod model;

pub use model::*;
