//! The reader: stdin, line by line, into Airbyte messages. Any byte sequence
//! is handled without panicking: invalid UTF-8, lines longer than the limit
//! (skipped without being held in memory), deep nesting, wrong types. Each
//! unusable line becomes a [`Line::Bad`] naming the problem, never its
//! content (it may hold personal data).

use std::borrow::Cow;
use std::io::{self, BufRead};

use serde_json::{Map, Value};

use crate::protocol::{Envelope, Fields};

/// The longest line read (a record of 64 MiB is far beyond anything HubSpot
/// accepts: 65,536 characters per property value).
pub const MAX_LINE: usize = 64 * 1024 * 1024;

/// One input line, decoded; a record borrows from the line.
#[derive(Debug)]
pub enum Line<'a> {
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

/// Reads messages from a byte stream.
pub struct Reader<R> {
    input: R,
    line_no: u64,
    buf: Vec<u8>,
    max_line: usize,
    /// The input's buffer was used up by the last line: the next one starts
    /// with a read of the source, which may wait.
    drained: bool,
    /// Bytes of the input's buffer the last line still borrows; consumed
    /// when the next line is asked for.
    unconsumed: usize,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader::with_limit(input, MAX_LINE)
    }

    pub fn with_limit(input: R, max_line: usize) -> Reader<R> {
        Reader {
            input,
            line_no: 0,
            buf: Vec::new(),
            max_line,
            drained: true,
            unconsumed: 0,
        }
    }

    /// Whether the next [`Reader::next_line`] starts by reading the source,
    /// and so may wait for input: the caller hands on what it holds first.
    pub fn will_wait(&self) -> bool {
        self.drained
    }

    /// The next line and its 1-based number; `None` at end of input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.input.consume(std::mem::take(&mut self.unconsumed));
        // The common case: the whole line is in the input's buffer, and is
        // parsed there without a copy.
        let end = loop {
            match self.input.fill_buf() {
                Ok([]) => return Ok(None),
                Ok(chunk) => {
                    break memchr(chunk)
                        .filter(|&i| i <= self.max_line)
                        .map(|i| (i, i + 1 == chunk.len()))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if let Some((i, drained)) = end {
            self.line_no += 1;
            self.drained = drained;
            self.unconsumed = i + 1;
            // The buffer is filled: this returns it again without reading.
            let chunk = self.input.fill_buf()?;
            return Ok(Some((self.line_no, parse(&chunk[..i]))));
        }
        // A line running past the buffer is gathered in `buf`.
        if self.buf.capacity() > 1024 * 1024 {
            self.buf = Vec::new(); // don't keep a huge buffer for small lines
        } else {
            self.buf.clear();
        }
        let mut too_long = false;
        let mut saw_any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let (part, done) = match memchr(chunk) {
                Some(i) => (&chunk[..i], i + 1),
                None => (chunk, chunk.len()),
            };
            if !too_long {
                if self.buf.len() + part.len() > self.max_line {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            let ended = done > part.len();
            self.drained = done == chunk.len();
            self.input.consume(done);
            if ended {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.line_no += 1;
        let line = if too_long {
            Line::Bad(format!("line longer than {} bytes", self.max_line))
        } else {
            parse(&self.buf)
        };
        Ok(Some((self.line_no, line)))
    }
}

fn memchr(b: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', b)
}

/// Decodes one line.
pub fn parse(bytes: &[u8]) -> Line<'_> {
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

    fn lines(input: &[u8], limit: usize) -> Vec<(u64, String)> {
        let mut r = Reader::with_limit(input, limit);
        let mut out = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            out.push((n, format!("{l:?}")));
        }
        out
    }

    #[test]
    fn records_states_and_ignored_messages() {
        let input = b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"c\",\"data\":{\"email\":\"a@b.co\"},\"emitted_at\":1}}\n\n{\"type\":\"STATE\",\"state\":{\"type\":\"GLOBAL\"}}\n{\"type\":\"TRACE\",\"trace\":{\"type\":\"STREAM_STATUS\"}}";
        let got = lines(input, 1000);
        assert_eq!(got.len(), 4);
        assert!(got[0].1.starts_with("Record"));
        assert!(got[1].1.starts_with("Ignored"));
        assert!(got[2].1.starts_with("State"));
        assert!(got[3].1.starts_with("Ignored"));
    }

    #[test]
    fn bad_lines_name_the_problem_not_the_content() {
        let got = lines(b"not json secret@x.io\n{\"type\":\"WHAT\"}\n{\"type\":\"RECORD\"}\n{\"type\":\"RECORD\",\"record\":{\"stream\":1234567}}\n\xff\xfe\n", 1000);
        assert_eq!(got.len(), 5);
        assert!(
            got[0].1.contains("not valid JSON") && !got[0].1.contains("secret"),
            "{}",
            got[0].1
        );
        assert!(got[1].1.contains("unknown message type `WHAT`"));
        assert!(got[2].1.contains("without a `record`"));
        assert!(
            got[3].1.contains("expected shape") && got[3].1.contains("expected a string"),
            "{}",
            got[3].1
        );
        assert!(!got[3].1.contains("1234567"), "{}", got[3].1);
        assert!(got[4].1.starts_with("Bad"));
    }

    #[test]
    fn over_long_lines_are_skipped_and_numbering_continues() {
        let mut input = vec![b'x'; 5000];
        input.extend_from_slice(b"\n{\"type\":\"STATE\",\"state\":{}}\n");
        let got = lines(&input, 100);
        assert_eq!(got[0].0, 1);
        assert!(got[0].1.contains("longer than 100 bytes"));
        assert_eq!(got[1].0, 2);
        assert!(got[1].1.starts_with("State"));
    }

    #[test]
    fn lines_longer_than_the_input_buffer_are_gathered() {
        let text = "{\"type\":\"STATE\",\"state\":{\"n\":1}}\n\n{\"type\":\"RECORD\",\"record\":{\"stream\":\"c\",\"data\":{\"email\":\"a@b.co\"}}}";
        let mut r = Reader::new(io::BufReader::with_capacity(7, text.as_bytes()));
        let mut got = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            got.push(format!("{n} {l:?}"));
        }
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("1 State"), "{got:?}");
        assert!(got[1].starts_with("2 Ignored"), "{got:?}");
        assert!(
            got[2].starts_with("3 Record") && got[2].contains("a@b.co"),
            "{got:?}"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut s =
            String::from("{\"type\":\"RECORD\",\"record\":{\"stream\":\"c\",\"data\":{\"x\":");
        s.push_str(&"[".repeat(100_000));
        let got = lines(s.as_bytes(), usize::MAX);
        assert!(got[0].1.starts_with("Bad"));
    }
}
