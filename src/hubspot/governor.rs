//! The rate governor shared by every worker: it keeps requests just under
//! HubSpot's per-app burst limit and inside the daily quota.
//!
//! HubSpot counts a request in its rolling window when the request arrives;
//! we can't see that instant, but the moment its answer reaches us is never
//! earlier. So a slot is taken when a request is sent and is held until one
//! full interval after its answer came back: the server's window has then
//! surely let it go. The cost is one round trip per interval (about 1.5 % at
//! 150 ms in 10 s); the gain is that our own pacing never earns a 429.
//!
//! HubSpot's limits for private apps and service keys (usage guidelines,
//! late 2026), per 10 s burst per app or key, and daily calls per account:
//!
//! | tier | burst / 10 s | daily |
//! |---|---|---|
//! | Free, Starter | 100 | 250,000 |
//! | Professional | 190 | 625,000 |
//! | Enterprise | 190 | 1,000,000 |
//! | with the API Limit Increase | 250 | +1,000,000 per increase (two at most) |
//!
//! The burst limit starts at the lowest tier's and is learned from the
//! `X-HubSpot-RateLimit-*` headers of every answer, as is the daily quota
//! (nothing is assumed about it before the first answer). A 429 means someone
//! else spends the same budget or the limit changed: every worker pauses and
//! the limit is lowered a notch, then recovers as answers come back clean.
//! Hand-written rather than the `governor` crate: its GCRA model paces by a
//! fixed rate and can't take "remaining" and "max" from response headers.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Burst limit assumed until HubSpot's headers tell the real one: the
/// Free and Starter tiers' 100 per 10 s, so no account's first window
/// is overrun.
pub const INITIAL_MAX: u32 = 100;
/// HubSpot's burst window.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// What a response's rate-limit headers said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub max: Option<u32>,
    pub remaining: Option<u32>,
    pub interval_ms: Option<u64>,
    pub daily: Option<u64>,
    pub daily_remaining: Option<u64>,
}

/// Why a request may not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Sending would eat into the daily reserve the user keeps for others.
    DailyReserve { remaining: u64, reserve: u64 },
}

/// A slot taken for one request; give it back with [`Governor::release`].
#[derive(Debug)]
#[must_use]
pub(crate) struct Permit {
    id: u64,
}

/// Usage figures for the end-of-sync summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub calls: u64,
    pub throttled: u64,
    pub max: u32,
    pub daily_remaining: Option<u64>,
    pub daily_limit: Option<u64>,
}

struct State {
    /// Learned burst limit and window.
    max: u32,
    interval: Duration,
    /// Slots given up after 429s: a tenth of the limit per 429, at most
    /// half of it, won back a hundredth of the limit per clean answer.
    penalty: u32,
    /// Requests sent and not answered yet (id).
    in_flight: Vec<u64>,
    /// Answer times of recent requests, held for one interval (oldest
    /// first: each is stamped under the lock, so they arrive in order).
    answered: VecDeque<Instant>,
    /// Extra slots HubSpot says are used by someone else (oldest first).
    foreign: VecDeque<Instant>,
    paused_until: Option<Instant>,
    daily_remaining: Option<u64>,
    daily_limit: Option<u64>,
    reserve: u64,
    next_id: u64,
    calls: u64,
    throttled: u64,
    consecutive_throttles: u32,
    /// Pacing off: the one-request-at-a-time baseline of the benchmark.
    unlimited: bool,
}

/// The shared rate governor.
pub struct Governor {
    state: Mutex<State>,
    freed: Condvar,
}

impl Governor {
    /// A governor keeping `daily_reserve` calls of the daily quota unused.
    pub fn new(daily_reserve: u64) -> Governor {
        Governor {
            state: Mutex::new(State {
                max: INITIAL_MAX,
                interval: DEFAULT_INTERVAL,
                penalty: 0,
                in_flight: Vec::new(),
                answered: VecDeque::new(),
                foreign: VecDeque::new(),
                paused_until: None,
                daily_remaining: None,
                daily_limit: None,
                reserve: daily_reserve,
                next_id: 0,
                calls: 0,
                throttled: 0,
                consecutive_throttles: 0,
                unlimited: false,
            }),
            freed: Condvar::new(),
        }
    }

    /// A governor that never waits for the burst window (baseline runs only).
    pub fn unlimited() -> Governor {
        let g = Governor::new(0);
        g.lock().unlimited = true;
        g
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until a request may be sent, and takes its slot.
    pub(crate) fn acquire(&self) -> Result<Permit, Refusal> {
        let mut s = self.lock();
        loop {
            let now = Instant::now();
            if let Some(remaining) = s.daily_remaining {
                if remaining <= s.reserve {
                    return Err(Refusal::DailyReserve {
                        remaining,
                        reserve: s.reserve,
                    });
                }
            }
            let wait = match s.paused_until {
                Some(until) if until > now => Some(until - now),
                _ => s.window_wait(now),
            };
            match wait {
                None => {
                    s.next_id += 1;
                    let id = s.next_id;
                    s.in_flight.push(id);
                    s.calls += 1;
                    if let Some(r) = s.daily_remaining.as_mut() {
                        *r = r.saturating_sub(1);
                    }
                    return Ok(Permit { id });
                }
                // Wait outside the lock; a released slot wakes us early.
                Some(d) => {
                    s = self
                        .freed
                        .wait_timeout(s, d.max(Duration::from_millis(1)))
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            }
        }
    }

    /// Takes a slot if one is free now (tests ask how many requests may go).
    #[cfg(test)]
    fn try_acquire(&self) -> Option<Permit> {
        let mut s = self.lock();
        let now = Instant::now();
        if s.paused_until.is_some_and(|until| until > now) || s.window_wait(now).is_some() {
            return None;
        }
        s.next_id += 1;
        let id = s.next_id;
        s.in_flight.push(id);
        Some(Permit { id })
    }

    /// Returns a slot once its answer (or transport error) is in, learning
    /// from the headers; `throttled` when the answer was a 429.
    pub(crate) fn release(
        &self,
        permit: Permit,
        headers: &RateHeaders,
        throttled: Option<Duration>,
    ) {
        let mut s = self.lock();
        let now = Instant::now();
        s.in_flight.retain(|&id| id != permit.id);
        if !s.unlimited {
            s.answered.push_back(now);
        }
        if let Some(max) = headers.max.filter(|&m| m > 0) {
            s.max = max;
        }
        if let Some(ms) = headers.interval_ms.filter(|&ms| ms > 0) {
            s.interval = Duration::from_millis(ms);
        }
        if let Some(d) = headers.daily_remaining {
            // The server's count is the truth, less what we sent since.
            s.daily_remaining = Some(d.saturating_sub(s.in_flight.len() as u64));
        }
        if headers.daily.is_some() {
            s.daily_limit = headers.daily;
        }
        match throttled {
            Some(wait) => {
                s.throttled += 1;
                s.consecutive_throttles += 1;
                s.penalty = (s.penalty + (s.max / 10).max(1)).min(s.max / 2);
                let until = now + wait;
                if s.paused_until.is_none_or(|p| p < until) {
                    s.paused_until = Some(until);
                }
            }
            None => {
                s.consecutive_throttles = 0;
                s.penalty = s.penalty.saturating_sub((s.max / 100).max(1));
                if let (Some(max), Some(remaining)) = (headers.max, headers.remaining) {
                    // Someone else spends this app's budget: count their use.
                    let server_used = max.saturating_sub(remaining) as usize;
                    s.expire(now);
                    let ours = s.answered.len() + s.in_flight.len() + s.foreign.len();
                    for _ in ours..server_used {
                        s.foreign.push_back(now);
                    }
                }
            }
        }
        drop(s);
        self.freed.notify_all();
    }

    /// How long to wait after a 429 that gave no Retry-After: doubling from
    /// `initial` with each 429 in a row, up to the window length.
    pub(crate) fn throttle_wait(&self, initial: Duration) -> Duration {
        let s = self.lock();
        let doubled = initial.saturating_mul(1u32 << s.consecutive_throttles.min(10));
        doubled.min(s.interval)
    }

    /// Usage so far.
    pub fn usage(&self) -> Usage {
        let s = self.lock();
        Usage {
            calls: s.calls,
            throttled: s.throttled,
            max: s.max,
            daily_remaining: s.daily_remaining,
            daily_limit: s.daily_limit,
        }
    }
}

impl State {
    fn expire(&mut self, now: Instant) {
        let interval = self.interval;
        for times in [&mut self.answered, &mut self.foreign] {
            while times
                .front()
                .is_some_and(|&t| now.duration_since(t) >= interval)
            {
                times.pop_front();
            }
        }
    }

    /// None when a slot is free now, else how long until one may be.
    fn window_wait(&mut self, now: Instant) -> Option<Duration> {
        if self.unlimited {
            return None;
        }
        self.expire(now);
        // One slot of margin below HubSpot's own limit.
        let limit = self.max.saturating_sub(1 + self.penalty).max(1) as usize;
        let used = self.in_flight.len() + self.answered.len() + self.foreign.len();
        if used < limit {
            return None;
        }
        let oldest = match (self.answered.front(), self.foreign.front()) {
            (Some(a), Some(f)) => Some(*a.min(f)),
            (a, f) => a.or(f).copied(),
        };
        Some(match oldest {
            Some(t) => (t + self.interval).saturating_duration_since(now),
            // Every slot is in flight: the next answer frees one.
            None => self.interval,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(max: u32, remaining: u32) -> RateHeaders {
        RateHeaders {
            max: Some(max),
            remaining: Some(remaining),
            interval_ms: Some(10_000),
            ..RateHeaders::default()
        }
    }

    /// How many requests may be sent right now (their slots stay taken).
    fn free_slots(g: &Governor) -> usize {
        std::iter::from_fn(|| g.try_acquire()).count()
    }

    /// A governor that has learned a limit of `max` from one clean answer.
    fn learned(max: u32, interval_ms: u64) -> Governor {
        let g = Governor::new(0);
        let h = RateHeaders {
            max: Some(max),
            remaining: Some(max - 1),
            interval_ms: Some(interval_ms),
            ..RateHeaders::default()
        };
        g.release(g.acquire().unwrap(), &h, None);
        g
    }

    #[test]
    fn starts_at_the_lowest_tier_then_learns_the_header_limit() {
        // One slot of margin below HubSpot's own limit.
        assert_eq!(free_slots(&Governor::new(0)), INITIAL_MAX as usize - 1);
        // Professional: 190, one answered slot held for the window.
        assert_eq!(free_slots(&learned(190, 10_000)), 188);
        assert_eq!(free_slots(&learned(250, 10_000)), 248);
    }

    #[test]
    fn slots_are_held_one_interval_after_the_answer() {
        let g = learned(2, 50);
        // A limit of 2 less the margin: the one slot is held 50 ms after the answer.
        assert_eq!(free_slots(&g), 0);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(free_slots(&g), 1);
    }

    #[test]
    fn a_429_pauses_everyone_and_lowers_the_pace_by_half_at_most() {
        let calm = free_slots(&learned(190, 10_000));
        let g = learned(190, 10_000);
        g.release(
            g.acquire().unwrap(),
            &RateHeaders::default(),
            Some(Duration::from_millis(40)),
        );
        assert_eq!(g.usage().throttled, 1);
        assert_eq!(free_slots(&g), 0, "paused");
        std::thread::sleep(Duration::from_millis(50));
        let after = free_slots(&g);
        assert!(after + 1 < calm, "{after} slots after a 429, {calm} before");
        // A storm lowers the pace to half the limit, not below.
        let g = learned(190, 10_000);
        for _ in 0..30 {
            g.release(
                g.acquire().unwrap(),
                &RateHeaders::default(),
                Some(Duration::ZERO),
            );
        }
        let held = 31;
        assert_eq!(free_slots(&g) + held, 190 / 2 - 1);
    }

    #[test]
    fn clean_answers_win_back_the_pace_a_429_cost() {
        let window = Duration::from_millis(20);
        let g = learned(100, window.as_millis() as u64);
        g.release(
            g.acquire().unwrap(),
            &RateHeaders::default(),
            Some(Duration::ZERO),
        );
        std::thread::sleep(window + Duration::from_millis(10));
        let sent: Vec<Permit> = std::iter::from_fn(|| g.try_acquire()).collect();
        let lowered = sent.len();
        assert!(lowered < 99, "{lowered}");
        for p in sent {
            g.release(p, &RateHeaders::default(), None);
        }
        std::thread::sleep(window + Duration::from_millis(10));
        assert_eq!(
            free_slots(&g),
            99,
            "back to the full limit after {lowered} clean answers"
        );
    }

    #[test]
    fn foreign_usage_from_remaining_header_is_counted() {
        let g = Governor::new(0);
        g.release(g.acquire().unwrap(), &headers(10, 2), None);
        // Server says 8 used (1 ours, 7 by someone else); limit 10 less one
        // slot of margin: one more request may go, not two.
        assert_eq!(free_slots(&g), 1);
    }

    #[test]
    fn daily_reserve_refuses_before_the_quota_runs_out() {
        let g = Governor::new(5);
        g.release(
            g.acquire().unwrap(),
            &RateHeaders {
                daily: Some(100),
                daily_remaining: Some(6),
                ..Default::default()
            },
            None,
        );
        let p = g.acquire().unwrap(); // 6 → 5
        g.release(p, &RateHeaders::default(), None);
        assert_eq!(
            g.acquire().unwrap_err(),
            Refusal::DailyReserve {
                remaining: 5,
                reserve: 5
            }
        );
    }

    #[test]
    fn throttle_wait_doubles_up_to_the_interval() {
        let g = Governor::new(0);
        assert_eq!(
            g.throttle_wait(Duration::from_millis(100)),
            Duration::from_millis(100)
        );
        g.release(
            g.acquire().unwrap(),
            &RateHeaders::default(),
            Some(Duration::ZERO),
        );
        assert_eq!(
            g.throttle_wait(Duration::from_millis(100)),
            Duration::from_millis(200)
        );
        g.lock().consecutive_throttles = 30;
        assert_eq!(g.throttle_wait(Duration::from_secs(1)), DEFAULT_INTERVAL);
    }
}
