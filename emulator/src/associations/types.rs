//! The association types the demo account knows: HubSpot's documented
//! HUBSPOT_DEFINED ids for each pair of standard objects (both directions,
//! each with its inverse), the primary-company labels, and the emulator's
//! own ids for the `pets` custom object. Data and lookups only.

use crate::schema::ObjectType;

/// The only category the emulator defines types in.
pub(crate) const HUBSPOT_DEFINED: &str = "HUBSPOT_DEFINED";

/// Which side of a primary label may have only one partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Primary {
    /// An ordinary type: any number of partners.
    No,
    /// Each `from` record has at most one `to` record with this type
    /// (contact → primary company).
    From,
    /// The inverse of a `From` label (company → contact "primary"): each
    /// `to` record has at most one `from` record with it.
    To,
}

/// One association type, in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AssocType {
    pub from: ObjectType,
    pub to: ObjectType,
    pub id: u32,
    /// The type of the same link read the other way.
    pub inverse: u32,
    /// `None` for the default (unlabelled) type of the pair.
    pub label: Option<&'static str>,
    pub primary: Primary,
}

use ObjectType::Tickets as TI;
use ObjectType::{Companies as CO, Contacts as CT, Deals as DE, LineItems as LI, Pets as PE};

const fn t(from: ObjectType, to: ObjectType, id: u32, inverse: u32) -> AssocType {
    AssocType {
        from,
        to,
        id,
        inverse,
        label: None,
        primary: Primary::No,
    }
}

const fn primary(from: ObjectType, to: ObjectType, id: u32, inverse: u32, p: Primary) -> AssocType {
    AssocType {
        from,
        to,
        id,
        inverse,
        label: Some("Primary"),
        primary: p,
    }
}

/// Every known type. HubSpot's ids (its "association type id values"
/// table); 9001–9004 are the emulator's choice for `pets`.
pub(crate) static TYPES: &[AssocType] = &[
    t(CT, CO, 279, 280),
    primary(CT, CO, 1, 2, Primary::From),
    t(CO, CT, 280, 279),
    primary(CO, CT, 2, 1, Primary::To),
    t(DE, CT, 3, 4),
    t(CT, DE, 4, 3),
    t(DE, CO, 341, 342),
    primary(DE, CO, 5, 6, Primary::From),
    t(CO, DE, 342, 341),
    primary(CO, DE, 6, 5, Primary::To),
    t(TI, CT, 16, 15),
    t(CT, TI, 15, 16),
    t(TI, CO, 339, 340),
    primary(TI, CO, 26, 25, Primary::From),
    t(CO, TI, 340, 339),
    primary(CO, TI, 25, 26, Primary::To),
    t(TI, DE, 28, 27),
    t(DE, TI, 27, 28),
    t(LI, DE, 20, 19),
    t(DE, LI, 19, 20),
    t(PE, CT, 9001, 9002),
    t(CT, PE, 9002, 9001),
    t(PE, CO, 9003, 9004),
    t(CO, PE, 9004, 9003),
];

/// Type `id` from `from` to `to`, if the pair has it.
pub(crate) fn find(from: ObjectType, to: ObjectType, id: u32) -> Option<&'static AssocType> {
    TYPES
        .iter()
        .find(|t| t.from == from && t.to == to && t.id == id)
}

/// The default (unlabelled) type from `from` to `to`, if the pair can be
/// associated at all.
pub(crate) fn default_for(from: ObjectType, to: ObjectType) -> Option<&'static AssocType> {
    TYPES
        .iter()
        .find(|t| t.from == from && t.to == to && t.label.is_none())
}

/// The same type read the other way.
pub(crate) fn inverse(t: &AssocType) -> &'static AssocType {
    find(t.to, t.from, t.inverse).expect("every type has its inverse in the table")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_an_inverse_that_points_back() {
        for t in TYPES {
            let inv = inverse(t);
            assert_eq!(
                (inv.from, inv.to, inv.inverse),
                (t.to, t.from, t.id),
                "{t:?}"
            );
            assert_eq!(inv.label, t.label);
            assert!(default_for(t.from, t.to).is_some(), "{t:?}");
        }
    }

    #[test]
    fn hubspot_ids_for_the_common_pairs() {
        assert_eq!(default_for(CT, CO).unwrap().id, 279);
        assert_eq!(default_for(CO, CT).unwrap().id, 280);
        assert_eq!(find(CT, CO, 1).unwrap().primary, Primary::From);
        assert_eq!(default_for(DE, CO).unwrap().id, 341);
        assert_eq!(default_for(LI, DE).unwrap().id, 20);
        assert!(find(CT, CO, 5).is_none());
        assert!(default_for(ObjectType::Products, CT).is_none());
    }
}
