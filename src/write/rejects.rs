//! The rejects sink: every record not written, and every input line that
//! could not be read, is reported here — a few examples and a summary per
//! reason as LOG messages, and each one in the optional JSON Lines file.
//! Emails are masked in logs unless the user asked for record data.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use crate::hubspot::errors::RejectReason;
use crate::protocol::Output;

/// Individual LOG lines per reason before only the summary counts.
const EXAMPLES_PER_REASON: u64 = 5;

/// Where rejected records and bad lines go.
pub(crate) struct Rejects {
    /// (code, property) → (count, first reason text): the summary tells
    /// `invalid_value on newsletter_opt_in` from `… on annualrevenue`.
    counts: BTreeMap<(&'static str, Option<String>), (u64, String)>,
    bad_lines: u64,
    file: Option<(BufWriter<File>, PathBuf)>,
    /// The first failure to write the file: it fails the sync at the next
    /// flush, before any state that counts the lost row.
    file_error: Option<String>,
    log_record_data: bool,
}

impl Rejects {
    /// A sink; `path` appends each rejection to a JSONL file.
    pub(crate) fn new(path: Option<&Path>, log_record_data: bool) -> Result<Rejects> {
        let file = match path {
            Some(p) => {
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| {
                        format!("cannot open rejected_records_path {}", p.display())
                    })?;
                Some((BufWriter::new(f), p.to_path_buf()))
            }
            None => None,
        };
        Ok(Rejects {
            counts: BTreeMap::new(),
            bad_lines: 0,
            file,
            file_error: None,
            log_record_data,
        })
    }

    /// Whether record data must be kept for the file.
    pub(crate) fn wants_data(&self) -> bool {
        self.file.is_some()
    }

    /// Reports one rejected record.
    pub(crate) fn record(
        &mut self,
        line: u64,
        email: Option<&str>,
        data: Option<&Map<String, Value>>,
        reason: &RejectReason,
        out: &Output,
    ) {
        let key = (reason.code(), reason.property().map(str::to_string));
        let slot = self
            .counts
            .entry(key)
            .or_insert_with(|| (0, reason.to_string()));
        slot.0 += 1;
        if slot.0 <= EXAMPLES_PER_REASON {
            let who = match email {
                Some(e) if self.log_record_data => format!(" ({e})"),
                Some(e) => format!(" ({})", mask_email(e)),
                None => String::new(),
            };
            out.log(
                "WARN",
                format!("record on input line {line}{who} rejected: {reason}"),
            );
        }
        let row = json!({"line": line, "reason": reason.code(), "message": reason.to_string(), "record": data});
        self.write_row(&row);
    }

    /// Reports an input line that is not a usable message.
    pub(crate) fn bad_line(&mut self, line: u64, problem: &str, out: &Output) {
        self.bad_lines += 1;
        if self.bad_lines <= EXAMPLES_PER_REASON * 4 {
            out.log("WARN", format!("input line {line} skipped: {problem}"));
        }
        let row = json!({"line": line, "reason": "bad_input_line", "message": problem});
        self.write_row(&row);
    }

    /// Total rejected records.
    pub(crate) fn rejected(&self) -> u64 {
        self.counts.values().map(|c| c.0).sum()
    }

    /// Total skipped lines.
    pub(crate) fn bad_lines(&self) -> u64 {
        self.bad_lines
    }

    /// Writes every row so far through to the file: called before a state
    /// that counts them is emitted. `Err` (disk full, file gone) must fail
    /// the sync: a row counted but not written would be lost.
    pub(crate) fn flush(&mut self) -> std::result::Result<(), String> {
        if let Some((f, _)) = self.file.as_mut() {
            if let Err(e) = f.flush() {
                self.file_error.get_or_insert(e.to_string());
            }
        }
        match (&self.file_error, &self.file) {
            (Some(e), Some((_, path))) => Err(format!(
                "writing the rejected-records file {} failed: {e}; no state after the lost rows is emitted",
                path.display()
            )),
            _ => Ok(()),
        }
    }

    /// Logs the summary per reason and property.
    pub(crate) fn summarise(&self, out: &Output) {
        for ((code, property), (n, example)) in &self.counts {
            let on = property
                .as_ref()
                .map_or(String::new(), |p| format!(" on {p}"));
            out.log(
                "WARN",
                format!("{code}{on}: {n} record(s) rejected (e.g. {example})"),
            );
        }
        if self.bad_lines > 0 {
            out.log(
                "WARN",
                format!(
                    "{} input line(s) skipped as unreadable (see the line numbers above)",
                    self.bad_lines
                ),
            );
        }
    }

    /// One row as one whole line.
    fn write_row(&mut self, row: &Value) {
        if let Some((f, _)) = self.file.as_mut() {
            let mut line = serde_json::to_vec(row).unwrap_or_default();
            line.push(b'\n');
            if let Err(e) = f.write_all(&line) {
                self.file_error.get_or_insert(e.to_string());
            }
        }
    }
}

/// "jane.doe@example.com" → "j***@example.com".
pub(crate) fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_local_part() {
        assert_eq!(mask_email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(mask_email("broken"), "***");
    }

    #[test]
    fn rejections_are_counted_per_reason_and_written_to_the_file() {
        let dir = std::env::temp_dir().join(format!("rejects-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.jsonl");
        let _ = std::fs::remove_file(&path);
        let out = Output::new(Box::new(std::io::sink()));
        let mut r = Rejects::new(Some(&path), false).unwrap();
        let data: Map<String, Value> = serde_json::from_str(r#"{"email":"x"}"#).unwrap();
        r.record(3, Some("x"), Some(&data), &RejectReason::InvalidEmail, &out);
        r.record(4, None, None, &RejectReason::NoEmail("none".into()), &out);
        r.record(5, None, None, &RejectReason::NoEmail("none".into()), &out);
        r.bad_line(6, "not JSON", &out);
        r.flush().unwrap();
        assert_eq!(r.rejected(), 3);
        assert_eq!(r.bad_lines(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0]["line"], 3);
        assert_eq!(rows[0]["record"]["email"], "x");
        assert_eq!(rows[3]["reason"], "bad_input_line");
    }

    #[test]
    fn the_summary_counts_per_reason_and_property() {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        #[derive(Clone)]
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Output::new(Box::new(Shared(buf.clone())));
        let mut r = Rejects::new(None, false).unwrap();
        for (n, property) in [(3, "newsletter_opt_in"), (2, "annualrevenue")] {
            for _ in 0..n {
                let reason = RejectReason::InvalidValue(format!("{property}: bad"));
                r.record(1, None, None, &reason, &out);
            }
        }
        r.summarise(&out);
        out.finish();
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("invalid_value on newsletter_opt_in: 3 record(s) rejected"),
            "{text}"
        );
        assert!(
            text.contains("invalid_value on annualrevenue: 2 record(s) rejected"),
            "{text}"
        );
    }

    #[test]
    fn a_row_the_file_cannot_take_fails_the_next_flush() {
        // /dev/full takes the open and refuses every write: a full disk.
        let path = Path::new("/dev/full");
        if !path.exists() {
            return;
        }
        let out = Output::new(Box::new(std::io::sink()));
        let mut r = Rejects::new(Some(path), false).unwrap();
        r.record(1, None, None, &RejectReason::NoEmail("none".into()), &out);
        let e = r.flush().unwrap_err();
        assert!(e.contains("/dev/full") && e.contains("failed"), "{e}");
    }
}
