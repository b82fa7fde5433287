//! Mapping: one Airbyte record becomes one write of its stream's target
//! object — the matching key (an email trimmed and lower-cased, another
//! unique property's value, or a record id), the properties in the string
//! formats HubSpot stores, the lifecycle stage it asks for and the values
//! its associations point at — or a typed rejection, before any network
//! call. The rules are the README's "Properties: checks and formats":
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
//! - a record deleted in the source is skipped, or becomes an archive;
//! - a deal's (ticket's) stage must be one of its pipeline's stages.

use std::borrow::Cow;

use super::deletes;
use super::fields::{self, Found, Match};
use super::formats::{normalise, Norm, Rules};
use super::notices::Note;
use super::targets::{Route, Target, Targets, RECORD_ID};
use crate::config::{Config, Deletes, NullPolicy, UnknownProperties};
use crate::hubspot::batch::{Mode, Values};
use crate::hubspot::errors::RejectReason;
use crate::hubspot::properties::{Properties, Property};
use crate::protocol::Fields;

/// A record ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordWrite {
    /// The matching key's value, sent as the input's id: a trimmed,
    /// lower-cased email for contacts by email, a record id for updates.
    pub key: String,
    /// Properties to set (the matching key among them, unless it is the
    /// record id), never `lifecyclestage`.
    pub properties: Values,
    /// The lifecycle stage the record (or the config) asks for.
    pub stage: Option<String>,
    /// Archive the record instead (deleted in the source, under
    /// `deletes: archive`); `properties` then hold only the key.
    pub archive: bool,
    /// The associations it asks for: (link index, the target's key value).
    pub links: Vec<(usize, String)>,
}

impl RecordWrite {
    /// A write of the contact with `email` (trimmed, lower-cased) and
    /// `properties`, which hold neither `email` nor `lifecyclestage`.
    pub fn contact<'p>(
        email: &str,
        properties: impl IntoIterator<Item = (&'p str, &'p str)>,
        stage: Option<&str>,
    ) -> RecordWrite {
        let mut write = RecordWrite::keyed("email", email);
        for (k, v) in properties {
            debug_assert!(
                k != "email" && k != "lifecyclestage",
                "{k} is not a property here"
            );
            write.properties.insert(k.to_string(), v.to_string());
        }
        write.stage = stage.map(str::to_string);
        write
    }

    /// A write of the record whose `key_property` is `key` (the record id
    /// is no property: it is only the key).
    pub fn keyed(key_property: &str, key: &str) -> RecordWrite {
        let mut properties = Values::new();
        if key_property != RECORD_ID {
            properties.insert(key_property.to_string(), key.to_string());
        }
        RecordWrite {
            key: key.to_string(),
            properties,
            stage: None,
            archive: false,
            links: Vec::new(),
        }
    }

    /// Archiving the contact with `email`.
    pub fn archive_of(email: &str) -> RecordWrite {
        RecordWrite {
            archive: true,
            ..RecordWrite::contact(email, [], None)
        }
    }

    /// The matching key's value.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// What becomes of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written (or archived): batched and sent.
    Write(RecordWrite),
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

/// Turns one stream's records into writes under one configuration.
pub struct Mapper<'a> {
    config: &'a Config,
    target: &'a Target,
    properties: &'a Properties,
    /// Where the key is: for contacts by email, the stream's email field
    /// (`["email"]` when its primary key names none); else the key's field.
    key_field: &'a [String],
    /// The `property_mapping` path to the key, if one is configured.
    mapped_key: Option<&'a [String]>,
    /// The associations: (link index, field path, how the target's key
    /// is matched).
    links: Vec<(usize, &'a [String], Mode<'a>)>,
    rules: Rules<'a>,
}

/// A property a record field resolved to, how, and the value.
type Chosen<'a, 'v, 'x> = (&'a Property, Match, Found<'v, 'x>);

impl<'a> Mapper<'a> {
    /// The mapper of the stream routed by `route`; a `property_mapping`
    /// entry targeting the key goes before the route's key field.
    pub fn new(config: &'a Config, targets: &'a Targets, route: &'a Route) -> Mapper<'a> {
        let target = &targets.targets[route.target];
        let mapped_key = config
            .property_mapping
            .iter()
            .find(|(_, property)| *property == target.key)
            .map(|(path, _)| path.as_slice());
        let links = route
            .links
            .iter()
            .map(|&i| {
                let link = &targets.links[i];
                (i, link.field.as_slice(), link.to_mode())
            })
            .collect();
        Mapper {
            config,
            target,
            properties: &target.properties,
            key_field: &route.key_field,
            mapped_key,
            links,
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
        let (key, key_top) = self.find_key(data).map_err(|e| match e {
            RejectReason::NoEmail(d) if deleted => RejectReason::NoEmail(format!(
                "deleted in the source, and there is no email to find the contact by ({d})"
            )),
            other => other,
        })?;
        let mut write = RecordWrite::keyed(&self.target.key, &key);
        if deleted {
            write.archive = true;
            return Ok(Outcome::Write(write));
        }
        let mut chosen = self.choose_all(data, &key_top, notes)?;
        // Two fields naming one property: the better match wins.
        chosen.sort_by(|a, b| a.0.name.cmp(&b.0.name).then(b.1.cmp(&a.1)));
        chosen.dedup_by(|later, kept| later.0.name == kept.0.name);
        for (prop, _, found) in chosen {
            self.add(&mut write, prop, found, notes)?;
        }
        if write.stage.is_none() && self.target.object.is_contacts() {
            write.stage = self.config.lifecycle_stage.clone();
        }
        self.check_pipeline(&write)?;
        write.links = self.links(data);
        Ok(Outcome::Write(write))
    }

    /// The record's matching key value (normalised) and the top-level field
    /// it came from.
    fn find_key(&self, data: &Fields) -> Result<(String, String), RejectReason> {
        if self.target.by_email() {
            let (email, top) =
                fields::find_email(data, self.mapped_key, self.key_field, self.properties)?;
            let email = lower(email.trim());
            if !plausible_email(&email) {
                return Err(RejectReason::InvalidEmail);
            }
            return Ok((email.into_owned(), top));
        }
        let key = &self.target.key;
        let paths = self.mapped_key.into_iter().chain([self.key_field]);
        let found = paths
            .filter_map(|path| Some((fields::lookup(data, path)?, path[0].clone())))
            .next()
            .or_else(|| {
                // A column named like the key in another case, or by its label.
                data.iter().find_map(|(name, field)| {
                    let (p, _) = fields::resolve(self.properties, name)?;
                    (p.name == *key).then(|| (fields::Found::Field(field), name.to_string()))
                })
            });
        let no_key = |why: &str| {
            RejectReason::NoMatchingKey(format!(
                "`{}` (the {} matching key) {why}",
                self.key_field.join("."),
                self.target.object.name
            ))
        };
        let Some((found, top)) = found else {
            return Err(no_key("is not in the record"));
        };
        let typed = self.properties.get(key).filter(|_| key != RECORD_ID);
        let value = match typed {
            Some(prop) => match normalise(prop, found.raw(), &self.rules)? {
                Norm::Value(v) => v.trim().to_string(),
                Norm::Blank => return Err(no_key("is blank")),
                Norm::DateOnly(day) => day,
            },
            None => match found.raw().text() {
                Some(t) if !t.trim().is_empty() => t.trim().to_string(),
                _ => return Err(no_key("is blank or not a value")),
            },
        };
        if key == RECORD_ID && !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(no_key("is not a HubSpot record id"));
        }
        Ok((value, top))
    }

    /// A deal's (ticket's) stage must belong to its pipeline: the one the
    /// record gives, else the default one.
    fn check_pipeline(&self, write: &RecordWrite) -> Result<(), RejectReason> {
        let Some(pipelines) = &self.target.pipelines else {
            return Ok(());
        };
        let (pipeline_prop, stage_prop) = match self.target.object.path.as_str() {
            "tickets" => ("hs_pipeline", "hs_pipeline_stage"),
            _ => ("pipeline", "dealstage"),
        };
        let Some(stage) = write.properties.get(stage_prop).filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let pipeline = write.properties.get(pipeline_prop).map(String::as_str);
        let named = pipeline.map_or("the default pipeline".to_string(), |p| {
            format!("pipeline `{p}`")
        });
        match pipelines.stages(pipeline) {
            Some(stages) if stages.contains(stage) => Ok(()),
            Some(stages) => Err(RejectReason::InvalidOption(format!(
                "{stage_prop}: {} is not a stage of {named} (its stages: {})",
                self.rules.show(stage),
                stages.join(", ")
            ))),
            None => Err(RejectReason::InvalidOption(format!(
                "{pipeline_prop}: {} is not a pipeline of this account",
                self.rules.show(pipeline.unwrap_or_default())
            ))),
        }
    }

    /// The values the record's association fields hold (blank: none).
    fn links(&self, data: &Fields) -> Vec<(usize, String)> {
        let mut links = Vec::new();
        for &(link, path, mode) in &self.links {
            let Some(found) = fields::lookup(data, path) else {
                continue;
            };
            let Some(text) = found.raw().text() else {
                continue;
            };
            let text = text.trim();
            if !text.is_empty() {
                links.push((link, mode.key(text)));
            }
        }
        links
    }

    /// The properties a record's fields name: mapped paths, then its
    /// top-level fields but the email's, Airbyte's and mapped-away ones.
    fn choose_all<'v, 'x>(
        &self,
        data: &'v Fields<'x>,
        key_top: &str,
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
            // An association's field that is no property only points.
            let link_only = self.links.iter().any(|(_, path, _)| path[0] == name)
                && fields::resolve(self.properties, name).is_none();
            let skipped = link_only
                || fields::is_metadata(name)
                || name == key_top
                || (self.target.by_email() && fields::email_like(name))
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
            Some((p, _)) if p.name == self.target.key => {} // the key, found already
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
        write: &mut RecordWrite,
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

    /// The routes of one contacts stream (by email) in `targets`.
    fn contacts(p: Properties) -> Targets {
        let catalog =
            crate::catalog::Catalog::parse(r#"{"streams":[{"stream":{"name":"s"}}]}"#).unwrap();
        Targets::contacts_only(&catalog, p)
    }

    fn map(config: &Config, data: Value) -> Mapped {
        let targets = contacts(props());
        let m = Mapper::new(config, &targets, targets.route(0));
        m.map(&Fields::from_map(data.as_object().unwrap()))
    }

    fn written(config: &Config, data: Value) -> RecordWrite {
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

    fn get(w: &RecordWrite, k: &str) -> Option<String> {
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
        assert_eq!(w.key(), "ann@example.com");
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
        assert_eq!(w.key(), "a@x.io");
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
            RecordWrite::archive_of("a@x.io")
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
