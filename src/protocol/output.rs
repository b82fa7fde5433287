//! The one owner of stdout: protocol messages written one JSON object per
//! line by a writer thread, so a caller that is slow to read never blocks
//! the sync.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use serde_json::{json, Map, Value};

use super::{now_ms, FailureType};

/// The one owner of stdout: one JSON object per line, flushed after each
/// message so states reach the platform as soon as they are earned.
///
/// On stdout, lines are spooled to a writer thread, so the sync never stalls
/// on a reader that is slow to read: some orchestrators (PyAirbyte) write all
/// of the input before they read any output, and a destination blocked on a
/// full stdout pipe would deadlock with them. The spool stays bounded: once
/// [`BACKLOG`] lines wait unread, a new STATE replaces the waiting one of the
/// same stream (its counts added in), which the protocol allows — a later
/// state of a stream supersedes an earlier one. LOG and TRACE lines are
/// never dropped. A reader that keeps up sees every state.
///
/// A closed stdout (the platform went away) is remembered and later writes are
/// dropped, so a broken pipe ends the run cleanly instead of panicking.
pub struct Output {
    spool: Arc<Spool>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// Waiting lines beyond which STATE messages are coalesced per stream.
pub const BACKLOG: usize = 256;

struct Spool {
    queue: Mutex<Queue>,
    /// Signals new lines to the writer thread, and an empty queue to `finish`.
    changed: Condvar,
    /// Set for the unspooled (direct) mode: emit writes in the caller.
    direct: Option<Mutex<Sink>>,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Pending>,
    /// The writer holds a line it is writing.
    busy: bool,
    closing: bool,
    broken: bool,
}

enum Pending {
    Line(Vec<u8>),
    State {
        key: String,
        state: Map<String, Value>,
        committed: u64,
        rejected: u64,
    },
}

struct Sink {
    out: Box<dyn Write + Send>,
    broken: bool,
}

impl Output {
    /// An output writing to the process's stdout through a writer thread.
    pub fn stdout() -> Output {
        Output::spooled(Box::new(io::stdout()))
    }

    /// An output writing to `out` directly in the caller (tests use a buffer).
    pub fn new(out: Box<dyn Write + Send>) -> Output {
        Output {
            spool: Arc::new(Spool {
                queue: Mutex::new(Queue::default()),
                changed: Condvar::new(),
                direct: Some(Mutex::new(Sink { out, broken: false })),
            }),
            writer: Mutex::new(None),
        }
    }

    /// An output writing to `out` from its own thread; call
    /// [`Output::finish`] before the process exits.
    pub fn spooled(mut out: Box<dyn Write + Send>) -> Output {
        let spool = Arc::new(Spool {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
            direct: None,
        });
        let shared = spool.clone();
        let writer = std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || {
                let mut q = shared.lock();
                loop {
                    let Some(next) = q.pending.pop_front() else {
                        if q.closing {
                            return;
                        }
                        q = shared.changed.wait(q).unwrap_or_else(|e| e.into_inner());
                        continue;
                    };
                    if q.broken {
                        continue;
                    }
                    q.busy = true;
                    drop(q);
                    let ok = out
                        .write_all(&next.render())
                        .and_then(|_| out.flush())
                        .is_ok();
                    q = shared.lock();
                    q.busy = false;
                    q.broken |= !ok;
                    shared.changed.notify_all();
                }
            })
            .expect("spawning the stdout writer");
        Output {
            spool,
            writer: Mutex::new(Some(writer)),
        }
    }

    fn push(&self, item: Pending) {
        if let Some(direct) = &self.spool.direct {
            let mut sink = direct.lock().unwrap_or_else(|e| e.into_inner());
            if !sink.broken {
                let line = item.render();
                sink.broken = sink
                    .out
                    .write_all(&line)
                    .and_then(|_| sink.out.flush())
                    .is_err();
            }
            return;
        }
        let mut q = self.spool.lock();
        if q.broken {
            return;
        }
        let mut item = item;
        if let Pending::State {
            key,
            committed,
            rejected,
            ..
        } = &mut item
        {
            if q.pending.len() >= BACKLOG {
                let earlier = q
                    .pending
                    .iter()
                    .rposition(|p| matches!(p, Pending::State { key: k, .. } if k == key));
                if let Some(Pending::State {
                    committed: c,
                    rejected: r,
                    ..
                }) = earlier.and_then(|i| q.pending.remove(i))
                {
                    *committed += c;
                    *rejected += r;
                }
            }
        }
        q.pending.push_back(item);
        self.spool.changed.notify_all();
    }

    /// Writes every spooled line and stops the writer thread (messages
    /// emitted after this are not written).
    pub fn finish(&self) {
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(handle) = handle else { return };
        self.spool.lock().closing = true;
        self.spool.changed.notify_all();
        let _ = handle.join();
    }

    /// Writes one message as a single line.
    pub fn emit(&self, message: &Value) {
        let mut line = serde_json::to_vec(message).unwrap_or_default();
        line.push(b'\n');
        self.push(Pending::Line(line));
    }

    /// Whether stdout has been closed by the reader.
    pub fn is_broken(&self) -> bool {
        match &self.spool.direct {
            Some(direct) => direct.lock().unwrap_or_else(|e| e.into_inner()).broken,
            None => self.spool.lock().broken,
        }
    }

    /// A LOG message.
    pub fn log(&self, level: &str, message: impl Into<String>) {
        self.emit(&json!({"type": "LOG", "log": {"level": level, "message": message.into()}}));
    }

    /// A STATE message: the state as received, plus `destinationStats`
    /// (`committed` and `rejected` records of its window).
    pub fn state(&self, state: Map<String, Value>, committed: u64, rejected: u64) {
        let key = state_key(&state);
        self.push(Pending::State {
            key,
            state,
            committed,
            rejected,
        });
    }

    /// A TRACE ERROR message; the caller then exits non-zero.
    pub fn trace_error(&self, failure: FailureType, message: &str, internal: &str) {
        self.emit(&json!({
            "type": "TRACE",
            "trace": {
                "type": "ERROR",
                "emitted_at": now_ms() as f64,
                "error": {
                    "message": message,
                    "internal_message": internal,
                    "failure_type": failure.as_str(),
                }
            }
        }));
    }
}

impl Spool {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Pending {
    /// The line to write, newline included.
    fn render(self) -> Vec<u8> {
        match self {
            Pending::Line(line) => line,
            Pending::State {
                mut state,
                committed,
                rejected,
                ..
            } => {
                // Doubles with a decimal point, as the protocol models ask.
                let stats = json!({"recordCount": committed as f64, "rejectedRecordCount": rejected as f64});
                state.insert("destinationStats".into(), stats);
                let mut line = serde_json::to_vec(&json!({"type": "STATE", "state": state}))
                    .unwrap_or_default();
                line.push(b'\n');
                line
            }
        }
    }
}

/// Which states supersede each other: one stream's (by namespace and name),
/// or the global / legacy state.
fn state_key(state: &Map<String, Value>) -> String {
    let kind = state
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("LEGACY");
    match kind {
        "STREAM" => {
            let d = state.get("stream").and_then(|s| s.get("stream_descriptor"));
            let field = |k: &str| {
                d.and_then(|d| d.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            format!("STREAM\u{0}{}\u{0}{}", field("namespace"), field("name"))
        }
        other => other.to_string(),
    }
}

/// For unit tests elsewhere: an output written straight into a buffer
/// the test reads.
#[cfg(test)]
pub(crate) fn captured() -> (Output, Arc<Mutex<Vec<u8>>>) {
    let buf = tests::Buf::default();
    (Output::new(Box::new(buf.clone())), buf.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    pub(super) struct Buf(pub(super) Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn state_keeps_unknown_fields_and_adds_stats() {
        let buf = Buf::default();
        let out = Output::new(Box::new(buf.clone()));
        let state: Map<String, Value> =
            serde_json::from_str(r#"{"type":"STREAM","id":42,"sourceStats":{"recordCount":3.0}}"#)
                .unwrap();
        out.state(state, 2, 1);
        let line = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let v: Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(v["state"]["id"], 42);
        assert_eq!(v["state"]["sourceStats"]["recordCount"], 3.0);
        assert_eq!(v["state"]["destinationStats"]["recordCount"], 2.0);
        assert_eq!(v["state"]["destinationStats"]["rejectedRecordCount"], 1.0);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
    }

    /// A writer that blocks until the test opens its gate, like a pipe
    /// nobody reads.
    struct Gated {
        gate: Arc<(Mutex<bool>, Condvar)>,
        buf: Buf,
    }
    impl Write for Gated {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let (lock, cvar) = &*self.gate;
            let mut open = lock.lock().unwrap();
            while !*open {
                open = cvar.wait(open).unwrap();
            }
            self.buf.write(b)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn stream_state(name: &str, n: u64) -> Map<String, Value> {
        serde_json::from_value(json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": {"n": n}}})).unwrap()
    }

    #[test]
    fn a_reader_that_does_not_read_never_blocks_the_sync_and_states_coalesce_per_stream() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let buf = Buf::default();
        let out = Output::spooled(Box::new(Gated {
            gate: gate.clone(),
            buf: buf.clone(),
        }));
        // Far more than a pipe holds, emitted while nothing is read: no call blocks.
        for n in 0..5000 {
            out.state(
                stream_state(if n % 2 == 0 { "a" } else { "b" }, n),
                1,
                n % 3 / 2,
            );
            if n % 1000 == 0 {
                out.log("INFO", format!("log {n}"));
            }
        }
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        out.finish();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let logs = lines.iter().filter(|l| l["type"] == "LOG").count();
        assert_eq!(logs, 5, "LOG lines are never dropped");
        let states: Vec<&Value> = lines.iter().filter(|l| l["type"] == "STATE").collect();
        assert!(states.len() < 2 * BACKLOG, "{} states kept", states.len());
        for name in ["a", "b"] {
            let mine: Vec<&&Value> = states
                .iter()
                .filter(|s| s["state"]["stream"]["stream_descriptor"]["name"] == name)
                .collect();
            let ns: Vec<u64> = mine
                .iter()
                .map(|s| s["state"]["stream"]["stream_state"]["n"].as_u64().unwrap())
                .collect();
            assert!(ns.windows(2).all(|w| w[0] < w[1]), "in order per stream");
            assert_eq!(
                *ns.last().unwrap(),
                if name == "a" { 4998 } else { 4999 },
                "the latest state is kept"
            );
            let committed: f64 = mine
                .iter()
                .map(|s| {
                    s["state"]["destinationStats"]["recordCount"]
                        .as_f64()
                        .unwrap()
                })
                .sum();
            assert_eq!(committed, 2500.0, "counts of replaced states are carried");
        }
    }

    #[test]
    fn a_reader_that_keeps_up_sees_every_state() {
        let buf = Buf::default();
        let out = Output::spooled(Box::new(buf.clone()));
        for n in 0..100 {
            out.state(stream_state("a", n), 1, 0);
        }
        out.finish();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 100);
    }
}
