//! Which record field is which HubSpot property, as HubSpot's own import
//! matches spreadsheet columns: the exact property name, else the name in
//! any case (`Firstname`), else the property's label in any case
//! (`First Name`). And where a record's email is: the field
//! `property_mapping` maps to `email`, the stream's primary key, then any
//! field called `email`, `E-mail` or `Email Address` (any case, spaces,
//! `-` or `_` between the words), or labelled like the email property.
//!
//! Airbyte's own metadata (`_airbyte_*`, `_ab_*`, CDC columns included) is
//! never a property.

use super::formats::Raw;
use crate::hubspot::errors::RejectReason;
use crate::hubspot::properties::{Properties, Property};
use crate::protocol::{Field, Fields};
use serde_json::Value;

/// How a field found its property; a better match wins when two fields
/// name the same property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Match {
    Label,
    AnyCase,
    Exact,
    /// Named by `property_mapping`.
    Mapped,
}

/// Whether a field is Airbyte's metadata, never sent nor reported.
pub(crate) fn is_metadata(name: &str) -> bool {
    name.starts_with("_airbyte_") || name.starts_with("_ab_")
}

/// The property a record field names.
pub(crate) fn resolve<'p>(props: &'p Properties, field: &str) -> Option<(&'p Property, Match)> {
    if let Some(p) = props.get(field) {
        return Some((p, Match::Exact));
    }
    if let Some(p) = props.get_any_case(field) {
        return Some((p, Match::AnyCase));
    }
    props.get_by_label(field).map(|p| (p, Match::Label))
}

/// A field found in a record: top-level, or inside a nested object.
#[derive(Clone, Copy)]
pub(crate) enum Found<'v, 'a> {
    Field(&'v Field<'a>),
    Nested(&'v Value),
}

impl<'v> Found<'v, '_> {
    pub(crate) fn raw(&self) -> Raw<'v> {
        match *self {
            Found::Field(f) => Raw::of_field(f),
            Found::Nested(v) => Raw::of_value(v),
        }
    }

    fn as_str(&self) -> Option<&'v str> {
        match *self {
            Found::Field(f) => f.as_str(),
            Found::Nested(v) => v.as_str(),
        }
    }
}

/// The field at a (possibly dotted) path.
pub(crate) fn lookup<'v, 'a>(data: &'v Fields<'a>, path: &[String]) -> Option<Found<'v, 'a>> {
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

/// Whether a field's name says it holds the email: `email`, `E-mail`,
/// `Email Address`, `email_address`… in any case. (Checked for every field
/// of every record: no allocation.)
pub(crate) fn email_like(name: &str) -> bool {
    let mut letters = [0u8; 12];
    let mut n = 0;
    for b in name.bytes().filter(|b| !matches!(b, b' ' | b'-' | b'_')) {
        if n == letters.len() {
            return false;
        }
        letters[n] = b.to_ascii_lowercase();
        n += 1;
    }
    matches!(&letters[..n], b"email" | b"emailaddress")
}

/// Whether a top-level field holds the email (so it is no property).
fn is_email_field(props: &Properties, name: &str) -> bool {
    email_like(name) || resolve(props, name).is_some_and(|(p, _)| p.name == "email")
}

/// The text of a field that may hold the email, or why it can't.
fn usable<'v>(found: Found<'v, '_>) -> Result<&'v str, &'static str> {
    match found.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err("is blank"),
        None if found.raw().is_blank() => Err("is empty"),
        None => Err("is not text"),
    }
}

/// The record's email as written, and the top-level field it came from.
/// `mapped` is the `property_mapping` path to `email`, `key` the stream's
/// primary key (`["email"]` when the stream has none that names one).
pub(crate) fn find_email<'v>(
    data: &'v Fields,
    mapped: Option<&[String]>,
    key: &[String],
    props: &Properties,
) -> Result<(&'v str, String), RejectReason> {
    let mut seen = Vec::new();
    let mut tried: Vec<&[String]> = Vec::with_capacity(2);
    for path in mapped.into_iter().chain([key]) {
        if tried.contains(&path) {
            continue;
        }
        tried.push(path);
        match lookup(data, path).map(usable) {
            Some(Ok(email)) => return Ok((email, path[0].clone())),
            Some(Err(why)) => seen.push(format!("`{}` {why}", path.join("."))),
            None => {}
        }
    }
    for (name, field) in data.iter() {
        let tried_already = tried.iter().any(|p| p.len() == 1 && p[0] == name);
        if tried_already || !is_email_field(props, name) {
            continue;
        }
        match usable(Found::Field(field)) {
            Ok(email) => return Ok((email, name.to_string())),
            Err(why) => seen.push(format!("`{name}` {why}")),
        }
    }
    let mut looked = Vec::new();
    if let Some(m) = mapped {
        looked.push(format!("`{}` (property_mapping)", m.join(".")));
    }
    if key != ["email"] {
        looked.push(format!("`{}` (the stream's primary key)", key.join(".")));
    }
    looked.push("a field named email, E-mail or Email Address in any case".to_string());
    let found = if seen.is_empty() {
        "none is in the record".to_string()
    } else {
        seen.join(", ")
    };
    Err(RejectReason::NoEmail(format!(
        "looked for {}; {found}",
        looked.join(", then ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props() -> Properties {
        Properties::from_json(&json!({"results": [
            {"name": "email", "label": "Email", "type": "string"},
            {"name": "firstname", "label": "First Name", "type": "string"},
            {"name": "hs_object_id", "label": "Record ID", "type": "number"}
        ]}))
    }

    #[test]
    fn fields_resolve_by_name_then_any_case_then_label() {
        let p = props();
        let name = |f: &str| resolve(&p, f).map(|(p, m)| (p.name.as_str(), m));
        assert_eq!(name("firstname"), Some(("firstname", Match::Exact)));
        assert_eq!(name("Firstname"), Some(("firstname", Match::AnyCase)));
        assert_eq!(name("FIRST NAME"), Some(("firstname", Match::Label)));
        assert_eq!(name("Record ID"), Some(("hs_object_id", Match::Label)));
        assert_eq!(name("first_name"), None);
        assert!(Match::Mapped > Match::Exact && Match::Exact > Match::AnyCase);
    }

    #[test]
    fn metadata_is_airbytes_own() {
        for m in ["_airbyte_raw_id", "_ab_cdc_lsn", "_ab_cdc_deleted_at"] {
            assert!(is_metadata(m), "{m}");
        }
        assert!(!is_metadata("ab_test") && !is_metadata("_id"));
    }

    fn email(
        data: serde_json::Value,
        mapped: Option<&[String]>,
        key: &[&str],
    ) -> Result<String, String> {
        let data = Fields::from_map(data.as_object().unwrap());
        let key: Vec<String> = key.iter().map(|s| s.to_string()).collect();
        find_email(&data, mapped, &key, &props())
            .map(|(e, field)| format!("{e} from {field}"))
            .map_err(|r| r.to_string())
    }

    #[test]
    fn the_email_is_found_under_the_names_people_give_it() {
        for name in [
            "email",
            "Email",
            "E-mail",
            "Email Address",
            "email_address",
            "EMAIL-ADDRESS",
        ] {
            assert_eq!(
                email(json!({"x": 1, name: "a@x.io"}), None, &["email"]),
                Ok(format!("a@x.io from {name}"))
            );
        }
        // The primary key first, a mapped field before it.
        let both = json!({"email": "b@x.io", "work": {"mail": "w@x.io"}, "Email": "c@x.io"});
        assert_eq!(
            email(both.clone(), None, &["email"]),
            Ok("b@x.io from email".into())
        );
        let mapped = ["work".to_string(), "mail".to_string()];
        assert_eq!(
            email(both, Some(&mapped), &["email"]),
            Ok("w@x.io from work".into())
        );
        // A blank one is passed over.
        assert_eq!(
            email(json!({"email": " ", "E-mail": "d@x.io"}), None, &["email"]),
            Ok("d@x.io from E-mail".into())
        );
    }

    #[test]
    fn a_missing_email_names_what_was_looked_for() {
        let e = email(json!({"name": "x"}), None, &["email"]).unwrap_err();
        assert!(
            e.contains("a field named email, E-mail or Email Address"),
            "{e}"
        );
        assert!(e.contains("none is in the record"), "{e}");
        let e = email(
            json!({"contact_email": null, "Email": ""}),
            None,
            &["contact_email"],
        )
        .unwrap_err();
        assert!(
            e.contains("`contact_email` (the stream's primary key)"),
            "{e}"
        );
        assert!(
            e.contains("`contact_email` is empty, `Email` is blank"),
            "{e}"
        );
        let e = email(json!({"email": 5}), None, &["email"]).unwrap_err();
        assert!(e.contains("`email` is not text"), "{e}");
    }
}
