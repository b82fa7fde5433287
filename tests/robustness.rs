//! Property-based tests: no byte sequence on stdin and no record shape can
//! make the mapping or the binary panic, and what they do produce keeps its
//! invariants (the line reader's own are unit-tested in src/write/stdin.rs).

mod common;

use common::*;
use destination_hubspot::catalog::Catalog;
use destination_hubspot::config::Config;
use destination_hubspot::hubspot::properties::Properties;
use destination_hubspot::protocol::Fields;
use destination_hubspot::write::mapping::{Mapper, Outcome};
use destination_hubspot::write::targets::Targets;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Arbitrary JSON, nested a few levels, with keys that hit real properties.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("email".to_string()),
        Just("firstname".to_string()),
        Just("annualrevenue".to_string()),
        Just("renewal_date".to_string()),
        Just("closedate".to_string()),
        Just("interests".to_string()),
        Just("newsletter_opt_in".to_string()),
        Just("lifecyclestage".to_string()),
        Just("hs_object_id".to_string()),
        Just("_airbyte_raw_id".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,20}".prop_map(Value::String),
        "[a-zA-Z0-9.+ -]{0,10}@[a-z]{1,6}\\.[a-z]{2,4}".prop_map(Value::String),
        Just(Value::String("2024-02-29T00:00:00Z".into())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn properties() -> Properties {
    let emu = start(quick());
    let agent = ureq::Agent::new_with_defaults();
    let body: Value = agent
        .get(&format!("{}/crm/v3/properties/contacts", emu.base_url()))
        .header("Authorization", &format!("Bearer {DEFAULT_TOKEN}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    Properties::from_json(&body)
}

#[test]
fn mapping_survives_any_record_and_keeps_its_invariants() {
    let catalog = Catalog::parse(r#"{"streams":[{"stream":{"name":"s"}}]}"#).unwrap();
    let targets = Targets::contacts_only(&catalog, properties());
    for null_values in ["ignore", "clear"] {
        for unknown in ["drop", "reject"] {
            let config = Config::from_value(&json!({"access_token": "pat-x", "null_values": null_values, "unknown_properties": unknown, "lifecycle_stage": "lead"})).unwrap();
            let mapper = Mapper::new(&config, &targets, targets.route(0));
            let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
                cases: 256,
                ..ProptestConfig::default()
            });
            runner
                .run(
                    &prop::collection::btree_map(
                        "[a-z_]{1,8}|email|firstname|annualrevenue|interests|lifecyclestage",
                        json_value(),
                        0..8,
                    ),
                    |fields| {
                        let data: Map<String, Value> = fields.into_iter().collect();
                        let mapped = mapper.map(&Fields::from_map(&data));
                        if let Outcome::Write(w) = &mapped.outcome {
                            prop_assert_eq!(w.key().trim(), w.key());
                            prop_assert_eq!(w.key().to_lowercase(), w.key());
                            prop_assert!(w
                                .properties
                                .iter()
                                .all(|(k, _)| !k.starts_with("_airbyte_")));
                            prop_assert!(!w.key().is_empty());
                            prop_assert!(w
                                .properties
                                .iter()
                                .all(|(k, _)| targets.targets[0].properties.get(k).is_some()));
                        }
                        Ok(())
                    },
                )
                .unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The real binary, fed garbage mixed with valid lines: never a panic,
    /// every stdout line a JSON message, and the valid records written.
    #[test]
    fn the_binary_survives_garbage_on_stdin(garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..8)) {
        let emu = start(quick());
        let s = Scratch::new("fuzz");
        let mut input = Vec::new();
        for (i, g) in garbage.iter().enumerate() {
            input.extend_from_slice(record(json!({"email": format!("ok{i}@x.io")})).as_bytes());
            input.push(b'\n');
            input.extend(g.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
            input.push(b'\n');
        }
        let config = s.write("config.json", &config(&emu, json!({})).to_string());
        let catalog = s.write("catalog.json", CATALOG);
        let run = run(&["write", "--config", config.to_str().unwrap(), "--catalog", catalog.to_str().unwrap()], &input);
        prop_assert_eq!(run.code, 0, "{}", run.stderr);
        prop_assert!(!run.stderr.contains("panicked"));
        prop_assert_eq!(emails(&emu).len(), garbage.len());
    }
}
