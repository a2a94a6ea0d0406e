//! Ownership markers: how brickyard recognises what it made without a state file.
//! Gather reads these markers back, apply runs commands built from these names (see
//! docs/placement.md, "Names and markers"). The names themselves (VG, pool, LV, mount,
//! brick paths) and the rules for operator-written names live in
//! [`crate::config::names`], shared with config validation; they are re-exported here
//! so plan code keeps one import.
//!
//! - VG per device: `by_<device path without /dev/, unsafe chars -> _>` (e.g. `by_sdb`).
//! - Thin pool `tp_<vol>_<set>_<pos>`, thin LV `brick_<vol>_<set>_<pos>`.
//! - Mount `/var/lib/brickyard/mounts/<vg>/<lv>`, brick directory `<mount>/brick`.
//! - Directory bricks: `<declared path>/<vol>/s<set>p<pos>`, marked right after mkdir with
//!   the xattr `trusted.brickyard.brick=<cluster>/<vol>/s<set>p<pos>` (trusted.* is only
//!   visible to root, so a FUSE client of the volume cannot see or forge it).
//! - LVM tags (characters `[A-Za-z0-9_+.-]` plus `=`, allowed since LVM 2.02.78):
//!   `brickyard.cluster=<c>` on VGs and LVs, plus `brickyard.node=<n>` on VGs and
//!   `brickyard.volume=<v>`, `brickyard.set=<s>`, `brickyard.pos=<p>` on pools and LVs.
//! - Gluster volume options `user.brickyard.cluster=<c>`, `user.brickyard.brick-size=<bytes>`
//!   and `user.brickyard.options=<comma-separated keys brickyard set>`.
//! - PV: `pvcreate --uuid <pv_uuid(cluster id, node, device)>`, an LVM UUID derived from
//!   the cluster's recorded id, so a disk left as a PV without VG by an interrupted device
//!   init (PV tags live in VG metadata, so there are none yet) still proves whose it is.
//! - fstab: the mount options carry `x-brickyard.cluster=<c>`. mount(8) treats `x-*`
//!   options as userspace comments (never passed to the kernel); fstab(5) has no
//!   trailing-comment syntax, so a `# brickyard` suffix could be parsed as a field.

pub(crate) use crate::config::names::{
    dir_brick_path, lv_device, lv_name, lvm_brick_dir, lvm_safe, mount_path, pool_name, vg_name,
};

/// Volume option that marks a volume as managed by brickyard (value: cluster name).
pub const OPT_CLUSTER: &str = "user.brickyard.cluster";
/// Volume option recording the size of each data brick (bytes), for expand/shrink.
pub const OPT_BRICK_SIZE: &str = "user.brickyard.brick-size";
/// Volume option recording which option keys brickyard set (so removal means reset).
pub const OPT_OPTIONS: &str = "user.brickyard.options";
/// Mount options of every brick filesystem (Heketi's).
pub const MOUNT_OPTS: &str = "rw,inode64,noatime,nouuid";

/// Extended attribute that marks a directory brick as brickyard's (see [`dir_brick_mark`]).
pub const BRICK_XATTR: &str = "trusted.brickyard.brick";

/// The value of [`BRICK_XATTR`] on a directory brick: which cluster made it for which
/// brick, so an interrupted create is recognised by a proof written before the volume.
pub fn dir_brick_mark(cluster: &str, volume: &str, set: u32, pos: u32) -> String {
    format!("{cluster}/{volume}/s{set}p{pos}")
}

/// The mount option that marks an fstab line as this cluster's.
pub fn fstab_marker(cluster: &str) -> String {
    format!("x-brickyard.cluster={}", lvm_safe(cluster))
}

/// Does this fstab options field carry this cluster's marker (as a whole option)?
pub fn fstab_marked(options: &str, cluster: &str) -> bool {
    let m = fstab_marker(cluster);
    options.split(',').any(|o| o == m)
}

/// True for the options brickyard uses as markers; they are never diffed as user options.
pub fn is_marker_option(key: &str) -> bool {
    key.starts_with("user.brickyard.")
}

pub fn fstab_line(cluster: &str, vg: &str, lv: &str) -> String {
    fstab_line_at(cluster, vg, lv, &mount_path(vg, lv), "xfs")
}

/// The fstab line brickyard writes for LV `vg/lv` mounted at `mount` (an adopted brick's
/// mount stays where its maker put it); `nouuid` and `inode64` are XFS options.
pub fn fstab_line_at(cluster: &str, vg: &str, lv: &str, mount: &str, fstype: &str) -> String {
    let opts = if fstype == "xfs" {
        MOUNT_OPTS
    } else {
        "defaults"
    };
    format!(
        "{} {mount} {fstype} {opts},{} 0 0",
        lv_device(vg, lv),
        fstab_marker(cluster)
    )
}

/// An fstab line with this cluster's marker appended to its options (the fourth field);
/// the other fields as they were, one space between fields. `None`: fewer than 4 fields.
pub fn fstab_line_marked(line: &str, cluster: &str) -> Option<String> {
    let mut fields: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let opts = fields.get_mut(3)?;
    opts.push(',');
    opts.push_str(&fstab_marker(cluster));
    Some(fields.join(" "))
}

pub fn tag_cluster(cluster: &str) -> String {
    format!("brickyard.cluster={}", lvm_safe(cluster))
}

/// The PV UUID brickyard gives `device` of `node` in the cluster whose id is `cluster_id`
/// (`pvcreate --uuid`): the first 32 characters of a SHA-256 over the three, in LVM's UUID
/// alphabet and form (`6-4-4-4-4-4-6` of `[0-9A-Za-z]`). A foreign PV has a random UUID,
/// so a PV without VG carrying exactly this one was made by us for this device.
pub fn pv_uuid(cluster_id: &str, node: &str, device: &str) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut h = Sha256::new();
    for part in ["brickyard-pv-v1", cluster_id, node, device] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(38);
    for (i, byte) in digest.iter().take(32).enumerate() {
        if matches!(i, 6 | 10 | 14 | 18 | 22 | 26) {
            out.push('-');
        }
        out.push(ALPHABET[usize::from(*byte) % ALPHABET.len()] as char);
    }
    out
}

/// Tags on a VG brickyard initialised.
pub fn vg_tags(cluster: &str, node: &str) -> Vec<String> {
    vec![
        tag_cluster(cluster),
        format!("brickyard.node={}", lvm_safe(node)),
    ]
}

/// Tags on a brick's thin pool and thin LV.
pub fn brick_tags(cluster: &str, volume: &str, set: u32, pos: u32) -> Vec<String> {
    vec![
        tag_cluster(cluster),
        format!("brickyard.volume={}", lvm_safe(volume)),
        format!("brickyard.set={set}"),
        format!("brickyard.pos={pos}"),
    ]
}

/// What carries tags: a VG (`vgchange`, `vgs`) or an LV or thin pool (`lvchange`, `lvs`;
/// named `vg/lv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagged {
    Vg,
    Lv,
}

/// `vgchange|lvchange --addtag T.. -- OBJ`: adds the tags an adoption writes on something
/// another tool made (adding a tag it carries already is a no-op for LVM).
pub(crate) fn add_tags(kind: Tagged, tags: &[String], obj: &str) -> Vec<String> {
    let mut cmd = vec![
        match kind {
            Tagged::Vg => "vgchange",
            Tagged::Lv => "lvchange",
        }
        .to_string(),
    ];
    for t in tags {
        cmd.push("--addtag".into());
        cmd.push(t.clone());
    }
    cmd.push("--".into());
    cmd.push(obj.to_string());
    cmd
}

/// `sh -c TAGGED sh KIND TAGS OBJ..`: every OBJ carries every tag of the space-separated
/// TAGS (tags never hold a space: `lvm_safe`).
const TAGGED: &str = "set -f; k=$1; w=$2; shift 2; for o in \"$@\"; do \
t=$(\"$k\" --noheadings -o \"${k%s}_tags\" -- \"$o\") || exit 1; t=,$(printf %s \"$t\" | tr -d ' \\n'),; \
for x in $w; do case $t in *,\"$x\",*) ;; *) exit 1 ;; esac; done; done";

/// The guard of [`add_tags`]: each of `objs` carries all of `tags`.
pub(crate) fn tags_guard(kind: Tagged, tags: &[String], objs: &[&str]) -> Vec<String> {
    let joined = tags.join(" ");
    let mut args = vec![
        match kind {
            Tagged::Vg => "vgs",
            Tagged::Lv => "lvs",
        },
        joined.as_str(),
    ];
    args.extend_from_slice(objs);
    super::builder::sh(TAGGED, &args)
}

/// The value of tag `brickyard.<key>=` in a tag list.
pub fn tag_value<'a>(tags: &'a [String], key: &str) -> Option<&'a str> {
    tags.iter().find_map(|t| {
        t.strip_prefix("brickyard.")
            .and_then(|r| r.strip_prefix(key))
            .and_then(|r| r.strip_prefix('='))
    })
}

/// (volume, set, position) of a brick LV or pool carrying brickyard tags.
pub fn brick_identity(tags: &[String]) -> Option<(String, u32, u32)> {
    let vol = tag_value(tags, "volume")?;
    let set = tag_value(tags, "set")?.parse().ok()?;
    let pos = tag_value(tags, "pos")?.parse().ok()?;
    Some((vol.to_string(), set, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        let tags = brick_tags("prod", "gfs", 3, 1);
        assert_eq!(brick_identity(&tags), Some(("gfs".into(), 3, 1)));
        assert_eq!(tag_value(&tags, "cluster"), Some("prod"));
        for t in tags.iter().chain(vg_tags("prod", "gfs1").iter()) {
            assert!(
                t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+.-=".contains(c)),
                "{t}"
            );
        }
    }

    #[test]
    fn fstab_line_carries_the_marker_in_an_x_option() {
        assert_eq!(
            fstab_line("prod", "by_sdb", "brick_gfs_0_0"),
            "/dev/by_sdb/brick_gfs_0_0 /var/lib/brickyard/mounts/by_sdb/brick_gfs_0_0 xfs rw,inode64,noatime,nouuid,x-brickyard.cluster=prod 0 0"
        );
        assert!(fstab_marked("rw,x-brickyard.cluster=prod", "prod"));
        assert!(!fstab_marked("rw,x-brickyard.cluster=prod2", "prod"));
        assert!(!fstab_marked("rw,brickyard", "prod"));
    }

    #[test]
    fn pv_uuid_is_an_lvm_uuid_and_differs_per_cluster_node_and_device() {
        let id = "0123456789abcdef0123456789abcdef";
        let u = pv_uuid(id, "gfs1", "/dev/sdb");
        let groups: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(groups, [6, 4, 4, 4, 4, 4, 6], "{u}");
        assert!(
            u.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()),
            "{u}"
        );
        assert_eq!(u, pv_uuid(id, "gfs1", "/dev/sdb"), "deterministic");
        let others = [
            pv_uuid("fedcba9876543210fedcba9876543210", "gfs1", "/dev/sdb"),
            pv_uuid(id, "gfs2", "/dev/sdb"),
            pv_uuid(id, "gfs1", "/dev/sdc"),
        ];
        for o in others {
            assert_ne!(u, o);
        }
    }
}
