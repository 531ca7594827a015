//! Randomness and time for the addon.
//!
//! One ChaCha20 generator per thread, seeded from the OS: per-message nonces cost a copy from a
//! userspace buffer instead of a `getrandom` syscall (0.5-0.8 µs here), and no lock is shared
//! between the JS thread and the tokio workers.

use nen_core::rng::ChaChaRng;
use nen_core::Error;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static RNG: RefCell<Option<ChaChaRng>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's generator, seeding it on first use.
pub fn with_rng<T>(f: impl FnOnce(&mut ChaChaRng) -> Result<T, Error>) -> Result<T, Error> {
    RNG.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(ChaChaRng::from_os()?);
        }
        match slot.as_mut() {
            Some(rng) => f(rng),
            None => Err(Error::Internal),
        }
    })
}

/// Unix time in milliseconds, never stepping back: if the system clock is set back, time stands
/// still until it catches up. The replay guard forgets nonces by this clock, and the window check
/// uses the same one, so a clock step cannot reopen a window whose nonces were forgotten.
pub fn now_ms() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    LAST.fetch_max(wall, Ordering::Relaxed).max(wall)
}
