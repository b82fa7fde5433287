//! The configured catalog: which streams (name and namespace) this sync
//! writes, the HubSpot object Airbyte's object mapping chose for each
//! (`destination_object_name`) with its primary key, and the record field
//! that holds a contact stream's email. Which object and matching key a
//! stream finally writes is decided with the config in `write::targets`.
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

/// One stream the sync writes.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Its position in the catalog (streams listed twice count once).
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Path of the record field holding the email (contacts by email).
    pub email_field: Vec<String>,
    /// The HubSpot object Airbyte's object mapping chose, if it did.
    pub object: Option<String>,
    /// The stream's single primary key path, if it has one: with an
    /// object mapping, the matching key.
    pub primary_key: Option<Vec<String>>,
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
            let object = s
                .destination_object_name
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty());
            let primary_key = match s.primary_key.as_deref() {
                Some([key]) if !key.is_empty() => Some(key.clone()),
                _ => None,
            };
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
            let key = (s.stream.namespace, s.stream.name.clone());
            // A stream listed twice: the last entry wins.
            streams.retain(|(k, _)| *k != key);
            let stream = Stream {
                index: 0,
                name: s.stream.name,
                email_field,
                object,
                primary_key,
            };
            streams.push((key, stream));
        }
        for (index, (_, s)) in streams.iter_mut().enumerate() {
            s.index = index;
        }
        if streams.is_empty() {
            bail!("/streams: the catalog has no stream to write");
        }
        Ok(Catalog { streams })
    }

    /// Its streams, in catalog order (`Stream::index`).
    pub fn streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams.iter().map(|(_, s)| s)
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
    fn the_object_airbyte_mapped_and_the_primary_key_are_kept() {
        let c = Catalog::parse(r#"{"streams":[{"stream":{"name":"s"}},{"stream":{"name":"accounts"},"destination_object_name":" companies ","primary_key":[["external_id"]]},{"stream":{"name":"s"},"primary_key":[["a"],["b"]]}]}"#).unwrap();
        let accounts = c.stream("accounts", None).unwrap();
        assert_eq!(accounts.object.as_deref(), Some("companies"));
        assert_eq!(accounts.primary_key, Some(vec!["external_id".to_string()]));
        let s = c.stream("s", None).unwrap();
        assert_eq!((s.object.clone(), s.primary_key.clone()), (None, None));
        let indexes: Vec<usize> = c.streams().map(|s| s.index).collect();
        assert_eq!(indexes, vec![0, 1], "the stream listed twice counts once");
        assert_eq!(c.stream("accounts", None).unwrap().index, 0);
    }

    #[test]
    fn missing_streams_field_is_an_error() {
        assert!(Catalog::parse(r#"{"stream":[]}"#).is_err());
    }
}
