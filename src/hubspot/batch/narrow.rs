//! Narrowing a batch HubSpot refused as a whole (400): what its answer
//! names sorts the inputs into certain culprits (rejected at once), suspects
//! (resent together) and the rest (resent together, expected to pass), so a
//! bad record costs about one extra call instead of a bisection. For the
//! admin write rules of 2026-09, one batch read settles which inputs lacking
//! a required property would create a contact (and so certainly fail).

use std::collections::HashSet;

use serde_json::Value;

use super::read::{property, read_by};
use super::{Input, Mode};
use crate::hubspot::client::Client;
use crate::hubspot::errors::{
    property_problems, strings, HubSpotError, PropertyProblem, RejectReason, RuleViolation,
};

/// How a refused group splits.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Narrowed {
    /// Inputs that certainly caused the refusal, with their reason.
    pub guilty: Vec<(usize, RejectReason)>,
    /// Inputs that may have caused it.
    pub suspects: Vec<usize>,
    /// Inputs the message clears.
    pub rest: Vec<usize>,
}

/// Splits a group refused as a whole using the property problems HubSpot's
/// message lists ("Property values were not valid: [...]").
pub(super) fn by_property_problems(inputs: &[Input], group: &[usize], body: &Value) -> Narrowed {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let problems = property_problems(message);
    if problems.is_empty() {
        return Narrowed {
            rest: group.to_vec(),
            ..Narrowed::default()
        };
    }
    let certain = |i: usize, p: &PropertyProblem| {
        value_of(&inputs[i], &p.name).is_some_and(|v| {
            matches!(p.code.as_str(), "PROPERTY_DOESNT_EXIST" | "READ_ONLY_VALUE")
                || quotes(&p.message, v)
        })
    };
    // A problem that names its input certainly clears the others of it
    // (HubSpot details only the first bad input; a resend finds the next).
    let pinned: Vec<bool> = problems
        .iter()
        .map(|p| group.iter().any(|&i| certain(i, p)))
        .collect();
    let mut out = Narrowed::default();
    for &i in group {
        if let Some(p) = problems.iter().find(|p| certain(i, p)) {
            out.guilty.push((i, p.reason()));
        } else if problems
            .iter()
            .zip(&pinned)
            .any(|(p, &pinned)| !pinned && value_of(&inputs[i], &p.name).is_some())
        {
            out.suspects.push(i);
        } else {
            out.rest.push(i);
        }
    }
    out
}

/// Splits a group refused for admin write rules. An input the answer names
/// (by `objectWriteTraceId`, id, or an email its messages quote) is a
/// certain culprit. An input that sends every property the rules name (non
/// empty) is cleared. One lacking a property required on the create form
/// fails only if the upsert creates its contact: returned apart, with its
/// reason, for a read to decide (unless a read already found it). One
/// lacking a conditionally required property stays a suspect: the rule may
/// hinge on values HubSpot holds, not ones we send.
pub(super) fn by_rules(
    mode: Mode<'_>,
    inputs: &[Input],
    group: &[usize],
    body: &Value,
    rules: &[RuleViolation],
    exists: &[Option<bool>],
) -> (Narrowed, Vec<(usize, RejectReason)>) {
    let named = named_inputs(mode, inputs, group, body);
    let mut out = Narrowed::default();
    let mut to_read = Vec::new();
    for &i in group {
        let lacked = rules
            .iter()
            .find(|r| value_of(&inputs[i], &r.property).is_none_or(|v| v.trim().is_empty()));
        if named.contains(&i) {
            out.guilty.push((i, lacked.unwrap_or(&rules[0]).reason()));
            continue;
        }
        match lacked {
            None => out.rest.push(i),
            Some(r) if r.conditional || mode.by.is_none() => out.suspects.push(i),
            Some(_) if exists[i] == Some(true) => out.rest.push(i),
            Some(r) => to_read.push((i, r.reason())),
        }
    }
    (out, to_read)
}

/// The inputs of `group` a refusal names: in `context.objectWriteTraceId`
/// (our index), in `context.ids`, or (for upserts) quoted by email in its
/// messages.
fn named_inputs(mode: Mode<'_>, inputs: &[Input], group: &[usize], body: &Value) -> Vec<usize> {
    let context = |key: &str| strings(body.pointer(&format!("/context/{key}")));
    let traces = context("objectWriteTraceId");
    let ids = context("ids");
    let mut messages: Vec<&str> = body
        .get("message")
        .and_then(Value::as_str)
        .into_iter()
        .collect();
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        messages.extend(e.get("message").and_then(Value::as_str));
    }
    group
        .iter()
        .copied()
        .filter(|&i| {
            let id = inputs[i].id;
            traces.contains(&i.to_string())
                || ids.iter().any(|x| x.eq_ignore_ascii_case(id))
                || (mode.by.is_some() && messages.iter().any(|m| quotes(m, id)))
        })
        .collect()
}

/// Which of `keys` belong to an existing record (for contacts by email, as
/// its email or a secondary one, lower-cased); `None` when HubSpot refused
/// the read.
pub(super) fn existing(
    client: &Client,
    mode: Mode,
    keys: &[&str],
) -> Result<Option<HashSet<String>>, HubSpotError> {
    let names: &[&str] = match mode.by {
        Some("email") => &["email", "hs_additional_emails"],
        Some(by) => &[by],
        None => &["hs_object_id"],
    };
    let Some(records) = read_by(client, mode, keys, names)? else {
        return Ok(None);
    };
    let found = records
        .iter()
        .flat_map(|c| names.iter().map(|name| property(c, name)))
        .flat_map(|value| value.split(';'))
        .map(|e| {
            if mode.by_email() {
                e.trim().to_lowercase()
            } else {
                e.to_string()
            }
        })
        .filter(|e| !e.is_empty())
        .collect();
    Ok(Some(found))
}

/// The value an input sends for property `name`, if any.
fn value_of<'a>(input: &Input<'a>, name: &str) -> Option<&'a str> {
    if name == "email" && !input.properties.contains_key("email") {
        Some(input.id)
    } else if name == "lifecyclestage" && input.stage.is_some() {
        input.stage
    } else {
        input.properties.get(name).map(String::as_str)
    }
}

/// Whether `message` quotes `value` as a whole token (not inside a longer word).
fn quotes(message: &str, value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    let lower = message.to_lowercase();
    let value = value.to_lowercase();
    // Characters that continue an email-like token; a '.' right after the
    // value may end a sentence ("… is invalid."), not a longer address.
    let word = |c: char| c.is_alphanumeric() || matches!(c, '.' | '@' | '_' | '-' | '+');
    lower.match_indices(&value).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let mut after = lower[at + value.len()..].chars();
        let ends = match after.next() {
            Some('.') => after.next().is_none_or(|c| !word(c)),
            next => next.is_none_or(|c| !word(c)),
        };
        before.is_none_or(|c| !word(c)) && ends
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input, EMAIL};
    use super::*;
    use serde_json::json;

    #[test]
    fn narrow_rejects_the_quoted_email_and_keeps_the_rest() {
        let inputs = vec![
            input("ok@x.io", &[]),
            input("bcooper@example.con", &[]),
            input("fine@y.io", &[]),
        ];
        let body = json!({"message": "Property values were not valid: [{\"isValid\":false,\"message\":\"Email address bcooper@example.con is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]"});
        let n = by_property_problems(&inputs, &[0, 1, 2], &body);
        assert_eq!(n.guilty, vec![(1, RejectReason::InvalidEmail)]);
        assert!(n.suspects.is_empty());
        assert_eq!(n.rest, vec![0, 2]);
    }

    #[test]
    fn narrow_rejects_every_input_with_an_unknown_property() {
        let inputs = vec![
            input("a@x.io", &[("shoe", "9")]),
            input("b@x.io", &[]),
            input("c@x.io", &[("shoe", "")]),
        ];
        let body = json!({"message": "Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"shoe\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"shoe\"}]"});
        let n = by_property_problems(&inputs, &[0, 1, 2], &body);
        assert_eq!(n.guilty.iter().map(|g| g.0).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(n.rest, vec![1]);
    }

    #[test]
    fn narrow_without_details_keeps_everything_for_bisection() {
        let inputs = vec![input("a@x.io", &[]), input("b@x.io", &[])];
        let n = by_property_problems(&inputs, &[0, 1], &json!({"message": "Duplicate IDs found"}));
        assert!(n.guilty.is_empty() && n.suspects.is_empty());
        assert_eq!(n.rest, vec![0, 1]);
    }

    fn rules(body: &Value) -> Vec<RuleViolation> {
        crate::hubspot::errors::rule_violations(body)
    }

    /// HubSpot's whole-batch answer when a create lacks `firstname`.
    fn missing_firstname(context: Value) -> Value {
        json!({"status": "error", "category": "VALIDATION_ERROR",
            "message": "The property values provided are invalid", "context": context,
            "errors": [{"code": "MISSING_REQUIRED_PROPERTY", "message": "A value for firstname must be provided",
                "context": {"propertyName": ["firstname"]}}]})
    }

    #[test]
    fn inputs_sending_the_required_property_are_cleared_and_the_rest_need_a_read() {
        let inputs = vec![
            input("a@x.io", &[("firstname", "Ann")]),
            input("b@x.io", &[]),
            input("c@x.io", &[("firstname", " ")]),
            input("d@x.io", &[("lastname", "Doe")]),
        ];
        let body = missing_firstname(json!({}));
        let exists = [None, None, None, Some(true)];
        let (n, to_read) = by_rules(EMAIL, &inputs, &[0, 1, 2, 3], &body, &rules(&body), &exists);
        assert!(n.guilty.is_empty() && n.suspects.is_empty());
        // d lacks it too, but a read already found its contact: an update.
        assert_eq!(n.rest, vec![0, 3]);
        assert_eq!(to_read.iter().map(|t| t.0).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(to_read[0].1.code(), "missing_required_property");
    }

    #[test]
    fn the_input_a_refusal_names_is_a_certain_culprit() {
        let inputs = vec![
            input("a@x.io", &[("firstname", "Ann")]),
            input("b@x.io", &[]),
            input("c@x.io", &[]),
        ];
        for context in [
            json!({"objectWriteTraceId": ["1"]}),
            json!({"ids": ["B@x.io"]}),
        ] {
            let body = missing_firstname(context);
            let (n, to_read) =
                by_rules(EMAIL, &inputs, &[0, 1, 2], &body, &rules(&body), &[None; 3]);
            assert_eq!(n.guilty.len(), 1, "{body}");
            assert_eq!(n.guilty[0].0, 1);
            assert_eq!(
                n.guilty[0].1.to_string(),
                "HubSpot account rule: firstname is required when creating a contact (set in HubSpot by an admin)"
            );
            assert_eq!(n.rest, vec![0]);
            assert_eq!(to_read.iter().map(|t| t.0).collect::<Vec<_>>(), vec![2]);
        }
    }

    #[test]
    fn a_conditional_rule_leaves_inputs_lacking_the_property_suspect() {
        let inputs = vec![
            input("a@x.io", &[("state", "MA")]),
            input("b@x.io", &[("country", "United States")]),
            input("c@x.io", &[]),
        ];
        let body = json!({"errors": [{"code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
            "message": "state is required because of a conditional property rule based on [country]",
            "context": {"propertyName": ["state"]}}]});
        let (n, to_read) = by_rules(EMAIL, &inputs, &[0, 1, 2], &body, &rules(&body), &[None; 3]);
        assert!(n.guilty.is_empty() && to_read.is_empty());
        assert_eq!(n.suspects, vec![1, 2]);
        assert_eq!(n.rest, vec![0]);
    }

    #[test]
    fn quotes_matches_whole_tokens_only() {
        assert!(quotes(
            "Email address bcooper@example.con is invalid",
            "bcooper@example.con"
        ));
        assert!(!quotes(
            "Email address xbcooper@example.con is invalid",
            "bcooper@example.con"
        ));
        assert!(quotes(
            "\"puce\" was not one of the allowed options",
            "puce"
        ));
        assert!(!quotes("anything", ""));
    }

    #[test]
    fn quotes_matches_whole_addresses_only() {
        assert!(quotes("Email address a@x.co is invalid", "a@x.co"));
        assert!(quotes("Email address is invalid: a@x.co.", "A@x.co"));
        assert!(!quotes("Email address a@x.co.uk is invalid", "a@x.co"));
        assert!(!quotes("Email address ba@x.co is invalid", "a@x.co"));
        assert!(!quotes("Email address x.a@x.co is invalid", "a@x.co"));
        assert!(!quotes("anything", ""));
    }
}
