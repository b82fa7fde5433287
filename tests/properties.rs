//! Records checked against the account's property definitions before they
//! are sent: normalisation, rejection with the property and reason, unknown
//! property modes, the null policy and the field mapping.

mod common;

use common::*;
use hubspot_emulator::{TokenSpec, DEFAULT_SCOPES};
use serde_json::{json, Value};

fn sync(emu: &Emulator, extra: Value, records: &[Value]) -> (Run, Scratch) {
    let s = Scratch::new("props");
    let mut extra = extra;
    extra["rejected_records_path"] = json!(s.path("rejected.jsonl").to_str().unwrap());
    let input = records
        .iter()
        .map(|r| record(r.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    let run = write(&s, &config(emu, extra), &input);
    (run, s)
}

#[test]
fn values_are_normalised_to_what_hubspot_accepts() {
    let emu = start(quick());
    let (run, _) = sync(
        &emu,
        json!({}),
        &[json!({
            "email": "n@x.io",
            "annualrevenue": "1.5e3",
            "followercount": 12.0,
            "newsletter_opt_in": "TRUE",
            "renewal_date": "2024-02-29T00:00:00.000Z",
            "closedate": "2024-03-01",
            "interests": ["Analytics", "crm"],
            "hs_lead_status": "In Progress",
            "numemployees": "1000+",
            "website": 42,
        })],
    );
    assert_eq!(run.code, 0, "{}", run.logs());
    let c = emu.contact_by_email("n@x.io").expect("written").properties;
    assert_eq!(c["annualrevenue"], "1500");
    assert_eq!(c["followercount"], "12");
    assert_eq!(c["newsletter_opt_in"], "true");
    assert_eq!(c["renewal_date"], "2024-02-29");
    assert!(
        c["closedate"].starts_with("2024-03-01T00:00:00"),
        "{}",
        c["closedate"]
    );
    assert_eq!(c["interests"], "analytics;crm");
    assert_eq!(c["hs_lead_status"], "IN_PROGRESS");
    assert_eq!(c["numemployees"], "1000+");
    assert_eq!(c["website"], "42");
}

#[test]
fn values_that_cannot_be_normalised_reject_the_record_naming_the_property() {
    let emu = start(quick());
    let cases = [
        (
            json!({"email": "a@x.io", "annualrevenue": "lots"}),
            "annualrevenue",
        ),
        (
            json!({"email": "b@x.io", "newsletter_opt_in": "maybe"}),
            "newsletter_opt_in",
        ),
        (
            json!({"email": "c@x.io", "renewal_date": "2024-02-30"}),
            "renewal_date",
        ),
        (
            json!({"email": "d@x.io", "renewal_date": "01/05/2024"}),
            "renewal_date",
        ),
        (
            json!({"email": "e@x.io", "closedate": "yesterday"}),
            "closedate",
        ),
        (
            json!({"email": "f@x.io", "interests": ["analytics", "knitting"]}),
            "interests",
        ),
        (
            json!({"email": "g@x.io", "hs_lead_status": "HOT"}),
            "hs_lead_status",
        ),
        (
            json!({"email": "h@x.io", "annualrevenue": "1,234"}),
            "annualrevenue",
        ),
        (
            json!({"email": "i@x.io", "firstname": "x".repeat(65_537)}),
            "firstname",
        ),
    ];
    let records: Vec<Value> = cases
        .iter()
        .map(|c| c.0.clone())
        .chain([json!({"email": "ok@x.io", "firstname": "Fine"})])
        .collect();
    let (run, s) = sync(&emu, json!({}), &records);
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu), vec!["ok@x.io"]);
    let rejected = rejections(&s);
    assert_eq!(rejected.len(), cases.len());
    for (r, (_, property)) in rejected.iter().zip(&cases) {
        assert!(r["message"].as_str().unwrap().contains(property), "{r}");
    }
    // Nothing invalid reached HubSpot: no refused batch.
    assert_eq!(
        emu.stats()
            .count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 400),
        0
    );
}

#[test]
fn unknown_properties_are_dropped_and_reported_by_default() {
    let emu = start(quick());
    let (run, _) = sync(
        &emu,
        json!({}),
        &[
            json!({"email": "a@x.io", "shoe_size": 44, "firstname": "A"}),
            json!({"email": "b@x.io", "shoe_size": 45}),
        ],
    );
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu), vec!["a@x.io", "b@x.io"]);
    assert_eq!(prop(&emu, "a@x.io", "firstname").as_deref(), Some("A"));
    assert_eq!(
        run.logs().matches("shoe_size").count(),
        1,
        "reported once: {}",
        run.logs()
    );
}

#[test]
fn ten_thousand_unknown_fields_make_one_warning_line() {
    let emu = start(quick());
    let mut wide = json!({"email": "wide@x.io", "firstname": "W"});
    for i in 0..10_000 {
        wide[format!("col_{i}")] = json!("x");
    }
    let (run, _) = sync(&emu, json!({}), &[wide.clone(), wide]);
    assert_eq!(run.code, 0);
    assert_eq!(prop(&emu, "wide@x.io", "firstname").as_deref(), Some("W"));
    let logs = run.logs();
    let warned: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("not HubSpot contact properties"))
        .collect();
    assert_eq!(warned.len(), 1, "{}", warned.len());
    assert!(warned[0].contains("and 9980 more"), "{}", warned[0]);
}

#[test]
fn unknown_properties_reject_the_record_when_asked() {
    let emu = start(quick());
    let (run, s) = sync(
        &emu,
        json!({"unknown_properties": "reject"}),
        &[
            json!({"email": "a@x.io", "shoe_size": 44}),
            json!({"email": "b@x.io"}),
        ],
    );
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu), vec!["b@x.io"]);
    assert!(rejections(&s)[0]["message"]
        .as_str()
        .unwrap()
        .contains("shoe_size"));
}

/// An emulator whose token may also create contact properties.
fn with_schema_write_scope() -> Emulator {
    let mut scopes: Vec<&str> = DEFAULT_SCOPES.to_vec();
    scopes.push("crm.schemas.contacts.write");
    start(Options {
        tokens: vec![TokenSpec::new(DEFAULT_TOKEN).with_scopes(&scopes)],
        ..quick()
    })
}

#[test]
fn unknown_properties_are_created_as_text_when_the_token_may() {
    let emu = with_schema_write_scope();
    let (run, _) = sync(
        &emu,
        json!({"unknown_properties": "create"}),
        &[
            json!({"email": "a@x.io", "shoe_size": 44}),
            json!({"email": "b@x.io", "shoe_size": "9½"}),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(prop(&emu, "a@x.io", "shoe_size").as_deref(), Some("44"));
    assert_eq!(prop(&emu, "b@x.io", "shoe_size").as_deref(), Some("9½"));
    assert_eq!(
        emu.stats()
            .count("POST", "/crm/properties/2026-09/contacts", 201),
        1
    );
}

#[test]
fn a_created_property_reaches_every_record_decoded_in_parallel() {
    // Many records over many chunks and decoder threads: those
    // decoded before the property existed are mapped again, none loses it.
    let emu = with_schema_write_scope();
    let records: Vec<Value> = (0..1500)
        .map(|n| json!({"email": format!("c{n}@x.io"), "shoe_size": format!("{}", n % 50), "padding": "x".repeat(1000)}))
        .collect();
    let (run, _) = sync(&emu, json!({"unknown_properties": "create"}), &records);
    assert_eq!(run.code, 0, "{}", run.logs());
    for n in (0..1500).step_by(7) {
        let want = format!("{}", n % 50);
        assert_eq!(
            prop(&emu, &format!("c{n}@x.io"), "shoe_size").as_deref(),
            Some(want.as_str()),
            "record {n}"
        );
    }
    assert_eq!(
        emu.stats()
            .count("POST", "/crm/properties/2026-09/contacts", 201),
        2,
        "shoe_size and padding, once each"
    );
}

#[test]
fn creating_properties_without_the_schema_write_scope_is_a_config_error() {
    let emu = start(quick());
    let (run, _) = sync(
        &emu,
        json!({"unknown_properties": "create"}),
        &[
            json!({"email": "a@x.io"}),
            json!({"email": "b@x.io", "shoe_size": 44}),
        ],
    );
    let message = run.failed_with("config_error");
    assert!(message.contains("crm.schemas.contacts.write"), "{message}");
    // The record before the problem still landed.
    assert_eq!(emails(&emu), vec!["a@x.io"]);
}

#[test]
fn nulls_leave_values_alone_by_default_and_clear_them_when_asked() {
    let emu = start(quick());
    emu.add_contact([("email", "a@x.io"), ("firstname", "Ann"), ("city", "Oslo")]);
    let (run, _) = sync(
        &emu,
        json!({}),
        &[json!({"email": "a@x.io", "firstname": null, "city": "Bergen"})],
    );
    assert_eq!(run.code, 0);
    assert_eq!(prop(&emu, "a@x.io", "firstname").as_deref(), Some("Ann"));
    assert_eq!(prop(&emu, "a@x.io", "city").as_deref(), Some("Bergen"));
    let (run, _) = sync(
        &emu,
        json!({"null_values": "clear"}),
        &[json!({"email": "a@x.io", "firstname": null})],
    );
    assert_eq!(run.code, 0);
    assert_eq!(prop(&emu, "a@x.io", "firstname").unwrap_or_default(), "");
    assert_eq!(prop(&emu, "a@x.io", "city").as_deref(), Some("Bergen"));
}

#[test]
fn a_null_merged_after_a_value_in_one_batch_follows_the_policy() {
    let emu = start(quick());
    let records = [
        json!({"email": "a@x.io", "city": "Oslo"}),
        json!({"email": "A@x.io", "city": null}),
    ];
    sync(&emu, json!({}), &records);
    assert_eq!(prop(&emu, "a@x.io", "city").as_deref(), Some("Oslo"));
    let emu = start(quick());
    sync(&emu, json!({"null_values": "clear"}), &records);
    assert_eq!(prop(&emu, "a@x.io", "city").unwrap_or_default(), "");
}

#[test]
fn fields_can_be_mapped_to_differently_named_properties() {
    let emu = start(quick());
    let mapping =
        json!({"first_name": "firstname", "address.city": "city", "contact.mail": "email"});
    let (run, _) = sync(
        &emu,
        json!({"property_mapping": mapping}),
        &[
            json!({"contact": {"mail": " Mapped@X.io "}, "first_name": "Map", "address": {"city": "Lima", "zip": "15001"}}),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(
        prop(&emu, "mapped@x.io", "firstname").as_deref(),
        Some("Map")
    );
    assert_eq!(prop(&emu, "mapped@x.io", "city").as_deref(), Some("Lima"));
}

#[test]
fn custom_properties_of_the_account_work_like_standard_ones() {
    let emu = with_schema_write_scope();
    // Define a custom number property through the API, as a user would.
    let body = json!({"name": "loyalty_points", "label": "Loyalty points", "type": "number", "fieldType": "number", "groupName": "contactinformation"});
    let agent = ureq::Agent::new_with_defaults();
    let answer = agent
        .post(&format!("{}/crm/v3/properties/contacts", emu.base_url()))
        .header("Authorization", &format!("Bearer {DEFAULT_TOKEN}"))
        .send_json(&body)
        .unwrap();
    assert_eq!(answer.status(), 201);
    let (run, s) = sync(
        &emu,
        json!({}),
        &[
            json!({"email": "a@x.io", "loyalty_points": 10.0}),
            json!({"email": "b@x.io", "loyalty_points": "many"}),
        ],
    );
    assert_eq!(run.code, 0);
    assert_eq!(
        prop(&emu, "a@x.io", "loyalty_points").as_deref(),
        Some("10")
    );
    assert!(rejections(&s)[0]["message"]
        .as_str()
        .unwrap()
        .contains("loyalty_points"));
}

/// HubSpot's 409 "… Existing ID: N" on an upsert means contact N owns a
/// unique value this record claims: N is another person and must not be
/// overwritten; the record is rejected as a conflict, its batch mates land.
#[test]
fn a_unique_value_owned_by_another_contact_is_a_conflict_not_an_overwrite() {
    let emu = with_schema_write_scope();
    let body = json!({"name": "member_id", "label": "Member id", "type": "string", "fieldType": "text", "groupName": "contactinformation", "hasUniqueValue": true});
    let answer = ureq::Agent::new_with_defaults()
        .post(&format!("{}/crm/v3/properties/contacts", emu.base_url()))
        .header("Authorization", &format!("Bearer {DEFAULT_TOKEN}"))
        .send_json(&body)
        .unwrap();
    assert_eq!(answer.status(), 201);
    emu.add_contact([
        ("email", "owner@x.io"),
        ("member_id", "M-7"),
        ("firstname", "Owner"),
    ]);
    let records = [
        json!({"email": "ok1@x.io", "member_id": "M-1"}),
        json!({"email": "claimer@x.io", "member_id": "M-7", "firstname": "Claimer"}),
        json!({"email": "ok2@x.io", "member_id": "M-2"}),
    ];
    let (run, s) = sync(&emu, json!({}), &records);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(
        prop(&emu, "owner@x.io", "firstname").as_deref(),
        Some("Owner")
    );
    assert_eq!(emails(&emu), vec!["ok1@x.io", "ok2@x.io", "owner@x.io"]);
    let rejected = rejections(&s);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["reason"], "conflict");
    assert_eq!(rejected[0]["line"], 2);
}
