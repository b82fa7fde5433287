//! The Airbyte protocol as this destination speaks it: the message envelopes it
//! reads from stdin (here) and the single writer that owns stdout (`output`).
//!
//! States stay raw JSON from input to output (platforms add fields of their own,
//! like an `id`, and expect them back); only `destinationStats` is added.

pub(crate) mod output;

pub use output::Output;

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

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
                // serde_json's `arbitrary_precision` hands a number over as
                // a one-entry map holding its text: it stays a number, its
                // digits exactly as written.
                Ok(match Value::deserialize(MapAccessDeserializer::new(m))? {
                    Value::Number(n) => Field::Number(n),
                    other => Field::Other(other),
                })
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn numbers_keep_their_digits_as_written() {
        let line = r#"{"type":"RECORD","record":{"stream":"c","data":{"a":12345678901234.567,"b":123456789012345678901234,"c":1.50,"d":-0,"e":[1.0]}}}"#;
        let e: Envelope = serde_json::from_str(line).unwrap();
        let data = e.record.unwrap().data;
        let text = |k: &str| match data.get(k) {
            Some(Field::Number(n)) => n.to_string(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(text("a"), "12345678901234.567");
        assert_eq!(text("b"), "123456789012345678901234");
        assert_eq!(text("c"), "1.50");
        assert_eq!(text("d"), "-0");
        assert_eq!(data.get("e"), Some(&Field::Other(json!([1.0]))));
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
