//! The platform the core runs on in wasm. The I/O itself is `fetch.js` (one boundary crossing
//! per attempt): the global `fetch` (never `window`, so it runs in Node, pages, workers and
//! workerd), an `AbortController` per attempt for the timeout and the caller's signal, and
//! `JSON.parse`. Rust keeps every decision.

use crate::client::{HttpRequest, HttpResponse, Platform, ResponseHeaders, TransportError};
use crate::retire::Step;
use crate::validate::CertificateId;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

#[wasm_bindgen(module = "/src/wasm/fetch.js")]
extern "C" {
    fn attempt(
        url: &str,
        method: &str,
        headers: &str,
        body: Option<String>,
        timeout_ms: f64,
        signal: Option<AbortSignal>,
    ) -> Promise;
    fn sleep(ms: f64, signal: Option<AbortSignal>) -> Promise;
}

/// One call's platform: the caller's signal and progress callback.
pub(crate) struct FetchPlatform {
    pub signal: Option<AbortSignal>,
    pub on_progress: Option<Function>,
}

impl Platform for FetchPlatform {
    type Json = JsValue;

    async fn send(
        &self,
        req: &HttpRequest,
        timeout_ms: u64,
    ) -> Result<HttpResponse<JsValue>, TransportError> {
        let mut lines = String::new();
        for (name, value) in &req.headers {
            // Values were validated: no line breaks or control characters can get here.
            lines.push_str(name);
            lines.push('\n');
            lines.push_str(value);
            lines.push('\n');
        }
        let promise = attempt(
            &req.url,
            req.method.as_str(),
            &lines,
            req.body.clone(),
            timeout_ms as f64,
            self.signal.clone(),
        );
        let out: Array = JsFuture::from(promise)
            .await
            .map(|v| Array::from(&v))
            .map_err(|_| TransportError::Connection(String::new()))?;
        let status = out.get(0).as_f64().unwrap_or(0.0);
        if status < 1.0 {
            return Err(match status as i32 {
                -2 => TransportError::Aborted,
                -1 => TransportError::Timeout,
                _ => TransportError::Connection(out.get(1).as_string().unwrap_or_default()),
            });
        }
        let block = out.get(1).as_string().unwrap_or_default();
        let mut values = block
            .split('\n')
            .map(|v| (!v.is_empty()).then(|| v.to_owned()));
        let mut next = || values.next().flatten();
        let headers = ResponseHeaders {
            retry_after_ms: next(),
            retry_after: next(),
            ratelimit: next(),
            ratelimit_policy: next(),
            cf_ray: next(),
            should_retry: next(),
        };
        let json = out.get(2);
        Ok(HttpResponse {
            status: status.min(999.0) as u16,
            headers,
            json: (!json.is_undefined()).then_some(json),
            body: out.get(3).as_string().unwrap_or_default(),
        })
    }

    async fn sleep(&self, ms: u64) -> Result<(), TransportError> {
        let done = JsFuture::from(sleep(ms as f64, self.signal.clone())).await;
        match done.ok().and_then(|v| v.as_bool()) {
            Some(true) => Ok(()),
            _ => Err(TransportError::Aborted),
        }
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }

    fn progress(&self, step: Step, certificate: Option<&JsValue>) {
        self.report(step, certificate, None);
    }

    fn many_progress(
        &self,
        id: &CertificateId,
        step: Step,
        certificate: Option<&JsValue>,
        done: usize,
        total: usize,
    ) {
        self.report(step, certificate, Some((id, done, total)));
    }
}

impl FetchPlatform {
    /// Calls `onProgress` with `{ step, certificate? }`, and for `retireMany` also
    /// `certificateId`, `done` and `total`.
    fn report(
        &self,
        step: Step,
        certificate: Option<&JsValue>,
        many: Option<(&CertificateId, usize, usize)>,
    ) {
        let Some(f) = &self.on_progress else { return };
        let event = Object::new();
        let set = |key: &str, value: &JsValue| {
            let _ = Reflect::set(&event, &JsValue::from_str(key), value);
        };
        if let Some((id, _, _)) = many {
            set("certificateId", &JsValue::from_str(id.as_str()));
        }
        set("step", &JsValue::from_str(step.as_str()));
        if let Some(c) = certificate {
            set("certificate", c);
        }
        if let Some((_, done, total)) = many {
            set("done", &JsValue::from_f64(done as f64));
            set("total", &JsValue::from_f64(total as f64));
        }
        // A throwing callback must not stop a flow half-way (a certificate left deactivated).
        let _ = f.call1(&JsValue::UNDEFINED, &event);
    }
}
