//! The in-process store: sessions and replay nonces in this process's memory.
//!
//! Correct under concurrency (one lock each, held for a map operation only) and bounded: expired
//! sessions are swept as time passes and nonces are forgotten when they leave the window.

use nen_core::crypto::Nonce;
use nen_core::replay::ReplayWindow;
use nen_core::{Error, ServerSession, SessionId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How often expired sessions are swept, at most.
const SWEEP_EVERY_MS: u64 = 1_000;

pub struct MemoryStore {
    sessions: Mutex<Sessions>,
    replay: Mutex<ReplayWindow>,
}

struct Sessions {
    map: HashMap<SessionId, Entry>,
    last_sweep: u64,
}

/// A session and its expiry, which rotation can shorten without touching the shared keys.
struct Entry {
    session: Arc<ServerSession>,
    expires_at: u64,
    rotated: bool,
}

impl MemoryStore {
    pub fn new(window_ms: u64) -> Self {
        Self {
            sessions: Mutex::new(Sessions {
                map: HashMap::new(),
                last_sweep: 0,
            }),
            replay: Mutex::new(ReplayWindow::new(window_ms)),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // A panic while holding the lock cannot leave the map half-updated: every critical
        // section is a single map call. So a poisoned lock is still consistent.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn replay(&self) -> std::sync::MutexGuard<'_, ReplayWindow> {
        self.replay.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn put(&self, session: ServerSession, now_ms: u64) {
        let mut s = self.sessions();
        if now_ms.saturating_sub(s.last_sweep) >= SWEEP_EVERY_MS {
            s.map.retain(|_, e| e.expires_at > now_ms);
            s.last_sweep = now_ms;
        }
        let expires_at = session.expires_at();
        s.map.insert(
            *session.sid(),
            Entry {
                session: Arc::new(session),
                expires_at,
                rotated: false,
            },
        );
    }

    pub fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        let mut s = self.sessions();
        match s.map.get(sid) {
            Some(e) if e.expires_at > now_ms => Ok(e.session.clone()),
            Some(_) => {
                s.map.remove(sid);
                Err(Error::SessionExpired)
            }
            None => Err(Error::SessionExpired),
        }
    }

    pub fn record_nonce(
        &self,
        sid: &SessionId,
        nonce: &Nonce,
        timestamp: u64,
        now_ms: u64,
    ) -> Result<(), Error> {
        // The session may have been terminated between load and record.
        if self
            .sessions()
            .map
            .get(sid)
            .is_none_or(|e| e.expires_at <= now_ms)
        {
            return Err(Error::SessionExpired);
        }
        self.replay()
            .check_and_record(sid, nonce, timestamp, now_ms)
    }

    pub fn delete(&self, sid: &SessionId) {
        self.sessions().map.remove(sid);
        self.replay().forget_session(sid);
    }

    /// Marks a live session rotated and shortens its life to `at_ms` (the rotation grace),
    /// once: the check and the mark are one critical section.
    pub fn retire(&self, sid: &SessionId, at_ms: u64, now_ms: u64) -> Result<(), Error> {
        let mut s = self.sessions();
        match s.map.get_mut(sid) {
            Some(e) if e.expires_at <= now_ms => Err(Error::SessionExpired),
            Some(e) if e.rotated => Err(Error::SessionAlreadyRotated),
            Some(e) => {
                e.rotated = true;
                e.expires_at = e.expires_at.min(at_ms);
                Ok(())
            }
            None => Err(Error::SessionExpired),
        }
    }

    /// When a live session really ends.
    pub fn expires_at(&self, sid: &SessionId, now_ms: u64) -> Result<u64, Error> {
        match self.sessions().map.get(sid) {
            Some(e) if e.expires_at > now_ms => Ok(e.expires_at),
            _ => Err(Error::SessionExpired),
        }
    }

    /// Number of live sessions and of remembered nonces (for tests and metrics).
    pub fn sizes(&self, now_ms: u64) -> (usize, usize) {
        let sessions = self.sessions().map.len();
        let mut r = self.replay();
        r.evict(now_ms);
        (sessions, r.len())
    }
}
