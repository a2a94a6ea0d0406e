//! `brickyard import cluster` over facts captured from real lab nodes holding volumes made
//! by hand (testdata/captures/n-handmade: a replica 3 with a non-default option and a
//! 3-brick distribute, bricks at `<path>/hand/<vol>`): the output validates, both
//! formats give the model it was written from, and planning it against the same facts
//! gives adoption steps only (plus the identity record a first apply always writes).

use std::collections::BTreeMap;
use std::path::Path;

use brickyard::config::{self, Desired, Durability, Format};
use brickyard::gather::parse::parse_probe;
use brickyard::gather::parse::sections::RECORDED_MARKER;
use brickyard::gather::{FORMAT_VERSION, NodeObservation, Observed};
use brickyard::plan::{Action, plan};

fn observed() -> Observed {
    let mut nodes = BTreeMap::new();
    for n in ["n1", "n2", "n3"] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("testdata/captures/n-handmade/{n}.txt")),
        )
        .unwrap();
        let f = parse_probe(&text, RECORDED_MARKER).unwrap();
        assert!(f.section_errors.is_empty(), "{n}: {:?}", f.section_errors);
        nodes.insert(n.to_string(), NodeObservation::Reachable(Box::new(f)));
    }
    Observed {
        format_version: FORMAT_VERSION,
        nodes,
    }
}

/// The lab's nodes of the capture, with the lab's paths and no volume.
fn seed() -> Desired {
    let text = r#"
cluster: lab
nodes:
  n1: { manage: 10.99.6.11, zone: 1, paths: [/bricks/d0, /bricks/d1] }
  n2: { manage: 10.99.6.12, zone: 2, paths: [/bricks/d0, /bricks/d1] }
  n3: { manage: 10.99.6.13, zone: 3, paths: [/bricks/d0, /bricks/d1] }
volumes: {}
"#;
    let l = config::parse_str("seed.yaml", text, Format::Yaml);
    assert!(l.diagnostics.is_empty(), "{}", l.render(100, false));
    l.desired.unwrap()
}

#[test]
fn imported_config_round_trips_and_plans_only_adoption() {
    let obs = observed();
    let seed = seed();
    let (yaml, imp) = brickyard::import::cluster(&seed, &obs, Format::Yaml).unwrap();
    let (hcl, _) = brickyard::import::cluster(&seed, &obs, Format::Hcl).unwrap();
    let y = config::parse_str("imported.yaml", &yaml, Format::Yaml);
    let h = config::parse_str("imported.hcl", &hcl, Format::Hcl);
    assert!(y.diagnostics.is_empty(), "{yaml}\n{}", y.render(100, false));
    assert!(h.diagnostics.is_empty(), "{hcl}\n{}", h.render(100, false));
    assert_eq!(y.desired.as_ref(), Some(&imp.desired), "{yaml}");
    assert_eq!(h.desired.as_ref(), Some(&imp.desired), "{hcl}");

    let d = &imp.desired;
    assert_eq!(imp.adopted, ["hd", "hv"]);
    let hv = &d.volumes["hv"];
    assert!(hv.adopt);
    assert_eq!(
        hv.durability,
        Durability::Replicate {
            replica: 3,
            arbiter: false
        }
    );
    // the option set by hand, and none of those `volume create` set by itself
    assert_eq!(
        hv.options,
        BTreeMap::from([("performance.cache-size".to_string(), "64MB".to_string())])
    );
    assert_eq!(d.volumes["hd"].durability, Durability::None);
    assert!(d.volumes["hd"].options.is_empty(), "{yaml}");
    // the bricks are under the declared paths already: no path is added
    assert_eq!(d.nodes, seed.nodes, "{yaml}");

    let p = plan(d, &obs, &crate::cli_opts());
    assert!(p.blockers.is_empty(), "{:#?}", p.blockers);
    let other: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.action != Action::Adopt && !s.id.contains("cluster-id"))
        .map(|s| s.id.clone())
        .collect();
    assert!(other.is_empty(), "not adoption: {other:?}");
    // three brick marks per volume, then one marker step per volume
    let adopt = |v: &str| {
        p.steps
            .iter()
            .filter(|s| s.action == Action::Adopt && s.address.to_string().contains(v))
            .count()
    };
    assert_eq!((adopt("hv"), adopt("hd")), (4, 4));
}

fn blocker_of<'p>(p: &'p brickyard::plan::Plan, address: &str) -> &'p brickyard::plan::Blocker {
    p.blockers
        .iter()
        .find(|b| b.address.to_string() == address)
        .unwrap_or_else(|| panic!("no blocker for {address}: {:#?}", p.blockers))
}

#[test]
fn an_unmarked_volume_without_adopt_is_a_blocker_that_says_how() {
    let obs = observed();
    let (_, imp) = brickyard::import::cluster(&seed(), &obs, Format::Yaml).unwrap();
    let mut d = imp.desired.clone();
    d.volumes.get_mut("hv").unwrap().adopt = false;
    let p = plan(&d, &obs, &crate::cli_opts());
    let b = blocker_of(&p, "volume.hv");
    assert_eq!(b.code.as_str(), "foreign_volume");
    assert!(b.help.as_deref().unwrap_or("").contains("adopt: true"));
    assert!(!p.steps.iter().any(|s| s.address.to_string().contains("hv")));
}

#[test]
fn a_layout_that_differs_from_the_declaration_is_one_blocker_listing_each_difference() {
    let obs = observed();
    let (_, imp) = brickyard::import::cluster(&seed(), &obs, Format::Yaml).unwrap();
    let mut d = imp.desired.clone();
    let hv = d.volumes.get_mut("hv").unwrap();
    hv.durability = Durability::Replicate {
        replica: 2,
        arbiter: false,
    };
    hv.size *= 1000;
    let p = plan(&d, &obs, &crate::cli_opts());
    let b = blocker_of(&p, "volume.hv");
    assert_eq!(b.code.as_str(), "adopt_mismatch");
    assert!(b.message.contains("layout:"), "{}", b.message);
    assert!(b.message.contains("size:"), "{}", b.message);
    assert!(!p.steps.iter().any(|s| s.address.to_string().contains("hv")));
}

/// Marks on the brick directories and markers on the volumes: what an adoption writes.
fn marks(o: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    for (n, obs) in &o.nodes {
        let NodeObservation::Reachable(f) = obs else {
            continue;
        };
        for d in &f.brick_dirs {
            out.push(format!("{n} {} {:?}", d.path, d.mark));
        }
        for v in &f.volumes {
            let mut o: Vec<_> = v.options.iter().collect();
            o.sort();
            out.push(format!("{n} {} {o:?}", v.name));
        }
    }
    out.sort();
    out
}

/// SIGKILL at every command of an adoption (after some bricks are marked, after all of
/// them, before the volume's markers): the next plan is still adoption only, never
/// `foreign_volume` or a blocker, and it ends where the uninterrupted apply ends.
#[test]
fn an_adoption_killed_at_any_command_is_finished_by_the_next_plan() {
    use brickyard::plan::simulate;
    let obs = observed();
    let (_, imp) = brickyard::import::cluster(&seed(), &obs, Format::Yaml).unwrap();
    let d = &imp.desired;
    let p = plan(d, &obs, &crate::cli_opts());
    let total: usize = p.steps.iter().map(|s| s.commands.len()).sum();
    assert!(total >= 8, "{total} commands");
    let done = simulate::apply(&p, &obs);
    let again = plan(d, &done, &crate::cli_opts());
    assert!(again.blockers.is_empty(), "{:#?}", again.blockers);
    assert!(again.steps.is_empty(), "{:#?}", again.steps);
    let want = marks(&done);
    assert_ne!(want, marks(&obs), "the adoption wrote nothing");
    for k in 1..total {
        let cut = simulate::apply_until(&p, &obs, k);
        let next = plan(d, &cut, &crate::cli_opts());
        assert!(
            next.blockers.is_empty(),
            "killed after {k}: {:#?}",
            next.blockers
        );
        let other: Vec<_> = next
            .steps
            .iter()
            .filter(|s| s.action != Action::Adopt && !s.id.contains("cluster-id"))
            .map(|s| s.id.clone())
            .collect();
        assert!(
            other.is_empty(),
            "killed after {k}, not adoption: {other:?}"
        );
        let fin = simulate::apply(&next, &cut);
        assert_eq!(marks(&fin), want, "killed after {k}");
        let last = plan(d, &fin, &crate::cli_opts());
        assert!(last.steps.is_empty(), "killed after {k}: {:#?}", last.steps);
    }
}

fn assert_nothing_inside(p: &brickyard::plan::Plan, brick: &str) {
    let inside: Vec<_> = p
        .steps
        .iter()
        .flat_map(|s| &s.commands)
        .filter(|c| c.iter().any(|a| a.starts_with(brick)))
        .collect();
    assert!(
        inside.is_empty(),
        "a command inside brick {brick}: {inside:?}"
    );
}

/// New bricks never nest in an existing one: with `/bricks/d0/hand` declared, volume hv's
/// derived directory `/bricks/d0/hand/hv` is its hand-made brick, so growing hv must not
/// place a brick at `/bricks/d0/hand/hv/s1p*` (inside it), and a path declared inside a
/// brick is offered to no volume; where nothing else fits, the blocker says why.
#[test]
fn new_bricks_never_go_inside_an_adopted_brick() {
    use brickyard::plan::simulate;
    // the capture probed /bricks/d0; the paths below it are on the same filesystem
    let mut obs = observed();
    for o in obs.nodes.values_mut() {
        let NodeObservation::Reachable(f) = o else {
            continue;
        };
        let d0 = f.paths["/bricks/d0"].clone();
        f.paths.insert("/bricks/d0/hand".into(), d0.clone());
        f.paths.insert("/bricks/d0/hand/hv/inner".into(), d0);
    }
    let mut seed = seed();
    for n in seed.nodes.values_mut() {
        n.paths.retain(|p| p.path == "/bricks/d0");
        n.paths[0].path = "/bricks/d0/hand".into();
    }
    let (_, imp) = brickyard::import::cluster(&seed, &obs, Format::Yaml).unwrap();
    // hv alone, on the one path above its bricks (hd stays foreign and untouched)
    let mut d = imp.desired.clone();
    d.volumes.remove("hd");
    for n in d.nodes.values_mut() {
        n.paths.retain(|p| p.path == "/bricks/d0/hand");
        assert_eq!(n.paths.len(), 1);
    }
    let first = plan(&d, &obs, &crate::cli_opts());
    assert!(first.blockers.is_empty(), "{:#?}", first.blockers);
    assert!(first.steps.iter().any(|s| s.action == Action::Adopt));
    let adopted = simulate::apply(&first, &obs);
    let again = plan(&d, &adopted, &crate::cli_opts());
    assert!(
        again.steps.is_empty() && again.blockers.is_empty(),
        "{again:#?}"
    );

    let mut grown = d.clone();
    grown.volumes.get_mut("hv").unwrap().size *= 2;
    let p = plan(&grown, &adopted, &crate::cli_opts());
    assert_nothing_inside(&p, "/bricks/d0/hand/hv/");
    let b = blocker_of(&p, "volume.hv");
    assert_eq!(b.code.as_str(), "nodes", "{b:#?}");
    assert!(b.message.contains("beside it"), "{}", b.message);

    // a path inside a brick: a new volume is not placed there either
    let mut inner = d.clone();
    for n in inner.nodes.values_mut() {
        n.paths[0].path = "/bricks/d0/hand/hv/inner".into();
    }
    let mut v = inner.volumes["hv"].clone();
    v.adopt = false;
    v.options.clear();
    v.size = brickyard::units::GIB;
    inner.volumes.insert("fresh".into(), v);
    let p = plan(&inner, &adopted, &crate::cli_opts());
    assert_nothing_inside(&p, "/bricks/d0/hand/hv/");
    let b = blocker_of(&p, "volume.fresh");
    assert!(b.message.contains("inside brick"), "{}", b.message);
}

/// Adversarial bricks under `adopt: true`: one carrying another cluster's mark, one
/// reached through a symlink. Each is one line of the `adopt_mismatch` blocker, and no
/// step of any kind touches the volume (no mark is written over another's, none through
/// a symlink).
#[test]
fn a_brick_marked_for_someone_else_or_behind_a_symlink_is_never_adopted() {
    use brickyard::gather::BrickDirKind;
    let mut obs = observed();
    let (_, imp) = brickyard::import::cluster(&seed(), &obs, Format::Yaml).unwrap();
    for (n, o) in obs.nodes.iter_mut() {
        let NodeObservation::Reachable(f) = o else {
            continue;
        };
        let d = f
            .brick_dirs
            .iter_mut()
            .find(|d| d.path == "/bricks/d0/hand/hv")
            .expect("the capture lists hv's brick");
        match n.as_str() {
            "n1" => d.mark = Some("other/hv/s0p0".into()),
            "n2" => d.kind = BrickDirKind::Symlink,
            _ => {}
        }
    }
    let p = plan(&imp.desired, &obs, &crate::cli_opts());
    let b = blocker_of(&p, "volume.hv");
    assert_eq!(b.code.as_str(), "adopt_mismatch", "{b:#?}");
    assert!(
        b.message.contains("10.99.6.11:/bricks/d0/hand/hv"),
        "{}",
        b.message
    );
    assert!(
        b.message.contains("10.99.6.12:/bricks/d0/hand/hv"),
        "{}",
        b.message
    );
    assert!(
        !b.message.contains("10.99.6.13:/bricks/d0/hand/hv"),
        "{}",
        b.message
    );
    let touching: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.address.to_string().contains("hv"))
        .map(|s| s.id.clone())
        .collect();
    assert!(touching.is_empty(), "{touching:?}");
    assert_nothing_inside(&p, "/bricks/d0/hand/hv");
    // hd is untouched by hv's refusal: it is still adopted
    assert!(
        p.steps
            .iter()
            .any(|s| s.action == Action::Adopt && s.address.to_string().contains("hd"))
    );
}
