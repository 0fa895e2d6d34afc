//! The rate limit over HTTP: `Ratelimit` / `Ratelimit-Policy` on every API answer, `r` exact
//! after counting, `t` rounded up, and the lockout (every request 429 until the window ends).
//! The limiter's arithmetic with explicit times is unit-tested in `src/model.rs`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// (r, t) of a `Ratelimit: "default";r=<r>;t=<t>` header.
fn rt(r: &Resp) -> (u64, u64) {
    let h = r
        .header("ratelimit")
        .unwrap_or_else(|| panic!("no Ratelimit on {} {}", r.status, r.text()));
    let rest = h.strip_prefix("\"default\";r=").expect(h);
    let (rem, t) = rest.split_once(";t=").expect(h);
    (rem.parse().expect(h), t.parse().expect(h))
}

fn policy(r: &Resp) -> String {
    r.header("ratelimit-policy")
        .unwrap_or_else(|| panic!("no Ratelimit-Policy on {} {}", r.status, r.text()))
        .to_string()
}

fn log(a: &str) -> Vec<Value> {
    control("GET", &format!("/accounts/{a}/log"), None)["requests"]
        .as_array()
        .unwrap()
        .clone()
}

fn set_limit(a: &str, limit: u64, window_ms: u64) {
    control(
        "POST",
        &format!("/accounts/{a}/limits"),
        Some(&format!(
            r#"{{"rate_limit":{{"limit":{limit},"window_ms":{window_ms}}}}}"#
        )),
    );
}

#[test]
fn every_counted_answer_says_what_is_left() {
    let a = fresh_account();
    let seed = setup(&a, r#"{"activate_ms":100000}"#);
    set_limit(&a, 9, 60_000);
    let tok = bearer();
    let ro = format!("Bearer {RO_TOKEN}");
    let inactive = id_of(&seed["inactive"]);
    let in_use = id_of(&seed["in_use"]);
    // Every request with good credentials counts, whatever the answer.
    let counted: Vec<Resp> = vec![
        api("GET", &a, "", None),                             // 200
        api("GET", &a, "/not-a-uuid", None),                  // 400 bad id
        api("DELETE", &a, &format!("/{in_use}"), None),       // 400 in use
        api("POST", &a, &format!("/{inactive}"), Some("{}")), // 405
        request(
            "GET",
            &format!("/client/v4/accounts/{a}/gateway/rules"),
            &[("Authorization", &tok)],
            None,
        ), // 404 route
        request(
            "POST",
            &format!("/client/v4/accounts/{a}/gateway/certificates"),
            &[("Authorization", &ro)],
            Some("{}"),
        ), // 403 read-only
        config_api("GET", &a, None),                          // 200
        config_api("PATCH", &a, Some(&use_cert(&inactive))),  // 400 not available
    ];
    let statuses: Vec<u16> = counted.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 400, 400, 405, 404, 403, 200, 400]);
    for (i, r) in counted.iter().enumerate() {
        assert_eq!(policy(r), "\"default\";q=9;w=60", "#{i}");
        let (rem, t) = rt(r);
        assert_eq!(rem, 8 - i as u64, "#{i}: r after counting");
        assert!((59..=60).contains(&t), "#{i}: t={t}");
    }
    // Bad credentials are not counted (no user) but still show the account's window.
    for r in [
        request(
            "GET",
            &format!("/client/v4/accounts/{a}/gateway/certificates"),
            &[],
            None,
        ),
        request(
            "GET",
            &format!("/client/v4/accounts/{a}/gateway/configuration"),
            &[("Authorization", "Bearer wrong")],
            None,
        ),
        request(
            "GET",
            &format!("/client/v4/accounts/{a}/gateway/certificates"),
            &[("X-Auth-Email", EMAIL), ("X-Auth-Key", "wrong")],
            None,
        ),
    ] {
        assert!(matches!(r.status, 400 | 401 | 403), "{}", r.status);
        assert_eq!(rt(&r).0, 1, "not counted");
        assert_eq!(policy(&r), "\"default\";q=9;w=60");
    }
    // Injected faults are not counted either, and carry the headers.
    add_faults(&a, r#"[{"kind":"status","status":503},{"kind":"html"}]"#);
    for want in [503, 502] {
        let r = api("GET", &a, "", None);
        assert_eq!(r.status, want);
        assert_eq!(rt(&r).0, 1);
    }
    // The last request of the budget.
    let r = api("GET", &a, "", None);
    assert_eq!((r.status, rt(&r).0), (200, 0));
    assert!(
        r.header("retry-after").is_none(),
        "Retry-After only on a 429"
    );
}

#[test]
fn lockout_refuses_everything_until_the_window_ends() {
    let a = fresh_account();
    let seed = setup(&a, r#"{"activate_ms":100000}"#);
    set_limit(&a, 2, 1500);
    let t0 = Instant::now();
    assert_eq!(api("GET", &a, "", None).status, 200);
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 200);
    assert_eq!(rt(&r).0, 0);
    assert_eq!(
        policy(&r),
        "\"default\";q=2;w=2",
        "1500 ms announced as w=2"
    );
    let tok = bearer();
    let avail = id_of(&seed["available"]);
    let locked = vec![
        api("GET", &a, "", None),
        api("GET", &a, &format!("/{avail}"), None),
        api("POST", &a, "", Some("{}")),
        api("DELETE", &a, &format!("/{avail}"), None),
        api("GET", &a, "/not-a-uuid", None),
        config_api("GET", &a, None),
        config_api("PATCH", &a, Some(&use_cert(&avail))),
        request(
            "GET",
            &format!("/client/v4/accounts/{a}/gateway/rules"),
            &[("Authorization", &tok)],
            None,
        ),
    ];
    for r in &locked {
        assert_eq!(r.status, 429, "{}", r.text());
        assert_eq!(r.json()["errors"][0]["code"], 971);
        let ra: u64 = r.header("retry-after").unwrap().parse().unwrap();
        let (rem, t) = rt(r);
        assert_eq!(rem, 0);
        assert_eq!(ra, t, "Retry-After and t agree");
        assert!((1..=2).contains(&t), "t={t}");
    }
    // Nothing was done while locked out.
    assert_eq!(
        control("GET", &format!("/accounts/{a}/limits"), None)["creations_24h"],
        0
    );
    let st = control("GET", &format!("/accounts/{a}/state"), None);
    assert_eq!(
        st["configuration"]["settings"]["certificate"]["id"],
        seed["in_use"]["id"]
    );
    // The log: t is the window's end rounded up to whole seconds (never early, < 1 s late).
    let limited: Vec<Value> = log(&a)
        .into_iter()
        .filter(|e| e["rate"] == "limited")
        .collect();
    assert_eq!(
        limited.len(),
        7,
        "every logged request of the lockout was limited"
    );
    for e in &limited {
        let end = e["window_start_us"].as_u64().unwrap() + 1_500_000;
        let left = end - e["rate_at_us"].as_u64().unwrap();
        let t = e["retry_after_s"].as_u64().unwrap();
        assert!(
            t * 1_000_000 >= left && (t - 1) * 1_000_000 < left,
            "t={t} left={left}"
        );
    }
    // Once the window is over, requests are counted again.
    let wait = Duration::from_millis(1550).saturating_sub(t0.elapsed());
    std::thread::sleep(wait);
    let r = api("GET", &a, "", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(rt(&r), (1, 2));
}

#[test]
fn per_account_quota_through_the_control_api() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    // Default: the per-user quota of the process.
    let r = api("GET", &a, "", None);
    assert_eq!(policy(&r), "\"default\";q=1200;w=300");
    let v = control(
        "POST",
        &format!("/accounts/{a}/limits"),
        Some(r#"{"rate_limit":{"limit":1,"window_ms":200}}"#),
    );
    assert_eq!(v["rate_limit"]["limit"], 1);
    assert_eq!(v["rate_limit"]["window_ms"], 200);
    let r = api("GET", &a, "", None);
    assert_eq!((r.status, rt(&r)), (200, (0, 1)));
    assert_eq!(policy(&r), "\"default\";q=1;w=1");
    assert_eq!(api("GET", &a, "", None).status, 429);
    std::thread::sleep(Duration::from_millis(220));
    assert_eq!(api("GET", &a, "", None).status, 200);
    // Back to the per-user quota.
    control(
        "POST",
        &format!("/accounts/{a}/limits"),
        Some(r#"{"rate_limit":null}"#),
    );
    assert_eq!(
        policy(&api("GET", &a, "", None)),
        "\"default\";q=1200;w=300"
    );
    for bad in [
        r#"{"rate_limit":{"limit":1}}"#,
        r#"{"rate_limit":{"limit":1,"window_ms":0}}"#,
        r#"{"rate_limit":5}"#,
        r#"{"available_limit":-1}"#,
        r#"{"create_limit":"3"}"#,
        r#"{"reset_creations":"yes"}"#,
    ] {
        let r = request(
            "POST",
            &format!("/__emulator/accounts/{a}/limits"),
            &[],
            Some(bad),
        );
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[test]
fn per_process_quota_with_a_millisecond_window() {
    let cfg = cf_gateway_emulator::Config {
        rate_limit: cf_gateway_emulator::RateLimit {
            limit: 2,
            window_ms: 300,
        },
        ..Default::default()
    };
    let h = cf_gateway_emulator::start(cfg).unwrap();
    let tok = bearer();
    let t = [("Authorization", tok.as_str())];
    let path = "/client/v4/accounts/abc123/gateway/certificates";
    let r = request_to(h.addr(), "GET", path, &t, None);
    assert_eq!((r.status, rt(&r)), (200, (1, 1)));
    assert_eq!(policy(&r), "\"default\";q=2;w=1");
    // An unknown route of the same user counts too.
    let r = request_to(h.addr(), "GET", "/client/v4/nope", &t, None);
    assert_eq!((r.status, rt(&r)), (404, (0, 1)));
    let r = request_to(h.addr(), "GET", path, &t, None);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    // Unrouted, unauthenticated: not counted, the headers of a fresh window.
    let r = request_to(h.addr(), "GET", "/client/v4/nope", &[], None);
    assert_eq!((r.status, rt(&r)), (404, (2, 1)));
    // A request the emulator cannot even parse still gets the headers.
    let (raw, _) = raw_exchange(h.addr(), b"garbage\r\n\r\n", Duration::from_secs(5));
    let r = parse_response(raw);
    assert_eq!(r.status, 400);
    assert_eq!(policy(&r), "\"default\";q=2;w=1");
    // The startup account of this process is the fleet.
    assert_eq!(h.certificates(&h.config().account).len(), 16);
    std::thread::sleep(Duration::from_millis(320));
    assert_eq!(request_to(h.addr(), "GET", path, &t, None).status, 200);
}

#[test]
fn an_account_can_answer_without_the_pacing_headers() {
    let a = fresh_account();
    setup(&a, "{}");
    let limits = control(
        "POST",
        &format!("/accounts/{a}/limits"),
        Some(r#"{"ratelimit_headers":false,"rate_limit":{"limit":2,"window_ms":60000}}"#),
    );
    assert_eq!(limits["ratelimit_headers"], false);
    let answers: Vec<Resp> = (0..3).map(|_| api("GET", &a, "", None)).collect();
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 429], "the limit still applies");
    for r in &answers {
        assert_eq!(r.header("ratelimit"), None);
        assert_eq!(r.header("ratelimit-policy"), None);
    }
    assert!(
        answers[2].header("retry-after").is_some(),
        "a 429 keeps Retry-After"
    );
}
