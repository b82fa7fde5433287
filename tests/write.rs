//! `write` run as the real binary against the emulator: upserts, dedupe,
//! states, value formats and bad input.

mod common;

use common::*;
use serde_json::{json, Value};

#[test]
fn the_sample_messages_create_contacts_and_echo_states() {
    let emu = start(quick());
    let s = Scratch::new("sample");
    let run = write(
        &s,
        &config(&emu, json!({"lifecycle_stage": "lead"})),
        include_str!("../integration_tests/messages.txt"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        emails(&emu),
        vec!["ada@example.com", "alan@example.com", "grace@example.com"]
    );
    // The second Ada record (mixed case, padded) merged into the first.
    assert_eq!(
        prop(&emu, "ada@example.com", "company").as_deref(),
        Some("Babbage & Co")
    );
    assert_eq!(
        prop(&emu, "ada@example.com", "firstname").as_deref(),
        Some("Ada")
    );
    assert_eq!(
        prop(&emu, "grace@example.com", "lifecyclestage").as_deref(),
        Some("lead")
    );
    let states = run.states();
    assert_eq!(states.len(), 2);
    assert_eq!(states[0]["stream"]["stream_state"]["cursor"], "2023-11-14");
    assert_eq!(states[0]["destinationStats"]["recordCount"], 2.0);
    assert_eq!(states[1]["destinationStats"]["recordCount"], 2.0);
    assert_eq!(states[1]["destinationStats"]["rejectedRecordCount"], 1.0);
    let logs = run.logs();
    assert!(
        logs.contains("line 6") && logs.contains("no usable email"),
        "{logs}"
    );
    assert!(logs.contains("3 created"), "{logs}");
}

#[test]
fn states_are_echoed_unchanged_apart_from_the_stats() {
    let emu = start(quick());
    let s = Scratch::new("state-shapes");
    let global = json!({"type": "STATE", "state": {"type": "GLOBAL", "global": {"shared_state": {"lsn": 7}, "stream_states": [{"stream_descriptor": {"name": "contacts"}, "stream_state": {"c": 1}}]}}});
    let legacy = json!({"type": "STATE", "state": {"data": {"cursor": "x"}}});
    let input = [
        record(json!({"email": "a@x.io"})),
        global.to_string(),
        legacy.to_string(),
    ]
    .join("\n");
    let run = write(&s, &config(&emu, json!({})), &input);
    let states = run.states();
    assert_eq!(states.len(), 2);
    let mut first = states[0].clone();
    first.as_object_mut().unwrap().remove("destinationStats");
    assert_eq!(first, global["state"]);
    assert_eq!(states[1]["data"], json!({"cursor": "x"}));
}

#[test]
fn duplicates_across_batches_and_states_end_with_the_last_values() {
    let emu = start(quick());
    let s = Scratch::new("dupes");
    let mut lines = Vec::new();
    // 60 distinct people written 20 times each, interleaved, with states in between.
    for round in 0..20u64 {
        for p in 0..60 {
            let email = if round % 2 == 0 {
                format!("Person{p}@Example.com")
            } else {
                format!(" person{p}@example.COM ")
            };
            lines.push(record(json!({"email": email, "firstname": format!("r{round}"), "city": if round == 3 { json!("Paris") } else { Value::Null }})));
        }
        lines.push(state(round));
    }
    let run = write(&s, &config(&emu, json!({"workers": 4})), &lines.join("\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = emails(&emu);
    assert_eq!(all.len(), 60);
    for p in 0..60 {
        let email = format!("person{p}@example.com");
        assert_eq!(prop(&emu, &email, "firstname").as_deref(), Some("r19"));
        // Nulls leave values alone by default.
        assert_eq!(prop(&emu, &email, "city").as_deref(), Some("Paris"));
    }
    assert_eq!(cursors(&run), (0..20).collect::<Vec<_>>());
    let total = run.stat_sum("recordCount");
    assert_eq!(total, 1200);
}

#[test]
fn batches_stay_full_and_state_messages_do_not_force_small_batches() {
    let emu = start(quick());
    let s = Scratch::new("full-batches");
    let mut lines = Vec::new();
    for i in 0..1000 {
        lines.push(record(json!({"email": format!("u{i}@x.io")})));
        if i % 10 == 9 {
            lines.push(state(i));
        }
    }
    let run = write(&s, &config(&emu, json!({"workers": 1})), &lines.join("\n"));
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu).len(), 1000);
    let upserts = emu
        .stats()
        .count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 200);
    assert_eq!(upserts, 10, "1000 contacts fit in 10 full batches");
    assert_eq!(cursors(&run).len(), 100);
}

#[test]
fn airbyte_fields_are_not_sent_and_values_are_formatted() {
    let emu = start(quick());
    let s = Scratch::new("formats");
    let input = record(json!({
        "email": "f@x.io",
        "_airbyte_raw_id": "abc",
        "_airbyte_extracted_at": 1,
        "annualrevenue": 1234.5,
        "followercount": 10.0,
        "newsletter_opt_in": true,
        "renewal_date": "1990-05-17T00:00:00Z",
        "shoe_size": 44,
        "address": {"street": "1 Main St"},
    }));
    let run = write(&s, &config(&emu, json!({})), &input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let c = emu.contact_by_email("f@x.io").expect("written");
    assert!(!c.properties.keys().any(|k| k.starts_with("_airbyte")));
    assert_eq!(c.properties["annualrevenue"], "1234.5");
    assert_eq!(c.properties["followercount"], "10");
    assert_eq!(c.properties["newsletter_opt_in"], "true");
    assert_eq!(c.properties["renewal_date"], "1990-05-17");
    // Unknown fields are dropped (the default) and reported once.
    assert!(!c.properties.contains_key("shoe_size"));
    assert!(
        run.logs()
            .contains("`shoe_size` is not a HubSpot contact property"),
        "{}",
        run.logs()
    );
    // An object for a text property is sent as its JSON text.
    assert_eq!(c.properties["address"], r#"{"street":"1 Main St"}"#);
}

#[test]
fn text_needing_escapes_arrives_exactly_and_plain_text_too() {
    let emu = start(quick());
    let s = Scratch::new("escapes");
    let tricky = "quote \" backslash \\ newline \n tab \t bell \u{7} é 漢 🙂";
    let input = [
        record(json!({"email": "tricky@x.io", "firstname": tricky, "lastname": "Plain", "company": {"a": "\"b\""}})),
        record(json!({"email": "plain@x.io", "firstname": "Ann", "lastname": "Lee é"})),
        // Written by hand: unicode escapes and an escaped email.
        r#"{"type":"RECORD","record":{"stream":"contacts","data":{"email":"esc\u0040x.io","firstname":"\u00e9\"\/"}}}"#.to_string(),
    ]
    .join("\n");
    let run = write(&s, &config(&emu, json!({})), &input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let t = emu.contact_by_email("tricky@x.io").expect("written");
    assert_eq!(t.properties["firstname"], tricky);
    assert_eq!(t.properties["lastname"], "Plain");
    assert_eq!(t.properties["company"], r#"{"a":"\"b\""}"#);
    let p = emu.contact_by_email("plain@x.io").expect("written");
    assert_eq!(p.properties["lastname"], "Lee é");
    let e = emu.contact_by_email("esc@x.io").expect("written");
    assert_eq!(e.properties["firstname"], "é\"/");
}

#[test]
fn bad_lines_are_reported_with_their_number_and_skipped() {
    let emu = start(quick());
    let s = Scratch::new("bad-lines");
    let input = [
        record(json!({"email": "one@x.io"})),
        "this is not json".to_string(),
        json!({"type": "SURPRISE"}).to_string(),
        json!({"type": "RECORD", "record": {"stream": "companies", "data": {"email": "c@x.io"}}}).to_string(),
        json!({"type": "RECORD", "record": {"stream": "contacts", "data": [1, 2]}}).to_string(),
        json!({"type": "LOG", "log": {"level": "INFO", "message": "hi"}}).to_string(),
        json!({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.0, "stream_status": {"stream_descriptor": {"name": "contacts"}, "status": "COMPLETE"}}}).to_string(),
        json!({"type": "RECORD", "record": {"stream": "contacts", "data": {"email": "two@x.io"}, "emitted_at": 1_700_000_000u64, "namespace": null, "meta": {"changes": []}}, "extra": 1}).to_string(),
        state(1),
    ]
    .join("\n");
    let run = write(&s, &config(&emu, json!({})), &input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(emails(&emu), vec!["one@x.io", "two@x.io"]);
    let logs = run.logs();
    for n in [2, 3, 4, 5] {
        assert!(
            logs.contains(&format!("line {n}")),
            "line {n} not reported: {logs}"
        );
    }
    assert!(
        !logs.contains("line 6") && !logs.contains("line 7"),
        "LOG/TRACE inputs are fine: {logs}"
    );
    assert!(logs.contains("companies"), "{logs}");
    assert_eq!(cursors(&run), vec![1]);
    // The data of a bad line is never echoed.
    assert!(!logs.contains("this is not json"));
}

#[test]
fn strict_input_makes_a_bad_line_fatal_after_committing_what_came_before() {
    let emu = start(quick());
    let s = Scratch::new("strict");
    let input = [
        record(json!({"email": "one@x.io"})),
        state(1),
        "{oops".to_string(),
        record(json!({"email": "two@x.io"})),
        state(2),
    ]
    .join("\n");
    let run = write(&s, &config(&emu, json!({"strict_input": true})), &input);
    let message = run.failed_with("config_error");
    assert!(message.contains("input line 3"), "{message}");
    assert_eq!(cursors(&run), vec![1]);
    assert_eq!(emails(&emu), vec!["one@x.io"]);
}

#[test]
fn a_catalog_that_does_not_parse_names_the_file() {
    let emu = start(quick());
    let s = Scratch::new("bad-catalog");
    let run = write_with(
        &s,
        &config(&emu, json!({})),
        r#"{"streams": [{"stream": {}}]}"#,
        &[],
        "",
    );
    assert_ne!(run.code, 0);
    assert!(
        run.error_message().contains("catalog.json"),
        "{}",
        run.error_message()
    );
}

#[test]
fn overwrite_sync_mode_is_refused_clearly() {
    let emu = start(quick());
    let s = Scratch::new("overwrite");
    let run = write_with(
        &s,
        &config(&emu, json!({})),
        &CATALOG.replace("append_dedup", "overwrite"),
        &[],
        "",
    );
    assert_ne!(run.code, 0);
    assert!(
        run.error_message().contains("overwrite"),
        "{}",
        run.error_message()
    );
}

#[test]
fn rejected_records_go_to_the_file_with_their_reason() {
    let emu = start(quick());
    let s = Scratch::new("rejects-file");
    let path = s.path("rejected.jsonl");
    let input = [
        record(json!({"email": "good@x.io"})),
        record(json!({"email": "not-an-email", "firstname": "Bad"})),
        record(json!({"firstname": "NoEmail"})),
        state(1),
    ]
    .join("\n");
    let run = write(
        &s,
        &config(
            &emu,
            json!({"rejected_records_path": path.to_str().unwrap()}),
        ),
        &input,
    );
    assert_eq!(run.code, 0);
    let lines = rejections(&s);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[0]["record"]["firstname"], "Bad");
    assert!(
        lines[0]["reason"].as_str().unwrap().contains("email"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["line"], 3);
    assert_eq!(
        run.states()[0]["destinationStats"]["rejectedRecordCount"],
        2.0
    );
    assert_eq!(emails(&emu), vec!["good@x.io"]);
}

#[test]
fn fail_on_rejected_records_fails_the_sync_but_keeps_every_state() {
    let emu = start(quick());
    let s = Scratch::new("fail-on-rejected");
    let input = [
        record(json!({"email": "good@x.io"})),
        record(json!({"firstname": "NoEmail"})),
        state(1),
    ]
    .join("\n");
    let run = write(
        &s,
        &config(&emu, json!({"fail_on_rejected_records": true})),
        &input,
    );
    assert_ne!(run.code, 0);
    assert_eq!(cursors(&run), vec![1]);
    assert!(run.error_message().contains("fail_on_rejected_records"));
}

#[test]
fn an_empty_input_writes_nothing_and_succeeds() {
    let emu = start(quick());
    let s = Scratch::new("empty");
    let run = write(&s, &config(&emu, json!({})), "");
    assert_eq!(run.code, 0);
    assert!(emu.contacts().is_empty());
    assert_eq!(
        emu.stats()
            .count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 200),
        0
    );
}

#[test]
fn the_progress_line_goes_to_stderr_only_when_asked() {
    let emu = start(quick());
    let s = Scratch::new("progress");
    let config = config(&emu, json!({}));
    let input = [
        record(json!({"email": "a@x.io"})),
        record(json!({"email": "b@x.io"})),
        state(1),
    ]
    .join("\n");
    let quiet = write(&s, &config, &input);
    assert!(
        quiet.stderr.is_empty(),
        "stderr is not a terminal here: {}",
        quiet.stderr
    );
    let shown = write_with(&s, &config, CATALOG, &["--progress"], &input);
    assert_eq!(shown.code, 0);
    assert!(
        shown.stderr.contains("2 read, 2 written, 0 rejected"),
        "{}",
        shown.stderr
    );
    assert!(
        shown.stderr.contains("daily calls left"),
        "{}",
        shown.stderr
    );
    // Stdout is unchanged: protocol messages only.
    assert_eq!(cursors(&shown), vec![1]);
}

/// Airbyte passes the source's own primary key (e.g. faker's `[["id"]]`):
/// contacts are still matched by the `email` field, not rejected.
#[test]
fn a_source_primary_key_that_is_not_an_email_still_matches_by_email() {
    let emu = start(quick());
    let s = Scratch::new("source-key");
    let catalog = CATALOG.replace(r#"[["email"]]"#, r#"[["id"]]"#);
    let input = [
        record(json!({"id": 1, "email": "One@x.io"})),
        record(json!({"id": 2, "email": "two@x.io"})),
        state(1),
    ]
    .join("\n");
    let run = write_with(&s, &config(&emu, json!({})), &catalog, &[], &input);
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu), vec!["one@x.io", "two@x.io"]);
    assert_eq!(
        run.states()[0]["destinationStats"]["rejectedRecordCount"],
        0.0
    );
}

#[test]
fn a_record_from_another_namespace_is_reported_not_written() {
    let emu = start(quick());
    let s = Scratch::new("namespace");
    let catalog = CATALOG.replace(
        r#""name":"contacts""#,
        r#""name":"contacts","namespace":"public""#,
    );
    let in_ns = |ns: Option<&str>, email: &str| {
        json!({"type": "RECORD", "record": {"stream": "contacts", "namespace": ns, "data": {"email": email}, "emitted_at": 1}}).to_string()
    };
    let input = [
        in_ns(Some("public"), "a@x.io"),
        in_ns(Some("other"), "b@x.io"),
        in_ns(None, "c@x.io"),
    ]
    .join("\n");
    let run = write_with(&s, &config(&emu, json!({})), &catalog, &[], &input);
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu), vec!["a@x.io", "c@x.io"]);
    assert!(
        run.logs().contains("line 2") && run.logs().contains("other.contacts"),
        "{}",
        run.logs()
    );
}

/// Some orchestrators (PyAirbyte) write all of the input before reading any
/// output. With a state after every record the output outgrows a pipe; the
/// sync must still finish, keep the last state, and account for every record.
#[test]
fn an_orchestrator_that_writes_everything_before_reading_does_not_deadlock() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let emu = start(quick());
    let s = Scratch::new("write-first");
    let config = s.write("config.json", &config(&emu, json!({})).to_string());
    let catalog = s.write("catalog.json", CATALOG);
    let mut child = Command::new(BIN)
        .args([
            "write",
            "--config",
            config.to_str().unwrap(),
            "--catalog",
            catalog.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A watchdog turns a deadlock into a failure instead of a hung test.
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_err()
        {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..3000u64 {
        writeln!(
            stdin,
            "{}\n{}",
            record(json!({"email": format!("u{i}@x.io")})),
            state(i)
        )
        .unwrap();
    }
    drop(stdin);
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    assert!(status.success(), "the sync was killed or failed");
    let run = Run::parse(0, text, String::new());
    assert_eq!(cursors(&run).last(), Some(&2999));
    assert_eq!(run.stat_sum("recordCount"), 3000);
    assert_eq!(emails(&emu).len(), 3000);
}

/// The partial batch at the end (or when a state waits on quiet input) is
/// one batch whatever the number of senders: 250 contacts with 8 senders
/// cost 3 calls, not one per sender.
#[test]
fn partial_batches_of_all_workers_share_requests() {
    let emu = start(quick());
    let s = Scratch::new("combined");
    let input: Vec<String> = (0..250)
        .map(|i| record(json!({"email": format!("p{i}@x.io")})))
        .chain([state(1)])
        .collect();
    let run = write(&s, &config(&emu, json!({"workers": 8})), &input.join("\n"));
    assert_eq!(run.code, 0);
    assert_eq!(emails(&emu).len(), 250);
    let calls = emu
        .stats()
        .count("POST", "/crm/objects/2026-09/contacts/batch/upsert", 200);
    assert_eq!(calls, 3, "{calls} upserts for 250 contacts");
    assert_eq!(cursors(&run), vec![1]);
}
