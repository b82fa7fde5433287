//! Dry run: the send stage's stand-in that writes nothing. Each batch is
//! checked against HubSpot by one batch read (which records exist), so the
//! sync can report what it would create and update; every planned write
//! can go to a JSON Lines file. The pump emits no state in a dry run.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::dispatch::Sink;
use super::mapping::RecordWrite;
use super::send::read_stages;
use super::targets::Targets;
use crate::hubspot::batch::Written;
use crate::hubspot::{Client, HubSpotError};
use crate::protocol::FailureType;

/// Plans writes instead of making them.
pub(crate) struct DryRun {
    client: Arc<Client>,
    targets: Arc<Targets>,
    plan: Option<Mutex<BufWriter<File>>>,
}

impl DryRun {
    /// A dry run reading through `client`; `plan` receives one JSON line
    /// per planned write.
    pub(crate) fn new(
        client: Arc<Client>,
        targets: Arc<Targets>,
        plan: Option<&Path>,
    ) -> Result<DryRun, HubSpotError> {
        let plan = match plan {
            Some(path) => Some(Mutex::new(BufWriter::new(File::create(path).map_err(
                |e| {
                    HubSpotError::new(
                        FailureType::Config,
                        format!("cannot create the dry-run plan {}: {e}", path.display()),
                    )
                },
            )?))),
            None => None,
        };
        Ok(DryRun {
            client,
            targets,
            plan,
        })
    }

    fn record_plan(
        &self,
        object: &str,
        writes: &[&RecordWrite],
        results: &[Written],
    ) -> Result<(), String> {
        let Some(plan) = &self.plan else {
            return Ok(());
        };
        let mut f = plan.lock().unwrap_or_else(|e| e.into_inner());
        for (w, r) in writes.iter().zip(results) {
            let (action, id) = match r {
                Written::Ok { created: true, .. } => ("create", None),
                Written::Ok { id, .. } => ("update", id.clone()),
                Written::Rejected(_) => continue,
            };
            let row = json!({"action": action, "object": object, "id": id, "key": w.key(), "properties": w.properties, "lifecyclestage": w.stage});
            let mut line = serde_json::to_vec(&row).unwrap_or_default();
            line.push(b'\n');
            f.write_all(&line).map_err(|e| e.to_string())?;
        }
        f.flush().map_err(|e| e.to_string())
    }
}

impl Sink for DryRun {
    fn write(&self, target: usize, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError> {
        let mode = self.targets.targets[target].mode();
        let keys: Vec<&str> = writes.iter().map(|w| w.key()).collect();
        let existing = read_stages(&self.client, mode, &keys)?;
        let results: Vec<Written> = writes
            .iter()
            .map(|w| match existing.get(&mode.key(w.key())) {
                Some((id, _)) => Written::Ok {
                    id: Some(id.clone()),
                    created: false,
                },
                None => Written::Ok {
                    id: None,
                    created: true,
                },
            })
            .collect();
        self.record_plan(mode.object, writes, &results)
            .map_err(|e| {
                HubSpotError::new(
                    FailureType::System,
                    format!("writing the dry-run plan failed: {e}"),
                )
            })?;
        Ok(results)
    }
}
