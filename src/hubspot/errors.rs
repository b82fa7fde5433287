//! The one failure-decision function: every HubSpot answer (status, headers,
//! body) or transport error becomes an [`Action`]. Senders never branch on
//! status codes themselves. Also the typed reasons a record can be rejected for.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::protocol::FailureType;

/// What HubSpot answered, kept whole for the failure layer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    /// `Retry-After`, in seconds, when sent.
    pub retry_after: Option<u64>,
    pub body: String,
}

impl Answer {
    /// The body parsed as JSON (`Value::Null` when it is not JSON, e.g. HTML).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What to do about one answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// 2xx: the caller reads the results (a 207 lists per-input errors).
    Done,
    /// The request's content was refused (400/409): the batch layer splits
    /// the batch or rejects the input, with this reason.
    Invalid(RejectReason),
    /// The ten-second burst limit: wait (this long, if HubSpot said) and retry;
    /// not a failure.
    Throttled(Option<Duration>),
    /// The daily quota is spent: stop cleanly.
    QuotaExhausted(String),
    /// The token was refused; an OAuth token may be refreshed once.
    Unauthorized(String),
    /// 403: the credential lacks these scopes (empty when HubSpot named
    /// none), with HubSpot's words; the client names the credential.
    Forbidden {
        scopes: Vec<String>,
        message: String,
    },
    /// Transient: retry with backoff.
    Retry(String),
    /// Nothing a retry can fix.
    Fatal(FailureType, String),
}

/// A failure that ends the sync (or a `check`).
#[derive(Debug, Clone, PartialEq)]
pub struct HubSpotError {
    pub failure: FailureType,
    pub message: String,
}

impl HubSpotError {
    pub fn new(failure: FailureType, message: impl Into<String>) -> HubSpotError {
        HubSpotError {
            failure,
            message: message.into(),
        }
    }
}

impl fmt::Display for HubSpotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HubSpotError {}

/// Why a record was not written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// The record has no email field, or it is empty or not a string; the
    /// text names the fields that were looked for.
    NoEmail(String),
    /// The record has no value for its object's matching key (another
    /// property than email, or the record id); the text says where.
    NoMatchingKey(String),
    /// The email is not a valid address (locally or per HubSpot).
    InvalidEmail,
    /// A field is no HubSpot property.
    UnknownProperty(String),
    /// A field names a read-only or calculated property.
    ReadOnlyProperty(String),
    /// An enumeration value is not among the property's options.
    InvalidOption(String),
    /// A value doesn't fit the property's type (number, bool, date…).
    InvalidValue(String),
    /// A value is longer than HubSpot takes for the property's type.
    ValueTooLong(String),
    /// The lifecycle stage could not be applied.
    LifecycleRule(String),
    /// A unique property value already belongs to another contact (409).
    Conflict(String),
    /// An admin of the HubSpot account made `property` required (on the
    /// create form, or by a conditional rule) and the write lacks it;
    /// enforced from API version 2026-09. `why` completes "… is required".
    MissingRequiredProperty { property: String, why: String },
    /// An admin's property validation rule (e.g. letters only) refused a
    /// value: the property and HubSpot's message.
    ValidationRule { property: String, message: String },
    /// Any other validation error from HubSpot, with its message.
    HubSpotValidation(String),
}

impl RejectReason {
    /// A short stable code, for summaries and the rejected-records file.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::NoEmail(_) => "no_email",
            RejectReason::NoMatchingKey(_) => "no_matching_key",
            RejectReason::InvalidEmail => "invalid_email",
            RejectReason::UnknownProperty(_) => "unknown_property",
            RejectReason::ReadOnlyProperty(_) => "read_only_property",
            RejectReason::InvalidOption(_) => "invalid_option",
            RejectReason::InvalidValue(_) => "invalid_value",
            RejectReason::ValueTooLong(_) => "value_too_long",
            RejectReason::LifecycleRule(_) => "lifecycle_rule",
            RejectReason::Conflict(_) => "conflict",
            RejectReason::MissingRequiredProperty { .. } => "missing_required_property",
            RejectReason::ValidationRule { .. } => "validation_rule",
            RejectReason::HubSpotValidation(_) => "hubspot_validation",
        }
    }

    /// The same reason with its detail text passed through `f` (which
    /// masks record values in it); property names are kept.
    pub fn map_detail(&self, f: impl Fn(&str) -> String) -> RejectReason {
        use RejectReason as R;
        match self {
            R::NoEmail(d) => R::NoEmail(f(d)),
            R::NoMatchingKey(d) => R::NoMatchingKey(d.clone()),
            R::InvalidEmail => R::InvalidEmail,
            R::UnknownProperty(p) => R::UnknownProperty(p.clone()),
            R::ReadOnlyProperty(p) => R::ReadOnlyProperty(p.clone()),
            R::InvalidOption(d) => R::InvalidOption(keep_property(d, f)),
            R::InvalidValue(d) => R::InvalidValue(keep_property(d, f)),
            R::ValueTooLong(d) => R::ValueTooLong(keep_property(d, f)),
            R::LifecycleRule(d) => R::LifecycleRule(f(d)),
            R::Conflict(d) => R::Conflict(f(d)),
            R::MissingRequiredProperty { property, why } => R::MissingRequiredProperty {
                property: property.clone(),
                why: why.clone(),
            },
            R::ValidationRule { property, message } => R::ValidationRule {
                property: property.clone(),
                message: f(message),
            },
            R::HubSpotValidation(d) => R::HubSpotValidation(f(d)),
        }
    }

    /// The property a rejection is about, when it is about one: the name
    /// of an unknown or read-only property, or the `name: …` that opens the
    /// detail of a value problem (the form every such reason is built in).
    pub fn property(&self) -> Option<&str> {
        match self {
            RejectReason::UnknownProperty(p)
            | RejectReason::ReadOnlyProperty(p)
            | RejectReason::MissingRequiredProperty { property: p, .. }
            | RejectReason::ValidationRule { property: p, .. } => Some(p),
            RejectReason::InvalidOption(d)
            | RejectReason::InvalidValue(d)
            | RejectReason::ValueTooLong(d) => d
                .split_once(": ")
                .map(|(name, _)| name)
                .filter(|name| !name.is_empty() && !name.contains(char::is_whitespace)),
            _ => None,
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::NoEmail(d) => write!(f, "no usable email: {d}"),
            RejectReason::NoMatchingKey(d) => write!(f, "no matching key: {d}"),
            RejectReason::InvalidEmail => f.write_str("invalid email address"),
            RejectReason::UnknownProperty(p) => write!(f, "unknown property `{p}`"),
            RejectReason::ReadOnlyProperty(p) => write!(f, "read-only property `{p}`"),
            RejectReason::InvalidOption(d) => write!(f, "invalid option: {d}"),
            RejectReason::InvalidValue(d) => write!(f, "invalid value: {d}"),
            RejectReason::ValueTooLong(d) => write!(f, "value too long: {d}"),
            RejectReason::LifecycleRule(d) => write!(f, "lifecycle stage: {d}"),
            RejectReason::Conflict(m) => write!(f, "conflict with another record: {m}"),
            RejectReason::MissingRequiredProperty { property, why } => write!(
                f,
                "HubSpot account rule: {property} is required {why} (set in HubSpot by an admin)"
            ),
            RejectReason::ValidationRule { property, message } => write!(
                f,
                "HubSpot account rule: {property}: {message} (a property validation rule set in HubSpot by an admin)"
            ),
            RejectReason::HubSpotValidation(m) => write!(f, "HubSpot validation error: {m}"),
        }
    }
}

/// `name: detail` with only the detail passed through `f`.
fn keep_property(text: &str, f: impl Fn(&str) -> String) -> String {
    match text.split_once(": ") {
        Some((name, detail)) => format!("{name}: {}", f(detail)),
        None => f(text),
    }
}

/// One property-level problem named in a HubSpot 400 message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PropertyProblem {
    /// The property's name.
    pub name: String,
    /// HubSpot's error code (INVALID_EMAIL, PROPERTY_DOESNT_EXIST, …).
    pub code: String,
    /// HubSpot's message, which often quotes the bad value.
    pub message: String,
}

impl PropertyProblem {
    /// The typed reason for an input this problem belongs to.
    pub fn reason(&self) -> RejectReason {
        match self.code.as_str() {
            "INVALID_EMAIL" => RejectReason::InvalidEmail,
            "PROPERTY_DOESNT_EXIST" => RejectReason::UnknownProperty(self.name.clone()),
            "READ_ONLY_VALUE" => RejectReason::ReadOnlyProperty(self.name.clone()),
            "INVALID_OPTION" => {
                RejectReason::InvalidOption(format!("{}: {}", self.name, self.message))
            }
            code if ADMIN_RULE_CODES.contains(&code) => RejectReason::ValidationRule {
                property: self.name.clone(),
                message: self.message.clone(),
            },
            _ => RejectReason::InvalidValue(format!("{}: {}", self.name, self.message)),
        }
    }
}

/// Codes of "Property values were not valid" details that come from an
/// admin's property validation rule rather than from the property's type.
/// HubSpot has shown INVALID_ALPHA ("Enter only letters"); other rule codes
/// read as `invalid_value`, which still names the property and the message.
const ADMIN_RULE_CODES: &[&str] = &["INVALID_ALPHA"];

/// One admin write rule a 2026-09 write broke (HubSpot's `errors[]` entry
/// with code `MISSING_REQUIRED_PROPERTY` or
/// `MISSING_CONDITIONAL_REQUIRED_PROPERTY`), for one property.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleViolation {
    /// The property that needs a value.
    pub property: String,
    /// A conditional rule (required because another property has some
    /// value) rather than required on the create form.
    pub conditional: bool,
    /// HubSpot's message.
    pub message: String,
}

impl RuleViolation {
    /// The typed reason for an input that broke this rule.
    pub fn reason(&self) -> RejectReason {
        let needle = format!("{} is required ", self.property);
        let why = if !self.conditional {
            "when creating a contact".to_string()
        } else if let Some(at) = self.message.find(&needle) {
            truncate(&self.message[at + needle.len()..], 200)
        } else {
            "by a conditional property rule".to_string()
        };
        RejectReason::MissingRequiredProperty {
            property: self.property.clone(),
            why,
        }
    }
}

/// HubSpot gives some fields as one string or a list of them (ids,
/// property names, trace ids): their strings, numbers as text.
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The admin write rules a 400 body, or one 207 error entry, reports:
/// `errors[].code` with the property names in `errors[].context.propertyName`
/// (a list, or a single name), else in the body's `context.propertyName`.
pub(crate) fn rule_violations(body: &Value) -> Vec<RuleViolation> {
    let names = strings;
    let mut out = Vec::new();
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let conditional = match e.get("code").and_then(Value::as_str) {
            Some("MISSING_REQUIRED_PROPERTY") => false,
            Some("MISSING_CONDITIONAL_REQUIRED_PROPERTY") => true,
            _ => continue,
        };
        let mut properties = names(e.pointer("/context/propertyName"));
        if properties.is_empty() {
            properties = names(body.pointer("/context/propertyName"));
        }
        let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
        for property in properties {
            if !out.iter().any(|v: &RuleViolation| v.property == property) {
                out.push(RuleViolation {
                    property,
                    conditional,
                    message: truncate(message, 300),
                });
            }
        }
    }
    out
}

/// The per-property details HubSpot embeds as a JSON array inside the
/// message string of a validation 400: "Property values were not valid: [...]".
pub(crate) fn property_problems(message: &str) -> Vec<PropertyProblem> {
    let Some(start) = message.find('[') else {
        return Vec::new();
    };
    let Some(end) = message.rfind(']') else {
        return Vec::new();
    };
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&message[start..=end]) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            Some(PropertyProblem {
                name: item.get("name")?.as_str()?.to_string(),
                code: item
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("INVALID_VALUE")
                    .to_string(),
                message: item
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
        })
        .collect()
}

/// The reason a 400/409 body gives, for a batch narrowed to one input (or
/// one 207 error entry): an admin rule, else the first property problem,
/// else HubSpot's message.
pub(crate) fn reason_from_body(body: &Value) -> RejectReason {
    if let Some(rule) = rule_violations(body).first() {
        return rule.reason();
    }
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("validation error without a message");
    match property_problems(message).first() {
        Some(p) => p.reason(),
        None => RejectReason::HubSpotValidation(truncate(message, 300)),
    }
}

/// Maps one answer to an action. `transport` is set when no answer came.
pub(crate) fn decide(answer: Result<&Answer, &str>) -> Action {
    let answer = match answer {
        Ok(a) => a,
        Err(transport) => return Action::Retry(format!("no answer from HubSpot: {transport}")),
    };
    let body = answer.json();
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(|m| truncate(m, 300))
        .unwrap_or_default();
    match answer.status {
        200..=299 => Action::Done,
        400 | 409 | 422 => Action::Invalid(reason_from_body(&body)),
        // The body was too large for HubSpot (or a proxy before it): like a
        // 400 naming no input, the batch is resent in halves, and a single
        // contact too large on its own is rejected.
        413 => Action::Invalid(RejectReason::HubSpotValidation(
            "HubSpot refused the request as too large (413)".into(),
        )),
        401 => Action::Unauthorized(if message.is_empty() {
            "authentication failed".into()
        } else {
            message
        }),
        403 => Action::Forbidden {
            scopes: missing_scopes(&body),
            message: format!("403 {}: {message}", category(&body)),
        },
        404 => Action::Fatal(
            FailureType::Config,
            "HubSpot answered 404 for an API path: check `base_url` (it should be https://api.hubapi.com) and `api_version`".into(),
        ),
        429 => {
            if body.get("policyName").and_then(Value::as_str) == Some("DAILY") {
                Action::QuotaExhausted(message)
            } else {
                Action::Throttled(answer.retry_after.map(Duration::from_secs))
            }
        }
        408 | 423 | 500..=599 => Action::Retry(format!(
            "HubSpot answered {}{}",
            answer.status,
            if message.is_empty() { String::new() } else { format!(": {message}") }
        )),
        status => Action::Fatal(
            FailureType::System,
            format!("unexpected HubSpot answer {status}: {message}"),
        ),
    }
}

fn category(body: &Value) -> &str {
    body.get("category").and_then(Value::as_str).unwrap_or("")
}

/// The scope names a 403 MISSING_SCOPES body lists.
fn missing_scopes(body: &Value) -> Vec<String> {
    let mut scopes = Vec::new();
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for key in ["requiredGranularScopes", "requiredScopes"] {
            for s in e
                .pointer(&format!("/context/{key}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(s) = s.as_str() {
                    if !scopes.iter().any(|x| x == s) {
                        scopes.push(s.to_string());
                    }
                }
            }
        }
    }
    scopes
}

/// Cuts a message to `max` characters on a char boundary.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.into(),
        }
    }

    #[test]
    fn success_and_multi_status_are_done() {
        assert_eq!(decide(Ok(&answer(200, "{}"))), Action::Done);
        assert_eq!(decide(Ok(&answer(207, r#"{"errors":[]}"#))), Action::Done);
    }

    #[test]
    fn a_too_large_request_is_narrowed_like_a_400() {
        let Action::Invalid(reason) =
            decide(Ok(&answer(413, "<html>Request Entity Too Large</html>")))
        else {
            panic!("413 must be narrowed, not fatal or retried");
        };
        assert!(reason.to_string().contains("too large (413)"), "{reason}");
    }

    #[test]
    fn invalid_email_400_is_typed() {
        let body = r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Email address bcooper@example.con is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]","correlationId":"x","category":"VALIDATION_ERROR"}"#;
        assert_eq!(
            decide(Ok(&answer(400, body))),
            Action::Invalid(RejectReason::InvalidEmail)
        );
    }

    #[test]
    fn unknown_property_400_names_it() {
        let body = r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"shoe\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"shoe\"}]","category":"VALIDATION_ERROR"}"#;
        assert_eq!(
            decide(Ok(&answer(400, body))),
            Action::Invalid(RejectReason::UnknownProperty("shoe".into()))
        );
    }

    #[test]
    fn malformed_json_400_without_category_is_a_validation_reason() {
        let a = decide(Ok(&answer(
            400,
            r#"{"status":"error","message":"Invalid input JSON on line 3, column 9: x"}"#,
        )));
        assert!(
            matches!(a, Action::Invalid(RejectReason::HubSpotValidation(m)) if m.contains("line 3"))
        );
    }

    #[test]
    fn conflict_409_is_invalid() {
        let a = decide(Ok(&answer(
            409,
            r#"{"status":"error","message":"Contact already exists. Existing ID: 37765128953","category":"CONFLICT"}"#,
        )));
        assert!(
            matches!(a, Action::Invalid(RejectReason::HubSpotValidation(m)) if m.contains("37765128953"))
        );
    }

    #[test]
    fn missing_scopes_403_names_them() {
        let body = r#"{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","category":"MISSING_SCOPES","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.contacts.write"]}}]}"#;
        match decide(Ok(&answer(403, body))) {
            Action::Forbidden { scopes, message } => {
                assert_eq!(scopes, ["crm.objects.contacts.write"]);
                assert!(message.contains("MISSING_SCOPES"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// HubSpot's 2026-09 answer to an upsert creating a contact without a
    /// property the account's create form requires.
    const MISSING_FIRSTNAME: &str = r#"{"status":"error","category":"VALIDATION_ERROR","message":"The property values provided are invalid","errors":[{"code":"MISSING_REQUIRED_PROPERTY","message":"A value for firstname must be provided","context":{"propertyName":["firstname"]}}]}"#;

    #[test]
    fn a_missing_required_property_is_an_admin_rule_naming_it() {
        let Action::Invalid(reason) = decide(Ok(&answer(400, MISSING_FIRSTNAME))) else {
            panic!("a validation error is the batch layer's to narrow");
        };
        assert_eq!(reason.code(), "missing_required_property");
        assert_eq!(
            reason.to_string(),
            "HubSpot account rule: firstname is required when creating a contact (set in HubSpot by an admin)"
        );
    }

    #[test]
    fn a_conditional_rule_keeps_hubspots_condition() {
        let body = r#"{"status":"error","category":"VALIDATION_ERROR","message":"The property values provided are invalid","context":{"propertyName":["state"]},"errors":[{"code":"MISSING_CONDITIONAL_REQUIRED_PROPERTY","message":"state is required because of a conditional property rule based on [country]"}]}"#;
        let v = rule_violations(&serde_json::from_str(body).unwrap());
        assert_eq!(v.len(), 1);
        assert!(v[0].conditional);
        assert_eq!(
            v[0].reason().to_string(),
            "HubSpot account rule: state is required because of a conditional property rule based on [country] (set in HubSpot by an admin)"
        );
    }

    #[test]
    fn rule_violations_list_every_property_once() {
        let body = serde_json::json!({"errors": [
            {"code": "MISSING_REQUIRED_PROPERTY", "context": {"propertyName": ["firstname", "lastname"]}},
            {"code": "MISSING_REQUIRED_PROPERTY", "context": {"propertyName": "firstname"}},
            {"code": "INVALID_EMAIL", "context": {"propertyName": ["email"]}}
        ]});
        let names: Vec<String> = rule_violations(&body)
            .into_iter()
            .map(|v| v.property)
            .collect();
        assert_eq!(names, ["firstname", "lastname"]);
        assert!(rule_violations(&serde_json::json!({"message": "x"})).is_empty());
    }

    #[test]
    fn a_letters_only_rule_is_a_validation_rule() {
        let body = r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Enter only letters\",\"error\":\"INVALID_ALPHA\",\"name\":\"firstname\"}]","category":"VALIDATION_ERROR"}"#;
        let Action::Invalid(reason) = decide(Ok(&answer(400, body))) else {
            panic!("not narrowed");
        };
        assert_eq!(
            reason,
            RejectReason::ValidationRule {
                property: "firstname".into(),
                message: "Enter only letters".into()
            }
        );
        assert!(reason.to_string().contains("set in HubSpot by an admin"));
    }

    #[test]
    fn burst_429_is_throttled_and_daily_429_stops() {
        let burst = r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}"#;
        assert_eq!(decide(Ok(&answer(429, burst))), Action::Throttled(None));
        let mut with_after = answer(429, burst);
        with_after.retry_after = Some(3);
        assert_eq!(
            decide(Ok(&with_after)),
            Action::Throttled(Some(Duration::from_secs(3)))
        );
        let daily = r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#;
        assert!(matches!(
            decide(Ok(&answer(429, daily))),
            Action::QuotaExhausted(_)
        ));
    }

    #[test]
    fn server_errors_html_and_transport_errors_retry() {
        for status in [500, 502, 503, 504, 423] {
            assert!(matches!(
                decide(Ok(&answer(status, "<html>bad gateway</html>"))),
                Action::Retry(_)
            ));
        }
        assert!(matches!(decide(Err("connection reset")), Action::Retry(_)));
    }

    #[test]
    fn unauthorized_is_its_own_action() {
        let a = decide(Ok(&answer(
            401,
            r#"{"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"}"#,
        )));
        assert!(matches!(a, Action::Unauthorized(m) if m.contains("credentials not found")));
    }

    #[test]
    fn a_reason_names_its_property() {
        let cases = [
            (
                RejectReason::InvalidValue("vip: `x` is not a boolean".into()),
                Some("vip"),
            ),
            (
                RejectReason::InvalidOption("tags: x was not one".into()),
                Some("tags"),
            ),
            (
                RejectReason::ValueTooLong("notes: 70000 characters".into()),
                Some("notes"),
            ),
            (
                RejectReason::ReadOnlyProperty("createdate".into()),
                Some("createdate"),
            ),
            (RejectReason::InvalidValue("no property here".into()), None),
            (RejectReason::InvalidEmail, None),
            (
                RejectReason::HubSpotValidation("VALIDATION_ERROR: x".into()),
                None,
            ),
        ];
        for (reason, property) in cases {
            assert_eq!(reason.property(), property, "{reason}");
        }
        let masked = RejectReason::InvalidValue("vip: secret".into()).map_detail(|_| "***".into());
        assert_eq!(masked, RejectReason::InvalidValue("vip: ***".into()));
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("ééé", 2), "éé…");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
