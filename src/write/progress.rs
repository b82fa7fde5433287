//! The progress line for a person at a shell: records read, written,
//! rejected, the rate, and the API budget left, redrawn on stderr. Stdout
//! stays protocol-only; the line is off unless stderr is a terminal or the
//! user asked for it.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::shard::Shared;

/// Redraws the line while a sync runs; stops (and ends the line) on drop.
pub struct Progress {
    read: Arc<AtomicU64>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the reporter; `terminal` redraws in place every second,
    /// otherwise a plain line is printed every ten seconds.
    pub fn start(shared: Arc<Shared>, terminal: bool) -> Progress {
        let read = Arc::new(AtomicU64::new(0));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (r, st) = (read.clone(), stop.clone());
        let every = if terminal {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(10)
        };
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let (lock, cvar) = &*st;
            let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                stopped = cvar
                    .wait_timeout(stopped, every)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                let line = render(&shared, r.load(Ordering::Relaxed), started.elapsed());
                let mut err = std::io::stderr().lock();
                let _ = if terminal {
                    write!(err, "\r\x1b[2K{line}")
                } else {
                    writeln!(err, "{line}")
                };
                if *stopped {
                    if terminal {
                        let _ = writeln!(err);
                    }
                    break;
                }
            }
        });
        Progress {
            read,
            stop,
            thread: Some(thread),
        }
    }

    /// Records read so far (set by the reading loop now and then).
    pub fn set_read(&self, n: u64) {
        self.read.store(n, Ordering::Relaxed);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn render(shared: &Shared, read: u64, elapsed: Duration) -> String {
    let written = shared.counters.records_written.load(Ordering::Relaxed);
    let rejected = shared.rejects.rejected();
    let usage = shared.client.governor.usage();
    let rate = written as f64 / elapsed.as_secs_f64().max(0.001);
    let budget = match (usage.daily_remaining, usage.daily_limit) {
        (Some(left), Some(limit)) => format!("{left}/{limit} daily calls left"),
        (Some(left), None) => format!("{left} daily calls left"),
        _ => "daily budget unknown".to_string(),
    };
    format!(
        "destination-hubspot: {read} read, {written} written, {rejected} rejected, {rate:.0} records/s, {} calls ({} rate-limited), {budget}, {}s",
        usage.calls,
        usage.throttled,
        elapsed.as_secs()
    )
}
