//! The send stage: batches go to HubSpot on a few sender threads, so that
//! HubSpot's latency is spent in parallel up to the rate limit. It keeps
//! the two rules that make parallel sending safe: a batch is handed on only
//! when no batch in flight holds one of its keys (one record's writes are
//! applied in input order), and the batches in flight hold at most
//! [`IN_FLIGHT_BYTES`] of data. Association jobs share the senders (they
//! hold no keys: adding an association twice is harmless). Results come
//! back to the sync as events.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use super::batcher::Batch;
use super::links::{LinkJob, Linked};
use super::mapping::RecordWrite;
use super::Event;
use crate::hubspot::batch::Written;
use crate::hubspot::HubSpotError;

/// Bytes of record data all batches in flight hold at most (one batch
/// alone may be as large as a batch gets).
pub(crate) const IN_FLIGHT_BYTES: usize = 4 * 1024 * 1024;

/// Where batches go: HubSpot under the lifecycle policy, or a stand-in
/// (the benchmark measures the pipeline without a network).
pub trait Sink: Send + Sync {
    /// Writes one batch of `target`'s records; one result per write, in
    /// order. An `Err` is fatal for the sync.
    fn write(&self, target: usize, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError>;

    /// Makes one job's associations; one result per item, in order. A
    /// stand-in that writes nothing makes them all (the default).
    fn associate(&self, job: &LinkJob) -> Result<Vec<Linked>, HubSpotError> {
        let made = |i: &super::links::Item| Linked::Made(i.to_id.clone().unwrap_or_default());
        Ok(job.items.iter().map(made).collect())
    }
}

/// Work for a sender.
enum Job {
    Write(u64, Batch),
    Link(u64, LinkJob),
}

/// A batch that came back from HubSpot.
pub(crate) struct Sent {
    id: u64,
    pub batch: Batch,
    pub result: Result<Vec<Written>, HubSpotError>,
}

/// An association job that came back from HubSpot.
pub(crate) struct LinksSent {
    id: u64,
    pub job: LinkJob,
    pub result: Result<Vec<Linked>, HubSpotError>,
}

/// The sender threads and what they have in flight.
pub(crate) struct Dispatch {
    jobs: Option<Sender<Job>>,
    threads: usize,
    next_id: u64,
    /// Each batch in flight: its keys' hashes and its bytes.
    in_flight: HashMap<u64, (Vec<u64>, usize)>,
    /// Hashes of the (target, key) pairs in flight (two sharing a hash only
    /// make a batch wait longer, never go early).
    keys: HashSet<u64>,
    hasher: RandomState,
    bytes: usize,
}

impl Dispatch {
    /// Starts `threads` senders writing to `sink`; results go to `events`.
    pub(crate) fn start(threads: usize, sink: Arc<dyn Sink>, events: Sender<Event>) -> Dispatch {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let (queue, sink, events) = (queue.clone(), sink.clone(), events.clone());
            std::thread::Builder::new()
                .name(format!("send-{n}"))
                .spawn(move || send_loop(&queue, &*sink, &events))
                .expect("spawning a sender thread");
        }
        Dispatch {
            jobs: Some(jobs),
            threads: threads.max(1),
            next_id: 0,
            in_flight: HashMap::new(),
            keys: HashSet::new(),
            hasher: RandomState::new(),
            bytes: 0,
        }
    }

    /// Whether `batch` may go now: a sender is free, no batch in flight
    /// holds one of its keys, and its bytes fit.
    pub(crate) fn can_send(&self, batch: &Batch) -> bool {
        self.in_flight.is_empty()
            || (self.in_flight.len() < self.threads
                && self.bytes + batch.bytes <= IN_FLIGHT_BYTES
                && !batch
                    .entries
                    .iter()
                    .any(|e| self.keys.contains(&self.hash(batch.target, e.write.key()))))
    }

    /// Hands `batch` to a sender; check [`Dispatch::can_send`] first.
    pub(crate) fn send(&mut self, batch: Batch) {
        let keys: Vec<u64> = batch
            .entries
            .iter()
            .map(|e| self.hash(batch.target, e.write.key()))
            .collect();
        self.keys.extend(&keys);
        self.bytes += batch.bytes;
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight.insert(id, (keys, batch.bytes));
        self.queue(Job::Write(id, batch));
    }

    /// Whether a sender is free for an association job.
    pub(crate) fn can_send_links(&self) -> bool {
        self.in_flight.len() < self.threads
    }

    /// Hands an association job to a sender.
    pub(crate) fn send_links(&mut self, job: LinkJob) {
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight.insert(id, (Vec::new(), 0));
        self.queue(Job::Link(id, job));
    }

    /// An association job came back: its sender is free again.
    pub(crate) fn links_landed(&mut self, sent: &LinksSent) {
        self.in_flight.remove(&sent.id);
    }

    fn queue(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // The senders live as long as `jobs`: this cannot fail.
            let _ = jobs.send(job);
        }
    }

    /// A batch came back: its keys and bytes are free again.
    pub(crate) fn landed(&mut self, sent: &Sent) {
        if let Some((keys, bytes)) = self.in_flight.remove(&sent.id) {
            for k in &keys {
                self.keys.remove(k);
            }
            self.bytes -= bytes;
        }
    }

    fn hash(&self, target: usize, key: &str) -> u64 {
        self.hasher.hash_one((target, key))
    }

    /// Batches sent and not landed yet.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

impl Drop for Dispatch {
    fn drop(&mut self) {
        // Closing the queue ends every sender after its current batch.
        self.jobs.take();
    }
}

fn send_loop(queue: &Mutex<Receiver<Job>>, sink: &dyn Sink, events: &Sender<Event>) {
    loop {
        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let event = match job {
            Err(_) => return,
            Ok(Job::Write(id, batch)) => {
                let writes: Vec<&RecordWrite> = batch.entries.iter().map(|e| &e.write).collect();
                let result = sink.write(batch.target, &writes);
                Event::Sent(Sent { id, batch, result })
            }
            Ok(Job::Link(id, job)) => {
                let result = sink.associate(&job);
                Event::Linked(LinksSent { id, job, result })
            }
        };
        if events.send(event).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::batcher::{Entry, Origin};

    fn batch(emails: &[&str], bytes: usize) -> Batch {
        Batch {
            target: 0,
            entries: emails
                .iter()
                .map(|e| Entry {
                    write: RecordWrite::contact(e, [], None),
                    origins: vec![Origin {
                        window: 0,
                        line: 1,
                        data: None,
                    }],
                    parts: Vec::new(),
                })
                .collect(),
            bytes,
        }
    }

    /// Answers every write as created, and counts the calls.
    struct Created;
    impl Sink for Created {
        fn write(&self, _: usize, writes: &[&RecordWrite]) -> Result<Vec<Written>, HubSpotError> {
            Ok(writes
                .iter()
                .map(|_| Written::Ok {
                    id: None,
                    created: true,
                })
                .collect())
        }
    }

    fn landed(events: &Receiver<Event>) -> Sent {
        match events.recv().unwrap() {
            Event::Sent(s) => s,
            _ => panic!("only batches land in this test"),
        }
    }

    #[test]
    fn a_batch_waits_while_one_of_its_emails_is_in_flight() {
        let (tx, rx) = channel();
        let mut d = Dispatch::start(4, Arc::new(Created), tx);
        let first = batch(&["a@x.io", "b@x.io"], 10);
        assert!(d.can_send(&first));
        d.send(first);
        assert!(!d.can_send(&batch(&["c@x.io", "b@x.io"], 10)));
        assert!(d.can_send(&batch(&["c@x.io"], 10)));
        let mut other_object = batch(&["b@x.io"], 10);
        other_object.target = 1;
        assert!(d.can_send(&other_object), "one key of another target");
        let sent = landed(&rx);
        assert_eq!(sent.result.as_ref().unwrap().len(), 2);
        d.landed(&sent);
        assert!(d.can_send(&batch(&["c@x.io", "b@x.io"], 10)));
        assert_eq!(d.in_flight(), 0);
    }

    #[test]
    fn senders_and_bytes_in_flight_are_bounded() {
        let (tx, _rx) = channel();
        let mut d = Dispatch::start(2, Arc::new(Created), tx);
        d.send(batch(&["a@x.io"], IN_FLIGHT_BYTES - 5));
        assert!(!d.can_send(&batch(&["b@x.io"], 6)), "bytes");
        assert!(d.can_send(&batch(&["b@x.io"], 5)));
        d.send(batch(&["b@x.io"], 5));
        assert!(!d.can_send(&batch(&["c@x.io"], 0)), "both senders busy");
        // Nothing in flight: any batch goes, however large.
        let (tx, _rx) = channel();
        let empty = Dispatch::start(1, Arc::new(Created), tx);
        assert!(empty.can_send(&batch(&["a@x.io"], IN_FLIGHT_BYTES * 3)));
    }
}
