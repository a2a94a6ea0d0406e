//! The offline test tier: every integration test that needs no lab (parsers on captured
//! output, config diagnostics, plan scenarios and properties, the executor against fake
//! transports, the CLI). One binary instead of one per file, so the crate and its
//! dependencies are linked once; each former file is a module named after its topic.
//! Run one module with `cargo nextest run -E 'binary(offline) and test(/^plan_scenarios::/)'`.

#[path = "../common/mod.rs"]
mod common;

mod apply_executor;
mod apply_fake;
mod apply_fstab_edit;
mod apply_lock;
mod apply_step_script;
mod architecture;
mod cli_config_loading;
mod cli_exit_codes;
mod cli_plan_file;
mod cli_validate;
mod config_diagnostics;
mod config_examples;
mod config_fuzz;
mod config_schema;
mod config_trust;
mod fixtures_used;
mod gather_captures;
mod heketi_adopt;
mod heketi_import;
mod import_cluster;
mod local_shell;
mod plan_adversarial;
mod plan_crash_resume;
mod plan_facts;
mod plan_identity;
mod plan_ownership;
mod plan_properties;
mod plan_scenarios;
mod plan_trust;
mod readme_main_job;
mod render_escape;

/// Plan options as `brickyard plan` passes them: with the fresh cluster id the CLI makes
/// for a cluster that records none yet (a fixed one here, so snapshots are stable).
/// Without it nothing that carries the id (a PV's UUID) can be planned on such a cluster.
pub(crate) fn cli_opts() -> brickyard::plan::PlanOptions {
    brickyard::plan::PlanOptions {
        new_cluster_id: Some("5eed0000000000000000000000c1d001".into()),
        ..brickyard::plan::PlanOptions::default()
    }
}
