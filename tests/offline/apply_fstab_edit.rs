//! The fstab edit scripts (`plan::fstab`) run for real under /bin/sh on a file in a temp
//! directory, never on the host's /etc/fstab: a failing command (stubbed first in PATH)
//! leaves fstab byte-identical, the append never glues lines, mode and owner survive,
//! one backup is kept (trust review, finding 4).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use brickyard::plan::fstab::{
    add_line_at, has_line_at, lacks_line_at, remove_line_at, replace_line_at,
};

const OLD: &str = "UUID=1 / ext4 defaults 0 1\nUUID=2 /home ext4 defaults 0 2\n";
const LINE: &str = "/dev/by_sdb/brick_gfs_0_0 /var/lib/brickyard/mounts/by_sdb/brick_gfs_0_0 xfs rw,inode64,noatime,nouuid,x-brickyard.cluster=prod 0 0";

struct Tab {
    dir: tempfile::TempDir,
    stubs: PathBuf,
    /// /bin/sh is dash on Debian, bash on RHEL: the scripts must hold under both.
    shell: &'static str,
}

impl Tab {
    fn new(content: &str) -> Tab {
        let dir = tempfile::tempdir().expect("tempdir");
        let stubs = dir.path().join("stubs");
        fs::create_dir(&stubs).expect("stub dir");
        let etc = dir.path().join("etc");
        fs::create_dir(&etc).expect("etc dir");
        fs::write(etc.join("fstab"), content).expect("write fstab");
        Tab {
            dir,
            stubs,
            shell: "/bin/sh",
        }
    }
    fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }
    fn path(&self) -> PathBuf {
        self.etc().join("fstab")
    }
    fn p(&self) -> String {
        self.path().to_string_lossy().into_owned()
    }
    fn read(&self) -> String {
        fs::read_to_string(self.path()).expect("read fstab")
    }
    /// A command of that name, found before the real one in PATH.
    fn stub(&self, name: &str, body: &str) {
        let f = self.stubs.join(name);
        fs::write(&f, format!("#!/bin/sh\n{body}\n")).expect("write stub");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o755)).expect("chmod stub");
    }
    fn run(&self, argv: &[String]) -> Output {
        assert_eq!(argv[0], "sh");
        let path = format!(
            "{}:{}",
            self.stubs.display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
        );
        Command::new(self.shell)
            .args(&argv[1..])
            .env("PATH", path)
            .current_dir(self.dir.path())
            .output()
            .expect("run /bin/sh")
    }
    /// Every file next to fstab, sorted: shows leftover temp files and backups.
    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.etc())
            .expect("read etc")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

fn ok(o: &Output) -> bool {
    o.status.success()
}

fn real(cmd: &str) -> String {
    let o = Command::new("/bin/sh")
        .args(["-c", "command -v \"$1\"", "sh", cmd])
        .output()
        .expect("command -v");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn finding_4_failing_grep_leaves_fstab_byte_identical_and_the_step_fails() {
    let old = format!("{OLD}{LINE}\n");
    // grep fails outright (unreadable file, EIO): writes one line, exits 2
    let t = Tab::new(&old);
    t.stub("grep", "echo 'UUID=1 / ext4 defaults 0 1'; exit 2");
    for argv in [
        remove_line_at(&t.p(), LINE),
        add_line_at(&t.p(), "x / y z 0 0"),
    ] {
        let o = t.run(&argv);
        assert!(!ok(&o), "the edit must fail: {o:?}");
        assert_eq!(t.read(), old);
        assert_eq!(t.files(), ["fstab"], "no temp file or backup left");
    }
    // the guards see an error, not "the line is gone"
    assert!(!ok(&t.run(&lacks_line_at(&t.p(), LINE))));
    assert!(!ok(&t.run(&has_line_at(&t.p(), LINE))));

    // grep reads fine but fails while writing the new content (ENOSPC mid-copy)
    let t = Tab::new(&old);
    let grep = real("grep");
    t.stub(
        "grep",
        &format!("case \"$1\" in -v*) echo 'UUID=1 / ext4 defaults 0 1'; exit 2;; esac\nexec {grep} \"$@\""),
    );
    let o = t.run(&remove_line_at(&t.p(), LINE));
    assert!(!ok(&o), "the removal must fail: {o:?}");
    assert_eq!(t.read(), old);
    assert_eq!(t.files(), ["fstab"]);
    assert!(
        !ok(&t.run(&lacks_line_at(&t.p(), LINE))),
        "the step stays not done"
    );
}

#[test]
fn finding_4_append_adds_the_missing_final_newline() {
    let t = Tab::new(OLD.trim_end());
    assert!(ok(&t.run(&add_line_at(&t.p(), LINE))));
    assert_eq!(t.read(), format!("{OLD}{LINE}\n"));
    assert!(ok(&t.run(&has_line_at(&t.p(), LINE))));

    // an empty fstab gets just the line, no blank line before it
    let t = Tab::new("");
    assert!(ok(&t.run(&add_line_at(&t.p(), LINE))));
    assert_eq!(t.read(), format!("{LINE}\n"));
}

#[test]
fn finding_4_mode_and_owner_survive_add_and_remove() {
    let t = Tab::new(OLD);
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o640)).expect("chmod");
    let me = fs::metadata(t.path()).expect("stat").uid();
    if me == 0 {
        std::os::unix::fs::chown(t.path(), Some(65534), Some(65534)).expect("chown nobody");
    }
    let want = fs::metadata(t.path()).expect("stat");
    assert_ne!(want.uid(), 0, "the test needs a non-root owner");
    for argv in [add_line_at(&t.p(), LINE), remove_line_at(&t.p(), LINE)] {
        let before = fs::metadata(t.path()).expect("stat").ino();
        let o = t.run(&argv);
        assert!(ok(&o), "{o:?}");
        let got = fs::metadata(t.path()).expect("stat");
        assert_eq!(got.mode() & 0o7777, 0o640);
        assert_eq!((got.uid(), got.gid()), (want.uid(), want.gid()));
        assert_ne!(got.ino(), before, "replaced by a rename, not rewritten");
    }
    assert_eq!(t.read(), OLD);
}

#[test]
fn finding_4_one_backup_with_the_previous_content() {
    let t = Tab::new(OLD);
    assert!(ok(&t.run(&add_line_at(&t.p(), LINE))));
    assert_eq!(t.files(), ["fstab", "fstab.bak"]);
    let bak = t.etc().join("fstab.bak");
    assert_eq!(fs::read_to_string(&bak).expect("bak"), OLD);
    assert!(ok(&t.run(&remove_line_at(&t.p(), LINE))));
    assert_eq!(t.files(), ["fstab", "fstab.bak"], "still one backup");
    assert_eq!(
        fs::read_to_string(&bak).expect("bak"),
        format!("{OLD}{LINE}\n")
    );
    assert_eq!(t.read(), OLD);
}

#[test]
fn finding_4_remove_drops_every_copy_and_nothing_else() {
    let old = format!("{LINE}\nUUID=1 / ext4 defaults 0 1\n{LINE}\n# {LINE}\n{LINE} \n");
    let t = Tab::new(&old);
    let o = t.run(&remove_line_at(&t.p(), LINE));
    assert!(ok(&o), "{o:?}");
    assert_eq!(
        t.read(),
        format!("UUID=1 / ext4 defaults 0 1\n# {LINE}\n{LINE} \n")
    );
    assert!(ok(&t.run(&lacks_line_at(&t.p(), LINE))));
    // the only line: the result is an empty fstab (grep -v exits 1), not an error
    let only = Tab::new(&format!("{LINE}\n"));
    assert!(ok(&only.run(&remove_line_at(&only.p(), LINE))));
    assert_eq!(only.read(), "");
    // absent already: nothing to do, nothing rewritten
    let before = fs::metadata(t.path()).expect("stat").ino();
    assert!(ok(&t.run(&remove_line_at(&t.p(), LINE))));
    assert_eq!(fs::metadata(t.path()).expect("stat").ino(), before);
}

#[test]
fn finding_4_add_twice_gives_one_line() {
    let t = Tab::new(OLD);
    assert!(ok(&t.run(&add_line_at(&t.p(), LINE))));
    let once = fs::metadata(t.path()).expect("stat").ino();
    assert!(ok(&t.run(&add_line_at(&t.p(), LINE))));
    assert_eq!(t.read(), format!("{OLD}{LINE}\n"));
    assert_eq!(
        fs::metadata(t.path()).expect("stat").ino(),
        once,
        "untouched"
    );
}

#[test]
fn finding_4_failing_sync_or_mv_leaves_fstab_untouched() {
    for bad in ["sync", "mv", "chmod", "cp"] {
        let t = Tab::new(OLD);
        t.stub(bad, "exit 1");
        let ino = fs::metadata(t.path()).expect("stat").ino();
        for argv in [
            add_line_at(&t.p(), LINE),
            remove_line_at(&t.p(), "UUID=1 / ext4 defaults 0 1"),
        ] {
            let o = t.run(&argv);
            assert!(!ok(&o), "{bad}: the edit must fail: {o:?}");
            assert_eq!(t.read(), OLD, "{bad}");
            assert_eq!(fs::metadata(t.path()).expect("stat").ino(), ino, "{bad}");
            assert!(
                t.files().iter().all(|f| !f.contains(".brickyard.")),
                "{bad}: temp file left: {:?}",
                t.files()
            );
        }
    }
}

#[test]
fn finding_4_a_symlinked_fstab_is_edited_at_its_target() {
    let t = Tab::new(OLD);
    let link = t.dir.path().join("fstab-link");
    std::os::unix::fs::symlink(t.path(), &link).expect("symlink");
    let l = link.to_string_lossy().into_owned();
    assert!(ok(&t.run(&add_line_at(&l, LINE))));
    assert!(
        fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(t.read(), format!("{OLD}{LINE}\n"));
    assert!(!Path::new(&format!("{l}.bak")).exists());
}

#[test]
fn finding_4_the_edits_hold_under_bash_too() {
    if !Path::new("/bin/bash").exists() {
        return;
    }
    let mut t = Tab::new(OLD.trim_end());
    t.shell = "/bin/bash";
    assert!(ok(&t.run(&add_line_at(&t.p(), LINE))));
    assert_eq!(t.read(), format!("{OLD}{LINE}\n"));
    t.stub("mv", "exit 1");
    assert!(!ok(&t.run(&remove_line_at(&t.p(), LINE))));
    assert_eq!(t.read(), format!("{OLD}{LINE}\n"));
    fs::remove_file(t.stubs.join("mv")).expect("drop stub");
    assert!(ok(&t.run(&remove_line_at(&t.p(), LINE))));
    assert_eq!(t.read(), OLD);
    assert_eq!(t.files(), ["fstab", "fstab.bak"]);
}

/// Adoption marks the line another tool wrote (Heketi's) in place: the mount is in fstab
/// once before and once after, backslash escapes (`\040`) survive, a second run changes
/// nothing, and a line that is not there fails the step with fstab untouched.
#[test]
fn adoption_rewrites_heketis_line_in_place_and_only_that_line() {
    let heketi = "/dev/mapper/vg_1-brick_2 /var/lib/heketi/mounts/vg_1/brick_2 xfs rw,inode64,noatime,nouuid 1 2";
    let marked = "/dev/mapper/vg_1-brick_2 /var/lib/heketi/mounts/vg_1/brick_2 xfs rw,inode64,noatime,nouuid,x-brickyard.cluster=lab 1 2";
    let other = "//srv/share\\040one /mnt/a\\040b cifs ro 0 0";
    let old = format!("{OLD}{heketi}\n{other}\n");
    let t = Tab::new(&old);
    for _ in 0..2 {
        let o = t.run(&replace_line_at(&t.p(), heketi, marked));
        assert!(ok(&o), "{o:?}");
        assert_eq!(t.read(), format!("{OLD}{marked}\n{other}\n"));
        assert!(ok(&t.run(&has_line_at(&t.p(), marked))));
        assert!(ok(&t.run(&lacks_line_at(&t.p(), heketi))));
    }
    assert_eq!(t.files(), ["fstab", "fstab.bak"]);

    let t = Tab::new(OLD);
    let o = t.run(&replace_line_at(&t.p(), heketi, marked));
    assert!(!ok(&o), "no such line: the step fails");
    assert_eq!(t.read(), OLD);
    assert_eq!(t.files(), ["fstab"], "no temp file or backup left");
}
