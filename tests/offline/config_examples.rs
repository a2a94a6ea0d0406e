//! The bundled examples: each exists in YAML and HCL, both are valid, and both give
//! the identical model (snapshotted so a change to defaults shows up in review).

use std::path::{Path, PathBuf};

use brickyard::config::{self, Desired};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn stems() -> Vec<String> {
    let mut stems: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "yaml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    stems.sort();
    stems
}

fn load_valid(path: &Path) -> Desired {
    let loaded = config::load(path).unwrap();
    assert!(
        loaded.diagnostics.is_empty(),
        "{}:\n{}",
        path.display(),
        loaded.render(100, false)
    );
    loaded.desired.expect("valid example")
}

#[test]
fn every_example_is_valid_and_both_formats_give_the_same_model() {
    let stems = stems();
    assert!(stems.len() >= 6, "examples: {stems:?}");
    for stem in &stems {
        let yaml = load_valid(&examples_dir().join(format!("{stem}.yaml")));
        let hcl = load_valid(&examples_dir().join(format!("{stem}.hcl")));
        assert_eq!(yaml, hcl, "{stem}: YAML and HCL differ");
        insta::assert_yaml_snapshot!(format!("example-{stem}"), yaml);
    }
}

#[test]
fn yaml_examples_point_editors_at_the_schema() {
    for stem in stems() {
        let text = std::fs::read_to_string(examples_dir().join(format!("{stem}.yaml"))).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/brickyard.schema.json\n"),
            "{stem}.yaml"
        );
    }
}

#[test]
fn the_required_examples_are_there_with_their_shapes() {
    use brickyard::config::{BrickKind, Durability};
    let ex = |s: &str| load_valid(&examples_dir().join(format!("{s}.yaml")));
    let classic = ex("classic-3node");
    assert_eq!(
        classic.nodes.keys().collect::<Vec<_>>(),
        ["gfs1", "gfs2", "gfs3"]
    );
    assert!(
        classic
            .nodes
            .values()
            .all(|n| n.devices[0].path == "/dev/sdb")
    );
    assert_eq!(
        classic.volumes["gfs"].durability,
        Durability::Replicate {
            replica: 3,
            arbiter: false
        }
    );
    let six = ex("six-nodes-3-zones");
    assert_eq!(six.nodes.len(), 6);
    let zones: std::collections::BTreeSet<u32> = six.nodes.values().map(|n| n.zone).collect();
    assert_eq!(zones.len(), 3);
    // per-node ssh overrides merge over the cluster defaults
    assert_eq!(six.nodes["c2"].ssh.port, 22);
    assert_eq!(six.nodes["c2"].ssh.connect_timeout, 20);
    assert_eq!(six.nodes["a1"].ssh.port, 2222);
    assert!(
        ex("arbiter").volumes["vm-images"].durability
            == Durability::Replicate {
                replica: 3,
                arbiter: true
            }
    );
    assert_eq!(
        ex("disperse-4-2").volumes["cold"].durability,
        Durability::Disperse {
            data: 4,
            redundancy: 2
        }
    );
    let dir = ex("directory-bricks");
    assert!(
        dir.volumes
            .values()
            .all(|v| v.brick_kind == BrickKind::Directory)
    );
    let lab = ex("lab-n");
    let addrs: Vec<&str> = lab.nodes.values().map(|n| n.manage.as_str()).collect();
    assert_eq!(addrs, ["10.99.0.11", "10.99.0.12", "10.99.0.13"]);
    assert!(
        lab.nodes
            .values()
            .all(|n| n.paths.len() == 2 && n.paths[0].path == "/bricks/d0")
    );
}
