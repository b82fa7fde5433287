//! The property values of one contact write, and what they need in a JSON
//! request. The sync makes one of these per record, so all of it lives in
//! one buffer (one allocation per record, unless its text outgrows the
//! first guess), and text known to need no JSON escaping is marked so the
//! request copies it as it is.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// Property names and values, unique by name, in insertion order.
#[derive(Clone, Default, PartialEq)]
pub struct PropertyValues {
    /// The entries one after another: name length and value length (u32,
    /// little-endian), then the name's and the value's bytes (UTF-8, as
    /// pushed from `&str`).
    buf: Vec<u8>,
    len: usize,
    /// No name or value holds a byte JSON must escape: the request copies
    /// the text as it is. Known only from [`PropertyValues::push_as`].
    plain: bool,
}

/// Bytes of an entry's header: the two lengths.
const HEADER: usize = 8;

impl PropertyValues {
    /// Room for `properties` entries of `bytes` text in all.
    pub fn with_capacity(properties: usize, bytes: usize) -> PropertyValues {
        PropertyValues {
            buf: Vec::with_capacity(bytes + HEADER * properties),
            len: 0,
            plain: true,
        }
    }

    /// Whether no name or value needs escaping in JSON.
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// Adds a name the values don't have yet (the caller knows it is new).
    pub fn push(&mut self, name: &str, value: &str) {
        self.push_as(name, value, false);
    }

    /// Like [`PropertyValues::push`]; `plain` when the caller knows name and
    /// value hold no quote, backslash or control character (text copied
    /// from a JSON string that had no escape, or checked with
    /// [`plain_text`]).
    pub fn push_as(&mut self, name: &str, value: &str, plain: bool) {
        debug_assert!(self.position(name).is_none(), "property {name} set twice");
        debug_assert!(
            !plain || (plain_text(name) && plain_text(value)),
            "{name:?}: {value:?} is not plain"
        );
        self.plain &= plain;
        let header = u64::from(length(name)) | u64::from(length(value)) << 32;
        self.buf.reserve(HEADER + name.len() + value.len());
        self.buf.extend_from_slice(&header.to_le_bytes());
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(value.as_bytes());
        self.len += 1;
    }

    /// Sets `name` to `value`, replacing an earlier value of it in place.
    pub fn set(&mut self, name: &str, value: &str) {
        let Some(at) = self.position(name) else {
            return self.push(name, value);
        };
        self.plain = false;
        let (name_len, value_len) = lengths(&self.buf[at..]);
        let start = at + HEADER + name_len;
        self.buf.splice(start..start + value_len, value.bytes());
        self.buf[at + 4..at + HEADER].copy_from_slice(&length(value).to_le_bytes());
    }

    /// Sets every value of `later` (a later record's): later values win,
    /// new names are added.
    pub fn merge(&mut self, later: &PropertyValues) {
        let plain = self.plain && later.plain;
        for (k, v) in later.iter() {
            self.set(k, v);
        }
        self.plain = plain;
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw()
            .find(|(k, _)| *k == name.as_bytes())
            .map(|(_, v)| text(v))
    }

    /// (name, value) pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.raw().map(|(k, v)| (text(k), text(v)))
    }

    /// (name, value) pairs as bytes: what a request copies or escapes.
    pub fn raw(&self) -> Raw<'_> {
        Raw { rest: &self.buf }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes of names and values held (an upper bound of their length).
    pub fn text_len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pairs as owned strings (tests, messages).
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Where `name`'s entry starts in the buffer.
    fn position(&self, name: &str) -> Option<usize> {
        let mut at = 0;
        for (k, v) in self.raw() {
            if k == name.as_bytes() {
                return Some(at);
            }
            at += HEADER + k.len() + v.len();
        }
        None
    }
}

/// The entries of [`PropertyValues`] as byte strings.
pub struct Raw<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Raw<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (name_len, value_len) = lengths(self.rest);
        let (name, rest) = self.rest[HEADER..].split_at(name_len);
        let (value, rest) = rest.split_at(value_len);
        self.rest = rest;
        Some((name, value))
    }
}

/// A name's or value's length as stored. Longer text can't reach here: a
/// line is at most 64 MiB, and the widest rendering of a value (a number
/// such as 1e308 written out in full, ~52 times its input) stays below
/// 4 GiB.
fn length(s: &str) -> u32 {
    u32::try_from(s.len()).expect("property text under 4 GiB")
}

/// The two lengths at the start of an entry.
#[inline]
fn lengths(entry: &[u8]) -> (usize, usize) {
    let header = u64::from_le_bytes(entry[..HEADER].try_into().unwrap_or_default());
    ((header & 0xffff_ffff) as usize, (header >> 32) as usize)
}

/// Bytes pushed as a `&str`, as a `&str` again.
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("pushed as UTF-8")
}

impl std::fmt::Debug for PropertyValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for PropertyValues {
    /// Later values of a name replace earlier ones.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> PropertyValues {
        let mut values = PropertyValues::default();
        for (k, v) in pairs {
            values.set(k.as_ref(), v.as_ref());
        }
        values
    }
}

impl Serialize for PropertyValues {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Whether `text` goes into a JSON string as it is (nothing to escape).
pub fn plain_text(text: &str) -> bool {
    first_special(text.as_bytes()).is_none()
}

/// The index of the first quote, backslash or control character in `bytes`.
#[inline]
pub fn first_special(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if let Some(at) = special_in(w) {
            return Some(i + at);
        }
        i += 8;
    }
    // The last few bytes, padded with a letter.
    let mut last = [b'a'; 8];
    last[..bytes.len() - i].copy_from_slice(&bytes[i..]);
    special_in(u64::from_le_bytes(last)).map(|at| i + at)
}

/// The first special byte of eight (read little-endian). Per byte, the high
/// bit of `hits` is set where a byte is below 0x20, a quote or a backslash;
/// a borrow can set it wrongly only above a real hit, so the lowest one is
/// exact.
#[inline]
fn special_in(w: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let hits = (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
        | zero(w ^ (ONES * b'"' as u64))
        | zero(w ^ (ONES * b'\\' as u64));
    (hits != 0).then(|| hits.trailing_zeros() as usize / 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_replaces_in_place_and_keeps_order() {
        let mut p = PropertyValues::with_capacity(2, 16);
        p.push("firstname", "A");
        p.push("city", "Oslo");
        p.set("firstname", "Ann");
        p.set("phone", "1");
        p.set("city", "");
        assert_eq!(p.get("firstname"), Some("Ann"));
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![("firstname", "Ann"), ("city", ""), ("phone", "1")]
        );
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"firstname": "Ann", "city": "", "phone": "1"})
        );
    }

    #[test]
    fn text_of_any_length_and_script_comes_back_whole() {
        let long = "é".repeat(300);
        let mut p = PropertyValues::default();
        p.push("a", "");
        p.push("naïve", &long);
        p.push("", "x");
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![("a", ""), ("naïve", long.as_str()), ("", "x")]
        );
        assert_eq!(p.get(""), Some("x"));
        assert_eq!(p.get("naïv"), None);
        p.set("naïve", "short");
        assert_eq!(p.get("naïve"), Some("short"));
        assert_eq!(p.get(""), Some("x"));
    }

    #[test]
    fn plain_only_while_every_push_is_plain() {
        let mut p = PropertyValues::with_capacity(2, 16);
        p.push_as("a", "1", true);
        assert!(p.is_plain());
        let mut q = p.clone();
        q.push("b", "\"");
        assert!(!q.is_plain());
        p.merge(&q);
        assert!(!p.is_plain());
        assert_eq!(p.to_vec(), q.to_vec());
    }

    #[test]
    fn finds_the_first_special_byte_at_every_position() {
        for len in 0..20 {
            let clean = vec![b'a'; len];
            assert_eq!(first_special(&clean), None);
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut text = clean.clone();
                    text[at] = b;
                    let want = (b < 0x20 || b == b'"' || b == b'\\').then_some(at);
                    assert_eq!(first_special(&text), want, "byte {b:#x} at {at} of {len}");
                    // A later special byte doesn't hide an earlier one.
                    if at + 1 < len {
                        text[len - 1] = b'"';
                        let want = want.or(Some(len - 1));
                        assert_eq!(first_special(&text), want, "byte {b:#x} at {at} of {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_borrow_never_hides_or_fakes_the_first_special_byte() {
        // Bytes on either side of each boundary the bit tricks test.
        let edges = [
            0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xff,
        ];
        for len in 1..=17 {
            for (a, b) in (0..len).flat_map(|a| (0..len).map(move |b| (a, b))) {
                for (&x, &y) in edges.iter().flat_map(|x| edges.iter().map(move |y| (x, y))) {
                    let mut text = vec![b'a'; len];
                    text[a] = x;
                    text[b] = y;
                    let naive = text
                        .iter()
                        .position(|&c| c < 0x20 || c == b'"' || c == b'\\');
                    assert_eq!(first_special(&text), naive, "{text:?}");
                }
            }
        }
    }
}
