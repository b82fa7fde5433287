//! The normalisation table: a record value becomes the text HubSpot stores
//! for the property's type, "no value", or a rejection naming the property,
//! the value (masked unless `log_record_data`) and what is accepted. The
//! README's "Properties: checks and formats" table documents these rules.
//!
//! | type | accepted | sent as |
//! |---|---|---|
//! | any | `null`, `""`, whitespace, `[]` | no value (the null policy applies) |
//! | string | text unchanged; numbers; booleans; lists of scalars; objects | the text; canonical number; `true`/`false`; `;`-joined; JSON text — at most 65,536 characters |
//! | number | see [`numbers`](super::numbers) | canonical decimal text |
//! | bool | true/false, yes/no, y/n, on/off, 1/0 (any case), option labels | `true` / `false` |
//! | date, datetime | see [`dates`](super::dates) | `YYYY-MM-DD`; `YYYY-MM-DDTHH:MM:SS.mmmZ` |
//! | enumeration | option value or label, any case, trimmed; multi: lists, `;`, or `,` when no option has one | option values, `;`-joined |

use std::borrow::Cow;

use jiff::tz::TimeZone;
use serde_json::{Number, Value};

use super::redact::shown;
use super::{dates, numbers};
use crate::hubspot::errors::RejectReason;
use crate::hubspot::properties::{Kind, Property};
use crate::protocol::Field;

/// HubSpot's limit for a text value, in characters.
pub(crate) const TEXT_LIMIT: usize = 65_536;

/// Options in a rejection message, at most.
const OPTIONS_SHOWN: usize = 12;

/// What normalisation depends on besides the value.
pub(crate) struct Rules<'a> {
    /// The zone of datetimes written without one.
    pub timezone: &'a TimeZone,
    /// Whether rejection messages may show values (`log_record_data`).
    pub show_values: bool,
}

impl Rules<'_> {
    /// A value as a message may quote it.
    pub(crate) fn show(&self, value: &str) -> String {
        shown(value, self.show_values)
    }
}

/// A record value, borrowed from a top-level field or a nested one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'v> {
    Null,
    Bool(bool),
    Number(&'v Number),
    Text(&'v str),
    List(&'v [Value]),
    Object(&'v Value),
}

impl<'v> Raw<'v> {
    pub(crate) fn of_field(f: &'v Field) -> Raw<'v> {
        match f {
            Field::Null => Raw::Null,
            Field::Bool(b) => Raw::Bool(*b),
            Field::Number(n) => Raw::Number(n),
            Field::String(s) => Raw::Text(s),
            Field::Other(v) => Raw::of_value(v),
        }
    }

    pub(crate) fn of_value(v: &'v Value) -> Raw<'v> {
        match v {
            Value::Null => Raw::Null,
            Value::Bool(b) => Raw::Bool(*b),
            Value::Number(n) => Raw::Number(n),
            Value::String(s) => Raw::Text(s),
            Value::Array(items) => Raw::List(items),
            Value::Object(_) => Raw::Object(v),
        }
    }

    /// Blank means no value: null, empty or whitespace-only text, or a
    /// list of nothing else.
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Raw::Null => true,
            Raw::Text(s) => s.trim().is_empty(),
            Raw::List(items) => items.iter().all(|v| Raw::of_value(v).is_blank()),
            _ => false,
        }
    }

    /// A scalar as text (what a key or an association field holds).
    pub(crate) fn text(&self) -> Option<Cow<'v, str>> {
        self.scalar()
    }

    /// A scalar as text: strings as they are, numbers canonical (as written
    /// when not a plain decimal), booleans `true`/`false`.
    fn scalar(&self) -> Option<Cow<'v, str>> {
        match *self {
            Raw::Text(s) => Some(Cow::Borrowed(s)),
            Raw::Number(n) => Some(Cow::Owned(number_text(n))),
            Raw::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            _ => None,
        }
    }

    /// The value as a message may quote it.
    fn quoted(&self, show_values: bool) -> String {
        let text = match self.scalar() {
            Some(s) => s.into_owned(),
            None => match self {
                Raw::List(items) => serde_json::to_string(items).unwrap_or_default(),
                Raw::Object(v) => v.to_string(),
                _ => "null".to_string(),
            },
        };
        shown(&text, show_values)
    }
}

/// A JSON number's canonical text (its text as written if it has none).
fn number_text(n: &Number) -> String {
    let written = n.to_string();
    numbers::canonical(&written).unwrap_or(written)
}

/// A normalised value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Norm<'v> {
    /// No value (blank or null): the null policy decides.
    Blank,
    /// The text to send.
    Value(Cow<'v, str>),
    /// A date whose time of day (not midnight) was dropped.
    DateOnly(String),
}

/// Normalises `raw` for `prop`.
pub(crate) fn normalise<'v>(
    prop: &Property,
    raw: Raw<'v>,
    rules: &Rules,
) -> Result<Norm<'v>, RejectReason> {
    if raw.is_blank() {
        return Ok(Norm::Blank);
    }
    let refuse = |why: &str, accepted: &str| {
        let value = raw.quoted(rules.show_values);
        RejectReason::InvalidValue(format!(
            "{}: {value} {why}; accepted: {accepted}",
            prop.name
        ))
    };
    match prop.kind {
        Kind::String => string(prop, raw),
        Kind::Number => {
            let text = text_of(raw).ok_or_else(|| refuse("is not a number", numbers::ACCEPTED))?;
            numbers::canonical(&text)
                .map(|n| Norm::Value(Cow::Owned(n)))
                .map_err(|e| refuse(e.why(), numbers::ACCEPTED))
        }
        Kind::Bool => {
            boolean(prop, raw).ok_or_else(|| refuse("is not a boolean", &bool_accepted(prop)))
        }
        Kind::DateTime => {
            let text = text_of(raw)
                .ok_or_else(|| refuse("is not a datetime", dates::DATETIME_ACCEPTED))?;
            dates::datetime(&text, rules.timezone)
                .map(|t| Norm::Value(Cow::Owned(t)))
                .map_err(|why| refuse(why, dates::DATETIME_ACCEPTED))
        }
        Kind::Date => {
            let text = text_of(raw).ok_or_else(|| refuse("is not a date", dates::DATE_ACCEPTED))?;
            match dates::date(&text) {
                Ok((day, false)) => Ok(Norm::Value(Cow::Owned(day))),
                Ok((day, true)) => Ok(Norm::DateOnly(day)),
                Err(why) => Err(refuse(why, dates::DATE_ACCEPTED)),
            }
        }
        Kind::Enumeration => enumeration(prop, raw, rules),
    }
}

/// The text of a string or a number (what numbers and dates are read from).
fn text_of(raw: Raw) -> Option<String> {
    match raw {
        Raw::Text(s) => Some(s.trim().to_string()),
        Raw::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Text unchanged; other scalars as text; lists of scalars `;`-joined;
/// anything else as compact JSON. Longer than HubSpot takes: rejected.
fn string<'v>(prop: &Property, raw: Raw<'v>) -> Result<Norm<'v>, RejectReason> {
    let text: Cow<'v, str> = match raw {
        Raw::List(items) if items.iter().all(|v| Raw::of_value(v).scalar().is_some()) => {
            let parts: Vec<Cow<str>> = items
                .iter()
                .filter_map(|v| Raw::of_value(v).scalar())
                .collect();
            Cow::Owned(parts.join(";"))
        }
        Raw::List(items) => Cow::Owned(serde_json::to_string(items).unwrap_or_default()),
        Raw::Object(v) => Cow::Owned(v.to_string()),
        other => other.scalar().unwrap_or_default(),
    };
    if text.len() > TEXT_LIMIT {
        let chars = text.chars().count();
        if chars > TEXT_LIMIT {
            return Err(RejectReason::ValueTooLong(format!(
                "{}: {chars} characters; HubSpot takes at most 65,536 in a text property",
                prop.name
            )));
        }
    }
    Ok(Norm::Value(text))
}

/// Words read as true or false, any case.
const TRUE: [&str; 5] = ["true", "yes", "y", "on", "1"];
const FALSE: [&str; 5] = ["false", "no", "n", "off", "0"];

fn boolean<'v>(prop: &Property, raw: Raw) -> Option<Norm<'v>> {
    let text = match raw {
        Raw::Bool(b) => return Some(Norm::Value(Cow::Borrowed(if b { "true" } else { "false" }))),
        Raw::Number(n) => number_text(n),
        Raw::Text(s) => s.trim().to_lowercase(),
        _ => return None,
    };
    let word = numbers::canonical(&text).unwrap_or(text);
    if TRUE.contains(&word.as_str()) {
        return Some(Norm::Value(Cow::Borrowed("true")));
    }
    if FALSE.contains(&word.as_str()) {
        return Some(Norm::Value(Cow::Borrowed("false")));
    }
    option(prop, &word).map(|v| Norm::Value(Cow::Owned(v.to_string())))
}

fn bool_accepted(prop: &Property) -> String {
    let labels = if prop.labels.is_empty() {
        String::new()
    } else {
        format!(", or an option label ({})", prop.labels.join(", "))
    };
    format!("true/false, yes/no, y/n, on/off, 1/0 in any case{labels}")
}

/// One option, or several for a multi-select, by value or label.
fn enumeration<'v>(prop: &Property, raw: Raw<'v>, rules: &Rules) -> Result<Norm<'v>, RejectReason> {
    let wrong_shape = |what: &str| {
        RejectReason::InvalidOption(format!(
            "{}: {} {what}",
            prop.name,
            raw.quoted(rules.show_values)
        ))
    };
    let parts: Vec<Cow<str>> = match raw {
        Raw::List(_) if !prop.multi => {
            return Err(wrong_shape("is a list, and the property takes one option"))
        }
        Raw::List(items) => items
            .iter()
            .map(|v| Raw::of_value(v).scalar())
            .collect::<Option<_>>()
            .ok_or_else(|| wrong_shape("holds a list or an object"))?,
        Raw::Object(_) => return Err(wrong_shape("is an object")),
        other => {
            let text = other.scalar().unwrap_or_default();
            if prop.multi {
                split(prop, &text)
                    .into_iter()
                    .map(|p| Cow::Owned(p.to_string()))
                    .collect()
            } else {
                vec![text]
            }
        }
    };
    let mut values: Vec<&str> = Vec::new();
    for part in &parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let value = option(prop, part).ok_or_else(|| {
            RejectReason::InvalidOption(format!(
                "{}: {} is not one of the property's options; accepted: an option's value or label in any case ({})",
                prop.name,
                shown(part, rules.show_values),
                options_list(prop)
            ))
        })?;
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Ok(if values.is_empty() {
        Norm::Blank
    } else {
        Norm::Value(Cow::Owned(values.join(";")))
    })
}

/// A multi-select's text split on `;`, or on `,` when no option's value
/// or label holds one (a comma could be part of an option otherwise).
fn split<'t>(prop: &Property, text: &'t str) -> Vec<&'t str> {
    let comma_free = !prop
        .options
        .iter()
        .chain(&prop.labels)
        .any(|o| o.contains(','));
    if text.contains(';') {
        text.split(';').collect()
    } else if comma_free && text.contains(',') {
        text.split(',').collect()
    } else {
        vec![text]
    }
}

/// The option value matching `v`: exactly, else by value or label in any case.
fn option<'p>(prop: &'p Property, v: &str) -> Option<&'p str> {
    if let Some(o) = prop.options.iter().find(|o| *o == v) {
        return Some(o);
    }
    let lower = v.to_lowercase();
    let same = |s: &String| s.to_lowercase() == lower;
    prop.options
        .iter()
        .find(|o| same(o))
        .or_else(|| {
            prop.options
                .iter()
                .zip(&prop.labels)
                .find(|(_, l)| same(l))
                .map(|(o, _)| o)
        })
        .map(String::as_str)
}

/// The options' values for a message, capped.
fn options_list(prop: &Property) -> String {
    let mut list: Vec<&str> = prop
        .options
        .iter()
        .take(OPTIONS_SHOWN)
        .map(String::as_str)
        .collect();
    if prop.options.len() > OPTIONS_SHOWN {
        list.push("…");
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::properties::Properties;
    use proptest::prelude::*;
    use serde_json::json;

    fn props() -> Properties {
        Properties::from_json(&json!({"results": [
            {"name": "note", "type": "string", "fieldType": "text"},
            {"name": "revenue", "type": "number", "fieldType": "number"},
            {"name": "optin", "type": "bool", "fieldType": "booleancheckbox",
             "options": [{"value": "true", "label": "Subscribed"}, {"value": "false", "label": "Unsubscribed"}]},
            {"name": "renewal", "type": "date", "fieldType": "date"},
            {"name": "seen", "type": "datetime", "fieldType": "date"},
            {"name": "status", "type": "enumeration", "fieldType": "select",
             "options": [{"value": "NEW", "label": "New"}, {"value": "IN_PROGRESS", "label": "In Progress"}]},
            {"name": "tags", "type": "enumeration", "fieldType": "checkbox",
             "options": [{"value": "a", "label": "Alpha"}, {"value": "b", "label": "Beta"}, {"value": "c", "label": "Gamma"}]},
            {"name": "places", "type": "enumeration", "fieldType": "checkbox",
             "options": [{"value": "paris", "label": "Paris, France"}, {"value": "oslo", "label": "Oslo"}]}
        ]}))
    }

    fn norm(name: &str, value: Value) -> Result<Norm<'static>, RejectReason> {
        norm_with(name, value, true)
    }

    fn norm_with(
        name: &str,
        value: Value,
        show_values: bool,
    ) -> Result<Norm<'static>, RejectReason> {
        let p = props();
        let prop = p.get(name).unwrap();
        let rules = Rules {
            timezone: &TimeZone::UTC,
            show_values,
        };
        normalise(prop, Raw::of_value(&value), &rules).map(|n| match n {
            Norm::Value(v) => Norm::Value(Cow::Owned(v.into_owned())),
            Norm::Blank => Norm::Blank,
            Norm::DateOnly(d) => Norm::DateOnly(d),
        })
    }

    fn sent(name: &str, value: Value) -> String {
        match norm(name, value.clone()) {
            Ok(Norm::Value(v)) => v.into_owned(),
            other => panic!("{name} {value}: {other:?}"),
        }
    }

    /// A JSON number exactly as written (serde_json keeps its digits).
    fn number(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn blank_is_no_value_for_every_type() {
        for name in [
            "note", "revenue", "optin", "renewal", "seen", "status", "tags",
        ] {
            for blank in [
                json!(null),
                json!(""),
                json!("  \t"),
                json!([]),
                json!(["", null]),
            ] {
                assert_eq!(norm(name, blank.clone()), Ok(Norm::Blank), "{name} {blank}");
            }
        }
        assert_eq!(norm("tags", json!(" ; ")), Ok(Norm::Blank));
    }

    #[test]
    fn strings_are_unchanged_up_to_hubspots_limit() {
        assert_eq!(sent("note", json!(" Ann  ")), " Ann  ");
        assert_eq!(sent("note", number("42.0")), "42");
        assert_eq!(sent("note", json!(true)), "true");
        assert_eq!(sent("note", json!(["x", 1, false])), "x;1;false");
        assert_eq!(sent("note", json!({"a": [1]})), r#"{"a":[1]}"#);
        assert_eq!(sent("note", json!([[1]])), "[[1]]");
        assert_eq!(
            sent("note", json!("é".repeat(TEXT_LIMIT))).chars().count(),
            TEXT_LIMIT
        );
        let long = norm("note", json!("x".repeat(TEXT_LIMIT + 1))).unwrap_err();
        assert_eq!(long.code(), "value_too_long");
        assert!(
            long.to_string().contains("note: 65537 characters"),
            "{long}"
        );
    }

    #[test]
    fn numbers_keep_their_exact_digits() {
        assert_eq!(
            sent("revenue", number("12345678901234.567")),
            "12345678901234.567"
        );
        assert_eq!(
            sent("revenue", number("123456789012345678901234")),
            "123456789012345678901234"
        );
        assert_eq!(sent("revenue", number("1.5e3")), "1500");
        assert_eq!(sent("revenue", number("7.0")), "7");
        assert_eq!(sent("revenue", json!(" 1,234.50 ")), "1234.5");
        assert_eq!(sent("revenue", json!("1 234")), "1234");
        assert_eq!(sent("revenue", json!("007")), "7");
        assert_eq!(sent("revenue", json!("5.")), "5");
        let e = norm_with("revenue", json!("1,234"), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("revenue: `9,999` (value masked) is ambiguous"),
            "{e}"
        );
        assert!(e.contains("accepted: digits"), "{e}");
        assert!(norm("revenue", json!(true)).is_err());
    }

    #[test]
    fn booleans_in_every_spelling() {
        for (value, want) in [
            (json!(true), "true"),
            (json!("TRUE"), "true"),
            (json!(" yes "), "true"),
            (json!("Y"), "true"),
            (json!("on"), "true"),
            (json!("1"), "true"),
            (json!(1), "true"),
            (number("1.0"), "true"),
            (json!("Subscribed"), "true"),
            (json!(false), "false"),
            (json!("No"), "false"),
            (json!("n"), "false"),
            (json!("OFF"), "false"),
            (json!(0), "false"),
            (json!("unsubscribed"), "false"),
        ] {
            assert_eq!(sent("optin", value.clone()), want, "{value}");
        }
        let e = norm_with("optin", json!("maybe"), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("optin: `aaaaa` (value masked) is not a boolean"),
            "{e}"
        );
        assert!(e.contains("Subscribed, Unsubscribed"), "{e}");
        assert!(norm("optin", json!(2)).is_err());
    }

    #[test]
    fn dates_and_datetimes_follow_the_date_rules() {
        assert_eq!(
            sent("seen", json!("2024-01-05 10:30:00")),
            "2024-01-05T10:30:00.000Z"
        );
        assert_eq!(sent("seen", json!(1704450600)), "2024-01-05T10:30:00.000Z");
        assert_eq!(
            sent("seen", json!("1704450600000")),
            "2024-01-05T10:30:00.000Z"
        );
        assert_eq!(sent("renewal", number("1704412800000.0")), "2024-01-05");
        assert_eq!(
            norm("renewal", json!("2024-01-05T10:30:00")),
            Ok(Norm::DateOnly("2024-01-05".into()))
        );
        let e = norm("renewal", json!("01/05/2024"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("renewal: `01/05/2024` has an ambiguous day and month order"),
            "{e}"
        );
        let e = norm_with("seen", json!("01/05/2024"), false)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("01/05"), "{e}");
        assert!(norm("seen", json!(["2024-01-05"])).is_err());
    }

    #[test]
    fn options_by_value_or_label_in_any_case() {
        assert_eq!(sent("status", json!(" New ")), "NEW");
        assert_eq!(sent("status", json!("in progress")), "IN_PROGRESS");
        assert_eq!(sent("status", json!("in_progress")), "IN_PROGRESS");
        assert_eq!(sent("tags", json!(["Alpha", "b"])), "a;b");
        assert_eq!(sent("tags", json!("a; BETA ;gamma")), "a;b;c");
        assert_eq!(sent("tags", json!("a,b")), "a;b");
        assert_eq!(sent("tags", json!("a;a;A")), "a");
        // An option holds a comma: a comma doesn't split.
        assert_eq!(sent("places", json!("Paris, France")), "paris");
        assert_eq!(sent("places", json!("Paris, France;oslo")), "paris;oslo");
        let e = norm_with("status", json!("Hot"), false).unwrap_err();
        assert_eq!(e.code(), "invalid_option");
        assert!(
            e.to_string().contains("status: `aaa` (value masked) is not one of the property's options; accepted: an option's value or label in any case (NEW, IN_PROGRESS)"),
            "{e}"
        );
        assert!(norm("status", json!(["NEW"])).is_err(), "one option only");
        assert!(norm("tags", json!([{"a": 1}])).is_err());
    }

    proptest! {
        /// Any case and padding of a boolean word, or of an option label,
        /// is sent as the value HubSpot stores.
        #[test]
        fn boolean_spellings_round_trip(word in 0usize..12, upper in prop::collection::vec(any::<bool>(), 12), pad in "[ \t]{0,2}") {
            let words = ["true", "yes", "y", "on", "1", "subscribed", "false", "no", "n", "off", "0", "unsubscribed"];
            let spelled: String = words[word]
                .chars()
                .zip(&upper)
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            let want = if word < 6 { "true" } else { "false" };
            prop_assert_eq!(sent("optin", json!(format!("{pad}{spelled}{pad}"))), want);
        }

        /// Options chosen by value or label, in any case, with padding, as a
        /// list or `;`/`,`-separated text: their values, `;`-joined.
        #[test]
        fn option_spellings_round_trip(
            picks in prop::collection::vec((0usize..3, any::<bool>(), any::<bool>()), 1..4),
            sep in prop::sample::select(vec![";", ",", " ; ", "list"]),
        ) {
            let values = ["a", "b", "c"];
            let labels = ["Alpha", "Beta", "Gamma"];
            let spelled: Vec<String> = picks
                .iter()
                .map(|(i, label, upper)| {
                    let s = if *label { labels[*i] } else { values[*i] };
                    if *upper { s.to_uppercase() } else { s.to_lowercase() }
                })
                .collect();
            let mut want: Vec<&str> = Vec::new();
            for (i, _, _) in &picks {
                if !want.contains(&values[*i]) {
                    want.push(values[*i]);
                }
            }
            let value = if sep == "list" { json!(spelled) } else { json!(spelled.join(sep)) };
            prop_assert_eq!(sent("tags", value), want.join(";"));
        }

        /// A datetime written in any accepted way — `T` or space, fraction,
        /// `Z`, `±HH:MM`, `±HHMM` or no zone — arrives as HubSpot stores it.
        #[test]
        fn datetime_spellings_round_trip(
            days in 0i64..36_500,
            ms_of_day in 0i64..86_400_000,
            offset_min in -14i64 * 60..=14 * 60,
            style in 0usize..5,
            space in any::<bool>(),
        ) {
            let instant = days * 86_400_000 + ms_of_day;
            let want = jiff::Timestamp::from_millisecond(instant).unwrap();
            let want = format!("{want:.3}");
            let offset = jiff::tz::Offset::from_seconds((offset_min * 60) as i32).unwrap();
            let local = offset.to_datetime(jiff::Timestamp::from_millisecond(instant).unwrap());
            let sep = if space { " " } else { "T" };
            let clock = local.strftime(&format!("%Y-%m-%d{sep}%H:%M:%S%.3f")).to_string();
            let (h, m) = (offset_min.abs() / 60, offset_min.abs() % 60);
            let sign = if offset_min < 0 { '-' } else { '+' };
            let text = match style {
                0 => format!("{clock}{sign}{h:02}:{m:02}"),
                1 => format!("{clock}{sign}{h:02}{m:02}"),
                2 => want.clone(),
                3 if instant >= dates::SECONDS_BELOW => instant.to_string(),
                3 => format!("{}.{:03}", instant / 1000, instant % 1000),
                _ => {
                    let utc = jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::from_millisecond(instant).unwrap());
                    utc.strftime(&format!("%Y-%m-%d{sep}%H:%M:%S%.6f")).to_string()
                }
            };
            prop_assert_eq!(sent("seen", json!(text)), want);
        }

        /// A calendar date written alone, at midnight in any zone, or as
        /// epoch milliseconds of its midnight UTC, arrives as `YYYY-MM-DD`.
        #[test]
        fn date_spellings_round_trip(days in -3_650i64..36_500, style in 0usize..4) {
            let midnight = jiff::Timestamp::from_second(days * 86_400).unwrap();
            let day = jiff::tz::Offset::UTC.to_datetime(midnight).date().to_string();
            let text = match style {
                0 => day.clone(),
                1 => format!("{day}T00:00:00+05:30"),
                2 => format!("{day} 00:00:00.000"),
                _ => (days * 86_400_000).to_string(),
            };
            let value = if style == 3 && days * 86_400_000 < dates::SECONDS_BELOW && days != 0 {
                json!(format!("{}.0", days * 86_400)) // seconds, below 10^11 ms
            } else {
                json!(text)
            };
            prop_assert_eq!(sent("renewal", value), day);
        }
    }
}
