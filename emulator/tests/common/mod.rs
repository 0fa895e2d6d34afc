//! Shared test helpers: an in-process emulator and a tiny std-only HTTP client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use cf_gateway_emulator::{start, Config, Handle};
use serde_json::Value;

pub const TOKEN: &str = cf_gateway_emulator::DEFAULT_TOKEN;
pub const RO_TOKEN: &str = cf_gateway_emulator::DEFAULT_READ_ONLY_TOKEN;
pub const EMAIL: &str = cf_gateway_emulator::DEFAULT_EMAIL;
pub const KEY: &str = cf_gateway_emulator::DEFAULT_KEY;

/// Every field a certificate object carries.
pub const CERT_FIELDS: [&str; 12] = [
    "id",
    "binding_status",
    "certificate",
    "created_at",
    "expires_on",
    "fingerprint",
    "in_use",
    "issuer_org",
    "issuer_raw",
    "type",
    "updated_at",
    "uploaded_on",
];

pub fn server() -> &'static Handle {
    static H: OnceLock<Handle> = OnceLock::new();
    H.get_or_init(|| start(Config::default()).expect("start emulator"))
}

pub fn addr() -> SocketAddr {
    server().addr()
}

pub fn fresh_account() -> String {
    cf_gateway_emulator::util::hex(&cf_gateway_emulator::util::rand_bytes(16), false)
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub raw: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Send raw bytes, read to EOF (or error), return what arrived.
pub fn raw_exchange(
    addr: SocketAddr,
    req: &[u8],
    timeout: Duration,
) -> (Vec<u8>, Option<std::io::Error>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(req).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e)),
        }
    }
}

pub fn parse_response(raw: Vec<u8>) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let body = raw[end + 4..].to_vec();
    Resp {
        status,
        headers,
        body,
        raw,
    }
}

pub fn build_request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Vec<u8> {
    let mut s = format!("{method} {path} HTTP/1.1\r\nHost: emulator\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        s.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    s.push_str("\r\n");
    if let Some(b) = body {
        s.push_str(b);
    }
    s.into_bytes()
}

pub fn request_to(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let (raw, err) = raw_exchange(
        addr,
        &build_request(method, path, headers, body),
        Duration::from_secs(20),
    );
    if let Some(e) = err {
        panic!("{method} {path}: {e}");
    }
    let r = parse_response(raw);
    if let Some(cl) = r.header("content-length") {
        assert_eq!(
            cl.parse::<usize>().unwrap(),
            r.body.len(),
            "Content-Length matches body"
        );
    }
    r
}

pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    request_to(addr(), method, path, headers, body)
}

pub fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// Authenticated API call with the full-access token; `rest` is after `/gateway/certificates`.
pub fn api(method: &str, account: &str, rest: &str, body: Option<&str>) -> Resp {
    let path = format!("/client/v4/accounts/{account}/gateway/certificates{rest}");
    request(method, &path, &[("Authorization", &bearer())], body)
}

/// Authenticated call of the Gateway configuration with the full-access token.
pub fn config_api(method: &str, account: &str, body: Option<&str>) -> Resp {
    let path = format!("/client/v4/accounts/{account}/gateway/configuration");
    request(method, &path, &[("Authorization", &bearer())], body)
}

/// `{"settings":{"certificate":{"id":"<id>"}}}`
pub fn use_cert(id: &str) -> String {
    format!(r#"{{"settings":{{"certificate":{{"id":"{id}"}}}}}}"#)
}

pub const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

pub fn control(method: &str, path: &str, body: Option<&str>) -> Value {
    let r = request(method, &format!("/__emulator{path}"), &[], body);
    assert_eq!(r.status, 200, "control {method} {path}: {}", r.text());
    r.json()
}

/// (Re)create an account; returns the seeded role → certificate map.
pub fn setup(account: &str, body: &str) -> Value {
    control("POST", &format!("/accounts/{account}"), Some(body))["certificates"].clone()
}

/// A fresh, empty account with its own rate limit: `limit` requests per `window_ms`.
pub fn rate_limited_account(limit: u32, window_ms: u64) -> String {
    let a = fresh_account();
    setup(
        &a,
        &format!(r#"{{"seed":"empty","rate_limit":{{"limit":{limit},"window_ms":{window_ms}}}}}"#),
    );
    a
}

pub fn add_cert(account: &str, body: &str) -> Value {
    control(
        "POST",
        &format!("/accounts/{account}/certificates"),
        Some(body),
    )["certificates"][0]
        .clone()
}

pub fn add_faults(account: &str, faults: &str) {
    control(
        "POST",
        &format!("/accounts/{account}/faults"),
        Some(&format!("{{\"faults\":{faults}}}")),
    );
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}
