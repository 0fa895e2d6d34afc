//! The flows against a simulated API on a virtual clock: requests take time, certificates
//! settle after a delay, a fixed rate-limit window answers 429 past its quota, and many
//! flows run at once. Deterministic: time only moves when every flow is waiting.

use super::*;
use crate::client::tests::{client, fail_with, ok, Scripted, ACCOUNT, CERT};
use crate::client::{HttpRequest, HttpResponse, ResponseHeaders, TransportError};
use crate::endpoint::Method;
use serde_json::{json, Value};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::pin::pin;
use std::task::Waker;

const LATENCY_MS: f64 = 20.0;
const SETTLE_MS: f64 = 500.0;

#[derive(Default)]
struct Api {
    certs: BTreeMap<String, Value>,
    settle: BTreeMap<String, (f64, &'static str)>,
    deleted: BTreeMap<String, u32>,
    /// Quota and window (ms): answers carry `Ratelimit` headers, and 429 past the quota.
    limit: Option<(u64, f64)>,
    window: Option<(f64, u64)>,
    limited: u32,
    created: u32,
    log: Vec<String>,
}

fn cert_json(id: &str, status: &str) -> Value {
    json!({"id": id, "binding_status": status, "in_use": false, "type": "gateway_managed",
           "fingerprint": "AB:CD", "expires_on": "2030-01-01T00:00:00Z"})
}

fn envelope(status: u16, result: Value) -> (u16, String) {
    let ok = (200..300).contains(&status);
    let errors = if ok {
        json!([])
    } else {
        json!([{"code": 1000 + u64::from(status), "message": result.as_str().unwrap_or("error")}])
    };
    let result = if ok { result } else { Value::Null };
    let body = json!({"success": ok, "errors": errors, "messages": [], "result": result});
    (status, body.to_string())
}

impl Api {
    fn with(fleet: &[(&str, &str)]) -> Self {
        let mut api = Self::default();
        for (id, status) in fleet {
            api.certs.insert((*id).into(), cert_json(id, status));
            let settles = match *status {
                "pending_deletion" => Some("inactive"),
                "pending_deployment" => Some("available"),
                _ => None,
            };
            if let Some(to) = settles {
                api.settle.insert((*id).into(), (SETTLE_MS, to));
            }
        }
        api
    }

    fn set(&mut self, id: &str, key: &str, value: Value) {
        if let Some(c) = self.certs.get_mut(id) {
            c[key] = value;
        }
    }

    fn handle(&mut self, req: &HttpRequest, now: f64) -> HttpResponse<Value> {
        let mut headers = ResponseHeaders::default();
        if let Some((q, w)) = self.limit {
            let (start, count) = match self.window {
                Some((s, c)) if now < s + w => (s, c),
                _ => (now, 0),
            };
            let t = ((start + w - now) / 1000.0).ceil();
            headers.ratelimit_policy = Some(format!("\"default\";q={q};w={}", (w / 1000.0).ceil()));
            if count >= q {
                self.window = Some((start, count));
                self.limited += 1;
                headers.ratelimit = Some(format!("\"default\";r=0;t={t}"));
                headers.retry_after = Some(format!("{t}"));
                let (status, body) = envelope(429, json!("rate limited"));
                return response(status, headers, body);
            }
            self.window = Some((start, count + 1));
            headers.ratelimit = Some(format!("\"default\";r={};t={t}", q - count - 1));
        }
        for (id, (at, to)) in std::mem::take(&mut self.settle) {
            if at <= now {
                self.set(&id, "binding_status", json!(to));
            } else {
                self.settle.insert(id, (at, to));
            }
        }
        let path = req
            .url
            .split_once("/gateway/")
            .map(|(_, p)| p.to_owned())
            .unwrap_or_default();
        let parts: Vec<&str> = path.split('/').collect();
        self.log.push(format!("{} {}", req.method.as_str(), path));
        let (status, body) = match (req.method, parts.as_slice()) {
            (Method::Post, ["certificates"]) => {
                self.created += 1;
                let id = format!("00000000-0000-4000-8000-{:012x}", self.created);
                let c = cert_json(&id, "inactive");
                self.certs.insert(id, c.clone());
                envelope(200, c)
            }
            (Method::Patch, ["configuration"]) => {
                let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap();
                let id = body["settings"]["certificate"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                match self
                    .certs
                    .get(&id)
                    .map(|c| c["binding_status"] == "available")
                {
                    Some(true) => {
                        for c in self.certs.values_mut() {
                            c["in_use"] = json!(false);
                        }
                        self.set(&id, "in_use", json!(true));
                        envelope(200, body["settings"].clone())
                    }
                    _ => envelope(400, json!("certificate not available")),
                }
            }
            (_, ["certificates", id, rest @ ..]) => {
                let id = (*id).to_owned();
                let Some(cert) = self.certs.get(&id).cloned() else {
                    return response(404, headers, envelope(404, json!("not found")).1);
                };
                match (req.method, rest) {
                    (Method::Get, []) => envelope(200, cert),
                    (Method::Delete, []) if cert["binding_status"] == "inactive" => {
                        self.certs.remove(&id);
                        *self.deleted.entry(id).or_default() += 1;
                        envelope(200, cert)
                    }
                    (Method::Delete, []) => envelope(500, json!("internal error")),
                    (Method::Post, ["deactivate"]) => {
                        self.set(&id, "binding_status", json!("pending_deletion"));
                        self.settle
                            .insert(id.clone(), (now + SETTLE_MS, "inactive"));
                        envelope(201, self.certs[&id].clone())
                    }
                    (Method::Post, ["activate"]) => {
                        self.set(&id, "binding_status", json!("pending_deployment"));
                        self.settle
                            .insert(id.clone(), (now + SETTLE_MS, "available"));
                        envelope(202, self.certs[&id].clone())
                    }
                    _ => envelope(405, json!("method not allowed")),
                }
            }
            _ => envelope(404, json!("no route")),
        };
        response(status, headers, body)
    }
}

fn response(status: u16, headers: ResponseHeaders, body: String) -> HttpResponse<Value> {
    HttpResponse {
        status,
        headers,
        json: serde_json::from_str(&body).ok(),
        body,
    }
}

/// The simulated world: the API, a virtual clock, and the timers of the flows waiting on it.
struct Sim {
    api: RefCell<Api>,
    now: Cell<f64>,
    timers: RefCell<Vec<f64>>,
    abort_at: Option<f64>,
    events: RefCell<Vec<(String, &'static str, usize, usize)>>,
    steps: RefCell<Vec<&'static str>>,
}

impl Sim {
    fn new(api: Api) -> Self {
        Self {
            api: RefCell::new(api),
            now: Cell::new(0.0),
            timers: RefCell::default(),
            abort_at: None,
            events: RefCell::default(),
            steps: RefCell::default(),
        }
    }

    /// Runs a future to completion, moving the clock to the next timer whenever it waits.
    fn run<F: Future>(&self, f: F) -> F::Output {
        let mut f = pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            let next = self
                .timers
                .borrow()
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min);
            assert!(next.is_finite(), "every flow waits and no timer is set");
            self.timers.borrow_mut().clear();
            self.now.set(next.max(self.now.get()));
        }
    }

    /// Waits until `until`; false when the caller's abort came first.
    async fn until(&self, until: f64) -> bool {
        let end = self.abort_at.map_or(until, |a| a.min(until));
        Delay {
            sim: self,
            until: end,
        }
        .await;
        !self.aborted()
    }
}

struct Delay<'a> {
    sim: &'a Sim,
    until: f64,
}

impl Future for Delay<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.sim.now.get() >= self.until {
            return Poll::Ready(());
        }
        self.sim.timers.borrow_mut().push(self.until);
        Poll::Pending
    }
}

impl Platform for Sim {
    type Json = Value;
    async fn send(
        &self,
        request: &HttpRequest,
        _timeout_ms: u64,
    ) -> Result<HttpResponse<Value>, TransportError> {
        if self.aborted() {
            return Err(TransportError::Aborted);
        }
        let answer = self.api.borrow_mut().handle(request, self.now.get());
        if !self.until(self.now.get() + LATENCY_MS).await {
            return Err(TransportError::Aborted);
        }
        Ok(answer)
    }
    async fn sleep(&self, ms: u64) -> Result<(), TransportError> {
        if self.until(self.now.get() + ms as f64).await {
            Ok(())
        } else {
            Err(TransportError::Aborted)
        }
    }
    fn now_ms(&self) -> f64 {
        self.now.get()
    }
    fn random(&self) -> f64 {
        0.5
    }
    fn aborted(&self) -> bool {
        self.abort_at.is_some_and(|a| self.now.get() >= a)
    }
    fn progress(&self, step: Step, _certificate: Option<&Value>) {
        self.steps.borrow_mut().push(step.as_str());
    }
    fn many_progress(
        &self,
        id: &CertificateId,
        step: Step,
        _certificate: Option<&Value>,
        done: usize,
        total: usize,
    ) {
        self.events
            .borrow_mut()
            .push((id.as_str().to_owned(), step.as_str(), done, total));
    }
}

fn uuid(n: usize) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

fn cid(s: &str) -> CertificateId {
    CertificateId::parse::<()>(s).unwrap()
}

fn account() -> AccountId {
    AccountId::parse::<()>(ACCOUNT).unwrap()
}

const FAST: WaitOptions = WaitOptions {
    poll_interval_ms: 200,
    wait_timeout_ms: 60_000,
};

/// `n` certificates in turn inactive, available, pending_deletion, pending_deployment.
fn mixed_fleet(n: usize) -> (Api, Vec<String>) {
    let states = [
        "inactive",
        "available",
        "pending_deletion",
        "pending_deployment",
    ];
    let ids: Vec<String> = (0..n).map(uuid).collect();
    let fleet: Vec<(&str, &str)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), states[i % states.len()]))
        .collect();
    (Api::with(&fleet), ids)
}

type Outcome = Vec<(CertificateId, Fate<Value>)>;

fn retire_all(sim: &Sim, ids: &[String], concurrency: usize) -> Outcome {
    let c = client();
    let ids: Vec<CertificateId> = ids.iter().map(|s| cid(s)).collect();
    sim.run(retire_many(&c, sim, &account(), ids, FAST, concurrency))
}

fn names(outcome: &Outcome) -> Vec<(String, &'static str)> {
    outcome
        .iter()
        .map(|(id, f)| {
            let what = match f {
                Fate::Deleted(_) => "deleted",
                Fate::Refused(e) | Fate::Failed(e) => e.kind.name(),
            };
            (id.as_str().to_owned(), what)
        })
        .collect()
}

#[test]
fn retire_many_sorts_every_id_into_exactly_one_list() {
    let (mut api, mut ids) = mixed_fleet(12);
    let (in_use, custom, missing) = (uuid(100), uuid(101), uuid(102));
    api.certs
        .insert(in_use.clone(), cert_json(&in_use, "available"));
    api.set(&in_use, "in_use", json!(true));
    api.certs
        .insert(custom.clone(), cert_json(&custom, "inactive"));
    api.set(&custom, "type", json!("custom"));
    ids.extend([in_use.clone(), custom.clone(), missing.clone()]);
    let mut given = ids.clone();
    given.push(ids[0].clone()); // a duplicate
    given.push(ids[1].to_uppercase()); // the same UUID in capitals
    let sim = Sim::new(api);
    let out = retire_all(&sim, &given, 4);

    let mut want: Vec<(String, &str)> = ids[..12].iter().map(|i| (i.clone(), "deleted")).collect();
    want.push((in_use.clone(), "CertificateInUseError"));
    want.push((custom.clone(), "UnsupportedCertificateError"));
    want.push((missing, "NotFoundError"));
    assert_eq!(names(&out), want, "in the order given, duplicates once");
    let api = sim.api.borrow();
    assert!(api.deleted.values().all(|n| *n == 1), "each deleted once");
    assert_eq!(api.deleted.len(), 12);
    assert!(api.certs.contains_key(&in_use) && api.certs.contains_key(&custom));
    assert_eq!(
        api.certs[&in_use]["binding_status"], "available",
        "refused: untouched"
    );
    // Refusals carry the certificate seen.
    let Fate::Refused(e) = &out[12].1 else {
        panic!()
    };
    assert_eq!(e.certificate.as_ref().unwrap()["in_use"], true);

    // Progress: done counts up to the total, each id ends once with its outcome.
    let events = sim.events.borrow();
    let total = 15;
    assert!(events.iter().all(|e| e.3 == total));
    let dones: Vec<usize> = events.iter().map(|e| e.2).collect();
    assert!(
        dones.windows(2).all(|w| w[0] <= w[1]),
        "done never goes back"
    );
    assert_eq!(dones.last(), Some(&total));
    for id in &ids {
        let ends: Vec<_> = events
            .iter()
            .filter(|e| &e.0 == id && matches!(e.1, "done" | "refused" | "failed"))
            .collect();
        assert_eq!(ends.len(), 1, "{id}: {ends:?}");
        let first = events.iter().find(|e| &e.0 == id).unwrap();
        assert_eq!(first.1, "checking");
    }
}

#[test]
fn retire_many_runs_concurrency_certificates_at_once() {
    for (concurrency, want_max) in [(1, 1), (4, 4), (32, 20)] {
        let (api, ids) = mixed_fleet(20);
        let sim = Sim::new(api);
        let out = retire_all(&sim, &ids, concurrency);
        assert!(out.iter().all(|(_, f)| matches!(f, Fate::Deleted(_))));
        // Certificates in progress at once, from the events: started and not yet finished.
        let (mut open, mut most) = (0usize, 0usize);
        for e in sim.events.borrow().iter() {
            match e.1 {
                "checking" => open += 1,
                "done" | "refused" | "failed" => open -= 1,
                _ => {}
            }
            most = most.max(open);
        }
        assert_eq!(most, want_max, "concurrency {concurrency}");
    }
}

/// Least time `sent` requests need with `q` per window of `w` ms: the last window's start.
fn floor_ms(sent: u64, q: u64, w: f64) -> f64 {
    sent.div_ceil(q).saturating_sub(1) as f64 * w
}

#[test]
fn retire_many_within_a_small_budget_gets_no_429_and_takes_close_to_the_floor() {
    let (q, w) = (30u64, 3_000.0);
    let (mut api, ids) = mixed_fleet(48);
    api.limit = Some((q, w));
    let sim = Sim::new(api);
    let out = retire_all(&sim, &ids, 8);
    let api = sim.api.borrow();
    assert_eq!(api.limited, 0, "no 429");
    assert!(out.iter().all(|(_, f)| matches!(f, Fate::Deleted(_))));
    assert_eq!(api.deleted.len(), 48);
    assert!(api.deleted.values().all(|n| *n == 1));
    let sent = api.log.len() as u64;
    let floor = floor_ms(sent, q, w);
    let took = sim.now.get();
    eprintln!("{sent} requests, {took} ms, floor {floor} ms");
    assert!(
        took <= floor * 1.10 + 1_000.0,
        "{sent} requests took {took} ms; the budget's floor is {floor} ms"
    );
}

#[test]
fn a_flow_waits_for_a_reset_longer_than_a_single_call_would() {
    // Five-minute windows, as Cloudflare's: holds far past a single call's 60 s.
    let (q, w) = (20u64, 300_000.0);
    let (mut api, ids) = mixed_fleet(12);
    api.limit = Some((q, w));
    let sim = Sim::new(api);
    let out = retire_all(&sim, &ids, 4);
    assert!(
        out.iter().all(|(_, f)| matches!(f, Fate::Deleted(_))),
        "{:?}",
        names(&out)
    );
    let api = sim.api.borrow();
    assert_eq!(api.limited, 0);
    let windows = (api.log.len() as u64).div_ceil(q);
    assert!(
        windows >= 2 && sim.now.get() >= w,
        "it did wait for a reset"
    );
}

#[test]
fn retire_many_without_pacing_headers_is_not_held() {
    let (api, ids) = mixed_fleet(48);
    let sim = Sim::new(api);
    let out = retire_all(&sim, &ids, 8);
    assert!(out.iter().all(|(_, f)| matches!(f, Fate::Deleted(_))));
    // Six rounds of eight; each at most: GET, deactivate, settle + polls, DELETE.
    assert!(sim.now.get() < 6.0 * 1_000.0, "took {}", sim.now.get());
}

#[test]
fn a_429_anyway_holds_the_whole_client_until_the_reset() {
    let (q, w) = (10u64, 5_000.0);
    let (mut api, ids) = mixed_fleet(12);
    api.limit = Some((q, w));
    api.window = Some((0.0, q)); // someone else spent this window's budget
    let sim = Sim::new(api);
    let out = retire_all(&sim, &ids, 4);
    assert!(out.iter().all(|(_, f)| matches!(f, Fate::Deleted(_))));
    let api = sim.api.borrow();
    assert_eq!(
        api.limited, 1,
        "only the first request, sent before any answer, met the limit"
    );
}

#[test]
fn retire_many_abort_resolves_with_every_unfinished_certificate_failed() {
    let (api, ids) = mixed_fleet(16);
    let mut sim = Sim::new(api);
    sim.abort_at = Some(700.0);
    let out = retire_all(&sim, &ids, 2);
    assert_eq!(out.len(), 16);
    let n = names(&out);
    let deleted = n.iter().filter(|x| x.1 == "deleted").count();
    let aborted = n.iter().filter(|x| x.1 == "APIUserAbortError").count();
    assert_eq!(deleted + aborted, 16, "{n:?}");
    assert!(deleted >= 1 && aborted >= 10, "{n:?}");
    assert!(sim.now.get() <= 700.0 + LATENCY_MS, "resolved at the abort");
    let api = sim.api.borrow();
    for (id, what) in &n {
        assert_eq!(api.deleted.contains_key(id), *what == "deleted", "{id}");
    }
}

#[test]
fn retire_many_of_nothing_sends_nothing() {
    let sim = Sim::new(Api::default());
    let out = retire_all(&sim, &[], 4);
    assert!(out.is_empty());
    assert!(sim.api.borrow().log.is_empty());
}

#[test]
fn options_are_validated() {
    assert_eq!(concurrency::<()>(None).unwrap(), 4);
    assert_eq!(concurrency::<()>(Some(1.0)).unwrap(), 1);
    assert_eq!(concurrency::<()>(Some(32.0)).unwrap(), 32);
    for bad in [0.0, 33.0, 1.5, -1.0, f64::NAN, f64::INFINITY] {
        let e = concurrency::<()>(Some(bad)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
    }
    assert!(WaitOptions::new::<()>(Some(5.0), None).is_err());
    assert!(WaitOptions::new::<()>(None, Some(-1.0)).is_err());
    assert_eq!(
        WaitOptions::new::<()>(Some(50.0), Some(0.0)).unwrap(),
        WaitOptions {
            poll_interval_ms: 50,
            wait_timeout_ms: 0
        }
    );
    let ids = distinct(vec![
        cid(&uuid(1)),
        cid(&uuid(2)),
        cid(&uuid(1).to_uppercase()),
    ]);
    assert_eq!(ids.len(), 2);
}

fn log(sim: &Sim) -> Vec<String> {
    sim.api.borrow().log.clone()
}

#[test]
fn create_and_activate_waits_until_available() {
    let sim = Sim::new(Api::default());
    let c = client();
    let cert = sim
        .run(create_and_activate(&c, &sim, &account(), Some(365), FAST))
        .unwrap();
    assert_eq!(cert["binding_status"], "available");
    let id = cert["id"].as_str().unwrap().to_owned();
    assert_eq!(
        log(&sim),
        [
            "POST certificates".to_owned(),
            format!("POST certificates/{id}/activate"),
            format!("GET certificates/{id}"),
            format!("GET certificates/{id}"),
            format!("GET certificates/{id}"),
        ]
    );
    assert_eq!(
        *sim.steps.borrow(),
        [
            "creating",
            "activating",
            "waiting",
            "waiting",
            "waiting",
            "done"
        ]
    );
}

#[test]
fn create_is_sent_once_and_a_later_failure_carries_the_new_certificate() {
    // create answered 429: not retried.
    let p = Scripted::new(vec![fail_with(
        429,
        971,
        "slow",
        ResponseHeaders::default(),
    )]);
    let e =
        crate::client::tests::block_on(create_and_activate(&client(), &p, &account(), None, FAST))
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimit);
    assert_eq!(p.methods(), ["POST"]);
    // activate failed for good: the error names the certificate created.
    let mut created = crate::client::tests::cert("inactive");
    created["id"] = json!(CERT);
    let p = Scripted::new(vec![
        ok(200, created),
        fail_with(403, 10000, "denied", ResponseHeaders::default()),
    ]);
    let e =
        crate::client::tests::block_on(create_and_activate(&client(), &p, &account(), None, FAST))
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert_eq!(e.certificate.as_ref().unwrap()["id"], CERT);
    assert!(e.message().contains(CERT), "{}", e.message());
    assert!(
        e.message().contains("do not create another"),
        "{}",
        e.message()
    );
    assert!(e.message().contains("[10000] denied"), "{}", e.message());
}

#[test]
fn create_and_activate_gives_up_after_wait_timeout() {
    let mut sim = Sim::new(Api::default());
    sim.api.get_mut().limit = None;
    let c = client();
    let short = WaitOptions {
        poll_interval_ms: 100,
        wait_timeout_ms: 300,
    };
    let e = sim
        .run(create_and_activate(&c, &sim, &account(), None, short))
        .unwrap_err();
    assert_eq!(e.kind.name(), "CertificateNotAvailableError");
    assert_eq!(
        e.certificate.as_ref().unwrap()["binding_status"],
        "pending_deployment"
    );
    assert!(
        e.message().contains("gave up after 300 ms"),
        "{}",
        e.message()
    );
}

#[test]
fn set_in_use_patches_only_the_certificate_block_then_waits() {
    let (old, new) = (uuid(1), uuid(2));
    let mut api = Api::with(&[(&old, "available"), (&new, "available")]);
    api.set(&old, "in_use", json!(true));
    let sim = Sim::new(api);
    let c = client();
    let got = sim
        .run(set_in_use(&c, &sim, &account(), &cid(&new), FAST))
        .unwrap();
    assert_eq!(got["in_use"], true);
    assert_eq!(
        log(&sim),
        [
            format!("GET certificates/{new}"),
            "PATCH configuration".to_owned(),
            format!("GET certificates/{new}"),
        ]
    );
    assert_eq!(sim.api.borrow().certs[&old]["in_use"], false);
    assert_eq!(*sim.steps.borrow(), ["switching", "done"]);
    // Already in use: nothing to change.
    let again = sim
        .run(set_in_use(&c, &sim, &account(), &cid(&new), FAST))
        .unwrap();
    assert_eq!(again["in_use"], true);
    assert_eq!(log(&sim).len(), 4);
}

#[test]
fn set_in_use_refuses_a_certificate_that_is_not_available_before_the_patch() {
    for status in ["inactive", "pending_deployment", "pending_deletion"] {
        let id = uuid(3);
        let sim = Sim::new(Api::with(&[(&id, status)]));
        let c = client();
        let e = sim
            .run(set_in_use(&c, &sim, &account(), &cid(&id), FAST))
            .unwrap_err();
        assert_eq!(e.kind.name(), "CertificateNotAvailableError");
        assert_eq!(e.certificate.as_ref().unwrap()["binding_status"], status);
        assert_eq!(log(&sim), [format!("GET certificates/{id}")], "no PATCH");
    }
}

#[test]
fn set_in_use_sends_exactly_the_certificate_block() {
    let mut available = crate::client::tests::cert("available");
    available["in_use"] = json!(false);
    let mut used = available.clone();
    used["in_use"] = json!(true);
    let p = Scripted::new(vec![
        ok(200, available),
        ok(200, json!({"settings": {"certificate": {"id": CERT}}})),
        ok(200, used),
    ]);
    crate::client::tests::block_on(set_in_use(&client(), &p, &account(), &cid(CERT), FAST))
        .unwrap();
    let sent = p.sent.borrow();
    assert_eq!(sent[1].method, Method::Patch);
    assert!(sent[1]
        .url
        .ends_with(&format!("/accounts/{ACCOUNT}/gateway/configuration")));
    assert_eq!(
        sent[1].body.as_deref(),
        Some(format!("{{\"settings\":{{\"certificate\":{{\"id\":\"{CERT}\"}}}}}}").as_str())
    );
}

#[test]
fn a_whole_rotation() {
    let old = uuid(1);
    let mut api = Api::with(&[(&old, "available")]);
    api.set(&old, "in_use", json!(true));
    let sim = Sim::new(api);
    let c = client();
    let new = sim
        .run(create_and_activate(&c, &sim, &account(), None, FAST))
        .unwrap();
    let new_id = cid(new["id"].as_str().unwrap());
    // The old one cannot be retired while it is in use.
    let e = sim
        .run(retire(&c, &sim, &account(), &cid(&old), FAST))
        .unwrap_err();
    assert_eq!(e.kind.name(), "CertificateInUseError");
    sim.run(set_in_use(&c, &sim, &account(), &new_id, FAST))
        .unwrap();
    let gone = sim
        .run(retire(&c, &sim, &account(), &cid(&old), FAST))
        .unwrap();
    assert_eq!(gone["id"], old.as_str());
    let api = sim.api.borrow();
    assert_eq!(api.deleted.get(&old), Some(&1));
    assert_eq!(api.certs[new_id.as_str()]["in_use"], true);
    let n = new_id.as_str();
    assert_eq!(
        api.log,
        [
            "POST certificates".to_owned(),
            format!("POST certificates/{n}/activate"),
            format!("GET certificates/{n}"),
            format!("GET certificates/{n}"),
            format!("GET certificates/{n}"),
            format!("GET certificates/{old}"),
            format!("GET certificates/{n}"),
            "PATCH configuration".to_owned(),
            format!("GET certificates/{n}"),
            format!("GET certificates/{old}"),
            format!("POST certificates/{old}/deactivate"),
            format!("GET certificates/{old}"),
            format!("GET certificates/{old}"),
            format!("GET certificates/{old}"),
            format!("DELETE certificates/{old}"),
        ]
    );
}

#[test]
fn refusals_carry_the_cf_ray_of_the_answer_that_showed_the_certificate() {
    let headers = ResponseHeaders {
        cf_ray: Some("8f1e2d3c4b5a6978-SJC".into()),
        ..ResponseHeaders::default()
    };
    let mut in_use = crate::client::tests::cert("available");
    in_use["in_use"] = json!(true);
    let mut custom = crate::client::tests::cert("inactive");
    custom["type"] = json!("custom");
    let inactive = crate::client::tests::cert("inactive");
    for (cert, name, run_set_in_use) in [
        (in_use, "CertificateInUseError", false),
        (custom, "UnsupportedCertificateError", false),
        (inactive, "CertificateNotAvailableError", true),
    ] {
        let mut answer = ok(200, cert).unwrap();
        answer.headers = headers.clone();
        let p = Scripted::new(vec![Ok(answer)]);
        let flow = |c| async move {
            if run_set_in_use {
                set_in_use(&c, &p, &account(), &cid(CERT), FAST).await
            } else {
                retire(&c, &p, &account(), &cid(CERT), FAST).await
            }
        };
        let e = crate::client::tests::block_on(flow(client())).unwrap_err();
        assert_eq!(e.kind.name(), name);
        assert_eq!(e.cf_ray.as_deref(), Some("8f1e2d3c4b5a6978-SJC"), "{name}");
    }
}
