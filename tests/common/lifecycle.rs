//! Many at once and rotation, through the wasm edge against the emulator: `retireMany` on the
//! `fleet` seed (with and without a small rate-limit budget, validation, abort),
//! `createAndActivate`, `setInUse`, a whole rotation, and `rateLimitHeaders`.

use super::*;

/// Every certificate id of the account, and the ids the emulator names by role.
fn all_ids(certs: &JsValue) -> Vec<String> {
    Object::values(&certs.clone().unchecked_into::<Object>())
        .iter()
        .map(|c| s(&c, "id"))
        .collect()
}

fn ids_array(ids: &[String]) -> JsValue {
    ids.iter().map(|i| str_(i)).collect::<Array>().into()
}

async fn log(account: &str) -> Array {
    Array::from(&get(
        &control("GET", &format!("/accounts/{account}/log"), None).await,
        "requests",
    ))
}

fn names(list: &JsValue) -> Vec<(String, String)> {
    Array::from(list)
        .iter()
        .map(|p| (s(&p, "certificateId"), s(&get(&p, "error"), "name")))
        .collect()
}

#[wasm_bindgen_test]
async fn retire_many_sorts_a_fleet_into_deleted_refused_and_failed() {
    let (a, certs) = account(r#","seed":"fleet""#).await;
    let mut ids = all_ids(&certs);
    assert_eq!(ids.len(), 16);
    ids.push(MISSING.into());
    ids.push(ids[0].clone()); // a duplicate is retired once
    let (events, on_progress) = progress_recorder();
    let options = obj(&[
        ("pollIntervalMs", num(20.0)),
        ("concurrency", num(4.0)),
        ("onProgress", on_progress),
    ]);
    let result = ok(client().retire_many(ids_array(&ids), params(&a), options)).await;
    let deleted = Array::from(&get(&result, "deleted"));
    let mut refused = names(&get(&result, "refused"));
    refused.sort();
    let mut want = vec![
        (
            cert_id(&certs, "in_use"),
            "CertificateInUseError".to_owned(),
        ),
        (
            cert_id(&certs, "custom"),
            "UnsupportedCertificateError".to_owned(),
        ),
    ];
    want.sort();
    assert_eq!(refused, want);
    assert_eq!(
        names(&get(&result, "failed")),
        [(MISSING.to_owned(), "NotFoundError".to_owned())]
    );
    assert_eq!(deleted.length(), 14);
    for cert in deleted.iter() {
        assert_eq!(deleted_count(&a, &s(&cert, "id")).await, 1.0, "once each");
    }
    // Refusals carry the certificate and the answer's cf-ray.
    let first = Array::from(&get(&result, "refused")).get(0);
    assert!(get(&get(&first, "error"), "certificate").is_object());
    assert!(!s(&get(&first, "error"), "cfRay").is_empty());
    // Progress: counts up to the total, every id ends exactly once.
    let total = 17.0;
    let mut last_done = 0.0;
    for e in events.iter() {
        assert_eq!(get(&e, "total").as_f64(), Some(total));
        let done = get(&e, "done").as_f64().unwrap();
        assert!(done >= last_done, "done never goes back");
        last_done = done;
    }
    assert_eq!(last_done, total);
    let ends = events
        .iter()
        .filter(|e| matches!(s(e, "step").as_str(), "done" | "refused" | "failed"))
        .count();
    assert_eq!(ends, 17);
}

#[wasm_bindgen_test]
async fn retire_many_within_a_small_budget_sends_no_429() {
    let (a, certs) = account(r#","seed":"fleet","rate_limit":{"limit":12,"window_ms":1000}"#).await;
    let ids = all_ids(&certs);
    let options = obj(&[("pollIntervalMs", num(20.0)), ("concurrency", num(8.0))]);
    let c = client();
    let result = ok(c.retire_many(ids_array(&ids), params(&a), options)).await;
    assert_eq!(Array::from(&get(&result, "deleted")).length(), 14);
    assert_eq!(Array::from(&get(&result, "failed")).length(), 0);
    let limited = log(&a)
        .await
        .iter()
        .filter(|r| get(r, "status").as_f64() == Some(429.0))
        .count();
    assert_eq!(limited, 0, "no request went over the budget");
    // The client shows the last headers the API sent it.
    let headers = c.rate_limit_headers();
    assert!(s(&headers, "ratelimit").starts_with("\"default\";r="));
    assert_eq!(s(&headers, "ratelimitPolicy"), "\"default\";q=12;w=1");
}

#[wasm_bindgen_test]
async fn retire_many_validates_everything_before_sending() {
    let (a, certs) = account("").await;
    let good = cert_id(&certs, "inactive");
    for (ids, options) in [
        (
            ids_array(&[good.clone(), "not-a-uuid".into()]),
            JsValue::UNDEFINED,
        ),
        (str_(&good), JsValue::UNDEFINED),
        (
            ids_array(std::slice::from_ref(&good)),
            obj(&[("concurrency", num(0.0))]),
        ),
        (
            ids_array(std::slice::from_ref(&good)),
            obj(&[("concurrency", num(33.0))]),
        ),
        (
            ids_array(std::slice::from_ref(&good)),
            obj(&[("concurrency", num(1.5))]),
        ),
        (
            ids_array(std::slice::from_ref(&good)),
            obj(&[("pollIntervalMs", num(1.0))]),
        ),
    ] {
        err(
            client().retire_many(ids, params(&a), options),
            "InvalidInputError",
        )
        .await;
    }
    err(
        client().retire_many(
            ids_array(std::slice::from_ref(&good)),
            params(""),
            JsValue::UNDEFINED,
        ),
        "InvalidInputError",
    )
    .await;
    let empty = ok(client().retire_many(Array::new().into(), params(&a), JsValue::UNDEFINED)).await;
    for list in ["deleted", "refused", "failed"] {
        assert_eq!(Array::from(&get(&empty, list)).length(), 0);
    }
    assert_eq!(request_count(&a).await, 0, "nothing was sent");
}

#[wasm_bindgen_test]
async fn retire_many_abort_resolves_with_what_happened() {
    let (a, certs) = account(r#","seed":"fleet""#).await;
    let ids = all_ids(&certs);
    let controller = web_sys::AbortController::new().unwrap();
    let state = obj(&[
        ("events", Array::new().into()),
        ("controller", controller.clone().into()),
    ]);
    // Abort as soon as the first certificate is deleted.
    let on_progress = Function::new_with_args(
        "e",
        "this.events.push(e); if (e.step === 'done') this.controller.abort();",
    )
    .bind0(&state);
    let options = obj(&[
        ("pollIntervalMs", num(20.0)),
        ("concurrency", num(2.0)),
        ("signal", controller.signal().into()),
        ("onProgress", on_progress.into()),
    ]);
    let result = ok(client().retire_many(ids_array(&ids), params(&a), options)).await;
    let deleted = Array::from(&get(&result, "deleted")).length();
    let refused = Array::from(&get(&result, "refused")).length();
    let failed = names(&get(&result, "failed"));
    assert_eq!(
        deleted as usize + refused as usize + failed.len(),
        16,
        "every id once"
    );
    assert!(deleted >= 1);
    let aborted = failed
        .iter()
        .filter(|(_, n)| n == "APIUserAbortError")
        .count();
    assert!(
        aborted >= 12,
        "unfinished ones failed as aborted: {failed:?}"
    );
    // Unfinished ones were not deleted, but for one whose DELETE was already on its way when
    // the abort came: the API may have done it.
    let events = Array::from(&get(&state, "events"));
    for (id, _) in &failed {
        let last = events
            .iter()
            .filter(|e| s(e, "certificateId") == *id)
            .map(|e| s(&e, "step"))
            .rfind(|step| !matches!(step.as_str(), "done" | "refused" | "failed"))
            .unwrap_or_default();
        let n = deleted_count(&a, id).await;
        if last == "deleting" {
            assert!(n <= 1.0, "{id}");
        } else {
            assert_eq!(n, 0.0, "{id} after {last} was not deleted");
        }
    }
}

#[wasm_bindgen_test]
async fn a_whole_rotation() {
    let (a, certs) = account("").await;
    let old = cert_id(&certs, "in_use");
    let c = client();
    let (events, on_progress) = progress_recorder();
    let options = obj(&[
        ("pollIntervalMs", num(20.0)),
        ("onProgress", on_progress.clone()),
    ]);
    let fresh = ok(c.create_and_activate(
        obj(&[
            ("account_id", str_(&a)),
            ("validity_period_days", num(365.0)),
        ]),
        options.clone(),
    ))
    .await;
    assert_eq!(s(&fresh, "binding_status"), "available");
    let steps: Vec<String> = events.iter().map(|e| s(&e, "step")).collect();
    assert_eq!(&steps[..2], ["creating", "activating"]);
    assert_eq!(steps.last().map(String::as_str), Some("done"));
    let new = s(&fresh, "id");
    // The old one is in use: retire refuses it.
    err(
        c.retire(str_(&old), params(&a), JsValue::UNDEFINED),
        "CertificateInUseError",
    )
    .await;
    let used = ok(c.set_in_use(str_(&new), params(&a), options.clone())).await;
    assert_eq!(get(&used, "in_use").as_bool(), Some(true));
    let old_now = ok(c.get(str_(&old), params(&a), JsValue::UNDEFINED)).await;
    assert_eq!(get(&old_now, "in_use").as_bool(), Some(false));
    assert_eq!(s(&old_now, "binding_status"), "available");
    let gone = ok(c.retire(str_(&old), params(&a), options)).await;
    assert_eq!(s(&gone, "id"), old);
    assert_eq!(deleted_count(&a, &old).await, 1.0);
    let patches: Vec<String> = log(&a)
        .await
        .iter()
        .filter(|r| s(r, "method") == "PATCH")
        .map(|r| s(&r, "path"))
        .collect();
    assert_eq!(
        patches,
        [format!("/client/v4/accounts/{a}/gateway/configuration")]
    );
}

#[wasm_bindgen_test]
async fn set_in_use_refuses_a_certificate_that_is_not_available() {
    let (a, certs) = account("").await;
    let id = cert_id(&certs, "inactive");
    let e = err(
        client().set_in_use(str_(&id), params(&a), JsValue::UNDEFINED),
        "CertificateNotAvailableError",
    )
    .await;
    assert_eq!(s(&get(&e, "certificate"), "binding_status"), "inactive");
    assert!(!s(&e, "cfRay").is_empty());
    assert_eq!(request_count(&a).await, 1, "one GET, no PATCH");
}

#[wasm_bindgen_test]
async fn create_and_activate_gives_up_after_wait_timeout() {
    let (a, _) = account(r#","activate_ms":600000"#).await;
    let options = obj(&[("pollIntervalMs", num(20.0)), ("waitTimeoutMs", num(100.0))]);
    let e = err(
        client().create_and_activate(params(&a), options),
        "CertificateNotAvailableError",
    )
    .await;
    let cert = get(&e, "certificate");
    assert_eq!(s(&cert, "binding_status"), "pending_deployment");
    assert!(
        s(&e, "message").contains(&s(&cert, "id")),
        "names the new certificate"
    );
    assert!(s(&e, "message").contains("do not create another"));
}
