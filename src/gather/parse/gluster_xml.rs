//! `gluster --mode=script --xml` output: pool list, volume info and volume status detail.
//! gluster reports failures inside the XML (`opRet`/`opErrstr`) or, when glusterd
//! is down, as plain text ("Connection failed ..."): both become an `Err` with gluster's words.

use std::collections::BTreeMap;

use roxmltree::{Document, Node};

use crate::gather::model::{
    BrickFacts, Peer, TaskKind, TaskProgress, TaskStatus, VolumeFacts, VolumeStatus, VolumeTask,
};

/// Parse the XML and check gluster's own return code.
fn cli_output(xml: &str) -> Result<Document<'_>, String> {
    let text = xml.trim();
    if !text.starts_with('<') {
        let first = text.lines().next().unwrap_or("").trim();
        return Err(if first.is_empty() {
            "empty output".to_string()
        } else {
            format!("not XML: {}", crate::transport::shell::truncate(first, 120))
        });
    }
    let doc = Document::parse(text).map_err(|e| format!("invalid XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "cliOutput" {
        return Err(format!(
            "unexpected root element <{}>",
            root.tag_name().name()
        ));
    }
    let ret = child_text(root, "opRet").unwrap_or("0");
    if ret.trim() != "0" {
        let err = child_text(root, "opErrstr").unwrap_or("").trim();
        return Err(if err.is_empty() {
            format!("gluster returned opRet={ret}")
        } else {
            err.to_string()
        });
    }
    Ok(doc)
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn child_text<'a>(n: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(n, name).and_then(|c| c.text())
}

fn descendant<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.descendants()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn req_text(n: Node<'_, '_>, name: &str, what: &str) -> Result<String, String> {
    child_text(n, name)
        .map(|s| s.trim().to_string())
        .ok_or_else(|| format!("{what}: missing <{name}>"))
}

fn num<T: std::str::FromStr>(n: Node<'_, '_>, name: &str) -> Option<T> {
    child_text(n, name).and_then(|s| s.trim().parse().ok())
}

fn count(n: Node<'_, '_>, name: &str) -> u32 {
    num(n, name).unwrap_or(0)
}

/// `gluster pool list`: every peer including this node (hostname "localhost").
pub fn pool_list(xml: &str) -> Result<Vec<Peer>, String> {
    let doc = cli_output(xml)?;
    let status = descendant(doc.root_element(), "peerStatus")
        .ok_or_else(|| "pool list: missing <peerStatus>".to_string())?;
    children(status, "peer")
        .map(|p| {
            Ok(Peer {
                uuid: req_text(p, "uuid", "peer")?,
                hostname: req_text(p, "hostname", "peer")?,
                connected: child_text(p, "connected").map(str::trim) == Some("1"),
            })
        })
        .collect()
}

/// `gluster volume info all`. "No volumes present" is an empty list, not an error.
pub fn volume_info(xml: &str) -> Result<Vec<VolumeFacts>, String> {
    let doc = match cli_output(xml) {
        Ok(d) => d,
        Err(e) if e.contains("No volumes present") => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let Some(volumes) = descendant(doc.root_element(), "volumes") else {
        return Ok(Vec::new());
    };
    children(volumes, "volume").map(volume).collect()
}

fn volume(v: Node<'_, '_>) -> Result<VolumeFacts, String> {
    let name = req_text(v, "name", "volume")?;
    let what = format!("volume {name}");
    let status = match child_text(v, "statusStr").map(str::trim) {
        Some("Started") => VolumeStatus::Started,
        Some("Stopped") => VolumeStatus::Stopped,
        Some("Created") => VolumeStatus::Created,
        other => match num::<u32>(v, "status") {
            Some(0) => VolumeStatus::Created,
            Some(1) => VolumeStatus::Started,
            Some(2) => VolumeStatus::Stopped,
            _ => return Err(format!("{what}: unknown status {other:?}")),
        },
    };
    let mut bricks = Vec::new();
    if let Some(bs) = child(v, "bricks") {
        for b in children(bs, "brick") {
            let bname = child_text(b, "name")
                .or_else(|| b.text())
                .map(|s| s.trim().to_string())
                .ok_or_else(|| format!("{what}: brick without a name"))?;
            let (host, path) = split_brick(&bname)
                .ok_or_else(|| format!("{what}: brick name {bname:?} is not host:/path"))?;
            bricks.push(BrickFacts {
                host,
                path,
                host_uuid: child_text(b, "hostUuid")
                    .or_else(|| b.attribute("uuid"))
                    .map(|s| s.trim().to_string()),
                is_arbiter: child_text(b, "isArbiter").map(str::trim) == Some("1"),
                name: bname,
                online: None,
                port: None,
                size_total: None,
                size_free: None,
            });
        }
    }
    let mut options = BTreeMap::new();
    if let Some(os) = child(v, "options") {
        for o in children(os, "option") {
            if let Some(k) = child_text(o, "name") {
                let val = child_text(o, "value").unwrap_or("");
                options.insert(k.trim().to_string(), val.to_string());
            }
        }
    }
    Ok(VolumeFacts {
        id: req_text(v, "id", &what)?,
        vol_type: req_text(v, "typeStr", &what)?,
        brick_count: count(v, "brickCount"),
        dist_count: count(v, "distCount"),
        replica_count: count(v, "replicaCount"),
        arbiter_count: count(v, "arbiterCount"),
        disperse_count: count(v, "disperseCount"),
        redundancy_count: count(v, "redundancyCount"),
        bricks,
        options,
        status,
        name,
        task: None,
    })
}

/// `gluster volume status all tasks`: every started volume it lists, with its task
/// (None: `<tasks/>`). Only started volumes appear; none started is an empty list.
pub fn volume_tasks(xml: &str) -> Result<Vec<(String, Option<VolumeTask>)>, String> {
    let doc = match cli_output(xml) {
        Ok(d) => d,
        Err(e) if e.contains("No volumes present") || e.contains("is not started") => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let Some(volumes) = descendant(doc.root_element(), "volumes") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for v in children(volumes, "volume") {
        let name = req_text(v, "volName", "volume tasks")?;
        let what = format!("volume {name}: task");
        let task = match child(v, "tasks").and_then(|t| child(t, "task")) {
            None => None,
            Some(t) => {
                let kind = match req_text(t, "type", &what)?.as_str() {
                    "Rebalance" => TaskKind::Rebalance,
                    "Remove brick" => TaskKind::RemoveBrick,
                    other => return Err(format!("{what}: unknown type {other:?}")),
                };
                let bricks = child(t, "params")
                    .into_iter()
                    .flat_map(|p| children(p, "brick"))
                    .map(|b| {
                        let n = b.text().unwrap_or("").trim();
                        split_brick(n)
                            .map(|_| n.to_string())
                            .ok_or_else(|| format!("{what}: brick name {n:?} is not host:/path"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if kind == TaskKind::RemoveBrick && bricks.is_empty() {
                    return Err(format!("{what}: a remove-brick that names no brick"));
                }
                Some(VolumeTask {
                    kind,
                    id: req_text(t, "id", &what)?,
                    status: TaskStatus::from_words(&req_text(t, "statusStr", &what)?),
                    bricks,
                    progress: None,
                })
            }
        };
        out.push((name, task));
    }
    Ok(out)
}

/// `gluster volume rebalance VOL status` or `volume remove-brick VOL BRICKS status`: the
/// sum over the nodes (`<aggregate>`). A count gluster leaves out or garbles is an error,
/// never 0: the commit of a remove-brick waits for 0 failures and 0 skipped.
pub fn task_progress(xml: &str) -> Result<TaskProgress, String> {
    let doc = cli_output(xml)?;
    let root = doc.root_element();
    let body = child(root, "volRebalance")
        .or_else(|| child(root, "volRemoveBrick"))
        .ok_or_else(|| "task status: missing <volRebalance> or <volRemoveBrick>".to_string())?;
    let agg =
        child(body, "aggregate").ok_or_else(|| "task status: missing <aggregate>".to_string())?;
    let n = |name: &str| -> Result<u64, String> {
        num(agg, name).ok_or_else(|| format!("task status: <{name}> is missing or not a count"))
    };
    let runtime = child_text(agg, "runtime")
        .and_then(|r| r.trim().parse::<f64>().ok())
        .filter(|r| r.is_finite() && *r >= 0.0)
        .map_or(0, |r| r as u64);
    Ok(TaskProgress {
        status: TaskStatus::from_words(&req_text(agg, "statusStr", "task status")?),
        files: n("files")?,
        bytes: n("size")?,
        scanned: n("lookups")?,
        failures: n("failures")?,
        skipped: n("skipped")?,
        runtime_s: runtime,
    })
}

/// "host:/path" -> (host, path); the host may itself contain ':' (IPv6), the path starts at ":/".
pub fn split_brick(name: &str) -> Option<(String, String)> {
    let i = name.find(":/")?;
    let (h, p) = (&name[..i], &name[i + 1..]);
    (!h.is_empty()).then(|| (h.to_string(), p.to_string()))
}

/// One brick's runtime state from `volume status all detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrickStatus {
    pub volume: String,
    pub host: String,
    pub path: String,
    pub online: bool,
    pub port: Option<u32>,
    pub size_total: Option<u64>,
    pub size_free: Option<u64>,
}

/// `gluster volume status all detail`. Only started volumes appear; none started is
/// an empty list.
pub fn volume_status(xml: &str) -> Result<Vec<BrickStatus>, String> {
    let doc = match cli_output(xml) {
        Ok(d) => d,
        Err(e) if e.contains("No volumes present") || e.contains("is not started") => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    let Some(volumes) = descendant(doc.root_element(), "volumes") else {
        return Ok(out);
    };
    for v in children(volumes, "volume") {
        let volume = req_text(v, "volName", "volume status")?;
        for n in children(v, "node") {
            let host = req_text(n, "hostname", "volume status node")?;
            let path = req_text(n, "path", "volume status node")?;
            // Self-heal daemons and other services are listed as nodes with non-path names.
            if !path.starts_with('/') {
                continue;
            }
            out.push(BrickStatus {
                volume: volume.clone(),
                online: child_text(n, "status").map(str::trim) == Some("1"),
                port: num::<u32>(n, "port").filter(|p| *p > 0),
                size_total: num(n, "sizeTotal"),
                size_free: num(n, "sizeFree"),
                host,
                path,
            });
        }
    }
    Ok(out)
}

/// Put runtime brick state into the volumes from `volume info`, and return the started
/// volumes that `volume status all` did not list. gluster's CLI skips, silently and with
/// success, a volume whose status it could not get (its per-volume lock held by another
/// command: measured on the lab when three probes ran at once), so a missing volume says
/// nothing about its bricks: their state stays unknown (`online: None`), never "offline".
pub fn merge_status(volumes: &mut [VolumeFacts], status: &[BrickStatus]) -> Vec<String> {
    let mut unlisted = Vec::new();
    for v in volumes.iter_mut() {
        let listed = status.iter().any(|s| s.volume == v.name);
        if v.status == VolumeStatus::Started && !listed {
            unlisted.push(v.name.clone());
        }
        for b in v.bricks.iter_mut() {
            if let Some(s) = status
                .iter()
                .find(|s| s.volume == v.name && s.host == b.host && s.path == b.path)
            {
                b.online = Some(s.online);
                b.port = s.port;
                b.size_total = s.size_total;
                b.size_free = s.size_free;
            } else if v.status == VolumeStatus::Started && listed {
                // The volume is listed but this brick is not: gluster lists every brick
                // of a started volume it reports on, so a missing one is offline.
                b.online = Some(false);
            }
        }
    }
    unlisted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_garbage_are_errors() {
        assert_eq!(
            pool_list("Connection failed. Please check if gluster daemon is operational.\n")
                .unwrap_err(),
            "not XML: Connection failed. Please check if gluster daemon is operational."
        );
        assert!(pool_list("").unwrap_err().contains("empty"));
        assert!(
            pool_list("<cliOutput><opRet>")
                .unwrap_err()
                .contains("invalid XML")
        );
        assert!(
            pool_list("<other/>")
                .unwrap_err()
                .contains("unexpected root")
        );
    }

    #[test]
    fn op_errors_carry_gluster_words() {
        let xml = "<cliOutput><opRet>-1</opRet><opErrno>0</opErrno><opErrstr>Volume x does not exist</opErrstr></cliOutput>";
        assert_eq!(pool_list(xml).unwrap_err(), "Volume x does not exist");
    }

    #[test]
    fn brick_names_split_at_colon_slash() {
        assert_eq!(
            split_brick("10.0.0.1:/b/x"),
            Some(("10.0.0.1".into(), "/b/x".into()))
        );
        assert_eq!(
            split_brick("fe80::1:/b"),
            Some(("fe80::1".into(), "/b".into()))
        );
        assert_eq!(split_brick("nopath"), None);
        assert_eq!(split_brick(":/x"), None);
    }
}
