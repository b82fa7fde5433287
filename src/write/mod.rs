//! `write`: the sync itself, as a pipeline —
//! read (stdin → messages) → map (record → contact write or rejection) →
//! route (by email to a shard worker) → batch + dedupe (the worker's open
//! batch) → send (HubSpot, under the lifecycle policy and the failure layer)
//! → confirm (the checkpoint tracker echoes each state once everything
//! before it is settled).

pub mod batcher;
pub mod checkpoint;
pub mod mapping;
pub mod progress;
pub mod reader;
pub mod rejects;
pub mod send;
pub mod shard;

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::config::{Config, UnknownProperties};
use crate::hubspot::errors::{truncate, HubSpotError, RejectReason};
use crate::hubspot::governor::Governor;
use crate::hubspot::properties::{self, Properties};
use crate::hubspot::Client;
use crate::protocol::{FailureType, Output};
use batcher::Origin;
use mapping::Mapper;
use reader::{Line, Reader};
use rejects::Rejects;
use shard::{Shards, Shared, Timing};

/// What a finished sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records_read: u64,
    pub records_written: u64,
    pub created: u64,
    pub updated: u64,
    pub rejected: u64,
    pub bad_lines: u64,
    pub states: u64,
    pub requests: u64,
    pub throttled: u64,
    pub daily_remaining: Option<u64>,
    /// Peak resident memory of the process (VmHWM), where the OS tells it.
    pub peak_rss_bytes: Option<u64>,
}

/// Options that are not user configuration (the benchmark's baseline).
#[derive(Default)]
pub struct RunOptions {
    /// Use this governor instead of the default one.
    pub governor: Option<Governor>,
    pub timing: Option<Timing>,
    /// Show the progress line on stderr: `Some(true)` redraws in place (a
    /// terminal), `Some(false)` prints a line every ten seconds.
    pub progress: Option<bool>,
    /// Benchmark only: batch writes are acknowledged without a network call
    /// (reads such as the property definitions still go to `base_url`).
    pub null_sink: bool,
}

/// Runs a sync from `input`; `Err` is a failure already fit for a TRACE.
pub fn run(
    config: &Config,
    catalog: &Catalog,
    input: impl BufRead,
    out: Arc<Output>,
    opts: RunOptions,
) -> Result<Summary, HubSpotError> {
    let mut client = match opts.governor {
        Some(g) => Client::with_governor(config, g),
        None => Client::new(config),
    };
    if opts.null_sink {
        client = client.with_null_sink();
    }
    let mut props = Properties::fetch(&client)?;
    if let Some(stage) = &config.lifecycle_stage {
        check_stage(&props, stage)?;
    }
    let rejects = Rejects::new(
        config.rejected_records_path.as_deref(),
        config.log_record_data,
    )
    .map_err(|e| HubSpotError::new(FailureType::Config, format!("{e:#}")))?;
    let keep_data = rejects.wants_data();
    let stages = props.lifecycle_stages().to_vec();
    let shared = Arc::new(Shared::new(
        client,
        stages,
        config.lifecycle_policy,
        rejects,
        out.clone(),
        opts.timing.unwrap_or_default(),
    ));
    let mut shards = Shards::start(config.workers, shared.clone());

    let progress = opts
        .progress
        .map(|terminal| progress::Progress::start(shared.clone(), terminal));
    let mut reader = Reader::new(input);
    let mut records_read = 0u64;
    let mut dropped_fields: HashSet<String> = HashSet::new();
    let mut create_tried: HashSet<String> = HashSet::new();
    let mut fatal: Option<HubSpotError> = None;
    'read: loop {
        if shared.failed() {
            break;
        }
        if reader.will_wait() {
            // Records held for routing go to their workers before stdin
            // may block, so a pause in the input never strands them.
            shards.flush();
        }
        let (line_no, line) = match reader.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                fatal = Some(HubSpotError::new(
                    FailureType::System,
                    format!("reading stdin failed: {e}"),
                ));
                break;
            }
        };
        match line {
            Line::Record {
                stream,
                namespace,
                data,
            } => {
                records_read += 1;
                if records_read.is_multiple_of(1024) {
                    if let Some(p) = &progress {
                        p.set_read(records_read);
                    }
                }
                let Some(s) = catalog.stream(&stream, namespace.as_deref()) else {
                    let name = match &namespace {
                        Some(ns) => format!("{}.{}", truncate(ns, 80), truncate(&stream, 80)),
                        None => truncate(&stream, 80),
                    };
                    let problem = format!(
                        "RECORD for stream `{name}`, which is not in the configured catalog"
                    );
                    if config.strict_input {
                        fatal = Some(HubSpotError::new(
                            FailureType::Config,
                            format!("input line {line_no}: {problem}"),
                        ));
                        break;
                    }
                    shared.rejects.bad_line(line_no, &problem, &out);
                    continue;
                };
                let mut mapped = Mapper::new(config, &props, &s.email_field).map(&data);
                if config.unknown_properties == UnknownProperties::Create
                    && !mapped.dropped.is_empty()
                {
                    let mut created_any = false;
                    for name in &mapped.dropped {
                        if create_tried.insert(name.clone()) && valid_property_name(name) {
                            let prop = match properties::create_text_property(&shared.client, name)
                            {
                                Ok(p) => p,
                                Err(e) => {
                                    // Stop reading; what is already routed still lands.
                                    fatal = Some(e);
                                    break 'read;
                                }
                            };
                            out.log(
                                "INFO",
                                format!(
                                    "created custom contact property `{name}` (single-line text)"
                                ),
                            );
                            props.insert(prop);
                            created_any = true;
                        }
                    }
                    if created_any {
                        mapped = Mapper::new(config, &props, &s.email_field).map(&data);
                    }
                }
                for name in mapped.dropped {
                    if dropped_fields.insert(name.clone()) {
                        out.log("WARN", format!("record field `{name}` is not a HubSpot contact property: dropped from every record (set `unknown_properties` to reject or create, or map it with `property_mapping`)"));
                    }
                }
                let window = shared.checkpoint.record();
                match mapped.result {
                    Ok(write) => {
                        let origin = Origin {
                            window,
                            line: line_no,
                            data: keep_data.then(|| data.to_map()),
                        };
                        shards.route(write, origin);
                    }
                    Err(reason) => {
                        // Shown (masked) in the log only when there is one.
                        let email = mapping::string_at(&data, &s.email_field)
                            .filter(|_| reason != RejectReason::NoEmail);
                        let kept = keep_data.then(|| data.to_map());
                        shared
                            .rejects
                            .record(line_no, email, kept.as_ref(), &reason, &out);
                        shared.checkpoint.settle(window, false, &out);
                    }
                }
            }
            Line::State(state) => {
                shards.flush();
                shared.checkpoint.state(state, &out);
            }
            Line::Ignored => {}
            Line::Bad(problem) => {
                if config.strict_input {
                    fatal = Some(HubSpotError::new(
                        FailureType::Config,
                        format!("input line {line_no}: {problem} (strict_input is on)"),
                    ));
                    break;
                }
                shared.rejects.bad_line(line_no, &problem, &out);
            }
        }
    }
    // A fatal input problem still lets everything read before it land and
    // its states be confirmed: only HubSpot failures stop the checkpoint.
    shards.finish();
    if let Some(p) = &progress {
        p.set_read(records_read);
    }
    drop(progress);
    shared.rejects.finish(&out);
    let usage = shared.client.governor.usage();
    let c = &shared.counters;
    let summary = Summary {
        records_read,
        records_written: c.records_written.load(Ordering::Relaxed),
        created: c.created.load(Ordering::Relaxed),
        updated: c.updated.load(Ordering::Relaxed),
        rejected: shared.rejects.rejected(),
        bad_lines: shared.rejects.bad_lines(),
        states: shared.checkpoint.emitted(),
        requests: usage.calls,
        throttled: usage.throttled,
        daily_remaining: usage.daily_remaining,
        peak_rss_bytes: peak_rss_bytes(),
    };
    out.log("INFO", summary_line(&summary));
    if let Some(e) = shared.failure().or(fatal) {
        return Err(e);
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
    format!(
        "sync summary: {} records read, {} written ({} contacts created, {} updated), {} rejected, {} input lines skipped; {} API calls ({} rate-limited), daily quota left: {}; peak memory: {}",
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
pub fn check_stage(props: &Properties, stage: &str) -> Result<(), HubSpotError> {
    if props.stage_rank(stage).is_some() {
        return Ok(());
    }
    Err(HubSpotError::new(
        FailureType::Config,
        format!("config /lifecycle_stage: `{stage}` is not a lifecycle stage of this HubSpot account; use one of: {}", props.lifecycle_stages().join(", ")),
    ))
}

/// HubSpot property names: lower-case letters, digits, underscores, starting with a letter.
fn valid_property_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 100
}
