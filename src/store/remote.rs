//! What every out-of-process store shares: the record layout of `nen_core::store` (one hash
//! per session holding its wrapped entry and its replay records), wrapping, the per-process
//! cache of unwrapped sessions and the time bound on each operation. A backend supplies five
//! operations on that layout.
//!
//! One round trip per request: sessions are cached unwrapped in this process, so a request costs
//! only `record`, which checks that the session still exists (a terminate, rotation or expiry on
//! another instance is seen at once) and records the nonce if unseen, atomically, after the MAC
//! has verified. A cache miss adds one `load`. The cache is filled only after a request's MAC
//! verified and its nonce was recorded, and holds at most [`CACHE_MAX`] sessions, least
//! recently used out first: nobody without a session's keys can grow it.

use nen_core::crypto::Nonce;
use nen_core::session::{UnwrapFailure, WrappingKeys};
use nen_core::store::{nonce_field, session_key, Recorded, Retired};
use nen_core::wire::hex;
use nen_core::{Error, ServerSession, SessionId};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::rng::with_rng;

/// Sessions cached unwrapped per process, at most (about 1 KB each).
pub const CACHE_MAX: usize = 10_000;

/// A stored record: the wrapped entry and, once rotated, the end of its grace.
pub struct Loaded {
    pub entry: Vec<u8>,
    pub retired_at: Option<u64>,
}

/// The five operations a store backend provides on the `nen_core::store` layout. Any failure is
/// reported as [`Error::StoreUnavailable`] by the caller.
pub trait Backend: Send + Sync + 'static {
    /// The record at `key`, if any.
    fn load(&self, key: String) -> impl Future<Output = Result<Option<Loaded>, ()>> + Send;
    /// Replaces the record at `key` with a fresh one holding `entry`, for `ttl_ms`.
    fn put(
        &self,
        key: String,
        entry: Vec<u8>,
        ttl_ms: u64,
    ) -> impl Future<Output = Result<(), ()>> + Send;
    /// Deletes the record: the session and all its replay records.
    fn delete(&self, key: String) -> impl Future<Output = Result<(), ()>> + Send;
    /// Atomically: marks the record rotated at `at_ms` (once) and lowers its TTL to `ttl_ms`.
    fn retire(
        &self,
        key: String,
        at_ms: u64,
        ttl_ms: u64,
    ) -> impl Future<Output = Result<Retired, ()>> + Send;
    /// Atomically: if the record exists and `field` is unseen (or expired by `now_ms`), records
    /// it until `until_ms`, pruning expired nonce fields as it goes.
    fn record(
        &self,
        key: String,
        field: String,
        now_ms: u64,
        until_ms: u64,
    ) -> impl Future<Output = Result<Recorded, ()>> + Send;
}

/// A bounded cache, approximately LRU in O(1): lookups promote from `cold` to `hot`; when `hot`
/// holds half the bound, it becomes `cold` and the old `cold` is dropped.
struct Cache {
    hot: HashMap<SessionId, Arc<ServerSession>>,
    cold: HashMap<SessionId, Arc<ServerSession>>,
}

impl Cache {
    fn get(&mut self, sid: &SessionId) -> Option<Arc<ServerSession>> {
        if let Some(s) = self.hot.get(sid) {
            return Some(s.clone());
        }
        let s = self.cold.remove(sid)?;
        self.insert(*sid, s.clone());
        Some(s)
    }

    fn insert(&mut self, sid: SessionId, s: Arc<ServerSession>) {
        if self.hot.len() >= CACHE_MAX / 2 {
            self.cold = std::mem::take(&mut self.hot);
        }
        self.hot.insert(sid, s);
    }

    fn remove(&mut self, sid: &SessionId) {
        self.hot.remove(sid);
        self.cold.remove(sid);
    }

    fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }
}

pub struct RemoteStore<B> {
    backend: B,
    prefix: String,
    timeout: Duration,
    wrapping_keys: WrappingKeys,
    cache: Mutex<Cache>,
    /// Unwrap failures already logged, by cause: each is said once, not once per request.
    logged: Mutex<HashSet<String>>,
}

impl<B: Backend> RemoteStore<B> {
    pub fn new(backend: B, prefix: String, timeout: Duration, wrapping_keys: WrappingKeys) -> Self {
        Self {
            backend,
            prefix,
            timeout,
            wrapping_keys,
            logged: Mutex::new(HashSet::new()),
            cache: Mutex::new(Cache {
                hot: HashMap::new(),
                cold: HashMap::new(),
            }),
        }
    }

    fn key(&self, sid: &SessionId) -> String {
        session_key(&self.prefix, sid)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // Every critical section is one map call, so a poisoned lock is still consistent.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one backend operation under the timeout; any failure is ISO-8001.
    async fn bounded<T>(&self, op: impl Future<Output = Result<T, ()>>) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            _ => Err(Error::StoreUnavailable),
        }
    }

    pub async fn put(&self, session: ServerSession, now_ms: u64) -> Result<(), Error> {
        let entry = with_rng(|rng| self.wrapping_keys.wrap(&session, rng))?;
        let ttl = session.expires_at().saturating_sub(now_ms).max(1);
        self.bounded(self.backend.put(self.key(session.sid()), entry, ttl))
            .await?;
        // The handshake's own answer proves nothing about its client yet: cache on first use.
        Ok(())
    }

    async fn fetch(&self, sid: &SessionId) -> Result<(ServerSession, Option<u64>), Error> {
        let loaded = self
            .bounded(self.backend.load(self.key(sid)))
            .await?
            .ok_or(Error::SessionExpired)?;
        let session = self
            .wrapping_keys
            .unwrap(sid, &loaded.entry)
            .map_err(|f| self.unwrap_failed(f))?;
        Ok((session, loaded.retired_at))
    }

    /// ISO-8002, said once per cause on stderr (key ids only, never key material), so a dropped
    /// or mistyped `NEN_WRAPPING_KEY` is visible at once instead of failing quietly for an hour.
    fn unwrap_failed(&self, f: UnwrapFailure) -> Error {
        let cause = match f {
            UnwrapFailure::Malformed => String::from("an entry that is not a wrapped session of this version"),
            UnwrapFailure::UnknownKey(id) => format!(
                "entries wrapped under key id {}, which no configured wrapping key has (a key was dropped too early, or instances disagree on NEN_WRAPPING_KEY)",
                hex(&id)
            ),
            UnwrapFailure::DoesNotOpen(id) => format!(
                "an entry under key id {} that does not open (corrupted, or moved to another session id)",
                hex(&id)
            ),
        };
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        if logged.len() < 64 && logged.insert(cause.clone()) {
            eprintln!("[nen] stored sessions could not be unwrapped: {cause}. Those requests answer ISO-8002; their clients handshake again.");
        }
        Error::StoreCorrupt
    }

    /// The session, from the cache or the store. Not cached here: only `record_nonce`, after
    /// the request verified, caches it.
    pub async fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        if let Some(s) = self.cache().get(sid) {
            if !s.is_expired(now_ms) {
                return Ok(s);
            }
        }
        let (session, retired_at) = self.fetch(sid).await?;
        if session.is_expired(now_ms) || retired_at.is_some_and(|r| r <= now_ms) {
            return Err(Error::SessionExpired);
        }
        Ok(Arc::new(session))
    }

    /// Records the nonce of a verified request (check and record in one step); then caches
    /// its session.
    pub async fn record_nonce(
        &self,
        session: &Arc<ServerSession>,
        nonce: &Nonce,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<(), Error> {
        let sid = session.sid();
        let op = self
            .backend
            .record(self.key(sid), nonce_field(nonce), now_ms, until_ms);
        match self.bounded(op).await? {
            Recorded::Fresh => {
                self.cache().insert(*sid, session.clone());
                Ok(())
            }
            Recorded::SessionGone => {
                self.cache().remove(sid);
                Err(Error::SessionExpired)
            }
            Recorded::Replay => Err(Error::NonceReused),
        }
    }

    /// Terminate: the session and its replay records, in one step.
    pub async fn delete(&self, sid: &SessionId) -> Result<(), Error> {
        self.cache().remove(sid);
        self.bounded(self.backend.delete(self.key(sid))).await
    }

    /// Marks the session rotated and shortens its life to `at_ms`, once.
    pub async fn retire(&self, sid: &SessionId, at_ms: u64, now_ms: u64) -> Result<(), Error> {
        self.cache().remove(sid);
        let ttl = at_ms.saturating_sub(now_ms).max(1);
        match self
            .bounded(self.backend.retire(self.key(sid), at_ms, ttl))
            .await?
        {
            Retired::Now => Ok(()),
            Retired::SessionGone => Err(Error::SessionExpired),
            Retired::AlreadyRotated => Err(Error::SessionAlreadyRotated),
        }
    }

    /// When the session really ends: its handshake expiry, or the end of its rotation grace
    /// (read from the store, not the cache: another instance may have rotated it).
    pub async fn expires_at(&self, sid: &SessionId, exp: u64, now_ms: u64) -> Result<u64, Error> {
        let (session, retired_at) = self.fetch(sid).await?;
        let end = retired_at
            .map_or(exp, |r| r.min(exp))
            .min(session.expires_at());
        if end <= now_ms {
            return Err(Error::SessionExpired);
        }
        Ok(end)
    }

    /// Unwrapped sessions held in this process.
    pub fn cached(&self) -> usize {
        self.cache().len()
    }
}
