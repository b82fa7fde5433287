//! Configuration: spec.json (the single source of truth, embedded in the
//! binary), validation of the user's config against it, and the typed `Config`
//! that everything after start-up uses. Nothing later touches the raw JSON.
//!
//! Secrets live in [`Secret`], which never prints its value.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

/// The connector's specification, exactly as shipped in spec.json.
pub const SPEC_JSON: &str = include_str!("../spec.json");

/// Default HubSpot API base URL (every data centre uses it).
pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";

/// A secret string: its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the connector authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A private app access token, sent as a bearer token.
    PrivateApp { access_token: Secret },
    /// An OAuth app: the access token is obtained from the refresh token.
    OAuth {
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
    },
}

/// Which contacts get a lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecyclePolicy {
    NewContactsOnly,
    ForwardOnly,
    Force,
}

/// What to do with a record field that is no HubSpot property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownProperties {
    Reject,
    Drop,
    Create,
}

/// What an explicit JSON null in a record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullPolicy {
    Ignore,
    Clear,
}

/// What a record deleted in the source (`_ab_cdc_deleted_at` set) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletes {
    /// Nothing in HubSpot; counted and summarised.
    Skip,
    /// The HubSpot contact with its email is archived (restorable for 90 days).
    Archive,
}

/// The validated, typed configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub auth: Auth,
    /// Base URL without a trailing slash.
    pub base_url: String,
    pub lifecycle_stage: Option<String>,
    pub lifecycle_policy: LifecyclePolicy,
    pub unknown_properties: UnknownProperties,
    pub null_values: NullPolicy,
    pub deletes: Deletes,
    /// The zone of datetimes written without one (UTC unless `timezone`).
    pub timezone: jiff::tz::TimeZone,
    /// Record field path (split on '.') → HubSpot property name.
    pub property_mapping: Vec<(Vec<String>, String)>,
    pub rejected_records_path: Option<PathBuf>,
    pub fail_on_rejected: bool,
    pub log_record_data: bool,
    pub workers: usize,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub retry_max: Duration,
    pub retry_initial_delay: Duration,
    pub daily_quota_reserve: u64,
    pub strict_input: bool,
    /// What the config holds that does nothing (unknown keys), for a WARN.
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads, validates and types the config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let raw: Value = serde_json::from_str(&text)
            .with_context(|| format!("config file {} is not valid JSON", path.display()))?;
        Config::from_value(&raw)
    }

    /// Validates a config value against spec.json, then builds the typed config.
    pub fn from_value(raw: &Value) -> Result<Config> {
        validate(raw)?;
        let obj = raw.as_object().context("config must be a JSON object")?;
        let auth = auth_from(obj)?;
        let base_url = str_field(obj, "base_url")
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .to_string();
        check_base_url(&base_url)?;
        let lifecycle_policy = match str_field(obj, "lifecycle_stage_policy") {
            Some("forward_only") => LifecyclePolicy::ForwardOnly,
            Some("force") => LifecyclePolicy::Force,
            _ => LifecyclePolicy::NewContactsOnly,
        };
        let unknown_properties = match str_field(obj, "unknown_properties") {
            Some("reject") => UnknownProperties::Reject,
            Some("create") => UnknownProperties::Create,
            _ => UnknownProperties::Drop,
        };
        let null_values = match str_field(obj, "null_values") {
            Some("clear") => NullPolicy::Clear,
            _ => NullPolicy::Ignore,
        };
        let deletes = match str_field(obj, "deletes") {
            Some("archive") => Deletes::Archive,
            _ => Deletes::Skip,
        };
        let timezone = timezone(obj)?;
        let mut property_mapping = Vec::new();
        if let Some(Value::Object(map)) = obj.get("property_mapping") {
            for (field, target) in map {
                let target = target.as_str().unwrap_or_default().trim().to_string();
                let path = field.split('.').map(str::to_string).collect();
                property_mapping.push((path, target));
            }
        }
        let lifecycle_stage = str_field(obj, "lifecycle_stage")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(Config {
            auth,
            base_url,
            lifecycle_stage,
            lifecycle_policy,
            unknown_properties,
            null_values,
            deletes,
            timezone,
            property_mapping,
            rejected_records_path: str_field(obj, "rejected_records_path").map(PathBuf::from),
            fail_on_rejected: bool_field(obj, "fail_on_rejected_records", false),
            log_record_data: bool_field(obj, "log_record_data", false),
            workers: int_field(obj, "workers", 8) as usize,
            request_timeout: Duration::from_secs(int_field(obj, "request_timeout_seconds", 60)),
            max_retries: int_field(obj, "max_retries", 8) as u32,
            retry_max: Duration::from_secs(int_field(obj, "retry_max_seconds", 600)),
            retry_initial_delay: Duration::from_millis(int_field(
                obj,
                "retry_initial_delay_ms",
                1000,
            )),
            daily_quota_reserve: int_field(obj, "daily_quota_reserve", 1000),
            strict_input: bool_field(obj, "strict_input", false),
            warnings: unknown_keys(raw).into_iter().collect(),
        })
    }

    /// Every secret string in this config, so output can be scrubbed of them.
    pub fn secrets(&self) -> Vec<&str> {
        match &self.auth {
            Auth::PrivateApp { access_token } => vec![access_token.expose()],
            Auth::OAuth {
                client_secret,
                refresh_token,
                ..
            } => vec![client_secret.expose(), refresh_token.expose()],
        }
    }
}

/// The spec's connection schema, parsed.
pub fn spec() -> Value {
    serde_json::from_str(SPEC_JSON).expect("spec.json is valid JSON (checked by a test)")
}

/// Checks the raw config against spec.json and reports every violation, with
/// its JSON pointer, in one message. Values are masked: they may be secrets.
fn validate(raw: &Value) -> Result<()> {
    let spec = spec();
    let schema = &spec["connectionSpecification"];
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| anyhow::anyhow!("spec.json is not a valid JSON schema: {}", e.masked()))?;
    let problems: Vec<String> = validator
        .iter_errors(raw)
        .map(|e| {
            let path = e.instance_path().as_str();
            let path = if path.is_empty() { "/" } else { path };
            format!("{path}: {}", e.masked())
        })
        .collect();
    if !problems.is_empty() {
        bail!("config is invalid: {}", problems.join("; "));
    }
    Ok(())
}

/// A WARN for config keys spec.json doesn't know (a typo silently does
/// nothing otherwise), naming the closest known key when one is near.
pub fn unknown_keys(raw: &Value) -> Option<String> {
    let spec = spec();
    let known = spec["connectionSpecification"]["properties"].as_object()?;
    let unknown: Vec<String> = raw
        .as_object()?
        .keys()
        .filter(|k| !known.contains_key(*k))
        .map(|k| match closest(k, known.keys()) {
            Some(near) => format!("`{k}` (did you mean `{near}`?)"),
            None => format!("`{k}`"),
        })
        .collect();
    (!unknown.is_empty()).then(|| {
        format!(
            "config: unknown key(s) {}: ignored (see the configuration reference for the settings there are)",
            unknown.join(", ")
        )
    })
}

/// The known key nearest to `key` by edit distance, if near enough to be
/// a typo of it (at most a third of its letters differ).
fn closest<'k>(key: &str, known: impl Iterator<Item = &'k String>) -> Option<&'k str> {
    let key = key.to_lowercase();
    known
        .map(|k| (strsim::levenshtein(&key, k), k.as_str()))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The configured IANA time zone (UTC when none is set).
fn timezone(obj: &Map<String, Value>) -> Result<jiff::tz::TimeZone> {
    match str_field(obj, "timezone").map(str::trim) {
        None | Some("") => Ok(jiff::tz::TimeZone::UTC),
        Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
            anyhow::anyhow!(
                "config is invalid: /timezone: `{name}` is not an IANA time zone name (e.g. `UTC`, `Europe/Paris`, `America/New_York`)"
            )
        }),
    }
}

fn auth_from(obj: &Map<String, Value>) -> Result<Auth> {
    if let Some(Value::Object(creds)) = obj.get("credentials") {
        let auth_type = str_field(creds, "auth_type").unwrap_or_default();
        return Ok(if auth_type == "OAuth" {
            Auth::OAuth {
                client_id: str_field(creds, "client_id")
                    .unwrap_or_default()
                    .to_string(),
                client_secret: Secret::new(str_field(creds, "client_secret").unwrap_or_default()),
                refresh_token: Secret::new(str_field(creds, "refresh_token").unwrap_or_default()),
            }
        } else {
            Auth::PrivateApp {
                access_token: Secret::new(str_field(creds, "access_token").unwrap_or_default()),
            }
        });
    }
    match str_field(obj, "access_token") {
        Some(token) if !token.trim().is_empty() => Ok(Auth::PrivateApp {
            access_token: Secret::new(token.trim()),
        }),
        _ => bail!("config is invalid: /access_token: a private app access token is required (or `credentials` with OAuth app credentials)"),
    }
}

/// Refuses plain http unless the host is loopback: the token must never
/// cross a network in clear.
fn check_base_url(url: &str) -> Result<()> {
    let Some(rest) = url.strip_prefix("http://") else {
        if url.starts_with("https://") && url.len() > "https://".len() {
            return Ok(());
        }
        bail!("config is invalid: /base_url: must start with https:// (got a URL without a host or scheme)");
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false);
    if !loopback {
        bail!("config is invalid: /base_url: plain http:// is only allowed for loopback hosts (127.0.0.0/8, localhost, [::1]); use https:// so the token is never sent in clear");
    }
    Ok(())
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn bool_field(obj: &Map<String, Value>, key: &str, default: bool) -> bool {
    obj.get(key).and_then(Value::as_bool).unwrap_or(default)
}

fn int_field(obj: &Map<String, Value>, key: &str, default: u64) -> u64 {
    obj.get(key).and_then(Value::as_u64).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_access_token_is_accepted_with_defaults() {
        let c = Config::from_value(&json!({"access_token": "pat-na1-x"})).unwrap();
        assert!(matches!(c.auth, Auth::PrivateApp { .. }));
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.lifecycle_policy, LifecyclePolicy::NewContactsOnly);
        assert_eq!(c.workers, 8);
    }

    #[test]
    fn missing_token_names_the_field() {
        let err = Config::from_value(&json!({})).unwrap_err().to_string();
        assert!(err.contains("/access_token"), "{err}");
    }

    #[test]
    fn every_violation_is_reported_with_its_path_and_no_value() {
        let err = Config::from_value(&json!({
            "access_token": 12345,
            "workers": 0,
            "lifecycle_stage_policy": "sideways"
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("/access_token"), "{err}");
        assert!(err.contains("/workers"), "{err}");
        assert!(err.contains("/lifecycle_stage_policy"), "{err}");
        assert!(!err.contains("12345") && !err.contains("sideways"), "{err}");
    }

    #[test]
    fn secret_values_are_not_echoed_in_errors() {
        let err = Config::from_value(&json!({
            "credentials": {"auth_type": "OAuth", "client_id": "c", "client_secret": 7, "refresh_token": "rt-very-secret"}
        }))
        .unwrap_err()
        .to_string();
        assert!(!err.contains("rt-very-secret"), "{err}");
    }

    #[test]
    fn http_is_refused_unless_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9/",
            "http://127.1.2.3",
        ] {
            Config::from_value(&json!({"access_token": "t", "base_url": ok})).unwrap();
        }
        for bad in [
            "http://api.hubapi.com",
            "http://10.0.0.1:80",
            "http://127.0.0.1.evil.com",
        ] {
            let err = Config::from_value(&json!({"access_token": "t", "base_url": bad}))
                .unwrap_err()
                .to_string();
            assert!(err.contains("/base_url"), "{bad}: {err}");
        }
    }

    #[test]
    fn secret_debug_is_redacted() {
        let c = Config::from_value(&json!({"access_token": "pat-na1-topsecret"})).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("topsecret"), "{debug}");
    }

    #[test]
    fn oauth_credentials_are_typed() {
        let c = Config::from_value(&json!({"credentials": {
            "auth_type": "OAuth", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt"}}))
        .unwrap();
        assert!(matches!(c.auth, Auth::OAuth { ref client_id, .. } if client_id == "cid"));
        assert_eq!(c.secrets(), vec!["cs", "rt"]);
    }

    #[test]
    fn unknown_keys_are_named_with_the_closest_known_key() {
        let w = unknown_keys(&json!({"access_token": "t", "lifecycle_stag": "lead", "colour": 1}))
            .unwrap();
        assert!(
            w.contains("`lifecycle_stag` (did you mean `lifecycle_stage`?)"),
            "{w}"
        );
        assert!(
            w.contains("`colour`") && !w.contains("`colour` (did"),
            "{w}"
        );
        assert_eq!(
            unknown_keys(&json!({"access_token": "t", "workers": 2})),
            None
        );
        let c = Config::from_value(&json!({"access_token": "t", "Workers": 2})).unwrap();
        assert!(
            c.warnings[0].contains("did you mean `workers`"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn deletes_and_timezone_are_typed_and_an_unknown_zone_is_refused() {
        let c = Config::from_value(&json!({"access_token": "t"})).unwrap();
        assert_eq!(c.deletes, Deletes::Skip);
        assert_eq!(c.timezone.iana_name(), Some("UTC"));
        let c = Config::from_value(
            &json!({"access_token": "t", "deletes": "archive", "timezone": "Europe/Paris"}),
        )
        .unwrap();
        assert_eq!(c.deletes, Deletes::Archive);
        assert_eq!(c.timezone.iana_name(), Some("Europe/Paris"));
        let err = Config::from_value(&json!({"access_token": "t", "timezone": "Mars/Base"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/timezone"), "{err}");
    }

    #[test]
    fn property_mapping_splits_dotted_paths() {
        let c = Config::from_value(
            &json!({"access_token": "t", "property_mapping": {"address.city": "city"}}),
        )
        .unwrap();
        assert_eq!(
            c.property_mapping,
            vec![(
                vec!["address".to_string(), "city".to_string()],
                "city".to_string()
            )]
        );
    }
}
