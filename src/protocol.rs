//! The Airbyte protocol as this destination speaks it: the message envelopes it
//! reads from stdin and the single writer that owns stdout.
//!
//! States stay raw JSON from input to output (platforms add fields of their own,
//! like an `id`, and expect them back); only `destinationStats` is added.

use std::io::{self, Write};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{json, Map, Value};

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

/// One incoming line, decoded just enough to route it.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub kind: String,
    pub record: Option<Record>,
    pub state: Option<Map<String, Value>>,
}

/// The payload of a RECORD message.
#[derive(Debug, Deserialize)]
pub struct Record {
    pub stream: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub data: Map<String, Value>,
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
/// A closed stdout (the platform went away) is remembered and later writes are
/// dropped, so a broken pipe ends the run cleanly instead of panicking.
pub struct Output {
    sink: Mutex<Sink>,
}

struct Sink {
    out: Box<dyn Write + Send>,
    broken: bool,
}

impl Output {
    /// An output writing to the process's stdout.
    pub fn stdout() -> Output {
        Output::new(Box::new(io::stdout()))
    }

    /// An output writing to any sink (tests use a buffer).
    pub fn new(out: Box<dyn Write + Send>) -> Output {
        Output {
            sink: Mutex::new(Sink { out, broken: false }),
        }
    }

    /// Writes one message as a single line.
    pub fn emit(&self, message: &Value) {
        let mut line = serde_json::to_vec(message).unwrap_or_default();
        line.push(b'\n');
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        if sink.broken {
            return;
        }
        if sink
            .out
            .write_all(&line)
            .and_then(|_| sink.out.flush())
            .is_err()
        {
            sink.broken = true;
        }
    }

    /// Whether stdout has been closed by the reader.
    pub fn is_broken(&self) -> bool {
        self.sink.lock().unwrap_or_else(|e| e.into_inner()).broken
    }

    /// A LOG message.
    pub fn log(&self, level: &str, message: impl Into<String>) {
        self.emit(&json!({"type": "LOG", "log": {"level": level, "message": message.into()}}));
    }

    /// A STATE message: the state as received, plus `destinationStats`.
    pub fn state(&self, mut state: Map<String, Value>, committed: u64, rejected: u64) {
        // Doubles with a decimal point, as the protocol models ask.
        let stats =
            json!({"recordCount": committed as f64, "rejectedRecordCount": rejected as f64});
        state.insert("destinationStats".into(), stats);
        self.emit(&json!({"type": "STATE", "state": state}));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
    fn unknown_message_fields_are_accepted() {
        let e: Envelope = serde_json::from_str(
            r#"{"type":"RECORD","extra":1,"record":{"stream":"contacts","data":{"email":"a@b.co"},"emitted_at":1,"meta":{}}}"#,
        )
        .unwrap();
        assert_eq!(e.record.unwrap().stream, "contacts");
    }
}
