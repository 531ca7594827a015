//! The replay guard for in-process session stores.
//!
//! A nonce needs remembering only while its request could still pass the time window: a
//! request stamped `ts` is accepted until `ts + window`, so its nonce is forgotten after that.
//! Memory is bounded by the request rate times twice the window, never by session lifetime.
//! Call [`ReplayWindow::check_and_record`] only after the request's MAC verified, so nobody
//! can burn nonces they could not sign.

use crate::crypto::Nonce;
use crate::error::Error;
use crate::types::SessionId;
use alloc::collections::{BTreeMap, BTreeSet};

/// Nonces seen recently, per session.
#[derive(Debug, Default)]
pub struct ReplayWindow {
    window_ms: u64,
    /// The latest `now` seen: eviction never uses an earlier one, so a clock that steps back
    /// cannot make a forgotten nonce acceptable again. Callers must check the time window against
    /// a clock that does not step back either (the addon's clock is monotonic).
    high_water: u64,
    seen: BTreeMap<(SessionId, Nonce), u64>,
    by_time: BTreeSet<(u64, SessionId, Nonce)>,
}

impl ReplayWindow {
    /// A guard for a ±`window_ms` timestamp window.
    pub fn new(window_ms: u64) -> Self {
        Self {
            window_ms,
            ..Self::default()
        }
    }

    /// Records `(sid, nonce)` for a request stamped `timestamp`; a second sighting is
    /// [`Error::NonceReused`]. Check and record are one step.
    pub fn check_and_record(
        &mut self,
        sid: &SessionId,
        nonce: &Nonce,
        timestamp: u64,
        now_ms: u64,
    ) -> Result<(), Error> {
        self.evict(now_ms);
        if self.seen.contains_key(&(*sid, *nonce)) {
            return Err(Error::NonceReused);
        }
        self.seen.insert((*sid, *nonce), timestamp);
        self.by_time.insert((timestamp, *sid, *nonce));
        Ok(())
    }

    /// Forgets every nonce whose request can no longer pass the window.
    pub fn evict(&mut self, now_ms: u64) {
        self.high_water = self.high_water.max(now_ms);
        let cutoff = self.high_water.saturating_sub(self.window_ms);
        while let Some(&(ts, sid, nonce)) = self.by_time.first() {
            if ts >= cutoff {
                break;
            }
            self.by_time.pop_first();
            self.seen.remove(&(sid, nonce));
        }
    }

    /// Forgets a session's nonces (after terminate).
    pub fn forget_session(&mut self, sid: &SessionId) {
        self.by_time.retain(|(_, s, _)| s != sid);
        self.seen.retain(|(s, _), _| s != sid);
    }

    /// Number of nonces held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_never_measures_from_an_earlier_now() {
        let sid = SessionId::from_bytes([1; 16]);
        let mut w = ReplayWindow::new(30_000);
        w.check_and_record(&sid, &Nonce::from_bytes([2; 12]), 190_000, 190_000)
            .unwrap();
        w.evict(200_000);
        assert_eq!(w.len(), 1, "still inside the window at 200 000");
        w.evict(300_000);
        assert!(w.is_empty(), "forgotten once its request left the window");
        // A clock set back to 195 000 does not move the cutoff back: what it records for an
        // old timestamp is dropped at the next eviction, measured from 300 000.
        w.check_and_record(&sid, &Nonce::from_bytes([3; 12]), 195_000, 195_000)
            .unwrap();
        w.evict(195_000);
        assert!(w.is_empty());
    }
}
