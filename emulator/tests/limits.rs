//! Product limits: 3 generations per account per rolling 24 hours, 10 certificates available
//! at once; and the `fleet` seed (the startup account's default) that the demo shows.

mod common;

use common::*;
use serde_json::Value;

fn code(r: &Resp) -> i64 {
    r.json()["errors"][0]["code"].as_i64().unwrap_or(-1)
}

fn limits(a: &str) -> Value {
    control("GET", &format!("/accounts/{a}/limits"), None)
}

#[test]
fn deleting_gives_no_generation_back() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = api("POST", &a, "", Some("{}"));
        assert_eq!(r.status, 200);
        ids.push(id_of(&r.json()["result"]));
    }
    for id in &ids {
        assert_eq!(api("DELETE", &a, &format!("/{id}"), None).status, 200);
    }
    let r = api("POST", &a, "", Some("{}"));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), 1104);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "Up to 3 certificates may be created in a 24 hour period"
    );
    let l = limits(&a);
    assert_eq!(l["create_limit"], 3);
    assert_eq!(l["creations_24h"], 3);
    // The control API can forget them (tests), or change the limit.
    control(
        "POST",
        &format!("/accounts/{a}/limits"),
        Some(r#"{"reset_creations":true,"create_limit":1}"#),
    );
    assert_eq!(api("POST", &a, "", Some("{}")).status, 200);
    let r = api("POST", &a, "", Some("{}"));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "Up to 1 certificates may be created in a 24 hour period"
    );
}

#[test]
fn available_limit_counts_pending_deployment() {
    let a = fresh_account();
    setup(
        &a,
        r#"{"seed":"empty","available_limit":3,"activate_ms":100000}"#,
    );
    control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(r#"{"binding_status":"available","count":2}"#),
    );
    let c1 = id_of(&add_cert(&a, "{}"));
    let c2 = id_of(&add_cert(&a, "{}"));
    let r = api("POST", &a, &format!("/{c1}/activate"), Some("{}"));
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["result"]["binding_status"], "pending_deployment");
    assert_eq!(limits(&a)["available"], 3);
    // pending_deployment counts: a 4th is refused.
    let r = api("POST", &a, &format!("/{c2}/activate"), Some("{}"));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), 1105);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "At most 3 certificates can be available at once; deactivate one first"
    );
    assert_eq!(
        api("GET", &a, &format!("/{c2}"), None).json()["result"]["binding_status"],
        "inactive"
    );
    // Activating one that already counts is not refused (202, unchanged).
    assert_eq!(
        api("POST", &a, &format!("/{c1}/activate"), Some("{}")).status,
        202
    );
    // Raising the limit lets it through.
    control(
        "POST",
        &format!("/accounts/{a}/limits"),
        Some(r#"{"available_limit":4}"#),
    );
    assert_eq!(
        api("POST", &a, &format!("/{c2}/activate"), Some("{}")).status,
        202
    );
    assert_eq!(limits(&a)["available_limit"], 4);
}

#[test]
fn default_available_limit_is_ten() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    assert_eq!(limits(&a)["available_limit"], 10);
    control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(r#"{"binding_status":"available","count":10}"#),
    );
    let c = add_cert(&a, "{}");
    let r = api("POST", &a, &format!("/{}/activate", id_of(&c)), Some("{}"));
    assert_eq!(r.status, 400);
    assert!(r.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("At most 10 certificates"));
}

#[test]
fn fleet_seed() {
    let a = fresh_account();
    let roles = setup(
        &a,
        r#"{"seed":"fleet","activate_ms":100000,"deactivate_ms":100000}"#,
    );
    let roles = roles.as_object().unwrap();
    assert_eq!(roles.len(), 16);
    let list = api("GET", &a, "", None).json()["result"].clone();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 16);
    let count = |f: &dyn Fn(&Value) -> bool| list.iter().filter(|c| f(c)).count();
    let st = |s: &'static str| move |c: &Value| c["binding_status"] == s;
    assert_eq!(count(&st("inactive")), 6);
    assert_eq!(count(&st("available")), 7);
    assert_eq!(count(&st("pending_deployment")), 1);
    assert_eq!(count(&st("pending_deletion")), 2);
    assert_eq!(count(&|c| c["in_use"] == true), 1);
    assert_eq!(count(&|c| c["type"] == "custom"), 1);
    let now = api("POST", &a, "", Some("{}")).json()["result"]["created_at"]
        .as_str()
        .unwrap()
        .to_string();
    let expired: Vec<&Value> = list
        .iter()
        .filter(|c| c["expires_on"].as_str().unwrap() < now.as_str())
        .collect();
    assert_eq!(expired.len(), 4);
    assert!(expired
        .iter()
        .all(|c| c["type"] == "gateway_managed" && c["in_use"] == false));
    assert_eq!(roles["in_use"]["in_use"], true);
    assert_eq!(roles["custom"]["type"], "custom");
    for r in [
        "inactive_expired_1",
        "inactive_expired_2",
        "inactive_expired_3",
    ] {
        assert_eq!(roles[r]["binding_status"], "inactive");
    }
    // 8 count toward the limit of 10: two more can be activated, not a third.
    assert_eq!(limits(&a)["available"], 8);
    for (r, want) in [
        ("inactive_1", 202),
        ("inactive_2", 202),
        ("inactive_3", 400),
    ] {
        let id = id_of(&roles[r]);
        let resp = api("POST", &a, &format!("/{id}/activate"), Some("{}"));
        assert_eq!(resp.status, want, "{r}");
    }
    // Every inactive one is deletable at once (the bulk-retire demo).
    for r in ["inactive_expired_1", "inactive_expired_2", "inactive_3"] {
        let id = id_of(&roles[r]);
        assert_eq!(
            api("DELETE", &a, &format!("/{id}"), None).status,
            200,
            "{r}"
        );
    }
    // Pending ones settle.
    let b = fresh_account();
    setup(
        &b,
        r#"{"seed":"fleet","activate_ms":50,"deactivate_ms":50}"#,
    );
    std::thread::sleep(std::time::Duration::from_millis(80));
    let list = api("GET", &b, "", None).json()["result"].clone();
    let statuses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["binding_status"].as_str().unwrap())
        .collect();
    assert!(!statuses.iter().any(|s| s.starts_with("pending")));
    assert_eq!(statuses.iter().filter(|s| **s == "available").count(), 8);
    assert_eq!(statuses.iter().filter(|s| **s == "inactive").count(), 8);
}
