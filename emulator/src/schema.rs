//! Property definitions per object type and the checks HubSpot applies to a
//! written value: existence and read-only here, the format of each property
//! type in `values`; the built-in definitions live in `builtin`. Pure
//! functions over definitions; the store and the endpoints decide what to do
//! with a failed check.

mod builtin;
mod object_type;
mod values;

pub(crate) use object_type::ObjectType;
pub(crate) use values::check_value;

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One enumeration option.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PropOption {
    pub value: String,
    pub label: String,
    pub display_order: i64,
    pub hidden: bool,
}

/// One property definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Property {
    pub name: String,
    pub label: String,
    /// string, number, bool, date, datetime, enumeration, phone_number
    pub kind: String,
    /// text, textarea, number, booleancheckbox, checkbox, radio, select, …
    pub field_type: String,
    pub group: String,
    pub description: String,
    pub options: Vec<PropOption>,
    pub unique: bool,
    pub calculated: bool,
    pub read_only: bool,
    pub hubspot_defined: bool,
    pub display_order: i64,
}

impl Property {
    fn new(name: &str, label: &str, kind: &str, field_type: &str, group: &str) -> Self {
        Property {
            name: name.into(),
            label: label.into(),
            kind: kind.into(),
            field_type: field_type.into(),
            group: group.into(),
            description: String::new(),
            options: Vec::new(),
            unique: false,
            calculated: false,
            read_only: false,
            hubspot_defined: true,
            display_order: -1,
        }
    }

    fn opts(mut self, opts: &[(&str, &str)]) -> Self {
        self.options = opts
            .iter()
            .enumerate()
            .map(|(i, (value, label))| PropOption {
                value: value.to_string(),
                label: label.to_string(),
                display_order: i as i64,
                hidden: false,
            })
            .collect();
        self
    }

    fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    fn calculated(mut self) -> Self {
        self.calculated = true;
        self.read_only = true;
        self.field_type = "calculation_equation".into();
        self
    }

    fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    fn custom(mut self) -> Self {
        self.hubspot_defined = false;
        self
    }

    fn describe(mut self, d: &str) -> Self {
        self.description = d.into();
        self
    }

    /// Writable through the API.
    pub fn writable(&self) -> bool {
        !self.read_only && !self.calculated
    }

    /// Multi-select: values are option values joined with `;`.
    pub fn multi(&self) -> bool {
        self.kind == "enumeration" && self.field_type == "checkbox"
    }

    /// The Properties API representation.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "label": self.label,
            "type": self.kind,
            "fieldType": self.field_type,
            "groupName": self.group,
            "description": self.description,
            "options": self.options.iter().map(|o| json!({
                "label": o.label,
                "value": o.value,
                "displayOrder": o.display_order,
                "hidden": o.hidden,
            })).collect::<Vec<_>>(),
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": false,
            "hasUniqueValue": self.unique,
            "hidden": false,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": !self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": !self.writable(),
            },
            "formField": self.writable() && self.kind != "datetime",
            "createdAt": "2020-01-01T00:00:00.000Z",
            "updatedAt": "2020-01-01T00:00:00.000Z",
            "archived": false,
        });
        if !self.hubspot_defined {
            v["createdUserId"] = json!("1");
        }
        v
    }

    /// Parses a Properties API create body into a definition.
    pub fn from_create(body: &Value, ty: ObjectType) -> Result<Self, String> {
        let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let mut missing = Vec::new();
        for k in ["name", "label", "type", "fieldType", "groupName"] {
            if field(k).is_none() {
                missing.push(k);
            }
        }
        if !missing.is_empty() {
            return Err(format!("Missing required fields: {}", missing.join(", ")));
        }
        let name = field("name").unwrap_or_default();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!(
                "Property name {name:?} is invalid: use lower-case letters, digits and _"
            ));
        }
        let kind = field("type").unwrap_or_default();
        if !TYPES.contains(&kind.as_str()) {
            return Err(format!("Unknown property type {kind:?}"));
        }
        let field_type = field("fieldType").unwrap_or_default();
        if !FIELD_TYPES.contains(&field_type.as_str()) {
            return Err(format!("Unknown fieldType {field_type:?}"));
        }
        let mut p = Property::new(
            &name,
            &field("label").unwrap_or_default(),
            &kind,
            &field_type,
            &field("groupName").unwrap_or_else(|| ty.group().into()),
        )
        .custom();
        p.description = field("description").unwrap_or_default();
        p.unique = body.get("hasUniqueValue").and_then(Value::as_bool) == Some(true);
        p.display_order = body
            .get("displayOrder")
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        if let Some(opts) = body.get("options").and_then(Value::as_array) {
            for (i, o) in opts.iter().enumerate() {
                let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
                let (Some(label), Some(value)) = (s("label"), s("value")) else {
                    return Err("Every option needs a label and a value".into());
                };
                p.options.push(PropOption {
                    label,
                    value,
                    display_order: o
                        .get("displayOrder")
                        .and_then(Value::as_i64)
                        .unwrap_or(i as i64),
                    hidden: o.get("hidden").and_then(Value::as_bool).unwrap_or(false),
                });
            }
        }
        if kind == "enumeration" && p.options.is_empty() {
            return Err("Enumeration properties need options".into());
        }
        if kind == "bool" && p.options.is_empty() {
            p = p.opts(&[("true", "Yes"), ("false", "No")]);
        }
        Ok(p)
    }
}

const TYPES: &[&str] = &[
    "string",
    "number",
    "bool",
    "date",
    "datetime",
    "enumeration",
    "phone_number",
];
const FIELD_TYPES: &[&str] = &[
    "text",
    "textarea",
    "number",
    "booleancheckbox",
    "checkbox",
    "radio",
    "select",
    "date",
    "file",
    "html",
    "phonenumber",
    "calculation_equation",
];

/// One failed property check, as HubSpot reports it inside its message:
/// `{"isValid":false,"message":…,"error":CODE,"name":PROPERTY}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PropError {
    pub name: String,
    pub code: &'static str,
    pub message: String,
}

impl PropError {
    pub fn new(name: &str, code: &'static str, message: String) -> Self {
        PropError {
            name: name.into(),
            code,
            message,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "isValid": false,
            "message": self.message,
            "error": self.code,
            "name": self.name,
        })
    }
}

/// All property definitions of one object type.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub ty: ObjectType,
    pub props: BTreeMap<String, Property>,
}

impl Schema {
    /// The built-in definitions for `ty`; `stages` orders `lifecyclestage`.
    pub fn builtin(ty: ObjectType, stages: &[String]) -> Self {
        let list = builtin::builtin(ty, stages);
        Schema {
            ty,
            props: list.into_iter().map(|p| (p.name.clone(), p)).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Property> {
        self.props.get(name)
    }

    /// Can `name` key an upsert or a lookup (`idProperty`)? HubSpot allows
    /// properties defined with a unique value, plus `email` for contacts
    /// (whose definition says `hasUniqueValue: false`, as on HubSpot).
    pub fn is_key(&self, name: &str) -> bool {
        (self.ty == ObjectType::Contacts && name == "email")
            || name == "hs_object_id"
            || self.get(name).is_some_and(|p| p.unique)
    }

    /// Properties whose values must be unique across records (email and
    /// `hasUniqueValue` ones), kept indexed by the store.
    pub fn unique_props(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .props
            .values()
            .filter(|p| p.unique)
            .map(|p| p.name.clone())
            .collect();
        if self.ty == ObjectType::Contacts {
            v.push("email".into());
        }
        v
    }

    /// The rank of a lifecycle stage in the `lifecyclestage` options'
    /// display order.
    pub fn stage_rank(&self, stage: &str) -> Option<i64> {
        self.get("lifecyclestage")?
            .options
            .iter()
            .find(|o| o.value == stage)
            .map(|o| o.display_order)
    }

    /// Checks one written value and returns it as stored (`""` clears).
    pub fn check(&self, name: &str, raw: &str) -> Result<String, PropError> {
        let Some(p) = self.get(name) else {
            return Err(PropError::new(
                name,
                "PROPERTY_DOESNT_EXIST",
                format!("Property \"{name}\" does not exist"),
            ));
        };
        if !p.writable() {
            return Err(PropError::new(
                name,
                "READ_ONLY_VALUE",
                format!("{name} is a read only property; its value cannot be set."),
            ));
        }
        if raw.is_empty() {
            return Ok(String::new());
        }
        check_value(p, raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contacts() -> Schema {
        let mut stages: Vec<String> = crate::options::STANDARD_LIFECYCLE_STAGES
            .iter()
            .map(|s| s.to_string())
            .collect();
        stages.insert(4, "1234567".into());
        Schema::builtin(ObjectType::Contacts, &stages)
    }

    fn code(r: Result<String, PropError>) -> &'static str {
        r.unwrap_err().code
    }

    #[test]
    fn email_is_lowercased_and_typo_tlds_rejected() {
        let s = contacts();
        assert_eq!(
            s.check("email", "Ann@Example.COM").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "bcooper@example.con",
            "x@y.cpm",
            "no-at.com",
            "a@b",
            "a b@c.com",
            "a@-b.com",
        ] {
            assert_eq!(code(s.check("email", bad)), "INVALID_EMAIL", "{bad}");
        }
    }

    #[test]
    fn unknown_and_read_only_properties_fail() {
        let s = contacts();
        assert_eq!(code(s.check("shoe_size", "9")), "PROPERTY_DOESNT_EXIST");
        assert_eq!(code(s.check("hs_object_id", "1")), "READ_ONLY_VALUE");
        assert_eq!(code(s.check("hs_email_domain", "")), "READ_ONLY_VALUE");
        assert_eq!(code(s.check("createdate", "2024-01-01")), "READ_ONLY_VALUE");
    }

    #[test]
    fn empty_string_clears_any_writable_type() {
        let s = contacts();
        for p in [
            "annualrevenue",
            "newsletter_opt_in",
            "renewal_date",
            "lifecyclestage",
        ] {
            assert_eq!(s.check(p, "").unwrap(), "");
        }
    }

    #[test]
    fn numbers_and_booleans() {
        let s = contacts();
        assert_eq!(s.check("annualrevenue", "17.5").unwrap(), "17.5");
        assert_eq!(code(s.check("annualrevenue", "12k")), "INVALID_INTEGER");
        assert_eq!(code(s.check("annualrevenue", "NaN")), "INVALID_INTEGER");
        assert_eq!(s.check("newsletter_opt_in", "TRUE").unwrap(), "true");
        assert_eq!(code(s.check("newsletter_opt_in", "yes")), "INVALID_BOOLEAN");
    }

    #[test]
    fn dates_must_be_midnight_utc() {
        let s = contacts();
        assert_eq!(s.check("renewal_date", "2024-03-01").unwrap(), "2024-03-01");
        assert_eq!(
            s.check("renewal_date", "1704067200000").unwrap(),
            "2024-01-01"
        );
        let e = s.check("renewal_date", "1543311012000").unwrap_err();
        assert_eq!(e.code, "INVALID_DATE");
        assert!(e.message.contains("not midnight"), "{}", e.message);
        assert_eq!(code(s.check("renewal_date", "01/03/2024")), "INVALID_DATE");
    }

    #[test]
    fn datetimes_are_stored_as_iso_millis() {
        let s = contacts();
        assert_eq!(
            s.check("closedate", "1572406217883").unwrap(),
            "2019-10-30T03:30:17.883Z"
        );
        assert_eq!(
            s.check("closedate", "2019-10-30T05:30:17+02:00").unwrap(),
            "2019-10-30T03:30:17.000Z"
        );
        assert_eq!(code(s.check("closedate", "soon")), "INVALID_DATE");
    }

    #[test]
    fn enumerations_single_and_multi() {
        let s = contacts();
        assert_eq!(s.check("hs_lead_status", "NEW").unwrap(), "NEW");
        assert_eq!(code(s.check("hs_lead_status", "new")), "INVALID_OPTION");
        assert_eq!(s.check("interests", "crm;email").unwrap(), "crm;email");
        assert_eq!(code(s.check("interests", "crm;golf")), "INVALID_OPTION");
        assert_eq!(s.check("lifecyclestage", "1234567").unwrap(), "1234567");
    }

    #[test]
    fn custom_stages_rank_by_display_order() {
        let s = contacts();
        let r = |v| s.stage_rank(v).unwrap();
        assert!(r("lead") < r("1234567"));
        assert!(r("1234567") < r("opportunity"));
        assert_eq!(s.stage_rank("nope"), None);
    }

    #[test]
    fn keys_are_email_and_unique_properties() {
        let s = contacts();
        assert!(s.is_key("email"));
        assert!(!s.is_key("firstname"));
        let c = Schema::builtin(ObjectType::Companies, &[]);
        assert!(c.is_key("external_id"));
        assert!(!c.is_key("domain"));
    }

    #[test]
    fn property_create_requires_fields() {
        let ok = json!({"name":"shoe_size","label":"Shoe","type":"number","fieldType":"number","groupName":"contactinformation"});
        let p = Property::from_create(&ok, ObjectType::Contacts).unwrap();
        assert!(!p.hubspot_defined);
        let missing = json!({"name":"x","label":"X"});
        assert!(Property::from_create(&missing, ObjectType::Contacts)
            .unwrap_err()
            .contains("type"));
        let enum_no_opts = json!({"name":"e","label":"E","type":"enumeration","fieldType":"select","groupName":"g"});
        assert!(Property::from_create(&enum_no_opts, ObjectType::Contacts).is_err());
    }
}
