//! The checkpoint tracker: a STATE is echoed only once every record before it
//! is committed to HubSpot or reported as rejected, in the order states came,
//! with the counts of its window in `destinationStats`. After a fatal error
//! nothing more is emitted, so no state runs ahead of what was committed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::protocol::Output;

struct Window {
    /// Records of this window; known once the window is closed (the open
    /// window counts in `Checkpoint::open_records`).
    recorded: u64,
    committed: u64,
    rejected: u64,
    /// The state that closes this window; None for the open window.
    state: Option<Map<String, Value>>,
}

impl Window {
    fn open() -> Window {
        Window {
            recorded: 0,
            committed: 0,
            rejected: 0,
            state: None,
        }
    }
}

struct Inner {
    /// Windows not yet emitted; the last one is open.
    windows: VecDeque<Window>,
    /// Id of `windows[0]`.
    first: u64,
    stopped: bool,
    emitted: u64,
}

/// Tracks records per state window and emits states when earned.
///
/// Records are counted into the open window without the lock (the reader
/// counts every record; the workers settle whole batches under it). Only the
/// reader counts records and closes windows, so the count is complete when
/// a state closes the window.
pub struct Checkpoint {
    inner: Mutex<Inner>,
    open_records: AtomicU64,
    open_id: AtomicU64,
}

/// Totals across the sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub states_emitted: u64,
}

impl Default for Checkpoint {
    fn default() -> Self {
        Checkpoint::new()
    }
}

impl Checkpoint {
    pub fn new() -> Checkpoint {
        Checkpoint {
            inner: Mutex::new(Inner {
                windows: VecDeque::from([Window::open()]),
                first: 0,
                stopped: false,
                emitted: 0,
            }),
            open_records: AtomicU64::new(0),
            open_id: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a record into the open window and returns that window's id.
    pub fn record(&self) -> u64 {
        self.open_records.fetch_add(1, Ordering::Relaxed);
        self.open_id.load(Ordering::Relaxed)
    }

    /// A record of `window` is settled: committed, or rejected.
    pub fn settle(&self, window: u64, committed: bool, out: &Output) {
        let (c, r) = if committed { (1, 0) } else { (0, 1) };
        self.settle_many(window, c, r, out);
    }

    /// `committed` + `rejected` records of `window` are settled at once (a
    /// worker settles a whole batch under one lock, not one per record).
    pub fn settle_many(&self, window: u64, committed: u64, rejected: u64, out: &Output) {
        let mut s = self.lock();
        let index = window
            .checked_sub(s.first)
            .expect("settled window is not emitted yet") as usize;
        let w = &mut s.windows[index];
        w.committed += committed;
        w.rejected += rejected;
        emit_ready(&mut s, out);
    }

    /// A STATE arrived: it closes the open window.
    pub fn state(&self, state: Map<String, Value>, out: &Output) {
        let mut s = self.lock();
        let open = s.windows.back_mut().expect("an open window");
        open.state = Some(state);
        open.recorded = self.open_records.swap(0, Ordering::Relaxed);
        s.windows.push_back(Window::open());
        self.open_id
            .store(s.first + s.windows.len() as u64 - 1, Ordering::Relaxed);
        emit_ready(&mut s, out);
    }

    /// Whether a received state still waits for records.
    pub fn waiting(&self) -> bool {
        let s = self.lock();
        s.windows.len() > 1
    }

    /// Stops emitting: after a fatal error no later state may go out.
    pub fn stop(&self) {
        self.lock().stopped = true;
    }

    /// States emitted so far.
    pub fn emitted(&self) -> u64 {
        self.lock().emitted
    }
}

fn emit_ready(s: &mut Inner, out: &Output) {
    if s.stopped {
        return;
    }
    while s.windows.len() > 1
        && s.windows[0].committed + s.windows[0].rejected == s.windows[0].recorded
    {
        let w = s.windows.pop_front().expect("checked length");
        s.first += 1;
        s.emitted += 1;
        if let Some(state) = w.state {
            out.state(state, w.committed, w.rejected);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn lines(&self) -> Vec<Value> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        }
    }

    fn state(n: u64) -> Map<String, Value> {
        serde_json::from_value(serde_json::json!({"type": "LEGACY", "data": {"n": n}})).unwrap()
    }

    #[test]
    fn state_waits_for_every_record_before_it_and_keeps_order() {
        let buf = Buf::default();
        let out = Output::new(Box::new(buf.clone()));
        let c = Checkpoint::new();
        let a = c.record();
        let b = c.record();
        c.state(state(1), &out);
        let d = c.record();
        c.state(state(2), &out);
        assert!(buf.lines().is_empty());
        c.settle(d, true, &out); // window 2 done, but window 1 is not: nothing yet
        assert!(buf.lines().is_empty());
        assert!(c.waiting());
        c.settle(a, true, &out);
        c.settle(b, false, &out);
        let lines = buf.lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["state"]["data"]["n"], 1);
        assert_eq!(lines[0]["state"]["destinationStats"]["recordCount"], 1.0);
        assert_eq!(
            lines[0]["state"]["destinationStats"]["rejectedRecordCount"],
            1.0
        );
        assert_eq!(lines[1]["state"]["data"]["n"], 2);
        assert!(!c.waiting());
    }

    #[test]
    fn a_state_with_nothing_pending_is_emitted_at_once() {
        let buf = Buf::default();
        let out = Output::new(Box::new(buf.clone()));
        let c = Checkpoint::new();
        c.state(state(1), &out);
        assert_eq!(
            buf.lines()[0]["state"]["destinationStats"]["recordCount"],
            0.0
        );
    }

    #[test]
    fn nothing_is_emitted_after_stop() {
        let buf = Buf::default();
        let out = Output::new(Box::new(buf.clone()));
        let c = Checkpoint::new();
        let a = c.record();
        c.state(state(1), &out);
        c.stop();
        c.settle(a, true, &out);
        assert!(buf.lines().is_empty());
    }
}
