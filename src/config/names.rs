//! Every rule for a name or path the operator writes, and every name brickyard derives
//! from them, in one place. Config validation and the planner both call these
//! functions, so a name `brickyard validate` accepts is never refused by `plan` (a
//! desired state read from JSON skips validation, so the planner checks again with the
//! same rule). docs/config.md, "Names and paths", says which rule applies where and why.
//!
//! A rule returns why a name is refused ([`NameError`], [`PathError`]); the config
//! decoder turns that into a pointed diagnostic, the planner into an `invalid_name`
//! blocker.

/// Cluster, node and tag names (key and value): they end up in LVM tags
/// (`brickyard.node=<n>`), fstab mount options, logs and plan addresses; short keeps
/// every derived marker far inside LVM's 1024-character tag limit.
pub(crate) const NAME_MAX: usize = 63;

/// Volume names. Gluster alone would allow 256 (`GD_VOLUME_NAME_MAX`), but the name is
/// built into more than gluster's own records:
/// - LVM names are at most 127 characters (`NAME_LEN` 128 with the NUL), and the thin
///   pool `tp_<vol>_<set>_<pos>` gets internal LVs `<pool>_tmeta`/`<pool>_tdata`: with
///   set and position up to 10 digits each that is the name plus 31 characters;
/// - device-mapper names `<vg>-<lv>` (`DM_NAME_LEN` 128) double every `-` and add the
///   VG name and a `-tpool` layer suffix;
/// - glusterd keeps each brick's volfile as one file `<vol>.<host>.<brick path>.vol`
///   that must stay under 256 characters (`glusterd_is_valid_volfpath`), and the brick
///   path carries the volume name again.
///
/// 64 leaves room for a VG name and a host name in all of them; it is also the limit
/// the planner always used.
pub(crate) const VOLUME_NAME_MAX: usize = 64;

/// LVM's longest VG or LV name (lvm2 `NAME_LEN` 128, including the terminating NUL).
pub(crate) const LVM_NAME_MAX: usize = 127;

/// Names gluster's CLI refuses as volume names (glusterfs cli/src/cli-cmd-parser.c,
/// `cli_validate_volname`).
pub(crate) const RESERVED_VOLUME_NAMES: &[&str] = &[
    "volume",
    "type",
    "subvolumes",
    "option",
    "end-volume",
    "all",
    "volume_not_in_ring",
    "description",
    "force",
    "snap-max-hard-limit",
    "snap-max-soft-limit",
    "auto-delete",
    "activate-on-create",
];

/// Sub-strings LVM refuses in an LV name because it names its own internal volumes
/// with them (lvm2 lib/misc/lvm-string.c, `apply_lvname_restrictions`, across versions).
pub(crate) const LVM_RESERVED_STRINGS: &[&str] = &[
    "_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_wcorig", "_imeta", "_iorig", "_mimage",
    "_mlog", "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin",
];

/// System directories a directory brick may not live in.
/// Finding #16 added the ones after `/lib`: other system trees, the home of root,
/// scratch space, and the state of glusterd and of brickyard itself (a volume `lock` on
/// `/var/lib/brickyard` would have reached the apply lock).
pub(crate) const SYSTEM_DIRS: &[&str] = &[
    "/dev",
    "/proc",
    "/sys",
    "/run",
    "/etc",
    "/boot",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/root",
    "/tmp",
    "/var/tmp",
    "/var/run",
    "/var/lock",
    "/var/log",
    "/var/cache",
    "/var/spool",
    "/var/mail",
    "/var/lib/glusterd",
    "/var/lib/brickyard",
    "/var/lib/dpkg",
    "/var/lib/rpm",
    "/var/lib/systemd",
    "/lost+found",
];

/// Character devices and pseudo-file systems under `/dev/` that are never a disk
/// (finding #16).
const NOT_BLOCK_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/mem",
    "/dev/kmem",
    "/dev/port",
    "/dev/random",
    "/dev/urandom",
    "/dev/console",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/dev/hugepages",
    "/dev/fd",
    "/dev/stdin",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/log",
];

/// Where brick filesystems are mounted.
pub(crate) const MOUNT_ROOT: &str = "/var/lib/brickyard/mounts";

/// Why a name is refused. [`NameError::why`] is the end of the sentence
/// "volume name `x` ...".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameError {
    Empty,
    TooLong(usize),
    StartsWithDash,
    FirstNotAlnum,
    Reserved,
    BadChar(char),
    LvmReserved(&'static str),
}

impl NameError {
    pub(crate) fn why(&self) -> String {
        match self {
            NameError::Empty => "is empty".to_string(),
            NameError::TooLong(max) => format!("is longer than {max} characters"),
            NameError::StartsWithDash => "starts with `-`".to_string(),
            NameError::FirstNotAlnum => "must start with a letter or digit".to_string(),
            NameError::Reserved => "is a word gluster reserves".to_string(),
            NameError::BadChar(c) => format!("contains {}", describe_char(*c)),
            NameError::LvmReserved(s) => {
                format!("would put `{s}` into its LVM names (`brick_<name>_…`), which LVM reserves")
            }
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Letters, digits, `-`, `_`, `.`, starting with a letter or digit, at most `max`.
fn safe_name(name: &str, max: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > max {
        return Err(NameError::TooLong(max));
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err(NameError::FirstNotAlnum);
    }
    match name.chars().find(|c| !is_name_char(*c)) {
        Some(c) => Err(NameError::BadChar(c)),
        None => Ok(()),
    }
}

/// The help line shared by cluster, node and tag names.
pub(crate) fn safe_name_help() -> String {
    format!(
        "use letters, digits, `-`, `_` and `.`, starting with a letter or digit, at most {NAME_MAX} characters"
    )
}

pub(crate) fn cluster_name(name: &str) -> Result<(), NameError> {
    safe_name(name, NAME_MAX)
}

/// Length of a cluster id: 128 random bits as lowercase hex.
pub(crate) const CLUSTER_ID_LEN: usize = 32;

/// A cluster id (`cluster_id` in the config, the second word of a node's
/// `/var/lib/brickyard/cluster-id`): exactly [`CLUSTER_ID_LEN`] lowercase hex digits.
/// One spelling only, so two records of one id always compare equal as text.
pub(crate) fn is_cluster_id(s: &str) -> bool {
    s.len() == CLUSTER_ID_LEN && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

pub(crate) fn node_name(name: &str) -> Result<(), NameError> {
    safe_name(name, NAME_MAX)
}

/// A tag key or value (device/path `tags`, volume `device_tags`).
pub(crate) fn tag(name: &str) -> Result<(), NameError> {
    safe_name(name, NAME_MAX)
}

/// Gluster's rule (charset, reserved words, no leading `-`), the length that fits every
/// derived name ([`VOLUME_NAME_MAX`]), and LVM's reserved sub-strings.
pub(crate) fn volume_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.starts_with('-') {
        return Err(NameError::StartsWithDash);
    }
    if RESERVED_VOLUME_NAMES.contains(&name) {
        return Err(NameError::Reserved);
    }
    if name.len() > VOLUME_NAME_MAX {
        return Err(NameError::TooLong(VOLUME_NAME_MAX));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(NameError::BadChar(c));
    }
    // the LV names are `brick_<vol>_…` and `tp_<vol>_…`: the `_` before the name counts
    let in_lv = format!("_{name}_");
    match LVM_RESERVED_STRINGS.iter().find(|s| in_lv.contains(*s)) {
        Some(s) => Err(NameError::LvmReserved(s)),
        None => Ok(()),
    }
}

pub(crate) fn volume_name_help() -> String {
    format!(
        "gluster volume names use letters, digits, `-` and `_`, do not start with `-`, are at most {VOLUME_NAME_MAX} characters (they become LVM and brick names) and are not one of: {}",
        RESERVED_VOLUME_NAMES.join(", ")
    )
}

/// A POSIX user name for ssh.
pub(crate) fn ssh_user(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 32
        && u.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A DNS name: dot-separated labels of letters, digits and inner `-`.
pub(crate) fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Finding #12: a name made only of numeric labels (`167772161`, `10.0.1`, `0x0a.0.0.1`,
/// `010.0.0.1`) is not a DNS name but an alias the resolver (`inet_aton`) reads as an
/// IPv4 address, so two spellings could be one host. Returns the dotted quad it means,
/// or `Err(())` when numeric but out of range; `None` when not numeric.
pub(crate) fn numeric_ipv4_alias(s: &str) -> Option<Result<std::net::Ipv4Addr, ()>> {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = s.trim_end_matches('.').split('.').collect();
    let numeric = |l: &str| {
        let hex = l.strip_prefix("0x").or_else(|| l.strip_prefix("0X"));
        match hex {
            Some(h) => h.chars().all(|c| c.is_ascii_hexdigit()),
            None => !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()),
        }
    };
    if !labels.iter().all(|l| numeric(l)) {
        return None;
    }
    let value = |l: &str| -> Option<u64> {
        if let Some(h) = l.strip_prefix("0x").or_else(|| l.strip_prefix("0X")) {
            if h.is_empty() {
                Some(0)
            } else {
                u64::from_str_radix(h, 16).ok()
            }
        } else if l.len() > 1 && l.starts_with('0') {
            u64::from_str_radix(&l[1..], 8).ok()
        } else {
            l.parse().ok()
        }
    };
    let parse = || -> Option<std::net::Ipv4Addr> {
        if labels.len() > 4 {
            return None;
        }
        let vals: Vec<u64> = labels.iter().map(|l| value(l)).collect::<Option<_>>()?;
        let (last, head) = vals.split_last()?;
        let mut n: u64 = 0;
        for v in head {
            if *v > 255 {
                return None;
            }
            n = (n << 8) | v;
        }
        let rest_bits = 8 * (4 - head.len() as u32);
        if *last >= 1u64 << rest_bits {
            return None;
        }
        n = (n << rest_bits) | last;
        u32::try_from(n).ok().map(std::net::Ipv4Addr::from)
    };
    Some(parse().ok_or(()))
}

/// The key two addresses are compared by: IP literals in canonical form (so `::1` and
/// `0:0:0:0:0:0:0:1`, or `::ffff:10.0.0.1` and `10.0.0.1`, are one), names in lower case
/// without a trailing dot.
pub(crate) fn address_key(s: &str) -> String {
    match s.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_canonical().to_string(),
        Err(_) => s.trim_end_matches('.').to_ascii_lowercase(),
    }
}

/// Why a path is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathError {
    /// A character outside [`is_path_char`].
    BadChar(char),
    /// Relative, or with `.`, `..` or empty components.
    NotNormal,
    /// A device outside `/dev/`.
    NotUnderDev,
    /// A device whose VG name ([`vg_name`]) would exceed [`LVM_NAME_MAX`].
    VgNameTooLong,
    /// A directory brick inside a [`SYSTEM_DIRS`] entry.
    SystemDir,
    /// A directory brick base with fewer than two components (`/var`, `/home`, `/srv`):
    /// a top-level directory is never a dedicated brick filesystem.
    TooShallow,
    /// `/dev/` itself or a [`NOT_BLOCK_DEVICES`] entry.
    NotABlockDevice,
}

/// The characters a path may carry: no shell metacharacters, no whitespace.
pub(crate) fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | '+' | '@')
}

pub(crate) fn path_chars(path: &str) -> Result<(), PathError> {
    match path.chars().find(|c| !is_path_char(*c)) {
        Some(c) => Err(PathError::BadChar(c)),
        None => Ok(()),
    }
}

/// Absolute, normalised (no `.`/`..`/empty components; one trailing `/` allowed) and
/// made of safe characters.
pub(crate) fn abs_path(path: &str) -> Result<(), PathError> {
    path_chars(path)?;
    let comps: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let normal = path.starts_with('/')
        && !comps.is_empty()
        && comps
            .iter()
            .all(|c| !c.is_empty() && *c != "." && *c != "..");
    if normal {
        Ok(())
    } else {
        Err(PathError::NotNormal)
    }
}

/// A declared block device: a safe absolute path under `/dev/` whose VG name fits LVM.
pub(crate) fn device_path(path: &str) -> Result<(), PathError> {
    abs_path(path)?;
    if !path.starts_with("/dev/") {
        return Err(PathError::NotUnderDev);
    }
    let trimmed = path.trim_end_matches('/');
    let pseudo = NOT_BLOCK_DEVICES
        .iter()
        .any(|p| trimmed == *p || trimmed.starts_with(&format!("{p}/")));
    if trimmed == "/dev" || pseudo || trimmed.starts_with("/dev/tty") {
        return Err(PathError::NotABlockDevice);
    }
    if vg_name(path).len() > LVM_NAME_MAX {
        return Err(PathError::VgNameTooLong);
    }
    Ok(())
}

/// A declared directory for directory bricks: a safe absolute path outside the system
/// directories.
pub(crate) fn dir_path(path: &str) -> Result<(), PathError> {
    abs_path(path)?;
    let system = SYSTEM_DIRS
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if system {
        return Err(PathError::SystemDir);
    }
    if path
        .trim_end_matches('/')
        .split('/')
        .filter(|c| !c.is_empty())
        .count()
        < 2
    {
        return Err(PathError::TooShallow);
    }
    Ok(())
}

/// Characters that can rewrite, reorder or hide what a terminal shows (review finding
/// #13): control characters (C0, DEL and C1, which includes U+0085 NEXT LINE), the bidi
/// controls (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069) and the line and paragraph
/// separators U+2028/U+2029. `char::is_control` misses all but the first group. Config
/// text values refuse them; every human render escapes them (`render::escape`).
pub(crate) fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// A character as named in a message.
pub(crate) fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        '\n' => "a newline".to_string(),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        c if is_unsafe_char(c) => format!(
            "an invisible bidi control or line separator (U+{:04X})",
            c as u32
        ),
        c if "$`;|&<>()\\\"'*?![]{}~#".contains(c) => format!("the shell metacharacter `{c}`"),
        c => format!("the character `{c}`"),
    }
}

// ---- names brickyard derives (see docs/placement.md, "Names and markers") ----

/// A name safe in LVM names, tags and paths: `[A-Za-z0-9_+.-]`, not starting with `-`.
pub(crate) fn lvm_safe(s: &str) -> String {
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
pub(crate) fn vg_name(device: &str) -> String {
    let short = device.strip_prefix("/dev/").unwrap_or(device);
    format!("by_{}", lvm_safe(short.trim_start_matches('/')))
}

/// Thin pool of one brick.
pub(crate) fn pool_name(volume: &str, set: u32, pos: u32) -> String {
    format!("tp_{}_{set}_{pos}", lvm_safe(volume))
}

/// Thin LV of one brick.
pub(crate) fn lv_name(volume: &str, set: u32, pos: u32) -> String {
    format!("brick_{}_{set}_{pos}", lvm_safe(volume))
}

pub(crate) fn lv_device(vg: &str, lv: &str) -> String {
    format!("/dev/{vg}/{lv}")
}

pub(crate) fn mount_path(vg: &str, lv: &str) -> String {
    format!("{MOUNT_ROOT}/{vg}/{lv}")
}

/// The brick directory inside an LVM brick's filesystem.
pub(crate) fn lvm_brick_dir(vg: &str, lv: &str) -> String {
    format!("{}/brick", mount_path(vg, lv))
}

/// A VG, LV or pool name as LVM itself allows them (`[A-Za-z0-9+_.-]`, not starting with
/// `-`, not `.` or `..`, at most [`LVM_NAME_MAX`]): the names an adopted brick brings,
/// checked before they reach a command line.
pub(crate) fn is_lvm_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= LVM_NAME_MAX
        && !name.starts_with('-')
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+_.-".contains(c))
}

/// A directory brick under a declared path.
pub(crate) fn dir_brick_path(base: &str, volume: &str, set: u32, pos: u32) -> String {
    format!("{}/{volume}/s{set}p{pos}", base.trim_end_matches('/'))
}

/// [`dir_brick_path`] read back: `<base>/<volume>/s<set>p<pos>` exactly as it writes it.
pub(crate) fn dir_brick_identity(base: &str, path: &str) -> Option<(String, u32, u32)> {
    let rest = path.strip_prefix(base)?.strip_prefix('/')?;
    let (v, sp) = rest.split_once('/')?;
    let (s, p) = sp.strip_prefix('s')?.split_once('p')?;
    let (s, p) = (s.parse().ok()?, p.parse().ok()?);
    volume_name(v).ok()?;
    (dir_brick_path(base, v, s, p) == path).then(|| (v.to_string(), s, p))
}

/// `path` is strictly below the directory `base` (`/` when `base` is `/` or empty).
pub(crate) fn strictly_under(base: &str, path: &str) -> bool {
    path.strip_prefix(base.trim_end_matches('/'))
        .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_identity_reads_back_only_the_derived_path() {
        assert_eq!(
            dir_brick_identity("/bricks/d0", "/bricks/d0/gv/s1p2"),
            Some(("gv".into(), 1, 2))
        );
        for bad in [
            "/bricks/d0/gv/s1p2/x",
            "/bricks/d0/gv/s01p2",
            "/bricks/d1/gv/s1p2",
            "/bricks/d0gv/s1p2",
            "/bricks/d0/gv/x1p2",
        ] {
            assert_eq!(dir_brick_identity("/bricks/d0", bad), None, "{bad}");
        }
    }

    #[test]
    fn strictly_under_needs_a_path_component_below() {
        assert!(strictly_under("/bricks/d0", "/bricks/d0/hand"));
        assert!(strictly_under("/bricks/d0/", "/bricks/d0/hand"));
        assert!(strictly_under("/", "/srv"));
        for (base, path) in [
            ("/bricks/d0", "/bricks/d0"),
            ("/bricks/d0", "/bricks/d0/"),
            ("/bricks/d0", "/bricks/d01"),
            ("/bricks/d0/hand", "/bricks/d0"),
        ] {
            assert!(!strictly_under(base, path), "{base} {path}");
        }
    }

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
    fn refuses_unsafe_names_and_paths() {
        assert!(volume_name("gfs-1_a").is_ok());
        assert_eq!(volume_name("a b"), Err(NameError::BadChar(' ')));
        assert_eq!(volume_name("-x"), Err(NameError::StartsWithDash));
        assert_eq!(volume_name("gfs.1"), Err(NameError::BadChar('.')));
        assert!(device_path("/dev/disk/by-id/x:1").is_ok());
        assert_eq!(abs_path("/data/../etc"), Err(PathError::NotNormal));
        assert_eq!(abs_path("/data/$(x)"), Err(PathError::BadChar('$')));
        assert_eq!(abs_path("relative"), Err(PathError::NotNormal));
        assert_eq!(device_path("/srv/disk"), Err(PathError::NotUnderDev));
        assert_eq!(dir_path("/etc/bricks"), Err(PathError::SystemDir));
        assert!(dir_path("/bricks/d0/").is_ok());
    }

    /// Every name a valid volume name derives fits LVM: at most 127 characters, the LVM
    /// charset, and none of LVM's reserved sub-strings, even with the largest set and
    /// position numbers and the pool's `_tmeta`/`_tdata` internal LVs.
    #[test]
    fn a_valid_volume_name_gives_valid_lvm_names() {
        let longest = "v".repeat(VOLUME_NAME_MAX);
        assert!(volume_name(&longest).is_ok());
        for lv in [
            lv_name(&longest, u32::MAX, u32::MAX),
            format!("{}_tmeta", pool_name(&longest, u32::MAX, u32::MAX)),
        ] {
            assert!(lv.len() <= LVM_NAME_MAX, "{lv}");
        }
        for bad in [
            "tdata",
            "tdatax",
            "x_tmeta",
            "a_rimage_b",
            "cpool",
            "x_vorigin",
        ] {
            assert!(
                matches!(volume_name(bad), Err(NameError::LvmReserved(_))),
                "{bad}"
            );
        }
        for ok in ["xtdata", "xtmeta", "data", "brick"] {
            assert!(volume_name(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn volume_name_length_boundary() {
        for (len, ok) in [
            (63, true),
            (64, true),
            (65, false),
            (70, false),
            (256, false),
        ] {
            let name = "a".repeat(len);
            assert_eq!(volume_name(&name).is_ok(), ok, "{len}");
        }
        assert_eq!(
            volume_name(&"a".repeat(65)),
            Err(NameError::TooLong(VOLUME_NAME_MAX))
        );
    }

    #[test]
    fn a_device_path_longer_than_lvm_allows_is_refused() {
        // `by_` + the path without `/dev/`: 127 characters is the last one LVM takes
        let fits = format!("/dev/{}", "d".repeat(LVM_NAME_MAX - 3));
        assert!(device_path(&fits).is_ok());
        let over = format!("/dev/{}", "d".repeat(LVM_NAME_MAX - 2));
        assert_eq!(device_path(&over), Err(PathError::VgNameTooLong));
    }

    #[test]
    fn safe_names_and_hosts() {
        assert!(node_name("gfs1.a-b_c").is_ok());
        assert_eq!(node_name("_x"), Err(NameError::FirstNotAlnum));
        assert_eq!(cluster_name(&"c".repeat(64)), Err(NameError::TooLong(63)));
        assert_eq!(tag("a;b"), Err(NameError::BadChar(';')));
        assert!(is_hostname("gfs1.example.com"));
        assert!(!is_hostname("-oProxyCommand=x"));
        assert!(ssh_user("_svc-1"));
        assert!(!ssh_user("1root"));
    }
}
