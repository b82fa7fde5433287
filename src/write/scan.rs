//! The reader's fast path for the common line: a RECORD message whose
//! strings hold no escape and no control character. Each such string is its
//! bytes between two quotes, so a hand-written scanner reads it in a
//! fraction of the time serde's derived code takes. It gives up (`None`) on
//! anything else — another message type, an escape, a duplicate envelope
//! key, invalid JSON — and the line is then parsed by `serde_json`, which
//! also words the error. What it accepts, it decodes exactly as
//! `serde_json` would (numbers and nested values are read by `serde_json`
//! itself), with one difference: a nested value gets serde's whole depth
//! limit of 128 to itself, where the whole line would leave it 125.

use std::borrow::Cow;
use std::str::FromStr;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{Number, Value};

use super::reader::Line;
use crate::protocol::{Field, Fields, Pairs};

/// Decodes `text` (one trimmed, valid UTF-8 line) if it is a plain RECORD
/// message. The record's fields take `spare`'s allocation (see
/// [`Fields::into_spare`]).
pub fn record<'a>(text: &'a str, spare: &mut Pairs<'a>) -> Option<Line<'a>> {
    // Between tokens only spaces are read: other JSON whitespace (tab, CR)
    // is left to serde, like an escape or a control character in a string.
    let mut s = Scanner {
        text,
        at: 0,
        spare: std::mem::take(spare),
    };
    let mut kind = None;
    let mut record = None;
    s.object(|s, key| {
        match key {
            "type" if kind.is_none() => kind = Some(s.string()?),
            "record" if record.is_none() => record = Some(s.record()?),
            // `state` and duplicates are left to serde.
            "type" | "record" | "state" => return None,
            _ => s.skip()?,
        }
        Some(())
    })?;
    s.ws();
    if s.at != text.len() || kind != Some("RECORD") {
        return None;
    }
    let (stream, namespace, data) = record?;
    Some(Line::Record {
        stream: Cow::Borrowed(stream),
        namespace: namespace.map(Cow::Borrowed),
        data,
    })
}

type RecordParts<'a> = (&'a str, Option<&'a str>, Fields<'a>);

struct Scanner<'a> {
    text: &'a str,
    at: usize,
    /// An empty vector for the record's fields.
    spare: Pairs<'a>,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Skips spaces (the only JSON whitespace such a line can hold).
    fn ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    /// An object: `entry` is called for each key, with the scanner at its value.
    fn object(&mut self, mut entry: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.at += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.ws();
            entry(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The `record` object: stream, namespace and data.
    fn record(&mut self) -> Option<RecordParts<'a>> {
        let mut stream = None;
        let mut namespace: Option<Option<&'a str>> = None;
        let mut data = None;
        self.object(|s, key| {
            match key {
                "stream" if stream.is_none() => stream = Some(s.string()?),
                "namespace" if namespace.is_none() => {
                    namespace = Some(if s.literal("null") {
                        None
                    } else {
                        Some(s.string()?)
                    })
                }
                "data" if data.is_none() => data = Some(s.fields()?),
                "stream" | "namespace" | "data" => return None,
                _ => s.skip()?,
            }
            Some(())
        })?;
        Some((stream?, namespace.flatten(), data?))
    }

    /// The `data` object.
    fn fields(&mut self) -> Option<Fields<'a>> {
        let mut pairs = std::mem::take(&mut self.spare);
        pairs.reserve(8);
        self.object(|s, key| {
            pairs.push((Cow::Borrowed(key), s.field()?));
            Some(())
        })?;
        Some(Fields::from_pairs(pairs))
    }

    fn field(&mut self) -> Option<Field<'a>> {
        Some(match self.peek()? {
            b'"' => Field::String(Cow::Borrowed(self.string()?)),
            b'{' | b'[' => Field::Other(self.nested::<Value>()?),
            b'-' | b'0'..=b'9' => Field::Number(Number::from_str(self.number()?).ok()?),
            _ if self.literal("true") => Field::Bool(true),
            _ if self.literal("false") => Field::Bool(false),
            _ if self.literal("null") => Field::Null,
            _ => return None,
        })
    }

    /// Skips the value of a field this reader doesn't use, checking it.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => self.nested::<IgnoredAny>().map(drop),
            b'-' | b'0'..=b'9' => self.number().filter(|n| valid_number(n)).map(drop),
            _ if self.literal("true") || self.literal("false") || self.literal("null") => Some(()),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        let hit = self.text.as_bytes()[self.at..].starts_with(word.as_bytes());
        if hit {
            self.at += word.len();
        }
        hit
    }

    /// The text of a number token (its grammar is checked by the caller).
    fn number(&mut self) -> Option<&'a str> {
        let start = self.at;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.at += 1;
        }
        Some(&self.text[start..self.at])
    }

    /// A string without an escape or a control character: its text is the
    /// bytes up to the next quote.
    fn string(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let rest = &self.text.as_bytes()[start..];
        let len = first_special(rest).filter(|&at| rest[at] == b'"')?;
        self.at = start + len + 1;
        Some(&self.text[start..start + len])
    }

    /// An array or object value, parsed by `serde_json`.
    fn nested<T: for<'de> Deserialize<'de>>(&mut self) -> Option<T> {
        let rest = &self.text[self.at..];
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let value = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(value)
    }
}

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
/// (a value serde can't hold, such as 1e999, is left to serde by the caller
/// of a data field; an ignored field only needs the grammar).
fn valid_number(n: &str) -> bool {
    let b = n.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// The first byte JSON must escape in a string (quote, backslash, control).
fn first_special(bytes: &[u8]) -> Option<usize> {
    bytes
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_unusual_is_left_to_serde() {
        for line in [
            r#"{"type":"STATE","state":{}}"#,
            r#"{"type":"RECORD","type":"RECORD","record":{"stream":"s","data":{}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{}},"state":{}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","stream":"t","data":{}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s"}}"#,
            r#"{"type":"RECORD","record":null}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{"a":01}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{"a":"raw	tab"}}}"#,
            "{\"type\":\"RECORD\",\t\"record\":{\"stream\":\"s\",\"data\":{}}}",
            r#"{"type":"RECORD","record":{"stream":"s","data":{"say":"\"hi\""}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s\/t","data":{}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{"a":1,}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{"a":tru}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{"a":"\u00e9"}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{"a":1e999}}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{}},"emitted_at":1.}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{}},"emitted_at":-}}"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{}}} trailing"#,
            r#"["RECORD",{"stream":"s","data":{}}]"#,
            r#"{"type":"RECORD","record":{"stream":"s","data":{"a":"unterminated}}}"#,
        ] {
            let fast = record(line, &mut Vec::new()).map(|l| format!("{l:?}"));
            assert_eq!(fast, None, "{line}");
        }
    }

    #[test]
    fn number_grammar() {
        for ok in [
            "0",
            "-0",
            "12",
            "-1.5",
            "1e5",
            "1E+5",
            "2.5e-10",
            "1700000000000",
        ] {
            assert!(valid_number(ok), "{ok}");
            assert!(serde_json::from_str::<IgnoredAny>(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1-2", "--1", "1.5.5",
        ] {
            assert!(!valid_number(bad), "{bad}");
        }
    }
}
