//! Reading contacts by email in one batch read: which exist, with the
//! properties asked for. The lifecycle policy, the dry run and the
//! narrowing of admin-rule refusals all ask HubSpot this way.

use serde_json::{json, Value};

use crate::hubspot::client::{Client, Outcome};
use crate::hubspot::HubSpotError;

/// The contacts HubSpot finds for `emails` (at most 100), each as HubSpot
/// returns it (`id`, `properties` with `properties`); `None` when HubSpot
/// refused the read as a whole.
pub(crate) fn read_by_email(
    client: &Client,
    emails: &[&str],
    properties: &[&str],
) -> Result<Option<Vec<Value>>, HubSpotError> {
    let body = json!({
        "idProperty": "email",
        "properties": properties,
        "inputs": emails.iter().map(|e| json!({"id": e})).collect::<Vec<_>>(),
    });
    let path = client.paths().contacts_batch("read");
    let body = serde_json::to_vec(&body).expect("a read body is plain strings");
    Ok(match client.post(&path, &body)? {
        Outcome::Done(answer) => Some(match answer.json().get_mut("results") {
            Some(Value::Array(results)) => std::mem::take(results),
            _ => Vec::new(),
        }),
        Outcome::Invalid(..) => None,
    })
}

/// A contact's property as text ("" when absent).
pub(crate) fn property<'a>(contact: &'a Value, name: &str) -> &'a str {
    contact
        .get("properties")
        .and_then(|p| p.get(name))
        .and_then(Value::as_str)
        .unwrap_or_default()
}
