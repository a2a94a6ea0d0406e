//! Resource addresses: the one place that spells `volume.NAME`, `brick.V[s][p]`,
//! `device.NODE:/dev/x`, ... Steps, blockers, placements and foreign entries all name
//! their resource with an `Address`, so a new resource kind is one new variant here and
//! the JSON form of every existing one stays exactly the string it always was.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a step, blocker or foreign entry is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Address {
    /// The cluster as a whole (`cluster`).
    Cluster,
    /// A declared node (`node.NAME`).
    Node(String),
    /// A trusted-pool peer: a declared node or a foreign host name (`peer.NAME`).
    Peer(String),
    /// A declared LVM device (`device.NODE:PATH`).
    Device { node: String, path: String },
    /// A declared brick directory (`path.NODE:PATH`).
    Path { node: String, path: String },
    /// A gluster volume (`volume.NAME`).
    Volume(String),
    /// One brick of a volume, by set and position (`brick.VOLUME[SET][POS]`).
    Brick { volume: String, set: u32, pos: u32 },
    /// A volume group found on a node (`vg.NODE:VG`).
    Vg { node: String, vg: String },
    /// A logical volume found on a node (`lv.NODE:VG/LV`).
    Lv {
        node: String,
        vg: String,
        lv: String,
    },
}

impl Address {
    pub fn volume(name: &str) -> Address {
        Address::Volume(name.to_string())
    }

    pub fn brick(volume: &str, set: u32, pos: u32) -> Address {
        Address::Brick {
            volume: volume.to_string(),
            set,
            pos,
        }
    }

    pub fn device(node: &str, path: &str) -> Address {
        Address::Device {
            node: node.to_string(),
            path: path.to_string(),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Cluster => f.write_str("cluster"),
            Address::Node(n) => write!(f, "node.{n}"),
            Address::Peer(n) => write!(f, "peer.{n}"),
            Address::Device { node, path } => write!(f, "device.{node}:{path}"),
            Address::Path { node, path } => write!(f, "path.{node}:{path}"),
            Address::Volume(n) => write!(f, "volume.{n}"),
            Address::Brick { volume, set, pos } => write!(f, "brick.{volume}[{set}][{pos}]"),
            Address::Vg { node, vg } => write!(f, "vg.{node}:{vg}"),
            Address::Lv { node, vg, lv } => write!(f, "lv.{node}:{vg}/{lv}"),
        }
    }
}

/// An address string this build does not know how to read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a resource address: {0:?}")]
pub struct BadAddress(pub String);

impl FromStr for Address {
    type Err = BadAddress;

    /// Reads back what `Display` wrote. Node names are plain (no `:`), so the first `:`
    /// separates node and path; a brick's set and position are the last two `[..]`.
    fn from_str(s: &str) -> Result<Address, BadAddress> {
        let bad = || BadAddress(s.to_string());
        if s == "cluster" {
            return Ok(Address::Cluster);
        }
        let (kind, rest) = s.split_once('.').ok_or_else(bad)?;
        let on_node = || {
            rest.split_once(':')
                .map(|(n, p)| (n.to_string(), p.to_string()))
                .ok_or_else(bad)
        };
        Ok(match kind {
            "node" => Address::Node(rest.to_string()),
            "peer" => Address::Peer(rest.to_string()),
            "volume" => Address::Volume(rest.to_string()),
            "device" => {
                let (node, path) = on_node()?;
                Address::Device { node, path }
            }
            "path" => {
                let (node, path) = on_node()?;
                Address::Path { node, path }
            }
            "vg" => {
                let (node, vg) = on_node()?;
                Address::Vg { node, vg }
            }
            "lv" => {
                let (node, full) = on_node()?;
                let (vg, lv) = full.split_once('/').ok_or_else(bad)?;
                Address::Lv {
                    node,
                    vg: vg.to_string(),
                    lv: lv.to_string(),
                }
            }
            "brick" => {
                let inner = rest.strip_suffix(']').ok_or_else(bad)?;
                let (head, pos) = inner.rsplit_once("][").ok_or_else(bad)?;
                let (volume, set) = head.rsplit_once('[').ok_or_else(bad)?;
                Address::Brick {
                    volume: volume.to_string(),
                    set: set.parse().map_err(|_| bad())?,
                    pos: pos.parse().map_err(|_| bad())?,
                }
            }
            _ => return Err(bad()),
        })
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_what_it_writes() {
        let all = [
            Address::Cluster,
            Address::Node("gfs1".into()),
            Address::Peer("10.0.0.9".into()),
            Address::device("gfs1", "/dev/disk/by-id/virtio-x:1"),
            Address::Path {
                node: "gfs1".into(),
                path: "/data/b".into(),
            },
            Address::volume("gfs"),
            Address::brick("gfs", 3, 1),
            Address::Vg {
                node: "gfs1".into(),
                vg: "other".into(),
            },
            Address::Lv {
                node: "gfs1".into(),
                vg: "by_sdb".into(),
                lv: "mine".into(),
            },
        ];
        for a in all {
            let s = a.to_string();
            assert_eq!(s.parse::<Address>(), Ok(a.clone()), "{s}");
            let json = serde_json::to_string(&a).unwrap_or_default();
            assert_eq!(json, format!("{s:?}"));
        }
        assert_eq!(Address::brick("gfs", 0, 2).to_string(), "brick.gfs[0][2]");
        assert_eq!(
            Address::device("n", "/dev/sdb").to_string(),
            "device.n:/dev/sdb"
        );
        assert!("nonsense".parse::<Address>().is_err());
    }
}
