//! `lsblk -J -b -o NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINTS,RO,PKNAME`: the block device tree,
//! flattened (each device once, children by name).

use serde_json::Value;

use super::json;
use crate::gather::model::BlockDevice;

pub fn parse(text: &str) -> Result<Vec<BlockDevice>, String> {
    let v = json::parse(text, "lsblk")?;
    let mut out = Vec::new();
    for d in json::array(&v, "blockdevices", "lsblk")? {
        walk(d, &mut out)?;
    }
    Ok(out)
}

fn walk(d: &Value, out: &mut Vec<BlockDevice>) -> Result<(), String> {
    let name = json::nonempty(d, "name").ok_or("lsblk: device without a name")?;
    let path = json::nonempty(d, "path").unwrap_or_else(|| format!("/dev/{name}"));
    let kids = d.get("children").and_then(Value::as_array);
    let mut mountpoints: Vec<String> = match d.get("mountpoints") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|m| m.as_str().map(str::to_string))
            .collect(),
        _ => json::nonempty(d, "mountpoint").into_iter().collect(),
    };
    mountpoints.sort();
    mountpoints.dedup();
    // A device with several parents (dm) appears under each: keep it once.
    if !out.iter().any(|b: &BlockDevice| b.path == path) {
        out.push(BlockDevice {
            size: json::u64_of(d, "size").ok_or_else(|| format!("lsblk: {path} has no size"))?,
            kind: json::nonempty(d, "type").unwrap_or_default(),
            fstype: json::nonempty(d, "fstype"),
            mountpoints,
            children: kids
                .map(|k| k.iter().filter_map(|c| json::nonempty(c, "name")).collect())
                .unwrap_or_default(),
            read_only: json::bool_of(d, "ro"),
            path,
        });
    }
    for c in kids.into_iter().flatten() {
        walk(c, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_old_style_fields() {
        let t = r#"{"blockdevices":[{"name":"vdb","size":"100","type":"disk","fstype":"LVM2_member","mountpoint":null,"ro":"0",
            "children":[{"name":"vg-lv","path":"/dev/mapper/vg-lv","size":50,"type":"lvm","fstype":"xfs","mountpoints":["/m",null],"ro":false}]}]}"#;
        let d = parse(t).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].path, "/dev/vdb");
        assert_eq!(d[0].size, 100);
        assert_eq!(d[0].children, vec!["vg-lv".to_string()]);
        assert_eq!(d[1].mountpoints, vec!["/m".to_string()]);
        assert!(parse("{}").is_err());
        assert!(parse("").is_err());
    }
}
