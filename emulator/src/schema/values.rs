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

/// Decimal text as HubSpot has required since 2023: digits, an optional
/// leading `-` and at most one `.`. Exponents, `+`, spaces and thousands
/// separators are refused, not reinterpreted.
fn number(raw: &str) -> Result<String, Failure> {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    let ok = unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && unsigned.bytes().filter(|&b| b == b'.').count() <= 1;
    if ok {
        Ok(raw.to_string())
    } else {
        Err(("INVALID_INTEGER", format!("{raw} was not a valid number.")))
    }
}

/// Epoch milliseconds: digits, with a `-` for instants before 1970.
fn epoch_ms(raw: &str) -> Option<Option<i64>> {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    (!unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()))
        .then(|| raw.parse::<i64>().ok())
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
    let ms = epoch_ms(raw).unwrap_or_else(|| clock::parse_date(raw));
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
    let ms = epoch_ms(raw).unwrap_or_else(|| clock::parse_datetime(raw));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ObjectType, Schema};

    fn check(name: &str, raw: &str) -> Result<String, &'static str> {
        let schema = Schema::builtin(ObjectType::Contacts, &["lead".into(), "customer".into()]);
        check_value(schema.get(name).unwrap(), raw).map_err(|e| e.code)
    }

    #[test]
    fn numbers_are_plain_decimal_text() {
        for ok in ["0", "42", "-12.5", "0.25", "1250000.5", "-0", ".5", "5."] {
            assert_eq!(check("annualrevenue", ok), Ok(ok.to_string()), "{ok}");
        }
    }

    #[test]
    fn exponents_signs_spaces_and_separators_are_not_numbers() {
        for bad in [
            "1e3", "1.5E3", "+5", " 5", "5 ", "1,000", "1 000", "1.2.3", "-", ".", "--5", "5-",
            "0x10", "NaN", "inf", "12k",
        ] {
            assert_eq!(
                check("annualrevenue", bad),
                Err("INVALID_INTEGER"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn booleans_are_true_or_false_in_any_case() {
        assert_eq!(check("newsletter_opt_in", "False"), Ok("false".into()));
        for bad in ["1", "yes", "on", "t"] {
            assert_eq!(
                check("newsletter_opt_in", bad),
                Err("INVALID_BOOLEAN"),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_take_iso_days_or_midnight_epoch_ms_before_1970_too() {
        assert_eq!(check("renewal_date", "1969-07-20"), Ok("1969-07-20".into()));
        assert_eq!(
            check("renewal_date", "-14256000000"),
            Ok("1969-07-20".into())
        );
        assert_eq!(check("renewal_date", "-14255999999"), Err("INVALID_DATE"));
        for bad in [
            "2024-02-30",
            "2024-2-01",
            "20240201",
            "2024-02-01T00:00:00Z",
            "-",
        ] {
            assert_eq!(check("renewal_date", bad), Err("INVALID_DATE"), "{bad}");
        }
    }

    #[test]
    fn datetimes_take_iso_8601_or_epoch_ms() {
        assert_eq!(
            check("closedate", "0"),
            Ok("1970-01-01T00:00:00.000Z".into())
        );
        assert_eq!(
            check("closedate", "-1000"),
            Ok("1969-12-31T23:59:59.000Z".into())
        );
        assert_eq!(
            check("closedate", "2024-03-01T12:00:00.5-05:00"),
            Ok("2024-03-01T17:00:00.500Z".into())
        );
        assert_eq!(
            check("closedate", "2024-03-01"),
            Ok("2024-03-01T00:00:00.000Z".into())
        );
        for bad in [
            "2024-03-01T24:00:00Z",
            "03/01/2024",
            "1e12",
            "2024-03-01T12",
        ] {
            assert_eq!(check("closedate", bad), Err("INVALID_DATE"), "{bad}");
        }
    }

    #[test]
    fn enumerations_take_exact_option_values() {
        assert_eq!(check("lifecyclestage", "customer"), Ok("customer".into()));
        assert_eq!(check("lifecyclestage", "Customer"), Err("INVALID_OPTION"));
        assert_eq!(
            check("lifecyclestage", "lead;customer"),
            Err("INVALID_OPTION")
        );
        assert_eq!(check("interests", ";crm;email"), Ok("crm;email".into()));
        assert_eq!(check("interests", "crm; email"), Err("INVALID_OPTION"));
    }
}
