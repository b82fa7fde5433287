//! The associations between records: for each ordered pair of object types,
//! which record is linked to which, with which type ids. Every link is kept
//! in both directions, so reading either way is a lookup; adding applies
//! HubSpot's rules (a labelled type brings the default one along, a
//! primary label has one partner). Checking that records exist is the
//! endpoints' job.

use super::types::{self, AssocType, Primary};
use crate::schema::ObjectType;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// from id, to id → type ids.
type Links = BTreeMap<(u64, u64), BTreeSet<u32>>;

/// Every association of the account.
#[derive(Debug, Default)]
pub(crate) struct AssocStore {
    links: HashMap<(ObjectType, ObjectType), Links>,
}

impl AssocStore {
    /// Links `from` to `to` with type `t` (and the pair's default type), and
    /// `to` back to `from` with their inverses. Adding what exists changes
    /// nothing. A primary label first leaves the record's previous primary
    /// partner (which keeps its unlabelled link).
    pub fn add(&mut self, t: &AssocType, from: u64, to: u64) {
        if t.primary == Primary::To {
            // "Company → primary contact" is the contact's primary company
            // seen from the company: apply it from the contact's side.
            return self.add(types::inverse(t), to, from);
        }
        if t.primary == Primary::From {
            let old: Vec<u64> = self
                .partners(t.from, t.to, from)
                .filter(|(other, ids)| *other != to && ids.contains(&t.id))
                .map(|(other, _)| other)
                .collect();
            for other in old {
                self.remove_type(t, from, other);
            }
        }
        self.insert(t, from, to);
        self.insert(types::inverse(t), to, from);
    }

    /// One direction of a link: `t` plus the pair's default type.
    fn insert(&mut self, t: &AssocType, from: u64, to: u64) {
        let ids = self
            .links
            .entry((t.from, t.to))
            .or_default()
            .entry((from, to))
            .or_default();
        ids.insert(t.id);
        if let Some(d) = types::default_for(t.from, t.to) {
            ids.insert(d.id);
        }
    }

    /// Drops type `t` (and its inverse) between two records, keeping their
    /// other types.
    fn remove_type(&mut self, t: &AssocType, from: u64, to: u64) {
        for (ty, a, b, id) in [
            (t, from, to, t.id),
            (types::inverse(t), to, from, t.inverse),
        ] {
            if let Some(ids) = self
                .links
                .get_mut(&(ty.from, ty.to))
                .and_then(|l| l.get_mut(&(a, b)))
            {
                ids.remove(&id);
            }
        }
    }

    /// The records `from` (of `from_ty`) is linked to in `to_ty`, in id
    /// order, with their type ids.
    pub fn partners(
        &self,
        from_ty: ObjectType,
        to_ty: ObjectType,
        from: u64,
    ) -> impl Iterator<Item = (u64, &BTreeSet<u32>)> {
        self.links
            .get(&(from_ty, to_ty))
            .into_iter()
            .flat_map(move |l| l.range((from, 0)..=(from, u64::MAX)))
            .map(|((_, to), ids)| (*to, ids))
    }

    /// Every link from `from_ty` to `to_ty`, sorted by from id then to id.
    pub fn pairs(&self, from_ty: ObjectType, to_ty: ObjectType) -> Vec<(u64, u64, Vec<u32>)> {
        self.links
            .get(&(from_ty, to_ty))
            .map(|l| {
                l.iter()
                    .map(|((a, b), ids)| (*a, *b, ids.iter().copied().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Forgets every link of a record that was archived, both directions.
    pub fn remove_record(&mut self, ty: ObjectType, id: u64) {
        let pairs: Vec<(ObjectType, ObjectType)> = self
            .links
            .keys()
            .filter(|(a, _)| *a == ty)
            .copied()
            .collect();
        for (a, b) in pairs {
            let others: Vec<u64> = self.partners(a, b, id).map(|(o, _)| o).collect();
            for other in others {
                if let Some(l) = self.links.get_mut(&(a, b)) {
                    l.remove(&(id, other));
                }
                if let Some(l) = self.links.get_mut(&(b, a)) {
                    l.remove(&(other, id));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObjectType::{Companies, Contacts, Deals};

    fn ty(from: ObjectType, to: ObjectType, id: u32) -> &'static AssocType {
        types::find(from, to, id).unwrap()
    }

    #[test]
    fn a_link_is_stored_both_ways_with_the_default_type() {
        let mut s = AssocStore::default();
        s.add(ty(Contacts, Companies, 1), 7, 9);
        assert_eq!(s.pairs(Contacts, Companies), vec![(7, 9, vec![1, 279])]);
        assert_eq!(s.pairs(Companies, Contacts), vec![(9, 7, vec![2, 280])]);
        s.add(ty(Contacts, Companies, 279), 7, 9);
        assert_eq!(s.pairs(Contacts, Companies).len(), 1, "idempotent");
    }

    #[test]
    fn a_new_primary_replaces_the_old_one_from_either_side() {
        let mut s = AssocStore::default();
        s.add(ty(Contacts, Companies, 1), 7, 9);
        s.add(ty(Contacts, Companies, 1), 7, 10);
        assert_eq!(
            s.pairs(Contacts, Companies),
            vec![(7, 9, vec![279]), (7, 10, vec![1, 279])]
        );
        // Company 11 → contact 7 "primary" makes 11 the contact's primary.
        s.add(ty(Companies, Contacts, 2), 11, 7);
        let primaries: Vec<u64> = s
            .partners(Contacts, Companies, 7)
            .filter(|(_, ids)| ids.contains(&1))
            .map(|(c, _)| c)
            .collect();
        assert_eq!(primaries, vec![11]);
        assert_eq!(s.pairs(Companies, Contacts)[1], (10, 7, vec![280]));
    }

    #[test]
    fn removing_a_record_drops_its_links_both_ways() {
        let mut s = AssocStore::default();
        s.add(ty(Contacts, Companies, 279), 7, 9);
        s.add(ty(Deals, Contacts, 3), 5, 7);
        s.add(ty(Contacts, Companies, 279), 8, 9);
        s.remove_record(Contacts, 7);
        assert_eq!(s.pairs(Contacts, Companies), vec![(8, 9, vec![279])]);
        assert_eq!(s.pairs(Companies, Contacts), vec![(9, 8, vec![280])]);
        assert!(s.pairs(Deals, Contacts).is_empty());
    }
}
