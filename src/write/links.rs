//! The association stage, on the sync's loop: a written record whose
//! associations are still to be made is held (its state windows unsettled)
//! until every one of them is made or reported. Its associations wait in an
//! open batch of up to [`MAX_ITEMS`] (HubSpot's limit per call) and go to a
//! sender as one job. A target not found yet is tried again once every
//! write of the sync has landed (it may come later in the input); only then
//! is it reported missing. Target ids learnt from this sync's own writes
//! are kept (up to [`CACHE_BYTES`]), so targets written earlier need no
//! lookup.

use std::collections::HashMap;
use std::time::Instant;

use super::targets::{Targets, RECORD_ID};
use crate::hubspot::associations::MAX_PAIRS;
use crate::hubspot::errors::RejectReason;

/// Associations one job carries at most.
pub(crate) const MAX_ITEMS: usize = MAX_PAIRS;
/// Text (keys and ids) the target cache holds at most.
pub(crate) const CACHE_BYTES: usize = 16 * 1024 * 1024;
/// Associations waiting for a target at most; beyond, the waiting ones are
/// tried for the last time at once.
pub(crate) const MAX_DEFERRED: usize = 100_000;

/// One association to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The held record it belongs to.
    pub hold: u64,
    /// Index into [`Targets::links`].
    pub link: usize,
    /// The written record's id.
    pub from_id: String,
    /// The target's matching key value.
    pub value: String,
    /// The target's id, when known.
    pub to_id: Option<String>,
}

/// A batch of associations for a sender.
#[derive(Debug, Default)]
pub struct LinkJob {
    pub items: Vec<Item>,
    /// The last try: a target not found now is missing.
    pub last_try: bool,
}

/// What became of one association.
#[derive(Debug, Clone, PartialEq)]
pub enum Linked {
    /// Made (or already there); with the target's id.
    Made(String),
    /// No record has the target's key (yet).
    Missing,
    /// HubSpot refused it.
    Refused(RejectReason),
}

/// A written record waiting for its associations.
struct Hold {
    /// Its records' state windows.
    windows: Vec<u64>,
    /// Its input line (the last record merged into it), for reports.
    line: u64,
    /// Associations not yet made or reported.
    pending: usize,
}

/// A problem to report: the association could not be made.
pub(crate) struct Problem {
    pub line: u64,
    pub link: usize,
    pub value: String,
    pub reason: Option<RejectReason>,
}

/// The stage's state.
pub(crate) struct Links {
    holds: HashMap<u64, Hold>,
    next_hold: u64,
    open: Vec<Item>,
    opened: Option<Instant>,
    deferred: Vec<Item>,
    /// Per link: its target's cache group; per target: the group its
    /// written records fill, if any link points at it.
    link_group: Vec<usize>,
    /// Per link: its target is matched by record id (no lookup needed).
    by_id: Vec<bool>,
    target_group: Vec<Option<usize>>,
    cache: HashMap<(usize, String), String>,
    cache_bytes: usize,
    pub made: u64,
    pub failed: u64,
}

impl Links {
    pub(crate) fn new(targets: &Targets) -> Links {
        let mut groups: Vec<(&str, &str)> = Vec::new();
        let mut link_group = Vec::with_capacity(targets.links.len());
        for l in &targets.links {
            let pair = (l.to_object.path.as_str(), l.to_key.as_str());
            let pos = groups.iter().position(|g| *g == pair);
            link_group.push(pos.unwrap_or_else(|| {
                groups.push(pair);
                groups.len() - 1
            }));
        }
        let target_group = targets
            .targets
            .iter()
            .map(|t| {
                targets
                    .links
                    .iter()
                    .position(|l| l.to_object == t.object && l.to_key == t.key)
                    .map(|l| link_group[l])
            })
            .collect();
        let by_id = targets
            .links
            .iter()
            .map(|l| l.to_key == RECORD_ID)
            .collect();
        Links {
            by_id,
            holds: HashMap::new(),
            next_hold: 0,
            open: Vec::new(),
            opened: None,
            deferred: Vec::new(),
            link_group,
            target_group,
            cache: HashMap::new(),
            cache_bytes: 0,
            made: 0,
            failed: 0,
        }
    }

    /// Holds a written record (id `from_id`) until its `links` are made.
    pub(crate) fn hold(
        &mut self,
        from_id: &str,
        links: &[(usize, String)],
        windows: Vec<u64>,
        line: u64,
    ) {
        let hold = self.next_hold;
        self.next_hold += 1;
        self.holds.insert(
            hold,
            Hold {
                windows,
                line,
                pending: links.len(),
            },
        );
        self.opened.get_or_insert_with(Instant::now);
        for (link, value) in links {
            let to_id = if self.by_id[*link] {
                Some(value.clone())
            } else {
                self.cache
                    .get(&(self.link_group[*link], value.clone()))
                    .cloned()
            };
            self.open.push(Item {
                hold,
                link: *link,
                from_id: from_id.to_string(),
                value: value.clone(),
                to_id,
            });
        }
    }

    /// Remembers the id of a record of `target` written with `key`, if a
    /// link points at that target and the cache has room.
    pub(crate) fn learn(&mut self, target: usize, key: &str, id: &str) {
        if let Some(group) = self.target_group[target] {
            self.remember(group, key, id);
        }
    }

    fn remember(&mut self, group: usize, key: &str, id: &str) {
        let bytes = key.len() + id.len() + 48;
        let room = self.cache_bytes + bytes <= CACHE_BYTES;
        if room
            && self
                .cache
                .insert((group, key.to_string()), id.to_string())
                .is_none()
        {
            self.cache_bytes += bytes;
        }
    }

    /// Whether the open batch is full.
    pub(crate) fn is_full(&self) -> bool {
        self.open.len() >= MAX_ITEMS
    }

    /// When the oldest open association arrived.
    pub(crate) fn opened(&self) -> Option<Instant> {
        self.opened
    }

    /// The open batch as a job, if it holds anything.
    pub(crate) fn take(&mut self) -> Option<LinkJob> {
        self.opened = None;
        if self.open.is_empty() {
            return None;
        }
        let items = std::mem::take(&mut self.open);
        Some(LinkJob {
            items,
            last_try: false,
        })
    }

    /// The waiting associations as last-try jobs.
    pub(crate) fn take_deferred(&mut self) -> Vec<LinkJob> {
        let mut jobs = Vec::new();
        while !self.deferred.is_empty() {
            let n = self.deferred.len().min(MAX_ITEMS);
            let items: Vec<Item> = self.deferred.drain(..n).collect();
            jobs.push(LinkJob {
                items,
                last_try: true,
            });
        }
        jobs
    }

    /// Whether too many associations wait for their targets.
    pub(crate) fn too_many_deferred(&self) -> bool {
        self.deferred.len() >= MAX_DEFERRED
    }

    /// Whether anything waits: open, deferred or held.
    #[cfg(test)]
    pub(crate) fn idle(&self) -> bool {
        self.open.is_empty() && self.deferred.is_empty() && self.holds.is_empty()
    }

    /// Settles a landed job: returns the problems to report and the state
    /// windows of the records now complete.
    pub(crate) fn landed(
        &mut self,
        job: LinkJob,
        results: Vec<Linked>,
    ) -> (Vec<Problem>, Vec<u64>) {
        let mut problems = Vec::new();
        let mut complete = Vec::new();
        for (item, result) in job.items.into_iter().zip(results) {
            let reason = match result {
                Linked::Made(to_id) => {
                    self.made += 1;
                    let group = self.link_group[item.link];
                    self.remember(group, &item.value, &to_id);
                    None
                }
                Linked::Missing if !job.last_try => {
                    self.deferred.push(item);
                    continue;
                }
                Linked::Missing => Some(None),
                Linked::Refused(why) => Some(Some(why)),
            };
            let Some(hold) = self.holds.get_mut(&item.hold) else {
                continue;
            };
            if let Some(reason) = reason {
                self.failed += 1;
                problems.push(Problem {
                    line: hold.line,
                    link: item.link,
                    value: item.value,
                    reason,
                });
            }
            hold.pending -= 1;
            if hold.pending == 0 {
                let done = self.holds.remove(&item.hold).expect("held");
                complete.extend(done.windows);
            }
        }
        (problems, complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::hubspot::properties::Properties;
    use crate::write::targets::{Link, LinkType};

    /// Contacts by email linked to companies by external_id (not written).
    fn links() -> Links {
        let catalog = Catalog::parse(r#"{"streams":[{"stream":{"name":"s"}}]}"#).unwrap();
        let mut targets = Targets::contacts_only(&catalog, Properties::default());
        targets.links.push(Link {
            name: "s.company".into(),
            field: vec!["company".into()],
            from: 0,
            to_object: crate::hubspot::objects::Object::standard("companies").unwrap(),
            to_key: "external_id".into(),
            kind: LinkType::Default,
        });
        Links::new(&targets)
    }

    #[test]
    fn a_record_completes_when_all_its_associations_are_settled() {
        let mut l = links();
        l.hold("1", &[(0, "c1".into()), (0, "c2".into())], vec![4, 4], 9);
        let job = l.take().unwrap();
        assert_eq!(job.items.len(), 2);
        assert!(l.take().is_none());
        let (problems, done) = l.landed(job, vec![Linked::Made("501".into()), Linked::Missing]);
        assert!(
            problems.is_empty() && done.is_empty(),
            "c2 waits for the end"
        );
        let last = l.take_deferred();
        assert_eq!(last.len(), 1);
        assert!(last[0].last_try && !l.idle());
        let job = last.into_iter().next().unwrap();
        let (problems, done) = l.landed(job, vec![Linked::Missing]);
        assert_eq!(done, vec![4, 4]);
        assert_eq!(
            (problems.len(), problems[0].line, problems[0].value.as_str()),
            (1, 9, "c2")
        );
        assert!(problems[0].reason.is_none());
        assert_eq!((l.made, l.failed), (1, 1));
        assert!(l.idle());
    }

    #[test]
    fn targets_made_once_are_known_to_later_records() {
        let mut l = links();
        l.hold("1", &[(0, "c1".into())], vec![0], 1);
        let job = l.take().unwrap();
        l.landed(job, vec![Linked::Made("501".into())]);
        l.hold("2", &[(0, "c1".into())], vec![1], 2);
        assert_eq!(l.take().unwrap().items[0].to_id.as_deref(), Some("501"));
    }
}
