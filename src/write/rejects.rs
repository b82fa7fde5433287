//! The rejects sink: every record not written, and every input line that
//! could not be read, is reported here — a few examples and a summary per
//! reason as LOG messages, and each one as a JSON line in the optional
//! store (a local file or object storage: [`super::rejects_store`]).
//! Associations that could not be made (their records are written) are
//! reported here too. Emails and values are masked in logs unless the user
//! asked for record data.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::{json, Map, Value};

use super::redact::shown;
use super::rejects_store::RejectsStore;
use crate::config::Config;
use crate::hubspot::errors::RejectReason;
use crate::protocol::Output;

/// Individual LOG lines per reason before only the summary counts.
const EXAMPLES_PER_REASON: u64 = 5;

/// Where rejected records and bad lines go.
pub(crate) struct Rejects {
    /// (code, property) → (count, first reason text): the summary tells
    /// `invalid_value on newsletter_opt_in` from `… on annualrevenue`.
    counts: BTreeMap<(&'static str, Option<String>), (u64, String)>,
    /// Association problem code → (count, first message).
    associations: BTreeMap<&'static str, (u64, String)>,
    bad_lines: u64,
    store: Option<RejectsStore>,
    /// The first failure to keep a row: it fails the sync at the next
    /// flush, before any state that counts the lost row.
    store_error: Option<String>,
    log_record_data: bool,
}

impl Rejects {
    /// A sink; `path` appends each rejection to a JSONL file.
    #[cfg(test)]
    pub(crate) fn new(path: Option<&std::path::Path>, log_record_data: bool) -> Result<Rejects> {
        let store = path.map(RejectsStore::file).transpose()?;
        Ok(Rejects::with_store(store, log_record_data))
    }

    /// The sink the config asks for: object storage (its bucket probed
    /// first), a local file, or the log only.
    pub(crate) fn for_config(config: &Config) -> Result<Rejects> {
        let store = match (&config.rejected_records_s3, &config.rejected_records_path) {
            (Some(s3), _) => Some(RejectsStore::s3(s3, config.request_timeout)?),
            (None, Some(path)) => Some(RejectsStore::file(path)?),
            (None, None) => None,
        };
        Ok(Rejects::with_store(store, config.log_record_data))
    }

    fn with_store(store: Option<RejectsStore>, log_record_data: bool) -> Rejects {
        Rejects {
            counts: BTreeMap::new(),
            associations: BTreeMap::new(),
            bad_lines: 0,
            store,
            store_error: None,
            log_record_data,
        }
    }

    /// Whether record data must be kept for the store.
    pub(crate) fn wants_data(&self) -> bool {
        self.store.is_some()
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

    /// Reports an association that could not be made for the record on
    /// `line` (which is written): its target is missing (`reason` `None`)
    /// or HubSpot refused it. `link` is the stream and field, `target` the
    /// object and key looked for; the value is masked unless
    /// `log_record_data`.
    pub(crate) fn association(
        &mut self,
        line: u64,
        link: &str,
        target: &str,
        value: &str,
        reason: Option<&RejectReason>,
        out: &Output,
    ) {
        let code = match reason {
            None => "association_target_missing",
            Some(_) => "association_refused",
        };
        let value = shown(value, self.log_record_data);
        let message = match reason {
            None => format!("{link}: no {target} is {value} by the end of the sync"),
            Some(why) => format!("{link} = {value}: {why}"),
        };
        let slot = self
            .associations
            .entry(code)
            .or_insert_with(|| (0, message.clone()));
        slot.0 += 1;
        if slot.0 <= EXAMPLES_PER_REASON {
            out.log(
                "WARN",
                format!("record on input line {line}: association not made ({code}): {message}; the record itself is written"),
            );
        }
        let row = json!({"line": line, "reason": code, "message": message, "association": link});
        self.write_row(&row);
    }

    /// Associations that could not be made.
    pub(crate) fn associations_failed(&self) -> u64 {
        self.associations.values().map(|c| c.0).sum()
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

    /// Writes every row so far through to the store: called before a state
    /// that counts them is emitted. `Err` (disk full, file gone, object
    /// storage refusing) must fail the sync: a row counted but not stored
    /// would be lost.
    pub(crate) fn flush(&mut self) -> std::result::Result<(), String> {
        if self.store_error.is_none() {
            if let Some(Err(e)) = self.store.as_mut().map(RejectsStore::flush) {
                self.store_error = Some(e);
            }
        }
        match &self.store_error {
            Some(e) => Err(format!("{e}; no state after the lost rows is emitted")),
            None => Ok(()),
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
        for (code, (n, example)) in &self.associations {
            out.log(
                "WARN",
                format!(
                    "{code}: {n} association(s) not made, their records written (e.g. {example})"
                ),
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
        if let Some(uploaded) = self.store.as_ref().and_then(RejectsStore::uploaded) {
            out.log("INFO", uploaded);
        }
    }

    /// One row as one whole line; after a failure nothing more is tried.
    fn write_row(&mut self, row: &Value) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        if self.store_error.is_some() {
            return;
        }
        let mut line = serde_json::to_vec(row).unwrap_or_default();
        line.push(b'\n');
        if let Err(e) = store.put_line(&line) {
            self.store_error = Some(e);
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
    use std::path::Path;

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
        let (out, buf) = crate::protocol::output::captured();
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
