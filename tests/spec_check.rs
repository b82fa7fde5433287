//! `spec` and `check` run as the real binary against the emulator.

mod common;

use common::*;
use hubspot_emulator::TokenSpec;
use serde_json::{json, Value};

fn spec_schema() -> Value {
    let run = run(&["spec"], b"");
    assert_eq!(run.code, 0);
    assert_eq!(run.messages.len(), 1);
    run.messages[0]["spec"]["connectionSpecification"].clone()
}

#[test]
fn spec_prints_the_same_schema_as_spec_json() {
    let file: Value = serde_json::from_str(include_str!("../spec.json")).unwrap();
    let run = run(&["spec"], b"");
    assert_eq!(run.messages[0]["type"], "SPEC");
    assert_eq!(run.messages[0]["spec"], file);
    let copy: Value = serde_json::from_str(include_str!("../integration_tests/spec.json")).unwrap();
    assert_eq!(copy, file, "integration_tests/spec.json is stale");
    assert!(file["supported_destination_sync_modes"]
        .as_array()
        .unwrap()
        .contains(&json!("append_dedup")));
}

#[test]
fn sample_config_validates_and_invalid_config_does_not() {
    let schema = spec_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let sample: Value =
        serde_json::from_str(include_str!("../integration_tests/sample_config.json")).unwrap();
    assert!(validator.is_valid(&sample));
    let invalid: Value =
        serde_json::from_str(include_str!("../integration_tests/invalid_config.json")).unwrap();
    assert!(!validator.is_valid(&invalid));
}

#[test]
fn check_succeeds_with_a_good_token() {
    let emu = start(quick());
    let s = Scratch::new("check-ok");
    let run = check(&s, &config(&emu, json!({"lifecycle_stage": "lead"})));
    assert_eq!(run.code, 0);
    assert_eq!(
        run.connection_status()["status"],
        "SUCCEEDED",
        "{:?}",
        run.messages
    );
    // The write-scope probe writes nothing.
    assert!(emu.contacts().is_empty());
}

#[test]
fn check_warns_about_an_unknown_config_key_naming_the_closest_one() {
    let emu = start(quick());
    let s = Scratch::new("check-typo");
    let run = check(&s, &config(&emu, json!({"lifecycle_stag": "lead"})));
    assert_eq!(run.connection_status()["status"], "SUCCEEDED");
    let message = run.connection_status()["message"].as_str().unwrap();
    assert!(
        message.contains("`lifecycle_stag` (did you mean `lifecycle_stage`?)"),
        "{message}"
    );
    assert!(
        run.logs().contains("unknown key(s) `lifecycle_stag`"),
        "{}",
        run.logs()
    );
}

#[test]
fn check_fails_with_an_unknown_token_and_says_so_without_echoing_it() {
    let emu = start(quick());
    let s = Scratch::new("check-badtoken");
    let run = check(
        &s,
        &config(&emu, json!({"access_token": "pat-na1-wrong-secret-123"})),
    );
    assert_eq!(run.code, 0);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("invalid, revoked or expired"), "{message}");
    assert!(!run.stdout.contains("wrong-secret") && !run.stderr.contains("wrong-secret"));
}

/// A token without the write scope, or without any way to read property
/// definitions (contacts read or schema read): `check` names what is missing.
#[test]
fn check_names_the_missing_scope() {
    let cases: [(&[&str], &str); 2] = [
        (
            &["crm.objects.contacts.read", "crm.schemas.contacts.read"],
            "crm.objects.contacts.write",
        ),
        (&["crm.objects.contacts.write"], "crm.objects.contacts.read"),
    ];
    for (scopes, missing) in cases {
        let emu = start(Options {
            tokens: vec![TokenSpec::new("pat-scoped").with_scopes(scopes)],
            ..quick()
        });
        let s = Scratch::new("check-scope");
        let run = check(&s, &config(&emu, json!({"access_token": "pat-scoped"})));
        let status = run.connection_status();
        assert_eq!(status["status"], "FAILED");
        assert!(
            status["message"].as_str().unwrap().contains(missing),
            "{status}"
        );
    }
}

#[test]
fn check_reports_an_unreachable_host() {
    // Bind then drop a listener: a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Scratch::new("check-unreachable");
    let config = json!({"access_token": "pat-x", "base_url": format!("http://127.0.0.1:{port}"), "retry_initial_delay_ms": 1, "max_retries": 1});
    let run = check(&s, &config);
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("cannot reach HubSpot") && message.contains("base_url"),
        "{message}"
    );
}

#[test]
fn check_reports_a_wrong_base_url() {
    let emu = start(quick());
    let s = Scratch::new("check-wrongurl");
    let run = check(
        &s,
        &config(
            &emu,
            json!({"base_url": format!("{}/not-hubspot", emu.base_url())}),
        ),
    );
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["message"].as_str().unwrap().contains("base_url"),
        "{status}"
    );
}

#[test]
fn check_rejects_an_unknown_lifecycle_stage() {
    let emu = start(quick());
    let s = Scratch::new("check-stage");
    let run = check(&s, &config(&emu, json!({"lifecycle_stage": "prospect"})));
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("lifecycle_stage")
            && message.contains("prospect")
            && message.contains("marketingqualifiedlead"),
        "{message}"
    );
}

#[test]
fn check_lists_every_config_violation_with_its_path() {
    let s = Scratch::new("check-invalid");
    let run = check(
        &s,
        &json!({"access_token": 42, "base_url": "http://crm.example.com", "workers": 0, "null_values": "zap"}),
    );
    assert_eq!(run.code, 0);
    let message = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    for path in ["/access_token", "/workers", "/null_values"] {
        assert!(message.contains(path), "{path} missing from {message}");
    }
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let s = Scratch::new("check-http");
    let run = check(
        &s,
        &json!({"access_token": "pat-secret-value", "base_url": "http://crm.example.com"}),
    );
    let message = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("base_url") && message.contains("https"),
        "{message}"
    );
    assert!(!run.stdout.contains("pat-secret-value"));
}

#[test]
fn a_config_that_does_not_parse_names_the_file() {
    let s = Scratch::new("check-garbage");
    let path = s.write("config.json", "{not json");
    let run = run(&["check", "--config", path.to_str().unwrap()], b"");
    let message = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("config.json"), "{message}");
}

#[test]
fn help_shows_an_example_for_every_command() {
    for cmd in ["spec", "check", "discover", "write"] {
        let out = std::process::Command::new(BIN)
            .args([cmd, "--help"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Example"), "{cmd} --help: {text}");
    }
}

#[test]
fn discover_lists_the_writable_contact_properties() {
    let emu = start(quick());
    let s = Scratch::new("discover");
    let config = s.write("config.json", &config(&emu, json!({})).to_string());
    let run = run(&["discover", "--config", config.to_str().unwrap()], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let catalog = &run.of_type("DESTINATION_CATALOG")[0]["destination_catalog"];
    let op = &catalog["operations"][0];
    assert_eq!(op["object_name"], "contacts");
    assert_eq!(op["matching_keys"], json!([["email"], ["external_id"]]));
    let props = op["json_schema"]["properties"].as_object().unwrap();
    assert!(props.contains_key("firstname") && props.contains_key("lifecyclestage"));
    assert!(
        !props.contains_key("hs_object_id") && !props.contains_key("createdate"),
        "read-only properties are not listed"
    );
    assert!(props["lifecyclestage"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("customer")));
    let ops = catalog["operations"].as_array().unwrap();
    let keys = |object: &str, mode: &str| {
        ops.iter()
            .find(|o| o["object_name"] == object && o["sync_mode"] == mode)
            .map(|o| o["matching_keys"].clone())
    };
    assert_eq!(
        keys("contacts", "append_dedup"),
        Some(json!([["email"], ["external_id"]]))
    );
    for object in ["companies", "deals", "tickets", "products", "line_items"] {
        assert_eq!(
            keys(object, "append_dedup"),
            Some(json!([["external_id"]])),
            "{object}"
        );
    }
    assert_eq!(
        keys("pets", "append_dedup"),
        Some(json!([["external_id"], ["pet_id"]]))
    );
    assert_eq!(
        keys("companies", "update"),
        Some(json!([["external_id"], ["hs_object_id"]]))
    );
}

#[test]
fn discover_leaves_out_objects_the_token_may_not_write() {
    let emu = start(Options {
        tokens: vec![
            hubspot_emulator::TokenSpec::new("pat-narrow").with_scopes(&[
                "crm.objects.contacts.write",
                "crm.schemas.contacts.read",
                "crm.schemas.companies.read",
            ]),
        ],
        ..quick()
    });
    let s = Scratch::new("discover-narrow");
    let mut cfg = config(&emu, json!({}));
    cfg["access_token"] = json!("pat-narrow");
    let config = s.write("config.json", &cfg.to_string());
    let run = run(&["discover", "--config", config.to_str().unwrap()], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let catalog = &run.of_type("DESTINATION_CATALOG")[0]["destination_catalog"];
    let mut objects: Vec<&str> = catalog["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["object_name"].as_str().unwrap())
        .collect();
    objects.dedup();
    assert_eq!(objects, vec!["contacts"]);
}

#[test]
fn check_with_oauth_credentials_refreshes_and_names_bad_ones() {
    use hubspot_emulator::OAuthClient;
    let emu = start(Options {
        tokens: vec![],
        oauth_clients: vec![OAuthClient::new("app", "s3cret-client", "r3fresh-token")],
        ..quick()
    });
    let s = Scratch::new("check-oauth");
    let oauth = |secret: &str| {
        let mut c = config(
            &emu,
            json!({"credentials": {"auth_type": "OAuth", "client_id": "app", "client_secret": secret, "refresh_token": "r3fresh-token"}}),
        );
        c.as_object_mut().unwrap().remove("access_token");
        c
    };
    let run = check(&s, &oauth("s3cret-client"));
    assert_eq!(
        run.connection_status()["status"],
        "SUCCEEDED",
        "{:?}",
        run.messages
    );
    let run = check(&s, &oauth("wrong-secret"));
    let status = run.connection_status();
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("client_secret"),
        "{status}"
    );
    for secret in ["wrong-secret", "r3fresh-token"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}
