//! Property-based tests: no byte sequence on stdin and no record shape can
//! make the reader, the mapping or the binary panic, and what they do
//! produce keeps its invariants.

mod common;

use std::io::Cursor;

use common::*;
use destination_hubspot::config::Config;
use destination_hubspot::hubspot::properties::Properties;
use destination_hubspot::protocol::Fields;
use destination_hubspot::write::mapping::Mapper;
use destination_hubspot::write::reader::{Line, Reader};
use destination_hubspot::write::scan;
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_reader_survives_any_bytes(input in prop::collection::vec(any::<u8>(), 0..2048), limit in 1usize..512, chunk in 1usize..1024) {
        let mut reader = Reader::with_sizes(Cursor::new(&input), limit, chunk);
        let mut last = 0;
        while let Some(c) = reader.next_chunk().unwrap() {
            for (n, range) in c.lines() {
                prop_assert_eq!(n, last + 1);
                last = n;
                if let Line::Bad(why) = c.decode(range, &mut Vec::new()) {
                    prop_assert!(!why.is_empty());
                }
            }
        }
        let expected = input.split(|&b| b == b'\n').count() as u64 - u64::from(input.last() == Some(&b'\n') || input.is_empty());
        prop_assert_eq!(last, expected);
    }

    #[test]
    fn the_reader_survives_any_json_in_the_envelope(data in json_value(), kind in prop_oneof![Just("RECORD"), Just("STATE"), Just("LOG"), Just("X")]) {
        let line = json!({"type": kind, "record": {"stream": "contacts", "data": data.clone()}, "state": data}).to_string();
        let mut reader = Reader::new(Cursor::new(line.into_bytes()));
        let c = reader.next_chunk().unwrap().unwrap();
        let lines: Vec<_> = c.lines().map(|(n, range)| (n, format!("{:?}", c.decode(range, &mut Vec::new())))).collect();
        prop_assert_eq!(lines.len(), 1);
        prop_assert_eq!(lines[0].0, 1);
    }
}

/// How `serde_json` alone reads a line as a record (the reference for the
/// reader's fast path).
fn serde_record(line: &str) -> Option<String> {
    let e: destination_hubspot::protocol::Envelope = serde_json::from_str(line).ok()?;
    let r = e.record.filter(|_| e.kind == "RECORD")?;
    Some(format!(
        "{:?}",
        Line::Record {
            stream: r.stream,
            namespace: r.namespace,
            data: r.data
        }
    ))
}

/// A RECORD line with its keys in any order, extra envelope fields and odd
/// spacing; some have escapes (serde_json escapes quotes and control
/// characters), which the fast path leaves to serde.
fn record_line() -> impl Strategy<Value = String> {
    let data = prop::collection::vec(("\\PC{0,6}|email|[a-z]{1,4}", json_value()), 0..6);
    let namespace = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        "\\PC{0,5}".prop_map(|s| Some(Value::String(s)))
    ];
    let extra = prop_oneof![Just(None), json_value().prop_map(Some)];
    let ws = prop_oneof![Just(""), Just(" "), Just("  ")];
    (data, "\\PC{0,8}", namespace, extra, any::<bool>(), ws).prop_map(
        |(data, stream, namespace, extra, record_first, ws)| {
            let fields: Vec<String> = data
                .iter()
                .map(|(k, v)| format!("{}{ws}:{ws}{v}", Value::from(k.as_str())))
                .collect();
            let mut record = vec![
                format!("\"data\":{ws}{{{}}}", fields.join(&format!("{ws},{ws}"))),
                format!("\"stream\":{}", Value::from(stream)),
                "\"emitted_at\":1700000000000".to_string(),
            ];
            if let Some(ns) = namespace {
                record.insert(1, format!("\"namespace\":{ns}"));
            }
            let mut envelope = vec![
                "\"type\":\"RECORD\"".to_string(),
                format!("\"record\":{ws}{{{}}}", record.join(",")),
            ];
            if let Some(x) = extra {
                envelope.push(format!("\"x\":{x}"));
            }
            if record_first {
                envelope.reverse();
            }
            format!("{{{ws}{}{ws}}}", envelope.join(&format!("{ws},{ws}")))
        },
    )
}

#[test]
fn plain_records_take_the_fast_path_and_agree_with_serde() {
    for line in [
        r#"{"type":"RECORD","record":{"stream":"contacts","data":{"email":"a@b.co","n":1,"x":-2.5,"big":18446744073709551615,"huge":18446744073709551616,"neg":-9223372036854775808,"f":1e3,"t":true,"no":false,"z":null,"é":"ü"},"emitted_at":1700000000000}}"#,
        r#"{ "record" : { "namespace" : null , "data" : { } , "stream" : "s" } , "type" : "RECORD" , "x" : [1,{"a":[]}] , "y" : -0.5e-3 }"#,
        r#"{"type":"RECORD","record":{"stream":"s","namespace":"ns","data":{"b":"2","a":"1","a":"3","nested":{"k":[1,"two",null]},"arr":["x","y"]},"meta":{"changes":[]}}}"#,
        // Escapes inside nested values and skipped fields are serde's to read.
        r#"{"type":"RECORD","record":{"stream":"s","data":{"o":{"q":"say \"hi\"\n"},"l":["\u00e9"]}},"x":{"k\t":"\\"}}"#,
    ] {
        let fast = scan::record(line, &mut Vec::new()).map(|l| format!("{l:?}"));
        assert!(fast.is_some(), "{line}");
        assert_eq!(fast, serde_record(line), "{line}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The fast path reads every plain record itself, exactly as serde
    /// does, and never accepts a damaged line differently from serde.
    #[test]
    fn the_fast_path_agrees_with_serde(line in record_line(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let fast = scan::record(&line, &mut Vec::new()).map(|l| format!("{l:?}"));
        if !line.contains('\\') {
            prop_assert!(fast.is_some(), "a plain record left the fast path: {}", line);
        }
        if fast.is_some() {
            prop_assert_eq!(fast, serde_record(&line));
        }
        // Damaged: one byte replaced, or the line cut short.
        let mut bytes = line.clone().into_bytes();
        let at = cut.index(bytes.len());
        bytes[at] = byte;
        for damaged in [std::str::from_utf8(&bytes).ok(), line.get(..at)].into_iter().flatten() {
            if let Some(fast) = scan::record(damaged, &mut Vec::new()) {
                prop_assert_eq!(Some(format!("{fast:?}")), serde_record(damaged), "{}", damaged);
            }
        }
    }
}

#[test]
fn mapping_survives_any_record_and_keeps_its_invariants() {
    let props = properties();
    for null_values in ["ignore", "clear"] {
        for unknown in ["drop", "reject"] {
            let config = Config::from_value(&json!({"access_token": "pat-x", "null_values": null_values, "unknown_properties": unknown, "lifecycle_stage": "lead"})).unwrap();
            let email_field = ["email".to_string()];
            let mapper = Mapper::new(&config, &props, &email_field);
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
                        if let Ok(w) = &mapped.result {
                            prop_assert_eq!(w.email().trim(), w.email());
                            prop_assert_eq!(w.email().to_lowercase(), w.email());
                            prop_assert!(w
                                .properties
                                .iter()
                                .all(|(k, _)| !k.starts_with("_airbyte_")));
                            prop_assert!(!w.email().is_empty());
                            prop_assert!(w.properties.iter().all(|(k, _)| props.get(k).is_some()));
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
