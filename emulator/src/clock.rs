//! Time as HubSpot writes it: ISO 8601 UTC with milliseconds
//! (`2019-10-30T03:30:17.883Z`) and epoch milliseconds, plus the parsing the
//! date and datetime property types need. Hand-written civil-date math keeps
//! the crate free of a time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

const DAY_MS: i64 = 86_400_000;

/// `2019-10-30T03:30:17.883Z`.
pub(crate) fn iso(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// `2019-10-30` for a midnight-UTC instant.
pub(crate) fn iso_date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The next midnight UTC after `ms`.
pub(crate) fn next_midnight(ms: i64) -> i64 {
    (ms.div_euclid(DAY_MS) + 1) * DAY_MS
}

/// The time of day of `ms` when it is not midnight UTC, as HubSpot words it
/// in its INVALID_DATE message (`9:30:12.0`).
pub(crate) fn time_of_day(ms: i64) -> Option<String> {
    let rem = ms.rem_euclid(DAY_MS);
    (rem != 0).then(|| {
        format!(
            "{}:{}:{}.{}",
            rem / 3_600_000,
            rem / 60_000 % 60,
            rem / 1000 % 60,
            rem % 1000
        )
    })
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses `YYYY-MM-DD` to the epoch ms of its midnight UTC.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (digits(y)?, digits(m)?, digits(d)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY_MS)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses an ISO 8601 datetime (`YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`, or a
/// bare date) to epoch ms.
pub(crate) fn parse_datetime(s: &str) -> Option<i64> {
    if s.len() == 10 {
        return parse_date(s);
    }
    let (date, rest) = s.split_at_checked(10)?;
    let day = parse_date(date)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    // Split off the zone: `Z`, or the last `+`/`-`.
    let (time, offset_ms) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0)
    } else if let Some(at) = rest.rfind(['+', '-']) {
        let (t, z) = rest.split_at(at);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let z = &z[1..];
        let (h, m) = match z.split_once(':') {
            Some((h, m)) => (h, m),
            None if z.len() == 4 => z.split_at(2),
            None => (z, "00"),
        };
        let (h, m) = (digits(h)?, digits(m)?);
        if h > 23 || m > 59 {
            return None;
        }
        (t, sign * (h * 3_600_000 + m * 60_000))
    } else {
        // No zone designator: read it as UTC rather than guess a local zone.
        (rest, 0)
    };
    let mut parts = time.splitn(3, ':');
    let h = digits(parts.next()?)?;
    let m = digits(parts.next()?)?;
    let (sec, frac) = match parts.next() {
        None => (0, 0),
        Some(s) => match s.split_once('.') {
            None => (digits(s)?, 0),
            Some((s, f)) => {
                digits(f)?;
                let ms: String = f.chars().chain("000".chars()).take(3).collect();
                (digits(s)?, ms.parse().ok()?)
            }
        },
    };
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(day + h * 3_600_000 + m * 60_000 + sec * 1000 + frac - offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_iso_with_millis() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_572_406_217_883), "2019-10-30T03:30:17.883Z");
        assert_eq!(iso_date(1_704_067_200_000), "2024-01-01");
    }

    #[test]
    fn parses_dates_and_rejects_impossible_ones() {
        assert_eq!(parse_date("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            parse_date("2024-02-29").map(iso_date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-1-01"), None);
    }

    #[test]
    fn parses_datetimes_with_zones() {
        assert_eq!(
            parse_datetime("2019-10-30T03:30:17.883Z"),
            Some(1_572_406_217_883)
        );
        assert_eq!(
            parse_datetime("2019-10-30T05:30:17.883+02:00"),
            Some(1_572_406_217_883)
        );
        assert_eq!(parse_datetime("2019-10-30T03:30Z"), Some(1_572_406_200_000));
        assert_eq!(parse_datetime("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            parse_datetime("2019-10-30T03:30:17"),
            Some(1_572_406_217_000)
        );
        assert_eq!(parse_datetime("2019-10-30T25:30:17Z"), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn names_time_of_day_unless_midnight() {
        assert_eq!(time_of_day(1_704_067_200_000), None);
        assert_eq!(time_of_day(1_543_311_012_000).as_deref(), Some("9:30:12.0"));
    }
}
