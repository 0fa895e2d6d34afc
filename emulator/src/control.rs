//! The control API under `/__emulator/` (no auth): seeding, faults, log, state.
//!
//! - `POST /__emulator/accounts/{a}` creates (replaces) an account. Body, all optional:
//!   `activate_ms`, `deactivate_ms`, `create_limit`, `rate_limit: {limit, window_ms}` (a
//!   per-account fixed window instead of the per-user one), `seed: "demo"|"empty"`, and
//!   `fault_rate` (below).
//! - `POST /__emulator/accounts/{a}/fault-rate` replaces the account's random fault
//!   injection; body: a `fault_rate` object, or `null` (or empty) to turn it off. `GET` shows it.
//! - `fault_rate`: `{"rate": 0.05, "kinds": ["status503","html502","reset"], "seed": 42,
//!   "ops": ["get","delete","deactivate"]}`. Every API request whose op is in `ops` (default:
//!   all six) and that no queued fault (`/faults`) matched gets a fault with probability
//!   `rate`, its kind drawn uniformly from `kinds` (default `status503`, `html502`, `reset`):
//!   `status503` (503 JSON failure envelope), `html502` (502 HTML page), `reset` (RST before
//!   any answer, nothing processed), `reset_after` (processed, then RST: the answer is lost),
//!   `status429` (429 code 971 with `Retry-After: 1`). Injected faults other than
//!   `reset_after` never reach the rate limiter. Each decision is a hash of (`seed` (default
//!   0), the request's method, its path below the account, lower-cased, and `n`): `n` counts the earlier requests with that method and path, not counting any that
//!   got no fault and were then turned away by the rate limiter (their retry gets the same
//!   decision). So the same logical request (the 2nd `DELETE` of one certificate, say) gets the
//!   same fault whatever the interleaving of the others, and the limiter's timing does not shift
//!   the decisions. Setting a fault rate (here or at account creation) starts the counts afresh.
//! - `GET /__emulator/accounts/{a}/state`: `certificates`, `deleted` (id -> successful DELETEs),
//!   `requests` (API requests seen), `faults_injected` (random faults by kind), `fault_rate`,
//!   `rate_limit`.
//! - `GET /__emulator/accounts/{a}/log`: every API request: `method`, `path`, `op`, `status`
//!   (null for a reset), `auth`, `fault`, `t_us` (arrival, µs since the epoch), `rate`
//!   (`"allowed"`: counted in the window, `"limited"`: answered 429 by the limiter, null: never
//!   reached it), `rate_at_us` and `window_start_us` (the limiter's clock and window),
//!   `retry_after_s` (the answer's `Retry-After`, if any).

use serde_json::{json, Map, Value};

use crate::http::{Request, Response};
use crate::model::{schedule, Account, Cert, Fault, FaultRate, RateLimit};
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
                    }))
                }
                (_, [])
                | (_, ["certificates"])
                | (_, ["certificates", _])
                | (_, ["faults"])
                | (_, ["fault-rate"])
                | (_, ["log"])
                | (_, ["state"]) => err(405, "method not allowed"),
                _ => err(404, "no such control route"),
            }
        }
        _ => err(404, "no such control route"),
    }
}

fn create_account(shared: &Shared, req: &Request, a: &str) -> Response {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut st = shared.lock();
    let mut acc = Account::empty(&st.cfg);
    match (
        opt_u64(&body, "activate_ms"),
        opt_u64(&body, "deactivate_ms"),
        opt_u64(&body, "create_limit"),
    ) {
        (Ok(am), Ok(dm), Ok(cl)) => {
            if let Some(v) = am {
                acc.activate_ms = v;
            }
            if let Some(v) = dm {
                acc.deactivate_ms = v;
            }
            if let Some(v) = cl {
                acc.create_limit = v;
            }
        }
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    }
    match body.get("rate_limit") {
        None | Some(Value::Null) => {}
        Some(Value::Object(rl)) => {
            let limit = rl.get("limit").and_then(Value::as_u64);
            let window_ms = rl
                .get("window_ms")
                .and_then(Value::as_u64)
                .filter(|w| *w > 0);
            match (limit, window_ms) {
                (Some(limit), Some(window_ms)) => {
                    acc.rate_limit = Some(RateLimit { limit, window_ms })
                }
                _ => return err(400, "rate_limit needs integer limit and window_ms > 0"),
            }
        }
        Some(_) => return err(400, "rate_limit must be an object or null"),
    }
    match body.get("fault_rate") {
        None | Some(Value::Null) => {}
        Some(v) => match FaultRate::from_json(v) {
            Ok(fr) => acc.fault_rate = Some(fr),
            Err(e) => return err(400, &e),
        },
    }
    let seeded = match body.get("seed").and_then(Value::as_str).unwrap_or("demo") {
        "demo" => acc.seed_demo(now_us()),
        "empty" => Map::new(),
        other => return err(400, &format!("unknown seed {other:?} (demo|empty)")),
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
    apply_fields(&mut acc.certs[i], &body, now, am, dm);
    ok(json!({"certificate": Value::Object(acc.certs[i].f.clone())}))
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
