//! Writing one batch of records so that every input ends written or
//! rejected with its own reason. This file is the loop and the request
//! body; reading a 2xx answer (207 errors mapped back by
//! `objectWriteTraceId`) is in `results`, narrowing a whole-batch 400 to the
//! guilty inputs (by what HubSpot's message names, then by halves) in
//! `narrow`, and a single input's 409 "Existing ID" in `conflict`.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::client::{Client, Outcome};
use super::errors::{rule_violations, Answer, HubSpotError, RejectReason, RuleViolation};
use narrow::Narrowed;

mod conflict;
mod narrow;
mod read;
mod results;

pub(crate) use read::{property, read_by};

/// Which object a batch writes and how its inputs name their record: an
/// upsert by a unique property (`by`), or an update by record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mode<'a> {
    /// The object's name in paths (`contacts`, `companies`, `2-90001`).
    pub object: &'a str,
    /// The unique property inputs are upserted by; `None`: update by id.
    pub by: Option<&'a str>,
}

impl<'a> Mode<'a> {
    /// Upserts of `object` by its unique property `by`.
    pub fn upsert(object: &'a str, by: &'a str) -> Mode<'a> {
        Mode {
            object,
            by: Some(by),
        }
    }

    /// Updates of `object` by record id.
    pub fn update(object: &'a str) -> Mode<'a> {
        Mode { object, by: None }
    }

    /// Contacts upserted by email (whose 409s and merges HubSpot explains).
    pub fn by_email(self) -> bool {
        self.by == Some("email")
    }

    /// A matching key value as records are filed by it: emails
    /// lower-cased, other values as they are.
    pub fn key(self, value: &str) -> String {
        if self.by_email() {
            value.to_lowercase()
        } else {
            value.to_string()
        }
    }

    /// Whether two values of the matching key are the same record's:
    /// emails match in any case, other values exactly.
    pub fn same_key(self, a: &str, b: &str) -> bool {
        if self.by_email() {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    }
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
    let op = if mode.by.is_some() {
        "upsert"
    } else {
        "update"
    };
    let path = client.paths().objects_batch(mode.object, op);
    let mut batch = Batch {
        client,
        mode,
        inputs,
        results: vec![None; inputs.len()],
        pending: vec![(0..inputs.len()).collect()],
        exists: vec![None; inputs.len()],
    };
    while let Some(group) = batch.pending.pop() {
        if group.is_empty() {
            continue;
        }
        match client.post(&path, &encode(mode, inputs, &group))? {
            Outcome::Done(answer) => batch.answered(group, &answer.json()),
            Outcome::Invalid(answer, reason) => batch.refused(group, &answer, reason)?,
        }
    }
    Ok(batch
        .results
        .into_iter()
        .map(|r| {
            r.unwrap_or(Written::Ok {
                id: None,
                created: false,
            })
        })
        .collect())
}

/// One batch on its way: what is known of each input, and the groups of
/// inputs still to send (a stack: the last pushed goes next).
struct Batch<'c, 'i> {
    client: &'c Client,
    mode: Mode<'i>,
    inputs: &'i [Input<'i>],
    results: Vec<Option<Written>>,
    pending: Vec<Vec<usize>>,
    /// Whether each input's contact already exists, once a read has said.
    exists: Vec<Option<bool>>,
}

impl Batch<'_, '_> {
    /// A 2xx: results and 207 errors settle their inputs.
    fn answered(&mut self, group: Vec<usize>, body: &serde_json::Value) {
        let unmapped =
            results::apply_results(self.mode, self.inputs, &group, body, &mut self.results);
        if !unmapped.is_empty() {
            // Errors we could not tie to inputs: resend those inputs in
            // halves (an upsert by email is idempotent) until each is known.
            let why = RejectReason::HubSpotValidation(
                "unattributed error in a multi-status answer".into(),
            );
            self.split(unmapped, why);
        }
    }

    /// A 400/409 for the whole group: a single input is settled (a 409 may
    /// still become an update); a larger group is narrowed by what the
    /// answer names, so the next sends are few and likely to pass.
    fn refused(
        &mut self,
        group: Vec<usize>,
        answer: &Answer,
        reason: RejectReason,
    ) -> Result<(), HubSpotError> {
        let body = answer.json();
        if let [i] = group[..] {
            let (client, mode, input) = (self.client, self.mode, &self.inputs[i]);
            let written =
                conflict::resolve_single(client, mode, input, answer.status, &body, reason)?;
            self.results[i] = Some(written);
            return Ok(());
        }
        let rules = rule_violations(&body);
        let narrowed = if rules.is_empty() {
            narrow::by_property_problems(self.inputs, &group, &body)
        } else {
            self.by_rules(&group, &body, &rules)?
        };
        let Narrowed {
            guilty,
            suspects,
            rest,
        } = narrowed;
        let progress = !guilty.is_empty();
        for (i, why) in guilty {
            self.results[i] = Some(Written::Rejected(why));
        }
        let stuck = suspects.len() == group.len() || rest.len() == group.len();
        if !progress && stuck {
            // The answer explains nothing we can act on: bisect.
            self.split(group, reason);
        } else {
            self.pending.push(suspects);
            self.pending.push(rest);
        }
        Ok(())
    }

    /// Narrows a refusal for admin write rules. Inputs that would create a
    /// contact without a property the create form requires are certain
    /// culprits, but whether an input creates is HubSpot's to know: one
    /// batch read of the inputs that lack the property tells, for the whole
    /// group at once, instead of one resend per culprit.
    fn by_rules(
        &mut self,
        group: &[usize],
        body: &serde_json::Value,
        rules: &[RuleViolation],
    ) -> Result<Narrowed, HubSpotError> {
        let (mut narrowed, to_read) =
            narrow::by_rules(self.mode, self.inputs, group, body, rules, &self.exists);
        if to_read.is_empty() {
            return Ok(narrowed);
        }
        let ids: Vec<&str> = to_read.iter().map(|(i, _)| self.inputs[*i].id).collect();
        let found = narrow::existing(self.client, self.mode, &ids)?;
        for (i, why) in to_read {
            match &found {
                // The read failed: leave the input a suspect.
                None => narrowed.suspects.push(i),
                Some(found) if found.contains(self.inputs[i].id) => {
                    self.exists[i] = Some(true);
                    narrowed.rest.push(i);
                }
                Some(_) => {
                    self.exists[i] = Some(false);
                    narrowed.guilty.push((i, why));
                }
            }
        }
        Ok(narrowed)
    }

    /// Pushes the two halves of `group` to be resent; a single input can't
    /// be narrowed further and is rejected with `reason`.
    fn split(&mut self, group: Vec<usize>, reason: RejectReason) {
        if let [only] = group[..] {
            self.results[only] = Some(Written::Rejected(reason));
            return;
        }
        let mid = group.len().div_ceil(2);
        let (a, b) = group.split_at(mid);
        self.pending.push(b.to_vec());
        self.pending.push(a.to_vec());
    }
}

/// Serialises the inputs of `group` with their batch index as trace id.
fn encode(mode: Mode, inputs: &[Input], group: &[usize]) -> Vec<u8> {
    let body = Body {
        inputs: group
            .iter()
            .map(|&i| Wire {
                id: inputs[i].id,
                id_property: mode.by,
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
    id_property: Option<&'a str>,
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
pub(super) mod testing {
    use super::*;

    /// Contacts by email.
    pub const EMAIL: Mode<'static> = Mode {
        object: "contacts",
        by: Some("email"),
    };

    /// An input owning its text for the test's length (leaked: tests only).
    pub fn input(email: &str, props: &[(&str, &str)]) -> Input<'static> {
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
}

#[cfg(test)]
mod tests {
    use super::testing::{input, EMAIL};
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn other_objects_are_upserted_by_their_unique_property() {
        let inputs = vec![input("ext-1", &[("name", "Acme")])];
        let mode = Mode::upsert("companies", "external_id");
        let v: Value = serde_json::from_slice(&encode(mode, &inputs, &[0])).unwrap();
        assert_eq!(v["inputs"][0]["idProperty"], "external_id");
        assert!(mode.same_key("ext-1", "ext-1") && !mode.same_key("Ext-1", "ext-1"));
        assert!(EMAIL.same_key("A@x.io", "a@x.io"));
    }

    #[test]
    fn encode_carries_trace_ids_and_id_property() {
        let inputs = vec![input("a@x.io", &[("firstname", "A")]), input("b@x.io", &[])];
        let v: Value = serde_json::from_slice(&encode(EMAIL, &inputs, &[1, 0])).unwrap();
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
        let v: Value = serde_json::from_slice(&encode(EMAIL, &inputs, &[0, 1])).unwrap();
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
        let v: Value =
            serde_json::from_slice(&encode(Mode::update("contacts"), &inputs, &group)).unwrap();
        let first = &v["inputs"][0];
        assert_eq!(first["id"], tricky.as_str());
        assert_eq!(first["properties"][tricky.as_str()], tricky.as_str());
        assert_eq!(first["properties"]["plain"], "text");
        assert!(first.get("idProperty").is_none());
        assert_eq!(v["inputs"][11]["objectWriteTraceId"], "1");
        assert_eq!(v["inputs"][10]["objectWriteTraceId"], "0");
        assert_eq!(v["inputs"][11]["properties"]["empty"], "");
    }
}
