//! One association job on a sender thread: targets not known yet are looked
//! up by their matching key (batch reads of up to 100), then the pairs are
//! created in as few calls as HubSpot allows (one per link type and 2,000
//! pairs). One result per item, in order.

use std::collections::HashMap;

use super::links::{LinkJob, Linked};
use super::send::read_stages;
use super::targets::{LinkType, Targets};
use crate::hubspot::associations::{self, Kind, Pair, MAX_PAIRS};
use crate::hubspot::batch::Mode;
use crate::hubspot::{Client, HubSpotError};

/// Records one batch read takes.
const READ_BATCH: usize = 100;

/// Looks up and associates the job's items.
pub(crate) fn run(
    client: &Client,
    targets: &Targets,
    job: &LinkJob,
) -> Result<Vec<Linked>, HubSpotError> {
    let mut to_ids: Vec<Option<String>> = job.items.iter().map(|i| i.to_id.clone()).collect();
    look_up(client, targets, job, &mut to_ids)?;
    let mut results: Vec<Linked> = vec![Linked::Missing; job.items.len()];
    // Pairs by (link): one link is one pair of objects and one type.
    let mut by_link: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, item) in job.items.iter().enumerate() {
        if to_ids[i].is_some() {
            by_link.entry(item.link).or_default().push(i);
        }
    }
    let mut links: Vec<_> = by_link.into_iter().collect();
    links.sort_unstable_by_key(|(link, _)| *link);
    for (link, items) in links {
        let l = &targets.links[link];
        let from = &targets.targets[l.from].object.path;
        let kind = match l.kind {
            LinkType::Default => Kind::Default,
            LinkType::Typed { category, id } => Kind::Typed { category, id },
        };
        for chunk in items.chunks(MAX_PAIRS) {
            let pairs: Vec<Pair> = chunk
                .iter()
                .map(|&i| Pair {
                    from: &job.items[i].from_id,
                    to: to_ids[i].as_deref().unwrap_or_default(),
                })
                .collect();
            let made = associations::associate(client, from, &l.to_object.path, kind, &pairs)?;
            for (&i, refused) in chunk.iter().zip(made) {
                results[i] = match refused {
                    None => Linked::Made(to_ids[i].clone().unwrap_or_default()),
                    Some(why) => Linked::Refused(why),
                };
            }
        }
    }
    Ok(results)
}

/// Fills in the ids of targets found by their key.
fn look_up(
    client: &Client,
    targets: &Targets,
    job: &LinkJob,
    to_ids: &mut [Option<String>],
) -> Result<(), HubSpotError> {
    // Items to look up, by the target's (object, key) as a read mode.
    let mut wanted: HashMap<Mode, Vec<usize>> = HashMap::new();
    for (i, item) in job.items.iter().enumerate() {
        if to_ids[i].is_none() {
            wanted
                .entry(targets.links[item.link].to_mode())
                .or_default()
                .push(i);
        }
    }
    for (mode, items) in wanted {
        let mut keys: Vec<String> = items
            .iter()
            .map(|&i| mode.key(&job.items[i].value))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut found = HashMap::new();
        for chunk in keys.chunks(READ_BATCH) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            // A key HubSpot can't read counts as missing (and is tried
            // again at the end of the sync).
            found.extend(read_stages(client, mode, &chunk)?);
        }
        for i in items {
            let key = mode.key(&job.items[i].value);
            to_ids[i] = found.get(&key).map(|(id, _)| id.clone());
        }
    }
    Ok(())
}
