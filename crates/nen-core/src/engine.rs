//! The server's request flows as pure steps: what a binding asks its session store, in which
//! order, and what each answer means. The bindings (the napi addon with its tokio stores, the
//! WASM engine with JavaScript store adapters) drive these steps and do the I/O; nothing here
//! waits, reads a clock or draws randomness of its own.
//!
//! ```text
//! handshake  ServerPolicy::handshake ─▶ store.put(session, ttl_ms)                 ─▶ reply
//! open       parse ─▶ cache or store.load(sid) ─▶ Loaded::verify
//!            ─▶ store.record(nonce, now, until) ─▶ Unrecorded::recorded ─▶ OpenedRequest
//! rotate     open ─▶ ServerPolicy::rotation ─▶ store.retire(old, at, ttl)
//!            ─▶ Rotation::retired ─▶ store.put(successor)                    ─▶ sealed reply
//! terminate  open ─▶ store.delete(sid)                                       ─▶ sealed reply
//! status     open ─▶ store.load(sid), never the cache ─▶ status_reply        ─▶ sealed reply
//! ```
//!
//! The types hold the order: a request's plaintext is unreachable until its nonce is recorded
//! ([`Unrecorded`] gives up the [`OpenedRequest`] only for [`Recorded::Fresh`]), and a
//! successor session is unreachable until the old one is retired ([`Rotation`] gives it up
//! only for [`Retired::Now`]), so a session has at most one successor whatever the store.

use crate::crypto::Nonce;
use crate::error::Error;
use crate::request::{OpenedRequest, ParsedRequest};
use crate::server::{status_body, ServerPolicy};
use crate::session::{UnwrapFailure, WrappingKeys};
use crate::store::{nonce_field, Recorded, Retired};
use crate::types::SessionId;
use crate::ServerSession;
use alloc::collections::BTreeMap;
use alloc::string::String;

/// How many unwrapped sessions a process keeps for an out-of-process store. An unwrap costs a
/// few µs and a store round trip about 45 µs here; the cache saves the unwrap and, more, keeps
/// a session's keys out of the wrapped format's decrypt path on every request. 10 000 sessions
/// are about 10 MB. Filled only after a request's MAC verified, so a client without keys can
/// neither fill it nor evict from it.
pub const CACHE_CAPACITY: usize = 10_000;

/// The TTL to give a record that must live until `until_ms` (at least 1 ms: a TTL of 0 is
/// "no expiry" or an error in the stores).
pub fn ttl_ms(until_ms: u64, now_ms: u64) -> u64 {
    until_ms.saturating_sub(now_ms).max(1)
}

/// A session's record as a store answered it: the wrapped entry and, once rotated, the end of
/// its grace.
#[derive(Clone, Copy, Debug)]
pub struct StoredRecord<'a> {
    /// The wrapped session (PROTOCOL.md §9).
    pub entry: &'a [u8],
    /// The `r` field: the end of the rotation grace, Unix ms.
    pub retired_at: Option<u64>,
}

/// Why a stored record does not give a live session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Expired, or past its rotation grace: ISO-2002.
    Expired,
    /// The entry does not unwrap: ISO-8002 (the binding says the cause once, see
    /// [`unwrap_cause`]).
    Unwrap(UnwrapFailure),
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Error {
        match r {
            Refused::Expired => Error::SessionExpired,
            Refused::Unwrap(f) => f.into(),
        }
    }
}

/// The live session a stored record holds at `now_ms`.
pub fn unwrap_record(
    keys: &WrappingKeys,
    sid: &SessionId,
    record: StoredRecord<'_>,
    now_ms: u64,
) -> Result<ServerSession, Refused> {
    let session = keys.unwrap(sid, record.entry).map_err(Refused::Unwrap)?;
    if session.is_expired(now_ms) || record.retired_at.is_some_and(|r| r <= now_ms) {
        return Err(Refused::Expired);
    }
    Ok(session)
}

/// What to log, once per cause, when entries do not unwrap: key ids only, never key material.
pub fn unwrap_cause(f: UnwrapFailure) -> String {
    match f {
        UnwrapFailure::Malformed => {
            String::from("an entry that is not a wrapped session of this version")
        }
        UnwrapFailure::UnknownKey(id) => alloc::format!(
            "entries wrapped under key id {}, which no configured wrapping key has (a key was dropped too early, or instances disagree on NEN_WRAPPING_KEY)",
            crate::wire::hex(&id)
        ),
        UnwrapFailure::DoesNotOpen(id) => alloc::format!(
            "an entry under key id {} that does not open (corrupted, or moved to another session id)",
            crate::wire::hex(&id)
        ),
    }
}

/// Verifies `req` against its loaded `session` at `now_ms`: signature, time window, body. The
/// result is not usable until its nonce is recorded.
pub fn verify(
    policy: &ServerPolicy,
    session: &ServerSession,
    req: ParsedRequest,
    now_ms: u64,
) -> Result<Unrecorded, Error> {
    let opened = session.open_request(req, now_ms, policy.window_ms)?;
    let until_ms = policy.remember_until(opened.timestamp);
    Ok(Unrecorded {
        opened,
        now_ms,
        until_ms,
    })
}

/// A verified request whose nonce the store has not recorded yet.
#[derive(Debug)]
pub struct Unrecorded {
    opened: OpenedRequest,
    now_ms: u64,
    until_ms: u64,
}

impl Unrecorded {
    /// The session the request belongs to.
    pub fn sid(&self) -> &SessionId {
        self.opened.binding.sid()
    }
    /// The nonce to record.
    pub fn nonce(&self) -> &Nonce {
        self.opened.binding.nonce()
    }
    /// Its field in the session's record (`n:<hex>`).
    pub fn nonce_field(&self) -> String {
        nonce_field(self.nonce())
    }
    /// The request's timestamp (the memory store forgets by it).
    pub fn timestamp(&self) -> u64 {
        self.opened.timestamp
    }
    /// The time the request was verified at.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }
    /// Until when the nonce must be remembered: past its window on every instance's clock.
    pub fn until_ms(&self) -> u64 {
        self.until_ms
    }
    /// The request, once the store recorded its nonce; ISO-2002 when the session went meanwhile
    /// (terminated, expired, evicted), ISO-5001 for a replay.
    pub fn recorded(self, outcome: Recorded) -> Result<OpenedRequest, Error> {
        match outcome {
            Recorded::Fresh => Ok(self.opened),
            Recorded::SessionGone => Err(Error::SessionExpired),
            Recorded::Replay => Err(Error::NonceReused),
        }
    }
}

/// A rotation whose successor exists only once the old session is retired.
#[derive(Debug)]
pub struct Rotation {
    successor: ServerSession,
    response: String,
    retire_at_ms: u64,
    now_ms: u64,
}

impl Rotation {
    pub(crate) fn new(
        successor: ServerSession,
        response: String,
        grace_ms: u64,
        now_ms: u64,
    ) -> Self {
        Self {
            successor,
            response,
            retire_at_ms: now_ms.saturating_add(grace_ms),
            now_ms,
        }
    }
    /// The end of the old session's grace: what `retire` marks and shortens its life to.
    pub fn retire_at_ms(&self) -> u64 {
        self.retire_at_ms
    }
    /// The time of the rotation: the successor's record TTL counts from it.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }
    /// The TTL to shorten the old session's record to.
    pub fn retire_ttl_ms(&self) -> u64 {
        ttl_ms(self.retire_at_ms, self.now_ms)
    }
    /// The successor session and the inner handshake response to seal, once the store retired
    /// the old session; ISO-2002 if it was gone, ISO-2004 if it was rotated before.
    pub fn retired(self, outcome: Retired) -> Result<(ServerSession, String), Error> {
        match outcome {
            Retired::Now => Ok((self.successor, self.response)),
            Retired::SessionGone => Err(Error::SessionExpired),
            Retired::AlreadyRotated => Err(Error::SessionAlreadyRotated),
        }
    }
}

/// The `status` answer for `session`, whose store record says it was retired at `retired_at`
/// (if at all): the effective expiry is the earlier of the two; ISO-2002 once past it.
pub fn status_reply(
    session: &ServerSession,
    retired_at: Option<u64>,
    now_ms: u64,
) -> Result<String, Error> {
    let exp = retired_at.map_or(session.expires_at(), |r| r.min(session.expires_at()));
    if exp <= now_ms {
        return Err(Error::SessionExpired);
    }
    Ok(status_body(session.sid(), session.mode(), exp))
}

/// A bounded cache of unwrapped sessions, approximately LRU in O(log n): lookups promote from
/// `cold` to `hot`; when `hot` holds half the capacity it becomes `cold` and the old `cold` is
/// dropped. `T` is the binding's shared handle (`Arc` natively, `Rc` in WASM).
#[derive(Debug)]
pub struct SessionCache<T> {
    hot: BTreeMap<SessionId, T>,
    cold: BTreeMap<SessionId, T>,
    capacity: usize,
}

impl<T: Clone> Default for SessionCache<T> {
    fn default() -> Self {
        Self::with_capacity(CACHE_CAPACITY)
    }
}

impl<T: Clone> SessionCache<T> {
    /// A cache of at most `capacity` sessions (at least 2).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            hot: BTreeMap::new(),
            cold: BTreeMap::new(),
            capacity: capacity.max(2),
        }
    }

    /// The cached session, promoted.
    pub fn get(&mut self, sid: &SessionId) -> Option<T> {
        if let Some(s) = self.hot.get(sid) {
            return Some(s.clone());
        }
        let s = self.cold.remove(sid)?;
        self.insert(*sid, s.clone());
        Some(s)
    }

    /// Caches a session whose request verified and was recorded.
    pub fn insert(&mut self, sid: SessionId, s: T) {
        if self.hot.len() >= self.capacity / 2 && !self.hot.contains_key(&sid) {
            self.cold = core::mem::take(&mut self.hot);
        }
        self.cold.remove(&sid);
        self.hot.insert(sid, s);
    }

    /// Forgets a session (terminated, rotated, gone from the store).
    pub fn remove(&mut self, sid: &SessionId) {
        self.hot.remove(sid);
        self.cold.remove(sid);
    }

    /// Sessions held.
    pub fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(i: u32) -> SessionId {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&i.to_be_bytes());
        SessionId::from_bytes(b)
    }

    #[test]
    fn cache_holds_its_bound_and_keeps_what_is_used() {
        let mut c = SessionCache::with_capacity(CACHE_CAPACITY);
        // Far past the bound: never more than the capacity.
        for i in 0..(3 * CACHE_CAPACITY as u32) {
            c.insert(sid(i), i);
            assert!(c.len() <= CACHE_CAPACITY, "{} > {CACHE_CAPACITY}", c.len());
            // A session in use (looked up on every request) stays.
            assert_eq!(c.get(&sid(0)), Some(0));
        }
        // Between half and all of the capacity: the two generations.
        assert!(c.len() > CACHE_CAPACITY / 2);
        // The oldest unused ones went.
        assert_eq!(c.get(&sid(1)), None);
        c.remove(&sid(0));
        assert_eq!(c.get(&sid(0)), None);
        // Re-inserting a cached sid does not drop a generation.
        let before = c.len();
        let last = 3 * CACHE_CAPACITY as u32 - 1;
        c.insert(sid(last), 7);
        assert_eq!(c.len(), before);
        assert_eq!(c.get(&sid(last)), Some(7));
    }

    #[test]
    fn ttl_is_never_zero() {
        assert_eq!(ttl_ms(10, 20), 1);
        assert_eq!(ttl_ms(20, 20), 1);
        assert_eq!(ttl_ms(25, 20), 5);
    }
}
