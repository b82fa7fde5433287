//! The Airbyte protocol as this destination speaks it: the message envelopes it
//! reads from stdin and the single writer that owns stdout.
//!
//! States stay raw JSON from input to output (platforms add fields of their own,
//! like an `id`, and expect them back); only `destinationStats` is added.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
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

/// A record's top-level fields, in key order, the last of duplicate keys
/// kept (as `serde_json::Map` would). Scalars borrow from the input line;
/// only arrays and objects become `Value`s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields<'a>(Vec<(Cow<'a, str>, Field<'a>)>);

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
        self.0
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// How many fields the record has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Field<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The record as a JSON object (for the rejected-records file).
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
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
                // Key order, the last of equal keys kept.
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                fields.reverse();
                fields.dedup_by(|a, b| a.0 == b.0);
                fields.reverse();
                Ok(Fields(fields))
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
            ["a", "b", "email", "n", "o"]
        );
        assert_eq!(
            serde_json::Value::Object(data.to_map()),
            json!({"a": 2, "b": "x\ny", "email": "a@b.co", "n": null, "o": {"k": [1]}})
        );
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
