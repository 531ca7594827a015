//! Session stores. One enum rather than a trait object: the memory store is synchronous and
//! must stay callable inline on the JS thread, which an async trait would hide.

mod memory;
mod redis;

pub use self::memory::MemoryStore;
pub use self::redis::{RedisStore, Target};

use nen_core::crypto::Nonce;
use nen_core::{Error, ServerSession, SessionId};
use std::sync::Arc;

pub enum Store {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl Store {
    /// The memory store, for the synchronous entry points.
    pub fn memory(&self) -> Result<&MemoryStore, Error> {
        match self {
            Store::Memory(m) => Ok(m),
            // Calling a *Sync method on an I/O store is a programming error, not a store fault.
            _ => Err(Error::InvalidConfiguration),
        }
    }

    pub async fn put(&self, session: ServerSession, now_ms: u64) -> Result<(), Error> {
        match self {
            Store::Memory(m) => {
                m.put(session, now_ms);
                Ok(())
            }
            Store::Redis(r) => r.put(session, now_ms).await,
        }
    }

    pub async fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        match self {
            Store::Memory(m) => m.load(sid, now_ms),
            Store::Redis(r) => r.load(sid, now_ms).await,
        }
    }

    pub async fn record_nonce(
        &self,
        sid: &SessionId,
        nonce: &Nonce,
        timestamp: u64,
        window_ms: u64,
        now_ms: u64,
    ) -> Result<(), Error> {
        match self {
            Store::Memory(m) => m.record_nonce(sid, nonce, timestamp, now_ms),
            Store::Redis(r) => r.record_nonce(sid, nonce, timestamp, window_ms, now_ms).await,
        }
    }

    pub async fn delete(&self, sid: &SessionId) -> Result<(), Error> {
        match self {
            Store::Memory(m) => {
                m.delete(sid);
                Ok(())
            }
            Store::Redis(r) => r.delete(sid).await,
        }
    }

    pub async fn expire_by(&self, sid: &SessionId, at_ms: u64, now_ms: u64) -> Result<(), Error> {
        match self {
            Store::Memory(m) => {
                m.expire_by(sid, at_ms);
                Ok(())
            }
            Store::Redis(r) => r.expire_by(sid, at_ms, now_ms).await,
        }
    }
}
