//! The request loop against a scripted platform: every answer is queued up front, time is
//! virtual (sleeps advance the clock), and every request and sleep is recorded.

use super::*;
use crate::envelope::tests::spec_certificate;
use crate::lifecycle::WaitOptions;
use crate::retire::RetireOptions;
use crate::validate::AccountId;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[derive(Default)]
pub(crate) struct Scripted {
    answers: RefCell<VecDeque<Result<HttpResponse<Value>, TransportError>>>,
    pub(crate) sent: RefCell<Vec<HttpRequest>>,
    slept: RefCell<Vec<u64>>,
    clock: RefCell<f64>,
    abort_sleep: bool,
    events: RefCell<Vec<(Step, Option<String>)>>,
}

impl Scripted {
    pub(crate) fn new(answers: Vec<Result<HttpResponse<Value>, TransportError>>) -> Self {
        Self {
            answers: RefCell::new(answers.into()),
            clock: RefCell::new(1_000_000_000_000.0),
            ..Default::default()
        }
    }
    pub(crate) fn methods(&self) -> Vec<String> {
        self.sent
            .borrow()
            .iter()
            .map(|r| r.method.as_str().to_owned())
            .collect()
    }
}

impl Platform for Scripted {
    type Json = Value;
    async fn send(
        &self,
        request: &HttpRequest,
        _timeout_ms: u64,
    ) -> Result<HttpResponse<Value>, TransportError> {
        self.sent.borrow_mut().push(request.clone());
        let mut answer = self
            .answers
            .borrow_mut()
            .pop_front()
            .expect("the script ran out of answers")?;
        answer.json = serde_json::from_str(&answer.body).ok(); // what JSON.parse does in wasm
        Ok(answer)
    }
    async fn sleep(&self, ms: u64) -> Result<(), TransportError> {
        if self.abort_sleep {
            return Err(TransportError::Aborted);
        }
        self.slept.borrow_mut().push(ms);
        *self.clock.borrow_mut() += ms as f64;
        Ok(())
    }
    fn now_ms(&self) -> f64 {
        *self.clock.borrow()
    }
    fn random(&self) -> f64 {
        0.0
    }
    fn progress(&self, step: Step, cert: Option<&Value>) {
        let status = cert.and_then(|c| c["binding_status"].as_str().map(str::to_owned));
        self.events.borrow_mut().push((step, status));
    }
}

pub(crate) const ACCOUNT: &str = "699d98642c564d2e855e9661899b7252";
pub(crate) const CERT: &str = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415";
pub(crate) const TOKEN: &str = "test-token-Zx9y8w7v6u5t4s3r2q1p";

pub(crate) fn cfg() -> Config {
    Config::new::<Value>(&RawOptions {
        api_token: Some(TOKEN),
        ..Default::default()
    })
    .unwrap()
}
pub(crate) fn client() -> Client {
    Client::new(cfg())
}
pub(crate) fn ids() -> (AccountId, CertificateId) {
    (
        AccountId::parse::<()>(ACCOUNT).unwrap(),
        CertificateId::parse::<()>(CERT).unwrap(),
    )
}
pub(crate) fn delete_op() -> Operation {
    let (a, c) = ids();
    Operation::Delete(a, c)
}
pub(crate) fn cert(status: &str) -> Value {
    let mut c = spec_certificate();
    c["binding_status"] = json!(status);
    c
}
pub(crate) fn ok(status: u16, result: Value) -> Result<HttpResponse<Value>, TransportError> {
    let body = json!({"success": true, "errors": [], "messages": [], "result": result}).to_string();
    Ok(HttpResponse {
        status,
        headers: ResponseHeaders::default(),
        json: None,
        body,
    })
}
pub(crate) fn fail(
    status: u16,
    code: i64,
    message: &str,
) -> Result<HttpResponse<Value>, TransportError> {
    fail_with(status, code, message, ResponseHeaders::default())
}
pub(crate) fn fail_with(
    status: u16,
    code: i64,
    message: &str,
    headers: ResponseHeaders,
) -> Result<HttpResponse<Value>, TransportError> {
    let body = json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null}).to_string();
    Ok(HttpResponse {
        status,
        headers,
        json: None,
        body,
    })
}

#[test]
fn delete_sends_one_well_formed_request() {
    let p = Scripted::new(vec![ok(200, cert("inactive"))]);
    let got = block_on(execute(&client(), &p, &delete_op())).unwrap();
    assert_eq!(got["id"], CERT);
    let sent = p.sent.borrow();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::Delete);
    assert_eq!(
        sent[0].url,
        format!("{DEFAULT_BASE_URL}/accounts/{ACCOUNT}/gateway/certificates/{CERT}")
    );
    assert_eq!(sent[0].body, None);
    assert_eq!(
        sent[0].headers,
        vec![
            ("Accept", "application/json".to_string()),
            ("Authorization", format!("Bearer {TOKEN}"))
        ]
    );
}

#[test]
fn key_scheme_and_post_headers() {
    let cfg = Config::new::<Value>(&RawOptions {
        api_email: Some("admin@example.com"),
        api_key: Some("global-key-123456"),
        base_url: Some("http://127.0.0.1:9/client/v4/"),
        ..Default::default()
    })
    .unwrap();
    let (a, c) = ids();
    let p = Scripted::new(vec![ok(201, cert("pending_deletion"))]);
    block_on(execute(&Client::new(cfg), &p, &Operation::Deactivate(a, c))).unwrap();
    let sent = p.sent.borrow();
    assert_eq!(sent[0].url, format!("http://127.0.0.1:9/client/v4/accounts/{ACCOUNT}/gateway/certificates/{CERT}/deactivate"));
    assert_eq!(sent[0].body.as_deref(), Some("{}"));
    let names: Vec<_> = sent[0].headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["Accept", "Content-Type", "X-Auth-Email", "X-Auth-Key"]
    );
}

#[test]
fn a_503_is_retried_with_backoff_then_succeeds() {
    let p = Scripted::new(vec![
        fail(503, 2000, "busy"),
        Err(TransportError::Connection("reset".into())),
        ok(200, spec_certificate()),
    ]);
    let (a, c) = ids();
    block_on(execute(&client(), &p, &Operation::Get(a, c))).unwrap();
    assert_eq!(p.sent.borrow().len(), 3);
    assert_eq!(*p.slept.borrow(), vec![500, 1000]);
}

#[test]
fn retries_stop_at_max_retries() {
    let p = Scripted::new(vec![
        fail(502, 2000, "a"),
        fail(502, 2000, "b"),
        fail(502, 2000, "c"),
    ]);
    let (a, c) = ids();
    let e = block_on(execute(&client(), &p, &Operation::Get(a, c))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InternalServer);
    assert_eq!(e.message(), "HTTP 502: [2000] c");
    assert_eq!(p.sent.borrow().len(), 3);
    let mut none = cfg();
    none.max_retries = 0;
    let p = Scripted::new(vec![fail(502, 2000, "a")]);
    let (a, c) = ids();
    assert!(block_on(execute(&Client::new(none), &p, &Operation::Get(a, c))).is_err());
    assert_eq!(p.sent.borrow().len(), 1);
}

#[test]
fn timeouts_and_connection_errors() {
    let (a, c) = ids();
    let p = Scripted::new(vec![
        Err(TransportError::Timeout),
        Err(TransportError::Timeout),
        Err(TransportError::Timeout),
    ]);
    let e = block_on(execute(
        &client(),
        &p,
        &Operation::Get(a.clone(), c.clone()),
    ))
    .unwrap_err();
    assert_eq!(e.kind.name(), "APIConnectionTimeoutError");
    assert_eq!(
        e.message(),
        "no response within 60000 ms (after 3 attempts)"
    );
    let p = Scripted::new(vec![Err(TransportError::Connection(format!(
        "refused {TOKEN}"
    )))]);
    let mut once = cfg();
    once.max_retries = 0;
    let e = block_on(execute(&Client::new(once), &p, &Operation::Get(a, c))).unwrap_err();
    assert_eq!(e.kind.name(), "APIConnectionError");
    assert!(
        !e.message().contains(TOKEN),
        "credentials are redacted: {}",
        e.message()
    );
}

#[test]
fn abort_is_never_retried() {
    let (a, c) = ids();
    let p = Scripted::new(vec![Err(TransportError::Aborted)]);
    let e = block_on(execute(
        &client(),
        &p,
        &Operation::Get(a.clone(), c.clone()),
    ))
    .unwrap_err();
    assert_eq!(e.kind.name(), "APIUserAbortError");
    assert_eq!(p.sent.borrow().len(), 1);
    // An abort during the wait before a retry.
    let mut p = Scripted::new(vec![fail(503, 2000, "busy")]);
    p.abort_sleep = true;
    let e = block_on(execute(&client(), &p, &Operation::Get(a, c))).unwrap_err();
    assert_eq!(e.kind.name(), "APIUserAbortError");
}

#[test]
fn rate_limits_are_respected() {
    let (a, c) = ids();
    let h = |f: fn(&mut ResponseHeaders)| {
        let mut h = ResponseHeaders::default();
        f(&mut h);
        h
    };
    // Each header form sets the wait.
    let forms: Vec<(ResponseHeaders, u64)> = vec![
        (h(|h| h.retry_after_ms = Some("150".into())), 150),
        (h(|h| h.retry_after = Some("2".into())), 2000),
        (
            h(|h| h.retry_after = Some("Sun, 09 Sep 2001 01:46:45 GMT".into())),
            5000,
        ),
        (
            h(|h| h.ratelimit = Some("\"default\";r=0;t=3".into())),
            3000,
        ),
        (ResponseHeaders::default(), 500),
    ];
    for (headers, want) in forms {
        let p = Scripted::new(vec![
            fail_with(429, 971, "slow down", headers),
            ok(200, spec_certificate()),
        ]);
        block_on(execute(
            &client(),
            &p,
            &Operation::Get(a.clone(), c.clone()),
        ))
        .unwrap();
        assert_eq!(*p.slept.borrow(), vec![want]);
    }
    // Longer than 60 s: not slept, RateLimitError at once with retryAfterMs.
    let long = h(|h| h.retry_after = Some("300".into()));
    let p = Scripted::new(vec![fail_with(429, 971, "slow down", long)]);
    let e = block_on(execute(
        &client(),
        &p,
        &Operation::Get(a.clone(), c.clone()),
    ))
    .unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after_ms, e.status),
        (ErrorKind::RateLimit, Some(300_000), Some(429))
    );
    assert!(p.slept.borrow().is_empty());
    assert_eq!(
        e.message(),
        "HTTP 429: [971] slow down; retry after 300000 ms"
    );
    // Out of retries: the last 429 carries its wait.
    let short = h(|h| h.retry_after = Some("1".into()));
    let p = Scripted::new(vec![
        fail_with(429, 971, "x", short.clone()),
        fail_with(429, 971, "x", short.clone()),
        fail_with(429, 971, "x", short),
    ]);
    let e = block_on(execute(&client(), &p, &Operation::Get(a, c))).unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after_ms),
        (ErrorKind::RateLimit, Some(1000))
    );
    assert_eq!(p.sent.borrow().len(), 3);
}

#[test]
fn client_errors_are_not_retried() {
    let (a, c) = ids();
    for (status, name) in [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (422, "UnprocessableEntityError"),
        (405, "APIError"),
    ] {
        let p = Scripted::new(vec![fail(status, 1000, "no")]);
        let e = block_on(execute(
            &client(),
            &p,
            &Operation::Get(a.clone(), c.clone()),
        ))
        .unwrap_err();
        assert_eq!(e.kind.name(), name);
        assert_eq!(p.sent.borrow().len(), 1, "{status}");
    }
    let p = Scripted::new(vec![
        fail(409, 1000, "conflict"),
        fail(409, 1000, "conflict"),
        fail(409, 1000, "conflict"),
    ]);
    let e = block_on(execute(&client(), &p, &Operation::Get(a, c))).unwrap_err();
    assert_eq!((e.kind.name(), p.sent.borrow().len()), ("ConflictError", 3));
}

#[test]
fn a_2xx_without_a_success_envelope_is_not_retried() {
    let (a, c) = ids();
    for body in [
        "{\"success\":false,\"errors\":[]}",
        "{\"success\":true,\"result\":null}",
        "<html>",
        "{\"success\":true,",
    ] {
        let p = Scripted::new(vec![Ok(HttpResponse {
            status: 200,
            headers: ResponseHeaders::default(),
            json: None,
            body: body.into(),
        })]);
        let e = block_on(execute(
            &client(),
            &p,
            &Operation::Get(a.clone(), c.clone()),
        ))
        .unwrap_err();
        assert_eq!(e.kind.name(), "APIError", "{body}");
        assert_eq!(p.sent.borrow().len(), 1);
    }
}

#[test]
fn create_is_never_retried() {
    let (a, _) = ids();
    let p = Scripted::new(vec![fail(503, 2000, "busy")]);
    let e = block_on(execute(
        &client(),
        &p,
        &Operation::Create(a.clone(), Some(30)),
    ))
    .unwrap_err();
    assert_eq!(e.kind.name(), "InternalServerError");
    assert_eq!(p.sent.borrow().len(), 1);
    let p = Scripted::new(vec![Err(TransportError::Timeout)]);
    let e = block_on(execute(&client(), &p, &Operation::Create(a, None))).unwrap_err();
    assert_eq!(e.kind.name(), "APIConnectionTimeoutError");
    assert_eq!(p.sent.borrow().len(), 1);
}

#[test]
fn delete_of_an_active_certificate_is_certificate_not_inactive_at_once() {
    let headers = ResponseHeaders {
        cf_ray: Some("8f00aa11bb22cc33-EMU".into()),
        ..Default::default()
    };
    let p = Scripted::new(vec![
        fail_with(500, 2000, "Internal Server Error", headers),
        ok(200, cert("available")),
    ]);
    let e = block_on(execute(&client(), &p, &delete_op())).unwrap_err();
    assert_eq!(e.kind.name(), "CertificateNotInactiveError");
    assert_eq!(e.status, Some(500));
    assert_eq!(e.errors[0].code, 2000);
    assert_eq!(e.cf_ray.as_deref(), Some("8f00aa11bb22cc33-EMU"));
    assert_eq!(
        e.certificate.as_ref().unwrap()["binding_status"],
        "available"
    );
    assert_eq!(p.methods(), ["DELETE", "GET"]);
    assert!(p.slept.borrow().is_empty());
    assert!(
        e.message().contains("deactivate it first"),
        "{}",
        e.message()
    );
}

#[test]
fn delete_500_on_an_inactive_certificate_is_retried() {
    let p = Scripted::new(vec![
        fail(500, 2000, "oops"),
        ok(200, cert("inactive")),
        ok(200, cert("inactive")),
    ]);
    block_on(execute(&client(), &p, &delete_op())).unwrap();
    assert_eq!(p.methods(), ["DELETE", "GET", "DELETE"]);
    // The follow-up GET failing leaves the DELETE's own rules in charge.
    let p = Scripted::new(vec![
        fail(502, 2000, "a"),
        Err(TransportError::Connection("x".into())),
        fail(502, 2000, "b"),
        fail(502, 2000, "c"),
    ]);
    let e = block_on(execute(&client(), &p, &delete_op())).unwrap_err();
    assert_eq!(e.kind.name(), "InternalServerError");
    assert_eq!(p.methods(), ["DELETE", "GET", "DELETE", "DELETE"]);
    // A 404 on DELETE needs no follow-up.
    let p = Scripted::new(vec![fail(404, 1003, "not found")]);
    assert_eq!(
        block_on(execute(&client(), &p, &delete_op()))
            .unwrap_err()
            .kind
            .name(),
        "NotFoundError"
    );
    assert_eq!(p.methods(), ["DELETE"]);
}

#[test]
fn the_follow_up_gets_429_wait_is_honoured() {
    let limited = ResponseHeaders {
        retry_after: Some("3".into()),
        ..Default::default()
    };
    let p = Scripted::new(vec![
        fail(503, 2000, "busy"),
        fail_with(429, 971, "slow down", limited),
        ok(200, cert("inactive")),
    ]);
    block_on(execute(&client(), &p, &delete_op())).unwrap();
    assert_eq!(p.methods(), ["DELETE", "GET", "DELETE"]);
    assert_eq!(
        *p.slept.borrow(),
        vec![3000],
        "the GET's Retry-After, not the 500 ms backoff"
    );
}

#[test]
fn a_404_after_a_lost_delete_answer_says_so() {
    let p = Scripted::new(vec![
        Err(TransportError::Connection("reset".into())),
        fail(404, 1101, "Certificate not found"),
    ]);
    let e = block_on(execute(&client(), &p, &delete_op())).unwrap_err();
    assert_eq!(e.kind.name(), "NotFoundError");
    assert!(e.message().contains("earlier attempt"), "{}", e.message());
    assert!(e.message().contains("[1101] Certificate not found"));
    // A first-attempt 404 is a plain NotFoundError.
    let p = Scripted::new(vec![fail(404, 1101, "Certificate not found")]);
    let e = block_on(execute(&client(), &p, &delete_op())).unwrap_err();
    assert_eq!(e.message(), "HTTP 404: [1101] Certificate not found");
}

#[test]
fn config_validation() {
    let bad = |o: RawOptions| Config::new::<Value>(&o).unwrap_err();
    let t = Some("tok-123");
    assert!(bad(RawOptions::default()).detail.contains("no credentials"));
    assert!(bad(RawOptions {
        api_token: t,
        timeout_ms: Some(-1.0),
        ..Default::default()
    })
    .detail
    .contains("timeoutMs"));
    assert!(bad(RawOptions {
        api_token: t,
        timeout_ms: Some(0.5),
        ..Default::default()
    })
    .detail
    .contains("timeoutMs"));
    assert!(bad(RawOptions {
        api_token: t,
        max_retries: Some(1.5),
        ..Default::default()
    })
    .detail
    .contains("maxRetries"));
    assert!(bad(RawOptions {
        api_token: t,
        max_retries: Some(1e9),
        ..Default::default()
    })
    .detail
    .contains("maxRetries"));
    assert!(bad(RawOptions {
        api_token: t,
        base_url: Some("javascript:alert(1)"),
        ..Default::default()
    })
    .detail
    .contains("baseUrl"));
    let c = Config::new::<Value>(&RawOptions {
        api_token: t,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        (c.base_url.as_str(), c.timeout_ms, c.max_retries),
        (DEFAULT_BASE_URL, 60_000, 2)
    );
    assert!(WaitOptions::new::<Value>(Some(5.0), None).is_err());
    assert!(WaitOptions::new::<Value>(None, Some(-1.0)).is_err());
    assert_eq!(
        WaitOptions::new::<Value>(Some(50.0), Some(0.0)).unwrap(),
        RetireOptions {
            poll_interval_ms: 50,
            wait_timeout_ms: 0
        }
    );
}

fn retire_now(p: &Scripted, options: RetireOptions) -> Result<Value, Error<Value>> {
    let (a, c) = ids();
    block_on(crate::lifecycle::retire(&client(), p, &a, &c, options))
}

#[test]
fn retire_an_available_certificate() {
    let p = Scripted::new(vec![
        ok(200, cert("available")),
        ok(201, cert("pending_deletion")),
        ok(200, cert("pending_deletion")),
        ok(200, cert("inactive")),
        ok(200, cert("inactive")),
    ]);
    let opts = RetireOptions {
        poll_interval_ms: 100,
        wait_timeout_ms: 10_000,
    };
    let deleted = retire_now(&p, opts).unwrap();
    assert_eq!(deleted["id"], CERT);
    assert_eq!(p.methods(), ["GET", "POST", "GET", "GET", "DELETE"]);
    assert!(p.sent.borrow()[1].url.ends_with("/deactivate"));
    assert_eq!(*p.slept.borrow(), vec![100, 100]);
    let events: Vec<(&str, Option<String>)> = p
        .events
        .borrow()
        .iter()
        .map(|(s, c)| (s.as_str(), c.clone()))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        events,
        vec![
            ("checking", None),
            ("deactivating", s("available")),
            ("waiting", s("pending_deletion")),
            ("waiting", s("pending_deletion")),
            ("deleting", s("inactive")),
            ("done", s("inactive")),
        ]
    );
}

#[test]
fn retire_from_each_state() {
    let opts = RetireOptions {
        poll_interval_ms: 100,
        wait_timeout_ms: 10_000,
    };
    // inactive: straight to delete.
    let p = Scripted::new(vec![ok(200, cert("inactive")), ok(200, cert("inactive"))]);
    retire_now(&p, opts).unwrap();
    assert_eq!(p.methods(), ["GET", "DELETE"]);
    // pending_deletion: wait, no deactivate.
    let p = Scripted::new(vec![
        ok(200, cert("pending_deletion")),
        ok(200, cert("inactive")),
        ok(200, cert("inactive")),
    ]);
    retire_now(&p, opts).unwrap();
    assert_eq!(p.methods(), ["GET", "GET", "DELETE"]);
    // pending_deployment and the legacy "active": deactivate.
    for status in ["pending_deployment", "active"] {
        let p = Scripted::new(vec![
            ok(200, cert(status)),
            ok(201, cert("inactive")),
            ok(200, cert("inactive")),
        ]);
        retire_now(&p, opts).unwrap();
        assert_eq!(p.methods(), ["GET", "POST", "DELETE"]);
    }
}

#[test]
fn retire_refuses_before_changing_anything() {
    let opts = RetireOptions::default();
    let mut in_use = cert("available");
    in_use["in_use"] = json!(true);
    let p = Scripted::new(vec![ok(200, in_use)]);
    let e = retire_now(&p, opts).unwrap_err();
    assert_eq!(e.kind.name(), "CertificateInUseError");
    assert_eq!(e.certificate.unwrap()["in_use"], true);
    assert_eq!(p.methods(), ["GET"]);
    let mut custom = cert("inactive");
    custom["type"] = json!("custom");
    let p = Scripted::new(vec![ok(200, custom)]);
    let e = retire_now(&p, opts).unwrap_err();
    assert_eq!(e.kind.name(), "UnsupportedCertificateError");
    assert_eq!(p.methods(), ["GET"]);
    // Put to use while we wait: refused before the DELETE.
    let mut became_in_use = cert("inactive");
    became_in_use["in_use"] = json!(true);
    let p = Scripted::new(vec![
        ok(200, cert("available")),
        ok(201, cert("pending_deletion")),
        ok(200, became_in_use),
    ]);
    let e = retire_now(
        &p,
        RetireOptions {
            poll_interval_ms: 10,
            wait_timeout_ms: 1000,
        },
    )
    .unwrap_err();
    assert_eq!(e.kind.name(), "CertificateInUseError");
    assert_eq!(p.methods(), ["GET", "POST", "GET"]);
}

#[test]
fn retire_gives_up_after_wait_timeout() {
    let stuck = || ok(200, cert("pending_deletion"));
    let p = Scripted::new(vec![
        ok(200, cert("available")),
        ok(201, cert("pending_deletion")),
        stuck(),
        stuck(),
        stuck(),
    ]);
    let e = retire_now(
        &p,
        RetireOptions {
            poll_interval_ms: 400,
            wait_timeout_ms: 1000,
        },
    )
    .unwrap_err();
    assert_eq!(e.kind.name(), "CertificateNotInactiveError");
    assert_eq!(
        e.certificate.as_ref().unwrap()["binding_status"],
        "pending_deletion"
    );
    assert_eq!(
        *p.slept.borrow(),
        vec![400, 400, 200],
        "the last sleep ends at the deadline"
    );
    assert_eq!(p.methods(), ["GET", "POST", "GET", "GET", "GET"]);
    assert!(e.message().starts_with("gave up after 1000 ms"));
}

#[test]
fn retire_resolves_when_its_delete_answer_was_lost_and_the_retry_finds_it_gone() {
    let p = Scripted::new(vec![
        ok(200, cert("inactive")),
        Err(TransportError::Connection("reset".into())),
        fail(404, 1101, "Certificate not found"),
    ]);
    let deleted = retire_now(&p, RetireOptions::default()).unwrap();
    assert_eq!(deleted["binding_status"], "inactive", "the last state seen");
    assert_eq!(p.methods(), ["GET", "DELETE", "DELETE"]);
    assert_eq!(
        p.events.borrow().last().map(|(s, _)| s.as_str()),
        Some("done")
    );
    // A 404 on the first DELETE attempt (removed by something else) stays a NotFoundError.
    let p = Scripted::new(vec![
        ok(200, cert("inactive")),
        fail(404, 1101, "Certificate not found"),
    ]);
    assert_eq!(
        retire_now(&p, RetireOptions::default())
            .unwrap_err()
            .kind
            .name(),
        "NotFoundError"
    );
}

#[test]
fn retire_passes_api_errors_through() {
    let p = Scripted::new(vec![fail(404, 1003, "certificate not found")]);
    let e = retire_now(&p, RetireOptions::default()).unwrap_err();
    assert_eq!(e.kind.name(), "NotFoundError");
    let p = Scripted::new(vec![
        ok(200, cert("available")),
        fail(403, 10000, "Authentication error"),
    ]);
    let e = retire_now(&p, RetireOptions::default()).unwrap_err();
    assert_eq!(e.kind.name(), "PermissionDeniedError");
    assert_eq!(p.methods(), ["GET", "POST"]);
}

#[test]
fn a_single_call_fails_at_once_when_the_budget_is_spent_for_long() {
    let (a, c) = ids();
    let spent = ResponseHeaders {
        ratelimit: Some("\"default\";r=0;t=240".into()),
        ratelimit_policy: Some("\"default\";q=1200;w=300".into()),
        ..ResponseHeaders::default()
    };
    let mut answer = ok(200, spec_certificate()).unwrap();
    answer.headers = spent;
    let p = Scripted::new(vec![Ok(answer)]);
    let client = client();
    block_on(execute(&client, &p, &Operation::Get(a.clone(), c.clone()))).unwrap();
    let e = block_on(execute(&client, &p, &Operation::Get(a, c))).unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.retry_after_ms),
        (ErrorKind::RateLimit, None, Some(240_000))
    );
    assert!(e
        .message()
        .starts_with("not sent: the rate limit's budget is spent"));
    assert_eq!(p.sent.borrow().len(), 1, "the second was never sent");
    assert!(p.slept.borrow().is_empty());
}

#[test]
fn a_single_call_waits_for_a_short_reset() {
    let (a, c) = ids();
    let mut answer = ok(200, spec_certificate()).unwrap();
    answer.headers.ratelimit = Some("\"default\";r=0;t=3".into());
    let p = Scripted::new(vec![Ok(answer), ok(200, spec_certificate())]);
    let client = client();
    block_on(execute(&client, &p, &Operation::Get(a.clone(), c.clone()))).unwrap();
    block_on(execute(&client, &p, &Operation::Get(a, c))).unwrap();
    assert_eq!(
        *p.slept.borrow(),
        vec![3000],
        "held until the reset, then sent"
    );
}
