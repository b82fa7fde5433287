//! Rejected records in S3-compatible object storage, through the real
//! binary against a real S3 server that each test starts on 127.0.0.1:
//! s3s-fs (crates.io), which checks every presigned signature.
//!
//! The server binary: `S3S_FS_BIN` (CI installs it, see .ci/run); unset,
//! the tests install it once under target/tmp with `cargo install`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;
use rusty_s3::actions::{HeadBucket, ListObjectsV2};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde_json::{json, Value};

/// The S3 server the tests run (also in .ci/run).
const S3S_FS_VERSION: &str = "0.14.1";
const SIGNED_FOR: Duration = Duration::from_secs(60);
const PREFIX: &str = "airbyte/rejects";

// ---- the S3 server ----------------------------------------------------

/// The s3s-fs binary: `S3S_FS_BIN`, or installed once under target/tmp.
fn s3s_fs_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("S3S_FS_BIN") {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "S3S_FS_BIN={} is not a file: install the S3 test server with `cargo install --locked --debug s3s-fs --version {S3S_FS_VERSION} --features binary`",
                bin.display()
            );
            return bin;
        }
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("s3s-fs-{S3S_FS_VERSION}"));
        let bin = root.join("bin/s3s-fs");
        if bin.is_file() {
            return bin;
        }
        // Installed into a folder of its own, then renamed: a test process
        // running beside this one never sees half an install.
        let partial = root.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        eprintln!(
            "installing the S3 test server s3s-fs {S3S_FS_VERSION} into {} (once; set S3S_FS_BIN to skip)",
            root.display()
        );
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut child = Command::new(cargo)
            .args(["install", "--locked", "--debug", "--quiet", "s3s-fs", "--version"])
            .arg(S3S_FS_VERSION)
            .args(["--features", "binary", "--root"])
            .arg(&partial)
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cargo starts to install the S3 test server");
        let mut stderr = child.stderr.take().unwrap();
        let reader = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let deadline = Instant::now() + Duration::from_secs(40 * 60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("installing the S3 test server s3s-fs took over 40 minutes: gave up");
            }
            thread::sleep(Duration::from_millis(500));
        };
        let log = reader.join().unwrap();
        assert!(
            status.success(),
            "installing the S3 test server failed (`cargo install --locked --debug s3s-fs --version {S3S_FS_VERSION} --features binary`, {status}); set S3S_FS_BIN to an installed s3s-fs:\n{log}"
        );
        if std::fs::rename(&partial, &root).is_err() {
            let _ = std::fs::remove_dir_all(&partial); // another process was first
        }
        assert!(bin.is_file(), "no s3s-fs at {} after installing it", bin.display());
        bin
    })
}

/// A running s3s-fs on 127.0.0.1, with its own credentials; stopped on drop.
struct S3Server {
    child: Option<Child>,
    port: u16,
    key: String,
    secret: String,
    agent: ureq::Agent,
    data: Scratch,
}

impl S3Server {
    fn start() -> S3Server {
        let data = Scratch::new("s3-data");
        std::fs::create_dir_all(data.path("root")).unwrap();
        let (key, secret) = credentials_pair();
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = spawn_s3s_fs(&data, port, &key, &secret) {
                return S3Server {
                    child: Some(child),
                    port,
                    key,
                    secret,
                    agent: ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(20)))
                        .build()
                        .into(),
                    data,
                };
            }
        }
        panic!(
            "s3s-fs did not start: {}",
            std::fs::read_to_string(data.path("server.log")).unwrap_or_default()
        );
    }

    /// Restarts the server on the same port and data with credentials the
    /// sync does not have: as if its keys were revoked. Returns the new pair.
    fn revoke_credentials(&mut self) -> (String, String) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let (key, secret) = credentials_pair();
        for _ in 0..50 {
            if let Some(child) = spawn_s3s_fs(&self.data, self.port, &key, &secret) {
                self.child = Some(child);
                return (key, secret);
            }
            thread::sleep(Duration::from_millis(100));
        }
        panic!("s3s-fs did not restart on port {}", self.port);
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn bucket(&self, name: &str) -> Bucket {
        let url = self.endpoint().parse().unwrap();
        Bucket::new(url, UrlStyle::Path, name.to_string(), "us-east-1").unwrap()
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(&self.key, &self.secret)
    }

    /// Status and body of one signed request.
    fn send(&self, method: &str, url: &str) -> (u16, String) {
        let answer = match method {
            "PUT" => self.agent.put(url).send_empty(),
            _ => self.agent.get(url).call(),
        };
        let mut answer = answer.unwrap_or_else(|e| panic!("{method} to the S3 server: {e}"));
        let status = answer.status().as_u16();
        let body = answer
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap();
        (status, body)
    }

    fn create_bucket(&self, name: &str) {
        let bucket = self.bucket(name);
        let creds = self.credentials();
        let url = bucket.create_bucket(&creds).sign(SIGNED_FOR);
        let (status, body) = self.send("PUT", url.as_str());
        assert_eq!(status, 200, "creating bucket {name}: {body}");
    }

    /// Every key in the bucket, sorted.
    fn keys(&self, name: &str) -> Vec<String> {
        let bucket = self.bucket(name);
        let creds = self.credentials();
        let url = bucket.list_objects_v2(Some(&creds)).sign(SIGNED_FOR);
        let (status, body) = self.send("GET", url.as_str());
        assert_eq!(status, 200, "listing bucket {name}: {body}");
        let list = ListObjectsV2::parse_response(&body).unwrap();
        assert!(
            list.next_continuation_token.is_none(),
            "more than a page of keys"
        );
        let mut keys: Vec<String> = list.contents.into_iter().map(|o| o.key).collect();
        keys.sort();
        keys
    }

    fn object(&self, name: &str, key: &str) -> String {
        let bucket = self.bucket(name);
        let creds = self.credentials();
        let url = bucket.get_object(Some(&creds), key).sign(SIGNED_FOR);
        let (status, body) = self.send("GET", url.as_str());
        assert_eq!(status, 200, "reading {key}: {body}");
        body
    }

    /// The JSON Lines rows of one object; every line must be whole.
    fn rows(&self, name: &str, key: &str) -> Vec<Value> {
        let text = self.object(name, key);
        assert!(text.ends_with('\n'), "{key} does not end with a whole line");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{key}: {e}: {l}")))
            .collect()
    }

    /// The input line numbers of each object's rows, in key order.
    fn lines_per_object(&self, name: &str) -> Vec<Vec<u64>> {
        self.keys(name)
            .iter()
            .map(|k| {
                self.rows(name, k)
                    .iter()
                    .map(|r| r["line"].as_u64().unwrap())
                    .collect()
            })
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A fresh access key id and secret.
fn credentials_pair() -> (String, String) {
    static N: AtomicU64 = AtomicU64::new(0);
    let tag = format!(
        "{:x}x{:x}x{}",
        std::process::id(),
        now_nanos() % 1_000_000_007,
        N.fetch_add(1, Ordering::Relaxed)
    );
    (
        format!("AKTEST{tag}"),
        format!("s3-secret-{tag}-do-not-print"),
    )
}

/// s3s-fs on 127.0.0.1:`port`, once it accepts connections; `None` if it
/// exits first (the port was taken).
fn spawn_s3s_fs(data: &Scratch, port: u16, key: &str, secret: &str) -> Option<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.path("server.log"))
        .unwrap();
    let mut child = Command::new(s3s_fs_bin())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", key, "--secret-key", secret])
        .arg(data.path("root"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("s3s-fs starts");
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        match probe(port, key, secret) {
            Probe::Ours => return Some(child),
            Probe::NotYet => thread::sleep(Duration::from_millis(50)),
            Probe::Other => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

enum Probe {
    /// An S3 server that accepts these keys answers on the port.
    Ours,
    /// Nothing answers HTTP there yet.
    NotYet,
    /// Another server holds the port (a test beside this one took it).
    Other,
}

/// Whether the server on `port` answers a signed request with these keys:
/// an open port alone is not enough (the listener may not serve yet, or the
/// port may belong to another test's server).
fn probe(port: u16, key: &str, secret: &str) -> Probe {
    let url = format!("http://127.0.0.1:{port}").parse().unwrap();
    let bucket = Bucket::new(url, UrlStyle::Path, "probe".to_string(), "us-east-1").unwrap();
    let creds = Credentials::new(key, secret);
    let signed = HeadBucket::new(&bucket, Some(&creds)).sign(SIGNED_FOR);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    match agent.head(signed.as_str()).call() {
        Ok(answer) if answer.status() == 404 => Probe::Ours,
        Ok(_) => Probe::Other,
        Err(_) => Probe::NotYet,
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A config for `emu` whose rejected records go to `bucket` on `server`.
fn s3_config(emu: &Emulator, server: &S3Server, bucket: &str, storage: Value) -> Value {
    let mut s3 = json!({
        "storage_type": "S3",
        "s3_bucket_name": bucket,
        "s3_bucket_path": PREFIX,
        "s3_endpoint": server.endpoint(),
        "access_key_id": server.key,
        "secret_access_key": server.secret,
    });
    for (k, v) in storage.as_object().unwrap() {
        s3[k] = v.clone();
    }
    config(emu, json!({"rejected_records_storage": s3}))
}

fn assert_no_secret(server: &S3Server, run: &Run) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(&server.secret) && !text.contains(&server.key),
            "an S3 credential leaked into {name}: {text}"
        );
    }
}

// ---- a sync fed step by step ------------------------------------------

/// A `write` whose input the test feeds while it runs.
struct LiveSync {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<JoinHandle<String>>,
    /// Input lines written so far (the binary numbers them from 1).
    fed: u64,
}

impl LiveSync {
    fn start(scratch: &Scratch, config: &Value) -> LiveSync {
        let mut child = spawn_write(scratch, config);
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        LiveSync {
            stdin: child.stdin.take(),
            child,
            lines,
            stdout: Vec::new(),
            stderr: Some(stderr),
            fed: 0,
        }
    }

    /// Feeds one input line; returns its line number.
    fn feed(&mut self, line: &str) -> u64 {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        self.fed += 1;
        self.fed
    }

    /// Waits until the STATE with `cursor` is on stdout; returns it.
    fn wait_for_state(&mut self, cursor: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    let m: Value = serde_json::from_str(&line).unwrap();
                    if m["type"] == "STATE"
                        && m["state"]["stream"]["stream_state"]["cursor"] == cursor
                    {
                        return m["state"].clone();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no STATE {cursor} within 30 s; stdout so far: {:?}",
                        self.stdout
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the sync ended before STATE {cursor}: {:?}", self.stdout)
                }
            }
        }
    }

    /// Ends the input and waits (up to 60 s) for the sync to finish.
    fn finish(mut self) -> Run {
        self.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the sync did not end within 60 s"
            );
            thread::sleep(Duration::from_millis(20));
        };
        self.collect(status.code().unwrap_or(-1), false)
    }

    /// Kills the sync at once (SIGKILL: nothing of it runs after this).
    fn kill(mut self) -> Run {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        self.stdin.take();
        // A line the kill cut off is no message.
        self.collect(status.code().unwrap_or(-1), true)
    }

    fn collect(&mut self, code: i32, drop_cut_lines: bool) -> Run {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            if !drop_cut_lines || serde_json::from_str::<Value>(&line).is_ok() {
                self.stdout.push(line);
            }
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        let mut stdout = self.stdout.join("\n");
        if !stdout.is_empty() {
            stdout.push('\n');
        }
        Run::parse(code, stdout, stderr)
    }
}

impl Drop for LiveSync {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn no_email(n: u64) -> String {
    record(json!({"firstname": format!("nobody {n}")}))
}

fn bad_email(n: u64) -> String {
    record(json!({"email": format!("not-an-email-{n}")}))
}

fn good(n: u64) -> String {
    record(json!({"email": format!("c{n}@x.io")}))
}

/// `{PREFIX}/{sync_id}/part-NNNNN.jsonl` → (sync_id, part number).
fn split_key(key: &str) -> (String, u32) {
    let rest = key
        .strip_prefix(&format!("{PREFIX}/"))
        .unwrap_or_else(|| panic!("{key} is not under {PREFIX}/"));
    let (sync_id, part) = rest.split_once('/').unwrap();
    let n = part
        .strip_prefix("part-")
        .and_then(|p| p.strip_suffix(".jsonl"))
        .unwrap_or_else(|| panic!("{key}: not a part-NNNNN.jsonl name"));
    assert_eq!(n.len(), 5, "{key}");
    (sync_id.to_string(), n.parse().unwrap())
}

// ---- the tests ---------------------------------------------------------

/// Each state window with rejections becomes one object, uploaded before
/// its state is emitted; a window without any uploads nothing; the rows
/// after the last state go up at the end.
#[test]
fn rejected_rows_go_up_as_one_object_per_state_window_before_its_state() {
    let server = S3Server::start();
    server.create_bucket("rejects");
    let emu = start(quick());
    let s = Scratch::new("s3-windows");
    let mut sync = LiveSync::start(&s, &s3_config(&emu, &server, "rejects", json!({})));

    // Window 1: two rejections among good records.
    let w1 = vec![sync.feed(&no_email(1)), sync.feed(&bad_email(2))];
    for n in 0..3 {
        sync.feed(&good(n));
    }
    sync.feed(&state(1));
    let st = sync.wait_for_state(1);
    assert_eq!(st["destinationStats"]["rejectedRecordCount"], 2.0);
    assert_eq!(server.lines_per_object("rejects"), vec![w1.clone()]);

    // Window 2: nothing rejected, nothing uploaded.
    for n in 3..6 {
        sync.feed(&good(n));
    }
    sync.feed(&state(2));
    sync.wait_for_state(2);
    assert_eq!(server.keys("rejects").len(), 1);

    // Window 3: an unreadable line and a rejection.
    let w3 = vec![sync.feed("{not json"), sync.feed(&bad_email(3))];
    sync.feed(&good(6));
    sync.feed(&state(3));
    let st = sync.wait_for_state(3);
    assert_eq!(st["destinationStats"]["rejectedRecordCount"], 1.0);
    assert_eq!(
        server.lines_per_object("rejects"),
        vec![w1.clone(), w3.clone()]
    );

    // After the last state: uploaded when the input ends.
    let tail = vec![sync.feed(&no_email(4))];
    let run = sync.finish();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(cursors(&run), vec![1, 2, 3]);
    assert_eq!(server.lines_per_object("rejects"), vec![w1, w3, tail]);

    // Names: one sync folder, parts numbered from 1.
    let keys = server.keys("rejects");
    let parts: Vec<(String, u32)> = keys.iter().map(|k| split_key(k)).collect();
    let sync_id = &parts[0].0;
    assert!(parts.iter().all(|(id, _)| id == sync_id), "{keys:?}");
    assert_eq!(parts.iter().map(|p| p.1).collect::<Vec<_>>(), vec![1, 2, 3]);
    // `20261109T101112Z-3f2a9c1b`: the UTC start, then a random suffix.
    assert_eq!(sync_id.len(), 25, "{sync_id}");
    assert!(
        sync_id[..8].bytes().all(|b| b.is_ascii_digit()),
        "{sync_id}"
    );
    assert_eq!(&sync_id[8..9], "T");
    assert_eq!(&sync_id[15..17], "Z-");

    // The rows are the rejected records, with their reasons and data.
    let rows = server.rows("rejects", &keys[0]);
    assert_eq!(rows[0]["reason"], "no_email");
    assert_eq!(rows[0]["record"]["firstname"], "nobody 1");
    assert_eq!(rows[1]["record"]["email"], "not-an-email-2");
    assert!(rows[1]["message"].is_string());
    assert_eq!(
        server.rows("rejects", &keys[1])[0]["reason"],
        "bad_input_line"
    );
    assert!(
        run.logs().contains(&format!(
            "uploaded as 3 object(s) under s3://rejects/{PREFIX}/{sync_id}/"
        )),
        "{}",
        run.logs()
    );
    assert_eq!(emails(&emu).len(), 7);
    assert_no_secret(&server, &run);
}

/// A sync killed right after a state: the rows that state counts are
/// already in the bucket; the one after it, counted by no state, is not.
#[test]
fn a_sync_killed_right_after_a_state_leaves_the_rows_that_state_counts() {
    let server = S3Server::start();
    server.create_bucket("rejects");
    let emu = start(quick());
    let s = Scratch::new("s3-kill");
    let mut sync = LiveSync::start(&s, &s3_config(&emu, &server, "rejects", json!({})));
    let w1 = [
        sync.feed(&no_email(1)),
        sync.feed(&good(1)),
        sync.feed(&bad_email(2)),
    ];
    sync.feed(&state(1));
    sync.wait_for_state(1);
    sync.feed(&no_email(3)); // counted by no state
    let run = sync.kill();
    assert_ne!(run.code, 0);
    assert_eq!(cursors(&run), vec![1]);
    assert_eq!(run.stat_sum("rejectedRecordCount"), 2);
    assert_eq!(server.lines_per_object("rejects"), vec![vec![w1[0], w1[2]]]);
    assert_no_secret(&server, &run);
}

/// Memory stays bounded: a window with more than 8 MiB of rejected rows
/// is uploaded in more than one part, all of them before its state.
#[test]
fn a_part_goes_up_early_once_it_holds_8_mib() {
    let server = S3Server::start();
    server.create_bucket("rejects");
    let emu = start(quick());
    let s = Scratch::new("s3-bound");
    let mut sync = LiveSync::start(&s, &s3_config(&emu, &server, "rejects", json!({})));
    let filler = "x".repeat(256 * 1024);
    let mut lines = Vec::new();
    for n in 0..40 {
        lines.push(sync.feed(&record(
            json!({"firstname": format!("big {n}"), "notes": filler}),
        )));
    }
    sync.feed(&state(1));
    let st = sync.wait_for_state(1);
    assert_eq!(st["destinationStats"]["rejectedRecordCount"], 40.0);
    let keys = server.keys("rejects");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let first = server.object("rejects", &keys[0]);
    assert!(
        first.len() >= 8 << 20 && first.len() < (8 << 20) + 300 * 1024,
        "part 1 holds {} bytes",
        first.len()
    );
    let got: Vec<u64> = server.lines_per_object("rejects").concat();
    assert_eq!(got, lines);
    let run = sync.finish();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.keys("rejects").len(), 2, "nothing left to upload");
    assert_no_secret(&server, &run);
}

/// `check` proves the bucket takes the credentials; each problem is
/// named with the bucket, the storage's code and what to fix.
#[test]
fn check_names_the_bucket_and_the_problem_for_bad_credentials_and_a_missing_bucket() {
    let server = S3Server::start();
    server.create_bucket("rejects");
    let emu = start(quick());
    let s = Scratch::new("s3-check");
    let ok = check(&s, &s3_config(&emu, &server, "rejects", json!({})));
    assert_eq!(
        ok.connection_status()["status"],
        "SUCCEEDED",
        "{:?}",
        ok.messages
    );
    assert_no_secret(&server, &ok);
    let cases = [
        (
            json!({"secret_access_key": "not-the-secret"}),
            "rejects",
            ["SignatureDoesNotMatch", "secret_access_key"],
        ),
        (
            json!({"access_key_id": "AKUNKNOWN"}),
            "rejects",
            ["NotSignedUp", "access_key_id"],
        ),
        (
            json!({"s3_bucket_name": "no-such-bucket"}),
            "no-such-bucket",
            ["NoSuchBucket", "does not exist"],
        ),
    ];
    for (storage, bucket, expect) in cases {
        let run = check(&s, &s3_config(&emu, &server, bucket, storage.clone()));
        assert_eq!(run.code, 0);
        let status = run.connection_status();
        assert_eq!(status["status"], "FAILED", "{storage}: {status}");
        let message = status["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{bucket}`")), "{message}");
        for e in expect {
            assert!(message.contains(e), "{storage}: `{e}` not in: {message}");
        }
        assert_no_secret(&server, &run);
        assert!(!run.stdout.contains("not-the-secret") && !run.stderr.contains("not-the-secret"));
    }
    // A storage nobody answers for: named as unreachable, quickly.
    let gone = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let run = check(
        &s,
        &s3_config(&emu, &server, "rejects", json!({"s3_endpoint": gone})),
    );
    let message = run.connection_status()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("unreachable") && message.contains("`rejects`"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// In `write` the same problems are fatal before anything is read or
/// written: a config error, no state, no contact.
#[test]
fn write_refuses_to_start_with_bad_credentials_or_a_missing_bucket() {
    let server = S3Server::start();
    server.create_bucket("rejects");
    let emu = start(quick());
    let s = Scratch::new("s3-write-refused");
    let input = format!("{}\n{}\n{}\n", good(1), no_email(2), state(1));
    for (storage, bucket, code) in [
        (
            json!({"secret_access_key": "not-the-secret"}),
            "rejects",
            "SignatureDoesNotMatch",
        ),
        (
            json!({"s3_bucket_name": "no-such-bucket"}),
            "no-such-bucket",
            "NoSuchBucket",
        ),
    ] {
        let run = write(&s, &s3_config(&emu, &server, bucket, storage), &input);
        let message = run.failed_with("config_error");
        assert!(
            message.contains(code) && message.contains(&format!("`{bucket}`")),
            "{message}"
        );
        assert!(run.states().is_empty());
        assert!(emu.contacts().is_empty(), "nothing may be written");
        assert_no_secret(&server, &run);
    }
    assert!(server.keys("rejects").is_empty());
}

/// An upload the storage refuses mid-sync (the keys were revoked): the
/// sync fails naming the bucket, the key and the code, and the state that
/// would count the lost row is never emitted.
#[test]
fn an_upload_the_storage_refuses_fails_the_sync_before_the_state() {
    let mut server = S3Server::start();
    server.create_bucket("rejects");
    let emu = start(quick());
    let s = Scratch::new("s3-refused");
    let mut sync = LiveSync::start(&s, &s3_config(&emu, &server, "rejects", json!({})));
    sync.feed(&no_email(1));
    sync.feed(&state(1));
    sync.wait_for_state(1);
    let first = server.keys("rejects");
    assert_eq!(first.len(), 1);
    let (old_key, old_secret) = (server.key.clone(), server.secret.clone());
    (server.key, server.secret) = server.revoke_credentials();
    sync.feed(&bad_email(2));
    sync.feed(&good(3));
    sync.feed(&state(2));
    let run = sync.finish();
    let message = run.failed_with("system_error");
    let folder = first[0].rsplit_once('/').unwrap().0;
    assert!(
        message.contains(&format!("s3://rejects/{folder}/part-00002.jsonl"))
            && message.contains("NotSignedUp")
            && message.contains("no state after the lost rows"),
        "{message}"
    );
    assert_eq!(cursors(&run), vec![1], "no state may count the lost row");
    assert_eq!(server.keys("rejects"), first);
    for secret in [old_key, old_secret] {
        assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret));
    }
}
