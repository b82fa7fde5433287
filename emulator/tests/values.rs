//! Typed property values over real HTTP: numbers must be plain decimal text
//! (HubSpot refuses exponents, `+`, spaces and separators rather than
//! reinterpreting them), dates before 1970 work as epoch ms, and `""`
//! clears a typed value.

mod common;

use common::{start, Client, V2026_09};
use hubspot_emulator::Options;
use serde_json::json;

#[test]
fn a_number_with_an_exponent_fails_its_input_with_invalid_integer() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    let input = |id: &str, n: &str| json!({"id": id, "idProperty": "external_id", "properties": {"numberofemployees": n}});
    let path = format!("{}/batch/upsert", V2026_09.objects("companies"));
    let a = c.post(
        &path,
        json!({"inputs": [input("e-1", "1200"), input("e-2", "1.2e3"), input("e-3", "1,200")]}),
    );
    assert_eq!(a.status, 207, "{:?}", a.body);
    assert_eq!(a.body["numErrors"], 2);
    for (err, id) in a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["e-2", "e-3"])
    {
        assert_eq!(err["errors"][0]["code"], "INVALID_INTEGER");
        assert_eq!(err["context"]["ids"], json!([id]));
    }
    let written: Vec<_> = emu.objects("companies");
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].properties["numberofemployees"], "1200");
}

#[test]
fn typed_values_are_stored_normalised_and_cleared_by_empty_strings() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    let upsert = |props| {
        c.post(
            &format!("{}/batch/upsert", V2026_09.objects("contacts")),
            json!({"inputs": [{"id": "ann@example.com", "idProperty": "email", "properties": props}]}),
        )
    };
    let a = upsert(json!({
        "annualrevenue": "-12.5", "renewal_date": "-14256000000",
        "closedate": "2024-03-01T12:00:00-05:00", "newsletter_opt_in": "False",
    }));
    assert_eq!(a.status, 200, "{:?}", a.body);
    let p = emu.contact_by_email("ann@example.com").unwrap().properties;
    assert_eq!(p["annualrevenue"], "-12.5");
    assert_eq!(p["renewal_date"], "1969-07-20");
    assert_eq!(p["closedate"], "2024-03-01T17:00:00.000Z");
    assert_eq!(p["newsletter_opt_in"], "false");
    let a = upsert(json!({"annualrevenue": " 5"}));
    assert_eq!(a.status, 400, "an email upsert fails whole by default");
    let a = upsert(json!({
        "annualrevenue": "", "renewal_date": "", "closedate": "", "newsletter_opt_in": "",
    }));
    assert_eq!(a.status, 200);
    let p = emu.contact_by_email("ann@example.com").unwrap().properties;
    for name in [
        "annualrevenue",
        "renewal_date",
        "closedate",
        "newsletter_opt_in",
    ] {
        assert!(!p.contains_key(name), "{name} cleared");
    }
}
