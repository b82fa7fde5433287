//! The decode stage: stdin is cut into chunks of whole lines (one reader
//! thread), and each chunk is parsed and mapped to contact writes on one of
//! several decoder threads. Chunks go to the decoders in turn and their
//! results are taken back in the same turn, so the sync sees every line in
//! input order. Queues are bounded: memory doesn't grow with the input.

use std::io::BufRead;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::Duration;

use serde_json::{Map, Value};

use super::mapping::{self, Mapped, Mapper};
use super::reader::{Chunk, Line, Reader};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::hubspot::errors::{truncate, RejectReason};
use crate::hubspot::properties::Properties;
use crate::protocol::Pairs;

/// Chunks queued per decoder, each way.
const QUEUED: usize = 2;

/// One input line, decoded and (for a record) mapped.
#[derive(Debug)]
pub enum Item {
    Record(Record),
    /// A record of a stream the catalog doesn't have; the text names it.
    UnknownStream {
        line: u64,
        problem: String,
    },
    State {
        line: u64,
        state: Map<String, Value>,
    },
    Bad {
        line: u64,
        problem: String,
    },
}

/// A record, mapped.
#[derive(Debug)]
pub struct Record {
    pub line: u64,
    /// Where the line is in its chunk (to map it again).
    pub range: Range<usize>,
    pub mapped: Mapped,
    /// The email, only when the record is rejected (shown masked in the log).
    pub email: Option<String>,
    /// The record's data, only when the rejected-records file keeps it.
    pub data: Option<Map<String, Value>>,
}

/// A chunk's items, in line order, with the chunk they came from.
pub struct Decoded {
    pub chunk: Chunk,
    pub items: Vec<Item>,
}

/// What decoding needs to know, shared by the decoder threads.
pub struct Rules {
    pub config: Config,
    pub catalog: Catalog,
    /// The property definitions; replaced when the sync creates one.
    pub properties: RwLock<Arc<Properties>>,
    /// Keep each record's data (for the rejected-records file).
    pub keep_data: bool,
}

impl Rules {
    /// The property definitions as they are now.
    pub fn properties(&self) -> Arc<Properties> {
        self.properties
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Decodes line `line` of `chunk` (at `range`) under `props`; `None`
    /// for a line a destination ignores. A record's fields are read into
    /// `spare`'s allocation, which is handed back for the next line.
    pub fn decode<'c>(
        &self,
        props: &Properties,
        chunk: &'c Chunk,
        line: u64,
        range: Range<usize>,
        spare: &mut Pairs<'c>,
    ) -> Option<Item> {
        let (stream, namespace, data) = match chunk.decode(range.clone(), spare) {
            Line::Record {
                stream,
                namespace,
                data,
            } => (stream, namespace, data),
            Line::State(state) => return Some(Item::State { line, state }),
            Line::Ignored => return None,
            Line::Bad(problem) => return Some(Item::Bad { line, problem }),
        };
        let Some(s) = self.catalog.stream(&stream, namespace.as_deref()) else {
            let name = match &namespace {
                Some(ns) => format!("{}.{}", truncate(ns, 80), truncate(&stream, 80)),
                None => truncate(&stream, 80),
            };
            let problem =
                format!("RECORD for stream `{name}`, which is not in the configured catalog");
            return Some(Item::UnknownStream { line, problem });
        };
        let mapped = Mapper::new(&self.config, props, &s.email_field).map(&data);
        let email = match &mapped.result {
            Err(reason) if *reason != RejectReason::NoEmail => {
                mapping::string_at(&data, &s.email_field).map(str::to_string)
            }
            _ => None,
        };
        let kept = self.keep_data.then(|| data.to_map());
        *spare = data.into_spare();
        Some(Item::Record(Record {
            line,
            range,
            mapped,
            email,
            data: kept,
        }))
    }

    fn decode_chunk(&self, chunk: Chunk) -> Decoded {
        let props = self.properties();
        let mut items = Vec::with_capacity(chunk.len());
        let mut spare = Vec::new();
        items.extend(
            chunk
                .lines()
                .filter_map(|(line, range)| self.decode(&props, &chunk, line, range, &mut spare)),
        );
        Decoded { chunk, items }
    }
}

/// What a decoder hands back: a chunk's items, or the reason reading stopped.
type Piece = Result<Decoded, String>;

/// The running decode stage: yields decoded chunks in input order.
pub struct Decoder {
    outputs: Vec<Receiver<Piece>>,
    turn: usize,
}

impl Decoder {
    /// Starts the reader thread and `threads` decoders. The threads end
    /// when the input does, or once the decoder is dropped and the reader's
    /// current read returns.
    pub fn start(
        input: impl BufRead + Send + 'static,
        rules: Arc<Rules>,
        threads: usize,
    ) -> Decoder {
        let threads = threads.max(1);
        let mut inputs = Vec::with_capacity(threads);
        let mut outputs = Vec::with_capacity(threads);
        for n in 0..threads {
            let (chunk_tx, chunk_rx) = sync_channel::<Result<Chunk, String>>(QUEUED);
            let (piece_tx, piece_rx) = sync_channel::<Piece>(QUEUED);
            let rules = rules.clone();
            thread::Builder::new()
                .name(format!("decode-{n}"))
                .spawn(move || {
                    for chunk in chunk_rx {
                        let piece = chunk.map(|c| rules.decode_chunk(c));
                        if piece_tx.send(piece).is_err() {
                            return;
                        }
                    }
                })
                .expect("spawning a decoder thread");
            inputs.push(chunk_tx);
            outputs.push(piece_rx);
        }
        thread::Builder::new()
            .name("read".into())
            .spawn(move || read(input, &inputs))
            .expect("spawning the reader thread");
        Decoder { outputs, turn: 0 }
    }

    /// The next decoded chunk if one is ready now.
    pub fn try_next(&mut self) -> Next {
        match self.outputs[self.turn].try_recv() {
            Ok(piece) => self.took(piece),
            Err(TryRecvError::Empty) => Next::NotYet,
            Err(TryRecvError::Disconnected) => Next::End,
        }
    }

    /// The next decoded chunk, waiting at most `timeout`.
    pub fn next_within(&mut self, timeout: Duration) -> Next {
        match self.outputs[self.turn].recv_timeout(timeout) {
            Ok(piece) => self.took(piece),
            Err(RecvTimeoutError::Timeout) => Next::NotYet,
            Err(RecvTimeoutError::Disconnected) => Next::End,
        }
    }

    fn took(&mut self, piece: Piece) -> Next {
        self.turn = (self.turn + 1) % self.outputs.len();
        match piece {
            Ok(d) => Next::Chunk(d),
            Err(e) => Next::Failed(e),
        }
    }
}

/// What [`Decoder::try_next`] found.
pub enum Next {
    Chunk(Decoded),
    /// Nothing ready yet.
    NotYet,
    /// The input ended.
    End,
    /// Reading the input failed (the text says how).
    Failed(String),
}

/// The reader thread: chunks go to the decoders in turn.
fn read(input: impl BufRead, decoders: &[SyncSender<Result<Chunk, String>>]) {
    let mut reader = Reader::new(input);
    for turn in (0..decoders.len()).cycle() {
        let chunk = match reader.next_chunk() {
            Ok(Some(c)) => Ok(c),
            Ok(None) => return,
            Err(e) => Err(format!("reading stdin failed: {e}")),
        };
        let failed = chunk.is_err();
        if decoders[turn].send(chunk).is_err() || failed {
            return;
        }
    }
}

/// Decoder threads for this machine: one per core, at most four.
pub fn default_threads() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn rules() -> Arc<Rules> {
        let config = Config::from_value(&serde_json::json!({"access_token": "pat-x"})).unwrap();
        let catalog = Catalog::parse(
            r#"{"streams":[{"stream":{"name":"c"},"destination_sync_mode":"append_dedup"}]}"#,
        )
        .unwrap();
        let props = Properties::from_json(&serde_json::json!({"results": [
            {"name": "email", "type": "string", "fieldType": "text"},
            {"name": "n", "type": "string", "fieldType": "text"}
        ]}));
        Arc::new(Rules {
            config,
            catalog,
            properties: RwLock::new(Arc::new(props)),
            keep_data: false,
        })
    }

    /// Every item of a run, as (line, what).
    fn run(input: Vec<u8>, threads: usize) -> Vec<(u64, String)> {
        let mut d = Decoder::start(Cursor::new(input), rules(), threads);
        let mut out = Vec::new();
        loop {
            match d.next_within(Duration::from_secs(10)) {
                Next::Chunk(c) => out.extend(c.items.into_iter().map(|i| match i {
                    Item::Record(r) => (
                        r.line,
                        format!(
                            "{:?}",
                            r.mapped.result.map(|w| w.properties.get("n").cloned())
                        ),
                    ),
                    Item::State { line, .. } => (line, "state".into()),
                    Item::UnknownStream { line, .. } => (line, "unknown stream".into()),
                    Item::Bad { line, .. } => (line, "bad".into()),
                })),
                Next::NotYet => panic!("decoder stalled"),
                Next::End => return out,
                Next::Failed(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn many_threads_keep_input_order() {
        let mut input = Vec::new();
        for n in 0..20_000 {
            let line = match n % 100 {
                99 => r#"{"type":"STATE","state":{}}"#.to_string(),
                98 => "not json".to_string(),
                97 => r#"{"type":"RECORD","record":{"stream":"x","data":{}}}"#.to_string(),
                96 => String::new(),
                _ => format!(
                    r#"{{"type":"RECORD","record":{{"stream":"c","data":{{"email":"u{n}@x.io","n":"{n}"}}}}}}"#
                ),
            };
            input.extend_from_slice(line.as_bytes());
            input.push(b'\n');
        }
        let one = run(input.clone(), 1);
        assert_eq!(one.len(), 19_800, "blank lines are not items");
        let lines: Vec<u64> = one.iter().map(|(l, _)| *l).collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(one[5], (6, r#"Ok(Some("5"))"#.to_string()));
        assert_eq!(one[96], (98, "unknown stream".to_string()));
        assert_eq!(one[97], (99, "bad".to_string()));
        assert_eq!(one[98], (100, "state".to_string()));
        assert_eq!(run(input, 3), one);
    }
}
