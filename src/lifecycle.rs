//! The multi-step flows: `retire`, `retireMany`, and rotation (`createAndActivate`,
//! `setInUse`). Each flow's decisions are one [`Decide`] ([`Retire`], [`CreateAndActivate`],
//! [`SetInUse`]) that [`crate::machine::Flow`] runs; the async functions here drive them over
//! a [`Platform`] (the native tests' way in).

use crate::client::{drive, drive_lane, Client, Platform, GONE_AFTER_LOST_ANSWER};
use crate::endpoint::Operation;
use crate::envelope::{binding_status, describe, string_field, Json};
use crate::error::{Error, ErrorKind};
use crate::machine::{seen, Decide, Do, Flow, Outcome, RetireMany, Seen};
#[allow(unused_imports)]
use crate::prelude::*;
use crate::retire::{self, Next, Step};
use crate::text::push_u64;
use crate::validate::{self, AccountId, CertificateId, MAX_TIMER_MS};
use std::cell::RefCell;
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
#[derive(Clone, Copy, Debug)]
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

/// An error about a certificate seen, carrying it and the `cf-ray` of the answer that showed it.
fn about<J>(kind: ErrorKind, detail: String, seen: Seen<J>) -> Error<J> {
    let mut e = Error::new(kind, detail).with_certificate(seen.0);
    e.cf_ray = seen.1;
    e
}

/// Where `retire` is.
#[derive(Clone, Debug)]
enum RetireAt<J> {
    Start,
    Check,
    Look,
    Deactivate,
    Wait(u64),
    Slept,
    Delete,
    Deleted,
    Finish(J),
}

/// `retire`: deactivates (if needed), waits for `inactive`, then deletes; refuses in-use and
/// custom certificates before changing anything. Finishes with the deleted certificate.
#[derive(Clone, Debug)]
pub struct Retire<J> {
    account: AccountId,
    id: CertificateId,
    deadline: Deadline,
    deactivated: bool,
    seen: Option<Seen<J>>,
    at: RetireAt<J>,
}

impl<J: Json> Retire<J> {
    /// The decisions of one `retire`.
    pub fn new(account: AccountId, id: CertificateId, options: WaitOptions) -> Self {
        Self {
            account,
            id,
            deadline: Deadline::new(options),
            deactivated: false,
            seen: None,
            at: RetireAt::Start,
        }
    }

    fn op(&self, make: fn(AccountId, CertificateId) -> Operation) -> Do<J> {
        Do::Call(make(self.account.clone(), self.id.clone()))
    }

    /// What to do with the certificate as last seen.
    fn look(&mut self, now: f64, seen: Seen<J>) -> Do<J> {
        let cert = &seen.0;
        let report = Some(cert.clone());
        let next = retire::next(cert);
        let refuse = |kind, detail| Do::Finish(Err(about(kind, detail, seen.clone())));
        let step = match next {
            Next::RefuseInUse => {
                let mut d = describe(cert);
                d.push_str(" and in use by Gateway TLS inspection: select another certificate in the Gateway configuration first");
                return refuse(ErrorKind::CertificateInUse, d);
            }
            Next::RefuseCustom => {
                let d = "custom (BYO-PKI) certificates are not deleted through the Gateway certificates API";
                return refuse(ErrorKind::UnsupportedCertificate, d.into());
            }
            Next::Delete => {
                self.at = RetireAt::Delete;
                Step::Deleting
            }
            Next::Deactivate if !self.deactivated => {
                self.at = RetireAt::Deactivate;
                Step::Deactivating
            }
            Next::Deactivate | Next::Wait => match self.deadline.next_sleep(now) {
                Some(ms) => {
                    self.at = RetireAt::Wait(ms);
                    Step::Waiting
                }
                None => {
                    let d = self.deadline.gave_up(&describe(cert));
                    return refuse(ErrorKind::CertificateNotInactive, d);
                }
            },
        };
        self.seen = Some(seen);
        Do::Report(step, report)
    }
}

impl<J: Json> Decide<J> for Retire<J> {
    fn decide(&mut self, now: f64, outcome: Outcome<J>) -> Do<J> {
        match std::mem::replace(&mut self.at, RetireAt::Start) {
            RetireAt::Start => {
                self.at = RetireAt::Check;
                Do::Report(Step::Checking, None)
            }
            RetireAt::Check | RetireAt::Slept => match outcome {
                Err(e) => Do::Finish(Err(e)),
                Ok(_) => {
                    self.at = RetireAt::Look;
                    self.op(Operation::Get)
                }
            },
            RetireAt::Look => match seen(outcome) {
                Ok(seen) => self.look(now, seen),
                Err(e) => Do::Finish(Err(e)),
            },
            RetireAt::Deactivate => {
                self.deactivated = true;
                self.at = RetireAt::Look;
                self.op(Operation::Deactivate)
            }
            RetireAt::Wait(ms) => {
                self.at = RetireAt::Slept;
                Do::Sleep(ms)
            }
            RetireAt::Delete => {
                self.at = RetireAt::Deleted;
                self.op(Operation::Delete)
            }
            RetireAt::Deleted => {
                let deleted = match seen(outcome) {
                    Ok((deleted, _)) => deleted,
                    // Our DELETE's answer was lost and its retry found the certificate gone: it
                    // was seen inactive a moment ago, so retire's job is done. Finish with that
                    // last state.
                    Err(e)
                        if e.kind == ErrorKind::NotFound && e.detail == GONE_AFTER_LOST_ANSWER =>
                    {
                        match self.seen.take() {
                            Some((cert, _)) => cert,
                            None => return Do::Finish(Err(e)),
                        }
                    }
                    Err(e) => return Do::Finish(Err(e)),
                };
                self.at = RetireAt::Finish(deleted.clone());
                Do::Report(Step::Done, Some(deleted))
            }
            RetireAt::Finish(deleted) => Do::Finish(Ok(deleted)),
        }
    }
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
    let retire = Retire::new(account.clone(), id.clone(), options);
    run(client, p, Decision::Retire(retire)).await
}

/// Runs one flow to its end over a platform.
async fn run<P: Platform>(
    client: &Client,
    p: &P,
    decision: Decision<P::Json>,
) -> Result<P::Json, Error<P::Json>> {
    drive(client, p, &RefCell::new(Flow::new(decision))).await
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

    pub(crate) fn step(&self) -> Step {
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
    let machine = RefCell::new(RetireMany::new(account.clone(), ids, options, concurrency));
    let lanes = machine.borrow().lanes();
    let machine_ref = &machine;
    let workers: Vec<Pin<Box<dyn Future<Output = ()> + '_>>> = (0..lanes)
        .map(|lane| {
            Box::pin(async move {
                drive_lane(client, p, machine_ref, lane).await;
            }) as Pin<Box<dyn Future<Output = ()>>>
        })
        .collect();
    JoinAll(workers.into_iter().map(Some).collect()).await;
    machine.into_inner().finish()
}

/// Polls every future until all are ready (the few `retireMany` lanes).
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

/// Where `createAndActivate` is.
#[derive(Clone, Debug)]
enum CreateAt {
    Start,
    Create,
    Created,
    Activate,
    Activated,
    Wait(u64),
    Slept,
    Polled,
    Finish,
}

/// Rotation, step 1: creates a certificate (never retried), activates it, and waits until it
/// is `available`. A failure after the create carries the new certificate, so that nobody
/// creates another (three generations per account per day).
#[derive(Clone, Debug)]
pub struct CreateAndActivate<J> {
    account: AccountId,
    validity_days: Option<u32>,
    deadline: Deadline,
    id: Option<CertificateId>,
    seen: Option<Seen<J>>,
    at: CreateAt,
}

impl<J: Json> CreateAndActivate<J> {
    /// The decisions of one `createAndActivate`.
    pub fn new(account: AccountId, validity_days: Option<u32>, options: WaitOptions) -> Self {
        Self {
            account,
            validity_days,
            deadline: Deadline::new(options),
            id: None,
            seen: None,
            at: CreateAt::Start,
        }
    }

    /// After the create: the error says the certificate exists, and carries it.
    fn fail(&mut self, mut e: Error<J>) -> Do<J> {
        let Some((cert, _)) = self.seen.take() else {
            return Do::Finish(Err(e));
        };
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
        Do::Finish(Err(e))
    }

    fn get(&self) -> Do<J> {
        match &self.id {
            Some(id) => Do::Call(Operation::Get(self.account.clone(), id.clone())),
            None => Do::Finish(Err(no_id())),
        }
    }

    /// Done when the certificate is `available`; otherwise the next wait, if any is left.
    fn look(&mut self, now: f64, outcome: Outcome<J>) -> Do<J> {
        let seen = match seen(outcome) {
            Ok(seen) => seen,
            Err(e) => return self.fail(e),
        };
        let cert = seen.0.clone();
        self.seen = Some(seen.clone());
        if available(&cert) {
            self.at = CreateAt::Finish;
            return Do::Report(Step::Done, Some(cert));
        }
        match self.deadline.next_sleep(now) {
            Some(ms) => {
                self.at = CreateAt::Wait(ms);
                Do::Report(Step::Waiting, Some(cert))
            }
            None => {
                let d = self.deadline.gave_up(&describe(&cert));
                self.fail(about(ErrorKind::CertificateNotAvailable, d, seen))
            }
        }
    }
}

fn no_id<J>() -> Error<J> {
    Error::new(
        ErrorKind::Api,
        "the API's answer to create has no certificate id",
    )
}

impl<J: Json> Decide<J> for CreateAndActivate<J> {
    fn decide(&mut self, now: f64, outcome: Outcome<J>) -> Do<J> {
        match std::mem::replace(&mut self.at, CreateAt::Start) {
            CreateAt::Start => {
                self.at = CreateAt::Create;
                Do::Report(Step::Creating, None)
            }
            CreateAt::Create => {
                self.at = CreateAt::Created;
                Do::Call(Operation::Create(self.account.clone(), self.validity_days))
            }
            CreateAt::Created => {
                let created = match seen(outcome) {
                    Ok(seen) => seen,
                    Err(e) => return Do::Finish(Err(e)),
                };
                let cert = created.0.clone();
                self.seen = Some(created);
                match string_field(&cert, "id").map(|s| CertificateId::parse::<J>(&s)) {
                    Some(Ok(id)) => self.id = Some(id),
                    _ => return self.fail(no_id()),
                }
                self.at = CreateAt::Activate;
                Do::Report(Step::Activating, Some(cert))
            }
            CreateAt::Activate => match &self.id {
                Some(id) => {
                    self.at = CreateAt::Activated;
                    Do::Call(Operation::Activate(self.account.clone(), id.clone()))
                }
                None => self.fail(no_id()),
            },
            CreateAt::Activated | CreateAt::Polled => self.look(now, outcome),
            CreateAt::Wait(ms) => {
                self.at = CreateAt::Slept;
                Do::Sleep(ms)
            }
            CreateAt::Slept => match outcome {
                Err(e) => self.fail(e),
                Ok(_) => {
                    self.at = CreateAt::Polled;
                    self.get()
                }
            },
            CreateAt::Finish => match self.seen.take() {
                Some((cert, _)) => Do::Finish(Ok(cert)),
                None => Do::Finish(Err(no_id())),
            },
        }
    }
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
    let create = CreateAndActivate::new(account.clone(), validity_days, options);
    run(client, p, Decision::CreateAndActivate(create)).await
}

/// Where `setInUse` is.
#[derive(Clone, Debug)]
enum SetAt {
    Start,
    Got,
    Switch,
    Switched,
    Polled,
    Wait(u64),
    Slept,
    Finish,
}

/// Rotation, step 2: makes an `available` certificate the one Gateway TLS inspection uses
/// (PATCH of the configuration's certificate block only), then waits until it reports
/// `in_use`. Refuses, before the PATCH, a certificate that is not `available`.
#[derive(Clone, Debug)]
pub struct SetInUse<J> {
    account: AccountId,
    id: CertificateId,
    deadline: Deadline,
    seen: Option<Seen<J>>,
    at: SetAt,
}

impl<J: Json> SetInUse<J> {
    /// The decisions of one `setInUse`.
    pub fn new(account: AccountId, id: CertificateId, options: WaitOptions) -> Self {
        Self {
            account,
            id,
            deadline: Deadline::new(options),
            seen: None,
            at: SetAt::Start,
        }
    }

    fn op(&self, make: fn(AccountId, CertificateId) -> Operation) -> Do<J> {
        Do::Call(make(self.account.clone(), self.id.clone()))
    }

    /// Done when the certificate reports `in_use`; otherwise the next wait, if any is left.
    fn poll(&mut self, now: f64, seen: Seen<J>) -> Do<J> {
        let cert = seen.0.clone();
        if in_use(&cert) {
            self.at = SetAt::Finish;
            self.seen = Some(seen);
            return Do::Report(Step::Done, Some(cert));
        }
        match self.deadline.next_sleep(now) {
            Some(ms) => {
                self.at = SetAt::Wait(ms);
                Do::Report(Step::Waiting, Some(cert))
            }
            None => {
                let mut what = describe(&cert);
                what.push_str(" and not in use yet");
                let d = self.deadline.gave_up(&what);
                Do::Finish(Err(about(ErrorKind::CertificateNotAvailable, d, seen)))
            }
        }
    }
}

impl<J: Json> Decide<J> for SetInUse<J> {
    fn decide(&mut self, now: f64, outcome: Outcome<J>) -> Do<J> {
        match std::mem::replace(&mut self.at, SetAt::Start) {
            SetAt::Start => {
                self.at = SetAt::Got;
                self.op(Operation::Get)
            }
            SetAt::Got => {
                let seen = match seen(outcome) {
                    Ok(seen) => seen,
                    Err(e) => return Do::Finish(Err(e)),
                };
                if in_use(&seen.0) {
                    return self.poll(now, seen);
                }
                if !available(&seen.0) {
                    let mut d = describe(&seen.0);
                    d.push_str(", not available: only an available certificate can be turned on (createAndActivate waits for that)");
                    return Do::Finish(Err(about(ErrorKind::CertificateNotAvailable, d, seen)));
                }
                self.at = SetAt::Switch;
                Do::Report(Step::Switching, Some(seen.0))
            }
            SetAt::Switch => {
                self.at = SetAt::Switched;
                self.op(Operation::UseCertificate)
            }
            SetAt::Switched | SetAt::Slept => match outcome {
                Err(e) => Do::Finish(Err(e)),
                Ok(_) => {
                    self.at = SetAt::Polled;
                    self.op(Operation::Get)
                }
            },
            SetAt::Polled => match seen(outcome) {
                Ok(seen) => self.poll(now, seen),
                Err(e) => Do::Finish(Err(e)),
            },
            SetAt::Wait(ms) => {
                self.at = SetAt::Slept;
                Do::Sleep(ms)
            }
            SetAt::Finish => match self.seen.take() {
                Some((cert, _)) => Do::Finish(Ok(cert)),
                None => Do::Finish(Err(Error::new(ErrorKind::Api, "no certificate seen"))),
            },
        }
    }
}

/// Any of the three flows, as one type: the wasm build then has one [`Flow`] step function,
/// not one per flow.
#[derive(Clone, Debug)]
pub enum Decision<J> {
    /// `retire`.
    Retire(Retire<J>),
    /// `createAndActivate`.
    CreateAndActivate(CreateAndActivate<J>),
    /// `setInUse`.
    SetInUse(SetInUse<J>),
}

impl<J: Json> Decide<J> for Decision<J> {
    fn decide(&mut self, now: f64, outcome: Outcome<J>) -> Do<J> {
        match self {
            Self::Retire(d) => d.decide(now, outcome),
            Self::CreateAndActivate(d) => d.decide(now, outcome),
            Self::SetInUse(d) => d.decide(now, outcome),
        }
    }
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
    let set = SetInUse::new(account.clone(), id.clone(), options);
    run(client, p, Decision::SetInUse(set)).await
}

#[cfg(test)]
mod tests;
