//! How a failed input is answered: as one entry of a 207's `errors[]`, or
//! as the whole batch's error when the batch must fail together. Shapes
//! only; which failures happen, and which style applies, is decided by the
//! write pipeline.

use crate::errors;
use crate::http::Response;
use crate::rules::Violation;
use crate::schema::PropError;
use serde_json::{json, Map, Value};

/// Why one input failed, for its 207 error entry.
pub(super) struct InputError {
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
    pub(super) fn plain(
        status: u16,
        category: &'static str,
        message: String,
        ids: Vec<String>,
    ) -> Self {
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
    pub(super) fn from_rules(violations: &[Violation], id: Option<&str>) -> Self {
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

    pub(super) fn from_props(errs: &[PropError], id: Option<&str>) -> Self {
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
    pub(super) fn to_json(&self, trace: Option<&str>) -> Value {
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
    pub(super) fn whole(&self, cid: &str, trace: Option<&str>) -> Response {
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
