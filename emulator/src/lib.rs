//! A local, in-memory HubSpot CRM API for tests and demos.
//!
//! It serves what a CRM sync uses — batch upsert/create/update/read/archive,
//! single get, list and property definitions for contacts, companies,
//! deals, tickets, products, line items and one custom object (`pets`),
//! deal and ticket pipelines, the custom object schema, batch associations,
//! account details, OAuth refresh — with HubSpot's documented shapes, auth
//! and scopes, rate limits and their headers, property validation and the
//! lifecycle-stage rule, plus seeded latency and fault injection and an
//! inspection API (`/_emulator/*`). Every endpoint answers under its legacy
//! path (`/crm/v3/…`, `/crm/v4/associations/…`) and under HubSpot's
//! date-based versions (`/crm/objects/2026-09/…`). It binds 127.0.0.1 only
//! and never talks to HubSpot.
//!
//! ```no_run
//! use hubspot_emulator::{Emulator, Options};
//! let emu = Emulator::start(Options::default()).unwrap();
//! let url = emu.base_url(); // http://127.0.0.1:PORT, token "pat-local-demo"
//! // … point the client at `url` …
//! assert!(emu.contacts().is_empty());
//! ```
#![forbid(unsafe_code)]

mod access;
mod account;
mod associations;
mod clock;
mod errors;
mod fault;
mod http;
mod hub;
mod inspect;
mod objects;
mod options;
mod pipelines;
mod rng;
mod routes;
mod rules;
mod schema;
mod schemas;
mod server;
mod stats;
mod store;

pub use options::{
    BackwardLifecycle, ConditionalRule, EmailUpsertMode, Fault, FaultPlan, Latency, LegacyPaths,
    OAuthClient, Options, RateLimit, TokenSpec, ValidationErrorMode, DEFAULT_SCOPES, DEFAULT_TOKEN,
    STANDARD_LIFECYCLE_STAGES,
};
pub use stats::{RequestLog, RouteCount, Stats};

use schema::ObjectType;
use serde::Serialize;
use std::collections::BTreeMap;

/// A CRM record as the emulator holds it (any object type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSnapshot {
    /// The record id (`hs_object_id`).
    pub id: String,
    /// Every stored property, system ones included, as strings.
    pub properties: BTreeMap<String, String>,
    /// ISO 8601, e.g. `2024-01-01T10:00:00.000Z`.
    pub created_at: String,
    /// ISO 8601, changes on every write.
    pub updated_at: String,
}

/// One association as the emulator holds it: record `from` is linked to
/// record `to` with these type ids (sorted), in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssociationSnapshot {
    /// The from record's id.
    pub from: String,
    /// The to record's id.
    pub to: String,
    /// HubSpot association type ids, e.g. `[1, 279]`.
    pub types: Vec<u32>,
}

/// A contact; the same shape as every other record.
pub type Contact = ObjectSnapshot;

/// A running emulator. Dropping it stops the server: the listener and every
/// connection are closed and their threads joined.
pub struct Emulator {
    server: server::Server,
}

impl Emulator {
    /// Starts on a free loopback port.
    pub fn start(opts: Options) -> std::io::Result<Emulator> {
        Self::start_on(0, opts)
    }

    /// Starts on `127.0.0.1:port` (0 picks a free port).
    pub fn start_on(port: u16, opts: Options) -> std::io::Result<Emulator> {
        Ok(Emulator {
            server: server::Server::start(port, opts)?,
        })
    }

    /// `http://127.0.0.1:PORT`, to use as the HubSpot base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.addr.port()
    }

    /// Every contact, sorted by id.
    pub fn contacts(&self) -> Vec<Contact> {
        self.server.hub.snapshot(ObjectType::Contacts)
    }

    /// The contact whose email (or secondary email) is `email`,
    /// case-insensitively.
    pub fn contact_by_email(&self, email: &str) -> Option<Contact> {
        let id = self
            .server
            .hub
            .store(ObjectType::Contacts)
            .lookup(Some("email"), email)?;
        self.contacts().into_iter().find(|c| c.id == id.to_string())
    }

    /// Every record of `object_type` (`contacts`, `companies`, `deals`,
    /// `tickets`, `products`, `line_items`, `pets`, or a type id), sorted by
    /// id; empty for an unknown type.
    pub fn objects(&self, object_type: &str) -> Vec<ObjectSnapshot> {
        ObjectType::parse(object_type, self.server.hub.opts.portal_id)
            .map(|ty| self.server.hub.snapshot(ty))
            .unwrap_or_default()
    }

    /// The associations from `from` to `to` (object names, aliases or type
    /// ids), that direction only, sorted by from id then to id; empty for an
    /// unknown type.
    pub fn associations(&self, from: &str, to: &str) -> Vec<AssociationSnapshot> {
        let portal = self.server.hub.opts.portal_id;
        match (
            ObjectType::parse(from, portal),
            ObjectType::parse(to, portal),
        ) {
            (Some(f), Some(t)) => self.server.hub.association_snapshot(f, t),
            _ => Vec::new(),
        }
    }

    /// A snapshot of the request counters and log.
    pub fn stats(&self) -> Stats {
        let hub = &self.server.hub;
        hub.stats.snapshot(hub.access.daily_used())
    }

    /// Back to the state right after start: no records, built-in property
    /// definitions, zeroed stats, request numbers, rate windows and quota,
    /// tokens un-expired, the fault plan from [`Options`].
    pub fn reset(&self) {
        self.server.hub.reset();
    }

    /// Replaces the fault plan from the next request on. Request numbers keep
    /// counting from where they are (see [`Stats::total_requests`]).
    pub fn set_faults(&self, plan: FaultPlan) {
        *self
            .server
            .hub
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = plan;
    }

    /// Seeds a contact without going through the API (no validation, no
    /// request counted) and returns its id. Read-only properties such as
    /// `hs_additional_emails` may be set this way. If the email already
    /// belongs to a contact, that contact is updated instead.
    pub fn add_contact<K, V>(&self, props: impl IntoIterator<Item = (K, V)>) -> String
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.add_object("contacts", props)
    }

    /// Like [`Emulator::add_contact`] for any object type (see
    /// [`Emulator::objects`]); records are matched on their unique properties.
    ///
    /// # Panics
    /// On an unknown object type.
    pub fn add_object<K, V>(
        &self,
        object_type: &str,
        props: impl IntoIterator<Item = (K, V)>,
    ) -> String
    where
        K: Into<String>,
        V: Into<String>,
    {
        let ty = ObjectType::parse(object_type, self.server.hub.opts.portal_id)
            .unwrap_or_else(|| panic!("unknown object type {object_type:?}"));
        let hub = &self.server.hub;
        let changes: Vec<(String, String)> = props
            .into_iter()
            .map(|(k, v)| {
                let (k, v) = (k.into(), v.into());
                let v = if k == "email" {
                    v.trim().to_ascii_lowercase()
                } else {
                    v
                };
                (k, v)
            })
            .collect();
        let now = clock::now_ms();
        let mut store = hub.store(ty);
        let existing = changes
            .iter()
            .filter(|(k, v)| !v.is_empty() && store.is_unique(k))
            .find_map(|(k, v)| store.owner(k, v));
        let id = match existing {
            Some(id) => {
                store.update(id, &changes, now);
                id
            }
            None => {
                let id = hub.alloc_id();
                store.create(id, &changes, now);
                id
            }
        };
        id.to_string()
    }
}
