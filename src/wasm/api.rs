//! The JS surface: `GatewayCertificates` and `deleteCertificate`, argument reading, and the
//! one place where a core error becomes a JS `Error`.

use super::platform::FetchPlatform;
use crate::client::{self, Client, Config, RawOptions};
use crate::endpoint::Operation;
use crate::error::Error;
use crate::lifecycle::{self, Fate, WaitOptions};
use crate::validate::{self, AccountId, CertificateId};
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

type JsError = Error<JsValue>;

/// Turns a core error into a JS `Error` with the contract's properties.
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

/// The per-call platform from `{ signal, onProgress }`.
fn platform(options: &JsValue, with_progress: bool) -> Result<FetchPlatform, JsError> {
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
    let on_progress = match field(options, "onProgress") {
        v if v.is_undefined() || v.is_null() || !with_progress => None,
        v => Some(
            v.dyn_into::<Function>()
                .map_err(|_| wrong_type("onProgress", "a function"))?,
        ),
    };
    Ok(FetchPlatform {
        signal,
        on_progress,
    })
}

/// Runs `work` as a promise; every failure, validation included, is a rejection. The future
/// is boxed so that `future_to_promise` and its executor glue exist once in the binary, not
/// once per method.
fn promise(work: impl Future<Output = Result<JsValue, JsError>> + 'static) -> Promise {
    run(Box::pin(work))
}

fn run(work: Pin<Box<dyn Future<Output = Result<JsValue, JsError>>>>) -> Promise {
    future_to_promise(async move { work.await.map_err(to_js) })
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

/// A client for the Zero Trust Gateway certificates API.
#[wasm_bindgen]
pub struct GatewayCertificates {
    client: Rc<Client>,
}

#[wasm_bindgen]
impl GatewayCertificates {
    /// Validates the options (throws `InvalidInputError`); sends nothing.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GatewayCertificates, JsValue> {
        Ok(Self {
            client: Rc::new(Client::new(read_config(&options).map_err(to_js)?)),
        })
    }

    fn one(
        &self,
        make: fn(AccountId, CertificateId) -> Operation,
        id: JsValue,
        params: JsValue,
        options: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let op = make(params_account(&params)?, cert_id(&id)?);
            let p = platform(&options, false)?;
            client::execute(&client, &p, &op).await
        })
    }

    /// DELETE one certificate (it must be `inactive`); resolves with the deleted certificate.
    pub fn delete(&self, certificate_id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.one(Operation::Delete, certificate_id, params, options)
    }

    /// GET one certificate.
    pub fn get(&self, certificate_id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.one(Operation::Get, certificate_id, params, options)
    }

    /// POST activate (binds the certificate to the edge).
    pub fn activate(&self, certificate_id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.one(Operation::Activate, certificate_id, params, options)
    }

    /// POST deactivate (unbinds it from the edge).
    pub fn deactivate(
        &self,
        certificate_id: JsValue,
        params: JsValue,
        options: JsValue,
    ) -> Promise {
        self.one(Operation::Deactivate, certificate_id, params, options)
    }

    /// GET the account's certificates.
    pub fn list(&self, params: JsValue, options: JsValue) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let op = Operation::List(params_account(&params)?);
            let p = platform(&options, false)?;
            client::execute(&client, &p, &op).await
        })
    }

    /// POST a new certificate (never retried: three generations per account per day).
    pub fn create(&self, params: JsValue, options: JsValue) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let account = params_account(&params)?;
            let days = validity_days(&params)?;
            let p = platform(&options, false)?;
            client::execute(&client, &p, &Operation::Create(account, days)).await
        })
    }

    /// Deactivate if needed, wait for `inactive`, delete; refuses in-use and custom ones.
    pub fn retire(&self, certificate_id: JsValue, params: JsValue, options: JsValue) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let account = params_account(&params)?;
            let id = cert_id(&certificate_id)?;
            let wait = wait_options(&options)?;
            let p = platform(&options, true)?;
            lifecycle::retire(&client, &p, &account, &id, wait).await
        })
    }

    /// Retires many certificates within the rate limit; resolves with
    /// `{ deleted, refused, failed }`. Every id is validated before anything is sent.
    #[wasm_bindgen(js_name = retireMany)]
    pub fn retire_many(
        &self,
        certificate_ids: JsValue,
        params: JsValue,
        options: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let ids = cert_ids(&certificate_ids)?;
            let account = params_account(&params)?;
            let wait = wait_options(&options)?;
            let concurrency = lifecycle::concurrency(opt_number(&options, "concurrency")?)?;
            let p = platform(&options, true)?;
            let fates = lifecycle::retire_many(&client, &p, &account, ids, wait, concurrency).await;
            Ok(many_result(fates))
        })
    }

    /// Creates a certificate (never retried), activates it and waits until it is available.
    #[wasm_bindgen(js_name = createAndActivate)]
    pub fn create_and_activate(&self, params: JsValue, options: JsValue) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let account = params_account(&params)?;
            let days = validity_days(&params)?;
            let wait = wait_options(&options)?;
            let p = platform(&options, true)?;
            lifecycle::create_and_activate(&client, &p, &account, days, wait).await
        })
    }

    /// Makes an available certificate the one Gateway TLS inspection uses, and waits until it
    /// reports `in_use`.
    #[wasm_bindgen(js_name = setInUse)]
    pub fn set_in_use(
        &self,
        certificate_id: JsValue,
        params: JsValue,
        options: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let account = params_account(&params)?;
            let id = cert_id(&certificate_id)?;
            let wait = wait_options(&options)?;
            let p = platform(&options, true)?;
            lifecycle::set_in_use(&client, &p, &account, &id, wait).await
        })
    }

    /// Only the PATCH of `setInUse` (no check, no wait); resolves with the configuration.
    #[wasm_bindgen(js_name = selectCertificate)]
    pub fn select_certificate(
        &self,
        certificate_id: JsValue,
        params: JsValue,
        options: JsValue,
    ) -> Promise {
        self.one(Operation::UseCertificate, certificate_id, params, options)
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

/// The one-call form of delete: `deleteCertificate({ apiToken, accountId, certificateId })`.
#[wasm_bindgen(js_name = deleteCertificate)]
pub fn delete_certificate(args: JsValue) -> Promise {
    promise(async move {
        let config = read_config(&args)?;
        let op = Operation::Delete(
            account_id(&field(&args, "accountId"), "accountId")?,
            cert_id(&field(&args, "certificateId"))?,
        );
        let p = platform(&args, false)?;
        client::execute(&Client::new(config), &p, &op).await
    })
}
