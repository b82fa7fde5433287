//! HubSpot API versions, in one place: which versions the connector can
//! call, the path of every endpoint under each, and until when HubSpot
//! supports each. Request and answer shapes are the same under every
//! version, so nothing else in the connector branches on it: callers ask an
//! [`ApiVersion`] for a path and send the same body.
//!
//! Adding a HubSpot release (say `2027-03`) is one line in [`RELEASES`] (and
//! its name in spec.json's `api_version` enum, which a test keeps in step).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// OAuth's token endpoint. HubSpot dated it once (`2026-03`) and does not
/// re-release it with every API version; `/oauth/v1/token` is switched off
/// on 2027-02-16, so every `api_version` refreshes here.
pub const OAUTH_TOKEN_PATH: &str = "/oauth/2026-03/token";

/// One HubSpot API version the connector can call.
#[derive(Debug, PartialEq, Eq)]
pub struct Release {
    /// The name in the config and in date-based paths (`2026-09`), or `v3`.
    pub name: &'static str,
    /// The first day HubSpot no longer supports it.
    pub unsupported_from: Date,
}

/// Every version, newest first. HubSpot supports a date version for 18
/// months after its release (6 as current, then critical fixes only); the
/// legacy `/crm/v3` paths go unsupported in September 2027. The two dated
/// sunsets are that arithmetic, not dates HubSpot published.
pub const RELEASES: &[Release] = &[
    Release::new("2026-09", Date::new(2028, 3, 31)),
    Release::new("2026-03", Date::new(2027, 9, 30)),
    Release::new(LEGACY, Date::new(2027, 9, 1)),
];

/// The name of the legacy path family (`/crm/v3/…`, `/account-info/v3/…`).
const LEGACY: &str = "v3";

impl Release {
    const fn new(name: &'static str, unsupported_from: Date) -> Release {
        Release {
            name,
            unsupported_from,
        }
    }
}

/// The API version a client calls, and the paths it calls under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersion(&'static Release);

impl ApiVersion {
    /// The version named `name` in [`RELEASES`].
    pub fn parse(name: &str) -> Option<ApiVersion> {
        RELEASES.iter().find(|r| r.name == name).map(ApiVersion)
    }

    /// Its name, as in the config.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The first day HubSpot no longer supports it.
    pub fn unsupported_from(self) -> Date {
        self.0.unsupported_from
    }

    /// Whether `today` is past HubSpot's support of this version.
    pub fn unsupported_on(self, today: Date) -> bool {
        today >= self.0.unsupported_from
    }

    /// `/crm/objects/2026-09/contacts` (or `/crm/v3/objects/contacts`).
    fn crm(self, api: &str, object: &str) -> String {
        match self.0.name {
            LEGACY => format!("/crm/v3/{api}/{object}"),
            version => format!("/crm/{api}/{version}/{object}"),
        }
    }

    /// An object's batch endpoint: `op` is `upsert`, `update`, `read`, ….
    pub fn objects_batch(self, object: &str, op: &str) -> String {
        format!("{}/batch/{op}", self.crm("objects", object))
    }

    /// One record by id, with `query` (e.g. `properties=email`).
    pub fn object(self, object: &str, id: &str, query: &str) -> String {
        format!("{}/{id}?{query}", self.crm("objects", object))
    }

    /// An object's property definitions (GET lists them, POST creates one).
    pub fn properties(self, object: &str) -> String {
        self.crm("properties", object)
    }

    /// An object's pipelines (deals, tickets).
    pub fn pipelines(self, object: &str) -> String {
        self.crm("pipelines", object)
    }

    /// The custom object definitions.
    pub fn schemas(self) -> String {
        match self.0.name {
            LEGACY => "/crm/v3/schemas".to_string(),
            version => format!("/crm-object-schemas/{version}/schemas"),
        }
    }

    /// An associations batch endpoint from `from` to `to`: `op` is
    /// `associate/default`, `create` or `read`. The legacy family is v4.
    pub fn associations_batch(self, from: &str, to: &str, op: &str) -> String {
        match self.0.name {
            LEGACY => format!("/crm/v4/associations/{from}/{to}/batch/{op}"),
            version => format!("/crm/associations/{version}/{from}/{to}/batch/{op}"),
        }
    }

    /// Account information: `what` is `details`, `api-usage/daily/private-apps`, ….
    pub fn account_info(self, what: &str) -> String {
        format!("/account-info/{}/{what}", self.0.name)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

/// A calendar day (UTC), ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    pub const fn new(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    /// Today in UTC, from the system clock. One day of slack either way is
    /// of no matter against an 18-month support window.
    pub fn today() -> Date {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// The civil date `days` after 1970-01-01 (proleptic Gregorian; the
    /// era arithmetic of Howard Hinnant's `civil_from_days`). Written out
    /// rather than bought: it is the only date arithmetic the connector does.
    fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str) -> ApiVersion {
        ApiVersion::parse(name).unwrap()
    }

    #[test]
    fn date_versions_put_the_version_after_the_api_name() {
        let v = version("2026-09");
        assert_eq!(
            v.objects_batch("contacts", "upsert"),
            "/crm/objects/2026-09/contacts/batch/upsert"
        );
        assert_eq!(
            v.object("companies", "7", "properties=name"),
            "/crm/objects/2026-09/companies/7?properties=name"
        );
        assert_eq!(v.properties("contacts"), "/crm/properties/2026-09/contacts");
        assert_eq!(v.pipelines("deals"), "/crm/pipelines/2026-09/deals");
        assert_eq!(v.schemas(), "/crm-object-schemas/2026-09/schemas");
        assert_eq!(
            v.associations_batch("contacts", "companies", "associate/default"),
            "/crm/associations/2026-09/contacts/companies/batch/associate/default"
        );
        assert_eq!(v.account_info("details"), "/account-info/2026-09/details");
        assert_eq!(
            version("2026-03").objects_batch("contacts", "read"),
            "/crm/objects/2026-03/contacts/batch/read"
        );
    }

    #[test]
    fn legacy_paths_are_hubspots_v3_family() {
        let v = version("v3");
        assert_eq!(
            v.objects_batch("contacts", "update"),
            "/crm/v3/objects/contacts/batch/update"
        );
        assert_eq!(v.properties("contacts"), "/crm/v3/properties/contacts");
        assert_eq!(v.schemas(), "/crm/v3/schemas");
        assert_eq!(
            v.associations_batch("deals", "companies", "create"),
            "/crm/v4/associations/deals/companies/batch/create"
        );
        assert_eq!(v.account_info("details"), "/account-info/v3/details");
    }

    #[test]
    fn unknown_versions_are_refused() {
        assert_eq!(ApiVersion::parse("2025-09"), None);
        assert_eq!(ApiVersion::parse(""), None);
    }

    #[test]
    fn a_version_is_unsupported_from_its_sunset_day_on() {
        let v = version("2026-09");
        assert!(!v.unsupported_on(Date::new(2026, 11, 30)));
        assert!(!v.unsupported_on(Date::new(2028, 3, 30)));
        assert!(v.unsupported_on(Date::new(2028, 3, 31)));
        assert!(v.unsupported_on(Date::new(2029, 1, 1)));
        let legacy = version("v3");
        assert!(!legacy.unsupported_on(Date::new(2027, 8, 31)));
        assert!(legacy.unsupported_on(Date::new(2027, 9, 1)));
        assert!(version("2026-03").unsupported_on(Date::new(2027, 10, 1)));
    }

    #[test]
    fn releases_are_listed_newest_first_and_expire_in_that_order() {
        for pair in RELEASES.windows(2) {
            assert!(pair[0].unsupported_from > pair[1].unsupported_from);
        }
    }

    #[test]
    fn days_since_the_epoch_become_calendar_dates() {
        assert_eq!(Date::from_days_since_epoch(0), Date::new(1970, 1, 1));
        assert_eq!(Date::from_days_since_epoch(-1), Date::new(1969, 12, 31));
        assert_eq!(Date::from_days_since_epoch(11_016), Date::new(2000, 2, 29));
        assert_eq!(Date::from_days_since_epoch(20_787), Date::new(2026, 11, 30));
        assert_eq!(Date::from_days_since_epoch(21_184), Date::new(2028, 1, 1));
        assert_eq!(Date::new(2027, 9, 1).to_string(), "2027-09-01");
    }
}
