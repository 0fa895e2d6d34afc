//! The emulated Cloudflare API: routing, auth, rate limit, faults, certificate logic.

use std::cell::Cell;
use std::thread;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::http::{Request, Response};
use crate::model::{
    Account, Cert, Fault, FaultKind, RateLimit, RateOutcome, State, DAY_US, NIL_UUID,
};
use crate::util::{is_account_id, is_uuid, now_us};
use crate::{Action, Shared, BASE_PATH};

pub const CODE_INTERNAL: u64 = 1000;
pub const CODE_BAD_JSON: u64 = 1002;
pub const CODE_VALIDITY: u64 = 1003;
pub const CODE_NOT_FOUND: u64 = 1101;
pub const CODE_CUSTOM: u64 = 1102;
pub const CODE_IN_USE: u64 = 1103;
pub const CODE_CREATE_LIMIT: u64 = 1104;
pub const CODE_ACTIVE_LIMIT: u64 = 1105;
pub const CODE_PENDING_DELETION: u64 = 1106;
/// PATCH/PUT of the configuration naming a certificate that is not `available`. The schema
/// only says "4XX" and "Certificate must be active on the edge": 400 and this code are ours.
pub const CODE_NOT_AVAILABLE: u64 = 1107;
/// A configuration body that does not fit the schema (a block that is not an object, a
/// `certificate` block without a UUID `id`): 400, code ours.
pub const CODE_BAD_SETTINGS: u64 = 1108;
/// The real API's code for enabling TLS decryption without a `certificate` block.
pub const CODE_TLS_NO_CERT: u64 = 2211;
pub const CODE_RATE_LIMITED: u64 = 971;

/// What the rate limiter decided for the request this thread is handling (a connection is
/// one thread and one request): (allowed, at µs, window start µs). Read into the log entry.
#[derive(Clone, Copy)]
struct RateNote {
    allowed: bool,
    at_us: u64,
    window_start_us: u64,
}

thread_local! {
    static RATE_NOTE: Cell<Option<RateNote>> = const { Cell::new(None) };
}

pub fn envelope_failure(errors: Value) -> Value {
    json!({"success": false, "errors": errors, "messages": [], "result": null})
}

pub fn failure(status: u16, code: u64, message: &str) -> Response {
    Response::json(
        status,
        &envelope_failure(json!([{"code": code, "message": message}])),
    )
}

fn success(status: u16, result: Value) -> Response {
    Response::json(
        status,
        &json!({"success": true, "errors": [], "messages": [], "result": result}),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Collection,
    Item(String),
    Activate(String),
    Deactivate(String),
    /// `.../gateway/configuration`
    Configuration,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub account: String,
    pub target: Target,
}

impl Route {
    fn cert_id(&self) -> Option<&str> {
        match &self.target {
            Target::Collection | Target::Configuration => None,
            Target::Item(id) | Target::Activate(id) | Target::Deactivate(id) => Some(id),
        }
    }
}

pub fn parse_route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix(BASE_PATH)?.strip_prefix("/accounts/")?;
    let segs: Vec<&str> = rest.split('/').collect();
    let (account, target) = match segs.as_slice() {
        [a, "gateway", "configuration"] => (a, Target::Configuration),
        [a, "gateway", "certificates", rest @ ..] => (
            a,
            match rest {
                [] => Target::Collection,
                [id] if !id.is_empty() => Target::Item(id.to_string()),
                [id, "activate"] if !id.is_empty() => Target::Activate(id.to_string()),
                [id, "deactivate"] if !id.is_empty() => Target::Deactivate(id.to_string()),
                _ => return None,
            },
        ),
        _ => return None,
    };
    if account.is_empty() {
        return None;
    }
    Some(Route {
        account: account.to_string(),
        target,
    })
}

/// The account of any path under `/client/v4/accounts/{a}/`, when it is a valid id (whose own
/// quota, if it has one, an unrouted request counts against).
fn account_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(BASE_PATH)?.strip_prefix("/accounts/")?;
    let a = rest.split('/').next()?;
    is_account_id(a).then_some(a)
}

fn op_for(target: &Target, method: &str) -> Option<&'static str> {
    Some(match (target, method) {
        (Target::Collection, "GET") => "list",
        (Target::Collection, "POST") => "create",
        (Target::Item(_), "GET") => "get",
        (Target::Item(_), "DELETE") => "delete",
        (Target::Activate(_), "POST") => "activate",
        (Target::Deactivate(_), "POST") => "deactivate",
        (Target::Configuration, "GET") => "get_configuration",
        (Target::Configuration, "PATCH") => "patch_configuration",
        (Target::Configuration, "PUT") => "put_configuration",
        _ => return None,
    })
}

pub struct Auth {
    /// "token" | "key" | "none" | "invalid" (for the log).
    pub label: &'static str,
    /// Which rate-limit bucket ("user") this credential belongs to.
    pub user: Option<&'static str>,
    pub write: bool,
    pub error: Option<Response>,
}

fn auth_fail(label: &'static str, resp: Response) -> Auth {
    Auth {
        label,
        user: None,
        write: false,
        error: Some(resp),
    }
}

fn invalid_headers(chain_code: u64, chain_msg: &str) -> Response {
    Response::json(
        400,
        &envelope_failure(json!([{
            "code": 6003,
            "message": "Invalid request headers",
            "error_chain": [{"code": chain_code, "message": chain_msg}]
        }])),
    )
}

pub fn authenticate(st: &State, req: &Request) -> Auth {
    let cfg = &st.cfg;
    let authz = req.header("authorization");
    let email = req.header("x-auth-email");
    let key = req.header("x-auth-key");
    let has_key_scheme = email.is_some() || key.is_some();
    match (authz, has_key_scheme) {
        (None, false) => auth_fail(
            "none",
            failure(
                400,
                10001,
                "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
            ),
        ),
        (Some(_), true) => auth_fail(
            "invalid",
            Response::json(
                400,
                &envelope_failure(json!([{"code": 6003, "message": "Invalid request headers"}])),
            ),
        ),
        (Some(a), false) => {
            let token = match a.split_once(' ') {
                Some((scheme, t))
                    if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() =>
                {
                    t.trim()
                }
                _ => {
                    return auth_fail(
                        "invalid",
                        invalid_headers(6111, "Invalid format for Authorization header"),
                    )
                }
            };
            if token == cfg.token {
                Auth {
                    label: "token",
                    user: Some("token"),
                    write: true,
                    error: None,
                }
            } else if token == cfg.read_only_token {
                Auth {
                    label: "token",
                    user: Some("read_only_token"),
                    write: false,
                    error: None,
                }
            } else {
                auth_fail("invalid", failure(401, 10000, "Authentication error"))
            }
        }
        (None, true) => {
            let (Some(email), Some(key)) = (email, key) else {
                return if email.is_none() {
                    auth_fail(
                        "invalid",
                        invalid_headers(6102, "Invalid format for X-Auth-Email header"),
                    )
                } else {
                    auth_fail(
                        "invalid",
                        invalid_headers(6103, "Invalid format for X-Auth-Key header"),
                    )
                };
            };
            if email.eq_ignore_ascii_case(&cfg.email) && key == cfg.key {
                Auth {
                    label: "key",
                    user: Some("key"),
                    write: true,
                    error: None,
                }
            } else {
                auth_fail(
                    "invalid",
                    failure(403, 9103, "Unknown X-Auth-Key or X-Auth-Email"),
                )
            }
        }
    }
}

fn set_rl_headers(resp: &mut Response, rl: RateLimit, out: &RateOutcome) {
    if resp.header("ratelimit").is_none() {
        resp.set_header(
            "Ratelimit",
            &format!("\"default\";r={};t={}", out.remaining, out.reset_s),
        );
    }
    if resp.header("ratelimit-policy").is_none() {
        resp.set_header(
            "Ratelimit-Policy",
            &format!("\"default\";q={};w={}", rl.limit, rl.window_s()),
        );
    }
}

/// Add the headers of the window this request would count against, without counting it.
pub(crate) fn with_peek(
    shared: &Shared,
    mut resp: Response,
    account: Option<&str>,
    user: Option<&'static str>,
) -> Response {
    let st = shared.lock();
    let (rl, out) = st.peek(account, user, now_us());
    set_rl_headers(&mut resp, rl, &out);
    resp
}

fn too_many(out: &RateOutcome) -> Response {
    let mut r = failure(
        429,
        CODE_RATE_LIMITED,
        "Please wait and consider throttling your request speed",
    );
    r.set_header("Retry-After", &out.reset_s.to_string());
    r
}

/// Count a request that never reaches an operation (unknown route, wrong method, invalid
/// account id) if its credentials are good: it gets 429 in a lockout like any other; with
/// bad credentials it is not counted and shows the window it would count against.
fn counted(shared: &Shared, req: &Request, account: Option<&str>, resp: Response) -> Response {
    let mut st = shared.lock();
    let now = now_us();
    let auth = authenticate(&st, req);
    match auth.user.filter(|_| auth.error.is_none()) {
        Some(user) => {
            let (rl, out, _) = st.hit(account, user, now);
            let mut resp = if out.allowed { resp } else { too_many(&out) };
            set_rl_headers(&mut resp, rl, &out);
            resp
        }
        None => {
            let (rl, out) = st.peek(account, None, now);
            let mut resp = resp;
            set_rl_headers(&mut resp, rl, &out);
            resp
        }
    }
}

pub fn handle(shared: &Shared, req: &Request) -> Action {
    let Some(route) = parse_route(&req.path) else {
        let r = failure(404, 7003, "No route for the URI");
        return Action::Respond(counted(shared, req, account_of(&req.path), r));
    };
    let Some(op) = op_for(&route.target, &req.method) else {
        let r = failure(405, 10405, "Method not allowed");
        return Action::Respond(counted(shared, req, account_of(&req.path), r));
    };
    if !is_account_id(&route.account) {
        let r = could_not_route(&req.path);
        return Action::Respond(counted(shared, req, None, r));
    }
    let received_us = now_us();
    RATE_NOTE.with(|n| n.set(None));
    let (auth, fault, random) = {
        let mut st = shared.lock();
        let auth = authenticate(&st, req);
        let acc = st.account(&route.account);
        acc.requests += 1;
        match take_fault(acc, op) {
            Some(f) => (auth, Some(f), None),
            None => match acc
                .fault_rate
                .as_mut()
                .and_then(|fr| fr.roll(op, &req.method, &req.path))
            {
                Some(k) => {
                    *acc.faults_injected.entry(k.name().to_string()).or_insert(0) += 1;
                    (auth, Some(k.fault()), Some(k))
                }
                None => (auth, None, None),
            },
        }
    };
    // No queued fault was taken (`queued` false) when the random decision ran.
    let queued = fault.is_some() && random.is_none();
    let fault_name = match random {
        Some(k) => Some(k.name()),
        None => fault.as_ref().map(|f| f.kind.name()),
    };
    let action = match fault {
        None => Action::Respond(process(shared, req, &route, op, auth)),
        Some(f) => apply_fault(shared, req, &route, op, auth, f),
    };
    let (status, retry_after) = match &action {
        Action::Respond(r) | Action::Drip(r, _) | Action::ResetMidBody(r) => (
            json!(r.status),
            r.header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Value::Null, |v| json!(v)),
        ),
        Action::Hang | Action::Reset => (Value::Null, Value::Null),
    };
    let note = RATE_NOTE.with(|n| n.take());
    let entry = json!({
        "method": req.method,
        "path": req.path,
        "op": op,
        "status": status,
        "auth": auth_label(shared, req),
        "fault": fault_name,
        // When the request arrived (µs since the epoch, emulator clock).
        "t_us": received_us,
        // The rate limiter: "allowed" (counted in the window), "limited" (answered 429), or
        // null (never reached it: a fault, a bad id or bad credentials).
        "rate": note.map_or(Value::Null, |n| json!(if n.allowed { "allowed" } else { "limited" })),
        "rate_at_us": note.map_or(Value::Null, |n| json!(n.at_us)),
        "window_start_us": note.map_or(Value::Null, |n| json!(n.window_start_us)),
        // Retry-After (seconds) of the answer, when it had one.
        "retry_after_s": retry_after,
    });
    {
        let mut st = shared.lock();
        let acc = st.account(&route.account);
        if !queued && random.is_none() && note.is_some_and(|n| !n.allowed) {
            // Turned away by the limiter with no fault: its retry is the same logical request.
            if let Some(fr) = acc.fault_rate.as_mut() {
                fr.unroll(op, &req.method, &req.path);
            }
        }
        acc.log.push(entry);
        if acc.log.len() > 100_000 {
            acc.log.drain(..50_000);
        }
    }
    action
}

fn auth_label(shared: &Shared, req: &Request) -> &'static str {
    authenticate(&shared.lock(), req).label
}

fn could_not_route(path: &str) -> Response {
    failure(
        400,
        7003,
        &format!("Could not route to {path}, perhaps your object identifier is invalid?"),
    )
}

fn take_fault(acc: &mut Account, op: &str) -> Option<Fault> {
    let idx = acc
        .faults
        .iter()
        .position(|f| f.op.as_deref().map_or(true, |o| o == op))?;
    let f = &mut acc.faults[idx];
    f.times -= 1;
    let out = f.clone();
    if f.times == 0 {
        acc.faults.remove(idx);
    }
    Some(out)
}

const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>{STATUS} {REASON}</title></head>\n<body><center><h1>{STATUS} {REASON}</h1></center>\n<hr><center>cloudflare</center>\n<!-- emulated Cloudflare error page: the origin or edge failed; try again later --></body></html>\n";

fn apply_fault(
    shared: &Shared,
    req: &Request,
    route: &Route,
    op: &'static str,
    auth: Auth,
    f: Fault,
) -> Action {
    let user = auth.user;
    let account = Some(route.account.as_str());
    let add_headers = |mut r: Response| -> Response {
        for (k, v) in &f.headers {
            r.set_header(k, v);
        }
        r
    };
    match f.kind {
        FaultKind::Latency => {
            thread::sleep(Duration::from_millis(f.delay_ms));
            Action::Respond(add_headers(process(shared, req, route, op, auth)))
        }
        FaultKind::Hang => {
            if f.apply {
                let _ = process(shared, req, route, op, auth);
            }
            Action::Hang
        }
        FaultKind::Reset => {
            if f.apply {
                let _ = process(shared, req, route, op, auth);
            }
            Action::Reset
        }
        FaultKind::ResetMidBody => {
            let r = if f.apply {
                process(shared, req, route, op, auth)
            } else {
                let fake = Cert::generate(now_us(), 1825);
                with_peek(shared, success(200, Value::Object(fake.f)), account, user)
            };
            Action::ResetMidBody(add_headers(r))
        }
        FaultKind::Drip => {
            let r = process(shared, req, route, op, auth);
            Action::Drip(add_headers(r), f.delay_ms)
        }
        FaultKind::Html => {
            let status = f.status.unwrap_or(502);
            let mut r = Response::new(status);
            r.set_header("Content-Type", "text/html; charset=UTF-8");
            r.body = f
                .body
                .clone()
                .unwrap_or_else(|| {
                    HTML_PAGE
                        .replace("{STATUS}", &status.to_string())
                        .replace("{REASON}", crate::http::reason(status))
                })
                .into_bytes();
            Action::Respond(add_headers(with_peek(shared, r, account, user)))
        }
        FaultKind::MalformedJson => {
            let mut r = Response::new(f.status.unwrap_or(200));
            r.set_header("Content-Type", "application/json");
            r.body = f
                .body
                .clone()
                .unwrap_or_else(|| "{\"success\":true,\"result\":{\"id\":".into())
                .into_bytes();
            Action::Respond(add_headers(with_peek(shared, r, account, user)))
        }
        FaultKind::SuccessFalse => {
            let mut r = failure(
                f.status.unwrap_or(200),
                1001,
                "Emulated failure: the request could not be completed",
            );
            if let Some(b) = &f.body {
                r.body = b.clone().into_bytes();
            }
            Action::Respond(add_headers(with_peek(shared, r, account, user)))
        }
        FaultKind::ResultNull => {
            let mut r = success(f.status.unwrap_or(200), Value::Null);
            if let Some(b) = &f.body {
                r.body = b.clone().into_bytes();
            }
            Action::Respond(add_headers(with_peek(shared, r, account, user)))
        }
        FaultKind::Status => {
            let status = f.status.unwrap_or(503);
            let mut r = match status {
                429 => failure(
                    429,
                    971,
                    "Please wait and consider throttling your request speed",
                ),
                s if s >= 500 => failure(s, CODE_INTERNAL, crate::http::reason(s)),
                s => failure(s, 1000 + s as u64, crate::http::reason(s)),
            };
            if status < 200 || status == 204 || status == 304 {
                r.body.clear();
            }
            if let Some(b) = &f.body {
                r.body = b.clone().into_bytes();
            }
            Action::Respond(add_headers(with_peek(shared, r, account, user)))
        }
    }
}

fn is_write(op: &str) -> bool {
    !matches!(op, "list" | "get" | "get_configuration")
}

/// Normal handling: rate limit (for good credentials), id check, auth, then the operation.
/// Every request with good credentials is counted, whatever its answer; one with bad
/// credentials is not (it has no user) and shows the window it would count against.
fn process(
    shared: &Shared,
    req: &Request,
    route: &Route,
    op: &'static str,
    auth: Auth,
) -> Response {
    let mut guard = shared.lock();
    // Read the clock under the lock, so that window bookkeeping is monotonic across threads.
    let now = now_us();
    let st = &mut *guard;
    let account = route.account.as_str();
    let user = auth.user.filter(|_| auth.error.is_none());
    let (rl, outcome) = match user {
        Some(u) => {
            let (rl, o, window_start_us) = st.hit(Some(account), u, now);
            RATE_NOTE.with(|n| {
                n.set(Some(RateNote {
                    allowed: o.allowed,
                    at_us: now,
                    window_start_us,
                }))
            });
            (rl, o)
        }
        None => st.peek(Some(account), None, now),
    };
    let bad_id = route.cert_id().is_some_and(|id| !is_uuid(id));
    let mut resp = if user.is_some() && !outcome.allowed {
        too_many(&outcome)
    } else if bad_id {
        could_not_route(&req.path)
    } else if let Some(err) = auth.error {
        err
    } else if !auth.write && is_write(op) {
        failure(403, 10000, "Authentication error")
    } else {
        run(st.account(account), op, route.cert_id(), &req.body, now)
    };
    set_rl_headers(&mut resp, rl, &outcome);
    // An account may answer without the pacing headers (as the API did before 2025-09), to
    // test clients that must not depend on them; a 429 keeps its Retry-After.
    if st
        .accounts
        .get(account)
        .is_some_and(|a| !a.ratelimit_headers)
    {
        resp.headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case("ratelimit")
                && !name.eq_ignore_ascii_case("ratelimit-policy")
        });
    }
    resp
}

fn not_found() -> Response {
    failure(404, CODE_NOT_FOUND, "Certificate not found")
}

fn cert_value(c: &Cert) -> Value {
    Value::Object(c.f.clone())
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, Response> {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(failure(
            400,
            CODE_BAD_JSON,
            "The request body must be a JSON object",
        )),
        Err(_) => Err(failure(
            400,
            CODE_BAD_JSON,
            "Malformed JSON in request body",
        )),
    }
}

/// The certificate operations, with the account locked.
fn run(acc: &mut Account, op: &str, id: Option<&str>, body: &[u8], now: u64) -> Response {
    match op {
        "list" => {
            acc.settle(now);
            let list: Vec<Value> = acc.certs.iter().map(cert_value).collect();
            let n = list.len();
            Response::json(
                200,
                &json!({
                    "success": true, "errors": [], "messages": [], "result": list,
                    "result_info": {"page": 1, "per_page": n, "count": n, "total_count": n}
                }),
            )
        }
        "create" => {
            let body = match parse_body(body) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let days = match body.get("validity_period_days") {
                None | Some(Value::Null) => 1825,
                Some(v) => match v.as_u64().filter(|d| (1..=10950).contains(d)) {
                    Some(d) => d,
                    None => {
                        return failure(
                            400,
                            CODE_VALIDITY,
                            "validity_period_days must be an integer between 1 and 10950",
                        )
                    }
                },
            };
            // A rolling 24 hours; deleting a certificate gives nothing back.
            acc.creations.retain(|t| now < t.saturating_add(DAY_US));
            if acc.creations.len() as u64 >= acc.create_limit {
                return failure(
                    400,
                    CODE_CREATE_LIMIT,
                    &format!(
                        "Up to {} certificates may be created in a 24 hour period",
                        acc.create_limit
                    ),
                );
            }
            acc.creations.push(now);
            let c = Cert::generate(now, days);
            let v = cert_value(&c);
            acc.certs.push(c);
            success(200, v)
        }
        "get" => match id.and_then(|id| acc.find(id, now)) {
            Some(i) => success(200, cert_value(&acc.certs[i])),
            None => not_found(),
        },
        "delete" => {
            let Some(i) = id.and_then(|id| acc.find(id, now)) else {
                return not_found();
            };
            let c = &acc.certs[i];
            if c.is_custom() {
                return failure(
                    400,
                    CODE_CUSTOM,
                    "Custom (BYO-PKI) certificates cannot be deleted with this endpoint",
                );
            }
            if c.in_use() {
                return failure(
                    400,
                    CODE_IN_USE,
                    "The certificate is in use by Gateway TLS inspection and cannot be deleted",
                );
            }
            if c.status() != "inactive" {
                return failure(500, CODE_INTERNAL, "Internal Server Error");
            }
            let c = acc.certs.remove(i);
            *acc.deleted.entry(c.id().to_string()).or_insert(0) += 1;
            success(200, cert_value(&c))
        }
        "activate" => {
            let Some(i) = id.and_then(|id| acc.find(id, now)) else {
                return not_found();
            };
            match acc.certs[i].status() {
                "pending_deployment" | "available" | "active" => {
                    return success(202, cert_value(&acc.certs[i]))
                }
                "pending_deletion" => {
                    return failure(
                        400,
                        CODE_PENDING_DELETION,
                        "The certificate is being deactivated; wait until it is inactive before activating it",
                    )
                }
                _ => {}
            }
            // `pending_deployment` counts: it becomes `available` on its own.
            acc.settle(now);
            if acc.deployed_count(Some(i)) >= acc.available_limit {
                return failure(
                    400,
                    CODE_ACTIVE_LIMIT,
                    &format!(
                        "At most {} certificates can be available at once; deactivate one first",
                        acc.available_limit
                    ),
                );
            }
            let (a, d) = (acc.activate_ms, acc.deactivate_ms);
            acc.certs[i].set_status("pending_deployment", now, a, d);
            success(202, cert_value(&acc.certs[i]))
        }
        "deactivate" => {
            let Some(i) = id.and_then(|id| acc.find(id, now)) else {
                return not_found();
            };
            if acc.certs[i].in_use() {
                return failure(
                    400,
                    CODE_IN_USE,
                    "The certificate is in use by Gateway TLS inspection and cannot be deactivated",
                );
            }
            match acc.certs[i].status() {
                "inactive" | "pending_deletion" => {}
                _ => {
                    let (a, d) = (acc.activate_ms, acc.deactivate_ms);
                    acc.certs[i].set_status("pending_deletion", now, a, d);
                }
            }
            success(201, cert_value(&acc.certs[i]))
        }
        "get_configuration" => {
            acc.settle(now);
            success(200, acc.config.to_json())
        }
        "patch_configuration" => configure(acc, body, now, false),
        "put_configuration" => configure(acc, body, now, true),
        _ => failure(405, 10405, "Method not allowed"),
    }
}

fn bad_settings(message: &str) -> Response {
    failure(400, CODE_BAD_SETTINGS, message)
}

/// PATCH (`replace_all` false): each top-level `settings` block the body names replaces that
/// block wholly, the others stay. PUT (`replace_all` true): the body's `settings` become the
/// whole configuration, so a PUT without a `certificate` block turns the certificate in use
/// off (Cloudflare's root CA). Nothing changes unless the whole body is accepted.
fn configure(acc: &mut Account, body: &[u8], now: u64, replace_all: bool) -> Response {
    let body = match parse_body(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let given = match body.get("settings") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return bad_settings("settings must be an object"),
    };
    for (name, block) in &given {
        if !block.is_object() {
            return bad_settings(&format!("settings.{name} must be an object"));
        }
    }
    let mut settings = if replace_all {
        Map::new()
    } else {
        acc.config.settings.clone()
    };
    for (name, block) in &given {
        settings.insert(name.clone(), block.clone());
    }
    // Which certificate is to be in use: Some(None) = Cloudflare's root CA (no certificate of
    // the account), Some(Some(i)) = the account's certificate i, None = leave as it is.
    let in_use = match settings.get("certificate") {
        Some(block) if replace_all || given.contains_key("certificate") => {
            let Some(id) = block.get("id").and_then(Value::as_str) else {
                return bad_settings("settings.certificate.id is required (a certificate UUID)");
            };
            if id == NIL_UUID {
                Some(None)
            } else if !is_uuid(id) {
                return bad_settings("settings.certificate.id must be a UUID");
            } else {
                // Unknown: 400 (the route exists; the body names something missing), with the
                // certificate routes' not-found code. Our choice: the schema only says 4XX.
                let Some(i) = acc.find(id, now) else {
                    return failure(
                        400,
                        CODE_NOT_FOUND,
                        &format!("Certificate {id} not found in this account"),
                    );
                };
                let status = acc.certs.get(i).map_or("", Cert::status);
                if !matches!(status, "available" | "active") {
                    return failure(
                        400,
                        CODE_NOT_AVAILABLE,
                        &format!(
                            "Certificate {id} is {status}: only an available certificate can be used for TLS inspection (activate it and wait until it is available)"
                        ),
                    );
                }
                Some(Some(i))
            }
        }
        Some(_) => None,
        None if replace_all => Some(None),
        None => None,
    };
    let tls_on = settings
        .get("tls_decrypt")
        .and_then(|t| t.get("enabled"))
        .and_then(Value::as_bool)
        == Some(true);
    if tls_on && given.contains_key("tls_decrypt") && !settings.contains_key("certificate") {
        return failure(
            400,
            CODE_TLS_NO_CERT,
            "TLS decryption cannot be enabled without a certificate",
        );
    }
    if let Some(index) = in_use {
        acc.set_in_use(index);
    }
    acc.config.settings = settings;
    acc.config.updated_at_us = now;
    success(200, acc.config.to_json())
}
