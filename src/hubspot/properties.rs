//! An object's property definitions, read once per sync from the Properties
//! API: what each property accepts, which are writable, which hold unique
//! values (matching keys), and the lifecycle stage order.

use rustc_hash::FxHashMap;

use serde_json::{json, Value};

use super::client::{Client, Outcome};
use super::errors::HubSpotError;
use crate::protocol::FailureType;

/// The HubSpot value type of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Number,
    Bool,
    Date,
    DateTime,
    Enumeration,
}

/// One property definition, reduced to what writes need.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    /// The name HubSpot shows (and its import matches columns by).
    pub label: String,
    pub kind: Kind,
    /// An enumeration that takes several values (`;`-joined).
    pub multi: bool,
    /// Enumeration option values, in display order.
    pub options: Vec<String>,
    /// Enumeration option labels, parallel to `options`.
    pub labels: Vec<String>,
    /// False for read-only and calculated properties.
    pub writable: bool,
    /// HubSpot keeps its values unique: records can be upserted by it.
    pub unique: bool,
}

/// One object's property definitions.
#[derive(Debug, Clone, Default)]
pub struct Properties {
    /// Every field of every record is looked up here: a fast hash (the
    /// names are HubSpot's, not attacker-chosen).
    by_name: FxHashMap<String, Property>,
    /// Lower-cased name → name, for fields named in another case.
    by_lower_name: FxHashMap<String, String>,
    /// Lower-cased label → name; `None` when two properties share it.
    by_lower_label: FxHashMap<String, Option<String>>,
}

impl Properties {
    /// Reads every property definition of `object` (one call).
    pub fn fetch(client: &Client, object: &str) -> Result<Properties, HubSpotError> {
        let path = format!("{}?archived=false", client.paths().properties(object));
        match client.get(&path)? {
            Outcome::Done(answer) => Ok(Properties::from_json(&answer.json())),
            Outcome::Invalid(answer, _) => Err(HubSpotError::new(
                FailureType::System,
                format!("reading {object} properties failed ({})", answer.status),
            )),
        }
    }

    /// Builds the definitions from a `GET …/properties/…/contacts` body.
    pub fn from_json(body: &Value) -> Properties {
        let mut props = Properties::default();
        for p in body
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(prop) = parse_property(p) {
                props.insert(prop);
            }
        }
        props
    }

    /// The definition of `name`, if the account has it.
    pub fn get(&self, name: &str) -> Option<&Property> {
        self.by_name.get(name)
    }

    /// Adds a definition (after creating a custom property).
    pub fn insert(&mut self, prop: Property) {
        self.by_lower_name
            .insert(prop.name.to_lowercase(), prop.name.clone());
        let label = prop.label.trim().to_lowercase();
        if !label.is_empty() {
            let slot = self
                .by_lower_label
                .entry(label)
                .or_insert_with(|| Some(prop.name.clone()));
            if slot.as_deref() != Some(prop.name.as_str()) {
                *slot = None;
            }
        }
        self.by_name.insert(prop.name.clone(), prop);
    }

    /// The property named `name` in any case.
    pub fn get_any_case(&self, name: &str) -> Option<&Property> {
        self.get(self.by_lower_name.get(&name.to_lowercase())?)
    }

    /// The one property labelled `label` in any case (none when two share
    /// the label: a column can't be matched to either by it).
    pub fn get_by_label(&self, label: &str) -> Option<&Property> {
        let name = self.by_lower_label.get(&label.trim().to_lowercase())?;
        self.get(name.as_deref()?)
    }

    /// Lifecycle stage ids in stage order.
    pub fn lifecycle_stages(&self) -> &[String] {
        self.get("lifecyclestage")
            .map(|p| p.options.as_slice())
            .unwrap_or(&[])
    }

    /// The position of a stage in the lifecycle, if it is one.
    pub fn stage_rank(&self, stage: &str) -> Option<usize> {
        self.lifecycle_stages().iter().position(|s| s == stage)
    }

    /// Number of definitions.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether no definitions were read.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Writable properties with unique values (matching keys), sorted.
    pub fn unique(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .by_name
            .values()
            .filter(|p| p.unique && p.writable)
            .map(|p| p.name.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// Writable property names, sorted (for `discover`).
    pub fn writable(&self) -> Vec<&Property> {
        let mut v: Vec<&Property> = self.by_name.values().filter(|p| p.writable).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}

/// Creates a custom single-line text property of `object` named `name`
/// in `group` (needs the object's `crm.schemas.….write` scope). An existing
/// one (409) is fine.
pub(crate) fn create_text_property(
    client: &Client,
    object: &str,
    group: &str,
    name: &str,
) -> Result<Property, HubSpotError> {
    let body = json!({
        "name": name,
        "label": name,
        "type": "string",
        "fieldType": "text",
        "groupName": group,
        "description": "Created by destination-hubspot for a record field with no matching property."
    });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    match client.post(&client.paths().properties(object), &bytes)? {
        Outcome::Done(answer) => Ok(parse_property(&answer.json()).unwrap_or_else(|| text(name))),
        Outcome::Invalid(answer, _) if answer.status == 409 => Ok(text(name)),
        Outcome::Invalid(_, reason) => Err(HubSpotError::new(
            FailureType::Config,
            format!("creating the custom {object} property `{name}` failed: {reason}"),
        )),
    }
}

fn text(name: &str) -> Property {
    Property {
        name: name.to_string(),
        label: name.to_string(),
        kind: Kind::String,
        multi: false,
        options: Vec::new(),
        labels: Vec::new(),
        writable: true,
        unique: false,
    }
}

fn parse_property(p: &Value) -> Option<Property> {
    let name = p.get("name")?.as_str()?.to_string();
    let field_type = p.get("fieldType").and_then(Value::as_str).unwrap_or("text");
    let kind = match p.get("type").and_then(Value::as_str).unwrap_or("string") {
        "number" => Kind::Number,
        "bool" => Kind::Bool,
        "date" => Kind::Date,
        "datetime" => Kind::DateTime,
        "enumeration" if field_type == "booleancheckbox" => Kind::Bool,
        "enumeration" => Kind::Enumeration,
        _ => Kind::String,
    };
    let mut options: Vec<(i64, String, String)> = p
        .get("options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, o)| {
            let value = o.get("value")?.as_str()?.to_string();
            let label = o
                .get("label")
                .and_then(Value::as_str)
                .unwrap_or(&value)
                .to_string();
            let order = o
                .get("displayOrder")
                .and_then(Value::as_i64)
                .unwrap_or(i as i64);
            Some((order, value, label))
        })
        .collect();
    options.sort_by_key(|o| o.0);
    let read_only = p
        .pointer("/modificationMetadata/readOnlyValue")
        .and_then(Value::as_bool)
        == Some(true)
        || p.get("calculated").and_then(Value::as_bool) == Some(true);
    let label = p
        .get("label")
        .and_then(Value::as_str)
        .unwrap_or(&name)
        .to_string();
    Some(Property {
        name,
        label,
        kind,
        multi: kind == Kind::Enumeration && field_type == "checkbox",
        labels: options.iter().map(|o| o.2.clone()).collect(),
        options: options.into_iter().map(|o| o.1).collect(),
        writable: !read_only,
        unique: p.get("hasUniqueValue").and_then(Value::as_bool) == Some(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_typed_and_stages_ordered_by_display_order() {
        let body = json!({"results": [
            {"name": "email", "type": "string", "fieldType": "text"},
            {"name": "hs_object_id", "type": "number", "fieldType": "number", "modificationMetadata": {"readOnlyValue": true}},
            {"name": "score", "type": "number", "fieldType": "calculation_equation", "calculated": true},
            {"name": "tags", "type": "enumeration", "fieldType": "checkbox", "options": [{"value": "a", "label": "A"}]},
            {"name": "lifecyclestage", "type": "enumeration", "fieldType": "radio", "options": [
                {"value": "lead", "label": "Lead", "displayOrder": 1},
                {"value": "subscriber", "label": "Subscriber", "displayOrder": 0},
                {"value": "1234", "label": "Custom", "displayOrder": 2}]}
        ]});
        let p = Properties::from_json(&body);
        assert_eq!(p.len(), 5);
        assert!(!p.get("hs_object_id").unwrap().writable);
        assert!(!p.get("score").unwrap().writable);
        assert!(p.get("tags").unwrap().multi);
        assert_eq!(p.lifecycle_stages(), ["subscriber", "lead", "1234"]);
        assert_eq!(p.stage_rank("1234"), Some(2));
        assert_eq!(p.writable().len(), 3);
    }

    #[test]
    fn properties_are_found_by_name_in_any_case_and_by_a_unique_label() {
        let p = Properties::from_json(&json!({"results": [
            {"name": "firstname", "label": "First Name", "type": "string"},
            {"name": "phone", "label": "Phone", "type": "string"},
            {"name": "phone_2", "label": "phone ", "type": "string"}
        ]}));
        assert_eq!(p.get_any_case("FirstName").unwrap().name, "firstname");
        assert_eq!(p.get_by_label("first name").unwrap().name, "firstname");
        assert!(p.get_by_label("Phone").is_none(), "two properties share it");
        assert!(p.get_any_case("first name").is_none());
    }
}
