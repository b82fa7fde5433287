//! Records deleted in the source. Airbyte's CDC sources mark a deleted row
//! with `_ab_cdc_deleted_at`; such a record is never written as a live
//! contact. Under `deletes: archive` the HubSpot contact with its email is
//! archived (HubSpot keeps it restorable for 90 days) — in the batch it
//! came in, so that it lands in input order with the writes of that email
//! and its state waits for the archive call like any write.
//!
//! Archive takes record ids: the ids are read by email first (one batch
//! read), then archived in one batch call. A contact HubSpot doesn't have
//! is nothing to archive.

use serde_json::json;

use super::mapping::RecordWrite;
use crate::hubspot::batch::{Mode, Written};
use crate::hubspot::client::{Client, Outcome};
use crate::hubspot::errors::HubSpotError;
use crate::protocol::{Field, Fields};

/// The CDC column that marks a deleted row.
pub(crate) const DELETED_AT: &str = "_ab_cdc_deleted_at";

/// Records deleted in the source, by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deletions {
    /// `deletes: skip`: nothing sent.
    pub skipped: u64,
    /// `deletes: archive`: the contact with the email was archived…
    pub archived: u64,
    /// … or HubSpot had none.
    pub absent: u64,
}

impl Deletions {
    /// `n` records' archive call landed; `found`: a contact was archived.
    pub(crate) fn archived(&mut self, n: u64, found: bool) {
        *if found {
            &mut self.archived
        } else {
            &mut self.absent
        } += n;
    }

    /// The part of the sync summary about them (empty when there were none).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.skipped > 0 {
            parts.push(format!("{} deleted in source, skipped", self.skipped));
        }
        if self.archived + self.absent > 0 {
            parts.push(format!(
                "{} deleted in source, archived in HubSpot ({} had no contact there)",
                self.archived + self.absent,
                self.absent
            ));
        }
        parts.iter().map(|p| format!(", {p}")).collect()
    }
}

/// Whether the source deleted this record: its `_ab_cdc_deleted_at` holds
/// a value (not null, not blank).
pub(crate) fn is_deleted(data: &Fields) -> bool {
    match data.get(DELETED_AT) {
        None | Some(Field::Null) => false,
        Some(Field::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

/// Sends one batch: upserts through `upsert`, archives here; one result
/// per write, in order. An archived contact is `Ok` with its id; one that
/// HubSpot doesn't have is `Ok` without.
pub(crate) fn send(
    client: &Client,
    mode: Mode,
    writes: &[&RecordWrite],
    upsert: impl FnOnce(&[&RecordWrite]) -> Result<Vec<Written>, HubSpotError>,
) -> Result<Vec<Written>, HubSpotError> {
    if !writes.iter().any(|w| w.archive) {
        return upsert(writes);
    }
    let (archives, upserts): (Vec<_>, Vec<_>) = (0..writes.len()).partition(|&i| writes[i].archive);
    let mut results: Vec<Option<Written>> = vec![None; writes.len()];
    if !upserts.is_empty() {
        let batch: Vec<&RecordWrite> = upserts.iter().map(|&i| writes[i]).collect();
        for (i, r) in upserts.iter().zip(upsert(&batch)?) {
            results[*i] = Some(r);
        }
    }
    let keys: Vec<&str> = archives.iter().map(|&i| writes[i].key()).collect();
    for (i, r) in archives.iter().zip(archive(client, mode, &keys)?) {
        results[*i] = Some(r);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every write has a result"))
        .collect())
}

/// Archives the records with these keys; one result per key.
fn archive(client: &Client, mode: Mode, keys: &[&str]) -> Result<Vec<Written>, HubSpotError> {
    let ids = super::send::read_stages(client, mode, keys)?;
    let id_of = |key: &str| ids.get(&mode.key(key));
    let found: Vec<&str> = keys
        .iter()
        .filter_map(|k| id_of(k).map(|(id, _)| id.as_str()))
        .collect();
    let mut refused = std::collections::HashMap::new();
    if !found.is_empty() {
        archive_ids(client, mode.object, &found, &mut refused)?;
    }
    Ok(keys
        .iter()
        .map(|k| match id_of(k) {
            None => Written::Ok {
                id: None,
                created: false,
            },
            Some((id, _)) => match refused.remove(id.as_str()) {
                Some(reason) => Written::Rejected(reason),
                None => Written::Ok {
                    id: Some(id.clone()),
                    created: false,
                },
            },
        })
        .collect())
}

/// One archive call for `ids`; refused as a whole, each id is tried alone
/// so that only the one HubSpot refuses is rejected.
fn archive_ids<'i>(
    client: &Client,
    object: &str,
    ids: &[&'i str],
    refused: &mut std::collections::HashMap<&'i str, crate::hubspot::errors::RejectReason>,
) -> Result<(), HubSpotError> {
    let body = json!({"inputs": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()});
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    match client.post(&client.paths().objects_batch(object, "archive"), &bytes)? {
        Outcome::Done(_) => Ok(()),
        Outcome::Invalid(_, reason) if ids.len() == 1 => {
            refused.insert(ids[0], reason);
            Ok(())
        }
        Outcome::Invalid(..) => {
            for id in ids {
                archive_ids(client, object, std::slice::from_ref(id), refused)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_is_deleted_when_its_cdc_column_holds_a_value() {
        let deleted = |v: serde_json::Value| {
            is_deleted(&Fields::from_map(
                json!({"email": "a@x.io", DELETED_AT: v})
                    .as_object()
                    .unwrap(),
            ))
        };
        assert!(deleted(json!("2024-01-05T10:30:00Z")));
        assert!(deleted(json!(1704450600000u64)));
        assert!(!deleted(json!(null)));
        assert!(!deleted(json!("")));
        assert!(!deleted(json!(" ")));
        assert!(!is_deleted(&Fields::from_map(
            json!({"email": "a@x.io"}).as_object().unwrap()
        )));
    }
}
