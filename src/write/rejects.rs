//! The rejects sink: every record not written, and every input line that
//! could not be read, is reported here — a few examples and a summary per
//! reason as LOG messages, and each one in the optional JSON Lines file.
//! Emails are masked in logs unless the user asked for record data.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use crate::hubspot::errors::RejectReason;
use crate::protocol::Output;

/// Individual LOG lines per reason before only the summary counts.
const EXAMPLES_PER_REASON: u64 = 5;

struct Inner {
    /// code → (count, first reason text)
    counts: BTreeMap<&'static str, (u64, String)>,
    bad_lines: u64,
    file: Option<BufWriter<File>>,
    file_error: Option<String>,
}

/// Where rejected records and bad lines go.
pub struct Rejects {
    inner: Mutex<Inner>,
    log_record_data: bool,
}

impl Rejects {
    /// A sink; `path` appends each rejection to a JSONL file.
    pub fn new(path: Option<&Path>, log_record_data: bool) -> Result<Rejects> {
        let file = match path {
            Some(p) => Some(BufWriter::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| {
                        format!("cannot open rejected_records_path {}", p.display())
                    })?,
            )),
            None => None,
        };
        Ok(Rejects {
            inner: Mutex::new(Inner {
                counts: BTreeMap::new(),
                bad_lines: 0,
                file,
                file_error: None,
            }),
            log_record_data,
        })
    }

    /// Whether record data must be kept for the file.
    pub fn wants_data(&self) -> bool {
        self.lock().file.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reports one rejected record.
    pub fn record(
        &self,
        line: u64,
        email: Option<&str>,
        data: Option<&Map<String, Value>>,
        reason: &RejectReason,
        out: &Output,
    ) {
        let mut s = self.lock();
        let slot = s
            .counts
            .entry(reason.code())
            .or_insert_with(|| (0, reason.to_string()));
        slot.0 += 1;
        let n = slot.0;
        if n <= EXAMPLES_PER_REASON {
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
        write_row(&mut s, &row);
    }

    /// Reports an input line that is not a usable message.
    pub fn bad_line(&self, line: u64, problem: &str, out: &Output) {
        let mut s = self.lock();
        s.bad_lines += 1;
        if s.bad_lines <= EXAMPLES_PER_REASON * 4 {
            out.log("WARN", format!("input line {line} skipped: {problem}"));
        }
        let row = json!({"line": line, "reason": "bad_input_line", "message": problem});
        write_row(&mut s, &row);
    }

    /// Total rejected records.
    pub fn rejected(&self) -> u64 {
        self.lock().counts.values().map(|c| c.0).sum()
    }

    /// Total skipped lines.
    pub fn bad_lines(&self) -> u64 {
        self.lock().bad_lines
    }

    /// Count per reason code.
    pub fn by_reason(&self) -> Vec<(&'static str, u64, String)> {
        self.lock()
            .counts
            .iter()
            .map(|(k, (n, ex))| (*k, *n, ex.clone()))
            .collect()
    }

    /// Flushes the file; logs the summary per reason.
    pub fn finish(&self, out: &Output) {
        let mut s = self.lock();
        if let Some(f) = s.file.as_mut() {
            if let Err(e) = f.flush() {
                s.file_error = Some(e.to_string());
            }
        }
        for (code, (n, example)) in &s.counts {
            out.log(
                "WARN",
                format!("{n} record(s) rejected: {code} (e.g. {example})"),
            );
        }
        if s.bad_lines > 0 {
            out.log(
                "WARN",
                format!(
                    "{} input line(s) skipped as unreadable (see the line numbers above)",
                    s.bad_lines
                ),
            );
        }
        if let Some(e) = &s.file_error {
            out.log(
                "ERROR",
                format!("writing the rejected-records file failed: {e}"),
            );
        }
    }
}

fn write_row(s: &mut Inner, row: &Value) {
    if let Some(f) = s.file.as_mut() {
        let result = serde_json::to_writer(&mut *f, row)
            .map_err(std::io::Error::from)
            .and_then(|_| f.write_all(b"\n"));
        if let Err(e) = result {
            s.file_error.get_or_insert(e.to_string());
        }
    }
}

/// "jane.doe@example.com" → "j***@example.com".
pub fn mask_email(email: &str) -> String {
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
        let r = Rejects::new(Some(&path), false).unwrap();
        let data: Map<String, Value> = serde_json::from_str(r#"{"email":"x"}"#).unwrap();
        r.record(3, Some("x"), Some(&data), &RejectReason::InvalidEmail, &out);
        r.record(4, None, None, &RejectReason::NoEmail, &out);
        r.record(5, None, None, &RejectReason::NoEmail, &out);
        r.bad_line(6, "not JSON", &out);
        r.finish(&out);
        assert_eq!(r.rejected(), 3);
        assert_eq!(r.bad_lines(), 1);
        assert_eq!(
            r.by_reason().iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
            vec![("invalid_email", 1), ("no_email", 2)]
        );
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
}
