//! `write`: the sync itself, as a pipeline —
//! read (stdin → messages) → map (record → contact write or rejection) →
//! route (by email to a shard worker) → batch + dedupe (the worker's open
//! batch) → send (HubSpot, under the lifecycle policy and the failure layer)
//! → confirm (the checkpoint tracker echoes each state once everything
//! before it is settled).

pub mod batcher;
pub mod checkpoint;
pub mod decode;
pub mod mapping;
pub mod progress;
pub mod reader;
pub mod rejects;
pub mod scan;
pub mod send;
pub mod shard;

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::catalog::Catalog;
use crate::config::{Config, UnknownProperties};
use crate::hubspot::errors::HubSpotError;
use crate::hubspot::governor::Governor;
use crate::hubspot::properties::{self, Properties};
use crate::hubspot::Client;
use crate::protocol::{FailureType, Output};
use batcher::Origin;
use decode::{Decoder, Item, Next, Record, Rules};
use reader::Chunk;
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
    /// Decoder threads (default: one per core, at most four).
    pub decoders: Option<usize>,
    /// Benchmark only: batch writes are acknowledged without a network call
    /// (reads such as the property definitions still go to `base_url`).
    pub null_sink: bool,
}

/// Runs a sync from `input`; `Err` is a failure already fit for a TRACE.
pub fn run(
    config: &Config,
    catalog: &Catalog,
    input: impl BufRead + Send + 'static,
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
    let props = Properties::fetch(&client)?;
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
    let rules = Arc::new(Rules {
        config: config.clone(),
        catalog: catalog.clone(),
        properties: RwLock::new(Arc::new(props)),
        keep_data,
    });
    let mut decoder = Decoder::start(
        input,
        rules.clone(),
        opts.decoders.unwrap_or_else(decode::default_threads),
    );
    let mut sequencer = Sequencer {
        config,
        rules: &rules,
        shared: &shared,
        out: &out,
        records_read: 0,
        dropped_fields: HashSet::new(),
        create_tried: HashSet::new(),
    };
    let mut fatal: Option<HubSpotError> = None;
    'read: while !shared.failed() {
        let next = match decoder.try_next() {
            Next::NotYet => {
                // Records held for routing go to their workers before the
                // input is waited for, so a pause never strands them.
                shards.flush();
                decoder.next_within(Duration::from_millis(100))
            }
            next => next,
        };
        let decoded = match next {
            Next::Chunk(d) => d,
            // Waited long enough to look at `failed` again.
            Next::NotYet => continue,
            Next::End => break,
            Next::Failed(e) => {
                fatal = Some(HubSpotError::new(FailureType::System, e));
                break;
            }
        };
        for item in decoded.items {
            if let Err(e) = sequencer.take(item, &decoded.chunk, &mut shards) {
                fatal = Some(e);
                break 'read;
            }
        }
        if let Some(p) = &progress {
            p.set_read(sequencer.records_read);
        }
    }
    let records_read = sequencer.records_read;
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

/// The sequential end of the input side: each decoded item, in input
/// order, is counted, checkpointed and routed to its worker, or reported.
struct Sequencer<'a> {
    config: &'a Config,
    rules: &'a Rules,
    shared: &'a Shared,
    out: &'a Output,
    records_read: u64,
    /// Fields already warned about as dropped.
    dropped_fields: HashSet<String>,
    /// Properties `unknown_properties = create` already tried to create.
    create_tried: HashSet<String>,
}

impl Sequencer<'_> {
    /// Takes one item; `Err` stops reading.
    fn take(&mut self, item: Item, chunk: &Chunk, shards: &mut Shards) -> Result<(), HubSpotError> {
        let (shared, out) = (self.shared, self.out);
        let record = match item {
            Item::Record(r) => r,
            Item::State { state, .. } => {
                shards.flush();
                shared.checkpoint.state(state, out);
                return Ok(());
            }
            Item::UnknownStream { line, problem } => {
                self.records_read += 1;
                return self.bad_line(line, &problem, "");
            }
            Item::Bad { line, problem } => {
                return self.bad_line(line, &problem, " (strict_input is on)")
            }
        };
        self.records_read += 1;
        let record = self.create_properties(record, chunk)?;
        let Record {
            line,
            mapped,
            email,
            data,
            ..
        } = record;
        for name in mapped.dropped {
            if !self.dropped_fields.contains(&name) {
                out.log("WARN", format!("record field `{name}` is not a HubSpot contact property: dropped from every record (set `unknown_properties` to reject or create, or map it with `property_mapping`)"));
                self.dropped_fields.insert(name);
            }
        }
        let window = shared.checkpoint.record();
        match mapped.result {
            Ok(write) => shards.route(write, Origin { window, line, data }),
            Err(reason) => {
                shared
                    .rejects
                    .record(line, email.as_deref(), data.as_ref(), &reason, out);
                shared.checkpoint.settle(window, false, out);
            }
        }
        Ok(())
    }

    /// A line that is not a usable record: reported, or fatal under `strict_input`.
    fn bad_line(&self, line: u64, problem: &str, strict_note: &str) -> Result<(), HubSpotError> {
        if self.config.strict_input {
            return Err(HubSpotError::new(
                FailureType::Config,
                format!("input line {line}: {problem}{strict_note}"),
            ));
        }
        self.shared.rejects.bad_line(line, problem, self.out);
        Ok(())
    }

    /// Under `unknown_properties = create`, creates the properties a record
    /// names that HubSpot lacks, and maps it again with them. Decoders pick
    /// the new definitions up from their next chunk; a record decoded
    /// before that is mapped again here.
    fn create_properties(&mut self, record: Record, chunk: &Chunk) -> Result<Record, HubSpotError> {
        if self.config.unknown_properties != UnknownProperties::Create
            || record.mapped.dropped.is_empty()
        {
            return Ok(record);
        }
        let mut props = self.rules.properties();
        for name in &record.mapped.dropped {
            if !self.create_tried.contains(name)
                && self.create_tried.insert(name.clone())
                && valid_property_name(name)
            {
                // An error stops reading; what is already routed still lands.
                let prop = properties::create_text_property(&self.shared.client, name)?;
                self.out.log(
                    "INFO",
                    format!("created custom contact property `{name}` (single-line text)"),
                );
                Arc::make_mut(&mut props).insert(prop);
                *self
                    .rules
                    .properties
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = props.clone();
            }
        }
        if !record.mapped.dropped.iter().any(|n| props.get(n).is_some()) {
            return Ok(record);
        }
        match self
            .rules
            .decode(&props, chunk, record.line, record.range, &mut Vec::new())
        {
            Some(Item::Record(again)) => Ok(again),
            _ => unreachable!("a line decoded as a record decodes as one again"),
        }
    }
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
