//! Who may call and how often: bearer tokens with scopes and expiry, OAuth
//! access tokens minted by the refresh endpoint, the per-token rolling burst
//! window and the account's daily quota, and the `X-HubSpot-RateLimit-*`
//! headers that report them. One short lock per request; nothing here sleeps.

use crate::options::{OAuthClient, Options, RateLimit};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The burst maximum advertised when rate limiting is off.
const UNLIMITED_MAX: u64 = 1_000_000;

fn today() -> i64 {
    crate::clock::now_ms().div_euclid(86_400_000)
}

/// Rate-limit numbers for the response headers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RateHeaders {
    pub max: u64,
    pub remaining: u64,
    pub interval_ms: u64,
    /// (daily limit, daily remaining); `None` for OAuth tokens.
    pub daily: Option<(u64, u64)>,
}

impl RateHeaders {
    pub fn to_pairs(self) -> Vec<(String, String)> {
        let mut v = vec![
            ("X-HubSpot-RateLimit-Max".to_string(), self.max.to_string()),
            (
                "X-HubSpot-RateLimit-Remaining".to_string(),
                self.remaining.to_string(),
            ),
            (
                "X-HubSpot-RateLimit-Interval-Milliseconds".to_string(),
                self.interval_ms.to_string(),
            ),
        ];
        if let Some((limit, left)) = self.daily {
            v.push(("X-HubSpot-RateLimit-Daily".to_string(), limit.to_string()));
            v.push((
                "X-HubSpot-RateLimit-Daily-Remaining".to_string(),
                left.to_string(),
            ));
        }
        v
    }
}

/// Why a request was refused before reaching its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denial {
    /// No token, or one the account does not know.
    Invalid,
    /// The token has expired.
    Expired,
    /// The rolling burst window is full.
    Burst,
    /// The daily quota is used up.
    Daily,
}

/// An admitted caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub scopes: HashSet<String>,
}

struct TokenState {
    scopes: HashSet<String>,
    oauth: bool,
    expires_after: Option<u64>,
    expires_at: Option<Instant>,
    used: u64,
    expired: bool,
    window: VecDeque<Instant>,
}

impl TokenState {
    fn new(scopes: &[String], oauth: bool, expires_after: Option<u64>) -> Self {
        TokenState {
            scopes: scopes.iter().cloned().collect(),
            oauth,
            expires_after,
            expires_at: None,
            used: 0,
            expired: false,
            window: VecDeque::new(),
        }
    }
}

struct State {
    tokens: HashMap<String, TokenState>,
    daily_used: u64,
    /// The UTC day `daily_used` counts for.
    day: i64,
    minted: u64,
}

/// Tokens, windows and quota of the one emulated account.
pub(crate) struct Access {
    rate: Option<RateLimit>,
    daily_limit: u64,
    oauth_clients: Vec<OAuthClient>,
    configured: Vec<crate::options::TokenSpec>,
    seed: u64,
    state: Mutex<State>,
}

impl Access {
    pub fn new(opts: &Options) -> Self {
        let a = Access {
            rate: opts.rate_limit,
            daily_limit: opts.daily_limit,
            oauth_clients: opts.oauth_clients.clone(),
            configured: opts.tokens.clone(),
            seed: opts.seed,
            state: Mutex::new(State {
                tokens: HashMap::new(),
                daily_used: 0,
                day: today(),
                minted: 0,
            }),
        };
        a.reset();
        a
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets usage, expiry and minted tokens.
    pub fn reset(&self) {
        let mut s = self.lock();
        s.tokens = self
            .configured
            .iter()
            .map(|t| {
                (
                    t.token.clone(),
                    TokenState::new(&t.scopes, false, t.expires_after_requests),
                )
            })
            .collect();
        s.daily_used = 0;
        s.day = today();
        s.minted = 0;
    }

    fn window(&self) -> (u64, u64) {
        match self.rate {
            Some(r) => (r.max, r.interval_ms),
            None => (UNLIMITED_MAX, 10_000),
        }
    }

    /// Authenticates `token`, charges the request to its window and the daily
    /// quota, and returns the caller with the headers to send. A refused
    /// request is charged nothing.
    pub fn admit(
        &self,
        token: Option<&str>,
        now: Instant,
    ) -> Result<(Caller, RateHeaders), (Denial, RateHeaders)> {
        let (max, interval_ms) = self.window();
        let interval = Duration::from_millis(interval_ms);
        let mut guard = self.lock();
        let s = &mut *guard;
        // The quota resets at midnight (UTC here; HubSpot uses the account's
        // time zone).
        if s.day != today() {
            s.day = today();
            s.daily_used = 0;
        }
        let daily_left = self.daily_limit.saturating_sub(s.daily_used);
        let anonymous = RateHeaders {
            max,
            remaining: max,
            interval_ms,
            daily: Some((self.daily_limit, daily_left)),
        };
        let Some(t) = token.and_then(|t| s.tokens.get_mut(t)) else {
            return Err((Denial::Invalid, anonymous));
        };
        while t
            .window
            .front()
            .is_some_and(|&at| now.duration_since(at) >= interval)
        {
            t.window.pop_front();
        }
        let mut headers = RateHeaders {
            max,
            remaining: max.saturating_sub(t.window.len() as u64),
            interval_ms,
            daily: (!t.oauth).then_some((self.daily_limit, daily_left)),
        };
        if t.expired
            || t.expires_after.is_some_and(|n| t.used >= n)
            || t.expires_at.is_some_and(|at| now >= at)
        {
            t.expired = true;
            return Err((Denial::Expired, headers));
        }
        // OAuth apps are limited per app, not by the private-app daily quota.
        if !t.oauth && daily_left == 0 {
            return Err((Denial::Daily, headers));
        }
        if self.rate.is_some() && t.window.len() as u64 >= max {
            headers.remaining = 0;
            return Err((Denial::Burst, headers));
        }
        t.used += 1;
        if self.rate.is_some() {
            t.window.push_back(now);
        }
        headers.remaining = max.saturating_sub(t.window.len() as u64);
        if !t.oauth {
            s.daily_used += 1;
            headers.daily = Some((self.daily_limit, daily_left - 1));
        }
        Ok((
            Caller {
                scopes: t.scopes.clone(),
            },
            headers,
        ))
    }

    /// Headers for a response that was not charged (faults, inspection).
    pub fn peek(&self, token: Option<&str>, now: Instant) -> RateHeaders {
        let (max, interval_ms) = self.window();
        let s = self.lock();
        let daily_left = self.daily_limit.saturating_sub(s.daily_used);
        let t = token.and_then(|t| s.tokens.get(t));
        let used = t.map_or(0, |t| {
            t.window
                .iter()
                .filter(|&&at| now.duration_since(at) < Duration::from_millis(interval_ms))
                .count() as u64
        });
        RateHeaders {
            max,
            remaining: max.saturating_sub(used),
            interval_ms,
            daily: (!t.is_some_and(|t| t.oauth)).then_some((self.daily_limit, daily_left)),
        }
    }

    /// Marks `token` expired from now on (the `expire` fault).
    pub fn expire(&self, token: &str) {
        if let Some(t) = self.lock().tokens.get_mut(token) {
            t.expired = true;
        }
    }

    /// Requests charged to the daily quota so far.
    pub fn daily_used(&self) -> u64 {
        self.lock().daily_used
    }

    pub fn daily_limit(&self) -> u64 {
        self.daily_limit
    }

    /// Mints an access token for a refresh-token grant; `Err` carries
    /// HubSpot's OAuth error status word and message.
    pub fn refresh(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
        now: Instant,
    ) -> Result<(String, u64), (&'static str, &'static str)> {
        let Some(app) = self.oauth_clients.iter().find(|c| c.client_id == client_id) else {
            return Err(("BAD_CLIENT_ID", "missing or unknown client id"));
        };
        if app.client_secret != client_secret {
            return Err(("BAD_CLIENT_SECRET", "missing or invalid client secret"));
        }
        if app.refresh_token != refresh_token {
            return Err(("BAD_REFRESH_TOKEN", "missing or invalid refresh token"));
        }
        let mut s = self.lock();
        s.minted += 1;
        let token = format!(
            "oauth-local-{:016x}",
            crate::rng::draw(self.seed, s.minted, 0x0A07)
        );
        let mut st = TokenState::new(&app.scopes, true, app.access_token_requests);
        st.expires_at = Some(now + Duration::from_secs(app.expires_in_secs));
        s.tokens.insert(token.clone(), st);
        Ok((token, app.expires_in_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::TokenSpec;

    fn access(rate: Option<RateLimit>, daily: u64) -> Access {
        let mut o = Options::default();
        let mut t = TokenSpec::new("short");
        t.expires_after_requests = Some(2);
        o.tokens.push(t);
        o.rate_limit = rate;
        o.daily_limit = daily;
        o.oauth_clients
            .push(OAuthClient::new("cid", "secret", "rt"));
        Access::new(&o)
    }

    #[test]
    fn unknown_and_missing_tokens_are_invalid() {
        let a = access(None, 10);
        let now = Instant::now();
        assert_eq!(a.admit(None, now).unwrap_err().0, Denial::Invalid);
        assert_eq!(a.admit(Some("nope"), now).unwrap_err().0, Denial::Invalid);
        assert!(a.admit(Some("pat-local-demo"), now).is_ok());
    }

    #[test]
    fn burst_window_rolls() {
        let a = access(
            Some(RateLimit {
                max: 2,
                interval_ms: 1000,
            }),
            100,
        );
        let t0 = Instant::now();
        let tok = Some("pat-local-demo");
        assert_eq!(a.admit(tok, t0).unwrap().1.remaining, 1);
        assert_eq!(a.admit(tok, t0).unwrap().1.remaining, 0);
        assert_eq!(a.admit(tok, t0).unwrap_err().0, Denial::Burst);
        // A refused request is not charged: after the window it is clear.
        assert!(a.admit(tok, t0 + Duration::from_millis(1000)).is_ok());
        assert_eq!(a.daily_used(), 3);
    }

    #[test]
    fn daily_quota_is_shared_and_refuses_when_spent() {
        let a = access(None, 2);
        let now = Instant::now();
        assert!(a.admit(Some("pat-local-demo"), now).is_ok());
        let (_, h) = a.admit(Some("short"), now).unwrap();
        assert_eq!(h.daily, Some((2, 0)));
        assert_eq!(
            a.admit(Some("pat-local-demo"), now).unwrap_err().0,
            Denial::Daily
        );
    }

    #[test]
    fn tokens_expire_after_n_requests_or_on_demand() {
        let a = access(None, 100);
        let now = Instant::now();
        assert!(a.admit(Some("short"), now).is_ok());
        assert!(a.admit(Some("short"), now).is_ok());
        assert_eq!(a.admit(Some("short"), now).unwrap_err().0, Denial::Expired);
        a.expire("pat-local-demo");
        assert_eq!(
            a.admit(Some("pat-local-demo"), now).unwrap_err().0,
            Denial::Expired
        );
        a.reset();
        assert!(a.admit(Some("pat-local-demo"), now).is_ok());
    }

    #[test]
    fn oauth_refresh_mints_tokens_without_daily_headers() {
        let a = access(None, 100);
        let now = Instant::now();
        assert_eq!(
            a.refresh("cid", "secret", "bad", now).unwrap_err().0,
            "BAD_REFRESH_TOKEN"
        );
        assert_eq!(
            a.refresh("x", "secret", "rt", now).unwrap_err().0,
            "BAD_CLIENT_ID"
        );
        let (tok, ttl) = a.refresh("cid", "secret", "rt", now).unwrap();
        assert_eq!(ttl, 1800);
        let (_, h) = a.admit(Some(&tok), now).unwrap();
        assert_eq!(h.daily, None);
        assert_eq!(a.daily_used(), 0);
        let later = now + Duration::from_secs(1800);
        assert_eq!(a.admit(Some(&tok), later).unwrap_err().0, Denial::Expired);
    }
}
