//! Every gluster command line the planner emits, and the read-only check that proves
//! it took effect, built in one place: the words gluster expects (layout arguments,
//! `force` last, `--mode=script`) are spelled once, and a pass only says *what* it wants
//! (create this volume with these bricks, set this option) and never *how* gluster
//! spells it. User values travel as positional arguments of `sh -c`, never in the script.

use crate::config::{Durability, Rebalance};

use super::builder::{argv, fresh_guard, guard, sh};
use super::model::Guard;

/// Why gluster would not read `key` as the plain option key it looks like, if it would
/// not. gluster's CLI (`parse_cmdline`, glusterfs cli/src/cli.c) takes every argv word
/// that starts with `--` as an option of its own (`--log-file=`, `--remote-host=`,
/// `--glusterd-sock=`), wherever the word stands, and brickyard does not rely on a `--`
/// ending that scan; `volume reset <v> all` resets every option (our markers, auth,
/// ssl) and `force` is a keyword there. So a key must look like a gluster option key
/// (the same rule config validation applies): letters, digits, `.`, `-`, `_`, starting
/// with a letter or digit. Keys recorded on a node (`user.brickyard.options`) are node
/// data, not config, and go through this too (review finding #6).
pub(crate) fn unsafe_key(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("is empty");
    }
    if key.len() > 128 {
        return Some("is longer than 128 characters");
    }
    if key.starts_with('-') {
        return Some("starts with `-`, which gluster reads as an option of its own");
    }
    if ["all", "force"].iter().any(|w| key.eq_ignore_ascii_case(w)) {
        return Some("is a gluster keyword (`volume reset <v> all` resets every option)");
    }
    let first_ok = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let chars_ok = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !first_ok || !chars_ok {
        return Some("is not a plain gluster option key (letters, digits, `.`, `-`, `_`)");
    }
    None
}

/// Why gluster would not take `value` as a plain option value, if it would not: a word
/// starting with `-` may be read as a CLI option (see [`unsafe_key`]). A negative whole
/// number (`storage.owner-uid -1`) cannot start with `--` and stays allowed (finding #6).
pub(crate) fn unsafe_value(value: &str) -> Option<&'static str> {
    let negative_number = value
        .strip_prefix('-')
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
    (value.starts_with('-') && !negative_number)
        .then_some("starts with `-`, which gluster reads as an option of its own")
}

/// One gluster command and its guard (description, read-only check argv).
pub(crate) struct GlusterCmd {
    pub(crate) argv: Vec<String>,
    pub(crate) guard: Guard,
}

fn gluster(words: &[&str]) -> Vec<String> {
    let mut v = argv(&["gluster", "--mode=script"]);
    v.extend(argv(words));
    v
}

/// Exits 0 when volume `$1` is started.
const STARTED: &str = "gluster --mode=script volume info \"$1\" | grep -qx 'Status: Started'";

/// The layout in words, for descriptions and messages (`replica 3 arbiter 1`).
pub(crate) fn layout(d: &Durability) -> String {
    match *d {
        Durability::None => "distribute".into(),
        Durability::Replicate {
            replica,
            arbiter: false,
        } => format!("replica {replica}"),
        Durability::Replicate {
            replica,
            arbiter: true,
        } => format!("replica {replica} arbiter 1"),
        Durability::Disperse { data, redundancy } => format!("disperse {data}+{redundancy}"),
    }
}

/// The durability an existing volume has, in the config's terms; None for a layout the
/// config cannot declare (a count beyond 255).
pub(crate) fn live_durability(vf: &crate::gather::VolumeFacts) -> Option<Durability> {
    let small = |n: u32| u8::try_from(n).ok();
    if vf.disperse_count > 0 {
        Some(Durability::Disperse {
            data: small(vf.disperse_count.saturating_sub(vf.redundancy_count))?,
            redundancy: small(vf.redundancy_count)?,
        })
    } else if vf.replica_count > 1 {
        Some(Durability::Replicate {
            replica: small(vf.replica_count)?,
            arbiter: vf.arbiter_count > 0,
        })
    } else {
        Some(Durability::None)
    }
}

/// The layout as `gluster volume create` arguments.
fn layout_args(d: &Durability) -> Vec<String> {
    match *d {
        Durability::None => vec![],
        Durability::Replicate { replica, arbiter } => {
            let mut v = argv(&["replica", &replica.to_string()]);
            if arbiter {
                v.extend(argv(&["arbiter", "1"]));
            }
            v
        }
        Durability::Disperse { data, redundancy } => argv(&[
            "disperse-data",
            &data.to_string(),
            "redundancy",
            &redundancy.to_string(),
        ]),
    }
}

/// A brick for `volume create` / `add-brick`: `host:/path`, and whether it sits on the
/// root filesystem (gluster then refuses it without a trailing `force`).
pub(crate) struct BrickArg {
    pub(crate) name: String,
    pub(crate) on_root_fs: bool,
}

fn push_bricks(cmd: &mut Vec<String>, bricks: &[BrickArg]) {
    cmd.extend(bricks.iter().map(|b| b.name.clone()));
    if bricks.iter().any(|b| b.on_root_fs) {
        // gluster refuses bricks on the root filesystem without `force`
        cmd.push("force".into());
    }
}

pub(crate) fn volume_create(name: &str, d: &Durability, bricks: &[BrickArg]) -> GlusterCmd {
    let mut cmd = gluster(&["volume", "create", name]);
    cmd.extend(layout_args(d));
    push_bricks(&mut cmd, bricks);
    GlusterCmd {
        argv: cmd,
        guard: fresh_guard("volume info finds it", gluster(&["volume", "info", name])),
    }
}

/// `add-brick` of whole new sets; the guard looks for the last new brick.
pub(crate) fn volume_add_brick(name: &str, bricks: &[BrickArg]) -> GlusterCmd {
    let mut cmd = gluster(&["volume", "add-brick", name]);
    push_bricks(&mut cmd, bricks);
    let last = bricks.last().map(|b| b.name.as_str()).unwrap_or_default();
    GlusterCmd {
        argv: cmd,
        guard: fresh_guard(
            "volume info lists the last new brick",
            sh(
                "gluster --mode=script volume info \"$1\" | awk -v b=\"$2\" '$2==b {f=1} END {exit !f}'",
                &[name, last],
            ),
        ),
    }
}

/// Swap brick `old` of a volume for `new` (same set and position). `commit force` is the
/// only form gluster still has; the new brick starts empty and self-heal fills it from
/// the set's other bricks, so the caller waits for the heal before touching `old`.
pub(crate) fn volume_replace_brick(name: &str, old: &str, new: &BrickArg) -> GlusterCmd {
    GlusterCmd {
        argv: gluster(&[
            "volume",
            "replace-brick",
            name,
            old,
            &new.name,
            "commit",
            "force",
        ]),
        guard: fresh_guard(
            "volume info lists the new brick",
            sh(
                "gluster --mode=script volume info \"$1\" | awk -v b=\"$2\" '$2==b {f=1} END {exit !f}'",
                &[name, &new.name],
            ),
        ),
    }
}

/// Take brick `b` back under the same name, as a new empty brick: `reset-brick ... commit
/// force` (no `start` first: the brick is already down). gluster marks the set's other
/// bricks as the source of a heal onto it (measured on the lab: a wiped brick of a
/// replica-3 volume held every file again after the heal). The check: `volume status`
/// of the brick says online, asked for up to 15 s while its process starts.
pub(crate) fn volume_reset_brick(name: &str, b: &BrickArg) -> GlusterCmd {
    GlusterCmd {
        argv: gluster(&[
            "volume",
            "reset-brick",
            name,
            &b.name,
            &b.name,
            "commit",
            "force",
        ]),
        guard: fresh_guard(
            "volume status says the brick is online",
            sh(
                "i=0; while :; do gluster --mode=script --xml volume status \"$1\" \"$2\" 2>/dev/null | grep -q '<status>1</status>' && exit 0; i=$((i + 1)); [ \"$i\" -lt 15 ] || exit 1; sleep 1; done",
                &[name, &b.name],
            ),
        ),
    }
}

/// `heal info summary` says every brick is connected with 0 entries (an `awk` over its
/// text: one `Brick` block per brick, each with `Status:` and `Total Number of entries:`).
const HEALED: &str = "gluster --mode=script volume heal \"$1\" info summary 2>/dev/null | awk '/^Brick /{b++} /^Status: Connected$/{c++} /^Total Number of entries: 0$/{z++} END {exit !(b > 0 && b == c && b == z)}'";

/// Wait until self-heal has copied everything to every brick of the volume: polls `heal
/// info summary` every 5 s, printing the pending count on stderr (the apply's progress),
/// and fails after `timeout_s` seconds, naming what is still pending. Started again by
/// the next apply (the guard skips it once healed), so a long heal spans applies. It
/// stops when the process that started it is gone (a killed apply's SSH session), so a
/// killed apply leaves no loop behind.
pub(crate) fn volume_heal_wait(name: &str, timeout_s: u64) -> GlusterCmd {
    let t = timeout_s.to_string();
    GlusterCmd {
        argv: sh(
            &format!(
                "s=0; p=$PPID; gluster --mode=script volume heal \"$1\" >/dev/null 2>&1; while :; do {HEALED} && exit 0; kill -0 \"$p\" 2>/dev/null || exit 1; n=$(gluster --mode=script volume heal \"$1\" info summary 2>&1 | awk -F': ' '/^Total Number of entries:/ {{ if ($2 ~ /^[0-9]+$/) n += $2; else u++ }} END {{ printf \"%d entries pending%s\", n, (u ? \", \" u \" brick(s) not connected\" : \"\") }}'); [ \"$s\" -lt \"$2\" ] || {{ echo \"volume $1 has not healed after $2 s: $n\" >&2; exit 1; }}; echo \"heal of $1: $n\" >&2; sleep 5; s=$((s + 5)); done"
            ),
            &[name, &t],
        ),
        guard: guard(
            "heal info summary shows 0 entries on every brick, all connected",
            sh(HEALED, &[name]),
        ),
    }
}

/// Start the rebalance an expand needs: `fix-layout start` (directory layouts only) or
/// `start` (files too). The check reads `rebalance status --xml`: done when a task other
/// than `previous` (the one the facts showed, which a second expand must not take for its
/// own) is in progress or completed. "Not started", or the previous task, is not done at
/// once; anything else is the moment right after `start` (node lines not up yet, or
/// glusterd still holding the volume's transaction lock: seen as a failed verify on a
/// loaded lab), so the check asks again, for at most 15 s.
pub(crate) fn volume_rebalance_start(
    name: &str,
    mode: Rebalance,
    previous: Option<&str>,
) -> GlusterCmd {
    let argv = match mode {
        Rebalance::FixLayout => gluster(&["volume", "rebalance", name, "fix-layout", "start"]),
        Rebalance::Full => gluster(&["volume", "rebalance", name, "start"]),
    };
    GlusterCmd {
        argv,
        guard: guard(
            "a new rebalance is running or completed",
            sh(
                &format!(
                    "i=0; while :; do o=$(gluster --mode=script --xml volume rebalance \"$1\" status 2>&1); case $o in *'not started'*) exit 1 ;; esac; {XML_ID} {XML_AGG} if [ -n \"$id\" ]; then [ \"$id\" != \"$2\" ] || exit 1; case $st in *'in progress' | *completed) exit 0 ;; esac; fi; i=$((i + 1)); [ \"$i\" -lt 15 ] || exit 1; sleep 1; done"
                ),
                &[name, previous.unwrap_or("")],
            ),
        ),
    }
}

/// From task status XML in `$o`: `$id`, the task id.
const XML_ID: &str =
    "id=$(printf '%s\\n' \"$o\" | sed -n 's:.*<task-id>\\(.*\\)</task-id>.*:\\1:p');";
/// From task status XML in `$o`: the `<aggregate>` counts as `$st` (status words),
/// `$nf` (files moved), `$sz` (their bytes), `$fl` (failures), `$sk` (skipped).
const XML_AGG: &str = "a=$(printf '%s\\n' \"$o\" | sed -n '/<aggregate>/,/<\\/aggregate>/p'); x() { printf '%s\\n' \"$a\" | sed -n \"s:.*<$1>\\\\(.*\\\\)</$1>.*:\\\\1:p\"; }; st=$(x statusStr); nf=$(x files); sz=$(x size); fl=$(x failures); sk=$(x skipped);";

/// `remove-brick VOL BRICKS status --xml` into `$o` and its counts (`XML_AGG`), with the
/// volume and the bricks as `"$@"`.
fn remove_status() -> String {
    format!("o=$(gluster --mode=script --xml volume remove-brick \"$@\" status 2>&1); {XML_AGG}")
}

/// Done: the remove-brick of these bricks moved every file (completed, 0 failures, 0 skipped).
fn remove_done() -> String {
    format!(
        "{} [ \"$st\" = completed ] && [ \"$fl\" = 0 ] && [ \"$sk\" = 0 ]",
        remove_status()
    )
}

fn with_bricks<'a>(name: &'a str, bricks: &'a [String]) -> Vec<&'a str> {
    std::iter::once(name)
        .chain(bricks.iter().map(String::as_str))
        .collect()
}

/// Start moving the files of `bricks` (whole sets) onto the volume's other bricks.
pub(crate) fn remove_brick_start(name: &str, bricks: &[String]) -> GlusterCmd {
    let mut argv = gluster(&["volume", "remove-brick", name]);
    argv.extend(bricks.iter().cloned());
    argv.push("start".into());
    GlusterCmd {
        argv,
        guard: fresh_guard(
            "remove-brick status of the bricks says in progress or completed",
            sh(
                &format!(
                    "{} case $st in 'in progress' | completed) exit 0 ;; esac; exit 1",
                    remove_status()
                ),
                &with_bricks(name, bricks),
            ),
        ),
    }
}

/// Wait until the remove-brick of `bricks` has moved every file: polls its status every
/// 5 s, printing the counts on stderr (the apply's progress). Fails at once on failures,
/// skipped files or a stopped or failed task (naming them and gluster's log), when the
/// status cannot be read for 30 s (one unreadable answer is glusterd busy with another
/// transaction, and is asked again), and after
/// `timeout_s` seconds while still in progress; the next apply waits again (the check
/// skips the wait once done), so a long migration spans applies. It stops when the
/// process that started it is gone, like the heal wait.
pub(crate) fn remove_brick_wait(name: &str, bricks: &[String], timeout_s: u64) -> GlusterCmd {
    let t = timeout_s.to_string();
    let mut args = vec![t.as_str()];
    args.extend(with_bricks(name, bricks));
    GlusterCmd {
        argv: sh(
            &format!(
                "s=0; u=0; p=$PPID; t=$1; shift; while :; do {} case $st in completed) [ \"$fl\" = 0 ] && [ \"$sk\" = 0 ] && exit 0; echo \"the remove-brick of $1 completed with $fl failure(s) and $sk skipped file(s): files are still on the bricks being removed (see /var/log/glusterfs/$1-rebalance.log on their nodes)\" >&2; exit 1 ;; 'in progress') u=0 ;; '') u=$((u + 1)); [ \"$u\" -lt 6 ] || {{ echo \"the remove-brick status of $1 could not be read for 30 s: $(printf '%s\\n' \"$o\" | head -n 3)\" >&2; exit 1; }} ;; *) echo \"the remove-brick of $1 is ${{st:-not readable}}, not in progress: $(printf '%s\\n' \"$o\" | sed -n 's:.*<opErrstr>\\(.*\\)</opErrstr>.*:\\1:p')\" >&2; exit 1 ;; esac; kill -0 \"$p\" 2>/dev/null || exit 1; [ \"$s\" -lt \"$t\" ] || {{ echo \"the remove-brick of $1 is still moving files after $t s ($nf moved so far): apply again to go on waiting\" >&2; exit 1; }}; echo \"remove-brick of $1: $nf files ($sz bytes) moved, $fl failures, $sk skipped\" >&2; sleep 5; s=$((s + 5)); done",
                remove_status()
            ),
            &args,
        ),
        guard: guard(
            "remove-brick status says completed, with 0 failures and 0 skipped",
            sh(&remove_done(), &with_bricks(name, bricks)),
        ),
    }
}

/// Take `bricks` out of the volume, once their files are moved: the first command checks
/// that again on the node (completed, 0 failures, 0 skipped) right before `commit`, so a
/// commit never drops a file that did not move. Never `force`.
pub(crate) fn remove_brick_commit(name: &str, bricks: &[String]) -> (Vec<Vec<String>>, Guard) {
    let check = sh(
        &format!(
            "{} || {{ echo \"the remove-brick of $1 has not moved every file (status ${{st:-not readable}}, $fl failure(s), $sk skipped): not committing\" >&2; exit 1; }}",
            remove_done()
        ),
        &with_bricks(name, bricks),
    );
    let mut commit = gluster(&["volume", "remove-brick", name]);
    commit.extend(bricks.iter().cloned());
    commit.push("commit".into());
    (
        vec![check, commit],
        fresh_guard(
            "volume info lists none of the bricks",
            sh(
                "v=$1; shift; o=$(gluster --mode=script volume info \"$v\") || exit 1; for b in \"$@\"; do printf '%s\\n' \"$o\" | awk -v b=\"$b\" '$2==b {f=1} END {exit !f}' && exit 1; done; exit 0",
                &with_bricks(name, bricks),
            ),
        ),
    )
}

/// Reads `volume info "$1"` once into `$o`, runs `also` on it (a further check, or
/// nothing), then checks the pairs after the volume name as the `key: value` lines it
/// must show: one gluster call for the whole check, not one per key.
fn options_set_check(also: &str) -> String {
    format!(
        "o=$(gluster --mode=script volume info \"$1\") || exit 1; {also}shift; while [ $# -gt 1 ]; do printf '%s\\n' \"$o\" | grep -qxF -- \"$1: $2\" || exit 1; shift 2; done"
    )
}

fn pairs_args<'a>(name: &'a str, pairs: &[(&'a str, &'a str)]) -> Vec<&'a str> {
    let mut args = vec![name];
    for (k, v) in pairs {
        args.push(k);
        args.push(v);
    }
    args
}

/// One `volume set` of every pair: glusterd validates each pair before it applies any
/// (gluster 10.3, measured on the lab), so a bad value sets nothing, and one call sets
/// them all. The check: `volume info` lists each as set.
pub(crate) fn volume_set(name: &str, pairs: &[(&str, &str)]) -> GlusterCmd {
    let args = pairs_args(name, pairs);
    let mut cmd = gluster(&["volume", "set"]);
    cmd.extend(args.iter().map(|a| a.to_string()));
    GlusterCmd {
        argv: cmd,
        guard: fresh_guard(
            "volume info lists every value as set",
            sh(&options_set_check(""), &args),
        ),
    }
}

/// A new volume in one step: `volume create`, one `volume set` of its markers and
/// options, and `volume start` unless it is declared stopped; the check (one `volume
/// info`) that it is started (or only created) with every value set. A kill between the
/// commands leaves a volume the next plan finishes from the facts (the markers' own
/// proof: docs/apply.md), so the step never needs to resume itself.
pub(crate) fn volume_build(
    name: &str,
    d: &Durability,
    bricks: &[BrickArg],
    pairs: &[(&str, &str)],
    start: bool,
) -> (Vec<Vec<String>>, Guard) {
    let args = pairs_args(name, pairs);
    let mut cmds = vec![
        volume_create(name, d, bricks).argv,
        volume_set(name, pairs).argv,
    ];
    let (status, word) = if start {
        cmds.push(volume_start(name).argv);
        ("Started", "Started")
    } else {
        ("Created", "created, not started,")
    };
    let check = fresh_guard(
        &format!("volume info says {word} and lists every value as set"),
        sh(
            &options_set_check(&format!(
                "printf '%s\\n' \"$o\" | grep -qx 'Status: {status}' || exit 1; "
            )),
            &args,
        ),
    );
    (cmds, check)
}

pub(crate) fn volume_reset(name: &str, key: &str) -> GlusterCmd {
    GlusterCmd {
        argv: gluster(&["volume", "reset", name, key]),
        guard: fresh_guard(
            "volume info no longer lists the option",
            sh(
                "! gluster --mode=script volume info \"$1\" | grep -qF -- \"$2: \"",
                &[name, key],
            ),
        ),
    }
}

pub(crate) fn volume_start(name: &str) -> GlusterCmd {
    GlusterCmd {
        argv: gluster(&["volume", "start", name]),
        guard: fresh_guard("volume info says Started", sh(STARTED, &[name])),
    }
}

pub(crate) fn volume_stop(name: &str) -> GlusterCmd {
    GlusterCmd {
        argv: gluster(&["volume", "stop", name]),
        guard: fresh_guard(
            "volume is not started",
            sh(&format!("! {STARTED}"), &[name]),
        ),
    }
}

pub(crate) fn volume_delete(name: &str) -> GlusterCmd {
    GlusterCmd {
        argv: gluster(&["volume", "delete", name]),
        guard: fresh_guard(
            "volume info no longer finds it",
            sh(
                "! gluster --mode=script volume info \"$1\" >/dev/null 2>&1",
                &[name],
            ),
        ),
    }
}

/// Probe a node into the trusted pool by its storage address.
/// `peer status` shows the peer as a full member: `Peer in Cluster (Connected)`. Right
/// after `peer probe` returns it is still `Accepted peer request` or `Probe Sent to
/// Peer` for a moment, and gluster refuses a brick on it then ("Host ... is not in 'Peer
/// in Cluster' state", seen on the lab: a replace-brick onto a just-probed node).
const PEER_IN_CLUSTER: &str = "gluster --mode=script peer status | awk -v h=\"$1\" '/^Hostname: /{m=($2==h)} m && /^State: Peer in Cluster \\(Connected\\)$/{f=1} END {exit !f}'";

/// `peer probe`, then a wait of up to 60 s until the peer is a full member
/// ([`PEER_IN_CLUSTER`]), so that the steps that put bricks on it can follow at once.
pub(crate) fn peer_probe(storage: &str) -> (Vec<Vec<String>>, Guard) {
    let wait = sh(
        &format!(
            "i=0; until {PEER_IN_CLUSTER}; do i=$((i + 1)); [ \"$i\" -lt 120 ] || {{ echo \"peer $1 is not in 'Peer in Cluster (Connected)' state after 60 s\" >&2; exit 1; }}; sleep 0.5; done"
        ),
        &[storage],
    );
    (
        vec![gluster(&["peer", "probe", storage]), wait],
        fresh_guard(
            "peer status shows the peer in the cluster, connected",
            sh(PEER_IN_CLUSTER, &[storage]),
        ),
    )
}

/// Takes a peer out of the trusted pool (gluster refuses while a brick is on it).
pub(crate) fn peer_detach(host: &str) -> GlusterCmd {
    GlusterCmd {
        argv: gluster(&["peer", "detach", host]),
        guard: fresh_guard(
            "pool list no longer shows the peer",
            sh(
                "! gluster --mode=script pool list | awk 'NR>1 {print $2}' | grep -qxF -- \"$1\"",
                &[host],
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brick(name: &str, on_root_fs: bool) -> BrickArg {
        BrickArg {
            name: name.into(),
            on_root_fs,
        }
    }

    #[test]
    fn create_spells_the_layout_and_puts_force_last() {
        let d = Durability::Replicate {
            replica: 3,
            arbiter: true,
        };
        let bricks = [
            brick("a:/x", false),
            brick("b:/x", true),
            brick("c:/x", false),
        ];
        let c = volume_create("gfs", &d, &bricks);
        assert_eq!(
            c.argv.join(" "),
            "gluster --mode=script volume create gfs replica 3 arbiter 1 a:/x b:/x c:/x force"
        );
        assert_eq!(layout(&d), "replica 3 arbiter 1");
    }

    #[test]
    fn add_brick_force_does_not_depend_on_the_volume_name() {
        let c = volume_add_brick("force", &[brick("a:/x", true), brick("b:/x", false)]);
        assert_eq!(
            c.argv.join(" "),
            "gluster --mode=script volume add-brick force a:/x b:/x force"
        );
        assert_eq!(c.guard.argv.last().map(String::as_str), Some("b:/x"));
        let plain = volume_add_brick("gfs", &[brick("a:/x", false)]);
        assert!(!plain.argv.iter().any(|a| a == "force"));
    }
}
