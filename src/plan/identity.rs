//! Pass 0: which cluster this is, beyond its name. Two deployments may both call their
//! cluster `prod`; the per-object markers carry only that name, so the name alone cannot
//! tell their nodes apart. Every declared node therefore records `<cluster> <id>` in
//! `/var/lib/brickyard/cluster-id` (the id: 128 random bits the CLI made at the first
//! plan, or the config's `cluster_id` pin), and this pass decides "our id" from the
//! config and those records before anything else is planned:
//!
//! - pinned: a node recording another name or id is refused; nodes without a record get
//!   a step recording the pin;
//! - not pinned, every node records one (name, id) of ours: that is our id, and a
//!   warning asks to pin it;
//! - not pinned, some nodes record an id and others none: refused until the config pins
//!   it (a second deployment that shares one node must not take that node's id), unless
//!   no declared node holds anything marked with this cluster's name: then it is a first
//!   apply killed between its record steps (every other step waits for all records) and
//!   the rest get the same record;
//! - not pinned, two ids, or another cluster's name: refused;
//! - nothing recorded anywhere: the CLI's fresh id (`PlanOptions::new_cluster_id`) is
//!   recorded on every node, as the plan's first steps.
//!
//! A refused node is handed to `health`, which treats it like an unhealthy node: no
//! runner, no placement, no peer probe, and every volume step touching it held back. An
//! unknown record (unreachable node, unreadable file) is never read as "no record".

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Desired, names};
use crate::gather::parse::cluster_id::FILE;
use crate::gather::{NodeObservation, Observed};
use crate::plan::ownership::{OPT_CLUSTER, lvm_safe, tag_cluster};

use super::address::Address;
use super::blocker_code::BlockerCode;
use super::builder::{Builder, PStep, StepSpec, change, guard, sh};
use super::model::{Action, ClusterIdentity};
use super::options::PlanOptions;

/// Why a refused node gets nothing planned (the end of "node N is ...").
const REFUSED: &str = "refused by the cluster identity check";

/// What the identity pass decided.
pub(crate) struct Identity {
    /// Our identity, when it is settled (pinned, recorded everywhere, or new).
    pub(crate) cluster_id: Option<ClusterIdentity>,
    /// Declared node -> why nothing may be planned on it; `health` holds them back.
    pub(crate) refused: BTreeMap<String, String>,
    /// Node -> id of the step recording the identity on it.
    records: BTreeMap<String, String>,
}

/// One declared node's record, as far as the facts tell.
enum Record<'a> {
    /// No facts (unreachable, not gathered): `health` blocks the node already.
    Unknown,
    /// The probe could not read it, or it is not one valid line.
    Unreadable(&'a str),
    Absent,
    Recorded(&'a str, &'a str),
}

fn records<'a>(desired: &Desired, observed: &'a Observed) -> BTreeMap<String, Record<'a>> {
    desired
        .nodes
        .keys()
        .map(|n| {
            let r = match observed.nodes.get(n) {
                Some(NodeObservation::Reachable(f)) => {
                    match (&f.cluster_id, f.section_errors.get("cluster_id")) {
                        (_, Some(e)) => Record::Unreadable(e.as_str()),
                        (Some((name, id)), None) => Record::Recorded(name, id),
                        (None, None) => Record::Absent,
                    }
                }
                _ => Record::Unknown,
            };
            (n.clone(), r)
        })
        .collect()
}

/// How the config says to pin `id`, in both formats.
fn pin_line(id: &str) -> String {
    format!("`cluster_id: {id}` (HCL: `cluster_id = \"{id}\"`)")
}

pub(crate) fn decide(
    desired: &Desired,
    observed: &Observed,
    opts: &PlanOptions,
    b: &mut Builder,
) -> Identity {
    let mut out = Identity {
        cluster_id: None,
        refused: BTreeMap::new(),
        records: BTreeMap::new(),
    };
    let cluster = desired.cluster.as_str();
    let recs = records(desired, observed);

    // Unreadable records: the identity of that node is unknown, whatever the config says.
    for (n, r) in &recs {
        if let Record::Unreadable(e) = r {
            b.block(
                BlockerCode::ClusterIdUnreadable,
                &Address::Node(n.clone()),
                format!("the cluster identity record of node {n} cannot be read: {e}"),
                Some(format!(
                    "nothing is planned on {n} until {FILE} is one line `<cluster> <id>`; if {n} belongs to no other deployment, remove the file and plan again"
                )),
            );
            out.refused.insert(n.clone(), REFUSED.to_string());
        }
    }

    match &desired.cluster_id {
        Some(pin) if !names::is_cluster_id(pin) => {
            // The config decoder refuses this; a model built in code may still carry it.
            b.block(
                BlockerCode::InvalidName,
                &Address::Cluster,
                format!(
                    "the pinned cluster_id {:?} is not 32 lowercase hex digits",
                    pin.escape_debug().to_string()
                ),
                Some("fix `cluster_id` in the config".into()),
            );
            refuse_all(&mut out, &recs);
        }
        Some(pin) => pinned(b, &mut out, &recs, cluster, pin),
        None => {
            let claimed = claims_of(desired, observed);
            unpinned(b, &mut out, &recs, cluster, opts, &claimed)
        }
    }
    out
}

/// Declared nodes holding anything marked with this cluster's name: a volume carrying
/// the volume marker, a VG or LV carrying the cluster tag, an fstab line with the marker.
/// With no such thing anywhere, an id recorded on only some nodes guards nothing yet.
fn claims_of(desired: &Desired, observed: &Observed) -> Vec<String> {
    let tag = tag_cluster(&desired.cluster);
    let fstab = format!("x-brickyard.cluster={}", lvm_safe(&desired.cluster));
    desired
        .nodes
        .keys()
        .filter(|n| match observed.nodes.get(*n) {
            Some(NodeObservation::Reachable(f)) => {
                f.volumes.iter().any(|v| {
                    v.options
                        .get(OPT_CLUSTER)
                        .is_some_and(|c| *c == desired.cluster)
                }) || f.vgs.iter().any(|g| g.tags.contains(&tag))
                    || f.lvs.iter().any(|l| l.tags.contains(&tag))
                    || f.fstab
                        .iter()
                        .any(|e| e.options.split(',').any(|o| o == fstab))
            }
            _ => false,
        })
        .cloned()
        .collect()
}

/// The config pins `pin`: it is our id, whatever the nodes say.
fn pinned(
    b: &mut Builder,
    out: &mut Identity,
    recs: &BTreeMap<String, Record<'_>>,
    cluster: &str,
    pin: &str,
) {
    for (n, r) in recs {
        match r {
            Record::Recorded(name, id) if (*name, *id) == (cluster, pin) => {}
            Record::Recorded(name, id) => {
                mismatch(
                    b,
                    out,
                    n,
                    name,
                    id,
                    &format!("the config pins {cluster}/{pin}"),
                    Some(format!(
                        "{n} belongs to another deployment: remove it from this config; if it really is this cluster's, its record must say `{cluster} {pin}`"
                    )),
                );
            }
            Record::Absent => record(b, out, n, cluster, pin),
            Record::Unknown | Record::Unreadable(_) => {}
        }
    }
    out.cluster_id = Some(ClusterIdentity {
        id: pin.to_string(),
        new: false,
        pinned: true,
    });
}

/// No pin: our id is what our nodes agree on, or a new one when none records any.
fn unpinned(
    b: &mut Builder,
    out: &mut Identity,
    recs: &BTreeMap<String, Record<'_>>,
    cluster: &str,
    opts: &PlanOptions,
    claimed: &[String],
) {
    // another cluster's name is never ours
    for (n, r) in recs {
        if let Record::Recorded(name, id) = r
            && *name != cluster
        {
            mismatch(
                b,
                out,
                n,
                name,
                id,
                &format!("this config is cluster {cluster}"),
                Some(format!(
                    "{n} belongs to cluster {name}: remove it from this config"
                )),
            );
        }
    }
    let ours: BTreeMap<&str, Vec<&str>> = recs.iter().fold(BTreeMap::new(), |mut m, (n, r)| {
        if let Record::Recorded(name, id) = r
            && *name == cluster
        {
            m.entry(*id).or_insert_with(Vec::new).push(n.as_str());
        }
        m
    });
    let absent: Vec<&str> = recs
        .iter()
        .filter(|(_, r)| matches!(r, Record::Absent))
        .map(|(n, _)| n.as_str())
        .collect();
    match ours.len() {
        0 => {
            let Some(new) = &opts.new_cluster_id else {
                return;
            };
            if !names::is_cluster_id(new) {
                b.warnings.push(
                    "internal: the generated cluster id is not 32 lowercase hex digits; no identity is recorded"
                        .into(),
                );
                return;
            }
            let unsettled: Vec<&str> = recs
                .iter()
                .filter(|(n, r)| matches!(r, Record::Unknown) || out.refused.contains_key(*n))
                .map(|(n, _)| n.as_str())
                .collect();
            if !unsettled.is_empty() {
                // One of them may record an id already: minting now could split the cluster.
                b.warnings.push(format!(
                    "no cluster identity is recorded yet; it is made and recorded once every declared node answers with a readable record (not yet: {})",
                    unsettled.join(", ")
                ));
                return;
            }
            for n in absent {
                record(b, out, n, cluster, new);
            }
            out.cluster_id = Some(ClusterIdentity {
                id: new.clone(),
                new: true,
                pinned: false,
            });
        }
        1 => {
            let Some((id, holders)) = ours.iter().next().map(|(i, h)| (*i, h)) else {
                return;
            };
            if !absent.is_empty() && claimed.is_empty() {
                // Recorded on some nodes, and nothing anywhere is marked with this cluster's
                // name: a first apply killed between its record steps (every other step
                // waits for all of them), or an empty deployment with nothing to lose.
                b.warnings.push(format!(
                    "node(s) {} record cluster {cluster} with id {id} and {} none, and no node holds anything of cluster {cluster} yet: the id is recorded on the rest; pin it with {} in the config",
                    holders.join(", "),
                    absent.join(", "),
                    pin_line(id)
                ));
                for n in &absent {
                    record(b, out, n, cluster, id);
                }
                out.cluster_id = Some(ClusterIdentity {
                    id: id.to_string(),
                    new: false,
                    pinned: false,
                });
            } else if absent.is_empty() {
                b.warnings.push(format!(
                    "every node records cluster {cluster} with id {id}, but the config does not pin it: add {} to the config, so that a node recording another identity, or none, is never taken for this cluster's",
                    pin_line(id)
                ));
                out.cluster_id = Some(ClusterIdentity {
                    id: id.to_string(),
                    new: false,
                    pinned: false,
                });
            } else {
                b.block(
                    BlockerCode::ClusterIdUnpinned,
                    &Address::Cluster,
                    format!(
                        "node(s) {} record cluster {cluster} with id {id}, node(s) {} record no identity, and the config pins none: nothing is planned until it does",
                        holders.join(", "),
                        absent.join(", ")
                    ),
                    Some(format!(
                        "if this config is the deployment that recorded {id}, add {} to the config and plan again (the other nodes then get it recorded); if not, {} belong to another deployment: remove them from this config",
                        pin_line(id),
                        holders.join(", ")
                    )),
                );
                refuse_all(out, recs);
            }
        }
        _ => {
            let seen: Vec<String> = ours
                .iter()
                .map(|(id, ns)| format!("{id} on {}", ns.join(", ")))
                .collect();
            for (n, r) in recs {
                if let Record::Recorded(name, id) = r
                    && *name == cluster
                {
                    mismatch(
                        b,
                        out,
                        n,
                        name,
                        id,
                        &format!("other nodes record other ids ({})", seen.join("; ")),
                        Some(format!(
                            "these nodes belong to different deployments: pin this cluster's id with {} and remove the other deployment's nodes from this config",
                            pin_line("<id>")
                        )),
                    );
                }
            }
            refuse_all(out, recs);
        }
    }
}

/// Nothing is planned on any declared node: which of them are ours is not known.
fn refuse_all(out: &mut Identity, recs: &BTreeMap<String, Record<'_>>) {
    for n in recs.keys() {
        out.refused.insert(n.clone(), REFUSED.to_string());
    }
}

fn mismatch(
    b: &mut Builder,
    out: &mut Identity,
    node: &str,
    name: &str,
    id: &str,
    ours: &str,
    help: Option<String>,
) {
    b.block(
        BlockerCode::ClusterIdMismatch,
        &Address::Node(node.to_string()),
        format!("node {node} records cluster {name} with id {id}, but {ours}: nothing is planned on {node}"),
        help,
    );
    out.refused.insert(node.to_string(), REFUSED.to_string());
}

/// Record `<cluster> <id>` on `node`: a temp file in the same directory, published with
/// `ln` (atomic like `mv`, and never replacing a record that appeared since the facts
/// were read: then the step fails instead of taking the node over).
fn record(b: &mut Builder, out: &mut Identity, node: &str, cluster: &str, id: &str) {
    const WRITE: &str = concat!(
        r#"f=$1; if [ -e "$f" ] || [ -L "$f" ]; then "#,
        r#"[ "$(cat -- "$f"; echo x)" = "$(printf '%s %s\nx' "$2" "$3")" ] && exit 0; "#,
        r#"echo "$f records another cluster identity; it is left as it is" >&2; exit 1; fi; "#,
        r#"mkdir -p -- "${f%/*}" && t=$(mktemp "${f%/*}/.cluster-id.XXXXXX") || exit 1; "#,
        r#"printf '%s %s\n' "$2" "$3" >"$t" && chmod 644 "$t" && { sync "$t" 2>/dev/null || sync; } && ln -- "$t" "$f"; "#,
        r#"r=$?; rm -f -- "$t"; exit $r"#
    );
    const HOLDS: &str =
        r#"[ "$(cat -- "$1" 2>/dev/null; echo x)" = "$(printf '%s %s\nx' "$2" "$3")" ]"#;
    let addr = Address::Node(node.to_string());
    let step = b.push(
        StepSpec {
            id: format!("{addr}/cluster-id"),
            address: &addr,
            action: Action::Create,
            node,
            description: format!("record cluster identity {cluster}/{id} on {node}"),
            commands: vec![sh(WRITE, &[FILE, cluster, id])],
            guard: guard(
                &format!("{FILE} holds `{cluster} {id}`"),
                sh(HOLDS, &[FILE, cluster, id]),
            ),
            depends_on: vec![],
            destructive: false,
        },
        false,
    );
    b.with_changes(vec![change("cluster_id", None, Some(id))]);
    out.records.insert(node.to_string(), step);
}

impl Identity {
    /// Every other step on a node waits for that node's identity record, so nothing is
    /// changed on a node before it says which cluster it belongs to (and a record step
    /// that fails, because another identity appeared, holds the node's work back).
    ///
    /// The wait is for every node's record, not only its own: an apply killed between
    /// record steps then leaves nothing but records, which the next plan can finish
    /// without guessing (see the "recorded on some nodes" case of `unpinned`).
    pub(crate) fn first(&self, steps: &mut [PStep]) {
        let records: BTreeSet<&str> = self.records.values().map(String::as_str).collect();
        for s in steps.iter_mut() {
            if records.contains(s.step.id.as_str()) {
                continue;
            }
            for rec in self.records.values() {
                if !s.step.depends_on.contains(rec) {
                    s.step.depends_on.push(rec.clone());
                }
            }
        }
    }
}
