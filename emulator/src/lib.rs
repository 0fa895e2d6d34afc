//! An emulator of Cloudflare's Zero Trust Gateway certificates API
//! (`/client/v4/accounts/{account_id}/gateway/certificates[/{id}[/activate|/deactivate]]`)
//! and of the Gateway configuration (`/client/v4/accounts/{account_id}/gateway/configuration`),
//! with a control API under `/__emulator/` for seeding state, limits and fault injection
//! (documented in `control.rs`).
//!
//! Thread-per-connection HTTP/1.1 on `std::net::TcpListener`; every response is
//! `Connection: close` with a `Content-Length`.
//!
//! # The Gateway configuration
//!
//! `GET` answers `{success, errors, messages, result: {settings, created_at, updated_at}}`.
//! `PATCH` replaces each top-level `settings` block the body names, wholly, and keeps the
//! others (unknown blocks are stored and returned as given); `PUT` replaces the whole
//! `settings`, so a PUT without a `certificate` block turns the account's certificate off
//! (Cloudflare's root CA). Either answers 200 with the new configuration, or refuses the whole
//! body and changes nothing:
//! - `settings.certificate.id` naming an `available` (or legacy `active`) certificate of the
//!   account, any type, makes it the one in use: its `in_use` becomes true and every other
//!   certificate's false (they keep their `binding_status`). The nil UUID
//!   `00000000-0000-0000-0000-000000000000` means Cloudflare's root CA: none of the account's
//!   certificates is in use.
//! - Refusals (all 400; the schema only says 4XX, codes other than 1002 and 2211 are ours):
//!   a certificate that is not available, code 1107 (the message names its status); an
//!   unknown certificate, code 1101; a block that is not an object, `settings` that is not an
//!   object, a `certificate` block without a string `id` or with an `id` that is not a UUID,
//!   code 1108; a body that is not a JSON object, code 1002; enabling `tls_decrypt` while the
//!   resulting configuration has no `certificate` block, code 2211 (the real API's).
//! - Same authentication (read-only token: GET only, 403 otherwise), rate limit, faults and
//!   log as the certificate routes; ops `get_configuration`, `patch_configuration`,
//!   `put_configuration`. Other methods: 405; other paths: 404.
//!
//! # Product limits
//!
//! - Create: at most `create_limit` (3) API generations per account per rolling 24 hours;
//!   deleting gives nothing back. Over it: 400, code 1104, "Up to 3 certificates may be
//!   created in a 24 hour period".
//! - Activate: at most `available_limit` (10) certificates `available`, legacy `active` or
//!   `pending_deployment` (it becomes available on its own) at once, of any type. Activating
//!   one more: 400, code 1105, "At most 10 certificates can be available at once; deactivate
//!   one first". Activating one that already counts answers 202 unchanged.
//!
//! # The rate limit
//!
//! A fixed window per user (credential: the token, the read-only token, the global key),
//! `--rate-limit N/SECS` or `N/MSms` (default 1200 per 300 s), or per account through the
//! control API. The window starts at the first counted request. Every request with good
//! credentials counts, whatever its answer (success, 4xx, 404/405 routes, bad ids);
//! requests with bad credentials have no user and are not counted, nor are injected faults
//! (other than those that process the request). Once `limit` requests were counted, every
//! further request with good credentials gets 429 (code 971, "Please wait and consider
//! throttling your request speed") with `Retry-After` until the window ends: the lockout;
//! refused requests do not extend it.
//!
//! Every API answer (also errors, unknown routes, auth failures, faults, unparseable
//! requests) carries `Ratelimit: "default";r=<remaining>;t=<seconds to reset>` and
//! `Ratelimit-Policy: "default";q=<quota>;w=<window seconds>`: `r` is what is left after
//! counting this request (0 on a 429); `t` is the time to the window's end rounded up to whole
//! seconds (at least 1), so a client that waits `t` is never early (at most 1 s late); a 429's
//! `Retry-After` equals its `t`; `w` is the window rounded up to whole seconds (a 500 ms window
//! is `w=1`). An uncounted answer shows the window it would count against without counting
//! (the account's own window, else the user's; a fresh one when there is no user).

mod api;
mod control;
pub mod http;
mod model;
pub mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use http::{ReadError, Response};
pub use model::RateLimit;
use model::State;

pub const DEFAULT_TOKEN: &str = "demo-api-token-0123456789abcdef";
pub const DEFAULT_READ_ONLY_TOKEN: &str = "demo-read-only-token-0123456789ab";
pub const DEFAULT_EMAIL: &str = "admin@example.com";
pub const DEFAULT_KEY: &str = "demo-global-api-key-0123456789abcd";
pub const DEFAULT_ACCOUNT: &str = "699d98642c564d2e855e9661899b7252";
pub const BASE_PATH: &str = "/client/v4";

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub token: String,
    pub read_only_token: String,
    pub email: String,
    pub key: String,
    pub account: String,
    /// Per-user window: `limit` requests per `window_ms`.
    pub rate_limit: RateLimit,
    pub activate_ms: u64,
    pub deactivate_ms: u64,
    /// The seed of the startup account: `fleet` (default), `demo` or `empty`.
    pub seed: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 0,
            token: DEFAULT_TOKEN.into(),
            read_only_token: DEFAULT_READ_ONLY_TOKEN.into(),
            email: DEFAULT_EMAIL.into(),
            key: DEFAULT_KEY.into(),
            account: DEFAULT_ACCOUNT.into(),
            rate_limit: RateLimit {
                limit: 1200,
                window_ms: 300_000,
            },
            activate_ms: 3000,
            deactivate_ms: 3000,
            seed: "fleet".into(),
        }
    }
}

pub(crate) struct Shared {
    pub state: Mutex<State>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler thread must not take the whole emulator down.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running emulator. The server runs until the process exits.
pub struct Handle {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Handle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://host:port/client/v4`
    pub fn url(&self) -> String {
        format!("{}{}", self.origin(), BASE_PATH)
    }

    /// The one JSON line printed on stdout at start.
    pub fn startup_json(&self) -> Value {
        let st = self.shared.lock();
        json!({
            "url": self.url(),
            "origin": self.origin(),
            "account_id": st.cfg.account,
            "api_token": st.cfg.token,
            "read_only_token": st.cfg.read_only_token,
            "email": st.cfg.email,
            "api_key": st.cfg.key,
        })
    }

    /// Current certificates of an account (states evaluated).
    pub fn certificates(&self, account: &str) -> Vec<Value> {
        let mut st = self.shared.lock();
        let now = util::now_us();
        match st.accounts.get_mut(account) {
            Some(acc) => {
                acc.settle(now);
                acc.certs
                    .iter()
                    .map(|c| Value::Object(c.f.clone()))
                    .collect()
            }
            None => Vec::new(),
        }
    }

    pub fn config(&self) -> Config {
        self.shared.lock().cfg.clone()
    }
}

/// Bind and serve in background threads.
pub fn start(config: Config) -> std::io::Result<Handle> {
    let listener = TcpListener::bind((config.host.as_str(), config.port))?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        state: Mutex::new(State::new(config)),
    });
    let s2 = Arc::clone(&shared);
    thread::Builder::new()
        .name("emulator-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = Arc::clone(&s2);
                let _ = thread::Builder::new()
                    .name("emulator-conn".into())
                    .spawn(move || handle_conn(&s, stream));
            }
        })?;
    Ok(Handle { addr, shared })
}

/// What to do with the socket once the request has been handled.
pub(crate) enum Action {
    Respond(Response),
    Drip(Response, u64),
    Hang,
    Reset,
    ResetMidBody(Response),
}

const CORS_EXPOSE: &str =
    "cf-ray, retry-after, retry-after-ms, ratelimit, ratelimit-policy, x-should-retry";

fn cf_ray() -> String {
    format!("{}-EMU", util::hex(&util::rand_u64().to_be_bytes(), false))
}

/// Headers every answer carries (unless already set by a fault).
fn decorate(resp: &mut Response) {
    if resp.header("content-type").is_none() && !resp.body.is_empty() {
        resp.set_header("Content-Type", "application/json");
    }
    for (k, v) in [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", CORS_EXPOSE),
    ] {
        if resp.header(k).is_none() {
            resp.set_header(k, v);
        }
    }
    if resp.header("cf-ray").is_none() {
        resp.set_header("cf-ray", &cf_ray());
    }
}

fn handle_conn(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    let req = match http::read_request(&mut stream) {
        Ok(r) => r,
        Err(ReadError::Closed) => return,
        Err(ReadError::Reject(status, msg)) => {
            let r = api::failure(status, 6003, msg);
            let mut r = api::with_peek(shared, r, None, None);
            decorate(&mut r);
            let _ = r.write_to(&mut stream);
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
    };
    let action = dispatch(shared, &req);
    perform(action, stream);
}

fn dispatch(shared: &Shared, req: &http::Request) -> Action {
    if req.method == "OPTIONS" {
        let mut r = Response::new(204);
        r.set_header(
            "Access-Control-Allow-Methods",
            "GET, POST, DELETE, PATCH, OPTIONS",
        );
        r.set_header(
            "Access-Control-Allow-Headers",
            "authorization, content-type, x-auth-email, x-auth-key, accept",
        );
        r.set_header("Access-Control-Max-Age", "600");
        return Action::Respond(r);
    }
    if req.path == "/__emulator" || req.path.starts_with("/__emulator/") {
        return Action::Respond(control::handle(shared, req));
    }
    api::handle(shared, req)
}

fn perform(action: Action, mut stream: TcpStream) {
    match action {
        Action::Respond(mut r) => {
            decorate(&mut r);
            let _ = r.write_to(&mut stream);
            finish(stream);
        }
        Action::Drip(mut r, delay_ms) => {
            decorate(&mut r);
            if stream.write_all(&r.head_bytes(r.body.len())).is_err() {
                return;
            }
            for b in &r.body {
                if stream.write_all(std::slice::from_ref(b)).is_err() {
                    return;
                }
                let _ = stream.flush();
                thread::sleep(Duration::from_millis(delay_ms));
            }
            finish(stream);
        }
        Action::Hang => {
            let deadline = Instant::now() + Duration::from_secs(120);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 1024];
            while Instant::now() < deadline {
                match stream.read(&mut buf) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => return,
                }
            }
        }
        Action::Reset => reset(stream),
        Action::ResetMidBody(mut r) => {
            decorate(&mut r);
            let half = r.body.len() / 2;
            let mut out = r.head_bytes(r.body.len().max(2) + 64);
            out.extend_from_slice(&r.body[..half]);
            let _ = stream.write_all(&out);
            let _ = stream.flush();
            thread::sleep(Duration::from_millis(20));
            reset(stream);
        }
    }
}

/// Half-close, then drain briefly so the client reads everything before the close.
fn finish(stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut s = stream;
    let mut buf = [0u8; 1024];
    for _ in 0..16 {
        match s.read(&mut buf) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// Close with an RST (SO_LINGER 0) where the platform allows it.
fn reset(stream: TcpStream) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: valid fd owned by `stream`; pointer/size describe a live `linger`.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const libc::linger as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
    drop(stream);
}
