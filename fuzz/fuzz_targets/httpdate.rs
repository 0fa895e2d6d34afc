//! HTTP dates through `Retry-After`: arbitrary text must not panic, and a timestamp written in
//! each of the three forms must read back exactly.
#![no_main]

use cf_gateway_certs::client::ResponseHeaders;
use cf_gateway_certs::retry::server_wait_ms;
use cf_gateway_certs_fuzz::http_dates;
use libfuzzer_sys::fuzz_target;

fn wait(value: &str, now_ms: f64) -> Option<u64> {
    let h = ResponseHeaders {
        retry_after: Some(value.to_owned()),
        ..Default::default()
    };
    server_wait_ms(429, &h, now_ms)
}

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<16>() else {
        return;
    };
    let now_s = i64::from_le_bytes(head[..8].try_into().unwrap()).rem_euclid(4_000_000_000);
    let now_ms = now_s as f64 * 1000.0;
    // Arbitrary text.
    let _ = wait(&String::from_utf8_lossy(rest), now_ms);
    let _ = wait(
        &String::from_utf8_lossy(rest),
        f64::from_le_bytes(head[8..].try_into().unwrap()),
    );
    // Round trip: 0001-01-01 .. 9999-12-31 for the 4-digit-year forms, 1970..2069 for RFC 850.
    let t = i64::from_le_bytes(head[8..].try_into().unwrap());
    let (lo, hi) = (-62_135_596_800i64, 253_402_300_799i64);
    let secs = lo + t.rem_euclid(hi - lo + 1);
    let [imf, rfc850, asctime] = http_dates(secs);
    let want = Some(((secs - now_s).max(0) as u64) * 1000);
    assert_eq!(wait(&imf, now_ms), want, "{imf}");
    assert_eq!(wait(&asctime, now_ms), want, "{asctime}");
    let secs850 = t.rem_euclid(3_155_760_000); // 1970-01-01 .. 2069-12-31
    let [_, rfc850_b, _] = http_dates(secs850);
    let want850 = Some(((secs850 - now_s).max(0) as u64) * 1000);
    assert_eq!(wait(&rfc850_b, now_ms), want850, "{rfc850_b}");
    let _ = rfc850;
});
