//! Tier N (namespace nodes, directory bricks): `brickyard apply` on real sshd + glusterd.
//! Every test starts by resetting the nodes to empty (no volumes, no peers, no brick
//! directories, no apply lock) and leaves them empty, so lab tests can run in any order.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::lab::{Lab, Tier, host_ok, kill_with_children, watch_stderr};
use crate::env_n::{Env, assert_files, wait_online, write_files};

const V1: &str = "
  rep:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
    options: { performance.cache-size: 64MB }
  dist:
    size: 1GiB
    durability: { type: none }
";

/// V1 with an option changed, a volume added and `dist` expanded to two bricks.
const V2: &str = "
  rep:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
    options: { performance.cache-size: 128MB }
  dist:
    size: 2GiB
    durability: { type: none }
  extra:
    size: 1GiB
    durability: { type: replicate, replica: 3 }
";

#[test]
fn converges_from_empty_changes_safely_and_deletes_only_when_allowed() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    env.config(V1);

    let se = env.apply_ok(&[]);
    assert!(
        se.contains("] volume.rep"),
        "progress names the volume: {se}"
    );
    assert_eq!(env.volumes(), vec!["dist", "rep"]);
    env.assert_no_changes();
    // A second apply finds nothing to do and says so.
    let (so, _) = env.by_code(0, &["apply", "--auto-approve"]);
    assert!(so.contains("No changes"), "{so}");

    let rep = env.mount("rep");
    let dist = env.mount("dist");
    let mut files = write_files(&rep, "rep");
    files.extend(write_files(&dist, "dist"));

    // The health gate holds back changes to a volume with an offline brick, and a brick
    // coming online between the plan shown and the re-plan under the lock makes the
    // plan stale: wait until the just-started bricks are online.
    wait_online(env.nodes()[0], "rep");
    wait_online(env.nodes()[0], "dist");
    env.config(V2);
    env.apply_ok(&[]);
    env.assert_no_changes();
    assert_eq!(env.volumes(), vec!["dist", "extra", "rep"]);
    let n1 = env.nodes()[0];
    let cache = n1.gluster(&["volume", "get", "rep", "performance.cache-size"]);
    assert!(cache.contains("128MB"), "{cache}");
    let info = n1.gluster(&["volume", "info", "dist"]);
    assert!(
        info.contains("Number of Bricks: 2"),
        "dist expanded to 2 bricks:\n{info}"
    );
    assert_files(&files);

    // The planner's health gate holds back changes to a volume with an offline brick; a
    // just-started volume's brick processes may take a moment to come online.
    let t0 = std::time::Instant::now();
    loop {
        let out = n1.run(&[
            "gluster",
            "--mode=script",
            "volume",
            "status",
            "extra",
            "detail",
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let online = text.lines().filter(|l| l.starts_with("Online")).count();
        if out.status.success()
            && online == 3
            && !text
                .lines()
                .any(|l| l.starts_with("Online") && l.trim_end().ends_with('N'))
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "bricks of extra never came online:\n{text}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // Drop `extra` from the config: a managed volume missing is a delete, blocked by default.
    env.config(&V2.replace(
        "  extra:\n    size: 1GiB\n    durability: { type: replicate, replica: 3 }\n",
        "",
    ));
    let (_, se) = env.by_code(1, &["apply", "--auto-approve"]);
    assert!(se.contains("blocked"), "{se}");
    assert!(
        env.volumes().contains(&"extra".to_string()),
        "not deleted without the flag"
    );
    let se = env.apply_ok(&["--allow-destroy"]);
    assert!(se.contains("volume.extra"), "{se}");
    assert_eq!(env.volumes(), vec!["dist", "rep"]);
    env.assert_no_changes();
    assert_files(&files);
}

/// Runs `apply --auto-approve` and SIGKILLs it after `n` steps reported done.
/// Returns the progress lines seen. Also kills the ssh ControlMasters it left behind.
fn kill_after(env: &Env, n: usize, config_args: &[&str]) -> Vec<String> {
    let mut args = vec!["apply", "--auto-approve", "--parallelism", "1"];
    args.extend_from_slice(config_args);
    let mut child = env
        .cmd(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn brickyard");
    let lines = watch_stderr(&mut child);
    let mut seen = Vec::new();
    let mut done = 0;
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(120)) {
        if line.contains(" ... done (") {
            done += 1;
        }
        seen.push(line);
        if done == n {
            break;
        }
    }
    assert_eq!(
        done,
        n,
        "expected {n} steps done before killing:\n{}",
        seen.join("\n")
    );
    kill_with_children(&mut child);
    seen
}

#[test]
fn killed_at_several_points_a_fresh_apply_converges_and_data_survives() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    for n in [1, 3, 5] {
        env.reset();
        env.config(V1);
        kill_after(&env, n, &[]);
        // The killed run's lock is left behind; its holder is provably a dead process of
        // this machine (pid and start time), so the next apply takes it over, says so,
        // and finishes the job.
        let se = env.apply_ok(&[]);
        assert!(
            se.contains("took over the lock") && se.contains("of this host"),
            "after kill at {n}: {se}"
        );
        env.assert_no_changes();
    }
    // Now with data on the volumes: kill the V2 apply mid-way, finish it, check the data.
    let rep = env.mount("rep");
    let dist = env.mount("dist");
    let mut files = write_files(&rep, "rep");
    files.extend(write_files(&dist, "dist"));
    env.config(V2);
    kill_after(&env, 3, &[]);
    env.by_code(0, &["unlock"]);
    env.apply_ok(&[]);
    env.assert_no_changes();
    assert_files(&files);
}

#[test]
fn a_concurrent_apply_is_refused_naming_the_holder() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let mut first = env
        .cmd(&["apply", "--auto-approve", "--parallelism", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = watch_stderr(&mut first);
    let pid = first.id().to_string();
    // Once a step is done the first apply holds every lock; freeze it there.
    loop {
        let l = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("progress");
        if l.contains(" ... done (") {
            break;
        }
    }
    host_ok(&["kill", "-STOP", &pid]);
    let (_, se) = env.by_code(1, &["apply", "--auto-approve"]);
    host_ok(&["kill", "-CONT", &pid]);
    assert!(se.contains("locked by another apply"), "{se}");
    assert!(
        se.contains(&format!("pid {pid}")),
        "names the holder's pid: {se}"
    );
    assert!(!se.contains("STALE"), "a live holder is not stale: {se}");
    let status = first.wait().expect("first apply ends");
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(
        status.success(),
        "first apply finished fine:\n{}",
        rest.join("\n")
    );
    env.assert_no_changes();
}

#[test]
fn a_saved_plan_is_applied_only_while_current() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let plan = env.dir.path().join("plan.json");
    let plan_s = plan.display().to_string();
    env.by_code(0, &["plan", "-o", &plan_s]);
    // Someone changes the cluster behind the plan's back.
    let n1 = env.nodes()[0];
    let n2 = env.nodes()[1];
    n1.gluster(&["peer", "probe", &n2.address]);
    let (_, se) = env.by_code(1, &["apply", &plan_s]);
    assert!(se.contains("stale"), "{se}");
    assert!(
        se.contains("peer.n2") || se.contains("n2"),
        "names what changed: {se}"
    );
    assert!(env.volumes().is_empty(), "nothing was changed");

    // A fresh plan file applies without a prompt (no terminal, no --auto-approve).
    env.by_code(0, &["plan", "-o", &plan_s]);
    let (_, se) = env.by_code(0, &["apply", &plan_s]);
    assert!(se.contains("Apply complete."), "{se}");
    env.assert_no_changes();

    // A plan made for another config is refused.
    env.by_code(0, &["plan", "-o", &plan_s]);
    env.config(V2);
    let (_, se) = env.by_code(1, &["apply", &plan_s]);
    assert!(se.contains("configuration changed"), "{se}");
}

#[test]
fn without_a_terminal_and_without_auto_approve_nothing_changes() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let (_, se) = env.by_code(1, &["apply"]);
    assert!(se.contains("--auto-approve"), "{se}");
    assert!(env.volumes().is_empty());
    for n in env.nodes() {
        let pool = n.gluster(&["pool", "list"]);
        assert_eq!(
            pool.lines().count(),
            2,
            "{}: no peers probed\n{pool}",
            n.name
        );
    }
}

/// Kills every sshd of a node (listener and sessions) and restarts the listener on drop.
struct SshdDown {
    ns: String,
    state_dir: PathBuf,
}

impl SshdDown {
    fn pids(&self, comm: &str) -> Vec<String> {
        let out = host_ok(&["ip", "netns", "pids", &self.ns]);
        out.lines()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == comm)
            })
            .map(String::from)
            .collect()
    }

    fn take_down(ns: String, state_dir: PathBuf) -> SshdDown {
        let d = SshdDown { ns, state_dir };
        for p in d.pids("sshd") {
            let _ = Command::new("kill").args(["-KILL", &p]).output();
        }
        d
    }
}

impl Drop for SshdDown {
    fn drop(&mut self) {
        let Some(anchor) = self.pids("glusterd").into_iter().next() else {
            return;
        };
        let log = self.state_dir.join("sshd.log");
        let _ = Command::new("nsenter")
            .args([
                "-t",
                &anchor,
                "-n",
                "-m",
                "-u",
                "--",
                "/usr/sbin/sshd",
                "-f",
                "/etc/ssh/sshd_config",
                "-E",
            ])
            .arg(log)
            .output();
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_node_lost_mid_apply_is_reported_and_independent_work_is_done() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let env = Env::new(lab);
    env.config(V1);
    let n3 = env.nodes()[2].clone();
    let mut run = env
        .cmd(&["apply", "--auto-approve", "--parallelism", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = watch_stderr(&mut run);
    let pid = run.id().to_string();
    loop {
        let l = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("progress");
        if l.contains(" ... done (") {
            break;
        }
    }
    host_ok(&["kill", "-STOP", &pid]);
    let down = SshdDown::take_down(
        format!("bylab{}-{}", env.lab.id, n3.name),
        n3.state_dir.clone(),
    );
    host_ok(&["kill", "-CONT", &pid]);
    let status = run.wait().expect("apply ends");
    let rest: Vec<String> = lines.iter().collect();
    let text = rest.join("\n");
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("[n3]") && l.contains("FAILED")),
        "n3's step is reported failed:\n{text}"
    );
    assert!(
        rest.iter()
            .any(|l| (l.starts_with("[n1]") || l.starts_with("[n2]")) && l.contains(" ... done (")),
        "work on the other nodes went on:\n{text}"
    );
    assert!(text.contains("Apply summary:"), "{text}");
    drop(down);
    // n3 is back: a fresh apply finishes the job.
    env.by_code(0, &["unlock"]);
    env.apply_ok(&[]);
    env.assert_no_changes();
}

/// Six volumes of 1 GiB, each with `performance.cache-size` set to `cache`; `six1` with
/// `state: stopped` when `stop_one`.
fn six_volumes(cache: &str, stop_one: bool) -> String {
    (1..=6)
        .map(|i| {
            let state = if stop_one && i == 1 { "\n    state: stopped" } else { "" };
            format!(
                "\n  six{i}:\n    size: 1GiB\n    durability: {{ type: replicate, replica: 3 }}\n    options: {{ performance.cache-size: {cache} }}{state}"
            )
        })
        .collect::<String>()
        + "\n"
}

fn status(env: &Env, vol: &str) -> String {
    let info = env.nodes()[0].gluster(&["volume", "info", vol]);
    info.lines()
        .find_map(|l| l.strip_prefix("Status: "))
        .unwrap_or_default()
        .to_string()
}

/// An unasked apply of several new volumes, then of an option change on each, checks
/// their gluster steps by one read of every node after the run (docs/apply.md, "Checked
/// after the run"), and the result is what the config says. Then a volume declared
/// `state: stopped` is stopped, and started again when the declaration goes, with its
/// data as it was.
#[test]
fn many_gluster_changes_are_checked_by_one_read_after_the_run() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    env.config(&six_volumes("64MB", false));
    let se = env.apply_ok(&[]);
    assert!(
        se.contains("Checking the effect of 6 step(s) by reading the nodes again"),
        "{se}"
    );
    for i in 1..=6 {
        assert_eq!(status(&env, &format!("six{i}")), "Started");
    }
    env.assert_no_changes();

    env.config(&six_volumes("128MB", false));
    let se = env.apply_ok(&[]);
    assert!(
        se.contains("Checking the effect of 6 step(s) by reading the nodes again"),
        "{se}"
    );
    let n1 = env.nodes()[0];
    for i in 1..=6 {
        let v = format!("six{i}");
        let got = n1.gluster(&["volume", "get", &v, "performance.cache-size"]);
        assert!(got.contains("128MB"), "{v}: {got}");
    }
    env.assert_no_changes();

    // declared stopped: stopped, the data kept; declared present again: started
    let mnt = env.mount("six1");
    let files = write_files(&mnt, "six1");
    let _ = Command::new("umount").arg(&mnt).output();
    wait_online(env.nodes()[0], "six1");
    env.config(&six_volumes("128MB", true));
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode"]);
    assert!(so.contains("stop volume six1"), "{so}");
    let se = env.apply_ok(&[]);
    assert!(se.contains("volume.six1"), "{se}");
    assert_eq!(status(&env, "six1"), "Stopped");
    assert_eq!(status(&env, "six2"), "Started");
    env.assert_no_changes();
    env.config(&six_volumes("128MB", false));
    env.apply_ok(&[]);
    assert_eq!(status(&env, "six1"), "Started");
    env.assert_no_changes();
    let mnt = env.mount("six1");
    assert!(mnt.exists());
    assert_files(&files);
}
