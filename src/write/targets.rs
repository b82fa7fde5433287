//! Where each stream's records go, decided once at the start of a sync and
//! checked before anything is written: the HubSpot object (Airbyte's object
//! mapping, else the config's `objects`, else contacts), the matching key
//! records are upserted by (a property with unique values, or
//! `hs_object_id` for updates only), the object's property definitions and
//! pipelines, and the associations its records ask for. Streams that write
//! the same object by the same key share one target: one batch, one dedupe.

use std::collections::HashMap;

use crate::catalog::{Catalog, Stream};
use crate::config::{AssociationLabel, AssociationSpec, Config};
use crate::hubspot::batch::Mode;
use crate::hubspot::objects::Object;
use crate::hubspot::pipelines::Pipelines;
use crate::hubspot::properties::Properties;
use crate::hubspot::{Client, HubSpotError};
use crate::protocol::FailureType;

/// The record id: matching by it only updates records that exist.
pub const RECORD_ID: &str = "hs_object_id";

/// One object written by one matching key.
#[derive(Debug, Clone)]
pub struct Target {
    pub object: Object,
    /// The matching key: `email`, another unique property, or [`RECORD_ID`].
    pub key: String,
    pub properties: Properties,
    /// Deal or ticket pipelines, when the object has them.
    pub pipelines: Option<Pipelines>,
}

impl Target {
    /// How batches of this target are written.
    pub fn mode(&self) -> Mode<'_> {
        if self.key == RECORD_ID {
            Mode::update(&self.object.path)
        } else {
            Mode::upsert(&self.object.path, &self.key)
        }
    }

    /// Contacts matched by email (case-insensitive keys, secondary emails).
    pub fn by_email(&self) -> bool {
        self.object.is_contacts() && self.key == "email"
    }
}

/// Which target a stream writes, where its key is, and its associations.
#[derive(Debug, Clone)]
pub struct Route {
    pub target: usize,
    /// The record field holding the key (for contacts by email, the
    /// stream's email field, searched as the README says).
    pub key_field: Vec<String>,
    /// Indexes into [`Targets::links`].
    pub links: Vec<usize>,
}

/// How an association is typed in HubSpot's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// The default (unlabelled) association: `batch/associate/default`.
    Default,
    /// A typed one: `batch/create` with this category and id.
    Typed { category: &'static str, id: u32 },
}

/// One configured association, resolved.
#[derive(Debug, Clone)]
pub struct Link {
    /// The stream and field, for reports (`contacts.company_id`).
    pub name: String,
    pub field: Vec<String>,
    pub from: usize,
    pub to_object: Object,
    /// The target object's matching key (or [`RECORD_ID`]).
    pub to_key: String,
    pub kind: LinkType,
}

impl Link {
    /// How the target record is looked up.
    pub fn to_mode(&self) -> Mode<'_> {
        if self.to_key == RECORD_ID {
            Mode::update(&self.to_object.path)
        } else {
            Mode::upsert(&self.to_object.path, &self.to_key)
        }
    }
}

/// Every target, route and association of one sync.
#[derive(Debug, Clone)]
pub struct Targets {
    pub targets: Vec<Target>,
    /// By stream index.
    routes: Vec<Route>,
    pub links: Vec<Link>,
    /// Problems that do not stop the sync (associations of streams not in
    /// the catalog), for a WARN each.
    pub warnings: Vec<String>,
}

impl Targets {
    /// Resolves every stream and association against the account.
    pub fn resolve(
        config: &Config,
        catalog: &Catalog,
        client: &Client,
    ) -> Result<Targets, HubSpotError> {
        let mut r = Resolver {
            client,
            objects: HashMap::new(),
            targets: Vec::new(),
        };
        let mut routes = Vec::new();
        for stream in catalog.streams() {
            routes.push(r.route(config, stream)?);
        }
        let mut links = Vec::new();
        let mut warnings = Vec::new();
        for (name, _) in &config.objects {
            if !catalog.streams().any(|s| s.name == *name) {
                warnings.push(format!("config /objects/{name}: stream `{name}` is not in this sync's catalog; the entry does nothing"));
            }
        }
        for (i, spec) in config.associations.iter().enumerate() {
            let streams: Vec<&Stream> = catalog
                .streams()
                .filter(|s| s.name == spec.stream)
                .collect();
            if streams.is_empty() {
                warnings.push(format!("config /associations/{i}: stream `{}` is not in this sync's catalog; the association does nothing", spec.stream));
                continue;
            }
            for s in streams {
                let link = r.link(i, spec, routes[s.index].target)?;
                routes[s.index].links.push(links.len());
                links.push(link);
            }
        }
        Ok(Targets {
            targets: r.targets,
            routes,
            links,
            warnings,
        })
    }

    /// Contacts by email for every stream (no HubSpot call): the benchmark
    /// and tests that need no other object.
    pub fn contacts_only(catalog: &Catalog, properties: Properties) -> Targets {
        let routes = catalog
            .streams()
            .map(|s| Route {
                target: 0,
                key_field: s.email_field.clone(),
                links: Vec::new(),
            })
            .collect();
        Targets {
            targets: vec![Target {
                object: Object::contacts(),
                key: "email".to_string(),
                properties,
                pipelines: None,
            }],
            routes,
            links: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The route of the catalog stream with this index.
    pub fn route(&self, stream: usize) -> &Route {
        &self.routes[stream]
    }

    /// Proves the token may write every target and make every association
    /// (looking its targets up too), without writing: empty calls are
    /// refused for their content only once the scopes are granted (403
    /// otherwise, a config error naming the scope).
    pub fn probe_scopes(&self, client: &Client) -> Result<(), HubSpotError> {
        let paths = client.paths();
        // (what is proven, path, body)
        let mut probes: Vec<(String, String, &[u8])> = Vec::new();
        let empty: &[u8] = br#"{"inputs":[]}"#;
        for t in &self.targets {
            let op = if t.mode().by.is_some() {
                "upsert"
            } else {
                "update"
            };
            let path = paths.objects_batch(&t.object.path, op);
            probes.push((format!("writing {}", t.object.name), path, empty));
        }
        for link in &self.links {
            let from = &self.targets[link.from].object;
            let op = match link.kind {
                LinkType::Default => "associate/default",
                LinkType::Typed { .. } => "create",
            };
            let path = paths.associations_batch(&from.path, &link.to_object.path, op);
            let what = format!("associating {} with {}", from.name, link.to_object.name);
            probes.push((what, path, empty));
            let read = paths.objects_batch(&link.to_object.path, "read");
            let what = format!("looking up {}", link.to_object.name);
            probes.push((what, read, br#"{"inputs":[],"properties":[]}"#));
        }
        // At once: each is one round trip of waiting.
        std::thread::scope(|scope| {
            let running: Vec<_> = probes
                .iter()
                .map(|(what, path, body)| {
                    scope.spawn(move || {
                        client.post(path, body).map(|_| ()).map_err(|e| {
                            HubSpotError::new(e.failure, format!("{what}: {}", e.message))
                        })
                    })
                })
                .collect();
            running
                .into_iter()
                .try_for_each(|h| h.join().expect("a scope probe does not panic"))
        })
    }

    /// Whether the sync writes more than contacts by email (then its
    /// scopes are proven before the first write).
    pub fn beyond_contacts(&self) -> bool {
        !self.links.is_empty() || self.targets.iter().any(|t| !t.by_email())
    }

    /// The contacts target, if the sync writes contacts.
    pub fn contacts(&self) -> Option<&Target> {
        self.targets.iter().find(|t| t.object.is_contacts())
    }
}

/// The state of resolution: objects read so far and targets made.
struct Resolver<'c> {
    client: &'c Client,
    /// Object name as configured → object and its properties.
    objects: HashMap<String, (Object, Properties)>,
    targets: Vec<Target>,
}

impl Resolver<'_> {
    /// The object `name` names, with its property definitions (read once).
    fn object(&mut self, name: &str) -> Result<(Object, &Properties), HubSpotError> {
        if !self.objects.contains_key(name) {
            let object = Object::resolve(self.client, name)?;
            let props = Properties::fetch(self.client, &object.path).map_err(|e| {
                HubSpotError::new(
                    e.failure,
                    format!(
                        "{} (reading {} properties needs the `crm.schemas.{}.read` scope)",
                        e.message, object.name, object.scope
                    ),
                )
            })?;
            self.objects.insert(name.to_string(), (object, props));
        }
        let (object, props) = &self.objects[name];
        Ok((object.clone(), props))
    }

    /// The route of one stream: its object and key, checked.
    fn route(&mut self, config: &Config, s: &Stream) -> Result<Route, HubSpotError> {
        let chosen = config.objects.iter().find(|(name, _)| *name == s.name);
        let (object, key, from_catalog, place) = match (&s.object, chosen) {
            (Some(o), _) => (
                o.clone(),
                s.primary_key.as_ref().map(|k| k.join(".")),
                true,
                format!("catalog /streams/{}", s.index),
            ),
            (None, Some((_, c))) => (
                c.object.clone(),
                c.matching_key.clone(),
                false,
                format!("config /objects/{}", s.name),
            ),
            (None, None) => ("contacts".to_string(), None, false, String::new()),
        };
        let (obj, props) = self.object(&object).map_err(|e| in_place(e, &place))?;
        let set = if from_catalog {
            "set the stream's primary key (matching key) to"
        } else {
            "set `matching_key` to"
        };
        let email_key = obj.is_contacts()
            && match &key {
                None => true,
                // Airbyte's mapping with a source key that is an email field.
                Some(k) => {
                    k == "email"
                        || (from_catalog && s.primary_key.as_deref() == Some(&s.email_field[..]))
                }
            };
        let (key, key_field) = if email_key {
            ("email".to_string(), s.email_field.clone())
        } else {
            let Some(key) = key else {
                return Err(config_error(format!(
                    "{place}: stream `{}` writes {}, which HubSpot upserts only by a property with unique values: {}",
                    s.name,
                    obj.name,
                    key_advice(&obj, props, set)
                )));
            };
            check_key(&obj, props, &key, set)
                .map_err(|m| config_error(format!("{place}: stream `{}`: {m}", s.name)))?;
            let field = match (from_catalog, &s.primary_key) {
                (true, Some(pk)) => pk.clone(),
                _ => vec![key.clone()],
            };
            (key, field)
        };
        let target = self.target(obj, key)?;
        Ok(Route {
            target,
            key_field,
            links: Vec::new(),
        })
    }

    /// The target writing `object` by `key`, made once.
    fn target(&mut self, object: Object, key: String) -> Result<usize, HubSpotError> {
        if let Some(i) = self
            .targets
            .iter()
            .position(|t| t.object == object && t.key == key)
        {
            return Ok(i);
        }
        let properties = self
            .objects
            .values()
            .find(|(o, _)| *o == object)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let pipelines = match (
            object.path.as_str(),
            properties.get("pipeline").or(properties.get("hs_pipeline")),
        ) {
            ("deals" | "tickets", Some(_)) => Some(Pipelines::fetch(self.client, &object.path)?),
            _ => None,
        };
        self.targets.push(Target {
            object,
            key,
            properties,
            pipelines,
        });
        Ok(self.targets.len() - 1)
    }

    /// One configured association, checked.
    fn link(
        &mut self,
        i: usize,
        spec: &AssociationSpec,
        from: usize,
    ) -> Result<Link, HubSpotError> {
        let place = format!("config /associations/{i}");
        let (to_object, props) = self
            .object(&spec.to_object)
            .map_err(|e| in_place(e, &place))?;
        check_key(&to_object, props, &spec.to_matching_key, "set it to")
            .map_err(|m| config_error(format!("{place}/to_matching_key: {m}")))?;
        let from_object = &self.targets[from].object;
        let kind = link_type(from_object, &to_object, &spec.label)
            .map_err(|m| config_error(format!("{place}/label: {m}")))?;
        Ok(Link {
            name: format!("{}.{}", spec.stream, spec.field.join(".")),
            field: spec.field.clone(),
            from,
            to_object,
            to_key: spec.to_matching_key.clone(),
            kind,
        })
    }
}

/// Whether `key` can match records of `object`: email for contacts, the
/// record id, or a writable property with unique values.
fn check_key(object: &Object, props: &Properties, key: &str, set: &str) -> Result<(), String> {
    if key == RECORD_ID || (object.is_contacts() && key == "email") {
        return Ok(());
    }
    match props.get(key) {
        Some(p) if p.unique && p.writable => Ok(()),
        Some(_) => Err(format!(
            "`{key}` is a property of {} without unique values, and HubSpot upserts only by unique ones; {}",
            object.name,
            key_advice(object, props, set)
        )),
        None => Err(format!(
            "`{key}` is not a property of {}; {}",
            object.name,
            key_advice(object, props, set)
        )),
    }
}

/// What to match by instead: the object's unique properties.
fn key_advice(object: &Object, props: &Properties, set: &str) -> String {
    let mut unique = props.unique();
    if object.is_contacts() && !unique.contains(&"email") {
        unique.insert(0, "email");
    }
    if unique.is_empty() {
        format!("it has none; create a property with unique values in HubSpot, or {set} `hs_object_id` to update existing records only")
    } else {
        format!(
            "{set} one of: {}, or `hs_object_id` to update existing records only",
            unique.join(", ")
        )
    }
}

/// HubSpot-defined association type ids: (from, to, default, primary).
const HUBSPOT_DEFINED: &[(&str, &str, u32, Option<u32>)] = &[
    ("0-1", "0-2", 279, Some(1)),
    ("0-2", "0-1", 280, Some(2)),
    ("0-3", "0-1", 3, None),
    ("0-1", "0-3", 4, None),
    ("0-3", "0-2", 341, Some(5)),
    ("0-2", "0-3", 342, Some(6)),
    ("0-5", "0-1", 16, None),
    ("0-1", "0-5", 15, None),
    ("0-5", "0-2", 339, Some(26)),
    ("0-2", "0-5", 340, Some(25)),
    ("0-5", "0-3", 28, None),
    ("0-3", "0-5", 27, None),
    ("0-8", "0-3", 20, None),
    ("0-3", "0-8", 19, None),
];

/// The association type a label asks for, from `from` to `to`.
fn link_type(from: &Object, to: &Object, label: &AssociationLabel) -> Result<LinkType, String> {
    let known = HUBSPOT_DEFINED
        .iter()
        .find(|(f, t, ..)| *f == from.type_id && *t == to.type_id);
    match label {
        AssociationLabel::Default => Ok(LinkType::Default),
        AssociationLabel::Primary => match known.and_then(|k| k.3) {
            Some(id) => Ok(LinkType::Typed {
                category: "HUBSPOT_DEFINED",
                id,
            }),
            None => Err(format!(
                "HubSpot has no primary association from {} to {}; leave `label` out for the default one",
                from.name, to.name
            )),
        },
        AssociationLabel::Type(id) => {
            let hubspot = known.is_some_and(|k| k.2 == *id || k.3 == Some(*id));
            Ok(LinkType::Typed {
                category: if hubspot {
                    "HUBSPOT_DEFINED"
                } else {
                    "USER_DEFINED"
                },
                id: *id,
            })
        }
    }
}

fn config_error(message: String) -> HubSpotError {
    HubSpotError::new(FailureType::Config, message)
}

/// An error with the config or catalog place it concerns in front.
fn in_place(e: HubSpotError, place: &str) -> HubSpotError {
    if place.is_empty() {
        return e;
    }
    HubSpotError::new(e.failure, format!("{place}: {}", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SET: &str = "set `matching_key` to";

    fn object(name: &str) -> Object {
        Object::standard(name).unwrap()
    }

    #[test]
    fn keys_must_be_unique_writable_properties_or_the_record_id() {
        let props = Properties::from_json(&json!({"results": [
            {"name": "domain", "type": "string", "fieldType": "text"},
            {"name": "external_id", "type": "string", "fieldType": "text", "hasUniqueValue": true},
        ]}));
        let companies = object("companies");
        assert!(check_key(&companies, &props, "external_id", SET).is_ok());
        assert!(check_key(&companies, &props, RECORD_ID, SET).is_ok());
        let err = check_key(&companies, &props, "domain", SET).unwrap_err();
        assert!(
            err.contains("without unique values") && err.contains("one of: external_id"),
            "{err}"
        );
        let err = check_key(&companies, &props, "nope", SET).unwrap_err();
        assert!(err.contains("not a property of companies"), "{err}");
        assert!(check_key(&object("contacts"), &Properties::default(), "email", SET).is_ok());
        assert!(check_key(&companies, &Properties::default(), "email", SET).is_err());
    }

    #[test]
    fn labels_become_hubspot_or_user_defined_types() {
        let (contacts, companies, products) =
            (object("contacts"), object("companies"), object("products"));
        assert_eq!(
            link_type(&contacts, &companies, &AssociationLabel::Default),
            Ok(LinkType::Default)
        );
        assert_eq!(
            link_type(&contacts, &companies, &AssociationLabel::Primary),
            Ok(LinkType::Typed {
                category: "HUBSPOT_DEFINED",
                id: 1
            })
        );
        assert_eq!(
            link_type(&object("deals"), &companies, &AssociationLabel::Type(341)),
            Ok(LinkType::Typed {
                category: "HUBSPOT_DEFINED",
                id: 341
            })
        );
        assert_eq!(
            link_type(&contacts, &companies, &AssociationLabel::Type(77)),
            Ok(LinkType::Typed {
                category: "USER_DEFINED",
                id: 77
            })
        );
        assert!(link_type(&products, &companies, &AssociationLabel::Primary).is_err());
    }
}
