//! The JS surface: `GatewayCertificates` and `deleteCertificate`, argument reading, and the
//! one place where a core error becomes a JS `Error`.

use super::platform::FetchPlatform;
use crate::client::{self, Config, RawOptions};
use crate::endpoint::Operation;
use crate::error::Error;
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

/// A client for the Zero Trust Gateway certificates API.
#[wasm_bindgen]
pub struct GatewayCertificates {
    config: Rc<Config>,
}

#[wasm_bindgen]
impl GatewayCertificates {
    /// Validates the options (throws `InvalidInputError`); sends nothing.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GatewayCertificates, JsValue> {
        Ok(Self {
            config: Rc::new(read_config(&options).map_err(to_js)?),
        })
    }

    fn one(
        &self,
        make: fn(AccountId, CertificateId) -> Operation,
        id: JsValue,
        params: JsValue,
        options: JsValue,
    ) -> Promise {
        let config = self.config.clone();
        promise(async move {
            let op = make(params_account(&params)?, cert_id(&id)?);
            let p = platform(&options, false)?;
            client::execute(&config, &p, &op).await
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
        let config = self.config.clone();
        promise(async move {
            let op = Operation::List(params_account(&params)?);
            let p = platform(&options, false)?;
            client::execute(&config, &p, &op).await
        })
    }

    /// POST a new certificate (never retried: three generations per account per day).
    pub fn create(&self, params: JsValue, options: JsValue) -> Promise {
        let config = self.config.clone();
        promise(async move {
            let account = params_account(&params)?;
            let days = match opt_number(&params, "validity_period_days")? {
                Some(d) => Some(validate::validity_days(d)?),
                None => None,
            };
            let p = platform(&options, false)?;
            client::execute(&config, &p, &Operation::Create(account, days)).await
        })
    }

    /// Deactivate if needed, wait for `inactive`, delete; refuses in-use and custom ones.
    pub fn retire(&self, certificate_id: JsValue, params: JsValue, options: JsValue) -> Promise {
        let config = self.config.clone();
        promise(async move {
            let account = params_account(&params)?;
            let id = cert_id(&certificate_id)?;
            let retire = client::retire_options(
                opt_number(&options, "pollIntervalMs")?,
                opt_number(&options, "waitTimeoutMs")?,
            )?;
            let p = platform(&options, true)?;
            client::retire(&config, &p, &account, &id, retire).await
        })
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
        client::execute(&config, &p, &op).await
    })
}
