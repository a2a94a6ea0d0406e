//! `pvs`/`vgs`/`lvs --reportformat json --units b --nosuffix`: LVM reports, all sizes in
//! bytes as strings; tags comma-separated; percentages empty for non-thin LVs.

use serde_json::Value;

use super::json;
use crate::gather::model::{Lv, Pv, Vg};

/// Rows of the first report holding `key` ("pv", "vg", "lv").
fn rows<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a Vec<Value>, String> {
    json::array(v, "report", what)?
        .iter()
        .find_map(|r| r.get(key).and_then(Value::as_array))
        .ok_or_else(|| format!("{what}: no \"{key}\" rows in report"))
}

fn tags(v: &Value, key: &str) -> Vec<String> {
    json::str_of(v, key)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn bytes(v: &Value, key: &str, what: &str) -> Result<u64, String> {
    json::u64_of(v, key).ok_or_else(|| format!("{what}: bad or missing {key}"))
}

pub fn pvs(text: &str) -> Result<Vec<Pv>, String> {
    let v = json::parse(text, "pvs")?;
    rows(&v, "pv", "pvs")?
        .iter()
        .map(|r| {
            let name = json::nonempty(r, "pv_name").ok_or("pvs: row without pv_name")?;
            let what = format!("pvs {name}");
            Ok(Pv {
                vg: json::nonempty(r, "vg_name"),
                size: bytes(r, "pv_size", &what)?,
                free: bytes(r, "pv_free", &what)?,
                tags: tags(r, "pv_tags"),
                uuid: json::nonempty(r, "pv_uuid"),
                name,
            })
        })
        .collect()
}

pub fn vgs(text: &str) -> Result<Vec<Vg>, String> {
    let v = json::parse(text, "vgs")?;
    rows(&v, "vg", "vgs")?
        .iter()
        .map(|r| {
            let name = json::nonempty(r, "vg_name").ok_or("vgs: row without vg_name")?;
            let what = format!("vgs {name}");
            Ok(Vg {
                size: bytes(r, "vg_size", &what)?,
                free: bytes(r, "vg_free", &what)?,
                extent_size: bytes(r, "vg_extent_size", &what)?,
                extent_count: bytes(r, "vg_extent_count", &what)?,
                free_count: bytes(r, "vg_free_count", &what)?,
                pv_count: json::u64_of(r, "pv_count").unwrap_or(0) as u32,
                lv_count: json::u64_of(r, "lv_count").unwrap_or(0) as u32,
                tags: tags(r, "vg_tags"),
                name,
            })
        })
        .collect()
}

pub fn lvs(text: &str) -> Result<Vec<Lv>, String> {
    let v = json::parse(text, "lvs")?;
    rows(&v, "lv", "lvs")?
        .iter()
        .map(|r| {
            let name = json::nonempty(r, "lv_name").ok_or("lvs: row without lv_name")?;
            let vg =
                json::nonempty(r, "vg_name").ok_or_else(|| format!("lvs {name}: no vg_name"))?;
            let what = format!("lvs {vg}/{name}");
            Ok(Lv {
                size: bytes(r, "lv_size", &what)?,
                attr: json::str_of(r, "lv_attr").unwrap_or_default(),
                pool: json::nonempty(r, "pool_lv"),
                data_percent: json::f64_of(r, "data_percent"),
                metadata_percent: json::f64_of(r, "metadata_percent"),
                metadata_size: json::u64_of(r, "lv_metadata_size"),
                tags: tags(r, "lv_tags"),
                path: json::nonempty(r, "lv_path"),
                name,
                vg,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_reports_are_empty_lists() {
        let t = r#"{"report":[{"pv":[]}]}"#;
        assert_eq!(pvs(t).unwrap(), vec![]);
        assert!(vgs(t).is_err(), "a pv report is not a vg report");
        assert!(lvs("garbage").is_err());
    }

    /// `pvs --reportformat json --units b --nosuffix` as LVM 2.03.16 prints a PV without
    /// VG (tier V): the UUID tells brickyard's own half-initialised disk from others.
    #[test]
    fn a_pv_without_vg_is_read_with_its_uuid() {
        let t = r#"{"report":[{"pv":[{"pv_name":"/dev/vdb","vg_name":"","pv_size":"4294967296","pv_free":"4294967296","pv_tags":"","pv_uuid":"JpV3kd-d44i-OhK7-wjHE-vgJ7-nAcU-5zIPb8"}]}]}"#;
        let p = pvs(t).unwrap();
        assert_eq!(p[0].vg, None);
        assert_eq!(
            p[0].uuid.as_deref(),
            Some("JpV3kd-d44i-OhK7-wjHE-vgJ7-nAcU-5zIPb8")
        );
        let old = t.replace(r#","pv_uuid":"JpV3kd-d44i-OhK7-wjHE-vgJ7-nAcU-5zIPb8""#, "");
        assert_eq!(
            pvs(&old).unwrap()[0].uuid,
            None,
            "an older probe has no UUID"
        );
    }
}
