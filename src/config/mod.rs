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

use crate::hubspot::api::ApiVersion;

mod crm;

pub use crm::{AssociationLabel, AssociationSpec, ObjectChoice};

/// The connector's specification, exactly as shipped in spec.json.
pub const SPEC_JSON: &str = include_str!("../../spec.json");

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
    /// A service key or private app token, sent as a bearer token.
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

/// S3-compatible object storage for rejected records
/// (`rejected_records_storage` with `storage_type` S3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Storage {
    pub bucket: String,
    /// Key prefix without leading or trailing `/`; empty: the bucket's root.
    pub prefix: String,
    pub region: String,
    /// A custom endpoint (path-style addressing), without a trailing `/`;
    /// `None`: AWS S3 in `region`.
    pub endpoint: Option<String>,
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
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
    /// The HubSpot API version every call uses.
    pub api_version: ApiVersion,
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
    /// Rejected records go to object storage instead (never with a path).
    pub rejected_records_s3: Option<S3Storage>,
    pub fail_on_rejected: bool,
    /// Check and plan only: no write call, no state.
    pub dry_run: bool,
    pub log_record_data: bool,
    pub workers: usize,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub retry_max: Duration,
    pub retry_initial_delay: Duration,
    pub daily_quota_reserve: u64,
    pub strict_input: bool,
    /// Stream name → the object it writes (without Airbyte's mapping).
    pub objects: Vec<(String, ObjectChoice)>,
    pub associations: Vec<AssociationSpec>,
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
        let api_version = api_version(obj)?;
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
        let (rejects_file, rejected_records_s3) = rejects_storage_from(obj)?;
        Ok(Config {
            auth,
            base_url,
            api_version,
            lifecycle_stage,
            lifecycle_policy,
            unknown_properties,
            null_values,
            deletes,
            timezone,
            property_mapping,
            rejected_records_path: str_field(obj, "rejected_records_path")
                .map(PathBuf::from)
                .or(rejects_file),
            rejected_records_s3,
            fail_on_rejected: bool_field(obj, "fail_on_rejected_records", false),
            dry_run: bool_field(obj, "dry_run", false),
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
            objects: crm::objects_from(obj),
            associations: crm::associations_from(obj)?,
            warnings: unknown_keys(raw).into_iter().collect(),
        })
    }

    /// Every secret string in this config, so output can be scrubbed of them.
    pub fn secrets(&self) -> Vec<&str> {
        let mut secrets = match &self.auth {
            Auth::PrivateApp { access_token } => vec![access_token.expose()],
            Auth::OAuth {
                client_secret,
                refresh_token,
                ..
            } => vec![client_secret.expose(), refresh_token.expose()],
        };
        if let Some(s3) = &self.rejected_records_s3 {
            secrets.extend([s3.access_key_id.expose(), s3.secret_access_key.expose()]);
        }
        secrets
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
        let field = |name: &str| credential(creds, name, &format!("/credentials/{name}"));
        return Ok(if auth_type == "OAuth" {
            Auth::OAuth {
                client_id: field("client_id")?,
                client_secret: Secret::new(field("client_secret")?),
                refresh_token: Secret::new(field("refresh_token")?),
            }
        } else {
            Auth::PrivateApp {
                access_token: Secret::new(field("access_token")?),
            }
        });
    }
    match str_field(obj, "access_token") {
        Some(token) if !token.trim().is_empty() => Ok(Auth::PrivateApp {
            access_token: Secret::new(credential(obj, "access_token", "/access_token")?),
        }),
        _ => bail!("config is invalid: /access_token: a service key or private app token is required (or `credentials` with OAuth app credentials)"),
    }
}

/// A token or secret as the user pasted it, checked before it is ever sent.
/// Whitespace around it (a copied line break) is dropped; what is left must
/// be visible ASCII: HubSpot's keys, tokens and ids are, and an HTTP header
/// can't carry anything else — a line break, a space or a curly quote inside
/// would otherwise surface much later as an unreachable HubSpot. The message
/// names the field and the position, never the value.
fn credential(obj: &Map<String, Value>, key: &str, pointer: &str) -> Result<String> {
    let value = str_field(obj, key).unwrap_or_default().trim();
    if value.is_empty() {
        bail!("config is invalid: {pointer}: is empty");
    }
    let bad = value
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_graphic());
    let Some((at, c)) = bad else {
        return Ok(value.to_string());
    };
    let what = if c.is_control() {
        "a line break or another control character"
    } else if c.is_whitespace() {
        "a space"
    } else {
        "a non-ASCII character (a curly quote or another character pasted from a document?)"
    };
    bail!(
        "config is invalid: {pointer}: contains {what} at character {}; copy the value again from HubSpot (it is one line of plain letters, digits and dashes)",
        at + 1
    )
}

/// The configured API version, or spec.json's default.
fn api_version(obj: &Map<String, Value>) -> Result<ApiVersion> {
    let spec = spec();
    let name = match str_field(obj, "api_version") {
        Some(name) => name.to_string(),
        None => spec["connectionSpecification"]["properties"]["api_version"]["default"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    // spec.json's enum has already refused any other name.
    ApiVersion::parse(&name)
        .with_context(|| format!("config is invalid: /api_version: unknown version {name:?}"))
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

/// `rejected_records_storage`: a local file's path, or object storage.
/// The flat `rejected_records_path` is the same as the local file option.
fn rejects_storage_from(obj: &Map<String, Value>) -> Result<(Option<PathBuf>, Option<S3Storage>)> {
    let Some(Value::Object(storage)) = obj.get("rejected_records_storage") else {
        return Ok((None, None));
    };
    if obj.contains_key("rejected_records_path") {
        bail!("config is invalid: /rejected_records_storage: set either it or `rejected_records_path`, not both");
    }
    if str_field(storage, "storage_type") != Some("S3") {
        return Ok((str_field(storage, "path").map(PathBuf::from), None));
    }
    let text = |key| str_field(storage, key).unwrap_or_default().trim();
    let endpoint = Some(text("s3_endpoint").trim_end_matches('/'))
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    let region = match text("s3_bucket_region") {
        "" => "us-east-1",
        r => r,
    };
    Ok((
        None,
        Some(S3Storage {
            bucket: text("s3_bucket_name").to_string(),
            prefix: text("s3_bucket_path").trim_matches('/').to_string(),
            region: region.to_string(),
            endpoint,
            access_key_id: Secret::new(text("access_key_id")),
            secret_access_key: Secret::new(text("secret_access_key")),
        }),
    ))
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
    fn api_version_defaults_to_the_spec_default_and_takes_every_release() {
        let c = Config::from_value(&json!({"access_token": "t"})).unwrap();
        assert_eq!(c.api_version.name(), "2026-09");
        let names: Vec<Value> = spec()["connectionSpecification"]["properties"]["api_version"]
            ["enum"]
            .as_array()
            .unwrap()
            .clone();
        let releases: Vec<Value> = crate::hubspot::api::RELEASES
            .iter()
            .map(|r| json!(r.name))
            .collect();
        assert_eq!(names, releases, "spec.json's enum and api::RELEASES differ");
        for name in releases {
            let c = Config::from_value(&json!({"access_token": "t", "api_version": name})).unwrap();
            assert_eq!(json!(c.api_version.name()), name);
        }
        let err = Config::from_value(&json!({"access_token": "t", "api_version": "v4"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/api_version"), "{err}");
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
    fn a_pasted_line_break_around_a_token_is_dropped() {
        let c = Config::from_value(&json!({"access_token": " pat-na1-abc\r\n"})).unwrap();
        assert_eq!(c.secrets(), vec!["pat-na1-abc"]);
        let c = Config::from_value(&json!({"credentials": {
            "auth_type": "OAuth", "client_id": "cid\n", "client_secret": "\tcs", "refresh_token": "rt "}}))
        .unwrap();
        assert!(matches!(c.auth, Auth::OAuth { ref client_id, .. } if client_id == "cid"));
        assert_eq!(c.secrets(), vec!["cs", "rt"]);
    }

    #[test]
    fn a_malformed_credential_names_its_field_and_never_its_value() {
        let cases = [
            (
                json!({"access_token": "pat-na1-ab\ncd"}),
                "/access_token",
                "control character",
            ),
            (
                json!({"access_token": "pat-na1-ab cd"}),
                "/access_token",
                "a space",
            ),
            (
                json!({"access_token": "\u{201c}pat-na1-abcd\u{201d}"}),
                "/access_token",
                "non-ASCII",
            ),
            (
                json!({"credentials": {"auth_type": "Private App", "access_token": "pat-na1-\u{00a0}abcd"}}),
                "/credentials/access_token",
                "a space",
            ),
            (
                json!({"credentials": {"auth_type": "OAuth", "client_id": "cid", "client_secret": "cs\u{0}abcd", "refresh_token": "rt"}}),
                "/credentials/client_secret",
                "control character",
            ),
            (
                json!({"credentials": {"auth_type": "OAuth", "client_id": "cid", "client_secret": "cs", "refresh_token": "r\u{e9}abcd"}}),
                "/credentials/refresh_token",
                "non-ASCII",
            ),
            (
                json!({"credentials": {"auth_type": "OAuth", "client_id": "c id", "client_secret": "cs", "refresh_token": "rt"}}),
                "/credentials/client_id",
                "a space",
            ),
            (
                json!({"credentials": {"auth_type": "OAuth", "client_id": "cid", "client_secret": " ", "refresh_token": "rt"}}),
                "/credentials/client_secret",
                "is empty",
            ),
        ];
        for (config, field, what) in cases {
            let err = Config::from_value(&config).unwrap_err().to_string();
            assert!(err.contains(field) && err.contains(what), "{config}: {err}");
            assert!(!err.contains("abcd"), "{err}");
        }
    }

    #[test]
    fn rejects_storage_is_a_local_file_or_s3_with_its_keys_as_secrets() {
        let c = Config::from_value(&json!({"access_token": "t", "rejected_records_storage": {
            "storage_type": "Local File", "path": "/tmp/r.jsonl"}}))
        .unwrap();
        assert_eq!(c.rejected_records_path, Some(PathBuf::from("/tmp/r.jsonl")));
        assert!(c.rejected_records_s3.is_none());
        let c = Config::from_value(&json!({"access_token": "t", "rejected_records_storage": {
            "storage_type": "S3", "s3_bucket_name": "rejects", "s3_bucket_path": "/a/b/",
            "s3_endpoint": "http://127.0.0.1:9000/", "access_key_id": "AKID-1",
            "secret_access_key": "s3-very-secret"}}))
        .unwrap();
        let s3 = c.rejected_records_s3.clone().unwrap();
        assert_eq!((s3.bucket.as_str(), s3.prefix.as_str()), ("rejects", "a/b"));
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(c.rejected_records_path.is_none());
        assert_eq!(c.secrets(), vec!["t", "AKID-1", "s3-very-secret"]);
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("very-secret") && !debug.contains("AKID"),
            "{debug}"
        );
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
    fn rejects_storage_is_checked_without_echoing_its_secrets() {
        let s3 = |extra: Value| {
            let mut storage = json!({"storage_type": "S3", "s3_bucket_name": "rejects",
                "access_key_id": "AKID-2", "secret_access_key": "s3-hush"});
            for (k, v) in extra.as_object().unwrap() {
                storage[k] = v.clone();
            }
            Config::from_value(&json!({"access_token": "t", "rejected_records_storage": storage}))
        };
        for bad in [
            json!({"s3_bucket_name": "Not_A_Bucket"}),
            json!({"s3_endpoint": "ftp://x"}),
            json!({"secret_access_key": ""}),
            json!({"storage_type": "GCS"}),
        ] {
            let err = s3(bad.clone()).unwrap_err().to_string();
            assert!(err.contains("/rejected_records_storage"), "{bad}: {err}");
            assert!(!err.contains("s3-hush") && !err.contains("AKID-2"), "{err}");
        }
        let err = Config::from_value(&json!({"access_token": "t", "rejected_records_path": "/r",
            "rejected_records_storage": {"storage_type": "Local File", "path": "/q"}}))
        .unwrap_err()
        .to_string();
        assert!(err.contains("not both"), "{err}");
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
    fn objects_and_associations_are_typed() {
        let c = Config::from_value(&json!({"access_token": "t",
            "objects": {"accounts": {"object": "companies", "matching_key": "external_id"}, "people": {"object": "contacts"}},
            "associations": [
                {"stream": "people", "field": "account.id", "to_object": "companies", "to_matching_key": "external_id"},
                {"stream": "people", "field": "x", "to_object": "companies", "to_matching_key": "external_id", "label": "Primary"},
                {"stream": "deals", "field": "x", "to_object": "companies", "to_matching_key": "external_id", "label": 341}
            ]}))
        .unwrap();
        assert_eq!(
            c.objects,
            vec![
                (
                    "accounts".to_string(),
                    ObjectChoice {
                        object: "companies".into(),
                        matching_key: Some("external_id".into())
                    }
                ),
                (
                    "people".to_string(),
                    ObjectChoice {
                        object: "contacts".into(),
                        matching_key: None
                    }
                ),
            ]
        );
        assert_eq!(c.associations[0].field, vec!["account", "id"]);
        let labels: Vec<_> = c.associations.iter().map(|a| a.label.clone()).collect();
        assert_eq!(
            labels,
            vec![
                AssociationLabel::Default,
                AssociationLabel::Primary,
                AssociationLabel::Type(341)
            ]
        );
        let bad = Config::from_value(&json!({"access_token": "t", "associations": [
            {"stream": "s", "field": "f", "to_object": "companies", "to_matching_key": "k", "label": "best"}]}))
        .unwrap_err();
        assert!(
            format!("{bad:#}").contains("/associations/0/label"),
            "{bad:#}"
        );
        let missing = Config::from_value(
            &json!({"access_token": "t", "objects": {"s": {"matching_key": "k"}}}),
        )
        .unwrap_err();
        assert!(format!("{missing:#}").contains("/objects/s"), "{missing:#}");
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
