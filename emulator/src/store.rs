//! The records of one object type and the indexes that find them by a unique
//! property. It applies already-checked changes and keeps the system
//! properties (`hs_object_id`, `createdate`, last-modified) true; deciding
//! whether a change is allowed is the endpoints' job.

use crate::clock;
use crate::schema::ObjectType;
use std::collections::{BTreeMap, HashMap};

/// One CRM record.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub id: u64,
    pub props: BTreeMap<String, String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// All records of one type.
#[derive(Debug)]
pub(crate) struct ObjectStore {
    pub ty: ObjectType,
    pub records: BTreeMap<u64, Record>,
    /// unique property → normalised value → record id.
    unique: HashMap<String, HashMap<String, u64>>,
    /// Secondary emails (`hs_additional_emails`) → owning contact.
    additional: HashMap<String, u64>,
}

/// How a unique property's value is compared: emails case-insensitively,
/// everything else exactly.
pub(crate) fn normalise(prop: &str, value: &str) -> String {
    if prop == "email" {
        value.trim().to_ascii_lowercase()
    } else {
        value.to_string()
    }
}

impl ObjectStore {
    pub fn new(ty: ObjectType, unique_props: &[String]) -> Self {
        ObjectStore {
            ty,
            records: BTreeMap::new(),
            unique: unique_props
                .iter()
                .map(|p| (p.clone(), HashMap::new()))
                .collect(),
            additional: HashMap::new(),
        }
    }

    /// Starts indexing a property that became unique (created via the API).
    pub fn index_property(&mut self, prop: &str) {
        let mut map = HashMap::new();
        for r in self.records.values() {
            if let Some(v) = r.props.get(prop) {
                map.insert(normalise(prop, v), r.id);
            }
        }
        self.unique.insert(prop.to_string(), map);
    }

    /// Finds a record by `prop` = `value`. `hs_object_id` (or no property)
    /// means the record id; an email also matches a secondary email.
    pub fn lookup(&self, prop: Option<&str>, value: &str) -> Option<u64> {
        match prop {
            None | Some("hs_object_id") => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|id| self.records.contains_key(id)),
            Some(p) => {
                let key = normalise(p, value);
                let hit = self.unique.get(p).and_then(|m| m.get(&key)).copied();
                if hit.is_none() && p == "email" {
                    return self.additional.get(&key).copied();
                }
                hit
            }
        }
    }

    /// Who owns `value` for unique `prop`, if anyone.
    pub fn owner(&self, prop: &str, value: &str) -> Option<u64> {
        self.unique.get(prop)?.get(&normalise(prop, value)).copied()
    }

    /// Is `prop` indexed as unique?
    pub fn is_unique(&self, prop: &str) -> bool {
        self.unique.contains_key(prop)
    }

    /// Creates a record with `id` and applies `changes`.
    pub fn create(&mut self, id: u64, changes: &[(String, String)], now: i64) -> &Record {
        let mut props = BTreeMap::new();
        props.insert("hs_object_id".to_string(), id.to_string());
        props.insert("createdate".to_string(), clock::iso(now));
        self.records.insert(
            id,
            Record {
                id,
                props,
                created_ms: now,
                updated_ms: now,
            },
        );
        self.update(id, changes, now);
        &self.records[&id]
    }

    /// Applies `changes` (`""` removes the value) to an existing record.
    pub fn update(&mut self, id: u64, changes: &[(String, String)], now: i64) {
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        for (name, value) in changes {
            let old = if value.is_empty() {
                rec.props.remove(name)
            } else {
                rec.props.insert(name.clone(), value.clone())
            };
            if let Some(index) = self.unique.get_mut(name) {
                if let Some(old) = &old {
                    index.remove(&normalise(name, old));
                }
                if !value.is_empty() {
                    index.insert(normalise(name, value), id);
                }
            }
            if name == "hs_additional_emails" {
                for e in old.iter().flat_map(|o| o.split(';')) {
                    self.additional.remove(&normalise("email", e));
                }
                for e in value.split(';').filter(|e| !e.is_empty()) {
                    self.additional.insert(normalise("email", e), id);
                }
            }
            if name == "email" && self.ty == ObjectType::Contacts {
                // hs_email_domain is calculated by HubSpot from the email.
                match value.split_once('@') {
                    Some((_, domain)) => {
                        rec.props
                            .insert("hs_email_domain".to_string(), domain.to_string());
                    }
                    None => {
                        rec.props.remove("hs_email_domain");
                    }
                }
            }
        }
        rec.updated_ms = now;
        rec.props
            .insert(self.ty.modified_prop().to_string(), clock::iso(now));
    }

    /// Removes a record; false if it did not exist.
    pub fn archive(&mut self, id: u64) -> bool {
        let Some(rec) = self.records.remove(&id) else {
            return false;
        };
        for (name, value) in &rec.props {
            if let Some(index) = self.unique.get_mut(name) {
                index.remove(&normalise(name, value));
            }
            if name == "hs_additional_emails" {
                for e in value.split(';') {
                    self.additional.remove(&normalise("email", e));
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn email_lookup_is_case_insensitive() {
        let mut s = ObjectStore::new(ObjectType::Contacts, &["email".into()]);
        s.create(7, &ch(&[("email", "ann@example.com")]), 0);
        assert_eq!(s.lookup(Some("email"), "ANN@example.com"), Some(7));
        assert_eq!(s.lookup(None, "7"), Some(7));
        assert_eq!(s.lookup(None, "ann@example.com"), None);
    }

    #[test]
    fn system_properties_are_maintained() {
        let mut s = ObjectStore::new(ObjectType::Contacts, &["email".into()]);
        let r = s.create(7, &ch(&[("email", "ann@example.com")]), 0);
        assert_eq!(r.props["hs_object_id"], "7");
        assert_eq!(r.props["createdate"], "1970-01-01T00:00:00.000Z");
        assert_eq!(r.props["hs_email_domain"], "example.com");
        s.update(7, &ch(&[("firstname", "Ann")]), 1000);
        assert_eq!(
            s.records[&7].props["lastmodifieddate"],
            "1970-01-01T00:00:01.000Z"
        );
    }

    #[test]
    fn changing_or_clearing_a_unique_value_moves_the_index() {
        let mut s = ObjectStore::new(ObjectType::Contacts, &["email".into()]);
        s.create(7, &ch(&[("email", "a@x.com")]), 0);
        s.update(7, &ch(&[("email", "b@x.com")]), 1);
        assert_eq!(s.lookup(Some("email"), "a@x.com"), None);
        assert_eq!(s.lookup(Some("email"), "b@x.com"), Some(7));
        s.update(7, &ch(&[("email", "")]), 2);
        assert_eq!(s.lookup(Some("email"), "b@x.com"), None);
        assert!(!s.records[&7].props.contains_key("email"));
    }

    #[test]
    fn secondary_emails_resolve_to_their_contact() {
        let mut s = ObjectStore::new(ObjectType::Contacts, &["email".into()]);
        s.create(
            7,
            &ch(&[
                ("email", "a@x.com"),
                ("hs_additional_emails", "old@x.com;older@x.com"),
            ]),
            0,
        );
        assert_eq!(s.lookup(Some("email"), "OLDER@x.com"), Some(7));
        assert!(s.archive(7));
        assert_eq!(s.lookup(Some("email"), "old@x.com"), None);
    }
}
