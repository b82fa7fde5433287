//! What the emulator saw: request counts per route and status, concurrency,
//! 429s and faults served, and a per-request log — for tests to assert on and
//! for the demo to show. Recording never blocks a request for long: one small
//! lock per answered request.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The per-request log keeps at most this many entries (older ones drop).
pub const MAX_LOG: usize = 200_000;

/// A snapshot of the counters, as returned by [`crate::Emulator::stats`] and
/// `GET /_emulator/stats`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// HubSpot-namespace requests received (the numbering faults use).
    pub total_requests: u64,
    /// Count per (method, path template, status).
    pub by_route: Vec<RouteCount>,
    /// Most HubSpot-namespace requests in flight at once.
    pub peak_concurrent: u64,
    /// 429 responses served (rate limits and injected ones).
    pub too_many_requests: u64,
    /// Faults injected (any kind, including delays and expiries).
    pub faults_injected: u64,
    /// Requests charged to the daily quota.
    pub daily_used: u64,
    /// One entry per answered or dropped request, oldest first (bounded by
    /// [`MAX_LOG`]).
    pub requests: Vec<RequestLog>,
}

impl Stats {
    /// How many requests matched `method`, `path` template and `status`.
    pub fn count(&self, method: &str, path: &str, status: u16) -> u64 {
        self.by_route
            .iter()
            .filter(|r| r.method == method && r.path == path && r.status == status)
            .map(|r| r.count)
            .sum()
    }

    /// How many requests were answered with `status`.
    pub fn count_status(&self, status: u16) -> u64 {
        self.by_route
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.count)
            .sum()
    }
}

/// Requests per (method, path template, status). Status 0 = dropped.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RouteCount {
    pub method: String,
    /// e.g. `/crm/v3/objects/contacts/batch/upsert`, `/crm/v3/objects/contacts/{id}`.
    pub path: String,
    pub status: u16,
    pub count: u64,
}

/// One request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestLog {
    /// 1-based request number.
    pub number: u64,
    pub method: String,
    /// The request path, without the query.
    pub path: String,
    /// `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
    /// Number of `inputs` in a batch body, when there was one.
    pub inputs: Option<usize>,
    /// The injected fault, spelled as in [`crate::Fault`]'s `Display`.
    pub fault: Option<String>,
}

#[derive(Default)]
struct Inner {
    by_route: BTreeMap<(String, String, u16), u64>,
    too_many: u64,
    faults: u64,
    log: std::collections::VecDeque<RequestLog>,
}

/// The live counters.
#[derive(Default)]
pub(crate) struct Recorder {
    pub next_number: AtomicU64,
    in_flight: AtomicU64,
    peak: AtomicU64,
    inner: Mutex<Inner>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers a new request and counts it in flight.
    pub fn begin(&self) -> u64 {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.next_number.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Records the outcome of request `entry.number`.
    pub fn end(&self, template: &str, entry: RequestLog) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let mut s = self.lock();
        let status = entry.status.unwrap_or(0);
        *s.by_route
            .entry((entry.method.clone(), template.to_string(), status))
            .or_default() += 1;
        if status == 429 {
            s.too_many += 1;
        }
        if entry.fault.is_some() {
            s.faults += 1;
        }
        if s.log.len() >= MAX_LOG {
            s.log.pop_front();
        }
        s.log.push_back(entry);
    }

    pub fn snapshot(&self, daily_used: u64) -> Stats {
        let s = self.lock();
        Stats {
            total_requests: self.next_number.load(Ordering::SeqCst),
            by_route: s
                .by_route
                .iter()
                .map(|((method, path, status), count)| RouteCount {
                    method: method.clone(),
                    path: path.clone(),
                    status: *status,
                    count: *count,
                })
                .collect(),
            peak_concurrent: self.peak.load(Ordering::SeqCst),
            too_many_requests: s.too_many,
            faults_injected: s.faults,
            daily_used,
            requests: s.log.iter().cloned().collect(),
        }
    }

    /// Zeroes everything; requests in flight stay counted as in flight.
    pub fn reset(&self) {
        let mut s = self.lock();
        *s = Inner::default();
        self.next_number.store(0, Ordering::SeqCst);
        self.peak
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64, status: Option<u16>, fault: Option<&str>) -> RequestLog {
        RequestLog {
            number: n,
            method: "POST".into(),
            path: "/x".into(),
            status,
            inputs: Some(3),
            fault: fault.map(str::to_string),
        }
    }

    #[test]
    fn counts_routes_429s_faults_and_peak() {
        let r = Recorder::default();
        let a = r.begin();
        let b = r.begin();
        r.end("/x", entry(a, Some(200), None));
        r.end("/x", entry(b, Some(429), Some("429")));
        let s = r.snapshot(5);
        assert_eq!((s.total_requests, s.peak_concurrent), (2, 2));
        assert_eq!((s.too_many_requests, s.faults_injected), (1, 1));
        assert_eq!(s.count("POST", "/x", 200), 1);
        assert_eq!(s.requests.len(), 2);
        r.reset();
        assert_eq!(r.snapshot(0), Stats::default());
    }
}
