//! Today's HubSpot, through the real binary: each `api_version` calls its
//! own path family (and works after the legacy paths are gone), OAuth
//! refreshes on the dated token endpoint, the 2026-09 admin rules reject
//! only the records that break them (in both error styles, for few calls),
//! and a malformed token fails at once, naming its field.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hubspot_emulator::{
    ConditionalRule, LegacyPaths, OAuthClient, Stats, TokenSpec, ValidationErrorMode,
    DEFAULT_SCOPES,
};
use serde_json::{json, Value};

/// Default scopes plus schema write, so `unknown_properties: create` and a
/// test's own property definitions work.
fn scopes_with_schema_write() -> Vec<&'static str> {
    let mut scopes = DEFAULT_SCOPES.to_vec();
    scopes.push("crm.schemas.contacts.write");
    scopes
}

/// An emulator whose legacy paths are served or gone, with a token that
/// may create properties.
fn emulator(legacy: LegacyPaths) -> Emulator {
    start(Options {
        tokens: vec![TokenSpec::new(DEFAULT_TOKEN).with_scopes(&scopes_with_schema_write())],
        legacy_paths: legacy,
        ..quick()
    })
}

/// Every HubSpot path the emulator was asked for, with its status.
fn paths(stats: &Stats) -> Vec<(String, String, Option<u16>)> {
    stats
        .requests
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.status))
        .collect()
}

/// Calls answered on this (method, template) with a 2xx status.
fn ok_calls(stats: &Stats, method: &str, template: &str) -> u64 {
    stats
        .by_route
        .iter()
        .filter(|r| r.method == method && r.path == template && (200..300).contains(&r.status))
        .map(|r| r.count)
        .sum()
}

/// The path prefixes of one API version: CRM objects, CRM properties,
/// account info.
fn families(version: &str) -> [String; 3] {
    if version == "v3" {
        [
            "/crm/v3/objects/".into(),
            "/crm/v3/properties/".into(),
            "/account-info/v3/".into(),
        ]
    } else {
        [
            format!("/crm/objects/{version}/"),
            format!("/crm/properties/{version}/"),
            format!("/account-info/{version}/"),
        ]
    }
}

/// Defines a unique contact property through `version`'s path, as an
/// admin would, and gives an existing contact a value of it.
fn unique_member_id(emu: &Emulator, version: &str) {
    let body = json!({"name": "member_id", "label": "Member id", "type": "string", "fieldType": "text", "groupName": "contactinformation", "hasUniqueValue": true});
    let path = format!("{}contacts", families(version)[1]);
    let answer = ureq::Agent::new_with_defaults()
        .post(&format!("{}{path}", emu.base_url()))
        .header("Authorization", &format!("Bearer {DEFAULT_TOKEN}"))
        .send_json(&body)
        .unwrap();
    assert_eq!(answer.status(), 201);
    emu.add_contact([("email", "owner@x.io"), ("member_id", "M-7")]);
}

/// `check`, then a sync that touches every endpoint the connector calls:
/// account details, properties read and create, batch upsert and update
/// (a stage for new contacts), a single contact read (a 409 on a unique
/// value), run with `api_version` = `version`.
fn check_and_sync(emu: &Emulator, version: &str) -> (Run, Run, Scratch) {
    let s = Scratch::new(&format!("api-{version}"));
    let config = config(
        emu,
        json!({
            "api_version": version,
            "lifecycle_stage": "lead",
            "unknown_properties": "create",
            "rejected_records_path": s.path("rejected.jsonl").to_str().unwrap(),
        }),
    );
    let checked = check(&s, &config);
    let records = [
        json!({"email": "ann@x.io", "firstname": "Ann", "shoe_size": "38"}),
        json!({"email": "claimer@x.io", "member_id": "M-7"}),
        json!({"email": "bob@x.io", "firstname": "Bob"}),
    ];
    let input: Vec<String> = records.into_iter().map(record).collect();
    let synced = write(&s, &config, &(input.join("\n") + "\n" + &state(1)));
    (checked, synced, s)
}

fn assert_synced(emu: &Emulator, checked: &Run, synced: &Run, s: &Scratch, version: &str) {
    assert_eq!(
        checked.connection_status()["status"],
        "SUCCEEDED",
        "{:?}",
        checked.messages
    );
    assert!(
        checked
            .logs()
            .contains(&format!("HubSpot API version {version}")),
        "check names the version: {}",
        checked.logs()
    );
    assert_eq!(synced.code, 0, "{}\n{}", synced.logs(), synced.stderr);
    assert_eq!(cursors(synced), vec![1]);
    assert_eq!(emails(emu), ["ann@x.io", "bob@x.io", "owner@x.io"]);
    assert_eq!(prop(emu, "ann@x.io", "shoe_size").as_deref(), Some("38"));
    assert_eq!(
        prop(emu, "bob@x.io", "lifecyclestage").as_deref(),
        Some("lead")
    );
    let rejected = rejections(s);
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["reason"], "conflict");
}

/// Every call went to `version`'s family, and none was unknown there.
fn assert_only_family(stats: &Stats, version: &str) {
    let prefixes = families(version);
    for (method, path, status) in paths(stats) {
        assert!(
            prefixes.iter().any(|p| path.starts_with(p.as_str())),
            "{method} {path} is not in the {version} family"
        );
        assert_ne!(status, Some(404), "{method} {path}");
    }
}

/// Every call went to `version`'s family, and each endpoint was used.
fn assert_called_family(stats: &Stats, version: &str) {
    assert_only_family(stats, version);
    let [objects, properties, account] = families(version);
    for (method, template) in [
        ("GET", format!("{account}details")),
        ("GET", format!("{properties}contacts")),
        ("POST", format!("{properties}contacts")),
        ("POST", format!("{objects}contacts/batch/upsert")),
        ("POST", format!("{objects}contacts/batch/update")),
        ("GET", format!("{objects}contacts/{{id}}")),
    ] {
        assert!(
            ok_calls(stats, method, &template) > 0,
            "no successful {method} {template}: {:?}",
            stats.by_route
        );
    }
}

#[test]
fn each_date_version_calls_only_its_own_paths_after_the_legacy_sunset() {
    for version in ["2026-09", "2026-03"] {
        let emu = emulator(LegacyPaths::Gone);
        unique_member_id(&emu, version);
        let (checked, synced, s) = check_and_sync(&emu, version);
        assert_synced(&emu, &checked, &synced, &s, version);
        assert_called_family(&emu.stats(), version);
    }
}

#[test]
fn the_default_version_is_2026_09() {
    let emu = emulator(LegacyPaths::Gone);
    let s = Scratch::new("api-default");
    let run = write(
        &s,
        &config(&emu, json!({})),
        &record(json!({"email": "a@x.io"})),
    );
    assert_eq!(run.code, 0, "{}", run.logs());
    let stats = emu.stats();
    assert_eq!(
        ok_calls(&stats, "POST", "/crm/objects/2026-09/contacts/batch/upsert"),
        1
    );
    assert_eq!(stats.count_status(404), 0);
}

#[test]
fn legacy_v3_still_works_while_hubspot_serves_it() {
    let emu = emulator(LegacyPaths::Served);
    unique_member_id(&emu, "v3");
    let (checked, synced, s) = check_and_sync(&emu, "v3");
    assert_synced(&emu, &checked, &synced, &s, "v3");
    assert_called_family(&emu.stats(), "v3");
}

#[test]
fn legacy_v3_after_the_sunset_fails_check_naming_the_setting() {
    let emu = emulator(LegacyPaths::Gone);
    let s = Scratch::new("api-v3-gone");
    let run = check(&s, &config(&emu, json!({"api_version": "v3"})));
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("api_version"), "{message}");
}

/// An OAuth app that only the dated token endpoint serves.
fn oauth_emulator(access_token_requests: Option<u64>) -> Emulator {
    let mut app = OAuthClient::new("app-id", "app-secret-value", "refresh-secret-value");
    app.access_token_requests = access_token_requests;
    start(Options {
        tokens: vec![],
        oauth_clients: vec![app],
        legacy_paths: LegacyPaths::Gone,
        ..quick()
    })
}

fn oauth_config(emu: &Emulator, refresh_token: &str) -> Value {
    let credentials = json!({"auth_type": "OAuth", "client_id": "app-id", "client_secret": "app-secret-value", "refresh_token": refresh_token});
    config(
        emu,
        json!({"credentials": credentials, "access_token": null}),
    )
}

#[test]
fn oauth_refreshes_on_the_dated_token_endpoint_after_the_v1_sunset() {
    let emu = oauth_emulator(Some(3));
    let s = Scratch::new("api-oauth");
    let config = oauth_config(&emu, "refresh-secret-value");
    let run = check(&s, &config);
    assert_eq!(
        run.connection_status()["status"],
        "SUCCEEDED",
        "{:?}",
        run.messages
    );
    let input: Vec<String> = (0..250)
        .map(|i| record(json!({"email": format!("o{i}@x.io")})))
        .collect();
    let run = write(&s, &config, &input.join("\n"));
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(emails(&emu).len(), 250);
    let stats = emu.stats();
    assert!(
        stats.count("POST", "/oauth/2026-03/token", 200) >= 3,
        "refreshed at the start of check and of write, and on expiry: {:?}",
        stats.by_route
    );
    assert_eq!(stats.count("POST", "/oauth/v1/token", 404), 0);
    for secret in ["app-secret-value", "refresh-secret-value"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

#[test]
fn a_revoked_refresh_token_is_a_config_error_at_once() {
    let emu = oauth_emulator(None);
    let s = Scratch::new("api-oauth-revoked");
    let config = oauth_config(&emu, "revoked-refresh-token");
    let run = write(&s, &config, &record(json!({"email": "a@x.io"})));
    let message = run.failed_with("config_error");
    assert!(
        message.contains("invalid_grant")
            && message.contains("refresh token is revoked or expired")
            && message.contains("re-authorize the OAuth app")
            && message.contains("credentials/refresh_token"),
        "{message}"
    );
    let run = check(&s, &config);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{status}"
    );
    // One refusal each, no retries; nothing else was called.
    let stats = emu.stats();
    assert_eq!(stats.count("POST", "/oauth/2026-03/token", 400), 2);
    assert_eq!(stats.total_requests, 2);
    for secret in ["app-secret-value", "revoked-refresh-token"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

/// 120 records: 20 updates of existing contacts (half of them without a
/// first name, which an update need not have) and 100 new contacts, 5 of
/// them (5 %) without a first name. Returns the input and the violators.
fn required_workload(emu: &Emulator) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    let mut violators = Vec::new();
    for i in 0..20 {
        let email = format!("old{i}@x.io");
        emu.add_contact([("email", email.as_str()), ("firstname", "Old")]);
        let data = if i % 2 == 0 {
            json!({"email": email, "city": "Lima"})
        } else {
            json!({"email": email, "firstname": "Renamed"})
        };
        lines.push(record(data));
    }
    for i in 0..100 {
        let email = format!("new{i}@x.io");
        if [7, 31, 55, 78, 96].contains(&i) {
            lines.push(record(json!({"email": email, "lastname": "Nofirst"})));
            violators.push(email);
        } else {
            lines.push(record(
                json!({"email": email, "firstname": format!("N{i}")}),
            ));
        }
    }
    // Interleave, so violators and updates share batches.
    let (updates, new) = lines.split_at(20);
    let mut mixed = Vec::new();
    for (i, line) in new.iter().enumerate() {
        mixed.push(line.clone());
        if i % 5 == 4 {
            mixed.push(updates[i / 5].clone());
        }
    }
    mixed.push(state(1));
    (mixed.join("\n"), violators)
}

/// Runs the 120-record sync against an account requiring `firstname` on
/// create; returns the HubSpot calls it made.
fn required_on_create_sync(mode: ValidationErrorMode, workers: u64) -> u64 {
    let emu = start(Options {
        required_on_create: vec!["firstname".into()],
        validation_error_mode: mode,
        ..quick()
    });
    let (input, violators) = required_workload(&emu);
    let s = Scratch::new("api-required");
    let config = config(
        &emu,
        json!({"workers": workers, "rejected_records_path": s.path("rejected.jsonl").to_str().unwrap()}),
    );
    let run = write(&s, &config, &input);
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(cursors(&run), vec![1]);
    let mut rejected: Vec<String> = rejections(&s)
        .iter()
        .map(|r| {
            assert_eq!(r["reason"], "missing_required_property", "{r}");
            assert_eq!(
                r["message"],
                "HubSpot account rule: firstname is required when creating a contact (set in HubSpot by an admin)"
            );
            r["record"]["email"].as_str().unwrap().to_string()
        })
        .collect();
    rejected.sort();
    let mut expected = violators.clone();
    expected.sort();
    assert_eq!(rejected, expected, "{mode:?}: exactly the violators");
    assert_eq!(run.stat_sum("rejectedRecordCount"), 5);
    assert_eq!(run.stat_sum("recordCount"), 115);
    let stored = emails(&emu);
    assert_eq!(stored.len(), 115, "{mode:?}");
    assert!(violators.iter().all(|v| !stored.contains(v)));
    for i in 0..20 {
        let email = format!("old{i}@x.io");
        let (first, city) = if i % 2 == 0 {
            ("Old", Some("Lima"))
        } else {
            ("Renamed", None)
        };
        assert_eq!(prop(&emu, &email, "firstname").as_deref(), Some(first));
        assert_eq!(prop(&emu, &email, "city").as_deref(), city);
    }
    assert_eq!(prop(&emu, "new0@x.io", "firstname").as_deref(), Some("N0"));
    batch_calls(&emu.stats())
}

/// Batch calls (upserts, updates, reads) answered so far.
fn batch_calls(stats: &Stats) -> u64 {
    stats
        .by_route
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/batch/"))
        .map(|r| r.count)
        .sum()
}

#[test]
fn required_on_create_rejects_only_new_contacts_without_it_whole_batch() {
    let one_worker = required_on_create_sync(ValidationErrorMode::WholeBatch, 1);
    let default_workers = required_on_create_sync(ValidationErrorMode::WholeBatch, 8);
    let per_100 = |calls: u64| calls as f64 * 100.0 / 120.0;
    eprintln!(
        "required-on-create, whole-batch 400s, 5% of new contacts violating: {one_worker} batch calls for 120 contacts with 1 worker ({:.1} per 100), {default_workers} with 8 workers ({:.1} per 100)",
        per_100(one_worker),
        per_100(default_workers)
    );
    // 1 worker: batches of 100 and 20; each refused batch costs its upsert,
    // one read of the inputs lacking the property, and the resend.
    assert!(one_worker <= 6, "{one_worker} calls");
    assert!(default_workers <= 12, "{default_workers} calls");
}

#[test]
fn required_on_create_rejects_only_new_contacts_without_it_multi_status() {
    let one_worker = required_on_create_sync(ValidationErrorMode::MultiStatus, 1);
    let default_workers = required_on_create_sync(ValidationErrorMode::MultiStatus, 8);
    eprintln!(
        "required-on-create, 207 answers, 5% of new contacts violating: {one_worker} batch calls for 120 contacts with 1 worker, {default_workers} with 8 workers"
    );
    // Each batch settles in its one call: the 207 names its violators.
    assert!(one_worker <= 2, "{one_worker} calls");
    assert!(default_workers <= 4, "{default_workers} calls");
}

#[test]
fn a_conditional_rule_rejects_only_the_records_it_catches() {
    for mode in [
        ValidationErrorMode::WholeBatch,
        ValidationErrorMode::MultiStatus,
    ] {
        let emu = start(Options {
            conditional_required: vec![ConditionalRule::new("state", "country", "United States")],
            validation_error_mode: mode,
            ..quick()
        });
        let s = Scratch::new("api-conditional");
        let config = config(
            &emu,
            json!({"workers": 1, "rejected_records_path": s.path("rejected.jsonl").to_str().unwrap()}),
        );
        let input: Vec<String> = (0..30)
            .map(|i| {
                let email = format!("c{i}@x.io");
                record(match i % 10 {
                    3 => json!({"email": email, "country": "United States"}),
                    6 => json!({"email": email, "country": "United States", "state": "MA"}),
                    _ => json!({"email": email, "country": "Canada"}),
                })
            })
            .collect();
        let run = write(&s, &config, &input.join("\n"));
        assert_eq!(run.code, 0, "{}", run.logs());
        let rejected = rejections(&s);
        assert_eq!(rejected.len(), 3, "{mode:?}: {rejected:?}");
        for r in &rejected {
            assert_eq!(r["reason"], "missing_required_property");
            assert_eq!(
                r["message"],
                "HubSpot account rule: state is required because of a conditional property rule based on [country] (set in HubSpot by an admin)"
            );
        }
        assert_eq!(emails(&emu).len(), 27);
    }
}

/// Tokens as a user might paste them: a line break inside, a curly quote
/// from a document, a space inside.
const MALFORMED: [&str; 3] = [
    "pat-na1-1234\n5678-abcd",
    "\u{201c}pat-na1-12345678-abcd\u{201d}",
    "pat-na1-1234 5678-abcd",
];

/// Where a token can sit in the config, and the field a message must name.
fn token_configs(emu: &Emulator, token: &str) -> Vec<(Value, &'static str)> {
    vec![
        (config(emu, json!({"access_token": token})), "/access_token"),
        (
            config(
                emu,
                json!({"access_token": null, "credentials": {"auth_type": "Private App", "access_token": token}}),
            ),
            "/credentials/access_token",
        ),
        (
            config(
                emu,
                json!({"access_token": null, "credentials": {"auth_type": "OAuth", "client_id": "app", "client_secret": token, "refresh_token": "rt"}}),
            ),
            "/credentials/client_secret",
        ),
    ]
}

#[test]
fn a_malformed_token_fails_check_at_once_naming_the_field() {
    let emu = start(quick());
    for token in MALFORMED {
        for (config, field) in token_configs(&emu, token) {
            let s = Scratch::new("api-badtoken-check");
            let started = Instant::now();
            let run = check(&s, &config);
            assert!(started.elapsed() < Duration::from_secs(5));
            assert_eq!(run.code, 0, "check answers with a status");
            let status = run.connection_status();
            assert_eq!(status["status"], "FAILED");
            let message = status["message"].as_str().unwrap();
            assert!(message.contains(field), "{field}: {message}");
            assert!(
                !run.stdout.contains("5678") && !run.stderr.contains("5678"),
                "{message}"
            );
        }
    }
    assert_eq!(emu.stats().total_requests, 0, "nothing was sent");
}

#[test]
fn a_malformed_token_fails_write_at_once_naming_the_field() {
    let emu = start(quick());
    for token in MALFORMED {
        for (config, field) in token_configs(&emu, token) {
            let s = Scratch::new("api-badtoken-write");
            let started = Instant::now();
            let run = write(&s, &config, &record(json!({"email": "a@x.io"})));
            assert!(started.elapsed() < Duration::from_secs(5));
            assert_eq!(run.code, 1);
            let message = run.failed_with("config_error");
            assert!(message.contains(field), "{field}: {message}");
            assert!(
                !run.stdout.contains("5678") && !run.stderr.contains("5678"),
                "{message}"
            );
        }
    }
    assert_eq!(emu.stats().total_requests, 0, "nothing was sent");
}

#[test]
fn auth_failures_name_the_credential_and_what_to_do() {
    // A key without the write scope, and one HubSpot does not know.
    let emu = start(Options {
        tokens: vec![TokenSpec::new("pat-read-only")
            .with_scopes(&["crm.objects.contacts.read", "crm.schemas.contacts.read"])],
        ..quick()
    });
    let s = Scratch::new("api-auth");
    let run = check(&s, &config(&emu, json!({"access_token": "pat-read-only"})));
    let message = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains(
            "service key or private app token is missing the scope(s) crm.objects.contacts.write"
        ) && message.contains("Service keys"),
        "{message}"
    );
    let run = write(
        &s,
        &config(&emu, json!({"access_token": "pat-unknown"})),
        &record(json!({"email": "a@x.io"})),
    );
    let message = run.failed_with("config_error");
    assert!(
        message.contains("refused the service key or private app token (401")
            && message.contains("invalid, revoked or expired")
            && message.contains("Development → Keys → Service keys"),
        "{message}"
    );
    // An OAuth app installed without the write scope.
    let mut app = OAuthClient::new("app-id", "app-secret-value", "refresh-secret-value");
    app.scopes = vec![
        "crm.objects.contacts.read".into(),
        "crm.schemas.contacts.read".into(),
    ];
    let emu = start(Options {
        tokens: vec![],
        oauth_clients: vec![app],
        ..quick()
    });
    let run = check(&s, &oauth_config(&emu, "refresh-secret-value"));
    let message = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("OAuth access token is missing the scope(s) crm.objects.contacts.write")
            && message.contains("re-authorize"),
        "{message}"
    );
}

/// `forward_only` reads current stages with a batch read (src/write/send.rs).
#[test]
fn forward_only_reads_stages_on_the_date_version_paths() {
    let emu = emulator(LegacyPaths::Gone);
    emu.add_contact([("email", "old@x.io"), ("lifecyclestage", "subscriber")]);
    let s = Scratch::new("api-forward");
    let config = config(
        &emu,
        json!({"lifecycle_stage": "customer", "lifecycle_stage_policy": "forward_only"}),
    );
    let input = [
        record(json!({"email": "old@x.io"})),
        record(json!({"email": "new@x.io"})),
    ];
    let run = write(&s, &config, &input.join("\n"));
    assert_eq!(run.code, 0, "{}", run.logs());
    assert_eq!(
        prop(&emu, "old@x.io", "lifecyclestage").as_deref(),
        Some("customer")
    );
    assert_eq!(
        prop(&emu, "new@x.io", "lifecyclestage").as_deref(),
        Some("customer")
    );
    let stats = emu.stats();
    assert_only_family(&stats, "2026-09");
    assert_eq!(
        ok_calls(&stats, "POST", "/crm/objects/2026-09/contacts/batch/read"),
        1
    );
}
