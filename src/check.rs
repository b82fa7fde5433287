//! `check`: proves the config works before a sync — the token is accepted,
//! it can read contact properties, it holds the write scope, and the
//! configured lifecycle stage exists — and says exactly what to fix if not.

use std::time::Duration;

use crate::config::Config;
use crate::hubspot::client::Outcome;
use crate::hubspot::properties::Properties;
use crate::hubspot::Client;

/// Runs the checks; `Err` is the message for a FAILED status.
pub fn check(config: &Config) -> Result<(), String> {
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
        .get("/account-info/v3/details")
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
    let props = Properties::fetch(&client).map_err(|e| e.message)?;
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
    match client.post("/crm/v3/objects/contacts/batch/upsert", br#"{"inputs":[]}"#) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.message),
    }
}

/// Object storage for rejected records: the bucket exists and takes the
/// credentials (a listing of one key under the prefix).
fn check_rejects_storage(config: &Config) -> Result<(), String> {
    match &config.rejected_records_s3 {
        Some(s3) => crate::s3::S3Bucket::new(s3, Duration::from_secs(20))?.probe(),
        None => Ok(()),
    }
}
