//! Pure parsers: probe output text -> [`NodeFacts`]. One small module per source command.
//! Nothing here does I/O; every parser tolerates garbage (an `Err` or a warning, never a
//! panic), because the text comes from machines we do not control.

pub mod blkid;
pub mod cluster_id;
pub mod findmnt;
pub mod fstab;
pub mod gluster_xml;
pub mod heal;
pub mod identity;
pub mod json;
pub mod lsblk;
pub mod lvm;
pub mod paths;
pub mod sections;
pub mod wipefs;

use crate::gather::model::{NodeFacts, PathFacts};
use sections::{Section, Sections};

/// Why probe output could not be read at all (as opposed to a failed section).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Framing(#[from] sections::FramingError),
    #[error("the probe speaks format {found}, this brickyard understands {expected}")]
    Version { found: u32, expected: u32 },
}

/// Turn the probe's stdout into facts. `marker` is the one this probe run was given
/// (`sections::marker(nonce)`; `sections::RECORDED_MARKER` for old recordings): no other
/// line frames a section. Failed or unparsable sections are recorded in `section_errors`
/// (and the fields they feed stay empty); output that is not one complete, well-framed
/// probe is an error, so gather treats the node as unreachable.
pub fn parse_probe(stdout: &str, marker: &str) -> Result<NodeFacts, ProbeError> {
    let s = sections::split(stdout, marker)?;
    if s.version != sections::PROBE_VERSION {
        return Err(ProbeError::Version {
            found: s.version,
            expected: sections::PROBE_VERSION,
        });
    }
    let mut f = NodeFacts::default();
    let mut b = Builder { s: &s, f: &mut f };
    b.identity();
    b.gluster();
    b.storage();
    b.declared();
    Ok(f)
}

struct Builder<'a> {
    s: &'a Sections,
    f: &'a mut NodeFacts,
}

impl<'a> Builder<'a> {
    fn err(&mut self, name: &str, msg: String) {
        self.f.section_errors.insert(name.to_string(), msg);
    }

    /// The section's stdout when it ran with rc 0 (or one of `ok_rcs`); records an error otherwise.
    fn ok(&mut self, name: &str, ok_rcs: &[i32]) -> Option<&'a str> {
        let sections: &'a Sections = self.s;
        let s: &'a Section = match sections.get(name) {
            Some(s) => s,
            None => {
                self.err(name, "section missing from probe output".into());
                return None;
            }
        };
        if s.ok() || s.rc.is_some_and(|rc| ok_rcs.contains(&rc)) {
            Some(s.stdout.as_str())
        } else {
            let msg = s.failure();
            self.err(name, msg);
            None
        }
    }

    /// Record a parser's error under the section's name.
    fn parsed<T>(&mut self, name: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|e| self.err(name, e)).ok()
    }

    fn identity(&mut self) {
        if let Some(t) = self.ok("hostname", &[]) {
            self.f.hostname = identity::first_line(t).unwrap_or_default();
        }
        if let Some(t) = self.ok("kernel", &[]) {
            self.f.versions.kernel = identity::first_line(t);
        }
        // No glusterd.info yet is a normal state: glusterd never ran on this node.
        if let Some(s) = self.s.get("glusterd_info") {
            if s.ok() {
                self.f.glusterd_uuid = identity::glusterd_uuid(&s.stdout);
            }
        } else {
            self.err("glusterd_info", "section missing from probe output".into());
        }
        if let Some(t) = self.ok("gluster_version", &[]) {
            self.f.versions.gluster = identity::gluster_version(t);
        }
        if let Some(t) = self.ok("lvm_version", &[]) {
            self.f.versions.lvm = identity::lvm_version(t);
        }
    }

    fn gluster(&mut self) {
        let pid_alive = self
            .ok("glusterd_pid", &[])
            .is_some_and(identity::glusterd_alive);
        let peers = self
            .ok("pool_list", &[])
            .map(gluster_xml::pool_list)
            .and_then(|r| self.parsed("pool_list", r));
        self.f.glusterd_running = pid_alive || peers.is_some();
        if !self.f.glusterd_running {
            self.f
                .warnings
                .push("glusterd is not running: peers and volumes are unknown".into());
        }
        self.f.peers = peers.unwrap_or_default();

        let mut volumes = match self.ok("volume_info", &[]).map(gluster_xml::volume_info) {
            Some(r) => self.parsed("volume_info", r).unwrap_or_default(),
            None => Vec::new(),
        };
        // volume status fails as a whole when no volume is started: gluster's XML says so.
        // Absent: not asked of this node; another one reads it for the cluster
        // (gather::status), and the bricks' state stays unknown until it is shared.
        if let Some(sec) = self.s.get("volume_status") {
            match gluster_xml::volume_status(&sec.stdout) {
                Ok(status) => {
                    for v in gluster_xml::merge_status(&mut volumes, &status) {
                        self.f.warnings.push(format!(
                            "volume status did not list started volume {v} (another gluster command held it?): the state of its bricks is unknown"
                        ));
                    }
                }
                Err(e) => self.err("volume_status", e),
            }
            self.tasks(&mut volumes);
        }
        self.f.volumes = volumes;
    }

    /// The tasks the status reader read (`volume_tasks`, `task:VOL`), into `volumes`. What
    /// could not be read is a section error: the planner holds back what depends on it.
    fn tasks(&mut self, volumes: &mut [crate::gather::VolumeFacts]) {
        use crate::gather::{TaskKind, TaskStatus, VolumeStatus};
        let Some(t) = self.ok("volume_tasks", &[]) else {
            return;
        };
        let Some(listed) = self.parsed("volume_tasks", gluster_xml::volume_tasks(t)) else {
            return;
        };
        for v in volumes.iter_mut() {
            let sec = format!("task:{}", v.name);
            let Some((_, task)) = listed.iter().find(|(n, _)| *n == v.name) else {
                if v.status == VolumeStatus::Started {
                    self.err(
                        &sec,
                        "volume status all tasks did not list this started volume (another gluster command held it?)".into(),
                    );
                }
                continue;
            };
            let Some(mut task) = task.clone() else {
                continue;
            };
            let asked = task.kind == TaskKind::RemoveBrick || task.status != TaskStatus::Completed;
            if asked {
                match self.s.get(&sec) {
                    Some(_) => {
                        if let Some(x) = self.ok(&sec, &[]) {
                            task.progress = self.parsed(&sec, gluster_xml::task_progress(x));
                        }
                    }
                    None => self.err(
                        &sec,
                        "its counts were not read (a volume or brick name the probe does not pass to a command)".into(),
                    ),
                }
            }
            v.task = Some(task);
        }
    }

    fn storage(&mut self) {
        if let Some(t) = self.ok("lsblk", &[]) {
            let r = lsblk::parse(t);
            self.f.block_devices = self.parsed("lsblk", r).unwrap_or_default();
        }
        if let Some(t) = self.ok("pvs", &[]) {
            let r = lvm::pvs(t);
            self.f.pvs = self.parsed("pvs", r).unwrap_or_default();
        }
        if let Some(t) = self.ok("vgs", &[]) {
            let r = lvm::vgs(t);
            self.f.vgs = self.parsed("vgs", r).unwrap_or_default();
        }
        if let Some(t) = self.ok("lvs", &[]) {
            let r = lvm::lvs(t);
            self.f.lvs = self.parsed("lvs", r).unwrap_or_default();
        }
        if let Some(t) = self.ok("findmnt", &[]) {
            let r = findmnt::mounts(t);
            self.f.mounts = self.parsed("findmnt", r).unwrap_or_default();
        }
        if let Some(t) = self.ok("findmnt_df", &[]) {
            let r = findmnt::mounts(t);
            if let Some(sized) = self.parsed("findmnt_df", r) {
                findmnt::merge_sizes(&mut self.f.mounts, &sized);
            }
        }
        if let Some(t) = self.ok("fstab", &[]) {
            let (entries, warnings) = fstab::parse(t);
            self.f.fstab = entries;
            self.f.warnings.extend(warnings);
        }
        if let Some(t) = self.ok("cluster_id", &[]) {
            let r = cluster_id::parse(t);
            self.f.cluster_id = self.parsed("cluster_id", r).flatten();
        }
        if let Some(t) = self.ok("heal_index", &[]) {
            let r = heal::parse(t);
            self.f.heal_index = self.parsed("heal_index", r).unwrap_or_default();
        }
        // bricks gluster lists on this node, wherever they are (adopted ones): the same
        // listing as a declared path's; probes from before it have no such section
        if self.s.get("local_bricks").is_some()
            && let Some(t) = self.ok("local_bricks", &[])
        {
            for d in paths::listing(t).bricks {
                if !self.f.brick_dirs.iter().any(|x| x.path == d.path) {
                    self.f.brick_dirs.push(d);
                }
            }
        }
        if let Some(t) = self.ok("lock", &[]) {
            let (lock, warning) = crate::lock::parse_probe_section(t);
            self.f.lock = lock;
            self.f.warnings.extend(warning);
        }
    }

    fn declared(&mut self) {
        let s = self.s;
        for (dev, _) in s.with_prefix("wipefs") {
            let name = format!("wipefs:{dev}");
            if let Some(t) = self.ok(&name, &[]) {
                let r = wipefs::parse(t);
                if let Some(sigs) = self.parsed(&name, r) {
                    self.f.signatures.insert(dev.to_string(), sigs);
                }
            }
        }
        for (dev, _) in s.with_prefix("blkid") {
            // rc 2: blkid found nothing to report (a blank device).
            if let Some(t) = self.ok(&format!("blkid:{dev}"), &[2]) {
                self.f.blkid.insert(dev.to_string(), blkid::parse(t));
            }
        }
        for (path, _) in s.with_prefix("path") {
            let Some(t) = self.ok(&format!("path:{path}"), &[]) else {
                continue;
            };
            let l = paths::listing(t);
            let mut pf = PathFacts {
                exists: l.exists,
                mount_target: None,
                fstype: None,
                total: None,
                free: None,
            };
            if l.exists {
                let fsname = format!("pathfs:{path}");
                if let Some(t) = self.ok(&fsname, &[]) {
                    let r = paths::filesystem(t);
                    if let Some((target, fstype)) = self.parsed(&fsname, r) {
                        pf.mount_target = Some(target);
                        pf.fstype = fstype;
                    }
                }
                let dfname = format!("df:{path}");
                if let Some(t) = self.ok(&dfname, &[]) {
                    let r = paths::df(t);
                    if let Some((total, free)) = self.parsed(&dfname, r) {
                        pf.total = Some(total);
                        pf.free = Some(free);
                    }
                }
            }
            self.f.brick_dirs.extend(l.bricks);
            self.f.paths.insert(path.to_string(), pf);
        }
    }
}
