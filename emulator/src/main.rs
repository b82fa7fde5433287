//! `hubspot-emulator`: runs the emulator as a process for demos, scripts and
//! people trying the connector without a HubSpot account. Parses flags by
//! hand into [`Options`], prints the base URL as the first stdout line, then
//! serves until killed.
#![forbid(unsafe_code)]

use hubspot_emulator::{
    BackwardLifecycle, EmailUpsertMode, Emulator, Latency, OAuthClient, Options, RateLimit,
    TokenSpec,
};
use std::io::Write;
use std::process::ExitCode;

const HELP: &str = "\
hubspot-emulator — a local, in-memory HubSpot CRM API (binds 127.0.0.1 only)

USAGE:
    hubspot-emulator [OPTIONS]

EXAMPLE:
    hubspot-emulator --port 0 --token pat-local-demo --latency-ms 150 --jitter-ms 20 \\
        --seed 7 --fault-rate 503:0.01 --fault-at 3:drop
    # first stdout line: http://127.0.0.1:PORT

OPTIONS:
    --port N                 Port on 127.0.0.1; 0 picks a free one [default: 8080]
    --token T                Accept private-app token T (repeatable) [default: pat-local-demo]
    --scopes a,b,…           Scopes of the tokens given so far (default: contacts/companies/
                             deals read+write and schemas read)
    --token-expires-after N  The last --token expires (401 EXPIRED_AUTHENTICATION) after N requests
    --rate-limit MAX/MS      Per-token rolling burst limit [default: 190/10000]
    --no-rate-limit          No burst limit (headers still sent, with a large max)
    --daily-limit N          Account daily quota [default: 1000000]
    --latency-ms N           Fixed latency per request [default: 0]
    --jitter-ms N            Extra seeded random latency, 0..=N ms [default: 0]
    --seed N                 Seed for jitter, random faults and correlation ids [default: 0]
    --fault-rate FAULT:P     Inject FAULT into each request with probability P (repeatable)
    --fault-at N:FAULT       Inject FAULT into request number N, 1-based (repeatable);
                             N may be a range A-B for a burst, e.g. --fault-at 2-4:429
    --email-upsert-mode M    whole-batch (default: one bad input → 400 for the batch)
                             | multi-status (207 with per-input errors)
    --backward-lifecycle M   ignore (default) | apply | reject
    --lifecycle-stages a,b,… Ordered lifecycle stage ids, replacing the eight standard ones
                             (custom numeric ids allowed, e.g. subscriber,lead,1234567,customer)
    --oauth-client ID:SECRET:REFRESH_TOKEN
                             Accept this OAuth app at POST /oauth/v1/token (repeatable)
    --oauth-token-requests N Minted OAuth access tokens expire after N requests
    --oauth-expires-in SECS  expires_in of minted tokens, also their lifetime [default: 1800]
    --portal-id N            Hub id reported by /account-info/v3/details [default: 12345678]
    -h, --help               Print this help

FAULTS:
    500 | 502 | 503 | 504    JSON error body with that status (any 4xx/5xx code works)
    html502 …                HTML body, as a CDN edge sends it
    drop                     Close the connection without answering
    delay3000                Answer normally after 3000 ms (longer than a client timeout)
    429 | 429retry2          TEN_SECONDLY_ROLLING 429, optionally with Retry-After: 2
    expire                   The request's token expires from this request on

INSPECTION (no auth, not counted):
    GET  /_emulator/contacts    GET /_emulator/objects/{type}    GET /_emulator/stats
    POST /_emulator/reset       GET|POST /_emulator/faults       GET /_emulator/health
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, opts) = match parse(&args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hubspot-emulator: {e}\nTry --help.");
            return ExitCode::from(2);
        }
    };
    let emu = match Emulator::start_on(port, opts) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("hubspot-emulator: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts read the address from the first line: print and flush it
    // before anything else.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", emu.base_url());
    let _ = out.flush();
    drop(out);
    eprintln!(
        "hubspot-emulator: serving on {} (Ctrl-C to stop)",
        emu.base_url()
    );
    loop {
        std::thread::park();
    }
}

/// Parses the flags; `Ok(None)` means `--help`.
fn parse(args: &[String]) -> Result<Option<(u16, Options)>, String> {
    let mut opts = Options::default();
    let mut port: u16 = 8080;
    let mut tokens: Vec<TokenSpec> = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let num = |v: String| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                port = value()?
                    .parse()
                    .map_err(|_| "--port needs a number 0..65535".to_string())?
            }
            "--token" => tokens.push(TokenSpec::new(value()?)),
            "--scopes" => {
                let scopes: Vec<String> = list(&value()?);
                if tokens.is_empty() {
                    tokens.push(TokenSpec::new(hubspot_emulator::DEFAULT_TOKEN));
                }
                for t in &mut tokens {
                    t.scopes = scopes.clone();
                }
            }
            "--token-expires-after" => {
                let n = num(value()?)?;
                match tokens.last_mut() {
                    Some(t) => t.expires_after_requests = Some(n),
                    None => return Err("--token-expires-after needs a --token before it".into()),
                }
            }
            "--rate-limit" => {
                let v = value()?;
                let (max, ms) = v
                    .split_once('/')
                    .ok_or_else(|| format!("--rate-limit wants MAX/MS, got {v:?}"))?;
                opts.rate_limit = Some(RateLimit {
                    max: num(max.to_string())?,
                    interval_ms: num(ms.to_string())?,
                });
            }
            "--no-rate-limit" => opts.rate_limit = None,
            "--daily-limit" => opts.daily_limit = num(value()?)?,
            "--latency-ms" => {
                opts.latency = Latency {
                    fixed_ms: num(value()?)?,
                    ..opts.latency
                }
            }
            "--jitter-ms" => {
                opts.latency = Latency {
                    jitter_ms: num(value()?)?,
                    ..opts.latency
                }
            }
            "--seed" => opts.seed = num(value()?)?,
            "--fault-rate" => opts.faults.push_random(&value()?)?,
            "--fault-at" => opts.faults.push_at(&value()?)?,
            "--email-upsert-mode" => {
                opts.email_upsert_mode = match value()?.as_str() {
                    "whole-batch" => EmailUpsertMode::WholeBatch,
                    "multi-status" => EmailUpsertMode::MultiStatus,
                    v => return Err(format!("--email-upsert-mode: unknown mode {v:?}")),
                }
            }
            "--backward-lifecycle" => {
                opts.backward_lifecycle = match value()?.as_str() {
                    "ignore" => BackwardLifecycle::Ignore,
                    "apply" => BackwardLifecycle::Apply,
                    "reject" => BackwardLifecycle::Reject,
                    v => return Err(format!("--backward-lifecycle: unknown mode {v:?}")),
                }
            }
            "--lifecycle-stages" => opts.lifecycle_stages = list(&value()?),
            "--oauth-client" => {
                let v = value()?;
                let parts: Vec<&str> = v.splitn(3, ':').collect();
                let [id, secret, refresh] = parts[..] else {
                    return Err(format!(
                        "--oauth-client wants ID:SECRET:REFRESH_TOKEN, got {v:?}"
                    ));
                };
                opts.oauth_clients
                    .push(OAuthClient::new(id, secret, refresh));
            }
            "--oauth-token-requests" => {
                let n = num(value()?)?;
                for c in &mut opts.oauth_clients {
                    c.access_token_requests = Some(n);
                }
            }
            "--oauth-expires-in" => {
                let n = num(value()?)?;
                for c in &mut opts.oauth_clients {
                    c.expires_in_secs = n;
                }
            }
            "--portal-id" => opts.portal_id = num(value()?)?,
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if !tokens.is_empty() {
        opts.tokens = tokens;
    }
    Ok(Some((port, opts)))
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubspot_emulator::Fault;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_the_documented_example() {
        let (port, o) = parse(&args(
            "--port 0 --token pat-x --scopes crm.objects.contacts.read --rate-limit 10/1000 \
             --latency-ms 150 --jitter-ms 20 --seed 7 --fault-rate 500:0.01 --fault-at 3:drop \
             --email-upsert-mode multi-status --backward-lifecycle reject",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(port, 0);
        assert_eq!(o.tokens[0].token, "pat-x");
        assert_eq!(o.tokens[0].scopes, vec!["crm.objects.contacts.read"]);
        assert_eq!(
            o.rate_limit,
            Some(RateLimit {
                max: 10,
                interval_ms: 1000
            })
        );
        assert_eq!(
            o.latency,
            Latency {
                fixed_ms: 150,
                jitter_ms: 20
            }
        );
        assert_eq!(o.faults.at, vec![(3, Fault::DropConnection)]);
        assert_eq!(o.email_upsert_mode, EmailUpsertMode::MultiStatus);
        assert_eq!(o.backward_lifecycle, BackwardLifecycle::Reject);
    }

    #[test]
    fn rejects_unknown_flags_and_bad_values() {
        assert!(parse(&args("--bogus")).is_err());
        assert!(parse(&args("--port")).is_err());
        assert!(parse(&args("--fault-at 0:500")).is_err());
        assert!(parse(&args("--help")).unwrap().is_none());
        assert!(parse(&args("--no-rate-limit"))
            .unwrap()
            .unwrap()
            .1
            .rate_limit
            .is_none());
    }
}
