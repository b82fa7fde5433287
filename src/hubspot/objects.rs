//! The CRM objects a sync can write: HubSpot's standard ones by name or
//! type id, and custom ones found in the account's schemas (by name, fully
//! qualified name or `2-…` type id). It knows each object's path name, the
//! scope word of its `crm.objects.<scope>.write` scope and its property
//! group; nothing about records.

use serde_json::Value;

use super::client::{Client, Outcome};
use super::errors::HubSpotError;
use crate::protocol::FailureType;

/// One CRM object type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The name in paths: `contacts`, `line_items`, or a custom object's
    /// type id (`2-90001`).
    pub path: String,
    /// HubSpot's object type id (`0-1`, `2-90001`).
    pub type_id: String,
    /// What the user calls it, for messages (`companies`, `pets`).
    pub name: String,
    /// The word in its scopes: `crm.objects.<scope>.write`.
    pub scope: String,
    /// The property group custom properties are created in.
    pub group: String,
}

/// HubSpot's standard objects a sync writes: path name, singular, type id,
/// property group.
const STANDARD: &[(&str, &str, &str, &str)] = &[
    ("contacts", "contact", "0-1", "contactinformation"),
    ("companies", "company", "0-2", "companyinformation"),
    ("deals", "deal", "0-3", "dealinformation"),
    ("tickets", "ticket", "0-5", "ticketinformation"),
    ("products", "product", "0-7", "productinformation"),
    ("line_items", "line_item", "0-8", "lineiteminformation"),
];

impl Object {
    /// Contacts, the default object.
    pub fn contacts() -> Object {
        Object::standard("contacts").expect("contacts is a standard object")
    }

    /// A standard object named by its plural, singular or type id (any case).
    pub fn standard(name: &str) -> Option<Object> {
        let wanted = name.trim().to_ascii_lowercase();
        let &(path, _, type_id, group) = STANDARD
            .iter()
            .find(|(p, s, id, _)| [*p, *s, *id].contains(&wanted.as_str()))?;
        Some(Object {
            path: path.to_string(),
            type_id: type_id.to_string(),
            name: path.to_string(),
            scope: path.to_string(),
            group: group.to_string(),
        })
    }

    /// Whether this is the contacts object.
    pub fn is_contacts(&self) -> bool {
        self.type_id == "0-1"
    }

    /// The object `name` names: a standard one, else a custom object of the
    /// account (one schemas call). Unknown: a config error listing what
    /// exists.
    pub fn resolve(client: &Client, name: &str) -> Result<Object, HubSpotError> {
        if let Some(object) = Object::standard(name) {
            return Ok(object);
        }
        let schemas = read_schemas(client)?;
        if let Some(object) = find_custom(&schemas, name) {
            return Ok(object);
        }
        let mut known: Vec<String> = STANDARD.iter().map(|s| s.0.to_string()).collect();
        known.extend(custom_names(&schemas));
        Err(HubSpotError::new(
            FailureType::Config,
            format!(
                "`{name}` is not a HubSpot object this account has; objects: {}",
                known.join(", ")
            ),
        ))
    }
}

/// The account's custom object schemas (`results` of the schemas API).
pub fn read_schemas(client: &Client) -> Result<Vec<Value>, HubSpotError> {
    match client.get(&client.paths().schemas())? {
        Outcome::Done(answer) => Ok(match answer.json().get_mut("results") {
            Some(Value::Array(results)) => std::mem::take(results),
            _ => Vec::new(),
        }),
        Outcome::Invalid(answer, reason) => Err(HubSpotError::new(
            FailureType::Config,
            format!(
                "reading the account's custom object schemas failed ({}): {reason}; custom objects need the `crm.schemas.custom.read` scope",
                answer.status
            ),
        )),
    }
}

/// The custom object among `schemas` named `name` (its name, fully
/// qualified name or type id, any case).
pub fn find_custom(schemas: &[Value], name: &str) -> Option<Object> {
    let wanted = name.trim();
    schemas.iter().find_map(|s| {
        let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
        let matches = ["name", "fullyQualifiedName", "objectTypeId"]
            .iter()
            .any(|k| !field(k).is_empty() && field(k).eq_ignore_ascii_case(wanted));
        matches.then(|| custom(s))
    })
}

/// A custom object from its schema.
fn custom(schema: &Value) -> Object {
    let field = |k: &str| schema.get(k).and_then(Value::as_str).unwrap_or_default();
    Object {
        path: field("objectTypeId").to_string(),
        type_id: field("objectTypeId").to_string(),
        name: field("name").to_string(),
        scope: "custom".to_string(),
        group: format!("{}_information", field("name")),
    }
}

/// The names of the custom objects among `schemas`.
pub fn custom_names(schemas: &[Value]) -> Vec<String> {
    schemas
        .iter()
        .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The custom objects among `schemas`.
pub fn customs(schemas: &[Value]) -> Vec<Object> {
    schemas.iter().map(custom).collect()
}

/// Every standard object.
pub fn standards() -> Vec<Object> {
    STANDARD
        .iter()
        .filter_map(|s| Object::standard(s.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn standard_objects_are_found_by_plural_singular_or_type_id() {
        for name in ["companies", "Company", "0-2", " COMPANIES "] {
            let o = Object::standard(name).unwrap();
            assert_eq!((o.path.as_str(), o.type_id.as_str()), ("companies", "0-2"));
        }
        assert_eq!(Object::standard("line_item").unwrap().path, "line_items");
        assert!(Object::contacts().is_contacts());
        assert_eq!(Object::standard("widgets"), None);
        assert_eq!(Object::standard("2-90001"), None);
    }

    #[test]
    fn custom_objects_are_found_by_name_qualified_name_or_type_id() {
        let schemas = vec![
            json!({"name": "pets", "fullyQualifiedName": "p42_pets", "objectTypeId": "2-90001"}),
        ];
        for name in ["pets", "P42_pets", "2-90001"] {
            let o = find_custom(&schemas, name).unwrap();
            assert_eq!(o.path, "2-90001");
            assert_eq!(o.name, "pets");
            assert_eq!(o.scope, "custom");
        }
        assert_eq!(find_custom(&schemas, "cats"), None);
        assert_eq!(custom_names(&schemas), vec!["pets"]);
    }
}
