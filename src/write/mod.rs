//! `write`: the sync itself, as a pipeline —
//! read (stdin → lines, its own thread) → parse + map (line → message →
//! a write of its stream's target object, or a rejection) → batch (an open
//! batch per target, merged by matching key) → send (sender threads,
//! HubSpot under the lifecycle policy and the failure layer) → settle (the
//! checkpoint echoes each state once everything before it is written or
//! rejected). Parsing, mapping, batching and settling run in input order
//! on one thread ([`pump`]); the threads only pass events. Where each
//! stream goes is decided before the first line is read ([`targets`]).

mod associate;
mod batcher;
mod cancel;
mod checkpoint;
mod dates;
mod deletes;
mod dispatch;
mod dry_run;
mod fields;
mod flush;
mod formats;
pub mod links;
pub mod mapping;
mod merged;
pub mod notices;
mod numbers;
mod parse;
mod progress;
mod pump;
mod redact;
mod rejects;
mod rejects_store;
mod send;
mod settle;
mod stdin;
pub mod targets;

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::channel;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::hubspot::errors::HubSpotError;
use crate::hubspot::governor::Governor;
use crate::hubspot::properties::Properties;
use crate::hubspot::Client;
use crate::protocol::{FailureType, Output};
pub use deletes::Deletions;
pub use dispatch::Sink;
pub use mapping::RecordWrite;
use targets::Targets;

/// What the stages tell the sync's loop.
pub(crate) enum Event {
    /// From the stdin thread.
    Input(stdin::Input),
    /// From a sender thread: a batch landed.
    Sent(dispatch::Sent),
    /// From a sender thread: an association job landed.
    Linked(dispatch::LinksSent),
    /// From the signal thread: the platform asked the sync to stop.
    Cancel(&'static str),
}

/// What a finished sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records_read: u64,
    pub records_written: u64,
    pub created: u64,
    pub updated: u64,
    pub rejected: u64,
    /// Records deleted in the source (`_ab_cdc_deleted_at`).
    pub deletions: Deletions,
    pub bad_lines: u64,
    pub states: u64,
    /// Associations made, and those that could not be (target missing,
    /// refused); their records are written either way.
    pub associations: u64,
    pub associations_failed: u64,
    pub requests: u64,
    pub throttled: u64,
    pub daily_remaining: Option<u64>,
    /// Peak resident memory of the process (VmHWM), where the OS tells it.
    pub peak_rss_bytes: Option<u64>,
}

/// Options that are not user configuration.
#[derive(Default)]
pub struct RunOptions {
    /// Use this governor instead of the default one (the benchmark's
    /// one-request-at-a-time baseline passes an unlimited one).
    pub governor: Option<Governor>,
    /// Show the progress line on stderr: `Some(true)` redraws in place (a
    /// terminal), `Some(false)` prints a line every ten seconds.
    pub progress: Option<bool>,
    /// Write batches here instead of to HubSpot (the benchmark's CPU path;
    /// property definitions are still read from `base_url`).
    pub sink: Option<Arc<dyn Sink>>,
    /// Stop gracefully on SIGTERM or SIGINT (the binary sets it): reading
    /// stops, batches in flight land (for up to 10 s), earned states are
    /// emitted, and the sync fails as cancelled. A second signal exits at once.
    pub cancel_on_signals: bool,
    /// Dry run (also the config's `dry_run`): check and plan, write
    /// nothing, emit no state.
    pub dry_run: bool,
    /// In a dry run, the JSON Lines file of planned writes.
    pub dry_run_plan: Option<PathBuf>,
}

/// Runs a sync from `input`; `Err` is a failure already fit for a TRACE.
pub fn run(
    config: &Config,
    catalog: &Catalog,
    input: impl BufRead + Send + 'static,
    out: Arc<Output>,
    mut opts: RunOptions,
) -> Result<Summary, HubSpotError> {
    // Setup: what HubSpot has, where rejects and batches go, the threads.
    let client = Arc::new(match opts.governor.take() {
        Some(g) => Client::with_governor(config, g),
        None => Client::new(config),
    });
    for warning in &config.warnings {
        out.log("WARN", warning.clone());
    }
    let targets = Targets::resolve(config, catalog, &client)?;
    for warning in &targets.warnings {
        out.log("WARN", warning.clone());
    }
    if let (Some(stage), Some(contacts)) = (&config.lifecycle_stage, targets.contacts()) {
        check_stage(&contacts.properties, stage)?;
    }
    // Other objects and associations: every scope proven before anything
    // is written, so a sync never stops halfway for a missing one.
    if targets.beyond_contacts() && opts.sink.is_none() {
        targets.probe_scopes(&client)?;
    }
    let rejects = rejects::Rejects::for_config(config)
        .map_err(|e| HubSpotError::new(FailureType::Config, format!("{e:#}")))?;
    let dry_run = opts.dry_run || config.dry_run;
    let sink = sink(config, &mut opts, &client, &targets, dry_run)?;
    let (events, inbox) = channel();
    if opts.cancel_on_signals {
        cancel::spawn(events.clone()).map_err(|e| HubSpotError::new(FailureType::System, e))?;
    }
    let budget = stdin::spawn(input, events.clone());
    let dispatch = dispatch::Dispatch::start(config.workers, sink, events);
    let mut pump = pump::Pump::new(pump::Wiring {
        config,
        catalog,
        out: &out,
        client,
        targets,
        rejects,
        events: inbox,
        budget,
        dispatch,
        progress: opts.progress,
        dry_run,
    });
    // Pump, then finish: a fatal input problem still lets everything read
    // before it land and its states be emitted; a HubSpot failure stops both.
    let input_failure = pump.pump().err();
    pump.drain();
    finish(pump, input_failure, config, &out)
}

/// Where batches go: the caller's stand-in, the dry run, or HubSpot under
/// the lifecycle policy.
fn sink(
    config: &Config,
    opts: &mut RunOptions,
    client: &Arc<Client>,
    targets: &Targets,
    dry_run: bool,
) -> Result<Arc<dyn Sink>, HubSpotError> {
    Ok(match opts.sink.take() {
        Some(sink) => sink,
        None if dry_run => Arc::new(dry_run::DryRun::new(
            client.clone(),
            Arc::new(targets.clone()),
            opts.dry_run_plan.as_deref(),
        )?),
        None => Arc::new(send::Sender {
            client: client.clone(),
            policy: config.lifecycle_policy,
            targets: Arc::new(targets.clone()),
        }),
    })
}

/// The summary, logged; the sync's failure, if any.
fn finish(
    pump: pump::Pump,
    input_failure: Option<HubSpotError>,
    config: &Config,
    out: &Output,
) -> Result<Summary, HubSpotError> {
    pump.rejects.summarise(out);
    let usage = pump.client.governor.usage();
    let summary = Summary {
        records_read: pump.counts.read,
        records_written: pump.counts.written,
        created: pump.created,
        updated: pump.updated,
        rejected: pump.rejects.rejected(),
        deletions: pump.deletions,
        bad_lines: pump.rejects.bad_lines(),
        states: pump.states,
        associations: pump.links.made,
        associations_failed: pump.rejects.associations_failed(),
        requests: usage.calls,
        throttled: usage.throttled,
        daily_remaining: usage.daily_remaining,
        peak_rss_bytes: peak_rss_bytes(),
    };
    out.log("INFO", summary_line(&summary));
    if pump.dry_run {
        out.log("INFO", format!("dry run: nothing was written and no state emitted; {} record(s) would be created and {} updated ({} records), {} record(s) rejected, {} input line(s) skipped; {} API call(s) made, none of them a write{}", summary.created, summary.updated, summary.records_written, summary.rejected, summary.bad_lines, summary.requests, if config.associations.is_empty() { "" } else { " (associations are not planned)" }));
    }
    if let Some(e) = pump.failure.or(input_failure) {
        return Err(e);
    }
    if let Some(signal) = pump.cancelled {
        return Err(HubSpotError::new(
            FailureType::Transient,
            format!("sync cancelled by {signal}: {} state(s) emitted; the records after the last one are resent by the next sync", summary.states),
        ));
    }
    if config.fail_on_rejected && summary.rejected > 0 {
        return Err(HubSpotError::new(
            FailureType::Config,
            format!("{} record(s) were rejected and fail_on_rejected_records is on (everything else was written; see the rejection summary)", summary.rejected),
        ));
    }
    Ok(summary)
}

/// The end-of-sync summary line.
pub fn summary_line(s: &Summary) -> String {
    let deleted = s.deletions.summary();
    let associations = match (s.associations, s.associations_failed) {
        (0, 0) => String::new(),
        (made, 0) => format!(", {made} associations made"),
        (made, failed) => format!(", {made} associations made ({failed} not)"),
    };
    format!(
        "sync summary: {} records read, {} written ({} created, {} updated){associations}, {} rejected{deleted}, {} input lines skipped; {} API calls ({} rate-limited), daily quota left: {}; peak memory: {}",
        s.records_read,
        s.records_written,
        s.created,
        s.updated,
        s.rejected,
        s.bad_lines,
        s.requests,
        s.throttled,
        s.daily_remaining.map_or("unknown".to_string(), |d| d.to_string()),
        s.peak_rss_bytes.map_or("unknown".to_string(), |b| format!("{:.1} MiB", b as f64 / 1048576.0))
    )
}

/// The process's peak resident set size, from `VmHWM` in
/// `/proc/self/status` (Linux); `None` elsewhere.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The configured stage must be one of the account's lifecycle stages.
pub(crate) fn check_stage(props: &Properties, stage: &str) -> Result<(), HubSpotError> {
    if props.stage_rank(stage).is_some() {
        return Ok(());
    }
    Err(HubSpotError::new(
        FailureType::Config,
        format!("config /lifecycle_stage: `{stage}` is not a lifecycle stage of this HubSpot account; use one of: {}", props.lifecycle_stages().join(", ")),
    ))
}
