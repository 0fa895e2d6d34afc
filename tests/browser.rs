//! The shared wasm suite in headless Chromium (`--test browser`; needs chromedriver on PATH).
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
mod common;
