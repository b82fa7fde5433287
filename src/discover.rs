//! `discover`: describes what this destination can write, for Airbyte's
//! data-activation flow — the contacts object, matched by email, with its
//! writable properties as a JSON schema read from the account.

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::hubspot::errors::HubSpotError;
use crate::hubspot::properties::{Kind, Properties, Property};
use crate::hubspot::Client;

/// Sync modes every operation supports: each is an upsert by email.
const SYNC_MODES: [&str; 3] = ["append", "append_dedup", "update"];

/// The DESTINATION_CATALOG payload for this account.
pub fn discover(config: &Config) -> Result<Value, HubSpotError> {
    let client = Client::new(config);
    let props = Properties::fetch(&client, "contacts")?;
    Ok(catalog(&props))
}

/// The catalog for these property definitions.
pub fn catalog(props: &Properties) -> Value {
    let mut properties = Map::new();
    for p in props.writable() {
        properties.insert(p.name.clone(), schema(p));
    }
    let json_schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["email"],
        "additionalProperties": true,
        "properties": properties,
    });
    let operations: Vec<Value> = SYNC_MODES
        .iter()
        .map(|mode| json!({"object_name": "contacts", "sync_mode": mode, "json_schema": json_schema, "matching_keys": [["email"]]}))
        .collect();
    json!({ "operations": operations })
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
        let catalog = catalog(&Properties::from_json(&body));
        let ops = catalog["operations"].as_array().unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0]["matching_keys"], json!([["email"]]));
        let props = &ops[0]["json_schema"]["properties"];
        assert!(props.get("hs_object_id").is_none());
        assert_eq!(props["interests"]["items"]["enum"], json!(["crm"]));
        assert_eq!(props["vip"]["type"][0], "boolean");
        assert_eq!(props["email"]["format"], "email");
    }
}
