//! Behaviour of the emulated API, the control API and the faults.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn code(r: &Resp) -> i64 {
    r.json()["errors"][0]["code"].as_i64().unwrap_or(-1)
}

fn wait_status(account: &str, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = api("GET", account, &format!("/{id}"), None);
        if r.json()["result"]["binding_status"] == want {
            return;
        }
        assert!(Instant::now() < deadline, "never reached {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn lifecycle_and_success_codes() {
    let a = fresh_account();
    setup(
        &a,
        r#"{"seed":"empty","activate_ms":150,"deactivate_ms":150}"#,
    );
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"], serde_json::json!([]));
    assert_eq!(r.json()["result_info"]["total_count"], 0);

    let r = api("POST", &a, "", Some("{}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json()["result"].clone();
    assert_eq!(c["binding_status"], "inactive");
    assert_eq!(c["type"], "gateway_managed");
    assert_eq!(c["in_use"], false);
    let id = id_of(&c);

    let r = api("GET", &a, &format!("/{id}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"]["id"], id.as_str());
    let created_updated = r.json()["result"]["updated_at"].clone();

    let r = api("POST", &a, &format!("/{id}/activate"), Some("{}"));
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["result"]["binding_status"], "pending_deployment");
    assert_ne!(r.json()["result"]["updated_at"], created_updated);
    // delete while pending: 500
    let r = api("DELETE", &a, &format!("/{id}"), None);
    assert_eq!(r.status, 500);
    wait_status(&a, &id, "available");
    let r = api("DELETE", &a, &format!("/{id}"), None);
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json(),
        serde_json::json!({"success":false,"errors":[{"code":1000,"message":"Internal Server Error"}],"messages":[],"result":null})
    );

    let r = api("POST", &a, &format!("/{id}/deactivate"), Some("{}"));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["result"]["binding_status"], "pending_deletion");
    wait_status(&a, &id, "inactive");
    // deactivate again: 201 unchanged
    let r = api("POST", &a, &format!("/{id}/deactivate"), Some("{}"));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["result"]["binding_status"], "inactive");

    let r = api("DELETE", &a, &format!("/{id}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"]["id"], id.as_str());
    let r = api("GET", &a, &format!("/{id}"), None);
    assert_eq!(r.status, 404);
    assert!(code(&r) >= 1000);
    let r = api("DELETE", &a, &format!("/{id}"), Some("{}"));
    assert_eq!(r.status, 404);

    let st = control("GET", &format!("/accounts/{a}/state"), None);
    assert_eq!(st["deleted"][&id], 1);
    assert_eq!(st["certificates"], serde_json::json!([]));
    assert!(st["requests"].as_u64().unwrap() >= 10);
    let log = control("GET", &format!("/accounts/{a}/log"), None);
    let ops: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert_eq!(&ops[..4], &["list", "create", "get", "activate"]);
    assert_eq!(log["requests"][0]["auth"], "token");
    assert_eq!(log["requests"][0]["fault"], Value::Null);
    assert!(
        !log.to_string().contains(TOKEN),
        "log never holds credentials"
    );
}

#[test]
fn demo_seed_refusals() {
    let a = fresh_account();
    let seed = setup(&a, r#"{"activate_ms":100000,"deactivate_ms":100000}"#);
    for role in [
        "inactive",
        "available",
        "pending_deployment",
        "pending_deletion",
        "in_use",
        "custom",
    ] {
        assert!(seed[role]["id"].is_string(), "role {role}");
    }
    assert_eq!(seed["custom"]["type"], "custom");
    assert_eq!(seed["in_use"]["in_use"], true);
    let id = |role: &str| id_of(&seed[role]);

    let r = api("DELETE", &a, &format!("/{}", id("custom")), None);
    assert_eq!(r.status, 400);
    assert!(code(&r) >= 1000);
    let r = api("DELETE", &a, &format!("/{}", id("in_use")), None);
    assert_eq!(r.status, 400);
    let r = api(
        "POST",
        &a,
        &format!("/{}/deactivate", id("in_use")),
        Some("{}"),
    );
    assert_eq!(r.status, 400);
    for role in ["available", "pending_deployment", "pending_deletion"] {
        let r = api("DELETE", &a, &format!("/{}", id(role)), None);
        assert_eq!(r.status, 500, "{role}");
        assert_eq!(r.json()["errors"][0]["message"], "Internal Server Error");
    }
    let r = api(
        "POST",
        &a,
        &format!("/{}/deactivate", id("pending_deletion")),
        Some("{}"),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["result"]["binding_status"], "pending_deletion");
    let r = api("DELETE", &a, &format!("/{}", id("inactive")), None);
    assert_eq!(r.status, 200);

    // legacy "active" behaves like available
    let c = add_cert(&a, r#"{"binding_status":"active"}"#);
    let r = api("DELETE", &a, &format!("/{}", id_of(&c)), None);
    assert_eq!(r.status, 500);
    let r = api(
        "POST",
        &a,
        &format!("/{}/deactivate", id_of(&c)),
        Some("{}"),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["result"]["binding_status"], "pending_deletion");

    // PATCH through the control API
    let v = control(
        "PATCH",
        &format!("/accounts/{a}/certificates/{}", id("in_use")),
        Some(r#"{"in_use":false,"binding_status":"inactive"}"#),
    );
    assert_eq!(v["certificate"]["in_use"], false);
    let r = api("DELETE", &a, &format!("/{}", id("in_use")), None);
    assert_eq!(r.status, 200);
}

#[test]
fn activation_limit() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(r#"{"binding_status":"available","count":10}"#),
    );
    let c = add_cert(&a, "{}");
    let r = api("POST", &a, &format!("/{}/activate", id_of(&c)), Some("{}"));
    assert_eq!(r.status, 400);
    assert!(code(&r) >= 1000);
    assert_eq!(
        api("GET", &a, "", None).json()["result"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
}

#[test]
fn create_limit_and_validity() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    for bad in [
        r#"{"validity_period_days":0}"#,
        r#"{"validity_period_days":10951}"#,
        r#"{"validity_period_days":"5"}"#,
        r#"{"validity_period_days":1.5}"#,
        "[1]",
        "{nope",
    ] {
        let r = api("POST", &a, "", Some(bad));
        assert_eq!(r.status, 400, "{bad}");
        assert!(code(&r) >= 1000);
        assert_eq!(r.json()["success"], false);
    }
    let r = api("POST", &a, "", Some(r#"{"validity_period_days":10950}"#));
    assert_eq!(r.status, 200);
    let c = r.json()["result"].clone();
    let y_created: i64 = c["created_at"].as_str().unwrap()[..4].parse().unwrap();
    let y_exp: i64 = c["expires_on"].as_str().unwrap()[..4].parse().unwrap();
    assert!((29..=30).contains(&(y_exp - y_created)));
    let r = api("POST", &a, "", Some(r#"{"validity_period_days":1}"#));
    assert_eq!(r.status, 200);
    let r = api("POST", &a, "", None);
    assert_eq!(r.status, 200);
    let r = api("POST", &a, "", Some("{}"));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "Up to 3 certificates may be created in a 24 hour period"
    );
    assert_eq!(code(&r), 1104);
    // control-created certificates don't count
    add_cert(&a, "{}");
    let b = fresh_account();
    setup(&b, r#"{"seed":"empty","create_limit":1}"#);
    assert_eq!(api("POST", &b, "", Some("{}")).status, 200);
    assert_eq!(api("POST", &b, "", Some("{}")).status, 400);
}

#[test]
fn certificate_shape_and_passthrough() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let c = api("POST", &a, "", Some("{}")).json()["result"].clone();
    for k in CERT_FIELDS {
        assert!(c.get(k).is_some(), "missing {k}");
    }
    let id = id_of(&c);
    assert!(cf_gateway_emulator::util::is_uuid(&id) && id == id.to_lowercase());
    let fp = c["fingerprint"].as_str().unwrap();
    assert!(
        fp.len() == 64
            && fp
                .chars()
                .all(|ch| ch.is_ascii_digit() || ch.is_ascii_uppercase())
    );
    let pem = c["certificate"].as_str().unwrap();
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE-----\n")
            && pem.ends_with("\n-----END CERTIFICATE-----\n")
    );
    assert_eq!(c["issuer_org"], "Cloudflare, Inc.");
    assert!(c["issuer_raw"].as_str().unwrap().contains("Gateway CA"));

    let v = control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(
            r#"{"count":3,"binding_status":"weird_future_state","fingerprint":null,"extra":{"nested":[1,2]},"note":"x"}"#,
        ),
    );
    assert_eq!(v["certificates"].as_array().unwrap().len(), 3);
    let id2 = id_of(&v["certificates"][1]);
    let g = api("GET", &a, &format!("/{id2}"), None).json()["result"].clone();
    assert_eq!(g["extra"], serde_json::json!({"nested":[1,2]}));
    assert_eq!(g["note"], "x");
    assert_eq!(g["fingerprint"], Value::Null);
    assert_eq!(g["binding_status"], "weird_future_state");
    assert!(g.get("count").is_none());
    let l = api("GET", &a, "", None).json();
    assert_eq!(l["result_info"]["count"], 4);
    assert_eq!(l["result"][3]["extra"]["nested"][1], 2);
}

#[test]
fn auth_cases() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let path = format!("/client/v4/accounts/{a}/gateway/certificates");
    let ro = format!("Bearer {RO_TOKEN}");
    let full = bearer();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, i64);
    let cases: Vec<Case> = vec![
        ("GET", vec![("Authorization", full.as_str())], 200, 0),
        (
            "GET",
            vec![("X-Auth-Email", EMAIL), ("X-Auth-Key", KEY)],
            200,
            0,
        ),
        (
            "GET",
            vec![("X-Auth-Email", "ADMIN@example.com"), ("X-Auth-Key", KEY)],
            200,
            0,
        ),
        ("GET", vec![("Authorization", ro.as_str())], 200, 0),
        ("POST", vec![("Authorization", ro.as_str())], 403, 10000),
        ("GET", vec![], 400, 10001),
        (
            "GET",
            vec![("Authorization", "Basic Zm9vOmJhcg==")],
            400,
            6003,
        ),
        ("GET", vec![("Authorization", "Bearer ")], 400, 6003),
        ("GET", vec![("Authorization", "Bearer nope")], 401, 10000),
        (
            "GET",
            vec![("X-Auth-Email", EMAIL), ("X-Auth-Key", "wrong")],
            403,
            9103,
        ),
        (
            "GET",
            vec![("X-Auth-Email", "x@y.z"), ("X-Auth-Key", KEY)],
            403,
            9103,
        ),
        (
            "GET",
            vec![
                ("Authorization", full.as_str()),
                ("X-Auth-Email", EMAIL),
                ("X-Auth-Key", KEY),
            ],
            400,
            6003,
        ),
    ];
    for (method, headers, status, err) in &cases {
        let body = (*method == "POST").then_some("{}");
        let r = request(method, &path, headers, body);
        assert_eq!(r.status, *status, "{method} {headers:?}: {}", r.text());
        if *err != 0 {
            assert_eq!(code(&r), *err, "{headers:?}");
            assert_eq!(r.json()["success"], false);
        }
        assert!(r.header("ratelimit").is_some());
    }
    let r = request(
        "GET",
        &path,
        &[("Authorization", "Basic Zm9vOmJhcg==")],
        None,
    );
    assert_eq!(r.json()["errors"][0]["error_chain"][0]["code"], 6111);
    assert_eq!(
        r.json()["errors"][0]["error_chain"][0]["message"],
        "Invalid format for Authorization header"
    );
    let log = control("GET", &format!("/accounts/{a}/log"), None);
    let labels: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["auth"].as_str().unwrap())
        .collect();
    assert_eq!(
        &labels[..6],
        &["token", "key", "key", "token", "token", "none"]
    );
    assert_eq!(labels[6], "invalid");
    let s = log.to_string();
    for secret in [TOKEN, RO_TOKEN, KEY] {
        assert!(!s.contains(secret));
    }
}

#[test]
fn account_rate_limit_override() {
    let a = rate_limited_account(3, 2000);
    for i in 0..3 {
        let r = api("GET", &a, "", None);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("ratelimit-policy").unwrap(), "\"default\";q=3;w=2");
        assert!(r
            .header("ratelimit")
            .unwrap()
            .starts_with(&format!("\"default\";r={};t=", 2 - i)));
    }
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["errors"][0]["code"], 971);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "Please wait and consider throttling your request speed"
    );
    let ra: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&ra));
    assert!(r
        .header("ratelimit")
        .unwrap()
        .starts_with("\"default\";r=0;t="));
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(api("GET", &a, "", None).status, 200);
}

#[test]
fn user_rate_limit() {
    let cfg = cf_gateway_emulator::Config {
        rate_limit: cf_gateway_emulator::RateLimit {
            limit: 2,
            window_ms: 60_000,
        },
        ..Default::default()
    };
    let h = cf_gateway_emulator::start(cfg).unwrap();
    let path = "/client/v4/accounts/abc123/gateway/certificates";
    let tok = bearer();
    let t = [("Authorization", tok.as_str())];
    assert_eq!(request_to(h.addr(), "GET", path, &t, None).status, 200);
    assert_eq!(
        request_to(
            h.addr(),
            "GET",
            "/client/v4/accounts/other/gateway/certificates",
            &t,
            None
        )
        .status,
        200
    );
    let r = request_to(h.addr(), "GET", path, &t, None);
    assert_eq!(r.status, 429);
    let ra: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&ra));
    assert_eq!(
        r.header("ratelimit-policy").unwrap(),
        "\"default\";q=2;w=60"
    );
    // the key credential is another "user" bucket
    let k = [("X-Auth-Email", EMAIL), ("X-Auth-Key", KEY)];
    assert_eq!(request_to(h.addr(), "GET", path, &k, None).status, 200);
    // the control API can reset windows
    let r = request_to(
        h.addr(),
        "POST",
        "/__emulator/rate-limits/reset",
        &[],
        Some(""),
    );
    assert_eq!(r.status, 200);
    assert_eq!(request_to(h.addr(), "GET", path, &t, None).status, 200);
}

#[test]
fn routing_and_bad_ids() {
    let a = fresh_account();
    let r = api("GET", &a, "/not-a-uuid", None);
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), 7003);
    assert!(r.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("perhaps your object identifier is invalid?"));
    let r = api("POST", &a, "/not-a-uuid/activate", Some("{}"));
    assert_eq!(r.status, 400);
    let r = api("GET", "bad!acct", "", None);
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), 7003);
    let r = api("GET", &"a".repeat(33), "", None);
    assert_eq!(r.status, 400);
    let r = api("GET", &a, "/f174e90a-fafe-4643-bbbc-4a0ed4fc8415", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["message"], "Certificate not found");
    for p in [
        "/client/v4/nope",
        "/",
        "/client/v4/accounts/abc/gateway/rules",
        "/client/v4/accounts/abc/gateway/certificates/f174e90a-fafe-4643-bbbc-4a0ed4fc8415/x",
    ] {
        let r = request("GET", p, &[("Authorization", &bearer())], None);
        assert_eq!(r.status, 404, "{p}");
        assert_eq!(
            r.json(),
            serde_json::json!({"success":false,"errors":[{"code":7003,"message":"No route for the URI"}],"messages":[],"result":null})
        );
    }
    let r = api("PUT", &a, "", Some("{}"));
    assert_eq!(r.status, 405);
    assert_eq!(code(&r), 10405);
    let r = api(
        "POST",
        &a,
        "/f174e90a-fafe-4643-bbbc-4a0ed4fc8415",
        Some("{}"),
    );
    assert_eq!(r.status, 405);
    // unknown valid accounts are created empty
    let r = api("GET", &fresh_account(), "", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"], serde_json::json!([]));
}

#[test]
fn common_headers_and_cors() {
    let r = request(
        "OPTIONS",
        "/client/v4/accounts/x/gateway/certificates",
        &[
            ("Origin", "http://page.test"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
        None,
    );
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, POST, DELETE, PATCH, OPTIONS")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("authorization, content-type, x-auth-email, x-auth-key, accept")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    let r = request("OPTIONS", "/__emulator/health", &[], None);
    assert_eq!(r.status, 204);

    let a = fresh_account();
    let r = api("GET", &a, "", None);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("cf-ray, retry-after, retry-after-ms, ratelimit, ratelimit-policy, x-should-retry")
    );
    let ray = r.header("cf-ray").unwrap();
    assert!(
        ray.len() == 20
            && ray.ends_with("-EMU")
            && ray[..16]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert!(r
        .header("ratelimit-policy")
        .unwrap()
        .starts_with("\"default\";q=1200;w=300"));
    let h = request("GET", "/__emulator/health", &[], None);
    assert_eq!(h.json(), serde_json::json!({"ok":true}));
    assert_eq!(h.header("access-control-allow-origin"), Some("*"));
    // OPTIONS not logged
    let log = control("GET", &format!("/accounts/{a}/log"), None);
    assert_eq!(log["requests"].as_array().unwrap().len(), 1);
}

#[test]
fn robustness() {
    let (raw, _) = raw_exchange(addr(), b"garbage\r\n\r\n", Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 400"));
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(70 * 1024));
    let (raw, _) = raw_exchange(addr(), big.as_bytes(), Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 431"));
    let (raw, _) = raw_exchange(
        addr(),
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 413"));
    // chunked request bodies are understood
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let req = format!("POST /client/v4/accounts/{a}/gateway/certificates HTTP/1.1\r\nAuthorization: {}\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{{\"va\r\n18\r\nlidity_period_days\": 30}}\r\n0\r\n\r\n", bearer());
    let (raw, _) = raw_exchange(addr(), req.as_bytes(), Duration::from_secs(5));
    let r = parse_response(raw);
    assert_eq!(r.status, 200, "{}", r.text());
    // still alive
    assert_eq!(request("GET", "/__emulator/health", &[], None).status, 200);
}

fn list_path(a: &str) -> String {
    format!("/client/v4/accounts/{a}/gateway/certificates")
}

#[test]
fn faults_answering_kinds() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    add_faults(
        &a,
        r#"[
        {"op":"delete","kind":"status","status":503},
        {"kind":"html"},
        {"kind":"malformed_json"},
        {"kind":"success_false"},
        {"kind":"result_null"},
        {"kind":"status","status":429,"headers":{"Retry-After":"1","retry-after-ms":"150"}},
        {"kind":"status","status":408,"body":"nope","headers":{"Ratelimit":"\"default\";r=0;t=1"}},
        {"kind":"html","status":504,"body":"<html>custom</html>","times":2}
    ]"#,
    );
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let t = r.text();
    assert!(
        t.starts_with("<!DOCTYPE html>")
            && t.contains("<title>502 Bad Gateway</title>")
            && t.contains("cloudflare")
    );
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["success"], false);
    assert_eq!(r.json()["errors"][0]["code"], 1001);
    let r = api("GET", &a, "", None);
    assert_eq!(
        r.json(),
        serde_json::json!({"success":true,"errors":[],"messages":[],"result":null})
    );
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("retry-after-ms"), Some("150"));
    assert_eq!(r.json()["success"], false);
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 408);
    assert_eq!(r.text(), "nope");
    assert_eq!(r.header("ratelimit"), Some("\"default\";r=0;t=1"));
    for _ in 0..2 {
        let r = api("GET", &a, "", None);
        assert_eq!(r.status, 504);
        assert_eq!(r.text(), "<html>custom</html>");
    }
    // only the delete fault is left; list is normal now
    assert_eq!(api("GET", &a, "", None).status, 200);
    let r = api("DELETE", &a, "/f174e90a-fafe-4643-bbbc-4a0ed4fc8415", None);
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["success"], false);
    let log = control("GET", &format!("/accounts/{a}/log"), None);
    let faults: Vec<Value> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fault"].clone())
        .collect();
    assert_eq!(faults[0], "html");
    assert_eq!(faults[8], Value::Null);
    assert_eq!(faults[9], "status");
    assert_eq!(log["requests"][9]["status"], 503);
    // faults fire before auth
    add_faults(&a, r#"[{"kind":"result_null"}]"#);
    let r = request("GET", &list_path(&a), &[], None);
    assert_eq!(r.status, 200);
    // bad fault specs are refused
    let r = request(
        "POST",
        &format!("/__emulator/accounts/{a}/faults"),
        &[],
        Some(r#"{"faults":[{"kind":"explode"}]}"#),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn faults_connection_kinds() {
    let a = fresh_account();
    let seed = setup(&a, r#"{"activate_ms":100000}"#);
    let inactive = id_of(&seed["inactive"]);
    let tok = bearer();
    let hdr = [("Authorization", tok.as_str())];
    let get_req = build_request("GET", &list_path(&a), &hdr, None);

    // latency
    add_faults(&a, r#"[{"op":"list","kind":"latency","delay_ms":300}]"#);
    let t0 = Instant::now();
    assert_eq!(api("GET", &a, "", None).status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));

    // hang: no answer within the client's timeout; the server stays usable
    add_faults(&a, r#"[{"kind":"hang"}]"#);
    let (raw, err) = raw_exchange(addr(), &get_req, Duration::from_millis(400));
    assert!(raw.is_empty());
    let e = err.expect("timed out");
    assert!(
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{e:?}"
    );

    // reset: nothing, then an error or EOF
    add_faults(&a, r#"[{"kind":"reset"}]"#);
    let (raw, err) = raw_exchange(addr(), &get_req, Duration::from_secs(5));
    assert!(raw.is_empty());
    if let Some(e) = err {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e:?}");
    }

    // reset with apply: the delete happened even though the answer was lost
    add_faults(&a, r#"[{"op":"delete","kind":"reset","apply":true}]"#);
    let del = build_request(
        "DELETE",
        &format!("{}/{inactive}", list_path(&a)),
        &hdr,
        None,
    );
    let (raw, _) = raw_exchange(addr(), &del, Duration::from_secs(5));
    assert!(raw.is_empty());
    assert_eq!(api("GET", &a, &format!("/{inactive}"), None).status, 404);

    // reset_mid_body: fewer bytes than Content-Length
    add_faults(&a, r#"[{"kind":"reset_mid_body"}]"#);
    let (raw, _) = raw_exchange(addr(), &get_req, Duration::from_secs(5));
    let r = parse_response(raw);
    assert_eq!(r.status, 200);
    let cl: usize = r.header("content-length").unwrap().parse().unwrap();
    assert!(!r.body.is_empty() && r.body.len() < cl);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());

    // drip: correct body, slowly
    let b = fresh_account();
    setup(&b, r#"{"seed":"empty"}"#);
    add_faults(&b, r#"[{"kind":"drip","delay_ms":3}]"#);
    let t0 = Instant::now();
    let r = api("GET", &b, "", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["success"], true);
    assert!(t0.elapsed() >= Duration::from_millis(3 * (r.body.len() as u64 - 1)));

    let log = control("GET", &format!("/accounts/{a}/log"), None);
    let entries = log["requests"].as_array().unwrap();
    let kinds: Vec<&Value> = entries.iter().map(|e| &e["fault"]).collect();
    assert_eq!(kinds[0], "latency");
    assert_eq!(kinds[1], "hang");
    assert_eq!(entries[1]["status"], Value::Null);
    assert_eq!(kinds[2], "reset");
    assert_eq!(kinds[3], "reset");
    assert_eq!(entries[3]["op"], "delete");
    assert_eq!(
        control("GET", &format!("/accounts/{a}/state"), None)["deleted"][&inactive],
        1
    );
}

#[test]
fn control_api_errors() {
    let r = request("POST", "/__emulator/accounts/bad!id", &[], Some("{}"));
    assert_eq!(r.status, 400);
    let r = request(
        "POST",
        "/__emulator/accounts/abc",
        &[],
        Some(r#"{"seed":"nope"}"#),
    );
    assert_eq!(r.status, 400);
    let r = request("GET", "/__emulator/nothing", &[], None);
    assert_eq!(r.status, 404);
    let a = fresh_account();
    let r = request(
        "PATCH",
        &format!("/__emulator/accounts/{a}/certificates/f174e90a-fafe-4643-bbbc-4a0ed4fc8415"),
        &[],
        Some("{}"),
    );
    assert_eq!(r.status, 404);
    let r = request(
        "POST",
        &format!("/__emulator/accounts/{a}/certificates"),
        &[],
        Some(r#"{"count":5001}"#),
    );
    assert_eq!(r.status, 400);
    let v = control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(r#"{"count":5000}"#),
    );
    assert_eq!(v["certificates"].as_array().unwrap().len(), 5000);
}
