//! HubSpot's path families over real HTTP: legacy `/crm/v3/…` and the
//! date-based `2026-03` and `2026-09` answer every endpoint with the same
//! shapes and count in stats under their own templates; `LegacyPaths::Gone`
//! turns the legacy ones into 404s; the OAuth endpoints differ only in their
//! error bodies.

mod common;

use common::{start, Client, Family, ALL, LEGACY, V2026_03, V2026_09};
use hubspot_emulator::{LegacyPaths, OAuthClient, Options};
use serde_json::{json, Value};

/// Replaces what legitimately differs between two runs: timestamps, the
/// server's address and the family's path prefix.
fn normalise(v: &mut Value, base: &str, family: Family) {
    match v {
        Value::String(s) => {
            let is_time = s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T';
            if is_time {
                *s = "<time>".into();
            } else {
                *s = s
                    .replace(base, "<base>")
                    .replace(&family.objects(""), "<objects>/");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| normalise(x, base, family)),
        Value::Object(m) => m.values_mut().for_each(|x| normalise(x, base, family)),
        _ => {}
    }
}

fn by_email(email: &str, props: Value) -> Value {
    json!({ "id": email, "idProperty": "email", "properties": props })
}

/// Calls every endpoint once or more through `family`, on a fresh emulator,
/// and returns the normalised answers with the emulator's stats templates.
fn tour(family: Family) -> (Vec<(String, Answer)>, Vec<RouteKey>) {
    let mut opts = Options::default();
    opts.tokens[0]
        .scopes
        .push("crm.schemas.contacts.write".into());
    let emu = start(opts);
    let c = Client::new(&emu);
    let mut out = batch_calls(&c, family);
    out.extend(single_and_account_calls(&c, family));
    let answers = out
        .into_iter()
        .map(|(what, mut a)| {
            normalise(&mut a.body, &emu.base_url(), family);
            (what.to_string(), Answer(a.status, a.body))
        })
        .collect();
    let routes = emu
        .stats()
        .by_route
        .into_iter()
        .map(|r| (r.method, r.path, r.status))
        .collect();
    (answers, routes)
}

/// The batch endpoints, with successes, 207s and whole-batch failures.
fn batch_calls(c: &Client, family: Family) -> Vec<(&'static str, common::Answer)> {
    let objects = family.objects("contacts");
    let batch = |op: &str, inputs: Value| c.post(&format!("{objects}/batch/{op}"), inputs);
    let company = |id: &str, props: Value| json!({"id": id, "idProperty": "external_id", "properties": props});
    let cy = json!({"inputs": [{"properties": {"email": "cy@example.com"}}]});
    vec![
        (
            "upsert",
            batch(
                "upsert",
                json!({"inputs": [
                    by_email("ann@example.com", json!({"firstname": "Ann"})),
                    by_email("bob@example.com", json!({"lifecyclestage": "lead"})),
                ]}),
            ),
        ),
        (
            "upsert bad email",
            batch(
                "upsert",
                json!({"inputs": [by_email("x@y.con", json!({}))]}),
            ),
        ),
        (
            "read 207",
            batch(
                "read",
                json!({
                    "idProperty": "email", "properties": ["firstname"],
                    "inputs": [{"id": "ann@example.com"}, {"id": "nobody@example.com"}],
                }),
            ),
        ),
        (
            "update 207",
            batch(
                "update",
                json!({"inputs": [
                    {"id": "101", "properties": {"lastname": "Lee"}},
                    {"id": "999", "properties": {"lastname": "X"}},
                ]}),
            ),
        ),
        (
            "company 207",
            c.post(
                &format!("{}/batch/upsert", family.objects("companies")),
                json!({
                    "inputs": [
                        company("e-1", json!({"name": "Acme"})),
                        company("e-2", json!({"numberofemployees": "many"})),
                    ]
                }),
            ),
        ),
        ("create", batch("create", cy.clone())),
        ("create conflict", batch("create", cy)),
        (
            "archive",
            batch("archive", json!({"inputs": [{"id": "102"}]})),
        ),
    ]
}

/// Single-object endpoints, properties, account info and an unknown type.
fn single_and_account_calls(c: &Client, family: Family) -> Vec<(&'static str, common::Answer)> {
    let (objects, props) = (family.objects("contacts"), family.properties("contacts"));
    let account = family.account_info();
    let created = c.post(&objects, json!({"properties": {"email": "di@example.com"}}));
    let id = created.body["id"].as_str().unwrap_or("").to_string();
    let shoe_size = json!({
        "name": "shoe_size", "label": "Shoe size", "type": "number",
        "fieldType": "number", "groupName": "contactinformation",
    });
    vec![
        (
            "get",
            c.get(&format!("{objects}/ann@example.com?idProperty=email")),
        ),
        (
            "list",
            c.get(&format!("{objects}?limit=1&properties=email")),
        ),
        ("single create", created),
        (
            "single update",
            c.call(
                "PATCH",
                &format!("{objects}/{id}"),
                Some(json!({"properties": {"firstname": "Di"}})),
            ),
        ),
        (
            "single delete",
            c.call("DELETE", &format!("{objects}/{id}"), None),
        ),
        ("properties", c.get(&props)),
        ("property", c.get(&format!("{props}/email"))),
        ("property create", c.post(&props, shoe_size)),
        ("details", c.get(&format!("{account}/details"))),
        (
            "usage",
            c.get(&format!("{account}/api-usage/daily/private-apps")),
        ),
        ("unknown type", c.get(&family.objects("widgets"))),
    ]
}

/// (method, path template, status) as stats count them.
type RouteKey = (String, String, u16);

/// Status and normalised body, compared as a whole.
#[derive(Debug, PartialEq)]
struct Answer(u16, Value);

#[test]
fn every_family_answers_every_endpoint_alike() {
    let (legacy, _) = tour(LEGACY);
    assert_eq!(legacy[0].1 .0, 200, "{:?}", legacy[0]);
    for family in [V2026_03, V2026_09] {
        let (dated, _) = tour(family);
        for (l, d) in legacy.iter().zip(&dated) {
            assert_eq!(l, d, "{family:?}");
        }
        assert_eq!(legacy.len(), dated.len());
    }
    let statuses: Vec<u16> = legacy.iter().map(|(_, a)| a.0).collect();
    assert_eq!(
        statuses,
        [
            200, 400, 207, 207, 207, 201, 409, 204, 200, 200, 201, 200, 204, 200, 200, 201, 200,
            200, 404
        ]
    );
}

#[test]
fn stats_templates_name_the_family() {
    let (_, legacy) = tour(LEGACY);
    let has = |routes: &[RouteKey], m: &str, p: &str, s: u16| {
        routes.iter().any(|r| r.0 == m && r.1 == p && r.2 == s)
    };
    assert!(has(
        &legacy,
        "POST",
        "/crm/v3/objects/contacts/batch/upsert",
        200
    ));
    assert!(has(&legacy, "GET", "/account-info/v3/details", 200));
    for (family, v) in [(V2026_03, "2026-03"), (V2026_09, "2026-09")] {
        let (_, routes) = tour(family);
        for (m, p, s) in [
            (
                "POST",
                format!("/crm/objects/{v}/contacts/batch/upsert"),
                200,
            ),
            (
                "POST",
                format!("/crm/objects/{v}/companies/batch/upsert"),
                207,
            ),
            ("GET", format!("/crm/objects/{v}/contacts/{{id}}"), 200),
            ("PATCH", format!("/crm/objects/{v}/contacts/{{id}}"), 200),
            ("GET", format!("/crm/objects/{v}/contacts"), 200),
            ("GET", format!("/crm/properties/{v}/contacts/{{name}}"), 200),
            ("POST", format!("/crm/properties/{v}/contacts"), 201),
            (
                "GET",
                format!("/account-info/{v}/api-usage/daily/private-apps"),
                200,
            ),
        ] {
            assert!(has(&routes, m, &p, s), "{m} {p} {s} not in {routes:?}");
        }
        assert!(routes.iter().all(|r| !r.1.contains("/v3/")), "{routes:?}");
    }
}

#[test]
fn list_paging_links_stay_in_the_callers_family() {
    let emu = start(Options::default());
    emu.add_contact([("email", "a@example.com")]);
    emu.add_contact([("email", "b@example.com")]);
    let c = Client::new(&emu);
    for family in ALL {
        let a = c.get(&format!("{}?limit=1", family.objects("contacts")));
        let link = a.body["paging"]["next"]["link"].as_str().unwrap();
        let want = format!("{}{}?after=", emu.base_url(), family.objects("contacts"));
        assert!(link.starts_with(&want), "{link}");
    }
}

#[test]
fn legacy_paths_gone_answer_404_while_dated_paths_serve() {
    let mut opts = Options {
        legacy_paths: LegacyPaths::Gone,
        ..Options::default()
    };
    opts.oauth_clients.push(OAuthClient::new("cid", "cs", "rt"));
    let emu = start(opts);
    let c = Client::new(&emu);
    let upsert = json!({"inputs": [by_email("ann@example.com", json!({}))]});
    let gone = [
        c.post("/crm/v3/objects/contacts/batch/upsert", upsert.clone()),
        c.get("/crm/v3/objects/contacts"),
        c.get("/crm/v3/properties/contacts"),
        c.get("/account-info/v3/details"),
        c.get("/account-info/v3/api-usage/daily/private-apps"),
        c.form("/oauth/v1/token", &refresh_form("rt")),
    ];
    for a in &gone {
        assert_eq!(a.status, 404, "{a:?}");
        assert_eq!(a.body["status"], "error");
        assert_eq!(a.body["category"], "OBJECT_NOT_FOUND");
        assert!(a.body["correlationId"].is_string());
    }
    assert!(emu.contacts().is_empty(), "a gone path writes nothing");
    for family in [V2026_03, V2026_09] {
        let a = c.post(
            &format!("{}/batch/upsert", family.objects("contacts")),
            upsert.clone(),
        );
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(c.get(&family.properties("contacts")).status, 200);
        assert_eq!(
            c.get(&format!("{}/details", family.account_info())).status,
            200
        );
    }
    assert_eq!(
        c.form("/oauth/2026-03/token", &refresh_form("rt")).status,
        200
    );
    let stats = emu.stats();
    assert_eq!(
        stats.count("POST", "/crm/v3/objects/contacts/batch/upsert", 404),
        1
    );
    assert_eq!(stats.count("POST", "/oauth/v1/token", 404), 1);
    assert_eq!(
        stats.count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 200),
        1
    );
}

fn refresh_form(refresh_token: &str) -> [(&str, &str); 4] {
    [
        ("grant_type", "refresh_token"),
        ("client_id", "cid"),
        ("client_secret", "cs"),
        ("refresh_token", refresh_token),
    ]
}

#[test]
fn oauth_2026_03_refreshes_like_v1_and_its_token_works_on_dated_paths() {
    let mut opts = Options::default();
    opts.oauth_clients.push(OAuthClient::new("cid", "cs", "rt"));
    let emu = start(opts);
    let anon = Client::with_token(&emu, None);
    let v1 = anon.form("/oauth/v1/token", &refresh_form("rt"));
    let dated = anon.form("/oauth/2026-03/token", &refresh_form("rt"));
    for a in [&v1, &dated] {
        assert_eq!(a.status, 200);
        assert_eq!(a.body["token_type"], "bearer");
        assert_eq!(a.body["refresh_token"], "rt");
        assert_eq!(a.body["expires_in"], 1800);
    }
    let keys = |a: &common::Answer| {
        let mut k: Vec<String> = a.body.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v1), keys(&dated));
    let token = dated.body["access_token"].as_str().unwrap();
    let c = Client::with_token(&emu, Some(token));
    assert_eq!(c.get(&V2026_09.objects("contacts")).status, 200);
    let stats = emu.stats();
    assert_eq!(stats.count("POST", "/oauth/2026-03/token", 200), 1);
    assert_eq!(stats.count("POST", "/oauth/v1/token", 200), 1);
}

#[test]
fn oauth_errors_add_rfc6749_fields_only_on_the_dated_endpoint() {
    let mut opts = Options::default();
    opts.oauth_clients.push(OAuthClient::new("cid", "cs", "rt"));
    let emu = start(opts);
    let anon = Client::with_token(&emu, None);
    let revoked = refresh_form("revoked-or-unknown");
    let dated = anon.form("/oauth/2026-03/token", &revoked);
    assert_eq!(dated.status, 400);
    assert_eq!(dated.body["error"], "invalid_grant");
    assert_eq!(
        dated.body["error_description"],
        "missing or invalid refresh token"
    );
    assert_eq!(dated.body["status"], "BAD_REFRESH_TOKEN");
    assert_eq!(dated.body["message"], "missing or invalid refresh token");

    let v1 = anon.form("/oauth/v1/token", &revoked);
    assert_eq!(v1.status, 400);
    assert_eq!(v1.body["status"], "BAD_REFRESH_TOKEN");
    assert_eq!(v1.body["message"], "missing or invalid refresh token");
    assert!(v1.body.get("error").is_none(), "{:?}", v1.body);
    assert!(v1.body.get("error_description").is_none());

    let mut bad_client = refresh_form("rt");
    bad_client[1].1 = "other";
    let a = anon.form("/oauth/2026-03/token", &bad_client);
    assert_eq!(
        (a.body["error"].as_str(), a.body["status"].as_str()),
        (Some("invalid_client"), Some("BAD_CLIENT_ID"))
    );
    let mut bad_grant = refresh_form("rt");
    bad_grant[0].1 = "password";
    let a = anon.form("/oauth/2026-03/token", &bad_grant);
    assert_eq!(a.status, 400);
    assert_eq!(a.body["error"], "unsupported_grant_type");
    assert_eq!(a.body["status"], "BAD_GRANT_TYPE");

    // OAuth has one date version: there is no 2026-09 token endpoint.
    assert_eq!(
        anon.form("/oauth/2026-09/token", &refresh_form("rt"))
            .status,
        404
    );
}
