//! The CRM object endpoints: batch upsert/create/update/read/archive, get one,
//! list. A write goes in three steps: parse and check every input against
//! the property definitions (no lock), plan it against the store (lock held:
//! resolve ids, lifecycle rule, unique values), then apply the plan — or
//! nothing, when the whole batch must fail.

use crate::clock;
use crate::errors;
use crate::http::Response;
use crate::hub::Ctx;
use crate::options::{BackwardLifecycle, EmailUpsertMode, ValidationErrorMode};
use crate::routes::BatchOp;
use crate::rules::{self, Violation};
use crate::schema::{check_value, ObjectType, PropError, Schema};
use crate::store::{normalise, ObjectStore, Record};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// Most inputs a batch accepts.
pub(crate) const MAX_BATCH: usize = 100;

/// Serves `POST /crm/v3/objects/{type}/batch/{op}`.
pub(crate) fn batch(ctx: &Ctx, ty: ObjectType, op: BatchOp) -> Response {
    let access = if op == BatchOp::Read { "read" } else { "write" };
    if let Err(r) = ctx.require(&[ty.object_scope(access)]) {
        return r;
    }
    let body = match ctx.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(inputs) = body.get("inputs").and_then(Value::as_array) else {
        return missing_attributes(ctx.cid, "inputs");
    };
    ctx.inputs.set(Some(inputs.len()));
    if inputs.len() > MAX_BATCH {
        return errors::validation(
            ctx.cid,
            &format!(
                "Batch input size {} exceeds the maximum of {MAX_BATCH} inputs per request.",
                inputs.len()
            ),
        );
    }
    match op {
        BatchOp::Read => batch_read(ctx, ty, &body, inputs),
        BatchOp::Archive => batch_archive(ctx, ty, inputs),
        _ => batch_write(ctx, ty, op, inputs, false),
    }
}

/// HubSpot's wording when a required field of the body is absent: an
/// invalid-input 400 without a category.
fn missing_attributes(cid: &str, field: &str) -> Response {
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
fn value_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// One input after parsing and format checks.
struct Input {
    trace: Option<String>,
    /// (idProperty — `None` means the record id —, id as given)
    key: Option<(Option<String>, String)>,
    changes: Vec<(String, String)>,
    errors: Vec<PropError>,
}

/// Why one input failed, for its 207 error entry.
struct InputError {
    status: u16,
    category: &'static str,
    message: String,
    details: Vec<Value>,
    ids: Vec<String>,
    /// More `context` entries (each a list), e.g. `propertyName`.
    context: Map<String, Value>,
    /// The whole-batch answer carries `context` and `errors` too, as the
    /// admin-rule errors do; the older property checks nest their details
    /// in the message instead.
    detailed_whole: bool,
}

impl InputError {
    /// A failure without per-property details (not found, conflict).
    fn plain(status: u16, category: &'static str, message: String, ids: Vec<String>) -> Self {
        InputError {
            status,
            category,
            message,
            details: Vec::new(),
            ids,
            context: Map::new(),
            detailed_whole: false,
        }
    }

    /// Broken admin write rules (2026-09): HubSpot's fixed message, one
    /// detail per rule, and the properties in `context.propertyName`.
    fn from_rules(violations: &[Violation], id: Option<&str>) -> Self {
        let names: Vec<&str> = violations.iter().map(|v| v.property.as_str()).collect();
        let mut e = InputError::plain(
            400,
            "VALIDATION_ERROR",
            "The property values provided are invalid".to_string(),
            id.map(|s| vec![s.to_string()]).unwrap_or_default(),
        );
        e.details = violations
            .iter()
            .map(|v| {
                json!({
                    "code": v.code,
                    "message": v.message,
                    "context": { "propertyName": [v.property] },
                })
            })
            .collect();
        e.context.insert("propertyName".into(), json!(names));
        e.detailed_whole = true;
        e
    }

    fn from_props(errs: &[PropError], id: Option<&str>) -> Self {
        InputError {
            context: Map::new(),
            detailed_whole: false,
            status: 400,
            category: "VALIDATION_ERROR",
            message: props_message(errs),
            details: errs
                .iter()
                .map(|e| {
                    json!({
                        "message": e.message,
                        "code": e.code,
                        "in": e.name,
                        "context": { "propertyName": [e.name] },
                    })
                })
                .collect(),
            ids: id.map(|s| vec![s.to_string()]).unwrap_or_default(),
        }
    }

    /// `context`: the input's trace id and id (each as a one-element list),
    /// then the error's own entries.
    fn context_json(&self, trace: Option<&str>) -> Map<String, Value> {
        let mut context = Map::new();
        if let Some(t) = trace {
            context.insert("objectWriteTraceId".into(), json!([t]));
        }
        if !self.ids.is_empty() {
            context.insert("ids".into(), json!(self.ids));
        }
        context.extend(self.context.clone());
        context
    }

    /// The 207 `errors[]` entry: HubSpot's standard error, with the input's
    /// `objectWriteTraceId` both in `context` (as a one-element list, like
    /// every context value) and at the top level.
    fn to_json(&self, trace: Option<&str>) -> Value {
        let mut v = json!({
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": self.context_json(trace),
            "errors": self.details,
            "links": {},
        });
        if let Some(t) = trace {
            v["objectWriteTraceId"] = json!(t);
        }
        v
    }

    /// The same failure as a whole-batch answer; `trace` is the failed
    /// input's `objectWriteTraceId`, named in a detailed answer.
    fn whole(&self, cid: &str, trace: Option<&str>) -> Response {
        let mut b = errors::body(cid, self.category, &self.message);
        if self.detailed_whole {
            b["context"] = json!(self.context_json(trace));
            b["errors"] = json!(self.details);
        } else if !self.ids.is_empty() && self.category != "VALIDATION_ERROR" {
            b["context"] = json!({ "ids": self.ids });
        }
        Response::json(self.status, &b)
    }
}

/// `Property values were not valid: [{…}]`: the details as JSON inside the
/// message string, exactly as HubSpot nests them.
fn props_message(errs: &[PropError]) -> String {
    let list: Vec<Value> = errs.iter().map(PropError::to_json).collect();
    format!(
        "Property values were not valid: {}",
        serde_json::to_string(&list).unwrap_or_default()
    )
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

/// The planned effect of one valid input.
struct Planned {
    input: usize,
    id: u64,
    new: bool,
    changes: Vec<(String, String)>,
}

/// Batch upsert, create and update; `single` makes every failure a
/// whole-request error (the single-object endpoints).
fn batch_write(
    ctx: &Ctx,
    ty: ObjectType,
    op: BatchOp,
    raw_inputs: &[Value],
    single: bool,
) -> Response {
    let started = clock::now_ms();
    let hub = ctx.hub;
    let schema = hub.schema(ty);
    let mut inputs = Vec::with_capacity(raw_inputs.len());
    for raw in raw_inputs {
        match parse_input(ctx, &schema, op, raw) {
            Ok(i) => inputs.push(i),
            Err(r) => return r,
        }
    }

    // Duplicate keys fail the whole batch, compared as the store compares
    // them (emails case-insensitively).
    let mut seen = HashSet::new();
    let mut dups = Vec::new();
    for i in &inputs {
        if let Some((p, id)) = &i.key {
            let p = p.as_deref().unwrap_or("hs_object_id");
            let k = normalise(p, id);
            if !seen.insert((p.to_string(), k.clone())) && !dups.contains(&k) {
                dups.push(k);
            }
        }
    }
    if !dups.is_empty() {
        let mut b = errors::body(
            ctx.cid,
            "VALIDATION_ERROR",
            &format!(
                "Duplicate IDs found in batch input: [{}]. IDs must be unique",
                dups.join(", ")
            ),
        );
        b["context"] = json!({ "ids": dups });
        return Response::json(400, &b);
    }

    // HubSpot does not support partial upserts by email: by default one bad
    // input fails the whole batch. Everything else answers 207 per input.
    let by_email = op == BatchOp::Upsert
        && inputs
            .iter()
            .any(|i| matches!(&i.key, Some((Some(p), _)) if p == "email"));
    let whole_email = by_email && hub.opts.email_upsert_mode == EmailUpsertMode::WholeBatch;
    let partial = !(single || whole_email);
    // Admin-rule violations (2026-09) have their own, configurable style.
    let rules_partial =
        !single && hub.opts.validation_error_mode == ValidationErrorMode::MultiStatus;
    let mut failed: Vec<(usize, InputError)> = Vec::new();
    for (n, i) in inputs.iter().enumerate() {
        if !i.errors.is_empty() {
            let id = i.key.as_ref().map(|(_, id)| id.as_str());
            failed.push((n, InputError::from_props(&i.errors, id)));
        }
    }
    if !partial {
        if let Some((n, e)) = failed.first() {
            return e.whole(ctx.cid, inputs[*n].trace.as_deref());
        }
    }

    let now = clock::now_ms();
    let mut store = hub.store(ty);
    let mut plans = Vec::new();
    let mut claims: HashMap<(String, String), u64> = HashMap::new();
    for (n, input) in inputs.iter().enumerate() {
        if !input.errors.is_empty() {
            continue;
        }
        match plan_one(ctx, &schema, &store, op, input, &mut claims) {
            Ok(p) => plans.push(Planned { input: n, ..p }),
            Err(PlanError::Whole(r)) => return r,
            Err(PlanError::Input(e)) if !partial => {
                return e.whole(ctx.cid, input.trace.as_deref())
            }
            Err(PlanError::Rule(e)) if !rules_partial => {
                return e.whole(ctx.cid, input.trace.as_deref())
            }
            Err(PlanError::Input(e) | PlanError::Rule(e)) => failed.push((n, e)),
        }
    }

    let mut results = Vec::with_capacity(plans.len());
    for p in &plans {
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
    drop(store);

    failed.sort_by_key(|(n, _)| *n);
    let status = match (op, failed.is_empty()) {
        (_, false) => 207,
        (BatchOp::Create, true) => 201,
        _ => 200,
    };
    batch_response(status, results, &failed, &inputs, started)
}

enum PlanError {
    /// The whole batch fails with this answer.
    Whole(Response),
    /// The input fails; whole-batch or 207 as the upsert mode says.
    Input(InputError),
    /// The input breaks an admin write rule; whole-batch or 207 as
    /// `validation_error_mode` says.
    Rule(InputError),
}

/// Resolves one valid input against the store: target record, lifecycle
/// rule, unique-value conflicts.
fn plan_one(
    ctx: &Ctx,
    schema: &Schema,
    store: &ObjectStore,
    op: BatchOp,
    input: &Input,
    claims: &mut HashMap<(String, String), u64>,
) -> Result<Planned, PlanError> {
    let ty = schema.ty;
    let mut changes = input.changes.clone();
    let (id, new) = match (&input.key, op) {
        (None, _) => (ctx.hub.alloc_id(), true),
        (Some((prop, key)), _) => match store.lookup(prop.as_deref(), key) {
            Some(id) => (id, false),
            None if op == BatchOp::Upsert && prop.is_some() => {
                let prop = prop.clone().unwrap_or_default();
                let value = schema
                    .get(&prop)
                    .and_then(|def| check_value(def, key).ok())
                    .unwrap_or_else(|| key.clone());
                // The key value is written first; an explicit property of
                // the same name in the input wins.
                if !changes.iter().any(|(k, _)| *k == prop) {
                    changes.insert(0, (prop, value));
                }
                (ctx.hub.alloc_id(), true)
            }
            None => {
                return Err(PlanError::Input(InputError::plain(
                    404,
                    "OBJECT_NOT_FOUND",
                    format!("Could not find {} with id {key}", ty.upper()),
                    vec![key.clone()],
                )))
            }
        },
    };

    let existing = (!new).then(|| &store.records[&id]);
    if let Some(rec) = existing {
        lifecycle_rule(ctx, schema, rec, &mut changes)?;
    }
    admin_rules(ctx, schema, existing, input, &changes)?;

    for (p, v) in &changes {
        if v.is_empty() || !store.is_unique(p) {
            continue;
        }
        let k = (p.clone(), normalise(p, v));
        let owner = claims.get(&k).copied().or_else(|| store.owner(p, v));
        match owner {
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
    Ok(Planned {
        input: 0,
        id,
        new,
        changes,
    })
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
fn batch_read(ctx: &Ctx, ty: ObjectType, body: &Value, inputs: &[Value]) -> Response {
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
    let names = read_names(&schema, &asked);
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
            store.archive(rid);
        }
    }
    Response::empty(204)
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
        store.archive(rid);
    }
    Response::empty(204)
}
