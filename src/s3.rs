//! S3-compatible object storage, synchronously: rusty-s3 signs each request
//! (AWS Signature V4 as a presigned URL, so no secret is ever sent) and ureq
//! sends it. Used for the rejected records; `check` probes the bucket.
//!
//! Every message this module makes names the bucket (and key) and the
//! storage's error code, and is scrubbed of the access key id and secret.

use std::fmt;
use std::thread::sleep;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::config::S3Storage;

/// How long a signed URL stays valid: it is used at once.
const SIGNED_FOR: Duration = Duration::from_secs(300);

/// Waits before each retry of an upload that failed for a passing reason.
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(4),
];

/// One bucket, with the credentials and the HTTP agent to reach it.
pub struct S3Bucket {
    agent: ureq::Agent,
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    /// "`bucket` at endpoint", for messages.
    name: String,
    /// Never printed: scrubbed from every message.
    secrets: [String; 2],
}

impl fmt::Debug for S3Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Bucket({})", self.name)
    }
}

/// What the storage answered to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Failure {
    /// The HTTP status; 0 when no answer came.
    pub status: u16,
    /// The S3 error code (`NoSuchBucket`, `SignatureDoesNotMatch`, ...), or
    /// a word for a failure without one.
    pub code: String,
    /// The storage's own message or the transport error, scrubbed.
    pub message: String,
}

impl S3Failure {
    /// Worth another try: no answer, a server error or throttling.
    fn passing(&self) -> bool {
        self.status == 0
            || self.status == 429
            || self.status >= 500
            || matches!(
                self.code.as_str(),
                "SlowDown" | "RequestTimeout" | "InternalError"
            )
    }

    /// "NoSuchBucket (404): the bucket does not exist: ... [storage says: ...]"
    fn describe(&self) -> String {
        let status = match self.status {
            0 => "no answer".to_string(),
            s => s.to_string(),
        };
        let mut text = format!("{} ({status})", self.code);
        if let Some(advice) = advice(&self.code) {
            text.push_str(": ");
            text.push_str(advice);
        }
        if !self.message.is_empty() {
            text.push_str(&format!(" [{}]", self.message));
        }
        text
    }
}

/// What to fix for the usual error codes.
fn advice(code: &str) -> Option<&'static str> {
    Some(match code {
        "NoSuchBucket" => {
            "the bucket does not exist: create it, or check `s3_bucket_name` and `s3_endpoint`"
        }
        "InvalidAccessKeyId" | "NotSignedUp" | "InvalidClientTokenId" => {
            "the storage does not know the access key id: check `access_key_id`"
        }
        "SignatureDoesNotMatch" => {
            "the request signature does not match: check `secret_access_key`"
        }
        "AccessDenied" | "AllAccessDisabled" => {
            "the credentials may not use the bucket: they need s3:ListBucket and s3:PutObject on it"
        }
        "AuthorizationQueryParametersError"
        | "AuthorizationHeaderMalformed"
        | "PermanentRedirect"
        | "IllegalLocationConstraintException" => {
            "the bucket is in another region: check `s3_bucket_region` (and `s3_endpoint`)"
        }
        "RequestTimeTooSkewed" => "this machine's clock is off: the signature's time was refused",
        "unreachable" => "check `s3_endpoint` and the network",
        _ => return None,
    })
}

impl S3Bucket {
    /// The bucket of `storage`; `timeout` bounds each request.
    pub fn new(storage: &S3Storage, timeout: Duration) -> Result<S3Bucket, String> {
        let (endpoint, style) = match &storage.endpoint {
            Some(e) => (e.clone(), UrlStyle::Path),
            // Dotted names are not valid TLS host names under amazonaws.com.
            None if storage.bucket.contains('.') => (
                format!("https://s3.{}.amazonaws.com", storage.region),
                UrlStyle::Path,
            ),
            None => (
                format!("https://s3.{}.amazonaws.com", storage.region),
                UrlStyle::VirtualHost,
            ),
        };
        let name = match &storage.endpoint {
            Some(e) => format!("`{}` at {e}", storage.bucket),
            None => format!("`{}` (AWS S3, {})", storage.bucket, storage.region),
        };
        let url = endpoint.parse().map_err(|e| {
            format!("rejected-records storage: `s3_endpoint` {endpoint} is not a URL: {e}")
        })?;
        let bucket = Bucket::new(url, style, storage.bucket.clone(), storage.region.clone())
            .map_err(|e| format!("rejected-records storage: bucket {name}: {e}"))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(timeout))
            .user_agent(concat!("destination-hubspot/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(S3Bucket {
            agent,
            bucket,
            credentials: Credentials::new(
                storage.access_key_id.expose(),
                storage.secret_access_key.expose(),
            ),
            prefix: storage.prefix.clone(),
            name,
            secrets: [
                storage.access_key_id.expose().to_string(),
                storage.secret_access_key.expose().to_string(),
            ],
        })
    }

    /// "`bucket` at endpoint", for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        self.bucket.name()
    }

    /// The configured key prefix (no leading or trailing `/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Proves the bucket exists and the credentials are accepted, by listing
    /// at most one key under the prefix. `Err` is a message for the user.
    pub fn probe(&self) -> Result<(), String> {
        let mut action = self.bucket.list_objects_v2(Some(&self.credentials));
        action.with_max_keys(1);
        if !self.prefix.is_empty() {
            action.with_prefix(format!("{}/", self.prefix));
        }
        let url = action.sign(SIGNED_FOR);
        let answer = self.agent.get(url.as_str()).call();
        match self.outcome(answer) {
            Ok(()) => Ok(()),
            Err(f) => Err(format!(
                "rejected-records storage: listing bucket {} failed: {}",
                self.name,
                f.describe()
            )),
        }
    }

    /// Uploads one object, retrying passing failures a few times. `Err`
    /// names the bucket, the key and the storage's error code.
    pub fn put(&self, key: &str, body: &[u8], content_type: &str) -> Result<(), String> {
        let mut delays = RETRY_DELAYS.iter();
        loop {
            let url = self
                .bucket
                .put_object(Some(&self.credentials), key)
                .sign(SIGNED_FOR);
            let answer = self
                .agent
                .put(url.as_str())
                .header("content-type", content_type)
                .send(body);
            let failure = match self.outcome(answer) {
                Ok(()) => return Ok(()),
                Err(f) => f,
            };
            match delays.next() {
                Some(delay) if failure.passing() => sleep(*delay),
                _ => {
                    return Err(format!(
                        "uploading rejected records to s3://{}/{key} ({}) failed: {}",
                        self.bucket.name(),
                        self.name,
                        failure.describe()
                    ))
                }
            }
        }
    }

    /// A 2xx answer, or what went wrong.
    fn outcome(
        &self,
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(), S3Failure> {
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => {
                return Err(S3Failure {
                    status: 0,
                    code: "unreachable".to_string(),
                    message: self.scrub(&transport_message(&e)),
                })
            }
        };
        let status = response.status().as_u16();
        // Read the answer whole (it is small), so the connection is reused.
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let code = xml_text(&body, "Code")
            .map(str::to_string)
            .unwrap_or_else(|| code_for_status(status).to_string());
        let message = xml_text(&body, "Message").unwrap_or_default();
        let message: String = message.chars().take(300).collect();
        Err(S3Failure {
            status,
            code: self.scrub(&code),
            message: self.scrub(&message),
        })
    }

    /// `text` with the credentials masked.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            if !secret.is_empty() {
                text = text.replace(secret.as_str(), "***");
            }
        }
        text
    }
}

/// The S3 code for an answer without an XML body (a HEAD, a proxy).
fn code_for_status(status: u16) -> &'static str {
    match status {
        301 | 307 => "PermanentRedirect",
        400 => "BadRequest",
        403 => "AccessDenied",
        404 => "NoSuchBucket",
        _ => "HttpError",
    }
}

/// The text of the first `<tag>…</tag>` in a small XML answer.
fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..end].trim())
}

/// A transport error in words: ureq's errors carry no headers; a URL they
/// might carry is scrubbed by the caller.
fn transport_message(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        ureq::Error::HostNotFound => "host not found".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn storage(endpoint: Option<&str>) -> S3Storage {
        S3Storage {
            bucket: "rejects".to_string(),
            prefix: "a/b".to_string(),
            region: "eu-west-1".to_string(),
            endpoint: endpoint.map(str::to_string),
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI"),
        }
    }

    #[test]
    fn error_codes_and_messages_are_read_from_the_xml_answer() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>rejects</BucketName></Error>";
        assert_eq!(xml_text(xml, "Code"), Some("NoSuchBucket"));
        assert_eq!(
            xml_text(xml, "Message"),
            Some("The specified bucket does not exist")
        );
        assert_eq!(xml_text("<Error></Error>", "Code"), None);
    }

    #[test]
    fn a_custom_endpoint_is_addressed_path_style_and_aws_by_virtual_host() {
        let b = S3Bucket::new(
            &storage(Some("http://127.0.0.1:9000")),
            Duration::from_secs(1),
        )
        .unwrap();
        let url = b.bucket.put_object(None, "a/b/part.jsonl").sign(SIGNED_FOR);
        assert_eq!(url.as_str(), "http://127.0.0.1:9000/rejects/a/b/part.jsonl");
        let b = S3Bucket::new(&storage(None), Duration::from_secs(1)).unwrap();
        assert!(b
            .bucket
            .base_url()
            .as_str()
            .starts_with("https://rejects.s3.eu-west-1.amazonaws.com"));
    }

    #[test]
    fn messages_never_carry_the_credentials() {
        let b = S3Bucket::new(
            &storage(Some("http://127.0.0.1:9000")),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            b.scrub("key AKIDEXAMPLE secret wJalrXUtnFEMI"),
            "key *** secret ***"
        );
        let debug = format!("{b:?}");
        assert!(
            !debug.contains("AKID") && !debug.contains("wJalr"),
            "{debug}"
        );
        let f = S3Failure {
            status: 403,
            code: "SignatureDoesNotMatch".to_string(),
            message: String::new(),
        };
        assert!(!f.passing());
        assert!(
            f.describe().contains("secret_access_key"),
            "{}",
            f.describe()
        );
        let f = S3Failure {
            status: 503,
            code: "SlowDown".to_string(),
            message: String::new(),
        };
        assert!(f.passing());
    }
}
