//! What every out-of-process store shares: the record layout of `nen_core::store` (one hash
//! per session holding its wrapped entry and its replay records), wrapping, the per-process
//! cache of unwrapped sessions and the time bound on each operation. A backend supplies five
//! operations on that layout.
//!
//! One round trip per request: sessions are cached unwrapped in this process, so a request costs
//! only `record`, which checks that the session still exists (a terminate, rotation or expiry on
//! another instance is seen at once) and records the nonce if unseen, atomically, after the MAC
//! has verified. A cache miss adds one `load`. The cache is filled only after a request's MAC
//! verified and its nonce was recorded, and holds at most `nen_core::engine::CACHE_CAPACITY` sessions, least
//! recently used out first: nobody without a session's keys can grow it.

use nen_core::engine::{
    ttl_ms, unwrap_cause, unwrap_record, Refused, Rotation, SessionCache, StoredRecord, Unrecorded,
};
use nen_core::session::WrappingKeys;
use nen_core::store::{session_key, Recorded, Retired};
use nen_core::{Error, ServerSession, SessionId};
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::rng::with_rng;

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

pub struct RemoteStore<B> {
    backend: B,
    prefix: String,
    timeout: Duration,
    wrapping_keys: WrappingKeys,
    cache: Mutex<SessionCache<Arc<ServerSession>>>,
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
            cache: Mutex::new(SessionCache::default()),
        }
    }

    fn key(&self, sid: &SessionId) -> String {
        session_key(&self.prefix, sid)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, SessionCache<Arc<ServerSession>>> {
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
        let ttl = ttl_ms(session.expires_at(), now_ms);
        // The handshake's own answer proves nothing about its client yet: cache on first use.
        self.bounded(self.backend.put(self.key(session.sid()), entry, ttl))
            .await
    }

    /// The live session the store holds for `sid` (read from the store, not the cache).
    async fn fetch(
        &self,
        sid: &SessionId,
        now_ms: u64,
    ) -> Result<(ServerSession, Option<u64>), Error> {
        let loaded = self
            .bounded(self.backend.load(self.key(sid)))
            .await?
            .ok_or(Error::SessionExpired)?;
        let record = StoredRecord {
            entry: &loaded.entry,
            retired_at: loaded.retired_at,
        };
        match unwrap_record(&self.wrapping_keys, sid, record, now_ms) {
            Ok(session) => Ok((session, loaded.retired_at)),
            Err(Refused::Unwrap(f)) => {
                self.said_once(unwrap_cause(f));
                Err(Refused::Unwrap(f).into())
            }
            Err(r) => Err(r.into()),
        }
    }

    /// ISO-8002, said once per cause on stderr (key ids only, never key material), so a dropped
    /// or mistyped `NEN_WRAPPING_KEY` is visible at once instead of failing quietly for an hour.
    fn said_once(&self, cause: String) {
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        if logged.len() < 64 && logged.insert(cause.clone()) {
            eprintln!("[nen] stored sessions could not be unwrapped: {cause}. Those requests answer ISO-8002; their clients handshake again.");
        }
    }

    /// The session, from the cache or the store. Not cached here: only `record`, after the
    /// request verified, caches it.
    pub async fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        if let Some(s) = self.cache().get(sid) {
            if !s.is_expired(now_ms) {
                return Ok(s);
            }
        }
        Ok(Arc::new(self.fetch(sid, now_ms).await?.0))
    }

    /// Records the nonce of a verified request (check and record in one step); a fresh one
    /// caches its session, a gone session leaves the cache.
    pub async fn record(
        &self,
        session: &Arc<ServerSession>,
        req: &Unrecorded,
    ) -> Result<Recorded, Error> {
        let sid = session.sid();
        let op = self.backend.record(
            self.key(sid),
            req.nonce_field(),
            req.now_ms(),
            req.until_ms(),
        );
        let outcome = self.bounded(op).await?;
        match outcome {
            Recorded::Fresh => self.cache().insert(*sid, session.clone()),
            Recorded::SessionGone => self.cache().remove(sid),
            Recorded::Replay => {}
        }
        Ok(outcome)
    }

    /// Terminate: the session and its replay records, in one step.
    pub async fn delete(&self, sid: &SessionId) -> Result<(), Error> {
        self.cache().remove(sid);
        self.bounded(self.backend.delete(self.key(sid))).await
    }

    /// Marks the session rotated and shortens its life to the rotation's grace, once.
    pub async fn retire(&self, sid: &SessionId, rotation: &Rotation) -> Result<Retired, Error> {
        self.cache().remove(sid);
        let op = self.backend.retire(
            self.key(sid),
            rotation.retire_at_ms(),
            rotation.retire_ttl_ms(),
        );
        self.bounded(op).await
    }

    /// The end of the session's rotation grace, if it was rotated (read from the store, not the
    /// cache: another instance may have rotated it); ISO-2002 once it is gone.
    pub async fn retired_at(&self, sid: &SessionId, now_ms: u64) -> Result<Option<u64>, Error> {
        Ok(self.fetch(sid, now_ms).await?.1)
    }

    /// Unwrapped sessions held in this process.
    pub fn cached(&self) -> usize {
        self.cache().len()
    }
}
