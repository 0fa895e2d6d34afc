//! The multi-step flows over the request loop: `retire`, `retireMany`, and rotation
//! (`createAndActivate`, `setInUse`). The decisions are pure ([`crate::retire::next`],
//! [`available`], [`Fate::of`]); these functions act on them with a [`Platform`].

use crate::client::{
    aborted, execute_seen, sleep, Client, Patience, Platform, GONE_AFTER_LOST_ANSWER,
};
use crate::endpoint::Operation;
use crate::envelope::{binding_status, describe, string_field, Json};
use crate::error::{Error, ErrorKind};
use crate::retire::{self, Next, Step};
use crate::text::push_u64;
use crate::validate::{self, AccountId, CertificateId, MAX_TIMER_MS};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How a flow waits for a state: poll interval and longest wait, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOptions {
    /// Time between two GETs while waiting.
    pub poll_interval_ms: u64,
    /// Longest wait.
    pub wait_timeout_ms: u64,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            poll_interval_ms: 2_000,
            wait_timeout_ms: 300_000,
        }
    }
}

/// Shortest poll interval accepted: a tighter loop only burns the rate limit.
pub const MIN_POLL_INTERVAL_MS: u64 = 10;
/// Default `retireMany` concurrency.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Highest `retireMany` concurrency.
pub const MAX_CONCURRENCY: usize = 32;

impl WaitOptions {
    /// Validated options from the caller's raw numbers.
    pub fn new<J>(
        poll_interval_ms: Option<f64>,
        wait_timeout_ms: Option<f64>,
    ) -> Result<Self, Error<J>> {
        let mut o = Self::default();
        if let Some(v) = poll_interval_ms {
            o.poll_interval_ms = validate::whole_number("pollIntervalMs", v, MAX_TIMER_MS)?;
            if o.poll_interval_ms < MIN_POLL_INTERVAL_MS {
                return Err(Error::invalid("pollIntervalMs must be at least 10"));
            }
        }
        if let Some(v) = wait_timeout_ms {
            o.wait_timeout_ms = validate::whole_number("waitTimeoutMs", v, MAX_TIMER_MS)?;
        }
        Ok(o)
    }
}

/// `retireMany`'s concurrency from the caller's raw number: an integer in 1..=32.
pub fn concurrency<J>(value: Option<f64>) -> Result<usize, Error<J>> {
    match value {
        None => Ok(DEFAULT_CONCURRENCY),
        Some(v) => {
            let n = validate::whole_number("concurrency", v, MAX_CONCURRENCY as u64)?;
            if n == 0 {
                return Err(Error::invalid(
                    "concurrency must be an integer from 1 to 32",
                ));
            }
            Ok(n as usize)
        }
    }
}

/// A deadline-bound wait: how long has been waited, and the next sleep.
struct Deadline {
    started: Option<f64>,
    options: WaitOptions,
}

impl Deadline {
    fn new(options: WaitOptions) -> Self {
        Self {
            started: None,
            options,
        }
    }

    /// The next sleep, or `None` when the wait is over.
    fn next_sleep(&mut self, now: f64) -> Option<u64> {
        let started = *self.started.get_or_insert(now);
        let waited = (now - started).max(0.0) as u64;
        let left = self
            .options
            .wait_timeout_ms
            .checked_sub(waited)
            .filter(|l| *l > 0)?;
        Some(self.options.poll_interval_ms.min(left))
    }

    fn gave_up(&self, what: &str) -> String {
        let mut d = String::from("gave up after ");
        push_u64(&mut d, self.options.wait_timeout_ms);
        d.push_str(" ms: ");
        d.push_str(what);
        d
    }
}

/// One request of a flow: it waits for the rate limit's reset however long that is.
async fn flow<P: Platform>(
    client: &Client,
    p: &P,
    op: &Operation,
) -> Result<P::Json, Error<P::Json>> {
    execute_seen(client, p, op, Patience::Flow)
        .await
        .map(|(json, _)| json)
}

/// An error about a certificate seen, carrying it and the `cf-ray` of the answer that showed it.
fn about<J>(kind: ErrorKind, detail: String, cert: J, cf_ray: Option<String>) -> Error<J> {
    let mut e = Error::new(kind, detail).with_certificate(cert);
    e.cf_ray = cf_ray;
    e
}

/// Deactivates (if needed), waits for `inactive`, then deletes; refuses in-use and custom
/// certificates before changing anything. Resolves with the deleted certificate.
pub async fn retire<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    id: &CertificateId,
    options: WaitOptions,
) -> Result<P::Json, Error<P::Json>> {
    // retire's own refusals quote the certificate: redact them like every other error.
    retire_steps(client, p, account, id, options)
        .await
        .map_err(|e| redacted(client, e))
}

fn redacted<J>(client: &Client, mut e: Error<J>) -> Error<J> {
    e.redact(&client.config.auth.secrets());
    e
}

async fn retire_steps<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    id: &CertificateId,
    options: WaitOptions,
) -> Result<P::Json, Error<P::Json>> {
    let get = Operation::Get(account.clone(), id.clone());
    p.progress(Step::Checking, None);
    let (mut cert, mut cf_ray) = execute_seen(client, p, &get, Patience::Flow).await?;
    let mut deactivated = false;
    let mut deadline = Deadline::new(options);
    loop {
        match retire::next(&cert) {
            Next::RefuseInUse => {
                let mut d = describe(&cert);
                d.push_str(" and in use by Gateway TLS inspection: select another certificate in the Gateway configuration first");
                return Err(about(ErrorKind::CertificateInUse, d, cert, cf_ray));
            }
            Next::RefuseCustom => {
                let d = "custom (BYO-PKI) certificates are not deleted through the Gateway certificates API";
                return Err(about(
                    ErrorKind::UnsupportedCertificate,
                    d.into(),
                    cert,
                    cf_ray,
                ));
            }
            Next::Delete => break,
            Next::Deactivate if !deactivated => {
                p.progress(Step::Deactivating, Some(&cert));
                let deactivate = Operation::Deactivate(account.clone(), id.clone());
                (cert, cf_ray) = execute_seen(client, p, &deactivate, Patience::Flow).await?;
                deactivated = true;
                continue;
            }
            Next::Deactivate | Next::Wait => {}
        }
        let Some(ms) = deadline.next_sleep(p.now_ms()) else {
            let d = deadline.gave_up(&describe(&cert));
            return Err(about(ErrorKind::CertificateNotInactive, d, cert, cf_ray));
        };
        p.progress(Step::Waiting, Some(&cert));
        sleep(p, ms).await?;
        (cert, cf_ray) = execute_seen(client, p, &get, Patience::Flow).await?;
    }
    p.progress(Step::Deleting, Some(&cert));
    let deleted = match flow(client, p, &Operation::Delete(account.clone(), id.clone())).await {
        Ok(deleted) => deleted,
        // Our DELETE's answer was lost and its retry found the certificate gone: it was seen
        // inactive a moment ago, so retire's job is done. Resolve with that last state.
        Err(e) if e.kind == ErrorKind::NotFound && e.detail == GONE_AFTER_LOST_ANSWER => cert,
        Err(e) => return Err(e),
    };
    p.progress(Step::Done, Some(&deleted));
    Ok(deleted)
}

/// What became of one certificate of `retireMany`.
#[derive(Clone, Debug, PartialEq)]
pub enum Fate<J> {
    /// Deleted: the certificate as DELETE answered.
    Deleted(J),
    /// Refused before anything was changed (in use, or custom).
    Refused(Error<J>),
    /// Any other error.
    Failed(Error<J>),
}

impl<J> Fate<J> {
    /// Sorts `retire`'s outcome.
    pub fn of(outcome: Result<J, Error<J>>) -> Self {
        match outcome {
            Ok(c) => Self::Deleted(c),
            Err(e)
                if matches!(
                    e.kind,
                    ErrorKind::CertificateInUse | ErrorKind::UnsupportedCertificate
                ) =>
            {
                Self::Refused(e)
            }
            Err(e) => Self::Failed(e),
        }
    }

    fn step(&self) -> Step {
        match self {
            Self::Deleted(_) => Step::Done,
            Self::Refused(_) => Step::Refused,
            Self::Failed(_) => Step::Failed,
        }
    }
}

/// The ids in the order given, each once.
pub fn distinct(ids: Vec<CertificateId>) -> Vec<CertificateId> {
    let mut out: Vec<CertificateId> = Vec::with_capacity(ids.len());
    for id in ids {
        // Ids are canonical for comparison: a UUID's hex digits in either case name the same
        // certificate.
        if !out
            .iter()
            .any(|o| o.as_str().eq_ignore_ascii_case(id.as_str()))
        {
            out.push(id);
        }
    }
    out
}

/// Retires many certificates, `concurrency` at a time, within the client's rate-limit budget.
/// Every id (duplicates removed) gets one [`Fate`], in the order given. One certificate's
/// failure never stops the others. After an abort no certificate is started, and every one
/// not finished fails with `APIUserAbortError`.
pub async fn retire_many<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    ids: Vec<CertificateId>,
    options: WaitOptions,
    concurrency: usize,
) -> Vec<(CertificateId, Fate<P::Json>)> {
    let ids = distinct(ids);
    let total = ids.len();
    let next = Cell::new(0usize);
    let done = Cell::new(0usize);
    let fates: RefCell<Vec<Option<Fate<P::Json>>>> =
        RefCell::new((0..total).map(|_| None).collect());
    let worker = || async {
        loop {
            let i = next.get();
            let Some(id) = ids.get(i) else { break };
            if p.aborted() {
                break;
            }
            next.set(i + 1);
            let one = One {
                inner: p,
                id,
                done: &done,
                total,
            };
            let fate = Fate::of(retire(client, &one, account, id, options).await);
            if !matches!(fate, Fate::Deleted(_)) {
                done.set(done.get() + 1);
                let cert = match &fate {
                    Fate::Refused(e) | Fate::Failed(e) => e.certificate.as_ref(),
                    Fate::Deleted(_) => None,
                };
                p.many_progress(id, fate.step(), cert, done.get(), total);
            }
            if let Some(slot) = fates.borrow_mut().get_mut(i) {
                *slot = Some(fate);
            }
        }
    };
    let workers: Vec<Pin<Box<dyn Future<Output = ()> + '_>>> =
        (0..concurrency.clamp(1, MAX_CONCURRENCY).min(total))
            .map(|_| Box::pin(worker()) as Pin<Box<dyn Future<Output = ()>>>)
            .collect();
    JoinAll(workers.into_iter().map(Some).collect()).await;
    let fates = fates.into_inner();
    ids.into_iter()
        .zip(fates)
        .map(|(id, fate)| {
            let fate = fate.unwrap_or_else(|| {
                let e = aborted::<P::Json>();
                Fate::Failed(e)
            });
            (id, fate)
        })
        .collect()
}

/// One certificate's view of the platform in `retireMany`: its progress is tagged with its id
/// and the count of certificates finished.
struct One<'a, P> {
    inner: &'a P,
    id: &'a CertificateId,
    done: &'a Cell<usize>,
    total: usize,
}

impl<P: Platform> Platform for One<'_, P> {
    type Json = P::Json;
    async fn send(
        &self,
        request: &crate::client::HttpRequest,
        timeout_ms: u64,
    ) -> Result<crate::client::HttpResponse<P::Json>, crate::client::TransportError> {
        self.inner.send(request, timeout_ms).await
    }
    async fn sleep(&self, ms: u64) -> Result<(), crate::client::TransportError> {
        self.inner.sleep(ms).await
    }
    fn now_ms(&self) -> f64 {
        self.inner.now_ms()
    }
    fn random(&self) -> f64 {
        self.inner.random()
    }
    fn aborted(&self) -> bool {
        self.inner.aborted()
    }
    fn progress(&self, step: Step, certificate: Option<&P::Json>) {
        if step == Step::Done {
            self.done.set(self.done.get() + 1);
        }
        self.inner
            .many_progress(self.id, step, certificate, self.done.get(), self.total);
    }
}

/// Polls every future until all are ready (the few `retireMany` workers).
struct JoinAll<'a>(Vec<Option<Pin<Box<dyn Future<Output = ()> + 'a>>>>);

impl Future for JoinAll<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut pending = false;
        for slot in self.0.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// Whether a certificate is `available` (the legacy name was `active`).
pub fn available<J: Json>(cert: &J) -> bool {
    matches!(
        binding_status(cert).as_deref(),
        Some("available" | "active")
    )
}

fn in_use<J: Json>(cert: &J) -> bool {
    cert.get("in_use").and_then(|v| v.as_bool()) == Some(true)
}

/// Rotation, step 1: creates a certificate (never retried), activates it, and waits until it
/// is `available`. A failure after the create carries the new certificate, so that nobody
/// creates another (three generations per account per day).
pub async fn create_and_activate<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    validity_days: Option<u32>,
    options: WaitOptions,
) -> Result<P::Json, Error<P::Json>> {
    p.progress(Step::Creating, None);
    let created = flow(
        client,
        p,
        &Operation::Create(account.clone(), validity_days),
    )
    .await?;
    activate_and_wait(client, p, account, created, options)
        .await
        .map_err(|(mut e, cert)| {
            let mut d = String::from("certificate ");
            d.push_str(&string_field(&cert, "id").unwrap_or_else(|| "?".into()));
            d.push_str(" was created but is not available yet; do not create another (3 per account per day): activate it or wait for it");
            if !e.detail.is_empty() {
                d.push_str(": ");
                d.push_str(&e.detail);
            }
            e.detail = d;
            if e.certificate.is_none() {
                e.certificate = Some(cert);
            }
            redacted(client, e)
        })
}

async fn activate_and_wait<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    created: P::Json,
    options: WaitOptions,
) -> Result<P::Json, (Error<P::Json>, P::Json)> {
    let id = match string_field(&created, "id").map(|s| CertificateId::parse::<P::Json>(&s)) {
        Some(Ok(id)) => id,
        _ => {
            let e = Error::new(
                ErrorKind::Api,
                "the API's answer to create has no certificate id",
            );
            return Err((e, created));
        }
    };
    p.progress(Step::Activating, Some(&created));
    let activate = Operation::Activate(account.clone(), id.clone());
    let (mut cert, mut cf_ray) = match execute_seen(client, p, &activate, Patience::Flow).await {
        Ok(seen) => seen,
        Err(e) => return Err((e, created)),
    };
    let get = Operation::Get(account.clone(), id);
    let mut deadline = Deadline::new(options);
    while !available(&cert) {
        let Some(ms) = deadline.next_sleep(p.now_ms()) else {
            let d = deadline.gave_up(&describe(&cert));
            let e = about(ErrorKind::CertificateNotAvailable, d, cert.clone(), cf_ray);
            return Err((e, cert));
        };
        p.progress(Step::Waiting, Some(&cert));
        if let Err(e) = sleep(p, ms).await {
            return Err((e, cert));
        }
        match execute_seen(client, p, &get, Patience::Flow).await {
            Ok(seen) => (cert, cf_ray) = seen,
            Err(e) => return Err((e, cert)),
        }
    }
    p.progress(Step::Done, Some(&cert));
    Ok(cert)
}

/// Rotation, step 2: makes an `available` certificate the one Gateway TLS inspection uses
/// (PATCH of the configuration's certificate block only), then waits until it reports
/// `in_use`. Refuses, before the PATCH, a certificate that is not `available`.
pub async fn set_in_use<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    id: &CertificateId,
    options: WaitOptions,
) -> Result<P::Json, Error<P::Json>> {
    set_in_use_steps(client, p, account, id, options)
        .await
        .map_err(|e| redacted(client, e))
}

async fn set_in_use_steps<P: Platform>(
    client: &Client,
    p: &P,
    account: &AccountId,
    id: &CertificateId,
    options: WaitOptions,
) -> Result<P::Json, Error<P::Json>> {
    let get = Operation::Get(account.clone(), id.clone());
    let (mut cert, mut cf_ray) = execute_seen(client, p, &get, Patience::Flow).await?;
    if !in_use(&cert) {
        if !available(&cert) {
            let mut d = describe(&cert);
            d.push_str(", not available: only an available certificate can be turned on (createAndActivate waits for that)");
            return Err(about(ErrorKind::CertificateNotAvailable, d, cert, cf_ray));
        }
        p.progress(Step::Switching, Some(&cert));
        flow(
            client,
            p,
            &Operation::UseCertificate(account.clone(), id.clone()),
        )
        .await?;
        (cert, cf_ray) = execute_seen(client, p, &get, Patience::Flow).await?;
    }
    let mut deadline = Deadline::new(options);
    while !in_use(&cert) {
        let Some(ms) = deadline.next_sleep(p.now_ms()) else {
            let mut what = describe(&cert);
            what.push_str(" and not in use yet");
            let d = deadline.gave_up(&what);
            return Err(about(ErrorKind::CertificateNotAvailable, d, cert, cf_ray));
        };
        p.progress(Step::Waiting, Some(&cert));
        sleep(p, ms).await?;
        (cert, cf_ray) = execute_seen(client, p, &get, Patience::Flow).await?;
    }
    p.progress(Step::Done, Some(&cert));
    Ok(cert)
}

#[cfg(test)]
mod tests;
