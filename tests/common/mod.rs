//! Shared test support. Each test binary compiles this module on its own and uses only
//! part of it, hence the dead-code allowance.
#![allow(dead_code)]

pub mod lab;
