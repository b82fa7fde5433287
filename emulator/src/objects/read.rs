//! Reading records: batch read by id or unique property, get one, and the
//! paged list. Reads take the store lock only to copy out what they return.

use super::{missing_attributes, non_unique, object_json, value_string, MAX_BATCH};
use crate::clock;
use crate::errors;
use crate::http::Response;
use crate::hub::Ctx;
use crate::schema::{ObjectType, Schema};
use serde_json::{json, Value};
use std::collections::HashSet;

/// The properties a read returns: those asked for that exist, or the
/// type's defaults.
fn read_names<'a>(schema: &Schema, asked: &'a [String]) -> Vec<&'a str> {
    if asked.is_empty() {
        return schema.ty.default_props().to_vec();
    }
    asked
        .iter()
        .map(String::as_str)
        .filter(|n| schema.get(n).is_some())
        .collect()
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `POST …/batch/read`: found records in input order; missing ones listed in
/// one OBJECT_NOT_FOUND error of a 207.
pub(super) fn batch_read(ctx: &Ctx, ty: ObjectType, body: &Value, inputs: &[Value]) -> Response {
    let started = clock::now_ms();
    let schema = ctx.hub.schema(ty);
    let id_prop = body
        .get("idProperty")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty() && *p != "hs_object_id");
    if let Some(p) = id_prop {
        if !schema.is_key(p) {
            return non_unique(ctx.cid, ty, p);
        }
    }
    let asked = string_list(body.get("properties"));
    let mut names = read_names(&schema, &asked);
    // The key a read looked records up by comes back among the properties.
    if let Some(p) = id_prop.filter(|p| !names.contains(p)) {
        names.push(p);
    }
    let mut ids = Vec::with_capacity(inputs.len());
    for i in inputs {
        match i.get("id").and_then(value_string) {
            Some(id) => ids.push(id),
            None => return missing_attributes(ctx.cid, "id"),
        }
    }
    let store = ctx.hub.store(ty);
    let mut results = Vec::new();
    let mut missing = Vec::new();
    let mut returned = HashSet::new();
    for id in &ids {
        match store.lookup(id_prop, id) {
            Some(rid) => {
                if returned.insert(rid) {
                    results.push(object_json(&store.records[&rid], ty, &names, true));
                }
            }
            None => missing.push(id.clone()),
        }
    }
    drop(store);
    let mut b = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": clock::iso(started),
        "completedAt": clock::iso(clock::now_ms()),
    });
    if missing.is_empty() {
        return Response::json(200, &b);
    }
    b["numErrors"] = json!(1);
    b["errors"] = json!([{
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": format!(
            "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
            ty.upper()
        ),
        "context": { "ids": missing },
        "errors": [],
        "links": {},
    }]);
    Response::json(207, &b)
}

/// `GET /crm/v3/objects/{type}/{id}[?idProperty=…&properties=…]`.
pub(crate) fn get_one(ctx: &Ctx, ty: ObjectType, id: &str) -> Response {
    if let Err(r) = ctx.require(&[ty.object_scope("read")]) {
        return r;
    }
    let schema = ctx.hub.schema(ty);
    let id_prop = ctx
        .query("idProperty")
        .filter(|p| !p.is_empty() && p != "hs_object_id");
    if let Some(p) = &id_prop {
        if !schema.is_key(p) {
            return non_unique(ctx.cid, ty, p);
        }
    }
    let asked = ctx.query_list("properties");
    let names = read_names(&schema, &asked);
    let store = ctx.hub.store(ty);
    match store.lookup(id_prop.as_deref(), id) {
        Some(rid) => Response::json(200, &object_json(&store.records[&rid], ty, &names, true)),
        None => errors::not_found(ctx.cid, "resource not found"),
    }
}

/// `GET /crm/v3/objects/{type}?limit=&after=&properties=`: pages in id
/// order; `paging.next.after` is the next id.
pub(crate) fn list(ctx: &Ctx, ty: ObjectType) -> Response {
    if let Err(r) = ctx.require(&[ty.object_scope("read")]) {
        return r;
    }
    let limit = match ctx.query("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(l)) if (1..=MAX_BATCH).contains(&l) => l,
        Some(_) => {
            return errors::validation(
                ctx.cid,
                &format!("limit must be a number between 1 and {MAX_BATCH}"),
            )
        }
    };
    let after: u64 = match ctx.query("after").map(|a| a.parse::<u64>()) {
        None => 0,
        Some(Ok(a)) => a,
        Some(Err(_)) => return errors::validation(ctx.cid, "after must be a paging cursor"),
    };
    let schema = ctx.hub.schema(ty);
    let asked = ctx.query_list("properties");
    let names = read_names(&schema, &asked);
    let store = ctx.hub.store(ty);
    let mut page = store.records.range(after..);
    let results: Vec<Value> = page
        .by_ref()
        .take(limit)
        .map(|(_, r)| object_json(r, ty, &names, true))
        .collect();
    let next = page.next().map(|(id, _)| *id);
    drop(store);
    let mut b = json!({ "results": results });
    if let Some(next) = next {
        b["paging"] = json!({
            "next": {
                "after": next.to_string(),
                "link": format!(
                    "{}{}/{}?after={next}",
                    ctx.hub.base_url,
                    ctx.family.crm_prefix("objects"),
                    ty.name()
                ),
            }
        });
    }
    Response::json(200, &b)
}
