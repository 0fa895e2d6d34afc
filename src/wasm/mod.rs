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

/// With no std (the npm package's build), a panic traps: the instance is then unusable, as
/// with `panic = "abort"`. Nothing reachable from outside data panics (clippy denies the ways).
#[cfg(feature = "tiny")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
