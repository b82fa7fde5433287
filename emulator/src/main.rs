//! `hubspot-emulator`: runs the emulator as a process for demos, scripts and
//! people trying the connector without a HubSpot account. clap turns the
//! flags into [`Options`]; this file prints the base URL as the first stdout
//! line, then serves until killed.
#![forbid(unsafe_code)]

use clap::builder::PossibleValuesParser;
use clap::error::ErrorKind;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use hubspot_emulator::{
    BackwardLifecycle, ConditionalRule, EmailUpsertMode, Emulator, Fault, FaultPlan, Latency,
    LegacyPaths, OAuthClient, Options, RateLimit, TokenSpec, ValidationErrorMode, DEFAULT_TOKEN,
};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// Printed after the flags by `--help`.
const AFTER_HELP: &str = "\
EXAMPLE:
    hubspot-emulator --port 0 --token pat-local-demo --latency-ms 150 --jitter-ms 20 \\
        --seed 7 --fault-rate 503:0.01 --fault-at 3:drop
    # first stdout line: http://127.0.0.1:PORT

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

/// hubspot-emulator — a local, in-memory HubSpot CRM API (binds 127.0.0.1 only)
///
/// Flags that repeat collect (`--token`, `--fault-at`, …); any other flag
/// given twice keeps its last value.
#[derive(Parser, Debug)]
#[command(
    name = "hubspot-emulator",
    after_help = AFTER_HELP,
    args_override_self = true,
    max_term_width = 100
)]
struct Cli {
    /// Port on 127.0.0.1; 0 picks a free one
    #[arg(long, value_name = "N", default_value_t = 8080)]
    port: u16,

    /// Accept private-app token T (repeatable) [default: pat-local-demo]
    #[arg(long = "token", value_name = "T")]
    tokens: Vec<String>,

    /// Scopes of the tokens given so far (default: read+write on every object
    /// type and schemas read on each, see DEFAULT_SCOPES)
    #[arg(long, value_name = "a,b,…", value_parser = list)]
    scopes: Vec<List>,

    /// The last --token expires (401 EXPIRED_AUTHENTICATION) after N requests
    #[arg(long, value_name = "N")]
    token_expires_after: Vec<u64>,

    /// Per-token rolling burst limit [default: 190/10000]
    #[arg(long, value_name = "MAX/MS", overrides_with = "no_rate_limit")]
    rate_limit: Option<RateLimit>,

    /// No burst limit (headers still sent, with a large max)
    #[arg(long, overrides_with = "rate_limit")]
    no_rate_limit: bool,

    /// Account daily quota
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    daily_limit: u64,

    /// Fixed latency per request
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,

    /// Extra seeded random latency, 0..=N ms
    #[arg(long, value_name = "N", default_value_t = 0)]
    jitter_ms: u64,

    /// Seed for jitter, random faults and correlation ids
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,

    /// Inject FAULT into each request with probability P (repeatable)
    #[arg(long, value_name = "FAULT:P", value_parser = fault_rate)]
    fault_rate: Vec<(Fault, f64)>,

    /// Inject FAULT into request number N, 1-based (repeatable); N may be a
    /// range A-B for a burst, e.g. --fault-at 2-4:429
    #[arg(long, value_name = "N:FAULT", value_parser = fault_at)]
    fault_at: Vec<Burst>,

    /// whole-batch: one bad input → 400 for the batch; multi-status: 207 with
    /// per-input errors [default: whole-batch]
    #[arg(long, value_name = "M", value_parser = modes(["whole-batch", "multi-status"]))]
    email_upsert_mode: Option<String>,

    /// What a backward lifecyclestage write does [default: ignore]
    #[arg(long, value_name = "M", value_parser = modes(["ignore", "apply", "reject"]))]
    backward_lifecycle: Option<String>,

    /// Ordered lifecycle stage ids, replacing the eight standard ones (custom
    /// numeric ids allowed, e.g. subscriber,lead,1234567,customer)
    #[arg(long, value_name = "a,b,…", value_parser = list)]
    lifecycle_stages: Option<List>,

    /// Accept this OAuth app at POST /oauth/v1/token and /oauth/2026-03/token
    /// (repeatable)
    #[arg(long = "oauth-client", value_name = "ID:SECRET:REFRESH_TOKEN")]
    oauth_clients: Vec<OAuthClient>,

    /// Minted OAuth access tokens of the apps given so far expire after N
    /// requests
    #[arg(long, value_name = "N")]
    oauth_token_requests: Vec<u64>,

    /// expires_in of tokens minted for the apps given so far, also their
    /// lifetime [default: 1800]
    #[arg(long, value_name = "SECS")]
    oauth_expires_in: Vec<u64>,

    /// Hub id reported by /account-info/v3/details
    #[arg(long, value_name = "N", default_value_t = 12_345_678)]
    portal_id: u64,

    /// gone: every legacy path (/crm/v3/…, /account-info/v3/…, /oauth/v1/token)
    /// answers 404, as after HubSpot's sunset; date-based paths still answer
    /// [default: served]
    #[arg(long, value_name = "S", value_parser = modes(["served", "gone"]))]
    legacy_paths: Option<String>,

    /// Admin rule, enforced on 2026-09 write paths only: a write that
    /// creates a record must give these properties non-empty values
    /// (repeatable; applies to every object type defining the property)
    #[arg(long, value_name = "a,b,…", value_parser = list)]
    required_on_create: Vec<List>,

    /// Admin rule, enforced on 2026-09 write paths only: PROP needs a value
    /// when IF_PROP is VALUE in the resulting record, e.g.
    /// 'state:country=United States' (repeatable)
    #[arg(long, value_name = "PROP:IF_PROP=VALUE")]
    conditional_required: Vec<ConditionalRule>,

    /// How a 2026-09 batch answers admin-rule violations: whole-batch (400,
    /// nothing written) or multi-status (207, valid inputs written)
    /// [default: whole-batch]
    #[arg(long, value_name = "M", value_parser = modes(["whole-batch", "multi-status"]))]
    validation_error_mode: Option<String>,
}

/// A comma-separated list, trimmed, empty items dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct List(Vec<String>);

fn list(v: &str) -> Result<List, String> {
    Ok(List(
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    ))
}

/// The faults one `--fault-at` adds (one per request of a burst).
#[derive(Debug, Clone, PartialEq)]
struct Burst(Vec<(u64, Fault)>);

fn fault_at(v: &str) -> Result<Burst, String> {
    let mut plan = FaultPlan::default();
    plan.push_at(v)?;
    Ok(Burst(plan.at))
}

fn fault_rate(v: &str) -> Result<(Fault, f64), String> {
    let mut plan = FaultPlan::default();
    plan.push_random(v)?;
    Ok(plan.random.remove(0))
}

/// A parser that lists the accepted spellings in help and errors; the
/// options' own `FromStr` turns the spelling into a value later.
fn modes<const N: usize>(names: [&'static str; N]) -> PossibleValuesParser {
    PossibleValuesParser::new(names)
}

/// The values of a repeatable flag, each with its position on the command
/// line, so flags that act on "the tokens given so far" can be replayed in
/// order.
fn positioned<T: Clone>(m: &ArgMatches, id: &str, values: &[T]) -> Vec<(usize, T)> {
    m.indices_of(id)
        .map(|ix| ix.zip(values.iter().cloned()).collect())
        .unwrap_or_default()
}

/// One order-sensitive flag, replayed in command-line order.
enum Step {
    Token(String),
    Scopes(Vec<String>),
    TokenExpiresAfter(u64),
    Client(OAuthClient),
    ClientRequests(u64),
    ClientExpiresIn(u64),
}

impl Cli {
    /// The order-sensitive flags, sorted by position.
    fn steps(&self, m: &ArgMatches) -> Vec<Step> {
        fn at<T: Clone>(m: &ArgMatches, id: &str, v: &[T], f: fn(T) -> Step) -> Vec<(usize, Step)> {
            positioned(m, id, v)
                .into_iter()
                .map(|(i, x)| (i, f(x)))
                .collect()
        }
        let scopes: Vec<Vec<String>> = self.scopes.iter().map(|l| l.0.clone()).collect();
        let mut steps = [
            at(m, "tokens", &self.tokens, Step::Token),
            at(m, "scopes", &scopes, Step::Scopes),
            at(
                m,
                "token_expires_after",
                &self.token_expires_after,
                Step::TokenExpiresAfter,
            ),
            at(m, "oauth_clients", &self.oauth_clients, Step::Client),
            at(
                m,
                "oauth_token_requests",
                &self.oauth_token_requests,
                Step::ClientRequests,
            ),
            at(
                m,
                "oauth_expires_in",
                &self.oauth_expires_in,
                Step::ClientExpiresIn,
            ),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        steps.sort_by_key(|(i, _)| *i);
        steps.into_iter().map(|(_, s)| s).collect()
    }

    /// Tokens and OAuth apps, with the flags that modify "those given so
    /// far" applied where they stood.
    fn credentials(&self, m: &ArgMatches, opts: &mut Options) -> Result<(), clap::Error> {
        let mut tokens: Vec<TokenSpec> = Vec::new();
        for step in self.steps(m) {
            match step {
                Step::Token(t) => tokens.push(TokenSpec::new(t)),
                Step::Scopes(scopes) => {
                    if tokens.is_empty() {
                        tokens.push(TokenSpec::new(DEFAULT_TOKEN));
                    }
                    for t in &mut tokens {
                        t.scopes = scopes.clone();
                    }
                }
                Step::TokenExpiresAfter(n) => match tokens.last_mut() {
                    Some(t) => t.expires_after_requests = Some(n),
                    None => {
                        return Err(Cli::command().error(
                            ErrorKind::MissingRequiredArgument,
                            "--token-expires-after needs a --token before it",
                        ))
                    }
                },
                Step::Client(c) => opts.oauth_clients.push(c),
                Step::ClientRequests(n) => opts
                    .oauth_clients
                    .iter_mut()
                    .for_each(|c| c.access_token_requests = Some(n)),
                Step::ClientExpiresIn(n) => opts
                    .oauth_clients
                    .iter_mut()
                    .for_each(|c| c.expires_in_secs = n),
            }
        }
        if !tokens.is_empty() {
            opts.tokens = tokens;
        }
        Ok(())
    }

    /// The emulator options these flags describe.
    fn options(&self, m: &ArgMatches) -> Result<Options, clap::Error> {
        let mut opts = Options {
            daily_limit: self.daily_limit,
            latency: Latency {
                fixed_ms: self.latency_ms,
                jitter_ms: self.jitter_ms,
            },
            seed: self.seed,
            portal_id: self.portal_id,
            ..Options::default()
        };
        if self.no_rate_limit {
            opts.rate_limit = None;
        } else if let Some(r) = self.rate_limit {
            opts.rate_limit = Some(r);
        }
        opts.faults.random = self.fault_rate.clone();
        opts.faults.at = self.fault_at.iter().flat_map(|b| b.0.clone()).collect();
        let invalid = |e: String| Cli::command().error(ErrorKind::InvalidValue, e);
        if let Some(m) = &self.email_upsert_mode {
            opts.email_upsert_mode = m.parse::<EmailUpsertMode>().map_err(invalid)?;
        }
        if let Some(m) = &self.backward_lifecycle {
            opts.backward_lifecycle = m.parse::<BackwardLifecycle>().map_err(invalid)?;
        }
        if let Some(s) = &self.legacy_paths {
            opts.legacy_paths = s.parse::<LegacyPaths>().map_err(invalid)?;
        }
        if let Some(m) = &self.validation_error_mode {
            opts.validation_error_mode = m.parse::<ValidationErrorMode>().map_err(invalid)?;
        }
        opts.required_on_create = self
            .required_on_create
            .iter()
            .flat_map(|l| l.0.clone())
            .collect();
        opts.conditional_required = self.conditional_required.clone();
        if let Some(stages) = &self.lifecycle_stages {
            opts.lifecycle_stages = stages.0.clone();
        }
        self.credentials(m, &mut opts)?;
        Ok(opts)
    }
}

/// Parses the command line (program name first) into a port and options.
/// `--help` and bad flags come back as clap errors, which know how to print
/// themselves and which exit code to use.
fn parse<I, T>(args: I) -> Result<(u16, Options), clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = Cli::command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok((cli.port, cli.options(&matches)?))
}

fn main() -> ExitCode {
    let (port, opts) = match parse(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(e) => e.exit(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<(u16, Options), clap::Error> {
        parse(std::iter::once("hubspot-emulator").chain(s.split_whitespace()))
    }

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_example() {
        let (port, o) = parse_str(
            "--port 0 --token pat-x --scopes crm.objects.contacts.read --rate-limit 10/1000 \
             --latency-ms 150 --jitter-ms 20 --seed 7 --fault-rate 500:0.01 --fault-at 3:drop \
             --email-upsert-mode multi-status --backward-lifecycle reject",
        )
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
        assert_eq!(o.seed, 7);
        assert_eq!(o.faults.at, vec![(3, Fault::DropConnection)]);
        assert_eq!(o.faults.random, vec![(Fault::Status(500), 0.01)]);
        assert_eq!(o.email_upsert_mode, EmailUpsertMode::MultiStatus);
        assert_eq!(o.backward_lifecycle, BackwardLifecycle::Reject);
    }

    #[test]
    fn no_flags_give_the_library_defaults_on_port_8080() {
        let (port, o) = parse_str("").unwrap();
        let d = Options::default();
        assert_eq!(port, 8080);
        assert_eq!(o.tokens, d.tokens);
        assert_eq!(o.rate_limit, d.rate_limit);
        assert_eq!(
            (o.daily_limit, o.seed, o.portal_id),
            (1_000_000, 0, 12_345_678)
        );
        assert_eq!(o.faults, d.faults);
        assert_eq!(o.lifecycle_stages, d.lifecycle_stages);
        assert!(o.oauth_clients.is_empty());
    }

    #[test]
    fn rejects_unknown_flags_and_bad_values() {
        for bad in [
            "--bogus",
            "--port",
            "--port 70000",
            "--fault-at 0:500",
            "--fault-rate 500:2",
            "--rate-limit 10",
            "--email-upsert-mode sometimes",
            "--oauth-client a:b",
            "--token-expires-after 3",
        ] {
            assert!(parse_str(bad).is_err(), "{bad}");
        }
        let help = parse_str("--help").unwrap_err();
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        assert!(help.to_string().contains("FAULTS:"));
    }

    #[test]
    fn the_last_of_rate_limit_and_no_rate_limit_wins() {
        let o = |s| parse_str(s).unwrap().1.rate_limit;
        assert_eq!(o("--no-rate-limit"), None);
        assert_eq!(o("--rate-limit 5/100 --no-rate-limit"), None);
        assert_eq!(
            o("--no-rate-limit --rate-limit 5/100"),
            Some(RateLimit {
                max: 5,
                interval_ms: 100
            })
        );
        assert_eq!(parse_str("--port 1 --port 2").unwrap().0, 2);
    }

    #[test]
    fn token_flags_apply_to_the_tokens_given_so_far() {
        let (_, o) = parse_str(
            "--token a --token b --scopes x,y --token c --token-expires-after 5 --token d",
        )
        .unwrap();
        let names: Vec<&str> = o.tokens.iter().map(|t| t.token.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(o.tokens[1].scopes, ["x", "y"]);
        assert_eq!(o.tokens[2].scopes, TokenSpec::new("c").scopes);
        assert_eq!(o.tokens[2].expires_after_requests, Some(5));
        assert_eq!(o.tokens[3].expires_after_requests, None);
        let (_, o) = parse_str("--scopes crm.objects.contacts.read").unwrap();
        assert_eq!(o.tokens[0].token, DEFAULT_TOKEN);
        assert_eq!(o.tokens[0].scopes, ["crm.objects.contacts.read"]);
    }

    #[test]
    fn oauth_flags_apply_to_the_apps_given_so_far() {
        let (_, o) = parse_str(
            "--oauth-client id:secret:re:fresh --oauth-token-requests 3 --oauth-expires-in 60 \
             --oauth-client id2:s2:r2",
        )
        .unwrap();
        let c = &o.oauth_clients;
        assert_eq!(c[0], {
            let mut c = OAuthClient::new("id", "secret", "re:fresh");
            c.access_token_requests = Some(3);
            c.expires_in_secs = 60;
            c
        });
        assert_eq!(c[1], OAuthClient::new("id2", "s2", "r2"));
    }

    #[test]
    fn fault_bursts_and_stages_and_inline_values() {
        let (_, o) = parse_str(
            "--fault-at=2-4:429 --fault-at 6:drop --lifecycle-stages lead,,1234567 --portal-id=9",
        )
        .unwrap();
        assert_eq!(o.faults.at.len(), 4);
        assert_eq!(o.faults.at[3], (6, Fault::DropConnection));
        assert_eq!(o.lifecycle_stages, ["lead", "1234567"]);
        assert_eq!(o.portal_id, 9);
    }

    #[test]
    fn admin_rule_flags_collect() {
        let args = [
            "hubspot-emulator",
            "--required-on-create",
            "firstname, lastname",
            "--required-on-create=company",
            "--conditional-required",
            "state:country=United States",
            "--conditional-required=zip:country=Canada",
            "--validation-error-mode",
            "multi-status",
        ];
        let (_, o) = parse(args).unwrap();
        assert_eq!(o.required_on_create, ["firstname", "lastname", "company"]);
        assert_eq!(
            o.conditional_required,
            [
                ConditionalRule::new("state", "country", "United States"),
                ConditionalRule::new("zip", "country", "Canada"),
            ]
        );
        assert_eq!(o.validation_error_mode, ValidationErrorMode::MultiStatus);
        let (_, d) = parse_str("").unwrap();
        assert!(d.required_on_create.is_empty() && d.conditional_required.is_empty());
        assert_eq!(d.validation_error_mode, ValidationErrorMode::WholeBatch);
        assert!(parse_str("--conditional-required state").is_err());
        assert!(parse_str("--validation-error-mode partial").is_err());
    }

    #[test]
    fn legacy_paths_are_served_unless_gone() {
        assert_eq!(parse_str("").unwrap().1.legacy_paths, LegacyPaths::Served);
        let (_, o) = parse_str("--legacy-paths gone").unwrap();
        assert_eq!(o.legacy_paths, LegacyPaths::Gone);
        assert!(parse_str("--legacy-paths maybe").is_err());
    }
}
