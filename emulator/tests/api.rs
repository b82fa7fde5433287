//! The emulator over real HTTP: every documented rule, exercised with a real
//! client (ureq) against a server started through the library API. Faults are
//! scripted by request number; nothing here asserts on timing.

// Each test changes one or two options of a default; assigning them reads
// more plainly than struct-update syntax.
#![allow(clippy::field_reassign_with_default)]

use hubspot_emulator::{
    BackwardLifecycle, EmailUpsertMode, Emulator, Fault, FaultPlan, Latency, OAuthClient, Options,
    RateLimit, TokenSpec,
};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::Duration;

const TOKEN: &str = "pat-local-demo";
const UPSERT: &str = "/crm/v3/objects/contacts/batch/upsert";

/// A small client bound to one emulator and token.
struct Api {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
}

/// One answer: status, headers we care about, parsed body (Null if empty or
/// not JSON).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    text: String,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Api {
    fn new(emu: &Emulator) -> Self {
        Api::with_token(emu, Some(TOKEN))
    }

    fn with_token(emu: &Emulator, token: Option<&str>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Api {
            agent,
            base: emu.base_url(),
            token: token.map(str::to_string),
        }
    }

    fn answer(
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, ureq::Error> {
        let mut r = r?;
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            text,
            body,
        })
    }

    fn try_post_raw(&self, path: &str, body: &str) -> Result<Answer, ureq::Error> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .content_type("application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        Self::answer(req.send(body))
    }

    fn post(&self, path: &str, body: Value) -> Answer {
        self.try_post_raw(path, &body.to_string())
            .expect("request failed")
    }

    fn get(&self, path: &str) -> Answer {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        Self::answer(req.call()).expect("request failed")
    }

    fn upsert(&self, inputs: Value) -> Answer {
        self.post(UPSERT, json!({ "inputs": inputs }))
    }
}

fn start(opts: Options) -> Emulator {
    Emulator::start(opts).expect("emulator starts")
}

fn by_email(email: &str, props: Value) -> Value {
    json!({ "id": email, "idProperty": "email", "properties": props })
}

// ---------------------------------------------------------------- auth

#[test]
fn missing_and_unknown_tokens_get_401_invalid_authentication() {
    let emu = start(Options::default());
    for token in [None, Some("pat-wrong")] {
        let a = Api::with_token(&emu, token).get("/crm/v3/objects/contacts");
        assert_eq!(a.status, 401);
        assert_eq!(a.body["category"], "INVALID_AUTHENTICATION");
        assert!(a.body["correlationId"].as_str().is_some());
        assert!(a.header("X-HubSpot-RateLimit-Max").is_some());
    }
}

#[test]
fn missing_scope_gets_403_naming_the_scope() {
    let mut opts = Options::default();
    opts.tokens = vec![TokenSpec::new("pat-ro").with_scopes(&["crm.objects.contacts.read"])];
    let emu = start(opts);
    let api = Api::with_token(&emu, Some("pat-ro"));
    let a = api.upsert(json!([by_email("a@x.com", json!({}))]));
    assert_eq!(a.status, 403);
    assert_eq!(a.body["category"], "MISSING_SCOPES");
    assert_eq!(
        a.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.contacts.write"])
    );
    assert!(emu.contacts().is_empty());
    // Reading is allowed with the read scope; account details with any token.
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 200);
    assert_eq!(api.get("/account-info/v3/details").status, 200);
}

#[test]
fn account_details_and_daily_usage_have_the_documented_shape() {
    let mut opts = Options::default();
    opts.tokens = vec![TokenSpec::new("pat-bare").with_scopes::<&str>(&[])];
    opts.daily_limit = 500;
    let emu = start(opts);
    let api = Api::with_token(&emu, Some("pat-bare"));
    let a = api.get("/account-info/v3/details");
    assert_eq!(a.status, 200);
    assert_eq!(a.body["portalId"], 12_345_678);
    assert_eq!(a.body["accountType"], "STANDARD");
    assert_eq!(a.body["dataHostingLocation"], "na1");
    let u = api.get("/account-info/v3/api-usage/daily/private-apps");
    assert_eq!(u.body["results"][0]["usageLimit"], 500);
    assert_eq!(u.body["results"][0]["currentUsage"], 2);
    assert_eq!(u.body["results"][0]["fetchStatus"], "SUCCESS");
}

#[test]
fn every_response_carries_rate_limit_and_correlation_headers() {
    let emu = start(Options::default());
    let a = Api::new(&emu).get("/account-info/v3/details");
    assert_eq!(a.header("X-HubSpot-RateLimit-Max"), Some("190"));
    assert_eq!(a.header("X-HubSpot-RateLimit-Remaining"), Some("189"));
    assert_eq!(
        a.header("X-HubSpot-RateLimit-Interval-Milliseconds"),
        Some("10000")
    );
    assert_eq!(a.header("X-HubSpot-RateLimit-Daily"), Some("1000000"));
    assert_eq!(
        a.header("X-HubSpot-RateLimit-Daily-Remaining"),
        Some("999999")
    );
    assert_eq!(a.header("X-HubSpot-Correlation-Id").map(str::len), Some(36));
}

#[test]
fn unknown_paths_get_404_with_an_error_body() {
    let emu = start(Options::default());
    let a = Api::new(&emu).get("/crm/v3/nothing/here");
    assert_eq!(a.status, 404);
    assert_eq!(a.body["category"], "OBJECT_NOT_FOUND");
    assert_eq!(a.body["status"], "error");
}

// ---------------------------------------------------------------- contacts

#[test]
fn upsert_creates_then_updates_matching_email_case_insensitively() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let a = api.upsert(json!([by_email(
        "Ann@Example.COM",
        json!({"firstname": "Ann"})
    )]));
    assert_eq!(a.status, 200, "{}", a.text);
    let r = &a.body["results"][0];
    assert_eq!(r["new"], true);
    assert_eq!(r["properties"]["email"], "ann@example.com");
    assert_eq!(a.body["status"], "COMPLETE");
    for k in ["createdAt", "updatedAt"] {
        assert!(r[k].as_str().unwrap().ends_with('Z'));
    }
    let id = r["id"].as_str().unwrap().to_string();

    let b = api.upsert(json!([by_email(
        "ANN@example.com",
        json!({"lastname": "Lee"})
    )]));
    assert_eq!(b.status, 200);
    assert_eq!(b.body["results"][0]["new"], false);
    assert_eq!(b.body["results"][0]["id"], id.as_str());

    let all = emu.contacts();
    assert_eq!(all.len(), 1);
    let c = &all[0];
    assert_eq!(c.properties["email"], "ann@example.com");
    assert_eq!(c.properties["firstname"], "Ann");
    assert_eq!(c.properties["lastname"], "Lee");
    assert_eq!(c.properties["hs_object_id"], id);
    assert!(c.properties.contains_key("createdate"));
    assert!(c.properties.contains_key("lastmodifieddate"));
    assert_eq!(c.properties["hs_email_domain"], "example.com");
    assert_eq!(emu.contact_by_email("ann@EXAMPLE.com").unwrap().id, id);
}

#[test]
fn invalid_email_fails_the_whole_email_upsert_by_default() {
    let emu = start(Options::default());
    let a = Api::new(&emu).upsert(json!([
        by_email("ok@example.com", json!({})),
        by_email("bcooper@example.con", json!({})),
    ]));
    assert_eq!(a.status, 400);
    assert_eq!(a.body["category"], "VALIDATION_ERROR");
    let msg = a.body["message"].as_str().unwrap();
    let details = msg
        .strip_prefix("Property values were not valid: ")
        .unwrap();
    let details: Value = serde_json::from_str(details).unwrap();
    assert_eq!(details[0]["error"], "INVALID_EMAIL");
    assert_eq!(details[0]["name"], "email");
    assert_eq!(details[0]["isValid"], false);
    assert!(details[0]["message"]
        .as_str()
        .unwrap()
        .contains("bcooper@example.con"));
    assert!(emu.contacts().is_empty(), "nothing is written");
}

#[test]
fn multi_status_mode_writes_valid_inputs_and_reports_trace_ids() {
    let mut opts = Options::default();
    opts.email_upsert_mode = EmailUpsertMode::MultiStatus;
    let emu = start(opts);
    let mut good = by_email("ok@example.com", json!({"firstname": "Ok"}));
    good["objectWriteTraceId"] = json!("0");
    let mut bad = by_email("ok2@example.com", json!({"hs_lead_status": "SOMETIME"}));
    bad["objectWriteTraceId"] = json!("1");
    let a = Api::new(&emu).upsert(json!([good, bad]));
    assert_eq!(a.status, 207, "{}", a.text);
    assert_eq!(a.body["numErrors"], 1);
    assert_eq!(a.body["results"].as_array().unwrap().len(), 1);
    let e = &a.body["errors"][0];
    assert_eq!(e["status"], "error");
    assert_eq!(e["category"], "VALIDATION_ERROR");
    assert_eq!(e["context"]["objectWriteTraceId"], json!(["1"]));
    assert_eq!(e["objectWriteTraceId"], "1");
    assert_eq!(e["errors"][0]["code"], "INVALID_OPTION");
    assert_eq!(e["errors"][0]["in"], "hs_lead_status");
    assert!(e["links"].is_object());
    assert_eq!(emu.contacts().len(), 1);
}

#[test]
fn each_property_rule_has_its_error_code() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let cases = [
        ("shoe_size", "9", "PROPERTY_DOESNT_EXIST"),
        ("hs_object_id", "5", "READ_ONLY_VALUE"),
        ("createdate", "2024-01-01", "READ_ONLY_VALUE"),
        ("hs_email_domain", "x.com", "READ_ONLY_VALUE"),
        ("lifecyclestage", "customerish", "INVALID_OPTION"),
        ("interests", "crm;golf", "INVALID_OPTION"),
        ("annualrevenue", "12k", "INVALID_INTEGER"),
        ("renewal_date", "1543311012000", "INVALID_DATE"),
        ("renewal_date", "2024-13-01", "INVALID_DATE"),
        ("closedate", "tomorrow", "INVALID_DATE"),
        ("newsletter_opt_in", "maybe", "INVALID_BOOLEAN"),
    ];
    for (prop, value, code) in cases {
        let a = api.upsert(json!([by_email("a@example.com", json!({ prop: value }))]));
        assert_eq!(a.status, 400, "{prop}={value}: {}", a.text);
        assert!(
            a.body["message"].as_str().unwrap().contains(code),
            "{prop}={value}: {}",
            a.text
        );
    }
    assert!(emu.contacts().is_empty());
}

#[test]
fn valid_values_of_every_type_are_stored_normalised() {
    let emu = start(Options::default());
    let a = Api::new(&emu).upsert(json!([by_email(
        "t@example.com",
        json!({
            "annualrevenue": "1250000.5",
            "newsletter_opt_in": "TRUE",
            "renewal_date": "1704067200000",
            "closedate": "2024-01-15T10:00:00+01:00",
            "hs_buying_role": "CHAMPION;DECISION_MAKER",
            "hs_lead_status": "NEW",
            "phone": "+1 555 0100",
            "numemployees": "25-50",
        })
    )]));
    assert_eq!(a.status, 200, "{}", a.text);
    let c = emu.contact_by_email("t@example.com").unwrap();
    assert_eq!(c.properties["newsletter_opt_in"], "true");
    assert_eq!(c.properties["renewal_date"], "2024-01-01");
    assert_eq!(c.properties["closedate"], "2024-01-15T09:00:00.000Z");
    assert_eq!(c.properties["hs_buying_role"], "CHAMPION;DECISION_MAKER");
}

#[test]
fn empty_string_clears_a_value() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    api.upsert(json!([by_email(
        "c@example.com",
        json!({"firstname": "C", "annualrevenue": "5"})
    )]));
    let a = api.upsert(json!([by_email(
        "c@example.com",
        json!({"firstname": "", "annualrevenue": ""})
    )]));
    assert_eq!(a.status, 200);
    let c = emu.contact_by_email("c@example.com").unwrap();
    assert!(!c.properties.contains_key("firstname"));
    assert!(!c.properties.contains_key("annualrevenue"));
}

#[test]
fn duplicate_ids_in_one_batch_fail_it_case_insensitively() {
    let emu = start(Options::default());
    let a = Api::new(&emu).upsert(json!([
        by_email("dup@example.com", json!({})),
        by_email("DUP@example.com", json!({})),
    ]));
    assert_eq!(a.status, 400);
    assert_eq!(a.body["category"], "VALIDATION_ERROR");
    assert_eq!(
        a.body["message"],
        "Duplicate IDs found in batch input: [dup@example.com]. IDs must be unique"
    );
    assert_eq!(a.body["context"]["ids"], json!(["dup@example.com"]));
    assert!(emu.contacts().is_empty());
}

#[test]
fn more_than_100_inputs_is_a_400() {
    let emu = start(Options::default());
    let inputs: Vec<Value> = (0..101)
        .map(|i| by_email(&format!("u{i}@example.com"), json!({})))
        .collect();
    let a = Api::new(&emu).upsert(json!(inputs));
    assert_eq!(a.status, 400);
    assert_eq!(a.body["category"], "VALIDATION_ERROR");
    assert!(emu.contacts().is_empty());
    assert_eq!(emu.stats().requests[0].inputs, Some(101));
}

#[test]
fn malformed_json_is_a_400_without_category() {
    let emu = start(Options::default());
    let a = Api::new(&emu)
        .try_post_raw(UPSERT, "{\"inputs\": [}")
        .unwrap();
    assert_eq!(a.status, 400);
    assert!(a.body.get("category").is_none());
    assert!(a.body["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid input JSON on line 1, column"));
}

#[test]
fn batch_create_conflicts_name_the_existing_id() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let path = "/crm/v3/objects/contacts/batch/create";
    let a = api.post(
        path,
        json!({"inputs": [{"properties": {"email": "n@example.com"}}]}),
    );
    assert_eq!(a.status, 201);
    let id = a.body["results"][0]["id"].as_str().unwrap().to_string();
    let b = api.post(
        path,
        json!({"inputs": [
            {"properties": {"email": "other@example.com"}},
            {"properties": {"email": "N@example.com"}},
        ]}),
    );
    assert_eq!(b.status, 409);
    assert_eq!(b.body["category"], "CONFLICT");
    assert_eq!(
        b.body["message"],
        format!("Contact already exists. Existing ID: {id}")
    );
    assert_eq!(emu.contacts().len(), 1, "the whole batch fails");
}

#[test]
fn batch_update_by_id_and_by_email_and_missing_ids() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let id = emu.add_contact([("email", "u@example.com"), ("firstname", "U")]);
    let path = "/crm/v3/objects/contacts/batch/update";
    let a = api.post(
        path,
        json!({"inputs": [{"id": id, "properties": {"firstname": "V"}}]}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    let b = api.post(
        path,
        json!({"inputs": [
            {"id": "U@example.com", "idProperty": "email", "properties": {"lastname": "W"}},
            {"id": "999999", "properties": {"lastname": "X"}, "objectWriteTraceId": "t2"},
        ]}),
    );
    assert_eq!(b.status, 207, "{}", b.text);
    assert_eq!(b.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        b.body["errors"][0]["context"]["objectWriteTraceId"],
        json!(["t2"])
    );
    let c = emu.contact_by_email("u@example.com").unwrap();
    assert_eq!(
        (
            c.properties["firstname"].as_str(),
            c.properties["lastname"].as_str()
        ),
        ("V", "W")
    );
    // An email where an id is expected silently matches nothing.
    let d = api.post(
        path,
        json!({"inputs": [{"id": "u@example.com", "properties": {}}]}),
    );
    assert_eq!(d.status, 207);
}

#[test]
fn changing_an_email_to_one_another_contact_owns_conflicts() {
    let emu = start(Options::default());
    emu.add_contact([("email", "a@example.com")]);
    let b = emu.add_contact([("email", "b@example.com")]);
    let a = Api::new(&emu).post(
        "/crm/v3/objects/contacts/batch/update",
        json!({"inputs": [{"id": b, "properties": {"email": "A@example.com"}}]}),
    );
    assert_eq!(a.status, 207, "{}", a.text);
    assert_eq!(a.body["errors"][0]["category"], "CONFLICT");
    assert_eq!(emu.contacts().len(), 2);
}

#[test]
fn batch_read_by_email_and_id_returns_requested_properties() {
    let emu = start(Options::default());
    let id = emu.add_contact([
        ("email", "r@example.com"),
        ("firstname", "R"),
        ("lifecyclestage", "lead"),
    ]);
    let api = Api::new(&emu);
    let a = api.post(
        "/crm/v3/objects/contacts/batch/read",
        json!({"idProperty": "email", "inputs": [{"id": "R@example.com"}, {"id": "nobody@example.com"}],
               "properties": ["email", "lifecyclestage", "phone"]}),
    );
    assert_eq!(a.status, 207, "{}", a.text);
    let r = &a.body["results"][0];
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["properties"]["lifecyclestage"], "lead");
    assert_eq!(r["properties"]["phone"], Value::Null);
    assert!(r["properties"].get("firstname").is_none());
    assert_eq!(a.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        a.body["errors"][0]["context"]["ids"],
        json!(["nobody@example.com"])
    );

    let b = api.post(
        "/crm/v3/objects/contacts/batch/read",
        json!({"inputs": [{"id": id}]}),
    );
    assert_eq!(b.status, 200);
    assert_eq!(b.body["results"][0]["properties"]["firstname"], "R");
}

#[test]
fn secondary_emails_resolve_to_their_contact() {
    let emu = start(Options::default());
    let id = emu.add_contact([
        ("email", "new@example.com"),
        ("hs_additional_emails", "old@example.com"),
    ]);
    let a = Api::new(&emu).get("/crm/v3/objects/contacts/old@example.com?idProperty=email");
    assert_eq!(a.status, 200);
    assert_eq!(a.body["id"], id.as_str());
}

#[test]
fn get_one_by_id_and_email_and_404() {
    let emu = start(Options::default());
    let id = emu.add_contact([("email", "g@example.com"), ("city", "Oslo")]);
    let api = Api::new(&emu);
    let a = api.get(&format!(
        "/crm/v3/objects/contacts/{id}?properties=city,email"
    ));
    assert_eq!(a.status, 200);
    assert_eq!(a.body["properties"]["city"], "Oslo");
    let b = api.get("/crm/v3/objects/contacts/G%40example.com?idProperty=email");
    assert_eq!(b.body["id"], id.as_str());
    let c = api.get("/crm/v3/objects/contacts/424242");
    assert_eq!(c.status, 404);
    assert_eq!(c.body["category"], "OBJECT_NOT_FOUND");
}

#[test]
fn list_pages_with_after_cursor() {
    let emu = start(Options::default());
    for i in 0..5 {
        emu.add_contact([("email", format!("p{i}@example.com"))]);
    }
    let api = Api::new(&emu);
    let mut seen = Vec::new();
    let mut path = "/crm/v3/objects/contacts?limit=2".to_string();
    loop {
        let a = api.get(&path);
        assert_eq!(a.status, 200);
        for r in a.body["results"].as_array().unwrap() {
            seen.push(r["properties"]["email"].as_str().unwrap().to_string());
        }
        match a.body["paging"]["next"]["after"].as_str() {
            Some(after) => path = format!("/crm/v3/objects/contacts?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn batch_archive_removes_records() {
    let emu = start(Options::default());
    let id = emu.add_contact([("email", "z@example.com")]);
    let a = Api::new(&emu).post(
        "/crm/v3/objects/contacts/batch/archive",
        json!({"inputs": [{"id": id}, {"id": "987654"}]}),
    );
    assert_eq!(a.status, 204);
    assert!(emu.contacts().is_empty());
    assert!(emu.contact_by_email("z@example.com").is_none());
}

// ---------------------------------------------------------------- lifecycle

fn stage_of(emu: &Emulator, email: &str) -> Option<String> {
    emu.contact_by_email(email)?
        .properties
        .get("lifecyclestage")
        .cloned()
}

#[test]
fn lifecycle_moves_forward_and_ignores_backward_by_default() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let set = |stage: &str| {
        let a = api.upsert(json!([by_email(
            "l@example.com",
            json!({"lifecyclestage": stage})
        )]));
        assert_eq!(a.status, 200, "{}", a.text);
        a
    };
    set("lead");
    set("customer");
    assert_eq!(stage_of(&emu, "l@example.com").as_deref(), Some("customer"));
    let a = set("lead");
    assert_eq!(stage_of(&emu, "l@example.com").as_deref(), Some("customer"));
    assert_eq!(
        a.body["results"][0]["properties"]["lifecyclestage"],
        "customer"
    );
    // Clearing first, in a separate request, lets it move back.
    set("");
    assert_eq!(stage_of(&emu, "l@example.com"), None);
    set("lead");
    assert_eq!(stage_of(&emu, "l@example.com").as_deref(), Some("lead"));
}

#[test]
fn lifecycle_backward_can_be_applied_or_rejected() {
    let mut opts = Options::default();
    opts.backward_lifecycle = BackwardLifecycle::Apply;
    let emu = start(opts);
    emu.add_contact([("email", "a@example.com"), ("lifecyclestage", "customer")]);
    Api::new(&emu).upsert(json!([by_email(
        "a@example.com",
        json!({"lifecyclestage": "lead"})
    )]));
    assert_eq!(stage_of(&emu, "a@example.com").as_deref(), Some("lead"));

    let mut opts = Options::default();
    opts.backward_lifecycle = BackwardLifecycle::Reject;
    let emu = start(opts);
    emu.add_contact([("email", "a@example.com"), ("lifecyclestage", "customer")]);
    let a = Api::new(&emu).upsert(json!([
        by_email("a@example.com", json!({"lifecyclestage": "lead"})),
        by_email("b@example.com", json!({"lifecyclestage": "lead"})),
    ]));
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.body["message"]
        .as_str()
        .unwrap()
        .contains("INVALID_OPTION"));
    assert_eq!(stage_of(&emu, "a@example.com").as_deref(), Some("customer"));
    assert!(
        emu.contact_by_email("b@example.com").is_none(),
        "whole batch refused"
    );
}

#[test]
fn custom_stages_are_ordered_by_their_position() {
    let mut opts = Options::default();
    opts.lifecycle_stages.insert(2, "1234567".into()); // after lead
    let emu = start(opts);
    let api = Api::new(&emu);
    let p = api.get("/crm/v3/properties/contacts/lifecyclestage");
    let opts = p.body["options"].as_array().unwrap();
    assert_eq!(opts[2]["value"], "1234567");
    assert_eq!(opts[2]["displayOrder"], 2);
    emu.add_contact([("email", "s@example.com"), ("lifecyclestage", "lead")]);
    api.upsert(json!([by_email(
        "s@example.com",
        json!({"lifecyclestage": "1234567"})
    )]));
    assert_eq!(stage_of(&emu, "s@example.com").as_deref(), Some("1234567"));
    api.upsert(json!([by_email(
        "s@example.com",
        json!({"lifecyclestage": "lead"})
    )]));
    assert_eq!(stage_of(&emu, "s@example.com").as_deref(), Some("1234567"));
}

// ---------------------------------------------------------------- companies / deals

#[test]
fn company_upsert_by_unique_property_and_partial_failure() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let path = "/crm/v3/objects/companies/batch/upsert";
    let a = api.post(
        path,
        json!({"inputs": [
            {"id": "ext-1", "idProperty": "external_id", "properties": {"name": "Acme"}, "objectWriteTraceId": "a"},
            {"id": "ext-2", "idProperty": "external_id", "properties": {"industry": "FARMING"}, "objectWriteTraceId": "b"},
        ]}),
    );
    assert_eq!(a.status, 207, "{}", a.text);
    assert_eq!(a.body["results"][0]["new"], true);
    assert_eq!(
        a.body["errors"][0]["context"]["objectWriteTraceId"],
        json!(["b"])
    );
    assert_eq!(emu.objects("companies").len(), 1);
    let b = api.post(path, json!({"inputs": [{"id": "ext-1", "idProperty": "external_id", "properties": {"city": "Oslo"}}]}));
    assert_eq!(b.status, 200);
    assert_eq!(b.body["results"][0]["new"], false);
}

#[test]
fn upsert_by_non_unique_property_is_refused() {
    let emu = start(Options::default());
    let a = Api::new(&emu).post(
        "/crm/v3/objects/companies/batch/upsert",
        json!({"inputs": [{"id": "acme.com", "idProperty": "domain", "properties": {}}]}),
    );
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["message"],
        "Unable to perform update/upsert by non-unique 0-2 property domain"
    );
}

#[test]
fn deals_support_the_same_batch_endpoints() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let a = api.post(
        "/crm/v3/objects/deals/batch/create",
        json!({"inputs": [{"properties": {"dealname": "Big", "amount": "100", "dealstage": "closedwon"}}]}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["results"][0]["id"].as_str().unwrap();
    let b = api.post(
        "/crm/v3/objects/deals/batch/read",
        json!({"inputs": [{"id": id}], "properties": ["amount"]}),
    );
    assert_eq!(b.body["results"][0]["properties"]["amount"], "100");
    assert!(b.body["results"][0]["properties"]["hs_lastmodifieddate"].is_string());
}

// ---------------------------------------------------------------- properties

#[test]
fn properties_list_has_every_type_and_the_required_fields() {
    let emu = start(Options::default());
    let a = Api::new(&emu).get("/crm/v3/properties/contacts");
    assert_eq!(a.status, 200);
    let props = a.body["results"].as_array().unwrap();
    let kinds: std::collections::HashSet<&str> =
        props.iter().map(|p| p["type"].as_str().unwrap()).collect();
    for k in [
        "string",
        "number",
        "bool",
        "date",
        "datetime",
        "enumeration",
    ] {
        assert!(kinds.contains(k), "{k}");
    }
    assert!(props.iter().any(|p| p["fieldType"] == "checkbox"));
    for p in props {
        for field in [
            "name",
            "label",
            "type",
            "fieldType",
            "groupName",
            "description",
            "options",
        ] {
            assert!(!p[field].is_null(), "{} lacks {field}", p["name"]);
        }
        assert!(p["modificationMetadata"]["readOnlyValue"].is_boolean());
    }
    let id = props.iter().find(|p| p["name"] == "hs_object_id").unwrap();
    assert_eq!(id["modificationMetadata"]["readOnlyValue"], true);
}

#[test]
fn property_get_and_404() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let a = api.get("/crm/v3/properties/contacts/hs_lead_status");
    assert_eq!(a.body["type"], "enumeration");
    assert_eq!(api.get("/crm/v3/properties/contacts/nope").status, 404);
}

#[test]
fn creating_a_custom_property_needs_schema_write_and_makes_it_writable() {
    let mut opts = Options::default();
    let mut scopes: Vec<String> = hubspot_emulator::DEFAULT_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();
    scopes.push("crm.schemas.contacts.write".into());
    opts.tokens
        .push(TokenSpec::new("pat-admin").with_scopes(&scopes));
    let emu = start(opts);
    let def = json!({"name": "shoe_size", "label": "Shoe size", "type": "number",
                     "fieldType": "number", "groupName": "contactinformation"});
    let plain = Api::new(&emu).post("/crm/v3/properties/contacts", def.clone());
    assert_eq!(plain.status, 403);
    assert_eq!(
        plain.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.schemas.contacts.write"])
    );
    let admin = Api::with_token(&emu, Some("pat-admin"));
    let a = admin.post("/crm/v3/properties/contacts", def.clone());
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["hubspotDefined"], false);
    assert_eq!(admin.post("/crm/v3/properties/contacts", def).status, 409);
    let w = admin.upsert(json!([by_email(
        "s@example.com",
        json!({"shoe_size": "44"})
    )]));
    assert_eq!(w.status, 200, "{}", w.text);
    // A unique custom property becomes a valid idProperty.
    let u = admin.post(
        "/crm/v3/properties/contacts",
        json!({"name": "member_no", "label": "Member", "type": "string", "fieldType": "text",
               "groupName": "contactinformation", "hasUniqueValue": true}),
    );
    assert_eq!(u.status, 201);
    let x = admin.upsert(json!([{"id": "M-1", "idProperty": "member_no", "properties": {}}]));
    assert_eq!(x.status, 200, "{}", x.text);
}

// ---------------------------------------------------------------- rate limits

#[test]
fn burst_limit_gives_429_and_does_not_mutate() {
    let mut opts = Options::default();
    opts.rate_limit = Some(RateLimit {
        max: 2,
        interval_ms: 600_000,
    });
    let emu = start(opts);
    let api = Api::new(&emu);
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 200);
    let second = api.get("/crm/v3/objects/contacts");
    assert_eq!(second.header("X-HubSpot-RateLimit-Remaining"), Some("0"));
    let a = api.upsert(json!([by_email("r@example.com", json!({}))]));
    assert_eq!(a.status, 429);
    assert_eq!(a.body["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(a.body["errorType"], "RATE_LIMIT");
    assert_eq!(
        a.body["message"],
        "You have reached your ten_secondly_rolling limit."
    );
    assert!(emu.contacts().is_empty());
    assert_eq!(emu.stats().too_many_requests, 1);
}

/// The burst window belongs to the token: two clients on their own
/// connections share it (as two syncs with one key do), another token has
/// a window of its own.
#[test]
fn the_burst_window_is_counted_per_token_across_connections() {
    let mut opts = Options::default();
    opts.rate_limit = Some(RateLimit {
        max: 3,
        interval_ms: 600_000,
    });
    opts.tokens.push(TokenSpec::new("pat-other"));
    let emu = start(opts);
    let (one, two) = (Api::new(&emu), Api::new(&emu));
    let remaining = |a: &Answer| {
        a.header("X-HubSpot-RateLimit-Remaining")
            .map(str::to_string)
    };
    assert_eq!(
        remaining(&one.get("/crm/v3/objects/contacts")).as_deref(),
        Some("2")
    );
    assert_eq!(
        remaining(&two.get("/crm/v3/objects/contacts")).as_deref(),
        Some("1")
    );
    assert_eq!(
        remaining(&one.get("/crm/v3/objects/contacts")).as_deref(),
        Some("0")
    );
    assert_eq!(two.get("/crm/v3/objects/contacts").status, 429);
    let other = Api::with_token(&emu, Some("pat-other"));
    let own = other.get("/crm/v3/objects/contacts");
    assert_eq!((own.status, remaining(&own).as_deref()), (200, Some("2")));
}

#[test]
fn unlimited_still_sends_headers() {
    let mut opts = Options::default();
    opts.rate_limit = None;
    let emu = start(opts);
    let a = Api::new(&emu).get("/crm/v3/objects/contacts");
    assert!(
        a.header("X-HubSpot-RateLimit-Max")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1000
    );
}

#[test]
fn daily_quota_gives_429_daily() {
    let mut opts = Options::default();
    opts.daily_limit = 2;
    opts.tokens.push(TokenSpec::new("pat-two"));
    let emu = start(opts);
    assert_eq!(Api::new(&emu).get("/crm/v3/objects/contacts").status, 200);
    let two = Api::with_token(&emu, Some("pat-two"));
    assert_eq!(
        two.get("/crm/v3/objects/contacts")
            .header("X-HubSpot-RateLimit-Daily-Remaining"),
        Some("0")
    );
    let a = two.get("/crm/v3/objects/contacts");
    assert_eq!(a.status, 429);
    assert_eq!(a.body["policyName"], "DAILY");
}

// ---------------------------------------------------------------- faults

#[test]
fn scripted_faults_hit_the_numbered_requests() {
    let mut opts = Options::default();
    opts.faults.at = vec![
        (2, Fault::Status(503)),
        (3, Fault::HtmlStatus(502)),
        (4, Fault::DropConnection),
        (
            5,
            Fault::TooManyRequests {
                retry_after_secs: Some(2),
            },
        ),
        (
            6,
            Fault::TooManyRequests {
                retry_after_secs: None,
            },
        ),
        (7, Fault::Delay(20)),
        (8, Fault::ExpireToken),
    ];
    let emu = start(opts);
    let api = Api::new(&emu);
    let up = |email: &str| {
        api.try_post_raw(
            UPSERT,
            &json!({"inputs": [by_email(email, json!({}))]}).to_string(),
        )
    };
    assert_eq!(up("n1@example.com").unwrap().status, 200);
    let a2 = up("n2@example.com").unwrap();
    assert_eq!(
        (a2.status, a2.body["status"].as_str()),
        (503, Some("error"))
    );
    let a3 = up("n3@example.com").unwrap();
    assert_eq!(a3.status, 502);
    assert!(a3.text.contains("<html>"));
    assert!(up("n4@example.com").is_err(), "connection dropped");
    let a5 = up("n5@example.com").unwrap();
    assert_eq!((a5.status, a5.header("Retry-After")), (429, Some("2")));
    assert_eq!(a5.body["policyName"], "TEN_SECONDLY_ROLLING");
    let a6 = up("n6@example.com").unwrap();
    assert_eq!((a6.status, a6.header("Retry-After")), (429, None));
    assert_eq!(up("n7@example.com").unwrap().status, 200);
    let a8 = up("n8@example.com").unwrap();
    assert_eq!(a8.status, 401);
    assert_eq!(a8.body["category"], "EXPIRED_AUTHENTICATION");
    assert_eq!(up("n9@example.com").unwrap().status, 401, "stays expired");

    let written: Vec<String> = emu
        .contacts()
        .into_iter()
        .map(|c| c.properties["email"].clone())
        .collect();
    assert_eq!(written, vec!["n1@example.com", "n7@example.com"]);
    let s = emu.stats();
    assert_eq!(s.total_requests, 9);
    assert_eq!(s.faults_injected, 7);
    assert_eq!(s.too_many_requests, 2);
    let statuses: Vec<Option<u16>> = s.requests.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            Some(200),
            Some(503),
            Some(502),
            None,
            Some(429),
            Some(429),
            Some(200),
            Some(401),
            Some(401)
        ]
    );
    assert_eq!(s.requests[3].fault.as_deref(), Some("drop"));
    assert!(
        s.requests.iter().all(|r| r.inputs == Some(1)),
        "inputs counted even when refused"
    );
    assert_eq!(s.count("POST", UPSERT, 200), 2);
}

#[test]
fn random_faults_are_deterministic_under_a_seed() {
    let run = |seed: u64| {
        let mut opts = Options::default();
        opts.seed = seed;
        opts.faults.random = vec![(Fault::Status(500), 0.3)];
        let emu = start(opts);
        let api = Api::new(&emu);
        (0..40)
            .map(|_| api.get("/crm/v3/objects/contacts").status)
            .collect::<Vec<_>>()
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert_ne!(a, run(8));
    let fails = a.iter().filter(|&&s| s == 500).count();
    assert!((3..=25).contains(&fails), "{fails} of 40");
}

#[test]
fn set_faults_and_reset_at_run_time() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    api.upsert(json!([by_email("k@example.com", json!({}))]));
    emu.set_faults(FaultPlan {
        at: vec![(2, Fault::Status(500))],
        random: vec![],
    });
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 500);
    emu.reset();
    assert!(emu.contacts().is_empty());
    assert_eq!(emu.stats().total_requests, 0);
    // Reset restores the configured (empty) plan and renumbers from 1.
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 200);
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 200);
}

#[test]
fn tokens_expire_after_n_requests() {
    let mut opts = Options::default();
    opts.tokens[0].expires_after_requests = Some(2);
    let emu = start(opts);
    let api = Api::new(&emu);
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 200);
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 200);
    let a = api.get("/crm/v3/objects/contacts");
    assert_eq!(
        (a.status, a.body["category"].as_str()),
        (401, Some("EXPIRED_AUTHENTICATION"))
    );
}

#[test]
fn latency_is_applied_without_serialising_requests() {
    let mut opts = Options::default();
    opts.latency = Latency {
        fixed_ms: 300,
        jitter_ms: 10,
    };
    let emu = start(opts);
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (emu, barrier) = (&emu, &barrier);
            s.spawn(move || {
                let api = Api::new(emu);
                barrier.wait();
                let a = api.upsert(json!([by_email(&format!("c{t}@example.com"), json!({}))]));
                assert_eq!(a.status, 200);
            });
        }
    });
    assert_eq!(emu.contacts().len(), 4);
    assert!(
        emu.stats().peak_concurrent >= 2,
        "{:?}",
        emu.stats().peak_concurrent
    );
}

// ---------------------------------------------------------------- oauth

#[test]
fn oauth_refresh_mints_a_token_without_daily_headers() {
    let mut opts = Options::default();
    let mut app = OAuthClient::new("cid", "csecret", "rtoken");
    app.access_token_requests = Some(1);
    opts.oauth_clients.push(app);
    let emu = start(opts);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token_url = format!("{}/oauth/v1/token", emu.base_url());
    let form = |rt: &str| {
        let mut r = agent
            .post(&token_url)
            .send_form([
                ("grant_type", "refresh_token"),
                ("client_id", "cid"),
                ("client_secret", "csecret"),
                ("refresh_token", rt),
            ])
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_json::<Value>().unwrap(),
        )
    };
    let (status, bad) = form("nope");
    assert_eq!(
        (status, bad["status"].as_str()),
        (400, Some("BAD_REFRESH_TOKEN"))
    );
    let (status, ok) = form("rtoken");
    assert_eq!(status, 200);
    assert_eq!(ok["refresh_token"], "rtoken");
    assert_eq!(ok["expires_in"], 1800);
    let token = ok["access_token"].as_str().unwrap();
    let api = Api::with_token(&emu, Some(token));
    let a = api.get("/crm/v3/objects/contacts");
    assert_eq!(a.status, 200);
    assert!(a.header("X-HubSpot-RateLimit-Daily").is_none());
    assert!(a.header("X-HubSpot-RateLimit-Max").is_some());
    let b = api.get("/crm/v3/objects/contacts");
    assert_eq!(
        (b.status, b.body["category"].as_str()),
        (401, Some("EXPIRED_AUTHENTICATION"))
    );
}

// ---------------------------------------------------------------- inspection and transport

#[test]
fn inspection_endpoints_mirror_the_library_api() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    api.upsert(json!([by_email(
        "i@example.com",
        json!({"firstname": "I"})
    )]));
    let anon = Api::with_token(&emu, None);
    let c = anon.get("/_emulator/contacts");
    assert_eq!(c.body["results"][0]["properties"]["firstname"], "I");
    assert!(c.body["results"][0]["createdAt"].is_string());
    let s = anon.get("/_emulator/stats");
    assert_eq!(s.body["totalRequests"], 1, "inspection is not counted");
    assert_eq!(s.body["requests"][0]["inputs"], 1);
    assert_eq!(s.body["byRoute"][0]["path"], UPSERT);
    let f = anon.post("/_emulator/faults", json!({"at": [[2, "503"]]}));
    assert_eq!(f.status, 200);
    assert_eq!(api.get("/crm/v3/objects/contacts").status, 503);
    assert_eq!(anon.post("/_emulator/reset", json!({})).status, 200);
    assert!(emu.contacts().is_empty());
}

#[test]
fn chunked_bodies_and_keep_alive_on_one_socket() {
    let emu = start(Options::default());
    let mut s = std::net::TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    let body = json!({"inputs": [by_email("ch@example.com", json!({}))]}).to_string();
    let (a, b) = body.split_at(10);
    let req = format!(
        "POST {UPSERT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n\
         GET /crm/v3/objects/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n",
        a.len(),
        b.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
    assert!(emu.contact_by_email("ch@example.com").is_some());
}

#[test]
fn dropping_the_handle_stops_the_server() {
    let emu = start(Options::default());
    let port = emu.port();
    let idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    drop(emu);
    drop(idle);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn single_object_create_update_delete() {
    let emu = start(Options::default());
    let api = Api::new(&emu);
    let a = api.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "One@example.com", "firstname": "One"}}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    assert!(a.body.get("new").is_none());
    let id = a.body["id"].as_str().unwrap().to_string();
    let dup = api.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "one@example.com"}}),
    );
    assert_eq!(dup.status, 409);
    let bad = api.post(
        "/crm/v3/objects/contacts",
        json!({"properties": {"email": "two@example.con"}}),
    );
    assert_eq!(
        (bad.status, bad.body["category"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );

    let patch = |path: &str, body: Value| {
        let r = api
            .agent
            .patch(format!("{}{path}", api.base))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .content_type("application/json")
            .send(body.to_string());
        Api::answer(r).unwrap()
    };
    let p = patch(
        "/crm/v3/objects/contacts/one@example.com?idProperty=email",
        json!({"properties": {"lastname": "Uno"}}),
    );
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["properties"]["lastname"], "Uno");
    let missing = patch("/crm/v3/objects/contacts/777777", json!({"properties": {}}));
    assert_eq!(
        (missing.status, missing.body["category"].as_str()),
        (404, Some("OBJECT_NOT_FOUND"))
    );

    let del = api
        .agent
        .delete(format!("{}/crm/v3/objects/contacts/{id}", api.base))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    assert_eq!(del.status().as_u16(), 204);
    assert!(emu.contacts().is_empty());
}

#[test]
fn dropping_the_handle_does_not_wait_for_delayed_requests() {
    let mut opts = Options::default();
    opts.faults.at = vec![(1, Fault::Delay(120_000))];
    let emu = start(opts);
    let base = emu.base_url();
    let client = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        agent
            .get(format!("{base}/crm/v3/objects/contacts"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .call()
            .map(|r| r.status().as_u16())
    });
    // Wait until the request is in flight, then stop the server.
    while emu.stats().total_requests == 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = std::time::Instant::now();
    drop(emu);
    // Generous bound: only a hang (waiting out the 120 s delay) fails this.
    assert!(t.elapsed() < Duration::from_secs(60));
    let _ = client.join();
}
