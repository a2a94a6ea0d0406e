//! The lab test tier: tests against the real nodes `scripts/lab` brings up (tier N:
//! namespace nodes, tier V: QEMU VMs). One binary, so `.config/nextest.toml` can put each
//! tier's modules into one serial test group (`lab-n`, `lab-v`; the two run side by side);
//! each former file is a module.
//! A test skips when its tier is down, unless `BRICKYARD_LAB=required` (see common::lab).

#[path = "../common/mod.rs"]
mod common;

mod env_n;
mod lab_adopt_n;
mod lab_apply_n;
mod lab_apply_v;
mod lab_classic_v;
mod lab_day2_n;
mod lab_gather;
mod lab_heketi_v;
mod lab_n_smoke;
mod lab_sets_n;
mod lab_trust;
mod lab_v_smoke;
