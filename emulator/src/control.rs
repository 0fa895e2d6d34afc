//! The control API under `/__emulator/` (no auth): seeding, limits, faults, log, state.
//!
//! - `POST /__emulator/accounts/{a}` creates (replaces) an account. Body, all optional:
//!   `activate_ms`, `deactivate_ms`, `seed` (below; default `"demo"`), `fault_rate` (below),
//!   and the limits of `/limits` (`create_limit`, `available_limit`, `rate_limit`).
//!   Answers `{"account_id", "certificates": {role: certificate}}`.
//! - Seeds: `"demo"`: six certificates, one per role `inactive`, `available`,
//!   `pending_deployment`, `pending_deletion`, `in_use` (available, in use), `custom`
//!   (available, `type: custom`); tests across the repository rely on exactly these six.
//!   `"fleet"` (the startup account's default, `--seed`): 16 certificates for trying bulk
//!   retirement: `in_use`; `available_1`..`available_4`; `available_expired`; `inactive_1`..
//!   `inactive_3`; `inactive_expired_1`..`_3`; `pending_deployment` (becomes available after
//!   `activate_ms`); `pending_deletion_1`, `_2` (become inactive after `deactivate_ms`);
//!   `custom` (available). 8 count toward the available limit of 10; 4 have `expires_on` in the
//!   past. `"empty"`: none. With a certificate in use, a seed's configuration names it in
//!   `settings.certificate` and has `tls_decrypt` enabled.
//! - `POST /__emulator/accounts/{a}/limits` changes an existing account's limits, keeping its
//!   certificates; body, all optional: `create_limit` (API generations per rolling 24 hours,
//!   default 3), `available_limit` (certificates `available`, legacy `active` or
//!   `pending_deployment` at once, any type; default 10), `rate_limit: {limit, window_ms}` (the
//!   account's own fixed window instead of the per-user one; `null` goes back to the per-user
//!   one; naming it starts a new window), `reset_creations: true` (forget the generations of
//!   the last 24 hours), `ratelimit_headers: false` (answers without `Ratelimit` and
//!   `Ratelimit-Policy`, as before 2025-09; the limit still applies). `GET` (and the POST's
//!   answer): `create_limit`, `creations_24h`, `available_limit`, `available` (how many count
//!   now), `ratelimit_headers`, `rate_limit`.
//! - `POST /__emulator/rate-limits/reset` starts every window (per-user and per-account) anew.
//! - `POST /__emulator/accounts/{a}/certificates` adds certificates: `count` (1..5000), `id`
//!   (with count 1), `validity_period_days`, and any fields, stored verbatim (a given
//!   `binding_status` that is pending gets its transition scheduled). `PATCH
//!   /__emulator/accounts/{a}/certificates/{id}` sets fields the same way. Neither enforces
//!   the product limits (they can force states the API never produces: more than 10
//!   available, several in use). The Gateway configuration follows `in_use` set this way: it
//!   keeps naming its certificate while that one is in use, else names the last certificate in
//!   use, else (when it named one of the account's certificates) the nil UUID (root CA).
//! - `POST /__emulator/accounts/{a}/faults` queues one-shot faults (`{"faults": [...]}`, see
//!   [`crate::model::Fault`]); `GET` counts the pending ones, `DELETE` drops them. A fault's
//!   `op` is one of the API operations: `list`, `create`, `get`, `delete`, `activate`,
//!   `deactivate`, `get_configuration`, `patch_configuration`, `put_configuration`.
//! - `POST /__emulator/accounts/{a}/fault-rate` replaces the account's random fault
//!   injection; body: a `fault_rate` object, or `null` (or empty) to turn it off. `GET` shows it.
//! - `fault_rate`: `{"rate": 0.05, "kinds": ["status503","html502","reset"], "seed": 42,
//!   "ops": ["get","delete","deactivate"]}`. Every API request whose op is in `ops` (default:
//!   all nine operations) and that no queued fault (`/faults`) matched gets a fault with
//!   probability `rate`, its kind drawn uniformly from `kinds` (default `status503`,
//!   `html502`, `reset`): `status503` (503 JSON failure envelope), `html502` (502 HTML page),
//!   `reset` (RST before any answer, nothing processed), `reset_after` (processed, then RST:
//!   the answer is lost), `status429` (429 code 971 with `Retry-After: 1`). Injected faults
//!   other than `reset_after` never reach the rate limiter (their answers carry the headers of
//!   the window, uncounted). Each decision is a hash of `seed` (default 0), the request's
//!   method, its path below the account (lower-cased) and `n`, the count of earlier requests
//!   with that method and path (not counting any that got no fault and were then turned away
//!   by the rate limiter: their retry gets the same decision). So the same logical request
//!   (the 2nd `DELETE` of one certificate, say) gets the same fault whatever the interleaving
//!   of the others, and the limiter's timing does not shift the decisions. Setting a fault
//!   rate (here or at account creation) starts the counts afresh.
//! - `GET /__emulator/accounts/{a}/state`: `certificates`, `deleted` (id -> successful DELETEs),
//!   `requests` (API requests seen), `faults_injected` (random faults by kind), `fault_rate`,
//!   `rate_limit`, `limits` (as `GET /limits`), `configuration` (as the API's `result`).
//! - `GET /__emulator/accounts/{a}/log`: every API request on a known route and method:
//!   `method`, `path`, `op`, `status` (null for a reset), `auth`, `fault`, `t_us` (arrival, µs
//!   since the epoch), `rate` (`"allowed"`: counted in the window, `"limited"`: answered 429
//!   by the limiter, null: never reached it: a fault, or bad credentials), `rate_at_us` and
//!   `window_start_us` (the limiter's clock and window), `retry_after_s` (the answer's
//!   `Retry-After`, if any).

use serde_json::{json, Map, Value};

use crate::http::{Request, Response};
use crate::model::{schedule, Account, Cert, Fault, FaultRate, RateLimit, DAY_US};
use crate::util::{is_account_id, now_us, rfc3339};
use crate::Shared;

fn err(status: u16, msg: &str) -> Response {
    Response::json(status, &json!({"error": msg}))
}

fn ok(v: Value) -> Response {
    Response::json(200, &v)
}

fn body_object(req: &Request) -> Result<Map<String, Value>, Response> {
    let text = String::from_utf8_lossy(&req.body);
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(err(400, "body must be a JSON object")),
        Err(e) => Err(err(400, &format!("invalid JSON body: {e}"))),
    }
}

fn opt_u64(m: &Map<String, Value>, k: &str) -> Result<Option<u64>, Response> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| err(400, &format!("{k} must be a non-negative integer"))),
    }
}

pub fn handle(shared: &Shared, req: &Request) -> Response {
    let segs: Vec<&str> = req
        .path
        .trim_start_matches("/__emulator")
        .split('/')
        .skip(1)
        .collect();
    let m = req.method.as_str();
    match (m, segs.as_slice()) {
        ("GET", ["health"]) => ok(json!({"ok": true})),
        ("POST", ["rate-limits", "reset"]) => {
            let mut st = shared.lock();
            st.users.clear();
            for acc in st.accounts.values_mut() {
                acc.window = Default::default();
            }
            ok(json!({"ok": true}))
        }
        (_, ["accounts", a, rest @ ..]) => {
            if !is_account_id(a) {
                return err(400, "account id must be 1..32 ASCII alphanumerics");
            }
            match (m, rest) {
                ("POST", []) => create_account(shared, req, a),
                ("POST", ["certificates"]) => add_certs(shared, req, a),
                ("PATCH", ["certificates", id]) => patch_cert(shared, req, a, id),
                ("POST", ["faults"]) => add_faults(shared, req, a),
                ("DELETE", ["faults"]) => {
                    shared.lock().account(a).faults.clear();
                    ok(json!({"ok": true}))
                }
                ("GET", ["faults"]) => {
                    let n = shared.lock().account(a).faults.len();
                    ok(json!({"pending": n}))
                }
                ("GET", ["log"]) => {
                    let log = shared.lock().account(a).log.clone();
                    ok(json!({"requests": log}))
                }
                ("POST", ["fault-rate"]) => set_fault_rate(shared, req, a),
                ("POST", ["limits"]) => set_limits(shared, req, a),
                ("GET", ["limits"]) => {
                    let now = now_us();
                    let mut st = shared.lock();
                    let acc = st.account(a);
                    acc.settle(now);
                    ok(limits_json(acc, now))
                }
                ("GET", ["fault-rate"]) => {
                    let st = shared.lock();
                    let fr = st.accounts.get(*a).and_then(|acc| acc.fault_rate.as_ref());
                    ok(json!({"fault_rate": fr.map_or(Value::Null, FaultRate::to_json)}))
                }
                ("GET", ["state"]) => {
                    let now = now_us();
                    let mut st = shared.lock();
                    let acc = st.account(a);
                    acc.settle(now);
                    let certs: Vec<Value> = acc
                        .certs
                        .iter()
                        .map(|c| Value::Object(c.f.clone()))
                        .collect();
                    ok(json!({
                        "certificates": certs,
                        "deleted": acc.deleted,
                        "requests": acc.requests,
                        "faults_injected": acc.faults_injected,
                        "fault_rate": acc.fault_rate.as_ref().map_or(Value::Null, FaultRate::to_json),
                        "rate_limit": acc.rate_limit.map_or(Value::Null, |rl| json!({"limit": rl.limit, "window_ms": rl.window_ms})),
                        "limits": limits_json(acc, now),
                        "configuration": acc.config.to_json(),
                    }))
                }
                (_, [])
                | (_, ["certificates"])
                | (_, ["certificates", _])
                | (_, ["faults"])
                | (_, ["fault-rate"])
                | (_, ["limits"])
                | (_, ["log"])
                | (_, ["state"]) => err(405, "method not allowed"),
                _ => err(404, "no such control route"),
            }
        }
        _ => err(404, "no such control route"),
    }
}

/// `rate_limit`: `{limit, window_ms}` (window_ms > 0), or null for the per-user quota.
fn parse_rate_limit(v: &Value) -> Result<Option<RateLimit>, Response> {
    match v {
        Value::Null => Ok(None),
        Value::Object(rl) => {
            let limit = rl.get("limit").and_then(Value::as_u64);
            let window_ms = rl
                .get("window_ms")
                .and_then(Value::as_u64)
                .filter(|w| (1..=u64::MAX / 1000).contains(w));
            match (limit, window_ms) {
                (Some(limit), Some(window_ms)) => Ok(Some(RateLimit { limit, window_ms })),
                _ => Err(err(400, "rate_limit needs integer limit and window_ms > 0")),
            }
        }
        _ => Err(err(400, "rate_limit must be an object or null")),
    }
}

/// `create_limit`, `available_limit`, `rate_limit` (a named `rate_limit`, even null, also
/// starts a new window) and `reset_creations: true` (forget the last 24 hours' generations).
/// Validates everything before changing anything.
fn apply_limits(acc: &mut Account, body: &Map<String, Value>) -> Result<(), Response> {
    let create_limit = opt_u64(body, "create_limit")?;
    let available_limit = opt_u64(body, "available_limit")?;
    let rate_limit = match body.get("rate_limit") {
        None => None,
        Some(v) => Some(parse_rate_limit(v)?),
    };
    let reset_creations = match body.get("reset_creations") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(err(400, "reset_creations must be a boolean")),
    };
    let ratelimit_headers = match body.get("ratelimit_headers") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(err(400, "ratelimit_headers must be a boolean")),
    };
    if let Some(v) = ratelimit_headers {
        acc.ratelimit_headers = v;
    }
    if let Some(v) = create_limit {
        acc.create_limit = v;
    }
    if let Some(v) = available_limit {
        acc.available_limit = v;
    }
    if let Some(rl) = rate_limit {
        acc.rate_limit = rl;
        acc.window = Default::default();
    }
    if reset_creations {
        acc.creations.clear();
    }
    Ok(())
}

fn limits_json(acc: &Account, now: u64) -> Value {
    let day_ago = now.saturating_sub(DAY_US);
    json!({
        "create_limit": acc.create_limit,
        "creations_24h": acc.creations.iter().filter(|t| **t > day_ago).count(),
        "available_limit": acc.available_limit,
        "available": acc.deployed_count(None),
        "ratelimit_headers": acc.ratelimit_headers,
        "rate_limit": acc.rate_limit.map_or(Value::Null, |rl| json!({"limit": rl.limit, "window_ms": rl.window_ms})),
    })
}

fn set_limits(shared: &Shared, req: &Request, a: &str) -> Response {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = now_us();
    let mut st = shared.lock();
    let acc = st.account(a);
    if let Err(r) = apply_limits(acc, &body) {
        return r;
    }
    acc.settle(now);
    ok(limits_json(acc, now))
}

fn create_account(shared: &Shared, req: &Request, a: &str) -> Response {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut st = shared.lock();
    let mut acc = Account::empty(&st.cfg);
    if let Err(r) = apply_limits(&mut acc, &body) {
        return r;
    }
    for (k, slot) in [
        ("activate_ms", &mut acc.activate_ms),
        ("deactivate_ms", &mut acc.deactivate_ms),
    ] {
        match opt_u64(&body, k) {
            Ok(Some(v)) => *slot = v,
            Ok(None) => {}
            Err(r) => return r,
        }
    }
    match body.get("fault_rate") {
        None | Some(Value::Null) => {}
        Some(v) => match FaultRate::from_json(v) {
            Ok(fr) => acc.fault_rate = Some(fr),
            Err(e) => return err(400, &e),
        },
    }
    let name = body.get("seed").and_then(Value::as_str).unwrap_or("demo");
    let Some(seeded) = acc.seed_named(name, now_us()) else {
        return err(400, &format!("unknown seed {name:?} (demo|fleet|empty)"));
    };
    st.accounts.insert(a.to_string(), acc);
    ok(json!({"account_id": a, "certificates": seeded}))
}

/// Store the given fields verbatim; a given binding_status gets its pending
/// transition scheduled with the account's delays.
fn apply_fields(
    c: &mut Cert,
    fields: &Map<String, Value>,
    now: u64,
    activate_ms: u64,
    deactivate_ms: u64,
) {
    for (k, v) in fields {
        if matches!(k.as_str(), "count" | "validity_period_days") {
            continue;
        }
        c.f.insert(k.clone(), v.clone());
    }
    if let Some(s) = fields.get("binding_status") {
        c.pending = s
            .as_str()
            .and_then(|s| schedule(s, now, activate_ms, deactivate_ms));
    }
    if !fields.contains_key("updated_at") && !fields.is_empty() {
        c.f.insert("updated_at".into(), json!(rfc3339(now)));
    }
}

fn add_certs(shared: &Shared, req: &Request, a: &str) -> Response {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let count = match opt_u64(&body, "count") {
        Ok(c) => c.unwrap_or(1),
        Err(r) => return r,
    };
    if !(1..=5000).contains(&count) {
        return err(400, "count must be 1..5000");
    }
    let days = match opt_u64(&body, "validity_period_days") {
        Ok(d) => d.unwrap_or(1825),
        Err(r) => return r,
    };
    let given_id = body.get("id").and_then(Value::as_str).map(str::to_string);
    if given_id.is_some() && count > 1 {
        return err(400, "id can only be given with count 1");
    }
    let now = now_us();
    let mut st = shared.lock();
    let acc = st.account(a);
    if let Some(id) = &given_id {
        if acc.certs.iter().any(|c| c.id().eq_ignore_ascii_case(id)) {
            return err(409, "a certificate with that id already exists");
        }
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let mut c = Cert::generate(now, days);
        let (am, dm) = (acc.activate_ms, acc.deactivate_ms);
        apply_fields(&mut c, &body, now, am, dm);
        if !body.contains_key("updated_at") {
            c.f.insert(
                "updated_at".into(),
                c.f.get("created_at").cloned().unwrap_or(Value::Null),
            );
        }
        out.push(Value::Object(c.f.clone()));
        acc.certs.push(c);
    }
    acc.sync_config(now);
    ok(json!({"certificates": out}))
}

fn patch_cert(shared: &Shared, req: &Request, a: &str, id: &str) -> Response {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = now_us();
    let mut st = shared.lock();
    let acc = st.account(a);
    let (am, dm) = (acc.activate_ms, acc.deactivate_ms);
    let Some(i) = acc.find(id, now) else {
        return err(404, "no such certificate");
    };
    let Some(c) = acc.certs.get_mut(i) else {
        return err(404, "no such certificate");
    };
    apply_fields(c, &body, now, am, dm);
    let v = Value::Object(c.f.clone());
    acc.sync_config(now);
    ok(json!({"certificate": v}))
}

fn add_faults(shared: &Shared, req: &Request, a: &str) -> Response {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(list) = body.get("faults").and_then(Value::as_array) else {
        return err(400, "body must be {\"faults\":[...]}");
    };
    let mut parsed = Vec::with_capacity(list.len());
    for f in list {
        match Fault::from_json(f) {
            Ok(f) => parsed.push(f),
            Err(e) => return err(400, &e),
        }
    }
    let mut st = shared.lock();
    let acc = st.account(a);
    let n = parsed.len();
    acc.faults.extend(parsed);
    ok(json!({"queued": n, "pending": acc.faults.len()}))
}

fn set_fault_rate(shared: &Shared, req: &Request, a: &str) -> Response {
    let text = String::from_utf8_lossy(&req.body);
    let v = if text.trim().is_empty() {
        Value::Null
    } else {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => v,
            Err(e) => return err(400, &format!("invalid JSON body: {e}")),
        }
    };
    let fr = match v {
        Value::Null => None,
        v => match FaultRate::from_json(&v) {
            Ok(fr) => Some(fr),
            Err(e) => return err(400, &e),
        },
    };
    let mut st = shared.lock();
    let acc = st.account(a);
    acc.fault_rate = fr;
    ok(json!({"fault_rate": acc.fault_rate.as_ref().map_or(Value::Null, FaultRate::to_json)}))
}
