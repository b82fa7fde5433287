//! The deal and ticket pipelines of the demo account and their stages: the
//! options of `pipeline`/`dealstage` and `hs_pipeline`/`hs_pipeline_stage`.
//! Fixed data: pipelines cannot be edited.

use crate::schema::ObjectType;

/// One stage.
pub(crate) struct Stage {
    pub id: &'static str,
    pub label: &'static str,
}

/// One pipeline with its stages in display order.
pub(crate) struct Pipeline {
    pub id: &'static str,
    pub label: &'static str,
    pub stages: &'static [Stage],
}

const fn stage(id: &'static str, label: &'static str) -> Stage {
    Stage { id, label }
}

static DEALS: &[Pipeline] = &[
    Pipeline {
        id: "default",
        label: "Sales Pipeline",
        stages: &[
            stage("appointmentscheduled", "Appointment Scheduled"),
            stage("qualifiedtobuy", "Qualified To Buy"),
            stage("presentationscheduled", "Presentation Scheduled"),
            stage("decisionmakerboughtin", "Decision Maker Bought-In"),
            stage("contractsent", "Contract Sent"),
            stage("closedwon", "Closed Won"),
            stage("closedlost", "Closed Lost"),
        ],
    },
    Pipeline {
        id: "renewals",
        label: "Renewals",
        stages: &[
            stage("renewal_open", "Renewal Open"),
            stage("renewal_won", "Renewal Won"),
            stage("renewal_lost", "Renewal Lost"),
        ],
    },
];

static TICKETS: &[Pipeline] = &[Pipeline {
    id: "0",
    label: "Support Pipeline",
    stages: &[
        stage("1", "New"),
        stage("2", "Waiting on contact"),
        stage("3", "Waiting on us"),
        stage("4", "Closed"),
    ],
}];

/// The pipelines of `ty`; empty for types without pipelines.
pub(crate) fn of(ty: ObjectType) -> &'static [Pipeline] {
    match ty {
        ObjectType::Deals => DEALS,
        ObjectType::Tickets => TICKETS,
        _ => &[],
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
