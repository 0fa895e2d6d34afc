//! status + shape + body → `interpret` (and `api_errors`, `retire::next`, `describe`).
#![no_main]

use cf_gateway_certs::endpoint::Shape;
use cf_gateway_certs::envelope::{api_errors, describe, interpret};
use cf_gateway_certs::error::ErrorKind;
use cf_gateway_certs::retire;
use cf_gateway_certs_fuzz::{parse, MAX_MESSAGE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, c, rest @ ..] = data else { return };
    let status = 100 + u16::from_le_bytes([*a, *b]) % 500;
    let shape = if c & 1 == 0 { Shape::One } else { Shape::Many };
    let body = String::from_utf8_lossy(rest);
    let parsed = parse(&body);
    if let Some(v) = &parsed {
        assert!(api_errors(v).len() <= 20);
        let _ = retire::next(v);
        assert!(describe(v).len() < 400);
    }
    let success = parsed
        .as_ref()
        .and_then(|v| v.0.get("success"))
        .and_then(|s| s.as_bool());
    match interpret(status, &body, parsed, shape) {
        Ok(r) => {
            assert!((200..300).contains(&status), "Ok for {status}");
            assert_eq!(success, Some(true));
            match shape {
                Shape::One => assert!(r.0.is_object()),
                Shape::Many => assert!(r.0.is_array()),
            }
        }
        Err(e) => {
            let want = if (200..300).contains(&status) {
                ErrorKind::Api
            } else {
                ErrorKind::for_status(status)
            };
            assert_eq!(e.kind, want);
            assert_eq!(e.status, Some(status));
            assert!(e.errors.len() <= 20);
            let m = e.message();
            assert!(m.len() < MAX_MESSAGE, "message of {} bytes", m.len());
            assert!(m.starts_with(&format!("HTTP {status}")), "{m}");
            assert!(!e.detail.chars().any(char::is_control), "{:?}", e.detail);
        }
    }
});
