//! The `hubspot-emulator` binary as scripts use it: `--help`, flag errors,
//! and the first stdout line being the base URL of a server that answers
//! with the options the flags asked for.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_hubspot-emulator");

/// A started binary, killed when dropped.
struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reads the first line");
    Running {
        child,
        base: line.trim().to_string(),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

#[test]
fn help_lists_flags_faults_and_inspection() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--port <N>",
        "--fault-at <N:FAULT>",
        "--email-upsert-mode <M>",
        "[default: 8080]",
        "FAULTS:",
        "429retry2",
        "INSPECTION",
        "/_emulator/stats",
    ] {
        assert!(text.contains(needle), "help lacks {needle:?}:\n{text}");
    }
}

#[test]
fn bad_flags_exit_2_with_a_message_on_stderr() {
    for args in [&["--bogus"][..], &["--port", "x"], &["--fault-at", "0:500"]] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("error"));
    }
}

#[test]
fn first_line_is_the_base_url_and_flags_take_effect() {
    let emu = run(&[
        "--port",
        "0",
        "--token",
        "pat-cli",
        "--no-rate-limit",
        "--portal-id=42",
        "--fault-at",
        "2:503",
    ]);
    assert!(emu.base.starts_with("http://127.0.0.1:"), "{}", emu.base);
    let get = |path: &str| {
        agent()
            .get(format!("{}{path}", emu.base))
            .header("Authorization", "Bearer pat-cli")
            .call()
            .unwrap()
    };
    let mut details = get("/account-info/v3/details");
    assert_eq!(details.status(), 200);
    assert_eq!(
        details.headers()["X-HubSpot-RateLimit-Max"],
        "1000000",
        "--no-rate-limit advertises the large max"
    );
    let body: serde_json::Value = details.body_mut().read_json().unwrap();
    assert_eq!(body["portalId"], 42);
    assert_eq!(get("/account-info/v3/details").status(), 503);
}
