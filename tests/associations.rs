//! Associations between synced records, by the real binary against the
//! emulator: resolved within a sync (target written before or after),
//! across syncs, missing targets, labels, both error styles, and states
//! held until a record's associations are made.

mod common;

use common::*;
use hubspot_emulator::{Emulator, Fault, FaultPlan, Options, ValidationErrorMode};
use serde_json::{json, Value};

/// Companies from `accounts` by external_id, contacts from `people`.
const CATALOG: &str = r#"{"streams":[
  {"stream":{"name":"accounts","json_schema":{}},"sync_mode":"incremental","destination_sync_mode":"append_dedup","destination_object_name":"companies","primary_key":[["external_id"]]},
  {"stream":{"name":"people","json_schema":{}},"sync_mode":"incremental","destination_sync_mode":"append_dedup","primary_key":[["email"]]}
]}"#;

fn rec(stream: &str, data: Value) -> String {
    json!({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}})
        .to_string()
}

/// Acme, then Ann who works there, then a state.
fn acme_and_ann() -> String {
    [
        rec("accounts", json!({"external_id": "acme", "name": "Acme"})),
        rec("people", json!({"email": "ann@x.io", "company": "acme"})),
        state(1),
    ]
    .join("\n")
}

/// An emulator whose token `pat-narrow` may write contacts and companies
/// but not read companies (nor look them up).
fn without_company_reads() -> Emulator {
    start(Options {
        tokens: vec![
            hubspot_emulator::TokenSpec::new("pat-narrow").with_scopes(&[
                "crm.objects.contacts.read",
                "crm.objects.contacts.write",
                "crm.objects.companies.write",
                "crm.schemas.contacts.read",
                "crm.schemas.companies.read",
            ]),
        ],
        ..quick()
    })
}

/// People associated with their company by `company`; `label` if given.
fn linked(emu: &Emulator, label: Option<Value>) -> Value {
    let mut a = json!({"stream": "people", "field": "company", "to_object": "companies", "to_matching_key": "external_id"});
    if let Some(l) = label {
        a["label"] = l;
    }
    config(emu, json!({ "associations": [a] }))
}

/// (contact email, company external_id, types) of every contact→company link.
fn links(emu: &Emulator) -> Vec<(String, String, Vec<u32>)> {
    let email = |id: &str| {
        emu.contacts()
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.properties["email"].clone())
            .unwrap_or_default()
    };
    let external = |id: &str| {
        emu.objects("companies")
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.properties["external_id"].clone())
            .unwrap_or_default()
    };
    let mut v: Vec<_> = emu
        .associations("contacts", "companies")
        .into_iter()
        .map(|a| (email(&a.from), external(&a.to), a.types))
        .collect();
    v.sort();
    v
}

#[test]
fn targets_written_earlier_or_later_in_the_sync_resolve() {
    let emu = start(quick());
    let s = Scratch::new("assoc-within");
    let input = [
        rec("accounts", json!({"external_id": "acme", "name": "Acme"})),
        rec("people", json!({"email": "ann@x.io", "company": "acme"})),
        state(1),
        // Globex comes after the person who works there.
        rec("people", json!({"email": "bob@x.io", "company": "globex"})),
        rec("people", json!({"email": "cy@x.io", "company": "  "})),
        state(2),
        rec(
            "accounts",
            json!({"external_id": "globex", "name": "Globex"}),
        ),
        state(3),
    ]
    .join("\n");
    let run = write_with(&s, &linked(&emu, None), CATALOG, &[], &input);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(cursors(&run), vec![1, 2, 3]);
    assert_eq!(
        links(&emu),
        vec![
            ("ann@x.io".into(), "acme".into(), vec![279]),
            ("bob@x.io".into(), "globex".into(), vec![279]),
        ]
    );
    let logs = run.logs();
    assert!(logs.contains("2 associations made"), "{logs}");
    assert!(!logs.contains("association_target_missing"), "{logs}");
}

#[test]
fn targets_written_by_an_earlier_sync_are_looked_up_and_missing_ones_reported() {
    let emu = start(quick());
    let s = Scratch::new("assoc-across");
    let first = [
        rec("accounts", json!({"external_id": "acme", "name": "Acme"})),
        state(1),
    ]
    .join("\n");
    let run = write_with(&s, &linked(&emu, None), CATALOG, &[], &first);
    assert_eq!(run.code, 0, "{}", run.logs());
    let second = [
        rec("people", json!({"email": "ann@x.io", "company": "acme"})),
        rec(
            "people",
            json!({"email": "dan@x.io", "company": "no-such-co"}),
        ),
        state(2),
    ]
    .join("\n");
    let run = write_with(&s, &linked(&emu, None), CATALOG, &[], &second);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(
        cursors(&run),
        vec![2],
        "a missing target does not hold the state back forever"
    );
    assert_eq!(
        links(&emu),
        vec![("ann@x.io".into(), "acme".into(), vec![279])]
    );
    assert_eq!(
        emails(&emu),
        vec!["ann@x.io", "dan@x.io"],
        "the record itself is written"
    );
    let logs = run.logs();
    assert!(logs.contains("association_target_missing"), "{logs}");
    assert!(logs.contains("people.company"), "{logs}");
    assert!(!logs.contains("no-such-co"), "values are masked: {logs}");
    assert!(logs.contains("1 associations made (1 not)"), "{logs}");
}

#[test]
fn a_primary_label_makes_the_primary_association() {
    let emu = start(quick());
    let s = Scratch::new("assoc-primary");
    let input = acme_and_ann();
    let run = write_with(
        &s,
        &linked(&emu, Some(json!("primary"))),
        CATALOG,
        &[],
        &input,
    );
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(
        links(&emu),
        vec![("ann@x.io".into(), "acme".into(), vec![1, 279])]
    );
}

#[test]
fn refused_associations_are_reported_in_both_error_styles_and_the_rest_made() {
    for mode in [
        ValidationErrorMode::WholeBatch,
        ValidationErrorMode::MultiStatus,
    ] {
        let emu = start(Options {
            validation_error_mode: mode,
            ..quick()
        });
        let acme = emu.add_object("companies", [("external_id", "acme"), ("name", "Acme")]);
        let s = Scratch::new("assoc-styles");
        let cfg = config(
            &emu,
            json!({"associations": [{"stream": "people", "field": "company_id", "to_object": "companies", "to_matching_key": "hs_object_id"}]}),
        );
        let input = [
            rec(
                "people",
                json!({"email": "ann@x.io", "company_id": acme.parse::<u64>().unwrap()}),
            ),
            rec(
                "people",
                json!({"email": "bob@x.io", "company_id": "999999"}),
            ),
            rec("people", json!({"email": "cy@x.io", "company_id": acme})),
            state(1),
        ]
        .join("\n");
        let run = write_with(&s, &cfg, CATALOG, &[], &input);
        assert_eq!(run.code, 0, "{mode:?}: {}", run.logs());
        assert_eq!(cursors(&run), vec![1]);
        assert_eq!(
            links(&emu),
            vec![
                ("ann@x.io".into(), "acme".into(), vec![279]),
                ("cy@x.io".into(), "acme".into(), vec![279]),
            ],
            "{mode:?}"
        );
        let logs = run.logs();
        assert!(logs.contains("association_refused"), "{mode:?}: {logs}");
        assert_eq!(emails(&emu).len(), 3);
    }
}

#[test]
fn a_state_waits_until_its_records_associations_are_made() {
    let s = Scratch::new("assoc-state");
    // Acme is in HubSpot already, so the requests come in one order: the
    // contacts' write, the lookup of Acme, the association.
    let input = [
        rec("people", json!({"email": "bob@x.io"})),
        state(1),
        rec("people", json!({"email": "ann@x.io", "company": "acme"})),
        state(2),
    ]
    .join("\n");
    let with_acme = |faults: FaultPlan| {
        let emu = start(Options { faults, ..quick() });
        emu.add_object("companies", [("external_id", "acme"), ("name", "Acme")]);
        emu
    };
    // Which request makes the association, in a clean run.
    let emu = with_acme(FaultPlan::default());
    let run = write_with(&s, &linked(&emu, None), CATALOG, &[], &input);
    assert_eq!(cursors(&run), vec![1, 2]);
    let number = emu
        .stats()
        .requests
        .iter()
        .find(|r| r.path.ends_with("/associate/default") && r.inputs == Some(1))
        .expect("one association call")
        .number;
    // The same sync, the token refused at that request: Ann is written,
    // her association is not, and the state after her is held.
    let emu = with_acme(FaultPlan {
        at: vec![(number, Fault::ExpireToken)],
        ..FaultPlan::default()
    });
    let run = write_with(&s, &linked(&emu, None), CATALOG, &[], &input);
    run.failed_with("config_error");
    assert_eq!(
        cursors(&run),
        vec![1],
        "the state after the contact is held"
    );
    assert_eq!(emails(&emu), vec!["ann@x.io", "bob@x.io"]);
    assert!(emu.associations("contacts", "companies").is_empty());
}

#[test]
fn write_proves_the_scopes_of_other_objects_before_writing_anything() {
    let s = Scratch::new("assoc-scopes");
    let input = acme_and_ann();
    let emu = without_company_reads();
    let mut cfg = linked(&emu, None);
    cfg["access_token"] = json!("pat-narrow");
    let run = write_with(&s, &cfg, CATALOG, &[], &input);
    let message = run.failed_with("config_error");
    assert!(
        message.contains("associating contacts with companies")
            && message.contains("crm.objects.companies.read"),
        "{message}"
    );
    assert!(run.states().is_empty());
    assert!(
        emu.contacts().is_empty() && emu.objects("companies").is_empty(),
        "nothing written"
    );
}

#[test]
fn check_proves_every_configured_object_and_association() {
    let s = Scratch::new("assoc-check");
    let emu = start(quick());
    let cfg = |emu: &Emulator, extra: Value| {
        let mut c = linked(emu, None);
        c["objects"] = json!({"accounts": {"object": "companies", "matching_key": "external_id"}});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let ok = check(&s, &cfg(&emu, json!({})));
    assert_eq!(
        ok.connection_status()["status"],
        "SUCCEEDED",
        "{}",
        ok.logs()
    );
    let bad_key = check(
        &s,
        &cfg(
            &emu,
            json!({"objects": {"accounts": {"object": "companies", "matching_key": "domain"}}}),
        ),
    );
    let message = bad_key.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("config /objects/accounts") && message.contains("one of: external_id"),
        "{message}"
    );
    let narrow = without_company_reads();
    let run = check(&s, &cfg(&narrow, json!({"access_token": "pat-narrow"})));
    assert_eq!(run.connection_status()["status"], "FAILED");
    let message = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("crm.objects.companies.read"), "{message}");
}

#[test]
fn a_dry_run_makes_no_association_and_reports_none_missing() {
    let emu = start(quick());
    let s = Scratch::new("assoc-dry");
    let input = acme_and_ann();
    let run = write_with(&s, &linked(&emu, None), CATALOG, &["--dry-run"], &input);
    assert_eq!(run.code, 0, "{}", run.logs());
    let logs = run.logs();
    assert!(logs.contains("(associations are not planned)"), "{logs}");
    assert!(!logs.contains("association_"), "{logs}");
    assert!(emu.objects("companies").is_empty() && emu.contacts().is_empty());
    assert!(emu.associations("contacts", "companies").is_empty());
}

/// The README's example: accounts → companies, people → contacts and
/// opportunities → deals with their associations in one sync — mapped by
/// Airbyte (`destination_object_name`) or named in the config.
#[test]
fn accounts_people_and_opportunities_sync_with_their_associations() {
    let associations = json!([
        {"stream": "people", "field": "account_id", "to_object": "companies", "to_matching_key": "external_id", "label": "primary"},
        {"stream": "opportunities", "field": "account_id", "to_object": "companies", "to_matching_key": "external_id", "label": "primary"},
        {"stream": "opportunities", "field": "contact_email", "to_object": "contacts", "to_matching_key": "email"}
    ]);
    let mapped = r#"{"streams":[
      {"stream":{"name":"accounts"},"destination_sync_mode":"append_dedup","destination_object_name":"companies","primary_key":[["external_id"]]},
      {"stream":{"name":"people"},"destination_sync_mode":"append_dedup","destination_object_name":"contacts","primary_key":[["email"]]},
      {"stream":{"name":"opportunities"},"destination_sync_mode":"append_dedup","destination_object_name":"deals","primary_key":[["external_id"]]}]}"#;
    let plain = r#"{"streams":[
      {"stream":{"name":"accounts"},"destination_sync_mode":"append_dedup","primary_key":[["id"]]},
      {"stream":{"name":"people"},"destination_sync_mode":"append_dedup","primary_key":[["id"]]},
      {"stream":{"name":"opportunities"},"destination_sync_mode":"append_dedup","primary_key":[["id"]]}]}"#;
    let by_config = json!({
        "objects": {"accounts": {"object": "companies", "matching_key": "external_id"},
                    "opportunities": {"object": "deals", "matching_key": "external_id"}},
        "property_mapping": {"id": "external_id"}});
    for (catalog, extra, key) in [(mapped, json!({}), "external_id"), (plain, by_config, "id")] {
        let emu = start(quick());
        let s = Scratch::new("assoc-example");
        let mut cfg = config(&emu, extra);
        cfg["associations"] = associations.clone();
        let mut lines = Vec::new();
        for i in 0..3 {
            lines.push(rec(
                "accounts",
                json!({key: format!("a{i}"), "name": format!("Account {i}")}),
            ));
        }
        for i in 0..6 {
            lines.push(rec("people", json!({key: format!("p{i}"), "email": format!("P{i}@x.io"), "account_id": format!("a{}", i % 3)})));
        }
        for i in 0..4 {
            lines.push(rec("opportunities", json!({key: format!("o{i}"), "dealname": format!("Opp {i}"), "account_id": format!("a{}", i % 3), "contact_email": format!("p{i}@X.io")})));
        }
        lines.push(state(1));
        let run = write_with(&s, &cfg, catalog, &[], &lines.join("\n"));
        assert_eq!(run.code, 0, "{key}: {}", run.logs());
        assert_eq!(cursors(&run), vec![1]);
        assert!(
            run.logs().contains("14 associations made"),
            "{}",
            run.logs()
        );
        assert!(
            !run.logs().contains("not a HubSpot"),
            "association fields are not reported as unknown: {}",
            run.logs()
        );
        assert_eq!(emu.objects("companies").len(), 3);
        assert_eq!(emu.objects("deals").len(), 4);
        assert_eq!(emails(&emu).len(), 6);
        let contact_links = emu.associations("contacts", "companies");
        assert_eq!(contact_links.len(), 6);
        assert!(contact_links.iter().all(|a| a.types == vec![1, 279]));
        let deal_companies = emu.associations("deals", "companies");
        assert_eq!(deal_companies.len(), 4);
        assert!(deal_companies.iter().all(|a| a.types == vec![5, 341]));
        assert_eq!(emu.associations("deals", "contacts").len(), 4);
    }
}
