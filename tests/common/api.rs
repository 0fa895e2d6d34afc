//! The public JS surface as the package ships it: the driver (`src/wasm/driver.js`) bound to
//! this build's wasm `Core`, wrapped in Rust with the JS method names in snake case, so the
//! suite calls `GatewayCertificates` and `deleteCertificate` exactly as a JS caller does.

use cf_gateway_certs::Core;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/src/wasm/driver.js")]
extern "C" {
    fn bind(core: &JsValue) -> JsValue;
}

thread_local! {
    /// `{ GatewayCertificates, deleteCertificate }`, bound once.
    static API: JsValue = {
        let probe = Core::new(super::obj(&[("apiToken", super::str_(super::TOKEN))]))
            .expect("a valid Core");
        let class = Reflect::get(&JsValue::from(probe), &"constructor".into()).unwrap();
        bind(&class)
    };
}

fn api(name: &str) -> JsValue {
    API.with(|api| Reflect::get(api, &name.into()).unwrap())
}

/// The JS class, through its methods.
pub struct GatewayCertificates(JsValue);

impl GatewayCertificates {
    /// `new GatewayCertificates(options)`: the error thrown, if any.
    pub fn new(options: JsValue) -> Result<Self, JsValue> {
        let class: Function = api("GatewayCertificates").unchecked_into();
        Reflect::construct(&class, &Array::of1(&options)).map(Self)
    }

    fn call(&self, method: &str, args: &[&JsValue]) -> JsValue {
        let f: Function = Reflect::get(&self.0, &method.into())
            .unwrap()
            .unchecked_into();
        let args: Array = args.iter().map(|a| (*a).clone()).collect();
        f.apply(&self.0, &args)
            .expect("methods reject, never throw")
    }

    fn promise(&self, method: &str, args: &[&JsValue]) -> Promise {
        self.call(method, args).unchecked_into()
    }

    pub fn delete(&self, id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.promise("delete", &[&id, &params, &options])
    }
    pub fn get(&self, id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.promise("get", &[&id, &params, &options])
    }
    pub fn activate(&self, id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.promise("activate", &[&id, &params, &options])
    }
    pub fn deactivate(&self, id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.promise("deactivate", &[&id, &params, &options])
    }
    pub fn list(&self, params: JsValue, options: JsValue) -> Promise {
        self.promise("list", &[&params, &options])
    }
    pub fn create(&self, params: JsValue, options: JsValue) -> Promise {
        self.promise("create", &[&params, &options])
    }
    pub fn retire(&self, id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.promise("retire", &[&id, &params, &options])
    }
    pub fn retire_many(&self, ids: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.promise("retireMany", &[&ids, &params, &options])
    }
    pub fn create_and_activate(&self, params: JsValue, options: JsValue) -> Promise {
        self.promise("createAndActivate", &[&params, &options])
    }
    pub fn set_in_use(&self, id: JsValue, params: JsValue, options: JsValue) -> Promise {
        self.promise("setInUse", &[&id, &params, &options])
    }
    pub fn rate_limit_headers(&self) -> JsValue {
        self.call("rateLimitHeaders", &[])
    }
}

/// `deleteCertificate(args)`.
pub fn delete_certificate(args: JsValue) -> Promise {
    let f: Function = api("deleteCertificate").unchecked_into();
    f.call1(&JsValue::UNDEFINED, &args)
        .expect("rejects, never throws")
        .unchecked_into()
}
