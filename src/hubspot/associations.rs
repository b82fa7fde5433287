//! Creating associations in batches (HubSpot's default type through
//! `batch/associate/default`, a typed one through `batch/create`) so that
//! every pair ends made or refused with its own reason. Adding an
//! association that exists is a success, so a group whose answer can't be
//! tied to its pairs is simply sent again in halves.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{Client, Outcome};
use super::errors::{reason_from_body, strings, truncate, HubSpotError, RejectReason};

/// HubSpot's limit of pairs per association write.
pub const MAX_PAIRS: usize = 2_000;

/// One association to create: two record ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<'a> {
    pub from: &'a str,
    pub to: &'a str,
}

/// Which association type to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The default, unlabelled type of the pair of objects.
    Default,
    /// A type by category (`HUBSPOT_DEFINED`, `USER_DEFINED`) and id.
    Typed { category: &'static str, id: u32 },
}

/// Associates each pair (at most [`MAX_PAIRS`]) of `from` records with `to`
/// records; `None` for a pair made, its reason for one refused. An `Err`
/// is fatal for the sync (auth, retries exhausted, quota).
pub fn associate(
    client: &Client,
    from: &str,
    to: &str,
    kind: Kind,
    pairs: &[Pair],
) -> Result<Vec<Option<RejectReason>>, HubSpotError> {
    let op = match kind {
        Kind::Default => "associate/default",
        Kind::Typed { .. } => "create",
    };
    let path = client.paths().associations_batch(from, to, op);
    let mut results: Vec<Option<Option<RejectReason>>> = vec![None; pairs.len()];
    let mut pending = vec![(0..pairs.len()).collect::<Vec<usize>>()];
    while let Some(group) = pending.pop() {
        if group.is_empty() {
            continue;
        }
        let body = encode(kind, pairs, &group);
        let (errors, whole) = match client.post(&path, &body)? {
            Outcome::Done(answer) => (errors_in(&answer.body), None),
            Outcome::Invalid(answer, reason) => {
                let errors = errors_in(&answer.body);
                let errors = if errors.is_empty() {
                    vec![answer.json()]
                } else {
                    errors
                };
                (errors, Some(reason))
            }
        };
        let mut unexplained = false;
        for e in &errors {
            let named: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&i| names(e, pairs[i]))
                .collect();
            if named.is_empty() {
                unexplained = true;
            }
            for i in named {
                results[i] = Some(Some(reason_of(e)));
            }
        }
        let open: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&i| results[i].is_none())
            .collect();
        match (whole, unexplained) {
            // Made: every pair not named in an error.
            (None, false) => open.iter().for_each(|&i| results[i] = Some(None)),
            // Refused as a whole, or errors we can't tie to pairs: the
            // pairs not named go again, a lone one is refused.
            (whole, _) => match open[..] {
                [] => {}
                [only] => {
                    let why = whole.unwrap_or_else(|| {
                        errors.first().map_or_else(
                            || RejectReason::HubSpotValidation("association refused".into()),
                            reason_of,
                        )
                    });
                    results[only] = Some(Some(why));
                }
                _ if open.len() < group.len() => pending.push(open),
                _ => {
                    let (a, b) = open.split_at(open.len().div_ceil(2));
                    pending.push(b.to_vec());
                    pending.push(a.to_vec());
                }
            },
        }
    }
    Ok(results.into_iter().map(|r| r.unwrap_or(None)).collect())
}

/// The request body for `group`, serialised straight from the pairs.
fn encode(kind: Kind, pairs: &[Pair], group: &[usize]) -> Vec<u8> {
    let types = match kind {
        Kind::Default => None,
        Kind::Typed { category, id } => Some([WireType {
            association_category: category,
            association_type_id: id,
        }]),
    };
    let inputs: Vec<WireInput> = group
        .iter()
        .map(|&i| WireInput {
            from: WireId { id: pairs[i].from },
            to: WireId { id: pairs[i].to },
            types: types.as_ref(),
        })
        .collect();
    serde_json::to_vec(&WireBody { inputs }).expect("an association body is plain")
}

#[derive(Serialize)]
struct WireBody<'a> {
    inputs: Vec<WireInput<'a>>,
}

#[derive(Serialize)]
struct WireInput<'a> {
    from: WireId<'a>,
    to: WireId<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    types: Option<&'a [WireType; 1]>,
}

#[derive(Serialize)]
struct WireId<'a> {
    id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireType {
    association_category: &'static str,
    association_type_id: u32,
}

/// Of an answer, only its errors are read: the results (one per pair) are
/// skipped without being built.
#[derive(Deserialize, Default)]
struct Errors {
    #[serde(default)]
    errors: Vec<Value>,
}

/// The error entries of an answer body.
fn errors_in(body: &str) -> Vec<Value> {
    serde_json::from_str::<Errors>(body)
        .unwrap_or_default()
        .errors
}

/// Whether an error names this pair: by an id in its `context` (any key:
/// `fromObjectId`, `toObjectId`, `ids`) or quoted in its message.
fn names(error: &Value, pair: Pair) -> bool {
    let mut ids: Vec<String> = Vec::new();
    if let Some(Value::Object(context)) = error.get("context") {
        for v in context.values() {
            ids.extend(strings(Some(v)));
        }
    }
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let quoted = |id: &str| {
        message
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .any(|token| token == id)
    };
    [pair.from, pair.to]
        .iter()
        .any(|id| ids.iter().any(|x| x == id) || quoted(id))
}

/// The reason an error entry gives.
fn reason_of(error: &Value) -> RejectReason {
    match error.get("message").and_then(Value::as_str) {
        Some(m) => RejectReason::HubSpotValidation(truncate(m, 300)),
        None => reason_from_body(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pair<'a>(from: &'a str, to: &'a str) -> Pair<'a> {
        Pair { from, to }
    }

    #[test]
    fn typed_associations_carry_their_type() {
        let pairs = [pair("1", "2"), pair("3", "4")];
        let body: Value = serde_json::from_slice(&encode(
            Kind::Typed {
                category: "HUBSPOT_DEFINED",
                id: 1,
            },
            &pairs,
            &[1],
        ))
        .unwrap();
        assert_eq!(
            body,
            json!({"inputs": [{"from": {"id": "3"}, "to": {"id": "4"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}]})
        );
        let body: Value = serde_json::from_slice(&encode(Kind::Default, &pairs, &[0])).unwrap();
        assert_eq!(
            body,
            json!({"inputs": [{"from": {"id": "1"}, "to": {"id": "2"}}]})
        );
    }

    #[test]
    fn only_the_errors_of_an_answer_are_read() {
        let body = r#"{"status":"COMPLETE","results":[{"from":{"id":"1"}}],"errors":[{"message":"No company with ID 2"}],"numErrors":1}"#;
        assert_eq!(
            errors_in(body),
            vec![json!({"message": "No company with ID 2"})]
        );
        assert!(errors_in(r#"{"results":[]}"#).is_empty());
        assert!(errors_in("<html>").is_empty());
    }

    #[test]
    fn an_error_names_a_pair_by_context_or_by_quoting_an_id() {
        let e =
            json!({"message": "No company with ID 202 exists", "context": {"toObjectId": ["202"]}});
        assert!(names(&e, pair("1", "202")));
        assert!(!names(&e, pair("1", "2020")));
        let quoted = json!({"message": "Contact 77 does not exist"});
        assert!(names(&quoted, pair("77", "5")));
        assert!(!names(&quoted, pair("7", "5")));
    }
}
