//! The format checks HubSpot applies to a value written to a typed property,
//! and the form each value is stored in: emails lower-cased, booleans
//! lower-cased, dates as `YYYY-MM-DD`, datetimes as ISO 8601 with
//! milliseconds, multi-select options joined with `;`. Existence, read-only
//! and clearing with `""` are [`super::Schema::check`]'s job.

use super::{PropError, Property};
use crate::clock;

/// Format checks by property type; returns the value as stored.
pub(crate) fn check_value(p: &Property, raw: &str) -> Result<String, PropError> {
    let checked = match p.kind.as_str() {
        "string" if p.name == "email" || p.name == "hs_additional_emails" => email(raw),
        "number" => number(raw),
        "bool" => boolean(raw),
        "date" => date(raw),
        "datetime" => datetime(raw),
        "enumeration" => enumeration(p, raw),
        _ => Ok(raw.to_string()),
    };
    checked.map_err(|(code, message)| PropError::new(&p.name, code, message))
}

/// A failed check: HubSpot's error code and message.
type Failure = (&'static str, String);

fn email(raw: &str) -> Result<String, Failure> {
    let v = raw.trim().to_ascii_lowercase();
    if valid_email(&v) {
        Ok(v)
    } else {
        Err(("INVALID_EMAIL", format!("Email address {raw} is invalid")))
    }
}

fn number(raw: &str) -> Result<String, Failure> {
    let t = raw.trim();
    let ok = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && t.parse::<f64>().is_ok_and(f64::is_finite);
    if ok {
        Ok(t.to_string())
    } else {
        Err(("INVALID_INTEGER", format!("{raw} was not a valid number.")))
    }
}

fn boolean(raw: &str) -> Result<String, Failure> {
    match raw.trim().to_ascii_lowercase().as_str() {
        v @ ("true" | "false") => Ok(v.to_string()),
        _ => Err((
            "INVALID_BOOLEAN",
            format!("{raw} was not a valid boolean (true or false)."),
        )),
    }
}

/// `YYYY-MM-DD`, or epoch milliseconds that fall on midnight UTC.
fn date(raw: &str) -> Result<String, Failure> {
    let ms = if raw.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<i64>().ok()
    } else {
        clock::parse_date(raw)
    };
    match ms {
        None => Err(("INVALID_DATE", format!("{raw} is not a valid date."))),
        Some(ms) => match clock::time_of_day(ms) {
            Some(t) => Err((
                "INVALID_DATE",
                format!("{raw} is at {t} UTC, not midnight!"),
            )),
            None => Ok(clock::iso_date(ms)),
        },
    }
}

/// ISO 8601, or epoch milliseconds.
fn datetime(raw: &str) -> Result<String, Failure> {
    let ms = if raw.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<i64>().ok()
    } else {
        clock::parse_datetime(raw)
    };
    match ms {
        Some(ms) => Ok(clock::iso(ms)),
        None => Err(("INVALID_DATE", format!("{raw} is not a valid datetime."))),
    }
}

/// One option value, or for a multi-select (`checkbox`) several joined
/// with `;`.
fn enumeration(p: &Property, raw: &str) -> Result<String, Failure> {
    let allowed = |v: &str| p.options.iter().any(|o| o.value == v);
    let values: Vec<&str> = if p.multi() {
        raw.split(';').filter(|v| !v.is_empty()).collect()
    } else {
        vec![raw]
    };
    match values.iter().find(|v| !allowed(v)) {
        None => Ok(values.join(";")),
        Some(bad) => Err((
            "INVALID_OPTION",
            format!(
                "{bad} was not one of the allowed options: [{}]",
                p.options
                    .iter()
                    .map(|o| o.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// TLDs HubSpot rejects as obvious typos of `.com`.
const TYPO_TLDS: &[&str] = &["con", "cpm", "cmo", "ocm", "vom", "xom", "comm"];

/// HubSpot-ish email syntax: one `@`, a non-empty local part without
/// spaces, a dotted domain whose TLD is alphabetic and not a known typo.
/// `hs_additional_emails` may hold several, separated by `;`.
pub(crate) fn valid_email(s: &str) -> bool {
    if s.contains(';') {
        return s.split(';').all(valid_email);
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let tld = labels.last().copied().unwrap_or("");
    local_ok
        && domain_ok
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
        && !TYPO_TLDS.contains(&tld)
}
