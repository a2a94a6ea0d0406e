//! Heketi topology -> brickyard config, in both formats: the output validates and
//! both formats give the same model, which matches the topology.

use std::path::Path;

use brickyard::config::heketi::{self, HeketiError, ImportOptions};
use brickyard::config::{self, Format, ZoneChecking};

fn topology(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/heketi")
            .join(name),
    )
    .unwrap()
}

fn import(json: &str, format: Format, cluster: Option<usize>) -> Result<String, HeketiError> {
    heketi::convert(
        json,
        &ImportOptions {
            format,
            cluster,
            name: None,
            source_name: "topology.json".into(),
        },
    )
}

fn round_trip(name: &str, cluster: Option<usize>) -> config::Desired {
    let json = topology(name);
    let yaml = import(&json, Format::Yaml, cluster).unwrap();
    let hcl = import(&json, Format::Hcl, cluster).unwrap();
    let y = config::parse_str("imported.yaml", &yaml, Format::Yaml);
    let h = config::parse_str("imported.hcl", &hcl, Format::Hcl);
    assert!(y.diagnostics.is_empty(), "{yaml}\n{}", y.render(100, false));
    assert!(h.diagnostics.is_empty(), "{hcl}\n{}", h.render(100, false));
    assert_eq!(y.desired, h.desired);
    y.desired.unwrap()
}

#[test]
fn seed_topology_round_trips_in_both_formats() {
    let d = round_trip("seed-001-topology.json", None);
    assert_eq!(d.cluster, "heketi");
    assert_eq!(d.placement.zone_checking, ZoneChecking::None);
    assert_eq!(d.nodes.keys().collect::<Vec<_>>(), ["gfs1", "gfs2", "gfs3"]);
    assert_eq!(d.nodes["gfs1"].manage, "gfs1");
    assert_eq!(d.nodes["gfs2"].storage, "192.168.0.204");
    assert_eq!(d.nodes["gfs3"].zone, 1);
    assert_eq!(d.nodes["gfs3"].devices[0].path, "/dev/sdb");
    assert!(!d.nodes["gfs3"].devices[0].wipe);
    let single = round_trip("seed-003-topology.json", None);
    assert_eq!(single.nodes["node-10-0-0-4"].devices[0].path, "/dev/sdc");
}

#[test]
fn several_clusters_need_a_choice_and_destroydata_becomes_wipe() {
    let json = topology("two-clusters.json");
    let err = import(&json, Format::Yaml, None).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("2 clusters") && text.contains("a1.example.com") && text.contains("10.0.2.1"),
        "{text}"
    );
    assert_eq!(
        import(&json, Format::Yaml, Some(3)).unwrap_err(),
        HeketiError::NoSuchCluster { asked: 3, count: 2 }
    );
    let d = round_trip("two-clusters.json", Some(1));
    assert_eq!(d.cluster, "heketi-1");
    // two hosts whose first DNS label is `a1` get distinct node names
    assert_eq!(d.nodes.keys().collect::<Vec<_>>(), ["a1", "a1-2", "a2"]);
    let sdc = &d.nodes["a1"].devices[1];
    assert!(sdc.wipe);
    assert_eq!(sdc.tags["media"], "ssd");
    assert!(
        import(&json, Format::Hcl, Some(1))
            .unwrap()
            .contains("--allow-wipe")
    );
    let second = round_trip("two-clusters.json", Some(2));
    assert_eq!(second.nodes["node-10-0-2-1"].devices[0].path, "/dev/vdb");
}

#[test]
fn garbage_is_a_clear_error() {
    assert!(matches!(
        import("{", Format::Yaml, None),
        Err(HeketiError::Json(_))
    ));
    assert_eq!(
        import("{\"clusters\": []}", Format::Yaml, None),
        Err(HeketiError::NoClusters)
    );
}
