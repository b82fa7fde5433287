//! Reading a 2xx batch answer: each result is tied to its input (by
//! `objectWriteTraceId`, else by email or id), and each per-input error of a
//! 207 becomes that input's rejection. Errors that name no input leave their
//! inputs unknown, for the write loop to resend.

use serde_json::Value;

use super::{Input, Mode, Written};
use crate::hubspot::errors::{reason_from_body, strings, truncate, RejectReason};

/// Reads a 2xx body: marks results and per-input errors. Returns the inputs
/// still unknown when some error could not be attributed.
pub(super) fn apply_results(
    mode: Mode<'_>,
    inputs: &[Input],
    group: &[usize],
    body: &Value,
    results: &mut [Option<Written>],
) -> Vec<usize> {
    let unattributed = apply_errors(group, body, results);
    for r in body
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = r.get("id").and_then(Value::as_str).map(str::to_string);
        let created = r.get("new").and_then(Value::as_bool).unwrap_or(false);
        let key = match mode.by {
            Some(by) => r
                .get("properties")
                .and_then(|p| p.get(by))
                .and_then(Value::as_str)
                .map(str::to_string),
            None => id.clone(),
        };
        let by_trace = r
            .get("objectWriteTraceId")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<usize>().ok());
        let index = by_trace.filter(|t| group.contains(t)).or_else(|| {
            let key = key?;
            group
                .iter()
                .copied()
                .find(|&i| mode.same_key(inputs[i].id, &key))
        });
        if let Some(i) = index {
            if results[i].is_none() {
                results[i] = Some(Written::Ok { id, created });
            }
        }
    }
    if unattributed {
        // Those already settled stay; the rest must be resent to learn their fate.
        let unknown: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&i| results[i].is_none())
            .collect();
        return unknown;
    }
    for &i in group {
        if results[i].is_none() {
            results[i] = Some(Written::Ok {
                id: None,
                created: false,
            });
        }
    }
    Vec::new()
}

/// Rejects the inputs a 207's `errors[]` name; true when some error named
/// no input of `group`.
fn apply_errors(group: &[usize], body: &Value, results: &mut [Option<Written>]) -> bool {
    let mut unattributed = false;
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ids: Vec<usize> = error_trace_ids(e)
            .into_iter()
            .filter_map(|t| t.parse::<usize>().ok())
            .filter(|t| group.contains(t))
            .collect();
        if ids.is_empty() {
            unattributed = true;
            continue;
        }
        let reason = error_reason(e);
        for i in ids {
            results[i] = Some(Written::Rejected(reason.clone()));
        }
    }
    unattributed
}

/// The reason one per-input error of a 207 gives: an admin rule or a
/// property problem it details, else its category and message.
fn error_reason(e: &Value) -> RejectReason {
    let category = e
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match reason_from_body(e) {
        RejectReason::HubSpotValidation(_) if !category.is_empty() => {
            let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
            RejectReason::HubSpotValidation(truncate(&format!("{category}: {message}"), 300))
        }
        reason => reason,
    }
}

/// The trace ids an error names: `objectWriteTraceId` at the top or in its
/// context (a string or a list).
fn error_trace_ids(e: &Value) -> Vec<String> {
    let mut out = strings(e.get("objectWriteTraceId"));
    out.extend(strings(e.pointer("/context/objectWriteTraceId")));
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input, EMAIL};
    use super::*;
    use serde_json::json;

    #[test]
    fn multi_status_errors_map_to_their_inputs() {
        let inputs = vec![
            input("a@x.io", &[]),
            input("b@x.io", &[("color", "puce")]),
            input("c@x.io", &[]),
        ];
        let body = json!({
            "status": "COMPLETE",
            "results": [{"id": "1", "properties": {"email": "a@x.io"}, "new": true}],
            "numErrors": 1,
            "errors": [{"status": "error", "category": "VALIDATION_ERROR",
                "message": "Property values were not valid: [{\"isValid\":false,\"message\":\"puce was not one of the allowed options\",\"error\":\"INVALID_OPTION\",\"name\":\"color\"}]",
                "context": {"objectWriteTraceId": ["1"]}}]
        });
        let mut results = vec![None; 3];
        let unknown = apply_results(EMAIL, &inputs, &[0, 1, 2], &body, &mut results);
        assert!(unknown.is_empty());
        assert_eq!(
            results[0],
            Some(Written::Ok {
                id: Some("1".into()),
                created: true
            })
        );
        assert!(matches!(
            results[1],
            Some(Written::Rejected(RejectReason::InvalidOption(_)))
        ));
        assert_eq!(
            results[2],
            Some(Written::Ok {
                id: None,
                created: false
            })
        );
    }

    #[test]
    fn a_multi_status_rule_error_rejects_its_input_naming_the_property() {
        let inputs = vec![input("a@x.io", &[("firstname", "A")]), input("b@x.io", &[])];
        let body = json!({
            "status": "COMPLETE",
            "results": [{"id": "1", "properties": {"email": "a@x.io"}, "new": true, "objectWriteTraceId": "0"}],
            "numErrors": 1,
            "errors": [{"status": "error", "category": "VALIDATION_ERROR",
                "message": "The property values provided are invalid",
                "context": {"objectWriteTraceId": ["1"], "propertyName": ["firstname"]},
                "errors": [{"code": "MISSING_REQUIRED_PROPERTY", "message": "A value for firstname must be provided",
                    "context": {"propertyName": ["firstname"]}}],
                "objectWriteTraceId": "1"}]
        });
        let mut results = vec![None; 2];
        assert!(apply_results(EMAIL, &inputs, &[0, 1], &body, &mut results).is_empty());
        assert!(matches!(
            results[0],
            Some(Written::Ok { created: true, .. })
        ));
        assert_eq!(
            results[1],
            Some(Written::Rejected(RejectReason::MissingRequiredProperty {
                property: "firstname".into(),
                why: "when creating a contact".into()
            }))
        );
    }

    #[test]
    fn unattributed_errors_leave_inputs_unknown() {
        let inputs = vec![input("a@x.io", &[]), input("b@x.io", &[])];
        let body = json!({"results": [{"id": "1", "properties": {"email": "a@x.io"}}], "errors": [{"message": "boom"}]});
        let mut results = vec![None; 2];
        assert_eq!(
            apply_results(EMAIL, &inputs, &[0, 1], &body, &mut results),
            vec![1]
        );
    }
}
