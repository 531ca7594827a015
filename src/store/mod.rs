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

use nen_core::engine::{Rotation, Unrecorded};
use nen_core::store::{Recorded, Retired};
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

    /// Records the nonce of a verified request of `session`.
    pub async fn record(
        &self,
        session: &Arc<ServerSession>,
        req: &Unrecorded,
    ) -> Result<Recorded, Error> {
        remote!(self, r => r.record(session, req).await, memory m => m.record(req))
    }

    pub async fn delete(&self, sid: &SessionId) -> Result<(), Error> {
        remote!(self, r => r.delete(sid).await, memory m => {
            m.delete(sid);
            Ok(())
        })
    }

    /// Marks a session rotated and shortens its life to the rotation's grace, once.
    pub async fn retire(
        &self,
        sid: &SessionId,
        rotation: &Rotation,
        now_ms: u64,
    ) -> Result<Retired, Error> {
        remote!(self, r => r.retire(sid, rotation).await, memory m => Ok(m.retire(sid, rotation, now_ms)))
    }

    /// The end of the session's rotation grace, if it was rotated; ISO-2002 once it is gone.
    pub async fn retired_at(&self, sid: &SessionId, now_ms: u64) -> Result<Option<u64>, Error> {
        remote!(self, r => r.retired_at(sid, now_ms).await, memory m => m.retired_at(sid, now_ms))
    }
}
