//! The emulated account and the path every request takes through it:
//! number → fault → latency → route → auth and rate limit → endpoint →
//! headers → stats. Sleeping happens before any lock is taken; each lock is
//! held only for the piece of state it guards.

use crate::access::{Access, Caller, Denial, RateHeaders};
use crate::associations::AssocStore;
use crate::errors::{self, Policy};
use crate::http::{Request, Response};
use crate::options::{Fault, FaultPlan, LegacyPaths, Options};
use crate::routes::{self, ApiFamily, Matched, Route};
use crate::schema::{ObjectType, Schema};
use crate::stats::{Recorder, RequestLog};
use crate::store::ObjectStore;
use crate::{rng, ObjectSnapshot};
use serde_json::Value;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

/// Purpose tags for seeded draws (see `rng::draw`).
const CORRELATION: u64 = 1;
const JITTER: u64 = 2;
const FAULT_BASE: u64 = 100;

/// What the connection loop does with a request.
pub(crate) enum Outcome {
    Reply(Response),
    /// Close the socket without answering.
    Drop,
}

/// The whole emulated account.
pub(crate) struct Hub {
    pub opts: Options,
    pub faults: Mutex<FaultPlan>,
    pub access: Access,
    pub stats: Recorder,
    schemas: RwLock<[Arc<Schema>; ObjectType::COUNT]>,
    stores: [Mutex<ObjectStore>; ObjectType::COUNT],
    /// Taken after any store lock it is used with, never before.
    associations: Mutex<AssocStore>,
    next_id: AtomicU64,
    pub shutdown: Arc<AtomicBool>,
    pub base_url: String,
}

/// First record id handed out; ids then count up, shared by all types.
const FIRST_ID: u64 = 101;

fn idx(ty: ObjectType) -> usize {
    ty.index()
}

impl Hub {
    pub fn new(opts: Options, shutdown: Arc<AtomicBool>, base_url: String) -> Self {
        let schemas =
            ObjectType::ALL.map(|ty| Arc::new(Schema::builtin(ty, &opts.lifecycle_stages)));
        let stores = ObjectType::ALL
            .map(|ty| Mutex::new(ObjectStore::new(ty, &schemas[idx(ty)].unique_props())));
        Hub {
            faults: Mutex::new(opts.faults.clone()),
            access: Access::new(&opts),
            stats: Recorder::default(),
            schemas: RwLock::new(schemas),
            stores,
            associations: Mutex::new(AssocStore::default()),
            next_id: AtomicU64::new(FIRST_ID),
            shutdown,
            base_url,
            opts,
        }
    }

    /// The current definitions of `ty` (a cheap `Arc` clone, so validation
    /// runs without holding any lock).
    pub fn schema(&self, ty: ObjectType) -> Arc<Schema> {
        self.schemas.read().unwrap_or_else(|e| e.into_inner())[idx(ty)].clone()
    }

    /// Replaces the definitions of `ty`, keeping the store's unique indexes
    /// in step.
    pub fn set_schema(&self, ty: ObjectType, schema: Schema) {
        let mut store = self.store(ty);
        for p in schema.unique_props() {
            if !store.is_unique(&p) {
                store.index_property(&p);
            }
        }
        self.schemas.write().unwrap_or_else(|e| e.into_inner())[idx(ty)] = Arc::new(schema);
    }

    /// The records of `ty`, locked.
    pub fn store(&self, ty: ObjectType) -> MutexGuard<'_, ObjectStore> {
        self.stores[idx(ty)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with the stores of `a` and `b` locked (in type order, so two
    /// calls never wait on each other crosswise; once when `a` is `b`).
    pub fn with_stores<R>(
        &self,
        a: ObjectType,
        b: ObjectType,
        f: impl FnOnce(&ObjectStore, &ObjectStore) -> R,
    ) -> R {
        if a == b {
            let s = self.store(a);
            return f(&s, &s);
        }
        let (first, second) = if a < b { (a, b) } else { (b, a) };
        let (g1, g2) = (self.store(first), self.store(second));
        if a < b {
            f(&g1, &g2)
        } else {
            f(&g2, &g1)
        }
    }

    /// The links between records, locked. Lock it after any store lock.
    pub fn associations(&self) -> MutexGuard<'_, AssocStore> {
        self.associations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Archives record `id` of the locked `store` with its associations.
    pub fn archive(&self, store: &mut ObjectStore, id: u64) {
        if store.archive(id) {
            self.associations().remove_record(store.ty, id);
        }
    }

    /// A fresh record id.
    pub fn alloc_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// Back to the state right after start: no records, built-in property
    /// definitions, zeroed counters and quotas, the configured faults.
    pub fn reset(&self) {
        for ty in ObjectType::ALL {
            let schema = Schema::builtin(ty, &self.opts.lifecycle_stages);
            *self.store(ty) = ObjectStore::new(ty, &schema.unique_props());
            self.schemas.write().unwrap_or_else(|e| e.into_inner())[idx(ty)] = Arc::new(schema);
        }
        *self.associations() = AssocStore::default();
        self.next_id.store(FIRST_ID, Ordering::SeqCst);
        self.access.reset();
        self.stats.reset();
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = self.opts.faults.clone();
    }

    /// Every record of `ty`, sorted by id.
    pub fn snapshot(&self, ty: ObjectType) -> Vec<ObjectSnapshot> {
        let store = self.store(ty);
        store
            .records
            .values()
            .map(|r| ObjectSnapshot {
                id: r.id.to_string(),
                properties: r.props.clone(),
                created_at: crate::clock::iso(r.created_ms),
                updated_at: crate::clock::iso(r.updated_ms),
            })
            .collect()
    }

    /// The links from `from` to `to` (that direction only), sorted by from
    /// id then to id.
    pub fn association_snapshot(
        &self,
        from: ObjectType,
        to: ObjectType,
    ) -> Vec<crate::AssociationSnapshot> {
        self.associations()
            .pairs(from, to)
            .into_iter()
            .map(|(f, t, types)| crate::AssociationSnapshot {
                from: f.to_string(),
                to: t.to_string(),
                types,
            })
            .collect()
    }

    /// Sleeps `ms`, waking early when the server shuts down.
    pub fn sleep(&self, ms: u64) {
        let until = Instant::now() + Duration::from_millis(ms);
        while !self.shutdown.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(25)));
        }
    }

    /// The fault for request `n`: a scripted one first, else a seeded draw
    /// per random entry, first hit wins.
    fn fault_for(&self, n: u64) -> Option<Fault> {
        let plan = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, f)) = plan.at.iter().find(|(at, _)| *at == n) {
            return Some(f.clone());
        }
        plan.random.iter().enumerate().find_map(|(i, (f, p))| {
            (rng::unit(self.opts.seed, n, FAULT_BASE + i as u64) < *p).then(|| f.clone())
        })
    }

    /// Serves one request end to end.
    pub fn handle(&self, req: &Request) -> Outcome {
        if req.path == "/_emulator" || req.path.starts_with("/_emulator/") {
            return Outcome::Reply(crate::inspect::handle(self, req));
        }
        let n = self.stats.begin();
        let cid = rng::uuid(self.opts.seed, n, CORRELATION);
        let token = bearer(req);
        let fault = self.fault_for(n);
        self.latency(n);
        let Matched {
            route,
            family,
            template,
        } = self.matched(req);
        let is_batch = matches!(route, Route::Batch(..) | Route::Associations(..));
        let mut log = RequestLog {
            number: n,
            method: req.method.clone(),
            path: req.path.clone(),
            status: None,
            inputs: None,
            fault: fault.as_ref().map(|f| f.to_string()),
        };
        if matches!(fault, Some(Fault::DropConnection)) {
            log.inputs = batch_inputs(req).filter(|_| is_batch);
            self.stats.end(&template, log);
            return Outcome::Drop;
        }
        let now = Instant::now();
        let early = fault.and_then(|f| self.fault_answer(&f, token, &cid));
        let mut resp = match early {
            Some(r) => with_headers(r, self.access.peek(token, now), &cid),
            None => {
                let (resp, inputs) = self.dispatch(req, &route, family, token, &cid, now);
                log.inputs = inputs;
                resp
            }
        };
        if resp.status == 204 {
            resp.content_type = "";
        }
        if log.inputs.is_none() && is_batch {
            // Refused or faulted before the endpoint parsed it: count the
            // inputs anyway so tests can match records in to records out.
            log.inputs = batch_inputs(req);
        }
        log.status = Some(resp.status);
        self.stats.end(&template, log);
        Outcome::Reply(resp)
    }

    /// Sleeps the configured latency plus request `n`'s seeded jitter.
    fn latency(&self, n: u64) {
        let lat = self.opts.latency;
        let jitter = match lat.jitter_ms {
            0 => 0,
            j => rng::draw(self.opts.seed, n, JITTER) % (j + 1),
        };
        if lat.fixed_ms + jitter > 0 {
            self.sleep(lat.fixed_ms + jitter);
        }
    }

    /// The request's route, family and stats template; a legacy path is
    /// unknown once the options say legacy paths are gone.
    fn matched(&self, req: &Request) -> Matched {
        let mut m = routes::route(&req.method, &req.path, self.opts.portal_id);
        if m.family == ApiFamily::Legacy && self.opts.legacy_paths == LegacyPaths::Gone {
            // After the sunset a legacy path is simply unknown; its template
            // stays, so a test can count the 404s a client collected there.
            m.route = Route::NotFound;
        }
        m
    }

    /// Applies an injected fault (other than a dropped connection): the
    /// answer that replaces the endpoint's, or `None` when the request goes
    /// on (after a delay, or with its token now expired).
    fn fault_answer(&self, fault: &Fault, token: Option<&str>, cid: &str) -> Option<Response> {
        match fault {
            Fault::Status(s) => Some(errors::server_error(cid, *s)),
            Fault::HtmlStatus(s) => Some(errors::html_error(*s)),
            Fault::TooManyRequests { retry_after_secs } => {
                let mut r = errors::rate_limited(cid, Policy::TenSecondly);
                if let Some(s) = retry_after_secs {
                    r = r.with_header("Retry-After", s.to_string());
                }
                Some(r)
            }
            Fault::Delay(ms) => {
                self.sleep(*ms);
                None
            }
            Fault::ExpireToken => {
                if let Some(t) = token {
                    self.access.expire(t);
                }
                None
            }
            Fault::DropConnection => None,
        }
    }

    /// Auth, rate limit and the endpoint itself.
    fn dispatch(
        &self,
        req: &Request,
        route: &Route,
        family: ApiFamily,
        token: Option<&str>,
        cid: &str,
        now: Instant,
    ) -> (Response, Option<usize>) {
        if !route.needs_auth() {
            let headers = self.access.peek(None, now);
            let resp = match route {
                Route::OAuthToken => crate::account::oauth_token(self, req, cid, family),
                _ => errors::not_found(cid, "resource not found"),
            };
            return (with_headers(resp, headers, cid), None);
        }
        let (caller, headers) = match self.access.admit(token, now) {
            Ok(ok) => ok,
            Err((denial, headers)) => {
                let resp = match denial {
                    Denial::Invalid => errors::invalid_auth(cid),
                    Denial::Expired => errors::expired_auth(cid),
                    Denial::Burst => errors::rate_limited(cid, Policy::TenSecondly),
                    Denial::Daily => errors::rate_limited(cid, Policy::Daily),
                };
                return (with_headers(resp, headers, cid), None);
            }
        };
        let ctx = Ctx {
            hub: self,
            req,
            cid,
            caller,
            family,
            inputs: Cell::new(None),
        };
        let resp = match route {
            Route::Batch(ty, op) => crate::objects::batch(&ctx, *ty, *op),
            Route::GetObject(ty, id) => crate::objects::get_one(&ctx, *ty, id),
            Route::ListObjects(ty) => crate::objects::list(&ctx, *ty),
            Route::CreateObject(ty) => crate::objects::write_one(&ctx, *ty, None),
            Route::UpdateObject(ty, id) => crate::objects::write_one(&ctx, *ty, Some(id)),
            Route::DeleteObject(ty, id) => crate::objects::delete_one(&ctx, *ty, id),
            Route::ListProperties(ty) => crate::account::list_properties(&ctx, *ty),
            Route::GetProperty(ty, name) => crate::account::get_property(&ctx, *ty, name),
            Route::CreateProperty(ty) => crate::account::create_property(&ctx, *ty),
            Route::ListPipelines(ty) => crate::pipelines::list(&ctx, *ty),
            Route::ListSchemas => crate::schemas::list(&ctx),
            Route::Associations(from, to, op) => crate::associations::batch(&ctx, *from, *to, *op),
            Route::GetSchema(ty) => crate::schemas::get(&ctx, ty),
            Route::AccountDetails => crate::account::details(&ctx),
            Route::DailyUsage => crate::account::daily_usage(&ctx),
            Route::OAuthToken | Route::NotFound => errors::not_found(cid, "resource not found"),
        };
        (with_headers(resp, headers, cid), ctx.inputs.get())
    }
}

/// Adds the rate-limit and correlation headers every response carries.
fn with_headers(mut resp: Response, headers: RateHeaders, cid: &str) -> Response {
    resp.headers.extend(headers.to_pairs());
    resp.headers
        .push(("X-HubSpot-Correlation-Id".to_string(), cid.to_string()));
    resp
}

/// The number of `inputs` in a batch body, if it parses.
fn batch_inputs(req: &Request) -> Option<usize> {
    serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|b| b.get("inputs").and_then(Value::as_array).map(Vec::len))
}

/// The bearer token, if the request carries one.
fn bearer(req: &Request) -> Option<&str> {
    let v = req.header("authorization")?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// What an endpoint gets: the account, the request and the admitted caller.
pub(crate) struct Ctx<'a> {
    pub hub: &'a Hub,
    pub req: &'a Request,
    pub cid: &'a str,
    pub caller: Caller,
    /// The path family the request came through (legacy or a date version).
    pub family: ApiFamily,
    /// The batch size, for the request log.
    pub inputs: Cell<Option<usize>>,
}

impl Ctx<'_> {
    /// `Err(403)` unless the caller holds at least one of `any_of`.
    pub fn require(&self, any_of: &[String]) -> Result<(), Response> {
        if any_of.iter().any(|s| self.caller.scopes.contains(s)) {
            Ok(())
        } else {
            Err(errors::missing_scopes(self.cid, any_of))
        }
    }

    /// The body as JSON, or HubSpot's invalid-JSON 400.
    pub fn json(&self) -> Result<Value, Response> {
        serde_json::from_slice(&self.req.body).map_err(|e| errors::invalid_json(self.cid, &e))
    }

    /// Query parameter values for `name`; comma-separated lists and repeated
    /// parameters are both flattened.
    pub fn query_list(&self, name: &str) -> Vec<String> {
        self.req
            .query_pairs()
            .into_iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        self.req
            .query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}
