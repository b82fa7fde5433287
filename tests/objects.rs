//! Streams written to other CRM objects than contacts: chosen by Airbyte's
//! object mapping (`destination_object_name` + primary key) or by the
//! config's `objects`, matched by a unique property or the record id.

mod common;

use common::*;
use serde_json::{json, Value};

/// A catalog of `streams`: (name, destination_object_name, primary key).
fn catalog(streams: &[(&str, Option<&str>, Option<&str>)]) -> String {
    let streams: Vec<Value> = streams
        .iter()
        .map(|(name, object, key)| {
            let mut s = json!({"stream": {"name": name, "json_schema": {}}, "sync_mode": "incremental", "destination_sync_mode": "append_dedup"});
            if let Some(o) = object {
                s["destination_object_name"] = json!(o);
            }
            if let Some(k) = key {
                s["primary_key"] = json!([[k]]);
            }
            s
        })
        .collect();
    json!({ "streams": streams }).to_string()
}

/// A RECORD line of `stream`.
fn rec(stream: &str, data: Value) -> String {
    json!({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}})
        .to_string()
}

/// The emulator's records of `object` as (key property value, property).
fn values(
    emu: &hubspot_emulator::Emulator,
    object: &str,
    key: &str,
    prop: &str,
) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = emu
        .objects(object)
        .into_iter()
        .map(|o| {
            let get = |k: &str| o.properties.get(k).cloned().unwrap_or_default();
            (get(key), get(prop))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_stream_mapped_to_companies_is_upserted_by_its_matching_key() {
    let emu = start(quick());
    emu.add_object(
        "companies",
        [("external_id", "acme-1"), ("name", "Old"), ("city", "Oslo")],
    );
    let s = Scratch::new("objects-mapped");
    let catalog = catalog(&[("accounts", Some("companies"), Some("external_id"))]);
    let input = [
        rec("accounts", json!({"external_id": "acme-1", "name": "Acme"})),
        rec(
            "accounts",
            json!({"external_id": "globex-2", "name": "Globex", "numberofemployees": "1 200"}),
        ),
        rec(
            "accounts",
            json!({"external_id": "globex-2", "city": "Bergen"}),
        ),
        rec("accounts", json!({"name": "No key"})),
        state(1),
    ]
    .join("\n");
    let run = write_with(&s, &config(&emu, json!({})), &catalog, &[], &input);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(cursors(&run), vec![1]);
    assert_eq!(
        values(&emu, "companies", "external_id", "name"),
        vec![
            ("acme-1".into(), "Acme".into()),
            ("globex-2".into(), "Globex".into())
        ]
    );
    let globex = emu
        .objects("companies")
        .into_iter()
        .find(|c| c.properties["external_id"] == "globex-2")
        .unwrap();
    assert_eq!(globex.properties["city"], "Bergen", "merged in input order");
    assert_eq!(globex.properties["numberofemployees"], "1200");
    let acme = &emu.objects("companies")[0];
    assert_eq!(acme.properties["city"], "Oslo", "a value not sent is kept");
    assert!(emu.contacts().is_empty(), "nothing written as contacts");
    let logs = run.logs();
    assert!(logs.contains("no_matching_key"), "{logs}");
    assert!(
        logs.contains("`external_id` (the companies matching key) is not in the record"),
        "{logs}"
    );
}

#[test]
fn the_config_names_objects_for_runs_without_object_mapping() {
    let emu = start(quick());
    let s = Scratch::new("objects-config");
    let catalog = catalog(&[
        ("accounts", None, Some("id")),
        ("contacts", None, Some("id")),
        ("opportunities", None, None),
    ]);
    let cfg = config(
        &emu,
        json!({"objects": {
            "accounts": {"object": "companies", "matching_key": "external_id"},
            "opportunities": {"object": "0-3", "matching_key": "external_id"}
        }}),
    );
    let input = [
        rec("accounts", json!({"External ID": "acme-1", "name": "Acme"})),
        rec("contacts", json!({"email": "Ann@X.io", "firstname": "Ann"})),
        rec(
            "opportunities",
            json!({"external_id": 4711, "dealname": "Big deal", "amount": "1 000"}),
        ),
        state(1),
    ]
    .join("\n");
    let run = write_with(&s, &cfg, &catalog, &[], &input);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(cursors(&run), vec![1]);
    assert_eq!(
        values(&emu, "companies", "external_id", "name"),
        vec![("acme-1".into(), "Acme".into())]
    );
    assert_eq!(
        values(&emu, "deals", "external_id", "amount"),
        vec![("4711".into(), "1000".into())]
    );
    assert_eq!(emails(&emu), vec!["ann@x.io"]);
}

#[test]
fn a_matching_key_without_unique_values_is_refused_naming_the_unique_ones() {
    let emu = start(quick());
    let s = Scratch::new("objects-bad-key");
    let input = [rec("accounts", json!({"domain": "acme.com"})), state(1)].join("\n");
    for (catalog, place) in [
        (
            catalog(&[("accounts", Some("companies"), Some("domain"))]),
            "catalog /streams/0",
        ),
        (
            catalog(&[("accounts", Some("companies"), None)]),
            "catalog /streams/0",
        ),
    ] {
        let run = write_with(&s, &config(&emu, json!({})), &catalog, &[], &input);
        let message = run.failed_with("config_error");
        assert!(
            message.contains(place) && message.contains("external_id"),
            "{message}"
        );
        assert!(message.contains("unique"), "{message}");
        assert!(run.states().is_empty());
    }
    let cfg = config(
        &emu,
        json!({"objects": {"accounts": {"object": "widgets", "matching_key": "x"}}}),
    );
    let run = write_with(&s, &cfg, &catalog(&[("accounts", None, None)]), &[], &input);
    let message = run.failed_with("config_error");
    assert!(
        message.contains("config /objects/accounts")
            && message.contains("`widgets` is not a HubSpot object"),
        "{message}"
    );
    assert!(emu.objects("companies").is_empty());
}

#[test]
fn the_record_id_updates_existing_records_only() {
    let emu = start(quick());
    let id = emu.add_object("companies", [("name", "Old name"), ("city", "Oslo")]);
    let s = Scratch::new("objects-by-id");
    let catalog = catalog(&[("accounts", Some("companies"), Some("hs_object_id"))]);
    let input = [
        rec(
            "accounts",
            json!({"hs_object_id": id.parse::<u64>().unwrap(), "name": "New name"}),
        ),
        rec(
            "accounts",
            json!({"hs_object_id": "not-an-id", "name": "Nope"}),
        ),
        state(1),
    ]
    .join("\n");
    let run = write_with(&s, &config(&emu, json!({})), &catalog, &[], &input);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(cursors(&run), vec![1]);
    let companies = emu.objects("companies");
    assert_eq!(companies.len(), 1, "nothing created");
    assert_eq!(companies[0].properties["name"], "New name");
    assert_eq!(companies[0].properties["city"], "Oslo");
    assert!(
        run.logs().contains("is not a HubSpot record id"),
        "{}",
        run.logs()
    );
}

#[test]
fn every_object_kind_is_written_with_its_own_rules() {
    let emu = start(quick());
    let s = Scratch::new("objects-kinds");
    let catalog = catalog(&[
        ("accounts", Some("companies"), Some("external_id")),
        ("opportunities", Some("deals"), Some("external_id")),
        ("cases", Some("tickets"), Some("external_id")),
        ("catalogue", Some("products"), Some("external_id")),
        ("order_lines", Some("line_items"), Some("external_id")),
        ("animals", Some("pets"), Some("pet_id")),
    ]);
    let cfg = config(&emu, json!({"lifecycle_stage_policy": "forward_only"}));
    let input = [
        rec("accounts", json!({"external_id": "c1", "name": "Acme", "lifecyclestage": "Customer"})),
        rec("accounts", json!({"external_id": "c1", "lifecyclestage": "lead"})),
        rec("opportunities", json!({"external_id": "d1", "dealname": "Renewal", "pipeline": "renewals", "dealstage": "renewal_open"})),
        rec("opportunities", json!({"external_id": "d2", "dealname": "New", "dealstage": "closedwon", "amount": 12.5})),
        rec("opportunities", json!({"external_id": "d3", "dealname": "Wrong", "dealstage": "renewal_won"})),
        rec("cases", json!({"external_id": "t1", "subject": "Broken", "hs_pipeline": "0", "hs_pipeline_stage": "1", "hs_ticket_priority": "high"})),
        rec("catalogue", json!({"external_id": "p1", "name": "Widget", "price": "9.99"})),
        rec("order_lines", json!({"external_id": "l1", "name": "2 widgets", "quantity": 2, "price": 9.99})),
        rec("animals", json!({"pet_id": "rex", "name": "Rex", "species": "Dog"})),
        state(1),
    ]
    .join("\n");
    let run = write_with(&s, &cfg, &catalog, &[], &input);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(cursors(&run), vec![1]);
    assert_eq!(
        values(&emu, "companies", "external_id", "lifecyclestage"),
        vec![("c1".into(), "customer".into())],
        "forward only: the later, earlier stage does not apply"
    );
    assert_eq!(
        values(&emu, "deals", "external_id", "dealstage"),
        vec![
            ("d1".into(), "renewal_open".into()),
            ("d2".into(), "closedwon".into())
        ]
    );
    let logs = run.logs();
    assert!(
        logs.contains("dealstage: ") && logs.contains("is not a stage of the default pipeline"),
        "{logs}"
    );
    assert_eq!(
        values(&emu, "tickets", "external_id", "hs_ticket_priority"),
        vec![("t1".into(), "HIGH".into())]
    );
    assert_eq!(
        values(&emu, "products", "external_id", "price"),
        vec![("p1".into(), "9.99".into())]
    );
    assert_eq!(
        values(&emu, "line_items", "external_id", "quantity"),
        vec![("l1".into(), "2".into())]
    );
    assert_eq!(
        values(&emu, "pets", "pet_id", "species"),
        vec![("rex".into(), "dog".into())]
    );
    assert!(emu.contacts().is_empty());
}

#[test]
fn an_admin_rule_on_deals_rejects_only_the_deal_it_applies_to_in_both_error_styles() {
    use hubspot_emulator::{Options, ValidationErrorMode};
    for mode in [
        ValidationErrorMode::WholeBatch,
        ValidationErrorMode::MultiStatus,
    ] {
        let emu = start(Options {
            required_on_create: vec!["dealname".into()],
            validation_error_mode: mode,
            ..quick()
        });
        // An existing deal without a name: updating it is not a create.
        emu.add_object("deals", [("external_id", "d1"), ("amount", "5")]);
        let s = Scratch::new("objects-rules");
        let catalog = catalog(&[("opportunities", Some("deals"), Some("external_id"))]);
        let input = [
            rec("opportunities", json!({"external_id": "d1", "amount": 7})),
            rec(
                "opportunities",
                json!({"external_id": "d2", "dealname": "New", "amount": 1}),
            ),
            rec("opportunities", json!({"external_id": "d3", "amount": 2})),
            state(1),
        ]
        .join("\n");
        let run = write_with(&s, &config(&emu, json!({})), &catalog, &[], &input);
        assert_eq!(run.code, 0, "{mode:?}: {}", run.logs());
        assert_eq!(cursors(&run), vec![1]);
        assert_eq!(
            values(&emu, "deals", "external_id", "amount"),
            vec![("d1".into(), "7".into()), ("d2".into(), "1".into())],
            "{mode:?}"
        );
        let logs = run.logs();
        assert!(
            logs.contains("missing_required_property on dealname: 1 record(s) rejected"),
            "{mode:?}: {logs}"
        );
    }
}
