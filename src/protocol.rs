//! The Airbyte protocol as this destination speaks it: the message envelopes it
//! reads from stdin and the single writer that owns stdout.
//!
//! States stay raw JSON from input to output (platforms add fields of their own,
//! like an `id`, and expect them back); only `destinationStats` is added.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Map, Number, Value};

/// The Airbyte `failure_type` of a TRACE ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureType {
    /// The user must change something (token, scopes, config).
    Config,
    /// Retrying later may work (HubSpot down, quota exhausted).
    Transient,
    /// A bug or an unexpected answer.
    System,
}

impl FailureType {
    fn as_str(self) -> &'static str {
        match self {
            FailureType::Config => "config_error",
            FailureType::Transient => "transient_error",
            FailureType::System => "system_error",
        }
    }
}

/// One incoming line, decoded just enough to route it. Strings borrow from
/// the line where they can: a record costs no allocation beyond its
/// fields list until it is mapped.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub record: Option<Record<'a>>,
    pub state: Option<Map<String, Value>>,
}

/// The payload of a RECORD message.
#[derive(Debug, Deserialize)]
pub struct Record<'a> {
    #[serde(borrow)]
    pub stream: Cow<'a, str>,
    #[serde(default, borrow)]
    pub namespace: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub data: Fields<'a>,
}

/// A record's top-level fields in input order, each key once with the last
/// of its values (as `serde_json::Map` would keep). Scalars borrow from the
/// input line; only arrays and objects become `Value`s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields<'a>(Pairs<'a>);

/// A record's (key, value) pairs, as read.
pub type Pairs<'a> = Vec<(Cow<'a, str>, Field<'a>)>;

/// One field value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    /// An array or an object.
    Other(Value),
}

impl<'a> Fields<'a> {
    /// The field named `key`.
    pub fn get(&self, key: &str) -> Option<&Field<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// How many fields the record has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields in input order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Field<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The record as a JSON object (for the rejected-records file).
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
    }

    /// Fields from an object's (key, value) pairs in input order. A key
    /// given twice keeps its first place and takes its last value.
    pub fn from_pairs(mut fields: Pairs<'a>) -> Fields<'a> {
        // Records are mostly small and without duplicates: comparing each
        // key with those before it is cheaper than sorting or hashing them.
        const SMALL: usize = 32;
        let n = fields.len();
        if n <= SMALL && (1..n).all(|i| fields[..i].iter().all(|(k, _)| *k != fields[i].0)) {
            return Fields(fields);
        }
        // The place each key took first; `None` for that first place.
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(n);
        let earlier: Vec<Option<usize>> = fields
            .iter()
            .enumerate()
            .map(|(i, (k, _))| match first.entry(k.as_ref()) {
                Entry::Occupied(e) => Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(i);
                    None
                }
            })
            .collect();
        drop(first);
        for (i, to) in earlier.iter().enumerate() {
            if let Some(to) = *to {
                fields[to].1 = std::mem::replace(&mut fields[i].1, Field::Null);
            }
        }
        let mut kept = earlier.iter().map(Option::is_none);
        fields.retain(|_| kept.next().unwrap_or(true));
        Fields(fields)
    }

    /// The fields' vector, emptied: its allocation can hold the next
    /// record's fields.
    pub fn into_spare(self) -> Pairs<'a> {
        let mut pairs = self.0;
        pairs.clear();
        pairs
    }

    /// Fields of a JSON object value (tests and callers holding a `Map`).
    pub fn from_map(map: &Map<String, Value>) -> Fields<'static> {
        Fields(
            map.iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), Field::from_value(v.clone())))
                .collect(),
        )
    }
}

impl Field<'_> {
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Bool(b) => Value::Bool(*b),
            Field::Number(n) => Value::Number(n.clone()),
            Field::String(s) => Value::String(s.to_string()),
            Field::Other(v) => v.clone(),
        }
    }

    fn from_value(v: Value) -> Field<'static> {
        match v {
            Value::Null => Field::Null,
            Value::Bool(b) => Field::Bool(b),
            Value::Number(n) => Field::Number(n),
            Value::String(s) => Field::String(Cow::Owned(s)),
            other => Field::Other(other),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Object<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Fields<'a>, M::Error> {
                let mut fields = Vec::with_capacity(m.size_hint().unwrap_or(8));
                while let Some((Key(k), v)) = m.next_entry::<Key<'a>, Field<'a>>()? {
                    fields.push((k, v));
                }
                Ok(Fields::from_pairs(fields))
            }
        }
        d.deserialize_map(Object(std::marker::PhantomData))
    }
}

/// A field name, borrowed unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Str<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Str<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(Str(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Any<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Any<'a> {
            type Value = Field<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Field<'a>, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> Result<Field<'a>, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Field<'a>, E> {
                Ok(Field::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Field<'a>, E> {
                Ok(Field::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Field<'a>, E> {
                Ok(Field::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Field<'a>, E> {
                Ok(Number::from_f64(n).map_or(Field::Null, Field::Number))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Field<'a>, E> {
                Ok(Field::String(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Field<'a>, E> {
                Ok(Field::String(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Field<'a>, E> {
                Ok(Field::String(Cow::Owned(s)))
            }
            fn visit_seq<S: SeqAccess<'de>>(self, s: S) -> Result<Field<'a>, S::Error> {
                Value::deserialize(SeqAccessDeserializer::new(s)).map(Field::Other)
            }
            fn visit_map<M: MapAccess<'de>>(self, m: M) -> Result<Field<'a>, M::Error> {
                Value::deserialize(MapAccessDeserializer::new(m)).map(Field::Other)
            }
        }
        d.deserialize_any(Any(std::marker::PhantomData))
    }
}

/// Milliseconds since the epoch, for `emitted_at` fields.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
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

    #[test]
    fn record_fields_borrow_scalars_and_keep_the_last_duplicate() {
        let line = r#"{"type":"RECORD","record":{"stream":"c","data":{"b":"x\ny","a":1.5,"email":"a@b.co","a":2,"n":null,"o":{"k":[1]}}}}"#;
        let e: Envelope = serde_json::from_str(line).unwrap();
        let data = e.record.unwrap().data;
        assert!(matches!(
            data.get("email"),
            Some(Field::String(Cow::Borrowed("a@b.co")))
        ));
        assert_eq!(data.get("b").and_then(Field::as_str), Some("x\ny"));
        assert_eq!(data.get("a"), Some(&Field::Number(2.into())));
        assert!(data.get("n").unwrap().is_null());
        assert_eq!(
            data.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["b", "a", "email", "n", "o"]
        );
        assert_eq!(
            serde_json::Value::Object(data.to_map()),
            json!({"a": 2, "b": "x\ny", "email": "a@b.co", "n": null, "o": {"k": [1]}})
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value_in_records_of_any_size() {
        for n in [3, 31, 32, 33, 200] {
            let mut pairs: Vec<(Cow<str>, Field)> = (0..n)
                .map(|i| (Cow::Owned(format!("k{i}")), Field::Number(i.into())))
                .collect();
            pairs.push(("k1".into(), Field::Bool(true)));
            pairs.push(("k0".into(), Field::Null));
            pairs.push(("k1".into(), Field::String("last".into())));
            let fields = Fields::from_pairs(pairs);
            assert_eq!(fields.len(), n, "{n}");
            let keys: Vec<String> = fields.iter().map(|(k, _)| k.to_string()).collect();
            let want: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
            assert_eq!(keys, want);
            assert_eq!(fields.get("k1").and_then(Field::as_str), Some("last"));
            assert!(fields.get("k0").is_some_and(Field::is_null));
            assert_eq!(fields.get("k2"), Some(&Field::Number(2.into())));
            assert_eq!(fields.get("k"), None);
        }
    }

    #[test]
    fn unknown_message_fields_are_accepted() {
        let e: Envelope = serde_json::from_str(
            r#"{"type":"RECORD","extra":1,"record":{"stream":"contacts","data":{"email":"a@b.co"},"emitted_at":1,"meta":{}}}"#,
        )
        .unwrap();
        assert_eq!(e.record.unwrap().stream, "contacts");
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
