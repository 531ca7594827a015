//! A store written in JavaScript (Upstash REST, a custom backend), called through a
//! thread-safe function from the tokio task that serves the request.
//!
//! The JS side is one dispatcher `(op, key, arg, ttlMs) => Promise<string | null>`, built by
//! `nen.js` from a `NenStoreAdapter`; values cross as base64 text. The adapter's `recordNonce`
//! must be atomic (a Lua script or `SET NX PX`): the replay guarantee rests on it.

use super::remote::{Backend, Recorded};
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use nen_core::wire::{b64, unb64};

type Args = FnArgs<(String, String, Option<String>, f64)>;
/// Weak: an idle server must not keep Node alive.
pub type Dispatch = ThreadsafeFunction<Args, Promise<Option<String>>, Args, Status, false, true>;

pub struct JsBackend {
    dispatch: Dispatch,
}

impl JsBackend {
    pub fn new(dispatch: Dispatch) -> Self {
        Self { dispatch }
    }

    async fn call(
        &self,
        op: &str,
        key: String,
        arg: Option<String>,
        ttl_ms: u64,
    ) -> Result<Option<String>, ()> {
        let args = FnArgs {
            data: (op.to_string(), key, arg, ttl_ms as f64),
        };
        // `call_async_catch`: a throwing adapter is a store failure, not a process crash.
        let promise = self.dispatch.call_async_catch(args).await.map_err(|_| ())?;
        promise.await.map_err(|_| ())
    }
}

impl Backend for JsBackend {
    async fn get(&self, key: String) -> Result<Option<Vec<u8>>, ()> {
        match self.call("get", key, None, 0).await? {
            None => Ok(None),
            Some(v) => unb64(&v).map(Some).map_err(|_| ()),
        }
    }

    async fn set(&self, key: String, value: Vec<u8>, ttl_ms: u64) -> Result<(), ()> {
        self.call("set", key, Some(b64(&value)), ttl_ms)
            .await
            .map(|_| ())
    }

    async fn del(&self, key: String) -> Result<(), ()> {
        self.call("del", key, None, 0).await.map(|_| ())
    }

    async fn shorten(&self, key: String, ttl_ms: u64) -> Result<(), ()> {
        self.call("shorten", key, None, ttl_ms).await.map(|_| ())
    }

    async fn record(
        &self,
        session_key: String,
        nonce_key: String,
        ttl_ms: u64,
    ) -> Result<Recorded, ()> {
        match self
            .call("recordNonce", session_key, Some(nonce_key), ttl_ms)
            .await?
            .as_deref()
        {
            Some("ok") => Ok(Recorded::Fresh),
            Some("gone") => Ok(Recorded::SessionGone),
            Some("replay") => Ok(Recorded::Replay),
            _ => Err(()),
        }
    }
}
