//! A single input's 409 "… already exists. Existing ID: N": resolved into an
//! update of contact N only when N is provably the same person; otherwise a
//! `conflict` rejection. Never overwrites another contact.

use serde_json::Value;

use super::{write, Input, Mode, Written};
use crate::hubspot::client::{Client, Outcome};
use crate::hubspot::errors::{truncate, HubSpotError, RejectReason};

/// The last step for one input HubSpot refused. A 409 "… Existing ID: N"
/// is resolved by updating contact N only when N is provably this contact
/// (its email or one of its secondary emails is ours); when N merely owns
/// a unique value this record also claims, updating N would overwrite
/// another person, so the record is rejected as a conflict.
pub(super) fn resolve_single(
    client: &Client,
    mode: Mode<'_>,
    input: &Input,
    status: u16,
    body: &Value,
    reason: RejectReason,
) -> Result<Written, HubSpotError> {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if status != 409 || !mode.by_email() {
        return Ok(Written::Rejected(reason));
    }
    let Some(id) = existing_id(message) else {
        return Ok(Written::Rejected(reason));
    };
    let conflict = || Written::Rejected(RejectReason::Conflict(truncate(message, 300)));
    let path = client
        .paths()
        .object(mode.object, &id, "properties=email,hs_additional_emails");
    let owner = match client.get(&path)? {
        Outcome::Done(answer) => answer.json(),
        Outcome::Invalid(..) => return Ok(conflict()),
    };
    if !same_person(&owner, input.id) {
        return Ok(conflict());
    }
    let mut properties = input.properties.clone();
    properties.remove("email");
    let update = Input {
        id: &id,
        properties: &properties,
        stage: input.stage,
    };
    let result = write(
        client,
        Mode::update(mode.object),
        std::slice::from_ref(&update),
    )?;
    Ok(match result.into_iter().next() {
        Some(Written::Ok { created, .. }) => Written::Ok {
            id: Some(id),
            created,
        },
        Some(rejected) => rejected,
        None => Written::Rejected(reason),
    })
}

/// Whether a contact (as HubSpot returns it) has `email` as its email or
/// among its secondary emails.
fn same_person(contact: &Value, email: &str) -> bool {
    if email.is_empty() {
        return false;
    }
    let field = |name: &str| {
        contact
            .pointer(&format!("/properties/{name}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let primary = field("email");
    let secondary = field("hs_additional_emails");
    std::iter::once(primary.as_str())
        .chain(secondary.split(';'))
        .any(|e| e.trim().eq_ignore_ascii_case(email))
}

/// The id in HubSpot's "… already exists. Existing ID: 123" message.
fn existing_id(message: &str) -> Option<String> {
    let at = message.find("Existing ID:")? + "Existing ID:".len();
    let digits: String = message[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn existing_id_is_read_from_the_conflict_message() {
        assert_eq!(
            existing_id("Contact already exists. Existing ID: 37765128953"),
            Some("37765128953".into())
        );
        assert_eq!(existing_id("Conflict"), None);
    }

    #[test]
    fn a_conflict_is_resolved_only_for_the_same_person() {
        let contact = json!({"id": "7", "properties": {"email": "main@x.io", "hs_additional_emails": "old@x.io;Alias@X.io"}});
        assert!(same_person(&contact, "main@x.io"));
        assert!(same_person(&contact, "alias@x.io"));
        assert!(!same_person(&contact, "other@x.io"));
        assert!(!same_person(&json!({"id": "7", "properties": {}}), ""));
    }
}
