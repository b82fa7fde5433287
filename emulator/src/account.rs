//! Account-level endpoints: property definitions (list, get, create), account
//! details, daily API usage, and the OAuth refresh-token grant. Each answers
//! alike under every path family.

use crate::clock;
use crate::errors;
use crate::http::{parse_form, Request, Response};
use crate::hub::{Ctx, Hub};
use crate::routes::ApiFamily;
use crate::schema::{ObjectType, Property};
use serde_json::json;
use std::time::Instant;

/// Reading definitions needs object read or schema read on the type.
fn read_scopes(ty: ObjectType) -> [String; 2] {
    [ty.object_scope("read"), ty.schema_scope("read")]
}

/// `GET /crm/v3/properties/{type}` → `{"results":[…]}` (no paging).
pub(crate) fn list_properties(ctx: &Ctx, ty: ObjectType) -> Response {
    if let Err(r) = ctx.require(&read_scopes(ty)) {
        return r;
    }
    let schema = ctx.hub.schema(ty);
    let results: Vec<_> = schema.props.values().map(Property::to_json).collect();
    Response::json(200, &json!({ "results": results }))
}

/// `GET /crm/v3/properties/{type}/{name}`.
pub(crate) fn get_property(ctx: &Ctx, ty: ObjectType, name: &str) -> Response {
    if let Err(r) = ctx.require(&read_scopes(ty)) {
        return r;
    }
    match ctx.hub.schema(ty).get(name) {
        Some(p) => Response::json(200, &p.to_json()),
        None => errors::not_found(
            ctx.cid,
            &format!(
                "Unable to find property with name {name} for object type {}",
                ty.type_id()
            ),
        ),
    }
}

/// `POST /crm/v3/properties/{type}`: 201 with the definition, 409 if the
/// name is taken.
pub(crate) fn create_property(ctx: &Ctx, ty: ObjectType) -> Response {
    if let Err(r) = ctx.require(&[ty.schema_scope("write")]) {
        return r;
    }
    let body = match ctx.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let prop = match Property::from_create(&body, ty) {
        Ok(p) => p,
        Err(msg) => return errors::validation(ctx.cid, &msg),
    };
    // Read-check-write under the store lock order used elsewhere: the schema
    // swap itself is atomic, and two racing creates of one name are rare
    // enough in tests that the second simply wins a 409 or overwrites.
    let mut schema = (*ctx.hub.schema(ty)).clone();
    if schema.props.contains_key(&prop.name) {
        let mut b = errors::body(
            ctx.cid,
            "OBJECT_ALREADY_EXISTS",
            &format!("Property named '{}' already exists.", prop.name),
        );
        b["subCategory"] = json!("Properties.PROPERTY_EXISTS");
        return Response::json(409, &b);
    }
    let out = prop.to_json();
    schema.props.insert(prop.name.clone(), prop);
    ctx.hub.set_schema(ty, schema);
    Response::json(201, &out)
}

/// `GET /account-info/v3/details`: any valid token.
pub(crate) fn details(ctx: &Ctx) -> Response {
    Response::json(
        200,
        &json!({
            "portalId": ctx.hub.opts.portal_id,
            "accountType": "STANDARD",
            "timeZone": "US/Eastern",
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": "-05:00",
            "utcOffsetMilliseconds": -18_000_000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }),
    )
}

/// `GET /account-info/v3/api-usage/daily/private-apps`. The quota resets at
/// midnight UTC here (HubSpot: midnight in the account's time zone).
pub(crate) fn daily_usage(ctx: &Ctx) -> Response {
    let now = clock::now_ms();
    Response::json(
        200,
        &json!({
            "results": [{
                "name": "private-apps-api-calls-daily",
                "usageLimit": ctx.hub.access.daily_limit(),
                "currentUsage": ctx.hub.access.daily_used(),
                "collectedAt": clock::iso(now),
                "fetchStatus": "SUCCESS",
                "resetsAt": clock::iso(clock::next_midnight(now)),
            }]
        }),
    )
}

/// `POST /oauth/v1/token` and `POST /oauth/2026-03/token`, with a form body
/// (`grant_type=refresh_token&client_id&client_secret&refresh_token`). Both
/// answer a refresh alike; their errors differ (see [`oauth_error`]).
pub(crate) fn oauth_token(hub: &Hub, req: &Request, cid: &str, family: ApiFamily) -> Response {
    let form = parse_form(&String::from_utf8_lossy(&req.body));
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if get("grant_type") != "refresh_token" {
        return oauth_error(
            cid,
            family,
            "BAD_GRANT_TYPE",
            "grant_type must be refresh_token",
        );
    }
    match hub.access.refresh(
        get("client_id"),
        get("client_secret"),
        get("refresh_token"),
        Instant::now(),
    ) {
        Ok((token, expires_in)) => Response::json(
            200,
            &json!({
                "token_type": "bearer",
                "access_token": token,
                "refresh_token": get("refresh_token"),
                "expires_in": expires_in,
            }),
        ),
        Err((status, message)) => oauth_error(cid, family, status, message),
    }
}

/// A refused token request: 400 with HubSpot's legacy `status` word and
/// `message`. The date-based endpoint adds RFC 6749's `error` and
/// `error_description` beside them; v1 keeps its legacy-only body.
fn oauth_error(cid: &str, family: ApiFamily, status: &str, message: &str) -> Response {
    let mut b = json!({ "status": status, "message": message, "correlationId": cid });
    if family != ApiFamily::Legacy {
        let error = match status {
            "BAD_GRANT_TYPE" => "unsupported_grant_type",
            "BAD_CLIENT_ID" | "BAD_CLIENT_SECRET" => "invalid_client",
            _ => "invalid_grant",
        };
        b["error"] = json!(error);
        b["error_description"] = json!(message);
    }
    Response::json(400, &b)
}
