//! The config's CRM settings: which object a stream writes (`objects`) and
//! the associations to make (`associations`), typed from the JSON the spec
//! has already checked.

use anyhow::{bail, Result};
use serde_json::{Map, Value};

/// The config's `objects` entry for one stream: the HubSpot object it
/// writes and the property records are matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChoice {
    pub object: String,
    /// `None`: the object's default (email for contacts).
    pub matching_key: Option<String>,
}

/// Which association type a configured association creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssociationLabel {
    /// HubSpot's default, unlabelled association.
    Default,
    /// The primary one of the pair (a contact's primary company).
    Primary,
    /// An association type id.
    Type(u32),
}

/// One configured association: records of `stream` are associated with the
/// `to_object` record whose `to_matching_key` equals their `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationSpec {
    pub stream: String,
    /// The record field path (split on '.').
    pub field: Vec<String>,
    pub to_object: String,
    pub to_matching_key: String,
    pub label: AssociationLabel,
}

/// The `objects` map, as typed entries (its shape is checked by the spec).
pub(super) fn objects_from(obj: &Map<String, Value>) -> Vec<(String, ObjectChoice)> {
    let Some(Value::Object(map)) = obj.get("objects") else {
        return Vec::new();
    };
    map.iter()
        .map(|(stream, choice)| {
            let text = |k: &str| {
                choice
                    .get(k)
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_string())
            };
            let entry = ObjectChoice {
                object: text("object").unwrap_or_default(),
                matching_key: text("matching_key").filter(|k| !k.is_empty()),
            };
            (stream.clone(), entry)
        })
        .collect()
}

/// The `associations` list, typed; a label that is neither `primary` nor
/// a type id is refused, naming its entry.
pub(super) fn associations_from(obj: &Map<String, Value>) -> Result<Vec<AssociationSpec>> {
    let Some(Value::Array(list)) = obj.get("associations") else {
        return Ok(Vec::new());
    };
    let mut specs = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let text = |k: &str| {
            a.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let label = match a.get("label") {
            None | Some(Value::Null) => AssociationLabel::Default,
            Some(Value::String(s)) if s.trim().is_empty() => AssociationLabel::Default,
            Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("primary") => {
                AssociationLabel::Primary
            }
            Some(v) => match v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()) {
                Some(id) if id > 0 && id <= u64::from(u32::MAX) => AssociationLabel::Type(id as u32),
                _ => bail!("config is invalid: /associations/{i}/label: use `primary`, an association type id, or leave it out for the default association"),
            },
        };
        specs.push(AssociationSpec {
            stream: text("stream"),
            field: text("field").split('.').map(str::to_string).collect(),
            to_object: text("to_object"),
            to_matching_key: text("to_matching_key"),
            label,
        });
    }
    Ok(specs)
}
