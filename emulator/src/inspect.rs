//! The `/_emulator/*` endpoints: outside HubSpot's namespace, unauthenticated,
//! not numbered, not rate limited. They let a test or a person at a shell see
//! what the emulator holds and steer it while it runs.

use crate::errors;
use crate::http::{Request, Response};
use crate::hub::Hub;
use crate::options::{Fault, FaultPlan};
use crate::schema::ObjectType;
use serde_json::{json, Value};

/// Serves one inspection request.
pub(crate) fn handle(hub: &Hub, req: &Request) -> Response {
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').skip(1).collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["health"]) => Response::json(200, &json!({ "status": "ok" })),
        ("GET", ["contacts"]) => objects(hub, ObjectType::Contacts),
        ("GET", ["objects", ty]) => match ObjectType::parse(ty, hub.opts.portal_id) {
            Some(ty) => objects(hub, ty),
            None => errors::not_found("", "unknown object type"),
        },
        ("GET", ["associations"]) => associations(hub, req),
        ("GET", ["stats"]) => Response::json(
            200,
            &serde_json::to_value(hub.stats.snapshot(hub.access.daily_used())).unwrap_or_default(),
        ),
        ("POST", ["reset"]) => {
            hub.reset();
            Response::json(200, &json!({ "status": "reset" }))
        }
        ("GET", ["faults"]) => {
            let plan = hub.faults.lock().unwrap_or_else(|e| e.into_inner()).clone();
            Response::json(200, &plan_json(&plan))
        }
        ("POST" | "PUT", ["faults"]) => match parse_plan(&req.body) {
            Ok(plan) => {
                let out = plan_json(&plan);
                *hub.faults.lock().unwrap_or_else(|e| e.into_inner()) = plan;
                Response::json(200, &out)
            }
            Err(msg) => Response::json(400, &json!({ "status": "error", "message": msg })),
        },
        _ => errors::not_found("", "unknown emulator endpoint"),
    }
}

fn objects(hub: &Hub, ty: ObjectType) -> Response {
    Response::json(
        200,
        &json!({ "results": serde_json::to_value(hub.snapshot(ty)).unwrap_or_default() }),
    )
}

/// `?from=contacts&to=companies` → `{"results":[{"from","to","types"}]}`,
/// the from → to direction only, sorted by from id then to id.
fn associations(hub: &Hub, req: &Request) -> Response {
    let pairs = req.query_pairs();
    let ty = |k: &str| {
        let v = pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())?;
        ObjectType::parse(v, hub.opts.portal_id)
    };
    match (ty("from"), ty("to")) {
        (Some(from), Some(to)) => Response::json(
            200,
            &json!({ "results": hub.association_snapshot(from, to) }),
        ),
        _ => Response::json(
            400,
            &json!({ "status": "error", "message": "give from= and to= object types" }),
        ),
    }
}

/// `{"at":[[3,"drop"]],"random":[["503",0.1]]}`, faults spelled as on the
/// command line.
fn plan_json(plan: &FaultPlan) -> Value {
    json!({
        "at": plan.at.iter().map(|(n, f)| json!([n, f.to_string()])).collect::<Vec<_>>(),
        "random": plan.random.iter().map(|(f, p)| json!([f.to_string(), p])).collect::<Vec<_>>(),
    })
}

fn parse_plan(body: &[u8]) -> Result<FaultPlan, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let mut plan = FaultPlan::default();
    let list = |k: &str| {
        v.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for item in list("at") {
        let n = item.get(0).and_then(Value::as_u64).filter(|n| *n > 0);
        let f = item.get(1).and_then(Value::as_str).map(str::parse::<Fault>);
        match (n, f) {
            (Some(n), Some(Ok(f))) => plan.at.push((n, f)),
            (_, Some(Err(e))) => return Err(e),
            _ => return Err(format!("bad `at` entry {item}: want [N, \"FAULT\"]")),
        }
    }
    for item in list("random") {
        let f = item.get(0).and_then(Value::as_str).map(str::parse::<Fault>);
        let p = item
            .get(1)
            .and_then(Value::as_f64)
            .filter(|p| (0.0..=1.0).contains(p));
        match (f, p) {
            (Some(Ok(f)), Some(p)) => plan.random.push((f, p)),
            (Some(Err(e)), _) => return Err(e),
            _ => return Err(format!("bad `random` entry {item}: want [\"FAULT\", P]")),
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_plans_round_trip_through_json() {
        let body = br#"{"at":[[3,"drop"],[5,"429retry2"]],"random":[["html502",0.5]]}"#;
        let plan = parse_plan(body).unwrap();
        assert_eq!(
            plan.at[1],
            (
                5,
                Fault::TooManyRequests {
                    retry_after_secs: Some(2)
                }
            )
        );
        assert_eq!(plan_json(&plan)["random"][0][0], "html502");
        assert!(parse_plan(br#"{"at":[[0,"drop"]]}"#).is_err());
        assert!(parse_plan(br#"{"random":[["nope",0.1]]}"#).is_err());
    }
}
