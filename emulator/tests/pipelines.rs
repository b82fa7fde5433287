//! Deal and ticket pipelines over real HTTP: the Pipelines API in every
//! family, the stage and pipeline properties' options, and the rule that a
//! written stage belongs to the record's pipeline, answered in both
//! validation error styles.

// Tests change one option of a default; assigning it reads plainly.
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::{start, Client, ALL, LEGACY, V2026_03};
use hubspot_emulator::{Options, TokenSpec, ValidationErrorMode};
use serde_json::{json, Value};

/// `/crm/v3/pipelines/{ty}` or `/crm/pipelines/VER/{ty}`.
fn pipelines_path(family: common::Family, ty: &str) -> String {
    match family.0 {
        None => format!("/crm/v3/pipelines/{ty}"),
        Some(v) => format!("/crm/pipelines/{v}/{ty}"),
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["id"]
                .as_str()
                .or(x["value"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn deal_and_ticket_pipelines_are_listed_with_their_stages() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    for family in ALL {
        let deals = c.get(&pipelines_path(family, "deals"));
        assert_eq!(deals.status, 200, "{}", deals.body);
        let results = &deals.body["results"];
        assert_eq!(ids(results), ["default", "renewals"]);
        let default = &results[0];
        assert_eq!(default["label"], "Sales Pipeline");
        assert_eq!(default["displayOrder"], 0);
        assert_eq!(default["archived"], false);
        assert_eq!(
            ids(&default["stages"]),
            [
                "appointmentscheduled",
                "qualifiedtobuy",
                "presentationscheduled",
                "decisionmakerboughtin",
                "contractsent",
                "closedwon",
                "closedlost"
            ]
        );
        let first = &default["stages"][0];
        assert_eq!(first["label"], "Appointment Scheduled");
        assert_eq!(first["metadata"]["probability"], "0.2");
        assert_eq!(first["displayOrder"], 0);
        assert_eq!(
            ids(&results[1]["stages"]),
            ["renewal_open", "renewal_won", "renewal_lost"]
        );
        let tickets = c.get(&pipelines_path(family, "0-5"));
        assert_eq!(tickets.body["results"][0]["id"], "0");
        assert_eq!(tickets.body["results"][0]["label"], "Support Pipeline");
        assert_eq!(
            ids(&tickets.body["results"][0]["stages"]),
            ["1", "2", "3", "4"]
        );
        assert_eq!(
            tickets.body["results"][0]["stages"][1]["label"],
            "Waiting on contact"
        );
    }
    assert_eq!(c.get("/crm/v3/pipelines/contacts").status, 404);
    assert_eq!(
        emu.stats()
            .count("GET", "/crm/pipelines/2026-03/tickets", 200),
        1
    );
}

#[test]
fn stage_and_pipeline_properties_list_every_pipeline() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    let stage = c.get(&LEGACY.properties("deals/dealstage"));
    let stages = ids(&stage.body["options"]);
    assert_eq!(stages.len(), 10);
    assert!(stages.contains(&"renewal_lost".to_string()));
    assert_eq!(
        ids(&c.get(&LEGACY.properties("deals/pipeline")).body["options"]),
        ["default", "renewals"]
    );
    assert_eq!(
        ids(&c
            .get(&V2026_03.properties("tickets/hs_pipeline_stage"))
            .body["options"]),
        ["1", "2", "3", "4"]
    );
    assert_eq!(
        ids(&c.get(&V2026_03.properties("tickets/hs_pipeline")).body["options"]),
        ["0"]
    );
}

fn deal(ext: &str, props: Value) -> Value {
    json!({"id": ext, "idProperty": "external_id", "properties": props})
}

#[test]
fn a_stage_outside_the_pipeline_fails_the_whole_batch_by_default() {
    let emu = start(Options::default());
    let c = Client::new(&emu);
    let upsert = format!("{}/batch/upsert", LEGACY.objects("deals"));
    let a = c.post(
        &upsert,
        json!({"inputs": [
            deal("D-1", json!({"dealstage": "closedwon"})),
            deal("D-2", json!({"dealstage": "renewal_won"})),
        ]}),
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.body["category"], "VALIDATION_ERROR");
    let msg = a.body["message"].as_str().unwrap();
    assert!(msg.starts_with("Property values were not valid: "), "{msg}");
    assert!(
        msg.contains("INVALID_OPTION") && msg.contains("dealstage"),
        "{msg}"
    );
    assert!(emu.objects("deals").is_empty(), "nothing written");

    let ok = c.post(
        &upsert,
        json!({"inputs": [
            deal("D-1", json!({"dealstage": "closedwon"})),
            deal("D-2", json!({"pipeline": "renewals", "dealstage": "renewal_won"})),
        ]}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    // The record's current pipeline decides when the write names none.
    let later = c.post(
        &upsert,
        json!({"inputs": [deal("D-2", json!({"dealstage": "renewal_lost"}))]}),
    );
    assert_eq!(later.status, 200, "{}", later.body);
    let wrong = c.post(
        &upsert,
        json!({"inputs": [deal("D-2", json!({"dealstage": "closedlost"}))]}),
    );
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    let single = c.call(
        "PATCH",
        &format!("{}/D-1?idProperty=external_id", LEGACY.objects("deals")),
        Some(json!({"properties": {"pipeline": "renewals"}})),
    );
    assert_eq!(single.status, 400, "{}", single.body);
}

#[test]
fn a_stage_outside_the_pipeline_is_one_207_error_in_multi_status_mode() {
    let mut opts = Options::default();
    opts.validation_error_mode = ValidationErrorMode::MultiStatus;
    let emu = start(opts);
    let c = Client::new(&emu);
    let a = c.post(
        &format!("{}/batch/create", LEGACY.objects("tickets")),
        json!({"inputs": [
            {"properties": {"subject": "ok", "hs_pipeline_stage": "2"}, "objectWriteTraceId": "t1"},
            {"properties": {"subject": "bad", "hs_pipeline_stage": "closedwon"}, "objectWriteTraceId": "t2"},
        ]}),
    );
    assert_eq!(a.status, 207, "{}", a.body);
    assert_eq!(a.body["numErrors"], 1);
    let e = &a.body["errors"][0];
    assert_eq!(e["objectWriteTraceId"], "t2");
    assert_eq!(e["errors"][0]["code"], "INVALID_OPTION");
    assert_eq!(e["errors"][0]["in"], "hs_pipeline_stage");
    let stored = emu.objects("tickets");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].properties["hs_pipeline_stage"], "2");
}

#[test]
fn reading_pipelines_needs_the_object_read_scope() {
    let mut opts = Options::default();
    opts.tokens
        .push(TokenSpec::new("pat-deals").with_scopes(&["crm.objects.deals.read"]));
    let emu = start(opts);
    let c = Client::with_token(&emu, Some("pat-deals"));
    assert_eq!(c.get("/crm/v3/pipelines/deals").status, 200);
    let t = c.get("/crm/pipelines/2026-09/tickets");
    assert_eq!(t.status, 403);
    assert_eq!(t.body["category"], "MISSING_SCOPES");
    assert_eq!(
        t.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.tickets.read"])
    );
}
