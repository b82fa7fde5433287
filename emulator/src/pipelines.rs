//! The deal and ticket pipelines of the demo account and their stages: the
//! options of `pipeline`/`dealstage` and `hs_pipeline`/`hs_pipeline_stage`,
//! the rule that a record's stage belongs to its pipeline, and the
//! Pipelines API answer. Fixed data: pipelines cannot be edited.

use crate::http::Response;
use crate::hub::Ctx;
use crate::schema::{ObjectType, PropError};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One stage. Deal stages carry a win probability; ticket stages none.
pub(crate) struct Stage {
    pub id: &'static str,
    pub label: &'static str,
    pub closed: bool,
    pub probability: Option<&'static str>,
}

/// One pipeline with its stages in display order.
pub(crate) struct Pipeline {
    pub id: &'static str,
    pub label: &'static str,
    pub stages: &'static [Stage],
}

const fn deal_stage(id: &'static str, label: &'static str, closed: bool, p: &'static str) -> Stage {
    Stage {
        id,
        label,
        closed,
        probability: Some(p),
    }
}

const fn ticket_stage(id: &'static str, label: &'static str, closed: bool) -> Stage {
    Stage {
        id,
        label,
        closed,
        probability: None,
    }
}

static DEALS: &[Pipeline] = &[
    Pipeline {
        id: "default",
        label: "Sales Pipeline",
        stages: &[
            deal_stage(
                "appointmentscheduled",
                "Appointment Scheduled",
                false,
                "0.2",
            ),
            deal_stage("qualifiedtobuy", "Qualified To Buy", false, "0.4"),
            deal_stage(
                "presentationscheduled",
                "Presentation Scheduled",
                false,
                "0.6",
            ),
            deal_stage(
                "decisionmakerboughtin",
                "Decision Maker Bought-In",
                false,
                "0.8",
            ),
            deal_stage("contractsent", "Contract Sent", false, "0.9"),
            deal_stage("closedwon", "Closed Won", true, "1.0"),
            deal_stage("closedlost", "Closed Lost", true, "0.0"),
        ],
    },
    Pipeline {
        id: "renewals",
        label: "Renewals",
        stages: &[
            deal_stage("renewal_open", "Renewal Open", false, "0.5"),
            deal_stage("renewal_won", "Renewal Won", true, "1.0"),
            deal_stage("renewal_lost", "Renewal Lost", true, "0.0"),
        ],
    },
];

static TICKETS: &[Pipeline] = &[Pipeline {
    id: "0",
    label: "Support Pipeline",
    stages: &[
        ticket_stage("1", "New", false),
        ticket_stage("2", "Waiting on contact", false),
        ticket_stage("3", "Waiting on us", false),
        ticket_stage("4", "Closed", true),
    ],
}];

/// Which properties hold a type's pipeline and stage, and the pipeline a
/// record without one is in.
pub(crate) struct PipelineProps {
    pub pipeline: &'static str,
    pub stage: &'static str,
    pub default: &'static str,
}

/// The pipelines of `ty`; empty for types without pipelines.
pub(crate) fn of(ty: ObjectType) -> &'static [Pipeline] {
    match ty {
        ObjectType::Deals => DEALS,
        ObjectType::Tickets => TICKETS,
        _ => &[],
    }
}

/// The pipeline and stage properties of `ty`, if it has pipelines.
pub(crate) fn props(ty: ObjectType) -> Option<PipelineProps> {
    match ty {
        ObjectType::Deals => Some(PipelineProps {
            pipeline: "pipeline",
            stage: "dealstage",
            default: "default",
        }),
        ObjectType::Tickets => Some(PipelineProps {
            pipeline: "hs_pipeline",
            stage: "hs_pipeline_stage",
            default: "0",
        }),
        _ => None,
    }
}

/// (value, label) of every pipeline of `ty`: the pipeline property's
/// options.
pub(crate) fn pipeline_options(ty: ObjectType) -> Vec<(&'static str, &'static str)> {
    of(ty).iter().map(|p| (p.id, p.label)).collect()
}

/// (value, label) of every stage of every pipeline of `ty`: the stage
/// property's options.
pub(crate) fn stage_options(ty: ObjectType) -> Vec<(&'static str, &'static str)> {
    of(ty)
        .iter()
        .flat_map(|p| p.stages.iter().map(|s| (s.id, s.label)))
        .collect()
}

/// Is `stage` a stage of pipeline `pipeline` of `ty`?
pub(crate) fn has_stage(ty: ObjectType, pipeline: &str, stage: &str) -> bool {
    of(ty)
        .iter()
        .any(|p| p.id == pipeline && p.stages.iter().any(|s| s.id == stage))
}

/// `GET /crm/v3/pipelines/{deals|tickets}` (and `/crm/pipelines/VER/…`):
/// every pipeline of the type with its stages. Reading needs the type's
/// object read scope.
pub(crate) fn list(ctx: &Ctx, ty: ObjectType) -> Response {
    if let Err(r) = ctx.require(&[ty.object_scope("read")]) {
        return r;
    }
    let results: Vec<Value> = of(ty)
        .iter()
        .enumerate()
        .map(|(i, p)| to_json(p, i))
        .collect();
    Response::json(200, &json!({ "results": results }))
}

/// The stage rule: a record's stage must be a stage of its pipeline — the
/// one the write gives, else the record's current one, else the type's
/// default. Checked when a write names the pipeline or the stage, on the
/// resulting record (`current` is the stored record, `None` on a create);
/// a mismatch fails like an invalid option of the stage property.
pub(crate) fn check_stage(
    ty: ObjectType,
    changes: &[(String, String)],
    current: Option<&BTreeMap<String, String>>,
) -> Result<(), PropError> {
    let Some(pp) = props(ty) else {
        return Ok(());
    };
    let written = |p: &str| changes.iter().find(|(k, _)| k == p).map(|(_, v)| v);
    if written(pp.pipeline).is_none() && written(pp.stage).is_none() {
        return Ok(());
    }
    let value = |p: &str| {
        written(p)
            .or_else(|| current.and_then(|c| c.get(p)))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let pipeline = value(pp.pipeline).unwrap_or_else(|| pp.default.to_string());
    match value(pp.stage) {
        Some(stage) if !has_stage(ty, &pipeline, &stage) => Err(PropError::new(
            pp.stage,
            "INVALID_OPTION",
            format!("{stage} is not a valid stage of pipeline {pipeline}"),
        )),
        _ => Ok(()),
    }
}

/// `metadata` of a stage: `isClosed` and `probability` for deal stages,
/// `ticketState` for ticket stages, every value a string as on HubSpot.
fn metadata(s: &Stage) -> Value {
    match s.probability {
        Some(p) => json!({ "isClosed": s.closed.to_string(), "probability": p }),
        None => json!({ "ticketState": if s.closed { "CLOSED" } else { "OPEN" } }),
    }
}

/// The Pipelines API representation of one pipeline, `order` being its
/// position among its type's pipelines.
pub(crate) fn to_json(p: &Pipeline, order: usize) -> Value {
    let stamp = "2020-01-01T00:00:00.000Z";
    let stages: Vec<Value> = p
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "id": s.id,
                "label": s.label,
                "displayOrder": i,
                "archived": false,
                "metadata": metadata(s),
                "createdAt": stamp,
                "updatedAt": stamp,
            })
        })
        .collect();
    json!({
        "id": p.id,
        "label": p.label,
        "displayOrder": order,
        "archived": false,
        "stages": stages,
        "createdAt": stamp,
        "updatedAt": stamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_belong_to_their_own_pipeline_only() {
        assert!(has_stage(ObjectType::Deals, "default", "closedwon"));
        assert!(has_stage(ObjectType::Deals, "renewals", "renewal_won"));
        assert!(!has_stage(ObjectType::Deals, "renewals", "closedwon"));
        assert!(has_stage(ObjectType::Tickets, "0", "4"));
        assert!(!has_stage(ObjectType::Contacts, "default", "closedwon"));
        assert_eq!(stage_options(ObjectType::Deals).len(), 10);
        assert_eq!(
            pipeline_options(ObjectType::Tickets),
            vec![("0", "Support Pipeline")]
        );
    }

    fn ch(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_stage_must_fit_the_given_then_current_then_default_pipeline() {
        let d = ObjectType::Deals;
        assert!(check_stage(d, &ch(&[("dealstage", "closedwon")]), None).is_ok());
        let e = check_stage(d, &ch(&[("dealstage", "renewal_won")]), None).unwrap_err();
        assert_eq!((e.name.as_str(), e.code), ("dealstage", "INVALID_OPTION"));
        let renewal: BTreeMap<String, String> =
            ch(&[("pipeline", "renewals")]).into_iter().collect();
        assert!(check_stage(d, &ch(&[("dealstage", "renewal_won")]), Some(&renewal)).is_ok());
        assert!(check_stage(d, &ch(&[("dealstage", "closedwon")]), Some(&renewal)).is_err());
        // Moving to another pipeline without a fitting stage fails too.
        let won: BTreeMap<String, String> = ch(&[("dealstage", "closedwon")]).into_iter().collect();
        assert!(check_stage(d, &ch(&[("pipeline", "renewals")]), Some(&won)).is_err());
        assert!(check_stage(d, &ch(&[("amount", "1")]), Some(&won)).is_ok());
        assert!(check_stage(
            ObjectType::Tickets,
            &ch(&[("hs_pipeline_stage", "4")]),
            None
        )
        .is_ok());
        assert!(check_stage(
            ObjectType::Tickets,
            &ch(&[("hs_pipeline_stage", "closedwon")]),
            None
        )
        .is_err());
    }

    #[test]
    fn the_api_shape_carries_stage_metadata() {
        let v = to_json(&DEALS[1], 1);
        assert_eq!(v["displayOrder"], 1);
        assert_eq!(v["stages"][1]["id"], "renewal_won");
        assert_eq!(v["stages"][1]["metadata"]["probability"], "1.0");
        assert_eq!(v["stages"][1]["metadata"]["isClosed"], "true");
        assert_eq!(
            to_json(&TICKETS[0], 0)["stages"][3]["metadata"]["ticketState"],
            "CLOSED"
        );
    }
}
