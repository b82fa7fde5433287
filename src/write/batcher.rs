//! The batch stage: one open batch per target (object and matching key),
//! and the dedupe — a record whose key is already in its open batch is
//! merged into that entry so that the entry equals applying both records in
//! input order. A batch is full at 100 records, 1,000 merged records or
//! [`MAX_BYTES`] of data; nothing is remembered beyond it, so memory stays
//! bounded however long the input.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value};

use super::mapping::RecordWrite;

/// HubSpot's batch size limit.
pub(crate) const MAX_BATCH: usize = 100;
/// Records one open batch may hold, merged ones included: a stream of
/// rewrites of a few emails still gets flushed, and memory stays bounded.
pub(crate) const MAX_RECORDS: usize = 10 * MAX_BATCH;
/// Bytes of record data one batch may hold (its request body is about as
/// large): wide records make smaller batches, never a huge request.
pub(crate) const MAX_BYTES: usize = 1024 * 1024;

/// Where a record came from: its state window, its input line and (only
/// when the rejects sink keeps record data) its data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Origin {
    pub window: u64,
    pub line: u64,
    pub data: Option<Map<String, Value>>,
}

/// One batch input: the merged write and every record merged into it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub write: RecordWrite,
    /// Every record merged into it, in input order.
    pub origins: Vec<Origin>,
    /// Each merged record's own write, parallel to `origins` (empty while
    /// the entry holds one record): HubSpot refusing one record's value
    /// must not cost the others theirs.
    pub parts: Vec<RecordWrite>,
}

/// A batch taken out of the open batch, ready to send.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The target (object and matching key) it writes.
    pub target: usize,
    pub entries: Vec<Entry>,
    /// Bytes of record data it holds.
    pub bytes: usize,
}

/// How two lifecycle stages for one contact combine, per policy, so that the
/// merged entry ends where sequential writes would.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StageMerge {
    /// Only a creating write sets the stage: the first stage wins.
    First,
    /// Only forward moves apply: the furthest stage wins (ranks in order).
    Furthest(Vec<String>),
    /// Every write applies: the last stage wins.
    Last,
}

/// The open batch of one target.
pub(crate) struct OpenBatch {
    target: usize,
    entries: Vec<Entry>,
    /// Each key's entry.
    index: HashMap<String, usize>,
    records: usize,
    bytes: usize,
    opened: Option<Instant>,
    merge: StageMerge,
}

impl OpenBatch {
    pub(crate) fn new(target: usize, merge: StageMerge) -> OpenBatch {
        OpenBatch {
            target,
            entries: Vec::with_capacity(MAX_BATCH),
            index: HashMap::with_capacity(MAX_BATCH),
            records: 0,
            bytes: 0,
            opened: None,
            merge,
        }
    }

    /// Whether a record of `bytes` fits (an empty batch takes any record).
    pub(crate) fn fits(&self, bytes: usize) -> bool {
        self.entries.is_empty() || self.bytes + bytes <= MAX_BYTES
    }

    /// Whether `write` can't merge into the entry for its key: an archive
    /// and a write of one record are separate calls, in input order.
    pub(crate) fn clashes(&self, write: &RecordWrite) -> bool {
        self.index
            .get(write.key())
            .is_some_and(|&i| self.entries[i].write.archive != write.archive)
    }

    /// How this batch merges stages.
    pub(crate) fn merge(&self) -> &StageMerge {
        &self.merge
    }

    /// Adds a record of `bytes`, merging it into an entry for the same key
    /// (check [`OpenBatch::clashes`] first).
    pub(crate) fn push(&mut self, write: RecordWrite, origin: Origin, bytes: usize) {
        self.records += 1;
        self.bytes += bytes;
        if let Some(&i) = self.index.get(write.key()) {
            let entry = &mut self.entries[i];
            if entry.parts.is_empty() {
                entry.parts.push(entry.write.clone());
            }
            entry.parts.push(write.clone());
            fold(&self.merge, &mut entry.write, write);
            entry.origins.push(origin);
            return;
        }
        assert!(self.entries.len() < MAX_BATCH, "push on a full batch");
        self.opened.get_or_insert_with(Instant::now);
        self.index
            .insert(write.key().to_string(), self.entries.len());
        self.entries.push(Entry {
            write,
            origins: vec![origin],
            parts: Vec::new(),
        });
    }

    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() >= MAX_BATCH || self.records >= MAX_RECORDS || self.bytes >= MAX_BYTES
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// When the oldest entry arrived.
    pub(crate) fn opened(&self) -> Option<Instant> {
        self.opened
    }

    /// Takes the batch out, leaving an empty one.
    pub(crate) fn take(&mut self) -> Batch {
        self.index.clear();
        self.records = 0;
        self.opened = None;
        Batch {
            target: self.target,
            entries: std::mem::replace(&mut self.entries, Vec::with_capacity(MAX_BATCH)),
            bytes: std::mem::take(&mut self.bytes),
        }
    }
}

/// Applies `later` on top of `into`, as writing both in order would.
pub(crate) fn fold(merge: &StageMerge, into: &mut RecordWrite, later: RecordWrite) {
    let stage = merge_stage(merge, into.stage.take(), later.stage);
    into.properties.extend(later.properties);
    into.stage = stage;
    for link in later.links {
        if !into.links.contains(&link) {
            into.links.push(link);
        }
    }
}

fn merge_stage(
    merge: &StageMerge,
    earlier: Option<String>,
    later: Option<String>,
) -> Option<String> {
    match (earlier, later) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(match merge {
            StageMerge::First => a,
            StageMerge::Last => b,
            StageMerge::Furthest(order) => {
                let rank = |s: &str| order.iter().position(|o| o == s);
                if rank(&b) > rank(&a) {
                    b
                } else {
                    a
                }
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(email: &str, props: &[(&str, &str)], stage: Option<&str>) -> RecordWrite {
        RecordWrite::contact(email, props.iter().copied(), stage)
    }

    #[test]
    fn merged_records_keep_every_association_once() {
        let mut b = OpenBatch::new(3, StageMerge::Last);
        let mut first = write("a@x.io", &[], None);
        first.links = vec![(0, "c1".into())];
        let mut second = write("a@x.io", &[], None);
        second.links = vec![(0, "c1".into()), (1, "d9".into())];
        b.push(first, origin(1), 10);
        b.push(second, origin(2), 10);
        let batch = b.take();
        assert_eq!(batch.target, 3);
        assert_eq!(
            batch.entries[0].write.links,
            vec![(0, "c1".into()), (1, "d9".into())]
        );
    }

    fn origin(line: u64) -> Origin {
        Origin {
            window: 0,
            line,
            data: None,
        }
    }

    #[test]
    fn last_write_wins_per_property_and_keeps_earlier_ones() {
        let mut b = OpenBatch::new(0, StageMerge::Last);
        b.push(
            write("a@x.io", &[("firstname", "A"), ("city", "Oslo")], None),
            origin(1),
            10,
        );
        b.push(write("b@x.io", &[("firstname", "B")], None), origin(2), 10);
        b.push(
            write("a@x.io", &[("firstname", "Ann"), ("phone", "1")], None),
            origin(3),
            10,
        );
        let entries = b.take().entries;
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].write,
            write(
                "a@x.io",
                &[("firstname", "Ann"), ("city", "Oslo"), ("phone", "1")],
                None
            )
        );
        assert_eq!(
            entries[0]
                .origins
                .iter()
                .map(|o| o.line)
                .collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(b.is_empty() && b.opened().is_none());
    }

    #[test]
    fn a_merged_entry_keeps_each_records_own_write() {
        let mut b = OpenBatch::new(0, StageMerge::Last);
        b.push(write("a@x.io", &[("city", "Oslo")], None), origin(1), 10);
        assert!(b.take().entries[0].parts.is_empty(), "one record: no parts");
        let first = write("a@x.io", &[("city", "Oslo")], None);
        let second = write("a@x.io", &[("firstname", "Ann")], Some("lead"));
        b.push(first.clone(), origin(1), 10);
        b.push(second.clone(), origin(2), 10);
        assert_eq!(b.take().entries[0].parts, vec![first, second]);
    }

    #[test]
    fn an_archive_and_a_write_of_one_contact_do_not_merge() {
        let mut b = OpenBatch::new(0, StageMerge::Last);
        b.push(write("a@x.io", &[("city", "Oslo")], None), origin(1), 10);
        assert!(b.clashes(&RecordWrite::archive_of("a@x.io")));
        assert!(!b.clashes(&RecordWrite::archive_of("b@x.io")));
        assert!(!b.clashes(&write("a@x.io", &[], None)));
    }

    #[test]
    fn stage_merge_follows_the_policy() {
        let order = vec![
            "subscriber".to_string(),
            "lead".to_string(),
            "customer".to_string(),
        ];
        for (merge, want) in [
            (StageMerge::First, "customer"),
            (StageMerge::Last, "lead"),
            (StageMerge::Furthest(order), "customer"),
        ] {
            let mut b = OpenBatch::new(0, merge.clone());
            b.push(write("a@x.io", &[], Some("customer")), origin(1), 10);
            b.push(write("a@x.io", &[], None), origin(2), 10);
            b.push(write("a@x.io", &[], Some("lead")), origin(3), 10);
            assert_eq!(
                b.take().entries[0].write.stage.as_deref(),
                Some(want),
                "{merge:?}"
            );
        }
    }

    #[test]
    fn full_at_one_hundred_distinct_emails() {
        let mut b = OpenBatch::new(0, StageMerge::Last);
        for i in 0..99 {
            b.push(write(&format!("{i}@x.io"), &[], None), origin(i), 10);
        }
        b.push(write("0@x.io", &[], None), origin(100), 10);
        assert!(!b.is_full());
        b.push(write("new@x.io", &[], None), origin(101), 10);
        assert!(b.is_full());
    }

    #[test]
    fn every_email_finds_its_own_entry_after_reuse() {
        let mut b = OpenBatch::new(0, StageMerge::Last);
        for round in 0..3 {
            for i in 0..MAX_BATCH - 1 {
                let n = (round * 7 + i).to_string();
                b.push(
                    write(&format!("{i}@x.io"), &[("n", &n)], None),
                    origin(i as u64),
                    10,
                );
            }
            for i in 0..MAX_BATCH - 1 {
                b.push(
                    write(&format!("{i}@x.io"), &[("m", "2")], None),
                    origin(i as u64),
                    10,
                );
            }
            let entries = b.take().entries;
            assert_eq!(entries.len(), MAX_BATCH - 1);
            for (i, e) in entries.iter().enumerate() {
                assert_eq!(e.write.key(), format!("{i}@x.io"));
                assert_eq!(
                    e.write.properties.get("n").map(String::as_str),
                    Some((round * 7 + i).to_string().as_str())
                );
                assert_eq!(e.write.properties.get("m").map(String::as_str), Some("2"));
                assert_eq!(e.origins.len(), 2);
            }
        }
    }

    #[test]
    fn rewrites_of_one_email_fill_the_batch_too() {
        let mut b = OpenBatch::new(0, StageMerge::Last);
        for i in 0..MAX_RECORDS {
            assert!(!b.is_full());
            b.push(
                write("same@x.io", &[("n", &i.to_string())], None),
                origin(i as u64),
                10,
            );
        }
        assert!(b.is_full());
        let entries = b.take().entries;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].origins.len(), MAX_RECORDS);
        assert!(!b.is_full());
    }
}
