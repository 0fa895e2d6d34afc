//! Property tests of everything that reads outside data (issue 5, items 1 and 6): the envelope
//! reader and its HTML excerpt, the header parsers, the validators and redaction. Nothing
//! panics, every output is bounded, and the answers are the exact ones.
//!
//! Native only (`cargo test`). The long-running counterpart is `scripts/fuzz.sh` (cargo-fuzz).
#![cfg(not(target_arch = "wasm32"))]

use cf_gateway_certs::client::{Config, RawOptions, ResponseHeaders};
use cf_gateway_certs::endpoint::Shape;
use cf_gateway_certs::envelope::{
    api_errors, api_errors_redacted, describe, interpret, interpret_redacted,
};
use cf_gateway_certs::error::{ApiMessage, Error, ErrorKind};
use cf_gateway_certs::ratelimit::{Budget, Pacer};
use cf_gateway_certs::retire;
use cf_gateway_certs::retry::{backoff_ms, server_wait_ms, status_is_retryable};
use cf_gateway_certs::validate::{
    base_url, validity_days, whole_number, AccountId, Auth, CertificateId,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

// The `Json` view over serde_json (`V`) and the HTTP-date formatter are shared with the fuzz
// targets: one copy, in fuzz/src/lib.rs (std + serde_json only, so it compiles here too).
#[allow(dead_code)] // the fuzz targets use more of it than these tests do
#[path = "../fuzz/src/lib.rs"]
mod fuzz_support;
use fuzz_support::{http_dates, V};

/// `cases` per property, times `PROPTEST_SCALE` (default 1: the whole file runs in seconds;
/// `PROPTEST_SCALE=50 cargo test --release --test properties` for a long run).
fn config(cases: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("PROPTEST_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    ProptestConfig {
        cases: ((f64::from(cases) * scale) as u32).max(1),
        // Failures are turned into named regression tests below, not files in the tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope

/// `MAX_ERRORS` (20) API errors of at most `MAX_TEXT` (1000) bytes + `…` each, with their
/// `; [code] ` (≤ 25 bytes), `HTTP nnn: `, and a detail of at most 40 + 161 chars × 4 bytes.
const MAX_MESSAGE: usize = 20 * (1003 + 25) + 10 + 40 + 161 * 4;
/// The excerpt of a non-JSON body: 160 characters and a `…`.
const MAX_EXCERPT_CHARS: usize = 161;

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![Just(Shape::One), Just(Shape::Many)]
}

/// Text with everything serde lets through: control characters, NUL, lone-surrogate escapes
/// turned into U+FFFD by `from_utf8_lossy`, bidi controls, astral characters.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f<>&\"\\\\\u{202e}\u{200b}\u{fffd}a-z ]{0,40}",
        (900usize..1100).prop_map(|n| "x".repeat(n)),
        (200usize..400).prop_map(|n| "é✓\u{1f600}".repeat(n)),
    ]
}

/// Short nasty text, for JSON trees (the long texts go where a length limit applies).
fn short_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[\\x00-\\x1f\\x7f<>&\"\\\\\u{202e}\u{200b}\u{fffd}a-z ]{0,12}",
        Just("\u{1f600}é".to_string()),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(1e308)),
        Just(json!(-1e308)),
        Just(json!(f64::MIN_POSITIVE)),
        short_string().prop_map(Value::from),
    ]
}

fn json_tree() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(8, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((short_string(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn error_item() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (json_leaf(), prop_oneof![3 => short_string(), 1 => nasty_string()], prop::option::of(json_leaf()), prop::option::of(json_leaf()))
            .prop_map(|(code, message, doc, pointer)| {
                let mut o = json!({"code": code, "message": message});
                if let Some(d) = doc { o["documentation_url"] = d; }
                if let Some(p) = pointer { o["source"] = json!({"pointer": p}); }
                o
            }),
        1 => json_tree(),
    ]
}

/// Values that look like envelopes, with every member sometimes missing or of the wrong type.
fn envelope() -> impl Strategy<Value = Value> {
    let success = prop_oneof![
        Just(Some(json!(true))),
        Just(Some(json!(false))),
        Just(Some(json!("true"))),
        Just(Some(json!(1))),
        Just(Some(Value::Null)),
        Just(None),
    ];
    let errors = prop_oneof![
        prop::collection::vec(error_item(), 0..24).prop_map(|v| Some(Value::Array(v))),
        json_leaf().prop_map(Some),
        Just(None),
    ];
    let result = prop_oneof![
        3 => json_tree().prop_map(|v| Some(json!({"id": v, "binding_status": "inactive", "x": v}))),
        2 => prop::collection::vec(json_tree(), 0..6).prop_map(|v| Some(Value::Array(v))),
        1 => Just(Some(Value::Null)),
        1 => Just(None),
        1 => json_leaf().prop_map(Some),
    ];
    (success, errors, result, json_tree()).prop_map(|(s, e, r, extra)| {
        let mut o = Map::new();
        if let Some(s) = s {
            o.insert("success".into(), s);
        }
        if let Some(e) = e {
            o.insert("errors".into(), e);
        }
        if let Some(r) = r {
            o.insert("result".into(), r);
        }
        o.insert("messages".into(), extra);
        Value::Object(o)
    })
}

/// Runs `interpret` as the client does (parse, then read) and checks every property.
fn check_interpret(status: u16, body: &str, shape: Shape) -> Result<(), TestCaseError> {
    let parsed: Option<V> = serde_json::from_str(body).ok().map(V);
    if let Some(v) = &parsed {
        prop_assert!(api_errors(v).len() <= 20);
        let _ = retire::next(v);
        prop_assert!(describe(v).chars().count() <= 12 + 65 + 4 + 65);
    }
    let success = parsed
        .as_ref()
        .and_then(|v| v.0.get("success"))
        .and_then(Value::as_bool);
    let result = parsed.as_ref().and_then(|v| v.0.get("result")).cloned();
    let is_2xx = (200..300).contains(&status);
    match interpret(status, body, parsed, shape) {
        Ok(r) => {
            prop_assert!(is_2xx, "Ok for status {}", status);
            prop_assert_eq!(success, Some(true));
            prop_assert_eq!(Some(&r.0), result.as_ref());
            match shape {
                Shape::One => prop_assert!(r.0.is_object()),
                Shape::Many => prop_assert!(r.0.is_array()),
            }
        }
        Err(e) => {
            let kind = if is_2xx {
                ErrorKind::Api
            } else {
                ErrorKind::for_status(status)
            };
            prop_assert_eq!(e.kind, kind);
            prop_assert_eq!(e.status, Some(status));
            prop_assert!(e.errors.len() <= 20);
            for m in &e.errors {
                prop_assert!(m.message.len() <= 1003);
                prop_assert!(m.documentation_url.as_ref().is_none_or(|u| u.len() <= 1003));
                prop_assert!(m.source_pointer.as_ref().is_none_or(|p| p.len() <= 1003));
            }
            let message = e.message();
            prop_assert!(
                message.len() <= MAX_MESSAGE,
                "message of {} bytes",
                message.len()
            );
            let head = format!("HTTP {status}");
            prop_assert!(message.starts_with(&head), "{}", message);
            if let Some(rest) = e
                .detail
                .strip_prefix("non-JSON response")
                .or_else(|| e.detail.strip_prefix("the response is not a JSON envelope"))
            {
                let excerpt = rest.strip_prefix(": ").unwrap_or(rest);
                check_excerpt(excerpt)?;
            }
            // A success envelope with the right result is the only 2xx that fails nothing.
            if is_2xx && success == Some(true) {
                let misfit = result.is_none_or(|r| match shape {
                    Shape::One => !r.is_object(),
                    Shape::Many => !r.is_array(),
                });
                prop_assert!(misfit, "a fitting result was refused");
            }
        }
    }
    Ok(())
}

fn check_excerpt(excerpt: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        excerpt.chars().count() <= MAX_EXCERPT_CHARS,
        "excerpt of {} chars",
        excerpt.chars().count()
    );
    prop_assert!(!excerpt.chars().any(char::is_control), "{:?}", excerpt);
    prop_assert!(!excerpt.contains("  "), "white space folded: {:?}", excerpt);
    prop_assert!(!excerpt.contains('<'), "tags removed: {:?}", excerpt);
    Ok(())
}

proptest! {
    #![proptest_config(config(250))]

    #[test]
    fn interpret_arbitrary_bytes(status in 100u16..=599, bytes in prop::collection::vec(any::<u8>(), 0..2000), shape in shape()) {
        check_interpret(status, &String::from_utf8_lossy(&bytes), shape)?;
    }

    #[test]
    fn interpret_arbitrary_json(status in 100u16..=599, v in json_tree(), shape in shape()) {
        check_interpret(status, &v.to_string(), shape)?;
    }

    #[test]
    fn interpret_envelopes(status in prop_oneof![200u16..=299, 100u16..=599], v in envelope(), shape in shape()) {
        check_interpret(status, &v.to_string(), shape)?;
    }

    #[test]
    fn interpret_truncated_envelopes(status in 100u16..=599, v in envelope(), cut in any::<prop::sample::Index>(), shape in shape()) {
        let body = v.to_string();
        let mut at = cut.index(body.len() + 1);
        while !body.is_char_boundary(at) { at -= 1; }
        check_interpret(status, &body[..at], shape)?;
    }

    #[test]
    fn interpret_html(status in 100u16..=599, parts in prop::collection::vec(html_part(), 0..80), shape in shape()) {
        check_interpret(status, &parts.concat(), shape)?;
    }
}

fn html_part() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<!DOCTYPE html>".to_string()),
        Just("<html><head><title>".to_string()),
        Just("</title>".to_string()),
        Just("<STYLE type=x>".to_string()),
        Just("</style >".to_string()),
        Just("<script>".to_string()),
        Just("</SCRIPT>".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("<aé✓>".to_string()),
        Just("<aaaaaaé>".to_string()),
        Just("\r\n\t \u{0}\u{1b}[31m\u{85}\u{2028}".to_string()),
        "[a-zA-Z0-9 .,;:!?]{0,30}",
        nasty_string(),
    ]
}

proptest! {
    #![proptest_config(config(24))]

    /// Megabyte bodies: bounded output, and linear time (a quadratic scan of 1 MB takes minutes).
    #[test]
    fn interpret_huge_bodies(status in 100u16..=599, units in prop::collection::vec(html_part(), 1..4), tail in html_part(), shape in shape()) {
        let unit = units.concat();
        let mut body = unit.repeat((1 << 20) / unit.len().max(1));
        body.push_str(&tail);
        let start = Instant::now();
        check_interpret(status, &body, shape)?;
        prop_assert!(start.elapsed() < Duration::from_secs(2), "{:?} for {} bytes", start.elapsed(), body.len());
    }
}

#[test]
fn deeply_nested_and_huge_json() {
    // Deeper than serde_json's limit: not JSON, read as text.
    for status in [200, 404, 502] {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        check_interpret(status, &deep, Shape::One).unwrap();
        let deep_obj = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
        check_interpret(status, &deep_obj, Shape::Many).unwrap();
    }
    // Just inside the limit, in `result` and in `errors`.
    let nested = format!("{}{}", "[".repeat(120), "]".repeat(120));
    let body = format!(r#"{{"success":true,"errors":[{nested}],"result":{{"id":{nested}}}}}"#);
    check_interpret(200, &body, Shape::One).unwrap();
    // Huge arrays: 20 000 errors, a 1 MB message, a 20 000-item result.
    let errors: Vec<Value> = (0..20_000)
        .map(|i| json!({"code": i, "message": "m"}))
        .collect();
    let body = json!({"success": false, "errors": errors, "result": null}).to_string();
    for status in [200, 400, 503] {
        check_interpret(status, &body, Shape::One).unwrap();
    }
    let body = json!({"success": false, "errors": [{"code": 1, "message": "é".repeat(1 << 19)}]})
        .to_string();
    check_interpret(400, &body, Shape::One).unwrap();
    let items = vec![json!({}); 20_000];
    let body = json!({"success": true, "result": items}).to_string();
    check_interpret(200, &body, Shape::Many).unwrap();
    // A lone surrogate escape is not JSON to serde: the body is read as text.
    check_interpret(
        200,
        r#"{"success":true,"result":{"id":"\ud800"}}"#,
        Shape::One,
    )
    .unwrap();
}

/// Regression: redaction moved the rest of the text once per occurrence (`replace_range`), so
/// a 1 MB body full of the caller's token, redacted before its excerpt is cut, was quadratic.
#[test]
fn redaction_is_linear_on_a_body_full_of_the_secret() {
    let token = "cfut_0123456789abcdefghijklmnopqrstuv";
    for body in [
        token.repeat((1 << 20) / token.len()),
        format!("{token}x").repeat((1 << 20) / (token.len() + 1)),
        format!(
            r#"{{"success":false,"errors":[{{"code":1,"message":"{}"}}]}}"#,
            token.repeat(25_000)
        ),
    ] {
        let start = Instant::now();
        let parsed: Option<V> = serde_json::from_str(&body).ok().map(V);
        let e = interpret_redacted(502, &body, parsed, Shape::One, &[token]).unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(!e.message().contains(&token[..8]), "{}", e.message());
        let mut e: E = Error::new(ErrorKind::Api, body.clone());
        let start = Instant::now();
        e.redact(&[token]);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(!e.detail.contains(token));
    }
}

/// Regression (found by these tests): `text::excerpt` lowercased the whole rest of the body
/// for every `<` whose 8th byte split a character, and for every `<style>`/`<script>` block, so
/// a 1 MB error page took minutes (quadratic). Each must now take well under a second.
#[test]
fn excerpt_is_linear_on_hostile_html() {
    for unit in [
        "<aaaaaaé>",
        "<style></style>",
        "<script></script>x",
        "<STYLE>a</StYlE>",
    ] {
        let body = unit.repeat((1 << 20) / unit.len());
        let start = Instant::now();
        check_interpret(502, &body, Shape::One).unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{unit}: {:?}",
            start.elapsed()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Headers

fn headers(
    ms: Option<String>,
    secs: Option<String>,
    rl: Option<String>,
    retry: Option<String>,
) -> ResponseHeaders {
    ResponseHeaders {
        retry_after_ms: ms,
        retry_after: secs,
        ratelimit: rl,
        ratelimit_policy: None,
        cf_ray: None,
        should_retry: retry,
    }
}

fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9. \t]{0,30}",
        "[0-9]{1,40}(\\.[0-9]{0,12})?",
        "\"[a-z]*\";r=[0-9x-]{0,22};t=[0-9x-]{0,22}(,.*)?",
        "[A-Za-z]{0,9},? [0-9]{0,3}[ -][A-Za-z]{0,4}[ -][0-9]{0,5} [0-9:]{0,10} (GMT)?",
    ]
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn header_parsers_never_panic(
        status in 100u16..=599,
        ms in prop::option::of(header_text()),
        secs in prop::option::of(header_text()),
        rl in prop::option::of(header_text()),
        retry in prop::option::of(header_text()),
        now in prop_oneof![any::<f64>(), 0.0..4e12],
    ) {
        let h = headers(ms, secs, rl, retry);
        let _ = server_wait_ms(status, &h, now);
        let _ = status_is_retryable(status, &h);
    }

    #[test]
    fn the_pacer_never_panics_on_any_header(
        answers in prop::collection::vec((100u16..=599, prop::option::of(header_text()), prop::option::of(header_text()), prop::option::of(0u64..400_000)), 0..40),
        start in prop_oneof![any::<f64>(), 0.0..4e12],
    ) {
        let mut p = Pacer::default();
        let mut now = start;
        for (status, rl, policy, wait) in answers {
            let _ = p.delay_ms(now);
            p.on_send();
            if let Some(r) = rl.as_deref() {
                let _ = Budget::from_headers(r, policy.as_deref());
            }
            let mut h = headers(None, None, rl, None);
            h.ratelimit_policy = policy;
            p.on_answer(now, status, &h, wait);
            now += 7.0;
        }
    }

    /// Against a server with a truthful fixed window (`t` rounded up), a client that sends
    /// whenever the pacer lets it, several requests in flight, never goes over the quota.
    #[test]
    fn the_pacer_never_goes_over_a_truthful_budget(
        quota in 1u64..40,
        window_s in 1u64..10,
        in_flight in 1usize..12,
        latency in 1u64..400,
        requests in 1u32..200,
    ) {
        let w = (window_s * 1000) as f64;
        let mut p = Pacer::default();
        let (mut now, mut sent, mut over) = (0.0f64, 0u32, 0u32);
        let mut window: Option<(f64, u64)> = None;
        let mut flights: Vec<(f64, u16, String)> = Vec::new();
        let policy = format!("\"default\";q={quota};w={window_s}");
        while sent < requests || !flights.is_empty() {
            flights.sort_by(|a, b| a.0.total_cmp(&b.0));
            while flights.first().is_some_and(|f| f.0 <= now) {
                let (at, status, rl) = flights.remove(0);
                let mut h = headers(None, None, Some(rl), None);
                h.ratelimit_policy = Some(policy.clone());
                p.on_answer(at, status, &h, None);
            }
            if sent < requests && flights.len() < in_flight && p.delay_ms(now) == 0 {
                p.on_send();
                sent += 1;
                let (start, count) = match window {
                    Some((s, c)) if now < s + w => (s, c),
                    _ => (now, 0),
                };
                let t = ((start + w - now) / 1000.0).ceil();
                let (status, r) = if count < quota { (200, quota - count - 1) } else { over += 1; (429, 0) };
                window = Some((start, (count + 1).min(quota)));
                flights.push((now + latency as f64, status, format!("\"default\";r={r};t={t}")));
                continue;
            }
            if sent >= requests && flights.is_empty() {
                break;
            }
            // Nothing to do now: on to the next answer or the end of the hold.
            let hold = p.delay_ms(now) as f64;
            let next_answer = flights.first().map_or(f64::INFINITY, |f| f.0);
            now = if sent < requests && flights.len() < in_flight && hold > 0.0 {
                next_answer.min(now + hold)
            } else {
                next_answer
            };
            prop_assert!(now < 1e8, "stalled");
        }
        prop_assert_eq!(over, 0);
    }

    #[test]
    fn retry_after_ms_integer_is_exact(n in 0u64..=999_999_999_999, pad in "[ \t]{0,3}", other in prop::option::of(header_text()), now in any::<f64>()) {
        let h = headers(Some(format!("{pad}{n}{pad}")), other.clone(), other, None);
        prop_assert_eq!(server_wait_ms(429, &h, now), Some(n));
    }

    #[test]
    fn retry_after_ms_decimal_is_rounded_up(n in 0u64..=999_999, frac in 1u32..1000) {
        let h = headers(Some(format!("{n}.{frac:03}")), None, None, None);
        prop_assert_eq!(server_wait_ms(503, &h, 0.0), Some(n + 1));
    }

    #[test]
    fn retry_after_seconds_is_exact(n in 0u64..=999_999_999_999) {
        let h = headers(None, Some(n.to_string()), None, None);
        prop_assert_eq!(server_wait_ms(429, &h, 0.0), Some(n * 1000));
    }

    /// IMF-fixdate and asctime of any second of years 0001..=9999, RFC 850 of 1970..=2069,
    /// read back through `Retry-After` against any `now`: the exact difference, clamped at 0.
    #[test]
    fn http_dates_round_trip(
        secs in -62_135_596_800i64..=253_402_300_799,
        secs850 in 0i64..3_155_760_000,
        now_s in prop_oneof![0i64..4_000_000_000, -62_135_596_800i64..=253_402_300_799],
    ) {
        let now_ms = now_s as f64 * 1000.0;
        let want = |t: i64| Some((t - now_s).max(0) as u64 * 1000);
        let [imf, _, asctime] = http_dates(secs);
        prop_assert_eq!(wait_for_date(&imf, now_ms), want(secs), "{}", imf);
        prop_assert_eq!(wait_for_date(&asctime, now_ms), want(secs), "{}", asctime);
        let [_, rfc850, _] = http_dates(secs850);
        prop_assert_eq!(wait_for_date(&rfc850, now_ms), want(secs850), "{}", rfc850);
    }

    #[test]
    fn backoff_is_bounded(retry in any::<u32>(), random in 0.0f64..1.0) {
        let b = backoff_ms(retry, random);
        prop_assert!((375..=8000).contains(&b), "{}", b);
        let base = 500u64 << retry.min(4);
        prop_assert!(b <= base.min(8000) && b * 4 >= base.min(8000) * 3 - 4);
    }

    #[test]
    fn backoff_takes_any_float(retry in any::<u32>(), random in any::<f64>()) {
        prop_assert!((375..=8000).contains(&backoff_ms(retry, random)));
    }
}

fn wait_for_date(value: &str, now_ms: f64) -> Option<u64> {
    server_wait_ms(
        429,
        &headers(None, Some(value.to_owned()), None, None),
        now_ms,
    )
}

#[test]
fn http_date_helper_matches_the_rfc_example() {
    assert_eq!(
        http_dates(784_111_777),
        [
            "Sun, 06 Nov 1994 08:49:37 GMT".to_string(),
            "Sunday, 06-Nov-94 08:49:37 GMT".to_string(),
            "Sun Nov  6 08:49:37 1994".to_string(),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Validation

type E = Error<()>;

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

const UUID: &str = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/// A UUID with one character replaced, inserted or removed, or an attack string spliced in.
fn near_miss_uuid() -> impl Strategy<Value = String> {
    let evil = prop_oneof![
        Just("/"),
        Just(".."),
        Just("%2F"),
        Just("%2f"),
        Just("?"),
        Just("#"),
        Just("\\"),
        Just("\u{2010}"),
        Just("\u{2212}"),
        Just("\u{ff10}"),
        Just("\u{ff41}"),
        Just("\u{430}"),
        Just("\u{0}"),
        Just("\r\n"),
        Just(" "),
        Just("-"),
        Just("g"),
        Just("0"),
    ];
    (UUID, evil, any::<prop::sample::Index>(), 0u8..3).prop_map(|(u, e, at, how)| {
        let chars: Vec<char> = u.chars().collect();
        let i = at.index(chars.len());
        let (head, tail) = chars.split_at(i);
        let head: String = head.iter().collect();
        match how {
            0 => format!("{head}{e}{}", tail.iter().skip(1).collect::<String>()), // replace
            1 => format!("{head}{e}{}", tail.iter().collect::<String>()),         // insert
            _ => format!("{head}{}", tail.iter().skip(1).collect::<String>()),    // remove
        }
    })
}

/// A rejected value of 8 or more characters must not appear in the message.
/// Unless the value is part of the fixed wording (`//api.cloudflare.com` is in the baseUrl
/// example): every message the validators give for neutral bad input.
fn not_echoed(value: &str, e: &E) -> Result<(), TestCaseError> {
    if value.chars().count() >= 8 && !WORDING.with(|w| w.contains(value)) {
        prop_assert!(
            !e.message().contains(value),
            "{:?} echoed in {:?}",
            value,
            e.message()
        );
    }
    Ok(())
}

thread_local! {
    static WORDING: String = {
        let mut all: Vec<E> = Vec::new();
        for v in ["", "x", "x y", "\u{0}", "é", "x".repeat(40).as_str()] {
            all.extend(CertificateId::parse::<()>(v).err());
            all.extend(AccountId::parse::<()>(v).err());
            all.extend(Auth::from_options::<()>(Some(v), None, None).err());
            all.extend(Auth::from_options::<()>(None, Some(v), None).err());
            all.extend(Auth::from_options::<()>(None, None, Some(v)).err());
            all.extend(Auth::from_options::<()>(Some("t"), Some(v), Some(v)).err());
            all.extend(Auth::from_options::<()>(None, Some("e"), Some(v)).err());
            all.extend(Auth::from_options::<()>(Some(&"x".repeat(5000)), None, None).err());
        }
        for u in ["", "x", "https://a b", "https://a?b", "https://u@a", "https://", "https://a:x", "https://a/../b"] {
            all.extend(base_url::<()>(u).err());
        }
        for n in [-1.0, 1e300] {
            all.extend(whole_number::<()>("timeoutMs", n, 2_147_483_647).err());
            all.extend(whole_number::<()>("maxRetries", n, 10).err());
            all.extend(validity_days::<()>(n).err());
        }
        all.iter().map(|e| e.message() + "\n").collect()
    };
}

/// Values a token looks like, and arbitrary text.
fn secretish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{8,60}",
        "[A-Za-z0-9_.@+-]{1,12}@[a-z]{1,10}\\.[a-z]{2,4}",
        any::<String>(),
        "[ -~]{0,40}",
        "[ -~]{0,20}[\\x00-\\x1f\\x7f\u{85}\u{2028}][ -~]{0,20}",
    ]
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn certificate_id_accepts_exactly_uuids(s in prop_oneof![UUID.prop_map(String::from), near_miss_uuid(), "[0-9a-fA-F-]{35,37}", any::<String>()]) {
        match CertificateId::parse::<()>(&s) {
            Ok(id) => {
                prop_assert!(is_uuid(&s), "accepted {:?}", s);
                prop_assert_eq!(id.as_str(), s.as_str());
            }
            Err(e) => {
                prop_assert!(!is_uuid(&s), "refused {:?}", s);
                prop_assert_eq!(e.kind, ErrorKind::InvalidInput);
                not_echoed(&s, &e)?;
            }
        }
    }

    #[test]
    fn account_id_accepts_exactly_1_to_32_alphanumerics(s in prop_oneof!["[A-Za-z0-9]{0,34}", "[A-Za-z0-9]{0,16}[^A-Za-z0-9][A-Za-z0-9]{0,16}", secretish()]) {
        let want = (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        match AccountId::parse::<()>(&s) {
            Ok(id) => prop_assert!(want && id.as_str() == s, "accepted {:?}", s),
            Err(e) => {
                prop_assert!(!want, "refused {:?}", s);
                not_echoed(&s, &e)?;
            }
        }
    }

    #[test]
    fn base_url_refuses_what_it_must(s in url_like()) {
        match base_url::<()>(&s) {
            Ok(u) => {
                prop_assert!(!u.ends_with('/'), "{}", u);
                prop_assert!(s.starts_with(&u));
                let lower = u.to_ascii_lowercase();
                let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
                prop_assert!(rest.is_some(), "scheme of {:?}", u);
                let authority = rest.unwrap_or("").split('/').next().unwrap_or("");
                prop_assert!(!authority.is_empty() && !authority.contains('@'), "{:?}", u);
                prop_assert!(!u.contains(['?', '#', '\\']), "{:?}", u);
                prop_assert!(!u.chars().any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii()), "{:?}", u);
                prop_assert!(!u.split('/').skip(3).any(|seg| seg == "." || seg == ".."), "{:?}", u);
            }
            Err(e) => {
                prop_assert!(e.detail.starts_with("baseUrl"));
                not_echoed(&s, &e)?;
            }
        }
    }

    #[test]
    fn credentials_are_checked_and_never_printed(t in prop::option::of(secretish()), em in prop::option::of(secretish()), k in prop::option::of(secretish())) {
        match Auth::from_options::<()>(t.as_deref(), em.as_deref(), k.as_deref()) {
            Ok(auth) => {
                for secret in auth.secrets() {
                    prop_assert!(!secret.chars().any(char::is_control), "{:?}", secret);
                    prop_assert!(secret.bytes().all(|b| (0x20..0x7f).contains(&b)) && secret.trim() == secret);
                }
                let dbg = format!("{auth:?}");
                prop_assert!(dbg == "Auth::Token([redacted])" || dbg == "Auth::Key([redacted])", "{}", dbg);
            }
            Err(e) => {
                prop_assert_eq!(e.kind, ErrorKind::InvalidInput);
                for v in [&t, &em, &k].into_iter().flatten() {
                    not_echoed(v, &e)?;
                }
            }
        }
    }

    #[test]
    fn config_refuses_without_echoing(
        t in prop::option::of(secretish()),
        em in prop::option::of(secretish()),
        k in prop::option::of(secretish()),
        u in prop::option::of(prop_oneof![url_like(), secretish()]),
        timeout in prop::option::of(number()),
        retries in prop::option::of(number()),
    ) {
        let o = RawOptions {
            api_token: t.as_deref(), api_email: em.as_deref(), api_key: k.as_deref(),
            base_url: u.as_deref(), timeout_ms: timeout, max_retries: retries,
        };
        match Config::new::<()>(&o) {
            Ok(cfg) => {
                prop_assert!(cfg.timeout_ms <= 2_147_483_647 && cfg.max_retries <= 10);
                // The debug form does not depend on the credentials.
                let mut neutral = cfg.clone();
                neutral.auth = match cfg.auth {
                    Auth::Token(_) => Auth::Token(String::new()),
                    Auth::Key { .. } => Auth::Key { email: String::new(), key: String::new() },
                };
                prop_assert_eq!(format!("{cfg:?}"), format!("{neutral:?}"));
            }
            Err(e) => {
                prop_assert_eq!(e.kind, ErrorKind::InvalidInput);
                for v in [&t, &em, &k, &u].into_iter().flatten() {
                    not_echoed(v, &e)?;
                }
            }
        }
    }

    #[test]
    fn numbers_are_whole_and_in_range(n in number(), max in any::<u64>()) {
        match whole_number::<()>("timeoutMs", n, max) {
            Ok(v) => prop_assert!(n.fract() == 0.0 && n >= 0.0 && v <= max && v as f64 == n),
            Err(e) => prop_assert!(e.detail.starts_with("timeoutMs")),
        }
        if let Ok(d) = validity_days::<()>(n) {
            prop_assert!((1..=10_950).contains(&d) && f64::from(d) == n);
        }
    }

    /// After `redact`, no secret of 4+ characters is left in the message, wherever the API put it.
    #[test]
    fn redact_removes_every_secret(
        secrets in prop::collection::vec("[A-Za-z0-9_-]{4,40}", 1..4),
        parts in prop::collection::vec((0usize..4, "[ -~]{0,20}"), 0..12),
        status in prop::option::of(100u16..=599),
        code in any::<i64>(),
    ) {
        // Secrets the fixed wording holds by chance are no leak ("HTTP", "redacted", digits).
        let skeleton = format!("HTTP {} [redacted] retry after ms {code}", status.unwrap_or(0));
        prop_assume!(secrets.iter().all(|s| !skeleton.contains(s.as_str())));
        let text = |n: usize| -> String {
            parts.iter().skip(n).step_by(3).map(|(i, filler)| {
                let mut s = filler.clone();
                if let Some(secret) = secrets.get(*i) { s.push_str(secret); }
                s
            }).collect()
        };
        let mut e: E = Error::new(ErrorKind::BadRequest, text(0));
        e.status = status;
        e.errors = vec![
            ApiMessage { code, message: text(1), documentation_url: Some(text(2)), source_pointer: Some(text(1)) },
            ApiMessage { code: 0, message: secrets.concat(), ..Default::default() },
        ];
        e.cf_ray = Some(text(2));
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        e.redact(&refs);
        let m = e.message();
        for s in &secrets {
            prop_assert!(!m.contains(s.as_str()), "{:?} left in {:?}", s, m);
            prop_assert!(!e.cf_ray.as_deref().unwrap_or("").contains(s.as_str()));
            for a in &e.errors {
                prop_assert!(!a.documentation_url.as_deref().unwrap_or("").contains(s.as_str()));
                prop_assert!(!a.source_pointer.as_deref().unwrap_or("").contains(s.as_str()));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// A secret the API echoes (in an error's texts or an HTML page) is gone from the error,
    /// including a piece of it that a cut to length would have left behind.
    #[test]
    fn no_piece_of_a_secret_survives_a_cut(
        secret in "[A-Z0-9]{16,48}",
        before in prop::collection::vec(0usize..1100, 1..4),
        filler in "[a-z .,<>/]{0,8}",
        status in 100u16..=599,
    ) {
        let text: String = before
            .iter()
            .map(|&n| format!("{}{secret}", filler.chars().chain(Some('a')).cycle().take(n).collect::<String>()))
            .collect();
        let envelope = json!({"success": false, "errors": [
            {"code": 1, "message": text, "documentation_url": text, "source": {"pointer": text}}
        ]});
        let secrets = [secret.as_str()];
        let cert = V(envelope.clone());
        for a in api_errors_redacted(&cert, &secrets) {
            for t in [Some(&a.message), a.documentation_url.as_ref(), a.source_pointer.as_ref()].into_iter().flatten() {
                prop_assert!(!t.contains(&secret[..8]), "{}", t);
            }
        }
        for (body, parsed) in [(envelope.to_string(), Some(cert)), (text.clone(), None)] {
            let e = interpret_redacted(status, &body, parsed, Shape::One, &secrets).unwrap_err();
            let m = e.message();
            for w in secret.as_bytes().windows(8) {
                let piece = std::str::from_utf8(w).unwrap_or("");
                prop_assert!(!m.contains(piece), "{:?} of the secret left in {:?}", piece, m);
            }
        }
    }
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        (0u64..20_000).prop_map(|n| n as f64),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-0.0),
        Just(1e300),
        Just(2_147_483_648.0),
        Just(0.5),
    ]
}

fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just("https://"),
        Just("http://"),
        Just("HTTPS://"),
        Just("ftp://"),
        Just("javascript:"),
        Just("https:/"),
        Just("//"),
        Just(""),
        Just("https:\\\\"),
    ];
    let host = prop_oneof![
        Just("api.cloudflare.com".to_string()),
        Just("127.0.0.1:8787".to_string()),
        Just("[::1]:8080".to_string()),
        Just("user:pass@example.com".to_string()),
        Just("token@example.com".to_string()),
        Just("example.com:".to_string()),
        Just("example.com:99999999".to_string()),
        Just("ex ample.com".to_string()),
        Just("exämple.com".to_string()),
        Just("".to_string()),
        Just("[::1".to_string()),
        "[a-z0-9.:@\\[\\]-]{0,20}",
    ];
    let path = prop::collection::vec(
        prop_oneof![
            Just("client".to_string()),
            Just("v4".to_string()),
            Just("".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just("%2F".to_string()),
            Just("a?b".to_string()),
            Just("a#b".to_string()),
            Just("a@b".to_string()),
            Just("\n".to_string()),
            Just("\u{0}".to_string()),
            Just("\t".to_string()),
            "[ -~]{0,8}",
        ],
        0..5,
    );
    (scheme, host, path).prop_map(|(s, h, p)| {
        let mut u = format!("{s}{h}");
        for seg in p {
            u.push('/');
            u.push_str(&seg);
        }
        u
    })
}

#[test]
fn bad_input_cases_are_refused_without_echo() {
    let secret = "cfut_0123456789abcdefghijklmnopqrstuv";
    for bad in [
        secret,
        "f174e90a-fafe-4643-bbbc-4a0ed4fc8415/..",
        "f174e90a%2Ffafe-4643-bbbc-4a0ed4fc8415",
        "f174e90a-fafe-4643-bbbc-4a0ed4fc84150",
        "f174e90a\u{2010}fafe-4643-bbbc-4a0ed4fc8415",
    ] {
        let e = CertificateId::parse::<()>(bad).unwrap_err();
        assert!(!e.message().contains(bad), "{}", e.message());
        let e = AccountId::parse::<()>(bad).unwrap_err();
        assert!(!e.message().contains(bad), "{}", e.message());
    }
    for bad in [
        format!("https://{secret}@api.cloudflare.com"),
        format!("javascript:{secret}"),
        format!("https://api.cloudflare.com/?t={secret}"),
        format!("https://api.cloudflare.com/{secret}\n"),
    ] {
        let e: E = base_url(&bad).unwrap_err();
        assert!(!e.message().contains(secret), "{}", e.message());
    }
    for bad in [
        format!("{secret}\r\nX-Evil: 1"),
        format!("{secret}\0"),
        format!(" {secret}"),
        format!("{secret}é"),
    ] {
        let e: E = Auth::from_options(Some(&bad), None, None).unwrap_err();
        assert!(!e.message().contains(secret), "{}", e.message());
        let e: E = Auth::from_options(None, Some("a@b.c"), Some(&bad)).unwrap_err();
        assert!(!e.message().contains(secret), "{}", e.message());
    }
}
