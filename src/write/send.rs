//! The send stage: one batch of merged writes of one target goes to HubSpot
//! under the lifecycle stage policy (contacts and companies have stages),
//! with as few calls as the policy allows.
//!
//! | policy | calls per batch |
//! |---|---|
//! | no stage anywhere in the batch | 1 upsert |
//! | `new_contacts_only` | 1 upsert, + 1 update setting the stage on the records the upsert created (`new: true`) |
//! | `forward_only` | 1 read of current stages + 1 upsert carrying the stage only where it moves forward |
//! | `force` | as `forward_only`, backward moves are cleared in the upsert, + 1 update setting them |
//!
//! HubSpot applies a batch's inputs in no promised order, so a clear and a
//! set for one record go in separate requests.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::dispatch::Sink;
use super::links::{LinkJob, Linked};
use super::mapping::RecordWrite;
use super::targets::Targets;
use crate::config::LifecyclePolicy;
use crate::hubspot::batch::{self, Input, Mode, Values, Written};
use crate::hubspot::client::Client;
use crate::hubspot::errors::{HubSpotError, RejectReason};

/// Sends batches to HubSpot under one lifecycle policy.
pub(crate) struct Sender {
    pub client: Arc<Client>,
    pub policy: LifecyclePolicy,
    pub targets: Arc<Targets>,
}

impl Sink for Sender {
    fn associate(&self, job: &LinkJob) -> Result<Vec<Linked>, HubSpotError> {
        super::associate::run(&self.client, &self.targets, job)
    }

    fn write(&self, target: usize, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError> {
        let target = &self.targets.targets[target];
        // Archives (records deleted in the source) go their own way.
        super::deletes::send(&self.client, target.mode(), writes, |upserts| {
            One {
                client: &self.client,
                policy: self.policy,
                mode: target.mode(),
                stages: target.properties.lifecycle_stages(),
            }
            .send(upserts)
        })
    }
}

/// One batch of one target on its way.
struct One<'a> {
    client: &'a Client,
    policy: LifecyclePolicy,
    mode: Mode<'a>,
    /// Lifecycle stage ids in order.
    stages: &'a [String],
}

impl One<'_> {
    /// Writes the batch; one result per write, in order.
    fn send(&self, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError> {
        let staged = writes.iter().any(|w| w.stage.is_some());
        if !staged {
            let inputs = writes.iter().map(|w| input(w, None)).collect::<Vec<_>>();
            return batch::write(self.client, self.mode, &inputs);
        }
        match self.policy {
            LifecyclePolicy::NewContactsOnly => self.new_only(writes),
            LifecyclePolicy::ForwardOnly | LifecyclePolicy::Force => self.with_current(writes),
        }
    }

    fn new_only(&self, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError> {
        let inputs = writes.iter().map(|w| input(w, None)).collect::<Vec<_>>();
        let mut results = batch::write(self.client, self.mode, &inputs)?;
        let mut follow = Vec::new();
        for (i, (w, r)) in writes.iter().zip(&results).enumerate() {
            if let (Written::Ok { created: true, id }, Some(stage)) = (r, w.stage.as_deref()) {
                if !stage.is_empty() {
                    follow.push((i, id.clone(), stage.to_string()));
                }
            }
        }
        self.set_stages(follow, &mut results)?;
        Ok(results)
    }

    fn with_current(&self, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError> {
        let emails: Vec<&str> = writes
            .iter()
            .filter(|w| w.stage.is_some())
            .map(|w| w.key())
            .collect();
        let current = read_stages(self.client, self.mode, &emails)?;
        let rank = |s: &str| self.stages.iter().position(|x| x == s);
        let mut inputs = Vec::with_capacity(writes.len());
        let mut backward = Vec::new();
        for (i, w) in writes.iter().enumerate() {
            let Some(stage) = w.stage.as_deref() else {
                inputs.push(input(w, None));
                continue;
            };
            let force = self.policy == LifecyclePolicy::Force;
            let set = match current.get(&self.mode.key(w.key())) {
                None => Some(stage), // a new contact takes any stage
                Some((_, cur)) if cur == stage => None,
                Some((_, cur)) if cur.is_empty() => Some(stage),
                Some(_) if stage.is_empty() => force.then_some(""),
                Some((id, cur)) => {
                    if rank(stage) > rank(cur) {
                        Some(stage)
                    } else if force {
                        backward.push((i, Some(id.clone()), stage.to_string()));
                        Some("")
                    } else {
                        None
                    }
                }
            };
            inputs.push(input(w, set));
        }
        let mut results = batch::write(self.client, self.mode, &inputs)?;
        self.set_stages(backward, &mut results)?;
        Ok(results)
    }

    /// Sets `stage` on records by id in one update; an input that fails
    /// turns its (otherwise written) record into a lifecycle rejection.
    fn set_stages(
        &self,
        todo: Vec<(usize, Option<String>, String)>,
        results: &mut [Written],
    ) -> Result<(), HubSpotError> {
        let mut updates = Vec::new();
        for (i, id, stage) in todo {
            if !matches!(results[i], Written::Ok { .. }) {
                continue;
            }
            match id {
                Some(id) => updates.push((i, id, stage)),
                None => results[i] = Written::Rejected(RejectReason::LifecycleRule("written, but HubSpot's answer did not name the record, so its stage was not set".into())),
            }
        }
        if updates.is_empty() {
            return Ok(());
        }
        let none = Values::new();
        let inputs: Vec<Input> = updates
            .iter()
            .map(|(_, id, stage)| Input {
                id,
                properties: &none,
                stage: Some(stage),
            })
            .collect();
        let owners = updates.iter().map(|(i, ..)| *i);
        let outcome = batch::write(self.client, Mode::update(self.mode.object), &inputs)?;
        for (i, r) in owners.zip(outcome) {
            if let Written::Rejected(why) = r {
                results[i] = Written::Rejected(RejectReason::LifecycleRule(format!(
                    "written, but setting the stage failed: {why}"
                )));
            }
        }
        Ok(())
    }
}

fn input<'a>(w: &'a RecordWrite, stage: Option<&'a str>) -> Input<'a> {
    Input {
        id: w.key(),
        properties: &w.properties,
        stage,
    }
}

/// Current (id, lifecyclestage) of existing records by key (as
/// [`Mode::key`] files it). A refused read is narrowed by halves; a key HubSpot can't
/// read counts as new (the write then reports its real problem).
pub(crate) fn read_stages(
    client: &Client,
    mode: Mode,
    keys: &[&str],
) -> Result<HashMap<String, (String, String)>, HubSpotError> {
    let mut found = HashMap::new();
    let mut pending = vec![keys.to_vec()];
    let by = mode.by.unwrap_or("hs_object_id");
    while let Some(group) = pending.pop() {
        if group.is_empty() {
            continue;
        }
        match batch::read_by(client, mode, &group, &[by, "lifecyclestage"])? {
            Some(records) => {
                for c in &records {
                    let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
                    let key = match mode.by {
                        Some(by) => mode.key(batch::property(c, by)),
                        None => id.to_string(),
                    };
                    let stage = batch::property(c, "lifecyclestage");
                    if !key.is_empty() {
                        found.insert(key, (id.to_string(), stage.to_string()));
                    }
                }
            }
            None if group.len() > 1 => {
                let (a, b) = group.split_at(group.len() / 2);
                pending.push(a.to_vec());
                pending.push(b.to_vec());
            }
            None => {}
        }
    }
    Ok(found)
}
