//! The pure heart: (Desired, Observed) -> Plan. No I/O, no clock, no randomness:
//! the same inputs give a byte-identical plan.

pub mod model;

pub use model::*;
