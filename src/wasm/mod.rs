//! The wasm edge: `fetch`, timers and JS conversions. Everything with a decision in it lives
//! in the pure core; this layer only moves data between JS and the core.

mod api;
mod json;
mod platform;

pub use api::{delete_certificate, GatewayCertificates};

// SAFETY: wasm32-unknown-unknown is single-threaded here (no atomics, no shared memory): one
// thread uses the heap, which is what AssumeSingleThreaded requires.
#[cfg(feature = "small-alloc")]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
