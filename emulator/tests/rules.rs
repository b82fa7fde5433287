//! Admin write-validation rules over real HTTP: required-on-create and
//! conditionally required properties, enforced on 2026-09 write paths only,
//! in both error styles, and never writing an invalid input.

mod common;

use common::{start, Client, Family, LEGACY, V2026_03, V2026_09};
use hubspot_emulator::{ConditionalRule, Options, ValidationErrorMode};
use serde_json::{json, Value};

const MESSAGE: &str = "The property values provided are invalid";

fn rules(mode: ValidationErrorMode) -> Options {
    Options {
        required_on_create: vec!["firstname".into(), "lastname".into()],
        conditional_required: vec![ConditionalRule::new("state", "country", "United States")],
        validation_error_mode: mode,
        ..Options::default()
    }
}

fn by_email(email: &str, props: Value) -> Value {
    json!({ "id": email, "idProperty": "email", "properties": props })
}

fn upsert(c: &Client, family: Family, inputs: Value) -> common::Answer {
    let path = format!("{}/batch/upsert", family.objects("contacts"));
    c.post(&path, json!({ "inputs": inputs }))
}

fn emails(emu: &hubspot_emulator::Emulator) -> Vec<String> {
    let mut v: Vec<String> = emu
        .contacts()
        .into_iter()
        .filter_map(|c| c.properties.get("email").cloned())
        .collect();
    v.sort();
    v
}

#[test]
fn whole_batch_names_the_first_violating_input_and_writes_nothing() {
    let emu = start(rules(ValidationErrorMode::WholeBatch));
    let c = Client::new(&emu);
    let a = upsert(
        &c,
        V2026_09,
        json!([
            by_email(
                "ann@example.com",
                json!({"firstname": "Ann", "lastname": "Lee"})
            ),
            by_email("bob@example.com", json!({"firstname": "Bob"})),
            by_email("cy@example.com", json!({})),
        ]),
    );
    assert_eq!(a.status, 400, "{:?}", a.body);
    let b = &a.body;
    assert_eq!(b["status"], "error");
    assert_eq!(b["category"], "VALIDATION_ERROR");
    assert_eq!(b["message"], MESSAGE);
    assert!(b["correlationId"].is_string());
    assert_eq!(b["context"]["ids"], json!(["bob@example.com"]));
    assert_eq!(b["context"]["propertyName"], json!(["lastname"]));
    assert_eq!(
        b["errors"],
        json!([{
            "code": "MISSING_REQUIRED_PROPERTY",
            "message": "A value for lastname must be provided",
            "context": { "propertyName": ["lastname"] },
        }])
    );
    assert!(
        emu.contacts().is_empty(),
        "nothing from the batch is written"
    );
}

#[test]
fn the_rules_apply_on_2026_09_paths_only() {
    let emu = start(rules(ValidationErrorMode::WholeBatch));
    let c = Client::new(&emu);
    for (family, email) in [(LEGACY, "v3@example.com"), (V2026_03, "march@example.com")] {
        let a = upsert(
            &c,
            family,
            json!([by_email(email, json!({"country": "United States"}))]),
        );
        assert_eq!(a.status, 200, "{family:?}: {:?}", a.body);
        let objects = family.objects("contacts");
        let single = c.post(
            &objects,
            json!({"properties": {"email": format!("1{email}")}}),
        );
        assert_eq!(single.status, 201);
    }
    assert_eq!(emu.contacts().len(), 4);
    let single = c.post(
        &V2026_09.objects("contacts"),
        json!({"properties": {"email": "sept@example.com", "firstname": "S"}}),
    );
    assert_eq!(single.status, 400);
    assert_eq!(
        single.body["errors"][0]["code"],
        "MISSING_REQUIRED_PROPERTY"
    );
    assert_eq!(single.body["context"]["propertyName"], json!(["lastname"]));
    let stats = emu.stats();
    assert_eq!(stats.count("POST", "/crm/objects/2026-09/contacts", 400), 1);
    assert_eq!(
        stats.count("POST", "/crm/objects/2026-03/contacts/batch/upsert", 200),
        1
    );
}

#[test]
fn required_on_create_leaves_updates_alone() {
    let emu = start(rules(ValidationErrorMode::WholeBatch));
    let id = emu.add_contact([("email", "old@example.com")]);
    let c = Client::new(&emu);
    let a = upsert(
        &c,
        V2026_09,
        json!([by_email("OLD@example.com", json!({"jobtitle": "CTO"}))]),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["results"][0]["new"], false);
    let path = format!("{}/batch/update", V2026_09.objects("contacts"));
    let a = c.post(
        &path,
        json!({"inputs": [{"id": id, "properties": {"firstname": ""}}]}),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    let patch = format!("{}/{id}", V2026_09.objects("contacts"));
    let a = c.call(
        "PATCH",
        &patch,
        Some(json!({"properties": {"city": "Oslo"}})),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    let path = format!("{}/batch/create", V2026_09.objects("contacts"));
    let a = c.post(
        &path,
        json!({"inputs": [{"properties": {"email": "new@example.com"}}]}),
    );
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["context"]["propertyName"],
        json!(["firstname", "lastname"])
    );
    assert_eq!(a.body["errors"].as_array().unwrap().len(), 2);
    assert_eq!(emails(&emu), ["old@example.com"]);
}

#[test]
fn multi_status_writes_the_valid_inputs_and_reports_each_violation() {
    let emu = start(rules(ValidationErrorMode::MultiStatus));
    let c = Client::new(&emu);
    let mut cy = by_email("cy@example.com", json!({}));
    cy["objectWriteTraceId"] = json!("t-3");
    let a = upsert(
        &c,
        V2026_09,
        json!([
            by_email(
                "ann@example.com",
                json!({"firstname": "Ann", "lastname": "Lee"})
            ),
            by_email("bob@example.com", json!({"firstname": "Bob"})),
            cy,
        ]),
    );
    assert_eq!(a.status, 207, "{:?}", a.body);
    assert_eq!(a.body["numErrors"], 2);
    assert_eq!(a.body["results"].as_array().unwrap().len(), 1);
    let errs = a.body["errors"].as_array().unwrap();
    let bob = &errs[0];
    assert_eq!(bob["status"], "error");
    assert_eq!(bob["category"], "VALIDATION_ERROR");
    assert_eq!(bob["message"], MESSAGE);
    assert_eq!(bob["context"]["ids"], json!(["bob@example.com"]));
    assert_eq!(bob["context"]["propertyName"], json!(["lastname"]));
    assert_eq!(bob["errors"][0]["code"], "MISSING_REQUIRED_PROPERTY");
    assert_eq!(bob["links"], json!({}));
    let cy = &errs[1];
    assert_eq!(cy["objectWriteTraceId"], "t-3");
    assert_eq!(cy["context"]["objectWriteTraceId"], json!(["t-3"]));
    assert_eq!(
        cy["context"]["propertyName"],
        json!(["firstname", "lastname"])
    );
    assert_eq!(emails(&emu), ["ann@example.com"]);
}

#[test]
fn conditional_rule_on_creates_and_updates() {
    let emu = start(rules(ValidationErrorMode::WholeBatch));
    let c = Client::new(&emu);
    let names = json!({"firstname": "A", "lastname": "B", "country": "United States"});
    let a = upsert(
        &c,
        V2026_09,
        json!([by_email("us@example.com", names.clone())]),
    );
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["errors"],
        json!([{
            "code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
            "message": "state is required because of a conditional property rule based on [country]",
            "context": { "propertyName": ["state"] },
        }])
    );
    assert_eq!(a.body["context"]["ids"], json!(["us@example.com"]));
    let mut with_state = names.clone();
    with_state["state"] = json!("MA");
    let a = upsert(
        &c,
        V2026_09,
        json!([by_email("us@example.com", with_state)]),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);

    // An update is checked against the record it produces.
    let id = emu.add_contact([("email", "ca@example.com"), ("country", "Canada")]);
    let path = format!("{}/batch/update", V2026_09.objects("contacts"));
    let to_us = json!({"inputs": [{"id": id, "properties": {"country": "United States"}}]});
    let a = c.post(&path, to_us.clone());
    assert_eq!(a.status, 400);
    assert_eq!(a.body["context"]["ids"], json!([id]));
    assert_eq!(
        emu.contact_by_email("ca@example.com").unwrap().properties["country"],
        "Canada"
    );
    let march = format!("{}/batch/update", V2026_03.objects("contacts"));
    assert_eq!(c.post(&march, to_us).status, 200);
}

#[test]
fn rules_cover_other_object_types_that_define_the_property() {
    let opts = Options {
        required_on_create: vec!["name".into(), "firstname".into()],
        ..Options::default()
    };
    let emu = start(opts);
    let c = Client::new(&emu);
    let path = format!("{}/batch/upsert", V2026_09.objects("companies"));
    let input = |id: &str, props: Value| json!({"id": id, "idProperty": "external_id", "properties": props});
    let a = c.post(
        &path,
        json!({"inputs": [input("e-1", json!({"name": "Acme"})), input("e-2", json!({"domain": "x.com"}))]}),
    );
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.body["context"]["ids"], json!(["e-2"]));
    assert_eq!(a.body["context"]["propertyName"], json!(["name"]));
    assert!(emu.objects("companies").is_empty());
}
