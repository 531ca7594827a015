//! Randomness and time for the client.
//!
//! One ChaCha20 generator seeded once from `crypto.getRandomValues` (the same design as the
//! native addon's `src/rng.rs`): each request nonce is then a copy from a buffer rather than a
//! call out to JS. wasm32 without threads has a single thread, so one thread-local is one
//! generator for the whole module instance.

use nen_core::rng::ChaChaRng;
use nen_core::Error;
use std::cell::{Cell, RefCell};

thread_local! {
    static RNG: RefCell<Option<ChaChaRng>> = const { RefCell::new(None) };
    static LAST_NOW: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` with the generator, seeding it from the OS on first use.
pub fn with_rng<T>(f: impl FnOnce(&mut ChaChaRng) -> Result<T, Error>) -> Result<T, Error> {
    RNG.with(|cell| {
        // Nothing `f` calls can re-enter here, but a failed borrow must not become a panic.
        let mut slot = cell.try_borrow_mut().map_err(|_| Error::Internal)?;
        if slot.is_none() {
            *slot = Some(ChaChaRng::from_os()?);
        }
        match slot.as_mut() {
            Some(rng) => f(rng),
            None => Err(Error::Internal),
        }
    })
}

/// Replaces the generator with a deterministic one (tests and vector checks only).
#[cfg(any(test, feature = "test-hooks"))]
pub fn set_seed(seed: &[u8]) -> Result<(), Error> {
    let seed: [u8; 32] = seed.try_into().map_err(|_| Error::InvalidConfiguration)?;
    RNG.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(|_| Error::Internal)?;
        *slot = Some(ChaChaRng::from_seed(seed));
        Ok(())
    })
}

/// Unix time in milliseconds from the JS clock.
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> u64 {
    // Date.now() is an integral, non-negative millisecond count; `as` saturates anything else.
    js_sys::Date::now() as u64
}

/// Unix time in milliseconds (host builds, which run the test suite).
#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// [`now_ms`] that never steps back: if the clock is set back, time stands still until it
/// catches up (the native addon's `now_ms`). The server checks the time window and computes
/// replay TTLs with it, so a clock step cannot reopen a window whose nonces were forgotten.
pub fn monotonic_now_ms() -> u64 {
    let wall = now_ms();
    LAST_NOW.with(|last| {
        let t = last.get().max(wall);
        last.set(t);
        t
    })
}

/// Checks a caller-supplied timestamp: a finite, non-negative millisecond count below 2^53
/// (beyond that a JS number is no longer an exact integer). Fractions are dropped, so
/// `performance.timeOrigin + performance.now()` is accepted.
pub fn timestamp_from_js(t: f64) -> Result<u64, Error> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if t.is_finite() && (0.0..=MAX_SAFE).contains(&t) {
        Ok(t as u64)
    } else {
        Err(Error::TimestampMissing)
    }
}

/// TEST ONLY: makes every later random draw deterministic, from a 32-byte `seed`, so a test can
/// reproduce `docs/vectors` byte for byte. Never call it in an application: every session made
/// afterwards is predictable by anyone who knows the seed. Not part of the public API of
/// `@withnen/client`, which must not re-export it.
#[cfg(feature = "test-hooks")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = __setTestSeed)]
pub fn set_test_seed(seed: &[u8]) -> crate::error::JsResult<()> {
    Ok(set_seed(seed)?)
}
