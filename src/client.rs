//! The client: its configuration, the request and response types, and a driver that runs
//! the sans-IO machines of [`crate::machine`] over a [`Platform`] doing the I/O (the native
//! tests' scripted fakes), so all of the policy is tested without a network.

use crate::endpoint::{Method, Operation};
use crate::envelope::Json;
use crate::error::{Error, ErrorKind};
use crate::machine::{Action, Call, Ctx, Event, Machine};
#[allow(unused_imports)]
use crate::prelude::*;
use crate::ratelimit::Pacer;
use crate::retire::Step;
use crate::text::push_u64;
use crate::validate::{self, Auth, CertificateId, MAX_RETRIES, MAX_TIMER_MS};
use std::cell::RefCell;

/// Default base URL of the API.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// Default per-attempt timeout, as in the official SDKs.
pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// Default number of retries (so at most three attempts), as in the official SDKs.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// The detail of a `NotFoundError` from a retried DELETE: the first attempt's answer was lost.
pub(crate) const GONE_AFTER_LOST_ANSWER: &str =
    "the certificate is gone: an earlier attempt of this DELETE, whose answer was lost, may have deleted it";

/// The response headers the client reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseHeaders {
    /// `retry-after-ms`
    pub retry_after_ms: Option<String>,
    /// `retry-after`
    pub retry_after: Option<String>,
    /// `ratelimit`
    pub ratelimit: Option<String>,
    /// `ratelimit-policy`
    pub ratelimit_policy: Option<String>,
    /// `cf-ray`
    pub cf_ray: Option<String>,
    /// `x-should-retry`
    pub should_retry: Option<String>,
}

/// One HTTP response, body read. The platform parses the body (in wasm with `JSON.parse`,
/// so a certificate never passes through Rust strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse<J> {
    /// Status code.
    pub status: u16,
    /// The headers the client reads.
    pub headers: ResponseHeaders,
    /// The body parsed as JSON, when it is a JSON object.
    pub json: Option<J>,
    /// The body as text; may be left empty when `json` is set.
    pub body: String,
}

/// What a machine asks to send: method, URL and body. The headers are the client's, the same
/// for every request ([`Config::http`] adds them; the JS driver keeps its own copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// JSON body, if any.
    pub body: Option<String>,
}

/// One HTTP request with its headers, as a [`Platform`] sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Every header to send (credentials included: don't log them).
    pub headers: Vec<(&'static str, String)>,
    /// JSON body, if any.
    pub body: Option<String>,
}

/// Why an attempt got no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// DNS, refused, reset, CORS: the platform's message.
    Connection(String),
    /// The attempt exceeded its timeout.
    Timeout,
    /// The caller's signal fired.
    Aborted,
}

/// How long a call may hold a request while the rate limit's budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// A single call waits as long as a server-named wait is slept ([`crate::retry::MAX_SERVER_WAIT_MS`]);
    /// past that it fails at once with `RateLimitError`, nothing sent.
    Call,
    /// A flow (`retire`, `retireMany`, rotation) waits for the reset, however long: it exists
    /// to finish the job within the budget. The caller's signal still stops it.
    Flow,
}

/// The I/O a client needs. Implemented over `fetch` and timers in wasm.
#[allow(async_fn_in_trait)] // single-threaded by design: wasm futures are not Send
pub trait Platform {
    /// The platform's JSON value; certificates are handed back as this.
    type Json: Json;
    /// Sends one request and reads the whole body, within `timeout_ms` (0: no timeout).
    async fn send(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
    ) -> Result<HttpResponse<Self::Json>, TransportError>;
    /// Waits `ms`; fails with [`TransportError::Aborted`] if the caller aborts meanwhile.
    async fn sleep(&self, ms: u64) -> Result<(), TransportError>;
    /// Wall-clock time, ms since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// Uniform in [0, 1), for jitter.
    fn random(&self) -> f64;
    /// Whether the caller's signal has fired.
    fn aborted(&self) -> bool {
        false
    }
    /// Reports a step of `retire`, `createAndActivate` or `setInUse`.
    fn progress(&self, _step: Step, _certificate: Option<&Self::Json>) {}
    /// Reports a step of one certificate of `retireMany`, with the count of certificates
    /// finished so far.
    fn many_progress(
        &self,
        _certificate_id: &CertificateId,
        _step: Step,
        _certificate: Option<&Self::Json>,
        _done: usize,
        _total: usize,
    ) {
    }
}

/// A client: its configuration and the rate-limit budget that all its calls share.
#[derive(Debug)]
pub struct Client {
    /// The validated configuration.
    pub config: Config,
    pacer: RefCell<Pacer>,
}

impl Client {
    /// A client with a fresh budget.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            pacer: RefCell::new(Pacer::default()),
        }
    }

    /// The last `Ratelimit` and `Ratelimit-Policy` values the API sent this client.
    pub fn rate_limit_headers(&self) -> (Option<String>, Option<String>) {
        let pacer = self.pacer.borrow();
        let (r, p) = pacer.last_headers();
        (r.map(str::to_owned), p.map(str::to_owned))
    }

    /// The budget every call of this client shares.
    pub(crate) fn pacer(&self) -> &RefCell<Pacer> {
        &self.pacer
    }
}

/// A validated client configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Base URL without a trailing `/`.
    pub base_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Per-attempt timeout in ms; 0 disables it.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub max_retries: u32,
}

/// Client options as they come from the caller, before validation.
#[derive(Clone, Debug, Default)]
pub struct RawOptions<'a> {
    /// `apiToken`
    pub api_token: Option<&'a str>,
    /// `apiEmail`
    pub api_email: Option<&'a str>,
    /// `apiKey`
    pub api_key: Option<&'a str>,
    /// `baseUrl`
    pub base_url: Option<&'a str>,
    /// `timeoutMs`
    pub timeout_ms: Option<f64>,
    /// `maxRetries`
    pub max_retries: Option<f64>,
}

impl Config {
    /// Validates the options; nothing is sent when this fails.
    pub fn new<J>(o: &RawOptions<'_>) -> Result<Self, Error<J>> {
        let auth = Auth::from_options(o.api_token, o.api_email, o.api_key)?;
        let base_url = validate::base_url(o.base_url.unwrap_or(DEFAULT_BASE_URL))?;
        let timeout_ms = match o.timeout_ms {
            Some(v) => validate::whole_number("timeoutMs", v, MAX_TIMER_MS)?,
            None => DEFAULT_TIMEOUT_MS,
        };
        let max_retries = match o.max_retries {
            Some(v) => validate::whole_number("maxRetries", v, MAX_RETRIES)? as u32,
            None => DEFAULT_MAX_RETRIES,
        };
        Ok(Self {
            base_url,
            auth,
            timeout_ms,
            max_retries,
        })
    }

    /// What to send for `op`.
    pub(crate) fn request(&self, op: &Operation) -> Request {
        Request {
            method: op.method(),
            url: op.url(&self.base_url),
            body: op.body(),
        }
    }

    /// The request with every header, credentials included.
    pub fn http(&self, request: Request) -> HttpRequest {
        let mut headers = vec![("Accept", String::from("application/json"))];
        if request.body.is_some() {
            headers.push(("Content-Type", String::from("application/json")));
        }
        headers.extend(self.auth.headers());
        HttpRequest {
            method: request.method,
            url: request.url,
            headers,
            body: request.body,
        }
    }
}

/// Runs one operation with the retry policy; the error never holds a credential.
pub async fn execute<P: Platform>(
    client: &Client,
    p: &P,
    op: &Operation,
) -> Result<P::Json, Error<P::Json>> {
    let call = Call::new(op.clone(), Patience::Call, &client.config);
    drive(client, p, &RefCell::new(call)).await
}

/// Runs a machine to its end over a platform (lane 0).
pub(crate) async fn drive<P: Platform, M: Machine<P::Json>>(
    client: &Client,
    p: &P,
    machine: &RefCell<M>,
) -> Result<P::Json, Error<P::Json>> {
    drive_lane(client, p, machine, 0)
        .await
        .unwrap_or_else(|| Err(aborted()))
}

/// Runs one lane of a machine over a platform: `None` when the lane is done without a result
/// (`retireMany`).
pub(crate) async fn drive_lane<P: Platform, M: Machine<P::Json>>(
    client: &Client,
    p: &P,
    machine: &RefCell<M>,
    lane: usize,
) -> Option<Result<P::Json, Error<P::Json>>> {
    let mut event = Event::Go;
    loop {
        let action = {
            let mut pacer = client.pacer().borrow_mut();
            let mut cx = Ctx {
                config: &client.config,
                pacer: &mut pacer,
                now: p.now_ms(),
                random: p.random(),
                aborted: p.aborted(),
            };
            machine.borrow_mut().step(&mut cx, lane, event)
        };
        event = match action {
            Action::Send(request) => {
                let request = client.config.http(request);
                match p.send(&request, client.config.timeout_ms).await {
                    Ok(response) => Event::Answer(response),
                    Err(failure) => Event::Failed(failure),
                }
            }
            Action::Wait(ms) => match p.sleep(ms).await {
                Ok(()) => Event::Go,
                Err(_) => Event::Failed(TransportError::Aborted),
            },
            Action::Report(r) => {
                match &r.many {
                    Some((id, done, total)) => {
                        p.many_progress(id, r.step, r.certificate.as_ref(), *done, *total)
                    }
                    None => p.progress(r.step, r.certificate.as_ref()),
                }
                Event::Go
            }
            Action::Done(result) => return Some(result),
            Action::LaneDone => return None,
        };
    }
}

/// The budget is spent for longer than a single call waits: nothing was sent.
pub(crate) fn held<J>(ms: u64) -> Error<J> {
    let mut e = Error::new(
        ErrorKind::RateLimit,
        "not sent: the rate limit's budget is spent until the window resets",
    );
    e.retry_after_ms = Some(ms);
    e
}

pub(crate) fn aborted<J>() -> Error<J> {
    Error::new(
        ErrorKind::UserAbort,
        "the request was aborted by the caller's signal",
    )
}

/// The error for an attempt that got no response. `secrets` are removed from the platform's
/// message before it is cut to length: a cut through a secret would leave a piece of it that
/// redacting the error afterwards cannot find.
pub(crate) fn transport_error<J>(
    failure: TransportError,
    timeout_ms: u64,
    attempts: u32,
    secrets: &[&str],
) -> Error<J> {
    let (kind, mut detail) = match failure {
        TransportError::Timeout => {
            let mut d = String::from("no response within ");
            push_u64(&mut d, timeout_ms);
            d.push_str(" ms");
            (ErrorKind::ConnectionTimeout, d)
        }
        TransportError::Connection(mut why) => {
            crate::text::redact(&mut why, secrets);
            let mut d = String::from("connection failed");
            if !why.is_empty() {
                d.push_str(": ");
                d.push_str(&crate::text::excerpt(&why, 200));
            }
            (ErrorKind::Connection, d)
        }
        TransportError::Aborted => return aborted(),
    };
    if attempts > 1 {
        detail.push_str(" (after ");
        push_u64(&mut detail, u64::from(attempts));
        detail.push_str(" attempts)");
    }
    Error::new(kind, detail)
}

#[cfg(test)]
pub(crate) mod tests;
