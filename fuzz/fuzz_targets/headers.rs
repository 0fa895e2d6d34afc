//! `retry-after-ms`, `Retry-After`, `Ratelimit`, `x-should-retry` + now → the wait.
#![no_main]

use cf_gateway_certs::client::ResponseHeaders;
use cf_gateway_certs::retry::{backoff_ms, server_wait_ms, status_is_retryable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<12>() else {
        return;
    };
    let now = f64::from_le_bytes([
        head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7],
    ]);
    let status = 100 + u16::from_le_bytes([head[8], head[9]]) % 500;
    let retry = u32::from(head[10]) | u32::from(head[11]) << 24;
    let text = String::from_utf8_lossy(rest);
    let mut parts = text
        .split('\n')
        .map(|s| Some(s.to_owned()).filter(|s| s != "-"));
    let headers = ResponseHeaders {
        retry_after_ms: parts.next().flatten(),
        retry_after: parts.next().flatten(),
        ratelimit: parts.next().flatten(),
        cf_ray: None,
        should_retry: parts.next().flatten(),
    };
    let wait = server_wait_ms(status, &headers, now);
    // A plain integer of up to 12 digits (`u64::from_str` would also take a `+`) is exact.
    if let Some(v) = headers.retry_after_ms.as_deref().map(str::trim) {
        if !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit()) {
            assert_eq!(wait, v.parse::<u64>().ok(), "{v:?}");
        }
    }
    let _ = status_is_retryable(status, &headers);
    let random = f64::from(head[10]) / 256.0;
    let b = backoff_ms(retry, random);
    assert!((375..=8000).contains(&b), "{b}");
    // An arbitrary float (NaN, infinities, negatives) must not panic either.
    let _ = backoff_ms(retry, now);
});
