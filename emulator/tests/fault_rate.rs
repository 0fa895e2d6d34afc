//! Random, seeded fault injection (`fault_rate`), its counts in `/state`, the log's rate-limit
//! fields, and many concurrent connections (what the load test through the Worker relies on).

mod common;

use std::collections::BTreeMap;
use std::thread;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn state(a: &str) -> Value {
    control("GET", &format!("/accounts/{a}/state"), None)
}

fn log(a: &str) -> Vec<Value> {
    control("GET", &format!("/accounts/{a}/log"), None)["requests"]
        .as_array()
        .unwrap()
        .clone()
}

/// GET the list `n` times; (status or None for a reset, content-type, retry-after) each.
fn list_many(a: &str, n: usize) -> Vec<(Option<u16>, String, Option<String>)> {
    let tok = bearer();
    let req = build_request(
        "GET",
        &format!("/client/v4/accounts/{a}/gateway/certificates"),
        &[("Authorization", tok.as_str())],
        None,
    );
    (0..n)
        .map(|_| {
            let (raw, _) = raw_exchange(addr(), &req, Duration::from_secs(10));
            if raw.is_empty() {
                return (None, String::new(), None);
            }
            let r = parse_response(raw);
            (
                Some(r.status),
                r.header("content-type").unwrap_or("").to_string(),
                r.header("retry-after").map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn fault_rate_injects_each_kind_and_counts_them() {
    let a = fresh_account();
    setup(
        &a,
        r#"{"seed":"empty","fault_rate":{"rate":0.5,"seed":7,
            "kinds":["status503","html502","reset","status429"],"ops":["list"]}}"#,
    );
    let out = list_many(&a, 400);
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for (status, ct, ra) in &out {
        let k = match status {
            None => "reset",
            Some(200) => "ok",
            Some(503) => {
                assert!(ct.starts_with("application/json"));
                "status503"
            }
            Some(502) => {
                assert!(ct.starts_with("text/html"), "{ct}");
                "html502"
            }
            Some(429) => {
                assert_eq!(ra.as_deref(), Some("1"));
                "status429"
            }
            Some(s) => panic!("unexpected status {s}"),
        };
        *seen.entry(k).or_insert(0) += 1;
    }
    let st = state(&a);
    let injected = st["faults_injected"].as_object().unwrap();
    let total: u64 = injected.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total + seen["ok"], 400);
    for k in ["status503", "html502", "reset", "status429"] {
        assert_eq!(injected[k].as_u64().unwrap(), seen[k], "{k}");
        assert!(seen[k] > 20, "{k}: {seen:?}");
    }
    // 0.5 ± a wide margin
    assert!((140..=260).contains(&total), "{total}");
    assert_eq!(st["fault_rate"]["seed"], 7);
    // The log names the kind.
    let faults: u64 = log(&a).iter().filter(|e| e["fault"].is_string()).count() as u64;
    assert_eq!(faults, total);
}

#[test]
fn fault_rate_is_reproducible_and_scoped_to_ops() {
    let run = |seed: u64| {
        let a = fresh_account();
        setup(
            &a,
            &format!(
                r#"{{"seed":"empty","fault_rate":{{"rate":0.3,"seed":{seed},"kinds":["status503","html502"],"ops":["list"]}}}}"#
            ),
        );
        let statuses: Vec<Option<u16>> = list_many(&a, 60).into_iter().map(|r| r.0).collect();
        (a, statuses)
    };
    let (a1, s1) = run(42);
    let (_, s2) = run(42);
    let (_, s3) = run(43);
    assert_eq!(s1, s2, "same seed, same sequence");
    assert_ne!(s1, s3, "another seed, another sequence");
    // GET of one certificate is not in ops: never faulted.
    let c = add_cert(&a1, "{}");
    for _ in 0..30 {
        assert_eq!(
            api("GET", &a1, &format!("/{}", id_of(&c)), None).status,
            200
        );
    }
}

#[test]
fn reset_after_processes_then_drops_the_answer() {
    let a = fresh_account();
    setup(
        &a,
        r#"{"seed":"empty","fault_rate":{"rate":1,"kinds":["reset_after"],"ops":["delete"]}}"#,
    );
    let c = add_cert(&a, "{}");
    let id = id_of(&c);
    let tok = bearer();
    let req = build_request(
        "DELETE",
        &format!("/client/v4/accounts/{a}/gateway/certificates/{id}"),
        &[("Authorization", tok.as_str())],
        None,
    );
    let (raw, _) = raw_exchange(addr(), &req, Duration::from_secs(5));
    assert!(raw.is_empty(), "no answer");
    let st = state(&a);
    assert_eq!(st["deleted"][&id], 1, "but it was deleted");
    assert_eq!(st["faults_injected"]["reset_after"], 1);
    // The retry finds nothing: 404, and the count stays at one.
    control("POST", &format!("/accounts/{a}/fault-rate"), Some("null"));
    assert_eq!(api("DELETE", &a, &format!("/{id}"), None).status, 404);
    assert_eq!(state(&a)["deleted"][&id], 1);
}

#[test]
fn fault_rate_control_route_and_validation() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty"}"#);
    let path = format!("/accounts/{a}/fault-rate");
    assert_eq!(control("GET", &path, None)["fault_rate"], Value::Null);
    let set = control("POST", &path, Some(r#"{"rate":0.05,"seed":1}"#));
    assert_eq!(
        set["fault_rate"]["kinds"],
        serde_json::json!(["status503", "html502", "reset"])
    );
    assert_eq!(
        set["fault_rate"]["ops"].as_array().unwrap().len(),
        9,
        "every operation, the configuration's too"
    );
    assert_eq!(
        control("POST", &path, Some("null"))["fault_rate"],
        Value::Null
    );
    for bad in [
        r#"{"rate":2}"#,
        r#"{"rate":-0.1}"#,
        r#"{"kinds":["status503"]}"#,
        r#"{"rate":0.1,"kinds":["nope"]}"#,
        r#"{"rate":0.1,"kinds":[]}"#,
        r#"{"rate":0.1,"ops":["purge"]}"#,
        r#"{"rate":0.1,"seed":-1}"#,
        r#"[1]"#,
    ] {
        let r = request("POST", &format!("/__emulator{path}"), &[], Some(bad));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        let r = request(
            "POST",
            &format!("/__emulator/accounts/{a}"),
            &[],
            Some(&format!(r#"{{"fault_rate":{bad}}}"#)),
        );
        assert_eq!(r.status, 400, "create with {bad}: {}", r.text());
    }
    assert_eq!(
        request("DELETE", &format!("/__emulator{path}"), &[], None).status,
        405
    );
}

#[test]
fn log_records_rate_limiter_decisions() {
    let a = rate_limited_account(5, 60000);
    for _ in 0..8 {
        api("GET", &a, "", None);
    }
    let entries = log(&a);
    assert_eq!(entries.len(), 8);
    let allowed: Vec<&Value> = entries.iter().filter(|e| e["rate"] == "allowed").collect();
    let limited: Vec<&Value> = entries.iter().filter(|e| e["rate"] == "limited").collect();
    assert_eq!((allowed.len(), limited.len()), (5, 3));
    let start = allowed[0]["window_start_us"].as_u64().unwrap();
    for e in &entries {
        assert_eq!(e["window_start_us"].as_u64(), Some(start));
        assert!(e["t_us"].as_u64().unwrap() <= e["rate_at_us"].as_u64().unwrap());
    }
    for e in &limited {
        assert_eq!(e["status"], 429);
        assert!(e["retry_after_s"].as_u64().unwrap() >= 1);
    }
    assert_eq!(allowed[0]["retry_after_s"], Value::Null);
}

#[test]
fn many_concurrent_connections() {
    let a = fresh_account();
    setup(&a, r#"{"seed":"empty","deactivate_ms":50}"#);
    let ids: Vec<String> = control(
        "POST",
        &format!("/accounts/{a}/certificates"),
        Some(r#"{"count":200,"binding_status":"available"}"#),
    )["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    let handles: Vec<_> = ids
        .chunks(2)
        .map(|chunk| {
            let (a, chunk) = (a.clone(), chunk.to_vec());
            thread::spawn(move || {
                for id in chunk {
                    assert_eq!(
                        api("POST", &a, &format!("/{id}/deactivate"), Some("{}")).status,
                        201
                    );
                    thread::sleep(Duration::from_millis(80));
                    assert_eq!(api("DELETE", &a, &format!("/{id}"), None).status, 200);
                }
            })
        })
        .collect();
    assert_eq!(handles.len(), 100);
    for h in handles {
        h.join().unwrap();
    }
    let st = state(&a);
    assert!(st["certificates"].as_array().unwrap().is_empty());
    let deleted = st["deleted"].as_object().unwrap();
    assert_eq!(deleted.len(), 200);
    assert!(deleted.values().all(|v| v == 1));
}

/// The `fault` of each logged request, grouped by path, in arrival order.
fn faults_by_path(a: &str) -> BTreeMap<String, Vec<Value>> {
    let mut entries = log(a);
    entries.sort_by_key(|e| e["t_us"].as_u64());
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in entries {
        let path = e["path"].as_str().unwrap().to_string();
        let rel = path[path.find("/gateway/").unwrap()..].to_string();
        out.entry(rel).or_default().push(e["fault"].clone());
    }
    out
}

#[test]
fn fault_rate_decisions_do_not_depend_on_the_interleaving() {
    let ids: Vec<String> = (0..8)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let account = || {
        let a = fresh_account();
        setup(
            &a,
            r#"{"seed":"empty","fault_rate":{"rate":0.3,"seed":9,
                "kinds":["status503","html502","status429"],"ops":["get"]}}"#,
        );
        for id in &ids {
            add_cert(&a, &format!(r#"{{"id":"{id}"}}"#));
        }
        a
    };
    // One account: each certificate's 10 GETs one after another; the other: all at once.
    let serial = account();
    for id in &ids {
        for _ in 0..10 {
            api("GET", &serial, &format!("/{id}"), None);
        }
    }
    let concurrent = account();
    let handles: Vec<_> = ids
        .iter()
        .map(|id| {
            let (a, id) = (concurrent.clone(), id.clone());
            thread::spawn(move || {
                for _ in 0..10 {
                    api("GET", &a, &format!("/{id}"), None);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let s = faults_by_path(&serial);
    assert_eq!(s, faults_by_path(&concurrent));
    assert!(
        s.values().flatten().filter(|f| f.is_string()).count() >= 5,
        "{s:?}"
    );
}

#[test]
fn requests_the_limiter_turns_away_do_not_shift_fault_decisions() {
    let id = "00000000-0000-4000-8000-00000000abcd";
    let fr = r#""fault_rate":{"rate":0.5,"seed":5,"kinds":["status503"],"ops":["get"]}"#;
    let free = fresh_account();
    setup(&free, &format!(r#"{{"seed":"empty",{fr}}}"#));
    let limited = fresh_account();
    setup(
        &limited,
        &format!(r#"{{"seed":"empty","rate_limit":{{"limit":3,"window_ms":60000}},{fr}}}"#),
    );
    for a in [&free, &limited] {
        add_cert(a, &format!(r#"{{"id":"{id}"}}"#));
        for _ in 0..16 {
            api("GET", a, &format!("/{id}"), None);
        }
    }
    let expected = &faults_by_path(&free)[&format!("/gateway/certificates/{id}")];
    let entries = log(&limited);
    let decided: Vec<Value> = entries
        .iter()
        .filter(|e| e["rate"] != "limited")
        .map(|e| e["fault"].clone())
        .collect();
    assert!(
        entries.iter().any(|e| e["rate"] == "limited"),
        "the limiter acted"
    );
    // Every turned-away request got no fault, and the others got the free account's decisions,
    // in order: the first no-fault request past the limit is decided again and again.
    assert!(entries
        .iter()
        .filter(|e| e["rate"] == "limited")
        .all(|e| e["fault"].is_null()));
    assert_eq!(&decided[..], &expected[..decided.len()]);
    let stalled = decided.len();
    assert!(expected[stalled].is_null(), "{expected:?} {decided:?}");
}
