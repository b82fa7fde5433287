//! Narrowing a batch HubSpot refused as a whole (400): what its message
//! names sorts the inputs into certain culprits (rejected at once), suspects
//! (resent together) and the rest (resent together, expected to pass), so a
//! bad record costs about one extra call instead of a bisection.

use serde_json::Value;

use super::Input;
use crate::hubspot::errors::{property_problems, PropertyProblem, RejectReason};

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

/// The value an input sends for property `name`, if any.
fn value_of<'a>(input: &Input<'a>, name: &str) -> Option<&'a str> {
    if name == "email" {
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
    use super::super::testing::input;
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
