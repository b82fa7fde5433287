//! The reader: stdin cut into chunks of whole lines, and each line decoded
//! into an Airbyte message. Any byte sequence
//! is handled without panicking: invalid UTF-8, lines longer than the limit
//! (skipped without being held in memory), deep nesting, wrong types. Each
//! unusable line becomes a [`Line::Bad`] naming the problem, never its
//! content (it may hold personal data).

use std::borrow::Cow;
use std::io::{self, BufRead};
use std::ops::Range;

use serde_json::{Map, Value};

use crate::protocol::{Envelope, Fields, Pairs};

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

/// Bytes of input a chunk holds at most, unless one line is longer (a
/// line is never split).
pub const CHUNK_BYTES: usize = 256 * 1024;

/// A run of whole input lines read in one piece, numbered from `first`:
/// the unit the decode stage hands to its threads.
#[derive(Debug)]
pub struct Chunk {
    first: u64,
    /// How many lines it holds.
    count: u64,
    /// The lines, each ending with a newline except perhaps the input's last.
    bytes: Vec<u8>,
    max_line: usize,
    /// The chunk is one line longer than `max_line`, skipped unread.
    too_long: bool,
}

impl Chunk {
    /// How many lines the chunk holds.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Each line's number and its byte range in the chunk.
    pub fn lines(&self) -> impl Iterator<Item = (u64, Range<usize>)> + '_ {
        let mut start = 0;
        let mut n = self.first;
        // A skipped line has no bytes, only its number.
        let too_long = self.too_long.then_some((self.first, 0..0));
        let lines = std::iter::from_fn(move || {
            if start >= self.bytes.len() {
                return None;
            }
            let end =
                memchr::memchr(b'\n', &self.bytes[start..]).map_or(self.bytes.len(), |i| start + i);
            let line = (n, start..end);
            start = end + 1;
            n += 1;
            Some(line)
        });
        too_long.into_iter().chain(lines)
    }

    /// The line at `range` (from [`Chunk::lines`]), decoded; a record's
    /// fields take `spare`'s allocation.
    pub fn decode<'a>(&'a self, range: Range<usize>, spare: &mut Pairs<'a>) -> Line<'a> {
        if self.too_long || range.len() > self.max_line {
            return Line::Bad(format!("line longer than {} bytes", self.max_line));
        }
        parse(&self.bytes[range], spare)
    }
}

/// Cuts a byte stream into chunks of whole lines. Memory stays bounded
/// whatever the input: a line longer than the limit is skipped without
/// being held.
pub struct Reader<R> {
    input: R,
    /// Lines handed on so far.
    line_no: u64,
    max_line: usize,
    chunk_bytes: usize,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader::with_sizes(input, MAX_LINE, CHUNK_BYTES)
    }

    pub fn with_sizes(input: R, max_line: usize, chunk_bytes: usize) -> Reader<R> {
        Reader {
            input,
            line_no: 0,
            max_line,
            chunk_bytes: chunk_bytes.max(1),
        }
    }

    /// The next chunk: the whole lines the input has ready, at most about
    /// `chunk_bytes` of them; `None` at the end of the input. It waits for
    /// input only until it has one whole line.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        // The start of a line not ended yet, and whether it is over the limit.
        let mut carry: Vec<u8> = Vec::new();
        let mut skipping = false;
        loop {
            let avail = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                // The input's last line has no newline.
                return Ok(if skipping {
                    Some(self.too_long())
                } else if carry.is_empty() {
                    None
                } else {
                    Some(self.chunk(carry))
                });
            }
            if skipping {
                match memchr::memchr(b'\n', avail) {
                    Some(i) => {
                        self.input.consume(i + 1);
                        return Ok(Some(self.too_long()));
                    }
                    None => {
                        let n = avail.len();
                        self.input.consume(n);
                        continue;
                    }
                }
            }
            let window = &avail[..avail.len().min(self.chunk_bytes)];
            if let Some(i) = memchr::memrchr(b'\n', window) {
                carry.extend_from_slice(&window[..=i]);
                self.input.consume(i + 1);
                return Ok(Some(self.chunk(carry)));
            }
            // No line ends in the window: it all belongs to one line.
            let n = window.len();
            if carry.len() + n > self.max_line {
                skipping = true;
                carry = Vec::new();
            } else {
                carry.extend_from_slice(window);
            }
            self.input.consume(n);
        }
    }

    fn chunk(&mut self, bytes: Vec<u8>) -> Chunk {
        let first = self.line_no + 1;
        let ended = memchr::memchr_iter(b'\n', &bytes).count() as u64;
        self.line_no += ended + u64::from(bytes.last() != Some(&b'\n'));
        Chunk {
            first,
            count: self.line_no + 1 - first,
            bytes,
            max_line: self.max_line,
            too_long: false,
        }
    }

    fn too_long(&mut self) -> Chunk {
        self.line_no += 1;
        Chunk {
            first: self.line_no,
            count: 1,
            bytes: Vec::new(),
            max_line: self.max_line,
            too_long: true,
        }
    }
}

/// Decodes one line; a record's fields take `spare`'s allocation.
pub fn parse<'a>(bytes: &'a [u8], spare: &mut Pairs<'a>) -> Line<'a> {
    let trimmed = trim(bytes);
    if trimmed.is_empty() {
        return Line::Ignored;
    }
    // One UTF-8 check for the whole line, so the parser skips it per string.
    let text = match std::str::from_utf8(trimmed) {
        Ok(t) => t,
        Err(e) => return Line::Bad(format!("not valid UTF-8 (at byte {})", e.valid_up_to() + 1)),
    };
    if let Some(line) = super::scan::record(text, spare) {
        return line;
    }
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

    /// Every line as (number, decoded), read in chunks of at most `chunk` bytes.
    fn read_all(input: impl BufRead, limit: usize, chunk: usize) -> Vec<(u64, String)> {
        let mut r = Reader::with_sizes(input, limit, chunk);
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk().unwrap() {
            assert_eq!(c.lines().count(), c.len());
            for (n, range) in c.lines() {
                out.push((n, format!("{:?}", c.decode(range, &mut Vec::new()))));
            }
        }
        out
    }

    fn lines(input: &[u8], limit: usize) -> Vec<(u64, String)> {
        let whole = read_all(input, limit, CHUNK_BYTES);
        // Any chunk size reads the same lines.
        for chunk in [1, 7, 100] {
            assert_eq!(
                read_all(input, limit, chunk),
                whole,
                "chunks of {chunk} bytes"
            );
        }
        whole
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
        let got: Vec<String> = read_all(
            io::BufReader::with_capacity(7, text.as_bytes()),
            MAX_LINE,
            CHUNK_BYTES,
        )
        .into_iter()
        .map(|(n, l)| format!("{n} {l}"))
        .collect();
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
