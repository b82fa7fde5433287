//! The associations API, v4 shapes (`/crm/v4/associations/{from}/{to}/batch/…`
//! and `/crm/associations/VER/…`): associate with the default type, create
//! with given types, read. `types` holds the type table, `store` the links;
//! this file parses batches, checks records and types, and shapes answers.
//! Whether a missing record fails the whole batch or one input follows
//! `validation_error_mode`.

mod store;
mod types;

pub(crate) use store::AssocStore;

use crate::clock;
use crate::errors;
use crate::http::Response;
use crate::hub::Ctx;
use crate::objects::{batch_body, inputs_of, missing_attributes, value_string};
use crate::options::ValidationErrorMode;
use crate::schema::ObjectType;
use crate::store::Record;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use types::{AssocType, HUBSPOT_DEFINED};

/// One association batch operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AssocOp {
    AssociateDefault,
    Create,
    Read,
}

impl AssocOp {
    /// The path below `…/batch/`.
    pub fn path(self) -> &'static str {
        match self {
            AssocOp::AssociateDefault => "associate/default",
            AssocOp::Create => "create",
            AssocOp::Read => "read",
        }
    }

    /// Most inputs one call takes.
    fn max_inputs(self) -> usize {
        match self {
            AssocOp::Read => 1_000,
            _ => 2_000,
        }
    }
}

/// Serves `POST …/{from}/{to}/batch/{op}`.
pub(crate) fn batch(ctx: &Ctx, from: ObjectType, to: ObjectType, op: AssocOp) -> Response {
    let from_access = if op == AssocOp::Read { "read" } else { "write" };
    for scope in [from.object_scope(from_access), to.object_scope("read")] {
        if let Err(r) = ctx.require(&[scope]) {
            return r;
        }
    }
    let body = match batch_body(ctx, op.max_inputs()) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let inputs = inputs_of(&body);
    match op {
        AssocOp::Read => read(ctx, from, to, inputs),
        _ => write(ctx, from, to, op, inputs),
    }
}

/// One write input: record ids as given, and the requested types as
/// (category, type id).
struct Link {
    from: String,
    to: String,
    types: Vec<(String, i64)>,
}

/// Parses the write inputs; `Err` is the whole request's 400.
fn parse_links(
    ctx: &Ctx,
    from: ObjectType,
    to: ObjectType,
    op: AssocOp,
    inputs: &[Value],
) -> Result<Vec<Link>, Response> {
    let id = |v: &Value, side: &str| v.get(side).and_then(|o| o.get("id")).and_then(value_string);
    let default = types::default_for(from, to);
    let mut links = Vec::with_capacity(inputs.len());
    for input in inputs {
        let (Some(f), Some(t)) = (id(input, "from"), id(input, "to")) else {
            return Err(missing_attributes(ctx.cid, "from, to"));
        };
        let types = match (op, default) {
            (AssocOp::AssociateDefault, Some(d)) => {
                vec![(HUBSPOT_DEFINED.to_string(), d.id.into())]
            }
            (AssocOp::AssociateDefault, None) => {
                return Err(errors::validation(
                    ctx.cid,
                    &format!(
                        "There is no default association type from {} to {}",
                        from.name(),
                        to.name()
                    ),
                ))
            }
            _ => match input.get("types").and_then(Value::as_array) {
                Some(list) if !list.is_empty() => list.iter().map(type_spec).collect(),
                _ => return Err(missing_attributes(ctx.cid, "types")),
            },
        };
        links.push(Link {
            from: f,
            to: t,
            types,
        });
    }
    Ok(links)
}

/// `{"associationCategory","associationTypeId"}` as given (a type id that is
/// not a number becomes -1, which no type has).
fn type_spec(v: &Value) -> (String, i64) {
    let category = v
        .get("associationCategory")
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = v.get("associationTypeId");
    let id = id
        .and_then(Value::as_i64)
        .or_else(|| id.and_then(Value::as_str).and_then(|s| s.parse().ok()))
        .unwrap_or(-1);
    (category.to_string(), id)
}

/// The record id `raw` names, if that record exists.
fn existing(ids: &BTreeMap<u64, Record>, raw: &str) -> Option<u64> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|id| ids.contains_key(id))
}

/// Associate-default and create: check records (all inputs first, so a
/// whole-batch failure writes nothing), then types per input, then write.
/// The two stores stay locked throughout, so no record is archived under a
/// new link.
fn write(ctx: &Ctx, from: ObjectType, to: ObjectType, op: AssocOp, inputs: &[Value]) -> Response {
    let started = clock::now_ms();
    let links = match parse_links(ctx, from, to, op, inputs) {
        Ok(l) => l,
        Err(r) => return r,
    };
    ctx.hub.with_stores(from, to, |fs, ts| {
        let mut found = Vec::new();
        let mut failed: Vec<(usize, Value)> = Vec::new();
        for (n, l) in links.iter().enumerate() {
            match (existing(&fs.records, &l.from), existing(&ts.records, &l.to)) {
                (Some(f), Some(t)) => found.push((n, f, t)),
                (f, t) => {
                    let e = missing_error(
                        from,
                        to,
                        f.is_none().then_some(&l.from),
                        t.is_none().then_some(&l.to),
                    );
                    if ctx.hub.opts.validation_error_mode == ValidationErrorMode::WholeBatch {
                        return whole(ctx.cid, e);
                    }
                    failed.push((n, e));
                }
            }
        }
        let mut results = Vec::new();
        let mut store = ctx.hub.associations();
        for (n, f, t) in found {
            match resolve(from, to, &links[n].types) {
                Ok(list) => {
                    for ty in &list {
                        store.add(ty, f, t);
                    }
                    results.push(write_result(op, from, to, f, t, &list));
                }
                Err(e) => failed.push((n, type_error(from, to, &links[n], e))),
            }
        }
        drop(store);
        let ok = if op == AssocOp::Create { 201 } else { 200 };
        answer(ok, results, failed, started)
    })
}

/// The known types for the requested (category, id) pairs, or the first
/// unknown one.
fn resolve(
    from: ObjectType,
    to: ObjectType,
    specs: &[(String, i64)],
) -> Result<Vec<&'static AssocType>, (String, i64)> {
    specs
        .iter()
        .map(|(cat, id)| {
            u32::try_from(*id)
                .ok()
                .filter(|_| cat == HUBSPOT_DEFINED)
                .and_then(|id| types::find(from, to, id))
                .ok_or_else(|| (cat.clone(), *id))
        })
        .collect()
}

/// One result of a write: associate-default echoes the ids and the type,
/// create reports the pair's type ids and the labels written.
fn write_result(
    op: AssocOp,
    from: ObjectType,
    to: ObjectType,
    f: u64,
    t: u64,
    list: &[&AssocType],
) -> Value {
    if op == AssocOp::AssociateDefault {
        return json!({
            "from": { "id": f.to_string() },
            "to": { "id": t.to_string() },
            "associationSpec": { "associationCategory": HUBSPOT_DEFINED, "associationTypeId": list[0].id },
        });
    }
    let mut labels: Vec<&str> = list.iter().filter_map(|t| t.label).collect();
    labels.dedup();
    json!({
        "fromObjectTypeId": from.type_id(),
        "fromObjectId": f,
        "toObjectTypeId": to.type_id(),
        "toObjectId": t,
        "labels": labels,
    })
}

/// The error of an input naming records that do not exist: `context`
/// carries `fromObjectId` and/or `toObjectId`.
fn missing_error(
    from: ObjectType,
    to: ObjectType,
    f: Option<&String>,
    t: Option<&String>,
) -> Value {
    let mut context = Map::new();
    let mut parts = Vec::new();
    if let Some(f) = f {
        context.insert("fromObjectId".into(), json!([f]));
        parts.push(format!("{} with id {f}", from.upper()));
    }
    if let Some(t) = t {
        context.insert("toObjectId".into(), json!([t]));
        parts.push(format!("{} with id {t}", to.upper()));
    }
    entry(
        "VALIDATION_ERROR",
        &format!("Could not find {}", parts.join(" and ")),
        context,
    )
}

/// The error of an input asking for a type the pair does not have.
fn type_error(from: ObjectType, to: ObjectType, l: &Link, (cat, id): (String, i64)) -> Value {
    let mut context = Map::new();
    context.insert("fromObjectId".into(), json!([l.from]));
    context.insert("toObjectId".into(), json!([l.to]));
    context.insert("associationTypeId".into(), json!([id.to_string()]));
    entry(
        "VALIDATION_ERROR",
        &format!(
            "Association type {id} in category {cat} does not exist from {} to {}",
            from.name(),
            to.name()
        ),
        context,
    )
}

/// A 207 `errors[]` entry in HubSpot's standard error shape.
fn entry(category: &str, message: &str, context: Map<String, Value>) -> Value {
    json!({
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    })
}

/// An `errors[]` entry as the whole request's 400.
fn whole(cid: &str, e: Value) -> Response {
    let mut b = errors::body(cid, "VALIDATION_ERROR", e["message"].as_str().unwrap_or(""));
    b["context"] = e["context"].clone();
    Response::json(400, &b)
}

/// `{"status":"COMPLETE","results","startedAt","completedAt"}` with status
/// `ok`, or 207 adding `numErrors` and `errors` (in input order).
fn answer(ok: u16, results: Vec<Value>, mut failed: Vec<(usize, Value)>, started: i64) -> Response {
    let mut b = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": clock::iso(started),
        "completedAt": clock::iso(clock::now_ms()),
    });
    if failed.is_empty() {
        return Response::json(ok, &b);
    }
    failed.sort_by_key(|(n, _)| *n);
    b["numErrors"] = json!(failed.len());
    b["errors"] = failed.into_iter().map(|(_, e)| e).collect();
    Response::json(207, &b)
}

/// `POST …/batch/read`: each existing record's links to `to`, with their
/// types; a record that does not exist or has no links is an error of a
/// 207.
fn read(ctx: &Ctx, from: ObjectType, to: ObjectType, inputs: &[Value]) -> Response {
    let started = clock::now_ms();
    let mut ids = Vec::with_capacity(inputs.len());
    for i in inputs {
        match i.get("id").and_then(value_string) {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => return missing_attributes(ctx.cid, "id"),
        }
    }
    let found: Vec<Option<u64>> = {
        let store = ctx.hub.store(from);
        ids.iter().map(|id| existing(&store.records, id)).collect()
    };
    let links = ctx.hub.associations();
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for (n, (raw, id)) in ids.iter().zip(found).enumerate() {
        let Some(id) = id else {
            let mut e = missing_error(from, to, Some(raw), None);
            e["category"] = json!("OBJECT_NOT_FOUND");
            failed.push((n, e));
            continue;
        };
        let partners: Vec<Value> = links
            .partners(from, to, id)
            .map(|(other, type_ids)| {
                let list: Vec<Value> = type_ids
                    .iter()
                    .map(|&t| {
                        let label = types::find(from, to, t).and_then(|t| t.label);
                        json!({ "category": HUBSPOT_DEFINED, "typeId": t, "label": label })
                    })
                    .collect();
                json!({ "toObjectId": other, "associationTypes": list })
            })
            .collect();
        if partners.is_empty() {
            failed.push((n, no_links(from, to, raw)));
        } else {
            results.push(json!({ "from": { "id": raw }, "to": partners }));
        }
    }
    drop(links);
    answer(200, results, failed, started)
}

/// The error of a read input whose record has no links to `to`.
fn no_links(from: ObjectType, to: ObjectType, id: &str) -> Value {
    let mut context = Map::new();
    context.insert("fromObjectId".into(), json!([id]));
    let mut e = entry(
        "OBJECT_NOT_FOUND",
        &format!(
            "No {} is associated with {} {id}.",
            to.name(),
            from.label().to_lowercase()
        ),
        context,
    );
    e["subCategory"] = json!("crm.associations.NO_ASSOCIATIONS_FOUND");
    e
}
