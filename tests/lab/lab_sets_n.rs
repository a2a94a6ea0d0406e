//! A volume's set count on real nodes (tier N), both ways: an expand by a set followed by
//! the full rebalance the config asks for (`rebalance: full`), which moves old files onto
//! the new set; then a shrink back to one set (`remove-brick` start, wait, commit, the
//! removed bricks checked empty and torn down), with the apply killed by SIGKILL while
//! gluster moves the files, and the next apply finishing the job. Every file written
//! through FUSE before reads back identical, and every plan after an apply says "No
//! changes".

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::lab::{Lab, Node, Tier, kill_with_children, wait_for};
use crate::env_n::{Env, assert_files, sha, wait_online, write_files};

fn vol(size: &str) -> String {
    format!(
        "\n  sv:\n    size: {size}\n    durability: {{ type: replicate, replica: 3 }}\n    rebalance: full\n"
    )
}

/// `n` small files: gluster moves files one by one, so many small ones make a migration
/// last long enough to be cut short.
fn small_files(dir: &Path, n: usize) -> Vec<(PathBuf, String)> {
    (0..n)
        .map(|i| {
            let data = format!("small file {i} of {:?}\n", Instant::now()).repeat(40);
            let p = dir.join(format!("small-{i}.txt"));
            std::fs::write(&p, &data).expect("write through FUSE");
            (p, sha(data.as_bytes()))
        })
        .collect()
}

/// Regular files with data in brick directory `dir` on `n`, outside `.glusterfs`.
fn data_files(n: &Node, dir: &str) -> usize {
    let out = n.run_ok(&[
        "sh",
        "-c",
        "find \"$1\" -path \"$1/.glusterfs\" -prune -o -type f -size +0c -print | wc -l",
        "sh",
        dir,
    ]);
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("count on {dir}: {out:?}"))
}

/// The bricks of volume sv, in gluster's order (sets are consecutive runs of three).
fn bricks(n1: &Node) -> Vec<String> {
    n1.gluster(&["volume", "info", "sv"])
        .lines()
        .filter(|l| l.starts_with("Brick") && l.contains(": "))
        .filter_map(|l| l.split_once(": ").map(|(_, b)| b.trim().to_string()))
        .collect()
}

#[test]
fn a_volume_grows_by_a_set_with_a_full_rebalance_and_shrinks_back_through_a_kill() {
    let Some(lab) = Lab::require(Tier::N) else {
        return;
    };
    let mut env = Env::new(lab);
    env.config(&vol("1GiB"));
    env.apply_ok(&[]);
    wait_online(env.nodes()[0], "sv");
    let mnt = env.mount("sv");
    let mut files = Vec::new();
    for tag in ["a", "b", "c", "d"] {
        files.extend(write_files(&mnt, tag));
    }
    let n1 = env.nodes()[0];
    assert_eq!(bricks(n1).len(), 3);

    // 1. expand by one set: add-brick, then a full rebalance (the config says so)
    env.config(&vol("2GiB"));
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode"]);
    for want in [
        "add 1 set(s) of 1 GiB bricks to sv",
        "start rebalancing sv: files move onto the new bricks",
        "gluster --mode=script volume rebalance sv start",
    ] {
        assert!(so.contains(want), "plan does not say {want:?}:\n{so}");
    }
    env.apply_ok(&[]);
    wait_for("the rebalance completed", Duration::from_secs(180), || {
        let st = n1.gluster(&["volume", "rebalance", "sv", "status"]);
        st.contains("completed") && !st.contains("in progress")
    });
    let after = bricks(n1);
    assert_eq!(after.len(), 6, "{after:?}");
    // a full rebalance moves old files: some of the 32 are now on the new set
    let new_set: Vec<&String> = after[3..].iter().collect();
    let moved: usize = new_set
        .iter()
        .map(|b| {
            let (host, dir) = b.split_once(':').expect("host:path");
            data_files(env.node_at(host), dir)
        })
        .sum();
    assert!(moved > 0, "the rebalance moved no file onto {new_set:?}");
    env.assert_no_changes();
    assert_files(&files);

    // 2. shrink back to one set; many small files, so gluster's move lasts a while
    files.extend(small_files(&mnt, 1000));
    env.config(&vol("1GiB"));
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode", "--allow-destroy"]);
    let removed: Vec<String> = after[3..].to_vec();
    for want in [
        format!("volume remove-brick sv {} start", removed.join(" ")),
        "wait until gluster has moved every file off set 1 of sv".to_string(),
        "take set 1 out of sv (remove-brick commit".to_string(),
        "files with data are still on removed brick".to_string(),
    ] {
        assert!(so.contains(&want), "plan does not say {want:?}:\n{so}");
    }
    // killed inside the wait, while gluster moves the files
    let mut child = env.run_until(
        &["apply", "--auto-approve", "--allow-destroy"],
        "the remove-brick start",
        |l| l.contains("remove-brick start") && l.contains("done"),
    );
    std::thread::sleep(Duration::from_secs(2));
    let status = n1.gluster(
        &["volume", "remove-brick", "sv"]
            .into_iter()
            .chain(removed.iter().map(String::as_str))
            .chain(["status"])
            .collect::<Vec<_>>(),
    );
    kill_with_children(&mut child);
    assert!(
        status.contains("in progress"),
        "gluster was not moving files when the apply was killed:\n{status}"
    );
    wait_for(
        "the remote remove-brick wait gone",
        Duration::from_secs(30),
        || {
            !n1.run_ok(&["ps", "-eo", "args"])
                .lines()
                .any(|l| l.contains("remove-brick") && l.contains("sh 3600 sv"))
        },
    );
    assert_eq!(bricks(n1).len(), 6, "committed by a killed apply");

    // the next apply follows gluster's move to its end, commits, tears the bricks down
    let (so, _) = env.by_code(2, &["plan", "--detailed-exitcode", "--allow-destroy"]);
    assert!(
        so.contains("wait until gluster has moved every file off set 1 of sv"),
        "{so}"
    );
    assert!(!so.contains("remove-brick start)"), "started again:\n{so}");
    assert!(!so.contains("[heal_pending]"), "{so}");
    let se = env.apply_ok(&["--allow-destroy"]);
    assert!(se.contains("took over the lock"), "{se}");
    assert_eq!(bricks(n1), after[..3].to_vec());
    for b in &removed {
        let (host, dir) = b.split_once(':').expect("host:path");
        let n = env
            .nodes()
            .into_iter()
            .find(|n| n.address == host)
            .expect("brick host is a lab node");
        assert!(
            !n.run(&["test", "-e", dir]).status.success(),
            "{b} is still there"
        );
    }
    env.assert_no_changes();
    assert_files(&files);
    let listed = std::fs::read_dir(&mnt).expect("list the mount").count();
    assert_eq!(listed, files.len(), "files on the volume");
}
