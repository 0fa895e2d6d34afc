//! The core's [`Json`] view over the `JsValue` that `JSON.parse` produced: certificates stay
//! plain JS objects, unknown fields included, and no JSON library is compiled into the wasm.

use crate::envelope::Json;
#[allow(unused_imports)]
use crate::prelude::*;
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

impl Json for JsValue {
    fn get(&self, key: &str) -> Option<Self> {
        if !JsValue::is_object(self) {
            return None;
        }
        Reflect::get(self, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined())
    }
    fn as_bool(&self) -> Option<bool> {
        JsValue::as_bool(self)
    }
    fn as_f64(&self) -> Option<f64> {
        JsValue::as_f64(self)
    }
    fn as_string(&self) -> Option<String> {
        JsValue::as_string(self)
    }
    fn is_object(&self) -> bool {
        JsValue::is_object(self) && !Array::is_array(self)
    }
    fn is_array(&self) -> bool {
        Array::is_array(self)
    }
    fn is_null(&self) -> bool {
        JsValue::is_null(self)
    }
    fn items(&self, limit: usize) -> Vec<Self> {
        if !Array::is_array(self) {
            return Vec::new();
        }
        let array: &Array = self.unchecked_ref();
        let n = array.length().min(u32::try_from(limit).unwrap_or(u32::MAX));
        (0..n).map(|i| array.get(i)).collect()
    }
}
