//! Everything a caller can configure about an emulator run, with HubSpot-like
//! defaults in one place. Plain data only: the server reads these values, it
//! never writes back into them.

pub use crate::fault::{Fault, FaultPlan};
use std::str::FromStr;

/// Scopes a default private-app token carries: read and write on every
/// object type (`custom` for the custom object), plus schema read on each.
pub const DEFAULT_SCOPES: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.tickets.read",
    "crm.objects.tickets.write",
    "crm.objects.products.read",
    "crm.objects.products.write",
    "crm.objects.line_items.read",
    "crm.objects.line_items.write",
    "crm.objects.custom.read",
    "crm.objects.custom.write",
    "crm.schemas.contacts.read",
    "crm.schemas.companies.read",
    "crm.schemas.deals.read",
    "crm.schemas.tickets.read",
    "crm.schemas.products.read",
    "crm.schemas.line_items.read",
    "crm.schemas.custom.read",
];

/// The token a default [`Options`] accepts.
pub const DEFAULT_TOKEN: &str = "pat-local-demo";

/// The eight standard lifecycle stages, in HubSpot's order.
pub const STANDARD_LIFECYCLE_STAGES: &[&str] = &[
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
];

/// How one emulator instance behaves. Build it with `Options::default()` and
/// override the public fields you care about.
#[derive(Debug, Clone)]
pub struct Options {
    /// Private-app tokens the account accepts.
    pub tokens: Vec<TokenSpec>,
    /// Per-token rolling burst limit; `None` disables it (headers still show
    /// a large maximum so clients that read them keep working).
    pub rate_limit: Option<RateLimit>,
    /// Requests per day for the whole account, shared by all private-app
    /// tokens. Every authenticated HubSpot-namespace request counts.
    pub daily_limit: u64,
    /// Added to every HubSpot-namespace request before it is answered.
    pub latency: Latency,
    /// Seeds latency jitter, random faults and correlation ids. Decisions are
    /// a function of (seed, request number), so a run is reproducible no
    /// matter how threads interleave.
    pub seed: u64,
    /// Faults to inject, by request number or at random.
    pub faults: FaultPlan,
    /// What a batch upsert by `email` does when some inputs are invalid.
    pub email_upsert_mode: EmailUpsertMode,
    /// What a backward `lifecyclestage` write (without clearing first) does.
    pub backward_lifecycle: BackwardLifecycle,
    /// Lifecycle stage ids in stage order. Custom (e.g. numeric) ids may be
    /// placed anywhere; their label is the id itself.
    pub lifecycle_stages: Vec<String>,
    /// OAuth apps whose refresh tokens `POST /oauth/v1/token` accepts.
    pub oauth_clients: Vec<OAuthClient>,
    /// Hub id reported by `GET /account-info/v3/details`.
    pub portal_id: u64,
    /// Whether the legacy path families (`/crm/v3/…`, `/account-info/v3/…`,
    /// `/oauth/v1/token`) still answer, or 404 as after HubSpot's sunset.
    /// The date-based families (`/crm/objects/2026-09/…`) always answer.
    pub legacy_paths: LegacyPaths,
    /// Properties a record must have a non-empty value for when a write on
    /// a `2026-09` path creates it (HubSpot's *Create record* form
    /// requirements). Updates are not checked. Applies to every object type
    /// that defines the property.
    pub required_on_create: Vec<String>,
    /// Conditionally required properties, checked on `2026-09` writes
    /// against the resulting record (creates and updates).
    pub conditional_required: Vec<ConditionalRule>,
    /// How a `2026-09` batch answers inputs that break the two rules above.
    pub validation_error_mode: ValidationErrorMode,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tokens: vec![TokenSpec::new(DEFAULT_TOKEN)],
            rate_limit: Some(RateLimit::default()),
            daily_limit: 1_000_000,
            latency: Latency::default(),
            seed: 0,
            faults: FaultPlan::default(),
            email_upsert_mode: EmailUpsertMode::default(),
            backward_lifecycle: BackwardLifecycle::default(),
            lifecycle_stages: STANDARD_LIFECYCLE_STAGES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            oauth_clients: Vec::new(),
            portal_id: 12_345_678,
            legacy_paths: LegacyPaths::default(),
            required_on_create: Vec::new(),
            conditional_required: Vec::new(),
            validation_error_mode: ValidationErrorMode::default(),
        }
    }
}

/// One private-app token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// The bearer token text.
    pub token: String,
    /// Granted scopes, e.g. `crm.objects.contacts.write`.
    pub scopes: Vec<String>,
    /// After this many authenticated requests the token answers 401
    /// `EXPIRED_AUTHENTICATION`.
    pub expires_after_requests: Option<u64>,
}

impl TokenSpec {
    /// A token with [`DEFAULT_SCOPES`] that never expires.
    pub fn new(token: impl Into<String>) -> Self {
        TokenSpec {
            token: token.into(),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            expires_after_requests: None,
        }
    }

    /// The same token with exactly these scopes.
    pub fn with_scopes<S: AsRef<str>>(mut self, scopes: &[S]) -> Self {
        self.scopes = scopes.iter().map(|s| s.as_ref().to_string()).collect();
        self
    }
}

/// An OAuth app able to refresh access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// `client_id` form field.
    pub client_id: String,
    /// `client_secret` form field.
    pub client_secret: String,
    /// The refresh token this app accepts (it is returned unchanged).
    pub refresh_token: String,
    /// Scopes given to each minted access token.
    pub scopes: Vec<String>,
    /// Minted access tokens expire after this many requests.
    pub access_token_requests: Option<u64>,
    /// `expires_in` reported, and the wall-clock lifetime of a minted token.
    pub expires_in_secs: u64,
}

impl FromStr for OAuthClient {
    type Err = String;

    /// Parses `ID:SECRET:REFRESH_TOKEN` into an app with the defaults of
    /// [`OAuthClient::new`]; the refresh token may itself contain `:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.splitn(3, ':').collect();
        match parts[..] {
            [id, secret, refresh] => Ok(OAuthClient::new(id, secret, refresh)),
            _ => Err(format!("expected ID:SECRET:REFRESH_TOKEN, got {s:?}")),
        }
    }
}

impl OAuthClient {
    /// An app with [`DEFAULT_SCOPES`] and HubSpot's 30-minute token lifetime.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Self {
        OAuthClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            access_token_requests: None,
            expires_in_secs: 1800,
        }
    }
}

/// A rolling-window burst limit, per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in any window.
    pub max: u64,
    /// Window length in milliseconds.
    pub interval_ms: u64,
}

impl FromStr for RateLimit {
    type Err = String;

    /// Parses `MAX/MS`, e.g. `190/10000`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (max, ms) = s
            .split_once('/')
            .ok_or_else(|| format!("expected MAX/MS, got {s:?}"))?;
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("{t:?} is not a number in {s:?}"))
        };
        Ok(RateLimit {
            max: num(max)?,
            interval_ms: num(ms)?,
        })
    }
}

impl Default for RateLimit {
    /// HubSpot's Professional/Enterprise burst limit: 190 per 10 s.
    fn default() -> Self {
        RateLimit {
            max: 190,
            interval_ms: 10_000,
        }
    }
}

/// Artificial response latency: `fixed_ms` plus a seeded uniform draw from
/// `0..=jitter_ms`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    /// Always added.
    pub fixed_ms: u64,
    /// Upper bound of the random extra.
    pub jitter_ms: u64,
}

/// What a batch upsert with `idProperty=email` does when an input is invalid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmailUpsertMode {
    /// The whole batch fails with one 400 whose message embeds the invalid
    /// input's per-property details (HubSpot: "partial upserts are not
    /// supported when using email as the idProperty").
    #[default]
    WholeBatch,
    /// Valid inputs are written; the answer is 207 with one error per invalid
    /// input, identified by its `objectWriteTraceId`.
    MultiStatus,
}

impl FromStr for EmailUpsertMode {
    type Err = String;

    /// Parses `whole-batch` or `multi-status`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "whole-batch" => Ok(EmailUpsertMode::WholeBatch),
            "multi-status" => Ok(EmailUpsertMode::MultiStatus),
            _ => Err(format!("unknown mode {s:?} (whole-batch | multi-status)")),
        }
    }
}

/// What a `lifecyclestage` write that moves backwards does when the contact
/// was not cleared first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackwardLifecycle {
    /// Accepted with a success status; the stage stays where it was.
    #[default]
    Ignore,
    /// The stage moves backwards.
    Apply,
    /// The input fails with a validation error.
    Reject,
}

impl FromStr for BackwardLifecycle {
    type Err = String;

    /// Parses `ignore`, `apply` or `reject`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ignore" => Ok(BackwardLifecycle::Ignore),
            "apply" => Ok(BackwardLifecycle::Apply),
            "reject" => Ok(BackwardLifecycle::Reject),
            _ => Err(format!("unknown mode {s:?} (ignore | apply | reject)")),
        }
    }
}

/// Whether the legacy path families still answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LegacyPaths {
    /// Legacy and date-based paths answer alike (HubSpot until 2027).
    #[default]
    Served,
    /// Every legacy path answers 404, as an unknown path does (HubSpot after
    /// the sunset of v1 OAuth in February 2027 and of `/crm/v3` in
    /// September 2027).
    Gone,
}

impl FromStr for LegacyPaths {
    type Err = String;

    /// Parses `served` or `gone`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "served" => Ok(LegacyPaths::Served),
            "gone" => Ok(LegacyPaths::Gone),
            _ => Err(format!("unknown setting {s:?} (served | gone)")),
        }
    }
}

/// "`property` is required when `if_property` is `equals`": an admin's
/// conditional property rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalRule {
    /// The property that needs a value, e.g. `state`.
    pub property: String,
    /// The property whose value triggers the rule, e.g. `country`.
    pub if_property: String,
    /// The triggering value, compared exactly, e.g. `United States`.
    pub equals: String,
}

impl ConditionalRule {
    /// `property` is required when `if_property` equals `equals`.
    pub fn new(
        property: impl Into<String>,
        if_property: impl Into<String>,
        equals: impl Into<String>,
    ) -> Self {
        ConditionalRule {
            property: property.into(),
            if_property: if_property.into(),
            equals: equals.into(),
        }
    }
}

impl FromStr for ConditionalRule {
    type Err = String;

    /// Parses `PROP:IF_PROP=VALUE`, e.g. `state:country=United States`; the
    /// value is everything after the first `=`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = s.split_once(':').and_then(|(p, rest)| {
            let (if_p, value) = rest.split_once('=')?;
            let (p, if_p) = (p.trim(), if_p.trim());
            (!p.is_empty() && !if_p.is_empty()).then(|| ConditionalRule::new(p, if_p, value))
        });
        parsed.ok_or_else(|| format!("expected PROP:IF_PROP=VALUE, got {s:?}"))
    }
}

/// How a `2026-09` batch answers inputs that break an admin write rule.
/// HubSpot does not document which it does; a client should handle both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValidationErrorMode {
    /// The whole batch fails with one 400 `VALIDATION_ERROR` naming the first
    /// violating input; nothing from the batch is written.
    #[default]
    WholeBatch,
    /// Valid inputs are written; the answer is 207 with one error per
    /// violating input.
    MultiStatus,
}

impl FromStr for ValidationErrorMode {
    type Err = String;

    /// Parses `whole-batch` or `multi-status`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "whole-batch" => Ok(ValidationErrorMode::WholeBatch),
            "multi-status" => Ok(ValidationErrorMode::MultiStatus),
            _ => Err(format!("unknown mode {s:?} (whole-batch | multi-status)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_rules_parse_prop_if_prop_value() {
        let r: ConditionalRule = "state:country=United States".parse().unwrap();
        assert_eq!(r, ConditionalRule::new("state", "country", "United States"));
        let r: ConditionalRule = "a:b=x=y".parse().unwrap();
        assert_eq!(r.equals, "x=y");
        for bad in ["state", "state:country", ":country=US", "state:=US"] {
            assert!(bad.parse::<ConditionalRule>().is_err(), "{bad}");
        }
    }
}
