//! Mapping: one Airbyte record becomes one contact write — the matching key
//! (email, trimmed and lower-cased), the properties in the string formats
//! HubSpot stores, and the lifecycle stage it asks for — or a typed
//! rejection, before any network call. The rules are the README's
//! "Properties: checks and formats":
//!
//! - field names resolve to properties as HubSpot's import does
//!   ([`fields`](super::fields)); `property_mapping` renames fields (dotted
//!   keys read inside nested objects); Airbyte's `_airbyte_*` / `_ab_*`
//!   fields are never sent nor reported;
//! - values normalise per property type ([`formats`](super::formats));
//!   blank is null: nothing is sent under `null_values: ignore`, `""` under
//!   `clear`; a blank `lifecyclestage` means "no record stage";
//! - unknown fields follow `unknown_properties`; read-only and calculated
//!   properties are left out (noted, never a rejection);
//! - a record deleted in the source is skipped, or becomes an archive.

use std::borrow::Cow;

use super::deletes;
use super::fields::{self, Found, Match};
use super::formats::{normalise, Norm, Rules};
use super::notices::Note;
use crate::config::{Config, Deletes, NullPolicy, UnknownProperties};
use crate::hubspot::batch::Values;
use crate::hubspot::errors::RejectReason;
use crate::hubspot::properties::{Properties, Property};
use crate::protocol::Fields;

/// A record ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactWrite {
    /// Properties to set, `email` (trimmed, lower-cased: the matching key)
    /// among them, never `lifecyclestage`.
    pub properties: Values,
    /// The lifecycle stage the record (or the config) asks for.
    pub stage: Option<String>,
    /// Archive the contact instead (a record deleted in the source, under
    /// `deletes: archive`); `properties` then hold only the email.
    pub archive: bool,
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
            archive: false,
        }
    }

    /// Archiving the contact with `email`.
    pub fn archive_of(email: &str) -> ContactWrite {
        ContactWrite {
            archive: true,
            ..ContactWrite::new(email, [], None)
        }
    }

    /// The matching key: the trimmed, lower-cased email.
    pub fn email(&self) -> &str {
        self.properties.get("email").map_or("", String::as_str)
    }
}

/// What becomes of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written (or archived): batched and sent.
    Write(ContactWrite),
    /// Deleted in the source, and `deletes` is `skip`: nothing to send.
    DeleteSkipped,
    /// Not written, for this reason.
    Rejected(RejectReason),
}

/// The outcome of mapping one record, and what the user should hear of.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub outcome: Outcome,
    /// Fields left out or changed (reported once per field per sync).
    pub notes: Vec<Note>,
}

impl Mapped {
    /// Fields no property has the name of.
    pub fn unknown(&self) -> impl Iterator<Item = &str> {
        self.notes.iter().filter_map(|n| match n {
            Note::Unknown(name) => Some(name.as_str()),
            _ => None,
        })
    }
}

/// Turns records into contact writes under one configuration.
pub struct Mapper<'a> {
    config: &'a Config,
    properties: &'a Properties,
    /// The stream's primary key path (`["email"]` when it names none).
    email_field: &'a [String],
    /// The `property_mapping` path to `email`, if one is configured.
    mapped_email: Option<&'a [String]>,
    rules: Rules<'a>,
}

/// A property a record field resolved to, how, and the value.
type Chosen<'a, 'v, 'x> = (&'a Property, Match, Found<'v, 'x>);

impl<'a> Mapper<'a> {
    /// `email_field` is the record path of the email (the stream's primary
    /// key); a `property_mapping` entry targeting `email` goes first.
    pub fn new(
        config: &'a Config,
        properties: &'a Properties,
        email_field: &'a [String],
    ) -> Mapper<'a> {
        let mapped_email = config
            .property_mapping
            .iter()
            .find(|(_, target)| target == "email")
            .map(|(path, _)| path.as_slice());
        Mapper {
            config,
            properties,
            email_field,
            mapped_email,
            rules: Rules {
                timezone: &config.timezone,
                show_values: config.log_record_data,
            },
        }
    }

    /// Maps one record's data.
    pub fn map(&self, data: &Fields) -> Mapped {
        let mut notes = Vec::new();
        let outcome = self
            .map_inner(data, &mut notes)
            .unwrap_or_else(Outcome::Rejected);
        Mapped { outcome, notes }
    }

    fn map_inner(&self, data: &Fields, notes: &mut Vec<Note>) -> Result<Outcome, RejectReason> {
        let deleted = deletes::is_deleted(data);
        if deleted && self.config.deletes == Deletes::Skip {
            return Ok(Outcome::DeleteSkipped);
        }
        let (email, email_top) =
            fields::find_email(data, self.mapped_email, self.email_field, self.properties)
                .map_err(|e| match e {
                    RejectReason::NoEmail(d) if deleted => RejectReason::NoEmail(format!(
                        "deleted in the source, and there is no email to find the contact by ({d})"
                    )),
                    other => other,
                })?;
        let email = lower(email.trim());
        if !plausible_email(&email) {
            return Err(RejectReason::InvalidEmail);
        }
        if deleted {
            return Ok(Outcome::Write(ContactWrite::archive_of(&email)));
        }
        let mut write = ContactWrite::new(&email, [], None);
        let mut chosen = self.choose_all(data, &email_top, notes)?;
        // Two fields naming one property: the better match wins.
        chosen.sort_by(|a, b| a.0.name.cmp(&b.0.name).then(b.1.cmp(&a.1)));
        chosen.dedup_by(|later, kept| later.0.name == kept.0.name);
        for (prop, _, found) in chosen {
            self.add(&mut write, prop, found, notes)?;
        }
        if write.stage.is_none() {
            write.stage = self.config.lifecycle_stage.clone();
        }
        Ok(Outcome::Write(write))
    }

    /// The properties a record's fields name: mapped paths, then its
    /// top-level fields but the email's, Airbyte's and mapped-away ones.
    fn choose_all<'v, 'x>(
        &self,
        data: &'v Fields<'x>,
        email_top: &str,
        notes: &mut Vec<Note>,
    ) -> Result<Vec<Chosen<'a, 'v, 'x>>, RejectReason> {
        let mut chosen = Vec::with_capacity(data.len());
        for (path, target) in &self.config.property_mapping {
            if let Some(found) = fields::lookup(data, path) {
                self.choose(target, true, found, &mut chosen, notes)?;
            }
        }
        let mapping = &self.config.property_mapping;
        for (name, field) in data.iter() {
            let skipped = fields::is_metadata(name)
                || name == email_top
                || fields::email_like(name)
                // A mapped field, or an object a mapped path reads inside.
                || mapping.iter().any(|(p, _)| p.first().is_some_and(|f| f == name));
            if !skipped {
                self.choose(name, false, Found::Field(field), &mut chosen, notes)?;
            }
        }
        Ok(chosen)
    }

    /// Adds the property field `name` names, or notes why there is none.
    fn choose<'v, 'x>(
        &self,
        name: &str,
        mapped: bool,
        found: Found<'v, 'x>,
        chosen: &mut Vec<Chosen<'a, 'v, 'x>>,
        notes: &mut Vec<Note>,
    ) -> Result<(), RejectReason> {
        if self.config.null_values == NullPolicy::Ignore && found.raw().is_blank() {
            return Ok(()); // blank is no value: nothing to send, nothing to report
        }
        match fields::resolve(self.properties, name) {
            Some((p, _)) if p.name == "email" => {} // the email is the key, found already
            Some((p, _)) if !p.writable => notes.push(Note::ReadOnly(p.name.clone())),
            Some((p, how)) => chosen.push((p, if mapped { Match::Mapped } else { how }, found)),
            None => match self.config.unknown_properties {
                UnknownProperties::Reject => {
                    return Err(RejectReason::UnknownProperty(name.to_string()))
                }
                // `create` properties are created before mapping starts;
                // one still unknown here is reported like `drop`.
                UnknownProperties::Drop | UnknownProperties::Create => {
                    notes.push(Note::Unknown(name.to_string()))
                }
            },
        }
        Ok(())
    }

    /// Sets one property's normalised value on `write`.
    fn add(
        &self,
        write: &mut ContactWrite,
        prop: &Property,
        found: Found,
        notes: &mut Vec<Note>,
    ) -> Result<(), RejectReason> {
        let stage = prop.name == "lifecyclestage";
        let text = match normalise(prop, found.raw(), &self.rules)? {
            // A blank stage is "no record stage": the configured one applies.
            Norm::Blank if stage || self.config.null_values == NullPolicy::Ignore => return Ok(()),
            Norm::Blank => Cow::Borrowed(""),
            Norm::Value(text) => text,
            Norm::DateOnly(day) => {
                notes.push(Note::TimeDropped(prop.name.clone()));
                Cow::Owned(day)
            }
        };
        if stage {
            write.stage = Some(text.into_owned());
        } else {
            write
                .properties
                .insert(prop.name.clone(), text.into_owned());
        }
        Ok(())
    }
}

/// The string at `path` in a record, if there is one (for showing which
/// email a rejected record had).
pub fn string_at<'v>(data: &'v Fields, path: &[String]) -> Option<&'v str> {
    match fields::lookup(data, path)?.raw() {
        super::formats::Raw::Text(s) => Some(s),
        _ => None,
    }
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
    use serde_json::{json, Value};

    fn props() -> Properties {
        Properties::from_json(&json!({"results": [
            {"name": "email", "label": "Email", "type": "string", "fieldType": "text"},
            {"name": "firstname", "label": "First Name", "type": "string", "fieldType": "text"},
            {"name": "city", "label": "City", "type": "string", "fieldType": "text"},
            {"name": "age", "type": "number", "fieldType": "number"},
            {"name": "vip", "type": "bool", "fieldType": "booleancheckbox"},
            {"name": "birthday", "type": "date", "fieldType": "date"},
            {"name": "seen_at", "type": "datetime", "fieldType": "date"},
            {"name": "tags", "type": "enumeration", "fieldType": "checkbox", "options": [{"value": "a", "label": "Alpha"}, {"value": "b", "label": "Beta"}]},
            {"name": "hs_object_id", "label": "Record ID", "type": "number", "fieldType": "number", "modificationMetadata": {"readOnlyValue": true}},
            {"name": "lifecyclestage", "label": "Lifecycle Stage", "type": "enumeration", "fieldType": "radio", "options": [{"value": "lead", "label": "Lead"}, {"value": "customer", "label": "Customer"}]}
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

    fn written(config: &Config, data: Value) -> ContactWrite {
        match map(config, data.clone()).outcome {
            Outcome::Write(w) => w,
            other => panic!("{data}: {other:?}"),
        }
    }

    fn rejected(config: &Config, data: Value) -> RejectReason {
        match map(config, data.clone()).outcome {
            Outcome::Rejected(r) => r,
            other => panic!("{data}: {other:?}"),
        }
    }

    fn get(w: &ContactWrite, k: &str) -> Option<String> {
        w.properties.get(k).cloned()
    }

    #[test]
    fn email_is_trimmed_and_lowercased_and_airbyte_fields_skipped() {
        let c = config(json!({}));
        let m = map(
            &c,
            json!({"email": "  Ann@Example.COM ", "firstname": "Ann", "_airbyte_ab_id": "x", "_ab_cdc_lsn": 7, "_ab_cdc_updated_at": "2024-01-05"}),
        );
        assert!(
            m.notes.is_empty(),
            "metadata is never reported: {:?}",
            m.notes
        );
        let Outcome::Write(w) = m.outcome else {
            panic!("written")
        };
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
        for data in [
            json!({"firstname": "x"}),
            json!({"email": 5}),
            json!({"email": " "}),
        ] {
            assert_eq!(rejected(&c, data.clone()).code(), "no_email", "{data}");
        }
        assert!(rejected(&c, json!({"firstname": "x"}))
            .to_string()
            .contains("email, E-mail or Email Address"));
        assert_eq!(
            rejected(&c, json!({"email": "nope"})),
            RejectReason::InvalidEmail
        );
        assert_eq!(
            rejected(&c, json!({"email": "a b@x.io"})),
            RejectReason::InvalidEmail
        );
    }

    #[test]
    fn columns_named_by_label_or_in_another_case_find_their_property() {
        let c = config(json!({}));
        let w = written(
            &c,
            json!({"Email Address": "A@x.io", "First Name": "Ann", "CITY": "Oslo", "Lifecycle Stage": "Customer"}),
        );
        assert_eq!(w.email(), "a@x.io");
        assert_eq!(get(&w, "firstname").as_deref(), Some("Ann"));
        assert_eq!(get(&w, "city").as_deref(), Some("Oslo"));
        assert_eq!(w.stage.as_deref(), Some("customer"));
        // The exact name wins over a label naming the same property.
        let w = written(
            &c,
            json!({"email": "a@x.io", "First Name": "Label", "firstname": "Exact"}),
        );
        assert_eq!(get(&w, "firstname").as_deref(), Some("Exact"));
    }

    #[test]
    fn values_are_normalised_per_type() {
        let c = config(json!({}));
        let w = written(
            &c,
            json!({"email": "a@x.io", "age": 42.0, "vip": "Yes", "birthday": "2020-02-29T00:00:00Z",
            "seen_at": 1700000000123u64, "tags": ["alpha", "b"], "city": ["x", 1]}),
        );
        assert_eq!(get(&w, "age").as_deref(), Some("42"));
        assert_eq!(get(&w, "vip").as_deref(), Some("true"));
        assert_eq!(get(&w, "birthday").as_deref(), Some("2020-02-29"));
        assert_eq!(
            get(&w, "seen_at").as_deref(),
            Some("2023-11-14T22:13:20.123Z")
        );
        assert_eq!(get(&w, "tags").as_deref(), Some("a;b"));
        assert_eq!(get(&w, "city").as_deref(), Some("x;1"));
    }

    #[test]
    fn values_that_cannot_be_normalised_are_rejected_with_the_property() {
        let c = config(json!({}));
        for (data, code) in [
            (json!({"email": "a@x.io", "age": "many"}), "invalid_value"),
            (json!({"email": "a@x.io", "vip": "maybe"}), "invalid_value"),
            (
                json!({"email": "a@x.io", "birthday": "2021-02-29"}),
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
        ] {
            let r = rejected(&c, data.clone());
            assert_eq!(r.code(), code, "{data}");
            assert!(r.property().is_some(), "{r}");
        }
    }

    #[test]
    fn read_only_fields_are_left_out_and_noted_never_rejected() {
        let c = config(json!({"unknown_properties": "reject"}));
        let m = map(
            &c,
            json!({"email": "a@x.io", "hs_object_id": "5", "Record ID": 5, "city": "Oslo"}),
        );
        assert_eq!(m.notes, vec![Note::ReadOnly("hs_object_id".into()); 2]);
        let Outcome::Write(w) = m.outcome else {
            panic!("written")
        };
        assert_eq!(get(&w, "hs_object_id"), None);
        assert_eq!(get(&w, "city").as_deref(), Some("Oslo"));
    }

    #[test]
    fn a_date_with_a_time_of_day_keeps_its_date_and_says_so() {
        let c = config(json!({}));
        let m = map(
            &c,
            json!({"email": "a@x.io", "birthday": "2024-01-05T10:30:00"}),
        );
        assert_eq!(m.notes, vec![Note::TimeDropped("birthday".into())]);
        let Outcome::Write(w) = m.outcome else {
            panic!("written")
        };
        assert_eq!(get(&w, "birthday").as_deref(), Some("2024-01-05"));
    }

    #[test]
    fn unknown_properties_follow_the_policy() {
        let drop = config(json!({}));
        let m = map(&drop, json!({"email": "a@x.io", "shoe": 9}));
        assert!(matches!(m.outcome, Outcome::Write(_)));
        assert_eq!(m.unknown().collect::<Vec<_>>(), vec!["shoe"]);
        let reject = config(json!({"unknown_properties": "reject"}));
        assert_eq!(
            rejected(&reject, json!({"email": "a@x.io", "shoe": 9})),
            RejectReason::UnknownProperty("shoe".into())
        );
    }

    #[test]
    fn blank_is_null_and_the_null_policy_ignores_or_clears() {
        let ignore = config(json!({}));
        let record = json!({"email": "a@x.io", "firstname": null, "city": " ", "age": "", "vip": "", "tags": "", "shoe": ""});
        let m = map(&ignore, record.clone());
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        let Outcome::Write(w) = m.outcome else {
            panic!("written")
        };
        assert_eq!(w.properties.len(), 1, "only the email: {:?}", w.properties);
        let clear = config(json!({"null_values": "clear"}));
        let w = written(&clear, record);
        for k in ["firstname", "city", "age", "vip", "tags"] {
            assert_eq!(get(&w, k).as_deref(), Some(""), "{k}");
        }
    }

    #[test]
    fn mapping_renames_and_reads_nested_fields() {
        let c = config(json!({"property_mapping": {"name": "firstname", "address.city": "city"}}));
        let w = written(
            &c,
            json!({"email": "a@x.io", "name": "Ann", "address": {"city": "Oslo", "zip": "1"}}),
        );
        assert_eq!(get(&w, "firstname").as_deref(), Some("Ann"));
        assert_eq!(get(&w, "city").as_deref(), Some("Oslo"));
        assert!(get(&w, "address").is_none() && get(&w, "name").is_none());
    }

    #[test]
    fn lifecycle_stage_comes_from_the_record_or_the_config() {
        let c = config(json!({"lifecycle_stage": "lead"}));
        let stage = |data: Value| written(&c, data).stage;
        assert_eq!(stage(json!({"email": "a@x.io"})).as_deref(), Some("lead"));
        assert_eq!(
            stage(json!({"email": "a@x.io", "lifecyclestage": "Customer"})).as_deref(),
            Some("customer")
        );
        // Blank or null: no record stage, the configured one applies.
        for blank in [json!(""), json!(null), json!("  ")] {
            assert_eq!(
                stage(json!({"email": "a@x.io", "lifecyclestage": blank})).as_deref(),
                Some("lead")
            );
        }
        let clear = config(json!({"lifecycle_stage": "lead", "null_values": "clear"}));
        assert_eq!(
            written(&clear, json!({"email": "a@x.io", "lifecyclestage": ""}))
                .stage
                .as_deref(),
            Some("lead")
        );
        assert_eq!(
            rejected(&c, json!({"email": "a@x.io", "lifecyclestage": "boss"})).code(),
            "invalid_option"
        );
    }

    #[test]
    fn records_deleted_in_the_source_are_skipped_or_archived() {
        let deleted = json!({"email": "A@x.io", "firstname": "Gone", "_ab_cdc_deleted_at": "2024-01-05T10:30:00Z"});
        assert_eq!(
            map(&config(json!({})), deleted.clone()).outcome,
            Outcome::DeleteSkipped
        );
        let archive = config(json!({"deletes": "archive"}));
        assert_eq!(
            written(&archive, deleted),
            ContactWrite::archive_of("a@x.io")
        );
        let r = rejected(
            &archive,
            json!({"id": 7, "_ab_cdc_deleted_at": "2024-01-05"}),
        );
        assert!(r.to_string().contains("deleted in the source"), "{r}");
        // Not deleted: a null or blank marker.
        let live = json!({"email": "a@x.io", "_ab_cdc_deleted_at": null});
        assert!(matches!(map(&archive, live).outcome, Outcome::Write(w) if !w.archive));
    }
}
