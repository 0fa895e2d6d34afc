//! The pacer with an explicit clock: windows, resets, requests in flight, missing and
//! malformed headers, a 429 anyway.

use super::*;

const T0: f64 = 1_000_000_000_000.0;

fn h(ratelimit: &str, policy: &str) -> ResponseHeaders {
    ResponseHeaders {
        ratelimit: (!ratelimit.is_empty()).then(|| ratelimit.to_owned()),
        ratelimit_policy: (!policy.is_empty()).then(|| policy.to_owned()),
        ..ResponseHeaders::default()
    }
}

/// Sends one request at `now` and answers it at once with `r`/`t` (policy q=10, w=60).
fn round_trip(p: &mut Pacer, now: f64, r: u64, t: u64) {
    assert_eq!(p.delay_ms(now), 0, "may send at {now}");
    p.on_send();
    let headers = h(&format!("\"default\";r={r};t={t}"), "\"default\";q=10;w=60");
    p.on_answer(now, 200, &headers, None);
}

#[test]
fn parses_the_headers_leniently() {
    let b = Budget::from_headers("\"default\";r=42;t=17", Some("\"default\";q=1200;w=300"));
    assert_eq!(
        b,
        Some(Budget {
            remaining: 42,
            reset_s: 17,
            quota: Some(1200),
            window_s: Some(300)
        })
    );
    // Several policies: the one with the least remaining, and its own policy item.
    let b = Budget::from_headers(
        "\"default\";r=900;t=200, \"burst\";r=3;t=20",
        Some("\"default\";q=1200;w=300, \"burst\";q=100;w=60"),
    )
    .unwrap();
    assert_eq!(
        (b.remaining, b.reset_s, b.quota, b.window_s),
        (3, 20, Some(100), Some(60))
    );
    // Spaces, unknown parameters, no policy header.
    let b = Budget::from_headers(" default ; r = 5 ; foo=bar; t=2 ", None).unwrap();
    assert_eq!((b.remaining, b.reset_s, b.quota), (5, 2, None));
    // Unusable: no r or no t, not numbers, negative, absurdly long, empty.
    for bad in [
        "\"default\";t=3",
        "\"default\";r=3",
        "\"default\";r=x;t=3",
        "\"default\";r=-1;t=3",
        "\"default\";r=1.5;t=3",
        "\"default\";r=9999999999999;t=3",
        "",
        ";;;,,,",
        "r=1;t=2=3",
    ] {
        assert_eq!(Budget::from_headers(bad, None), None, "{bad:?}");
    }
}

#[test]
fn without_headers_nothing_is_held() {
    let mut p = Pacer::default();
    for i in 0..1000 {
        assert_eq!(p.delay_ms(T0 + f64::from(i)), 0);
        p.on_send();
        p.on_answer(T0 + f64::from(i), 200, &ResponseHeaders::default(), None);
    }
    // Malformed headers are no headers.
    p.on_send();
    p.on_answer(T0, 200, &h("garbage", "\"default\";q=x"), None);
    assert_eq!(p.delay_ms(T0), 0);
    assert_eq!(p.remaining(), None);
    // A 429 that names no wait changes nothing either: the retry policy's backoff applies.
    p.on_send();
    p.on_answer(T0, 429, &ResponseHeaders::default(), None);
    assert_eq!(p.delay_ms(T0), 0);
}

#[test]
fn one_request_at_a_time_until_the_first_answer() {
    let mut p = Pacer::default();
    assert_eq!(p.delay_ms(T0), 0);
    p.on_send();
    assert_eq!(
        p.delay_ms(T0),
        FIRST_ANSWER_POLL_MS,
        "the second waits for an answer"
    );
    // No answer at all (a connection failure): the next one may probe again.
    p.on_no_answer();
    assert_eq!(p.delay_ms(T0), 0);
    p.on_send();
    // An answer without headers: from now on nothing is held.
    p.on_answer(T0, 200, &ResponseHeaders::default(), None);
    for _ in 0..64 {
        assert_eq!(p.delay_ms(T0), 0);
        p.on_send();
    }
}

#[test]
fn holds_when_the_budget_is_spent_until_the_reset() {
    let mut p = Pacer::default();
    round_trip(&mut p, T0, 2, 30);
    round_trip(&mut p, T0 + 10.0, 1, 30);
    round_trip(&mut p, T0 + 20.0, 0, 30);
    // Nothing left: held until the earliest reset seen (T0 + 30 s).
    assert_eq!(p.delay_ms(T0 + 1_000.0), 29_000);
    assert_eq!(p.delay_ms(T0 + 29_999.5), 1);
    // At the reset: a fresh quota (q=10) without waiting for an answer.
    assert_eq!(p.delay_ms(T0 + 30_000.0), 0);
    assert_eq!(p.remaining(), Some(10));
    for _ in 0..10 {
        assert_eq!(p.delay_ms(T0 + 30_000.0), 0);
        p.on_send();
    }
    // Ten sent into the new window, none answered: the eleventh waits a whole window.
    assert_eq!(p.delay_ms(T0 + 30_001.0), 59_999);
}

#[test]
fn the_estimate_counts_requests_in_flight() {
    let mut p = Pacer::default();
    round_trip(&mut p, T0, 5, 60);
    // Four go out before any answer: the estimate falls to 1 at once.
    for _ in 0..4 {
        assert_eq!(p.delay_ms(T0), 0);
        p.on_send();
    }
    assert_eq!(p.remaining(), Some(1));
    // One answers r=4; three are still in flight and may not have been counted: 4 - 3 = 1.
    p.on_answer(T0 + 5.0, 200, &h("\"default\";r=4;t=60", ""), None);
    assert_eq!(p.remaining(), Some(1));
    p.on_send();
    assert_eq!(p.remaining(), Some(0));
    assert!(
        p.delay_ms(T0 + 6.0) > 0,
        "the sixth would be over the budget"
    );
    // Late answers from earlier requests (higher r) never raise the estimate.
    p.on_answer(T0 + 7.0, 200, &h("\"default\";r=3;t=60", ""), None);
    assert_eq!(p.remaining(), Some(0));
    // A request with no answer leaves the flight.
    p.on_no_answer();
    p.on_no_answer();
    p.on_no_answer();
    assert_eq!(p.in_flight, 0);
}

#[test]
fn another_user_of_the_budget_lowers_the_estimate() {
    let mut p = Pacer::default();
    round_trip(&mut p, T0, 100, 60);
    round_trip(&mut p, T0 + 100.0, 40, 60); // someone else spent 59
    assert_eq!(p.remaining(), Some(40));
}

#[test]
fn the_earliest_reset_of_a_window_wins_and_a_later_one_is_a_new_window() {
    let mut p = Pacer::default();
    // t is rounded up: 30 at T0 means the reset is at most T0 + 30 s; 29 at T0 + 0.6 s says
    // it is at most T0 + 29.6 s.
    round_trip(&mut p, T0, 5, 30);
    round_trip(&mut p, T0 + 600.0, 4, 29);
    assert_eq!(p.reset_at, T0 + 29_600.0);
    // An answer from a new window (reset much later): taken as it is, even with more left.
    round_trip(&mut p, T0 + 29_700.0, 9, 60);
    assert_eq!((p.remaining(), p.reset_at), (Some(9), T0 + 89_700.0));
    // A straggler from the old window is ignored.
    p.on_send();
    p.on_answer(
        T0 + 29_800.0,
        200,
        &h("\"default\";r=0;t=1", "\"default\";q=10;w=60"),
        None,
    );
    assert_eq!(p.remaining(), Some(8));
}

#[test]
fn a_429_holds_every_request_for_its_wait() {
    let mut p = Pacer::default();
    p.on_send();
    p.on_answer(T0, 429, &ResponseHeaders::default(), Some(5_000));
    assert_eq!(p.delay_ms(T0 + 1_000.0), 4_000);
    assert_eq!(
        p.delay_ms(T0 + 5_000.0),
        0,
        "no quota known: not held after the wait"
    );
    // With headers saying requests remain, a 429 still wins (the lockout).
    let mut p = Pacer::default();
    round_trip(&mut p, T0, 50, 300);
    p.on_send();
    p.on_answer(
        T0 + 1.0,
        429,
        &h("\"default\";r=7;t=300", ""),
        Some(300_000),
    );
    assert_eq!(p.delay_ms(T0 + 1.0), 300_000);
    // A short 429 holds only for its own wait: the budget the headers give applies after.
    let mut p = Pacer::default();
    round_trip(&mut p, T0, 50, 300);
    p.on_send();
    p.on_answer(T0 + 1.0, 429, &h("\"default\";r=48;t=300", ""), Some(1_000));
    assert_eq!(p.delay_ms(T0 + 1.0), 1_000);
    assert_eq!(p.delay_ms(T0 + 1_001.0), 0);
    assert_eq!(p.remaining(), Some(48));
}

#[test]
fn a_zero_quota_holds_one_window_not_forever() {
    // Found by the machines' property tests: with `q=0` every fresh window started spent, so
    // nothing was ever sent again and a call waited forever.
    let mut p = Pacer::default();
    p.on_send();
    p.on_answer(
        T0,
        200,
        &h("\"default\";r=0;t=1", "\"default\";q=0;w=1"),
        None,
    );
    assert_eq!(
        p.delay_ms(T0),
        1_000,
        "spent until the reset the answer named"
    );
    assert_eq!(
        p.delay_ms(T0 + 1_000.0),
        0,
        "then sent: the next answer says more"
    );
    assert_eq!(p.remaining(), None);
    // A known quota is kept when a later answer says 0.
    let mut p = Pacer::default();
    round_trip(&mut p, T0, 0, 1);
    p.on_send();
    p.on_answer(
        T0,
        200,
        &h("\"default\";r=0;t=1", "\"default\";q=0;w=60"),
        None,
    );
    assert_eq!(p.delay_ms(T0 + 1_000.0), 0);
    assert_eq!(p.remaining(), Some(10));
}

#[test]
fn keeps_the_last_headers_as_sent() {
    let mut p = Pacer::default();
    assert_eq!(p.last_headers(), (None, None));
    round_trip(&mut p, T0, 9, 60);
    assert_eq!(
        p.last_headers(),
        (Some("\"default\";r=9;t=60"), Some("\"default\";q=10;w=60"))
    );
    p.on_send();
    p.on_answer(T0, 200, &ResponseHeaders::default(), None);
    assert_eq!(
        p.last_headers().0,
        Some("\"default\";r=9;t=60"),
        "kept when absent"
    );
}

#[test]
fn a_long_run_against_a_fixed_window_never_goes_over() {
    // A server with q=20 per 2 s, fixed windows started by the first request, t rounded up;
    // the client sends whenever it may, 4 at a time, each answered 30 ms later.
    let (q, w_ms) = (20u64, 2_000.0);
    let mut p = Pacer::default();
    let mut window_start: Option<f64> = None;
    let mut count = 0u64;
    let mut now = T0;
    let mut flights: Vec<(f64, u64, f64)> = Vec::new(); // (answer at, r, reset_s)
    let (mut sent, mut limited) = (0u32, 0u32);
    while sent < 200 {
        // Deliver answers due.
        flights.sort_by(|a, b| a.0.total_cmp(&b.0));
        while flights.first().is_some_and(|f| f.0 <= now) {
            let (at, r, t) = flights.remove(0);
            let status = if r == u64::MAX { 429 } else { 200 };
            let hdr = h(
                &format!(
                    "\"default\";r={};t={}",
                    if status == 429 { 0 } else { r },
                    t
                ),
                "\"default\";q=20;w=2",
            );
            p.on_answer(at, status, &hdr, (status == 429).then_some(t as u64 * 1000));
        }
        if flights.len() < 4 && p.delay_ms(now) == 0 {
            p.on_send();
            sent += 1;
            let arrive = now + 10.0;
            let start = match window_start {
                Some(s) if arrive < s + w_ms => s,
                _ => {
                    count = 0;
                    window_start = Some(arrive);
                    arrive
                }
            };
            let reset_s = ((start + w_ms - arrive) / 1000.0).ceil();
            let r = if count < q {
                count += 1;
                q - count
            } else {
                limited += 1;
                u64::MAX
            };
            flights.push((now + 30.0, r, reset_s));
            continue;
        }
        now += 1.0;
    }
    assert_eq!(limited, 0, "no request over the budget");
    // 200 requests at 20 per 2 s need 10 windows: the last starts at 18 s at the earliest.
    let took = now - T0;
    assert!(
        (18_000.0..18_000.0 * 1.10).contains(&took),
        "took {took} ms"
    );
}
