//! Writing one batch of contacts so that every input ends written or
//! rejected with its own reason: per-input errors of a 207 are mapped back by
//! `objectWriteTraceId`; a whole-batch 400/409 is narrowed down to the guilty
//! inputs (first by what HubSpot's message names, then by halves); a single
//! input's 409 "Existing ID" conflict becomes an update of that contact.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::client::{Client, Outcome};
use super::errors::{
    property_problems, reason_from_body, truncate, HubSpotError, PropertyProblem, RejectReason,
};

/// Upsert by email, or update by record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    UpsertByEmail,
    UpdateById,
}

/// Property values of one write, by property name.
pub type Values = BTreeMap<String, String>;

/// One input of a batch, borrowed from the write it sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input<'a> {
    /// The email (upsert) or the record id (update).
    pub id: &'a str,
    pub properties: &'a Values,
    /// A lifecycle stage sent along with the properties ("" clears it).
    pub stage: Option<&'a str>,
}

/// What became of one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// Written; `id` is HubSpot's record id when the answer named it,
    /// `created` whether the contact is new.
    Ok {
        id: Option<String>,
        created: bool,
    },
    Rejected(RejectReason),
}

/// Writes `inputs` (at most 100) and returns one result per input, in order.
/// An `Err` is fatal for the sync (auth, retries exhausted, quota).
pub fn write(client: &Client, mode: Mode, inputs: &[Input]) -> Result<Vec<Written>, HubSpotError> {
    let mut results: Vec<Option<Written>> = vec![None; inputs.len()];
    let mut pending: Vec<Vec<usize>> = vec![(0..inputs.len()).collect()];
    while let Some(group) = pending.pop() {
        if group.is_empty() {
            continue;
        }
        let body = encode(mode, inputs, &group);
        let path = match mode {
            Mode::UpsertByEmail => "/crm/v3/objects/contacts/batch/upsert",
            Mode::UpdateById => "/crm/v3/objects/contacts/batch/update",
        };
        match client.post(path, &body)? {
            Outcome::Done(answer) => {
                let unmapped = apply_results(mode, inputs, &group, &answer.json(), &mut results);
                if !unmapped.is_empty() {
                    // Errors we could not tie to inputs: resend those inputs in
                    // halves (an upsert by email is idempotent) until each is known.
                    let why = RejectReason::HubSpotValidation(
                        "unattributed error in a multi-status answer".into(),
                    );
                    split_into(&mut pending, unmapped, &mut results, why);
                }
            }
            Outcome::Invalid(answer, reason) => {
                let body = answer.json();
                if group.len() == 1 {
                    let i = group[0];
                    results[i] = Some(resolve_single(
                        client,
                        mode,
                        &inputs[i],
                        answer.status,
                        &body,
                        reason,
                    )?);
                    continue;
                }
                let (guilty, suspects, rest) = narrow(inputs, &group, &body);
                let guilty_none = guilty.is_empty();
                for (i, why) in guilty {
                    results[i] = Some(Written::Rejected(why));
                }
                let stuck = suspects.len() == group.len() || rest.len() == group.len();
                if guilty_none && stuck {
                    split_into(&mut pending, group, &mut results, reason);
                } else {
                    pending.push(suspects);
                    pending.push(rest);
                }
            }
        }
    }
    Ok(results
        .into_iter()
        .map(|r| {
            r.unwrap_or(Written::Ok {
                id: None,
                created: false,
            })
        })
        .collect())
}

/// Pushes the two halves of `group` to be resent; a single input can't be
/// narrowed further and is rejected with `reason`.
fn split_into(
    pending: &mut Vec<Vec<usize>>,
    group: Vec<usize>,
    results: &mut [Option<Written>],
    reason: RejectReason,
) {
    if let [only] = group[..] {
        results[only] = Some(Written::Rejected(reason));
        return;
    }
    let mid = group.len().div_ceil(2);
    let (a, b) = group.split_at(mid);
    pending.push(b.to_vec());
    pending.push(a.to_vec());
}

/// Reads a 2xx body: marks results and per-input errors. Returns the inputs
/// still unknown when some error could not be attributed.
fn apply_results(
    mode: Mode,
    inputs: &[Input],
    group: &[usize],
    body: &Value,
    results: &mut [Option<Written>],
) -> Vec<usize> {
    let mut unattributed = false;
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match error_trace_ids(e)
            .into_iter()
            .filter_map(|t| t.parse::<usize>().ok())
            .filter(|t| group.contains(t))
            .collect::<Vec<_>>()
        {
            ids if ids.is_empty() => unattributed = true,
            ids => {
                let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
                let reason = match property_problems(message).first() {
                    Some(p) => p.reason(),
                    None => {
                        let code = e
                            .get("category")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let full = reason_from_body(e);
                        if code.is_empty() {
                            full
                        } else {
                            RejectReason::HubSpotValidation(truncate(
                                &format!("{code}: {message}"),
                                300,
                            ))
                        }
                    }
                };
                for i in ids {
                    results[i] = Some(Written::Rejected(reason.clone()));
                }
            }
        }
    }
    for r in body
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = r.get("id").and_then(Value::as_str).map(str::to_string);
        let created = r.get("new").and_then(Value::as_bool).unwrap_or(false);
        let key = match mode {
            Mode::UpsertByEmail => r
                .pointer("/properties/email")
                .and_then(Value::as_str)
                .map(str::to_lowercase),
            Mode::UpdateById => id.clone(),
        };
        let by_trace = r
            .get("objectWriteTraceId")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<usize>().ok());
        let index = by_trace.filter(|t| group.contains(t)).or_else(|| {
            let key = key?;
            group.iter().copied().find(|&i| inputs[i].id == key)
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

/// The trace ids an error names: `objectWriteTraceId` at the top or in its
/// context (a string or a list).
fn error_trace_ids(e: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for v in [
        e.get("objectWriteTraceId"),
        e.pointer("/context/objectWriteTraceId"),
    ]
    .into_iter()
    .flatten()
    {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
            Value::Number(n) => out.push(n.to_string()),
            _ => {}
        }
    }
    out
}

/// Splits a group refused as a whole using what HubSpot's message names:
/// inputs that certainly caused it (rejected now), inputs that may have
/// (resent on their own), and the rest (resent together, expected to pass).
#[allow(clippy::type_complexity)]
fn narrow(
    inputs: &[Input],
    group: &[usize],
    body: &Value,
) -> (Vec<(usize, RejectReason)>, Vec<usize>, Vec<usize>) {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let problems = property_problems(message);
    let value_of = |i: usize, name: &str| -> Option<&str> {
        if name == "email" {
            Some(inputs[i].id)
        } else if name == "lifecyclestage" && inputs[i].stage.is_some() {
            inputs[i].stage
        } else {
            inputs[i].properties.get(name).map(String::as_str)
        }
    };
    let certain = |i: usize, p: &PropertyProblem| {
        value_of(i, &p.name).is_some_and(|v| {
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
    let mut guilty = Vec::new();
    let mut suspects = Vec::new();
    let mut rest = Vec::new();
    for &i in group {
        if let Some(p) = problems.iter().find(|p| certain(i, p)) {
            guilty.push((i, p.reason()));
        } else if problems
            .iter()
            .zip(&pinned)
            .any(|(p, &pinned)| !pinned && value_of(i, &p.name).is_some())
        {
            suspects.push(i);
        } else {
            rest.push(i);
        }
    }
    if problems.is_empty() {
        return (Vec::new(), Vec::new(), group.to_vec());
    }
    (guilty, suspects, rest)
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

/// The last step for one input HubSpot refused. A 409 "… Existing ID: N"
/// is resolved by updating contact N only when N is provably this contact
/// (its email or one of its secondary emails is ours); when N merely owns
/// a unique value this record also claims, updating N would overwrite
/// another person, so the record is rejected as a conflict.
fn resolve_single(
    client: &Client,
    mode: Mode,
    input: &Input,
    status: u16,
    body: &Value,
    reason: RejectReason,
) -> Result<Written, HubSpotError> {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if status != 409 || mode != Mode::UpsertByEmail {
        return Ok(Written::Rejected(reason));
    }
    let Some(id) = existing_id(message) else {
        return Ok(Written::Rejected(reason));
    };
    let conflict = || Written::Rejected(RejectReason::Conflict(truncate(message, 300)));
    let path = format!("/crm/v3/objects/contacts/{id}?properties=email,hs_additional_emails");
    let owner = match client.get(&path)? {
        Outcome::Done(answer) => answer.json(),
        Outcome::Invalid(..) => return Ok(conflict()),
    };
    if !same_person(&owner, input.id) {
        return Ok(conflict());
    }
    let mut properties = input.properties.clone();
    properties.remove("email");
    let update = Input {
        id: &id,
        properties: &properties,
        stage: input.stage,
    };
    let result = write(client, Mode::UpdateById, std::slice::from_ref(&update))?;
    Ok(match result.into_iter().next() {
        Some(Written::Ok { created, .. }) => Written::Ok {
            id: Some(id),
            created,
        },
        Some(rejected) => rejected,
        None => Written::Rejected(reason),
    })
}

/// Whether a contact (as HubSpot returns it) has `email` as its email or
/// among its secondary emails.
fn same_person(contact: &Value, email: &str) -> bool {
    if email.is_empty() {
        return false;
    }
    let field = |name: &str| {
        contact
            .pointer(&format!("/properties/{name}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let primary = field("email");
    let secondary = field("hs_additional_emails");
    std::iter::once(primary.as_str())
        .chain(secondary.split(';'))
        .any(|e| e.trim().eq_ignore_ascii_case(email))
}

/// The id in HubSpot's "… already exists. Existing ID: 123" message.
pub fn existing_id(message: &str) -> Option<String> {
    let at = message.find("Existing ID:")? + "Existing ID:".len();
    let digits: String = message[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

/// Serialises the inputs of `group` with their batch index as trace id.
fn encode(mode: Mode, inputs: &[Input], group: &[usize]) -> Vec<u8> {
    let body = Body {
        inputs: group
            .iter()
            .map(|&i| Wire {
                id: inputs[i].id,
                id_property: (mode == Mode::UpsertByEmail).then_some("email"),
                properties: WireProperties(&inputs[i]),
                // HubSpot echoes it in per-input errors.
                object_write_trace_id: i.to_string(),
            })
            .collect(),
    };
    serde_json::to_vec(&body).expect("a batch body is plain strings")
}

/// A batch request body.
#[derive(Serialize)]
struct Body<'a> {
    inputs: Vec<Wire<'a>>,
}

/// One input as HubSpot reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_property: Option<&'static str>,
    properties: WireProperties<'a>,
    object_write_trace_id: String,
}

/// An input's properties, its lifecycle stage among them.
struct WireProperties<'a>(&'a Input<'a>);

impl Serialize for WireProperties<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Input {
            properties, stage, ..
        } = self.0;
        let values = properties.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        s.collect_map(values.chain(stage.map(|v| ("lifecyclestage", v))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An input owning its text for the test's length (leaked: tests only).
    fn input(email: &str, props: &[(&str, &str)]) -> Input<'static> {
        let properties: Values = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Input {
            id: Box::leak(email.into()),
            properties: Box::leak(Box::new(properties)),
            stage: None,
        }
    }

    #[test]
    fn encode_carries_trace_ids_and_id_property() {
        let inputs = vec![input("a@x.io", &[("firstname", "A")]), input("b@x.io", &[])];
        let v: Value =
            serde_json::from_slice(&encode(Mode::UpsertByEmail, &inputs, &[1, 0])).unwrap();
        assert_eq!(
            v,
            json!({"inputs": [
                {"id": "b@x.io", "idProperty": "email", "properties": {}, "objectWriteTraceId": "1"},
                {"id": "a@x.io", "idProperty": "email", "properties": {"firstname": "A"}, "objectWriteTraceId": "0"}
            ]})
        );
    }

    #[test]
    fn encode_sends_a_stage_with_the_properties_or_alone() {
        let mut inputs = vec![input("a@x.io", &[("firstname", "A")]), input("1", &[])];
        inputs[0].stage = Some("lead");
        inputs[1].stage = Some("");
        let v: Value =
            serde_json::from_slice(&encode(Mode::UpsertByEmail, &inputs, &[0, 1])).unwrap();
        assert_eq!(
            v["inputs"][0]["properties"],
            json!({"firstname": "A", "lifecyclestage": "lead"})
        );
        assert_eq!(v["inputs"][1]["properties"], json!({"lifecyclestage": ""}));
    }

    #[test]
    fn encode_escapes_every_string_json_needs_escaped() {
        let mut tricky: String = (0u8..0x80).map(char::from).collect();
        tricky.push_str("é漢字🙂\u{2028}\"\\end");
        let inputs = vec![
            input(
                &tricky,
                &[(tricky.as_str(), tricky.as_str()), ("plain", "text")],
            ),
            input("", &[("empty", "")]),
        ];
        let group: Vec<usize> = (0..12).map(|n| n % 2).collect();
        let v: Value = serde_json::from_slice(&encode(Mode::UpdateById, &inputs, &group)).unwrap();
        let first = &v["inputs"][0];
        assert_eq!(first["id"], tricky.as_str());
        assert_eq!(first["properties"][tricky.as_str()], tricky.as_str());
        assert_eq!(first["properties"]["plain"], "text");
        assert!(first.get("idProperty").is_none());
        assert_eq!(v["inputs"][11]["objectWriteTraceId"], "1");
        assert_eq!(v["inputs"][10]["objectWriteTraceId"], "0");
        assert_eq!(v["inputs"][11]["properties"]["empty"], "");
    }

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
        let unknown = apply_results(
            Mode::UpsertByEmail,
            &inputs,
            &[0, 1, 2],
            &body,
            &mut results,
        );
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
    fn unattributed_errors_leave_inputs_unknown() {
        let inputs = vec![input("a@x.io", &[]), input("b@x.io", &[])];
        let body = json!({"results": [{"id": "1", "properties": {"email": "a@x.io"}}], "errors": [{"message": "boom"}]});
        let mut results = vec![None; 2];
        assert_eq!(
            apply_results(Mode::UpsertByEmail, &inputs, &[0, 1], &body, &mut results),
            vec![1]
        );
    }

    #[test]
    fn narrow_rejects_the_quoted_email_and_keeps_the_rest() {
        let inputs = vec![
            input("ok@x.io", &[]),
            input("bcooper@example.con", &[]),
            input("fine@y.io", &[]),
        ];
        let body = json!({"message": "Property values were not valid: [{\"isValid\":false,\"message\":\"Email address bcooper@example.con is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]"});
        let (guilty, suspects, rest) = narrow(&inputs, &[0, 1, 2], &body);
        assert_eq!(guilty, vec![(1, RejectReason::InvalidEmail)]);
        assert!(suspects.is_empty());
        assert_eq!(rest, vec![0, 2]);
    }

    #[test]
    fn narrow_rejects_every_input_with_an_unknown_property() {
        let inputs = vec![
            input("a@x.io", &[("shoe", "9")]),
            input("b@x.io", &[]),
            input("c@x.io", &[("shoe", "")]),
        ];
        let body = json!({"message": "Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"shoe\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"shoe\"}]"});
        let (guilty, _, rest) = narrow(&inputs, &[0, 1, 2], &body);
        assert_eq!(guilty.iter().map(|g| g.0).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(rest, vec![1]);
    }

    #[test]
    fn narrow_without_details_keeps_everything_for_bisection() {
        let inputs = vec![input("a@x.io", &[]), input("b@x.io", &[])];
        let (g, s, r) = narrow(&inputs, &[0, 1], &json!({"message": "Duplicate IDs found"}));
        assert!(g.is_empty() && s.is_empty());
        assert_eq!(r, vec![0, 1]);
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
    fn existing_id_is_read_from_the_conflict_message() {
        assert_eq!(
            existing_id("Contact already exists. Existing ID: 37765128953"),
            Some("37765128953".into())
        );
        assert_eq!(existing_id("Conflict"), None);
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

    #[test]
    fn a_conflict_is_resolved_only_for_the_same_person() {
        let contact = json!({"id": "7", "properties": {"email": "main@x.io", "hs_additional_emails": "old@x.io;Alias@X.io"}});
        assert!(same_person(&contact, "main@x.io"));
        assert!(same_person(&contact, "alias@x.io"));
        assert!(!same_person(&contact, "other@x.io"));
        assert!(!same_person(&json!({"id": "7", "properties": {}}), ""));
    }
}
