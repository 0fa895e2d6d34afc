//! The sans-IO core: every request of every method is a synchronous state machine. The
//! driver (JS in wasm, an async loop over a [`crate::client::Platform`] in the native tests)
//! hands it an [`Event`] (a response, a failure, a timer that fired) and carries out the
//! [`Action`] it returns (send this request, wait this long, report this step, done). There
//! is no clock, no I/O and no future inside: the driver passes the time, a random number and
//! whether the caller aborted in a [`Ctx`], so every decision is a plain function of (state,
//! event) and the wasm build needs no async runtime.
//!
//! - [`Call`]: one operation: pacing by the rate limit, retries (backoff, the server's waits,
//!   `x-should-retry`), the GET after a failed DELETE, redaction.
//! - [`Flow`]: a multi-step flow over calls, waits and progress reports, whose decisions are a
//!   [`Decide`] ([`crate::lifecycle`]: `retire`, `createAndActivate`, `setInUse`).
//! - [`RetireMany`]: `retireMany`: lanes (the concurrency), one `retire` flow each at a time.

use crate::client::{
    aborted, held, transport_error, Config, HttpResponse, Patience, Request, TransportError,
    GONE_AFTER_LOST_ANSWER,
};
use crate::endpoint::{Operation, Shape};
use crate::envelope::{binding_status, describe, interpret_redacted, Json};
use crate::error::{Error, ErrorKind};
use crate::lifecycle::{distinct, Decision, Fate, Retire, WaitOptions, MAX_CONCURRENCY};
#[allow(unused_imports)]
use crate::prelude::*;
use crate::ratelimit::Pacer;
use crate::retire::Step;
use crate::retry::{backoff_ms, server_wait_ms, status_is_retryable, MAX_SERVER_WAIT_MS};
use crate::validate::{AccountId, CertificateId};

/// What happened since the machine's last action.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<J> {
    /// The first step; a wait ended; a progress report was delivered.
    Go,
    /// The answer to the request last sent.
    Answer(HttpResponse<J>),
    /// No answer to the request last sent; or, with `Aborted`, a wait cut short by the
    /// caller's signal.
    Failed(TransportError),
}

/// A progress report (`onProgress`).
#[derive(Clone, Debug, PartialEq)]
pub struct Report<J> {
    /// The step.
    pub step: Step,
    /// The certificate as last seen.
    pub certificate: Option<J>,
    /// `retireMany`: the certificate's id, how many certificates are finished, how many in all.
    pub many: Option<(CertificateId, usize, usize)>,
}

/// What the driver does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Action<J> {
    /// Send this request (with the client's timeout), then step with its answer.
    Send(Request),
    /// Wait this many ms (cut short by the caller's signal), then step with [`Event::Go`].
    Wait(u64),
    /// Deliver this report, then step with [`Event::Go`].
    Report(Report<J>),
    /// Finished: resolve or reject with this.
    Done(Result<J, Error<J>>),
    /// `retireMany`: this lane has nothing left to do.
    LaneDone,
}

/// What a machine may know of the world at one step.
pub struct Ctx<'a> {
    /// The client's configuration.
    pub config: &'a Config,
    /// The rate-limit budget that every call of the client shares.
    pub pacer: &'a mut Pacer,
    /// Wall-clock time, ms since the Unix epoch.
    pub now: f64,
    /// Uniform in [0, 1), for jitter.
    pub random: f64,
    /// Whether the caller's signal has fired.
    pub aborted: bool,
}

/// A machine the drivers run: a step per event, on one lane (always 0 but for `retireMany`).
pub trait Machine<J> {
    /// Takes the event, returns what to do next.
    fn step(&mut self, cx: &mut Ctx<'_>, lane: usize, event: Event<J>) -> Action<J>;
}

/// A result with the `cf-ray` of the answer that gave it.
pub type Seen<J> = (J, Option<String>);

/// What a [`Call`] asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum CallOut<J> {
    /// Send this request.
    Send(Request),
    /// Wait this many ms.
    Wait(u64),
    /// Finished.
    Done(Result<Seen<J>, Error<J>>),
}

#[derive(Clone, Debug)]
enum Phase<J> {
    /// About to send: pacing first. Also where a wait for the budget or a retry ends.
    Ready,
    /// The request is out.
    Sent,
    /// The GET after a failed DELETE: being paced (`sent` false) or out (`sent` true).
    Check(Box<Check<J>>),
    /// Finished.
    Over,
}

/// Whether a request may go: now, after a wait for the budget, or (a single call that would
/// wait too long) not at all, the budget being spent for this many ms.
enum Pace {
    Now,
    Wait(u64),
    Held(u64),
}

/// The failed DELETE's answer, kept while its follow-up GET runs.
#[derive(Clone, Debug)]
struct Check<J> {
    failed: Error<J>,
    status: u16,
    headers: crate::client::ResponseHeaders,
    sent: bool,
}

/// One operation with the retry policy: the machine behind every single-request method.
#[derive(Clone, Debug)]
pub struct Call<J> {
    op: Operation,
    patience: Patience,
    max_retries: u32,
    retry: u32,
    checked: bool,
    phase: Phase<J>,
}

impl<J: Json> Call<J> {
    /// A call of `op`; nothing happens before the first step.
    pub fn new(op: Operation, patience: Patience, config: &Config) -> Self {
        let max_retries = if op.retryable() {
            config.max_retries
        } else {
            0
        };
        Self {
            op,
            patience,
            max_retries,
            retry: 0,
            checked: false,
            phase: Phase::Ready,
        }
    }

    /// Whether a request of this call is out (its answer not yet stepped in).
    pub fn in_flight(&self) -> bool {
        match &self.phase {
            Phase::Sent => true,
            Phase::Check(c) => c.sent,
            _ => false,
        }
    }

    /// Takes the event, returns what to do next. An error never holds a credential.
    pub fn step(&mut self, cx: &mut Ctx<'_>, event: Event<J>) -> CallOut<J> {
        let mut out = self.advance(cx, event);
        if let CallOut::Done(result) = &mut out {
            self.phase = Phase::Over;
            if let Err(e) = result {
                e.redact(&cx.config.auth.secrets());
            }
        }
        out
    }

    fn advance(&mut self, cx: &mut Ctx<'_>, event: Event<J>) -> CallOut<J> {
        match std::mem::replace(&mut self.phase, Phase::Over) {
            Phase::Ready => match event {
                // Only a wait ends here, and a wait fails only when the caller aborts.
                Event::Failed(_) => CallOut::Done(Err(aborted())),
                _ => self.send(cx),
            },
            Phase::Sent => match answer(cx, event) {
                Ok(response) => self.answered(cx, response),
                Err(TransportError::Aborted) => CallOut::Done(Err(aborted())),
                Err(_) if self.retry < self.max_retries => {
                    let ms = backoff_ms(self.retry, cx.random);
                    self.retry += 1;
                    self.phase = Phase::Ready;
                    CallOut::Wait(ms)
                }
                Err(failure) => CallOut::Done(Err(transport_error(
                    failure,
                    cx.config.timeout_ms,
                    self.retry + 1,
                    &cx.config.auth.secrets(),
                ))),
            },
            Phase::Check(check) if !check.sent => match event {
                Event::Failed(_) => CallOut::Done(Err(aborted())),
                _ => self.send_check(cx, check),
            },
            Phase::Check(check) => match answer(cx, event) {
                Ok(response) => self.checked(cx, *check, response),
                Err(TransportError::Aborted) => CallOut::Done(Err(aborted())),
                Err(_) => self.proceed(cx, *check, None),
            },
            Phase::Over => CallOut::Done(Err(Error::new(
                ErrorKind::Connection,
                "the call was stepped after it finished",
            ))),
        }
    }

    /// Sends the request, or holds it while the budget is spent.
    fn send(&mut self, cx: &mut Ctx<'_>) -> CallOut<J> {
        match self.pace(cx) {
            Pace::Now => {
                self.phase = Phase::Sent;
                CallOut::Send(cx.config.request(&self.op))
            }
            Pace::Wait(ms) => {
                self.phase = Phase::Ready;
                CallOut::Wait(ms)
            }
            Pace::Held(ms) => CallOut::Done(Err(held(ms))),
        }
    }

    /// Whether a request may go now (then it is booked as sent).
    fn pace(&self, cx: &mut Ctx<'_>) -> Pace {
        match cx.pacer.delay_ms(cx.now) {
            0 => {
                cx.pacer.on_send();
                Pace::Now
            }
            ms if self.patience == Patience::Call && ms > MAX_SERVER_WAIT_MS => Pace::Held(ms),
            ms => Pace::Wait(ms),
        }
    }

    fn answered(&mut self, cx: &mut Ctx<'_>, response: HttpResponse<J>) -> CallOut<J> {
        let config = cx.config;
        let status = response.status;
        let secrets = config.auth.secrets();
        let headers = response.headers;
        let mut err = match interpret_redacted(
            status,
            &response.body,
            response.json,
            self.op.shape(),
            &secrets,
        ) {
            Ok(result) => return CallOut::Done(Ok((result, headers.cf_ray))),
            Err(e) => e,
        };
        err.cf_ray = headers.cf_ray.clone();
        if (200..300).contains(&status) {
            return CallOut::Done(Err(err)); // a 2xx that is not a success envelope is never retried
        }
        let delete = matches!(self.op, Operation::Delete(..));
        if status == 404 && self.retry > 0 && delete {
            // A lost answer (reset, timeout, 5xx from a proxy) may hide a DELETE that worked.
            err.detail = GONE_AFTER_LOST_ANSWER.into();
        }
        // The API answers 500 (not a 4xx) when asked to delete a certificate that is still
        // active; retrying cannot help. Look at the certificate before anything else.
        let check = Check {
            failed: err,
            status,
            headers,
            sent: false,
        };
        if delete && !self.checked && (matches!(status, 400 | 409 | 422) || status >= 500) {
            self.checked = true;
            return self.send_check(cx, Box::new(check));
        }
        self.proceed(cx, check, None)
    }

    /// The GET after a failed DELETE (one attempt, paced like any request).
    fn send_check(&mut self, cx: &mut Ctx<'_>, mut check: Box<Check<J>>) -> CallOut<J> {
        let (Operation::Delete(account, id) | Operation::Get(account, id)) = &self.op else {
            return self.proceed(cx, *check, None);
        };
        match self.pace(cx) {
            Pace::Now => {
                let get = Operation::Get(account.clone(), id.clone());
                check.sent = true;
                self.phase = Phase::Check(check);
                CallOut::Send(cx.config.request(&get))
            }
            Pace::Wait(ms) => {
                self.phase = Phase::Check(check);
                CallOut::Wait(ms)
            }
            // Not sent: the DELETE's own answer decides.
            Pace::Held(_) => self.proceed(cx, *check, None),
        }
    }

    /// What the follow-up GET found: a certificate that is not `inactive` is the answer;
    /// otherwise the DELETE's rules apply, after the wait the GET's answer asked for, if any.
    fn checked(&mut self, cx: &mut Ctx<'_>, check: Check<J>, got: HttpResponse<J>) -> CallOut<J> {
        let wait = server_wait_ms(got.status, &got.headers, cx.now);
        let secrets = cx.config.auth.secrets();
        let Ok(cert) = interpret_redacted(got.status, &got.body, got.json, Shape::One, &secrets)
        else {
            return self.proceed(cx, check, wait);
        };
        if binding_status(&cert).as_deref() == Some("inactive") {
            return self.proceed(cx, check, None);
        }
        let mut detail = String::from("cannot delete: ");
        detail.push_str(&describe(&cert));
        detail.push_str(", not inactive; deactivate it first (retire does both)");
        let mut e = check
            .failed
            .into_kind(ErrorKind::CertificateNotInactive, detail);
        e.certificate = Some(cert);
        CallOut::Done(Err(e))
    }

    /// After a failed answer: retry (after the server's wait or a backoff) or give up.
    fn proceed(
        &mut self,
        cx: &mut Ctx<'_>,
        check: Check<J>,
        follow_up_wait: Option<u64>,
    ) -> CallOut<J> {
        let Check {
            failed: mut err,
            status,
            headers,
            ..
        } = check;
        // The follow-up GET may itself have been told to wait (a 429): honour the longer wait.
        let wait = server_wait_ms(status, &headers, cx.now).max(follow_up_wait);
        err.retry_after_ms = wait;
        if self.retry >= self.max_retries || !status_is_retryable(status, &headers) {
            return CallOut::Done(Err(err));
        }
        let ms = match wait {
            Some(ms) if ms > MAX_SERVER_WAIT_MS => return CallOut::Done(Err(err)), // the caller decides
            Some(ms) => ms,
            None => backoff_ms(self.retry, cx.random),
        };
        self.retry += 1;
        self.phase = Phase::Ready;
        CallOut::Wait(ms)
    }
}

/// Books the answer (or its absence) with the pacer.
fn answer<J>(cx: &mut Ctx<'_>, event: Event<J>) -> Result<HttpResponse<J>, TransportError> {
    match event {
        Event::Answer(r) => {
            let wait = (r.status == 429)
                .then(|| server_wait_ms(r.status, &r.headers, cx.now))
                .flatten();
            cx.pacer.on_answer(cx.now, r.status, &r.headers, wait);
            Ok(r)
        }
        Event::Failed(f) => {
            cx.pacer.on_no_answer();
            Err(f)
        }
        Event::Go => {
            cx.pacer.on_no_answer();
            Err(TransportError::Connection(String::new()))
        }
    }
}

impl<J: Json> Machine<J> for Call<J> {
    fn step(&mut self, cx: &mut Ctx<'_>, _lane: usize, event: Event<J>) -> Action<J> {
        match Call::step(self, cx, event) {
            CallOut::Send(r) => Action::Send(r),
            CallOut::Wait(ms) => Action::Wait(ms),
            CallOut::Done(r) => Action::Done(r.map(|(j, _)| j)),
        }
    }
}

/// What the last thing a flow asked for came to: `Ok(None)` for the start, a report delivered
/// or a wait that ended; `Ok(Some(..))` for a call's result; `Err` for a call's error or a
/// wait cut short by the caller.
pub type Outcome<J> = Result<Option<Seen<J>>, Error<J>>;

/// What a flow does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Do<J> {
    /// Run this operation (a flow's call: it waits for the budget however long).
    Call(Operation),
    /// Wait this many ms.
    Sleep(u64),
    /// Report this step.
    Report(Step, Option<J>),
    /// Finished.
    Finish(Result<J, Error<J>>),
}

/// A flow's decisions: given what the last step came to, the next one.
pub trait Decide<J> {
    /// The next thing to do.
    fn decide(&mut self, now: f64, outcome: Outcome<J>) -> Do<J>;
}

/// The `Ok(Some(..))` of an outcome, or its error.
pub(crate) fn seen<J>(outcome: Outcome<J>) -> Result<Seen<J>, Error<J>> {
    match outcome {
        Ok(Some(seen)) => Ok(seen),
        Ok(None) => Err(Error::new(ErrorKind::Connection, "no answer")),
        Err(e) => Err(e),
    }
}

/// A multi-step flow: runs the calls, waits and reports its [`Decide`] asks for.
#[derive(Clone, Debug)]
pub struct Flow<J, D> {
    decide: D,
    call: Option<Call<J>>,
    sleeping: bool,
    over: bool,
}

impl<J: Json, D: Decide<J>> Flow<J, D> {
    /// The flow; nothing happens before the first step.
    pub fn new(decide: D) -> Self {
        Self {
            decide,
            call: None,
            sleeping: false,
            over: false,
        }
    }

    /// Whether a request of this flow is out.
    pub fn in_flight(&self) -> bool {
        self.call.as_ref().is_some_and(Call::in_flight)
    }

    /// Takes the event, returns what to do next.
    pub fn step(&mut self, cx: &mut Ctx<'_>, event: Event<J>) -> Action<J> {
        if self.over {
            return Action::Done(Err(Error::new(
                ErrorKind::Connection,
                "the flow was stepped after it finished",
            )));
        }
        let mut outcome: Outcome<J> = Ok(None);
        if let Some(call) = &mut self.call {
            match call.step(cx, event) {
                CallOut::Send(r) => return Action::Send(r),
                CallOut::Wait(ms) => return Action::Wait(ms),
                CallOut::Done(r) => {
                    self.call = None;
                    outcome = r.map(Some);
                }
            }
        } else if self.sleeping {
            self.sleeping = false;
            if let Event::Failed(_) = event {
                outcome = Err(aborted());
            }
        }
        loop {
            match self.decide.decide(cx.now, outcome) {
                Do::Call(op) => {
                    let mut call = Call::new(op, Patience::Flow, cx.config);
                    match call.step(cx, Event::Go) {
                        CallOut::Send(r) => {
                            self.call = Some(call);
                            return Action::Send(r);
                        }
                        CallOut::Wait(ms) => {
                            self.call = Some(call);
                            return Action::Wait(ms);
                        }
                        CallOut::Done(r) => outcome = r.map(Some),
                    }
                }
                Do::Sleep(ms) => {
                    self.sleeping = true;
                    return Action::Wait(ms);
                }
                Do::Report(step, certificate) => {
                    return Action::Report(Report {
                        step,
                        certificate,
                        many: None,
                    })
                }
                Do::Finish(mut result) => {
                    self.over = true;
                    // A flow's own refusals quote the certificate: redact them like any error.
                    if let Err(e) = &mut result {
                        e.redact(&cx.config.auth.secrets());
                    }
                    return Action::Done(result);
                }
            }
        }
    }
}

impl<J: Json, D: Decide<J>> Machine<J> for Flow<J, D> {
    fn step(&mut self, cx: &mut Ctx<'_>, _lane: usize, event: Event<J>) -> Action<J> {
        Flow::step(self, cx, event)
    }
}

/// `retireMany`: every id (duplicates removed) retired, `concurrency` at a time, each on a lane
/// of its own; one [`Fate`] per id, in the order given. One certificate's failure never stops
/// the others; after an abort no certificate is started.
#[derive(Clone, Debug)]
pub struct RetireMany<J> {
    account: AccountId,
    ids: Vec<CertificateId>,
    options: WaitOptions,
    next: usize,
    done: usize,
    fates: Vec<Option<Fate<J>>>,
    lanes: Vec<Option<Lane<J>>>,
}

/// A lane's current certificate: its index in the ids, and its `retire` (a [`Decision`], so
/// that the flows share one step function).
type Lane<J> = (usize, Flow<J, Decision<J>>);

impl<J: Json> RetireMany<J> {
    /// The machine; `concurrency` is clamped to 1..=32 and to the number of certificates.
    pub fn new(
        account: AccountId,
        ids: Vec<CertificateId>,
        options: WaitOptions,
        concurrency: usize,
    ) -> Self {
        let ids = distinct(ids);
        let lanes = concurrency.clamp(1, MAX_CONCURRENCY).min(ids.len());
        Self {
            account,
            fates: ids.iter().map(|_| None).collect(),
            ids,
            options,
            next: 0,
            done: 0,
            lanes: (0..lanes).map(|_| None).collect(),
        }
    }

    /// How many lanes the driver runs (each from [`Event::Go`] to [`Action::LaneDone`]).
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// How many requests of this machine are out.
    pub fn in_flight(&self) -> usize {
        self.lanes
            .iter()
            .flatten()
            .filter(|(_, f)| f.in_flight())
            .count()
    }

    /// Takes the event of one lane, returns what that lane does next.
    pub fn step(&mut self, cx: &mut Ctx<'_>, lane: usize, event: Event<J>) -> Action<J> {
        let total = self.ids.len();
        let mut event = event;
        loop {
            let Some(slot) = self.lanes.get_mut(lane) else {
                return Action::LaneDone;
            };
            let Some((i, flow)) = slot else {
                let i = self.next;
                let Some(id) = self.ids.get(i) else {
                    return Action::LaneDone;
                };
                if cx.aborted {
                    return Action::LaneDone;
                }
                self.next += 1;
                let retire = Retire::new(self.account.clone(), id.clone(), self.options);
                *slot = Some((i, Flow::new(Decision::Retire(retire))));
                event = Event::Go;
                continue;
            };
            let i = *i;
            let Some(id) = self.ids.get(i) else {
                return Action::LaneDone;
            };
            match flow.step(cx, event) {
                Action::Report(mut r) => {
                    if r.step == Step::Done {
                        self.done += 1;
                    }
                    r.many = Some((id.clone(), self.done, total));
                    return Action::Report(r);
                }
                Action::Done(result) => {
                    *slot = None;
                    let fate = Fate::of(result);
                    let report = match &fate {
                        Fate::Deleted(_) => None,
                        Fate::Refused(e) | Fate::Failed(e) => {
                            self.done += 1;
                            Some(Report {
                                step: fate.step(),
                                certificate: e.certificate.clone(),
                                many: Some((id.clone(), self.done, total)),
                            })
                        }
                    };
                    if let Some(f) = self.fates.get_mut(i) {
                        *f = Some(fate);
                    }
                    if let Some(r) = report {
                        return Action::Report(r);
                    }
                    event = Event::Go;
                }
                other => return other,
            }
        }
    }

    /// The fates, in the order the ids were given; a certificate never finished (after an
    /// abort) failed with `APIUserAbortError`.
    pub fn finish(self) -> Vec<(CertificateId, Fate<J>)> {
        self.ids
            .into_iter()
            .zip(self.fates)
            .map(|(id, fate)| (id, fate.unwrap_or_else(|| Fate::Failed(aborted()))))
            .collect()
    }
}

impl<J: Json> Machine<J> for RetireMany<J> {
    fn step(&mut self, cx: &mut Ctx<'_>, lane: usize, event: Event<J>) -> Action<J> {
        RetireMany::step(self, cx, lane, event)
    }
}

#[cfg(test)]
mod tests;
