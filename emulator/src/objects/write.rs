//! Batch upsert, create and update, in three steps: parse and check every
//! input against the property definitions (no lock), plan them against the
//! store (lock held: see `plan`), then apply the plan — or nothing, when
//! the whole batch must fail. Also the batch answer itself.

use super::failure::InputError;
use super::plan::{plan_one, PlanError, Planned};
use super::{missing_attributes, non_unique, object_json, value_string};
use crate::clock;
use crate::errors;
use crate::http::Response;
use crate::hub::Ctx;
use crate::options::{EmailUpsertMode, ValidationErrorMode};
use crate::routes::BatchOp;
use crate::schema::{check_value, ObjectType, PropError, Schema};
use crate::store::{normalise, ObjectStore};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// One input after parsing and format checks.
pub(super) struct Input {
    /// `objectWriteTraceId`, echoed in the input's error.
    pub(super) trace: Option<String>,
    /// (idProperty — `None` means the record id —, id as given)
    pub(super) key: Option<(Option<String>, String)>,
    /// Checked values as stored (`""` clears).
    pub(super) changes: Vec<(String, String)>,
    /// Failed property checks; an input with any is not planned.
    pub(super) errors: Vec<PropError>,
}

/// Parses and checks one write input. `Err` is a whole-batch answer.
fn parse_input(ctx: &Ctx, schema: &Schema, op: BatchOp, raw: &Value) -> Result<Input, Response> {
    let Some(obj) = raw.as_object() else {
        return Err(missing_attributes(ctx.cid, "properties"));
    };
    let trace = obj.get("objectWriteTraceId").and_then(value_string);
    let mut input = Input {
        trace,
        key: None,
        changes: Vec::new(),
        errors: Vec::new(),
    };
    if op != BatchOp::Create {
        let Some(id) = obj
            .get("id")
            .and_then(value_string)
            .filter(|s| !s.is_empty())
        else {
            return Err(missing_attributes(ctx.cid, "id"));
        };
        let id_prop = obj
            .get("idProperty")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty() && *p != "hs_object_id")
            .map(str::to_string);
        if let Some(p) = &id_prop {
            if !schema.is_key(p) {
                return Err(non_unique(ctx.cid, schema.ty, p));
            }
            // The key value must itself be valid: an upsert by email with a
            // bad address fails like a bad `email` property.
            if let Some(Err(e)) = schema.get(p).map(|def| check_value(def, &id)) {
                input.errors.push(e);
            }
        }
        input.key = Some((id_prop, id));
    }
    let props = match obj.get("properties") {
        None | Some(Value::Null) if op != BatchOp::Create => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        _ => return Err(missing_attributes(ctx.cid, "properties")),
    };
    for (name, v) in &props {
        let Some(v) = value_string(v) else {
            input.errors.push(PropError::new(
                name,
                "INVALID_PROPERTY_VALUE",
                format!("Property {name} must be a string"),
            ));
            continue;
        };
        match schema.check(name, &v) {
            Ok(v) => input.changes.push((name.clone(), v)),
            Err(e) => input.errors.push(e),
        }
    }
    Ok(input)
}

/// Batch upsert, create and update; `single` makes every failure a
/// whole-request error (the single-object endpoints).
pub(super) fn batch_write(
    ctx: &Ctx,
    ty: ObjectType,
    op: BatchOp,
    raw_inputs: &[Value],
    single: bool,
) -> Response {
    let started = clock::now_ms();
    let schema = ctx.hub.schema(ty);
    let inputs = match raw_inputs
        .iter()
        .map(|raw| parse_input(ctx, &schema, op, raw))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(inputs) => inputs,
        Err(r) => return r,
    };
    if let Some(r) = duplicate_keys(ctx.cid, &inputs) {
        return r;
    }
    let style = Style::of(ctx, op, &inputs, single);
    let mut failed = property_failures(&inputs);
    if !style.partial {
        if let Some((n, e)) = failed.first() {
            return e.whole(ctx.cid, inputs[*n].trace.as_deref());
        }
    }
    let mut store = ctx.hub.store(ty);
    let plans = match plan_all(ctx, &schema, &store, op, &inputs, style, &mut failed) {
        Ok(plans) => plans,
        Err(r) => return r,
    };
    let results = apply(&mut store, op, &plans, &inputs);
    drop(store);

    failed.sort_by_key(|(n, _)| *n);
    let status = match (op, failed.is_empty()) {
        (_, false) => 207,
        (BatchOp::Create, true) => 201,
        _ => 200,
    };
    batch_response(status, results, &failed, &inputs, started)
}

/// Duplicate keys fail the whole batch, compared as the store compares them
/// (emails case-insensitively).
fn duplicate_keys(cid: &str, inputs: &[Input]) -> Option<Response> {
    let mut seen = HashSet::new();
    let mut dups = Vec::new();
    for i in inputs {
        if let Some((p, id)) = &i.key {
            let p = p.as_deref().unwrap_or("hs_object_id");
            let k = normalise(p, id);
            if !seen.insert((p.to_string(), k.clone())) && !dups.contains(&k) {
                dups.push(k);
            }
        }
    }
    if dups.is_empty() {
        return None;
    }
    let mut b = errors::body(
        cid,
        "VALIDATION_ERROR",
        &format!(
            "Duplicate IDs found in batch input: [{}]. IDs must be unique",
            dups.join(", ")
        ),
    );
    b["context"] = json!({ "ids": dups });
    Some(Response::json(400, &b))
}

/// Which failures of a batch become 207 entries rather than failing the
/// whole batch.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// Property-value, not-found and conflict failures.
    partial: bool,
    /// Admin-rule violations (2026-09), which have their own setting.
    rules_partial: bool,
}

impl Style {
    fn of(ctx: &Ctx, op: BatchOp, inputs: &[Input], single: bool) -> Style {
        let opts = &ctx.hub.opts;
        // HubSpot does not support partial upserts by email: by default one
        // bad input fails the whole batch. Everything else answers 207.
        let by_email = op == BatchOp::Upsert
            && inputs
                .iter()
                .any(|i| matches!(&i.key, Some((Some(p), _)) if p == "email"));
        let whole_email = by_email && opts.email_upsert_mode == EmailUpsertMode::WholeBatch;
        Style {
            partial: !(single || whole_email),
            rules_partial: !single
                && opts.validation_error_mode == ValidationErrorMode::MultiStatus,
        }
    }
}

/// The inputs whose property values failed their checks, by index.
fn property_failures(inputs: &[Input]) -> Vec<(usize, InputError)> {
    inputs
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.errors.is_empty())
        .map(|(n, i)| {
            let id = i.key.as_ref().map(|(_, id)| id.as_str());
            (n, InputError::from_props(&i.errors, id))
        })
        .collect()
}

/// Plans every input without property errors, collecting per-input failures
/// in `failed`; `Err` is the whole batch's answer.
fn plan_all(
    ctx: &Ctx,
    schema: &Schema,
    store: &ObjectStore,
    op: BatchOp,
    inputs: &[Input],
    style: Style,
    failed: &mut Vec<(usize, InputError)>,
) -> Result<Vec<Planned>, Response> {
    let mut plans = Vec::new();
    let mut claims: HashMap<(String, String), u64> = HashMap::new();
    for (n, input) in inputs.iter().enumerate() {
        if !input.errors.is_empty() {
            continue;
        }
        let trace = input.trace.as_deref();
        match plan_one(ctx, schema, store, op, input, &mut claims) {
            Ok(p) => plans.push(Planned { input: n, ..p }),
            Err(PlanError::Whole(r)) => return Err(r),
            Err(PlanError::Input(e)) if !style.partial => return Err(e.whole(ctx.cid, trace)),
            Err(PlanError::Rule(e)) if !style.rules_partial => return Err(e.whole(ctx.cid, trace)),
            Err(PlanError::Input(e) | PlanError::Rule(e)) => failed.push((n, e)),
        }
    }
    Ok(plans)
}

/// Writes the plans and returns each written record as the batch reports
/// it.
fn apply(store: &mut ObjectStore, op: BatchOp, plans: &[Planned], inputs: &[Input]) -> Vec<Value> {
    let now = clock::now_ms();
    let ty = store.ty;
    let mut results = Vec::with_capacity(plans.len());
    for p in plans {
        let rec = if p.new {
            store.create(p.id, &p.changes, now).clone()
        } else {
            store.update(p.id, &p.changes, now);
            store.records[&p.id].clone()
        };
        let input = &inputs[p.input];
        let mut names: Vec<&str> = p.changes.iter().map(|(k, _)| k.as_str()).collect();
        // Report every property the input named, even an ignored backward
        // lifecycle move: HubSpot answers with the value it kept.
        for (k, _) in &input.changes {
            names.push(k);
        }
        if let Some((Some(kp), _)) = &input.key {
            names.push(kp);
        }
        let mut v = object_json(&rec, ty, &names, false);
        if op == BatchOp::Upsert {
            v["new"] = json!(p.new);
        }
        results.push(v);
    }
    results
}

/// `{"status":"COMPLETE","results":[…],"startedAt","completedAt"}`, plus
/// `errors`/`numErrors` when some inputs failed.
fn batch_response(
    status: u16,
    results: Vec<Value>,
    failed: &[(usize, InputError)],
    inputs: &[Input],
    started: i64,
) -> Response {
    let mut b = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": clock::iso(started),
        "completedAt": clock::iso(clock::now_ms()),
    });
    if !failed.is_empty() {
        b["numErrors"] = json!(failed.len());
        b["errors"] = failed
            .iter()
            .map(|(n, e)| e.to_json(inputs.get(*n).and_then(|i| i.trace.as_deref())))
            .collect();
    }
    Response::json(status, &b)
}
