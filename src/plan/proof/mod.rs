//! Ownership proofs: the one place that decides, from facts, that a brick is brickyard's
//! before any step changes or removes it (trust review findings 1, 2 and 5). Gluster's
//! brick paths, a volume option and LV names are all writable by others (any gluster
//! administrator, any root on a node), so none of them alone is proof:
//!
//! - an LVM brick is proven when its thin LV, that LV's thin pool and the VG carry this
//!   cluster's tags for exactly this brick (volume, set, position; the VG this node), the
//!   brick path is the one brickyard derives for that LV, whatever is mounted there is
//!   that LV, and every fstab line for the mount carries our marker;
//! - a directory brick is proven when its path is the one brickyard derives from a
//!   declared `paths` entry of that node and gather saw a real directory there, reached
//!   through no symlink; if it carries a mark, the mark is this brick's. An unmarked
//!   volume needs the mark (it is written right after mkdir, before the volume exists).
//!
//! VG and LV names always come from the proven facts (the LV entry), never from the
//! path. Markers are spelled in `ownership`, names in `config::names`.

mod adoptable;
mod leftover;

use std::fmt;

pub(crate) use adoptable::{LvmMarks, adoptable, adoptable_lvm, vg_split};
pub(crate) use leftover::{LeftoverLvm, leftover_dir_brick, leftover_lvm_brick};

use crate::config::names;
use crate::gather::{BrickDirKind, FstabEntry, Lv, NodeFacts, VolumeFacts};

use super::health::World;
use super::ownership::{
    brick_identity, brick_tags, dir_brick_mark, dir_brick_path, fstab_marked, lv_device, lv_name,
    lvm_brick_dir, lvm_safe, mount_path, pool_name, tag_cluster,
};

/// A brick of an existing volume the facts prove is ours.
#[derive(Debug, Clone)]
pub(crate) struct ProvenBrick<'a> {
    pub(crate) node: &'a str,
    pub(crate) set: u32,
    pub(crate) pos: u32,
    pub(crate) kind: Proven<'a>,
}

#[derive(Debug, Clone)]
pub(crate) enum Proven<'a> {
    Lvm(ProvenLvm<'a>),
    /// `base`: the declared path that holds it (its placement candidate).
    Dir {
        path: String,
        base: String,
    },
}

/// The proven LVM objects of a brick: names for commands come from here.
#[derive(Debug, Clone)]
pub(crate) struct ProvenLvm<'a> {
    pub(crate) lv: &'a Lv,
    pub(crate) pool: &'a Lv,
    pub(crate) mount: String,
    pub(crate) mounted: bool,
    /// fstab lines for the mount; every one carries our marker.
    pub(crate) fstab: Vec<&'a FstabEntry>,
}

/// Why a brick is not proven ours: the check that failed, with what the facts said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProofFailure {
    /// The brick's host is not a declared node (the health gate blocks its volume too).
    UnknownHost {
        host: String,
    },
    /// No facts for the node (the health gate blocks its volume too).
    NoFacts {
        node: String,
    },
    BadVolumeName {
        volume: String,
    },
    /// Neither the LVM path of a tagged LV nor a directory under a declared path.
    NotDerived {
        path: String,
        want_lv: String,
    },
    LvNotThin {
        lv: String,
        attr: String,
        pool: Option<String>,
        want_pool: String,
    },
    LvUntagged {
        lv: String,
        missing: String,
    },
    PoolMissing {
        pool: String,
    },
    PoolNotThinPool {
        pool: String,
        attr: String,
    },
    PoolUntagged {
        pool: String,
        missing: String,
    },
    VgMissing {
        vg: String,
    },
    VgUntagged {
        vg: String,
        missing: String,
    },
    MountForeign {
        target: String,
        source: String,
    },
    FstabUnmarked {
        line: String,
    },
    DirMissing {
        path: String,
    },
    DirNotReal {
        path: String,
        kind: BrickDirKind,
    },
    DirUnmarked {
        path: String,
        want: String,
    },
    DirMarkMismatch {
        path: String,
        found: String,
        want: String,
    },
}

impl ProofFailure {
    /// The facts needed are missing for reasons the health gate already reports (and for
    /// which it holds every step of the volume back); not evidence of a foreign brick.
    pub(crate) fn is_unknown(&self) -> bool {
        matches!(
            self,
            ProofFailure::UnknownHost { .. } | ProofFailure::NoFacts { .. }
        )
    }
}

impl fmt::Display for ProofFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProofFailure::*;
        match self {
            UnknownHost { host } => write!(f, "host {host} is not a declared node"),
            NoFacts { node } => write!(f, "node {node} has no facts"),
            BadVolumeName { volume } => write!(f, "volume name {volume:?} is not a plain name"),
            NotDerived { path, want_lv } => write!(
                f,
                "path {path} is not one brickyard derives for it (the tagged LV {want_lv} \
                 mounted under {}/<vg>, or <declared path>/<volume>/s<set>p<pos>)",
                names::MOUNT_ROOT
            ),
            LvNotThin {
                lv,
                attr,
                pool,
                want_pool,
            } => write!(
                f,
                "LV {lv} is not a thin LV in pool {want_pool} (attr {attr:?}, pool {})",
                pool.as_deref().unwrap_or("none")
            ),
            LvUntagged { lv, missing } => write!(f, "LV {lv} lacks the tag {missing}"),
            PoolMissing { pool } => write!(f, "thin pool {pool} does not exist"),
            PoolNotThinPool { pool, attr } => {
                write!(f, "LV {pool} is not a thin pool (attr {attr:?})")
            }
            PoolUntagged { pool, missing } => {
                write!(f, "thin pool {pool} lacks the tag {missing}")
            }
            VgMissing { vg } => write!(f, "VG {vg} is not listed by LVM"),
            VgUntagged { vg, missing } => write!(f, "VG {vg} lacks the tag {missing}"),
            MountForeign { target, source } => {
                write!(f, "{target} has {source} mounted on it, not the brick's LV")
            }
            FstabUnmarked { line } => {
                write!(f, "the fstab line {line:?} lacks brickyard's marker")
            }
            DirMissing { path } => write!(f, "gather did not list the directory {path}"),
            DirNotReal { path, kind } => match kind {
                BrickDirKind::Symlink => write!(f, "{path} is or passes through a symlink"),
                _ => write!(f, "{path} is not a directory"),
            },
            DirUnmarked { path, want } => write!(
                f,
                "{path} has no brickyard mark (want {} = {want})",
                super::ownership::BRICK_XATTR
            ),
            DirMarkMismatch { path, found, want } => write!(
                f,
                "{path} is marked {found:?}, not {want:?} ({})",
                super::ownership::BRICK_XATTR
            ),
        }
    }
}

/// Bricks per set of an existing volume, as gluster reports it (sets are consecutive).
pub(crate) fn set_size(vf: &VolumeFacts) -> u32 {
    if vf.replica_count > 1 {
        vf.replica_count
    } else if vf.disperse_count > 0 {
        vf.disperse_count
    } else {
        1
    }
}

/// Prove every brick of an existing volume, in gluster's order. `need_mark`: directory
/// bricks must carry their mark (an unmarked volume is ours only by proofs written
/// before it was created).
pub(crate) fn prove_volume<'a>(
    w: &World<'a>,
    vf: &VolumeFacts,
    need_mark: bool,
) -> Vec<Result<ProvenBrick<'a>, ProofFailure>> {
    let n = set_size(vf);
    vf.bricks
        .iter()
        .enumerate()
        .map(|(i, br)| {
            let (set, pos) = ((i as u32) / n, (i as u32) % n);
            prove_brick(w, &vf.name, set, pos, &br.host, &br.path, need_mark)
        })
        .collect()
}

/// The declared node a brick of `volume` on `host` is on, its declaration and its
/// facts; a brick of a volume whose name brickyard would never write proves nothing.
fn brick_node<'a>(
    w: &World<'a>,
    volume: &str,
    host: &str,
) -> Result<(&'a String, &'a crate::config::Node, &'a NodeFacts), ProofFailure> {
    let Some((node, decl)) = w
        .node_of_host(host)
        .and_then(|n| w.desired.nodes.get_key_value(n))
    else {
        return Err(ProofFailure::UnknownHost { host: host.into() });
    };
    let Some(f) = w.facts.get(node.as_str()).copied() else {
        return Err(ProofFailure::NoFacts { node: node.clone() });
    };
    if names::volume_name(volume).is_err() {
        return Err(ProofFailure::BadVolumeName {
            volume: volume.into(),
        });
    }
    Ok((node, decl, f))
}

/// Prove that brick `set`/`pos` of `volume`, which gluster says is `host:path`, is ours.
pub(crate) fn prove_brick<'a>(
    w: &World<'a>,
    volume: &str,
    set: u32,
    pos: u32,
    host: &str,
    path: &str,
    need_mark: bool,
) -> Result<ProvenBrick<'a>, ProofFailure> {
    let cluster = w.desired.cluster.as_str();
    let (node, decl, f) = brick_node(w, volume, host)?;
    let proven = |kind| ProvenBrick {
        node: node.as_str(),
        set,
        pos,
        kind,
    };
    let lv = lv_name(volume, set, pos);
    // the VG comes from the LV entry whose derived path is exactly gluster's path
    if let Some(l) = f
        .lvs
        .iter()
        .find(|l| l.name == lv && lvm_brick_dir(&l.vg, &l.name) == path)
    {
        let p = prove_lvm(
            f,
            cluster,
            node,
            l,
            mount_path(&l.vg, &l.name),
            volume,
            set,
            pos,
        )?;
        return Ok(proven(Proven::Lvm(p)));
    }
    // an adopted LVM brick keeps its maker's names and mount: the tags adoption wrote on
    // the LV holding it name this very brick
    if let Some(h) = lv_holding(f, path)
        && adopted_mount(&h.mount)
        && h.lv.name != lv
        && names::is_lvm_name(&h.lv.vg)
        && names::is_lvm_name(&h.lv.name)
        && h.lv.pool.as_deref().is_some_and(names::is_lvm_name)
        && brick_identity(&h.lv.tags).is_some_and(|id| id == (volume.to_string(), set, pos))
        && h.lv.tags.contains(&tag_cluster(cluster))
    {
        let p = prove_lvm(f, cluster, node, h.lv, h.mount, volume, set, pos)?;
        return Ok(proven(Proven::Lvm(p)));
    }
    if let Some(base) = decl
        .paths
        .iter()
        .find(|d| dir_brick_path(&d.path, volume, set, pos) == path)
    {
        let dir = dir_brick_path(&base.path, volume, set, pos);
        let want = dir_brick_mark(cluster, volume, set, pos);
        dir_state(f, &dir, &want, need_mark)?
            .ok_or(ProofFailure::DirMissing { path: dir.clone() })?;
        return Ok(proven(Proven::Dir {
            path: dir,
            base: base.path.trim_end_matches('/').to_string(),
        }));
    }
    // an adopted brick lives where its maker put it: under a declared path, and always
    // with the mark adoption wrote (the path alone proves nothing)
    if let Some(base) = holding_path(decl, path) {
        dir_state(f, path, &dir_brick_mark(cluster, volume, set, pos), true)?
            .ok_or(ProofFailure::DirMissing { path: path.into() })?;
        return Ok(proven(Proven::Dir {
            path: path.into(),
            base: base.into(),
        }));
    }
    Err(ProofFailure::NotDerived {
        path: path.into(),
        want_lv: lv,
    })
}

/// The declared path of `decl` strictly above `path` (a brick is never the declared path
/// itself: brickyard makes new bricks inside it), the deepest when several are.
pub(crate) fn holding_path<'d>(decl: &'d crate::config::Node, path: &str) -> Option<&'d str> {
    decl.paths
        .iter()
        .map(|d| d.path.trim_end_matches('/'))
        .filter(|base| names::strictly_under(base, path))
        .max_by_key(|base| base.len())
}

/// `path` is a real directory carrying this cluster's mark for `volume`: a brick
/// brickyard adopted (or made), wherever it is.
pub(crate) fn adopted_mark(
    f: &NodeFacts,
    cluster: &str,
    volume: &str,
    set: u32,
    pos: u32,
    path: &str,
) -> bool {
    matches!(
        dir_state(f, path, &dir_brick_mark(cluster, volume, set, pos), true),
        Ok(Some(true))
    )
}

/// The LV `l` of this brick with its pool, VG, mount and fstab lines. `mount`: where its
/// filesystem belongs (brickyard's derived mount for its own LVs, where the maker mounted
/// it for an adopted one).
#[allow(clippy::too_many_arguments)]
fn prove_lvm<'a>(
    f: &'a NodeFacts,
    cluster: &str,
    node: &str,
    l: &'a Lv,
    mount: String,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<ProvenLvm<'a>, ProofFailure> {
    let tp = l
        .pool
        .clone()
        .unwrap_or_else(|| pool_name(volume, set, pos));
    let pool = check_named(f, cluster, &l.vg, &l.name, &tp, volume, set, pos)?
        .pool
        .ok_or_else(|| ProofFailure::PoolMissing {
            pool: format!("{}/{tp}", l.vg),
        })?;
    vg_ours(f, cluster, node, &l.vg)?;
    let mounted = check_mount(f, &mount, Some(l))?;
    let fstab = check_fstab(f, cluster, &mount)?;
    Ok(ProvenLvm {
        lv: l,
        pool,
        mount,
        mounted,
        fstab,
    })
}

/// VG `vg` of `node` carries this cluster's tags.
fn vg_ours(f: &NodeFacts, cluster: &str, node: &str, vg: &str) -> Result<(), ProofFailure> {
    let g = f
        .vgs
        .iter()
        .find(|g| g.name == vg)
        .ok_or_else(|| ProofFailure::VgMissing { vg: vg.into() })?;
    for t in [
        tag_cluster(cluster),
        format!("brickyard.node={}", lvm_safe(node)),
    ] {
        if !g.tags.contains(&t) {
            return Err(ProofFailure::VgUntagged {
                vg: vg.into(),
                missing: t,
            });
        }
    }
    Ok(())
}

/// Where an adopted LVM brick may be mounted: anywhere but brickyard's own mount root
/// (under it, only brickyard's derived mounts of its derived LVs count), written without
/// a trailing `/`.
pub(crate) fn adopted_mount(mount: &str) -> bool {
    !mount.ends_with('/')
        && mount != names::MOUNT_ROOT
        && !names::strictly_under(names::MOUNT_ROOT, mount)
}

/// The LV whose filesystem holds `path` on a node, and that filesystem's mount target.
pub(crate) struct Holder<'a> {
    pub(crate) lv: &'a Lv,
    pub(crate) mount: String,
    pub(crate) mounted: bool,
}

/// The LV holding `path`: the deepest filesystem mounted at or above it, when its source
/// is an LV gather lists; with nothing deeper than that mounted, the deepest fstab line
/// at or above `path` naming an LV (a brick whose mount was lost). `None`: `path` is on
/// no LV, or on one gather does not list, or is not a normalised path (no `..`).
pub(crate) fn lv_holding<'a>(f: &'a NodeFacts, path: &str) -> Option<Holder<'a>> {
    // `<mount>/../../etc` is under the mount as text only
    names::abs_path(path).ok()?;
    let holds =
        |t: &str| names::abs_path(t).is_ok() && (t == path || names::strictly_under(t, path));
    let mounted = f
        .mounts
        .iter()
        .filter(|m| holds(&m.target))
        .max_by_key(|m| m.target.len());
    let floor = mounted.map_or(0, |m| m.target.len());
    if let Some(e) = f
        .fstab
        .iter()
        .filter(|e| holds(&e.target) && e.target.len() > floor)
        .max_by_key(|e| e.target.len())
    {
        return f
            .lvs
            .iter()
            .find(|l| is_lv_source(&e.source, l))
            .map(|lv| Holder {
                lv,
                mount: e.target.clone(),
                mounted: false,
            });
    }
    let m = mounted?;
    f.lvs
        .iter()
        .find(|l| is_lv_source(&m.source, l))
        .map(|lv| Holder {
            lv,
            mount: m.target.clone(),
            mounted: true,
        })
}

/// The thin LV and thin pool named for one brick in one VG, when present.
struct Named<'a> {
    lv: Option<&'a Lv>,
    pool: Option<&'a Lv>,
}

/// The thin LV and thin pool named for this brick in `vg`, each checked when present:
/// a present one that is not ours is a failure, an absent one is `None`.
fn check_pair<'a>(
    f: &'a NodeFacts,
    cluster: &str,
    vg: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<Named<'a>, ProofFailure> {
    let (lv, tp) = (lv_name(volume, set, pos), pool_name(volume, set, pos));
    check_named(f, cluster, vg, &lv, &tp, volume, set, pos)
}

/// [`check_pair`] for a thin LV `lv` in pool `tp` of any name (an adopted brick's).
#[allow(clippy::too_many_arguments)]
fn check_named<'a>(
    f: &'a NodeFacts,
    cluster: &str,
    vg: &str,
    lv: &str,
    tp: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<Named<'a>, ProofFailure> {
    let tags = brick_tags(cluster, volume, set, pos);
    let find = |name: &str| f.lvs.iter().find(|l| l.vg == vg && l.name == name);
    let missing = |l: &Lv| tags.iter().find(|t| !l.tags.contains(t)).cloned();
    let pool = find(tp);
    if let Some(p) = pool {
        if !p.attr.starts_with('t') {
            return Err(ProofFailure::PoolNotThinPool {
                pool: format!("{vg}/{tp}"),
                attr: p.attr.clone(),
            });
        }
        if let Some(t) = missing(p) {
            return Err(ProofFailure::PoolUntagged {
                pool: format!("{vg}/{tp}"),
                missing: t,
            });
        }
    }
    let thin = find(lv);
    if let Some(l) = thin {
        if !l.attr.starts_with('V') || l.pool.as_deref() != Some(tp) {
            return Err(ProofFailure::LvNotThin {
                lv: format!("{vg}/{lv}"),
                attr: l.attr.clone(),
                pool: l.pool.clone(),
                want_pool: format!("{vg}/{tp}"),
            });
        }
        if let Some(t) = missing(l) {
            return Err(ProofFailure::LvUntagged {
                lv: format!("{vg}/{lv}"),
                missing: t,
            });
        }
    }
    Ok(Named { lv: thin, pool })
}

/// Whatever is mounted on our mount path must be the brick's LV (`lv`; with none, nothing
/// may be mounted there). Returns whether it is mounted.
fn check_mount(f: &NodeFacts, target: &str, lv: Option<&Lv>) -> Result<bool, ProofFailure> {
    let mut mounted = false;
    for m in f.mounts.iter().filter(|m| m.target == target) {
        if !lv.is_some_and(|l| is_lv_source(&m.source, l)) {
            return Err(ProofFailure::MountForeign {
                target: target.into(),
                source: m.source.clone(),
            });
        }
        mounted = true;
    }
    Ok(mounted)
}

/// findmnt names an LV `/dev/mapper/<vg>-<lv>` (dashes doubled), fstab `/dev/<vg>/<lv>`
/// (or, as Heketi writes it, the mapper name). Only from the LV's own names: its
/// `lv_path` is another field of the same node data, which could name another LV.
fn is_lv_source(source: &str, l: &Lv) -> bool {
    let dm = format!(
        "/dev/mapper/{}-{}",
        l.vg.replace('-', "--"),
        l.name.replace('-', "--")
    );
    source == dm || source == lv_device(&l.vg, &l.name)
}

/// The line of fstab entry `e` mounts at `target` with the options gather parsed from it
/// (a facts file may carry a `line` that names something else).
pub(super) fn fstab_says(e: &FstabEntry, target: &str) -> bool {
    let fields: Vec<&str> = e.line.split_whitespace().collect();
    fields.get(1) == Some(&target) && fields.get(3) == Some(&e.options.as_str())
}

fn check_fstab<'a>(
    f: &'a NodeFacts,
    cluster: &str,
    target: &str,
) -> Result<Vec<&'a FstabEntry>, ProofFailure> {
    let lines: Vec<&FstabEntry> = f.fstab.iter().filter(|e| e.target == target).collect();
    // The line itself is what a teardown removes: it must say what gather parsed from it
    // (a facts file may carry a `line` that names something else), and carry the marker.
    let consistent = |e: &FstabEntry| fstab_says(e, target);
    match lines
        .iter()
        .find(|e| !consistent(e) || !fstab_marked(&e.options, cluster))
    {
        Some(e) => Err(ProofFailure::FstabUnmarked {
            line: e.line.clone(),
        }),
        None => Ok(lines),
    }
}

/// A directory brick as gather saw it: `None` when not listed, `Some(marked)` for a real
/// directory whose mark (if any) is `want`. `need_mark`: no mark is a failure too.
fn dir_state(
    f: &NodeFacts,
    path: &str,
    want: &str,
    need_mark: bool,
) -> Result<Option<bool>, ProofFailure> {
    let Some(d) = f.brick_dirs.iter().find(|d| d.path == path) else {
        return Ok(None);
    };
    if d.kind != BrickDirKind::Directory {
        return Err(ProofFailure::DirNotReal {
            path: path.into(),
            kind: d.kind,
        });
    }
    match &d.mark {
        Some(m) if same_volume_mark(m, want) => Ok(Some(true)),
        Some(m) => Err(ProofFailure::DirMarkMismatch {
            path: path.into(),
            found: m.clone(),
            want: want.into(),
        }),
        None if need_mark => Err(ProofFailure::DirUnmarked {
            path: path.into(),
            want: want.into(),
        }),
        None => Ok(Some(false)),
    }
}

/// `mark` is `want` (`<cluster>/<volume>/s<set>p<pos>`), or the mark of another position
/// of the same cluster's same volume. Gluster's self-heal copies the brick root's
/// trusted.* xattrs between the bricks of a set (measured on the lab: after a
/// replace-brick, the metadata heal of the root wrote s0p0's mark on s0p1 and the new
/// s0p2), so within one volume the position in a mark is not stable; the path, which
/// carries the position, and the cluster and volume in the mark are.
fn same_volume_mark(mark: &str, want: &str) -> bool {
    if mark == want {
        return true;
    }
    let Some((prefix, _)) = want.rsplit_once('/') else {
        return false;
    };
    let Some(rest) = mark.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else {
        return false;
    };
    rest.strip_prefix('s')
        .and_then(|r| r.split_once('p'))
        .and_then(|(s, p)| Some((s.parse::<u32>().ok()?, p.parse::<u32>().ok()?)))
        .is_some_and(|(s, p)| rest == format!("s{s}p{p}"))
}

/// What of a new brick already exists and is proven ours (a half-applied brick); a step
/// for something that exists is left out.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Existing {
    pub(crate) pool: bool,
    pub(crate) lv: bool,
    pub(crate) mounted: bool,
    /// Directory bricks: the directory exists and carries this brick's mark.
    pub(crate) dir: bool,
}

/// Before building LVM brick `volume`/`set`/`pos` in `vg`: anything already named for it
/// must be ours (finding 5: an untagged LV with our name is never formatted).
pub(crate) fn new_lvm_brick(
    f: Option<&NodeFacts>,
    cluster: &str,
    vg: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<Existing, ProofFailure> {
    let Some(f) = f else {
        return Ok(Existing::default());
    };
    let Named { lv, pool } = check_pair(f, cluster, vg, volume, set, pos)?;
    if lv.is_some() && pool.is_none() {
        return Err(ProofFailure::PoolMissing {
            pool: format!("{vg}/{}", pool_name(volume, set, pos)),
        });
    }
    let mount = mount_path(vg, &lv_name(volume, set, pos));
    let mounted = check_mount(f, &mount, lv)?;
    check_fstab(f, cluster, &mount)?;
    Ok(Existing {
        pool: pool.is_some(),
        lv: lv.is_some(),
        mounted,
        dir: false,
    })
}

/// Before building directory brick `<base>/<volume>/s<set>p<pos>`: if it exists, it must
/// be a real directory carrying this brick's mark; an unmarked one may be anyone's data.
pub(crate) fn new_dir_brick(
    f: Option<&NodeFacts>,
    cluster: &str,
    base: &str,
    volume: &str,
    set: u32,
    pos: u32,
) -> Result<Existing, ProofFailure> {
    let Some(f) = f else {
        return Ok(Existing::default());
    };
    let path = dir_brick_path(base, volume, set, pos);
    let want = dir_brick_mark(cluster, volume, set, pos);
    let dir = dir_state(f, &path, &want, true)?.is_some();
    Ok(Existing {
        dir,
        ..Existing::default()
    })
}

#[cfg(test)]
mod mark_tests {
    use super::same_volume_mark;

    #[test]
    fn a_mark_healed_from_another_position_of_the_volume_still_proves_it() {
        assert!(same_volume_mark("c/v/s0p2", "c/v/s0p2"));
        assert!(same_volume_mark("c/v/s0p0", "c/v/s0p2"));
        assert!(same_volume_mark("c/v/s3p1", "c/v/s0p2"));
        for bad in [
            "c/w/s0p0",
            "d/v/s0p2",
            "c/v/s0p",
            "c/v/s01p2",
            "c/v/x0p2",
            "c/v/s0p2/x",
            "c/vv/s0p2",
            "c/v",
        ] {
            assert!(!same_volume_mark(bad, "c/v/s0p2"), "{bad}");
        }
    }
}
