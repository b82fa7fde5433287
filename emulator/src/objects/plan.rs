//! Resolving one checked input against the store, with its lock held: the
//! target record (or a new id), the lifecycle-stage rule, the admin write
//! rules of 2026-09 paths, and unique-value conflicts. Nothing is written
//! here; the result is a plan or the reason the input fails.

use super::failure::InputError;
use super::write::Input;
use crate::http::Response;
use crate::hub::Ctx;
use crate::options::BackwardLifecycle;
use crate::pipelines;
use crate::routes::BatchOp;
use crate::rules;
use crate::schema::{check_value, ObjectType, PropError, Schema};
use crate::store::{normalise, ObjectStore, Record};
use std::collections::HashMap;

/// The planned effect of one valid input.
pub(super) struct Planned {
    /// Index of the input in the batch.
    pub(super) input: usize,
    /// The record written: an existing one, or a freshly allocated id.
    pub(super) id: u64,
    /// The write creates the record.
    pub(super) new: bool,
    /// What to write, after the lifecycle rule (an upsert's key value first).
    pub(super) changes: Vec<(String, String)>,
}

/// Why an input cannot be planned.
pub(super) enum PlanError {
    /// The whole batch fails with this answer.
    Whole(Response),
    /// The input fails; whole-batch or 207 as the upsert mode says.
    Input(InputError),
    /// The input breaks an admin write rule; whole-batch or 207 as
    /// `validation_error_mode` says.
    Rule(InputError),
}

/// Resolves one valid input against the store: target record, lifecycle
/// rule, admin rules, unique-value conflicts.
pub(super) fn plan_one(
    ctx: &Ctx,
    schema: &Schema,
    store: &ObjectStore,
    op: BatchOp,
    input: &Input,
    claims: &mut HashMap<(String, String), u64>,
) -> Result<Planned, PlanError> {
    let mut changes = input.changes.clone();
    let (id, new) = target(ctx, schema, store, op, input, &mut changes)?;
    let existing = (!new).then(|| &store.records[&id]);
    if let Some(rec) = existing {
        lifecycle_rule(ctx, schema, rec, &mut changes)?;
    }
    pipeline_rule(schema.ty, existing, input, &changes)?;
    admin_rules(ctx, schema, existing, input, &changes)?;
    claim_unique(ctx, schema.ty, store, op, id, &changes, claims)?;
    Ok(Planned {
        input: 0,
        id,
        new,
        changes,
    })
}

/// The record an input writes and whether the write creates it. An upsert
/// that creates by a unique property writes the key value too.
fn target(
    ctx: &Ctx,
    schema: &Schema,
    store: &ObjectStore,
    op: BatchOp,
    input: &Input,
    changes: &mut Vec<(String, String)>,
) -> Result<(u64, bool), PlanError> {
    let Some((prop, key)) = &input.key else {
        return Ok((ctx.hub.alloc_id(), true));
    };
    if let Some(id) = store.lookup(prop.as_deref(), key) {
        return Ok((id, false));
    }
    match prop {
        Some(prop) if op == BatchOp::Upsert => {
            let value = schema
                .get(prop)
                .and_then(|def| check_value(def, key).ok())
                .unwrap_or_else(|| key.clone());
            // The key value is written first; an explicit property of the
            // same name in the input wins.
            if !changes.iter().any(|(k, _)| k == prop) {
                changes.insert(0, (prop.clone(), value));
            }
            Ok((ctx.hub.alloc_id(), true))
        }
        _ => Err(PlanError::Input(InputError::plain(
            404,
            "OBJECT_NOT_FOUND",
            format!("Could not find {} with id {key}", schema.ty.upper()),
            vec![key.clone()],
        ))),
    }
}

/// Unique values (email, `hasUniqueValue` properties) may belong to one
/// record only: the store's owner, or an earlier input of this batch.
fn claim_unique(
    ctx: &Ctx,
    ty: ObjectType,
    store: &ObjectStore,
    op: BatchOp,
    id: u64,
    changes: &[(String, String)],
    claims: &mut HashMap<(String, String), u64>,
) -> Result<(), PlanError> {
    for (p, v) in changes {
        if v.is_empty() || !store.is_unique(p) {
            continue;
        }
        let k = (p.clone(), normalise(p, v));
        match claims.get(&k).copied().or_else(|| store.owner(p, v)) {
            Some(owner) if owner != id => {
                let message = format!("{} already exists. Existing ID: {owner}", ty.label());
                let e = InputError::plain(409, "CONFLICT", message, Vec::new());
                // Batch create fails whole on the first conflict.
                return Err(if op == BatchOp::Create {
                    PlanError::Whole(e.whole(ctx.cid, None))
                } else {
                    PlanError::Input(e)
                });
            }
            _ => {
                claims.insert(k, id);
            }
        }
    }
    Ok(())
}

/// HubSpot's admin write rules (required on create, conditionally
/// required), enforced on 2026-09 paths only. `existing` is `None` when the
/// write creates the record.
fn admin_rules(
    ctx: &Ctx,
    schema: &Schema,
    existing: Option<&Record>,
    input: &Input,
    changes: &[(String, String)],
) -> Result<(), PlanError> {
    if !ctx.family.enforces_write_rules() {
        return Ok(());
    }
    let found = rules::violations(&ctx.hub.opts, schema, existing.map(|r| &r.props), changes);
    if found.is_empty() {
        return Ok(());
    }
    let id = input.key.as_ref().map(|(_, id)| id.as_str());
    Err(PlanError::Rule(InputError::from_rules(&found, id)))
}

/// A deal's or ticket's stage must belong to its pipeline (see
/// `pipelines::check_stage`). It fails like an invalid option, and a batch
/// answers it whole or per input as `validation_error_mode` says.
fn pipeline_rule(
    ty: ObjectType,
    existing: Option<&Record>,
    input: &Input,
    changes: &[(String, String)],
) -> Result<(), PlanError> {
    pipelines::check_stage(ty, changes, existing.map(|r| &r.props)).map_err(|e| {
        let id = input.key.as_ref().map(|(_, id)| id.as_str());
        PlanError::Rule(InputError::from_props(&[e], id))
    })
}

/// `lifecyclestage` only moves forward in the stage order (the property's
/// option display order). Clearing (`""`) is always allowed; a backward move
/// is ignored, applied or refused as configured.
fn lifecycle_rule(
    ctx: &Ctx,
    schema: &Schema,
    rec: &Record,
    changes: &mut Vec<(String, String)>,
) -> Result<(), PlanError> {
    let Some(pos) = changes.iter().position(|(k, _)| k == "lifecyclestage") else {
        return Ok(());
    };
    let new = &changes[pos].1;
    let Some(old) = rec.props.get("lifecyclestage").filter(|o| !o.is_empty()) else {
        return Ok(());
    };
    let backwards = match (schema.stage_rank(old), schema.stage_rank(new)) {
        (Some(o), Some(n)) => !new.is_empty() && n < o,
        _ => false,
    };
    if !backwards {
        return Ok(());
    }
    match ctx.hub.opts.backward_lifecycle {
        BackwardLifecycle::Apply => Ok(()),
        BackwardLifecycle::Ignore => {
            changes.remove(pos);
            Ok(())
        }
        BackwardLifecycle::Reject => {
            let e = PropError::new(
                "lifecyclestage",
                "INVALID_OPTION",
                format!("lifecyclestage cannot move backwards from {old} to {new}; clear it first"),
            );
            Err(PlanError::Input(InputError::from_props(
                &[e],
                Some(&rec.id.to_string()),
            )))
        }
    }
}
