//! Numbers as HubSpot takes them: the decimal text of a value exactly as
//! written (never through a float, so `12345678901234.567` keeps its last
//! digit), in one canonical form — no sign for zero, no leading zeros, no
//! trailing fractional zeros, no exponent: `007` → `7`, `5.` → `5`,
//! `1.5e3` → `1500`, `1,234.50` → `1234.5`.
//!
//! Thousands separators are read only where they can't be a decimal comma:
//! `,` groups followed by a `.` fraction or forming more than one group
//! (`1,234.50`, `1,234,567`), or space groups (`1 234`). A lone `1,234`
//! could be either, and is refused as ambiguous.

/// Why a text is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotANumber {
    /// Not a decimal number at all.
    Malformed,
    /// `1,234`: a thousands separator, or a decimal comma?
    Ambiguous,
    /// `12,5`: a decimal comma.
    DecimalComma,
    /// More digits than any sensible property holds.
    OutOfRange,
}

impl NotANumber {
    /// What the refusal says about the value.
    pub(crate) fn why(self) -> &'static str {
        match self {
            NotANumber::Malformed => "is not a number",
            NotANumber::Ambiguous => {
                "is ambiguous (`,` may be a thousands separator or a decimal comma)"
            }
            NotANumber::DecimalComma => "has a decimal comma (write decimals with `.`)",
            NotANumber::OutOfRange => "has too many digits",
        }
    }
}

/// What a number property accepts, for rejection messages.
pub(crate) const ACCEPTED: &str = "digits with an optional sign, `.` decimals and exponent; `,` or space thousands separators when unambiguous (`1,234.50`, `1 234`)";

/// Digits a canonical number may have, at most.
const MAX_DIGITS: usize = 100;

/// Separators accepted between thousands groups besides `,`: space,
/// no-break space and narrow no-break space (spreadsheets use both).
const SPACES: [char; 3] = [' ', '\u{a0}', '\u{202f}'];

/// The canonical decimal text of `text`.
pub(crate) fn canonical(text: &str) -> Result<String, NotANumber> {
    let t = text.trim();
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if exponent.is_some() && !digits(int) {
        return Err(NotANumber::Malformed); // no exponent after grouped digits
    }
    let int = ungroup(int, mantissa.contains('.'))?;
    if !digits(&int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return Err(NotANumber::Malformed);
    }
    let exponent = match exponent {
        None => 0,
        Some(e) => parse_exponent(e)?,
    };
    render(negative, &int, frac, exponent)
}

/// Whether `s` is only ASCII digits (an empty `s` is).
fn digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// The integer part without its thousands separators, checked.
fn ungroup(int: &str, has_fraction: bool) -> Result<String, NotANumber> {
    let Some(sep) = int.chars().find(|c| *c == ',' || SPACES.contains(c)) else {
        return Ok(int.to_string());
    };
    let groups: Vec<&str> = int.split(sep).collect();
    let grouped = groups[0].len() <= 3
        && !groups[0].is_empty()
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| digits(g));
    if !grouped {
        let decimal_comma = sep == ',' && groups.len() == 2 && !has_fraction;
        return Err(if decimal_comma && groups.iter().all(|g| digits(g)) {
            NotANumber::DecimalComma
        } else {
            NotANumber::Malformed
        });
    }
    if sep == ',' && groups.len() == 2 && !has_fraction {
        return Err(NotANumber::Ambiguous);
    }
    Ok(groups.concat())
}

fn parse_exponent(e: &str) -> Result<i64, NotANumber> {
    let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
    if unsigned.is_empty() || !digits(unsigned) {
        return Err(NotANumber::Malformed);
    }
    if unsigned.len() > 6 {
        return Err(NotANumber::OutOfRange);
    }
    e.parse().map_err(|_| NotANumber::Malformed)
}

/// `int.frac × 10^exponent` as canonical text.
fn render(negative: bool, int: &str, frac: &str, exponent: i64) -> Result<String, NotANumber> {
    // All the digits, and the power of ten of the last one.
    let all = format!("{int}{frac}");
    let mut power = exponent - frac.len() as i64;
    let all = all.trim_start_matches('0');
    let trimmed = all.trim_end_matches('0');
    power += (all.len() - trimmed.len()) as i64;
    let all = trimmed;
    if all.is_empty() {
        return Ok("0".to_string());
    }
    let width = all.len() as i64 + power.abs();
    if width > MAX_DIGITS as i64 {
        return Err(NotANumber::OutOfRange);
    }
    let mut out = String::with_capacity(width as usize + 3);
    if negative {
        out.push('-');
    }
    if power >= 0 {
        out.push_str(all);
        out.extend(std::iter::repeat_n('0', power as usize));
    } else {
        let point = all.len() as i64 + power; // digits before the point
        if point > 0 {
            out.push_str(&all[..point as usize]);
            out.push('.');
            out.push_str(&all[point as usize..]);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(all);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_become_one_canonical_form() {
        for (text, want) in [
            ("7", "7"),
            ("007", "7"),
            ("+7", "7"),
            ("5.", "5"),
            (".5", "0.5"),
            ("-0", "0"),
            ("-0.000", "0"),
            ("1234.50", "1234.5"),
            (" 42 ", "42"),
            ("1.5e3", "1500"),
            ("1E+2", "100"),
            ("25e-3", "0.025"),
            ("-1.5E-1", "-0.15"),
            ("12345678901234.567", "12345678901234.567"),
            ("123456789012345678901234", "123456789012345678901234"),
            ("1,234.50", "1234.5"),
            ("1,234,567", "1234567"),
            ("-1,234,567.0", "-1234567"),
            ("1 234", "1234"),
            ("1\u{a0}234\u{a0}567", "1234567"),
            ("12 345.5", "12345.5"),
            ("1,234.", "1234"),
        ] {
            assert_eq!(canonical(text).as_deref(), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn what_is_not_a_number_says_why() {
        for (text, why) in [
            ("", NotANumber::Malformed),
            ("lots", NotANumber::Malformed),
            ("1.2.3", NotANumber::Malformed),
            ("NaN", NotANumber::Malformed),
            ("inf", NotANumber::Malformed),
            ("0x10", NotANumber::Malformed),
            ("$5", NotANumber::Malformed),
            ("1,23", NotANumber::DecimalComma),
            ("12,5", NotANumber::DecimalComma),
            ("1,234", NotANumber::Ambiguous),
            ("1,2345.5", NotANumber::Malformed),
            ("1,234 567", NotANumber::Malformed),
            ("1,234e3", NotANumber::Malformed),
            ("1e", NotANumber::Malformed),
            ("1e9999999", NotANumber::OutOfRange),
            ("1e200", NotANumber::OutOfRange),
            ("--1", NotANumber::Malformed),
        ] {
            assert_eq!(canonical(text), Err(why), "{text:?}");
        }
    }

    proptest! {
        /// Any integer and any fraction, however written, reads as its exact
        /// canonical text (the form HubSpot stores).
        #[test]
        fn every_spelling_of_a_decimal_reads_exactly(
            int in 0u64..10_000_000_000_000,
            frac in "[0-9]{0,6}",
            zeros in 0usize..3,
            plus in any::<bool>(),
            grouped in any::<bool>(),
            pad in "[ ]{0,2}",
        ) {
            let frac_trimmed = frac.trim_end_matches('0');
            let want = if frac_trimmed.is_empty() {
                int.to_string()
            } else {
                format!("{int}.{frac_trimmed}")
            };
            let mut int_text = int.to_string();
            if grouped {
                let digits: Vec<char> = int_text.chars().collect();
                let mut out = String::new();
                for (i, c) in digits.iter().enumerate() {
                    if i > 0 && (digits.len() - i).is_multiple_of(3) {
                        out.push(',');
                    }
                    out.push(*c);
                }
                int_text = out;
            }
            let fraction = if frac.is_empty() && !(grouped && int >= 1000) {
                String::new()
            } else {
                format!(".{frac}")
            };
            let text = format!(
                "{pad}{}{}{int_text}{fraction}{pad}",
                if plus { "+" } else { "" },
                "0".repeat(if grouped { 0 } else { zeros }),
            );
            prop_assert_eq!(canonical(&text), Ok(want), "{:?}", text);
        }
    }
}
