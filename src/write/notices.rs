//! Warnings about what mapping left out or changed, said once per field per
//! sync and gathered: a record bringing many new names makes one WARN line
//! per kind, its names listed up to a cap — never one line per field.

use std::collections::HashSet;

use crate::protocol::Output;

/// Something mapping did to one field that the user should hear of once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Note {
    /// No HubSpot property has this name (dropped, or to be created).
    Unknown(String),
    /// A read-only or calculated property: not sent.
    ReadOnly(String),
    /// A date property given a time of day: only the date is sent.
    TimeDropped(String),
}

/// Names listed in one WARN line, at most.
const NAMES_PER_LINE: usize = 20;
/// Names remembered per kind; past it, new ones are no longer reported
/// (a source with a new field name per record can't grow memory).
const NAMES_REMEMBERED: usize = 10_000;

/// What was already reported this sync, per target object.
#[derive(Default)]
pub(crate) struct Notices {
    seen: HashSet<(usize, Note)>,
}

impl Notices {
    /// Reports the notes not reported before for target `target` (writing
    /// `object`), one line per kind.
    pub(crate) fn report(&mut self, target: usize, object: &str, notes: Vec<Note>, out: &Output) {
        if notes.is_empty() {
            return;
        }
        let mut fresh: [Vec<String>; 3] = Default::default();
        for note in notes {
            let key = (target, note);
            if self.seen.len() >= NAMES_REMEMBERED * 3 || self.seen.contains(&key) {
                continue;
            }
            let note = &key.1;
            let (kind, name) = match note {
                Note::Unknown(n) => (0, n),
                Note::ReadOnly(n) => (1, n),
                Note::TimeDropped(n) => (2, n),
            };
            fresh[kind].push(name.clone());
            self.seen.insert(key);
        }
        for (kind, names) in fresh.iter().enumerate() {
            if !names.is_empty() {
                out.log("WARN", line(kind, object, names));
            }
        }
    }
}

/// One WARN line for new names of one kind.
fn line(kind: usize, object: &str, names: &[String]) -> String {
    let singular = object.strip_suffix("ies").map_or_else(
        || object.strip_suffix('s').unwrap_or(object).to_string(),
        |stem| format!("{stem}y"),
    );
    let listed = list(names);
    let one = names.len() == 1;
    match kind {
        0 if one => format!("record field {listed} is not a HubSpot {singular} property: dropped from every record (set `unknown_properties` to reject or create, or map it with `property_mapping`)"),
        0 => format!("record fields {listed} are not HubSpot {singular} properties: dropped from every record (set `unknown_properties` to reject or create, or map them with `property_mapping`)"),
        1 => format!("record field(s) {listed} name read-only or calculated HubSpot properties (HubSpot sets them itself): not sent"),
        _ => format!("date property(ies) {listed} got values with a time of day: the calendar date as written is sent, the time dropped"),
    }
}

/// `` `a`, `b` `` … and N more.
fn list(names: &[String]) -> String {
    let mut out: Vec<String> = names
        .iter()
        .take(NAMES_PER_LINE)
        .map(|n| format!("`{}`", crate::hubspot::errors::truncate(n, 80)))
        .collect();
    if names.len() > NAMES_PER_LINE {
        out.push(format!("and {} more", names.len() - NAMES_PER_LINE));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::output::captured;

    #[test]
    fn many_new_names_make_one_line_per_kind_and_repeats_none() {
        let (out, buf) = captured();
        let mut n = Notices::default();
        let mut notes: Vec<Note> = (0..10_000)
            .map(|i| Note::Unknown(format!("f{i}")))
            .collect();
        notes.push(Note::ReadOnly("createdate".into()));
        notes.push(Note::ReadOnly("hs_object_id".into()));
        n.report(0, "contacts", notes.clone(), &out);
        n.report(0, "contacts", notes, &out);
        n.report(
            0,
            "contacts",
            vec![Note::TimeDropped("renewal_date".into())],
            &out,
        );
        // Another object's fields are its own.
        n.report(1, "companies", vec![Note::Unknown("f0".into())], &out);
        out.finish();
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].contains("`f0`, `f1`")
                && lines[0].contains("and 9980 more")
                && lines[0].contains("HubSpot contact properties"),
            "{}",
            lines[0]
        );
        assert!(
            lines[3].contains("`f0` is not a HubSpot company property"),
            "{}",
            lines[3]
        );
        assert!(
            lines[1].contains("`createdate`, `hs_object_id`") && lines[1].contains("read-only")
        );
        assert!(lines[2].contains("`renewal_date`") && lines[2].contains("time dropped"));
    }
}
