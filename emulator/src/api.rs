//! The emulated Cloudflare API: routing, auth, rate limit, faults, certificate logic.

use std::cell::Cell;
use std::thread;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::http::{Request, Response};
use crate::model::{Account, Cert, Fault, FaultKind, RateLimit, RateOutcome, State, DAY_US};
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
}

#[derive(Debug, Clone)]
pub struct Route {
    pub account: String,
    pub target: Target,
}

impl Route {
    fn cert_id(&self) -> Option<&str> {
        match &self.target {
            Target::Collection => None,
            Target::Item(id) | Target::Activate(id) | Target::Deactivate(id) => Some(id),
        }
    }
}

pub fn parse_route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix(BASE_PATH)?.strip_prefix("/accounts/")?;
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.len() < 3 || segs[1] != "gateway" || segs[2] != "certificates" || segs[0].is_empty() {
        return None;
    }
    let account = segs[0].to_string();
    let target = match &segs[3..] {
        [] => Target::Collection,
        [id] if !id.is_empty() => Target::Item(id.to_string()),
        [id, "activate"] if !id.is_empty() => Target::Activate(id.to_string()),
        [id, "deactivate"] if !id.is_empty() => Target::Deactivate(id.to_string()),
        _ => return None,
    };
    Some(Route { account, target })
}

fn op_for(target: &Target, method: &str) -> Option<&'static str> {
    Some(match (target, method) {
        (Target::Collection, "GET") => "list",
        (Target::Collection, "POST") => "create",
        (Target::Item(_), "GET") => "get",
        (Target::Item(_), "DELETE") => "delete",
        (Target::Activate(_), "POST") => "activate",
        (Target::Deactivate(_), "POST") => "deactivate",
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
            &format!(
                "\"default\";q={};w={}",
                rl.limit,
                rl.window_ms.div_ceil(1000)
            ),
        );
    }
}

/// The window a request would count against, without counting it.
fn peek(
    st: &State,
    account: Option<&str>,
    user: Option<&'static str>,
    now: u64,
) -> (RateLimit, RateOutcome) {
    if let Some(acc) = account.and_then(|a| st.accounts.get(a)) {
        if let Some(rl) = acc.rate_limit {
            return (rl, acc.window.peek(rl, now));
        }
    }
    let rl = st.user_limit();
    let w = user
        .and_then(|u| st.users.get(u))
        .cloned()
        .unwrap_or_default();
    (rl, w.peek(rl, now))
}

fn with_peek(
    shared: &Shared,
    mut resp: Response,
    account: Option<&str>,
    user: Option<&'static str>,
) -> Response {
    let st = shared.lock();
    let (rl, out) = peek(&st, account, user, now_us());
    set_rl_headers(&mut resp, rl, &out);
    resp
}

pub fn handle(shared: &Shared, req: &Request) -> Action {
    let Some(route) = parse_route(&req.path) else {
        let r = failure(404, 7003, "No route for the URI");
        return Action::Respond(with_peek(shared, r, None, None));
    };
    let Some(op) = op_for(&route.target, &req.method) else {
        let r = failure(405, 10405, "Method not allowed");
        return Action::Respond(with_peek(shared, r, None, None));
    };
    if !is_account_id(&route.account) {
        let r = could_not_route(&req.path);
        return Action::Respond(with_peek(shared, r, None, None));
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
    !matches!(op, "list" | "get")
}

/// Normal handling: id check, auth, rate limit, then the certificate logic.
fn process(
    shared: &Shared,
    req: &Request,
    route: &Route,
    op: &'static str,
    auth: Auth,
) -> Response {
    let account = Some(route.account.as_str());
    if let Some(id) = route.cert_id() {
        if !is_uuid(id) {
            return with_peek(shared, could_not_route(&req.path), account, auth.user);
        }
    }
    if let Some(err) = auth.error {
        return with_peek(shared, err, account, None);
    }
    if !auth.write && is_write(op) {
        return with_peek(
            shared,
            failure(403, 10000, "Authentication error"),
            account,
            auth.user,
        );
    }
    let mut guard = shared.lock();
    // Read the clock under the lock, so that window bookkeeping is monotonic across threads.
    let now = now_us();
    let st = &mut *guard;
    let user_rl = st.user_limit();
    let acc = st
        .accounts
        .entry(route.account.clone())
        .or_insert_with(|| Account::empty(&st.cfg));
    let (rl, outcome, window_start_us) = match acc.rate_limit {
        Some(rl) => {
            let o = acc.window.hit(rl, now);
            (rl, o, acc.window.start_us)
        }
        None => {
            let w = st.users.entry(auth.user.unwrap_or("token")).or_default();
            let o = w.hit(user_rl, now);
            (user_rl, o, w.start_us)
        }
    };
    RATE_NOTE.with(|n| {
        n.set(Some(RateNote {
            allowed: outcome.allowed,
            at_us: now,
            window_start_us,
        }))
    });
    let mut resp = if outcome.allowed {
        run(acc, op, route.cert_id(), &req.body, now)
    } else {
        let mut r = failure(
            429,
            971,
            "Please wait and consider throttling your request speed",
        );
        r.set_header("Retry-After", &outcome.reset_s.max(1).to_string());
        r
    };
    set_rl_headers(&mut resp, rl, &outcome);
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
            acc.creations.retain(|t| now < t + DAY_US);
            if acc.creations.len() as u64 >= acc.create_limit {
                return failure(
                    400,
                    CODE_CREATE_LIMIT,
                    &format!(
                        "Certificate generation limit reached: at most {} certificates can be generated per account per day",
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
            acc.settle(now);
            let deployed = acc
                .certs
                .iter()
                .enumerate()
                .filter(|(j, c)| *j != i && c.is_deployed())
                .count();
            if deployed >= 10 {
                return failure(
                    400,
                    CODE_ACTIVE_LIMIT,
                    "At most 10 certificates can be available at once; deactivate one first",
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
        _ => failure(405, 10405, "Method not allowed"),
    }
}
