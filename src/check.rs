//! `check`: proves the config works before a sync — the token is accepted,
//! it can read contact properties, it holds the write scope, the
//! configured lifecycle stage exists, and every object and association the
//! config names exists, is matched by a unique property and is within the
//! token's scopes — and says exactly what to fix if not.
//! It also says which HubSpot API version the connector calls, and warns
//! once HubSpot no longer supports it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::hubspot::api::{ApiVersion, Date, RELEASES};
use crate::hubspot::client::Outcome;
use crate::hubspot::properties::Properties;
use crate::hubspot::Client;
use crate::protocol::Output;
use crate::write::targets::Targets;

/// Runs the checks, logging through `out`; `Err` is the message for a
/// FAILED status.
pub fn run(config: &Config, out: &Output) -> Result<(), String> {
    let (level, note) = version_note(config.api_version, Date::today());
    out.log(level, note);
    probe(config)
}

/// What `check` says about the API version on `today`: which one is called,
/// until when HubSpot supports it, and a warning once it no longer does.
pub fn version_note(version: ApiVersion, today: Date) -> (&'static str, String) {
    let until = version.unsupported_from();
    if version.unsupported_on(today) {
        let newest = RELEASES[0].name;
        let advice = if version.name() == newest {
            "a newer version may exist: see HubSpot's API versioning page and update the connector"
                .to_string()
        } else {
            format!("set `api_version` to {newest}")
        };
        return (
            "WARN",
            format!("HubSpot API version {version} (`api_version`) is past HubSpot's support since {until}: calls may change or fail without notice; {advice}"),
        );
    }
    (
        "INFO",
        format!("calling HubSpot API version {version} (`api_version`), supported by HubSpot until {until}"),
    )
}

/// The calls that prove the config; `Err` is what to fix.
fn probe(config: &Config) -> Result<(), String> {
    check_rejects_storage(config)?;
    // A check answers in seconds, not after a sync's patient retries.
    let mut config = config.clone();
    config.max_retries = config.max_retries.min(2);
    config.retry_max = config.retry_max.min(Duration::from_secs(20));
    config.request_timeout = config.request_timeout.min(Duration::from_secs(20));
    let client = Client::new(&config);
    let unreachable = |m: String| {
        if m.contains("no answer") || m.contains("unavailable") {
            format!(
                "cannot reach HubSpot at {}: {m}; check `base_url` and the network",
                config.base_url
            )
        } else {
            m
        }
    };
    match client
        .get(&client.paths().account_info("details"))
        .map_err(|e| unreachable(e.message))?
    {
        Outcome::Done(_) => {}
        Outcome::Invalid(a, _) => {
            return Err(format!(
                "HubSpot refused the account details call ({}): check `base_url`",
                a.status
            ))
        }
    }
    let props = Properties::fetch(&client, "contacts").map_err(|e| e.message)?;
    if props.get("email").is_none() {
        return Err(format!(
            "{} did not list the contact `email` property: is `base_url` HubSpot's API?",
            config.base_url
        ));
    }
    if let Some(stage) = &config.lifecycle_stage {
        crate::write::check_stage(&props, stage).map_err(|e| e.message)?;
    }
    // The write scope, proven without writing: an empty upsert is refused
    // for its content (400) only once the scopes are granted (else 403).
    let probe = client.paths().objects_batch("contacts", "upsert");
    client
        .post(&probe, br#"{"inputs":[]}"#)
        .map_err(|e| e.message)?;
    objects_and_associations(&config, &client)
}

/// The objects and associations the config names: they exist, their keys
/// are unique properties, and the token may write them (empty writes,
/// refused for their content only once the scopes are granted).
fn objects_and_associations(config: &Config, client: &Client) -> Result<(), String> {
    if config.objects.is_empty() && config.associations.is_empty() {
        return Ok(());
    }
    let mut names: Vec<&str> = config.objects.iter().map(|(s, _)| s.as_str()).collect();
    names.extend(config.associations.iter().map(|a| a.stream.as_str()));
    names.sort_unstable();
    names.dedup();
    let streams: Vec<Value> = names
        .iter()
        .map(|n| json!({"stream": {"name": n}}))
        .collect();
    let catalog =
        Catalog::parse(&json!({ "streams": streams }).to_string()).map_err(|e| format!("{e:#}"))?;
    let targets = Targets::resolve(config, &catalog, client).map_err(|e| e.message)?;
    targets.probe_scopes(client).map_err(|e| e.message)
}

/// Object storage for rejected records: the bucket exists and takes the
/// credentials (a listing of one key under the prefix).
fn check_rejects_storage(config: &Config) -> Result<(), String> {
    match &config.rejected_records_s3 {
        Some(s3) => crate::s3::S3Bucket::new(s3, Duration::from_secs(20))?.probe(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str) -> ApiVersion {
        ApiVersion::parse(name).unwrap()
    }

    #[test]
    fn the_version_in_use_is_reported_with_its_support_date() {
        let (level, note) = version_note(version("2026-09"), Date::new(2026, 11, 30));
        assert_eq!(level, "INFO");
        assert!(
            note.contains("2026-09") && note.contains("2028-03-31"),
            "{note}"
        );
    }

    #[test]
    fn a_version_past_its_support_is_a_warning_naming_the_newest() {
        let (level, note) = version_note(version("v3"), Date::new(2027, 9, 1));
        assert_eq!(level, "WARN");
        assert!(note.contains("since 2027-09-01"), "{note}");
        assert!(
            note.contains(&format!("set `api_version` to {}", RELEASES[0].name)),
            "{note}"
        );
        let (level, _) = version_note(version("v3"), Date::new(2027, 8, 31));
        assert_eq!(level, "INFO");
        let (level, note) = version_note(version("2026-09"), Date::new(2028, 4, 1));
        assert_eq!(level, "WARN");
        assert!(note.contains("newer version"), "{note}");
    }
}
