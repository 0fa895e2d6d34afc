//! Accounts, certificates, rate-limit windows and faults.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde_json::{json, Map, Value};

use crate::util::{fake_pem, hex, now_us, rand_bytes, rfc3339, uuid_v4};
use crate::Config;

pub const DAY_US: u64 = 86_400_000_000;

#[derive(Debug, Clone)]
pub struct Cert {
    pub f: Map<String, Value>,
    /// (completes at µs, target binding_status)
    pub pending: Option<(u64, &'static str)>,
}

impl Cert {
    /// A fresh gateway-managed, inactive certificate.
    pub fn generate(now: u64, validity_days: u64) -> Cert {
        let id = uuid_v4();
        let ts = rfc3339(now);
        let mut f = Map::new();
        f.insert("id".into(), json!(id));
        f.insert("binding_status".into(), json!("inactive"));
        f.insert("certificate".into(), json!(fake_pem()));
        f.insert("created_at".into(), json!(ts));
        f.insert(
            "expires_on".into(),
            json!(rfc3339(
                now.saturating_add(validity_days.saturating_mul(DAY_US))
            )),
        );
        f.insert("fingerprint".into(), json!(hex(&rand_bytes(32), true)));
        f.insert("in_use".into(), json!(false));
        f.insert("issuer_org".into(), json!("Cloudflare, Inc."));
        f.insert(
            "issuer_raw".into(),
            json!(format!(
                "O=Cloudflare, Inc.,OU=Gateway,CN=Gateway CA - Cloudflare Managed G1 {}",
                &id[..8]
            )),
        );
        f.insert("type".into(), json!("gateway_managed"));
        f.insert("updated_at".into(), json!(ts));
        f.insert("uploaded_on".into(), json!(ts));
        Cert { f, pending: None }
    }

    pub fn id(&self) -> &str {
        self.f.get("id").and_then(Value::as_str).unwrap_or("")
    }

    pub fn status(&self) -> &str {
        self.f
            .get("binding_status")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn in_use(&self) -> bool {
        self.f.get("in_use") == Some(&Value::Bool(true))
    }

    pub fn is_custom(&self) -> bool {
        self.f.get("type").and_then(Value::as_str) == Some("custom")
    }

    /// Counts against the "10 available" limit.
    pub fn is_deployed(&self) -> bool {
        matches!(self.status(), "available" | "active" | "pending_deployment")
    }

    /// Complete a pending transition whose time has come.
    pub fn settle(&mut self, now: u64) {
        if let Some((at, target)) = self.pending {
            if now >= at {
                self.f.insert("binding_status".into(), json!(target));
                self.f.insert("updated_at".into(), json!(rfc3339(at)));
                self.pending = None;
            }
        }
    }

    /// Set a status now; pending statuses get their completion scheduled.
    pub fn set_status(&mut self, status: &str, now: u64, activate_ms: u64, deactivate_ms: u64) {
        self.f.insert("binding_status".into(), json!(status));
        self.f.insert("updated_at".into(), json!(rfc3339(now)));
        self.pending = schedule(status, now, activate_ms, deactivate_ms);
    }
}

pub fn schedule(
    status: &str,
    from: u64,
    activate_ms: u64,
    deactivate_ms: u64,
) -> Option<(u64, &'static str)> {
    match status {
        "pending_deployment" => Some((from + activate_ms * 1000, "available")),
        "pending_deletion" => Some((from + deactivate_ms * 1000, "inactive")),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub window_ms: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Window {
    pub start_us: u64,
    pub count: u64,
}

pub struct RateOutcome {
    pub allowed: bool,
    pub remaining: u64,
    /// Seconds until the window resets (>= 1 when over the limit).
    pub reset_s: u64,
}

impl Window {
    fn roll(&mut self, rl: RateLimit, now: u64) {
        if self.start_us == 0 || now >= self.start_us + rl.window_ms * 1000 {
            self.start_us = now;
            self.count = 0;
        }
    }

    fn reset_s(&self, rl: RateLimit, now: u64) -> u64 {
        let end = self.start_us + rl.window_ms * 1000;
        end.saturating_sub(now).div_ceil(1_000_000)
    }

    /// Count one request if the window allows it.
    pub fn hit(&mut self, rl: RateLimit, now: u64) -> RateOutcome {
        self.roll(rl, now);
        if self.count >= rl.limit {
            return RateOutcome {
                allowed: false,
                remaining: 0,
                reset_s: self.reset_s(rl, now).max(1),
            };
        }
        self.count += 1;
        RateOutcome {
            allowed: true,
            remaining: rl.limit - self.count,
            reset_s: self.reset_s(rl, now),
        }
    }

    /// Current state without counting.
    pub fn peek(&self, rl: RateLimit, now: u64) -> RateOutcome {
        let mut w = self.clone();
        w.roll(rl, now);
        RateOutcome {
            allowed: w.count < rl.limit,
            remaining: rl.limit.saturating_sub(w.count),
            reset_s: w.reset_s(rl, now),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Latency,
    Hang,
    Reset,
    ResetMidBody,
    Drip,
    Html,
    MalformedJson,
    SuccessFalse,
    ResultNull,
    Status,
}

impl FaultKind {
    pub fn parse(s: &str) -> Option<FaultKind> {
        Some(match s {
            "latency" => FaultKind::Latency,
            "hang" => FaultKind::Hang,
            "reset" => FaultKind::Reset,
            "reset_mid_body" => FaultKind::ResetMidBody,
            "drip" => FaultKind::Drip,
            "html" => FaultKind::Html,
            "malformed_json" => FaultKind::MalformedJson,
            "success_false" => FaultKind::SuccessFalse,
            "result_null" => FaultKind::ResultNull,
            "status" => FaultKind::Status,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::Hang => "hang",
            FaultKind::Reset => "reset",
            FaultKind::ResetMidBody => "reset_mid_body",
            FaultKind::Drip => "drip",
            FaultKind::Html => "html",
            FaultKind::MalformedJson => "malformed_json",
            FaultKind::SuccessFalse => "success_false",
            FaultKind::ResultNull => "result_null",
            FaultKind::Status => "status",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub op: Option<String>,
    pub times: u64,
    pub kind: FaultKind,
    pub status: Option<u16>,
    pub delay_ms: u64,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Process the request (mutating state) before breaking the answer.
    pub apply: bool,
}

pub const OPS: [&str; 6] = ["list", "create", "get", "delete", "activate", "deactivate"];

impl Fault {
    pub fn from_json(v: &Value) -> Result<Fault, String> {
        let o = v.as_object().ok_or("a fault must be an object")?;
        let op = match o.get("op") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if OPS.contains(&s.as_str()) => Some(s.clone()),
            Some(other) => return Err(format!("unknown op {other}")),
        };
        let kind_s = o
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("fault.kind is required")?;
        let kind =
            FaultKind::parse(kind_s).ok_or_else(|| format!("unknown fault kind {kind_s:?}"))?;
        let times = match o.get("times") {
            None | Some(Value::Null) => 1,
            Some(t) => t
                .as_u64()
                .filter(|t| *t >= 1)
                .ok_or("times must be an integer >= 1")?,
        };
        let status = match o.get("status") {
            None | Some(Value::Null) => None,
            Some(s) => Some(
                s.as_u64()
                    .filter(|s| (100..=999).contains(s))
                    .ok_or("status must be an integer 100..999")? as u16,
            ),
        };
        let delay_ms = o
            .get("delay_ms")
            .and_then(Value::as_u64)
            .unwrap_or(match kind {
                FaultKind::Drip => 5,
                _ => 0,
            });
        let mut headers = Vec::new();
        if let Some(h) = o.get("headers") {
            let h = h.as_object().ok_or("headers must be an object")?;
            for (k, v) in h {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if k.is_empty() || k.contains([':', ' ', '\r', '\n']) {
                    return Err(format!("bad header name {k:?}"));
                }
                headers.push((k.clone(), v));
            }
        }
        let body = match o.get("body") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        let apply = o.get("apply").and_then(Value::as_bool).unwrap_or(false);
        Ok(Fault {
            op,
            times,
            kind,
            status,
            delay_ms,
            headers,
            body,
            apply,
        })
    }
}

/// One kind of randomly injected fault (see [`FaultRate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomKind {
    /// 503 with a Cloudflare failure envelope (JSON).
    Status503,
    /// 502 with Cloudflare's HTML error page.
    Html502,
    /// Connection reset before any answer; the request is not processed.
    Reset,
    /// The request is processed (state changes), then the connection is reset before the
    /// answer: the "lost answer" case.
    ResetAfter,
    /// 429 (code 971) with `Retry-After: 1`; not counted against the rate-limit window.
    Status429,
}

impl RandomKind {
    pub const ALL: [RandomKind; 5] = [
        RandomKind::Status503,
        RandomKind::Html502,
        RandomKind::Reset,
        RandomKind::ResetAfter,
        RandomKind::Status429,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RandomKind::Status503 => "status503",
            RandomKind::Html502 => "html502",
            RandomKind::Reset => "reset",
            RandomKind::ResetAfter => "reset_after",
            RandomKind::Status429 => "status429",
        }
    }

    pub fn parse(s: &str) -> Option<RandomKind> {
        RandomKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The one-shot fault this kind stands for.
    pub fn fault(self) -> Fault {
        let mut f = Fault {
            op: None,
            times: 1,
            kind: FaultKind::Status,
            status: None,
            delay_ms: 0,
            headers: Vec::new(),
            body: None,
            apply: false,
        };
        match self {
            RandomKind::Status503 => f.status = Some(503),
            RandomKind::Html502 => {
                f.kind = FaultKind::Html;
                f.status = Some(502);
            }
            RandomKind::Reset => f.kind = FaultKind::Reset,
            RandomKind::ResetAfter => {
                f.kind = FaultKind::Reset;
                f.apply = true;
            }
            RandomKind::Status429 => {
                f.status = Some(429);
                f.headers.push(("Retry-After".into(), "1".into()));
            }
        }
        f
    }
}

/// Random, seeded fault injection for an account: each API request whose op is in `ops`
/// (and that no queued fault matched) gets a fault with probability `rate`, the kind drawn
/// uniformly from `kinds`.
///
/// Each decision is a pure function of (`seed`, the request's identity): its method, its path
/// below the account (lower-cased), and `n`, how many requests with that method and path were
/// decided before it. So the same logical request (the 3rd `DELETE` of one certificate, say)
/// gets the same fault whatever the other requests do and however they interleave; only
/// requests with the same method and path are ordered among themselves. A request that got no
/// fault and that the rate limiter then turned away does not count in `n` (see
/// [`FaultRate::unroll`]), so how fast the machine is, which decides the limiter's answers, does
/// not shift the decisions either.
#[derive(Debug, Clone)]
pub struct FaultRate {
    pub rate: f64,
    pub kinds: Vec<RandomKind>,
    pub ops: Vec<String>,
    pub seed: u64,
    /// Per (method, path) key: how many requests have been decided.
    decided: HashMap<String, u64>,
}

/// The splitmix64 finalizer: a bijective 64-bit mix.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// The key a request is counted under: `METHOD /gateway/certificates/...`, the path taken
/// below `/accounts/{account}` (the fault rate is per account) and lower-cased (ids are
/// case-insensitive).
fn request_key(method: &str, path: &str) -> String {
    let rel = match path.find("/gateway/") {
        Some(i) => &path[i..],
        None => path,
    };
    format!(
        "{} {}",
        method.to_ascii_uppercase(),
        rel.to_ascii_lowercase()
    )
}

impl FaultRate {
    pub fn from_json(v: &Value) -> Result<FaultRate, String> {
        let o = v
            .as_object()
            .ok_or("fault_rate must be an object or null")?;
        let rate = o
            .get("rate")
            .and_then(Value::as_f64)
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or("fault_rate.rate must be a number in 0..=1")?;
        let kinds = match o.get("kinds") {
            None | Some(Value::Null) => {
                vec![RandomKind::Status503, RandomKind::Html502, RandomKind::Reset]
            }
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|k| {
                    k.as_str()
                        .and_then(RandomKind::parse)
                        .ok_or_else(|| format!("unknown fault_rate kind {k} (status503|html502|reset|reset_after|status429)"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err("fault_rate.kinds must be a non-empty array".into()),
        };
        let ops = match o.get("ops") {
            None | Some(Value::Null) => OPS.iter().map(|s| s.to_string()).collect(),
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|op| match op.as_str() {
                    Some(s) if OPS.contains(&s) => Ok(s.to_string()),
                    _ => Err(format!("unknown fault_rate op {op}")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err("fault_rate.ops must be a non-empty array".into()),
        };
        let seed = match o.get("seed") {
            None | Some(Value::Null) => 0,
            Some(s) => s
                .as_u64()
                .ok_or("fault_rate.seed must be a non-negative integer")?,
        };
        Ok(FaultRate {
            rate,
            kinds,
            ops,
            seed,
            decided: HashMap::new(),
        })
    }

    /// The decision for the `n`-th request (from 0) with this method and path: a pure
    /// function of (seed, method, path, n).
    #[cfg(test)]
    pub fn decide(&self, method: &str, path: &str, n: u64) -> Option<RandomKind> {
        self.decide_key(&request_key(method, path), n)
    }

    fn decide_key(&self, key: &str, n: u64) -> Option<RandomKind> {
        let base = mix64(mix64(self.seed) ^ fnv1a(key.as_bytes()));
        let z = mix64(base ^ mix64(n));
        // 53 random bits -> [0, 1)
        let u = (mix64(z ^ 1) >> 11) as f64 / (1u64 << 53) as f64;
        if u >= self.rate {
            return None;
        }
        let i = (mix64(z ^ 2) % self.kinds.len() as u64) as usize;
        self.kinds.get(i).copied()
    }

    /// Decide for one request of `op` (`method` `path`) and count it: `Some(kind)` to inject
    /// a fault. Requests whose op is not in `ops` are neither decided nor counted.
    pub fn roll(&mut self, op: &str, method: &str, path: &str) -> Option<RandomKind> {
        if !self.ops.iter().any(|o| o == op) {
            return None;
        }
        let key = request_key(method, path);
        let n = self.decided.get(&key).copied().unwrap_or(0);
        let out = self.decide_key(&key, n);
        self.decided.insert(key, n + 1);
        out
    }

    /// Take back the count of a request [`FaultRate::roll`] gave no fault and the rate limiter
    /// then turned away: its retry is the same logical request and gets the same decision.
    pub fn unroll(&mut self, op: &str, method: &str, path: &str) {
        if !self.ops.iter().any(|o| o == op) {
            return;
        }
        if let Some(n) = self.decided.get_mut(&request_key(method, path)) {
            *n = n.saturating_sub(1);
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "rate": self.rate,
            "kinds": self.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "ops": self.ops,
            "seed": self.seed,
        })
    }
}

pub struct Account {
    pub certs: Vec<Cert>,
    /// Random fault injection, if configured.
    pub fault_rate: Option<FaultRate>,
    /// Randomly injected faults so far, by [`RandomKind::name`].
    pub faults_injected: BTreeMap<String, u64>,
    pub activate_ms: u64,
    pub deactivate_ms: u64,
    pub rate_limit: Option<RateLimit>,
    pub window: Window,
    pub create_limit: u64,
    pub creations: Vec<u64>,
    pub faults: VecDeque<Fault>,
    pub log: Vec<Value>,
    pub deleted: BTreeMap<String, u64>,
    pub requests: u64,
}

impl Account {
    pub fn empty(cfg: &Config) -> Account {
        Account {
            certs: Vec::new(),
            fault_rate: None,
            faults_injected: BTreeMap::new(),
            activate_ms: cfg.activate_ms,
            deactivate_ms: cfg.deactivate_ms,
            rate_limit: None,
            window: Window::default(),
            create_limit: 3,
            creations: Vec::new(),
            faults: VecDeque::new(),
            log: Vec::new(),
            deleted: BTreeMap::new(),
            requests: 0,
        }
    }

    pub fn settle(&mut self, now: u64) {
        for c in &mut self.certs {
            c.settle(now);
        }
    }

    pub fn find(&mut self, id: &str, now: u64) -> Option<usize> {
        let idx = self
            .certs
            .iter()
            .position(|c| c.id().eq_ignore_ascii_case(id))?;
        self.certs[idx].settle(now);
        Some(idx)
    }

    /// The demo seed: one certificate per role.
    pub fn seed_demo(&mut self, now: u64) -> Map<String, Value> {
        let roles: [(&str, &str, bool, bool); 6] = [
            ("inactive", "inactive", false, false),
            ("available", "available", false, false),
            ("pending_deployment", "pending_deployment", false, false),
            ("pending_deletion", "pending_deletion", false, false),
            ("in_use", "available", true, false),
            ("custom", "available", false, true),
        ];
        let mut out = Map::new();
        for (i, (role, status, in_use, custom)) in roles.into_iter().enumerate() {
            // Stagger creation a little so ordering by created_at is stable.
            let created = now
                .saturating_sub(DAY_US * 30)
                .saturating_add(i as u64 * 1_000_000);
            let mut c = Cert::generate(created, 1825);
            c.f.insert("binding_status".into(), json!(status));
            c.f.insert("in_use".into(), json!(in_use));
            if custom {
                c.f.insert("type".into(), json!("custom"));
                c.f.insert("issuer_org".into(), json!("Example, Inc."));
                c.f.insert(
                    "issuer_raw".into(),
                    json!("O=Example, Inc.,OU=Security,CN=Example BYO-PKI Root CA"),
                );
            }
            if status != "inactive" {
                c.f.insert("updated_at".into(), json!(rfc3339(now)));
            }
            c.pending = schedule(status, now, self.activate_ms, self.deactivate_ms);
            out.insert(role.into(), Value::Object(c.f.clone()));
            self.certs.push(c);
        }
        out
    }
}

pub struct State {
    pub cfg: Config,
    pub accounts: HashMap<String, Account>,
    pub users: HashMap<&'static str, Window>,
}

impl State {
    pub fn new(cfg: Config) -> State {
        let mut accounts = HashMap::new();
        let mut acc = Account::empty(&cfg);
        acc.seed_demo(now_us());
        accounts.insert(cfg.account.clone(), acc);
        State {
            cfg,
            accounts,
            users: HashMap::new(),
        }
    }

    pub fn account(&mut self, id: &str) -> &mut Account {
        let cfg = &self.cfg;
        self.accounts
            .entry(id.to_string())
            .or_insert_with(|| Account::empty(cfg))
    }

    pub fn user_limit(&self) -> RateLimit {
        self.cfg.rate_limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault_rate(rate: f64, seed: u64, ops: &[&str]) -> FaultRate {
        FaultRate::from_json(&json!({
            "rate": rate,
            "seed": seed,
            "kinds": ["status503", "html502", "reset", "reset_after", "status429"],
            "ops": ops,
        }))
        .unwrap()
    }

    const A: &str =
        "/client/v4/accounts/acc1/gateway/certificates/0b6b0e8e-8c5e-4bd4-9d7a-2b2b7c4c7a11";
    const B: &str =
        "/client/v4/accounts/acc1/gateway/certificates/f174e90a-fafe-4643-bbbc-4a0ed4fc8415";

    #[test]
    fn decisions_are_a_pure_function_of_seed_and_request_identity() {
        let fr = fault_rate(0.3, 42, &["get", "delete"]);
        let again = fault_rate(0.3, 42, &["get", "delete"]);
        let other_seed = fault_rate(0.3, 43, &["get", "delete"]);
        let seq = |fr: &FaultRate| (0..200).map(|n| fr.decide("GET", A, n)).collect::<Vec<_>>();
        assert_eq!(seq(&fr), seq(&again));
        assert_ne!(seq(&fr), seq(&other_seed));
        // Another method or path is another identity.
        let del: Vec<_> = (0..200).map(|n| fr.decide("DELETE", A, n)).collect();
        let b: Vec<_> = (0..200).map(|n| fr.decide("GET", B, n)).collect();
        assert_ne!(seq(&fr), del);
        assert_ne!(seq(&fr), b);
        // Not the account, the method's case or the id's case.
        let other_account = A.replace("acc1", "acc2");
        for n in 0..200 {
            assert_eq!(fr.decide("GET", A, n), fr.decide("GET", &other_account, n));
            assert_eq!(
                fr.decide("GET", A, n),
                fr.decide("get", &A.replace("0b6b0e8e", "0B6B0E8E"), n)
            );
        }
    }

    #[test]
    fn interleaving_does_not_change_which_request_gets_which_fault() {
        // Two orders of the same requests: A's and B's GETs and DELETEs, interleaved differently.
        let requests: Vec<(&str, &str)> = (0..60)
            .flat_map(|_| [("GET", A), ("DELETE", A), ("GET", B), ("DELETE", B)])
            .collect();
        let mut reordered = requests.clone();
        reordered.sort_by_key(|(m, p)| (*p == A, *m == "GET")); // B first, DELETEs first
        let per_request = |order: &[(&str, &str)]| {
            let mut fr = fault_rate(0.3, 7, &["get", "delete"]);
            let mut out: BTreeMap<(String, String), Vec<Option<RandomKind>>> = BTreeMap::new();
            for (m, p) in order {
                let op = if *m == "GET" { "get" } else { "delete" };
                let k = fr.roll(op, m, p);
                out.entry((m.to_string(), p.to_string()))
                    .or_default()
                    .push(k);
            }
            out
        };
        let first = per_request(&requests);
        assert_eq!(first, per_request(&reordered));
        // ... and the n-th request of each identity got decide(n).
        let fr = fault_rate(0.3, 7, &["get", "delete"]);
        for ((m, p), kinds) in &first {
            for (n, k) in kinds.iter().enumerate() {
                assert_eq!(*k, fr.decide(m, p, n as u64));
            }
        }
        assert!(first.values().flatten().any(Option::is_some), "some faults");
    }

    #[test]
    fn a_request_turned_away_by_the_limiter_does_not_shift_the_decisions() {
        let mut plain = fault_rate(0.5, 3, &["delete"]);
        let mut limited = fault_rate(0.5, 3, &["delete"]);
        let expected: Vec<_> = (0..50).map(|_| plain.roll("delete", "DELETE", A)).collect();
        let mut got = Vec::new();
        for (i, _) in expected.iter().enumerate() {
            let k = limited.roll("delete", "DELETE", A);
            if k.is_none() && i % 3 == 0 {
                // Turned away: given back, and the retry is decided the same way.
                limited.unroll("delete", "DELETE", A);
                assert_eq!(limited.roll("delete", "DELETE", A), None);
            }
            got.push(k);
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn ops_outside_the_list_are_neither_decided_nor_counted() {
        let mut fr = fault_rate(1.0, 1, &["delete"]);
        for _ in 0..20 {
            assert_eq!(fr.roll("get", "GET", A), None);
        }
        fr.unroll("get", "GET", A);
        assert!(
            fr.roll("delete", "DELETE", A).is_some(),
            "rate 1 always faults"
        );
        assert_eq!(fr.decided.get(&request_key("GET", A)), None);
        assert_eq!(fr.decided.get(&request_key("DELETE", A)), Some(&1));
    }

    #[test]
    fn the_rate_and_the_kinds_hold_over_many_requests() {
        let fr = fault_rate(0.05, 42, &["get"]);
        let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
        let paths: Vec<String> = (0..2000)
            .map(|i| format!("/client/v4/accounts/a/gateway/certificates/{i:036}"))
            .collect();
        for p in &paths {
            for n in 0..5 {
                if let Some(k) = fr.decide("GET", p, n) {
                    *by_kind.entry(k.name()).or_insert(0) += 1;
                }
            }
        }
        let total: u64 = by_kind.values().sum();
        // 10 000 decisions at 5 %: 500 expected; a wide margin.
        assert!((400..=600).contains(&total), "{total}");
        assert_eq!(by_kind.len(), 5, "{by_kind:?}");
        assert!(by_kind.values().all(|n| *n >= 60), "{by_kind:?}");
        assert_eq!(fault_rate(0.0, 42, &["get"]).decide("GET", A, 0), None);
    }
}
