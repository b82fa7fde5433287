//! The configured catalog: which streams this sync writes, and the record
//! field that holds each stream's matching key (the contact's email).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

#[derive(Deserialize)]
struct RawCatalog {
    streams: Vec<RawConfiguredStream>,
}

#[derive(Deserialize)]
struct RawConfiguredStream {
    stream: RawStream,
    #[serde(default)]
    destination_sync_mode: Option<String>,
    #[serde(default)]
    primary_key: Option<Vec<Vec<String>>>,
}

#[derive(Deserialize)]
struct RawStream {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

/// One stream the sync writes to HubSpot contacts.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Path of the record field holding the email (from `primary_key`).
    pub email_field: Vec<String>,
}

/// The streams of a configured catalog, keyed by name.
#[derive(Debug, Clone)]
pub struct Catalog {
    streams: HashMap<String, Stream>,
}

impl Catalog {
    /// Reads and checks a configured catalog file.
    pub fn load(path: &Path) -> Result<Catalog> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read catalog file {}", path.display()))?;
        Catalog::parse(&text).with_context(|| format!("catalog file {} is invalid", path.display()))
    }

    /// Parses a configured catalog's JSON text.
    pub fn parse(text: &str) -> Result<Catalog> {
        let raw: RawCatalog = serde_json::from_str(text)?;
        let mut streams = HashMap::new();
        for (i, s) in raw.streams.into_iter().enumerate() {
            let mode = s.destination_sync_mode.as_deref().unwrap_or("append_dedup");
            match mode {
                "append" | "append_dedup" | "update" => {}
                "overwrite" => bail!(
                    "/streams/{i}/destination_sync_mode: `overwrite` would delete every other HubSpot contact, which this destination refuses to do; use append_dedup (every write is an upsert by email)"
                ),
                other => bail!(
                    "/streams/{i}/destination_sync_mode: `{other}` is not supported; use append_dedup, append or update"
                ),
            }
            let email_field = match s.primary_key.as_deref() {
                None | Some([]) => vec!["email".to_string()],
                Some([key]) if !key.is_empty() => key.clone(),
                Some(_) => bail!(
                    "/streams/{i}/primary_key: contacts are matched by one field, the email (e.g. [[\"email\"]])"
                ),
            };
            let _ = s.stream.namespace;
            streams.insert(s.stream.name, Stream { email_field });
        }
        if streams.is_empty() {
            bail!("/streams: the catalog has no stream to write");
        }
        Ok(Catalog { streams })
    }

    /// The stream with this name, if the catalog has it.
    pub fn stream(&self, name: &str) -> Option<&Stream> {
        self.streams.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_key_names_the_email_field() {
        let c = Catalog::parse(r#"{"streams":[{"stream":{"name":"users","json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"append_dedup","primary_key":[["Email"]]}]}"#).unwrap();
        assert_eq!(c.stream("users").unwrap().email_field, vec!["Email"]);
        assert!(c.stream("other").is_none());
    }

    #[test]
    fn overwrite_is_refused_with_the_field_path() {
        let err = Catalog::parse(
            r#"{"streams":[{"stream":{"name":"c"},"destination_sync_mode":"overwrite"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/streams/0/destination_sync_mode"), "{err}");
    }

    #[test]
    fn missing_streams_field_is_an_error() {
        assert!(Catalog::parse(r#"{"stream":[]}"#).is_err());
    }
}
