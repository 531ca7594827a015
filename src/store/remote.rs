//! What every out-of-process store shares: key naming, wrapping, the per-process cache of
//! unwrapped sessions and the time bound on each operation. A backend supplies five operations.
//!
//! Keys, all under one hash tag per session so a session and its nonces share a cluster slot:
//!
//! ```text
//! {prefix}{<sid>}:s            wrapped session (PROTOCOL.md §9), TTL = time to expiry
//! {prefix}{<sid>}:n:<nonce>    "1", set-if-absent, TTL = until the request leaves the window
//! ```
//!
//! One round trip per request: sessions are cached unwrapped in this process, so a request costs
//! only `record`, which checks that the session still exists (a terminate or expiry on another
//! instance is seen at once) and records the nonce if absent, atomically, after the MAC has
//! verified. A cache miss adds one `get`.

use nen_core::crypto::{AeadKey, Nonce};
use nen_core::session::{unwrap, wrap};
use nen_core::wire::hex;
use nen_core::{Error, ServerSession, SessionId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::rng::with_rng;

/// Sessions cached unwrapped per process, at most.
const CACHE_MAX: usize = 10_000;

/// Outcome of the atomic replay check.
pub enum Recorded {
    /// The nonce was new and is now recorded.
    Fresh,
    /// The session no longer exists.
    SessionGone,
    /// The nonce was already recorded: a replay.
    Replay,
}

/// The five operations a store backend provides. Any failure is reported as
/// [`Error::StoreUnavailable`] by the caller.
pub trait Backend: Send + Sync + 'static {
    /// Reads a value.
    fn get(&self, key: String) -> impl Future<Output = Result<Option<Vec<u8>>, ()>> + Send;
    /// Writes a value with a TTL.
    fn set(
        &self,
        key: String,
        value: Vec<u8>,
        ttl_ms: u64,
    ) -> impl Future<Output = Result<(), ()>> + Send;
    /// Deletes a key.
    fn del(&self, key: String) -> impl Future<Output = Result<(), ()>> + Send;
    /// Lowers a key's TTL (never raises it).
    fn shorten(&self, key: String, ttl_ms: u64) -> impl Future<Output = Result<(), ()>> + Send;
    /// Atomically: if `session_key` exists, set `nonce_key` if absent with `ttl_ms`.
    fn record(
        &self,
        session_key: String,
        nonce_key: String,
        ttl_ms: u64,
    ) -> impl Future<Output = Result<Recorded, ()>> + Send;
}

pub struct RemoteStore<B> {
    backend: B,
    prefix: String,
    timeout: Duration,
    wrapping_key: AeadKey,
    cache: Mutex<HashMap<SessionId, Arc<ServerSession>>>,
}

impl<B: Backend> RemoteStore<B> {
    pub fn new(backend: B, prefix: String, timeout: Duration, wrapping_key: AeadKey) -> Self {
        Self {
            backend,
            prefix,
            timeout,
            wrapping_key,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn session_key(&self, sid: &SessionId) -> String {
        format!("{}{{{}}}:s", self.prefix, sid)
    }

    fn nonce_key(&self, sid: &SessionId, nonce: &Nonce) -> String {
        format!("{}{{{}}}:n:{}", self.prefix, sid, hex(nonce.as_bytes()))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Arc<ServerSession>>> {
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
        let entry = with_rng(|rng| wrap(&self.wrapping_key, &session, rng))?;
        let ttl = session.expires_at().saturating_sub(now_ms).max(1);
        self.bounded(
            self.backend
                .set(self.session_key(session.sid()), entry, ttl),
        )
        .await?;
        let mut cache = self.cache();
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, s| !s.is_expired(now_ms));
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(*session.sid(), Arc::new(session));
        Ok(())
    }

    pub async fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        if let Some(s) = self.cache().get(sid).cloned() {
            if !s.is_expired(now_ms) {
                return Ok(s);
            }
        }
        let entry = self
            .bounded(self.backend.get(self.session_key(sid)))
            .await?;
        let session = unwrap(
            &self.wrapping_key,
            sid,
            &entry.ok_or(Error::SessionExpired)?,
        )?;
        if session.is_expired(now_ms) {
            return Err(Error::SessionExpired);
        }
        let session = Arc::new(session);
        self.cache().insert(*sid, session.clone());
        Ok(session)
    }

    pub async fn record_nonce(
        &self,
        sid: &SessionId,
        nonce: &Nonce,
        timestamp: u64,
        window_ms: u64,
        now_ms: u64,
    ) -> Result<(), Error> {
        // Remember the nonce until its request can no longer pass the window, plus a margin for
        // clock differences between instances.
        let ttl = timestamp
            .saturating_add(window_ms)
            .saturating_sub(now_ms)
            .max(1)
            + 1_000;
        let op = self
            .backend
            .record(self.session_key(sid), self.nonce_key(sid, nonce), ttl);
        match self.bounded(op).await? {
            Recorded::Fresh => Ok(()),
            Recorded::SessionGone => {
                self.cache().remove(sid);
                Err(Error::SessionExpired)
            }
            Recorded::Replay => Err(Error::NonceReused),
        }
    }

    pub async fn delete(&self, sid: &SessionId) -> Result<(), Error> {
        self.cache().remove(sid);
        // Nonce keys expire on their own within the window and are useless without the session.
        self.bounded(self.backend.del(self.session_key(sid))).await
    }

    pub async fn retire(&self, sid: &SessionId, at_ms: u64, now_ms: u64) -> Result<(), Error> {
        self.cache().remove(sid);
        let ttl = at_ms.saturating_sub(now_ms).max(1);
        self.bounded(self.backend.shorten(self.session_key(sid), ttl))
            .await
    }
}

impl<B: Backend> RemoteStore<B> {
    /// When the session really ends. The store keeps the shortened lifetime as the key's TTL
    /// only, so this is the handshake expiry; see the store layout note.
    pub async fn expires_at(&self, _sid: &SessionId, exp: u64, _now_ms: u64) -> Result<u64, Error> {
        Ok(exp)
    }
}
