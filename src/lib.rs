//! Delete — and safely retire — Cloudflare Zero Trust Gateway certificates.
//!
//! The crate is a pure, sans-IO core that every target compiles and `cargo test` exercises
//! natively, plus a thin wasm edge (`src/wasm/`, only on `wasm32`): the `Core` that JS
//! drives, and the JS conversions. `fetch`, timers and promises are the JS driver's.
//!
//! - [`endpoint`]: the six operations as data (method, path, body); where the DELETE is built.
//! - [`validate`]: every check made before a request is sent.
//! - [`envelope`]: reading Cloudflare's `{success, errors, messages, result}` envelope.
//! - [`error`]: the one error type and the status → error mapping.
//! - [`retry`]: which failures are retried and how long to wait (where a 429 becomes a wait).
//! - [`ratelimit`]: pacing by the `Ratelimit` headers: when the next request may go.
//! - [`retire`]: what to do next with a certificate on the way to deletion.
//! - [`machine`]: every call as a synchronous state machine: event in, action out.
//! - [`client`]: configuration, requests and responses, and an async driver of the machines
//!   over a [`client::Platform`] that does the I/O (the native tests' way in).
//! - [`lifecycle`]: the flows' decisions: `retire`, `retireMany`, `createAndActivate`,
//!   `setInUse`.
// The npm package's wasm (feature `tiny`) is `no_std`: no std panic machinery or formatting
// comes along, and a panic traps (as `panic = "abort"` does anyway). Every other build,
// the wasm test suites' included, uses std.
#![cfg_attr(all(target_arch = "wasm32", feature = "tiny"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]
// Errors carry the API's errors and a certificate; they are the cold path, and boxing them
// would cost code size in the wasm build for nothing.
#![allow(clippy::result_large_err)]

extern crate alloc;
// `std::{cell, mem, pin, future, task}` are core's: with no std, `std` names core.
#[cfg(all(target_arch = "wasm32", feature = "tiny"))]
extern crate core as std;

/// What the std prelude gives, from `alloc`: every module imports it, so the same code builds
/// with and without std.
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod client;
pub mod endpoint;
pub mod envelope;
pub mod error;
mod httpdate;
pub mod lifecycle;
pub mod machine;
pub mod ratelimit;
pub mod retire;
pub mod retry;
mod text;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::Core;
