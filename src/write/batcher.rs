//! The open batch of one shard worker, and the dedupe: a record for an email
//! already in the open batch is merged into its entry so that the entry
//! equals applying both records in input order. Nothing is remembered beyond
//! the open batch, so memory stays bounded however long the input.

use std::time::Instant;

use serde_json::{Map, Value};

use super::mapping::ContactWrite;

/// HubSpot's batch size limit.
pub const MAX_BATCH: usize = 100;
/// Records one open batch may hold, merged ones included: a stream of
/// rewrites of a few emails still gets flushed, and memory stays bounded.
pub const MAX_RECORDS: usize = 10 * MAX_BATCH;

/// Slots of the email table: more than twice `MAX_BATCH`, indexes fit a byte.
const SLOTS: usize = 256;
const _: () = assert!(MAX_BATCH * 2 < SLOTS && SLOTS <= 256);

/// Where a record came from: its state window, its input line and (only
/// when a rejected-records file is configured) its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub window: u64,
    pub line: u64,
    pub data: Option<Map<String, Value>>,
}

/// One batch input: the merged write and every record merged into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub write: ContactWrite,
    /// The first record (most entries have only this one: no allocation).
    first: Origin,
    /// Records merged into it later, in input order.
    later: Vec<Origin>,
}

impl Entry {
    /// Every record merged into this entry, in input order.
    pub fn origins(&self) -> impl Iterator<Item = &Origin> {
        std::iter::once(&self.first).chain(&self.later)
    }

    /// How many records were merged into this entry.
    pub fn records(&self) -> usize {
        1 + self.later.len()
    }
}

/// How two lifecycle stages for one contact combine, per policy, so that the
/// merged entry ends where sequential writes would.
#[derive(Debug, Clone, PartialEq)]
pub enum StageMerge {
    /// Only a creating write sets the stage: the first stage wins.
    First,
    /// Only forward moves apply: the furthest stage wins (ranks in order).
    Furthest(Vec<String>),
    /// Every write applies: the last stage wins.
    Last,
}

/// The open batch of one worker.
pub struct OpenBatch {
    entries: Vec<Entry>,
    /// Each entry's email hash.
    keys: Vec<u64>,
    /// Finds an email's entry without a map or a copy of the email: an
    /// open-addressing table of entry index + 1 (0: free), by email hash.
    slots: [u8; SLOTS],
    records: usize,
    opened: Option<Instant>,
    merge: StageMerge,
}

impl OpenBatch {
    pub fn new(merge: StageMerge) -> OpenBatch {
        OpenBatch {
            entries: Vec::with_capacity(MAX_BATCH),
            keys: Vec::with_capacity(MAX_BATCH),
            slots: [0; SLOTS],
            records: 0,
            opened: None,
            merge,
        }
    }

    /// Adds a record, merging it into an entry for the same email.
    pub fn push(&mut self, write: ContactWrite, origin: Origin) {
        self.records += 1;
        let key = email_hash(write.email().as_bytes());
        let mut slot = key as usize % SLOTS;
        while let Some(i) = (self.slots[slot] as usize).checked_sub(1) {
            if self.keys[i] == key
                && self.entries[i].write.email().as_bytes() == write.email().as_bytes()
            {
                break;
            }
            slot = (slot + 1) % SLOTS;
        }
        if let Some(i) = (self.slots[slot] as usize).checked_sub(1) {
            let entry = &mut self.entries[i];
            entry.write.properties.extend(write.properties);
            entry.write.stage = merge_stage(&self.merge, entry.write.stage.take(), write.stage);
            entry.later.push(origin);
            return;
        }
        assert!(self.entries.len() < MAX_BATCH, "push on a full batch");
        self.opened.get_or_insert_with(Instant::now);
        self.keys.push(key);
        self.slots[slot] = self.keys.len() as u8;
        self.entries.push(Entry {
            write,
            first: origin,
            later: Vec::new(),
        });
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= MAX_BATCH || self.records >= MAX_RECORDS
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// When the oldest entry arrived.
    pub fn opened(&self) -> Option<Instant> {
        self.opened
    }

    /// Takes the entries out, leaving an empty batch.
    pub fn take(&mut self) -> Vec<Entry> {
        self.keys.clear();
        self.slots = [0; SLOTS];
        self.records = 0;
        self.opened = None;
        std::mem::replace(&mut self.entries, Vec::with_capacity(MAX_BATCH))
    }
}

/// FNV-1a of an email: cheap, and the same in every run (routing uses it too).
pub fn email_hash(email: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in email {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
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

    fn write(email: &str, props: &[(&str, &str)], stage: Option<&str>) -> ContactWrite {
        ContactWrite::new(email, props.iter().copied(), stage)
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
        let mut b = OpenBatch::new(StageMerge::Last);
        b.push(
            write("a@x.io", &[("firstname", "A"), ("city", "Oslo")], None),
            origin(1),
        );
        b.push(write("b@x.io", &[("firstname", "B")], None), origin(2));
        b.push(
            write("a@x.io", &[("firstname", "Ann"), ("phone", "1")], None),
            origin(3),
        );
        assert_eq!(b.len(), 2);
        let entries = b.take();
        assert_eq!(
            entries[0].write,
            write(
                "a@x.io",
                &[("firstname", "Ann"), ("city", "Oslo"), ("phone", "1")],
                None
            )
        );
        assert_eq!(
            entries[0].origins().map(|o| o.line).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(b.is_empty() && b.opened().is_none());
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
            let mut b = OpenBatch::new(merge.clone());
            b.push(write("a@x.io", &[], Some("customer")), origin(1));
            b.push(write("a@x.io", &[], None), origin(2));
            b.push(write("a@x.io", &[], Some("lead")), origin(3));
            assert_eq!(b.take()[0].write.stage.as_deref(), Some(want), "{merge:?}");
        }
    }

    #[test]
    fn full_at_one_hundred_distinct_emails() {
        let mut b = OpenBatch::new(StageMerge::Last);
        for i in 0..99 {
            b.push(write(&format!("{i}@x.io"), &[], None), origin(i));
        }
        b.push(write("0@x.io", &[], None), origin(100));
        assert!(!b.is_full());
        b.push(write("new@x.io", &[], None), origin(101));
        assert!(b.is_full());
    }

    #[test]
    fn every_email_finds_its_own_entry_after_reuse() {
        let mut b = OpenBatch::new(StageMerge::Last);
        for round in 0..3 {
            for i in 0..MAX_BATCH - 1 {
                let n = (round * 7 + i).to_string();
                b.push(
                    write(&format!("{i}@x.io"), &[("n", &n)], None),
                    origin(i as u64),
                );
            }
            for i in 0..MAX_BATCH - 1 {
                b.push(
                    write(&format!("{i}@x.io"), &[("m", "2")], None),
                    origin(i as u64),
                );
            }
            let entries = b.take();
            assert_eq!(entries.len(), MAX_BATCH - 1);
            for (i, e) in entries.iter().enumerate() {
                assert_eq!(e.write.email(), format!("{i}@x.io"));
                assert_eq!(
                    e.write.properties.get("n").map(String::as_str),
                    Some((round * 7 + i).to_string().as_str())
                );
                assert_eq!(e.write.properties.get("m").map(String::as_str), Some("2"));
                assert_eq!(e.records(), 2);
            }
        }
    }

    #[test]
    fn rewrites_of_one_email_fill_the_batch_too() {
        let mut b = OpenBatch::new(StageMerge::Last);
        for i in 0..MAX_RECORDS {
            assert!(!b.is_full());
            b.push(
                write("same@x.io", &[("n", &i.to_string())], None),
                origin(i as u64),
            );
        }
        assert!(b.is_full());
        assert_eq!(b.len(), 1);
        let entries = b.take();
        assert_eq!(entries[0].records(), MAX_RECORDS);
        assert!(!b.is_full());
    }
}
