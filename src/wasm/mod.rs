//! The wasm edge: `fetch`, timers and JS conversions. Everything with a decision in it lives
//! in the pure core; this layer only moves data between JS and the core.

mod api;
mod json;
mod platform;

pub use api::{delete_certificate, GatewayCertificates};
