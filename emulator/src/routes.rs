//! Maps a method and path to the endpoint that serves it and to the path
//! template used in stats. Matching only: no auth, no state.

use crate::http::percent_decode;
use crate::schema::ObjectType;

/// One write or read over a batch of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BatchOp {
    Upsert,
    Create,
    Update,
    Read,
    Archive,
}

/// Every HubSpot endpoint the emulator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Batch(ObjectType, BatchOp),
    GetObject(ObjectType, String),
    CreateObject(ObjectType),
    UpdateObject(ObjectType, String),
    DeleteObject(ObjectType, String),
    ListObjects(ObjectType),
    ListProperties(ObjectType),
    GetProperty(ObjectType, String),
    CreateProperty(ObjectType),
    AccountDetails,
    DailyUsage,
    OAuthToken,
    NotFound,
}

impl Route {
    /// Needs a bearer token (everything but the OAuth token endpoint).
    pub fn needs_auth(&self) -> bool {
        !matches!(self, Route::OAuthToken | Route::NotFound)
    }
}

/// Finds the route and its stats template for `method` `path`.
pub(crate) fn route(method: &str, path: &str) -> (Route, String) {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let not_found = (Route::NotFound, "(unknown)".to_string());
    let r = match (method, segs.as_slice()) {
        ("POST", ["crm", "v3", "objects", ty, "batch", op]) => {
            let Some(ty) = ObjectType::parse(ty) else {
                return not_found;
            };
            let op = match *op {
                "upsert" => BatchOp::Upsert,
                "create" => BatchOp::Create,
                "update" => BatchOp::Update,
                "read" => BatchOp::Read,
                "archive" => BatchOp::Archive,
                _ => return not_found,
            };
            let t = format!("/crm/v3/objects/{}/batch/{}", ty.name(), segs[5]);
            return (Route::Batch(ty, op), t);
        }
        ("GET", ["crm", "v3", "objects", ty]) => ObjectType::parse(ty).map(|ty| {
            (
                Route::ListObjects(ty),
                format!("/crm/v3/objects/{}", ty.name()),
            )
        }),
        ("GET", ["crm", "v3", "objects", ty, id]) => ObjectType::parse(ty).map(|ty| {
            (
                Route::GetObject(ty, percent_decode(id)),
                format!("/crm/v3/objects/{}/{{id}}", ty.name()),
            )
        }),
        ("POST", ["crm", "v3", "objects", ty]) => ObjectType::parse(ty).map(|ty| {
            (
                Route::CreateObject(ty),
                format!("/crm/v3/objects/{}", ty.name()),
            )
        }),
        ("PATCH" | "DELETE", ["crm", "v3", "objects", ty, id]) => ObjectType::parse(ty).map(|ty| {
            let id = percent_decode(id);
            let route = if method == "PATCH" {
                Route::UpdateObject(ty, id)
            } else {
                Route::DeleteObject(ty, id)
            };
            (route, format!("/crm/v3/objects/{}/{{id}}", ty.name()))
        }),
        ("GET", ["crm", "v3", "properties", ty]) => ObjectType::parse(ty).map(|ty| {
            (
                Route::ListProperties(ty),
                format!("/crm/v3/properties/{}", ty.name()),
            )
        }),
        ("POST", ["crm", "v3", "properties", ty]) => ObjectType::parse(ty).map(|ty| {
            (
                Route::CreateProperty(ty),
                format!("/crm/v3/properties/{}", ty.name()),
            )
        }),
        ("GET", ["crm", "v3", "properties", ty, name]) => ObjectType::parse(ty).map(|ty| {
            (
                Route::GetProperty(ty, percent_decode(name)),
                format!("/crm/v3/properties/{}/{{name}}", ty.name()),
            )
        }),
        ("GET", ["account-info", "v3", "details"]) => {
            Some((Route::AccountDetails, path.to_string()))
        }
        ("GET", ["account-info", "v3", "api-usage", "daily", "private-apps"]) => {
            Some((Route::DailyUsage, path.to_string()))
        }
        ("POST", ["oauth", "v1", "token"]) => Some((Route::OAuthToken, path.to_string())),
        _ => None,
    };
    r.unwrap_or(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_batch_and_single_routes() {
        assert_eq!(
            route("POST", "/crm/v3/objects/contacts/batch/upsert"),
            (
                Route::Batch(ObjectType::Contacts, BatchOp::Upsert),
                "/crm/v3/objects/contacts/batch/upsert".to_string()
            )
        );
        assert_eq!(
            route("GET", "/crm/v3/objects/0-1/a%40b.com").0,
            Route::GetObject(ObjectType::Contacts, "a@b.com".into())
        );
        assert_eq!(
            route("GET", "/crm/v3/properties/deals/dealstage/").0,
            Route::GetProperty(ObjectType::Deals, "dealstage".into())
        );
    }

    #[test]
    fn unknown_paths_and_methods_are_not_found() {
        assert_eq!(
            route("GET", "/crm/v3/objects/contacts/batch/upsert").0,
            Route::NotFound
        );
        assert_eq!(
            route("POST", "/crm/v3/objects/widgets/batch/upsert").0,
            Route::NotFound
        );
        assert_eq!(route("GET", "/nope").0, Route::NotFound);
    }
}
