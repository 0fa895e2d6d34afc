//! Input → every validator and `Config::new`; nothing rejected is echoed in a message.
#![no_main]

use cf_gateway_certs::client::{Config, RawOptions};
use cf_gateway_certs::error::Error;
use cf_gateway_certs::validate::{
    base_url, validity_days, whole_number, AccountId, Auth, CertificateId,
};
use libfuzzer_sys::fuzz_target;

type E = Error<()>;

/// A rejected value of 8+ characters must not be in the message. Checked when the value holds
/// a character no validation message has (so it cannot match the fixed wording by chance).
fn not_echoed(value: &str, e: &E) {
    let marked = value
        .chars()
        .any(|c| !c.is_ascii() || c.is_ascii_control() || "~^|$!&*`".contains(c));
    if marked && value.chars().count() >= 8 {
        assert!(
            !e.message().contains(value),
            "echoed {value:?}: {}",
            e.message()
        );
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let s: &str = &text;
    match CertificateId::parse::<()>(s) {
        Ok(id) => assert!(is_uuid(id.as_str())),
        Err(e) => {
            assert!(!is_uuid(s));
            not_echoed(s, &e);
        }
    }
    match AccountId::parse::<()>(s) {
        Ok(_) => {
            assert!(!s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
        }
        Err(e) => not_echoed(s, &e),
    }
    match base_url::<()>(s) {
        Ok(u) => {
            assert!(!u.ends_with('/'));
            let lower = u.to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"))
                .expect("http(s) scheme");
            let authority = rest.split('/').next().unwrap_or("");
            assert!(!authority.is_empty() && !authority.contains('@'), "{u}");
            assert!(!u.contains(['?', '#']));
            assert!(!u.chars().any(|c| c.is_whitespace() || c.is_control()));
        }
        Err(e) => not_echoed(s, &e),
    }
    // Split into up to four fields: token, email, key, base URL.
    let mut f = s.splitn(4, '\u{1}');
    let (t, em, k, u) = (f.next(), f.next(), f.next(), f.next());
    for (tok, email, key) in [(Some(s), None, None), (None, Some(s), Some(s)), (t, em, k)] {
        match Auth::from_options::<()>(tok, email, key) {
            Ok(auth) => {
                for secret in auth.secrets() {
                    assert!(!secret.chars().any(char::is_control));
                }
                // The debug form is fixed: it cannot carry the secret.
                let dbg = format!("{auth:?}");
                assert!(
                    dbg == "Auth::Token([redacted])" || dbg == "Auth::Key([redacted])",
                    "{dbg}"
                );
            }
            Err(e) => {
                for v in [tok, email, key].into_iter().flatten() {
                    not_echoed(v, &e);
                }
            }
        }
    }
    let num = |i: usize| {
        data.get(i..i + 8)
            .and_then(|b| b.try_into().ok())
            .map(f64::from_le_bytes)
    };
    let opts = RawOptions {
        api_token: t,
        api_email: em,
        api_key: k,
        base_url: u,
        timeout_ms: num(0),
        max_retries: num(8).map(|n| n % 16.0),
    };
    match Config::new::<()>(&opts) {
        Ok(cfg) => {
            assert!(cfg.max_retries <= 10);
            assert!(cfg.timeout_ms <= 2_147_483_647);
        }
        Err(e) => {
            for v in [t, em, k, u].into_iter().flatten() {
                not_echoed(v, &e);
            }
        }
    }
    for n in [num(0), num(8), num(16)].into_iter().flatten() {
        let _ = whole_number::<()>("timeoutMs", n, 2_147_483_647);
        if let Ok(d) = validity_days::<()>(n) {
            assert!((1..=10_950).contains(&d));
        }
    }
});
