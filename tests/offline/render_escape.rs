//! Review finding #13: text from nodes and facts reaches the human renders escaped
//! (ESC and CSI sequences, BEL, bidi overrides, line separators become visible `\u{..}`),
//! while the plan data keeps the raw strings; and config text values refuse the bidi
//! controls and separators that `char::is_control` misses.

use brickyard::config::{self, Desired, Format, codes};
use brickyard::gather::Observed;
use brickyard::plan::{PlanOptions, plan};
use brickyard::render;
use serde_json::{Value, json};

const CONVERGED: &str = include_str!("../../testdata/plan/_shared/gfs3-converged.facts.json");
const GFS: &str = include_str!("../../testdata/plan/_shared/gfs3-volume-gfs.desired.json");

const CURSOR_UP_ERASE: &str = "\u{1b}[1A\u{1b}[2K";

/// No raw character that could rewrite the terminal is left in `out`.
fn assert_no_raw(out: &str) {
    for c in [
        '\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{2028}', '\u{85}',
    ] {
        assert!(!out.contains(c), "raw U+{:04X} in:\n{out}", c as u32);
    }
}

/// Converged cluster `gfs` with an option change pending (so its steps show), whose
/// third brick is offline under a name with cursor-up + erase-line, a node warning with
/// a line separator and a bidi override, a lock holder that retitles the terminal, and a
/// foreign volume whose type carries U+202E.
fn hostile() -> (Desired, Observed) {
    let mut d: Value = serde_json::from_str(GFS).expect("desired");
    d["volumes"]["gfs"]["options"]["performance.cache-size"] = "512MB".into();
    let mut f: Value = serde_json::from_str(CONVERGED).expect("facts");
    for node in f["nodes"].as_object_mut().expect("nodes").values_mut() {
        let vols = node["volumes"].as_array_mut().expect("volumes");
        if vols.is_empty() {
            continue;
        }
        for v in vols.iter_mut() {
            let b = &mut v["bricks"][2];
            b["online"] = false.into();
            b["name"] = format!(
                "10.99.0.13:/var/lib/brickyard/mounts/by_sdb/brick_gfs_0_2/brick{CURSOR_UP_ERASE}"
            )
            .into();
        }
        let mut foreign = vols[0].clone();
        foreign["name"] = "other".into();
        foreign["options"] = json!({});
        foreign["vol_type"] = "Replicate\u{202e}exe.".into();
        vols.push(foreign);
    }
    f["nodes"]["gfs1"]["warnings"] = json!(["fine\u{2028}- all clear \u{85}\u{9b}2J"]);
    f["nodes"]["gfs1"]["lock"] = json!({
        "holder_host": "ops\u{1b}[2J\u{1b}]0;owned\u{7}",
        "pid": 42,
        "started": "2026-11-23T09:00:00Z"
    });
    (
        serde_json::from_value(d).expect("desired model"),
        serde_json::from_value(f).expect("facts model"),
    )
}

#[test]
fn finding_13_plan_render_escapes_node_text() {
    let (d, o) = hostile();
    let p = plan(&d, &o, &PlanOptions::default());
    let out = render::plan::human(&p, false);
    assert_no_raw(&out);
    // the brick name in the blocker, the lock holder and the node warning, visibly escaped
    assert!(
        out.contains("brick_gfs_0_2/brick\\u{1b}[1A\\u{1b}[2K"),
        "{out}"
    );
    assert!(out.contains("ops\\u{1b}[2J\\u{1b}]0;owned\\u{7}"), "{out}");
    assert!(
        out.contains("fine\\u{2028}- all clear \\u{85}\\u{9b}2J"),
        "{out}"
    );
    assert!(out.contains("Replicate\\u{202e}exe."), "{out}");
    // with color on, only our own SGR sequences are raw ESC: the node's are escaped
    let colored = render::plan::human(&p, true);
    assert!(!colored.contains(CURSOR_UP_ERASE) && !colored.contains("\u{1b}[2J"));
    // the plan keeps the raw strings (JSON escapes control characters itself)
    assert!(p.warnings.iter().any(|w| w.contains('\u{2028}')));
    let json = render::plan::json(&p);
    assert!(
        !json.contains('\u{1b}') && json.contains("\\u001b[1A"),
        "{json}"
    );
}

#[test]
fn finding_13_facts_summary_escapes_node_text() {
    let (_, mut o) = hostile();
    let text = serde_json::to_value(&o).expect("facts json");
    let mut text = text;
    text["nodes"]["gfs2"]["hostname"] = "gfs2\u{1b}[2J".into();
    text["nodes"]["gfs2"]["section_errors"] = json!({"wipefs:/dev/sdb": "rc=1: \u{202e}ok"});
    o = serde_json::from_value(text).expect("facts model");
    let out = render::facts::summary(&o);
    assert_no_raw(&out);
    assert!(out.contains("gfs2\\u{1b}[2J"), "{out}");
    assert!(out.contains("rc=1: \\u{202e}ok"), "{out}");
    assert!(out.contains("Replicate\\u{202e}exe."), "{out}");
}

fn errors(text: &str) -> Vec<(&'static str, String)> {
    config::parse_str("t.yaml", text, Format::Yaml)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code, d.message.clone()))
        .collect()
}

#[test]
fn finding_13_config_option_values_refuse_bidi_controls_and_separators() {
    let nodes = "  gfs1: { manage: 10.0.0.1, zone: 1, devices: [/dev/sdb] }\n  gfs2: { manage: 10.0.0.2, zone: 2, devices: [/dev/sdb] }\n  gfs3: { manage: 10.0.0.3, zone: 3, devices: [/dev/sdb] }\n";
    let with_value = |v: &str| {
        format!(
            "cluster: prod\nnodes:\n{nodes}volumes:\n  gfs:\n    size: 10GiB\n    options: {{ user.note: \"{v}\" }}\n"
        )
    };
    assert!(errors(&with_value("plain text")).is_empty());
    for (v, shown) in [
        ("abc\u{202e}fdp.exe", "U+202E"),
        ("one\u{2028}two", "U+2028"),
        ("one\u{2029}two", "U+2029"),
        ("\u{2066}x\u{2069}", "U+2066"),
        ("a\u{200f}b", "U+200F"),
        ("a\u{61c}b", "U+061C"),
    ] {
        let errs = errors(&with_value(v));
        assert!(
            errs.iter()
                .any(|(c, m)| *c == codes::INVALID_OPTION && m.contains(shown)),
            "{v:?}: {errs:?}"
        );
    }
}
