//! Dates and datetimes as HubSpot stores them, read with jiff (its ISO 8601
//! / RFC 3339 parser; no hand-written calendar code):
//!
//! - a datetime becomes `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds — the
//!   form HubSpot stores). `T` or a space between date and time, fractional
//!   seconds, `Z`, `±HH:MM`, `±HHMM` or `±HH`; without a zone it is read in
//!   the configured time zone (UTC by default); a date alone is midnight.
//! - a date becomes `YYYY-MM-DD`: the calendar date as written; a time of
//!   day after it is dropped (the caller warns once per property).
//! - a number, or a string of one, is an epoch time: seconds when its
//!   magnitude is below 10^11 (the year 5138), milliseconds otherwise; for
//!   a date, its calendar date in UTC (HubSpot's own midnight-UTC rule).
//! - `01/05/2024` and other local spellings are refused: the day and month
//!   order can't be known.

use jiff::civil::{DateTime, Time};
use jiff::fmt::temporal::Pieces;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::numbers;

/// What a datetime property accepts, for rejection messages.
pub(crate) const DATETIME_ACCEPTED: &str = "ISO 8601 `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]]` with `Z`, `±HH:MM` or no zone, a date alone, or epoch seconds or milliseconds";

/// What a date property accepts, for rejection messages.
pub(crate) const DATE_ACCEPTED: &str =
    "`YYYY-MM-DD`, an ISO 8601 datetime (its date is used), or epoch seconds or milliseconds";

/// Epoch numbers below this (in magnitude) are seconds, others milliseconds.
pub(crate) const SECONDS_BELOW: i64 = 100_000_000_000;

/// Why a text is not a date or time: completes "`value` …".
pub(crate) type Refusal = &'static str;

/// The datetime `text` names, as HubSpot stores it; `zone` is for text
/// without one.
pub(crate) fn datetime(text: &str, zone: &TimeZone) -> Result<String, Refusal> {
    let instant = match epoch(text) {
        Some(instant) => instant?,
        None => {
            let pieces = written(text)?;
            let at = pieces
                .date()
                .to_datetime(pieces.time().unwrap_or(Time::midnight()));
            in_zone(&pieces, at, zone)?
        }
    };
    // HubSpot keeps milliseconds: finer digits are cut, not rounded.
    let ms = Timestamp::from_millisecond(instant.as_millisecond()).map_err(|_| OUT_OF_RANGE)?;
    Ok(format!("{ms:.3}"))
}

/// The calendar date `text` names as `YYYY-MM-DD`, and whether a time of
/// day other than midnight was dropped from it.
pub(crate) fn date(text: &str) -> Result<(String, bool), Refusal> {
    let (day, time) = match epoch(text) {
        Some(instant) => {
            let at = TimeZone::UTC.to_datetime(instant?);
            (at.date(), Some(at.time()))
        }
        None => {
            let pieces = written(text)?;
            (pieces.date(), pieces.time())
        }
    };
    Ok((day.to_string(), time.is_some_and(|t| t != Time::midnight())))
}

const OUT_OF_RANGE: Refusal = "is out of the range of dates";

/// An epoch time, when `text` is a number.
fn epoch(text: &str) -> Option<Result<Timestamp, Refusal>> {
    let t = text.trim();
    if !t.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return None;
    }
    let number = numbers::canonical(t).ok()?;
    if t.contains([',', ' ', '\u{a0}', '\u{202f}']) {
        return None; // grouped digits are not an epoch time
    }
    let (negative, magnitude) = match number.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, number.as_str()),
    };
    let (whole, fraction) = magnitude.split_once('.').unwrap_or((magnitude, ""));
    let Ok(whole) = whole.parse::<i64>() else {
        return Some(Err(OUT_OF_RANGE));
    };
    let ms = if whole < SECONDS_BELOW {
        let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
        whole * 1000 + millis.parse::<i64>().unwrap_or(0)
    } else {
        whole // milliseconds; a fraction of one is cut
    };
    let ms = if negative { -ms } else { ms };
    Some(Timestamp::from_millisecond(ms).map_err(|_| OUT_OF_RANGE))
}

/// ISO 8601 / RFC 3339 text, or why not.
fn written(text: &str) -> Result<Pieces<'_>, Refusal> {
    let t = text.trim();
    Pieces::parse(t).map_err(|_| {
        if local_spelling(t) {
            "has an ambiguous day and month order (write `YYYY-MM-DD`)"
        } else {
            "is not an ISO 8601 date or datetime"
        }
    })
}

/// `01/05/2024`, `1.5.24`, `05-01-2024`: a date whose day and month could
/// be either way round.
fn local_spelling(t: &str) -> bool {
    let day_part = t.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = day_part.split(['/', '.', '-']).collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].len() <= 2
        && parts[1].len() <= 2
}

/// The instant of a civil datetime: its own offset or zone, else `zone`.
fn in_zone(pieces: &Pieces, at: DateTime, zone: &TimeZone) -> Result<Timestamp, Refusal> {
    if let Some(offset) = pieces.to_numeric_offset() {
        return offset.to_timestamp(at).map_err(|_| OUT_OF_RANGE);
    }
    let named = pieces
        .to_time_zone()
        .map_err(|_| "names a time zone that does not exist")?;
    // In a daylight-saving gap or fold, the earlier reading of a time that
    // exists twice and the later one of a time that is skipped (jiff's
    // "compatible" choice, as most software does).
    named
        .as_ref()
        .unwrap_or(zone)
        .to_timestamp(at)
        .map_err(|_| OUT_OF_RANGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Result<String, Refusal> {
        datetime(text, &TimeZone::UTC)
    }

    #[test]
    fn datetimes_in_every_accepted_spelling() {
        for (text, want) in [
            ("2024-01-05T10:30:00Z", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05t10:30:00z", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05 10:30:00", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05T10:30:00", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05T10:30:00.000000", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05T10:30:00.123456", "2024-01-05T10:30:00.123Z"),
            ("2024-01-05T10:30:00.9999Z", "2024-01-05T10:30:00.999Z"),
            ("2024-01-05T10:30", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05T12:30:00+02:00", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05T12:30:00+0200", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05T05:30:00-05", "2024-01-05T10:30:00.000Z"),
            ("2024-01-05T00:30:00+01:00", "2024-01-04T23:30:00.000Z"),
            ("2024-01-05", "2024-01-05T00:00:00.000Z"),
            ("2024-01-02 00:00:00", "2024-01-02T00:00:00.000Z"),
            (
                "2024-01-05T11:30:00[Europe/Paris]",
                "2024-01-05T10:30:00.000Z",
            ),
            (" 2024-02-29T23:59:59Z ", "2024-02-29T23:59:59.000Z"),
            ("1704450600", "2024-01-05T10:30:00.000Z"),
            ("1704450600.5", "2024-01-05T10:30:00.500Z"),
            ("1704450600000", "2024-01-05T10:30:00.000Z"),
            ("1704450600123.9", "2024-01-05T10:30:00.123Z"),
            ("1.7044506e9", "2024-01-05T10:30:00.000Z"),
            ("0", "1970-01-01T00:00:00.000Z"),
            ("-86400", "1969-12-31T00:00:00.000Z"),
        ] {
            assert_eq!(utc(text).as_deref(), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn the_epoch_unit_switches_at_ten_to_the_eleven() {
        // 10^11 - 1 seconds is in the year 5138; 10^11 milliseconds is 1973.
        assert_eq!(
            utc("99999999999").as_deref(),
            Ok("5138-11-16T09:46:39.000Z")
        );
        assert_eq!(
            utc("100000000000").as_deref(),
            Ok("1973-03-03T09:46:40.000Z")
        );
    }

    #[test]
    fn a_zoneless_datetime_is_read_in_the_configured_zone() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let in_paris = |t: &str| datetime(t, &paris);
        assert_eq!(
            in_paris("2024-01-05 11:30:00").as_deref(),
            Ok("2024-01-05T10:30:00.000Z")
        );
        assert_eq!(
            in_paris("2024-07-05T12:30:00").as_deref(),
            Ok("2024-07-05T10:30:00.000Z"),
            "summer time"
        );
        assert_eq!(
            in_paris("2024-01-05").as_deref(),
            Ok("2024-01-04T23:00:00.000Z")
        );
        // An explicit zone or epoch number is not the configured zone's.
        assert_eq!(
            in_paris("2024-01-05T10:30:00Z").as_deref(),
            Ok("2024-01-05T10:30:00.000Z")
        );
        assert_eq!(
            in_paris("1704450600").as_deref(),
            Ok("2024-01-05T10:30:00.000Z")
        );
        // 02:30 does not exist on 2024-03-31 in Paris: the later reading.
        assert_eq!(
            in_paris("2024-03-31T02:30:00").as_deref(),
            Ok("2024-03-31T01:30:00.000Z")
        );
    }

    #[test]
    fn what_is_refused_says_why() {
        for (text, why) in [
            ("01/05/2024", "ambiguous"),
            ("5.1.24", "ambiguous"),
            ("05-01-2024 10:30", "ambiguous"),
            ("2024-01-05T10:30:00.xyzZ", "not an ISO 8601"),
            ("2024-01-05T10:30:00+99:99", "not an ISO 8601"),
            ("2024-02-30", "not an ISO 8601"),
            ("2023-02-29", "not an ISO 8601"),
            ("2024-01-05T24:30:00", "not an ISO 8601"),
            ("yesterday", "not an ISO 8601"),
            ("2024-01-05 10:30:00 UTC", "not an ISO 8601"),
            ("2024-01-05T10:30:00[Mars/Base]", "time zone"),
            ("99999999999999999999", "out of the range"),
            ("1e15", "out of the range"),
        ] {
            let got = utc(text).unwrap_err();
            assert!(got.contains(why), "{text:?}: {got}");
        }
    }

    #[test]
    fn dates_are_the_calendar_date_as_written() {
        for (text, want, dropped) in [
            ("2024-01-05", "2024-01-05", false),
            ("2024-02-29", "2024-02-29", false),
            ("2024-01-05T00:00:00", "2024-01-05", false),
            ("2024-01-05 00:00:00", "2024-01-05", false),
            ("2024-01-05T00:00:00.000Z", "2024-01-05", false),
            ("2024-01-05T00:00:00+05:00", "2024-01-05", false),
            ("2024-01-05T23:30:00-05:00", "2024-01-05", true),
            ("2024-01-05T00:00:01", "2024-01-05", true),
            ("1704412800000", "2024-01-05", false),
            ("1704412800000.0", "2024-01-05", false),
            ("1704412800", "2024-01-05", false),
            ("1704450600", "2024-01-05", true),
            ("1704412799999", "2024-01-04", true),
        ] {
            assert_eq!(date(text), Ok((want.to_string(), dropped)), "{text:?}");
        }
        assert!(date("01/05/2024").unwrap_err().contains("ambiguous"));
        assert!(date("2021-02-29").is_err());
    }
}
