//! Every CRM object type over real HTTP: tickets, products, line items and
//! the `pets` custom object answer the batch, single-object and properties
//! endpoints like companies and deals, keyed by their unique `external_id`
//! (and `pet_id`); a property that is not unique cannot key a write.

// Tests change one option of a default; assigning it reads plainly.
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::{start, Client, ALL, LEGACY, V2026_09};
use hubspot_emulator::Options;
use serde_json::{json, Value};

/// A type, one valid property set for it, and a property to update.
const TYPES: &[(&str, &str)] = &[
    (
        "contacts",
        r#"{"firstname": "Ann", "email": "ann@example.com"}"#,
    ),
    ("companies", r#"{"name": "Acme"}"#),
    ("deals", r#"{"dealname": "Big", "dealstage": "closedwon"}"#),
    (
        "tickets",
        r#"{"subject": "Broken", "hs_ticket_priority": "HIGH"}"#,
    ),
    (
        "products",
        r#"{"name": "Widget", "price": "9.5", "hs_sku": "W-1"}"#,
    ),
    (
        "line_items",
        r#"{"name": "Widget", "quantity": "3", "price": "9.5"}"#,
    ),
    ("pets", r#"{"name": "Rex", "species": "dog"}"#),
];

fn props(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap()
}

fn by_external(id: &str, props: Value) -> Value {
    json!({"id": id, "idProperty": "external_id", "properties": props})
}

#[test]
fn every_type_upserts_and_reads_by_external_id_in_every_family() {
    for family in ALL {
        let emu = start(Options::default());
        let c = Client::new(&emu);
        for (ty, raw) in TYPES {
            let upsert = format!("{}/batch/upsert", family.objects(ty));
            let a = c.post(&upsert, json!({"inputs": [by_external("X-1", props(raw))]}));
            assert_eq!(a.status, 200, "{ty}: {}", a.body);
            assert_eq!(a.body["results"][0]["new"], true, "{ty}");
            assert_eq!(a.body["results"][0]["properties"]["external_id"], "X-1");
            // Exact match: a different case is another record.
            let b = c.post(&upsert, json!({"inputs": [by_external("x-1", json!({}))]}));
            assert_eq!(b.body["results"][0]["new"], true, "{ty}");
            let again = c.post(&upsert, json!({"inputs": [by_external("X-1", json!({}))]}));
            assert_eq!(again.body["results"][0]["new"], false, "{ty}");
            assert_eq!(again.body["results"][0]["id"], a.body["results"][0]["id"]);

            let read = c.post(
                &format!("{}/batch/read", family.objects(ty)),
                json!({"idProperty": "external_id", "inputs": [{"id": "X-1"}, {"id": "nope"}]}),
            );
            assert_eq!(read.status, 207, "{ty}: {}", read.body);
            let found = &read.body["results"][0];
            assert_eq!(found["id"], a.body["results"][0]["id"], "{ty}");
            assert_eq!(found["properties"]["external_id"], "X-1", "{ty}");
            assert_eq!(read.body["errors"][0]["context"]["ids"], json!(["nope"]));
            let stored = emu.objects(ty);
            assert_eq!(stored.len(), 2, "{ty}");
            assert_eq!(stored[0].properties["external_id"], "X-1", "{ty}");
        }
    }
}

#[test]
fn new_types_have_their_standard_properties_and_system_ones() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    let expect: &[(&str, &[&str])] = &[
        (
            "tickets",
            &[
                "subject",
                "content",
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_priority",
            ],
        ),
        ("products", &["name", "description", "price", "hs_sku"]),
        (
            "line_items",
            &["name", "quantity", "price", "hs_product_id"],
        ),
        ("pets", &["name", "species", "pet_id"]),
    ];
    for (ty, names) in expect {
        let a = c.get(&V2026_09.properties(ty));
        assert_eq!(a.status, 200, "{ty}");
        let list = a.body["results"].as_array().unwrap();
        let has = |n: &str| list.iter().find(|p| p["name"] == n);
        for n in names
            .iter()
            .chain(&["hs_object_id", "createdate", "hs_lastmodifieddate"])
        {
            assert!(has(n).is_some(), "{ty} lacks {n}");
        }
        let ext = has("external_id").unwrap();
        assert_eq!(
            (ext["hasUniqueValue"].clone(), ext["label"].clone()),
            (json!(true), json!("External ID"))
        );
        assert_eq!(
            has("hs_object_id").unwrap()["modificationMetadata"]["readOnlyValue"],
            true
        );
    }
    let prio = c.get(&LEGACY.properties("tickets/hs_ticket_priority"));
    let values: Vec<&Value> = prio.body["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["value"])
        .collect();
    assert_eq!(values, [&json!("LOW"), &json!("MEDIUM"), &json!("HIGH")]);
    assert_eq!(
        c.get(&LEGACY.properties("pets/pet_id")).body["hasUniqueValue"],
        true
    );
    assert_eq!(
        c.get(&LEGACY.properties("companies/domain")).body["hasUniqueValue"],
        false
    );
    assert_eq!(
        c.get(&LEGACY.properties("contacts/external_id")).body["hasUniqueValue"],
        true
    );
    assert_eq!(c.get(&LEGACY.properties("contacts/email")).status, 200);
}

#[test]
fn the_custom_object_answers_to_its_name_fqn_and_type_id() {
    let mut opts = Options::default();
    opts.portal_id = 777;
    let emu = start(opts);
    let c = Client::new(&emu);
    let create = c.post(
        &format!("{}/batch/create", LEGACY.objects("p777_pets")),
        json!({"inputs": [{"properties": {"name": "Tom", "species": "cat", "pet_id": "P-1"}}]}),
    );
    assert_eq!(create.status, 201, "{}", create.body);
    let id = create.body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = c.get(&format!(
        "{}/P-1?idProperty=pet_id&properties=name",
        V2026_09.objects("2-90001")
    ));
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["id"], id.as_str());
    assert_eq!(one.body["properties"]["name"], "Tom");
    assert_eq!(
        c.get(&format!("{}/{id}", LEGACY.objects("p778_pets")))
            .status,
        404
    );
    let bad = c.post(
        &format!("{}/batch/upsert", LEGACY.objects("pets")),
        json!({"inputs": [{"id": "P-2", "idProperty": "pet_id", "properties": {"species": "fish"}}]}),
    );
    assert_eq!(bad.status, 207);
    assert_eq!(bad.body["errors"][0]["errors"][0]["code"], "INVALID_OPTION");
    // Stats count the custom object under its short name.
    assert_eq!(
        emu.stats()
            .count("GET", "/crm/objects/2026-09/pets/{id}", 200),
        1
    );
    assert_eq!(emu.objects("p777_pets").len(), 1);
}

#[test]
fn single_object_endpoints_and_list_work_for_new_types() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    for (ty, raw) in TYPES.iter().skip(3) {
        let base = V2026_09.objects(ty);
        let a = c.post(&base, json!({"properties": props(raw)}));
        assert_eq!(a.status, 201, "{ty}: {}", a.body);
        let id = a.body["id"].as_str().unwrap();
        let u = c.call(
            "PATCH",
            &format!("{base}/{id}"),
            Some(json!({"properties": {"external_id": "E-9"}})),
        );
        assert_eq!(u.status, 200, "{ty}: {}", u.body);
        let l = c.get(&format!("{base}?properties=external_id"));
        assert_eq!(
            l.body["results"][0]["properties"]["external_id"], "E-9",
            "{ty}"
        );
        assert_eq!(c.call("DELETE", &format!("{base}/{id}"), None).status, 204);
        assert!(emu.objects(ty).is_empty(), "{ty}");
    }
}

#[test]
fn an_id_property_that_is_not_unique_or_unknown_is_refused() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    for (ty, prop, type_id) in [
        ("tickets", "subject", "0-5"),
        ("products", "hs_sku", "0-7"),
        ("line_items", "name", "0-8"),
        ("pets", "name", "2-90001"),
        ("companies", "domain", "0-2"),
        ("deals", "no_such_property", "0-3"),
    ] {
        let a = c.post(
            &format!("{}/batch/upsert", LEGACY.objects(ty)),
            json!({"inputs": [{"id": "v", "idProperty": prop, "properties": {}}]}),
        );
        assert_eq!(a.status, 400, "{ty}");
        assert_eq!(a.body["category"], "VALIDATION_ERROR");
        assert_eq!(
            a.body["message"],
            format!("Unable to perform update/upsert by non-unique {type_id} property {prop}")
        );
    }
    assert!(emu.objects("tickets").is_empty());
}

#[test]
fn contacts_upsert_by_external_id_and_still_by_email() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    let upsert = format!("{}/batch/upsert", LEGACY.objects("contacts"));
    let a = c.post(
        &upsert,
        json!({"inputs": [by_external("C-1", json!({"email": "Zed@Example.com"}))]}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let b = c.post(
        &upsert,
        json!({"inputs": [{"id": "ZED@example.com", "idProperty": "email", "properties": {"firstname": "Zed"}}]}),
    );
    assert_eq!(b.body["results"][0]["new"], false);
    let c2 = emu.contact_by_email("zed@example.com").unwrap();
    assert_eq!(c2.properties["external_id"], "C-1");
    assert_eq!(c2.properties["firstname"], "Zed");
    // Another contact cannot take the same external id (an email upsert
    // fails whole by default).
    let dup = c.post(
        &upsert,
        json!({"inputs": [{"id": "amy@example.com", "idProperty": "email", "properties": {"external_id": "C-1"}}]}),
    );
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert_eq!(
        dup.body["message"],
        "Contact already exists. Existing ID: 101"
    );
}

#[test]
fn default_scopes_cover_every_type_and_narrow_tokens_are_refused() {
    let mut opts = Options::default();
    opts.tokens.push(
        hubspot_emulator::TokenSpec::new("pat-narrow").with_scopes(&["crm.objects.tickets.read"]),
    );
    let emu = start(opts);
    let narrow = Client::with_token(&emu, Some("pat-narrow"));
    assert_eq!(narrow.get(&LEGACY.objects("tickets")).status, 200);
    let w = narrow.post(
        &format!("{}/batch/create", LEGACY.objects("tickets")),
        json!({"inputs": [{"properties": {"subject": "x"}}]}),
    );
    assert_eq!(w.status, 403);
    assert_eq!(
        w.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.tickets.write"])
    );
    let p = narrow.get(&LEGACY.objects("pets"));
    assert_eq!(
        p.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.custom.read"])
    );
    let props = narrow.get(&LEGACY.properties("pets"));
    assert_eq!(
        props.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.custom.read", "crm.schemas.custom.read"])
    );
}
