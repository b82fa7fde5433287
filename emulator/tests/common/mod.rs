//! A small HTTP client for the test files that call the emulator through
//! more than one path family: JSON in, (status, JSON) out, never an error
//! for a 4xx/5xx.

#![allow(dead_code)]

use hubspot_emulator::{Emulator, Options};
use serde_json::Value;
use std::time::Duration;

pub const TOKEN: &str = "pat-local-demo";

/// Where each family puts its APIs: `/crm/v3/objects` or
/// `/crm/objects/2026-09`, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family(pub Option<&'static str>);

pub const LEGACY: Family = Family(None);
pub const V2026_03: Family = Family(Some("2026-03"));
pub const V2026_09: Family = Family(Some("2026-09"));
pub const ALL: [Family; 3] = [LEGACY, V2026_03, V2026_09];

impl Family {
    /// `/crm/v3/objects/{ty}` or `/crm/objects/VER/{ty}`.
    pub fn objects(self, ty: &str) -> String {
        match self.0 {
            None => format!("/crm/v3/objects/{ty}"),
            Some(v) => format!("/crm/objects/{v}/{ty}"),
        }
    }

    /// `/crm/v3/properties/{ty}` or `/crm/properties/VER/{ty}`.
    pub fn properties(self, ty: &str) -> String {
        match self.0 {
            None => format!("/crm/v3/properties/{ty}"),
            Some(v) => format!("/crm/properties/{v}/{ty}"),
        }
    }

    /// `/account-info/v3` or `/account-info/VER`.
    pub fn account_info(self) -> String {
        format!("/account-info/{}", self.0.unwrap_or("v3"))
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// A client bound to one emulator and token.
pub struct Client {
    agent: ureq::Agent,
    pub base: String,
    token: Option<String>,
}

pub fn start(opts: Options) -> Emulator {
    Emulator::start(opts).expect("emulator starts")
}

impl Client {
    pub fn new(emu: &Emulator) -> Self {
        Client::with_token(emu, Some(TOKEN))
    }

    pub fn with_token(emu: &Emulator, token: Option<&str>) -> Self {
        Client {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(20)))
                .build()
                .into(),
            base: emu.base_url(),
            token: token.map(str::to_string),
        }
    }

    fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut r = r.expect("request failed");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// `method` `path` with an optional JSON body.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let sent = match body {
            Some(b) => self
                .agent
                .run(req.body(b.to_string()).expect("valid request")),
            None => self.agent.run(req.body(()).expect("valid request")),
        };
        Self::answer(sent)
    }

    pub fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(body))
    }

    /// A form POST without auth, as the OAuth token endpoint takes it.
    pub fn form(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let url = format!("{}{path}", self.base);
        Self::answer(self.agent.post(url).send_form(pairs.iter().copied()))
    }
}
