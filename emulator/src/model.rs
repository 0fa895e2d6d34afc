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
        "pending_deployment" => Some((
            from.saturating_add(activate_ms.saturating_mul(1000)),
            "available",
        )),
        "pending_deletion" => Some((
            from.saturating_add(deactivate_ms.saturating_mul(1000)),
            "inactive",
        )),
        _ => None,
    }
}

/// A quota: `limit` requests per fixed window of `window_ms` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub window_ms: u64,
}

impl RateLimit {
    /// The window in whole seconds for `Ratelimit-Policy: ...;w=`, rounded up (a 1500 ms window
    /// is announced as `w=2`, a 200 ms one as `w=1`): Cloudflare sends whole seconds.
    pub fn window_s(self) -> u64 {
        self.window_ms.div_ceil(1000)
    }
}

/// A fixed window: it starts at the first counted request and lasts `window_ms`; once `limit`
/// requests were counted in it, every further request is refused until it ends (the lockout).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    pub start_us: u64,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateOutcome {
    pub allowed: bool,
    /// Requests left in the window after this one (`Ratelimit: ...;r=`).
    pub remaining: u64,
    /// Whole seconds until the window ends, rounded up so that a client waiting this long is
    /// never early (`Ratelimit: ...;t=`, `Retry-After`); at least 1.
    pub reset_s: u64,
}

impl Window {
    fn roll(&mut self, rl: RateLimit, now: u64) {
        if self.start_us == 0 || now >= self.end_us(rl) {
            self.start_us = now;
            self.count = 0;
        }
    }

    fn end_us(&self, rl: RateLimit) -> u64 {
        self.start_us
            .saturating_add(rl.window_ms.saturating_mul(1000))
    }

    fn reset_s(&self, rl: RateLimit, now: u64) -> u64 {
        self.end_us(rl)
            .saturating_sub(now)
            .div_ceil(1_000_000)
            .max(1)
    }

    /// Count one request if the window allows it.
    pub fn hit(&mut self, rl: RateLimit, now: u64) -> RateOutcome {
        self.roll(rl, now);
        if self.count >= rl.limit {
            return RateOutcome {
                allowed: false,
                remaining: 0,
                reset_s: self.reset_s(rl, now),
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

/// Every API operation, as named in the log, in faults and in `fault_rate.ops`.
pub const OPS: [&str; 9] = [
    "list",
    "create",
    "get",
    "delete",
    "activate",
    "deactivate",
    "get_configuration",
    "patch_configuration",
    "put_configuration",
];

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

/// `settings.certificate.id` meaning "Cloudflare's root CA": no certificate of the account in use.
pub const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// The Gateway configuration of an account (`GET/PATCH/PUT .../gateway/configuration`).
#[derive(Debug, Clone)]
pub struct Configuration {
    /// Top-level blocks by name (`tls_decrypt`, `certificate`, ...), each a JSON object, stored
    /// as given (unknown blocks are kept: newer API versions add settings).
    pub settings: Map<String, Value>,
    pub created_at_us: u64,
    pub updated_at_us: u64,
}

impl Configuration {
    /// A fresh account's configuration: TLS decryption off, no `certificate` block (Cloudflare's
    /// root CA would be used).
    pub fn new(now: u64) -> Configuration {
        let settings = json!({
            "activity_log": {"enabled": true},
            "antivirus": {
                "enabled_download_phase": false,
                "enabled_upload_phase": false,
                "fail_closed": false,
                "notification_settings": {"enabled": false, "msg": "", "support_url": ""}
            },
            "block_page": {"enabled": false, "name": "Cloudflare", "footer_text": "", "header_text": ""},
            "body_scanning": {"inspection_mode": "deep"},
            "browser_isolation": {"non_identity_enabled": false, "url_browser_isolation_enabled": false},
            "extended_email_matching": {"enabled": false},
            "fips": {"tls": false},
            "protocol_detection": {"enabled": false},
            "tls_decrypt": {"enabled": false}
        });
        Configuration {
            settings: settings.as_object().cloned().unwrap_or_default(),
            created_at_us: now,
            updated_at_us: now,
        }
    }

    /// The API's `result`.
    pub fn to_json(&self) -> Value {
        json!({
            "settings": self.settings,
            "created_at": rfc3339(self.created_at_us),
            "updated_at": rfc3339(self.updated_at_us),
        })
    }

    /// `settings.certificate.id`, if the block names one.
    pub fn certificate_id(&self) -> Option<&str> {
        self.settings
            .get("certificate")
            .and_then(|c| c.get("id"))
            .and_then(Value::as_str)
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
    /// Generations (API creates) allowed per rolling 24 hours.
    pub create_limit: u64,
    /// When each API create of the last 24 hours happened (µs); deleting gives nothing back.
    pub creations: Vec<u64>,
    /// Certificates that may be `available` (or `pending_deployment`, or legacy `active`) at
    /// once; activating one more is refused.
    pub available_limit: u64,
    /// Whether API answers carry `Ratelimit` and `Ratelimit-Policy` (default true).
    pub ratelimit_headers: bool,
    pub config: Configuration,
    pub faults: VecDeque<Fault>,
    pub log: Vec<Value>,
    pub deleted: BTreeMap<String, u64>,
    pub requests: u64,
}

/// One certificate of a seed: (role, binding_status, in_use, custom, created days ago,
/// validity days).
type SeedCert = (&'static str, &'static str, bool, bool, u64, u64);

/// The `demo` seed: one certificate per role (tests across the repository rely on exactly
/// these six).
const DEMO: [SeedCert; 6] = [
    ("inactive", "inactive", false, false, 30, 1825),
    ("available", "available", false, false, 30, 1825),
    (
        "pending_deployment",
        "pending_deployment",
        false,
        false,
        30,
        1825,
    ),
    (
        "pending_deletion",
        "pending_deletion",
        false,
        false,
        30,
        1825,
    ),
    ("in_use", "available", true, false, 30, 1825),
    ("custom", "available", false, true, 30, 1825),
];

/// The `fleet` seed (the startup account's default): 16 certificates, enough to try bulk
/// retirement. 8 count toward the available limit (in use, 4 available, 1 available but
/// expired, custom, pending_deployment), so two more can be activated before the 11th is
/// refused. 4 have `expires_on` in the past.
const FLEET: [SeedCert; 16] = [
    ("in_use", "available", true, false, 200, 1825),
    ("available_1", "available", false, false, 2, 1825),
    ("available_2", "available", false, false, 90, 1825),
    ("available_3", "available", false, false, 400, 1825),
    ("available_4", "available", false, false, 700, 3650),
    ("available_expired", "available", false, false, 800, 730),
    ("inactive_1", "inactive", false, false, 1, 1825),
    ("inactive_2", "inactive", false, false, 45, 1825),
    ("inactive_3", "inactive", false, false, 300, 365),
    ("inactive_expired_1", "inactive", false, false, 2000, 1825),
    ("inactive_expired_2", "inactive", false, false, 400, 365),
    ("inactive_expired_3", "inactive", false, false, 3, 1),
    (
        "pending_deployment",
        "pending_deployment",
        false,
        false,
        1,
        1825,
    ),
    (
        "pending_deletion_1",
        "pending_deletion",
        false,
        false,
        500,
        1825,
    ),
    (
        "pending_deletion_2",
        "pending_deletion",
        false,
        false,
        150,
        1825,
    ),
    ("custom", "available", false, true, 365, 3650),
];

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
            available_limit: 10,
            ratelimit_headers: true,
            config: Configuration::new(now_us()),
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
        if let Some(c) = self.certs.get_mut(idx) {
            c.settle(now);
        }
        Some(idx)
    }

    /// Certificates counting toward [`Account::available_limit`], `except` one index.
    pub fn deployed_count(&self, except: Option<usize>) -> u64 {
        self.certs
            .iter()
            .enumerate()
            .filter(|(j, c)| Some(*j) != except && c.is_deployed())
            .count() as u64
    }

    /// Make the certificate at `index` the one in use (none: Cloudflare's root CA); every other
    /// certificate's `in_use` becomes false. Fields other than `in_use` are left as they are.
    pub fn set_in_use(&mut self, index: Option<usize>) {
        for (j, c) in self.certs.iter_mut().enumerate() {
            c.f.insert("in_use".into(), json!(Some(j) == index));
        }
    }

    /// After the control API (or a seed) set `in_use` flags directly: point the configuration's
    /// `certificate` block at a certificate in use. It keeps naming its certificate while that
    /// one is in use; otherwise it names the last certificate in use, or the nil UUID (root CA)
    /// when it named one of the account's certificates and none is in use any more. The
    /// control API may force several certificates in use (the API never does): then the
    /// configuration names one of them.
    pub fn sync_config(&mut self, now: u64) {
        let current = self.config.certificate_id().map(str::to_string);
        let in_use = |id: &str| {
            self.certs
                .iter()
                .any(|c| c.in_use() && c.id().eq_ignore_ascii_case(id))
        };
        if current.as_deref().is_some_and(in_use) {
            return;
        }
        let target = match self.certs.iter().rev().find(|c| c.in_use()) {
            Some(c) => c.id().to_string(),
            None => {
                let names_ours = current
                    .as_deref()
                    .is_some_and(|id| self.certs.iter().any(|c| c.id().eq_ignore_ascii_case(id)));
                if !names_ours {
                    return;
                }
                NIL_UUID.to_string()
            }
        };
        self.config
            .settings
            .insert("certificate".into(), json!({"id": target}));
        self.config.updated_at_us = now;
    }

    fn seed(&mut self, now: u64, certs: &[SeedCert]) -> Map<String, Value> {
        let mut out = Map::new();
        for (i, (role, status, in_use, custom, age_days, validity)) in certs.iter().enumerate() {
            // Stagger creation a little so ordering by created_at is stable.
            let created = now
                .saturating_sub(DAY_US * age_days)
                .saturating_add(i as u64 * 1_000_000);
            let mut c = Cert::generate(created, *validity);
            c.f.insert("binding_status".into(), json!(status));
            c.f.insert("in_use".into(), json!(in_use));
            if *custom {
                c.f.insert("type".into(), json!("custom"));
                c.f.insert("issuer_org".into(), json!("Example, Inc."));
                c.f.insert(
                    "issuer_raw".into(),
                    json!("O=Example, Inc.,OU=Security,CN=Example BYO-PKI Root CA"),
                );
            }
            if *status != "inactive" {
                c.f.insert("updated_at".into(), json!(rfc3339(now)));
            }
            c.pending = schedule(status, now, self.activate_ms, self.deactivate_ms);
            out.insert((*role).into(), Value::Object(c.f.clone()));
            self.certs.push(c);
        }
        // The certificate in use is the configuration's; TLS inspection is on.
        self.sync_config(now);
        if self.certs.iter().any(Cert::in_use) {
            self.config
                .settings
                .insert("tls_decrypt".into(), json!({"enabled": true}));
        }
        out
    }

    /// The `demo` seed: one certificate per role (see [`DEMO`]).
    pub fn seed_demo(&mut self, now: u64) -> Map<String, Value> {
        self.seed(now, &DEMO)
    }

    /// The `fleet` seed: 16 certificates (see [`FLEET`]).
    pub fn seed_fleet(&mut self, now: u64) -> Map<String, Value> {
        self.seed(now, &FLEET)
    }

    /// Seed by name: `demo`, `fleet` or `empty`.
    pub fn seed_named(&mut self, name: &str, now: u64) -> Option<Map<String, Value>> {
        match name {
            "demo" => Some(self.seed_demo(now)),
            "fleet" => Some(self.seed_fleet(now)),
            "empty" => Some(Map::new()),
            _ => None,
        }
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
        acc.seed_named(&cfg.seed, now_us());
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

    /// The quota a request counts against: the account's own if it has one, else the user's.
    fn bucket(&mut self, account: Option<&str>, user: &'static str) -> (RateLimit, &mut Window) {
        let user_rl = self.cfg.rate_limit;
        if let Some(acc) = account.and_then(|a| self.accounts.get_mut(a)) {
            if let Some(rl) = acc.rate_limit {
                return (rl, &mut acc.window);
            }
        }
        (user_rl, self.users.entry(user).or_default())
    }

    /// Count one request of `user` on `account` at `now`: (quota, outcome, window start µs).
    pub fn hit(
        &mut self,
        account: Option<&str>,
        user: &'static str,
        now: u64,
    ) -> (RateLimit, RateOutcome, u64) {
        let (rl, w) = self.bucket(account, user);
        let out = w.hit(rl, now);
        (rl, out, w.start_us)
    }

    /// The window a request would count against, without counting it. A request with no
    /// known user (bad credentials) sees the account's window if it has its own quota, else a
    /// fresh per-user window.
    pub fn peek(
        &self,
        account: Option<&str>,
        user: Option<&'static str>,
        now: u64,
    ) -> (RateLimit, RateOutcome) {
        if let Some(acc) = account.and_then(|a| self.accounts.get(a)) {
            if let Some(rl) = acc.rate_limit {
                return (rl, acc.window.peek(rl, now));
            }
        }
        let rl = self.user_limit();
        let w = user
            .and_then(|u| self.users.get(u))
            .cloned()
            .unwrap_or_default();
        (rl, w.peek(rl, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;
    const T0: u64 = 1_700_000_000 * S;

    fn rl(limit: u64, window_ms: u64) -> RateLimit {
        RateLimit { limit, window_ms }
    }

    #[test]
    fn window_counts_and_rounds_reset_up() {
        let q = rl(3, 10_000);
        let mut w = Window::default();
        let o = w.hit(q, T0);
        assert_eq!((o.allowed, o.remaining, o.reset_s), (true, 2, 10));
        // 0.1 s later: 9.9 s left -> t=10 (never early)
        let o = w.hit(q, T0 + S / 10);
        assert_eq!((o.allowed, o.remaining, o.reset_s), (true, 1, 10));
        // 9.000001 s left -> 10; exactly 9 s left -> 9
        assert_eq!(w.peek(q, T0 + S - 1).reset_s, 10);
        assert_eq!(w.peek(q, T0 + S).reset_s, 9);
        let o = w.hit(q, T0 + 9 * S + 1);
        assert_eq!((o.allowed, o.remaining, o.reset_s), (true, 0, 1));
    }

    #[test]
    fn lockout_until_the_window_ends() {
        let q = rl(2, 60_000);
        let mut w = Window::default();
        assert!(w.hit(q, T0).allowed);
        assert!(w.hit(q, T0 + S).allowed);
        // Over the quota: every request refused, with the time to the window's end.
        for (dt, want_t) in [(2 * S, 58), (30 * S + 1, 30), (60 * S - 1, 1)] {
            let o = w.hit(q, T0 + dt);
            assert_eq!(
                (o.allowed, o.remaining, o.reset_s),
                (false, 0, want_t),
                "at +{dt}"
            );
        }
        // Refused requests are not counted: the window ends on time.
        assert_eq!(
            w,
            Window {
                start_us: T0,
                count: 2
            }
        );
        let o = w.hit(q, T0 + 60 * S);
        assert_eq!((o.allowed, o.remaining, o.reset_s), (true, 1, 60));
        assert_eq!(w.start_us, T0 + 60 * S);
    }

    #[test]
    fn peek_does_not_count() {
        let q = rl(5, 1_000);
        let mut w = Window::default();
        let p = w.peek(q, T0);
        assert_eq!((p.allowed, p.remaining, p.reset_s), (true, 5, 1));
        w.hit(q, T0);
        let p = w.peek(q, T0 + 500_000);
        assert_eq!((p.allowed, p.remaining, p.reset_s), (true, 4, 1));
        assert_eq!(w.count, 1);
        // An expired window peeks as a fresh one.
        assert_eq!(w.peek(q, T0 + 2 * S).remaining, 5);
    }

    #[test]
    fn millisecond_windows_announce_whole_seconds() {
        let q = rl(1, 250);
        assert_eq!(q.window_s(), 1);
        assert_eq!(rl(1, 1500).window_s(), 2);
        assert_eq!(rl(1, 300_000).window_s(), 300);
        let mut w = Window::default();
        assert_eq!(w.hit(q, T0).reset_s, 1);
        let o = w.hit(q, T0 + 100_000);
        assert_eq!((o.allowed, o.reset_s), (false, 1));
        assert!(w.hit(q, T0 + 250_000).allowed);
    }

    #[test]
    fn zero_quota_refuses_everything() {
        let q = rl(0, 1_000);
        let mut w = Window::default();
        let o = w.hit(q, T0);
        assert_eq!((o.allowed, o.remaining, o.reset_s), (false, 0, 1));
    }

    #[test]
    fn fleet_seed_is_consistent() {
        let mut acc = Account::empty(&Config::default());
        let roles = acc.seed_fleet(T0);
        assert_eq!(roles.len(), 16);
        assert!(acc.deployed_count(None) <= 10);
        let in_use: Vec<&Cert> = acc.certs.iter().filter(|c| c.in_use()).collect();
        assert_eq!(in_use.len(), 1);
        assert_eq!(acc.config.certificate_id(), Some(in_use[0].id()));
        assert_eq!(in_use[0].status(), "available");
        let expired = acc
            .certs
            .iter()
            .filter(|c| c.f["expires_on"].as_str().unwrap_or("") < rfc3339(T0).as_str())
            .count();
        assert_eq!(expired, 4);
    }

    #[test]
    fn sync_config_follows_forced_in_use() {
        let mut acc = Account::empty(&Config::default());
        assert_eq!(acc.config.certificate_id(), None);
        acc.seed_demo(T0);
        let used = acc.certs.iter().position(Cert::in_use).unwrap();
        let id = acc.certs[used].id().to_string();
        assert_eq!(acc.config.certificate_id(), Some(id.as_str()));
        acc.certs[used].f.insert("in_use".into(), json!(false));
        acc.sync_config(T0 + S);
        assert_eq!(acc.config.certificate_id(), Some(NIL_UUID));
        acc.certs[0].f.insert("in_use".into(), json!(true));
        acc.sync_config(T0 + 2 * S);
        assert_eq!(acc.config.certificate_id(), Some(acc.certs[0].id()));
    }

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
