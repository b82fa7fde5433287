//! The single-object endpoints: create, update and delete one record. A
//! create or update runs as a one-input batch through the write pipeline and
//! is answered as a single object, or as one whole-request error.

use super::write::batch_write;
use crate::http::Response;
use crate::hub::Ctx;
use crate::routes::BatchOp;
use crate::schema::ObjectType;
use serde_json::{json, Value};

/// `POST /crm/v3/objects/{type}` (create, 201) and
/// `PATCH /crm/v3/objects/{type}/{id}[?idProperty=]` (update, 200): one
/// input through the batch path, answered as a single object or as one
/// whole-request error (400, 404, 409).
pub(crate) fn write_one(ctx: &Ctx, ty: ObjectType, id: Option<&str>) -> Response {
    if let Err(r) = ctx.require(&[ty.object_scope("write")]) {
        return r;
    }
    let mut input = match ctx.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let op = match id {
        None => BatchOp::Create,
        Some(id) => {
            input["id"] = json!(id);
            if let Some(p) = ctx.query("idProperty") {
                input["idProperty"] = json!(p);
            }
            BatchOp::Update
        }
    };
    let resp = batch_write(ctx, ty, op, &[input], true);
    if !(200..300).contains(&resp.status) {
        return resp;
    }
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let mut one = body["results"][0].clone();
    if let Some(m) = one.as_object_mut() {
        m.remove("new");
    }
    let status = if op == BatchOp::Create { 201 } else { 200 };
    Response::json(status, &one)
}

/// `DELETE /crm/v3/objects/{type}/{id}`: 204, also for unknown ids.
pub(crate) fn delete_one(ctx: &Ctx, ty: ObjectType, id: &str) -> Response {
    if let Err(r) = ctx.require(&[ty.object_scope("write")]) {
        return r;
    }
    let mut store = ctx.hub.store(ty);
    if let Some(rid) = store.lookup(None, id) {
        ctx.hub.archive(&mut store, rid);
    }
    Response::empty(204)
}
