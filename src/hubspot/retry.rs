//! The retry policy for transient failures (5xx, dropped connections,
//! timeouts): exponential backoff with full jitter, bounded both in attempts
//! and in total time.

use std::time::{Duration, Instant};

/// Bounds and pacing for retries of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Total time budget for one call, retries included.
    pub max_total: Duration,
    /// First backoff; doubled per attempt up to `max_delay`.
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (1-based), with jitter drawn
    /// from `seed` so tests stay deterministic: uniform in [d/2, d].
    pub(crate) fn delay(&self, attempt: u32, seed: u64) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let full = exp.min(self.max_delay);
        let half = full / 2;
        let spread = full.as_millis().saturating_sub(half.as_millis()) as u64;
        let jitter = if spread == 0 {
            0
        } else {
            mix(seed ^ attempt as u64) % (spread + 1)
        };
        half + Duration::from_millis(jitter)
    }

    /// Whether another retry is allowed after `attempt` retries, started at `since`.
    pub(crate) fn allows(&self, attempt: u32, since: Instant, next_delay: Duration) -> bool {
        attempt <= self.max_retries && since.elapsed() + next_delay <= self.max_total
    }
}

/// splitmix64: a cheap, well-spread hash for jitter.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            max_total: Duration::from_secs(60),
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        }
    }

    #[test]
    fn delay_doubles_and_is_capped_with_jitter_in_upper_half() {
        let p = policy();
        for seed in 0..50 {
            let d1 = p.delay(1, seed).as_millis();
            let d3 = p.delay(3, seed).as_millis();
            let d9 = p.delay(9, seed).as_millis();
            assert!((50..=100).contains(&d1), "{d1}");
            assert!((200..=400).contains(&d3), "{d3}");
            assert!((500..=1000).contains(&d9), "{d9}");
        }
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        let p = policy();
        let now = Instant::now();
        assert!(p.allows(5, now, Duration::ZERO));
        assert!(!p.allows(6, now, Duration::ZERO));
        assert!(!p.allows(1, now, Duration::from_secs(61)));
    }
}
