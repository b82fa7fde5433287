//! The progress line for a person at a shell: records read, written,
//! rejected, the rate, and the API budget left, on stderr. Stdout stays
//! protocol-only; the line is off unless stderr is a terminal or the user
//! asked for it. The sync's own loop calls [`Progress::tick`]: no thread.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::hubspot::governor::Usage;

/// Counts the line shows.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub read: u64,
    pub written: u64,
    pub rejected: u64,
}

/// When and how the line is drawn.
pub(crate) struct Progress {
    terminal: bool,
    started: Instant,
    next: Instant,
}

impl Progress {
    /// `terminal` redraws in place every second, otherwise a plain line is
    /// printed every ten seconds.
    pub(crate) fn new(terminal: bool, now: Instant) -> Progress {
        let mut p = Progress {
            terminal,
            started: now,
            next: now,
        };
        p.next = now + p.every();
        p
    }

    fn every(&self) -> Duration {
        Duration::from_secs(if self.terminal { 1 } else { 10 })
    }

    /// How long until the next line is due.
    pub(crate) fn due_in(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }

    /// Draws the line if it is due.
    pub(crate) fn tick(&mut self, now: Instant, counts: Counts, usage: &Usage) {
        if now < self.next {
            return;
        }
        self.next = now + self.every();
        self.draw(now, counts, usage, false);
    }

    /// Draws the line a last time (and ends it on a terminal).
    pub(crate) fn finish(&mut self, now: Instant, counts: Counts, usage: &Usage) {
        self.draw(now, counts, usage, true);
    }

    fn draw(&self, now: Instant, counts: Counts, usage: &Usage, last: bool) {
        let line = render(counts, usage, now - self.started);
        let mut err = std::io::stderr().lock();
        let _ = match (self.terminal, last) {
            (true, false) => write!(err, "\r\x1b[2K{line}"),
            (true, true) => writeln!(err, "\r\x1b[2K{line}"),
            (false, _) => writeln!(err, "{line}"),
        };
    }
}

fn render(c: Counts, usage: &Usage, elapsed: Duration) -> String {
    let rate = c.written as f64 / elapsed.as_secs_f64().max(0.001);
    let budget = match (usage.daily_remaining, usage.daily_limit) {
        (Some(left), Some(limit)) => format!("{left}/{limit} daily calls left"),
        (Some(left), None) => format!("{left} daily calls left"),
        _ => "daily budget unknown".to_string(),
    };
    format!(
        "destination-hubspot: {} read, {} written, {} rejected, {rate:.0} records/s, {} calls ({} rate-limited), {budget}, {}s",
        c.read,
        c.written,
        c.rejected,
        usage.calls,
        usage.throttled,
        elapsed.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_counts_rate_and_budget() {
        let usage = Usage {
            calls: 12,
            throttled: 1,
            daily_remaining: Some(900),
            daily_limit: Some(1000),
            ..Usage::default()
        };
        let c = Counts {
            read: 300,
            written: 200,
            rejected: 3,
        };
        let line = render(c, &usage, Duration::from_secs(4));
        assert!(line.contains("300 read, 200 written, 3 rejected, 50 records/s"));
        assert!(line.contains("12 calls (1 rate-limited), 900/1000 daily calls left, 4s"));
    }

    #[test]
    fn lines_are_due_once_per_period() {
        let t0 = Instant::now();
        let p = Progress::new(false, t0);
        assert_eq!(p.due_in(t0), Duration::from_secs(10));
        assert_eq!(p.due_in(t0 + Duration::from_secs(11)), Duration::ZERO);
        assert_eq!(Progress::new(true, t0).due_in(t0), Duration::from_secs(1));
    }
}
