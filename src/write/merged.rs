//! Merged records stay independent. Records for one key are merged into
//! one batch input; when HubSpot refuses that input because of one
//! property's value, only the record that gave the value is rejected (with
//! HubSpot's reason) and the others are sent again without it, so their
//! values still land. A refusal that names no property (or names the
//! matching key, which they all share) rejects them all, as before.

use super::batcher::{fold, Entry, Origin, StageMerge};
use super::mapping::RecordWrite;
use crate::hubspot::errors::RejectReason;

/// What becomes of a refused entry: the records to reject, and the entry
/// to send again without them (if any is left).
pub(crate) struct Separated {
    pub rejected: Vec<Origin>,
    pub retry: Option<Entry>,
}

/// Separates the record behind `reason` from the rest of `entry`, whose
/// records share the matching key property `key`.
pub(crate) fn separate(
    entry: Entry,
    reason: &RejectReason,
    merge: &StageMerge,
    key: &str,
) -> Separated {
    let guilty = match reason.property() {
        Some(property) if property != key && entry.parts.len() > 1 => culprit(&entry, property),
        _ => None,
    };
    let Some(guilty) = guilty else {
        return Separated {
            rejected: entry.origins,
            retry: None,
        };
    };
    let mut rejected = Vec::new();
    let mut kept: Vec<(Origin, RecordWrite)> = Vec::new();
    for (i, (origin, part)) in entry.origins.into_iter().zip(entry.parts).enumerate() {
        if i == guilty {
            rejected.push(origin);
        } else {
            kept.push((origin, part));
        }
    }
    Separated {
        rejected,
        retry: rebuild(kept, merge),
    }
}

/// The record whose value of `property` the merged input carried: the last
/// one that set it (for the stage, the last one asking for the stage sent).
fn culprit(entry: &Entry, property: &str) -> Option<usize> {
    entry.parts.iter().rposition(|part| {
        if property == "lifecyclestage" {
            part.stage.is_some() && part.stage == entry.write.stage
        } else {
            part.properties.get(property) == entry.write.properties.get(property)
                && part.properties.contains_key(property)
        }
    })
}

/// One entry of the remaining records, merged again in input order.
fn rebuild(kept: Vec<(Origin, RecordWrite)>, merge: &StageMerge) -> Option<Entry> {
    let mut kept = kept.into_iter();
    let (origin, first) = kept.next()?;
    let mut entry = Entry {
        write: first.clone(),
        origins: vec![origin],
        parts: vec![first],
    };
    for (origin, part) in kept {
        fold(merge, &mut entry.write, part.clone());
        entry.origins.push(origin);
        entry.parts.push(part);
    }
    if entry.parts.len() == 1 {
        entry.parts.clear();
    }
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::batcher::OpenBatch;

    fn origin(line: u64) -> Origin {
        Origin {
            window: 0,
            line,
            data: None,
        }
    }

    /// One record's properties and stage.
    type Part<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);

    fn merged(parts: &[Part]) -> Entry {
        let mut b = OpenBatch::new(0, StageMerge::Last);
        for (i, (props, stage)) in parts.iter().enumerate() {
            let w = RecordWrite::contact("a@x.io", props.iter().copied(), *stage);
            b.push(w, origin(i as u64 + 1), 10);
        }
        b.take().entries.remove(0)
    }

    fn lines(origins: &[Origin]) -> Vec<u64> {
        origins.iter().map(|o| o.line).collect()
    }

    #[test]
    fn only_the_record_whose_value_was_refused_is_rejected() {
        let entry = merged(&[
            (&[("firstname", "Ann"), ("optin", "true")], None),
            (&[("optin", "bad"), ("city", "Oslo")], None),
            (&[("phone", "1")], None),
        ]);
        let reason = RejectReason::InvalidValue("optin: bad is not valid".into());
        let s = separate(entry, &reason, &StageMerge::Last, "email");
        assert_eq!(lines(&s.rejected), vec![2]);
        let retry = s.retry.unwrap();
        assert_eq!(lines(&retry.origins), vec![1, 3]);
        assert_eq!(
            retry.write,
            RecordWrite::contact(
                "a@x.io",
                [("firstname", "Ann"), ("optin", "true"), ("phone", "1")],
                None
            )
        );
        assert_eq!(retry.parts.len(), 2);
    }

    #[test]
    fn a_refusal_naming_no_property_or_the_email_rejects_every_record() {
        for reason in [
            RejectReason::InvalidEmail,
            RejectReason::Conflict("Existing ID: 1".into()),
            RejectReason::InvalidValue("email: bad".into()),
        ] {
            let entry = merged(&[(&[("city", "A")], None), (&[("city", "B")], None)]);
            let s = separate(entry, &reason, &StageMerge::Last, "email");
            assert_eq!(lines(&s.rejected), vec![1, 2], "{reason}");
            assert!(s.retry.is_none());
        }
    }

    #[test]
    fn a_refused_stage_blames_the_record_that_asked_for_it() {
        let entry = merged(&[(&[("city", "A")], Some("lead")), (&[], Some("boss"))]);
        let reason = RejectReason::InvalidOption("lifecyclestage: boss".into());
        let s = separate(entry, &reason, &StageMerge::Last, "email");
        assert_eq!(lines(&s.rejected), vec![2]);
        let retry = s.retry.unwrap();
        assert_eq!(retry.write.stage.as_deref(), Some("lead"));
        assert!(retry.parts.is_empty(), "one record left: a plain entry");
    }
}
