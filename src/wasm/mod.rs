//! The wasm edge: `Core` (argument reading, the machines of the calls in flight, JS
//! conversions). `fetch`, timers and promises are the JS driver's (`driver.js`), which the
//! build bundles with the generated glue. Everything with a decision in it lives in the pure
//! core; this layer only moves data between JS and the core.

mod api;
mod json;

pub use api::Core;

// SAFETY: wasm32-unknown-unknown is single-threaded here (no atomics, no shared memory): one
// thread uses the heap, which is what AssumeSingleThreaded requires.
#[cfg(feature = "small-alloc")]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
