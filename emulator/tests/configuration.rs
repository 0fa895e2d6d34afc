//! The Gateway configuration (`GET/PATCH/PUT .../gateway/configuration`): which certificate
//! TLS inspection uses, kept consistent with the certificates' `in_use`.

mod common;

use common::*;
use serde_json::{json, Value};

fn code(r: &Resp) -> i64 {
    r.json()["errors"][0]["code"].as_i64().unwrap_or(-1)
}

fn cert(a: &str, id: &str) -> Value {
    let r = api("GET", a, &format!("/{id}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["result"].clone()
}

/// Ids of the certificates the list reports in use.
fn in_use_ids(a: &str) -> Vec<String> {
    api("GET", a, "", None).json()["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["in_use"] == true)
        .map(id_of)
        .collect()
}

fn settings(a: &str) -> Value {
    let r = config_api("GET", a, None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["result"]["settings"].clone()
}

#[test]
fn get_shape_of_a_fresh_account() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let r = config_api("GET", &a, None);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["success"], true);
    assert_eq!(v["errors"], json!([]));
    assert_eq!(v["messages"], json!([]));
    let res = &v["result"];
    for k in ["created_at", "updated_at"] {
        assert!(res[k].as_str().unwrap().ends_with('Z'), "{k}");
    }
    assert_eq!(res["settings"]["tls_decrypt"], json!({"enabled": false}));
    assert!(
        res["settings"].get("certificate").is_none(),
        "no certificate block: the root CA"
    );
    assert!(r.header("ratelimit").is_some() && r.header("ratelimit-policy").is_some());
    let log = control("GET", &format!("/accounts/{a}/log"), None);
    assert_eq!(log["requests"][0]["op"], "get_configuration");
    assert_eq!(log["requests"][0]["rate"], "allowed");
}

#[test]
fn seeds_name_their_certificate_in_use() {
    for seed in ["demo", "fleet"] {
        let a = fresh_account();
        let roles = setup(&a, &format!(r#"{{"seed":"{seed}"}}"#));
        let s = settings(&a);
        assert_eq!(s["certificate"]["id"], roles["in_use"]["id"], "{seed}");
        assert_eq!(s["tls_decrypt"]["enabled"], true);
        assert_eq!(in_use_ids(&a), vec![id_of(&roles["in_use"])]);
    }
}

#[test]
fn patch_turns_a_certificate_on_and_the_previous_one_off() {
    let a = fresh_account();
    let seed = setup(&a, r#"{"activate_ms":100000,"deactivate_ms":100000}"#);
    let old = id_of(&seed["in_use"]);
    let new = id_of(&seed["available"]);
    let before = config_api("GET", &a, None).json()["result"].clone();
    std::thread::sleep(std::time::Duration::from_millis(2));

    let r = config_api("PATCH", &a, Some(&use_cert(&new)));
    assert_eq!(r.status, 200, "{}", r.text());
    let res = r.json()["result"].clone();
    assert_eq!(res["settings"]["certificate"], json!({"id": new}));
    assert_eq!(res["created_at"], before["created_at"]);
    assert_ne!(res["updated_at"], before["updated_at"]);
    // Only the named block changed.
    let mut expect = before["settings"].clone();
    expect["certificate"] = json!({"id": new});
    assert_eq!(res["settings"], expect);

    assert_eq!(cert(&a, &new)["in_use"], true);
    let o = cert(&a, &old);
    assert_eq!(o["in_use"], false);
    assert_eq!(
        o["binding_status"], "available",
        "the old one stays available"
    );
    assert_eq!(in_use_ids(&a), vec![new.clone()]);
    // The old one can now be deactivated; the new one cannot.
    assert_eq!(
        api("POST", &a, &format!("/{old}/deactivate"), Some("{}")).status,
        201
    );
    assert_eq!(
        api("POST", &a, &format!("/{new}/deactivate"), Some("{}")).status,
        400
    );
    // Idempotent, and upper-case ids are the same certificate.
    let r = config_api("PATCH", &a, Some(&use_cert(&new.to_uppercase())));
    assert_eq!(r.status, 200);
    assert_eq!(in_use_ids(&a), vec![new.clone()]);

    // The control API's view agrees.
    let st = control("GET", &format!("/accounts/{a}/state"), None);
    assert_eq!(
        st["configuration"]["settings"]["certificate"]["id"],
        new.to_uppercase()
    );
    let log = control("GET", &format!("/accounts/{a}/log"), None);
    let ops: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops[..2], ["get_configuration", "patch_configuration"]);
}

#[test]
fn nil_uuid_means_the_root_ca() {
    let a = fresh_account();
    setup(&a, "{}");
    let r = config_api("PATCH", &a, Some(&use_cert(NIL_UUID)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["result"]["settings"]["certificate"]["id"],
        NIL_UUID
    );
    assert_eq!(in_use_ids(&a), Vec::<String>::new());
}

#[test]
fn patch_replaces_each_named_block_wholly_and_keeps_unknown_blocks() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let before = settings(&a);
    assert_eq!(before["block_page"]["name"], "Cloudflare");
    let r = config_api(
        "PATCH",
        &a,
        Some(r#"{"settings":{"block_page":{"enabled":true},"future_block":{"x":[1,2]}}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let after = settings(&a);
    assert_eq!(after["block_page"], json!({"enabled": true}));
    assert_eq!(after["future_block"], json!({"x": [1, 2]}));
    for (k, v) in before.as_object().unwrap() {
        if k != "block_page" {
            assert_eq!(&after[k], v, "{k} untouched");
        }
    }
    // An empty PATCH changes nothing.
    for body in ["{}", r#"{"settings":{}}"#] {
        let r = config_api("PATCH", &a, Some(body));
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["result"]["settings"], after);
    }
}

#[test]
fn refusals_change_nothing() {
    let a = fresh_account();
    let seed = setup(&a, r#"{"activate_ms":100000,"deactivate_ms":100000}"#);
    let before = config_api("GET", &a, None).json()["result"].clone();
    let in_use = vec![id_of(&seed["in_use"])];
    let unknown = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415";
    let cases: Vec<(String, u16, i64)> = vec![
        (use_cert(&id_of(&seed["inactive"])), 400, 1107),
        (use_cert(&id_of(&seed["pending_deployment"])), 400, 1107),
        (use_cert(&id_of(&seed["pending_deletion"])), 400, 1107),
        (use_cert(unknown), 400, 1101),
        (use_cert("not-a-uuid"), 400, 1108),
        (r#"{"settings":{"certificate":{}}}"#.into(), 400, 1108),
        (r#"{"settings":{"certificate":{"id":5}}}"#.into(), 400, 1108),
        (r#"{"settings":{"certificate":null}}"#.into(), 400, 1108),
        (r#"{"settings":{"tls_decrypt":true}}"#.into(), 400, 1108),
        (r#"{"settings":[1]}"#.into(), 400, 1108),
        (
            // One bad block spoils the whole body: the good one is not applied either.
            format!(
                r#"{{"settings":{{"fips":{{"tls":true}},"certificate":{{"id":"{unknown}"}}}}}}"#
            ),
            400,
            1101,
        ),
        ("{nope".into(), 400, 1002),
        ("[]".into(), 400, 1002),
    ];
    for (body, status, want) in &cases {
        for method in ["PATCH", "PUT"] {
            let r = config_api(method, &a, Some(body));
            assert_eq!(r.status, *status, "{method} {body}: {}", r.text());
            assert_eq!(code(&r), *want, "{method} {body}");
            assert_eq!(r.json()["success"], false);
            assert_eq!(r.json()["result"], Value::Null);
            assert!(!r.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .is_empty());
        }
    }
    let r = config_api("PATCH", &a, Some(&use_cert(&id_of(&seed["inactive"]))));
    let msg = r.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("inactive") && msg.contains("available"),
        "{msg}"
    );
    assert_eq!(config_api("GET", &a, None).json()["result"], before);
    assert_eq!(in_use_ids(&a), in_use);
}

#[test]
fn tls_decryption_needs_a_certificate_block() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let on = r#"{"settings":{"tls_decrypt":{"enabled":true}}}"#;
    let r = config_api("PATCH", &a, Some(on));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), 2211);
    // Together with a certificate (the root CA here) it is accepted.
    let both = format!(
        r#"{{"settings":{{"tls_decrypt":{{"enabled":true}},"certificate":{{"id":"{NIL_UUID}"}}}}}}"#
    );
    assert_eq!(config_api("PATCH", &a, Some(&both)).status, 200);
    assert_eq!(config_api("PATCH", &a, Some(on)).status, 200);
    assert_eq!(settings(&a)["tls_decrypt"]["enabled"], true);
}

#[test]
fn put_replaces_the_whole_configuration() {
    let a = fresh_account();
    let seed = setup(&a, "{}");
    let r = config_api(
        "PUT",
        &a,
        Some(r#"{"settings":{"tls_decrypt":{"enabled":false}}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["result"]["settings"],
        json!({"tls_decrypt": {"enabled": false}})
    );
    // No certificate block: nothing of the account is in use any more (the root CA is).
    assert_eq!(in_use_ids(&a), Vec::<String>::new());
    assert_eq!(cert(&a, &id_of(&seed["in_use"]))["in_use"], false);
    // PUT with a certificate block turns that one on.
    let avail = id_of(&seed["available"]);
    let r = config_api("PUT", &a, Some(&use_cert(&avail)));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["result"]["settings"],
        json!({"certificate": {"id": avail}})
    );
    assert_eq!(in_use_ids(&a), vec![avail]);
}

#[test]
fn auth_methods_faults_and_headers() {
    let a = fresh_account();
    let seed = setup(&a, r#"{"rate_limit":{"limit":1000,"window_ms":60000}}"#);
    let path = format!("/client/v4/accounts/{a}/gateway/configuration");
    let avail = use_cert(&id_of(&seed["available"]));
    let ro = format!("Bearer {RO_TOKEN}");
    let r = request("GET", &path, &[("Authorization", &ro)], None);
    assert_eq!(r.status, 200);
    let r = request("PATCH", &path, &[("Authorization", &ro)], Some(&avail));
    assert_eq!(r.status, 403);
    let r = request(
        "PATCH",
        &path,
        &[("X-Auth-Email", EMAIL), ("X-Auth-Key", KEY)],
        Some(&avail),
    );
    assert_eq!(r.status, 200);
    let r = request("PATCH", &path, &[], Some(&avail));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), 10001);
    let r = request(
        "GET",
        &path,
        &[("Authorization", "Bearer wrong-token")],
        None,
    );
    assert_eq!(r.status, 401);
    for m in ["POST", "DELETE"] {
        let r = config_api(m, &a, Some("{}"));
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(code(&r), 10405);
    }
    let r = request(
        "GET",
        &format!("{path}/x"),
        &[("Authorization", &bearer())],
        None,
    );
    assert_eq!(r.status, 404);
    // Queued faults can target the configuration operations.
    add_faults(
        &a,
        r#"[{"op":"patch_configuration","kind":"status","status":503},
            {"op":"get_configuration","kind":"html"}]"#,
    );
    let before = in_use_ids(&a);
    let r = config_api("PATCH", &a, Some(&use_cert(&id_of(&seed["in_use"]))));
    assert_eq!(r.status, 503);
    assert_eq!(in_use_ids(&a), before, "a 503 fault changes nothing");
    assert_eq!(config_api("GET", &a, None).status, 502);
    // ... and the random injection too.
    control(
        "POST",
        &format!("/accounts/{a}/fault-rate"),
        Some(r#"{"rate":1,"kinds":["status503"],"ops":["get_configuration"]}"#),
    );
    assert_eq!(config_api("GET", &a, None).status, 503);
    assert_eq!(api("GET", &a, "", None).status, 200);
    let st = control("GET", &format!("/accounts/{a}/state"), None);
    assert_eq!(st["faults_injected"]["status503"], 1);
    let log = control("GET", &format!("/accounts/{a}/log"), None);
    let entries: Vec<(String, String, i64)> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["op"].as_str().unwrap().to_string(),
                e["auth"].as_str().unwrap().to_string(),
                e["status"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let want: Vec<(String, String, i64)> = [
        ("get_configuration", "token", 200),
        ("patch_configuration", "token", 403),
        ("patch_configuration", "key", 200),
        ("patch_configuration", "none", 400),
        ("get_configuration", "invalid", 401),
    ]
    .iter()
    .map(|(o, a, s)| (o.to_string(), a.to_string(), *s))
    .collect();
    assert_eq!(entries[..5], want[..]);
    assert!(!log.to_string().contains(TOKEN));
}

#[test]
fn control_api_in_use_follows_into_the_configuration() {
    let a = fresh_account();
    let seed = setup(&a, "{}");
    let used = id_of(&seed["in_use"]);
    let avail = id_of(&seed["available"]);
    // Unset the one in use: the configuration falls back to the root CA.
    control(
        "PATCH",
        &format!("/accounts/{a}/certificates/{used}"),
        Some(r#"{"in_use":false}"#),
    );
    assert_eq!(settings(&a)["certificate"]["id"], NIL_UUID);
    assert_eq!(in_use_ids(&a), Vec::<String>::new());
    // Set another: the configuration names it.
    control(
        "PATCH",
        &format!("/accounts/{a}/certificates/{avail}"),
        Some(r#"{"in_use":true}"#),
    );
    assert_eq!(settings(&a)["certificate"]["id"], avail.as_str());
    // Certificates added in use: the configuration names one of them. The control API may
    // force several in use (the API never does); a PATCH makes it exactly one again.
    let added = control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(r#"{"count":2,"binding_status":"available","in_use":true}"#),
    );
    let s = settings(&a);
    assert_eq!(s["certificate"]["id"], avail.as_str(), "still in use: kept");
    assert_eq!(in_use_ids(&a).len(), 3);
    let last = id_of(&added["certificates"][1]);
    assert_eq!(config_api("PATCH", &a, Some(&use_cert(&last))).status, 200);
    assert_eq!(in_use_ids(&a), vec![last]);
    // A fresh empty account that gets a certificate in use through the control API.
    let b = fresh_account();
    setup(&b, r#"{"seed":"empty"}"#);
    let c = add_cert(&b, r#"{"binding_status":"available","in_use":true}"#);
    assert_eq!(settings(&b)["certificate"]["id"], c["id"]);
}
