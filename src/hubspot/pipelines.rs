//! A deal's or ticket's pipelines, read once per sync from the pipelines
//! API: which stages each pipeline has, and which one is the default.

use serde_json::Value;

use super::client::{Client, Outcome};
use super::errors::HubSpotError;
use crate::protocol::FailureType;

/// A deal's or ticket's pipelines: each pipeline id with its stage ids.
#[derive(Debug, Clone, Default)]
pub struct Pipelines {
    /// In display order; HubSpot's default pipeline is the one with id
    /// `default` (deals), else the first.
    pub pipelines: Vec<(String, Vec<String>)>,
}

impl Pipelines {
    /// Reads them (one call).
    pub fn fetch(client: &Client, object: &str) -> Result<Pipelines, HubSpotError> {
        match client.get(&client.paths().pipelines(object))? {
            Outcome::Done(answer) => Ok(Pipelines::from_json(&answer.json())),
            Outcome::Invalid(answer, reason) => Err(HubSpotError::new(
                FailureType::System,
                format!(
                    "reading the {object} pipelines failed ({}): {reason}",
                    answer.status
                ),
            )),
        }
    }

    /// From a pipelines API answer.
    pub fn from_json(body: &Value) -> Pipelines {
        let list = body.get("results").and_then(Value::as_array);
        let ids = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_string);
        let pipelines = list
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let stages = p.get("stages").and_then(Value::as_array);
                Some((
                    ids(p)?,
                    stages.into_iter().flatten().filter_map(ids).collect(),
                ))
            })
            .collect();
        Pipelines { pipelines }
    }

    /// The stages of `pipeline` (the default one when `None`); `None` when
    /// there is no such pipeline.
    pub fn stages(&self, pipeline: Option<&str>) -> Option<&[String]> {
        let found = match pipeline {
            Some(id) => self.pipelines.iter().find(|(p, _)| p == id),
            None => self
                .pipelines
                .iter()
                .find(|(p, _)| p == "default")
                .or(self.pipelines.first()),
        };
        found.map(|(_, s)| s.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pipelines_give_their_stages_and_the_default_one() {
        let p = Pipelines::from_json(&json!({"results": [
            {"id": "renewals", "stages": [{"id": "renewal_open"}]},
            {"id": "default", "stages": [{"id": "appointmentscheduled"}, {"id": "closedwon"}]},
        ]}));
        assert_eq!(
            p.stages(None).unwrap(),
            ["appointmentscheduled", "closedwon"]
        );
        assert_eq!(p.stages(Some("renewals")).unwrap(), ["renewal_open"]);
        assert_eq!(p.stages(Some("nope")), None);
    }
}
