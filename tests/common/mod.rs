//! The wasm test suite, shared by `tests/node.rs` (Node) and `tests/browser.rs` (headless
//! Chromium). It drives the public JS surface (`GatewayCertificates`, `deleteCertificate`: the
//! JS driver over the wasm `Core`, see `api.rs`)
//! against the API emulator that `scripts/test.sh` starts; its origin comes in at build time
//! through `CFGC_EMULATOR_ORIGIN`. Every test uses a fresh account, so tests don't interfere.

mod api;
use api::{delete_certificate, GatewayCertificates};
use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

const ORIGIN: &str = match option_env!("CFGC_EMULATOR_ORIGIN") {
    Some(o) => o,
    None => "http://127.0.0.1:18787",
};
// The emulator's default demo credentials.
const TOKEN: &str = "demo-api-token-0123456789abcdef";
const READ_ONLY_TOKEN: &str = "demo-read-only-token-0123456789ab";
const EMAIL: &str = "admin@example.com";
const KEY: &str = "demo-global-api-key-0123456789abcd";
const MISSING: &str = "0b6b0e8e-8c5e-4bd4-9d7a-2b2b7c4c7a11";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: f64) -> JsValue;
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}
fn s(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}
fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}
fn str_(v: &str) -> JsValue {
    JsValue::from_str(v)
}
fn num(v: f64) -> JsValue {
    JsValue::from_f64(v)
}

/// Calls the emulator's control API.
async fn control(method: &str, path: &str, body: Option<&str>) -> JsValue {
    let init = obj(&[("method", str_(method))]);
    if let Some(b) = body {
        Reflect::set(&init, &str_("body"), &str_(b)).unwrap();
        Reflect::set(
            &init,
            &str_("headers"),
            &obj(&[("content-type", str_("application/json"))]),
        )
        .unwrap();
    }
    let url = format!("{ORIGIN}/__emulator{path}");
    let res = JsFuture::from(global_fetch(&url, &init))
        .await
        .expect("emulator reachable");
    let text_fn: Function = get(&res, "text").dyn_into().unwrap();
    let text = JsFuture::from(text_fn.call0(&res).unwrap().dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    assert!(
        get(&res, "ok").as_bool().unwrap(),
        "control {method} {path}: {text:?}"
    );
    JSON::parse(&text.as_string().unwrap()).unwrap()
}

/// A fresh account with the demo certificates; returns (account id, certificates by role).
async fn account(extra: &str) -> (String, JsValue) {
    let bytes: String = (0..32)
        .map(|_| char::from_digit((js_sys::Math::random() * 16.0) as u32, 16).unwrap())
        .collect();
    let body = format!("{{\"activate_ms\":50,\"deactivate_ms\":50{extra}}}");
    let created = control("POST", &format!("/accounts/{bytes}"), Some(&body)).await;
    (bytes, get(&created, "certificates"))
}
fn cert_id(certs: &JsValue, role: &str) -> String {
    s(&get(certs, role), "id")
}
async fn faults(account: &str, json: &str) {
    control(
        "POST",
        &format!("/accounts/{account}/faults"),
        Some(&format!("{{\"faults\":{json}}}")),
    )
    .await;
}
async fn request_count(account: &str) -> u32 {
    Array::from(&get(
        &control("GET", &format!("/accounts/{account}/log"), None).await,
        "requests",
    ))
    .length()
}
async fn deleted_count(account: &str, id: &str) -> f64 {
    let state = control("GET", &format!("/accounts/{account}/state"), None).await;
    get(&get(&state, "deleted"), id).as_f64().unwrap_or(0.0)
}

fn client_with(extra: &[(&str, JsValue)]) -> GatewayCertificates {
    let mut pairs = vec![
        ("apiToken", str_(TOKEN)),
        ("baseUrl", str_(&format!("{ORIGIN}/client/v4"))),
    ];
    pairs.extend(extra.iter().cloned());
    GatewayCertificates::new(obj(&pairs)).unwrap()
}
fn client() -> GatewayCertificates {
    client_with(&[])
}
fn params(account: &str) -> JsValue {
    obj(&[("account_id", str_(account))])
}
async fn ok(p: Promise) -> JsValue {
    JsFuture::from(p)
        .await
        .unwrap_or_else(|e| panic!("expected success, got {}", s(&e, "message")))
}
/// Awaits a rejection and checks it is an `Error` with the contract's shape.
async fn err(p: Promise, name: &str) -> JsValue {
    let e = JsFuture::from(p).await.expect_err("expected a rejection");
    assert!(
        e.is_instance_of::<js_sys::Error>(),
        "rejections are Error instances"
    );
    assert_eq!(s(&e, "name"), name, "message: {}", s(&e, "message"));
    assert!(Array::is_array(&get(&e, "errors")), "errors is an array");
    for secret in [TOKEN, KEY] {
        assert!(
            !s(&e, "message").contains(secret),
            "no credential in the message"
        );
    }
    e
}

#[wasm_bindgen_test]
async fn delete_with_a_token() {
    let (a, certs) = account("").await;
    let id = cert_id(&certs, "inactive");
    let deleted = ok(client().delete(str_(&id), params(&a), JsValue::UNDEFINED)).await;
    assert_eq!(s(&deleted, "id"), id);
    assert_eq!(
        Object::get_prototype_of(&deleted),
        Object::get_prototype_of(&Object::new()),
        "a plain object"
    );
    assert_eq!(s(&deleted, "binding_status"), "inactive");
    assert_eq!(deleted_count(&a, &id).await, 1.0);
    assert_eq!(request_count(&a).await, 1);
}

#[wasm_bindgen_test]
async fn delete_with_email_and_global_key() {
    let (a, certs) = account("").await;
    let id = cert_id(&certs, "inactive");
    let c = GatewayCertificates::new(obj(&[
        ("apiEmail", str_(EMAIL)),
        ("apiKey", str_(KEY)),
        ("baseUrl", str_(&format!("{ORIGIN}/client/v4/"))),
    ]))
    .unwrap();
    let deleted = ok(c.delete(str_(&id), params(&a), JsValue::UNDEFINED)).await;
    assert_eq!(s(&deleted, "id"), id);
}

#[wasm_bindgen_test]
async fn delete_certificate_one_call_form() {
    let (a, certs) = account("").await;
    let id = cert_id(&certs, "inactive");
    let args = obj(&[
        ("apiToken", str_(TOKEN)),
        ("baseUrl", str_(&format!("{ORIGIN}/client/v4"))),
        ("accountId", str_(&a)),
        ("certificateId", str_(&id)),
    ]);
    assert_eq!(s(&ok(delete_certificate(args)).await, "id"), id);
}

#[wasm_bindgen_test]
async fn unknown_fields_and_enum_values_pass_through() {
    let (a, _) = account("").await;
    let added = control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(r#"{"binding_status":"active","added_later":{"x":[1,2]}}"#),
    )
    .await;
    let id = s(&Array::from(&get(&added, "certificates")).get(0), "id");
    let got = ok(client().get(str_(&id), params(&a), JsValue::UNDEFINED)).await;
    assert_eq!(s(&got, "binding_status"), "active");
    assert_eq!(
        Array::from(&get(&get(&got, "added_later"), "x")).length(),
        2
    );
}

#[wasm_bindgen_test]
async fn list_create_activate_deactivate() {
    let (a, certs) = account("").await;
    let c = client();
    let list = ok(c.list(params(&a), JsValue::UNDEFINED)).await;
    assert!(Array::is_array(&list));
    assert_eq!(Array::from(&list).length(), 6);
    let created = ok(c.create(
        obj(&[
            ("account_id", str_(&a)),
            ("validity_period_days", num(30.0)),
        ]),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(s(&created, "binding_status"), "inactive");
    let activated = ok(c.activate(str_(&s(&created, "id")), params(&a), JsValue::UNDEFINED)).await;
    assert_eq!(s(&activated, "binding_status"), "pending_deployment");
    let deactivated = ok(c.deactivate(
        str_(&cert_id(&certs, "available")),
        params(&a),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(s(&deactivated, "binding_status"), "pending_deletion");
}

#[wasm_bindgen_test]
async fn invalid_input_sends_nothing() {
    let (a, _) = account("").await;
    let c = client();
    for bad in [
        "",
        "../../x",
        "f174e90a-fafe-4643-bbbc-4a0ed4fc841/",
        "f174e90a-fafe-4643-bbbc-4a0ed4fc8415?x",
    ] {
        err(
            c.delete(str_(bad), params(&a), JsValue::UNDEFINED),
            "InvalidInputError",
        )
        .await;
    }
    err(
        c.delete(num(5.0), params(&a), JsValue::UNDEFINED),
        "InvalidInputError",
    )
    .await;
    err(
        c.delete(str_(MISSING), params("bad/acct"), JsValue::UNDEFINED),
        "InvalidInputError",
    )
    .await;
    err(
        c.delete(str_(MISSING), JsValue::UNDEFINED, JsValue::UNDEFINED),
        "InvalidInputError",
    )
    .await;
    err(
        c.create(
            obj(&[("account_id", str_(&a)), ("validity_period_days", num(0.0))]),
            JsValue::UNDEFINED,
        ),
        "InvalidInputError",
    )
    .await;
    err(
        c.retire(
            str_(MISSING),
            params(&a),
            obj(&[("pollIntervalMs", num(-1.0))]),
        ),
        "InvalidInputError",
    )
    .await;
    for options in [
        obj(&[]),
        obj(&[("apiEmail", str_(EMAIL))]),
        obj(&[
            ("apiToken", str_(TOKEN)),
            ("apiKey", str_(KEY)),
            ("apiEmail", str_(EMAIL)),
        ]),
        obj(&[("apiToken", str_("tok\r\nX-Injected: 1"))]),
        obj(&[
            ("apiToken", str_(TOKEN)),
            ("baseUrl", str_("https://user:pass@example.com")),
        ]),
        obj(&[
            ("apiToken", str_(TOKEN)),
            ("baseUrl", str_("javascript:alert(1)")),
        ]),
        obj(&[("apiToken", str_(TOKEN)), ("timeoutMs", num(-5.0))]),
        obj(&[("apiToken", str_(TOKEN)), ("maxRetries", num(1.5))]),
    ] {
        let e = GatewayCertificates::new(options)
            .err()
            .expect("constructor throws");
        assert_eq!(s(&e, "name"), "InvalidInputError");
    }
    let args = obj(&[
        ("apiToken", str_(TOKEN)),
        ("accountId", str_(&a)),
        ("certificateId", str_("nope")),
    ]);
    err(delete_certificate(args), "InvalidInputError").await;
    assert_eq!(request_count(&a).await, 0, "no request reached the API");
}

#[wasm_bindgen_test]
async fn status_errors_carry_status_errors_and_cf_ray() {
    let (a, certs) = account("").await;
    let c = client_with(&[("maxRetries", num(0.0))]);
    let e = err(
        c.get(str_(MISSING), params(&a), JsValue::UNDEFINED),
        "NotFoundError",
    )
    .await;
    assert_eq!(get(&e, "status").as_f64(), Some(404.0));
    let first = Array::from(&get(&e, "errors")).get(0);
    assert!(get(&first, "code").as_f64().unwrap() >= 1000.0);
    assert!(
        s(&e, "message").starts_with("HTTP 404: ["),
        "{}",
        s(&e, "message")
    );
    assert!(s(&e, "cfRay").ends_with("-EMU"));
    let read_only = client_with(&[("apiToken", str_(READ_ONLY_TOKEN))]);
    let e = err(
        read_only.delete(
            str_(&cert_id(&certs, "inactive")),
            params(&a),
            JsValue::UNDEFINED,
        ),
        "PermissionDeniedError",
    )
    .await;
    assert_eq!(get(&e, "status").as_f64(), Some(403.0));
    let wrong = client_with(&[("apiToken", str_("not-the-right-token-000"))]);
    err(
        wrong.list(params(&a), JsValue::UNDEFINED),
        "AuthenticationError",
    )
    .await;
    for (status, name) in [
        (400, "BadRequestError"),
        (409, "ConflictError"),
        (422, "UnprocessableEntityError"),
        (418, "APIError"),
    ] {
        faults(
            &a,
            &format!(r#"[{{"op":"list","kind":"status","status":{status}}}]"#),
        )
        .await;
        let e = err(c.list(params(&a), JsValue::UNDEFINED), name).await;
        assert_eq!(get(&e, "status").as_f64(), Some(f64::from(status)));
    }
}

#[wasm_bindgen_test]
async fn html_5xx_bodies_give_a_readable_internal_server_error() {
    let (a, _) = account("").await;
    faults(&a, r#"[{"op":"list","kind":"html","status":502}]"#).await;
    let e = err(
        client_with(&[("maxRetries", num(0.0))]).list(params(&a), JsValue::UNDEFINED),
        "InternalServerError",
    )
    .await;
    assert_eq!(Array::from(&get(&e, "errors")).length(), 0);
    let m = s(&e, "message");
    assert!(m.starts_with("HTTP 502: non-JSON response: "), "{m}");
    assert!(!m.contains('<'), "tags are stripped: {m}");
}

#[wasm_bindgen_test]
async fn a_2xx_that_is_not_a_success_envelope_is_an_api_error_not_retried() {
    let (a, certs) = account("").await;
    let id = cert_id(&certs, "available");
    for kind in ["success_false", "result_null", "malformed_json"] {
        faults(&a, &format!(r#"[{{"op":"get","kind":"{kind}"}}]"#)).await;
        let before = request_count(&a).await;
        let e = err(
            client().get(str_(&id), params(&a), JsValue::UNDEFINED),
            "APIError",
        )
        .await;
        assert_eq!(get(&e, "status").as_f64(), Some(200.0));
        assert_eq!(request_count(&a).await, before + 1, "{kind} is not retried");
    }
}

#[wasm_bindgen_test]
async fn a_503_is_retried_then_succeeds() {
    let (a, certs) = account("").await;
    faults(
        &a,
        r#"[{"op":"delete","kind":"status","status":503,"headers":{"retry-after-ms":"20"}}]"#,
    )
    .await;
    let id = cert_id(&certs, "inactive");
    ok(client().delete(str_(&id), params(&a), JsValue::UNDEFINED)).await;
    // DELETE 503, follow-up GET (inactive), DELETE 200.
    assert_eq!(request_count(&a).await, 3);
    assert_eq!(deleted_count(&a, &id).await, 1.0);
}

#[wasm_bindgen_test]
async fn a_reset_connection_is_retried_then_succeeds() {
    let (a, certs) = account("").await;
    faults(&a, r#"[{"op":"get","kind":"reset"}]"#).await;
    ok(client().get(
        str_(&cert_id(&certs, "available")),
        params(&a),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(request_count(&a).await, 2);
}

#[wasm_bindgen_test]
async fn rate_limits_each_header_form_then_success() {
    let (a, certs) = account("").await;
    let id = cert_id(&certs, "available");
    for headers in [
        r#"{"Retry-After":"0"}"#,
        r#"{"retry-after-ms":"30"}"#,
        r#"{"Ratelimit":"\"default\";r=0;t=0"}"#,
    ] {
        faults(
            &a,
            &format!(r#"[{{"op":"get","kind":"status","status":429,"headers":{headers}}}]"#),
        )
        .await;
        ok(client().get(str_(&id), params(&a), JsValue::UNDEFINED)).await;
    }
    assert_eq!(request_count(&a).await, 6);
}

#[wasm_bindgen_test]
async fn a_long_rate_limit_wait_fails_at_once() {
    let (a, certs) = account("").await;
    faults(
        &a,
        r#"[{"op":"get","kind":"status","status":429,"headers":{"Retry-After":"120"}}]"#,
    )
    .await;
    let e = err(
        client().get(
            str_(&cert_id(&certs, "available")),
            params(&a),
            JsValue::UNDEFINED,
        ),
        "RateLimitError",
    )
    .await;
    assert_eq!(get(&e, "retryAfterMs").as_f64(), Some(120_000.0));
    assert_eq!(get(&e, "status").as_f64(), Some(429.0));
    assert_eq!(request_count(&a).await, 1);
}

#[wasm_bindgen_test]
async fn the_real_rate_limit_is_a_rate_limit_error() {
    let (a, certs) = account(r#","rate_limit":{"limit":2,"window_ms":600000}"#).await;
    let c = client();
    let id = str_(&cert_id(&certs, "available"));
    ok(c.get(id.clone(), params(&a), JsValue::UNDEFINED)).await;
    ok(c.get(id.clone(), params(&a), JsValue::UNDEFINED)).await;
    let e = err(c.get(id, params(&a), JsValue::UNDEFINED), "RateLimitError").await;
    assert!(get(&e, "retryAfterMs").as_f64().unwrap() > 60_000.0);
}

#[wasm_bindgen_test]
async fn create_is_never_retried() {
    let (a, _) = account("").await;
    faults(&a, r#"[{"op":"create","kind":"status","status":503}]"#).await;
    err(
        client().create(params(&a), JsValue::UNDEFINED),
        "InternalServerError",
    )
    .await;
    assert_eq!(request_count(&a).await, 1);
}

#[wasm_bindgen_test]
async fn connection_refused_is_an_api_connection_error() {
    let c = GatewayCertificates::new(obj(&[
        ("apiToken", str_(TOKEN)),
        ("baseUrl", str_("http://127.0.0.1:9/client/v4")),
        ("maxRetries", num(0.0)),
    ]))
    .unwrap();
    err(
        c.list(
            params("699d98642c564d2e855e9661899b7252"),
            JsValue::UNDEFINED,
        ),
        "APIConnectionError",
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_hang_times_out() {
    let (a, certs) = account("").await;
    faults(&a, r#"[{"op":"get","kind":"hang","times":2}]"#).await;
    let c = client_with(&[("timeoutMs", num(300.0)), ("maxRetries", num(1.0))]);
    let started = js_sys::Date::now();
    let e = err(
        c.get(
            str_(&cert_id(&certs, "available")),
            params(&a),
            JsValue::UNDEFINED,
        ),
        "APIConnectionTimeoutError",
    )
    .await;
    let took = js_sys::Date::now() - started;
    assert!(s(&e, "message").contains("300 ms"));
    assert!(
        (600.0..5000.0).contains(&took),
        "two attempts of 300 ms plus a backoff: {took}"
    );
    assert_eq!(get(&e, "status"), JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn the_callers_signal_aborts() {
    let (a, certs) = account("").await;
    faults(&a, r#"[{"op":"get","kind":"hang"}]"#).await;
    let controller = web_sys::AbortController::new().unwrap();
    let abort: Function = get(&controller, "abort")
        .dyn_into::<Function>()
        .unwrap()
        .bind0(&controller);
    set_timeout(&abort, 100.0);
    let options = obj(&[("signal", controller.signal().into())]);
    err(
        client().get(
            str_(&cert_id(&certs, "available")),
            params(&a),
            options.clone(),
        ),
        "APIUserAbortError",
    )
    .await;
    // Already aborted: nothing is sent.
    let before = request_count(&a).await;
    err(
        client().get(str_(&cert_id(&certs, "available")), params(&a), options),
        "APIUserAbortError",
    )
    .await;
    assert_eq!(request_count(&a).await, before);
}

#[wasm_bindgen_test]
async fn abort_during_a_retry_wait() {
    let (a, certs) = account("").await;
    faults(
        &a,
        r#"[{"op":"get","kind":"status","status":503,"headers":{"Retry-After":"30"}}]"#,
    )
    .await;
    let controller = web_sys::AbortController::new().unwrap();
    let abort: Function = get(&controller, "abort")
        .dyn_into::<Function>()
        .unwrap()
        .bind0(&controller);
    set_timeout(&abort, 150.0);
    let started = js_sys::Date::now();
    let options = obj(&[("signal", controller.signal().into())]);
    err(
        client().get(str_(&cert_id(&certs, "available")), params(&a), options),
        "APIUserAbortError",
    )
    .await;
    assert!(js_sys::Date::now() - started < 10_000.0);
}

#[wasm_bindgen_test]
async fn deleting_an_active_certificate_is_certificate_not_inactive() {
    let (a, certs) = account("").await;
    let e = err(
        client().delete(
            str_(&cert_id(&certs, "available")),
            params(&a),
            JsValue::UNDEFINED,
        ),
        "CertificateNotInactiveError",
    )
    .await;
    assert_eq!(get(&e, "status").as_f64(), Some(500.0));
    assert_eq!(s(&get(&e, "certificate"), "binding_status"), "available");
    assert!(Array::from(&get(&e, "errors")).length() >= 1);
    assert_eq!(
        request_count(&a).await,
        2,
        "DELETE and one GET, no retry loop"
    );
}

fn progress_recorder() -> (Array, JsValue) {
    let events = Array::new();
    let push = Function::new_with_args("event", "this.push(event)").bind0(&events);
    (events, push.into())
}

#[wasm_bindgen_test]
async fn retire_through_every_state() {
    let (a, certs) = account("").await;
    let c = client();
    for role in [
        "available",
        "pending_deployment",
        "pending_deletion",
        "inactive",
    ] {
        let id = cert_id(&certs, role);
        let (events, on_progress) = progress_recorder();
        let options = obj(&[("pollIntervalMs", num(20.0)), ("onProgress", on_progress)]);
        let deleted = ok(c.retire(str_(&id), params(&a), options)).await;
        assert_eq!(s(&deleted, "id"), id);
        let steps: Vec<String> = events.iter().map(|e| s(&e, "step")).collect();
        assert_eq!(
            steps.first().map(String::as_str),
            Some("checking"),
            "{role}"
        );
        assert_eq!(
            &steps[steps.len() - 2..],
            ["deleting", "done"],
            "{role}: {steps:?}"
        );
        let deactivated = steps.iter().any(|s| s == "deactivating");
        assert_eq!(
            deactivated,
            role == "available" || role == "pending_deployment",
            "{role}: {steps:?}"
        );
        for e in events.iter().skip(1) {
            assert!(
                get(&e, "certificate").is_object(),
                "{role}: every later step carries the certificate"
            );
        }
        assert_eq!(deleted_count(&a, &id).await, 1.0);
    }
}

#[wasm_bindgen_test]
async fn retire_refuses_in_use_and_custom_before_changing_anything() {
    let (a, certs) = account("").await;
    let e = err(
        client().retire(
            str_(&cert_id(&certs, "in_use")),
            params(&a),
            JsValue::UNDEFINED,
        ),
        "CertificateInUseError",
    )
    .await;
    assert_eq!(get(&get(&e, "certificate"), "in_use").as_bool(), Some(true));
    let e = err(
        client().retire(
            str_(&cert_id(&certs, "custom")),
            params(&a),
            JsValue::UNDEFINED,
        ),
        "UnsupportedCertificateError",
    )
    .await;
    assert_eq!(s(&get(&e, "certificate"), "type"), "custom");
    assert_eq!(request_count(&a).await, 2, "one GET each, nothing changed");
}

#[wasm_bindgen_test]
async fn retire_gives_up_after_wait_timeout() {
    let (a, certs) = account(r#","deactivate_ms":600000"#).await;
    let options = obj(&[("pollIntervalMs", num(20.0)), ("waitTimeoutMs", num(100.0))]);
    let e = err(
        client().retire(str_(&cert_id(&certs, "available")), params(&a), options),
        "CertificateNotInactiveError",
    )
    .await;
    assert_eq!(
        s(&get(&e, "certificate"), "binding_status"),
        "pending_deletion"
    );
}
mod faults;
mod lifecycle;
