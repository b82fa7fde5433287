//! The rate governor shared by every worker: it keeps requests just under
//! HubSpot's per-app burst limit and inside the daily quota, and shares the
//! burst window fairly with other syncs that use the same token.
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
//! The burst limit and the daily quota are learned from the
//! `X-HubSpot-RateLimit-*` headers of every answer; until the first answer
//! only one request goes (a sync that starts beside another must not throw
//! eight requests into a window that is already full).
//!
//! **Sharing a token.** The burst window belongs to the token, not to this
//! process: other syncs with the same key spend it too, and nothing but
//! HubSpot's answers tells us about them (they may run anywhere).
//! - *Their requests.* An answer's `Remaining` gives the server's count at
//!   the moment it took our request; less our requests counted by then (the
//!   answered ones still held, and those in flight sent before it) it is the
//!   others' count. The model of their requests is set to exactly that on
//!   every answer (entries added stamped now, or the oldest dropped), and
//!   each is held one interval and one round trip: the request that takes
//!   the place of one of theirs is on its way before we can see it.
//! - *Our share.* While others are seen, our own requests in the window are
//!   capped by a share. All syncs aim together at the limit less a small
//!   headroom ([`headroom`]: 4 of 190). Each counts the others in syncs of
//!   its own size, as one or two (a sync that just started would count a
//!   hundred), which gives it an equal split of that aim.
//!   When an answer shows the window nearly full, the share drops to our
//!   proportional part of what all use now, scaled to the aim — if every
//!   sync does the same they leave the headroom free — and, above an equal
//!   split, to the mean of that and the equal split: the larger shares
//!   shrink towards equal ones. When an answer shows room, a share below an
//!   equal split (a sync that just started) takes its part of the room at
//!   once; a larger one grows slowly (half a percent of the limit a second),
//!   also within its part of the room. Syncs that race for the same free
//!   slots are what earn 429s; shares that add up to less than the limit
//!   never race.
//! - *Near the edge*, at most an equal part of the room we see is in
//!   flight at once: the rest is left for the others' requests that we can't
//!   see yet.
//! - Alone, no share applies: one sync runs at the full limit.
//!
//! A 429 means the model was wrong: every worker pauses, and our share stops
//! at the requests we hold. The refused request is not held (HubSpot does
//! not count it; were it counted, the next answer would show it among the
//! others').
//!
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
/// While others share the window: share won back per second while it has
/// room, as a fraction of the limit.
const SHARE_GROWTH: f64 = 0.005;

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

/// `Remaining` at or below which the window counts as full while others
/// share it: the slots the syncs together leave free.
fn headroom(max: u32) -> u32 {
    (max / 40).max(4)
}

struct State {
    /// Learned burst limit and window; `learned` once an answer told them.
    max: u32,
    interval: Duration,
    learned: bool,
    /// Requests sent and not answered yet (id and when, in sending order).
    in_flight: Vec<(u64, Instant)>,
    /// Recent time from sending a request to its answer (smoothed).
    round_trip: Duration,
    /// Answer times of recent requests, held for one interval (oldest
    /// first: each is stamped under the lock, so they arrive in order).
    answered: VecDeque<Instant>,
    /// The others' requests in the window, as last counted (oldest first).
    foreign: VecDeque<Instant>,
    /// Our share of the window while others use it, in slots.
    share: f64,
    share_updated: Instant,
    /// The syncs using the window, us included, as last estimated.
    syncs: f64,
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
                learned: false,
                in_flight: Vec::new(),
                round_trip: Duration::ZERO,
                answered: VecDeque::new(),
                foreign: VecDeque::new(),
                share: f64::from(INITIAL_MAX),
                share_updated: Instant::now(),
                syncs: 1.0,
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
                    let id = s.take();
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
        Some(Permit { id: s.take() })
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
        if let Some(at) = s.in_flight.iter().position(|&(id, _)| id == permit.id) {
            let (_, sent) = s.in_flight.remove(at);
            s.round_trip = (s.round_trip * 7 + now.duration_since(sent)) / 8;
        }
        if throttled.is_some() {
            // A refused request is not counted in the window (were it, the
            // next answer would show it among the others' requests); our
            // share stops at what we hold.
            s.share = s.share.min(s.own() as f64).max(1.0);
        } else if !s.unlimited {
            s.answered.push_back(now);
        }
        if let Some(max) = headers.max.filter(|&m| m > 0) {
            if !s.learned {
                s.share = f64::from(max);
            }
            s.max = max;
        }
        // An answer without the headers teaches nothing more to wait for.
        s.learned = true;
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
                let until = now + wait;
                if s.paused_until.is_none_or(|p| p < until) {
                    s.paused_until = Some(until);
                }
            }
            None => {
                s.consecutive_throttles = 0;
                if let (Some(max), Some(remaining)) = (headers.max, headers.remaining) {
                    let ours = s.count_others(now, permit.id, max.saturating_sub(remaining));
                    s.adjust_share(now, remaining, ours);
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
    /// Registers a request as sent; its id.
    fn take(&mut self) -> u64 {
        self.next_id += 1;
        self.in_flight.push((self.next_id, Instant::now()));
        self.next_id
    }

    /// Our requests in the window as we count them.
    fn own(&self) -> usize {
        self.in_flight.len() + self.answered.len()
    }

    /// Forgets requests the server's window has surely let go. The others'
    /// are held one round trip longer: the request that takes the place of
    /// one of theirs is on its way before we can see it.
    fn expire(&mut self, now: Instant) {
        let held = [
            (&mut self.answered, self.interval),
            (&mut self.foreign, self.interval + self.round_trip),
        ];
        for (times, hold) in held {
            while times
                .front()
                .is_some_and(|&t| now.duration_since(t) >= hold)
            {
                times.pop_front();
            }
        }
    }

    /// Sets the model of the others' requests to what the server counted
    /// (`server_used`) when it took request `id`, less ours counted by then:
    /// every answered one still held, and those in flight sent before it.
    /// Returns ours.
    fn count_others(&mut self, now: Instant, id: u64, server_used: u32) -> usize {
        self.expire(now);
        let ours = self.answered.len() + self.in_flight.iter().filter(|&&(i, _)| i < id).count();
        let others = (server_used as usize).saturating_sub(ours);
        while self.foreign.len() > others {
            self.foreign.pop_front();
        }
        while self.foreign.len() < others {
            self.foreign.push_back(now);
        }
        ours
    }

    /// Sets our share of the window by what this answer showed (see the
    /// module doc): alone, the whole window; beside others and nearly
    /// full, our proportional part of the aim, less for a share above an
    /// equal split; beside others with room, our part of the room at once
    /// below an equal split, slowly above it.
    fn adjust_share(&mut self, now: Instant, remaining: u32, ours: usize) {
        let secs = now
            .duration_since(self.share_updated)
            .as_secs_f64()
            .min(1.0);
        self.share_updated = now;
        let full = f64::from(self.max);
        let headroom = f64::from(headroom(self.max));
        let aim = full - headroom;
        let others = self.foreign.len() as f64;
        let ours = ours as f64;
        // The others, counted in syncs of our size: one or two of them (a
        // sync that just started would count a hundred).
        let syncs = (1.0 + (others / ours.max(1.0)).round()).clamp(2.0, 3.0);
        self.syncs = syncs;
        let equal = aim / syncs;
        self.share = if others == 0.0 {
            full
        } else if f64::from(remaining) <= headroom {
            let used = (full - f64::from(remaining)).max(1.0);
            let proportional = ours * aim / used;
            self.share
                .min(proportional)
                .min((proportional + equal) / 2.0)
        } else {
            let room = (f64::from(remaining) - headroom) / syncs;
            let grown = if self.share < equal {
                // Below an equal split (a sync that just started): our
                // part of the room at once.
                (ours + room).min(equal)
            } else {
                (self.share + full * SHARE_GROWTH * secs).min(ours + room)
            };
            self.share.max(grown)
        }
        .clamp(1.0, full);
    }

    /// None when a slot is free now, else how long until one may be.
    fn window_wait(&mut self, now: Instant) -> Option<Duration> {
        if self.unlimited {
            return None;
        }
        if !self.learned {
            // One request until an answer tells the limit and the others' use.
            return (!self.in_flight.is_empty()).then_some(self.interval);
        }
        self.expire(now);
        // One slot of margin below HubSpot's own limit.
        let limit = self.max.saturating_sub(1).max(1) as usize;
        let held = self.answered.len() + self.foreign.len();
        let used = held + self.in_flight.len();
        let shared = !self.foreign.is_empty();
        let free = if shared {
            let room = limit.saturating_sub(held);
            used < limit
                && self.own() < self.share as usize
                && self.in_flight.len() < (room / self.syncs as usize).max(1)
        } else {
            used < limit.min(self.share as usize).max(1)
        };
        if free {
            return None;
        }
        let next_free = [
            self.answered.front().map(|&t| t + self.interval),
            self.foreign
                .front()
                .map(|&t| t + self.interval + self.round_trip),
        ]
        .into_iter()
        .flatten()
        .min();
        Some(match next_free {
            Some(t) => t.saturating_duration_since(now),
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
    fn one_request_until_the_first_answer_then_the_learned_limit() {
        let g = Governor::new(0);
        let probe = g.acquire().unwrap();
        assert_eq!(free_slots(&g), 0, "only the probe before an answer");
        g.release(probe, &headers(190, 189), None);
        // Professional: 190, one slot of margin, the probe's slot held.
        assert_eq!(free_slots(&g), 188);
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
    fn a_429_pauses_everyone_and_holds_the_pace_until_a_clean_answer() {
        let g = learned(190, 10_000);
        let mut sent = (0..9)
            .map(|_| g.acquire().unwrap())
            .collect::<Vec<_>>()
            .into_iter();
        g.release(
            sent.next().unwrap(),
            &headers(190, 0),
            Some(Duration::from_millis(40)),
        );
        assert_eq!(g.usage().throttled, 1);
        assert_eq!(free_slots(&g), 0, "paused");
        std::thread::sleep(Duration::from_millis(50));
        // The refused request is not held, and no new one takes its place:
        // 1 answered + 8 in flight is all we may hold until a clean answer.
        assert_eq!(free_slots(&g), 0);
        g.release(sent.next().unwrap(), &headers(190, 188), None);
        assert_eq!(free_slots(&g), 189 - 2 - 7, "alone again: the whole window");
    }

    #[test]
    fn the_others_requests_are_set_to_the_servers_count_on_every_answer() {
        let g = learned(100, 10_000);
        let (first, later) = (g.acquire().unwrap(), g.acquire().unwrap());
        // The server held 50 when it took `first`: ours were the learned
        // request and `first` (`later` was sent after it), so 48 are theirs.
        g.release(first, &headers(100, 50), None);
        assert_eq!(g.lock().foreign.len(), 48);
        // Some of theirs left the window: the model follows, both ways.
        g.release(later, &headers(100, 80), None);
        assert_eq!(g.lock().foreign.len(), 17);
    }

    /// The share a sync holding `ours` of the `used` requests HubSpot
    /// counts (limit 190) sets from one answer a second after the last,
    /// starting from `share`.
    fn share_after(share: f64, ours: usize, used: u32) -> f64 {
        let g = learned(190, 10_000);
        let mut s = g.lock();
        let now = Instant::now();
        s.answered = std::iter::repeat_n(now, ours).collect();
        s.share = share;
        s.share_updated = now - Duration::from_secs(1);
        let ours = s.count_others(now, u64::MAX, used);
        s.adjust_share(now, 190 - used, ours);
        s.share
    }

    #[test]
    fn a_full_window_shrinks_the_shares_to_leave_headroom_and_towards_equal() {
        // Two syncs with 120 and 60 of the 188 HubSpot counts: the larger
        // gives up more than its proportional part, the smaller keeps it.
        let (big, small) = (share_after(190.0, 120, 188), share_after(190.0, 60, 188));
        let proportional = |ours: f64| ours * (190.0 - f64::from(headroom(190))) / 188.0;
        assert!(
            big + small <= 190.0 - f64::from(headroom(190)),
            "{big} + {small}"
        );
        assert!(big < proportional(120.0) - 10.0, "{big}");
        assert!((small - proportional(60.0)).abs() < 1e-9, "{small}");
        // A share is never raised by a full window.
        assert_eq!(share_after(50.0, 60, 188), 50.0);
    }

    #[test]
    fn room_lets_a_small_share_catch_up_at_once_and_a_large_one_grow_slowly() {
        // 60 ours of 150: counted as one of three syncs, an equal split is
        // 62; the room (40, less 4 of headroom, split in three) allows it.
        assert_eq!(share_after(60.0, 60, 150), 62.0);
        // 100 ours of 150: above an equal split of two, half a percent of
        // the limit a second.
        let grown = share_after(100.0, 100, 150);
        assert!(grown > 100.0 && grown <= 101.0, "{grown}");
        // Room never lowers a share.
        assert_eq!(share_after(60.0, 30, 180), 60.0);
        // Alone: the whole window.
        assert_eq!(share_after(60.0, 60, 60), 190.0);
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
