//! The associations API over real HTTP, in the v4 and date-based families:
//! associate-default, create with types, read; both directions, primary
//! labels, missing records in both error styles, unknown types, limits,
//! scopes, and how associations meet archive, reset, inspection, rate
//! limits and faults.

// Tests change one option of a default; assigning it reads plainly.
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::{start, Client, Family, LEGACY, V2026_03, V2026_09};
use hubspot_emulator::{
    AssociationSnapshot, Emulator, FaultPlan, Options, TokenSpec, ValidationErrorMode,
};
use serde_json::{json, Value};

/// `/crm/v4/associations/{from}/{to}/batch/{op}` or
/// `/crm/associations/VER/{from}/{to}/batch/{op}`.
fn assoc(family: Family, from: &str, to: &str, op: &str) -> String {
    match family.0 {
        None => format!("/crm/v4/associations/{from}/{to}/batch/{op}"),
        Some(v) => format!("/crm/associations/{v}/{from}/{to}/batch/{op}"),
    }
}

fn pair(from: &str, to: &str) -> Value {
    json!({"from": {"id": from}, "to": {"id": to}})
}

fn typed(from: &str, to: &str, ids: &[i64]) -> Value {
    let types: Vec<Value> = ids
        .iter()
        .map(|id| json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": id}))
        .collect();
    json!({"from": {"id": from}, "to": {"id": to}, "types": types})
}

fn inputs(list: Vec<Value>) -> Value {
    json!({ "inputs": list })
}

fn links(emu: &Emulator, from: &str, to: &str) -> Vec<(String, String, Vec<u32>)> {
    emu.associations(from, to)
        .into_iter()
        .map(|AssociationSnapshot { from, to, types }| (from, to, types))
        .collect()
}

fn own(list: &[(&str, &str, &[u32])]) -> Vec<(String, String, Vec<u32>)> {
    list.iter()
        .map(|(f, t, ids)| (f.to_string(), t.to_string(), ids.to_vec()))
        .collect()
}

/// An emulator with contacts 101, 102, companies 103, 104, deal 105.
fn seeded(opts: Options) -> Emulator {
    let emu = start(opts);
    emu.add_contact([("email", "a@example.com")]);
    emu.add_contact([("email", "b@example.com")]);
    emu.add_object("companies", [("name", "Acme")]);
    emu.add_object("companies", [("name", "Beta")]);
    emu.add_object("deals", [("dealname", "Big")]);
    emu
}

#[test]
fn associate_default_links_both_ways_in_every_family() {
    for family in [LEGACY, V2026_03, V2026_09] {
        let emu = seeded(Options::default());
        let c = Client::new(&emu);
        let a = c.post(
            &assoc(family, "contacts", "companies", "associate/default"),
            inputs(vec![pair("101", "103"), pair("102", "103")]),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["status"], "COMPLETE");
        assert!(a.body["startedAt"].is_string() && a.body["completedAt"].is_string());
        assert_eq!(
            a.body["results"][0],
            json!({"from": {"id": "101"}, "to": {"id": "103"},
                   "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}})
        );
        // Idempotent.
        let again = c.post(
            &assoc(family, "0-1", "0-2", "associate/default"),
            inputs(vec![pair("101", "103")]),
        );
        assert_eq!(again.status, 200);
        assert_eq!(
            links(&emu, "contacts", "companies"),
            own(&[("101", "103", &[279]), ("102", "103", &[279])])
        );
        assert_eq!(
            links(&emu, "companies", "contacts"),
            own(&[("103", "101", &[280]), ("103", "102", &[280])])
        );
        // The reverse direction reads back through the API too.
        let r = c.post(
            &assoc(family, "companies", "contacts", "read"),
            inputs(vec![json!({"id": "103"})]),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.body["results"][0],
            json!({"from": {"id": "103"}, "to": [
                {"toObjectId": 101, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 280, "label": null}]},
                {"toObjectId": 102, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 280, "label": null}]},
            ]})
        );
        let template = assoc(family, "contacts", "companies", "associate/default");
        assert_eq!(emu.stats().count("POST", &template, 200), 2, "{template}");
    }
}

#[test]
fn create_with_a_primary_label_replaces_the_previous_primary() {
    let emu = seeded(Options::default());
    let c = Client::new(&emu);
    let path = assoc(V2026_09, "contacts", "companies", "create");
    let a = c.post(&path, inputs(vec![typed("101", "103", &[1])]));
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(
        a.body["results"][0],
        json!({"fromObjectTypeId": "0-1", "fromObjectId": 101, "toObjectTypeId": "0-2",
               "toObjectId": 103, "labels": ["Primary"]})
    );
    assert_eq!(
        links(&emu, "contacts", "companies"),
        own(&[("101", "103", &[1, 279])])
    );
    assert_eq!(
        links(&emu, "companies", "contacts"),
        own(&[("103", "101", &[2, 280])])
    );
    let b = c.post(&path, inputs(vec![typed("101", "104", &[1, 279])]));
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(
        links(&emu, "contacts", "companies"),
        own(&[("101", "103", &[279]), ("101", "104", &[1, 279])])
    );
    let r = c.post(
        &assoc(LEGACY, "contacts", "companies", "read"),
        inputs(vec![json!({"id": "101"})]),
    );
    assert_eq!(
        r.body["results"][0]["to"][1]["associationTypes"],
        json!([{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
               {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": null}])
    );
    // A deal's primary company, set from the company side (type 6).
    let d = c.post(
        &assoc(LEGACY, "companies", "deals", "create"),
        inputs(vec![typed("103", "105", &[6]), typed("104", "105", &[6])]),
    );
    assert_eq!(d.status, 201, "{}", d.body);
    assert_eq!(
        links(&emu, "deals", "companies"),
        own(&[("105", "103", &[341]), ("105", "104", &[5, 341])])
    );
}

#[test]
fn unknown_types_fail_their_input_only() {
    let emu = seeded(Options::default());
    let c = Client::new(&emu);
    let user_defined = json!({"from": {"id": "102"}, "to": {"id": "103"},
        "types": [{"associationCategory": "USER_DEFINED", "associationTypeId": 279}]});
    let a = c.post(
        &assoc(LEGACY, "contacts", "companies", "create"),
        inputs(vec![
            typed("101", "103", &[279]),
            typed("101", "104", &[5]),
            user_defined,
        ]),
    );
    assert_eq!(a.status, 207, "{}", a.body);
    assert_eq!(a.body["numErrors"], 2);
    assert_eq!(a.body["results"].as_array().unwrap().len(), 1);
    let e = &a.body["errors"][0];
    assert_eq!(e["category"], "VALIDATION_ERROR");
    assert_eq!(e["context"]["associationTypeId"], json!(["5"]));
    assert_eq!(e["context"]["toObjectId"], json!(["104"]));
    assert_eq!(
        a.body["errors"][1]["context"]["fromObjectId"],
        json!(["102"])
    );
    assert_eq!(
        links(&emu, "contacts", "companies"),
        own(&[("101", "103", &[279])])
    );
    // Products have no association types with contacts at all.
    emu.add_object("products", [("name", "W")]);
    let p = c.post(
        &assoc(LEGACY, "products", "contacts", "associate/default"),
        inputs(vec![pair("106", "101")]),
    );
    assert_eq!(p.status, 400, "{}", p.body);
}

#[test]
fn a_missing_record_fails_the_whole_batch_by_default() {
    let emu = seeded(Options::default());
    let c = Client::new(&emu);
    let a = c.post(
        &assoc(V2026_03, "contacts", "companies", "associate/default"),
        inputs(vec![
            pair("101", "103"),
            pair("999", "103"),
            pair("101", "998"),
        ]),
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.body["category"], "VALIDATION_ERROR");
    assert_eq!(a.body["message"], "Could not find CONTACT with id 999");
    assert_eq!(a.body["context"], json!({"fromObjectId": ["999"]}));
    assert!(
        emu.associations("contacts", "companies").is_empty(),
        "nothing written"
    );
}

#[test]
fn a_missing_record_is_one_207_error_per_input_in_multi_status_mode() {
    let mut opts = Options::default();
    opts.validation_error_mode = ValidationErrorMode::MultiStatus;
    let emu = seeded(opts);
    let c = Client::new(&emu);
    let a = c.post(
        &assoc(LEGACY, "contacts", "companies", "create"),
        inputs(vec![
            typed("101", "103", &[279]),
            typed("999", "103", &[279]),
            typed("101", "998", &[279]),
            typed("997", "996", &[279]),
        ]),
    );
    assert_eq!(a.status, 207, "{}", a.body);
    assert_eq!(a.body["numErrors"], 3);
    let errors = a.body["errors"].as_array().unwrap();
    assert_eq!(errors[0]["context"], json!({"fromObjectId": ["999"]}));
    assert_eq!(errors[0]["message"], "Could not find CONTACT with id 999");
    assert_eq!(errors[1]["context"], json!({"toObjectId": ["998"]}));
    assert_eq!(errors[1]["message"], "Could not find COMPANY with id 998");
    assert_eq!(
        errors[2]["context"],
        json!({"fromObjectId": ["997"], "toObjectId": ["996"]})
    );
    for e in errors {
        assert_eq!(
            (e["status"].clone(), e["links"].clone()),
            (json!("error"), json!({}))
        );
    }
    assert_eq!(
        links(&emu, "contacts", "companies"),
        own(&[("101", "103", &[279])])
    );
}

#[test]
fn read_reports_missing_records_and_records_without_links() {
    let emu = seeded(Options::default());
    let c = Client::new(&emu);
    c.post(
        &assoc(LEGACY, "deals", "contacts", "associate/default"),
        inputs(vec![pair("105", "101")]),
    );
    let r = c.post(
        &assoc(V2026_09, "contacts", "deals", "read"),
        inputs(vec![
            json!({"id": "101"}),
            json!({"id": "102"}),
            json!({"id": "999"}),
        ]),
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(r.body["results"][0]["to"][0]["toObjectId"], 105);
    assert_eq!(
        r.body["results"][0]["to"][0]["associationTypes"][0]["typeId"],
        4
    );
    assert_eq!(r.body["numErrors"], 2);
    assert_eq!(
        r.body["errors"][0]["context"],
        json!({"fromObjectId": ["102"]})
    );
    assert_eq!(r.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        r.body["errors"][1]["context"],
        json!({"fromObjectId": ["999"]})
    );
}

#[test]
fn batches_over_the_limits_are_refused() {
    let emu = seeded(Options::default());
    let c = Client::new(&emu);
    let many = |n: usize| inputs((0..n).map(|_| pair("101", "103")).collect());
    for (op, max) in [
        ("associate/default", 2000),
        ("create", 2000),
        ("read", 1000),
    ] {
        let a = c.post(&assoc(LEGACY, "contacts", "companies", op), many(max + 1));
        assert_eq!(a.status, 400, "{op}");
        assert_eq!(a.body["category"], "VALIDATION_ERROR");
        assert_eq!(
            a.body["message"],
            format!(
                "Batch input size {} exceeds the maximum of {max} inputs per request.",
                max + 1
            )
        );
    }
    let ok = c.post(
        &assoc(LEGACY, "contacts", "companies", "associate/default"),
        many(2000),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(emu.stats().requests.last().unwrap().inputs, Some(2000));
}

#[test]
fn writes_need_from_write_and_to_read_reads_need_both_reads() {
    let mut opts = Options::default();
    opts.tokens.push(
        TokenSpec::new("pat-contacts")
            .with_scopes(&["crm.objects.contacts.read", "crm.objects.contacts.write"]),
    );
    opts.tokens.push(
        TokenSpec::new("pat-readonly")
            .with_scopes(&["crm.objects.contacts.read", "crm.objects.companies.read"]),
    );
    let emu = seeded(opts);
    let scopes =
        |a: &common::Answer| a.body["errors"][0]["context"]["requiredGranularScopes"].clone();
    let contacts = Client::with_token(&emu, Some("pat-contacts"));
    let w = contacts.post(
        &assoc(LEGACY, "contacts", "companies", "associate/default"),
        inputs(vec![pair("101", "103")]),
    );
    assert_eq!(w.status, 403);
    assert_eq!(scopes(&w), json!(["crm.objects.companies.read"]));
    let r = contacts.post(
        &assoc(LEGACY, "contacts", "companies", "read"),
        inputs(vec![]),
    );
    assert_eq!(scopes(&r), json!(["crm.objects.companies.read"]));
    let ro = Client::with_token(&emu, Some("pat-readonly"));
    let w2 = ro.post(
        &assoc(V2026_09, "contacts", "companies", "create"),
        inputs(vec![typed("101", "103", &[279])]),
    );
    assert_eq!(scopes(&w2), json!(["crm.objects.contacts.write"]));
    assert_eq!(
        ro.post(
            &assoc(V2026_09, "companies", "contacts", "read"),
            inputs(vec![json!({"id": "103"})])
        )
        .status,
        207
    );
    assert!(emu.associations("contacts", "companies").is_empty());
}

#[test]
fn archived_records_lose_their_associations_and_reset_clears_them() {
    let emu = seeded(Options::default());
    let c = Client::new(&emu);
    c.post(
        &assoc(LEGACY, "contacts", "companies", "associate/default"),
        inputs(vec![
            pair("101", "103"),
            pair("102", "103"),
            pair("102", "104"),
        ]),
    );
    let arch = c.post(
        &format!("{}/batch/archive", LEGACY.objects("companies")),
        json!({"inputs": [{"id": "103"}]}),
    );
    assert_eq!(arch.status, 204);
    assert_eq!(
        links(&emu, "contacts", "companies"),
        own(&[("102", "104", &[279])])
    );
    assert_eq!(
        c.call(
            "DELETE",
            &format!("{}/102", V2026_09.objects("contacts")),
            None
        )
        .status,
        204
    );
    assert!(emu.associations("companies", "contacts").is_empty());
    c.post(
        &assoc(LEGACY, "contacts", "companies", "associate/default"),
        inputs(vec![pair("101", "104")]),
    );
    let anon = Client::with_token(&emu, None);
    assert_eq!(anon.post("/_emulator/reset", json!({})).status, 200);
    assert!(emu.associations("contacts", "companies").is_empty());
    assert!(emu.associations("companies", "contacts").is_empty());
}

#[test]
fn inspection_lists_one_direction_sorted() {
    let emu = seeded(Options::default());
    let c = Client::new(&emu);
    c.post(
        &assoc(LEGACY, "contacts", "companies", "create"),
        inputs(vec![
            typed("102", "104", &[279]),
            typed("101", "104", &[1]),
            typed("101", "103", &[279]),
        ]),
    );
    let anon = Client::with_token(&emu, None);
    let a = anon.get("/_emulator/associations?from=contacts&to=companies");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        json!({"results": [
            {"from": "101", "to": "103", "types": [279]},
            {"from": "101", "to": "104", "types": [1, 279]},
            {"from": "102", "to": "104", "types": [279]},
        ]})
    );
    let back = anon.get("/_emulator/associations?from=0-2&to=contact");
    assert_eq!(
        back.body["results"][0],
        json!({"from": "103", "to": "101", "types": [280]})
    );
    assert_eq!(
        anon.get("/_emulator/associations?from=contacts").status,
        400
    );
    assert_eq!(emu.stats().total_requests, 1, "inspection is not counted");
}

#[test]
fn pets_associate_with_contacts_and_companies() {
    let emu = seeded(Options::default());
    let pet = emu.add_object("pets", [("name", "Rex"), ("pet_id", "P-1")]);
    let c = Client::new(&emu);
    let fqn = format!("p{}_pets", Options::default().portal_id);
    let a = c.post(
        &assoc(V2026_09, &fqn, "contacts", "associate/default"),
        inputs(vec![pair(&pet, "101")]),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["results"][0]["associationSpec"]["associationTypeId"],
        9001
    );
    let b = c.post(
        &assoc(LEGACY, "companies", "2-90001", "create"),
        inputs(vec![typed("103", &pet, &[9004])]),
    );
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(b.body["results"][0]["toObjectTypeId"], "2-90001");
    assert_eq!(
        links(&emu, "contacts", "pets"),
        own(&[("101", &pet, &[9002])])
    );
    assert_eq!(
        links(&emu, "pets", "companies"),
        own(&[(&pet, "103", &[9003])])
    );
}

#[test]
fn association_calls_are_rate_limited_faulted_and_carry_headers() {
    let mut opts = Options::default();
    opts.rate_limit = Some(hubspot_emulator::RateLimit {
        max: 3,
        interval_ms: 60_000,
    });
    let emu = seeded(opts);
    let mut plan = FaultPlan::default();
    plan.push_at("2:503").unwrap();
    emu.set_faults(plan);
    let c = Client::new(&emu);
    let path = assoc(LEGACY, "contacts", "companies", "associate/default");
    let body = inputs(vec![pair("101", "103")]);
    assert_eq!(c.post(&path, body.clone()).status, 200);
    assert_eq!(c.post(&path, body.clone()).status, 503);
    assert_eq!(c.post(&path, body.clone()).status, 200);
    // The third charged call, with the headers every answer carries.
    let mut raw = ureq::post(format!("{}{path}", emu.base_url()))
        .header("Authorization", format!("Bearer {}", common::TOKEN))
        .send_json(&body)
        .unwrap();
    assert_eq!(raw.status(), 200);
    let header = |n: &str| {
        raw.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(header("X-HubSpot-RateLimit-Max").as_deref(), Some("3"));
    assert_eq!(
        header("X-HubSpot-RateLimit-Remaining").as_deref(),
        Some("0")
    );
    assert!(header("X-HubSpot-RateLimit-Daily-Remaining").is_some());
    assert!(header("X-HubSpot-Correlation-Id").is_some());
    let _ = raw.body_mut().read_to_string();
    let limited = c.post(&path, body);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["policyName"], "TEN_SECONDLY_ROLLING");
    let stats = emu.stats();
    assert_eq!(stats.count("POST", &path, 200), 3);
    assert_eq!(stats.count("POST", &path, 429), 1);
    assert_eq!(stats.daily_used, 3);
}
