//! Reading records by their matching key (or id) in one batch read: which
//! exist, with the properties asked for. The lifecycle policy, the dry run,
//! archives, association targets and the narrowing of admin-rule refusals
//! all ask HubSpot this way.

use serde_json::{json, Value};

use super::Mode;
use crate::hubspot::client::{Client, Outcome};
use crate::hubspot::HubSpotError;

/// The records HubSpot finds for `keys` (at most 100) of `mode`'s object,
/// by its matching key (or by id), each as HubSpot returns it (`id`,
/// `properties` with `properties`); `None` when HubSpot refused the read
/// as a whole.
pub(crate) fn read_by(
    client: &Client,
    mode: Mode,
    keys: &[&str],
    properties: &[&str],
) -> Result<Option<Vec<Value>>, HubSpotError> {
    let mut body = json!({
        "properties": properties,
        "inputs": keys.iter().map(|e| json!({"id": e})).collect::<Vec<_>>(),
    });
    if let Some(by) = mode.by {
        body["idProperty"] = json!(by);
    }
    let path = client.paths().objects_batch(mode.object, "read");
    let body = serde_json::to_vec(&body).expect("a read body is plain strings");
    Ok(match client.post(&path, &body)? {
        Outcome::Done(answer) => Some(match answer.json().get_mut("results") {
            Some(Value::Array(results)) => std::mem::take(results),
            _ => Vec::new(),
        }),
        Outcome::Invalid(..) => None,
    })
}

/// A record's property as text ("" when absent).
pub(crate) fn property<'a>(contact: &'a Value, name: &str) -> &'a str {
    contact
        .get("properties")
        .and_then(|p| p.get(name))
        .and_then(Value::as_str)
        .unwrap_or_default()
}
