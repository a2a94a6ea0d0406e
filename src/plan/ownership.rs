//! Names and ownership markers: how brickyard recognises what it made without a state
//! file. Gather reads these markers back, apply runs commands built from these names,
//! so every convention lives here, once (see docs/placement.md, "Names and markers").
//!
//! - VG per device: `by_<device path without /dev/, unsafe chars -> _>` (e.g. `by_sdb`).
//! - Thin pool `tp_<vol>_<set>_<pos>`, thin LV `brick_<vol>_<set>_<pos>`.
//! - Mount `/var/lib/brickyard/mounts/<vg>/<lv>`, brick directory `<mount>/brick`.
//! - Directory bricks: `<declared path>/<vol>/s<set>p<pos>`.
//! - LVM tags (characters `[A-Za-z0-9_+.-]` plus `=`, allowed since LVM 2.02.78):
//!   `brickyard.cluster=<c>` on VGs and LVs, plus `brickyard.node=<n>` on VGs and
//!   `brickyard.volume=<v>`, `brickyard.set=<s>`, `brickyard.pos=<p>` on pools and LVs.
//! - Gluster volume options `user.brickyard.cluster=<c>`, `user.brickyard.brick-size=<bytes>`
//!   and `user.brickyard.options=<comma-separated keys brickyard set>`.
//! - fstab: the mount options carry `x-brickyard.cluster=<c>`. mount(8) treats `x-*`
//!   options as userspace comments (never passed to the kernel); fstab(5) has no
//!   trailing-comment syntax, so a `# brickyard` suffix could be parsed as a field.

/// Where brick filesystems are mounted.
pub const MOUNT_ROOT: &str = "/var/lib/brickyard/mounts";
/// Volume option that marks a volume as managed by brickyard (value: cluster name).
pub const OPT_CLUSTER: &str = "user.brickyard.cluster";
/// Volume option recording the size of each data brick (bytes), for expand/shrink.
pub const OPT_BRICK_SIZE: &str = "user.brickyard.brick-size";
/// Volume option recording which option keys brickyard set (so removal means reset).
pub const OPT_OPTIONS: &str = "user.brickyard.options";
/// Mount options of every brick filesystem (Heketi's).
pub const MOUNT_OPTS: &str = "rw,inode64,noatime,nouuid";

/// True for the options brickyard uses as markers; they are never diffed as user options.
pub fn is_marker_option(key: &str) -> bool {
    key.starts_with("user.brickyard.")
}

/// A name safe in LVM names, tags and paths: `[A-Za-z0-9_+.-]`, not starting with `-`.
pub fn lvm_safe(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('-') {
        out.replace_range(0..1, "_");
    }
    out
}

/// VG name for a declared device: stable across runs, readable, unique per node.
pub fn vg_name(device: &str) -> String {
    let short = device.strip_prefix("/dev/").unwrap_or(device);
    format!("by_{}", lvm_safe(short.trim_start_matches('/')))
}

pub fn pool_name(volume: &str, set: u32, pos: u32) -> String {
    format!("tp_{}_{set}_{pos}", lvm_safe(volume))
}

pub fn lv_name(volume: &str, set: u32, pos: u32) -> String {
    format!("brick_{}_{set}_{pos}", lvm_safe(volume))
}

pub fn lv_device(vg: &str, lv: &str) -> String {
    format!("/dev/{vg}/{lv}")
}

pub fn mount_path(vg: &str, lv: &str) -> String {
    format!("{MOUNT_ROOT}/{vg}/{lv}")
}

pub fn lvm_brick_dir(vg: &str, lv: &str) -> String {
    format!("{}/brick", mount_path(vg, lv))
}

pub fn dir_brick_path(base: &str, volume: &str, set: u32, pos: u32) -> String {
    format!("{}/{volume}/s{set}p{pos}", base.trim_end_matches('/'))
}

pub fn fstab_line(cluster: &str, vg: &str, lv: &str) -> String {
    format!(
        "{} {} xfs {MOUNT_OPTS},x-brickyard.cluster={} 0 0",
        lv_device(vg, lv),
        mount_path(vg, lv),
        lvm_safe(cluster)
    )
}

pub fn tag_cluster(cluster: &str) -> String {
    format!("brickyard.cluster={}", lvm_safe(cluster))
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

/// Names the planner builds into paths and commands must be plain: anything else is
/// refused before it can reach a command line (config validation should catch it first).
pub fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// An absolute path without `..`, whitespace or shell-significant characters.
pub fn is_plain_path(s: &str) -> bool {
    s.starts_with('/')
        && !s.split('/').any(|c| c == "..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/+:@".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lvm_safe_and_stable() {
        assert_eq!(vg_name("/dev/sdb"), "by_sdb");
        assert_eq!(
            vg_name("/dev/disk/by-id/virtio-abc:1"),
            "by_disk_by-id_virtio-abc_1"
        );
        assert_eq!(lv_name("gfs", 1, 2), "brick_gfs_1_2");
        assert_eq!(pool_name("gfs", 0, 0), "tp_gfs_0_0");
        assert_eq!(
            lvm_brick_dir("by_sdb", "brick_gfs_0_1"),
            "/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_1/brick"
        );
        assert_eq!(dir_brick_path("/data/", "gfs", 0, 2), "/data/gfs/s0p2");
        assert_eq!(lvm_safe("-a b"), "_a_b");
    }

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
    fn refuses_unsafe_names_and_paths() {
        assert!(is_plain_name("gfs-1.a"));
        assert!(!is_plain_name("a b"));
        assert!(!is_plain_name("-x"));
        assert!(is_plain_path("/dev/disk/by-id/x:1"));
        assert!(!is_plain_path("/data/../etc"));
        assert!(!is_plain_path("/data/$(x)"));
        assert!(!is_plain_path("relative"));
    }

    #[test]
    fn fstab_line_carries_the_marker_in_an_x_option() {
        assert_eq!(
            fstab_line("prod", "by_sdb", "brick_gfs_0_0"),
            "/dev/by_sdb/brick_gfs_0_0 /var/lib/brickyard/mounts/by_sdb/brick_gfs_0_0 xfs rw,inode64,noatime,nouuid,x-brickyard.cluster=prod 0 0"
        );
    }
}
