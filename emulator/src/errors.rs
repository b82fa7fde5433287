//! HubSpot's error bodies, built in one place so every endpoint words them
//! the same way: `{"status":"error","message","correlationId","category",…}`.
//! Which error applies is decided by the endpoints; this module only shapes it.

use crate::http::Response;
use serde_json::{json, Value};

/// A whole-request error: status plus HubSpot body.
pub(crate) fn error(status: u16, cid: &str, category: &str, message: &str) -> Response {
    Response::json(status, &body(cid, category, message))
}

/// The common body, for callers that add `context`/`errors` before sending.
pub(crate) fn body(cid: &str, category: &str, message: &str) -> Value {
    json!({
        "status": "error",
        "message": message,
        "correlationId": cid,
        "category": category,
    })
}

/// 400 for a body that is not JSON. HubSpot sends no category here.
pub(crate) fn invalid_json(cid: &str, e: &serde_json::Error) -> Response {
    Response::json(
        400,
        &json!({
            "status": "error",
            "message": format!(
                "Invalid input JSON on line {}, column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ),
            "correlationId": cid,
        }),
    )
}

/// serde_json appends " at line L column C"; HubSpot puts the position first.
fn strip_position(msg: &str) -> &str {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i])
}

/// 400 VALIDATION_ERROR.
pub(crate) fn validation(cid: &str, message: &str) -> Response {
    error(400, cid, "VALIDATION_ERROR", message)
}

/// 404 for unknown paths and missing objects.
pub(crate) fn not_found(cid: &str, message: &str) -> Response {
    error(404, cid, "OBJECT_NOT_FOUND", message)
}

/// 401 for a missing or unknown token.
pub(crate) fn invalid_auth(cid: &str) -> Response {
    error(
        401,
        cid,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )
}

/// 401 for a token that has expired.
pub(crate) fn expired_auth(cid: &str) -> Response {
    error(
        401,
        cid,
        "EXPIRED_AUTHENTICATION",
        "The OAuth token used to make this call expired 0 second(s) ago.",
    )
}

/// 403 naming the scopes the call needs (any one of them suffices).
pub(crate) fn missing_scopes(cid: &str, required: &[String]) -> Response {
    let mut b = body(
        cid,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    );
    b["errors"] = json!([{
        "message": "One or more of the following scopes are required.",
        "context": { "requiredGranularScopes": required },
    }]);
    b["links"] = json!({ "scopes": "https://developers.hubspot.com/scopes" });
    Response::json(403, &b)
}

/// Which limit a 429 reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    TenSecondly,
    Daily,
}

/// 429 with HubSpot's rate-limit body (note: `errorType`, `policyName`, and
/// no `category`).
pub(crate) fn rate_limited(cid: &str, policy: Policy) -> Response {
    let (name, message) = match policy {
        Policy::TenSecondly => (
            "TEN_SECONDLY_ROLLING",
            "You have reached your ten_secondly_rolling limit.",
        ),
        Policy::Daily => ("DAILY", "You have reached your daily limit."),
    };
    Response::json(
        429,
        &json!({
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": cid,
            "policyName": name,
            "requestId": cid,
        }),
    )
}

/// A 5xx with a JSON body, as HubSpot's API tier sends it.
pub(crate) fn server_error(cid: &str, status: u16) -> Response {
    let message = match status {
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        500 => "internal error",
        _ => "error",
    };
    error(status, cid, "INTERNAL_ERROR", message)
}

/// A 5xx with an HTML page, as a CDN edge sends it in front of the API.
pub(crate) fn html_error(status: u16) -> Response {
    let title = format!("{status} {}", crate::http::reason(status));
    Response {
        status,
        content_type: "text/html; charset=UTF-8",
        headers: Vec::new(),
        body: format!(
            "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center><hr><center>cloudflare</center></body></html>\n"
        )
        .into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(r: &Response) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn invalid_json_has_position_and_no_category() {
        let e = serde_json::from_str::<Value>("{\n \"a\": }").unwrap_err();
        let b = parse(&invalid_json("c", &e));
        assert!(b["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid input JSON on line 2, column"));
        assert!(b.get("category").is_none());
    }

    #[test]
    fn missing_scopes_lists_them_in_errors_context() {
        let b = parse(&missing_scopes("c", &["crm.objects.contacts.write".into()]));
        assert_eq!(b["category"], "MISSING_SCOPES");
        assert_eq!(
            b["errors"][0]["context"]["requiredGranularScopes"][0],
            "crm.objects.contacts.write"
        );
    }

    #[test]
    fn rate_limit_bodies_name_the_policy() {
        let b = parse(&rate_limited("c", Policy::TenSecondly));
        assert_eq!(b["policyName"], "TEN_SECONDLY_ROLLING");
        assert_eq!(b["errorType"], "RATE_LIMIT");
        assert_eq!(
            parse(&rate_limited("c", Policy::Daily))["policyName"],
            "DAILY"
        );
    }
}
