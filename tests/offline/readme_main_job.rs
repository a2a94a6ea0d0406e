//! The README's first command must keep working on a fresh machine: plan the bundled lab
//! example offline from the facts `brickyard gather` captured on three real lab nodes.

use std::process::Command;

fn plan(config: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_brickyard"))
        .args([
            "plan",
            "-c",
            config,
            "--facts",
            "examples/facts/lab-n-empty.json",
        ])
        .args(["--no-color", "--detailed-exitcode"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("brickyard runs");
    (
        out.status.code().unwrap_or(-1),
        // each run makes its own fresh cluster id (finding #11); all else is byte-identical
        crate::plan_identity::redact_cluster_ids(&String::from_utf8_lossy(&out.stdout)),
    )
}

#[test]
fn readme_main_job_plans_the_bundled_example_offline() {
    let (code, text) = plan("examples/lab-n.yaml");
    assert_eq!(code, 2, "changes pending, nothing blocked:\n{text}");
    // 6 resources of the volume, and the new cluster identity recorded on each node
    assert!(
        text.contains("Plan: 9 to add, 0 to change, 0 to destroy."),
        "{text}"
    );
    assert!(
        text.starts_with("cluster lab (id "),
        "the header shows the new id:\n{text}"
    );
    for node in ["n1", "n2", "n3"] {
        assert!(
            text.contains(&format!("# record cluster identity lab/<id> on {node}")),
            "{node}:\n{text}"
        );
    }
    for (node, zone) in [("n1", 1), ("n2", 2), ("n3", 3)] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("  {node}    /bricks/d0  {zone}"))),
            "placement row for {node}:\n{text}"
        );
    }
    // the same declaration in HCL gives the byte-identical plan
    let (hcl_code, hcl_text) = plan("examples/lab-n.hcl");
    assert_eq!((hcl_code, hcl_text), (code, text));
}
