//! Adoption: a volume brickyard did not make (by hand, by gluster-ansible, by Heketi)
//! that the config names with `adopt: true`. Its live layout is checked against the
//! declaration first, and every difference is one line of one blocker; when it matches,
//! each brick is marked where it is (the `trusted.brickyard.brick` xattr, which only
//! root on the node can write), then the volume (the `user.brickyard.*` options, by
//! `update`), and from then on it is ours like any other volume.
//!
//! Bricks before the volume: a marked volume whose bricks lack their mark fails its proof
//! (a blocker), while marked bricks under an unmarked volume are this adoption half done,
//! which the next plan finishes with the same steps.

use crate::config::{BrickKind, Volume};
use crate::gather::VolumeFacts;
use crate::units::HumanBytes;

use super::update::same_layout;
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::{Builder, StepSpec, change, guard, sh};
use crate::plan::capacity::live_capacity;
use crate::plan::gluster::{layout, live_durability};
use crate::plan::health::World;
use crate::plan::model::Action;
use crate::plan::ownership::{BRICK_XATTR, dir_brick_mark};
use crate::plan::proof::{self, ProofFailure, Proven, ProvenBrick};

/// A volume whose live layout matches its declaration: its bricks (in gluster's order),
/// and which of them still need their mark.
pub(super) struct Adoption<'a> {
    pub(super) bricks: Vec<ProvenBrick<'a>>,
    pub(super) unmarked: Vec<usize>,
}

/// `sh -c MARK sh XATTR MARK DIR PREFIX`: mark DIR unless it carries a mark of this
/// cluster's volume already (a heal copies the brick root's xattrs across a set); any
/// other mark, or DIR not a real directory, fails the step and changes nothing.
pub(crate) const MARK: &str = "test -d \"$3\" && test ! -L \"$3\" || { echo \"$3 is not a directory\" >&2; exit 1; }; \
m=$(getfattr --only-values -n \"$1\" -- \"$3\" 2>/dev/null); \
case $m in '') setfattr -n \"$1\" -v \"$2\" -- \"$3\" ;; \"$4\"/*) ;; \
*) echo \"$3 is marked $m\" >&2; exit 1 ;; esac";

/// The mark is on (this volume's, of any position).
const MARKED: &str = "case \"$(getfattr --only-values -n \"$1\" -- \"$3\" 2>/dev/null)\" in \"$4\"/*) exit 0 ;; esac; exit 1";

/// Does the live volume match the declaration? Every difference, as a line.
pub(super) fn check<'a>(
    w: &World<'a>,
    vol: &Volume,
    vf: &VolumeFacts,
) -> Result<Adoption<'a>, Vec<String>> {
    let mut diffs = Vec::new();
    if !same_layout(&vol.durability, vf) {
        diffs.push(format!(
            "layout: the volume is {} ({}) and the config says {}",
            vf.vol_type,
            live_layout(vf),
            layout(&vol.durability)
        ));
    }
    if vol.brick_kind != BrickKind::Directory {
        diffs.push(
            "brick_kind: the config says lvm; brickyard adopts directory bricks (say `brick_kind: directory`)"
                .to_string(),
        );
    }
    if vf.bricks.is_empty() {
        diffs.push("bricks: gluster lists none".to_string());
    }
    let n = proof::set_size(vf);
    let mut bricks = Vec::new();
    let mut unmarked = Vec::new();
    for (i, br) in vf.bricks.iter().enumerate() {
        let (set, pos) = ((i as u32) / n, (i as u32) % n);
        match proof::adoptable(w, &vf.name, set, pos, &br.host, &br.path) {
            Ok((pb, marked)) => {
                if !marked {
                    unmarked.push(bricks.len());
                }
                bricks.push(pb);
            }
            Err(ProofFailure::NotDerived { path, .. }) => {
                let node = w.node_of_host(&br.host).unwrap_or(&br.host);
                diffs.push(format!(
                    "brick {}: {path} is under no declared path of node {node} (declare the directory it is in, not the brick itself, in `paths`)",
                    br.name
                ))
            }
            Err(e) => diffs.push(format!("brick {}: {e}", br.name)),
        }
    }
    if let Some(holds) = live_capacity(vf, |b| b.size_total)
        && vol.size > holds
    {
        diffs.push(format!(
            "size: the config says {}, and the bricks' filesystems hold at most {holds_h} ({} set(s) of the smallest data brick); declare {holds_h} or less",
            HumanBytes(vol.size),
            vf.brick_count / n.max(1),
            holds_h = HumanBytes(holds),
        ));
    }
    if diffs.is_empty() {
        Ok(Adoption { bricks, unmarked })
    } else {
        Err(diffs)
    }
}

/// The live layout in the config's words.
fn live_layout(vf: &VolumeFacts) -> String {
    live_durability(vf).map_or_else(
        || "a layout the config cannot declare".into(),
        |d| layout(&d),
    )
}

/// One blocker listing every difference; nothing of the volume is touched.
pub(super) fn block(b: &mut Builder, name: &str, diffs: &[String]) {
    b.block(
        BlockerCode::AdoptMismatch,
        &Address::volume(name),
        format!(
            "volume {name} is declared with `adopt: true`, but it differs from the declaration, so brickyard will not take it over:\n  - {}",
            diffs.join("\n  - ")
        ),
        Some("make the declaration say what the volume is (`brickyard import cluster` prints it), or drop `adopt: true`".into()),
    );
}

/// The mark step of each unmarked brick (they run on the bricks' nodes, beside each
/// other); returns their ids, which the volume's marker step waits for.
pub(super) fn mark_bricks(
    w: &World<'_>,
    b: &mut Builder,
    name: &str,
    a: &Adoption<'_>,
    blocked: bool,
) -> Vec<String> {
    let cluster = w.desired.cluster.as_str();
    let prefix = format!("{cluster}/{name}");
    let mut ids = Vec::new();
    for &i in &a.unmarked {
        let pb = &a.bricks[i];
        let Proven::Dir { path, .. } = &pb.kind else {
            continue;
        };
        let mark = dir_brick_mark(cluster, name, pb.set, pb.pos);
        let addr = Address::brick(name, pb.set, pb.pos);
        let args = [BRICK_XATTR, mark.as_str(), path.as_str(), prefix.as_str()];
        let id = b.push(
            StepSpec {
                id: format!("{addr}/adopt"),
                address: &addr,
                action: Action::Adopt,
                node: pb.node,
                description: format!(
                    "mark brick directory {path} as brickyard's ({BRICK_XATTR}={mark}); its data stays as it is"
                ),
                commands: vec![sh(MARK, &args)],
                guard: guard("the directory carries the volume's mark", sh(MARKED, &args)),
                depends_on: Vec::new(),
                destructive: false,
            },
            blocked,
        );
        b.with_changes(vec![change(BRICK_XATTR, None, Some(&mark))]);
        ids.push(id);
    }
    ids
}
