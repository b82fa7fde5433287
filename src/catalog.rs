//! The configured catalog: which streams (name and namespace) this sync
//! writes, and the record field that holds each stream's email. A stream
//! that Airbyte maps to another HubSpot object than contacts is refused.
//!
//! The email is the field `email`, unless the stream's primary key names an
//! email field (`[["Email"]]`, `[["contact", "email_address"]]`). A source's
//! own key (`[["id"]]`, composite keys) is not the email and is ignored:
//! HubSpot matches contacts by email whatever the source deduplicates by.

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
    /// The HubSpot object Airbyte's object mapping chose (protocol ≥ 0.16).
    #[serde(default)]
    destination_object_name: Option<String>,
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
    /// Path of the record field holding the email.
    pub email_field: Vec<String>,
}

/// The streams of a configured catalog, by (namespace, name); a catalog
/// has a handful, so a list is searched without hashing or allocating.
#[derive(Debug, Clone)]
pub struct Catalog {
    streams: Vec<((Option<String>, String), Stream)>,
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
        let mut streams: Vec<((Option<String>, String), Stream)> = Vec::new();
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
            if let Some(object) = s.destination_object_name.as_deref() {
                if !is_contacts(object) {
                    bail!(
                        "/streams/{i}/destination_object_name: `{object}` is not supported yet: this destination writes HubSpot contacts only, and would otherwise have written these records as contacts; map the stream to `contacts` or leave it out of the sync"
                    );
                }
            }
            let email_field = match s.primary_key.as_deref() {
                Some([key])
                    if key
                        .last()
                        .is_some_and(|k| k.to_ascii_lowercase().contains("email")) =>
                {
                    key.clone()
                }
                _ => vec!["email".to_string()],
            };
            let key = (s.stream.namespace, s.stream.name);
            // A stream listed twice: the last entry wins.
            streams.retain(|(k, _)| *k != key);
            streams.push((key, Stream { email_field }));
        }
        if streams.is_empty() {
            bail!("/streams: the catalog has no stream to write");
        }
        Ok(Catalog { streams })
    }

    /// The stream a record names. A record without a namespace matches a
    /// stream of that name when only one has it; otherwise the namespace
    /// must be the catalog's.
    pub fn stream(&self, name: &str, namespace: Option<&str>) -> Option<&Stream> {
        let exact = self
            .streams
            .iter()
            .find(|((ns, n), _)| n == name && ns.as_deref() == namespace);
        if let Some((_, s)) = exact {
            return Some(s);
        }
        if namespace.is_some() {
            return None;
        }
        let mut named = self.streams.iter().filter(|((_, n), _)| n == name);
        match (named.next(), named.next()) {
            (Some((_, s)), None) => Some(s),
            _ => None,
        }
    }
}

/// Whether an object name is HubSpot's contacts object (by name, singular
/// or plural, or its type id `0-1`).
fn is_contacts(object: &str) -> bool {
    let object = object.trim();
    ["contacts", "contact", "0-1"]
        .iter()
        .any(|c| object.eq_ignore_ascii_case(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_key_names_the_email_field() {
        let c = Catalog::parse(r#"{"streams":[{"stream":{"name":"users","json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"append_dedup","primary_key":[["Email"]]}]}"#).unwrap();
        assert_eq!(c.stream("users", None).unwrap().email_field, vec!["Email"]);
        assert!(c.stream("other", None).is_none());
    }

    #[test]
    fn a_source_key_that_is_not_an_email_falls_back_to_the_email_field() {
        for key in [r#"[["id"]]"#, r#"[["id"],["updated_at"]]"#, "[]", "null"] {
            let text =
                format!(r#"{{"streams":[{{"stream":{{"name":"users"}},"primary_key":{key}}}]}}"#);
            assert_eq!(
                Catalog::parse(&text)
                    .unwrap()
                    .stream("users", None)
                    .unwrap()
                    .email_field,
                vec!["email"],
                "{key}"
            );
        }
        let nested =
            r#"{"streams":[{"stream":{"name":"u"},"primary_key":[["contact","Email_Address"]]}]}"#;
        assert_eq!(
            Catalog::parse(nested)
                .unwrap()
                .stream("u", None)
                .unwrap()
                .email_field,
            vec!["contact", "Email_Address"]
        );
    }

    #[test]
    fn namespaces_must_match_when_given() {
        let c = Catalog::parse(r#"{"streams":[{"stream":{"name":"users","namespace":"public"}},{"stream":{"name":"leads"}}]}"#).unwrap();
        assert!(c.stream("users", Some("public")).is_some());
        assert!(
            c.stream("users", None).is_some(),
            "unambiguous without a namespace"
        );
        assert!(c.stream("users", Some("other")).is_none());
        assert!(c.stream("leads", None).is_some());
        assert!(c.stream("leads", Some("public")).is_none());
        let two = Catalog::parse(r#"{"streams":[{"stream":{"name":"u","namespace":"a"}},{"stream":{"name":"u","namespace":"b"}}]}"#).unwrap();
        assert!(two.stream("u", None).is_none(), "ambiguous");
        assert!(two.stream("u", Some("b")).is_some());
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
    fn a_stream_mapped_to_another_object_is_refused_not_written_as_contacts() {
        let catalog = |object: &str| {
            format!(
                r#"{{"streams":[{{"stream":{{"name":"s"}}}},{{"stream":{{"name":"accounts"}},"destination_object_name":"{object}"}}]}}"#
            )
        };
        for object in ["contacts", "Contact", "0-1"] {
            assert!(Catalog::parse(&catalog(object)).is_ok(), "{object}");
        }
        for object in ["companies", "deals", "2-123456"] {
            let err = Catalog::parse(&catalog(object)).unwrap_err().to_string();
            assert!(
                err.contains("/streams/1/destination_object_name")
                    && err.contains(&format!("`{object}` is not supported yet")),
                "{err}"
            );
        }
    }

    #[test]
    fn missing_streams_field_is_an_error() {
        assert!(Catalog::parse(r#"{"stream":[]}"#).is_err());
    }
}
