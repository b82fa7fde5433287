//! Throughput bench: how many batch-upsert inputs per second the emulator
//! serves with zero latency and no rate limit. N client threads (ureq, one
//! keep-alive connection each) send 100-input upserts for a bounded time.
//!
//! `cargo run --release -p hubspot-emulator --example throughput [-- SECS THREADS]`
//! (defaults: 5 s, 4 threads). The goal is ≥ 20,000 inputs/s on 2 cores.

use hubspot_emulator::{Emulator, Options};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(5)
        .clamp(1, 60);
    let threads: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(4)
        .clamp(1, 64);

    let opts = Options {
        rate_limit: None,
        daily_limit: u64::MAX,
        ..Options::default()
    };
    let emu = Emulator::start(opts).expect("start emulator");
    let url = format!("{}/crm/v3/objects/contacts/batch/upsert", emu.base_url());
    let inputs = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();

    std::thread::scope(|s| {
        for t in 0..threads {
            let (url, inputs, failures) = (&url, &inputs, &failures);
            s.spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut batch_no = 0u64;
                while Instant::now() < deadline {
                    // Half the batches create contacts, half update existing
                    // ones, with a realistic handful of properties each.
                    let body: Vec<String> = (0..100)
                        .map(|i| {
                            let n = if batch_no.is_multiple_of(2) { batch_no * 100 + i } else { i };
                            format!(
                                r#"{{"id":"user{t}-{n}@example.com","idProperty":"email","objectWriteTraceId":"{i}","properties":{{"firstname":"First{n}","lastname":"Last{n}","phone":"+1 555 {n:04}","city":"Oslo","lifecyclestage":"lead","annualrevenue":"{n}"}}}}"#
                            )
                        })
                        .collect();
                    let body = format!(r#"{{"inputs":[{}]}}"#, body.join(","));
                    let ok = agent
                        .post(url)
                        .header("Authorization", "Bearer pat-local-demo")
                        .content_type("application/json")
                        .send(&body)
                        .map(|mut r| {
                            let _ = r.body_mut().read_to_vec();
                            r.status().as_u16() == 200
                        })
                        .unwrap_or(false);
                    if ok {
                        inputs.fetch_add(100, Ordering::Relaxed);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    batch_no += 1;
                }
            });
        }
    });

    let elapsed = started.elapsed().as_secs_f64();
    let n = inputs.load(Ordering::Relaxed);
    let stats = emu.stats();
    println!(
        "{threads} threads, {elapsed:.1} s: {n} inputs upserted in {} requests ({} failed), {} contacts stored",
        stats.total_requests,
        failures.load(Ordering::Relaxed),
        emu.contacts().len()
    );
    println!("throughput: {:.0} inputs/s", n as f64 / elapsed);
}
