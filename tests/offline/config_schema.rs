//! schemas/brickyard.schema.json is generated from the input types in
//! src/config/schema.rs. This test fails when the committed file is stale;
//! `BRICKYARD_BLESS=1 cargo test --test config_schema` rewrites it.

use std::path::Path;

use brickyard::config::schema::schema_json;

#[test]
fn committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/brickyard.schema.json");
    let fresh = schema_json();
    if std::env::var_os("BRICKYARD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "schemas/brickyard.schema.json is stale: run `BRICKYARD_BLESS=1 cargo test --test config_schema`"
    );
}

/// The schema describes the examples (a YAML example is a JSON document once parsed).
#[test]
fn schema_names_every_top_level_field_of_the_examples() {
    let schema: serde_json::Value = serde_json::from_str(&schema_json()).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in ["cluster", "ssh", "placement", "nodes", "volumes"] {
        assert!(props.contains_key(key), "{key}");
    }
    assert_eq!(schema["required"], serde_json::json!(["cluster", "nodes"]));
    assert_eq!(schema["additionalProperties"], false);
}
