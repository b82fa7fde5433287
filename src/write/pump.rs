//! The sync's one loop, on the main thread: each input line is parsed and
//! mapped in input order, batched, and handed to the send stage; each batch
//! or association job that comes back is settled ([`settle`](super::settle):
//! counted, rejections reported, earned states echoed). It owns every piece
//! of sync state, so nothing here is shared between threads: the stdin and
//! sender threads only pass events.

use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::batcher::{OpenBatch, Origin, StageMerge};
use super::checkpoint::Checkpoint;
use super::dispatch::Dispatch;
use super::flush::FlushRule;
use super::links::Links;
use super::mapping::{self, Mapped, Mapper, Outcome, RecordWrite};
use super::notices::Notices;
use super::parse::{parse, Line};
use super::progress::{Counts, Progress};
use super::rejects::Rejects;
use super::stdin::{Budget, Input, Line as StdinLine};
use super::targets::Targets;
use super::Event;
use crate::catalog::Catalog;
use crate::config::{Config, LifecyclePolicy, UnknownProperties};
use crate::hubspot::errors::{truncate, RejectReason};
use crate::hubspot::properties;
use crate::hubspot::{Client, HubSpotError};
use crate::protocol::{FailureType, Fields, Output};

/// What the pump is handed at the start: the sync's settings, what
/// HubSpot has, and its ends of the stage threads.
pub(crate) struct Wiring<'a> {
    pub config: &'a Config,
    pub catalog: &'a Catalog,
    pub out: &'a Output,
    pub client: Arc<Client>,
    pub targets: Targets,
    pub rejects: Rejects,
    pub events: Receiver<Event>,
    pub budget: Arc<Budget>,
    pub dispatch: Dispatch,
    /// The progress line: `Some(true)` on a terminal.
    pub progress: Option<bool>,
    pub dry_run: bool,
}

/// The sync's state, owned by its loop.
pub(crate) struct Pump<'a> {
    pub config: &'a Config,
    pub catalog: &'a Catalog,
    pub out: &'a Output,
    pub client: Arc<Client>,
    /// Where each stream's records go (properties created mid-sync join
    /// their target's definitions).
    pub targets: Targets,
    pub events: Receiver<Event>,
    pub budget: Arc<Budget>,
    pub dispatch: Dispatch,
    pub rejects: Rejects,
    pub rule: FlushRule,
    pub progress: Option<Progress>,
    /// Input that arrived while the loop waited for a batch to land.
    pub backlog: VecDeque<Input>,
    /// One open batch per target.
    pub batches: Vec<OpenBatch>,
    /// Written records waiting for their associations.
    pub links: Links,
    pub checkpoint: Checkpoint,
    pub counts: Counts,
    pub created: u64,
    pub updated: u64,
    /// States emitted.
    pub states: u64,
    pub last_input: Instant,
    /// Fields already warned about (dropped, left out, dates cut).
    pub notices: Notices,
    /// Records deleted in the source: skipped, or archived.
    pub deletions: super::Deletions,
    /// Properties `unknown_properties = create` already tried to create,
    /// per target.
    pub create_tried: HashSet<(usize, String)>,
    /// A HubSpot failure: nothing more is sent and no state emitted.
    pub failure: Option<HubSpotError>,
    /// The signal that cancelled the sync: nothing more is read or sent.
    pub cancelled: Option<&'static str>,
    /// A dry run: states are earned but never emitted.
    pub dry_run: bool,
}

/// How long a cancelled sync waits for the batches in flight.
const CANCEL_GRACE: Duration = Duration::from_secs(10);

impl<'a> Pump<'a> {
    pub(crate) fn new(w: Wiring<'a>) -> Pump<'a> {
        let batches = w
            .targets
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let stages = t.properties.lifecycle_stages();
                let merge = match w.config.lifecycle_policy {
                    LifecyclePolicy::NewContactsOnly => StageMerge::First,
                    LifecyclePolicy::ForwardOnly => StageMerge::Furthest(stages.to_vec()),
                    LifecyclePolicy::Force => StageMerge::Last,
                };
                OpenBatch::new(i, merge)
            })
            .collect();
        let now = Instant::now();
        let links = Links::new(&w.targets);
        Pump {
            config: w.config,
            catalog: w.catalog,
            out: w.out,
            client: w.client,
            targets: w.targets,
            events: w.events,
            budget: w.budget,
            dispatch: w.dispatch,
            rejects: w.rejects,
            rule: FlushRule::default(),
            progress: w.progress.map(|terminal| Progress::new(terminal, now)),
            backlog: VecDeque::new(),
            batches,
            links,
            checkpoint: Checkpoint::new(),
            counts: Counts::default(),
            created: 0,
            updated: 0,
            states: 0,
            last_input: now,
            notices: Notices::default(),
            deletions: super::Deletions::default(),
            create_tried: HashSet::new(),
            failure: None,
            cancelled: None,
            dry_run: w.dry_run,
        }
    }

    /// Reads and processes input until it ends or the sync must stop.
    /// `Err` is a fatal input problem (what was read before it still lands).
    pub(crate) fn pump(&mut self) -> Result<(), HubSpotError> {
        while self.failure.is_none() && self.cancelled.is_none() {
            let Some(input) = self.next_input() else {
                self.send_open(); // the flush rule says it is due
                continue;
            };
            match input {
                Input::Lines(lines, size) => {
                    let result = self.lines(lines);
                    // Quiet input is measured from when the loop was ready
                    // for more: time spent waiting for a free sender is not.
                    self.last_input = Instant::now();
                    self.budget.give(size);
                    self.tick();
                    result?;
                }
                Input::End => return Ok(()),
                Input::Failed(e) => return Err(HubSpotError::new(FailureType::System, e)),
            }
        }
        Ok(())
    }

    /// The next input, settling batches that land meanwhile; `None` when
    /// the open batch is due before any input came, or HubSpot failed.
    fn next_input(&mut self) -> Option<Input> {
        loop {
            if let Some(input) = self.backlog.pop_front() {
                return Some(input);
            }
            let now = Instant::now();
            let batches = self.batches.iter().filter_map(OpenBatch::opened);
            let opened = batches.chain(self.links.opened()).min();
            let due = self
                .rule
                .due_in(opened, self.last_input, self.checkpoint.waiting(), now);
            if due == Some(Duration::ZERO) {
                return None;
            }
            let tick = self.progress.as_ref().map(|p| p.due_in(now));
            let wait = due.into_iter().chain(tick).min();
            let event = match wait {
                Some(wait) => match self.events.recv_timeout(wait) {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout) => {
                        self.tick();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => return Some(Input::End),
                },
                None => match self.events.recv() {
                    Ok(event) => event,
                    Err(_) => return Some(Input::End),
                },
            };
            match event {
                Event::Input(input) => return Some(input),
                Event::Sent(sent) => self.settle(sent),
                Event::Linked(sent) => self.settle_links(sent),
                Event::Cancel(signal) => self.cancel(signal),
            }
            if self.failure.is_some() || self.cancelled.is_some() {
                return None;
            }
        }
    }

    /// Waits for one batch or job to land, keeping any input that comes
    /// first; returns early on a cancel.
    pub(super) fn wait_landing(&mut self) {
        while let Ok(event) = self.events.recv() {
            match event {
                Event::Input(input) => self.backlog.push_back(input),
                Event::Sent(sent) => return self.settle(sent),
                Event::Linked(sent) => return self.settle_links(sent),
                Event::Cancel(signal) => return self.cancel(signal),
            }
        }
    }

    fn cancel(&mut self, signal: &'static str) {
        self.cancelled.get_or_insert(signal);
        self.out.log(
            "WARN",
            format!("{signal} received: reading stops; batches in flight may land for up to {} s, then the sync ends", CANCEL_GRACE.as_secs()),
        );
    }

    /// Processes lines in order, until one is fatal or the sync must stop.
    fn lines(&mut self, lines: Vec<StdinLine>) -> Result<(), HubSpotError> {
        for line in lines {
            if self.stopping() {
                break;
            }
            self.line(line.number, line.bytes)?;
        }
        Ok(())
    }

    fn line(&mut self, number: u64, bytes: Option<Vec<u8>>) -> Result<(), HubSpotError> {
        let Some(bytes) = bytes else {
            let problem = format!("line longer than {} bytes", super::stdin::MAX_LINE);
            return self.bad_line(number, &problem, " (strict_input is on)");
        };
        let result = match parse(&bytes) {
            Line::Record {
                stream,
                namespace,
                data,
            } => self.record(number, &stream, namespace.as_deref(), &data, bytes.len()),
            Line::State(state) => {
                self.checkpoint.state(state);
                self.emit_earned();
                Ok(())
            }
            Line::Ignored => Ok(()),
            Line::Bad(problem) => self.bad_line(number, &problem, " (strict_input is on)"),
        };
        result
    }

    fn record(
        &mut self,
        line: u64,
        stream: &str,
        namespace: Option<&str>,
        data: &Fields,
        size: usize,
    ) -> Result<(), HubSpotError> {
        self.counts.read += 1;
        let catalog = self.catalog;
        let Some(s) = catalog.stream(stream, namespace) else {
            let name = match namespace {
                Some(ns) => format!("{}.{}", truncate(ns, 80), truncate(stream, 80)),
                None => truncate(stream, 80),
            };
            let problem =
                format!("RECORD for stream `{name}`, which is not in the configured catalog");
            return self.bad_line(line, &problem, "");
        };
        let stream = s.index;
        let mapped = self.map(data, stream)?;
        let t = self.targets.route(stream).target;
        let object = &self.targets.targets[t].object.name;
        self.notices.report(t, object, mapped.notes, self.out);
        let window = self.checkpoint.record();
        let kept = self.rejects.wants_data().then(|| data.to_map());
        match mapped.outcome {
            Outcome::Write(write) => {
                let bytes = write_size(&write) + kept.as_ref().map_or(0, |_| size);
                if !self.batches[t].fits(bytes) || self.batches[t].clashes(&write) {
                    self.send_batch(t);
                }
                let origin = Origin {
                    window,
                    line,
                    data: kept,
                };
                self.batches[t].push(write, origin, bytes);
                if self.batches[t].is_full() {
                    self.send_batch(t);
                }
            }
            Outcome::DeleteSkipped => {
                self.deletions.skipped += 1;
                self.checkpoint.settle(window, 1, 0);
                self.emit_earned();
            }
            Outcome::Rejected(reason) => {
                let email = match reason {
                    RejectReason::NoEmail(_) | RejectReason::NoMatchingKey(_) => None,
                    _ => mapping::string_at(data, &self.targets.route(stream).key_field),
                };
                let out = self.out;
                self.rejects
                    .record(line, email, kept.as_ref(), &reason, out);
                self.checkpoint.settle(window, 0, 1);
                self.counts.rejected += 1;
                self.emit_earned();
            }
        }
        Ok(())
    }

    /// Maps a record; under `unknown_properties = create`, first creates
    /// the properties it names that its object lacks. From then on every
    /// record is mapped with them.
    fn map(&mut self, data: &Fields, stream: usize) -> Result<Mapped, HubSpotError> {
        let config = self.config;
        let map = |targets: &Targets| Mapper::new(config, targets, targets.route(stream)).map(data);
        let mapped = map(&self.targets);
        if self.config.unknown_properties != UnknownProperties::Create {
            return Ok(mapped);
        }
        let mut created = false;
        let t = self.targets.route(stream).target;
        for name in mapped.unknown() {
            if self.create_tried.insert((t, name.to_string())) && valid_property_name(name) {
                let object = &self.targets.targets[t].object;
                let prop = properties::create_text_property(
                    &self.client,
                    &object.path,
                    &object.group,
                    name,
                )?;
                self.out.log(
                    "INFO",
                    format!(
                        "created custom {} property `{name}` (single-line text)",
                        object.name
                    ),
                );
                self.targets.targets[t].properties.insert(prop);
                created = true;
            }
        }
        Ok(if created { map(&self.targets) } else { mapped })
    }

    /// A line that is not a usable record: reported, or fatal under `strict_input`.
    fn bad_line(
        &mut self,
        line: u64,
        problem: &str,
        strict_note: &str,
    ) -> Result<(), HubSpotError> {
        if self.config.strict_input {
            return Err(HubSpotError::new(
                FailureType::Config,
                format!("input line {line}: {problem}{strict_note}"),
            ));
        }
        let out = self.out;
        self.rejects.bad_line(line, problem, out);
        Ok(())
    }

    /// Hands every open batch, and the open associations, to the send stage.
    fn send_open(&mut self) {
        for t in 0..self.batches.len() {
            self.send_batch(t);
        }
        self.send_links();
    }

    /// Hands target `t`'s open batch to the send stage, once it may go.
    fn send_batch(&mut self, t: usize) {
        if self.batches[t].is_empty() || self.stopping() {
            return;
        }
        let batch = self.batches[t].take();
        while !self.dispatch.can_send(&batch) {
            self.wait_landing();
            if self.stopping() {
                return; // its records stay unsettled: no state after them
            }
        }
        self.dispatch.send(batch);
    }

    fn tick(&mut self) {
        if let Some(p) = self.progress.as_mut() {
            p.tick(Instant::now(), self.counts, &self.client.governor.usage());
        }
    }

    /// Nothing more is sent: HubSpot failed or the sync was cancelled.
    pub(super) fn stopping(&self) -> bool {
        self.failure.is_some() || self.cancelled.is_some()
    }

    /// Sends what is left and waits for every batch to land, then for the
    /// associations they ask for, then tries the associations whose
    /// targets were missing once more. After a HubSpot failure nothing more
    /// goes out; after a cancel only what is in flight may land, for up to
    /// [`CANCEL_GRACE`].
    pub(crate) fn drain(&mut self) {
        self.budget.close();
        let grace = Instant::now() + CANCEL_GRACE;
        // The writes first: the associations of the last ones join the
        // open association batch (full ones go as they fill).
        for t in 0..self.batches.len() {
            self.send_batch(t);
        }
        self.wait_all(grace);
        // What is left of the associations; landed writes may open more.
        while self.links.opened().is_some() && !self.stopping() {
            self.send_links();
            self.wait_all(grace);
        }
        if !self.stopping() {
            self.send_deferred();
            self.wait_all(grace);
        }
        if let Err(e) = self.rejects.flush() {
            self.failure
                .get_or_insert(HubSpotError::new(FailureType::System, e));
        }
        if let Some(p) = self.progress.as_mut() {
            p.finish(Instant::now(), self.counts, &self.client.governor.usage());
        }
    }

    /// Waits until nothing is in flight (a cancelled sync: until `grace`).
    fn wait_all(&mut self, grace: Instant) {
        while self.failure.is_none() && self.dispatch.in_flight() > 0 {
            if self.cancelled.is_none() {
                self.wait_landing();
                continue;
            }
            let left = grace.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Sent(sent)) => self.settle(sent),
                Ok(Event::Linked(sent)) => self.settle_links(sent),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
}

/// Bytes a write holds, roughly: its text plus a little per property and
/// association.
pub(super) fn write_size(w: &RecordWrite) -> usize {
    let text: usize = w
        .properties
        .iter()
        .map(|(k, v)| k.len() + v.len() + 16)
        .sum();
    let links: usize = w.links.iter().map(|(_, v)| v.len() + 16).sum();
    text + links + w.key.len() + w.stage.as_ref().map_or(0, String::len) + 64
}

/// HubSpot property names: lower-case letters, digits, underscores, starting with a letter.
fn valid_property_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_hubspot_accepts() {
        assert!(valid_property_name("favourite_colour2"));
        for bad in ["", "2x", "Colour", "a-b", "é"] {
            assert!(!valid_property_name(bad), "{bad}");
        }
        assert!(!valid_property_name(&"a".repeat(101)));
    }
}
