//! The HTTP side of HubSpot: one `ureq` agent built once from the config
//! (timeouts on every call, 4xx/5xx returned as answers, not errors), bearer
//! auth with OAuth refresh, and the call loop that applies the governor and
//! the retry policy to whatever [`decide`] says.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api::{ApiVersion, OAUTH_TOKEN_PATH};
use super::errors::{decide, truncate, Action, Answer, HubSpotError, RejectReason};
use super::governor::{Governor, RateHeaders, Refusal};
use super::retry::RetryPolicy;
use crate::config::{Auth, Config, Secret};
use crate::protocol::FailureType;

/// 401s one call may answer with a fresh OAuth token before giving up (a
/// token other workers refreshed meanwhile counts too).
const MAX_AUTH_RETRIES: u32 = 3;

/// The result of a call HubSpot answered without a failure the call loop
/// handles itself.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A 2xx answer (a 207 still lists per-input errors in its body).
    Done(Answer),
    /// HubSpot refused the request's content (400/409): the caller decides.
    Invalid(Answer, RejectReason),
}

/// A HubSpot API client shared by all workers.
pub struct Client {
    agent: ureq::Agent,
    base_url: String,
    api: ApiVersion,
    auth: Auth,
    /// The bearer token in use (for OAuth: the latest refreshed one).
    token: RwLock<Option<Secret>>,
    pub governor: Governor,
    retry: RetryPolicy,
    calls: AtomicU64,
}

impl Client {
    /// A client with its own governor.
    pub fn new(config: &Config) -> Client {
        Client::with_governor(config, Governor::new(config.daily_quota_reserve))
    }

    /// A client using the given governor (the benchmark's baseline passes an
    /// unlimited one).
    pub fn with_governor(config: &Config, governor: Governor) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.request_timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(config.request_timeout))
            .user_agent(concat!("destination-hubspot/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(config.workers.max(1) * 2)
            .build()
            .into();
        let token = match &config.auth {
            Auth::PrivateApp { access_token } => Some(access_token.clone()),
            Auth::OAuth { .. } => None,
        };
        Client {
            agent,
            base_url: config.base_url.clone(),
            api: config.api_version,
            auth: config.auth.clone(),
            token: RwLock::new(token),
            governor,
            retry: RetryPolicy {
                max_retries: config.max_retries,
                max_total: config.retry_max,
                initial_delay: config.retry_initial_delay,
                max_delay: Duration::from_secs(60).max(config.retry_initial_delay),
            },
            calls: AtomicU64::new(0),
        }
    }

    /// The API version this client calls, which builds every path.
    pub fn paths(&self) -> ApiVersion {
        self.api
    }

    /// The credential in use, as messages name it.
    fn credential(&self) -> &'static str {
        match self.auth {
            Auth::PrivateApp { .. } => "service key or private app token",
            Auth::OAuth { .. } => "OAuth access token",
        }
    }

    /// GET `path` (relative to the base URL, with its query).
    pub(crate) fn get(&self, path: &str) -> Result<Outcome, HubSpotError> {
        self.call("GET", path, None)
    }

    /// POST a JSON body to `path`.
    pub(crate) fn post(&self, path: &str, body: &[u8]) -> Result<Outcome, HubSpotError> {
        self.call("POST", path, Some(body))
    }

    /// One logical call: governor, send, decide, and retry/refresh/wait as
    /// the decision says, until the answer is final.
    fn call(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Outcome, HubSpotError> {
        let started = Instant::now();
        let mut retries = 0u32;
        let mut auth_retries = 0u32;
        let seed = self.calls.fetch_add(1, Ordering::Relaxed);
        loop {
            let token = self.bearer()?;
            let permit = self.governor.acquire().map_err(|r| self.quota_error(r))?;
            let result = self.send(method, path, body, &token);
            let (headers, answer) = match result {
                Ok((h, a)) => (h, Ok(a)),
                Err(Unsent::Transport(e)) => (RateHeaders::default(), Err(e)),
                Err(Unsent::Unsendable(e)) => {
                    self.governor.release(permit, &RateHeaders::default(), None);
                    return Err(e);
                }
            };
            let action = decide(answer.as_ref().map_err(String::as_str));
            let throttle = match &action {
                Action::Throttled(after) => Some(
                    after.unwrap_or_else(|| self.governor.throttle_wait(self.retry.initial_delay)),
                ),
                _ => None,
            };
            self.governor.release(permit, &headers, throttle);
            match action {
                Action::Done => return Ok(Outcome::Done(answer.expect("decided on an answer"))),
                Action::Invalid(reason) => {
                    return Ok(Outcome::Invalid(answer.expect("decided on an answer"), reason))
                }
                Action::Throttled(_) => {
                    // Not a failure, but a storm that never ends must not hang the sync.
                    if started.elapsed() > self.retry.max_total {
                        return Err(HubSpotError::new(
                            FailureType::Transient,
                            format!("HubSpot kept answering 429 (rate limited) for {}s", started.elapsed().as_secs()),
                        ));
                    }
                    // The governor holds every worker until the pause ends.
                }
                Action::QuotaExhausted(message) => {
                    return Err(HubSpotError::new(
                        FailureType::Transient,
                        format!("HubSpot's daily API quota is used up ({message}); it resets at midnight in the account's time zone: run the sync again after that"),
                    ))
                }
                Action::Unauthorized(message) => {
                    if matches!(self.auth, Auth::OAuth { .. }) && auth_retries < MAX_AUTH_RETRIES {
                        auth_retries += 1;
                        // Drop the token only if no other worker has replaced
                        // it already; the next loop refreshes once for all.
                        let mut slot = self.token.write().unwrap_or_else(|e| e.into_inner());
                        if slot.as_ref().is_some_and(|t| t.expose() == token.expose()) {
                            *slot = None;
                        }
                        continue;
                    }
                    return Err(self.unauthorized(&message));
                }
                Action::Forbidden { scopes, message } => {
                    return Err(self.forbidden(&scopes, &message))
                }
                Action::Retry(why) => {
                    retries += 1;
                    let delay = self.retry.delay(retries, seed);
                    if !self.retry.allows(retries, started, delay) {
                        return Err(HubSpotError::new(
                            FailureType::Transient,
                            format!("HubSpot is unavailable: {why} (gave up after {} attempts in {}s)", retries, started.elapsed().as_secs()),
                        ));
                    }
                    thread::sleep(delay);
                }
                Action::Fatal(failure, message) => return Err(HubSpotError::new(failure, message)),
            }
        }
    }

    /// Sends one HTTP request; an `Err` is a request that got no answer.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        token: &Secret,
    ) -> Result<(RateHeaders, Answer), Unsent> {
        let url = format!("{}{}", self.base_url, path);
        let auth = format!("Bearer {}", token.expose());
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_default()),
        };
        let mut response = response.map_err(unsent)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        let headers = RateHeaders {
            max: header("x-hubspot-ratelimit-max").and_then(|v| v.parse().ok()),
            remaining: header("x-hubspot-ratelimit-remaining").and_then(|v| v.parse().ok()),
            interval_ms: header("x-hubspot-ratelimit-interval-milliseconds")
                .and_then(|v| v.parse().ok()),
            daily: header("x-hubspot-ratelimit-daily").and_then(|v| v.parse().ok()),
            daily_remaining: header("x-hubspot-ratelimit-daily-remaining")
                .and_then(|v| v.parse().ok()),
        };
        let retry_after = header("retry-after").and_then(|v| v.parse().ok());
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| {
                Unsent::Transport(format!(
                    "reading the answer failed: {}",
                    transport_message(&e)
                ))
            })?;
        Ok((
            headers,
            Answer {
                status,
                retry_after,
                body,
            },
        ))
    }

    /// The bearer token, refreshing an OAuth one when there is none yet.
    fn bearer(&self) -> Result<Secret, HubSpotError> {
        if let Some(t) = self
            .token
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return Ok(t.clone());
        }
        let mut slot = self.token.write().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        let fresh = self.refresh()?;
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// Trades the OAuth refresh token for an access token at HubSpot's
    /// dated token endpoint (the same for every `api_version`).
    fn refresh(&self) -> Result<Secret, HubSpotError> {
        let Auth::OAuth {
            client_id,
            client_secret,
            refresh_token,
        } = &self.auth
        else {
            return Err(HubSpotError::new(
                FailureType::Config,
                "no access token configured",
            ));
        };
        let url = format!("{}{OAUTH_TOKEN_PATH}", self.base_url);
        let started = Instant::now();
        let mut retries = 0;
        loop {
            let result = self.agent.post(&url).send_form([
                ("grant_type", "refresh_token"),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ]);
            let (status, body) = match result {
                Ok(mut r) => (
                    r.status().as_u16(),
                    r.body_mut().read_to_string().unwrap_or_default(),
                ),
                Err(e) => (0, transport_message(&e)),
            };
            if status == 200 {
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                if let Some(token) = v.get("access_token").and_then(Value::as_str) {
                    return Ok(Secret::new(token));
                }
            }
            let transient = status == 0 || status == 429 || status >= 500;
            retries += 1;
            let delay = self.retry.delay(retries, retries as u64);
            if transient && self.retry.allows(retries, started, delay) {
                thread::sleep(delay);
                continue;
            }
            return Err(refresh_error(status, &body, transient));
        }
    }

    /// A 401 that no refresh cures, worded for the credential in use.
    fn unauthorized(&self, message: &str) -> HubSpotError {
        let fix = match self.auth {
            Auth::PrivateApp { .. } => "create a service key in HubSpot (Development → Keys → Service keys), or copy the private app's current token, and update the config",
            Auth::OAuth { .. } => "re-authorize the OAuth app and update `credentials/refresh_token`",
        };
        HubSpotError::new(
            FailureType::Config,
            format!(
                "HubSpot refused the {} (401: {message}): it is invalid, revoked or expired; {fix}",
                self.credential()
            ),
        )
    }

    /// A 403, naming the scopes to add and where to add them.
    fn forbidden(&self, scopes: &[String], message: &str) -> HubSpotError {
        let fix = match self.auth {
            Auth::PrivateApp { .. } => "add it to the service key (HubSpot: Development → Keys → Service keys) or the private app, then run again",
            Auth::OAuth { .. } => "add it to the OAuth app's scopes and re-authorize the app",
        };
        let text = if scopes.is_empty() {
            format!(
                "HubSpot refused the call ({message}): the {} may lack a scope this call needs (a sync needs crm.objects.contacts.read, crm.objects.contacts.write and crm.schemas.contacts.read); {fix}",
                self.credential()
            )
        } else {
            format!(
                "the {} is missing the scope(s) {}: {fix}",
                self.credential(),
                scopes.join(", ")
            )
        };
        HubSpotError::new(FailureType::Config, text)
    }

    fn quota_error(&self, refusal: Refusal) -> HubSpotError {
        let Refusal::DailyReserve { remaining, reserve } = refusal;
        HubSpotError::new(
            FailureType::Transient,
            format!("stopping before HubSpot's daily API quota runs out: {remaining} calls left, at or below the configured reserve of {reserve} (`daily_quota_reserve`); the quota resets at midnight in the account's time zone: run the sync again after that"),
        )
    }
}

/// A refused or failed token refresh in words. HubSpot's dated endpoint
/// answers RFC 6749's `error` / `error_description` beside its legacy
/// `status` / `message`; either is read.
fn refresh_error(status: u16, body: &str, transient: bool) -> HubSpotError {
    let v = serde_json::from_str::<Value>(body).unwrap_or(Value::Null);
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    let code = match (field("error"), field("status")) {
        ("", legacy) => legacy,
        (rfc, _) => rfc,
    };
    let detail = [field("error_description"), field("message")]
        .into_iter()
        .find(|d| !d.is_empty())
        .map(|d| truncate(d, 200))
        .unwrap_or_else(|| truncate(body, 200));
    let fix = match code {
        "invalid_grant" | "BAD_REFRESH_TOKEN" => "the refresh token is revoked or expired (the app was uninstalled, or the token was replaced): re-authorize the OAuth app and put its new refresh token in `credentials/refresh_token`",
        "invalid_client" | "BAD_CLIENT_ID" | "BAD_CLIENT_SECRET" => "HubSpot does not know this client: check `credentials/client_id` and `credentials/client_secret` against the app's Auth settings",
        _ if transient => "HubSpot's token endpoint did not answer; run again later",
        _ => "check client_id, client_secret and refresh_token",
    };
    let answer = match (status, code) {
        (0, _) => "no answer".to_string(),
        (s, "") => s.to_string(),
        (s, c) => format!("{s} {c}"),
    };
    let failure = if transient {
        FailureType::Transient
    } else {
        FailureType::Config
    };
    HubSpotError::new(
        failure,
        format!("refreshing the OAuth access token failed ({answer}: {detail}); {fix}"),
    )
}

/// Why a request got no answer.
enum Unsent {
    /// The network failed (refused, reset, timed out): worth a retry.
    Transport(String),
    /// The request could not even be built: no retry can help.
    Unsendable(HubSpotError),
}

/// Sorts a ureq error: a request HTTP can't carry (a header value with a
/// line break, say) is the config's fault, anything else the network's.
fn unsent(e: ureq::Error) -> Unsent {
    match e {
        // Neither names the header value, so no token leaks.
        ureq::Error::Http(_) | ureq::Error::BadUri(_) => Unsent::Unsendable(HubSpotError::new(
            FailureType::Config,
            format!("the request to HubSpot could not be built ({e}): the token or `base_url` holds characters HTTP does not allow; check the config"),
        )),
        other => Unsent::Transport(transport_message(&other)),
    }
}

/// A transport error in words, without anything secret (ureq's errors carry
/// no headers, so no token).
fn transport_message(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        ureq::Error::HostNotFound => "host not found: check `base_url`".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_refresh_token_is_a_config_error_in_either_error_style() {
        for body in [
            r#"{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token"}"#,
            r#"{"error":"invalid_grant","error_description":"missing or invalid refresh token","status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token"}"#,
        ] {
            let e = refresh_error(400, body, false);
            assert_eq!(e.failure, FailureType::Config);
            assert!(
                e.message.contains("missing or invalid refresh token")
                    && e.message.contains("re-authorize the OAuth app"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn an_unknown_client_names_the_client_fields() {
        let body = r#"{"error":"invalid_client","error_description":"missing or invalid client secret","status":"BAD_CLIENT_SECRET"}"#;
        let e = refresh_error(400, body, false);
        assert!(e.message.contains("400 invalid_client"), "{}", e.message);
        assert!(
            e.message.contains("credentials/client_secret"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_token_endpoint_that_does_not_answer_is_transient() {
        let e = refresh_error(0, "connection failed: refused", true);
        assert_eq!(e.failure, FailureType::Transient);
        assert!(e.message.contains("no answer"), "{}", e.message);
        let e = refresh_error(503, "<html>", true);
        assert_eq!(e.failure, FailureType::Transient);
    }

    #[test]
    fn a_request_http_cannot_carry_is_not_retried() {
        let e = match unsent(ureq::Error::BadUri("no host".into())) {
            Unsent::Unsendable(e) => e,
            Unsent::Transport(m) => panic!("retried: {m}"),
        };
        assert_eq!(e.failure, FailureType::Config);
        assert!(matches!(
            unsent(ureq::Error::HostNotFound),
            Unsent::Transport(_)
        ));
    }
}
