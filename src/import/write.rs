//! An imported config as YAML or HCL text, in the order and form docs/config.md uses,
//! leaving out what is a default. Every string is quoted (JSON quoting is valid YAML;
//! HCL's `${` and `%{` are escaped so nothing interpolates), so no node-reported name can
//! change the structure. The CLI parses the text back before printing it.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::config::{
    BrickKind, Device, DirPath, Durability, KnownHosts, Node, Rebalance, Ssh, Volume, VolumeState,
    ZoneChecking,
};
use crate::config::{DEFAULT_BRICK_MAX, DEFAULT_BRICK_MIN};
use crate::units::{GIB, KIB, MIB, TIB};

use super::read::Imported;

fn quote(s: &str, hcl: bool) -> String {
    let q = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
    if hcl {
        q.replace("${", "$${").replace("%{", "%%{")
    } else {
        q
    }
}

/// A size in the largest unit that writes it exactly.
pub(super) fn size(b: u64) -> String {
    for (m, unit) in [(TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if b >= m && b.is_multiple_of(m) {
            return format!("{}{unit}", b / m);
        }
    }
    format!("{b}B")
}

/// One `key = value` / `key: value` field; values are already spelled for the format.
type Field = (&'static str, String);

fn ssh_fields(s: &Ssh, base: &Ssh, hcl: bool) -> Vec<Field> {
    let mut f = Vec::new();
    if s.user != base.user {
        f.push(("user", quote(&s.user, hcl)));
    }
    if s.port != base.port {
        f.push(("port", s.port.to_string()));
    }
    if s.identity_file != base.identity_file
        && let Some(i) = &s.identity_file
    {
        f.push(("identity_file", quote(i, hcl)));
    }
    if s.known_hosts != base.known_hosts {
        let k = match s.known_hosts {
            KnownHosts::Strict => "strict",
            KnownHosts::AcceptNew => "accept-new",
        };
        f.push(("known_hosts", quote(k, hcl)));
    }
    if s.options != base.options {
        f.push(("options", list(&s.options, hcl)));
    }
    if s.sudo != base.sudo {
        f.push(("sudo", s.sudo.to_string()));
    }
    if s.connect_timeout != base.connect_timeout {
        f.push(("connect_timeout", s.connect_timeout.to_string()));
    }
    f
}

fn list(items: &[String], hcl: bool) -> String {
    let q: Vec<String> = items.iter().map(|s| quote(s, hcl)).collect();
    format!("[{}]", q.join(", "))
}

fn map(m: &BTreeMap<String, String>, hcl: bool) -> String {
    let sep = if hcl { " = " } else { ": " };
    let q: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{}{sep}{}", quote(k, hcl), quote(v, hcl)))
        .collect();
    format!("{{ {} }}", q.join(", "))
}

fn durability(d: &Durability, hcl: bool) -> String {
    let (sep, comma) = if hcl { (" = ", ", ") } else { (": ", ", ") };
    let kv = |k: &str, v: String| format!("{k}{sep}{v}");
    let parts = match *d {
        Durability::None => vec![kv("type", quote("none", hcl))],
        Durability::Replicate { replica, arbiter } => {
            let mut p = vec![
                kv("type", quote("replicate", hcl)),
                kv("replica", replica.to_string()),
            ];
            if arbiter {
                p.push(kv("arbiter", "true".into()));
            }
            p
        }
        Durability::Disperse { data, redundancy } => vec![
            kv("type", quote("disperse", hcl)),
            kv("data", data.to_string()),
            kv("redundancy", redundancy.to_string()),
        ],
    };
    format!("{{ {} }}", parts.join(comma))
}

/// The fields of a volume other than its notes, in docs/config.md's order.
fn volume_fields(v: &Volume, default_kind: BrickKind, hcl: bool) -> Vec<Field> {
    let mut f = vec![("size", quote(&size(v.size), hcl))];
    if v.durability != Durability::default() {
        f.push(("durability", durability(&v.durability, hcl)));
    }
    if v.brick_kind != default_kind {
        let k = match v.brick_kind {
            BrickKind::Lvm => "lvm",
            BrickKind::Directory => "directory",
        };
        f.push(("brick_kind", quote(k, hcl)));
    }
    if v.snapshot_factor != 1.0 {
        f.push(("snapshot_factor", v.snapshot_factor.to_string()));
    }
    if !v.device_tags.is_empty() {
        f.push(("device_tags", map(&v.device_tags, hcl)));
    }
    match v.state {
        VolumeState::Present => {}
        VolumeState::Stopped => f.push(("state", quote("stopped", hcl))),
        VolumeState::Absent => f.push(("state", quote("absent", hcl))),
    }
    if v.rebalance == Rebalance::Full {
        f.push(("rebalance", quote("full", hcl)));
    }
    if v.protect {
        f.push(("protect", "true".into()));
    }
    if !v.options.is_empty() {
        f.push(("options", map(&v.options, hcl)));
    }
    if v.adopt {
        f.push(("adopt", "true".into()));
    }
    f
}

fn placement_fields(imp: &Imported, hcl: bool) -> Vec<Field> {
    let p = &imp.desired.placement;
    let mut f = Vec::new();
    if p.zone_checking == ZoneChecking::None {
        f.push(("zone_checking", quote("none", hcl)));
    }
    if p.brick_min_size != DEFAULT_BRICK_MIN {
        f.push(("brick_min_size", quote(&size(p.brick_min_size), hcl)));
    }
    if p.brick_max_size != DEFAULT_BRICK_MAX {
        f.push(("brick_max_size", quote(&size(p.brick_max_size), hcl)));
    }
    f
}

/// The ssh settings written at the top: the first node's (nodes usually share them).
fn top_ssh(imp: &Imported) -> Ssh {
    imp.desired
        .nodes
        .values()
        .next()
        .map(|n| n.ssh.clone())
        .unwrap_or_default()
}

fn default_kind(imp: &Imported) -> BrickKind {
    if imp.desired.nodes.values().any(|n| !n.devices.is_empty()) {
        BrickKind::Lvm
    } else {
        BrickKind::Directory
    }
}

fn plain_device(d: &Device) -> bool {
    d.tags.is_empty() && !d.wipe && !d.drain
}

fn plain_path(p: &DirPath) -> bool {
    p.tags.is_empty() && !p.drain
}

fn comments(o: &mut String, indent: &str, lines: &[String]) {
    for l in lines {
        let _ = writeln!(o, "{indent}# {}", l.replace('\n', " "));
    }
}

pub(super) fn yaml(imp: &Imported) -> String {
    let d = &imp.desired;
    let mut o = String::new();
    comments(&mut o, "", &imp.header);
    let _ = writeln!(o, "cluster: {}", quote(&d.cluster, false));
    if let Some(id) = &d.cluster_id {
        let _ = writeln!(o, "cluster_id: {}", quote(id, false));
    }
    let top = top_ssh(imp);
    let ssh = ssh_fields(&top, &Ssh::default(), false);
    if !ssh.is_empty() {
        let _ = writeln!(o, "ssh:");
        for (k, v) in ssh {
            let _ = writeln!(o, "  {k}: {v}");
        }
    }
    let place = placement_fields(imp, false);
    if !place.is_empty() {
        let _ = writeln!(o, "placement:");
        if let Some(n) = &imp.zone_note {
            comments(&mut o, "  ", std::slice::from_ref(n));
        }
        for (k, v) in place {
            let _ = writeln!(o, "  {k}: {v}");
        }
    }
    let _ = writeln!(o, "nodes:");
    for (name, n) in &d.nodes {
        let _ = writeln!(o, "  {}:", quote(name, false));
        for (k, v) in node_scalars(n, false) {
            let _ = writeln!(o, "    {k}: {v}");
        }
        if !n.devices.is_empty() {
            let _ = writeln!(o, "    devices:");
            for dev in &n.devices {
                if plain_device(dev) {
                    let _ = writeln!(o, "      - {}", quote(&dev.path, false));
                    continue;
                }
                let _ = writeln!(o, "      - path: {}", quote(&dev.path, false));
                for (k, v) in device_fields(dev, false) {
                    let _ = writeln!(o, "        {k}: {v}");
                }
            }
        }
        if !n.paths.is_empty() {
            let _ = writeln!(o, "    paths:");
            for p in &n.paths {
                if plain_path(p) {
                    let _ = writeln!(o, "      - {}", quote(&p.path, false));
                    continue;
                }
                let _ = writeln!(o, "      - path: {}", quote(&p.path, false));
                for (k, v) in path_fields(p, false) {
                    let _ = writeln!(o, "        {k}: {v}");
                }
            }
        }
        let own = ssh_fields(&n.ssh, &top, false);
        if !own.is_empty() {
            let _ = writeln!(o, "    ssh:");
            for (k, v) in own {
                let _ = writeln!(o, "      {k}: {v}");
            }
        }
    }
    if d.volumes.is_empty() {
        let _ = writeln!(o, "volumes: {{}}");
        return o;
    }
    let _ = writeln!(o, "volumes:");
    let kind = default_kind(imp);
    for (name, v) in &d.volumes {
        let _ = writeln!(o, "  {}:", quote(name, false));
        if let Some(notes) = imp.volume_notes.get(name) {
            comments(&mut o, "    ", notes);
        }
        for (k, val) in volume_fields(v, kind, false) {
            let _ = writeln!(o, "    {k}: {val}");
        }
    }
    o
}

fn node_scalars(n: &Node, hcl: bool) -> Vec<Field> {
    let mut f = vec![("manage", quote(&n.manage, hcl))];
    if n.storage != n.manage {
        f.push(("storage", quote(&n.storage, hcl)));
    }
    f.push(("zone", n.zone.to_string()));
    if n.drain {
        f.push(("drain", "true".into()));
    }
    f
}

fn device_fields(d: &Device, hcl: bool) -> Vec<Field> {
    let mut f = Vec::new();
    if !d.tags.is_empty() {
        f.push(("tags", map(&d.tags, hcl)));
    }
    if d.wipe {
        f.push(("wipe", "true".into()));
    }
    if d.drain {
        f.push(("drain", "true".into()));
    }
    f
}

fn path_fields(p: &DirPath, hcl: bool) -> Vec<Field> {
    let mut f = Vec::new();
    if !p.tags.is_empty() {
        f.push(("tags", map(&p.tags, hcl)));
    }
    if p.drain {
        f.push(("drain", "true".into()));
    }
    f
}

pub(super) fn hcl(imp: &Imported) -> String {
    let d = &imp.desired;
    let mut o = String::new();
    comments(&mut o, "", &imp.header);
    let _ = writeln!(o, "cluster = {}", quote(&d.cluster, true));
    if let Some(id) = &d.cluster_id {
        let _ = writeln!(o, "cluster_id = {}", quote(id, true));
    }
    let top = top_ssh(imp);
    let ssh = ssh_fields(&top, &Ssh::default(), true);
    if !ssh.is_empty() {
        let _ = writeln!(o, "\nssh {{");
        for (k, v) in ssh {
            let _ = writeln!(o, "  {k} = {v}");
        }
        let _ = writeln!(o, "}}");
    }
    let place = placement_fields(imp, true);
    if !place.is_empty() {
        let _ = writeln!(o, "\nplacement {{");
        if let Some(n) = &imp.zone_note {
            comments(&mut o, "  ", std::slice::from_ref(n));
        }
        for (k, v) in place {
            let _ = writeln!(o, "  {k} = {v}");
        }
        let _ = writeln!(o, "}}");
    }
    for (name, n) in &d.nodes {
        let _ = writeln!(o, "\nnode {} {{", quote(name, true));
        for (k, v) in node_scalars(n, true) {
            let _ = writeln!(o, "  {k} = {v}");
        }
        if n.devices.iter().all(plain_device) {
            if !n.devices.is_empty() {
                let paths: Vec<String> = n.devices.iter().map(|x| x.path.clone()).collect();
                let _ = writeln!(o, "  devices = {}", list(&paths, true));
            }
        } else {
            for dev in &n.devices {
                let _ = writeln!(o, "  device {} {{", quote(&dev.path, true));
                for (k, v) in device_fields(dev, true) {
                    let _ = writeln!(o, "    {k} = {v}");
                }
                let _ = writeln!(o, "  }}");
            }
        }
        if n.paths.iter().all(plain_path) {
            if !n.paths.is_empty() {
                let paths: Vec<String> = n.paths.iter().map(|x| x.path.clone()).collect();
                let _ = writeln!(o, "  paths = {}", list(&paths, true));
            }
        } else {
            for p in &n.paths {
                let _ = writeln!(o, "  path {} {{", quote(&p.path, true));
                for (k, v) in path_fields(p, true) {
                    let _ = writeln!(o, "    {k} = {v}");
                }
                let _ = writeln!(o, "  }}");
            }
        }
        let own = ssh_fields(&n.ssh, &top, true);
        if !own.is_empty() {
            let _ = writeln!(o, "  ssh {{");
            for (k, v) in own {
                let _ = writeln!(o, "    {k} = {v}");
            }
            let _ = writeln!(o, "  }}");
        }
        let _ = writeln!(o, "}}");
    }
    let kind = default_kind(imp);
    for (name, v) in &d.volumes {
        let _ = writeln!(o, "\nvolume {} {{", quote(name, true));
        if let Some(notes) = imp.volume_notes.get(name) {
            comments(&mut o, "  ", notes);
        }
        for (k, val) in volume_fields(v, kind, true) {
            let _ = writeln!(o, "  {k} = {val}");
        }
        let _ = writeln!(o, "}}");
    }
    o
}
