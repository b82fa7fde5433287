//! Maps a method and path to the endpoint that serves it, the family of
//! HubSpot paths it was called through (legacy `/crm/v3/…` or a date version
//! such as `/crm/objects/2026-09/…`), and the path template used in stats.
//! Matching only: no auth, no state.

use crate::associations::AssocOp;
use crate::http::percent_decode;
use crate::schema::ObjectType;

/// Declares [`ApiFamily`]: `Legacy` plus one variant per date version,
/// oldest first. Adding a HubSpot release is one line in the invocation
/// below; every endpoint then answers under it too.
macro_rules! api_families {
    ($($variant:ident => $version:literal,)+) => {
        /// Which generation of HubSpot paths a request was called through.
        /// Shapes are the same in every family; some rules (admin write
        /// validation) apply from a given version on, so the order matters:
        /// `Legacy` < oldest date version < … < newest.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum ApiFamily {
            /// `/crm/v3/…`, `/account-info/v3/…`, `/oauth/v1/token`.
            Legacy,
            $(
                #[doc = concat!("`", $version, "` date-based paths.")]
                $variant,
            )+
        }

        impl ApiFamily {
            /// The date version in the path; `None` for legacy paths.
            pub fn version(self) -> Option<&'static str> {
                match self {
                    ApiFamily::Legacy => None,
                    $(ApiFamily::$variant => Some($version),)+
                }
            }

            /// The family whose path segment is `s` (`2026-09`).
            pub fn from_version(s: &str) -> Option<ApiFamily> {
                match s {
                    $($version => Some(ApiFamily::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

api_families! {
    V2026_03 => "2026-03",
    V2026_09 => "2026-09",
}

impl ApiFamily {
    /// HubSpot enforces admin write-validation rules (required and
    /// conditionally required properties) from 2026-09 on.
    pub fn enforces_write_rules(self) -> bool {
        self >= ApiFamily::V2026_09
    }

    /// `/crm/v3/objects` or `/crm/objects/2026-09` (for `api` = `objects`).
    pub fn crm_prefix(self, api: &str) -> String {
        match self.version() {
            None => format!("/crm/v3/{api}"),
            Some(v) => format!("/crm/{api}/{v}"),
        }
    }

    /// `/account-info/v3` or `/account-info/2026-09`.
    fn account_prefix(self) -> String {
        format!("/account-info/{}", self.version().unwrap_or("v3"))
    }

    /// The family of `/account-info/{seg}/…` and `/crm-object-schemas/{seg}/…`.
    fn account(seg: &str) -> Option<ApiFamily> {
        match seg {
            "v3" => Some(ApiFamily::Legacy),
            v => ApiFamily::from_version(v),
        }
    }

    /// The family of `/oauth/{seg}/token`. HubSpot's OAuth API has one date
    /// version so far, `2026-03`; it is not re-released every half year.
    fn oauth(seg: &str) -> Option<ApiFamily> {
        match seg {
            "v1" => Some(ApiFamily::Legacy),
            "2026-03" => Some(ApiFamily::V2026_03),
            _ => None,
        }
    }
}

/// One write or read over a batch of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BatchOp {
    Upsert,
    Create,
    Update,
    Read,
    Archive,
}

impl BatchOp {
    fn parse(s: &str) -> Option<BatchOp> {
        match s {
            "upsert" => Some(BatchOp::Upsert),
            "create" => Some(BatchOp::Create),
            "update" => Some(BatchOp::Update),
            "read" => Some(BatchOp::Read),
            "archive" => Some(BatchOp::Archive),
            _ => None,
        }
    }
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
    ListPipelines(ObjectType),
    ListSchemas,
    GetSchema(String),
    Associations(ObjectType, ObjectType, AssocOp),
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

/// A matched request: the endpoint, the path family it came through and
/// its stats template (`(unknown)` for unmatched paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Matched {
    pub route: Route,
    pub family: ApiFamily,
    pub template: String,
}

/// Finds the route, family and stats template for `method` `path`; `portal`
/// is the account id in the custom object's fully qualified name.
pub(crate) fn route(method: &str, path: &str, portal: u64) -> Matched {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let found = match segs.as_slice() {
        ["crm", "v3", "schemas", rest @ ..] => schemas(method, rest)
            .map(|r| (ApiFamily::Legacy, r.0, format!("/crm/v3/schemas{}", r.1))),
        ["crm", "v4", "associations", rest @ ..] => {
            associations(method, rest, portal).map(|(r, suffix)| {
                (
                    ApiFamily::Legacy,
                    r,
                    format!("/crm/v4/associations{suffix}"),
                )
            })
        }
        ["crm", "v3", api, rest @ ..] => crm(method, ApiFamily::Legacy, api, rest, portal),
        ["crm", api, version, rest @ ..] => {
            ApiFamily::from_version(version).and_then(|f| crm(method, f, api, rest, portal))
        }
        ["crm-object-schemas", version, "schemas", rest @ ..] => ApiFamily::account(version)
            .and_then(|f| {
                let (route, suffix) = schemas(method, rest)?;
                Some((
                    f,
                    route,
                    format!("/crm-object-schemas/{version}/schemas{suffix}"),
                ))
            }),
        ["account-info", version, rest @ ..] => {
            ApiFamily::account(version).and_then(|f| account_info(method, f, rest))
        }
        ["oauth", version, "token"] if method == "POST" => ApiFamily::oauth(version)
            .map(|f| (f, Route::OAuthToken, format!("/oauth/{version}/token"))),
        _ => None,
    };
    match found {
        Some((family, route, template)) => Matched {
            route,
            family,
            template,
        },
        None => Matched {
            route: Route::NotFound,
            family: ApiFamily::Legacy,
            template: "(unknown)".to_string(),
        },
    }
}

/// `/crm/…/{objects|properties}/…` in `family`.
fn crm(
    method: &str,
    family: ApiFamily,
    api: &str,
    rest: &[&str],
    portal: u64,
) -> Option<(ApiFamily, Route, String)> {
    let ty = |s: Option<&&str>| ObjectType::parse(s?, portal);
    let (route, suffix) = match api {
        "objects" => objects(method, ty(rest.first())?, rest)?,
        "properties" => properties(method, ty(rest.first())?, rest)?,
        "pipelines" => pipelines(method, ty(rest.first())?, rest)?,
        // `/crm/v3/associations` is the older v3 API, not served.
        "associations" if family != ApiFamily::Legacy => associations(method, rest, portal)?,
        _ => return None,
    };
    Some((family, route, format!("{}{suffix}", family.crm_prefix(api))))
}

/// The objects API below its prefix: the route and the template suffix.
fn objects(method: &str, ty: ObjectType, rest: &[&str]) -> Option<(Route, String)> {
    let name = ty.name();
    let r = match (method, &rest[1..]) {
        ("POST", ["batch", op]) => (
            Route::Batch(ty, BatchOp::parse(op)?),
            format!("/{name}/batch/{op}"),
        ),
        ("GET", []) => (Route::ListObjects(ty), format!("/{name}")),
        ("POST", []) => (Route::CreateObject(ty), format!("/{name}")),
        ("GET" | "PATCH" | "DELETE", [id]) => {
            let id = percent_decode(id);
            let route = match method {
                "GET" => Route::GetObject(ty, id),
                "PATCH" => Route::UpdateObject(ty, id),
                _ => Route::DeleteObject(ty, id),
            };
            (route, format!("/{name}/{{id}}"))
        }
        _ => return None,
    };
    Some(r)
}

/// The properties API below its prefix: the route and the template suffix.
fn properties(method: &str, ty: ObjectType, rest: &[&str]) -> Option<(Route, String)> {
    let name = ty.name();
    let r = match (method, &rest[1..]) {
        ("GET", []) => (Route::ListProperties(ty), format!("/{name}")),
        ("POST", []) => (Route::CreateProperty(ty), format!("/{name}")),
        ("GET", [prop]) => (
            Route::GetProperty(ty, percent_decode(prop)),
            format!("/{name}/{{name}}"),
        ),
        _ => return None,
    };
    Some(r)
}

/// The associations API below its prefix (`/crm/v4/associations` or
/// `/crm/associations/VER`): `/{from}/{to}/batch/{op}`.
fn associations(method: &str, rest: &[&str], portal: u64) -> Option<(Route, String)> {
    let (from, to, op) = match (method, rest) {
        ("POST", [from, to, "batch", "associate", "default"]) => {
            (from, to, AssocOp::AssociateDefault)
        }
        ("POST", [from, to, "batch", "create"]) => (from, to, AssocOp::Create),
        ("POST", [from, to, "batch", "read"]) => (from, to, AssocOp::Read),
        _ => return None,
    };
    let (from, to) = (
        ObjectType::parse(from, portal)?,
        ObjectType::parse(to, portal)?,
    );
    let suffix = format!("/{}/{}/batch/{}", from.name(), to.name(), op.path());
    Some((Route::Associations(from, to, op), suffix))
}

/// The pipelines API below its prefix: deals and tickets have pipelines.
fn pipelines(method: &str, ty: ObjectType, rest: &[&str]) -> Option<(Route, String)> {
    let has = matches!(ty, ObjectType::Deals | ObjectType::Tickets);
    (method == "GET" && rest.len() == 1 && has)
        .then(|| (Route::ListPipelines(ty), format!("/{}", ty.name())))
}

/// The schemas API below `…/schemas`: the route and the template suffix.
fn schemas(method: &str, rest: &[&str]) -> Option<(Route, String)> {
    match (method, rest) {
        ("GET", []) => Some((Route::ListSchemas, String::new())),
        ("GET", [ty]) => Some((Route::GetSchema(percent_decode(ty)), "/{objectType}".into())),
        _ => None,
    }
}

/// `/account-info/{v3|VER}/…`.
fn account_info(
    method: &str,
    family: ApiFamily,
    rest: &[&str],
) -> Option<(ApiFamily, Route, String)> {
    let route = match (method, rest) {
        ("GET", ["details"]) => Route::AccountDetails,
        ("GET", ["api-usage", "daily", "private-apps"]) => Route::DailyUsage,
        _ => return None,
    };
    let template = format!("{}/{}", family.account_prefix(), rest.join("/"));
    Some((family, route, template))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTAL: u64 = 42;

    fn route(method: &str, path: &str) -> Matched {
        super::route(method, path, PORTAL)
    }

    fn r(method: &str, path: &str) -> (Route, ApiFamily, String) {
        let m = route(method, path);
        (m.route, m.family, m.template)
    }

    #[test]
    fn matches_batch_and_single_routes() {
        assert_eq!(
            r("POST", "/crm/v3/objects/contacts/batch/upsert"),
            (
                Route::Batch(ObjectType::Contacts, BatchOp::Upsert),
                ApiFamily::Legacy,
                "/crm/v3/objects/contacts/batch/upsert".to_string()
            )
        );
        assert_eq!(
            route("GET", "/crm/v3/objects/0-1/a%40b.com").route,
            Route::GetObject(ObjectType::Contacts, "a@b.com".into())
        );
        assert_eq!(
            route("GET", "/crm/v3/properties/deals/dealstage/").route,
            Route::GetProperty(ObjectType::Deals, "dealstage".into())
        );
    }

    #[test]
    fn date_versions_are_part_of_the_route_with_their_own_templates() {
        assert_eq!(
            r("POST", "/crm/objects/2026-09/0-1/batch/upsert"),
            (
                Route::Batch(ObjectType::Contacts, BatchOp::Upsert),
                ApiFamily::V2026_09,
                "/crm/objects/2026-09/contacts/batch/upsert".to_string()
            )
        );
        assert_eq!(
            r("PATCH", "/crm/objects/2026-03/deals/7"),
            (
                Route::UpdateObject(ObjectType::Deals, "7".into()),
                ApiFamily::V2026_03,
                "/crm/objects/2026-03/deals/{id}".to_string()
            )
        );
        assert_eq!(
            r("GET", "/crm/properties/2026-03/companies/domain"),
            (
                Route::GetProperty(ObjectType::Companies, "domain".into()),
                ApiFamily::V2026_03,
                "/crm/properties/2026-03/companies/{name}".to_string()
            )
        );
        assert_eq!(
            r("GET", "/account-info/2026-09/api-usage/daily/private-apps"),
            (
                Route::DailyUsage,
                ApiFamily::V2026_09,
                "/account-info/2026-09/api-usage/daily/private-apps".to_string()
            )
        );
        assert_eq!(
            r("GET", "/account-info/v3/details").2,
            "/account-info/v3/details"
        );
        assert_eq!(
            r("POST", "/oauth/2026-03/token"),
            (
                Route::OAuthToken,
                ApiFamily::V2026_03,
                "/oauth/2026-03/token".to_string()
            )
        );
    }

    #[test]
    fn pipelines_schemas_and_associations_route_with_their_templates() {
        assert_eq!(
            r("GET", "/crm/pipelines/2026-09/0-3"),
            (
                Route::ListPipelines(ObjectType::Deals),
                ApiFamily::V2026_09,
                "/crm/pipelines/2026-09/deals".to_string()
            )
        );
        assert_eq!(
            r("GET", "/crm-object-schemas/2026-09/schemas/p42_pets"),
            (
                Route::GetSchema("p42_pets".into()),
                ApiFamily::V2026_09,
                "/crm-object-schemas/2026-09/schemas/{objectType}".to_string()
            )
        );
        assert_eq!(
            r(
                "POST",
                "/crm/associations/2026-03/0-1/p42_pets/batch/associate/default"
            ),
            (
                Route::Associations(
                    ObjectType::Contacts,
                    ObjectType::Pets,
                    AssocOp::AssociateDefault
                ),
                ApiFamily::V2026_03,
                "/crm/associations/2026-03/contacts/pets/batch/associate/default".to_string()
            )
        );
        assert_eq!(
            r("POST", "/crm/v4/associations/deal/company/batch/create"),
            (
                Route::Associations(ObjectType::Deals, ObjectType::Companies, AssocOp::Create),
                ApiFamily::Legacy,
                "/crm/v4/associations/deals/companies/batch/create".to_string()
            )
        );
        assert_eq!(
            r("GET", "/crm/v3/schemas"),
            (
                Route::ListSchemas,
                ApiFamily::Legacy,
                "/crm/v3/schemas".to_string()
            )
        );
    }

    #[test]
    fn families_are_ordered_and_spelled_as_in_paths() {
        assert!(ApiFamily::Legacy < ApiFamily::V2026_03);
        assert!(ApiFamily::V2026_03 < ApiFamily::V2026_09);
        assert!(!ApiFamily::Legacy.enforces_write_rules());
        assert!(!ApiFamily::V2026_03.enforces_write_rules());
        assert!(ApiFamily::V2026_09.enforces_write_rules());
        assert_eq!(
            ApiFamily::from_version("2026-09"),
            Some(ApiFamily::V2026_09)
        );
        assert_eq!(ApiFamily::V2026_03.version(), Some("2026-03"));
    }

    #[test]
    fn unknown_paths_versions_and_methods_are_not_found() {
        for (method, path) in [
            ("GET", "/crm/v3/objects/contacts/batch/upsert"),
            ("POST", "/crm/v3/objects/widgets/batch/upsert"),
            ("POST", "/crm/objects/2025-09/contacts/batch/upsert"),
            ("POST", "/crm/objects/v3/contacts/batch/upsert"),
            ("GET", "/crm/v3/lists/contacts"),
            ("GET", "/crm/v3/pipelines/contacts"),
            ("GET", "/crm/schemas/2026-03"),
            (
                "POST",
                "/crm/v3/associations/contacts/companies/batch/create",
            ),
            ("POST", "/crm/v4/associations/contacts/widgets/batch/create"),
            (
                "GET",
                "/crm/associations/2026-09/contacts/companies/batch/read",
            ),
            ("POST", "/crm-object-schemas/v3/schemas"),
            ("GET", "/account-info/v2/details"),
            ("POST", "/oauth/2026-09/token"),
            ("GET", "/oauth/v1/token"),
            ("GET", "/nope"),
        ] {
            let m = route(method, path);
            assert_eq!(m.route, Route::NotFound, "{method} {path}");
            assert_eq!(m.template, "(unknown)");
        }
    }
}
