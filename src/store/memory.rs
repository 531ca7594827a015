//! The in-process store: sessions and their replay nonces in this process's memory.
//!
//! Bounded under any load:
//! - at most `maxSessions` sessions (default 200 000, about 1 KB each). When full, a new session
//!   is refused with ISO-8003 (503) rather than evicting one: evicting the soonest-expiring, or
//!   the least recently used, would let an unauthenticated handshake flood log real users out,
//!   while refusing only delays new ones (and `handshakeBudget` keeps a flood from filling it);
//! - each session keeps its own replay nonces, forgotten once their request can no longer pass
//!   the window, so memory is bounded by request rate, and terminate or expiry frees exactly that
//!   session's nonces (no walk over other sessions' nonces under a shared lock);
//! - expiry is a time-ordered queue popped a few entries per operation, never a walk of the whole
//!   map on the JS thread.
//!
//! One lock, held for a few map operations: correct under concurrency.

use nen_core::engine::{Rotation, Unrecorded};
use nen_core::replay::ReplayWindow;
use nen_core::store::{Recorded, Retired};
use nen_core::{Error, ServerSession, SessionId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

/// Expired sessions removed per store operation, at most: the queue keeps up with any
/// handshake rate while no single call does unbounded work.
const EXPIRE_PER_OP: usize = 8;

pub struct MemoryStore {
    inner: Mutex<Sessions>,
    window_ms: u64,
    max_sessions: usize,
}

struct Sessions {
    map: HashMap<SessionId, Entry>,
    /// `(expires_at, sid)`, soonest first. May hold stale items (a shortened or deleted session);
    /// they are skipped when popped, and the queue is rebuilt if they pile up.
    expiry: BinaryHeap<Reverse<(u64, SessionId)>>,
    /// Nonces held over all sessions.
    nonces: usize,
}

/// A session, its expiry (which rotation can shorten without touching the shared keys) and the
/// nonces of its requests still inside the window.
struct Entry {
    session: Arc<ServerSession>,
    expires_at: u64,
    rotated: bool,
    replay: ReplayWindow,
}

impl Sessions {
    fn remove(&mut self, sid: &SessionId) {
        if let Some(e) = self.map.remove(sid) {
            self.nonces -= e.replay.len();
        }
    }

    /// Removes up to `limit` sessions expired by `now_ms`.
    fn expire(&mut self, now_ms: u64, limit: usize) {
        for _ in 0..limit {
            match self.expiry.peek() {
                Some(Reverse((at, _))) if *at <= now_ms => {}
                _ => break,
            }
            let Some(Reverse((_, sid))) = self.expiry.pop() else {
                break;
            };
            if self.map.get(&sid).is_some_and(|e| e.expires_at <= now_ms) {
                self.remove(&sid);
            }
        }
        // Stale items (terminated or shortened sessions) are bounded by a rebuild.
        if self.expiry.len() > 2 * self.map.len() + 1024 {
            self.expiry = self
                .map
                .iter()
                .map(|(sid, e)| Reverse((e.expires_at, *sid)))
                .collect();
        }
    }

    fn live(&mut self, sid: &SessionId, now_ms: u64) -> Result<&mut Entry, Error> {
        match self.map.get(sid) {
            Some(e) if e.expires_at > now_ms => {}
            Some(_) => {
                self.remove(sid);
                return Err(Error::SessionExpired);
            }
            None => return Err(Error::SessionExpired),
        }
        self.map.get_mut(sid).ok_or(Error::SessionExpired)
    }
}

impl MemoryStore {
    pub fn new(window_ms: u64, max_sessions: usize) -> Self {
        Self {
            inner: Mutex::new(Sessions {
                map: HashMap::new(),
                expiry: BinaryHeap::new(),
                nonces: 0,
            }),
            window_ms,
            max_sessions,
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // A panic while holding the lock cannot leave the map half-updated: every critical
        // section is a few map calls that cannot panic. So a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a new session; ISO-8003 when the store holds `maxSessions` live ones.
    pub fn put(&self, session: ServerSession, now_ms: u64) -> Result<(), Error> {
        let mut s = self.sessions();
        s.expire(now_ms, EXPIRE_PER_OP);
        if s.map.len() >= self.max_sessions {
            // Full: expired sessions may still be queued behind the per-op limit.
            s.expire(now_ms, usize::MAX);
            if s.map.len() >= self.max_sessions {
                return Err(Error::StoreFull);
            }
        }
        let expires_at = session.expires_at();
        let sid = *session.sid();
        s.expiry.push(Reverse((expires_at, sid)));
        s.map.insert(
            sid,
            Entry {
                session: Arc::new(session),
                expires_at,
                rotated: false,
                replay: ReplayWindow::new(self.window_ms),
            },
        );
        Ok(())
    }

    pub fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        let mut s = self.sessions();
        s.expire(now_ms, EXPIRE_PER_OP);
        Ok(s.live(sid, now_ms)?.session.clone())
    }

    /// Records a verified request's nonce in its session (the session may have been
    /// terminated between load and record).
    pub fn record(&self, req: &Unrecorded) -> Result<Recorded, Error> {
        let mut s = self.sessions();
        let Some(e) = s
            .map
            .get_mut(req.sid())
            .filter(|e| e.expires_at > req.now_ms())
        else {
            return Ok(Recorded::SessionGone);
        };
        let before = e.replay.len();
        let r = e
            .replay
            .check_and_record(req.sid(), req.nonce(), req.timestamp(), req.now_ms());
        let after = e.replay.len();
        s.nonces = s.nonces - before + after;
        match r {
            Ok(()) => Ok(Recorded::Fresh),
            Err(Error::NonceReused) => Ok(Recorded::Replay),
            Err(e) => Err(e),
        }
    }

    /// Terminate: the session and its nonces.
    pub fn delete(&self, sid: &SessionId) {
        self.sessions().remove(sid);
    }

    /// Marks a live session rotated and shortens its life to the rotation's grace, once: the
    /// check and the mark are one critical section.
    pub fn retire(&self, sid: &SessionId, rotation: &Rotation, now_ms: u64) -> Retired {
        let mut s = self.sessions();
        let Ok(e) = s.live(sid, now_ms) else {
            return Retired::SessionGone;
        };
        if e.rotated {
            return Retired::AlreadyRotated;
        }
        e.rotated = true;
        e.expires_at = e.expires_at.min(rotation.retire_at_ms());
        let at = e.expires_at;
        s.expiry.push(Reverse((at, *sid)));
        Retired::Now
    }

    /// The end of a live session's rotation grace, if it was rotated.
    pub fn retired_at(&self, sid: &SessionId, now_ms: u64) -> Result<Option<u64>, Error> {
        let mut s = self.sessions();
        let e = s.live(sid, now_ms)?;
        Ok(e.rotated.then_some(e.expires_at))
    }

    /// Live sessions and remembered nonces (for tests and metrics). Forgets expired nonces of
    /// no session: those go when their session is next used or expires.
    pub fn sizes(&self, now_ms: u64) -> (usize, usize) {
        let mut s = self.sessions();
        s.expire(now_ms, usize::MAX);
        let mut nonces = 0;
        for e in s.map.values_mut() {
            e.replay.evict(now_ms);
            nonces += e.replay.len();
        }
        s.nonces = nonces;
        (s.map.len(), nonces)
    }
}
