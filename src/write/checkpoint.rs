//! The settle stage's bookkeeping: the one place that decides when a STATE
//! may be echoed — once every record before it is committed to HubSpot or
//! reported as rejected, in the order states came, with the counts of its
//! window. After a fatal error nothing more is earned, so no state runs
//! ahead of what was committed.

use std::collections::VecDeque;

use serde_json::{Map, Value};

/// The records between two states.
#[derive(Default)]
struct Window {
    recorded: u64,
    committed: u64,
    rejected: u64,
    /// The state that closes this window; `None` for the open window.
    state: Option<Map<String, Value>>,
}

/// A state whose records are all settled: echo it now.
#[derive(Debug, PartialEq)]
pub(crate) struct Earned {
    pub state: Map<String, Value>,
    pub committed: u64,
    pub rejected: u64,
}

/// Tracks records per state window and hands out states when earned.
pub(crate) struct Checkpoint {
    /// Windows not yet emitted; the last one is open.
    windows: VecDeque<Window>,
    /// Id of `windows[0]`.
    first: u64,
    stopped: bool,
}

impl Checkpoint {
    pub(crate) fn new() -> Checkpoint {
        Checkpoint {
            windows: VecDeque::from([Window::default()]),
            first: 0,
            stopped: false,
        }
    }

    /// Counts a record into the open window and returns that window's id.
    pub(crate) fn record(&mut self) -> u64 {
        self.windows.back_mut().expect("an open window").recorded += 1;
        self.first + self.windows.len() as u64 - 1
    }

    /// `committed` + `rejected` records of `window` are settled.
    pub(crate) fn settle(&mut self, window: u64, committed: u64, rejected: u64) {
        let index = window
            .checked_sub(self.first)
            .expect("settled window is not emitted yet") as usize;
        let w = &mut self.windows[index];
        w.committed += committed;
        w.rejected += rejected;
    }

    /// A STATE arrived: it closes the open window.
    pub(crate) fn state(&mut self, state: Map<String, Value>) {
        self.windows.back_mut().expect("an open window").state = Some(state);
        self.windows.push_back(Window::default());
    }

    /// Whether a received state still waits for records.
    pub(crate) fn waiting(&self) -> bool {
        self.windows.len() > 1
    }

    /// Stops for good: after a fatal error no later state may go out.
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
    }

    /// The states earned since the last call, in input order.
    pub(crate) fn earned(&mut self) -> Vec<Earned> {
        let mut out = Vec::new();
        while !self.stopped && self.windows.len() > 1 {
            let w = &self.windows[0];
            if w.committed + w.rejected < w.recorded {
                break;
            }
            let w = self.windows.pop_front().expect("checked length");
            self.first += 1;
            out.push(Earned {
                state: w.state.expect("a closed window has its state"),
                committed: w.committed,
                rejected: w.rejected,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: u64) -> Map<String, Value> {
        serde_json::from_value(serde_json::json!({"type": "LEGACY", "data": {"n": n}})).unwrap()
    }

    fn earned(state_n: u64, committed: u64, rejected: u64) -> Earned {
        Earned {
            state: state(state_n),
            committed,
            rejected,
        }
    }

    #[test]
    fn state_waits_for_every_record_before_it_and_keeps_order() {
        let mut c = Checkpoint::new();
        let a = c.record();
        let b = c.record();
        c.state(state(1));
        let d = c.record();
        c.state(state(2));
        assert_eq!(c.earned(), vec![]);
        c.settle(d, 1, 0); // window 2 done, but window 1 is not: nothing yet
        assert_eq!(c.earned(), vec![]);
        assert!(c.waiting());
        c.settle(a, 1, 0);
        assert_eq!(c.earned(), vec![]);
        c.settle(b, 0, 1);
        assert_eq!(c.earned(), vec![earned(1, 1, 1), earned(2, 1, 0)]);
        assert!(!c.waiting());
        assert_eq!(c.earned(), vec![], "each state is earned once");
    }

    #[test]
    fn a_state_with_nothing_pending_is_earned_at_once() {
        let mut c = Checkpoint::new();
        c.state(state(1));
        assert_eq!(c.earned(), vec![earned(1, 0, 0)]);
        // Records after it belong to the next window.
        let w = c.record();
        c.state(state(2));
        c.settle(w, 1, 0);
        assert_eq!(c.earned(), vec![earned(2, 1, 0)]);
    }

    #[test]
    fn nothing_is_earned_after_stop() {
        let mut c = Checkpoint::new();
        let a = c.record();
        c.state(state(1));
        c.stop();
        c.settle(a, 1, 0);
        assert_eq!(c.earned(), vec![]);
    }
}
