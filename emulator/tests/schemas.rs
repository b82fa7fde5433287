//! The custom object schemas API over real HTTP: the `pets` definition
//! under every path, with its live properties, and the
//! `crm.schemas.custom.read` scope it needs.

// Tests change one option of a default; assigning it reads plainly.
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::{start, Client};
use hubspot_emulator::{Options, TokenSpec, DEFAULT_SCOPES};
use serde_json::json;

const PATHS: [&str; 4] = [
    "/crm/v3/schemas",
    "/crm-object-schemas/v3/schemas",
    "/crm-object-schemas/2026-03/schemas",
    "/crm-object-schemas/2026-09/schemas",
];

#[test]
fn every_path_lists_the_pets_schema_with_its_properties() {
    let mut opts = Options::default();
    opts.portal_id = 4242;
    let emu = start(opts);
    let c = Client::new(&emu);
    for path in PATHS {
        let a = c.get(path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let results = a.body["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        let pets = &results[0];
        assert_eq!(pets["id"], "90001");
        assert_eq!(pets["objectTypeId"], "2-90001");
        assert_eq!(pets["name"], "pets");
        assert_eq!(pets["fullyQualifiedName"], "p4242_pets");
        assert_eq!(pets["labels"], json!({"singular": "Pet", "plural": "Pets"}));
        assert_eq!(pets["primaryDisplayProperty"], "name");
        assert_eq!(pets["requiredProperties"], json!(["name"]));
        assert_eq!(pets["searchableProperties"], json!(["name"]));
        assert_eq!(pets["associations"], json!([]));
        assert_eq!(pets["archived"], false);
        let props = pets["properties"].as_array().unwrap();
        let pet_id = props.iter().find(|p| p["name"] == "pet_id").unwrap();
        assert_eq!(pet_id["hasUniqueValue"], true);
        assert_eq!(pet_id["type"], "string");
        let species = props.iter().find(|p| p["name"] == "species").unwrap();
        assert_eq!(species["options"].as_array().unwrap().len(), 3);
        assert!(props.iter().any(|p| p["name"] == "external_id"));
    }
    for one in ["pets", "p4242_pets", "2-90001"] {
        let a = c.get(&format!("/crm-object-schemas/2026-09/schemas/{one}"));
        assert_eq!(a.status, 200, "{one}");
        assert_eq!(a.body["objectTypeId"], "2-90001");
    }
    assert_eq!(c.get("/crm-object-schemas/v3/schemas/contacts").status, 404);
    assert_eq!(c.get("/crm/v3/schemas/p1_pets").status, 404);
    assert_eq!(
        emu.stats()
            .count("GET", "/crm-object-schemas/2026-03/schemas", 200),
        1
    );
}

#[test]
fn a_property_created_on_pets_shows_in_its_schema() {
    let mut opts = Options::default();
    opts.tokens[0]
        .scopes
        .push("crm.schemas.custom.write".into());
    let emu = start(opts);
    let c = Client::new(&emu);
    let def = json!({"name": "chip_no", "label": "Chip", "type": "string",
                     "fieldType": "text", "groupName": "pet_information", "hasUniqueValue": true});
    assert_eq!(c.post("/crm/properties/2026-09/pets", def).status, 201);
    let a = c.get("/crm/v3/schemas");
    let props = a.body["results"][0]["properties"].as_array().unwrap();
    assert!(props
        .iter()
        .any(|p| p["name"] == "chip_no" && p["hasUniqueValue"] == true));
}

#[test]
fn schemas_need_the_custom_schema_read_scope() {
    let without: Vec<&str> = DEFAULT_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "crm.schemas.custom.read")
        .collect();
    let mut opts = Options::default();
    opts.tokens
        .push(TokenSpec::new("pat-noschema").with_scopes(&without));
    let emu = start(opts);
    let c = Client::with_token(&emu, Some("pat-noschema"));
    for path in PATHS {
        let a = c.get(path);
        assert_eq!(a.status, 403, "{path}");
        assert_eq!(a.body["category"], "MISSING_SCOPES");
        assert_eq!(
            a.body["errors"][0]["context"]["requiredGranularScopes"],
            json!(["crm.schemas.custom.read"])
        );
    }
    assert_eq!(Client::new(&emu).get(PATHS[0]).status, 200);
}
