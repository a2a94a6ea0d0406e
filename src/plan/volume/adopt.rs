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

use std::collections::BTreeMap;

use crate::config::{BrickKind, Volume};
use crate::gather::VolumeFacts;
use crate::units::HumanBytes;

use super::update::same_layout;
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::{Builder, StepSpec, change, guard, sh};
use crate::plan::capacity::live_capacity;
use crate::plan::fstab;
use crate::plan::gluster::{layout, live_durability};
use crate::plan::health::World;
use crate::plan::model::Action;
use crate::plan::ownership::{
    BRICK_XATTR, Tagged, add_tags, brick_tags, dir_brick_mark, fstab_line_at, fstab_line_marked,
    fstab_marker, tags_guard,
};
use crate::plan::proof::{self, LvmMarks, ProofFailure, Proven, ProvenBrick, ProvenLvm};

/// A volume whose live layout matches its declaration: its bricks (in gluster's order),
/// and which of them still need their mark.
pub(super) struct Adoption<'a> {
    pub(super) bricks: Vec<ProvenBrick<'a>>,
    pub(super) unmarked: Vec<usize>,
    /// What each unmarked LVM brick still lacks (by index into `bricks`).
    pub(super) lvm: BTreeMap<usize, LvmMarks<'a>>,
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
    if vf.bricks.is_empty() {
        diffs.push("bricks: gluster lists none".to_string());
    }
    let n = proof::set_size(vf);
    let mut bricks = Vec::new();
    let mut unmarked = Vec::new();
    let mut lvm = BTreeMap::new();
    // an LVM brick's size is its LV's (what Heketi asked for), not the filesystem's
    let mut lv_sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, br) in vf.bricks.iter().enumerate() {
        let (set, pos) = ((i as u32) / n, (i as u32) % n);
        if vol.brick_kind == BrickKind::Lvm {
            // the size is checked even where a brick is refused for another reason
            if let Some(h) = w
                .node_of_host(&br.host)
                .and_then(|n| w.facts.get(n))
                .and_then(|f| proof::lv_holding(f, &br.path))
            {
                lv_sizes.insert(br.name.as_str(), h.lv.size);
            }
            match proof::adoptable_lvm(w, &vf.name, set, pos, &br.host, &br.path) {
                Ok((pb, marks)) => {
                    if marks.tags || marks.fstab_missing || !marks.fstab.is_empty() {
                        unmarked.push(bricks.len());
                        lvm.insert(bricks.len(), marks);
                    }
                    bricks.push(pb);
                }
                Err(ds) => diffs.extend(ds.into_iter().map(|d| format!("brick {}: {d}", br.name))),
            }
            continue;
        }
        match proof::adoptable(w, &vf.name, set, pos, &br.host, &br.path) {
            Ok((pb, marked)) => {
                if !marked {
                    unmarked.push(bricks.len());
                }
                bricks.push(pb);
            }
            Err(ProofFailure::NotDerived { path, .. }) => {
                let node = w.node_of_host(&br.host).unwrap_or(&br.host);
                let lv = w
                    .facts
                    .get(node)
                    .and_then(|f| proof::lv_holding(f, &path))
                    .map(|h| {
                        format!(
                            " (it is on LV {}/{}: say `brick_kind: lvm`)",
                            h.lv.vg, h.lv.name
                        )
                    })
                    .unwrap_or_default();
                diffs.push(format!(
                    "brick {}: {path} is under no declared path of node {node} (declare the directory it is in, not the brick itself, in `paths`){lv}",
                    br.name
                ))
            }
            Err(e) => diffs.push(format!("brick {}: {e}", br.name)),
        }
    }
    let holds = if vol.brick_kind == BrickKind::Lvm {
        live_capacity(vf, |b| lv_sizes.get(b.name.as_str()).copied())
    } else {
        live_capacity(vf, |b| b.size_total)
    };
    if let Some(holds) = holds
        && vol.size > holds
    {
        let what = if vol.brick_kind == BrickKind::Lvm {
            "the bricks' LVs"
        } else {
            "the bricks' filesystems"
        };
        diffs.push(format!(
            "size: the config says {}, and {what} hold at most {holds_h} ({} set(s) of the smallest data brick); declare {holds_h} or less",
            HumanBytes(vol.size),
            vf.brick_count / n.max(1),
            holds_h = HumanBytes(holds),
        ));
    }
    if diffs.is_empty() {
        Ok(Adoption {
            bricks,
            unmarked,
            lvm,
        })
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
        let path = match &pb.kind {
            Proven::Dir { path, .. } => path,
            Proven::Lvm(p) => {
                if let Some(marks) = a.lvm.get(&i) {
                    ids.extend(mark_lvm(w, b, name, pb, p, marks, blocked));
                }
                continue;
            }
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

/// The steps marking one LVM brick where its maker left it: this brick's tags on its
/// thin pool and thin LV (one step: tagging one without the other proves nothing), then
/// the marker on each fstab line that mounts it (or brickyard's marked line, when none
/// does). The VG is tagged by the device pass (`device.N:/dev/x/adopt`).
fn mark_lvm(
    w: &World<'_>,
    b: &mut Builder,
    name: &str,
    pb: &ProvenBrick<'_>,
    p: &ProvenLvm<'_>,
    marks: &LvmMarks<'_>,
    blocked: bool,
) -> Vec<String> {
    let cluster = w.desired.cluster.as_str();
    let addr = Address::brick(name, pb.set, pb.pos);
    let mut ids = Vec::new();
    if marks.tags {
        let tags = brick_tags(cluster, name, pb.set, pb.pos);
        let pool = format!("{}/{}", p.pool.vg, p.pool.name);
        let lv = format!("{}/{}", p.lv.vg, p.lv.name);
        ids.push(b.push(
            StepSpec {
                id: format!("{addr}/adopt-tags"),
                address: &addr,
                action: Action::Adopt,
                node: pb.node,
                description: format!(
                    "tag thin pool {pool} and LV {lv} as brick s{}p{} of {name} ({}); its data stays as it is",
                    pb.set,
                    pb.pos,
                    tags.join(" ")
                ),
                commands: vec![
                    add_tags(Tagged::Lv, &tags, &pool),
                    add_tags(Tagged::Lv, &tags, &lv),
                ],
                guard: guard(
                    "lvs shows the tags on the pool and the LV",
                    tags_guard(Tagged::Lv, &tags, &[&pool, &lv]),
                ),
                depends_on: Vec::new(),
                destructive: false,
            },
            blocked,
        ));
        b.with_changes(vec![change("lv_tags", None, Some(&tags.join(",")))]);
    }
    for (k, e) in marks.fstab.iter().enumerate() {
        let Some(new) = fstab_line_marked(&e.line, cluster) else {
            continue;
        };
        ids.push(b.push(
            StepSpec {
                id: format!(
                    "{addr}/adopt-fstab{}",
                    if k == 0 { String::new() } else { k.to_string() }
                ),
                address: &addr,
                action: Action::Adopt,
                node: pb.node,
                description: format!(
                    "mark the fstab line mounting {} as brickyard's ({})",
                    p.mount,
                    fstab_marker(cluster)
                ),
                commands: vec![fstab::replace_line(&e.line, &new)],
                guard: guard("/etc/fstab holds the marked line", fstab::has_line(&new)),
                depends_on: Vec::new(),
                destructive: false,
            },
            blocked,
        ));
        b.with_changes(vec![change("fstab", Some(&e.line), Some(&new))]);
    }
    if marks.fstab_missing {
        let fstype = w
            .facts
            .get(pb.node)
            .and_then(|f| f.mounts.iter().find(|m| m.target == p.mount))
            .map_or("xfs", |m| m.fstype.as_str());
        let line = fstab_line_at(cluster, &p.lv.vg, &p.lv.name, &p.mount, fstype);
        ids.push(b.push(
            StepSpec {
                id: format!("{addr}/adopt-fstab"),
                address: &addr,
                action: Action::Adopt,
                node: pb.node,
                description: format!(
                    "add {} to /etc/fstab (nothing mounts it at boot yet)",
                    p.mount
                ),
                commands: vec![fstab::add_line(&line)],
                guard: guard("/etc/fstab holds the line", fstab::has_line(&line)),
                depends_on: Vec::new(),
                destructive: false,
            },
            blocked,
        ));
        b.with_changes(vec![change("fstab", None, Some(&line))]);
    }
    ids
}
