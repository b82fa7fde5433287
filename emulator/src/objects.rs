//! The CRM object endpoints, one file per concern: `write` runs batch
//! upsert, create and update (parse and check every input without a lock,
//! plan them against the store with its lock held, then apply the plan — or
//! nothing, when the whole batch must fail); `plan` resolves one input
//! against the store and the write rules; `failure` shapes the answer for a
//! failed input; `read` serves batch read, get one and list; `single` the
//! single-object create, update and delete. This file routes a batch request
//! to its operation and holds what the others share.

mod failure;
mod plan;
mod read;
mod single;
mod write;

pub(crate) use read::{get_one, list};
pub(crate) use single::{delete_one, write_one};

use crate::clock;
use crate::errors;
use crate::http::Response;
use crate::hub::Ctx;
use crate::routes::BatchOp;
use crate::schema::ObjectType;
use crate::store::Record;
use serde_json::{json, Map, Value};

/// Most inputs a batch accepts.
pub(crate) const MAX_BATCH: usize = 100;

/// Serves `POST /crm/v3/objects/{type}/batch/{op}` (and its date-based
/// twins, `/crm/objects/VER/{type}/batch/{op}`).
pub(crate) fn batch(ctx: &Ctx, ty: ObjectType, op: BatchOp) -> Response {
    let access = if op == BatchOp::Read { "read" } else { "write" };
    if let Err(r) = ctx.require(&[ty.object_scope(access)]) {
        return r;
    }
    let body = match batch_body(ctx, MAX_BATCH) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let inputs = inputs_of(&body);
    match op {
        BatchOp::Read => read::batch_read(ctx, ty, &body, inputs),
        BatchOp::Archive => batch_archive(ctx, ty, inputs),
        _ => write::batch_write(ctx, ty, op, inputs, false),
    }
}

/// `POST …/batch/archive`: 204; unknown ids are ignored.
fn batch_archive(ctx: &Ctx, ty: ObjectType, inputs: &[Value]) -> Response {
    let mut ids = Vec::with_capacity(inputs.len());
    for i in inputs {
        match i.get("id").and_then(value_string) {
            Some(id) => ids.push(id),
            None => return missing_attributes(ctx.cid, "id"),
        }
    }
    let mut store = ctx.hub.store(ty);
    for id in ids {
        if let Some(rid) = store.lookup(None, &id) {
            ctx.hub.archive(&mut store, rid);
        }
    }
    Response::empty(204)
}

/// A batch request's body, once it has an `inputs` list of at most `max`
/// (whose length is logged); else HubSpot's refusal.
pub(crate) fn batch_body(ctx: &Ctx, max: usize) -> Result<Value, Response> {
    let body = ctx.json()?;
    let Some(inputs) = body.get("inputs").and_then(Value::as_array) else {
        return Err(missing_attributes(ctx.cid, "inputs"));
    };
    ctx.inputs.set(Some(inputs.len()));
    if inputs.len() > max {
        return Err(errors::validation(
            ctx.cid,
            &format!(
                "Batch input size {} exceeds the maximum of {max} inputs per request.",
                inputs.len()
            ),
        ));
    }
    Ok(body)
}

/// The `inputs` of a body [`batch_body`] accepted.
pub(crate) fn inputs_of(body: &Value) -> &Vec<Value> {
    body["inputs"]
        .as_array()
        .expect("batch_body checked the inputs")
}

/// HubSpot's wording when a required field of the body is absent: an
/// invalid-input 400 without a category.
pub(crate) fn missing_attributes(cid: &str, field: &str) -> Response {
    Response::json(
        400,
        &json!({
            "status": "error",
            "message": format!("Invalid input JSON on line 1, column 1: Cannot build batch input, some of required attributes are not set [{field}]"),
            "correlationId": cid,
        }),
    )
}

/// A property value as HubSpot accepts it on the wire: strings, and numbers
/// or booleans which it turns into strings. `null` clears, like `""` [guess].
pub(crate) fn value_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn non_unique(cid: &str, ty: ObjectType, prop: &str) -> Response {
    errors::validation(
        cid,
        &format!(
            "Unable to perform update/upsert by non-unique {} property {prop}",
            ty.type_id()
        ),
    )
}

/// A record as the objects API returns it, with `names` plus the system
/// properties. Unset requested properties come back as `null`.
pub(crate) fn object_json(rec: &Record, ty: ObjectType, names: &[&str], nulls: bool) -> Value {
    let mut props = Map::new();
    for sys in ["hs_object_id", "createdate", ty.modified_prop()] {
        if let Some(v) = rec.props.get(sys) {
            props.insert(sys.into(), json!(v));
        }
    }
    for &n in names {
        match rec.props.get(n) {
            Some(v) => {
                props.insert(n.into(), json!(v));
            }
            None if nulls => {
                props.insert(n.into(), Value::Null);
            }
            None => {
                props.insert(n.into(), json!(""));
            }
        }
    }
    json!({
        "id": rec.id.to_string(),
        "properties": props,
        "createdAt": clock::iso(rec.created_ms),
        "updatedAt": clock::iso(rec.updated_ms),
        "archived": false,
    })
}
