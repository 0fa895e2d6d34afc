//! The platform the core runs on in wasm: the global `fetch` (never `window`, so it works in
//! Node, pages, workers and workerd), `setTimeout`, `AbortController`, `Date.now`.

use crate::client::{HttpRequest, HttpResponse, Platform, ResponseHeaders, TransportError};
use crate::retire::Step;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    fn fetch(input: &str, init: &RequestInit) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// One call's platform: the caller's signal and progress callback.
pub(crate) struct FetchPlatform {
    pub signal: Option<AbortSignal>,
    pub on_progress: Option<Function>,
}

impl FetchPlatform {
    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }

    /// Calls `f` when the caller aborts, until the returned guard is dropped.
    fn on_abort(&self, f: &Function) -> AbortListener {
        if let Some(s) = &self.signal {
            let _ = s.add_event_listener_with_callback("abort", f);
        }
        AbortListener {
            signal: self.signal.clone(),
            f: f.clone(),
        }
    }
}

struct AbortListener {
    signal: Option<AbortSignal>,
    f: Function,
}

impl Drop for AbortListener {
    fn drop(&mut self) {
        if let Some(s) = &self.signal {
            let _ = s.remove_event_listener_with_callback("abort", &self.f);
        }
    }
}

struct Timer(Option<JsValue>);

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(id) = &self.0 {
            clear_timeout(id);
        }
    }
}

/// The text of a thrown JS value: `message` (plus its `cause`'s, which is where Node puts
/// "connect ECONNREFUSED ...").
fn message_of(e: &JsValue) -> String {
    let text = |v: &JsValue| {
        Reflect::get(v, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| v.as_string())
    };
    let mut msg = text(e).unwrap_or_default();
    if let Some(cause) = Reflect::get(e, &JsValue::from_str("cause"))
        .ok()
        .filter(JsValue::is_object)
        .and_then(|c| text(&c))
    {
        msg.push_str(" (");
        msg.push_str(&cause);
        msg.push(')');
    }
    msg
}

async fn fetch_and_read(req: &HttpRequest, signal: &AbortSignal) -> Result<HttpResponse, JsValue> {
    let headers = Headers::new()?;
    for (name, value) in &req.headers {
        headers.set(name, value)?;
    }
    let init = RequestInit::new();
    init.set_method(req.method.as_str());
    init.set_headers(&headers);
    if let Some(body) = &req.body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_signal(Some(signal));
    let response: Response = JsFuture::from(fetch(&req.url, &init)?).await?.dyn_into()?;
    let h = response.headers();
    let get = |name: &str| h.get(name).ok().flatten();
    let headers = ResponseHeaders {
        retry_after_ms: get("retry-after-ms"),
        retry_after: get("retry-after"),
        ratelimit: get("ratelimit"),
        cf_ray: get("cf-ray"),
        should_retry: get("x-should-retry"),
    };
    let body = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(HttpResponse {
        status: response.status(),
        headers,
        body,
    })
}

impl Platform for FetchPlatform {
    type Json = JsValue;

    async fn send(
        &self,
        req: &HttpRequest,
        timeout_ms: u64,
    ) -> Result<HttpResponse, TransportError> {
        if self.aborted() {
            return Err(TransportError::Aborted);
        }
        let failed = |e: JsValue| TransportError::Connection(message_of(&e));
        // One controller per attempt: the caller's signal and the attempt's timer both abort it.
        let controller = AbortController::new().map_err(failed)?;
        let abort: Function = Reflect::get(&controller, &JsValue::from_str("abort"))
            .and_then(|f| f.dyn_into::<Function>())
            .map_err(failed)?
            .bind0(&controller);
        let _listener = self.on_abort(&abort);
        let _timer = Timer((timeout_ms > 0).then(|| set_timeout(&abort, timeout_ms as f64)));
        let signal = controller.signal();
        match fetch_and_read(req, &signal).await {
            Ok(r) => Ok(r),
            Err(_) if self.aborted() => Err(TransportError::Aborted),
            Err(_) if signal.aborted() => Err(TransportError::Timeout),
            Err(e) => Err(failed(e)),
        }
    }

    async fn sleep(&self, ms: u64) -> Result<(), TransportError> {
        if self.aborted() {
            return Err(TransportError::Aborted);
        }
        let (mut resolve, mut reject) = (None, None);
        let promise = Promise::new(&mut |res, rej| {
            resolve = Some(res);
            reject = Some(rej);
        });
        let (Some(resolve), Some(reject)) = (resolve, reject) else {
            return Ok(());
        };
        let _timer = Timer(Some(set_timeout(&resolve, ms as f64)));
        let _listener = self.on_abort(&reject);
        JsFuture::from(promise)
            .await
            .map(drop)
            .map_err(|_| TransportError::Aborted)
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn parse_json(&self, text: &str) -> Option<JsValue> {
        js_sys::JSON::parse(text).ok()
    }

    fn progress(&self, step: Step, certificate: Option<&JsValue>) {
        let Some(f) = &self.on_progress else { return };
        let event = Object::new();
        let _ = Reflect::set(
            &event,
            &JsValue::from_str("step"),
            &JsValue::from_str(step.as_str()),
        );
        if let Some(c) = certificate {
            let _ = Reflect::set(&event, &JsValue::from_str("certificate"), c);
        }
        // A throwing callback must not stop a retire half-way (a certificate left deactivated).
        let _ = f.call1(&JsValue::UNDEFINED, &event);
    }
}
