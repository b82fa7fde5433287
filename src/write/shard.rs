//! Routing and the shard workers. Each record goes to worker
//! `hash(email) % W`, so one contact's writes are never in flight twice and
//! stay in input order. A worker owns one open batch and sends it when it is
//! full, when a state waits and its input has gone quiet, when it has waited
//! too long, and at the end. Channels are bounded: memory doesn't grow with
//! the input. The router hands records on in chunks: one wake-up of a
//! worker per chunk, not per record.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::batcher::{email_hash, Entry, OpenBatch, Origin, StageMerge, MAX_BATCH};
use super::checkpoint::Checkpoint;
use super::mapping::ContactWrite;
use super::rejects::Rejects;
use super::send::Sender;
use crate::config::LifecyclePolicy;
use crate::hubspot::batch::Written;
use crate::hubspot::{Client, HubSpotError};
use crate::protocol::Output;

/// Flush timing.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// A waiting state flushes a worker whose input was quiet this long.
    pub quiet: Duration,
    /// Any open batch is flushed after this much quiet.
    pub idle: Duration,
    /// A waiting state flushes a batch open this long, quiet or not.
    pub max_age: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            quiet: Duration::from_millis(300),
            idle: Duration::from_secs(5),
            max_age: Duration::from_secs(60),
        }
    }
}

/// Counters every worker adds to.
#[derive(Debug, Default)]
pub struct Counters {
    pub created: AtomicU64,
    pub updated: AtomicU64,
    pub records_written: AtomicU64,
}

/// What the workers share.
pub struct Shared {
    pub client: Client,
    pub stages: Vec<String>,
    pub policy: LifecyclePolicy,
    pub checkpoint: Checkpoint,
    pub rejects: Rejects,
    pub out: Arc<Output>,
    pub counters: Counters,
    pub timing: Timing,
    /// Partial batches of several workers, sent together.
    pool: Pool,
    failed: AtomicBool,
    failure: Mutex<Option<HubSpotError>>,
}

/// Where workers leave partial batches so that one request carries several
/// of them: a small sync, or a state flushed on quiet input, costs one call,
/// not one per worker. Emails of different workers never overlap, so
/// combining their batches keeps every contact's writes in order; each
/// worker waits until its entries are settled before it sends again.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    changed: Condvar,
}

#[derive(Default)]
struct PoolState {
    waiting: Vec<(u64, Vec<Entry>)>,
    /// Submissions settled (their ids), until their worker has seen it.
    done: Vec<u64>,
    leader: bool,
    next_id: u64,
    last_arrival: Option<Instant>,
}

/// How long a leader waits for other workers' partial batches: until none
/// arrived for `GATHER_QUIET`, at most `GATHER_MAX`.
const GATHER_QUIET: Duration = Duration::from_millis(40);
const GATHER_MAX: Duration = Duration::from_millis(250);

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: Client,
        stages: Vec<String>,
        policy: LifecyclePolicy,
        rejects: Rejects,
        out: Arc<Output>,
        timing: Timing,
    ) -> Shared {
        Shared {
            client,
            stages,
            policy,
            checkpoint: Checkpoint::new(),
            rejects,
            out,
            counters: Counters::default(),
            timing,
            pool: Pool::default(),
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
        }
    }

    /// Records the first fatal error and stops all state emission.
    pub fn fail(&self, e: HubSpotError) {
        self.checkpoint.stop();
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
        self.failed.store(true, Ordering::SeqCst);
    }

    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// The fatal error, if any.
    pub fn failure(&self) -> Option<HubSpotError> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Records per routing chunk: two batches' worth, so that a worker is woken
/// (a system call and a context switch on a busy machine) rarely.
const CHUNK: usize = 2 * MAX_BATCH;
/// Chunks queued per worker: with the chunk being filled and the one being
/// batched, at most 800 records wait per worker, besides its open batch.
const QUEUED_CHUNKS: usize = 2;

enum Msg {
    Records(Vec<(ContactWrite, Origin)>),
}

/// The router and its workers.
pub struct Shards {
    senders: Vec<SyncSender<Msg>>,
    handles: Vec<JoinHandle<()>>,
    /// The chunk being filled for each worker.
    pending: Vec<Vec<(ContactWrite, Origin)>>,
}

impl Shards {
    /// Starts `workers` threads.
    pub fn start(workers: usize, shared: Arc<Shared>) -> Shards {
        let merge = match shared.policy {
            LifecyclePolicy::NewContactsOnly => StageMerge::First,
            LifecyclePolicy::ForwardOnly => StageMerge::Furthest(shared.stages.clone()),
            LifecyclePolicy::Force => StageMerge::Last,
        };
        let mut senders = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for n in 0..workers.max(1) {
            let (tx, rx) = sync_channel(QUEUED_CHUNKS);
            let shared = shared.clone();
            let merge = merge.clone();
            let handle = thread::Builder::new()
                .name(format!("shard-{n}"))
                .spawn(move || run_worker(rx, &shared, merge))
                .expect("spawning a worker thread");
            senders.push(tx);
            handles.push(handle);
        }
        let pending = (0..senders.len())
            .map(|_| Vec::with_capacity(CHUNK))
            .collect();
        Shards {
            senders,
            handles,
            pending,
        }
    }

    /// Routes a record to its worker; a full chunk is handed on (blocking
    /// while that worker's queue is full).
    pub fn route(&mut self, write: ContactWrite, origin: Origin) {
        let shard = (email_hash(write.email().as_bytes()) % self.senders.len() as u64) as usize;
        self.pending[shard].push((write, origin));
        if self.pending[shard].len() >= CHUNK {
            self.hand_on(shard);
        }
    }

    /// Hands every partly filled chunk to its worker.
    pub fn flush(&mut self) {
        for shard in 0..self.pending.len() {
            if !self.pending[shard].is_empty() {
                self.hand_on(shard);
            }
        }
    }

    fn hand_on(&mut self, shard: usize) {
        let chunk = std::mem::replace(&mut self.pending[shard], Vec::with_capacity(CHUNK));
        // A send fails only if the worker ended, which it does only after a
        // fatal error; the records are then left unacknowledged, like all after them.
        let _ = self.senders[shard].send(Msg::Records(chunk));
    }

    /// Ends the input: workers flush what they hold and stop.
    pub fn finish(mut self) {
        self.flush();
        drop(self.senders);
        for h in self.handles {
            let _ = h.join();
        }
    }
}

fn run_worker(rx: Receiver<Msg>, shared: &Shared, merge: StageMerge) {
    let mut batch = OpenBatch::new(merge);
    let mut last_input = Instant::now();
    let tick = shared
        .timing
        .quiet
        .min(Duration::from_millis(100))
        .max(Duration::from_millis(1));
    loop {
        match rx.recv_timeout(tick) {
            Ok(Msg::Records(records)) => {
                last_input = Instant::now();
                for (write, origin) in records {
                    if shared.failed() {
                        break; // drain: nothing more is sent after a fatal error
                    }
                    batch.push(write, origin);
                    if batch.is_full() {
                        flush(&mut batch, shared);
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if batch.is_empty() || shared.failed() {
                    continue;
                }
                let quiet = last_input.elapsed();
                let waiting = shared.checkpoint.waiting();
                let age = batch.opened().map(|t| t.elapsed()).unwrap_or_default();
                if (waiting && (quiet >= shared.timing.quiet || age >= shared.timing.max_age))
                    || quiet >= shared.timing.idle
                {
                    flush_partial(&mut batch, shared);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                if !batch.is_empty() && !shared.failed() {
                    flush_partial(&mut batch, shared);
                }
                return;
            }
        }
    }
}

/// Sends a full open batch and settles every record in it.
fn flush(batch: &mut OpenBatch, shared: &Shared) {
    send_entries(batch.take(), shared);
}

/// Sends a partial batch together with other workers' partial batches,
/// and returns once this one's entries are settled.
fn flush_partial(batch: &mut OpenBatch, shared: &Shared) {
    let pool = &shared.pool;
    let mut s = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    let id = s.next_id;
    s.next_id += 1;
    s.waiting.push((id, batch.take()));
    s.last_arrival = Some(Instant::now());
    pool.changed.notify_all();
    loop {
        if let Some(i) = s.done.iter().position(|&d| d == id) {
            s.done.swap_remove(i);
            return;
        }
        if !s.leader {
            // Lead this round: gather, then send everything gathered.
            s.leader = true;
            let started = Instant::now();
            loop {
                let since = s.last_arrival.map_or(GATHER_QUIET, |t| t.elapsed());
                if since >= GATHER_QUIET || started.elapsed() >= GATHER_MAX {
                    break;
                }
                s = pool
                    .changed
                    .wait_timeout(s, GATHER_QUIET - since)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let round = std::mem::take(&mut s.waiting);
            drop(s);
            let ids: Vec<u64> = round.iter().map(|(id, _)| *id).collect();
            let mut chunk = Vec::with_capacity(MAX_BATCH);
            // After a fatal error nothing more is sent.
            let entries = round
                .into_iter()
                .flat_map(|(_, entries)| entries)
                .filter(|_| !shared.failed());
            for entry in entries {
                chunk.push(entry);
                if chunk.len() == MAX_BATCH {
                    send_entries(std::mem::take(&mut chunk), shared);
                }
            }
            if !chunk.is_empty() {
                send_entries(chunk, shared);
            }
            s = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            s.done.extend(ids);
            s.leader = false;
            pool.changed.notify_all();
            continue;
        }
        s = pool.changed.wait(s).unwrap_or_else(|e| e.into_inner());
    }
}

/// Sends entries (at most one batch) and settles every record in them.
fn send_entries(entries: Vec<Entry>, shared: &Shared) {
    let writes: Vec<&ContactWrite> = entries.iter().map(|e| &e.write).collect();
    let sender = Sender {
        client: &shared.client,
        policy: shared.policy,
        stages: &shared.stages,
    };
    let result = sender.send(&writes);
    match result {
        Ok(results) => {
            // Committed records are settled per state window, under one lock
            // per run of equal windows rather than one per record; the shared
            // counters are added to once per batch.
            let mut run: Option<(u64, u64)> = None;
            let (mut created_n, mut updated_n, mut written_n) = (0, 0, 0);
            for (entry, written) in entries.iter().zip(results) {
                match written {
                    Written::Ok { created, .. } => {
                        if created {
                            created_n += 1;
                        } else {
                            updated_n += 1;
                        }
                        written_n += entry.records() as u64;
                        for o in entry.origins() {
                            match run.as_mut() {
                                Some((w, n)) if *w == o.window => *n += 1,
                                _ => {
                                    if let Some((w, n)) = run.replace((o.window, 1)) {
                                        shared.checkpoint.settle_many(w, n, 0, &shared.out);
                                    }
                                }
                            }
                        }
                    }
                    Written::Rejected(reason) => {
                        for o in entry.origins() {
                            shared.rejects.record(
                                o.line,
                                Some(entry.write.email()),
                                o.data.as_ref(),
                                &reason,
                                &shared.out,
                            );
                            shared.checkpoint.settle(o.window, false, &shared.out);
                        }
                    }
                }
            }
            let c = &shared.counters;
            c.created.fetch_add(created_n, Ordering::Relaxed);
            c.updated.fetch_add(updated_n, Ordering::Relaxed);
            c.records_written.fetch_add(written_n, Ordering::Relaxed);
            if let Some((w, n)) = run {
                shared.checkpoint.settle_many(w, n, 0, &shared.out);
            }
        }
        Err(e) => shared.fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_hash_is_stable() {
        assert_eq!(email_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(email_hash(b"a@x.io"), email_hash(b"a@x.io"));
        assert_ne!(email_hash(b"a@x.io"), email_hash(b"b@x.io"));
    }
}
