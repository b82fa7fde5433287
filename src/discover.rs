//! `discover`: describes what this destination can write, for Airbyte's
//! data-activation flow — every CRM object the token may write (the
//! standard ones and the account's custom objects), each with its writable
//! properties as a JSON schema read from the account and its matching keys:
//! the properties with unique values (email for contacts), or the record id
//! for updates of existing records.

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::hubspot::errors::HubSpotError;
use crate::hubspot::objects::{self, Object};
use crate::hubspot::properties::{Kind, Properties, Property};
use crate::hubspot::Client;
use crate::write::targets::RECORD_ID;

/// The DESTINATION_CATALOG payload for this account. An object whose
/// properties the token can't read, or which it may not write, is left out.
pub fn discover(config: &Config) -> Result<Value, HubSpotError> {
    let client = Client::new(config);
    let mut all = objects::standards();
    // Custom objects need `crm.schemas.custom.read`; without it, none.
    if let Ok(schemas) = objects::read_schemas(&client) {
        all.extend(objects::customs(&schemas));
    }
    let mut found = Vec::new();
    for object in all {
        let Ok(props) = Properties::fetch(&client, &object.path) else {
            continue;
        };
        let probe = client.paths().objects_batch(&object.path, "update");
        if client.post(&probe, br#"{"inputs":[]}"#).is_ok() {
            found.push((object, props));
        }
    }
    Ok(catalog(&found))
}

/// The catalog for these objects and their property definitions.
pub fn catalog(objects: &[(Object, Properties)]) -> Value {
    let mut operations = Vec::new();
    for (object, props) in objects {
        operations.extend(operations_of(object, props));
    }
    json!({ "operations": operations })
}

/// One object's operations: upserts (`append`, `append_dedup`) by each
/// unique property, and `update` by those or by the record id.
fn operations_of(object: &Object, props: &Properties) -> Vec<Value> {
    let mut unique: Vec<&str> = props.unique();
    if object.is_contacts() && !unique.contains(&"email") {
        unique.insert(0, "email");
    }
    let keys = |with_id: bool| {
        let mut keys: Vec<Value> = unique.iter().map(|k| json!([k])).collect();
        if with_id {
            keys.push(json!([RECORD_ID]));
        }
        keys
    };
    let mut properties = Map::new();
    for p in props.writable() {
        properties.insert(p.name.clone(), schema(p));
    }
    let json_schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": true,
        "properties": properties,
    });
    let name = if object.scope == "custom" {
        &object.name
    } else {
        &object.path
    };
    let mut ops = Vec::new();
    if !unique.is_empty() {
        for mode in ["append", "append_dedup"] {
            ops.push(json!({"object_name": name, "sync_mode": mode, "json_schema": json_schema, "matching_keys": keys(false)}));
        }
    }
    ops.push(json!({"object_name": name, "sync_mode": "update", "json_schema": json_schema, "matching_keys": keys(true)}));
    ops
}

/// One property's JSON schema: what the connector accepts for it.
fn schema(p: &Property) -> Value {
    let mut s = match p.kind {
        Kind::String => json!({"type": ["string", "null"]}),
        Kind::Number => json!({"type": ["number", "string", "null"]}),
        Kind::Bool => json!({"type": ["boolean", "string", "null"]}),
        Kind::Date => json!({"type": ["string", "integer", "null"], "format": "date"}),
        Kind::DateTime => json!({"type": ["string", "integer", "null"], "format": "date-time"}),
        Kind::Enumeration if p.multi => {
            json!({"type": ["array", "string", "null"], "items": {"type": "string", "enum": p.options}})
        }
        Kind::Enumeration => {
            json!({"type": ["string", "null"], "enum": p.options.iter().map(|o| Value::from(o.as_str())).chain([Value::Null]).collect::<Vec<_>>()})
        }
    };
    if p.name == "email" {
        s = json!({"type": "string", "format": "email"});
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_properties_only_with_types_and_options() {
        let body = json!({"results": [
            {"name": "email", "type": "string", "fieldType": "text", "modificationMetadata": {"readOnlyValue": false}},
            {"name": "hs_object_id", "type": "number", "fieldType": "number", "modificationMetadata": {"readOnlyValue": true}},
            {"name": "interests", "type": "enumeration", "fieldType": "checkbox", "options": [{"value": "crm", "label": "CRM"}]},
            {"name": "vip", "type": "bool", "fieldType": "booleancheckbox"},
        ]});
        let catalog = catalog(&[(Object::contacts(), Properties::from_json(&body))]);
        let ops = catalog["operations"].as_array().unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0]["matching_keys"], json!([["email"]]));
        assert_eq!(ops[2]["sync_mode"], "update");
        assert_eq!(
            ops[2]["matching_keys"],
            json!([["email"], ["hs_object_id"]])
        );
        let props = &ops[0]["json_schema"]["properties"];
        assert!(props.get("hs_object_id").is_none());
        assert_eq!(props["interests"]["items"]["enum"], json!(["crm"]));
        assert_eq!(props["vip"]["type"][0], "boolean");
        assert_eq!(props["email"]["format"], "email");
    }

    #[test]
    fn objects_are_matched_by_their_unique_properties_or_updated_by_id() {
        let unique = json!({"results": [
            {"name": "name", "type": "string", "fieldType": "text"},
            {"name": "external_id", "type": "string", "fieldType": "text", "hasUniqueValue": true},
        ]});
        let none = json!({"results": [{"name": "name", "type": "string", "fieldType": "text"}]});
        let companies = Object::standard("companies").unwrap();
        let deals = Object::standard("deals").unwrap();
        let catalog = catalog(&[
            (companies, Properties::from_json(&unique)),
            (deals, Properties::from_json(&none)),
        ]);
        let ops: Vec<(String, String, Value)> = catalog["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["object_name"].as_str().unwrap().into(),
                    o["sync_mode"].as_str().unwrap().into(),
                    o["matching_keys"].clone(),
                )
            })
            .collect();
        assert_eq!(
            ops,
            vec![
                (
                    "companies".into(),
                    "append".into(),
                    json!([["external_id"]])
                ),
                (
                    "companies".into(),
                    "append_dedup".into(),
                    json!([["external_id"]])
                ),
                (
                    "companies".into(),
                    "update".into(),
                    json!([["external_id"], ["hs_object_id"]])
                ),
                ("deals".into(), "update".into(), json!([["hs_object_id"]])),
            ]
        );
    }
}
