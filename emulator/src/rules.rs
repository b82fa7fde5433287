//! Admin write-validation rules, which HubSpot enforces on `2026-09` write
//! paths only: properties required on the *Create record* form, and
//! conditionally required properties. Pure functions over a record's
//! resulting values; which paths enforce them and how a violation is
//! answered is the endpoints' business.

use crate::options::Options;
use crate::schema::Schema;
use std::collections::BTreeMap;

/// One broken rule for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// `MISSING_REQUIRED_PROPERTY` or `MISSING_CONDITIONAL_REQUIRED_PROPERTY`.
    pub code: &'static str,
    /// The property that needed a value.
    pub property: String,
    /// HubSpot's wording.
    pub message: String,
}

/// The rules `changes` break when applied to `existing` (`None`: the write
/// creates the record). A rule applies to an object type only if its schema
/// defines every property the rule names.
///
/// - Required on create: each property must have a non-empty value in a
///   created record; updates of existing records are not checked.
/// - Conditionally required: `property` must have a non-empty value whenever
///   `if_property` equals `value` in the resulting record — on creates and
///   updates alike.
pub(crate) fn violations(
    opts: &Options,
    schema: &Schema,
    existing: Option<&BTreeMap<String, String>>,
    changes: &[(String, String)],
) -> Vec<Violation> {
    let value = |name: &str| -> Option<&str> {
        let changed = changes.iter().rev().find(|(k, _)| k == name);
        match changed {
            Some((_, v)) => Some(v.as_str()),
            None => existing.and_then(|p| p.get(name)).map(String::as_str),
        }
        .filter(|v| !v.trim().is_empty())
    };
    let defined = |name: &str| schema.get(name).is_some();
    let mut out = Vec::new();
    if existing.is_none() {
        for p in &opts.required_on_create {
            if defined(p) && value(p).is_none() && !out.iter().any(|v: &Violation| v.property == *p)
            {
                out.push(Violation {
                    code: "MISSING_REQUIRED_PROPERTY",
                    property: p.clone(),
                    message: format!("A value for {p} must be provided"),
                });
            }
        }
    }
    for r in &opts.conditional_required {
        let applies = defined(&r.property)
            && defined(&r.if_property)
            && value(&r.if_property) == Some(r.equals.as_str());
        if applies && value(&r.property).is_none() && !out.iter().any(|v| v.property == r.property)
        {
            out.push(Violation {
                code: "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
                property: r.property.clone(),
                message: format!(
                    "{} is required because of a conditional property rule based on [{}]",
                    r.property, r.if_property
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ConditionalRule;
    use crate::schema::ObjectType;

    fn opts() -> Options {
        Options {
            required_on_create: vec!["firstname".into(), "lastname".into()],
            conditional_required: vec!["state:country=United States".parse().unwrap()],
            ..Options::default()
        }
    }

    fn contacts() -> Schema {
        Schema::builtin(ObjectType::Contacts, &[])
    }

    fn ch(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn codes(v: &[Violation]) -> Vec<(&str, &str)> {
        v.iter().map(|v| (v.code, v.property.as_str())).collect()
    }

    #[test]
    fn a_create_needs_every_required_property_non_empty() {
        let v = violations(
            &opts(),
            &contacts(),
            None,
            &ch(&[("firstname", "Ann"), ("lastname", " ")]),
        );
        assert_eq!(codes(&v), [("MISSING_REQUIRED_PROPERTY", "lastname")]);
        assert_eq!(v[0].message, "A value for lastname must be provided");
        let ok = ch(&[("firstname", "Ann"), ("lastname", "Lee")]);
        assert!(violations(&opts(), &contacts(), None, &ok).is_empty());
    }

    #[test]
    fn updates_are_not_held_to_required_on_create() {
        let existing = BTreeMap::from([("email".to_string(), "a@x.com".to_string())]);
        let v = violations(
            &opts(),
            &contacts(),
            Some(&existing),
            &ch(&[("firstname", "")]),
        );
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn conditional_rules_read_the_resulting_record() {
        let o = opts();
        let c = contacts();
        let us = BTreeMap::from([("country".to_string(), "United States".to_string())]);
        let v = violations(&o, &c, Some(&us), &ch(&[("city", "Boston")]));
        assert_eq!(
            codes(&v),
            [("MISSING_CONDITIONAL_REQUIRED_PROPERTY", "state")]
        );
        assert_eq!(
            v[0].message,
            "state is required because of a conditional property rule based on [country]"
        );
        assert!(violations(&o, &c, Some(&us), &ch(&[("state", "MA")])).is_empty());
        assert!(violations(&o, &c, Some(&us), &ch(&[("country", "Canada")])).is_empty());
        let to_us = ch(&[
            ("firstname", "A"),
            ("lastname", "B"),
            ("country", "United States"),
        ]);
        assert_eq!(violations(&o, &c, None, &to_us).len(), 1);
    }

    #[test]
    fn rules_skip_types_without_the_property() {
        let companies = Schema::builtin(ObjectType::Companies, &[]);
        let mut o = opts();
        o.conditional_required.push(ConditionalRule::new(
            "numberofemployees",
            "industry",
            "RETAIL",
        ));
        assert!(violations(&o, &companies, None, &ch(&[("name", "Acme")])).is_empty());
        let retail = ch(&[("industry", "RETAIL")]);
        let v = violations(&o, &companies, None, &retail);
        assert_eq!(
            codes(&v),
            [("MISSING_CONDITIONAL_REQUIRED_PROPERTY", "numberofemployees")]
        );
    }
}
