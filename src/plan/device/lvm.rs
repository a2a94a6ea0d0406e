//! One declared LVM device: recognise it as ours, refuse it (signatures, mounted,
//! read-only, too small, foreign VG), or plan its initialisation (wipefs when allowed,
//! pvcreate with brickyard's derived UUID, vgcreate with tags) and offer it to placement
//! as a candidate. A PV without VG carrying that UUID is an init that was interrupted:
//! only the vgcreate is planned.

use crate::config::BrickKind;
use crate::gather::NodeFacts;
use crate::units::HumanBytes;

use super::Candidate;
use crate::config::names;
use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::{Builder, StepSpec, argv, guard, sh};
use crate::plan::capacity::{EXTENT, raw_device_capacity};
use crate::plan::facts::Need;
use crate::plan::health::World;
use crate::plan::model::Action;
use crate::plan::options::PlanOptions;
use crate::plan::ownership::{
    Tagged, add_tags, pv_uuid, tag_cluster, tag_value, tags_guard, vg_name, vg_tags,
};
use crate::plan::proof;

#[allow(clippy::too_many_arguments)]
pub(super) fn device(
    w: &World<'_>,
    opts: &PlanOptions,
    b: &mut Builder,
    node: &str,
    zone: u32,
    dev: &crate::config::Device,
    f: &NodeFacts,
    healthy: bool,
) -> Option<Candidate> {
    let addr = Address::device(node, &dev.path);
    let cluster = &w.desired.cluster;
    if names::device_path(&dev.path).is_err() {
        b.block(
            BlockerCode::InvalidName,
            &addr,
            format!("device path {:?} has unsafe characters", dev.path),
            None,
        );
        return None;
    }
    // without the node's PVs, VGs and mounts an active PV looks free (finding #8)
    if let Some(why) = w.unknown(Need::Lvm { node }) {
        b.block(
            BlockerCode::FactsIncomplete,
            &addr,
            format!(
                "{} on {node} is left alone: its LVM state is unknown: {why}",
                dev.path
            ),
            Some(format!(
                "fix what makes the probe fail on {node} and plan again"
            )),
        );
        return None;
    }
    let want_vg = vg_name(&dev.path);
    // The VG name is derived lossily (`/`, `:`, `@` become `_`), and the vgcreate guard
    // checks only the name: two devices of one node with one VG name would both be
    // counted while every brick lands in the first (review finding #14).
    let twins: Vec<&str> = w
        .desired
        .nodes
        .get(node)
        .into_iter()
        .flat_map(|n| &n.devices)
        .filter(|d| d.path != dev.path && vg_name(&d.path) == want_vg)
        .map(|d| d.path.as_str())
        .collect();
    if !twins.is_empty() {
        b.block(
            BlockerCode::VgNameConflict,
            &addr,
            format!(
                "{} on {node} would get VG name {want_vg}, the same as {}",
                dev.path,
                twins.join(", ")
            ),
            Some("declare only one of these devices, or name them by a stable path that differs in more than `/`, `:` or `@` (e.g. /dev/disk/by-id/...)".into()),
        );
        return None;
    }
    let base = |free: u64, spare: u64, vg: String, ready: Option<String>| Candidate {
        node: node.to_string(),
        zone,
        device: dev.path.clone(),
        kind: BrickKind::Lvm,
        vg,
        free,
        spare,
        tags: dev.tags.clone(),
        ready_step: ready,
        on_root_fs: false,
        drain: false,
        nested: Default::default(),
    };
    // Already a PV: ours (VG tagged with our cluster) or foreign.
    if let Some(pv) = f.pvs.iter().find(|p| p.name == dev.path) {
        let vg = pv
            .vg
            .as_deref()
            .and_then(|v| f.vgs.iter().find(|g| g.name == v));
        match vg {
            Some(vg)
                if tag_value(&vg.tags, "cluster") == Some(cluster_tag_value(cluster).as_str()) =>
            {
                if vg.pv_count > 1 {
                    b.warnings.push(format!(
                        "{addr}: VG {} spans {} PVs; brickyard only creates single-PV VGs",
                        vg.name, vg.pv_count
                    ));
                }
                return healthy.then(|| base(vg_free(vg), vg_spare(f, vg), vg.name.clone(), None));
            }
            Some(vg) if tag_value(&vg.tags, "cluster").is_none() => {
                let (held, others) = proof::vg_split(w, node, f, &vg.name, &w.adopting);
                if !held.is_empty() && others.is_empty() {
                    let id = adopt_vg(b, &addr, cluster, node, &dev.path, vg, &held);
                    return healthy
                        .then(|| base(vg_free(vg), vg_spare(f, vg), vg.name.clone(), Some(id)));
                }
                // bricks of volumes the config means to adopt, held back by their own blockers
                let meant: std::collections::BTreeSet<String> = w
                    .desired
                    .volumes
                    .iter()
                    .filter(|(_, v)| v.adopt)
                    .map(|(n, _)| n.clone())
                    .collect();
                let (waiting, rest) = proof::vg_split(w, node, f, &vg.name, &meant);
                if held.is_empty() && !waiting.is_empty() && rest.is_empty() {
                    b.block(
                        BlockerCode::DeviceSignature,
                        &addr,
                        format!(
                            "{} on {node} is an LVM PV of VG {}, which holds only bricks of volumes declared `adopt: true` ({}); it is adopted with them, and they are not adopted yet",
                            dev.path,
                            vg.name,
                            waiting.join(", ")
                        ),
                        Some("see the volumes' adopt_mismatch blockers: once the declaration matches, the VG is adopted in the same plan".into()),
                    );
                    return None;
                }
                let why = if held.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; it holds bricks of adopted volumes ({}) but also LVs that are not: {}",
                        held.join(", "),
                        others.join(", ")
                    )
                };
                b.block(
                    BlockerCode::DeviceSignature,
                    &addr,
                    format!(
                        "{} on {node} is an LVM PV of VG {} (something else, {} LVs): refusing to touch it{why}",
                        dev.path, vg.name, vg.lv_count
                    ),
                    Some("remove it from the config; declare `adopt: true` on the volumes whose bricks are its only LVs to take it over with them; or free it by hand (vgremove/pvremove) if its data is not needed".into()),
                );
                return None;
            }
            Some(vg) => {
                let owner = tag_value(&vg.tags, "cluster")
                    .map(|c| format!("brickyard cluster {c}"))
                    .unwrap_or_else(|| "something else".to_string());
                b.block(
                    BlockerCode::DeviceSignature,
                    &addr,
                    format!(
                        "{} on {node} is an LVM PV of VG {} ({owner}, {} LVs): refusing to touch it",
                        dev.path, vg.name, vg.lv_count
                    ),
                    Some("remove it from the config, or free it by hand (vgremove/pvremove) if its data is not needed".into()),
                );
                return None;
            }
            None => {
                // A PV without VG: ours when it carries the UUID we give this device (an
                // init stopped between pvcreate and vgcreate), else a signature like any
                // other, handled below via evidence.
            }
        }
    }
    let our_uuid = w
        .cluster_id
        .as_deref()
        .map(|id| pv_uuid(id, node, &dev.path));
    let orphan_pv = f.pvs.iter().find(|p| p.name == dev.path && p.vg.is_none());
    let unfinished = orphan_pv.is_some_and(|p| p.uuid.is_some() && p.uuid == our_uuid);
    // Not a PV of a VG (that returned above), yet a VG of our name exists: vgcreate's
    // guard would pass on the name alone and bricks would be carved out of that VG,
    // ours for another device or foreign (finding #14).
    if let Some(vg) = f.vgs.iter().find(|g| g.name == want_vg) {
        let pvs: Vec<&str> = f
            .pvs
            .iter()
            .filter(|p| p.vg.as_deref() == Some(vg.name.as_str()))
            .map(|p| p.name.as_str())
            .collect();
        b.block(
            BlockerCode::VgNameConflict,
            &addr,
            format!(
                "VG {want_vg} already exists on {node} but {} is not its PV (its PVs: {})",
                dev.path,
                if pvs.is_empty() { "unknown".to_string() } else { pvs.join(", ") }
            ),
            Some(format!("rename or remove VG {want_vg} by hand if it is not needed, or remove {} from the config", dev.path)),
        );
        return None;
    }
    // preparing the device: without its own probe a disk with data looks blank (finding #8)
    if let Some(why) = w.unknown(Need::Device {
        node,
        path: &dev.path,
    }) {
        b.block(
            BlockerCode::FactsIncomplete,
            &addr,
            format!(
                "{} on {node} is not prepared: what it holds is unknown: {why}",
                dev.path
            ),
            Some(format!(
                "fix what makes the probe fail on {node} and plan again"
            )),
        );
        return None;
    }
    let Some(bd) = f.block_devices.iter().find(|d| d.path == dev.path) else {
        b.block(
            BlockerCode::DeviceMissing,
            &addr,
            format!("{} does not exist on {node} (lsblk does not list it)", dev.path),
            Some("check the device path (prefer /dev/disk/by-id/... names) or remove it from the config".into()),
        );
        return None;
    };
    if !bd.mountpoints.is_empty() {
        b.block(
            BlockerCode::DeviceInUse,
            &addr,
            format!("{} on {node} is mounted at {}: refusing to touch it", dev.path, bd.mountpoints.join(", ")),
            Some("unmount it and remove it from /etc/fstab first (wipe does not override a mounted device)".into()),
        );
        return None;
    }
    if bd.read_only {
        b.block(
            BlockerCode::DeviceReadOnly,
            &addr,
            format!("{} on {node} is read-only", dev.path),
            None,
        );
        return None;
    }
    let mut evidence: Vec<String> = Vec::new();
    // our own half-initialised PV: its LVM label is the one thing expected on the disk
    let ours = |kind: &str| unfinished && kind == "LVM2_member";
    for s in f
        .signatures
        .get(&dev.path)
        .into_iter()
        .flatten()
        .filter(|s| !ours(&s.kind))
    {
        let mut e = format!("{} signature at offset {}", s.kind, s.offset);
        if let Some(u) = &s.uuid {
            e.push_str(&format!(", UUID {u}"));
        }
        if let Some(l) = &s.label {
            e.push_str(&format!(", label {l:?}"));
        }
        evidence.push(format!("wipefs: {e}"));
    }
    if let Some(fs) = bd.fstype.as_deref().filter(|fs| !ours(fs)) {
        evidence.push(format!("lsblk: FSTYPE {fs}"));
    }
    if !bd.children.is_empty() {
        evidence.push(format!("lsblk: has children {}", bd.children.join(", ")));
    }
    if let Some(pv) = orphan_pv.filter(|_| !unfinished) {
        evidence.push(format!(
            "pvs: an LVM PV that belongs to no VG (UUID {}, not the {} brickyard gives this device)",
            pv.uuid.as_deref().unwrap_or("unknown"),
            our_uuid.as_deref().unwrap_or("one")
        ));
    }
    let mut deps: Vec<String> = Vec::new();
    if !evidence.is_empty() {
        let allowed = dev.wipe && opts.allow_wipe;
        if !allowed || !bd.children.is_empty() {
            let why = if !bd.children.is_empty() {
                "has partitions or holders; wipe them by hand first".to_string()
            } else if dev.wipe {
                "the config sets `wipe: true`; pass --allow-wipe to destroy these signatures"
                    .to_string()
            } else {
                "set `wipe: true` on this device AND pass --allow-wipe to destroy it, or remove it from the config".to_string()
            };
            b.block(
                BlockerCode::DeviceSignature,
                &addr,
                format!(
                    "{} on {node} is not empty: {}",
                    dev.path,
                    evidence.join("; ")
                ),
                Some(why),
            );
            return None;
        }
        if healthy {
            let id = b.push(
                StepSpec {
                    id: format!("{addr}/wipefs"),
                    address: &addr,
                    action: Action::Create,
                    node,
                    description: format!("wipe all signatures on {} ({})", dev.path, evidence.join("; ")),
                    commands: vec![argv(&["wipefs", "-a", &dev.path])],
                    guard: guard("the device carries no signature, or is already brickyard's PV", sh(
                            "test -z \"$(wipefs --no-act --noheadings -- \"$1\")\" || test \"$(pvs --noheadings -o vg_name -- \"$1\" 2>/dev/null | tr -d ' ')\" = \"$2\"",
                            &[&dev.path, &want_vg],
                        )),
                    depends_on: vec![],
                    destructive: true,
                },
                false,
            );
            deps.push(id);
        }
    }
    if !healthy {
        return None;
    }
    let free = raw_device_capacity(bd.size);
    if free < EXTENT {
        b.block(
            BlockerCode::DeviceTooSmall,
            &addr,
            format!("{} on {node} is only {}", dev.path, HumanBytes(bd.size)),
            None,
        );
        return None;
    }
    let Some(uuid) = our_uuid else {
        // the identity pass has already said (blocker or warning) why the id is not settled
        b.block(
            BlockerCode::ClusterIdUnreadable,
            &addr,
            format!(
                "{} on {node} is not prepared: its PV UUID is derived from the cluster id, which is not settled yet",
                dev.path
            ),
            Some("the id is settled once every declared node answers with a readable identity record; see the cluster identity blockers or warnings".into()),
        );
        return None;
    };
    // Kept apart from vgcreate (which could create the PV itself) because a PV made by
    // vgcreate gets a random UUID: this one carries ours, so a disk left as a bare PV by
    // an apply stopped before (or inside) vgcreate is recognised above and finished.
    if !unfinished {
        let id = b.push(
            StepSpec {
                id: format!("{addr}/pvcreate"),
                address: &addr,
                action: Action::Create,
                node,
                description: format!(
                    "make {} an LVM physical volume (UUID {uuid}, derived from the cluster id)",
                    dev.path
                ),
                commands: vec![argv(&[
                    "pvcreate",
                    "--uuid",
                    &uuid,
                    "--norestorefile",
                    "--metadatasize=128M",
                    "--dataalignment=256K",
                    &dev.path,
                ])],
                guard: guard(
                    "pvs lists the PV with brickyard's UUID",
                    sh(
                        "test \"$(pvs --noheadings -o pv_uuid -- \"$1\" 2>/dev/null | tr -d ' ')\" = \"$2\"",
                        &[&dev.path, &uuid],
                    ),
                ),
                depends_on: deps,
                destructive: false,
            },
            false,
        );
        deps = vec![id];
    }
    let mut vgcreate = argv(&["vgcreate", "--physicalextentsize=4M"]);
    for t in vg_tags(cluster, node) {
        vgcreate.push("--addtag".into());
        vgcreate.push(t);
    }
    vgcreate.push(want_vg.clone());
    vgcreate.push(dev.path.clone());
    let vg = b.push(
        StepSpec {
            id: format!("{addr}/vgcreate"),
            address: &addr,
            action: Action::Create,
            node,
            description: format!(
                "create volume group {want_vg} on {} ({} usable)",
                dev.path,
                HumanBytes(free)
            ),
            commands: vec![vgcreate],
            guard: guard("vgs lists the VG", argv(&["vgs", &want_vg])),
            depends_on: deps,
            destructive: false,
        },
        false,
    );
    Some(base(free, 0, want_vg, Some(vg)))
}

/// Bytes free in VG `vg` (node data: a product past 64 bits is nonsense, so nothing is
/// free, finding #7).
fn vg_free(vg: &crate::gather::Vg) -> u64 {
    if vg.extent_size > 0 {
        vg.free_count.checked_mul(vg.extent_size).unwrap_or(0)
    } else {
        vg.free
    }
}

/// The spare pool-metadata LV LVM keeps in `vg`: the largest thin pool metadata.
fn vg_spare(f: &NodeFacts, vg: &crate::gather::Vg) -> u64 {
    f.lvs
        .iter()
        .filter(|l| l.vg == vg.name && l.attr.starts_with('t'))
        .filter_map(|l| l.metadata_size)
        .max()
        .unwrap_or(0)
}

/// The step tagging a VG another tool made (Heketi's `vg_<id>`) as this node's of this
/// cluster; new bricks go beside the adopted ones and depend on it.
fn adopt_vg(
    b: &mut Builder,
    addr: &Address,
    cluster: &str,
    node: &str,
    dev: &str,
    vg: &crate::gather::Vg,
    held: &[String],
) -> String {
    let tags = vg_tags(cluster, node);
    b.push(
        StepSpec {
            id: format!("{addr}/adopt"),
            address: addr,
            action: Action::Adopt,
            node,
            description: format!(
                "tag volume group {} on {dev} as brickyard's ({}); it holds only bricks of adopted volumes ({}), which stay as they are",
                vg.name,
                tags.join(" "),
                held.join(", ")
            ),
            commands: vec![add_tags(Tagged::Vg, &tags, &vg.name)],
            guard: guard("vgs shows the tags on the VG", tags_guard(Tagged::Vg, &tags, &[&vg.name])),
            depends_on: vec![],
            destructive: false,
        },
        false,
    )
}

/// The value our cluster tag carries (the tag is `brickyard.cluster=<this>`).
fn cluster_tag_value(cluster: &str) -> String {
    tag_cluster(cluster)
        .strip_prefix("brickyard.cluster=")
        .unwrap_or_default()
        .to_string()
}
