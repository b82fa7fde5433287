//! Record values kept out of logs unless `log_record_data` is on: a value a
//! rejection message needs is shown by its shape only (`99/99/9999` for
//! `01/05/2024`), and text HubSpot echoes back about a refused write has
//! every value of that write masked before anyone logs it.

use super::mapping::RecordWrite;
use crate::hubspot::errors::{truncate, RejectReason};

/// Characters of a value a message shows at most.
const SHOWN: usize = 60;

/// How a rejection message shows `value`: quoted, or (without
/// `log_record_data`) as its shape — letters `a`, digits `9`, any other
/// non-ASCII character `*`, punctuation and spaces kept.
pub(crate) fn shown(value: &str, show_values: bool) -> String {
    if show_values {
        return format!("`{}`", truncate(value, SHOWN));
    }
    let shape: String = value
        .chars()
        .map(|c| match c {
            c if c.is_alphabetic() => 'a',
            c if c.is_numeric() => '9',
            c if c.is_ascii() => c,
            _ => '*',
        })
        .collect();
    format!("`{}` (value masked)", truncate(&shape, SHOWN))
}

/// `reason` with every value `write` sent masked where the text quotes it
/// (HubSpot's messages echo the values they refuse).
pub(crate) fn scrub(reason: &RejectReason, write: &RecordWrite) -> RejectReason {
    let values: Vec<&str> = write
        .properties
        .values()
        .map(String::as_str)
        .chain(write.stage.as_deref())
        .filter(|v| !v.trim().is_empty())
        .collect();
    reason.map_detail(|text| mask_all(text, &values))
}

/// `text` with each whole-token occurrence of any of `values` (any case)
/// replaced by `***`.
fn mask_all(text: &str, values: &[&str]) -> String {
    let mut out = text.to_string();
    // Longest first, so that a value inside another is not half-masked.
    let mut values = values.to_vec();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for value in values {
        out = mask(&out, value);
    }
    out
}

fn mask(text: &str, value: &str) -> String {
    let lower = text.to_lowercase();
    let needle = value.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII: then compare
    // the text as it is.
    let (hay, needle) = if lower.len() == text.len() && needle.len() == value.len() {
        (lower, needle)
    } else {
        (text.to_string(), value.to_string())
    };
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = hay[at..].find(&needle) {
        let start = at + found;
        let end = start + needle.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let whole = before.is_none_or(|c| !word(c)) && after.is_none_or(|c| !word(c));
        out.push_str(&text[at..start]);
        out.push_str(if whole { "***" } else { &text[start..end] });
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_their_shape_unless_asked() {
        assert_eq!(shown("01/05/2024", true), "`01/05/2024`");
        assert_eq!(shown("01/05/2024", false), "`99/99/9999` (value masked)");
        assert_eq!(
            shown("Yes please é", false),
            "`aaa aaaaaa a` (value masked)"
        );
        assert_eq!(shown("a🙂", false), "`a*` (value masked)");
    }

    #[test]
    fn echoed_values_are_masked_as_whole_tokens() {
        let write = RecordWrite::contact(
            "ann@x.io",
            [("hs_lead_status", "Puce"), ("city", "Oslo"), ("zip", "1")],
            Some("boss"),
        );
        let reason = RejectReason::InvalidOption(
            "hs_lead_status: puce was not one of the allowed options for ann@x.io in Oslo-1 (boss); Puced".into(),
        );
        assert_eq!(
            scrub(&reason, &write).to_string(),
            "invalid option: hs_lead_status: *** was not one of the allowed options for *** in ***-*** (***); Puced"
        );
        let other = RejectReason::Conflict("Existing ID: 12".into());
        assert_eq!(scrub(&other, &write), other);
    }
}
