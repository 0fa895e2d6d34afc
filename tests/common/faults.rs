//! The fault matrix (issue 5, item 2): every hostile answer the emulator can give, each with the
//! contract's outcome (section 2) and the number of attempts the retry policy (section 3) says,
//! counted in the emulator's log for the case's own account. Runs in Node and headless Chromium.
//!
//! `r` = maxRetries, `t` = timeoutMs. Attempts are the requests the emulator saw, in order.
//! Every case also checks that the queued faults were all consumed (no attempt more, none less).
//!
//! | case                                         | r | t   | outcome                               | attempts          |
//! |----------------------------------------------|---|-----|---------------------------------------|-------------------|
//! | reset before the answer, once                | 1 |     | success                               | GET GET           |
//! | reset before the answer, twice               | 1 |     | APIConnectionError (status undefined) | GET GET           |
//! | reset on DELETE                              | 0 |     | APIConnectionError, no follow-up GET  | DELETE            |
//! | reset mid-body, once                         | 1 |     | success                               | GET GET           |
//! | reset mid-body                               | 0 |     | APIConnectionError                    | GET               |
//! | hang                                         | 0 | 300 | APIConnectionTimeoutError ("300 ms")  | GET               |
//! | hang, once                                   | 1 | 300 | success                               | GET GET           |
//! | hang, three times                            | 2 | 300 | APIConnectionTimeoutError             | GET GET GET       |
//! | drip 5 ms/byte (~0.6 s), within the timeout  | 0 | 10s | success                               | GET               |
//! | drip 40 ms/byte (~5 s), beyond the timeout   | 0 | 500 | APIConnectionTimeoutError (~0.5 s)    | GET               |
//! | drip beyond the timeout, once                | 1 | 500 | success                               | GET GET           |
//! | HTML 502 / 503 / 504, once                   | 1 |     | success (backoff >= 375 ms)           | GET GET           |
//! | HTML 503, three times                        | 2 |     | InternalServerError 503, errors [],   | GET GET GET       |
//! |                                              |   |     | printable excerpt, no tag             |                   |
//! | HTML 504 with a 20 KB body and a script      | 0 |     | InternalServerError, excerpt <= 160   | GET               |
//! | HTML 502 on DELETE of an inactive cert, once | 1 |     | success (the GET shows inactive)      | DELETE GET DELETE |
//! | the API's 500 on DELETE of an active cert    | 2 |     | CertificateNotInactiveError 500,      | DELETE GET        |
//! |                                              |   |     | the API's errors, certificate         |                   |
//! | HTML 500 on DELETE of an active cert         | 2 |     | CertificateNotInactiveError 500, []   | DELETE GET        |
//! | JSON 503 on DELETE of an inactive cert, x3   | 2 |     | InternalServerError 503               | DELETE GET DELETE |
//! |                                              |   |     |                                       | DELETE (one GET)  |
//! | 429 Retry-After: 1                           | 1 |     | success after >= 1 s                  | GET GET           |
//! | 429 Retry-After: <HTTP date, now + 2 s>      | 1 |     | success, not before that date         | GET GET           |
//! | 429 retry-after-ms: 250                      | 1 |     | success after >= 250 ms               | GET GET           |
//! | 429 Ratelimit: "default";r=0;t=1             | 1 |     | success after >= 1 s                  | GET GET           |
//! | 429 retry-after-ms: 100 + Retry-After: 120   | 1 |     | success (retry-after-ms wins)         | GET GET           |
//! | 429 Retry-After: 120                         | 2 |     | RateLimitError at once, 120000 ms     | GET               |
//! | 429 Retry-After: <HTTP date, now + 120 s>    | 2 |     | RateLimitError at once, ~120000 ms    | GET               |
//! | 429 retry-after-ms: 61000                    | 2 |     | RateLimitError at once, 61000 ms      | GET               |
//! | 429 Ratelimit: "default";r=0;t=90            | 2 |     | RateLimitError at once, 90000 ms      | GET               |
//! | 429 retry-after-ms: 10, twice                | 1 |     | RateLimitError 429, [971], 10 ms      | GET GET           |
//! | 200 success:false (get / list / delete)      | 2 |     | APIError 200, the envelope's errors   | 1 request, no GET |
//! | 200 malformed JSON (get / list / delete)     | 2 |     | APIError 200                          | 1 request, no GET |
//! | 200 result:null (get / list / delete)        | 2 |     | APIError 200                          | 1 request, no GET |
//! | 503 + x-should-retry: false (get)            | 2 |     | InternalServerError, not retried      | GET               |
//! | 503 + x-should-retry: false (DELETE)         | 2 |     | InternalServerError, not retried      | DELETE GET        |
//!
//! The cases of a group run concurrently (each on its own account) so that the whole matrix
//! stays a few seconds: the browser runner gives the entire suite 20 s by default. Groups that
//! hold connections open (hang, drip) stay at three cases, under Chromium's six connections per
//! host, so no attempt waits for a socket while its timeout runs.

use super::*;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Clone, Copy)]
enum Op {
    Get(&'static str),
    Delete(&'static str),
    List,
}

#[derive(Clone, Copy)]
enum Want {
    Ok,
    Err(&'static str),
}

type Check = fn(&str, &JsValue);

struct Case {
    name: &'static str,
    /// Extra JSON members for the account (`,"seed":"empty"`).
    account: &'static str,
    /// The JSON array of faults to queue.
    faults: String,
    op: Op,
    max_retries: u32,
    timeout_ms: Option<u32>,
    want: Want,
    /// The methods the emulator must log, in order.
    attempts: &'static [&'static str],
    /// Bounds for the call's duration, in ms.
    ms: (f64, f64),
    /// The call must not end before this time (ms since the epoch): an HTTP-date wait.
    done_after: f64,
    check: Check,
}

fn no_check(_: &str, _: &JsValue) {}

fn case(name: &'static str, op: Op, faults: &str, max_retries: u32, want: Want) -> Case {
    Case {
        name,
        account: "",
        faults: faults.to_string(),
        op,
        max_retries,
        timeout_ms: None,
        want,
        attempts: &[],
        ms: (0.0, 8_000.0),
        done_after: 0.0,
        check: no_check,
    }
}

impl Case {
    fn attempts(mut self, a: &'static [&'static str]) -> Self {
        self.attempts = a;
        self
    }
    fn ms(mut self, lo: f64, hi: f64) -> Self {
        self.ms = (lo, hi);
        self
    }
    fn done_after(mut self, at_ms: f64) -> Self {
        self.done_after = at_ms;
        self
    }
    fn timeout(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
    fn account(mut self, extra: &'static str) -> Self {
        self.account = extra;
        self
    }
    fn check(mut self, c: Check) -> Self {
        self.check = c;
        self
    }
}

async fn log_methods(account: &str) -> Vec<String> {
    let log = control("GET", &format!("/accounts/{account}/log"), None).await;
    Array::from(&get(&log, "requests"))
        .iter()
        .map(|r| s(&r, "method"))
        .collect()
}

async fn pending_faults(account: &str) -> f64 {
    let v = control("GET", &format!("/accounts/{account}/faults"), None).await;
    get(&v, "pending").as_f64().unwrap_or(-1.0)
}

async fn run(c: Case) {
    let name = c.name;
    // Its own rate-limit window: the matrix never eats into the shared demo token's budget,
    // and the budget of other tests never turns a case into a 429.
    let (a, certs) = account(&format!(
        r#","rate_limit":{{"limit":100000,"window_ms":300000}}{}"#,
        c.account
    ))
    .await;
    if !c.faults.is_empty() {
        faults(&a, &c.faults).await;
    }
    let mut opts = vec![("maxRetries", num(f64::from(c.max_retries)))];
    if let Some(t) = c.timeout_ms {
        opts.push(("timeoutMs", num(f64::from(t))));
    }
    let client = client_with(&opts);
    let id = |role: &str| str_(&cert_id(&certs, role));
    let started = js_sys::Date::now();
    let promise = match c.op {
        Op::Get(role) => client.get(id(role), params(&a), JsValue::UNDEFINED),
        Op::Delete(role) => client.delete(id(role), params(&a), JsValue::UNDEFINED),
        Op::List => client.list(params(&a), JsValue::UNDEFINED),
    };
    let result = JsFuture::from(promise).await;
    let done = js_sys::Date::now();
    let took = done - started;
    let value = match (c.want, result) {
        (Want::Ok, Ok(v)) => v,
        (Want::Ok, Err(e)) => panic!(
            "{name}: expected success, got {}: {}",
            s(&e, "name"),
            s(&e, "message")
        ),
        (Want::Err(n), Ok(_)) => panic!("{name}: expected {n}, got a success"),
        (Want::Err(n), Err(e)) => {
            assert!(
                e.is_instance_of::<js_sys::Error>(),
                "{name}: rejections are Error instances"
            );
            assert_eq!(s(&e, "name"), n, "{name}: message {}", s(&e, "message"));
            assert!(Array::is_array(&get(&e, "errors")), "{name}: errors array");
            for secret in [TOKEN, KEY] {
                assert!(!s(&e, "message").contains(secret), "{name}: a credential");
            }
            e
        }
    };
    (c.check)(name, &value);
    assert_eq!(
        log_methods(&a).await,
        c.attempts,
        "{name}: attempts seen by the API"
    );
    assert_eq!(
        pending_faults(&a).await,
        0.0,
        "{name}: every fault consumed"
    );
    assert!(
        c.ms.0 <= took && took < c.ms.1,
        "{name}: took {took} ms, expected {:?}",
        c.ms
    );
    assert!(
        done >= c.done_after,
        "{name}: ended {} ms before the date it was told to wait for",
        c.done_after - done
    );
}

/// Polls every case's future until all are done (a panic in one fails the test, naming it).
struct All<F>(Vec<Option<Pin<Box<F>>>>);

impl<F: Future<Output = ()>> Future for All<F> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut pending = false;
        for slot in self.0.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

async fn run_all(cases: Vec<Case>) {
    All(cases.into_iter().map(|c| Some(Box::pin(run(c)))).collect()).await;
}

// -- checks ---------------------------------------------------------------------------------

fn status_is(name: &str, e: &JsValue, status: Option<f64>) {
    assert_eq!(get(e, "status").as_f64(), status, "{name}: status");
}
fn errors_len(e: &JsValue) -> u32 {
    Array::from(&get(e, "errors")).length()
}
fn no_status(name: &str, e: &JsValue) {
    status_is(name, e, None);
    assert_eq!(errors_len(e), 0, "{name}: errors");
}
fn timed_out_300(name: &str, e: &JsValue) {
    no_status(name, e);
    assert!(
        s(e, "message").contains("300 ms"),
        "{name}: {}",
        s(e, "message")
    );
}
fn is_available(name: &str, v: &JsValue) {
    assert_eq!(s(v, "binding_status"), "available", "{name}");
}
fn is_empty_list(name: &str, v: &JsValue) {
    assert!(Array::is_array(v), "{name}: an array");
    assert_eq!(Array::from(v).length(), 0, "{name}");
}
fn printable_excerpt(name: &str, e: &JsValue, status: f64) {
    status_is(name, e, Some(status));
    assert_eq!(errors_len(e), 0, "{name}: a non-JSON body has errors []");
    let m = s(e, "message");
    let prefix = format!("HTTP {status}: non-JSON response: ");
    assert!(m.starts_with(&prefix), "{name}: {m}");
    assert!(m.len() > prefix.len(), "{name}: an excerpt follows: {m}");
    assert!(
        !m.contains('<') && !m.contains('>'),
        "{name}: tags stripped: {m}"
    );
    assert!(!m.chars().any(char::is_control), "{name}: printable: {m:?}");
}
fn html_503(name: &str, e: &JsValue) {
    printable_excerpt(name, e, 503.0);
    assert!(s(e, "message").contains("Service Unavailable"), "{name}");
}
fn html_504_huge(name: &str, e: &JsValue) {
    printable_excerpt(name, e, 504.0);
    let m = s(e, "message");
    assert!(
        m.chars().count() <= 40 + 160,
        "{name}: short: {} chars",
        m.len()
    );
    assert!(!m.contains("evil"), "{name}: script content skipped: {m}");
    assert!(m.contains("Gateway Timeout"), "{name}: {m}");
}
fn not_inactive(name: &str, e: &JsValue, api_errors: bool) {
    status_is(name, e, Some(500.0));
    assert_eq!(errors_len(e) > 0, api_errors, "{name}: errors");
    assert_eq!(
        s(&get(e, "certificate"), "binding_status"),
        "available",
        "{name}: the last state seen"
    );
}
fn not_inactive_api(name: &str, e: &JsValue) {
    not_inactive(name, e, true);
}
fn not_inactive_html(name: &str, e: &JsValue) {
    not_inactive(name, e, false);
}
fn internal_503(name: &str, e: &JsValue) {
    status_is(name, e, Some(503.0));
    assert!(errors_len(e) >= 1, "{name}: the API's errors");
    assert!(s(e, "cfRay").ends_with("-EMU"), "{name}: cfRay");
}
fn retry_after(name: &str, e: &JsValue, lo: f64, hi: f64) {
    status_is(name, e, Some(429.0));
    let ms = get(e, "retryAfterMs").as_f64().unwrap_or(-1.0);
    assert!((lo..=hi).contains(&ms), "{name}: retryAfterMs {ms}");
    assert_eq!(
        get(&Array::from(&get(e, "errors")).get(0), "code").as_f64(),
        Some(971.0),
        "{name}: the API's error"
    );
}
fn retry_after_120(name: &str, e: &JsValue) {
    retry_after(name, e, 120_000.0, 120_000.0);
}
fn retry_after_date_120(name: &str, e: &JsValue) {
    retry_after(name, e, 115_000.0, 120_000.0);
}
fn retry_after_61(name: &str, e: &JsValue) {
    retry_after(name, e, 61_000.0, 61_000.0);
}
fn retry_after_90(name: &str, e: &JsValue) {
    retry_after(name, e, 90_000.0, 90_000.0);
}
fn retry_after_10(name: &str, e: &JsValue) {
    retry_after(name, e, 10.0, 10.0);
}
fn api_error_200(name: &str, e: &JsValue) {
    status_is(name, e, Some(200.0));
}
fn api_error_200_with_errors(name: &str, e: &JsValue) {
    status_is(name, e, Some(200.0));
    assert_eq!(
        get(&Array::from(&get(e, "errors")).get(0), "code").as_f64(),
        Some(1001.0),
        "{name}: the envelope's errors"
    );
}

/// An IMF-fixdate `secs` from now (what `Retry-After` carries), and the time it names in ms
/// (whole seconds: the format has no fraction).
fn http_date_in(secs: f64) -> (String, f64) {
    let at = ((js_sys::Date::now() + secs * 1000.0) / 1000.0).floor() * 1000.0;
    let d = js_sys::Date::new(&num(at));
    (String::from(d.to_utc_string()), at)
}

const ERR_CONN: Want = Want::Err("APIConnectionError");
const ERR_TIMEOUT: Want = Want::Err("APIConnectionTimeoutError");
const ERR_500: Want = Want::Err("InternalServerError");
const ERR_429: Want = Want::Err("RateLimitError");
const ERR_API: Want = Want::Err("APIError");
const GET: Op = Op::Get("available");

#[wasm_bindgen_test]
async fn fault_matrix_connection_resets() {
    let del = Op::Delete("inactive");
    run_all(vec![
        case("reset, once", GET, r#"[{"kind":"reset"}]"#, 1, Want::Ok)
            .attempts(&["GET", "GET"])
            .ms(300.0, 5_000.0)
            .check(is_available),
        case(
            "reset, twice",
            GET,
            r#"[{"kind":"reset","times":2}]"#,
            1,
            ERR_CONN,
        )
        .attempts(&["GET", "GET"])
        .check(no_status),
        case("reset on DELETE", del, r#"[{"kind":"reset"}]"#, 0, ERR_CONN)
            .attempts(&["DELETE"])
            .check(no_status),
        case(
            "reset mid-body, once",
            GET,
            r#"[{"kind":"reset_mid_body"}]"#,
            1,
            Want::Ok,
        )
        .attempts(&["GET", "GET"])
        .check(is_available),
        case(
            "reset mid-body",
            GET,
            r#"[{"kind":"reset_mid_body"}]"#,
            0,
            ERR_CONN,
        )
        .attempts(&["GET"])
        .check(no_status),
    ])
    .await;
}

#[wasm_bindgen_test]
async fn fault_matrix_hangs() {
    run_all(vec![
        case("hang", GET, r#"[{"kind":"hang"}]"#, 0, ERR_TIMEOUT)
            .timeout(300)
            .attempts(&["GET"])
            .ms(290.0, 3_000.0)
            .check(timed_out_300),
        case("hang, once", GET, r#"[{"kind":"hang"}]"#, 1, Want::Ok)
            .timeout(300)
            .attempts(&["GET", "GET"])
            .ms(290.0 + 375.0, 5_000.0)
            .check(is_available),
        case(
            "hang x3",
            GET,
            r#"[{"kind":"hang","times":3}]"#,
            2,
            ERR_TIMEOUT,
        )
        .timeout(300)
        .attempts(&["GET", "GET", "GET"])
        // three attempts of 300 ms, backoffs of >= 375 and >= 750 ms
        .ms(3.0 * 290.0 + 375.0 + 750.0, 8_000.0)
        .check(timed_out_300),
    ])
    .await;
}

#[wasm_bindgen_test]
async fn fault_matrix_slow_drip() {
    let empty = r#","seed":"empty""#;
    run_all(vec![
        // The empty list is 118 bytes: ~0.6 s at 5 ms a byte, ~5 s at 40.
        case(
            "drip within the timeout",
            Op::List,
            r#"[{"kind":"drip","delay_ms":5}]"#,
            0,
            Want::Ok,
        )
        .account(empty)
        .timeout(10_000)
        .attempts(&["GET"])
        .ms(500.0, 9_000.0)
        .check(is_empty_list),
        case(
            "drip beyond the timeout",
            Op::List,
            r#"[{"kind":"drip","delay_ms":40}]"#,
            0,
            ERR_TIMEOUT,
        )
        .account(empty)
        .timeout(500)
        .attempts(&["GET"])
        .ms(490.0, 3_000.0)
        .check(no_status),
        case(
            "drip beyond the timeout, once",
            Op::List,
            r#"[{"kind":"drip","delay_ms":40}]"#,
            1,
            Want::Ok,
        )
        .account(empty)
        .timeout(500)
        .attempts(&["GET", "GET"])
        .ms(490.0 + 375.0, 5_000.0)
        .check(is_empty_list),
    ])
    .await;
}

#[wasm_bindgen_test]
async fn fault_matrix_server_errors() {
    let huge = format!(
        "<html><head><script>var evil = 1;</script></head><body><h1>504 Gateway Timeout</h1>{}</body></html>",
        "<p>\u{1b}[31m padding \u{0} text</p>".repeat(600)
    );
    let huge_fault = format!(
        r#"[{{"kind":"html","status":504,"body":{}}}]"#,
        JSON::stringify(&str_(&huge)).unwrap().as_string().unwrap()
    );
    let active = Op::Delete("available");
    let inactive = Op::Delete("inactive");
    run_all(vec![
        case("HTML 502, once", GET, r#"[{"kind":"html","status":502}]"#, 1, Want::Ok)
            .attempts(&["GET", "GET"])
            .ms(375.0, 5_000.0)
            .check(is_available),
        case("HTML 503, once", GET, r#"[{"kind":"html","status":503}]"#, 1, Want::Ok)
            .attempts(&["GET", "GET"])
            .ms(375.0, 5_000.0)
            .check(is_available),
        case("HTML 504, once", GET, r#"[{"kind":"html","status":504}]"#, 1, Want::Ok)
            .attempts(&["GET", "GET"])
            .ms(375.0, 5_000.0)
            .check(is_available),
        case("HTML 503 x3", GET, r#"[{"kind":"html","status":503,"times":3}]"#, 2, ERR_500)
            .attempts(&["GET", "GET", "GET"])
            .ms(375.0 + 750.0, 8_000.0)
            .check(html_503),
        Case {
            faults: huge_fault,
            ..case("HTML 504, huge body", GET, "", 0, ERR_500)
                .attempts(&["GET"])
                .check(html_504_huge)
        },
        case("HTML 502 on DELETE of an inactive certificate, once", inactive,
            r#"[{"op":"delete","kind":"html","status":502}]"#, 1, Want::Ok)
            .attempts(&["DELETE", "GET", "DELETE"]),
        case("the API's 500 on DELETE of an active certificate", active, "", 2,
            Want::Err("CertificateNotInactiveError"))
            .attempts(&["DELETE", "GET"])
            .ms(0.0, 1_000.0)
            .check(not_inactive_api),
        case("HTML 500 on DELETE of an active certificate", active,
            r#"[{"op":"delete","kind":"html","status":500}]"#, 2,
            Want::Err("CertificateNotInactiveError"))
            .attempts(&["DELETE", "GET"])
            .ms(0.0, 1_000.0)
            .check(not_inactive_html),
        case("JSON 503 x3 on DELETE of an inactive certificate", inactive,
            r#"[{"op":"delete","kind":"status","status":503,"times":3,"headers":{"retry-after-ms":"10"}}]"#,
            2, ERR_500)
            .attempts(&["DELETE", "GET", "DELETE", "DELETE"])
            .check(internal_503),
    ])
    .await;
}

#[wasm_bindgen_test]
async fn fault_matrix_rate_limits() {
    let r429 = |headers: &str, times: u32| {
        format!(r#"[{{"kind":"status","status":429,"times":{times},"headers":{headers}}}]"#)
    };
    let (soon_date, soon_at) = http_date_in(2.0);
    let soon = r429(&format!(r#"{{"Retry-After":"{soon_date}"}}"#), 1);
    let late = r429(
        &format!(r#"{{"Retry-After":"{}"}}"#, http_date_in(120.0).0),
        1,
    );
    let two = ["GET", "GET"].as_slice();
    run_all(vec![
        case(
            "429 Retry-After: 1",
            GET,
            &r429(r#"{"Retry-After":"1"}"#, 1),
            1,
            Want::Ok,
        )
        .attempts(two)
        .ms(990.0, 5_000.0)
        .check(is_available),
        case("429 Retry-After: HTTP date in 2 s", GET, &soon, 1, Want::Ok)
            .attempts(two)
            .done_after(soon_at)
            .check(is_available),
        case(
            "429 retry-after-ms: 250",
            GET,
            &r429(r#"{"retry-after-ms":"250"}"#, 1),
            1,
            Want::Ok,
        )
        .attempts(two)
        .ms(245.0, 5_000.0)
        .check(is_available),
        case(
            "429 Ratelimit t=1",
            GET,
            &r429(r#"{"Ratelimit":"\"default\";r=0;t=1"}"#, 1),
            1,
            Want::Ok,
        )
        .attempts(two)
        .ms(990.0, 5_000.0)
        .check(is_available),
        case(
            "429 retry-after-ms wins over Retry-After",
            GET,
            &r429(r#"{"retry-after-ms":"100","Retry-After":"120"}"#, 1),
            1,
            Want::Ok,
        )
        .attempts(two)
        .ms(95.0, 5_000.0)
        .check(is_available),
        case(
            "429 Retry-After: 120",
            GET,
            &r429(r#"{"Retry-After":"120"}"#, 1),
            2,
            ERR_429,
        )
        .attempts(&["GET"])
        .ms(0.0, 1_000.0)
        .check(retry_after_120),
        case(
            "429 Retry-After: HTTP date in 120 s",
            GET,
            &late,
            2,
            ERR_429,
        )
        .attempts(&["GET"])
        .ms(0.0, 1_000.0)
        .check(retry_after_date_120),
        case(
            "429 retry-after-ms: 61000",
            GET,
            &r429(r#"{"retry-after-ms":"61000"}"#, 1),
            2,
            ERR_429,
        )
        .attempts(&["GET"])
        .ms(0.0, 1_000.0)
        .check(retry_after_61),
        case(
            "429 Ratelimit t=90",
            GET,
            &r429(r#"{"Ratelimit":"\"default\";r=0;t=90"}"#, 1),
            2,
            ERR_429,
        )
        .attempts(&["GET"])
        .ms(0.0, 1_000.0)
        .check(retry_after_90),
        case(
            "429 retry-after-ms: 10, twice",
            GET,
            &r429(r#"{"retry-after-ms":"10"}"#, 2),
            1,
            ERR_429,
        )
        .attempts(two)
        .check(retry_after_10),
    ])
    .await;
}

#[wasm_bindgen_test]
async fn fault_matrix_bad_2xx_and_should_retry() {
    let mut cases = Vec::new();
    for (kind, check) in [
        ("success_false", api_error_200_with_errors as Check),
        ("malformed_json", api_error_200 as Check),
        ("result_null", api_error_200 as Check),
    ] {
        let f = format!(r#"[{{"kind":"{kind}"}}]"#);
        for (op, method) in [
            (GET, "GET"),
            (Op::List, "GET"),
            (Op::Delete("inactive"), "DELETE"),
        ] {
            let mut c = case("", op, &f, 2, ERR_API).ms(0.0, 1_000.0).check(check);
            c.name = match (kind, method, matches!(op, Op::List)) {
                (_, _, true) => leak(format!("200 {kind} (list)")),
                (_, m, false) => leak(format!("200 {kind} ({m})")),
            };
            c.attempts = if method == "GET" {
                &["GET"]
            } else {
                &["DELETE"]
            };
            cases.push(c);
        }
    }
    let no_retry = r#"[{"kind":"status","status":503,"headers":{"x-should-retry":"false"}}]"#;
    cases.push(
        case("503 x-should-retry: false (GET)", GET, no_retry, 2, ERR_500)
            .attempts(&["GET"])
            .ms(0.0, 1_000.0)
            .check(internal_503),
    );
    cases.push(
        case(
            "503 x-should-retry: false (DELETE)",
            Op::Delete("inactive"),
            no_retry,
            2,
            ERR_500,
        )
        .attempts(&["DELETE", "GET"])
        .ms(0.0, 1_000.0)
        .check(internal_503),
    );
    run_all(cases).await;
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
