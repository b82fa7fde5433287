//! The custom object schemas API (`/crm/v3/schemas`,
//! `/crm-object-schemas/{v3|VER}/schemas`): the definition of the demo
//! account's one custom object, `pets`, with its current properties. Read
//! only; custom objects cannot be defined or changed here.

use crate::errors;
use crate::http::Response;
use crate::hub::Ctx;
use crate::schema::{ObjectType, Property};
use serde_json::{json, Value};

/// The scope every schemas call needs.
const SCOPE: &str = "crm.schemas.custom.read";

/// `GET …/schemas` → `{"results":[<pets>]}`.
pub(crate) fn list(ctx: &Ctx) -> Response {
    if let Err(r) = ctx.require(&[SCOPE.to_string()]) {
        return r;
    }
    Response::json(200, &json!({ "results": [pets(ctx)] }))
}

/// `GET …/schemas/{objectType}`: the custom object by name, fully qualified
/// name or type id; 404 for anything else (standard objects have no schema
/// here).
pub(crate) fn get(ctx: &Ctx, object_type: &str) -> Response {
    if let Err(r) = ctx.require(&[SCOPE.to_string()]) {
        return r;
    }
    match ObjectType::parse(object_type, ctx.hub.opts.portal_id) {
        Some(ObjectType::Pets) => Response::json(200, &pets(ctx)),
        _ => errors::not_found(
            ctx.cid,
            &format!("Unable to find object type {object_type}"),
        ),
    }
}

/// The `pets` definition with its properties as the properties API shows
/// them.
fn pets(ctx: &Ctx) -> Value {
    let ty = ObjectType::Pets;
    let schema = ctx.hub.schema(ty);
    let properties: Vec<Value> = schema.props.values().map(Property::to_json).collect();
    let type_id = ty.type_id();
    json!({
        "id": type_id.trim_start_matches("2-"),
        "objectTypeId": type_id,
        "name": ty.name(),
        "fullyQualifiedName": ObjectType::pets_fqn(ctx.hub.opts.portal_id),
        "labels": { "singular": "Pet", "plural": "Pets" },
        "primaryDisplayProperty": "name",
        "secondaryDisplayProperties": [],
        "requiredProperties": ["name"],
        "searchableProperties": ["name"],
        "properties": properties,
        "associations": [],
        "archived": false,
        "createdAt": "2020-01-01T00:00:00.000Z",
        "updatedAt": "2020-01-01T00:00:00.000Z",
    })
}
