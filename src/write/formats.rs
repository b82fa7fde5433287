//! Property value formats: a JSON value from a record, rendered as the text
//! HubSpot accepts for the property's type, or a typed rejection.

use serde_json::Value;

use crate::hubspot::errors::RejectReason;
use crate::hubspot::properties::{Kind, Property};

/// Renders a JSON value in the format `prop` accepts.
pub fn normalise(prop: &Property, value: &Value) -> Result<String, RejectReason> {
    let bad = |why: &str| RejectReason::InvalidValue(format!("{}: {why}", prop.name));
    match prop.kind {
        Kind::String => Ok(match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => number(n),
            Value::Bool(b) => b.to_string(),
            Value::Array(items) if items.iter().all(is_scalar) => join(items),
            other => other.to_string(),
        }),
        Kind::Number => match value {
            Value::Number(n) => Ok(number(n)),
            Value::String(s) => {
                let t = s.trim();
                match t.parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok(if t.contains(['e', 'E']) {
                        render_f64(f)
                    } else {
                        t.trim_start_matches('+').to_string()
                    }),
                    _ => Err(bad("not a number")),
                }
            }
            _ => Err(bad("expected a number")),
        },
        Kind::Bool => match value {
            Value::Bool(b) => Ok(b.to_string()),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok("true".into()),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok("false".into()),
            _ => Err(bad("expected true or false")),
        },
        Kind::Date => match value {
            Value::String(s) => date(s.trim())
                .ok_or_else(|| bad("expected a date YYYY-MM-DD (or a datetime at midnight UTC)")),
            Value::Number(n) => match n.as_i64() {
                Some(ms) if ms % 86_400_000 == 0 => Ok(ms.to_string()),
                _ => Err(bad("epoch milliseconds for a date must be midnight UTC")),
            },
            _ => Err(bad("expected a date")),
        },
        Kind::DateTime => match value {
            Value::String(s) if datetime(s.trim()) => Ok(s.trim().to_string()),
            Value::String(s) if date(s.trim()).is_some() => Ok(format!("{}T00:00:00Z", s.trim())),
            Value::Number(n) => n
                .as_i64()
                .filter(|ms| *ms >= 0)
                .map(|ms| ms.to_string())
                .ok_or_else(|| bad("expected epoch milliseconds")),
            _ => Err(bad("expected an ISO 8601 datetime or epoch milliseconds")),
        },
        Kind::Enumeration => {
            let values: Vec<String> = match value {
                Value::Array(items) if prop.multi && items.iter().all(is_scalar) => {
                    items.iter().map(scalar).collect()
                }
                Value::String(s) if prop.multi => s
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                v if is_scalar(v) => vec![scalar(v)],
                _ => return Err(bad("expected an option value")),
            };
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(option(prop, &v).ok_or_else(|| {
                    RejectReason::InvalidOption(format!(
                        "{}: `{v}` is not one of the property's options",
                        prop.name
                    ))
                })?);
            }
            Ok(out.join(";"))
        }
    }
}

/// The option value matching `v` exactly, else by value or label ignoring case.
fn option(prop: &Property, v: &str) -> Option<String> {
    if prop.options.iter().any(|o| o == v) {
        return Some(v.to_string());
    }
    prop.options
        .iter()
        .zip(&prop.labels)
        .find(|(o, l)| o.eq_ignore_ascii_case(v) || l.eq_ignore_ascii_case(v))
        .map(|(o, _)| o.clone())
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => number(n),
        other => other.to_string(),
    }
}

fn join(items: &[Value]) -> String {
    items.iter().map(scalar).collect::<Vec<_>>().join(";")
}

/// Numbers without float noise: integral floats lose their ".0".
fn number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    render_f64(n.as_f64().unwrap_or(0.0))
}

fn render_f64(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        // Rust's Display is the shortest round-trip form, never exponent-y.
        format!("{f}")
    }
}

/// `YYYY-MM-DD`, or a datetime at exactly midnight UTC, as `YYYY-MM-DD`.
fn date(s: &str) -> Option<String> {
    let day = s.get(..10)?;
    if !valid_ymd(day) {
        return None;
    }
    let rest = &s[10..];
    let midnight = [
        "",
        "T00:00:00Z",
        "T00:00:00.000Z",
        "T00:00:00+00:00",
        "T00:00Z",
        " 00:00:00",
    ];
    midnight.contains(&rest).then(|| day.to_string())
}

fn valid_ymd(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        s.get(r)
            .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]
}

/// ISO 8601 datetime: date, 'T', hh:mm[:ss[.fff]], and Z or ±hh:mm.
fn datetime(s: &str) -> bool {
    let Some((day, time)) = s.split_once('T') else {
        return false;
    };
    if !valid_ymd(day) {
        return false;
    }
    let (clock, zone_ok) = if let Some(c) = time.strip_suffix('Z') {
        (c, true)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let zone = &time[at + 1..];
        (&time[..at], zone.len() == 5 && zone.as_bytes()[2] == b':')
    } else {
        return false;
    };
    let clock = clock.split('.').next().unwrap_or_default();
    let parts: Vec<&str> = clock.split(':').collect();
    zone_ok
        && (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|c| c.is_ascii_digit()))
        && parts[0] < "24"
        && parts[1] < "60"
        && parts.get(2).is_none_or(|s| *s < "61")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_shapes() {
        assert!(datetime("2024-01-02T03:04:05Z"));
        assert!(datetime("2024-01-02T03:04:05.123+02:00"));
        assert!(datetime("2024-01-02T03:04Z"));
        assert!(!datetime("2024-01-02 03:04:05"));
        assert!(!datetime("2024-13-02T03:04:05Z"));
    }
}
