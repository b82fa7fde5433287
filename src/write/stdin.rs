//! The read stage's thread: stdin cut into numbered lines and handed to the
//! sync as events, as many lines at a time as one read gives (never waiting
//! for more input while it holds some). It runs on its own thread so that a
//! fatal error can end the sync while the source keeps stdin open, and it
//! stops reading while the lines it has handed on but the sync has not yet
//! taken add up to [`BUFFERED_BYTES`]: memory is bounded by bytes, however
//! long the lines. A line longer than [`MAX_LINE`] is skipped unheld.

use std::io::{self, BufRead, BufReader};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};

use super::Event;

/// The longest line read (a record of 64 MiB is far beyond anything HubSpot
/// accepts: 65,536 characters per property value).
pub(crate) const MAX_LINE: usize = 64 * 1024 * 1024;

/// Bytes of input read ahead of the sync at most (one longer line is still
/// read whole when nothing else is waiting).
pub(crate) const BUFFERED_BYTES: usize = 1024 * 1024;

/// Bytes of lines handed on together at most (one event, one wake-up).
const CHUNK_BYTES: usize = 64 * 1024;

/// What the stdin thread hands on.
#[derive(Debug)]
pub(crate) enum Input {
    /// Consecutive lines, with their bytes in all.
    Lines(Vec<Line>, usize),
    End,
    /// Reading stdin failed; the text says how.
    Failed(String),
}

/// One input line.
#[derive(Debug, PartialEq)]
pub(crate) struct Line {
    /// From 1.
    pub number: u64,
    /// Without its newline; `None` when it was longer than the limit and
    /// skipped.
    pub bytes: Option<Vec<u8>>,
}

/// Cuts a byte stream into lines, skipping over-long ones unheld.
pub(crate) struct Lines<R> {
    input: R,
    number: u64,
    max_line: usize,
}

impl<R: io::Read> Lines<BufReader<R>> {
    /// Whether a line can be read without waiting for input.
    fn ready(&self) -> bool {
        !self.input.buffer().is_empty()
    }
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(input: R, max_line: usize) -> Lines<R> {
        Lines {
            input,
            number: 0,
            max_line,
        }
    }

    /// The next line, `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut line = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let avail = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break; // the input's last line has no newline
            }
            any = true;
            let (part, ended) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (&avail[..i], Some(i + 1)),
                None => (avail, None),
            };
            if !too_long && line.len() + part.len() > self.max_line {
                too_long = true;
                line = Vec::new();
            }
            if !too_long {
                line.extend_from_slice(part);
            }
            let used = ended.unwrap_or(avail.len());
            self.input.consume(used);
            if ended.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        Ok(Some(Line {
            number: self.number,
            bytes: (!too_long).then_some(line),
        }))
    }
}

/// The bytes handed on and not yet taken by the sync.
#[derive(Default)]
pub(crate) struct Budget {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Budget {
    /// Waits until `n` more bytes fit (or nothing is waiting), then counts
    /// them; `false` once the sync has closed the budget.
    fn take(&self, n: usize) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !s.1 && s.0 > 0 && s.0 + n > BUFFERED_BYTES {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.0 += n;
        !s.1
    }

    /// The sync took a line of `n` bytes.
    pub(crate) fn give(&self, n: usize) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 = s.0.saturating_sub(n);
        self.changed.notify_all();
    }

    /// The sync reads no more: the thread stops at its next line.
    pub(crate) fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.changed.notify_all();
    }
}

/// Starts the stdin thread; lines go to `events` as [`Event::Input`].
pub(crate) fn spawn(input: impl BufRead + Send + 'static, events: Sender<Event>) -> Arc<Budget> {
    let budget = Arc::new(Budget::default());
    let b = budget.clone();
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut lines = Lines::new(BufReader::with_capacity(CHUNK_BYTES, input), MAX_LINE);
            loop {
                let next = next_chunk(&mut lines);
                let size = match &next {
                    Input::Lines(_, size) => *size,
                    _ => 0,
                };
                let last = !matches!(next, Input::Lines(..));
                if !b.take(size) || events.send(Event::Input(next)).is_err() || last {
                    return;
                }
            }
        })
        .expect("spawning the stdin thread");
    budget
}

/// The lines one read gives, up to [`CHUNK_BYTES`]; the end or a failure
/// once no line is held.
fn next_chunk<R: io::Read>(lines: &mut Lines<BufReader<R>>) -> Input {
    let mut chunk = Vec::new();
    let mut size = 0;
    loop {
        match lines.next_line() {
            Ok(Some(line)) => {
                size += line.bytes.as_ref().map_or(0, Vec::len);
                chunk.push(line);
                if size >= CHUNK_BYTES || !lines.ready() {
                    return Input::Lines(chunk, size);
                }
            }
            // The end or a failure comes on its own, after the lines before it.
            _ if !chunk.is_empty() => return Input::Lines(chunk, size),
            Ok(None) => return Input::End,
            Err(e) => return Input::Failed(format!("reading stdin failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn all(input: impl BufRead, max_line: usize) -> Vec<(u64, Option<String>)> {
        let mut lines = Lines::new(input, max_line);
        let mut out = Vec::new();
        while let Some(Line { number, bytes }) = lines.next_line().unwrap() {
            out.push((number, bytes.map(|b| String::from_utf8(b).unwrap())));
        }
        out
    }

    #[test]
    fn lines_are_numbered_and_the_last_needs_no_newline() {
        let got = all(Cursor::new("a\n\nbc\r\nd"), 100);
        let want = [(1, "a"), (2, ""), (3, "bc\r"), (4, "d")];
        assert_eq!(
            got,
            want.map(|(n, s)| (n, Some(s.to_string()))).to_vec(),
            "{got:?}"
        );
        assert!(all(Cursor::new(""), 100).is_empty());
    }

    #[test]
    fn over_long_lines_are_skipped_and_numbering_continues() {
        let input = format!("{}\nok\n{}", "x".repeat(50), "y".repeat(11));
        // A buffer smaller than a line: lines are gathered across reads.
        let got = all(BufReader::with_capacity(7, Cursor::new(input)), 10);
        assert_eq!(got, vec![(1, None), (2, Some("ok".into())), (3, None)]);
    }

    #[test]
    fn chunks_hold_what_one_read_gives_and_the_end_comes_alone() {
        // A reader giving 10 bytes per read: "a\nbb\nccc\n" then "dddd\ne".
        struct Reads(Vec<&'static [u8]>);
        impl io::Read for Reads {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some(next) = self.0.first_mut() else {
                    return Ok(0);
                };
                let n = next.len().min(buf.len());
                buf[..n].copy_from_slice(&next[..n]);
                *next = &next[n..];
                if next.is_empty() {
                    self.0.remove(0);
                }
                Ok(n)
            }
        }
        let mut lines = Lines::new(
            BufReader::new(Reads(vec![b"a\nbb\nccc\n", b"dddd\ne"])),
            100,
        );
        let numbers = |input: Input| match input {
            Input::Lines(lines, size) => (lines.iter().map(|l| l.number).collect(), size),
            other => panic!("{other:?}"),
        };
        assert_eq!(numbers(next_chunk(&mut lines)), (vec![1, 2, 3], 6));
        assert_eq!(numbers(next_chunk(&mut lines)), (vec![4, 5], 5));
        assert!(matches!(next_chunk(&mut lines), Input::End));
    }

    #[test]
    fn the_budget_waits_while_full_and_lets_one_large_line_through() {
        let budget = Arc::new(Budget::default());
        assert!(budget.take(BUFFERED_BYTES * 2), "a large line alone passes");
        let b = budget.clone();
        let waiter = std::thread::spawn(move || b.take(1));
        // It can only finish once the large line is given back.
        budget.give(BUFFERED_BYTES * 2);
        assert!(waiter.join().unwrap());
        budget.close();
        assert!(!budget.take(BUFFERED_BYTES * 2), "closed: the thread stops");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Any bytes, any limit, any buffer size: every line is numbered in
        /// turn, and parsing one never panics.
        #[test]
        fn any_bytes_become_numbered_lines(
            input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            limit in 1usize..512,
            buffer in 1usize..1024,
        ) {
            let mut lines = Lines::new(BufReader::with_capacity(buffer, Cursor::new(&input)), limit);
            let mut last = 0;
            while let Some(Line { number, bytes }) = lines.next_line().unwrap() {
                proptest::prop_assert_eq!(number, last + 1);
                last = number;
                if let Some(bytes) = bytes {
                    proptest::prop_assert!(bytes.len() <= limit && !bytes.contains(&b'\n'));
                    if let super::super::parse::Line::Bad(why) = super::super::parse::parse(&bytes) {
                        proptest::prop_assert!(!why.is_empty());
                    }
                }
            }
            let ends_open = !input.is_empty() && input.last() != Some(&b'\n');
            let expected = input.iter().filter(|&&b| b == b'\n').count() as u64 + u64::from(ends_open);
            proptest::prop_assert_eq!(last, expected);
        }
    }
}
