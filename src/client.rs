//! The request loop: attempts, retries, the follow-up GET after a failed DELETE, and
//! `retire`. Generic over a [`Platform`] that does the I/O (`fetch` and timers in wasm, a
//! scripted fake in the native tests), so all of the policy is tested without a network.

use crate::endpoint::{Method, Operation};
use crate::envelope::{describe, interpret_redacted, Json};
use crate::error::{Error, ErrorKind};
use crate::ratelimit::Pacer;
use crate::retire::Step;
use crate::retry::{backoff_ms, server_wait_ms, status_is_retryable, MAX_SERVER_WAIT_MS};
use crate::text::push_u64;
use crate::validate::{self, AccountId, Auth, CertificateId, MAX_RETRIES, MAX_TIMER_MS};
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

/// One HTTP request, ready for `fetch`.
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
    /// Not sent: the rate limit's budget is spent for longer than this call may wait (the ms
    /// until the reset). Produced by the client's pacing, never by a platform.
    Held(u64),
}

/// How long a call may hold a request while the rate limit's budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// A single call waits as long as a server-named wait is slept ([`MAX_SERVER_WAIT_MS`]);
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

    /// Holds the request while the budget is spent, sends it, and books its answer.
    async fn send<P: Platform>(
        &self,
        p: &P,
        request: &HttpRequest,
        patience: Patience,
    ) -> Result<HttpResponse<P::Json>, TransportError> {
        loop {
            let wait = self.pacer.borrow_mut().delay_ms(p.now_ms());
            if wait == 0 {
                break;
            }
            if patience == Patience::Call && wait > MAX_SERVER_WAIT_MS {
                return Err(TransportError::Held(wait));
            }
            p.sleep(wait).await?;
        }
        self.pacer.borrow_mut().on_send();
        let answer = p.send(request, self.config.timeout_ms).await;
        let mut pacer = self.pacer.borrow_mut();
        match &answer {
            Ok(r) => {
                let now = p.now_ms();
                let wait = (r.status == 429)
                    .then(|| server_wait_ms(r.status, &r.headers, now))
                    .flatten();
                pacer.on_answer(now, r.status, &r.headers, wait);
            }
            Err(_) => pacer.on_no_answer(),
        }
        answer
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

    fn request(&self, op: &Operation) -> HttpRequest {
        let mut headers = vec![("Accept", String::from("application/json"))];
        let body = op.body();
        if body.is_some() {
            headers.push(("Content-Type", String::from("application/json")));
        }
        headers.extend(self.auth.headers());
        HttpRequest {
            method: op.method(),
            url: op.url(&self.base_url),
            headers,
            body,
        }
    }
}

/// Runs one operation with the retry policy; the error never holds a credential.
pub async fn execute<P: Platform>(
    client: &Client,
    p: &P,
    op: &Operation,
) -> Result<P::Json, Error<P::Json>> {
    execute_seen(client, p, op, Patience::Call)
        .await
        .map(|(json, _)| json)
}

/// [`execute`] with the given patience, also giving the answer's `cf-ray` (for errors built
/// from a certificate seen).
pub(crate) async fn execute_seen<P: Platform>(
    client: &Client,
    p: &P,
    op: &Operation,
    patience: Patience,
) -> Result<(P::Json, Option<String>), Error<P::Json>> {
    run(client, p, op, patience).await.map_err(|mut e| {
        e.redact(&client.config.auth.secrets());
        e
    })
}

async fn run<P: Platform>(
    client: &Client,
    p: &P,
    op: &Operation,
    patience: Patience,
) -> Result<(P::Json, Option<String>), Error<P::Json>> {
    let cfg = &client.config;
    let request = cfg.request(op);
    let max_retries = if op.retryable() { cfg.max_retries } else { 0 };
    let mut retry = 0u32;
    let mut checked_certificate = false;
    let mut follow_up_wait = None;
    loop {
        let retries_left = retry < max_retries;
        let response = match client.send(p, &request, patience).await {
            Ok(r) => r,
            Err(TransportError::Aborted) => return Err(aborted()),
            Err(TransportError::Held(ms)) => return Err(held(ms)),
            Err(failure) => {
                if retries_left {
                    sleep(p, backoff_ms(retry, p.random())).await?;
                    retry += 1;
                    continue;
                }
                return Err(transport_error(failure, cfg.timeout_ms, retry + 1));
            }
        };
        let status = response.status;
        let secrets = cfg.auth.secrets();
        let mut err =
            match interpret_redacted(status, &response.body, response.json, op.shape(), &secrets) {
                Ok(result) => return Ok((result, response.headers.cf_ray)),
                Err(e) => e,
            };
        err.cf_ray = response.headers.cf_ray.clone();
        if (200..300).contains(&status) {
            return Err(err); // a 2xx that is not a success envelope is never retried
        }
        if status == 404 && retry > 0 && matches!(op, Operation::Delete(..)) {
            // A lost answer (reset, timeout, 5xx from a proxy) may hide a DELETE that worked.
            err.detail = GONE_AFTER_LOST_ANSWER.into();
        }
        // The API answers 500 (not a 4xx) when asked to delete a certificate that is still
        // active; retrying cannot help. Look at the certificate before anything else.
        if let Operation::Delete(account, id) = op {
            if !checked_certificate && (matches!(status, 400 | 409 | 422) || status >= 500) {
                checked_certificate = true;
                match not_inactive(client, p, account, id, &err, patience).await? {
                    FollowUp::NotInactive(e) => return Err(e),
                    FollowUp::Proceed { wait_ms } => follow_up_wait = wait_ms,
                }
            }
        }
        // The follow-up GET may itself have been told to wait (a 429): honour the longer wait.
        let wait = server_wait_ms(status, &response.headers, p.now_ms()).max(follow_up_wait.take());
        err.retry_after_ms = wait;
        if !retries_left || !status_is_retryable(status, &response.headers) {
            return Err(err);
        }
        let wait = match wait {
            Some(ms) if ms > MAX_SERVER_WAIT_MS => return Err(err), // not slept: the caller decides
            Some(ms) => ms,
            None => backoff_ms(retry, p.random()),
        };
        sleep(p, wait).await?;
        retry += 1;
    }
}

/// What the GET after a failed DELETE found.
enum FollowUp<J> {
    /// The certificate is not `inactive`: this is the answer.
    NotInactive(Error<J>),
    /// It is `inactive`, or the GET failed: the DELETE's own rules apply, after at least the
    /// wait the GET's answer asked for, if any.
    Proceed { wait_ms: Option<u64> },
}

/// After a failed DELETE: GET the certificate (one attempt).
async fn not_inactive<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    id: &CertificateId,
    failed: &Error<P::Json>,
    patience: Patience,
) -> Result<FollowUp<P::Json>, Error<P::Json>> {
    let cfg = &client.config;
    let get = Operation::Get(account.clone(), id.clone());
    let response = match client.send(p, &cfg.request(&get), patience).await {
        Ok(r) => r,
        Err(TransportError::Aborted) => return Err(aborted()),
        Err(_) => return Ok(FollowUp::Proceed { wait_ms: None }),
    };
    let wait_ms = server_wait_ms(response.status, &response.headers, p.now_ms());
    let Ok(cert) = interpret_redacted(
        response.status,
        &response.body,
        response.json,
        get.shape(),
        &cfg.auth.secrets(),
    ) else {
        return Ok(FollowUp::Proceed { wait_ms });
    };
    if crate::envelope::binding_status(&cert).as_deref() == Some("inactive") {
        return Ok(FollowUp::Proceed { wait_ms: None });
    }
    let mut detail = String::from("cannot delete: ");
    detail.push_str(&describe(&cert));
    detail.push_str(", not inactive; deactivate it first (retire does both)");
    let mut e = failed
        .clone()
        .into_kind(ErrorKind::CertificateNotInactive, detail);
    e.certificate = Some(cert);
    Ok(FollowUp::NotInactive(e))
}

pub(crate) async fn sleep<P: Platform>(p: &P, ms: u64) -> Result<(), Error<P::Json>> {
    p.sleep(ms).await.map_err(|_| aborted())
}

/// The budget is spent for longer than a single call waits: nothing was sent.
fn held<J>(ms: u64) -> Error<J> {
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

fn transport_error<J>(failure: TransportError, timeout_ms: u64, attempts: u32) -> Error<J> {
    let (kind, mut detail) = match failure {
        TransportError::Timeout => {
            let mut d = String::from("no response within ");
            push_u64(&mut d, timeout_ms);
            d.push_str(" ms");
            (ErrorKind::ConnectionTimeout, d)
        }
        TransportError::Connection(why) => {
            let mut d = String::from("connection failed");
            if !why.is_empty() {
                d.push_str(": ");
                d.push_str(&crate::text::excerpt(&why, 200));
            }
            (ErrorKind::Connection, d)
        }
        TransportError::Aborted => return aborted(),
        TransportError::Held(ms) => return held(ms),
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
