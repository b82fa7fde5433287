//! The one rule for sending a partial batch. A full batch goes at once and
//! the last one at the end of the input; in between, a partial batch waits
//! for more records unless a state waits on it or it has waited too long.

use std::time::{Duration, Instant};

/// The one rule for sending a partial batch: when a state waits and the
/// input has paused for `quiet`, or when the batch has been open for
/// `max_age`. A full batch goes at once, and the last one at the end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlushRule {
    pub quiet: Duration,
    pub max_age: Duration,
}

impl Default for FlushRule {
    fn default() -> Self {
        FlushRule {
            quiet: Duration::from_millis(300),
            max_age: Duration::from_secs(5),
        }
    }
}

impl FlushRule {
    /// How long until a batch opened at `opened` must go (zero: now);
    /// `None` when no batch is open.
    pub(crate) fn due_in(
        &self,
        opened: Option<Instant>,
        last_input: Instant,
        state_waiting: bool,
        now: Instant,
    ) -> Option<Duration> {
        let by_age = (opened? + self.max_age).saturating_duration_since(now);
        let by_quiet = (last_input + self.quiet).saturating_duration_since(now);
        Some(if state_waiting {
            by_age.min(by_quiet)
        } else {
            by_age
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn nothing_open_means_nothing_due() {
        let t = Instant::now();
        assert_eq!(FlushRule::default().due_in(None, t, true, t), None);
    }

    #[test]
    fn a_waiting_state_sends_the_batch_once_input_pauses() {
        let rule = FlushRule::default();
        let t = Instant::now();
        // Input keeps coming: the batch stays open.
        assert_eq!(
            rule.due_in(Some(t), t + 1000 * MS, true, t + 1100 * MS),
            Some(200 * MS)
        );
        // Paused for 300 ms with a state waiting: due.
        assert_eq!(
            rule.due_in(Some(t), t + 1000 * MS, true, t + 1300 * MS),
            Some(Duration::ZERO)
        );
        // Without a waiting state a pause changes nothing.
        assert_eq!(
            rule.due_in(Some(t), t + 1000 * MS, false, t + 1300 * MS),
            Some(3700 * MS)
        );
    }

    #[test]
    fn an_old_batch_goes_even_while_input_flows() {
        let rule = FlushRule::default();
        let t = Instant::now();
        let now = t + 5000 * MS;
        assert_eq!(rule.due_in(Some(t), now, false, now), Some(Duration::ZERO));
        assert_eq!(rule.due_in(Some(t), now, true, now), Some(Duration::ZERO));
    }
}
