//! The parse step of the read stage: one input line becomes an Airbyte
//! message, its record's fields borrowing from the line (serde_json). Any
//! byte sequence is handled without panicking: invalid UTF-8, deep nesting,
//! wrong types. Each unusable line becomes a [`Line::Bad`] naming the
//! problem, never its content (it may hold personal data).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::protocol::{Envelope, Fields};

/// One input line, decoded; a record borrows from the line.
#[derive(Debug)]
pub(crate) enum Line<'a> {
    Record {
        stream: Cow<'a, str>,
        namespace: Option<Cow<'a, str>>,
        data: Fields<'a>,
    },
    State(Map<String, Value>),
    /// A message a destination may ignore (LOG, TRACE, CONTROL…) or a blank line.
    Ignored,
    /// Not a usable message; the text says why.
    Bad(String),
}

/// Decodes one line.
pub(crate) fn parse(bytes: &[u8]) -> Line<'_> {
    let trimmed = trim(bytes);
    if trimmed.is_empty() {
        return Line::Ignored;
    }
    // One UTF-8 check for the whole line, so the parser skips it per string.
    let text = match std::str::from_utf8(trimmed) {
        Ok(t) => t,
        Err(e) => return Line::Bad(format!("not valid UTF-8 (at byte {})", e.valid_up_to() + 1)),
    };
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) => return Line::Bad(describe(&e)),
    };
    match envelope.kind.as_ref() {
        "RECORD" => match envelope.record {
            Some(r) => Line::Record {
                stream: r.stream,
                namespace: r.namespace,
                data: r.data,
            },
            None => Line::Bad("RECORD message without a `record` object".into()),
        },
        "STATE" => match envelope.state {
            Some(s) => Line::State(s),
            None => Line::Bad("STATE message without a `state` object".into()),
        },
        "LOG"
        | "TRACE"
        | "CONTROL"
        | "SPEC"
        | "CONNECTION_STATUS"
        | "CATALOG"
        | "DESTINATION_CATALOG" => Line::Ignored,
        other => Line::Bad(format!(
            "unknown message type `{}`",
            crate::hubspot::errors::truncate(other, 40)
        )),
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

/// A serde error in words, with its column but without the line's content.
fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax | Category::Eof => "not valid JSON",
        Category::Data => "not an Airbyte message of the expected shape",
        Category::Io => "unreadable",
    };
    // serde quotes the offending value in "invalid type: string \"…\"":
    // keep only what was expected, which names no input content.
    let text = e.to_string();
    let detail = text.split(" at line ").next().unwrap_or_default();
    let detail = match detail.find(", expected") {
        Some(at) if detail.starts_with("invalid") => format!("wrong type{}", &detail[at..]),
        _ if detail.starts_with("invalid") || detail.starts_with("unknown variant") => {
            "wrong value".to_string()
        }
        _ => detail.to_string(),
    };
    format!("{what} ({detail}, column {})", e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input` decoded, as text.
    fn lines(input: &[u8]) -> Vec<String> {
        input
            .split(|&b| b == b'\n')
            .map(|l| format!("{:?}", parse(l)))
            .collect()
    }

    #[test]
    fn records_states_and_ignored_messages() {
        let input = b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"c\",\"data\":{\"email\":\"a@b.co\"},\"emitted_at\":1}}\n\n{\"type\":\"STATE\",\"state\":{\"type\":\"GLOBAL\"}}\n{\"type\":\"TRACE\",\"trace\":{\"type\":\"STREAM_STATUS\"}}";
        let got = lines(input);
        assert_eq!(got.len(), 4);
        assert!(got[0].starts_with("Record"));
        assert!(got[1].starts_with("Ignored"));
        assert!(got[2].starts_with("State"));
        assert!(got[3].starts_with("Ignored"));
    }

    #[test]
    fn bad_lines_name_the_problem_not_the_content() {
        let got = lines(b"not json secret@x.io\n{\"type\":\"WHAT\"}\n{\"type\":\"RECORD\"}\n{\"type\":\"RECORD\",\"record\":{\"stream\":1234567}}\n\xff\xfe");
        assert_eq!(got.len(), 5);
        assert!(
            got[0].contains("not valid JSON") && !got[0].contains("secret"),
            "{}",
            got[0]
        );
        assert!(got[1].contains("unknown message type `WHAT`"));
        assert!(got[2].contains("without a `record`"));
        assert!(
            got[3].contains("expected shape") && got[3].contains("expected a string"),
            "{}",
            got[3]
        );
        assert!(!got[3].contains("1234567"), "{}", got[3]);
        assert!(got[4].starts_with("Bad"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut s =
            String::from("{\"type\":\"RECORD\",\"record\":{\"stream\":\"c\",\"data\":{\"x\":");
        s.push_str(&"[".repeat(100_000));
        let got = lines(s.as_bytes());
        assert!(got[0].starts_with("Bad"));
    }
}
