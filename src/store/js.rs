//! A store written in JavaScript (Upstash REST, a custom backend), called through a
//! thread-safe function from the tokio task that serves the request.
//!
//! The JS side is one dispatcher `(op, key, arg, a, b) => Promise<string | null>`, built by
//! `nen.js` from a `NenStoreAdapter`; entries cross as base64 text. The adapter keeps the
//! `nen_core::store` layout (one record per session with its replay records) and its `retire`
//! and `recordNonce` must be atomic: the replay guarantee and the one-successor rule rest on it.

use super::remote::{Backend, Loaded};
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use nen_core::store::{Recorded, Retired};
use nen_core::wire::{b64, unb64};

type Args = FnArgs<(String, String, Option<String>, f64, f64)>;
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
        a: u64,
        b: u64,
    ) -> Result<Option<String>, ()> {
        let args = FnArgs {
            data: (op.to_string(), key, arg, a as f64, b as f64),
        };
        // `call_async_catch`: a throwing adapter is a store failure, not a process crash.
        let promise = self.dispatch.call_async_catch(args).await.map_err(|_| ())?;
        promise.await.map_err(|_| ())
    }
}

impl Backend for JsBackend {
    async fn load(&self, key: String) -> Result<Option<Loaded>, ()> {
        // "<entry base64>" or "<entry base64> <retiredAt>".
        let Some(v) = self.call("load", key, None, 0, 0).await? else {
            return Ok(None);
        };
        let (entry, retired_at) = match v.split_once(' ') {
            None => (v.as_str(), None),
            Some((e, r)) => (e, Some(r.parse::<u64>().map_err(|_| ())?)),
        };
        Ok(Some(Loaded {
            entry: unb64(entry).map_err(|_| ())?,
            retired_at,
        }))
    }

    async fn put(&self, key: String, entry: Vec<u8>, ttl_ms: u64) -> Result<(), ()> {
        self.call("put", key, Some(b64(&entry)), ttl_ms, 0)
            .await
            .map(|_| ())
    }

    async fn delete(&self, key: String) -> Result<(), ()> {
        self.call("delete", key, None, 0, 0).await.map(|_| ())
    }

    async fn retire(&self, key: String, at_ms: u64, ttl_ms: u64) -> Result<Retired, ()> {
        let r = self.call("retire", key, None, at_ms, ttl_ms).await?;
        r.as_deref().and_then(Retired::parse).ok_or(())
    }

    async fn record(
        &self,
        key: String,
        field: String,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<Recorded, ()> {
        let r = self
            .call("recordNonce", key, Some(field), now_ms, until_ms)
            .await?;
        r.as_deref().and_then(Recorded::parse).ok_or(())
    }
}
