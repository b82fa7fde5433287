//! The CRM object types the emulator serves — HubSpot's standard contacts,
//! companies, deals, tickets, products and line items, plus one demo custom
//! object, `pets` — and every name, id and scope each goes by. Data only.

/// The object type id of the demo custom object (`2-90001`); HubSpot numbers
/// custom objects `2-N` per portal.
pub(crate) const PETS_TYPE_ID: &str = "2-90001";

/// The CRM object types the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ObjectType {
    Contacts,
    Companies,
    Deals,
    Tickets,
    Products,
    LineItems,
    /// The demo custom object: `pets`, `p<portalId>_pets`, `2-90001`.
    Pets,
}

impl ObjectType {
    /// How many types there are; `index()` is below it.
    pub const COUNT: usize = 7;

    pub const ALL: [ObjectType; Self::COUNT] = [
        ObjectType::Contacts,
        ObjectType::Companies,
        ObjectType::Deals,
        ObjectType::Tickets,
        ObjectType::Products,
        ObjectType::LineItems,
        ObjectType::Pets,
    ];

    /// Accepts the names HubSpot uses in paths (plural and singular) and the
    /// type ids; the custom object also answers to its fully qualified name,
    /// which carries the account's `portal` id.
    pub fn parse(s: &str, portal: u64) -> Option<Self> {
        let s = s.to_ascii_lowercase();
        let ty = match s.as_str() {
            "contacts" | "contact" | "0-1" => ObjectType::Contacts,
            "companies" | "company" | "0-2" => ObjectType::Companies,
            "deals" | "deal" | "0-3" => ObjectType::Deals,
            "tickets" | "ticket" | "0-5" => ObjectType::Tickets,
            "products" | "product" | "0-7" => ObjectType::Products,
            "line_items" | "line_item" | "0-8" => ObjectType::LineItems,
            "pets" | PETS_TYPE_ID => ObjectType::Pets,
            _ if s == Self::pets_fqn(portal) => ObjectType::Pets,
            _ => return None,
        };
        Some(ty)
    }

    /// `p<portal>_pets`, the custom object's fully qualified name.
    pub fn pets_fqn(portal: u64) -> String {
        format!("p{portal}_pets")
    }

    /// Position in [`ObjectType::ALL`], for per-type arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contacts",
            ObjectType::Companies => "companies",
            ObjectType::Deals => "deals",
            ObjectType::Tickets => "tickets",
            ObjectType::Products => "products",
            ObjectType::LineItems => "line_items",
            ObjectType::Pets => "pets",
        }
    }

    /// HubSpot's object type id, which appears in some error messages.
    pub fn type_id(self) -> &'static str {
        match self {
            ObjectType::Contacts => "0-1",
            ObjectType::Companies => "0-2",
            ObjectType::Deals => "0-3",
            ObjectType::Tickets => "0-5",
            ObjectType::Products => "0-7",
            ObjectType::LineItems => "0-8",
            ObjectType::Pets => PETS_TYPE_ID,
        }
    }

    /// `Contact`, as in "Contact already exists".
    pub fn label(self) -> &'static str {
        match self {
            ObjectType::Contacts => "Contact",
            ObjectType::Companies => "Company",
            ObjectType::Deals => "Deal",
            ObjectType::Tickets => "Ticket",
            ObjectType::Products => "Product",
            ObjectType::LineItems => "Line item",
            ObjectType::Pets => "Pet",
        }
    }

    /// `CONTACT`, as in "Could not get some CONTACT objects".
    pub fn upper(self) -> &'static str {
        match self {
            ObjectType::Contacts => "CONTACT",
            ObjectType::Companies => "COMPANY",
            ObjectType::Deals => "DEAL",
            ObjectType::Tickets => "TICKET",
            ObjectType::Products => "PRODUCT",
            ObjectType::LineItems => "LINE_ITEM",
            ObjectType::Pets => "PET",
        }
    }

    /// The system property holding the last-modified time.
    pub fn modified_prop(self) -> &'static str {
        match self {
            ObjectType::Contacts => "lastmodifieddate",
            _ => "hs_lastmodifieddate",
        }
    }

    /// Properties returned when a read names none. A custom object returns
    /// only its system properties, as on HubSpot.
    pub fn default_props(self) -> &'static [&'static str] {
        match self {
            ObjectType::Contacts => &["email", "firstname", "lastname"],
            ObjectType::Companies => &["name", "domain"],
            ObjectType::Deals => &["dealname", "amount", "closedate", "pipeline", "dealstage"],
            ObjectType::Tickets => &[
                "subject",
                "content",
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_priority",
            ],
            ObjectType::Products => &["name", "description", "price"],
            ObjectType::LineItems => &["name", "quantity", "price", "hs_product_id"],
            ObjectType::Pets => &[],
        }
    }

    /// The default property group for created properties.
    pub fn group(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contactinformation",
            ObjectType::Companies => "companyinformation",
            ObjectType::Deals => "dealinformation",
            ObjectType::Tickets => "ticketinformation",
            ObjectType::Products => "productinformation",
            ObjectType::LineItems => "lineiteminformation",
            ObjectType::Pets => "pet_information",
        }
    }

    /// The word in this type's scopes: its name, or `custom` for a custom
    /// object.
    fn scope_word(self) -> &'static str {
        match self {
            ObjectType::Pets => "custom",
            ty => ty.name(),
        }
    }

    /// `crm.objects.<type>.<access>` (`crm.objects.custom.…` for pets).
    pub fn object_scope(self, access: &str) -> String {
        format!("crm.objects.{}.{access}", self.scope_word())
    }

    /// `crm.schemas.<type>.<access>` (`crm.schemas.custom.…` for pets).
    pub fn schema_scope(self, access: &str) -> String {
        format!("crm.schemas.{}.{access}", self.scope_word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_from_its_name_and_type_id() {
        for ty in ObjectType::ALL {
            assert_eq!(ObjectType::parse(ty.name(), 1), Some(ty));
            assert_eq!(ObjectType::parse(ty.type_id(), 1), Some(ty));
            assert_eq!(ObjectType::ALL[ty.index()], ty);
        }
        assert_eq!(
            ObjectType::parse("LINE_ITEM", 1),
            Some(ObjectType::LineItems)
        );
        assert_eq!(ObjectType::parse("line-items", 1), None);
    }

    #[test]
    fn the_custom_object_answers_to_its_own_portal_only() {
        assert_eq!(ObjectType::parse("p42_pets", 42), Some(ObjectType::Pets));
        assert_eq!(ObjectType::parse("p43_pets", 42), None);
        assert_eq!(
            ObjectType::Pets.object_scope("read"),
            "crm.objects.custom.read"
        );
        assert_eq!(
            ObjectType::Pets.schema_scope("read"),
            "crm.schemas.custom.read"
        );
        assert_eq!(
            ObjectType::LineItems.object_scope("write"),
            "crm.objects.line_items.write"
        );
    }
}
