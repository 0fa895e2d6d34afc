//! Which failures are retried, and how long to wait before the next attempt. This is where a
//! 429 becomes a wait.
//!
//! Order of precedence for the wait: `retry-after-ms`, then `Retry-After` (seconds or an HTTP
//! date), then the `t=` of a `Ratelimit` header, then exponential backoff
//! (0.5 s × 2^n, capped at 8 s, minus up to 25 % jitter), as the official SDKs do. A server
//! wait longer than [`MAX_SERVER_WAIT_MS`] is not slept: the call fails at once and reports it.

use crate::client::ResponseHeaders;
use crate::httpdate;
use crate::text::ceil_u64;

/// Longest server-requested wait that is slept; anything longer fails at once.
pub const MAX_SERVER_WAIT_MS: u64 = 60_000;
const BASE_BACKOFF_MS: f64 = 500.0;
const MAX_BACKOFF_MS: f64 = 8_000.0;

/// Whether a response with `status` may be retried (the request itself must be retryable).
/// `x-should-retry: true|false` from the server overrides the status rule.
pub fn status_is_retryable(status: u16, headers: &ResponseHeaders) -> bool {
    match headers.should_retry.as_deref().map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("true") => return true,
        Some(v) if v.eq_ignore_ascii_case("false") => return false,
        _ => {}
    }
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The wait the server asked for, in ms, if it asked: `retry-after-ms`, else `Retry-After`,
/// else — on a 429, or when the header says nothing remains (`r=0`) — the `Ratelimit` `t=`.
/// (`Ratelimit` comes on every response; its `t=` is the time to the window's reset, which is
/// no reason to wait when requests remain.)
pub fn server_wait_ms(status: u16, headers: &ResponseHeaders, now_ms: f64) -> Option<u64> {
    if let Some(ms) = headers.retry_after_ms.as_deref().and_then(parse_number) {
        return Some(ceil_u64(ms));
    }
    if let Some(v) = headers.retry_after.as_deref() {
        if let Some(secs) = parse_number(v) {
            return Some(ceil_u64(secs * 1000.0));
        }
        if let Some(at) = httpdate::parse_ms(v.trim()) {
            return Some(ceil_u64((at - now_ms).max(0.0)));
        }
    }
    let ratelimit = headers.ratelimit.as_deref()?;
    let (remaining, reset) = ratelimit_params(ratelimit);
    if status == 429 || remaining == Some(0) {
        return reset.map(|secs| secs.saturating_mul(1000));
    }
    None
}

/// A non-negative decimal number (`120`, `1.5`), read by hand: `str::parse::<f64>` would pull
/// ~15 KB of float-parsing tables into the wasm. Strict: `"12abc"`, `"1e3"`, `"-1"` are not
/// numbers. At most 12 integer digits.
fn parse_number(v: &str) -> Option<f64> {
    let v = v.trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if int.is_empty() || int.len() > 12 || frac.len() > 9 {
        return None;
    }
    let digits = |s: &str| -> Option<u64> {
        s.bytes().try_fold(0u64, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
        })
    };
    let whole = digits(int)? as f64;
    let fraction = if frac.is_empty() && !v.ends_with('.') {
        0.0
    } else {
        digits(frac).filter(|_| !frac.is_empty())? as f64 / frac.bytes().fold(1.0, |d, _| d * 10.0)
    };
    Some(whole + fraction)
}

/// `r=` and `t=` of the first policy in `"default";r=0;t=30` (IETF RateLimit header draft).
fn ratelimit_params(header: &str) -> (Option<u64>, Option<u64>) {
    let first = header.split(',').next().unwrap_or("");
    let (mut r, mut t) = (None, None);
    for param in first.split(';').map(str::trim) {
        let num = |p: &str| p.trim().parse::<u64>().ok();
        if let Some(v) = param.strip_prefix("r=") {
            r = num(v);
        } else if let Some(v) = param.strip_prefix("t=") {
            t = num(v);
        }
    }
    (r, t)
}

/// Backoff before retry number `retry` (0 for the first retry): `min(500 × 2^retry, 8000)` ms
/// minus up to 25 % jitter; `random` is uniform in [0, 1).
pub fn backoff_ms(retry: u32, random: f64) -> u64 {
    let base = (BASE_BACKOFF_MS * f64::from(1u32 << retry.min(16))).min(MAX_BACKOFF_MS);
    let jitter = 1.0 - 0.25 * random.clamp(0.0, 1.0);
    (base * jitter + 0.5) as u64 // rounded: the value is positive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> ResponseHeaders {
        ResponseHeaders::default()
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 409, 429, 500, 502, 503, 504, 520, 599] {
            assert!(status_is_retryable(s, &headers()), "{s}");
        }
        for s in [400, 401, 403, 404, 405, 418, 422] {
            assert!(!status_is_retryable(s, &headers()), "{s}");
        }
        let yes = ResponseHeaders {
            should_retry: Some("true".into()),
            ..headers()
        };
        let no = ResponseHeaders {
            should_retry: Some("FALSE".into()),
            ..headers()
        };
        assert!(status_is_retryable(400, &yes));
        assert!(!status_is_retryable(503, &no));
    }

    #[test]
    fn each_header_form() {
        let now = 1_000_000_000_000.0; // 2001-09-09T01:46:40Z
        let h = |f: fn(&mut ResponseHeaders)| {
            let mut h = headers();
            f(&mut h);
            h
        };
        let ms = h(|h| h.retry_after_ms = Some("150.5".into()));
        assert_eq!(server_wait_ms(503, &ms, now), Some(151));
        let secs = h(|h| h.retry_after = Some("2".into()));
        assert_eq!(server_wait_ms(429, &secs, now), Some(2000));
        let frac = h(|h| h.retry_after = Some(" 0.25 ".into()));
        assert_eq!(server_wait_ms(429, &frac, now), Some(250));
        let date = h(|h| h.retry_after = Some("Sun, 09 Sep 2001 01:46:43 GMT".into()));
        assert_eq!(server_wait_ms(429, &date, now), Some(3000));
        let past = h(|h| h.retry_after = Some("Sun, 09 Sep 2001 01:00:00 GMT".into()));
        assert_eq!(server_wait_ms(429, &past, now), Some(0));
        let both = h(|h| {
            h.retry_after_ms = Some("10".into());
            h.retry_after = Some("5".into());
        });
        assert_eq!(
            server_wait_ms(429, &both, now),
            Some(10),
            "retry-after-ms wins"
        );
        let rl = h(|h| h.ratelimit = Some("\"default\";r=0;t=7".into()));
        assert_eq!(server_wait_ms(503, &rl, now), Some(7000));
        let rl_left = h(|h| h.ratelimit = Some("\"default\";r=50;t=250".into()));
        assert_eq!(
            server_wait_ms(503, &rl_left, now),
            None,
            "requests remain: t= is no wait"
        );
        assert_eq!(server_wait_ms(429, &rl_left, now), Some(250_000));
        let long = h(|h| h.retry_after = Some("3600".into()));
        assert_eq!(server_wait_ms(429, &long, now), Some(3_600_000));
        for junk in [
            "soon",
            "-1",
            "1e3",
            "NaN",
            "",
            "12abc",
            "99999999999999999999999999999999999",
        ] {
            let j = ResponseHeaders {
                retry_after: Some(junk.into()),
                retry_after_ms: Some(junk.into()),
                ..headers()
            };
            assert_eq!(server_wait_ms(429, &j, now), None, "{junk}");
        }
        let bad_rl = h(|h| h.ratelimit = Some(";;t=;r=x,t=5".into()));
        assert_eq!(server_wait_ms(429, &bad_rl, now), None);
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_down() {
        assert_eq!(backoff_ms(0, 0.0), 500);
        assert_eq!(backoff_ms(1, 0.0), 1000);
        assert_eq!(backoff_ms(2, 0.0), 2000);
        assert_eq!(backoff_ms(4, 0.0), 8000);
        assert_eq!(backoff_ms(9, 0.0), 8000);
        assert_eq!(backoff_ms(u32::MAX, 0.0), 8000);
        assert_eq!(backoff_ms(0, 0.999_999), 375);
        assert_eq!(backoff_ms(4, 1.0), 6000);
        for i in 0..100 {
            let r = f64::from(i) / 100.0;
            let b = backoff_ms(1, r);
            assert!((750..=1000).contains(&b));
        }
    }
}
