//! The fault matrix: the real binary against the emulator's fault injection.
//! Whatever happens in between, the final HubSpot state must equal the
//! last-write-wins result of the valid input, no contact may be duplicated,
//! every invalid record must be reported exactly once, and no state may be
//! emitted before the records it covers are committed.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use hubspot_emulator::{EmailUpsertMode, OAuthClient, TokenSpec};
use serde_json::{json, Value};

/// The input every scenario replays, and what it must produce.
struct Workload {
    input: String,
    /// email → last firstname written.
    expected: BTreeMap<String, String>,
    /// Input line numbers HubSpot must refuse.
    poison_lines: BTreeSet<u64>,
    /// (cursor, emails whose last write before that state is (email, value)).
    states: Vec<(u64, Vec<(String, String)>)>,
}

/// 400 records over 300 people (so 100 rewrites), every 37th record a
/// poison email HubSpot refuses (`.con`), a state every 40 records.
fn workload() -> Workload {
    let mut lines = Vec::new();
    let mut expected = BTreeMap::new();
    let mut poison_lines = BTreeSet::new();
    let mut states = Vec::new();
    let mut so_far: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..400u64 {
        let value = format!("v{i}");
        if i % 37 == 36 {
            lines.push(record(
                json!({"email": format!("poison{i}@example.con"), "firstname": value}),
            ));
            poison_lines.insert(lines.len() as u64);
        } else {
            let n = i % 300;
            let email = if i % 2 == 0 {
                format!("Person{n}@Example.com")
            } else {
                format!("person{n}@example.com")
            };
            lines.push(record(json!({"email": email, "firstname": value})));
            expected.insert(format!("person{n}@example.com"), value.clone());
            so_far.insert(format!("person{n}@example.com"), value);
        }
        if i % 40 == 39 {
            lines.push(state(i));
            states.push((
                i,
                so_far.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            ));
        }
    }
    Workload {
        input: lines.join("\n"),
        expected,
        poison_lines,
        states,
    }
}

fn base_config(emu: &Emulator, s: &Scratch, extra: Value) -> Value {
    let mut c = config(
        emu,
        json!({"workers": 4, "rejected_records_path": s.path("rejected.jsonl").to_str().unwrap()}),
    );
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn rejected_lines(s: &Scratch) -> Vec<u64> {
    let mut lines: Vec<u64> = rejections(s)
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    lines
}

/// A run that must end with everything written despite the faults.
fn assert_complete(w: &Workload, emu: &Emulator, s: &Scratch, run: &Run) {
    assert_eq!(run.code, 0, "stderr: {}\nlogs: {}", run.stderr, run.logs());
    let stored = emails(emu);
    assert_eq!(stored, w.expected.keys().cloned().collect::<Vec<_>>());
    for (email, value) in &w.expected {
        assert_eq!(
            prop(emu, email, "firstname").as_deref(),
            Some(value.as_str()),
            "{email}"
        );
    }
    assert_eq!(
        rejected_lines(s),
        w.poison_lines.iter().copied().collect::<Vec<_>>(),
        "each poison record rejected exactly once"
    );
    assert_eq!(
        cursors(run),
        w.states.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    let committed = run.stat_sum("recordCount");
    let rejected = run.stat_sum("rejectedRecordCount");
    assert_eq!(rejected, w.poison_lines.len() as u64);
    assert_eq!(committed + rejected, 400);
}

/// A run that failed part-way: every state it emitted must be covered by
/// what HubSpot holds (each email at least as new as before that state).
fn assert_states_not_ahead(w: &Workload, emu: &Emulator, run: &Run) {
    let order = |v: &str| v[1..].parse::<u64>().unwrap();
    for cursor in cursors(run) {
        let (_, before) = w.states.iter().find(|s| s.0 == cursor).unwrap();
        for (email, value) in before {
            let stored = prop(emu, email, "firstname")
                .unwrap_or_else(|| panic!("state {cursor} emitted but {email} is not in HubSpot"));
            assert!(
                order(&stored) >= order(value),
                "state {cursor} emitted but {email} holds {stored}, older than {value}"
            );
        }
    }
    emails(emu);
}

fn faulty(plan: &[&str], random: &[&str]) -> Options {
    let mut faults = FaultPlan::default();
    for p in plan {
        faults.push_at(p).unwrap();
    }
    for r in random {
        faults.push_random(r).unwrap();
    }
    Options {
        faults,
        seed: 7,
        ..quick()
    }
}

#[test]
fn no_faults_baseline() {
    let w = workload();
    let emu = start(quick());
    let s = Scratch::new("f-baseline");
    let run = write(&s, &base_config(&emu, &s, json!({})), &w.input);
    assert_complete(&w, &emu, &s, &run);
}

#[test]
fn server_error_bursts_are_retried() {
    let w = workload();
    let emu = start(faulty(
        &["3-5:500", "8-10:html502", "14:503", "17-18:504"],
        &["500:0.05"],
    ));
    let s = Scratch::new("f-5xx");
    let run = write(&s, &base_config(&emu, &s, json!({})), &w.input);
    assert_complete(&w, &emu, &s, &run);
    assert!(emu.stats().faults_injected >= 9);
}

#[test]
fn a_request_refused_as_too_large_is_split_and_every_contact_lands() {
    let w = workload();
    // The first two batch writes are refused as too large: each is resent
    // in halves, and the halves go through.
    let emu = start(faulty(&["2-3:413"], &[]));
    let s = Scratch::new("f-413");
    let run = write(&s, &base_config(&emu, &s, json!({})), &w.input);
    assert_complete(&w, &emu, &s, &run);
    assert_eq!(emu.stats().faults_injected, 2);
}

#[test]
fn dropped_connections_are_retried() {
    let w = workload();
    let emu = start(faulty(&["2:drop", "6-7:drop"], &["drop:0.08"]));
    let s = Scratch::new("f-drop");
    let run = write(&s, &base_config(&emu, &s, json!({})), &w.input);
    assert_complete(&w, &emu, &s, &run);
}

#[test]
fn slow_answers_past_the_timeout_are_retried_without_duplicates() {
    let w = workload();
    // The answer comes after 1.2 s, the client gives up at 1 s; the first
    // retry waits at least 0.25 s, by when the slow original has landed.
    let emu = start(faulty(&["3:delay1200", "9:delay1200"], &[]));
    let s = Scratch::new("f-slow");
    let run = write(
        &s,
        &base_config(
            &emu,
            &s,
            json!({"request_timeout_seconds": 1, "retry_initial_delay_ms": 500}),
        ),
        &w.input,
    );
    assert_complete(&w, &emu, &s, &run);
    assert!(run.logs().contains("timed out") || emu.stats().faults_injected == 2);
}

#[test]
fn storms_of_429_without_retry_after_do_not_count_as_failures() {
    let w = workload();
    let emu = start(faulty(&["3-8:429"], &["429:0.1"]));
    let s = Scratch::new("f-429");
    // max_retries 1: a 429 is not a failure, so six in a row must pass.
    let run = write(
        &s,
        &base_config(&emu, &s, json!({"max_retries": 1})),
        &w.input,
    );
    assert_complete(&w, &emu, &s, &run);
    assert!(emu.stats().too_many_requests >= 6);
}

#[test]
fn storms_of_429_with_retry_after_are_waited_out() {
    let w = workload();
    let emu = start(faulty(&["3-6:429retry1"], &[]));
    let s = Scratch::new("f-429ra");
    let run = write(
        &s,
        &base_config(&emu, &s, json!({"max_retries": 1})),
        &w.input,
    );
    assert_complete(&w, &emu, &s, &run);
}

#[test]
fn multi_status_answers_reject_only_the_poison_records() {
    let w = workload();
    let emu = start(Options {
        email_upsert_mode: EmailUpsertMode::MultiStatus,
        ..quick()
    });
    let s = Scratch::new("f-207");
    let run = write(&s, &base_config(&emu, &s, json!({})), &w.input);
    assert_complete(&w, &emu, &s, &run);
    assert!(
        emu.stats()
            .count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 207)
            > 0
    );
}

#[test]
fn whole_batch_refusals_are_narrowed_with_few_extra_calls() {
    let w = workload();
    let emu = start(quick());
    let s = Scratch::new("f-narrow");
    let run = write(&s, &base_config(&emu, &s, json!({"workers": 1})), &w.input);
    assert_complete(&w, &emu, &s, &run);
    // 10 poison records; HubSpot names the first bad email of each refusal,
    // so each costs about one extra call, not a bisection of log2(100).
    let stats = emu.stats();
    let refused = stats.count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 400);
    assert_eq!(refused as usize, w.poison_lines.len());
    let ok = stats.count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 200);
    assert!(
        ok <= 4 + w.poison_lines.len() as u64,
        "{ok} successful upserts"
    );
}

#[test]
fn poison_records_in_every_batch_with_faults_on_top() {
    let w = workload();
    let emu = start(faulty(&["4:500", "7:drop"], &["429:0.05", "503:0.05"]));
    let s = Scratch::new("f-mixed");
    let run = write(&s, &base_config(&emu, &s, json!({"workers": 3})), &w.input);
    assert_complete(&w, &emu, &s, &run);
}

#[test]
fn exhausted_retries_fail_transiently_without_states_past_the_commit() {
    let w = workload();
    // Requests 1–5 succeed (properties + a few batches), then HubSpot is down.
    let emu = start(faulty(&["6-5000:503"], &[]));
    let s = Scratch::new("f-down");
    let run = write(
        &s,
        &base_config(
            &emu,
            &s,
            json!({"max_retries": 2, "retry_initial_delay_ms": 1, "workers": 1}),
        ),
        &w.input,
    );
    let message = run.failed_with("transient_error");
    assert!(message.contains("unavailable"), "{message}");
    assert!(cursors(&run).len() < w.states.len());
    assert_states_not_ahead(&w, &emu, &run);
}

#[test]
fn an_expired_private_app_token_is_a_config_error_and_states_stay_behind() {
    let w = workload();
    let emu = start(faulty(&["4:expire"], &[]));
    let s = Scratch::new("f-expire");
    let run = write(&s, &base_config(&emu, &s, json!({"workers": 1})), &w.input);
    let message = run.failed_with("config_error");
    assert!(message.contains("token"), "{message}");
    assert_states_not_ahead(&w, &emu, &run);
}

#[test]
fn an_expired_oauth_token_is_refreshed_and_the_sync_completes() {
    let w = workload();
    let mut client = OAuthClient::new("app-id", "app-secret-value", "refresh-secret-value");
    client.access_token_requests = Some(8);
    let opts = Options {
        tokens: vec![],
        oauth_clients: vec![client],
        ..quick()
    };
    let emu = start(opts);
    let s = Scratch::new("f-oauth");
    let credentials = json!({"auth_type": "OAuth", "client_id": "app-id", "client_secret": "app-secret-value", "refresh_token": "refresh-secret-value"});
    let mut config = base_config(&emu, &s, json!({"credentials": credentials}));
    config.as_object_mut().unwrap().remove("access_token");
    let run = write(&s, &config, &w.input);
    assert_complete(&w, &emu, &s, &run);
    assert!(
        emu.stats().count("POST", "/oauth/2026-03/token", 200) >= 2,
        "refreshed at start and on expiry"
    );
    for secret in ["app-secret-value", "refresh-secret-value"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

#[test]
fn a_missing_write_scope_mid_sync_is_a_config_error_naming_it() {
    let w = workload();
    let opts = Options {
        tokens: vec![TokenSpec::new("pat-ro")
            .with_scopes(&["crm.objects.contacts.read", "crm.schemas.contacts.read"])],
        ..quick()
    };
    let emu = start(opts);
    let s = Scratch::new("f-scope");
    let run = write(
        &s,
        &base_config(&emu, &s, json!({"access_token": "pat-ro"})),
        &w.input,
    );
    let message = run.failed_with("config_error");
    assert!(message.contains("crm.objects.contacts.write"), "{message}");
    assert!(cursors(&run).is_empty());
}

#[test]
fn the_daily_quota_stops_the_sync_cleanly_with_committed_states() {
    let w = workload();
    let emu = start(Options {
        daily_limit: 6,
        ..quick()
    });
    let s = Scratch::new("f-daily");
    let run = write(
        &s,
        &base_config(&emu, &s, json!({"workers": 1, "daily_quota_reserve": 0})),
        &w.input,
    );
    let message = run.failed_with("transient_error");
    assert!(
        message.contains("daily") && message.contains("resets"),
        "{message}"
    );
    assert_states_not_ahead(&w, &emu, &run);
}

#[test]
fn the_daily_reserve_stops_before_the_quota_runs_out() {
    let w = workload();
    let emu = start(Options {
        daily_limit: 10,
        ..quick()
    });
    let s = Scratch::new("f-reserve");
    let run = write(
        &s,
        &base_config(&emu, &s, json!({"workers": 1, "daily_quota_reserve": 5})),
        &w.input,
    );
    assert_ne!(run.code, 0);
    let message = run.error_message();
    assert!(message.contains("daily_quota_reserve"), "{message}");
    assert!(
        emu.stats().daily_used <= 5,
        "{} calls used",
        emu.stats().daily_used
    );
    assert_eq!(emu.stats().count_status(429), 0);
    assert_states_not_ahead(&w, &emu, &run);
}

#[test]
fn the_token_never_appears_in_any_output_of_a_failing_sync() {
    let token = "pat-na1-0123-SUPERSECRET-4567";
    let w = workload();
    let mut opts = faulty(&["5:expire"], &[]);
    opts.tokens = vec![TokenSpec::new(token)];
    let emu = start(opts);
    let s = Scratch::new("f-secret");
    let run = write(
        &s,
        &base_config(
            &emu,
            &s,
            json!({"access_token": token, "log_record_data": true}),
        ),
        &w.input,
    );
    assert_ne!(run.code, 0);
    let rejected = std::fs::read_to_string(s.path("rejected.jsonl")).unwrap_or_default();
    for (name, text) in [
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
        ("rejected file", &rejected),
    ] {
        assert!(
            !text.contains("SUPERSECRET"),
            "the token leaked into {name}"
        );
    }
    // A bad config too: the schema error must not echo it.
    let run = check(
        &s,
        &json!({"access_token": token, "base_url": "ftp://x", "workers": "many"}),
    );
    assert!(!run.stdout.contains("SUPERSECRET") && !run.stderr.contains("SUPERSECRET"));
}

#[test]
fn a_fatal_error_ends_the_sync_while_stdin_stays_open() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    // The first batch write meets an expired token; the source keeps its
    // end of stdin open and sends nothing more.
    let emu = start(faulty(&["2:expire"], &[]));
    let s = Scratch::new("f-open-stdin");
    let config = s.write("config.json", &config(&emu, json!({})).to_string());
    let catalog = s.write("catalog.json", CATALOG);
    let mut child = Command::new(BIN)
        .args(["write", "--config", config.to_str().unwrap()])
        .args(["--catalog", catalog.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for n in 0..5 {
        writeln!(
            stdin,
            "{}",
            record(json!({"email": format!("open{n}@example.com")}))
        )
        .unwrap();
    }
    writeln!(stdin, "{}", state(1)).unwrap();
    stdin.flush().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(30) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let Some(status) = status else {
        let _ = child.kill();
        panic!("the sync did not end on its own with stdin open");
    };
    drop(stdin);
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    let run = Run::parse(status.code().unwrap_or(-1), stdout, String::new());
    let message = run.failed_with("config_error");
    assert!(message.contains("token"), "{message}");
    assert!(
        run.states().is_empty(),
        "nothing was written: no state may be confirmed"
    );
}
