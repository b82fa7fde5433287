//! Mapping: one Airbyte record becomes one contact write — the matching key
//! (email, trimmed and lower-cased), the properties in the string formats
//! HubSpot accepts, and the lifecycle stage it asks for — or a typed
//! rejection, before any network call.
//!
//! Rules (documented in the README's configuration reference):
//! - `_airbyte_*` fields are never sent; `property_mapping` renames fields
//!   (dotted keys read inside nested objects).
//! - strings are sent as they are; numbers without float noise; booleans as
//!   "true"/"false"; arrays of scalars joined with ";" (multi-select);
//!   objects and nested arrays are sent as compact JSON text to string
//!   properties and rejected for any other type.
//! - values are checked against the property definitions: unknown,
//!   read-only, enumeration options, number/bool/date/datetime formats.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::formats::normalise;
use crate::config::{Config, NullPolicy, UnknownProperties};
use crate::hubspot::batch::Values;
use crate::hubspot::errors::RejectReason;
use crate::hubspot::properties::{Kind, Properties};
use crate::protocol::{Field, Fields};

/// A record ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactWrite {
    /// Properties to set, `email` (trimmed, lower-cased: the matching key)
    /// among them, never `lifecyclestage`.
    pub properties: Values,
    /// The lifecycle stage the record (or the config) asks for.
    pub stage: Option<String>,
}

impl ContactWrite {
    /// A write of `email` (trimmed, lower-cased) and `properties`, which
    /// hold neither `email` nor `lifecyclestage` (that is `stage`).
    pub fn new<'p>(
        email: &str,
        properties: impl IntoIterator<Item = (&'p str, &'p str)>,
        stage: Option<&str>,
    ) -> ContactWrite {
        let mut values = Values::new();
        for (k, v) in properties {
            debug_assert!(
                k != "email" && k != "lifecyclestage",
                "{k} is not a property here"
            );
            values.insert(k.to_string(), v.to_string());
        }
        values.insert("email".to_string(), email.to_string());
        ContactWrite {
            properties: values,
            stage: stage.map(str::to_string),
        }
    }

    /// The matching key: the trimmed, lower-cased email.
    pub fn email(&self) -> &str {
        self.properties.get("email").map_or("", String::as_str)
    }
}

/// The outcome of mapping one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub result: Result<ContactWrite, RejectReason>,
    /// Fields dropped because no property has their name (policy `drop`).
    pub dropped: Vec<String>,
}

/// Turns records into contact writes under one configuration.
pub struct Mapper<'a> {
    config: &'a Config,
    properties: &'a Properties,
    email_field: &'a [String],
}

impl<'a> Mapper<'a> {
    /// `email_field` is the record path of the email (the stream's primary
    /// key); a `property_mapping` entry targeting `email` takes precedence.
    pub fn new(
        config: &'a Config,
        properties: &'a Properties,
        email_field: &'a [String],
    ) -> Mapper<'a> {
        let email_field = match config
            .property_mapping
            .iter()
            .find(|(_, target)| target == "email")
        {
            Some((path, _)) => path.as_slice(),
            None => email_field,
        };
        Mapper {
            config,
            properties,
            email_field,
        }
    }

    /// Maps one record's data.
    pub fn map(&self, data: &Fields) -> Mapped {
        let mut dropped = Vec::new();
        let result = self.map_inner(data, &mut dropped);
        Mapped { result, dropped }
    }

    fn map_inner(
        &self,
        data: &Fields,
        dropped: &mut Vec<String>,
    ) -> Result<ContactWrite, RejectReason> {
        let found = lookup(data, self.email_field);
        let email = match found.as_ref().and_then(Found::as_str) {
            Some(s) if !s.trim().is_empty() => lower(s.trim()),
            _ => return Err(RejectReason::NoEmail),
        };
        if !plausible_email(&email) {
            return Err(RejectReason::InvalidEmail);
        }
        let email_top = self
            .email_field
            .first()
            .map(String::as_str)
            .unwrap_or("email");
        let mut plain;
        let mut renamed;
        let fields: &mut dyn Iterator<Item = (&str, Found)> =
            if self.config.property_mapping.is_empty() {
                // No renames: the record's own fields, unique and in input
                // order, are the properties.
                plain = data
                    .iter()
                    .filter(|(k, _)| {
                        !(k.starts_with("_airbyte_") || *k == email_top || *k == "email")
                    })
                    .map(|(k, v)| (k, Found::Field(v)));
                &mut plain
            } else {
                // Collect (property, value) pairs: mapped paths first, then the
                // remaining top-level fields under their own names.
                let mut fields: BTreeMap<&str, Found> = BTreeMap::new();
                let mut consumed: Vec<&str> = Vec::new();
                for (path, target) in &self.config.property_mapping {
                    if let Some(v) = lookup(data, path) {
                        fields.insert(target.as_str(), v);
                    }
                    if path.len() == 1 {
                        consumed.push(path[0].as_str());
                    }
                }
                for (k, v) in data.iter() {
                    if k.starts_with("_airbyte_") || k == email_top || consumed.contains(&k) {
                        continue;
                    }
                    if self
                        .config
                        .property_mapping
                        .iter()
                        .any(|(p, _)| p.first().map(String::as_str) == Some(k))
                    {
                        continue; // a nested field of it is mapped; the object itself is not a property
                    }
                    fields.entry(k).or_insert(Found::Field(v));
                }
                fields.remove("email");
                renamed = fields.into_iter();
                &mut renamed
            };
        let mut properties = Values::new();
        properties.insert("email".to_string(), email.into_owned());
        let mut stage = None;
        for (name, value) in fields {
            if value.is_null() {
                match self.config.null_values {
                    NullPolicy::Ignore => continue,
                    NullPolicy::Clear => {}
                }
            }
            let Some(prop) = self.properties.get(name) else {
                match self.config.unknown_properties {
                    UnknownProperties::Reject => {
                        return Err(RejectReason::UnknownProperty(name.to_string()))
                    }
                    // `create` properties are created before mapping starts;
                    // one still unknown here is reported like `drop`.
                    UnknownProperties::Drop | UnknownProperties::Create => {
                        dropped.push(name.to_string());
                        continue;
                    }
                }
            };
            if !prop.writable {
                return Err(RejectReason::ReadOnlyProperty(name.to_string()));
            }
            let text: Cow<str> = match value {
                _ if value.is_null() => Cow::Borrowed(""),
                // The common case: a string for a string property, copied
                // straight from the input line into the write.
                Found::Field(Field::String(s)) if prop.kind == Kind::String => {
                    Cow::Borrowed(s.as_ref())
                }
                Found::Field(Field::Other(v)) | Found::Nested(v) => Cow::Owned(normalise(prop, v)?),
                Found::Field(f) => Cow::Owned(normalise(prop, &f.to_value())?),
            };
            if name == "lifecyclestage" {
                stage = Some(text.into_owned());
            } else {
                properties.insert(name.to_string(), text.into_owned());
            }
        }
        if stage.is_none() {
            stage = self.config.lifecycle_stage.clone();
        }
        Ok(ContactWrite { properties, stage })
    }
}

/// A field found in a record: top-level, or inside a nested object.
#[derive(Clone, Copy)]
enum Found<'v, 'a> {
    Field(&'v Field<'a>),
    Nested(&'v Value),
}

impl Found<'_, '_> {
    fn is_null(&self) -> bool {
        match self {
            Found::Field(f) => f.is_null(),
            Found::Nested(v) => v.is_null(),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Found::Field(f) => f.as_str(),
            Found::Nested(v) => v.as_str(),
        }
    }
}

/// Reads a (possibly dotted) field path.
/// The string at `path` in a record, if there is one (for showing which
/// email a rejected record had).
pub fn string_at<'v>(data: &'v Fields, path: &[String]) -> Option<&'v str> {
    match lookup(data, path)? {
        Found::Field(f) => f.as_str(),
        Found::Nested(v) => v.as_str(),
    }
}

fn lookup<'v, 'a>(data: &'v Fields<'a>, path: &[String]) -> Option<Found<'v, 'a>> {
    let (first, rest) = path.split_first()?;
    let top = data.get(first)?;
    if rest.is_empty() {
        return Some(Found::Field(top));
    }
    let Field::Other(top) = top else { return None };
    let mut v = top;
    for key in rest {
        v = v.as_object()?.get(key)?;
    }
    Some(Found::Nested(v))
}

/// Lower-cased, without a copy when it already is, and without the Unicode
/// machinery when the text is ASCII.
fn lower(s: &str) -> Cow<'_, str> {
    if !s.is_ascii() {
        Cow::Owned(s.to_lowercase())
    } else if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// A cheap local syntax check; HubSpot's own check (TLDs…) is stricter and
/// caught by the batch layer.
pub fn plausible_email(email: &str) -> bool {
    let bytes = email.as_bytes();
    // The domain follows the last `@`.
    let Some(at) = memchr::memrchr(b'@', bytes) else {
        return false;
    };
    let domain = &bytes[at + 1..];
    let clean = if email.is_ascii() {
        // ASCII whitespace and control characters: 0x00-0x20 and DEL.
        !bytes
            .iter()
            .fold(false, |bad, &b| bad | (b <= 0x20) | (b == 0x7f))
    } else {
        !email.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    at > 0
        && bytes.len() <= 254
        && domain.contains(&b'.')
        && domain.first() != Some(&b'.')
        && domain.last() != Some(&b'.')
        && !domain.windows(2).any(|w| w[0] == b'.' && w[1] == b'.')
        && clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@mail.example.com",
            "a@b@c.co",
            "é@ü.de",
        ] {
            assert!(plausible_email(ok), "{ok}");
        }
        let long = format!("{}@b.co", "a".repeat(250));
        for bad in [
            "",
            "ab.co",
            "@b.co",
            "a@bco",
            "a@.b.co",
            "a@b.co.",
            "a@b..co",
            "a b@c.co",
            "a\t@b.co",
            "a\u{a0}@b.co",
            "a@b.c\u{1}o",
            &long,
        ] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }
    use serde_json::json;

    fn props() -> Properties {
        Properties::from_json(&json!({"results": [
            {"name": "email", "type": "string", "fieldType": "text"},
            {"name": "firstname", "type": "string", "fieldType": "text"},
            {"name": "city", "type": "string", "fieldType": "text"},
            {"name": "age", "type": "number", "fieldType": "number"},
            {"name": "vip", "type": "bool", "fieldType": "booleancheckbox"},
            {"name": "birthday", "type": "date", "fieldType": "date"},
            {"name": "seen_at", "type": "datetime", "fieldType": "date"},
            {"name": "tags", "type": "enumeration", "fieldType": "checkbox", "options": [{"value": "a", "label": "Alpha"}, {"value": "b", "label": "Beta"}]},
            {"name": "hs_object_id", "type": "number", "fieldType": "number", "modificationMetadata": {"readOnlyValue": true}},
            {"name": "lifecyclestage", "type": "enumeration", "fieldType": "radio", "options": [{"value": "lead", "label": "Lead"}, {"value": "customer", "label": "Customer"}]}
        ]}))
    }

    fn config(extra: Value) -> Config {
        let mut base = json!({"access_token": "t"});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Config::from_value(&base).unwrap()
    }

    fn map(config: &Config, data: Value) -> Mapped {
        let p = props();
        let field = ["email".to_string()];
        let m = Mapper::new(config, &p, &field);
        m.map(&Fields::from_map(data.as_object().unwrap()))
    }

    #[test]
    fn email_is_trimmed_and_lowercased_and_airbyte_fields_skipped() {
        let c = config(json!({}));
        let w = map(
            &c,
            json!({"email": "  Ann@Example.COM ", "firstname": "Ann", "_airbyte_ab_id": "x"}),
        )
        .result
        .unwrap();
        assert_eq!(w.email(), "ann@example.com");
        assert_eq!(
            w.properties.into_iter().collect::<Vec<_>>(),
            vec![
                ("email".into(), "ann@example.com".into()),
                ("firstname".into(), "Ann".into())
            ]
        );
    }

    #[test]
    fn missing_or_bad_email_is_rejected() {
        let c = config(json!({}));
        assert_eq!(
            map(&c, json!({"firstname": "x"})).result,
            Err(RejectReason::NoEmail)
        );
        assert_eq!(
            map(&c, json!({"email": 5})).result,
            Err(RejectReason::NoEmail)
        );
        assert_eq!(
            map(&c, json!({"email": "nope"})).result,
            Err(RejectReason::InvalidEmail)
        );
        assert_eq!(
            map(&c, json!({"email": "a b@x.io"})).result,
            Err(RejectReason::InvalidEmail)
        );
    }

    #[test]
    fn values_are_normalised_per_type() {
        let c = config(json!({}));
        let w = map(&c, json!({"email": "a@x.io", "age": 42.0, "vip": "TRUE", "birthday": "2020-02-29T00:00:00Z",
            "seen_at": 1700000000123u64, "tags": ["alpha", "b"], "city": ["x", 1]})).result.unwrap();
        let get = |k: &str| w.properties.get(k).unwrap().to_string();
        assert_eq!(get("age"), "42");
        assert_eq!(get("vip"), "true");
        assert_eq!(get("birthday"), "2020-02-29");
        assert_eq!(get("seen_at"), "1700000000123");
        assert_eq!(get("tags"), "a;b");
        assert_eq!(get("city"), "x;1");
    }

    #[test]
    fn values_that_cannot_be_normalised_are_rejected_with_the_property() {
        let c = config(json!({}));
        for (data, code) in [
            (json!({"email": "a@x.io", "age": "many"}), "invalid_value"),
            (json!({"email": "a@x.io", "vip": "yes"}), "invalid_value"),
            (
                json!({"email": "a@x.io", "birthday": "2021-02-29"}),
                "invalid_value",
            ),
            (
                json!({"email": "a@x.io", "birthday": 1700000000123u64}),
                "invalid_value",
            ),
            (
                json!({"email": "a@x.io", "seen_at": "yesterday"}),
                "invalid_value",
            ),
            (
                json!({"email": "a@x.io", "tags": ["a", "zeta"]}),
                "invalid_option",
            ),
            (
                json!({"email": "a@x.io", "hs_object_id": "5"}),
                "read_only_property",
            ),
        ] {
            let r = map(&c, data.clone()).result.unwrap_err();
            assert_eq!(r.code(), code, "{data}");
        }
    }

    #[test]
    fn unknown_properties_follow_the_policy() {
        let drop = config(json!({}));
        let m = map(&drop, json!({"email": "a@x.io", "shoe": 9}));
        assert!(m.result.is_ok());
        assert_eq!(m.dropped, vec!["shoe"]);
        let reject = config(json!({"unknown_properties": "reject"}));
        assert_eq!(
            map(&reject, json!({"email": "a@x.io", "shoe": 9})).result,
            Err(RejectReason::UnknownProperty("shoe".into()))
        );
    }

    #[test]
    fn null_policy_ignores_or_clears() {
        let ignore = config(json!({}));
        let w = map(&ignore, json!({"email": "a@x.io", "firstname": null}))
            .result
            .unwrap();
        assert!(w.properties.get("firstname").map(String::as_str).is_none());
        let clear = config(json!({"null_values": "clear"}));
        let w = map(&clear, json!({"email": "a@x.io", "firstname": null}))
            .result
            .unwrap();
        assert_eq!(w.properties.get("firstname").map(String::as_str), Some(""));
    }

    #[test]
    fn mapping_renames_and_reads_nested_fields() {
        let c = config(json!({"property_mapping": {"name": "firstname", "address.city": "city"}}));
        let w = map(
            &c,
            json!({"email": "a@x.io", "name": "Ann", "address": {"city": "Oslo", "zip": "1"}}),
        )
        .result
        .unwrap();
        assert_eq!(
            w.properties.get("firstname").map(String::as_str),
            Some("Ann")
        );
        assert_eq!(w.properties.get("city").map(String::as_str), Some("Oslo"));
        assert!(
            w.properties.get("address").map(String::as_str).is_none()
                && w.properties.get("name").map(String::as_str).is_none()
        );
    }

    #[test]
    fn lifecycle_stage_comes_from_the_record_or_the_config() {
        let c = config(json!({"lifecycle_stage": "lead"}));
        assert_eq!(
            map(&c, json!({"email": "a@x.io"}))
                .result
                .unwrap()
                .stage
                .as_deref(),
            Some("lead")
        );
        assert_eq!(
            map(&c, json!({"email": "a@x.io", "lifecyclestage": "Customer"}))
                .result
                .unwrap()
                .stage
                .as_deref(),
            Some("customer")
        );
        assert_eq!(
            map(&c, json!({"email": "a@x.io", "lifecyclestage": "boss"}))
                .result
                .unwrap_err()
                .code(),
            "invalid_option"
        );
    }
}
