//! Shared harness for the integration tests: runs the real binary against an
//! emulator started inside the test, and reads back what it printed.
//!
//! When `PROTOCOL_CAPTURE_DIR` is set, every stdout line of every run is
//! also appended there, so CI can validate all of them against
//! `airbyte-protocol-models`.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

#[allow(unused_imports)]
pub use hubspot_emulator::{Emulator, Fault, FaultPlan, Options, DEFAULT_TOKEN};
use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_destination-hubspot");

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dh-test-{}-{}-{}",
            name,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn write(&self, file: &str, contents: &str) -> PathBuf {
        let path = self.0.join(file);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub messages: Vec<Value>,
}

impl Run {
    pub fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.messages.iter().filter(|m| m["type"] == kind).collect()
    }

    /// The echoed STATE messages' `data`/stream_state cursors, in order.
    /// What a run printed, each stdout line parsed (and captured for CI).
    pub fn parse(code: i32, stdout: String, stderr: String) -> Run {
        let messages = stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
            })
            .collect();
        capture(&stdout);
        Run {
            code,
            stdout,
            stderr,
            messages,
        }
    }

    /// A `destinationStats` count (`recordCount`, `rejectedRecordCount`)
    /// summed over every echoed state.
    pub fn stat_sum(&self, key: &str) -> u64 {
        self.states()
            .iter()
            .map(|s| s["destinationStats"][key].as_f64().unwrap() as u64)
            .sum()
    }

    pub fn states(&self) -> Vec<&Value> {
        self.of_type("STATE")
            .into_iter()
            .map(|m| &m["state"])
            .collect()
    }

    pub fn logs(&self) -> String {
        self.of_type("LOG")
            .iter()
            .map(|m| m["log"]["message"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn trace_error(&self) -> Option<&Value> {
        self.of_type("TRACE")
            .into_iter()
            .map(|m| &m["trace"])
            .find(|t| t["type"] == "ERROR")
    }

    /// The TRACE ERROR's user message (panics if there is none).
    pub fn error_message(&self) -> String {
        let trace = self
            .trace_error()
            .unwrap_or_else(|| panic!("no TRACE ERROR in {:?}", self.messages));
        trace["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The message of the sync's failure, after checking that it failed
    /// (exit code and a TRACE ERROR) with this `failure_type`.
    pub fn failed_with(&self, failure_type: &str) -> String {
        assert_ne!(self.code, 0, "the sync should have failed");
        let trace = self
            .trace_error()
            .unwrap_or_else(|| panic!("no TRACE ERROR in {:?}", self.messages));
        assert_eq!(trace["error"]["failure_type"], failure_type, "{trace}");
        self.error_message()
    }

    pub fn connection_status(&self) -> &Value {
        &self.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    }
}

/// Runs the binary with `args`, feeding `stdin`.
pub fn run(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // The binary may stop reading early (a fatal error): ignore EPIPE.
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    Run::parse(output.status.code().unwrap_or(-1), stdout, stderr)
}

fn capture(stdout: &str) {
    let Ok(dir) = std::env::var("PROTOCOL_CAPTURE_DIR") else {
        return;
    };
    let _ = std::fs::create_dir_all(&dir);
    let file = Path::new(&dir).join(
        format!(
            "{}-{:?}.jsonl",
            std::process::id(),
            std::thread::current().id()
        )
        .replace(['(', ')'], ""),
    );
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    f.write_all(stdout.as_bytes()).unwrap();
}

/// The rows of the rejected-records file a test configured in `scratch`.
pub fn rejections(scratch: &Scratch) -> Vec<Value> {
    std::fs::read_to_string(scratch.path("rejected.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A config for `emu` with `extra` merged in (a null value removes a key).
pub fn config(emu: &Emulator, extra: Value) -> Value {
    let mut c = json!({
        "access_token": DEFAULT_TOKEN,
        "base_url": emu.base_url(),
        "retry_initial_delay_ms": 10,
        "request_timeout_seconds": 5,
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

pub const CATALOG: &str = r#"{"streams":[{"stream":{"name":"contacts","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":"append_dedup","primary_key":[["email"]]}]}"#;

/// Runs `write` with this config and input.
pub fn write(scratch: &Scratch, config: &Value, input: &str) -> Run {
    write_with(scratch, config, CATALOG, &[], input)
}

/// Starts `write` with this config and piped stdin, stdout and stderr: for
/// tests that feed the sync while it runs (and may keep stdin open).
pub fn spawn_write(scratch: &Scratch, config: &Value) -> std::process::Child {
    let config = scratch.write("config.json", &config.to_string());
    let catalog = scratch.write("catalog.json", CATALOG);
    Command::new(BIN)
        .args(["write", "--config", config.to_str().unwrap()])
        .args(["--catalog", catalog.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts")
}

/// Runs `write` with this config, catalog text and extra arguments.
pub fn write_with(
    scratch: &Scratch,
    config: &Value,
    catalog: &str,
    extra: &[&str],
    input: &str,
) -> Run {
    let config = scratch.write("config.json", &config.to_string());
    let catalog = scratch.write("catalog.json", catalog);
    let mut args = vec![
        "write",
        "--config",
        config.to_str().unwrap(),
        "--catalog",
        catalog.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args, input.as_bytes())
}

/// Runs `check` with this config.
pub fn check(scratch: &Scratch, config: &Value) -> Run {
    let config = scratch.write("config.json", &config.to_string());
    run(&["check", "--config", config.to_str().unwrap()], b"")
}

/// A RECORD line for stream `contacts`.
pub fn record(data: Value) -> String {
    json!({"type": "RECORD", "record": {"stream": "contacts", "data": data, "emitted_at": 1_700_000_000_000u64}}).to_string()
}

/// A STREAM STATE line carrying `cursor`.
pub fn state(cursor: u64) -> String {
    json!({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "contacts"}, "stream_state": {"cursor": cursor}}}}).to_string()
}

/// The cursors of the echoed states, in order.
pub fn cursors(run: &Run) -> Vec<u64> {
    run.states()
        .iter()
        .filter_map(|s| s["stream"]["stream_state"]["cursor"].as_u64())
        .collect()
}

/// The emulator's contacts as (email, property) for one property.
pub fn prop(emu: &Emulator, email: &str, name: &str) -> Option<String> {
    emu.contact_by_email(email)
        .and_then(|c| c.properties.get(name).cloned())
}

/// Emails stored in the emulator, sorted, failing on duplicates.
pub fn emails(emu: &Emulator) -> Vec<String> {
    let mut all: Vec<String> = emu
        .contacts()
        .into_iter()
        .filter_map(|c| c.properties.get("email").cloned())
        .collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(n, all.len(), "a contact is duplicated");
    all
}

/// Options with rate limits off and no latency, for quick functional tests.
pub fn quick() -> Options {
    Options {
        rate_limit: None,
        ..Options::default()
    }
}

pub fn start(opts: Options) -> Emulator {
    Emulator::start(opts).expect("emulator starts")
}
