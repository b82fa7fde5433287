//! How a sync stops when it must: a graceful cancel on SIGTERM (batches in
//! flight land, earned states go out, the sync fails as cancelled), a
//! second signal that ends it at once, and a rejects file that cannot take
//! its rows (no state that counts a lost row is ever emitted).

mod common;

use std::io::Write;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;
use hubspot_emulator::{Emulator, Latency};
use serde_json::json;

/// Waits until the emulator has received `n` requests (the upsert is in
/// flight once it arrived: the emulator answers it after its latency).
fn wait_for_requests(emu: &Emulator, n: u64) {
    let started = Instant::now();
    while emu.stats().total_requests < n {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no request came"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Lets the child end (stdin still open), then parses its output.
fn finish(child: Child) -> Run {
    let output = child.wait_with_output().unwrap();
    Run::parse(
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn slow(ms: u64) -> Emulator {
    start(hubspot_emulator::Options {
        latency: Latency {
            fixed_ms: ms,
            jitter_ms: 0,
        },
        ..quick()
    })
}

#[test]
fn sigterm_lets_the_batch_in_flight_land_emits_its_state_and_fails_as_cancelled() {
    let emu = slow(1500);
    let s = Scratch::new("cancel");
    let rejects = s.path("rejected.jsonl");
    let cfg = config(&emu, json!({"rejected_records_path": rejects}));
    let mut child = spawn_write(&s, &cfg);
    let mut stdin = child.stdin.take().unwrap();
    // Two records without an email, a full batch, a state; then a partial
    // batch after it that no state covers. The source keeps stdin open.
    writeln!(stdin, "{}", record(json!({"firstname": "no email"}))).unwrap();
    writeln!(stdin, "{}", record(json!({"email": "not-an-email"}))).unwrap();
    for n in 0..100 {
        writeln!(stdin, "{}", record(json!({"email": format!("c{n}@x.io")}))).unwrap();
    }
    writeln!(stdin, "{}", state(1)).unwrap();
    for n in 100..130 {
        writeln!(stdin, "{}", record(json!({"email": format!("c{n}@x.io")}))).unwrap();
    }
    stdin.flush().unwrap();
    // The properties read, then the batch upsert: now in flight.
    wait_for_requests(&emu, 2);
    signal(&child, "TERM");
    let run = finish(child);
    drop(stdin);

    let message = run.failed_with("transient_error");
    assert!(message.contains("cancelled by SIGTERM"), "{message}");
    assert_eq!(
        cursors(&run),
        vec![1],
        "the state before the signal is earned"
    );
    let st = &run.states()[0]["destinationStats"];
    assert_eq!(st["recordCount"], 100.0);
    assert_eq!(st["rejectedRecordCount"], 2.0);
    assert!(run.logs().contains("sync summary"), "{}", run.logs());
    assert_eq!(
        emails(&emu).len(),
        100,
        "the batch in flight landed, no later one went"
    );
    // Every rejection the state counts is in the file, as whole rows.
    let rows = rejections(&s);
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r["line"].is_u64() && r["reason"].is_string()));
}

#[test]
fn a_second_signal_ends_the_sync_at_once() {
    let emu = slow(8_000);
    let s = Scratch::new("cancel-twice");
    let mut child = spawn_write(&s, &config(&emu, json!({"request_timeout_seconds": 60})));
    let mut stdin = child.stdin.take().unwrap();
    for n in 0..100 {
        writeln!(stdin, "{}", record(json!({"email": format!("d{n}@x.io")}))).unwrap();
    }
    stdin.flush().unwrap();
    wait_for_requests(&emu, 2);
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "INT");
    let run = finish(child);
    drop(stdin);
    // 128 + SIGTERM: the forced exit, not the end of the 10 s grace period
    // or of the 8 s answer.
    assert_eq!(run.code, 143, "{}", run.stderr);
    assert!(run.states().is_empty());
}

#[test]
fn a_rejects_file_that_cannot_take_rows_fails_the_sync_before_any_state_counts_them() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let emu = start(quick());
    let s = Scratch::new("rejects-full");
    let mut input = String::new();
    for n in 0..3 {
        input += &record(json!({"email": format!("bad{n}")}));
        input.push('\n');
    }
    input += &format!("{}\n", state(1));
    for n in 0..5 {
        input += &record(json!({"email": format!("ok{n}@x.io")}));
        input.push('\n');
    }
    input += &format!("{}\n", state(2));
    // /dev/full opens, and refuses every write: a full disk.
    let run = write(
        &s,
        &config(&emu, json!({"rejected_records_path": "/dev/full"})),
        &input,
    );
    let message = run.failed_with("system_error");
    assert!(
        message.contains("rejected-records file /dev/full failed"),
        "{message}"
    );
    assert!(run.states().is_empty(), "no state may count the lost rows");
}

#[test]
fn a_dry_run_reads_which_contacts_exist_writes_nothing_and_emits_no_state() {
    let emu = start(quick());
    emu.add_contact([("email", "known1@x.io"), ("firstname", "Old")]);
    emu.add_contact([("email", "known2@x.io")]);
    let s = Scratch::new("dry-run");
    let mut input = String::new();
    for email in [
        "known1@x.io",
        "KNOWN2@x.io",
        "new1@x.io",
        "new2@x.io",
        "new3@x.io",
    ] {
        input += &record(json!({"email": email, "firstname": "New"}));
        input.push('\n');
    }
    input += &record(json!({"email": "broken"}));
    input += "\nnot json\n";
    input += &format!("{}\n", state(1));
    let plan = s.path("plan.jsonl");
    let plan_arg = plan.to_str().unwrap().to_string();
    let run = write_with(
        &s,
        &config(&emu, json!({})),
        CATALOG,
        &["--dry-run", "--dry-run-plan", &plan_arg],
        &input,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.states().is_empty(), "a dry run emits no state");
    assert!(
        run.logs().contains("dry run: nothing was written and no state emitted; 3 record(s) would be created and 2 updated (5 records), 1 record(s) rejected, 1 input line(s) skipped; 2 API call(s) made, none of them a write"),
        "{}",
        run.logs()
    );
    // Nothing changed in HubSpot; only reads were made.
    assert_eq!(emails(&emu), vec!["known1@x.io", "known2@x.io"]);
    assert_eq!(
        prop(&emu, "known1@x.io", "firstname").as_deref(),
        Some("Old")
    );
    let stats = emu.stats();
    assert!(
        stats
            .by_route
            .iter()
            .all(|r| r.method == "GET" || r.path.ends_with("/batch/read")),
        "{:?}",
        stats.by_route
    );
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&plan)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["key"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("update", "known1@x.io"),
            ("update", "known2@x.io"),
            ("create", "new1@x.io"),
            ("create", "new2@x.io"),
            ("create", "new3@x.io"),
        ]
    );
    assert_eq!(rows[2]["properties"]["firstname"], "New");
    assert!(rows[0]["id"].is_string());
}
