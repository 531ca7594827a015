//! Session stores. One enum rather than a trait object: the memory store is synchronous and
//! must stay callable inline on the JS thread, which an async trait would hide.

mod js;
mod memory;
mod redis;
mod remote;

pub use self::js::{Dispatch, JsBackend};
pub use self::memory::MemoryStore;
pub use self::redis::{RedisBackend, Target};
pub use self::remote::RemoteStore;

use nen_core::crypto::Nonce;
use nen_core::{Error, ServerSession, SessionId};
use std::sync::Arc;

pub enum Store {
    Memory(MemoryStore),
    Redis(Box<RemoteStore<RedisBackend>>),
    Js(RemoteStore<JsBackend>),
}

/// Forwards a call to whichever remote store is in use.
macro_rules! remote {
    ($self:ident, $r:ident => $call:expr, memory $m:ident => $mem:expr) => {
        match $self {
            Store::Memory($m) => $mem,
            Store::Redis($r) => $call,
            Store::Js($r) => $call,
        }
    };
}

impl Store {
    /// Unwrapped sessions cached in this process by a remote store (0 for memory).
    pub fn cached(&self) -> usize {
        remote!(self, r => r.cached(), memory _m => 0)
    }

    /// The memory store, for the synchronous entry points.
    pub fn memory(&self) -> Result<&MemoryStore, Error> {
        match self {
            Store::Memory(m) => Ok(m),
            // Calling a *Sync method on an I/O store is a programming error, not a store fault.
            _ => Err(Error::InvalidConfiguration),
        }
    }

    pub async fn put(&self, session: ServerSession, now_ms: u64) -> Result<(), Error> {
        remote!(self, r => r.put(session, now_ms).await, memory m => m.put(session, now_ms))
    }

    pub async fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        remote!(self, r => r.load(sid, now_ms).await, memory m => m.load(sid, now_ms))
    }

    /// Records the nonce of a verified request of `session`, remembered until `until_ms`.
    pub async fn record_nonce(
        &self,
        session: &Arc<ServerSession>,
        nonce: &Nonce,
        timestamp: u64,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<(), Error> {
        remote!(self, r => r.record_nonce(session, nonce, now_ms, until_ms).await,
            memory m => m.record_nonce(session.sid(), nonce, timestamp, now_ms))
    }

    pub async fn delete(&self, sid: &SessionId) -> Result<(), Error> {
        remote!(self, r => r.delete(sid).await, memory m => {
            m.delete(sid);
            Ok(())
        })
    }

    /// Marks a session rotated and shortens its life to `at_ms`, once: a second rotation of
    /// the same session is [`Error::SessionAlreadyRotated`].
    pub async fn retire(&self, sid: &SessionId, at_ms: u64, now_ms: u64) -> Result<(), Error> {
        remote!(self, r => r.retire(sid, at_ms, now_ms).await, memory m => m.retire(sid, at_ms, now_ms))
    }

    /// When the session really ends: `exp`, or the end of its rotation grace.
    pub async fn expires_at(&self, sid: &SessionId, exp: u64, now_ms: u64) -> Result<u64, Error> {
        remote!(self, r => r.expires_at(sid, exp, now_ms).await, memory m => m.expires_at(sid, now_ms))
    }
}
