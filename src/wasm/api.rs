//! The wasm half of the JS surface: `Core`, which the JS driver (`driver.js`: the public
//! `GatewayCertificates` and `deleteCertificate`) runs. Argument reading and validation, the
//! machines of every call in flight, and the one place where a core error becomes a JS
//! `Error`. No futures: each method returns at once with the next thing for JS to do.

use crate::client::Patience;
use crate::client::{Client, Config, HttpResponse, RawOptions, ResponseHeaders, TransportError};
use crate::endpoint::Operation;
use crate::error::Error;
use crate::lifecycle::{self, CreateAndActivate, Decision, Fate, Retire, SetInUse, WaitOptions};
use crate::machine::{Action, Call, Ctx, Event, Flow, Machine, Report, RetireMany};
#[allow(unused_imports)]
use crate::prelude::*;
use crate::validate::{self, AccountId, CertificateId};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

type JsError = Error<JsValue>;

/// Turns a core error into a JS `Error` with the contract's properties.
#[inline(never)] // one copy: every path that rejects calls it
fn to_js(e: JsError) -> JsValue {
    let err = js_sys::Error::new(&e.message());
    err.set_name(e.kind.name());
    let set = |target: &JsValue, key: &str, value: &JsValue| {
        let _ = Reflect::set(target, &JsValue::from_str(key), value);
    };
    let opt = |s: &Option<String>| s.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
    set(
        &err,
        "status",
        &e.status.map_or(JsValue::UNDEFINED, JsValue::from),
    );
    let errors = Array::new();
    for m in &e.errors {
        let item = Object::new();
        set(&item, "code", &JsValue::from_f64(m.code as f64));
        set(&item, "message", &JsValue::from_str(&m.message));
        if m.documentation_url.is_some() {
            set(&item, "documentation_url", &opt(&m.documentation_url));
        }
        if m.source_pointer.is_some() {
            let source = Object::new();
            set(&source, "pointer", &opt(&m.source_pointer));
            set(&item, "source", &source);
        }
        errors.push(&item);
    }
    set(&err, "errors", &errors);
    set(&err, "cfRay", &opt(&e.cf_ray));
    if let Some(ms) = e.retry_after_ms {
        set(&err, "retryAfterMs", &JsValue::from_f64(ms as f64));
    }
    if let Some(c) = &e.certificate {
        set(&err, "certificate", c);
    }
    err.into()
}

/// `obj[key]` when `obj` is an object; `undefined` otherwise.
fn field(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn wrong_type(name: &str, what: &str) -> JsError {
    let mut m = String::from(name);
    m.push_str(" must be ");
    m.push_str(what);
    Error::invalid(m)
}

fn opt_string(obj: &JsValue, key: &str) -> Result<Option<String>, JsError> {
    let v = field(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| wrong_type(key, "a string"))
}

fn opt_number(obj: &JsValue, key: &str) -> Result<Option<f64>, JsError> {
    let v = field(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .map(Some)
        .ok_or_else(|| wrong_type(key, "a number"))
}

fn read_config(options: &JsValue) -> Result<Config, JsError> {
    if !options.is_object() {
        return Err(wrong_type(
            "options",
            "an object with apiToken, or apiEmail and apiKey",
        ));
    }
    let (token, email, key, base) = (
        opt_string(options, "apiToken")?,
        opt_string(options, "apiEmail")?,
        opt_string(options, "apiKey")?,
        opt_string(options, "baseUrl")?,
    );
    Config::new(&RawOptions {
        api_token: token.as_deref(),
        api_email: email.as_deref(),
        api_key: key.as_deref(),
        base_url: base.as_deref(),
        timeout_ms: opt_number(options, "timeoutMs")?,
        max_retries: opt_number(options, "maxRetries")?,
    })
}

fn cert_id(value: &JsValue) -> Result<CertificateId, JsError> {
    match value.as_string() {
        Some(s) => CertificateId::parse(&s),
        None => Err(wrong_type(
            "certificateId",
            "a string (the certificate's UUID)",
        )),
    }
}

fn account_id(value: &JsValue, name: &str) -> Result<AccountId, JsError> {
    match value.as_string() {
        Some(s) => AccountId::parse_as(&s, name),
        None if value.is_undefined() || value.is_null() => AccountId::parse_as("", name),
        None => Err(wrong_type(name, "a string")),
    }
}

fn params_account(params: &JsValue) -> Result<AccountId, JsError> {
    if !params.is_object() {
        return Err(wrong_type("params", "an object like { account_id: \"…\" }"));
    }
    account_id(&field(params, "account_id"), "account_id")
}

fn wait_options(options: &JsValue) -> Result<WaitOptions, JsError> {
    WaitOptions::new(
        opt_number(options, "pollIntervalMs")?,
        opt_number(options, "waitTimeoutMs")?,
    )
}

fn validity_days(params: &JsValue) -> Result<Option<u32>, JsError> {
    match opt_number(params, "validity_period_days")? {
        Some(d) => Ok(Some(validate::validity_days(d)?)),
        None => Ok(None),
    }
}

/// Every id of `retireMany`'s array, validated before anything is sent.
fn cert_ids(value: &JsValue) -> Result<Vec<CertificateId>, JsError> {
    if !Array::is_array(value) {
        return Err(wrong_type("certificateIds", "an array of certificate ids"));
    }
    let array: &Array = value.unchecked_ref();
    array.iter().map(|v| cert_id(&v)).collect()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `{ deleted, refused, failed }` from the fates, in the order the ids were given.
fn many_result(fates: Vec<(CertificateId, Fate<JsValue>)>) -> JsValue {
    let (deleted, refused, failed) = (Array::new(), Array::new(), Array::new());
    for (id, fate) in fates {
        let (list, error) = match fate {
            Fate::Deleted(cert) => {
                deleted.push(&cert);
                continue;
            }
            Fate::Refused(e) => (&refused, e),
            Fate::Failed(e) => (&failed, e),
        };
        let item = Object::new();
        set(&item, "certificateId", &JsValue::from_str(id.as_str()));
        set(&item, "error", &to_js(error));
        list.push(&item);
    }
    let out = Object::new();
    set(&out, "deleted", &deleted);
    set(&out, "refused", &refused);
    set(&out, "failed", &failed);
    out.into()
}

/// Checks `{ signal, onProgress }` (the driver reads them itself); gives the signal.
fn call_options(options: &JsValue, with_progress: bool) -> Result<Option<AbortSignal>, JsError> {
    if !(options.is_undefined() || options.is_null() || options.is_object()) {
        return Err(wrong_type("options", "an object"));
    }
    let signal = match field(options, "signal") {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(
            v.dyn_into::<AbortSignal>()
                .map_err(|_| wrong_type("signal", "an AbortSignal"))?,
        ),
    };
    if with_progress {
        let f = field(options, "onProgress");
        if !(f.is_undefined() || f.is_null() || f.is_function()) {
            return Err(wrong_type("onProgress", "a function"));
        }
    }
    Ok(signal)
}

/// The machine of one call in flight.
enum Task {
    Call(Call<JsValue>),
    Flow(Flow<JsValue, Decision<JsValue>>),
    Many(RetireMany<JsValue>),
}

impl Task {
    fn machine(&mut self) -> &mut dyn Machine<JsValue> {
        match self {
            Self::Call(m) => m,
            Self::Flow(m) => m,
            Self::Many(m) => m,
        }
    }

    fn in_flight(&self) -> usize {
        match self {
            Self::Call(m) => usize::from(m.in_flight()),
            Self::Flow(m) => usize::from(m.in_flight()),
            Self::Many(m) => m.in_flight(),
        }
    }
}

/// A call in flight: its machine and the caller's signal.
struct Slot {
    task: Task,
    signal: Option<AbortSignal>,
}

/// Operation codes of [`Core::start`] (the driver's numbers).
mod op {
    pub const DELETE: u32 = 0;
    pub const GET: u32 = 1;
    pub const ACTIVATE: u32 = 2;
    pub const DEACTIVATE: u32 = 3;
    pub const SELECT: u32 = 4;
    pub const LIST: u32 = 5;
    pub const CREATE: u32 = 6;
    pub const RETIRE: u32 = 7;
    pub const RETIRE_MANY: u32 = 8;
    pub const CREATE_AND_ACTIVATE: u32 = 9;
    pub const SET_IN_USE: u32 = 10;
    /// `deleteCertificate({ …, accountId, certificateId })`: everything in `options`.
    pub const DELETE_ONE: u32 = 11;
}

/// Event codes of [`Core::step`].
const GO: u32 = 0;
const ANSWER: u32 = 1;
const CONNECTION: u32 = 2;
const TIMEOUT: u32 = 3;

/// A client's core: its configuration, its rate-limit budget, and the machines of its calls
/// in flight. The driver (`driver.js`) owns `fetch`, timers and promises.
#[wasm_bindgen]
pub struct Core {
    client: Client,
    tasks: Vec<Option<Slot>>,
    /// Numbers of the ended tasks, for reuse (no scan on a call's start).
    free: Vec<usize>,
    report: JsValue,
}

#[wasm_bindgen]
impl Core {
    /// Validates the options (throws `InvalidInputError`); sends nothing.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Core, JsValue> {
        Ok(Self {
            client: Client::new(read_config(&options).map_err(to_js)?),
            tasks: Vec::new(),
            free: Vec::new(),
            report: JsValue::UNDEFINED,
        })
    }

    /// The headers of every request, `Name\nvalue\n…` (credentials included: the driver keeps
    /// them private).
    pub fn headers(&self) -> String {
        let mut lines = String::from("Accept\napplication/json\n");
        for (name, value) in self.client.config.auth.headers() {
            lines.push_str(name);
            lines.push('\n');
            lines.push_str(&value);
            lines.push('\n');
        }
        lines
    }

    /// The per-attempt timeout, ms (0: none).
    pub fn timeout(&self) -> f64 {
        self.client.config.timeout_ms as f64
    }

    /// Validates a call's arguments, in the contract's order, and sets its machine up:
    /// the task's number, or the `InvalidInputError` to reject with (nothing sent).
    pub fn start(&mut self, op: u32, id: JsValue, params: JsValue, options: JsValue) -> JsValue {
        match self.task(op, &id, &params, &options) {
            Ok(slot) => {
                let n = match self.free.pop() {
                    Some(n) => n,
                    None => {
                        self.tasks.push(None);
                        self.tasks.len() - 1
                    }
                };
                if let Some(t) = self.tasks.get_mut(n) {
                    *t = Some(slot);
                }
                JsValue::from_f64(n as f64)
            }
            Err(e) => to_js(e),
        }
    }

    /// How many lanes the driver runs for the task (`retireMany`'s concurrency; 1 otherwise).
    pub fn lanes(&self, task: u32) -> u32 {
        match self.slot(task) {
            Some(Slot {
                task: Task::Many(m),
                ..
            }) => m.lanes() as u32,
            _ => 1,
        }
    }

    /// One step of a task's lane. `kind`: 0 go (start, a wait ended, a report delivered),
    /// 1 an answer (`status`, the six headers the client reads, the body parsed when it is a
    /// JSON object, else its text), 2 no connection (`text`: why), 3 timed out, 4 aborted.
    /// Returns the next action as a string: `S<METHOD> <url>` (then `\n<body>`), `W<ms>`,
    /// `P` (take the report, deliver it, step again), `L` (lane done); or the outcome: the
    /// result, or an `Error` to reject with (the task is then over).
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        task: u32,
        lane: u32,
        kind: u32,
        status: u16,
        retry_after_ms: Option<String>,
        retry_after: Option<String>,
        ratelimit: Option<String>,
        ratelimit_policy: Option<String>,
        cf_ray: Option<String>,
        should_retry: Option<String>,
        json: JsValue,
        text: Option<String>,
    ) -> JsValue {
        let event = match kind {
            GO => Event::Go,
            ANSWER => Event::Answer(HttpResponse {
                status,
                headers: ResponseHeaders {
                    retry_after_ms,
                    retry_after,
                    ratelimit,
                    ratelimit_policy,
                    cf_ray,
                    should_retry,
                },
                json: (!json.is_undefined()).then_some(json),
                body: text.unwrap_or_default(),
            }),
            CONNECTION => Event::Failed(TransportError::Connection(text.unwrap_or_default())),
            TIMEOUT => Event::Failed(TransportError::Timeout),
            _ => Event::Failed(TransportError::Aborted),
        };
        let Some(Some(slot)) = self.tasks.get_mut(task as usize) else {
            return to_js(crate::client::aborted());
        };
        let action = {
            let mut pacer = self.client.pacer().borrow_mut();
            let mut cx = Ctx {
                config: &self.client.config,
                pacer: &mut pacer,
                now: js_sys::Date::now(),
                random: js_sys::Math::random(),
                aborted: slot.signal.as_ref().is_some_and(AbortSignal::aborted),
            };
            slot.task.machine().step(&mut cx, lane as usize, event)
        };
        match action {
            Action::Send(r) => {
                let mut a = String::from("S");
                a.push_str(r.method.as_str());
                a.push(' ');
                a.push_str(&r.url);
                if let Some(body) = &r.body {
                    a.push('\n');
                    a.push_str(body);
                }
                JsValue::from_str(&a)
            }
            Action::Wait(ms) => {
                let mut a = String::from("W");
                crate::text::push_u64(&mut a, ms);
                JsValue::from_str(&a)
            }
            Action::Report(r) => {
                self.report = report(r);
                JsValue::from_str("P")
            }
            Action::LaneDone => JsValue::from_str("L"),
            Action::Done(result) => {
                self.end(task);
                result.unwrap_or_else(to_js)
            }
        }
    }

    /// The report of the last `P`: `{ step, certificate? }`, and for `retireMany` also
    /// `certificateId`, `done` and `total`.
    pub fn report(&mut self) -> JsValue {
        std::mem::replace(&mut self.report, JsValue::UNDEFINED)
    }

    /// `retireMany`'s `{ deleted, refused, failed }`, once every lane is done; ends the task.
    pub fn finish(&mut self, task: u32) -> JsValue {
        match self.end(task) {
            Some(Slot {
                task: Task::Many(m),
                ..
            }) => many_result(m.finish()),
            _ => to_js(crate::client::aborted()),
        }
    }

    /// Ends a task early (its driver failed): a request still out is booked as unanswered.
    pub fn cancel(&mut self, task: u32) {
        if let Some(slot) = self.end(task) {
            let mut pacer = self.client.pacer().borrow_mut();
            for _ in 0..slot.task.in_flight() {
                pacer.on_no_answer();
            }
        }
    }

    /// The last `Ratelimit` and `Ratelimit-Policy` headers the API sent this client, as sent:
    /// `{ ratelimit?, ratelimitPolicy? }`.
    #[wasm_bindgen(js_name = rateLimitHeaders)]
    pub fn rate_limit_headers(&self) -> JsValue {
        let (r, p) = self.client.rate_limit_headers();
        let out = Object::new();
        if let Some(r) = r {
            set(&out, "ratelimit", &JsValue::from_str(&r));
        }
        if let Some(p) = p {
            set(&out, "ratelimitPolicy", &JsValue::from_str(&p));
        }
        out.into()
    }
}

impl Core {
    /// Takes a task out; its number becomes free.
    fn end(&mut self, task: u32) -> Option<Slot> {
        let slot = self.tasks.get_mut(task as usize).and_then(Option::take);
        if slot.is_some() {
            self.free.push(task as usize);
        }
        slot
    }

    fn slot(&self, task: u32) -> Option<&Slot> {
        self.tasks.get(task as usize).and_then(Option::as_ref)
    }

    /// The arguments read and checked in the order the contract gives, then the machine.
    fn task(
        &self,
        code: u32,
        id: &JsValue,
        params: &JsValue,
        options: &JsValue,
    ) -> Result<Slot, JsError> {
        let config = &self.client.config;
        let call = |op: Operation| Task::Call(Call::new(op, Patience::Call, config));
        let one = |make: fn(AccountId, CertificateId) -> Operation| -> Result<Slot, JsError> {
            let op = make(params_account(params)?, cert_id(id)?);
            let signal = call_options(options, false)?;
            Ok(Slot {
                task: call(op),
                signal,
            })
        };
        let task = match code {
            op::DELETE => return one(Operation::Delete),
            op::GET => return one(Operation::Get),
            op::ACTIVATE => return one(Operation::Activate),
            op::DEACTIVATE => return one(Operation::Deactivate),
            op::SELECT => return one(Operation::UseCertificate),
            op::LIST => call(Operation::List(params_account(params)?)),
            op::CREATE => {
                let account = params_account(params)?;
                call(Operation::Create(account, validity_days(params)?))
            }
            op::RETIRE => {
                let account = params_account(params)?;
                let id = cert_id(id)?;
                let wait = wait_options(options)?;
                Task::Flow(Flow::new(Decision::Retire(Retire::new(account, id, wait))))
            }
            op::RETIRE_MANY => {
                let ids = cert_ids(id)?;
                let account = params_account(params)?;
                let wait = wait_options(options)?;
                let concurrency = lifecycle::concurrency(opt_number(options, "concurrency")?)?;
                Task::Many(RetireMany::new(account, ids, wait, concurrency))
            }
            op::CREATE_AND_ACTIVATE => {
                let account = params_account(params)?;
                let days = validity_days(params)?;
                let wait = wait_options(options)?;
                let d = CreateAndActivate::new(account, days, wait);
                Task::Flow(Flow::new(Decision::CreateAndActivate(d)))
            }
            op::SET_IN_USE => {
                let account = params_account(params)?;
                let id = cert_id(id)?;
                let wait = wait_options(options)?;
                Task::Flow(Flow::new(Decision::SetInUse(SetInUse::new(
                    account, id, wait,
                ))))
            }
            op::DELETE_ONE => {
                // The options were read by the constructor.
                let account = account_id(&field(options, "accountId"), "accountId")?;
                let id = cert_id(&field(options, "certificateId"))?;
                call(Operation::Delete(account, id))
            }
            _ => return Err(Error::invalid("unknown operation")),
        };
        let with_progress = matches!(task, Task::Flow(_) | Task::Many(_));
        let signal = call_options(options, with_progress)?;
        Ok(Slot { task, signal })
    }
}

/// A report as the `onProgress` event.
fn report(r: Report<JsValue>) -> JsValue {
    let event = Object::new();
    if let Some((id, _, _)) = &r.many {
        set(&event, "certificateId", &JsValue::from_str(id.as_str()));
    }
    set(&event, "step", &JsValue::from_str(r.step.as_str()));
    if let Some(c) = &r.certificate {
        set(&event, "certificate", c);
    }
    if let Some((_, done, total)) = r.many {
        set(&event, "done", &JsValue::from_f64(done as f64));
        set(&event, "total", &JsValue::from_f64(total as f64));
    }
    event.into()
}
