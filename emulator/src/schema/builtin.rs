//! The built-in property definitions of each object type: HubSpot's
//! standard properties a sync meets, a few custom ones (`external_id`, the
//! unique upsert key every type has in the demo account; contact opt-ins
//! and interests), and the read-only system properties. Data only; pipeline
//! and stage options come from `pipelines`.

use super::{ObjectType, Property};
use crate::pipelines;

/// The built-in definitions of `ty`; `stages` orders `lifecyclestage`.
pub(super) fn builtin(ty: ObjectType, stages: &[String]) -> Vec<Property> {
    match ty {
        ObjectType::Contacts => contact_props(stages),
        ObjectType::Companies => company_props(stages),
        ObjectType::Deals => deal_props(),
        ObjectType::Tickets => ticket_props(),
        ObjectType::Products => product_props(),
        ObjectType::LineItems => line_item_props(),
        ObjectType::Pets => pet_props(),
    }
}

/// `external_id`: a custom unique text property. HubSpot's standard objects
/// have no unique property a sync could key on besides `hs_object_id`, so
/// the demo account gives every type this one.
fn external_id(group: &str) -> Property {
    Property::new("external_id", "External ID", "string", "text", group)
        .unique()
        .custom()
}

/// Contact properties; `stages` orders the `lifecyclestage` options.
fn contact_props(stages: &[String]) -> Vec<Property> {
    [
        contact_fields(),
        contact_choices(stages),
        contact_dates_and_custom(),
        contact_system(),
    ]
    .concat()
}

/// The plain text and phone fields of a contact.
fn contact_fields() -> Vec<Property> {
    let g = "contactinformation";
    let text = |n: &str, l: &str| Property::new(n, l, "string", "text", g);
    vec![
        text("email", "Email").describe("A contact's email address"),
        text("firstname", "First Name"),
        text("lastname", "Last Name"),
        text("salutation", "Salutation"),
        Property::new("phone", "Phone Number", "string", "phonenumber", g),
        Property::new(
            "mobilephone",
            "Mobile Phone Number",
            "string",
            "phonenumber",
            g,
        ),
        text("company", "Company Name"),
        text("website", "Website URL"),
        text("jobtitle", "Job Title"),
        text("address", "Street Address"),
        text("city", "City"),
        text("state", "State/Region"),
        text("zip", "Postal Code"),
        text("country", "Country/Region"),
        Property::new("message", "Message", "string", "textarea", g),
    ]
}

/// The `lifecyclestage` property of group `g` (contacts and companies
/// share the account's stages), options in `stages` order.
fn lifecycle_stage(stages: &[String], g: &str) -> Property {
    let stage_opts: Vec<(String, String)> =
        stages.iter().map(|s| (s.clone(), stage_label(s))).collect();
    let stage_refs: Vec<(&str, &str)> = stage_opts
        .iter()
        .map(|(v, l)| (v.as_str(), l.as_str()))
        .collect();
    Property::new(
        "lifecyclestage",
        "Lifecycle Stage",
        "enumeration",
        "radio",
        g,
    )
    .opts(&stage_refs)
}

/// Numbers and enumerations, the lifecycle stage among them.
fn contact_choices(stages: &[String]) -> Vec<Property> {
    let g = "contactinformation";
    vec![
        Property::new("annualrevenue", "Annual Revenue", "number", "number", g),
        Property::new("followercount", "Follower Count", "number", "number", g),
        Property::new(
            "numemployees",
            "Number of Employees",
            "enumeration",
            "select",
            g,
        )
        .opts(&[
            ("1-5", "1-5"),
            ("5-25", "5-25"),
            ("25-50", "25-50"),
            ("50-100", "50-100"),
            ("100-500", "100-500"),
            ("500-1000", "500-1000"),
            ("1000+", "1000+"),
        ]),
        lifecycle_stage(stages, g).describe("The qualification of contacts to sales readiness."),
        Property::new("hs_lead_status", "Lead Status", "enumeration", "radio", g).opts(&[
            ("NEW", "New"),
            ("OPEN", "Open"),
            ("IN_PROGRESS", "In Progress"),
            ("OPEN_DEAL", "Open Deal"),
            ("UNQUALIFIED", "Unqualified"),
            ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
            ("CONNECTED", "Connected"),
            ("BAD_TIMING", "Bad Timing"),
        ]),
        Property::new(
            "hs_buying_role",
            "Buying Role",
            "enumeration",
            "checkbox",
            g,
        )
        .opts(&[
            ("BUDGET_HOLDER", "Budget Holder"),
            ("CHAMPION", "Champion"),
            ("DECISION_MAKER", "Decision Maker"),
            ("END_USER", "End User"),
            ("EXECUTIVE_SPONSOR", "Executive Sponsor"),
            ("INFLUENCER", "Influencer"),
            ("LEGAL_AND_COMPLIANCE", "Legal and Compliance"),
            ("OTHER", "Other"),
        ]),
    ]
}

/// A date-time, and the custom properties a test portal has.
fn contact_dates_and_custom() -> Vec<Property> {
    let g = "contactinformation";
    vec![
        Property::new("closedate", "Close Date", "datetime", "date", g),
        Property::new(
            "newsletter_opt_in",
            "Newsletter opt-in",
            "bool",
            "booleancheckbox",
            g,
        )
        .opts(&[("true", "Yes"), ("false", "No")])
        .custom(),
        Property::new("renewal_date", "Renewal date", "date", "date", g).custom(),
        Property::new("interests", "Interests", "enumeration", "checkbox", g)
            .opts(&[
                ("analytics", "Analytics"),
                ("automation", "Automation"),
                ("crm", "CRM"),
                ("email", "Email"),
            ])
            .custom(),
        external_id(g),
    ]
}

/// Read-only and calculated properties HubSpot maintains.
fn contact_system() -> Vec<Property> {
    let g = "contactinformation";
    let text = |n: &str, l: &str| Property::new(n, l, "string", "text", g);
    vec![
        Property::new("hs_object_id", "Record ID", "number", "number", g).read_only(),
        Property::new("createdate", "Create Date", "datetime", "date", g).read_only(),
        Property::new(
            "lastmodifieddate",
            "Last Modified Date",
            "datetime",
            "date",
            g,
        )
        .read_only(),
        text("hs_additional_emails", "Additional email addresses").read_only(),
        Property::new(
            "hs_marketable_status",
            "Marketing contact status",
            "enumeration",
            "booleancheckbox",
            g,
        )
        .opts(&[
            ("true", "Marketing contact"),
            ("false", "Non-marketing contact"),
        ])
        .read_only(),
        text("hs_email_domain", "Email Domain").calculated(),
        Property::new(
            "num_notes",
            "Number of Sales Activities",
            "number",
            "number",
            g,
        )
        .calculated(),
    ]
}

/// The label of a standard stage, or the id itself for custom ones.
fn stage_label(id: &str) -> String {
    match id {
        "subscriber" => "Subscriber",
        "lead" => "Lead",
        "marketingqualifiedlead" => "Marketing Qualified Lead",
        "salesqualifiedlead" => "Sales Qualified Lead",
        "opportunity" => "Opportunity",
        "customer" => "Customer",
        "evangelist" => "Evangelist",
        "other" => "Other",
        other => other,
    }
    .to_string()
}

fn company_props(stages: &[String]) -> Vec<Property> {
    let g = "companyinformation";
    let text = |n: &str, l: &str| Property::new(n, l, "string", "text", g);
    vec![
        lifecycle_stage(stages, g),
        text("name", "Company name"),
        text("domain", "Company Domain Name"),
        text("city", "City"),
        text("country", "Country/Region"),
        Property::new("phone", "Phone Number", "string", "phonenumber", g),
        Property::new("industry", "Industry", "enumeration", "select", g).opts(&[
            ("COMPUTER_SOFTWARE", "Computer Software"),
            ("FINANCIAL_SERVICES", "Financial Services"),
            ("RETAIL", "Retail"),
            ("OTHER", "Other"),
        ]),
        Property::new(
            "numberofemployees",
            "Number of Employees",
            "number",
            "number",
            g,
        ),
        Property::new("annualrevenue", "Annual Revenue", "number", "number", g),
        external_id(g),
    ]
    .into_iter()
    .chain(record_system(g))
    .collect()
}

fn deal_props() -> Vec<Property> {
    let g = "dealinformation";
    let ty = ObjectType::Deals;
    vec![
        Property::new("dealname", "Deal Name", "string", "text", g),
        Property::new("amount", "Amount", "number", "number", g),
        Property::new("closedate", "Close Date", "datetime", "date", g),
        Property::new("pipeline", "Pipeline", "enumeration", "select", g)
            .opts(&pipelines::pipeline_options(ty)),
        Property::new("dealstage", "Deal Stage", "enumeration", "radio", g)
            .opts(&pipelines::stage_options(ty)),
        external_id(g),
    ]
    .into_iter()
    .chain(record_system(g))
    .collect()
}

fn ticket_props() -> Vec<Property> {
    let g = "ticketinformation";
    let ty = ObjectType::Tickets;
    vec![
        Property::new("subject", "Ticket name", "string", "text", g),
        Property::new("content", "Ticket description", "string", "textarea", g),
        Property::new("hs_pipeline", "Pipeline", "enumeration", "select", g)
            .opts(&pipelines::pipeline_options(ty)),
        Property::new(
            "hs_pipeline_stage",
            "Ticket status",
            "enumeration",
            "select",
            g,
        )
        .opts(&pipelines::stage_options(ty)),
        Property::new("hs_ticket_priority", "Priority", "enumeration", "select", g).opts(&[
            ("LOW", "Low"),
            ("MEDIUM", "Medium"),
            ("HIGH", "High"),
        ]),
        external_id(g),
    ]
    .into_iter()
    .chain(record_system(g))
    .collect()
}

fn product_props() -> Vec<Property> {
    let g = "productinformation";
    vec![
        Property::new("name", "Name", "string", "text", g),
        Property::new("description", "Description", "string", "textarea", g),
        Property::new("price", "Unit price", "number", "number", g),
        Property::new("hs_sku", "SKU", "string", "text", g),
        external_id(g),
    ]
    .into_iter()
    .chain(record_system(g))
    .collect()
}

fn line_item_props() -> Vec<Property> {
    let g = "lineiteminformation";
    vec![
        Property::new("name", "Name", "string", "text", g),
        Property::new("quantity", "Quantity", "number", "number", g),
        Property::new("price", "Unit price", "number", "number", g),
        Property::new("hs_product_id", "Product ID", "string", "text", g),
        external_id(g),
    ]
    .into_iter()
    .chain(record_system(g))
    .collect()
}

/// The demo custom object: every property is the account's own, and
/// `pet_id` is a second unique key.
fn pet_props() -> Vec<Property> {
    let g = "pet_information";
    vec![
        Property::new("name", "Name", "string", "text", g).custom(),
        Property::new("species", "Species", "enumeration", "select", g)
            .opts(&[("dog", "Dog"), ("cat", "Cat"), ("other", "Other")])
            .custom(),
        Property::new("pet_id", "Pet ID", "string", "text", g)
            .unique()
            .custom(),
        external_id(g),
    ]
    .into_iter()
    .chain(record_system(g))
    .collect()
}

/// The read-only properties HubSpot keeps on every record but contacts.
fn record_system(g: &str) -> Vec<Property> {
    vec![
        Property::new("hs_object_id", "Record ID", "number", "number", g).read_only(),
        Property::new("createdate", "Create Date", "datetime", "date", g).read_only(),
        Property::new(
            "hs_lastmodifieddate",
            "Last Modified Date",
            "datetime",
            "date",
            g,
        )
        .read_only(),
    ]
}
