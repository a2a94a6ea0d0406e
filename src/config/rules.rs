//! The cross-entity rules: checks that need more than one section, each a named
//! function with the diagnostic code it reports. Decoding ([`super::decode`]) runs them
//! on the decoded nodes and volumes, which still carry their spans; a new rule is one
//! function and one line in [`NODE_RULES`] or [`VOLUME_RULES`] (and a row in
//! docs/config.md). Modelled on rust-lang/team's list of named validators.

use std::collections::{BTreeMap, BTreeSet};

use super::decoded::NodeIn;
use super::diagnostic::{Diagnostic, codes};
use super::model::{BrickKind, Durability, Placement, ZoneChecking};
use super::names;
use super::raw::Span;

/// One named rule; `F` is the check's signature.
pub(crate) struct Rule<F> {
    /// What the rule asserts, as a reader would say it.
    pub(crate) name: &'static str,
    /// The code every diagnostic of this rule carries.
    pub(crate) code: &'static str,
    pub(crate) check: F,
}

pub(crate) type NodeCheck = fn(&[NodeIn]) -> Vec<Diagnostic>;
pub(crate) type VolumeCheck = for<'a> fn(&VolumeCtx<'a>) -> Vec<Diagnostic>;

/// Rules over all decoded nodes; every rule runs.
pub(crate) const NODE_RULES: &[Rule<NodeCheck>] = &[
    Rule {
        name: "every node has its own manage address",
        code: codes::DUPLICATE_ADDRESS,
        check: distinct_manage,
    },
    Rule {
        name: "every node has its own storage address",
        code: codes::DUPLICATE_ADDRESS,
        check: distinct_storage,
    },
];

/// Rules over one present volume and the nodes; in order, each assuming the ones
/// before it held, so the first that fails is the only one reported.
pub(crate) const VOLUME_RULES: &[Rule<VolumeCheck>] = &[
    Rule {
        name: "some node can host the volume's bricks",
        code: codes::NO_BRICK_SOURCE,
        check: brick_source,
    },
    Rule {
        name: "enough nodes can host the bricks for one set",
        code: codes::NOT_ENOUGH_NODES,
        check: enough_nodes,
    },
    Rule {
        name: "with strict zone checking, enough zones for one set",
        code: codes::NOT_ENOUGH_ZONES,
        check: enough_zones,
    },
    Rule {
        name: "device-mapper can name every brick's LVs",
        code: codes::INVALID_VOLUME_NAME,
        check: dm_names_fit,
    },
    Rule {
        name: "glusterd can name every brick's volfile",
        code: codes::INVALID_VOLUME_NAME,
        check: brick_volfile_names_fit,
    },
];

/// A present volume as the volume rules see it.
pub(crate) struct VolumeCtx<'a> {
    /// The volume's name, when it passed [`super::names::volume_name`].
    pub(crate) name: Option<&'a str>,
    pub(crate) name_span: Span,
    /// Declared size, when valid.
    pub(crate) size: Option<u64>,
    /// "volume `name`", as messages say it.
    pub(crate) section: &'a str,
    pub(crate) nodes: &'a [NodeIn],
    pub(crate) durability: Durability,
    pub(crate) kind: BrickKind,
    pub(crate) tags: &'a BTreeMap<String, String>,
    pub(crate) placement: Option<&'a Placement>,
    /// Where `brick_kind` (or else `durability`) is written.
    pub(crate) kind_span: Span,
    /// Where `durability` (or else the volume) is written.
    pub(crate) dur_span: Span,
}

impl VolumeCtx<'_> {
    /// Nodes with a device (lvm) or path (directory) carrying all the required tags.
    fn eligible(&self) -> Vec<&NodeIn> {
        let has_tags =
            |t: &BTreeMap<String, String>| self.tags.iter().all(|(k, v)| t.get(k) == Some(v));
        self.nodes
            .iter()
            .filter(|n| match self.kind {
                // a draining device or path takes no new bricks
                BrickKind::Lvm => n.devices.iter().any(|d| !d.drain && has_tags(&d.tags)),
                BrickKind::Directory => n.paths.iter().any(|p| !p.drain && has_tags(&p.tags)),
            })
            .collect()
    }

    /// What the nodes need for this kind: (in words, the field).
    fn source(&self) -> (&'static str, &'static str) {
        match self.kind {
            BrickKind::Lvm => ("devices", "devices"),
            BrickKind::Directory => ("directory paths", "paths"),
        }
    }
}

/// Run one rule; in debug builds, hold it to the code it declares.
fn run<C: ?Sized>(
    name: &str,
    code: &str,
    check: impl Fn(&C) -> Vec<Diagnostic>,
    ctx: &C,
) -> Vec<Diagnostic> {
    let found = check(ctx);
    debug_assert!(
        found.iter().all(|d| d.code == code),
        "rule `{name}` reported a code other than {code}"
    );
    found
}

pub(crate) fn check_nodes(nodes: &[NodeIn]) -> Vec<Diagnostic> {
    NODE_RULES
        .iter()
        .flat_map(|r| run(r.name, r.code, r.check, nodes))
        .collect()
}

pub(crate) fn check_volume(ctx: &VolumeCtx<'_>) -> Vec<Diagnostic> {
    if ctx.nodes.is_empty() {
        return Vec::new(); // already reported: no nodes
    }
    VOLUME_RULES
        .iter()
        .map(|r| run(r.name, r.code, r.check, ctx))
        .find(|d| !d.is_empty())
        .unwrap_or_default()
}

fn distinct_manage(nodes: &[NodeIn]) -> Vec<Diagnostic> {
    distinct_addresses(nodes, "manage", |n| (&n.manage, n.manage_span))
}

fn distinct_storage(nodes: &[NodeIn]) -> Vec<Diagnostic> {
    distinct_addresses(nodes, "storage", |n| (&n.storage, n.storage_span))
}

/// Two nodes with one address (compared by [`super::names::address_key`]: case, trailing
/// dot and IPv6 spelling do not matter; finding #12) would put two bricks of a set on one
/// machine.
fn distinct_addresses(
    nodes: &[NodeIn],
    what: &str,
    get: fn(&NodeIn) -> (&String, Span),
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, (&str, Span)> = BTreeMap::new();
    for n in nodes {
        let (addr, span) = get(n);
        let addr = super::names::address_key(addr);
        if let Some((first_name, first_span)) = seen.get(&addr) {
            out.push(
                Diagnostic::error(
                    codes::DUPLICATE_ADDRESS,
                    format!("nodes `{first_name}` and `{}` have the same {what} address `{addr}`", n.name),
                )
                .label(span, "same address again")
                .label(*first_span, "first used here")
                .help("every node needs its own address; two entries for one machine would put two bricks of a set on it"),
            );
        } else {
            seen.insert(addr, (&n.name, span));
        }
    }
    out
}

fn brick_source(ctx: &VolumeCtx<'_>) -> Vec<Diagnostic> {
    if !ctx.eligible().is_empty() {
        return Vec::new();
    }
    let (what, field) = ctx.source();
    let tag_note = if ctx.tags.is_empty() {
        ""
    } else {
        " with the required device_tags"
    };
    let kind_name = match ctx.kind {
        BrickKind::Lvm => "lvm",
        BrickKind::Directory => "directory",
    };
    vec![
        Diagnostic::error(
            codes::NO_BRICK_SOURCE,
            format!(
                "{} uses `{kind_name}` bricks but no node declares {what}{tag_note}",
                ctx.section
            ),
        )
        .label(ctx.kind_span, "no node can host these bricks")
        .help(format!(
            "add `{field}` to the nodes, or choose the other `brick_kind`"
        )),
    ]
}

fn enough_nodes(ctx: &VolumeCtx<'_>) -> Vec<Diagnostic> {
    let eligible = ctx.eligible();
    let need = ctx.durability.set_size();
    if eligible.len() >= need {
        return Vec::new();
    }
    let (what, _) = ctx.source();
    let names: Vec<&str> = eligible.iter().map(|n| n.name.as_str()).collect();
    vec![
        Diagnostic::error(
            codes::NOT_ENOUGH_NODES,
            format!(
                "{} needs {need} distinct nodes per set, but only {} can host its bricks ({})",
                ctx.section,
                eligible.len(),
                names.join(", ")
            ),
        )
        .label(ctx.dur_span, format!("needs {need} nodes per set"))
        .help(format!("add nodes with {what}, or lower the durability")),
    ]
}

fn enough_zones(ctx: &VolumeCtx<'_>) -> Vec<Diagnostic> {
    if !ctx
        .placement
        .is_some_and(|p| p.zone_checking == ZoneChecking::Strict)
    {
        return Vec::new();
    }
    let need = ctx.durability.set_size();
    let zones: BTreeSet<u32> = ctx.eligible().iter().map(|n| n.zone).collect();
    if zones.len() >= need {
        return Vec::new();
    }
    vec![
        Diagnostic::error(
            codes::NOT_ENOUGH_ZONES,
            format!("{} needs {need} distinct zones per set with strict zone checking, but its nodes are in {} zone(s)", ctx.section, zones.len()),
        )
        .label(ctx.dur_span, format!("needs {need} zones per set"))
        .help("give the nodes distinct `zone` numbers, or set `placement.zone_checking: none` to accept several bricks of a set in one zone"),
    ]
}

/// The largest set and position numbers a volume can reach: at most one set per
/// `brick_min_size` of its size, and positions below the set size.
fn largest_set_and_pos(ctx: &VolumeCtx<'_>) -> (u32, u32) {
    let min = ctx.placement.map_or(1, |p| p.brick_min_size.max(1));
    let sets = ctx.size.map_or(1, |s| s.div_ceil(min));
    let set = u32::try_from(sets.saturating_sub(1)).unwrap_or(u32::MAX);
    let pos = u32::try_from(ctx.durability.set_size().saturating_sub(1)).unwrap_or(u32::MAX);
    (set, pos)
}

/// The kernel names an LV `<vg>-<lv>` with every `-` in either doubled, and a thin pool
/// also gets `<vg>-<pool>-tpool` and `<vg>-<pool>_tmeta`; device-mapper refuses names of
/// 128 characters or more (`DM_NAME_LEN`), so lvcreate would fail.
fn dm_names_fit(ctx: &VolumeCtx<'_>) -> Vec<Diagnostic> {
    const DM_NAME_MAX: usize = 127;
    let (Some(vol), BrickKind::Lvm) = (ctx.name, ctx.kind) else {
        return Vec::new();
    };
    let (set, pos) = largest_set_and_pos(ctx);
    let esc = |s: &str| s.len() + s.matches('-').count();
    let worst = ctx
        .eligible()
        .into_iter()
        .flat_map(|n| n.devices.iter().map(move |d| (n, d)))
        .map(|(n, d)| {
            let vg = names::vg_name(&d.path);
            let pool = names::pool_name(vol, set, pos);
            (esc(&vg) + 1 + esc(&pool) + "-tpool".len(), n, d)
        })
        .filter(|(len, _, _)| *len > DM_NAME_MAX)
        .max_by_key(|(len, _, _)| *len);
    let Some((len, n, d)) = worst else {
        return Vec::new();
    };
    vec![
        Diagnostic::error(
            codes::INVALID_VOLUME_NAME,
            format!(
                "{}: the device-mapper name of its thin pool on `{}` of node `{}` would be {len} characters, more than {DM_NAME_MAX}",
                ctx.section, d.path, n.name
            ),
        )
        .label(ctx.name_span, "in every brick's LV names")
        .help("device-mapper names an LV `<vg>-<lv>` with every `-` doubled; shorten the volume name (or use fewer `-`), or use a shorter device path"),
    ]
}

/// glusterd keeps each brick's volfile as `<vol>.<host>.<brick path>.vol` (the path
/// without its first `/`, every other `/` as `-`) in /var/lib/glusterd/vols/<vol>/, and
/// refuses a brick whose file name, with its `/`, reaches `_POSIX_PATH_MAX` (256)
/// (`glusterd_is_valid_volfpath`). The volume name is in it twice, with the storage host
/// and the VG or directory; checked here with the largest set and position numbers
/// the volume can have, because no single name's limit can cover the sum.
fn brick_volfile_names_fit(ctx: &VolumeCtx<'_>) -> Vec<Diagnostic> {
    const POSIX_PATH_MAX: usize = 256;
    let Some(vol) = ctx.name else {
        return Vec::new(); // the name itself is already refused
    };
    let (set, pos) = largest_set_and_pos(ctx);
    let mut worst: Option<(usize, String, &str)> = None;
    for n in ctx.eligible() {
        let bricks: Vec<String> = match ctx.kind {
            BrickKind::Lvm => n
                .devices
                .iter()
                .map(|d| {
                    let vg = names::vg_name(&d.path);
                    names::lvm_brick_dir(&vg, &names::lv_name(vol, set, pos))
                })
                .collect(),
            BrickKind::Directory => n
                .paths
                .iter()
                .map(|p| names::dir_brick_path(&p.path, vol, set, pos))
                .collect(),
        };
        for brick in bricks {
            // "/" + vol + "." + host + "." + brick without its leading "/" + ".vol"
            let len = 1 + vol.len() + 1 + n.storage.len() + 1 + (brick.len() - 1) + 4;
            if len >= POSIX_PATH_MAX && worst.as_ref().is_none_or(|w| len > w.0) {
                worst = Some((len, brick, &n.name));
            }
        }
    }
    let Some((len, brick, node)) = worst else {
        return Vec::new();
    };
    vec![
        Diagnostic::error(
            codes::INVALID_VOLUME_NAME,
            format!(
                "{}: glusterd would refuse brick `{brick}` on node `{node}`: its volfile name would be {len} characters, {POSIX_PATH_MAX} or more",
                ctx.section
            ),
        )
        .label(ctx.name_span, "in every brick's volfile name")
        .help("glusterd names a brick's volfile `<volume>.<host>.<brick path>.vol`; shorten the volume name, the device path or directory, or the node's storage host name"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule's code is a documented code, and rule names are unique.
    #[test]
    fn rules_are_named_once_and_documented() {
        let doc = include_str!("../../docs/config.md");
        let mut names = BTreeSet::new();
        let node = NODE_RULES.iter().map(|r| (r.name, r.code));
        let volume = VOLUME_RULES.iter().map(|r| (r.name, r.code));
        for (name, code) in node.chain(volume) {
            assert!(names.insert(name), "rule `{name}` listed twice");
            assert!(
                doc.contains(&format!("`{code}`")),
                "{code} not in docs/config.md"
            );
        }
    }
}
