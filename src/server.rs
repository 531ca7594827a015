//! `NenServer`: every server-side protocol step, with session keys kept in Rust.
//!
//! Where work runs (measured on the 2-core target machine, see `benchmark/`): a libuv or tokio
//! hop costs 28-37 µs, more than verifying, decrypting and sealing a 1 KiB request (a few µs),
//! so per-request crypto never hops on its own. With the memory store the `*Sync` methods run
//! inline on the JS thread; with Redis, `open()` runs the crypto on the tokio task that already
//! awaits the Redis reply. A handshake (ML-KEM + X25519, ~0.3 ms) is offered both ways:
//! `handshake()` runs on a tokio worker so bursts do not stall the event loop, `handshakeSync()`
//! inline. Results are strings (the JSON JS sends as-is), not fresh Buffers, which cost 3-4.5 µs.

use crate::error::{config_error, js_error, napi_failure, rejection, OrJs, Result};
use crate::options::{NenServerOptions, StoreOptions};
use crate::rng::{now_ms, with_rng};
use crate::store::{Dispatch, JsBackend, MemoryStore, RedisBackend, RemoteStore, Store, Target};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use nen_core::crypto::AeadKey;
use nen_core::engine;
use nen_core::request::{parse_request, ParsedRequest, RequestParts};
use nen_core::response::HEADER_RESPONSE;
use nen_core::rng::ChaChaRng;
use nen_core::server::{
    ConfigError, Lifecycle, ServerOptions, ServerPolicy, TokenBucket, HEADER_ERROR, TERMINATED_BODY,
};
use nen_core::session::WrappingKeys;
use nen_core::stream::{StreamSealer, HEADER_STREAM_NONCE};
use nen_core::target::target_of_url;
use nen_core::wire::{b64, unb64_array};
use nen_core::{Error as NenErr, ServerSession};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// `(op, key, arg, a, b) => Promise<string | null>`, see `store/js.rs`.
type StoreDispatchFn<'a> =
    Function<'a, FnArgs<(String, String, Option<String>, f64, f64)>, Promise<Option<String>>>;

struct Inner {
    config: ServerPolicy,
    /// The per-instance handshake budget (`handshakeBudget`), if configured.
    budget: Option<Mutex<TokenBucket>>,
    store: Store,
    test: Option<TestHooks>,
}

/// A fixed clock and a seeded generator, so an end-to-end run can reproduce `docs/vectors`
/// byte for byte. Only the test build (cargo feature `test-hooks`) can make one: the published
/// addon has neither the options nor `setTestNow`.
struct TestHooks {
    rng: Mutex<ChaChaRng>,
    now_ms: std::sync::atomic::AtomicU64,
}

/// A reply ready to send: status, headers and body.
#[napi(object)]
pub struct NenReply {
    /// HTTP status.
    pub status: u32,
    /// Response headers (lower-case names).
    pub headers: HashMap<String, String>,
    /// Response body (JSON text).
    pub body: String,
}

/// The `X-Nen-*` request headers, under their lower-case names. Other headers may be present
/// in the same object and are ignored.
#[napi(object)]
pub struct NenHeaders {
    /// `X-Nen-Version`.
    #[napi(js_name = "x-nen-version")]
    pub version: Option<String>,
    /// `X-Nen-Session`.
    #[napi(js_name = "x-nen-session")]
    pub session: Option<String>,
    /// `X-Nen-Timestamp`.
    #[napi(js_name = "x-nen-timestamp")]
    pub timestamp: Option<String>,
    /// `X-Nen-Nonce`.
    #[napi(js_name = "x-nen-nonce")]
    pub nonce: Option<String>,
    /// `X-Nen-Signature`.
    #[napi(js_name = "x-nen-signature")]
    pub signature: Option<String>,
    /// `X-Nen-Idempotency-Key`.
    #[napi(js_name = "x-nen-idempotency-key")]
    pub idempotency_key: Option<String>,
}

/// An incoming request.
#[napi(object)]
pub struct NenRequest {
    /// HTTP method, exactly as received.
    pub method: String,
    /// The request target exactly as received, the bytes the router dispatches on: Node's
    /// `req.url` before any framework rewrote it (Express: `req.originalUrl`). An absolute URL
    /// (`https://host/path?q`) is reduced to its `path?q` only when it starts with a scheme.
    pub url: String,
    /// Request headers with lower-case names (Node's `req.headers` works as is).
    pub headers: NenHeaders,
    /// Raw body: the `{"ct"}` envelope as text or bytes; absent or empty for none.
    pub body: Option<Either<String, Buffer>>,
}

/// A verified, decrypted request, bound to its session. Pass it to `seal`, `sealHead` or
/// `stream` to answer it; the keys stay in Rust.
#[napi]
pub struct OpenedRequest {
    session: Arc<ServerSession>,
    req: nen_core::request::OpenedRequest,
}

impl OpenedRequest {
    fn new(session: Arc<ServerSession>, req: nen_core::request::OpenedRequest) -> Self {
        Self { session, req }
    }
}

#[napi]
impl OpenedRequest {
    /// Session id (32 hex digits).
    #[napi(getter)]
    pub fn sid(&self) -> String {
        self.req.binding.sid().to_hex()
    }
    /// Upper-case HTTP method.
    #[napi(getter)]
    pub fn method(&self) -> &'static str {
        self.req.method.as_str()
    }
    /// Request timestamp, Unix ms.
    #[napi(getter)]
    pub fn timestamp(&self) -> f64 {
        self.req.timestamp as f64
    }
    /// The verified `X-Nen-Idempotency-Key`, or `null`. Deduplicate on this one only: a plain
    /// `Idempotency-Key` header is outside the signature and any hop may have set it.
    #[napi(getter)]
    pub fn idempotency_key(&self) -> Option<String> {
        self.req.idempotency_key.clone()
    }
    /// The decrypted body as JSON text, or `null` when the request had none.
    #[napi(getter)]
    pub fn body(&self) -> Option<String> {
        self.req
            .body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// An encrypted server-sent-event stream answering one request.
#[napi]
pub struct NenStream {
    sealer: StreamSealer,
    nonce: String,
}

#[napi]
impl NenStream {
    /// Headers to send before the first frame (`content-type`, `x-nen-stream-nonce`, no caching).
    #[napi(getter)]
    pub fn headers(&self) -> HashMap<String, String> {
        HashMap::from([
            ("content-type".into(), "text/event-stream".into()),
            ("cache-control".into(), "no-cache, no-transform".into()),
            (HEADER_STREAM_NONCE.into(), self.nonce.clone()),
        ])
    }
    /// Seals one chunk (text or bytes) into a complete SSE frame.
    #[napi]
    pub fn chunk(&mut self, data: Either<String, &[u8]>) -> Result<String> {
        let bytes = bytes_of(&data);
        self.sealer.chunk(bytes).or_js()
    }
    /// The authenticated final frame. Without it the client reports truncation (ISO-7003).
    #[napi]
    pub fn finish(&mut self) -> Result<String> {
        self.sealer.finish().or_js()
    }
    /// An authenticated final frame carrying an error code (`ISO-xxxx`) to the client.
    #[napi]
    pub fn fail(&mut self, code: String) -> Result<String> {
        let e = NenErr::from_code(&code).unwrap_or(NenErr::StreamRequestFailed);
        self.sealer.fail(e).or_js()
    }
    /// Whether the final frame was written.
    #[napi(getter)]
    pub fn finished(&self) -> bool {
        self.sealer.is_finished()
    }
}

/// The Nen server: handshakes, request verification, response and stream sealing, rotation,
/// termination and status, over a session store.
#[napi]
pub struct NenServer {
    inner: Arc<Inner>,
}

fn bad(option: &'static str, must: &'static str) -> ConfigError {
    ConfigError { option, must }
}

fn store_from(
    opts: Option<StoreOptions>,
    policy: &ServerPolicy,
    dispatch: Option<Dispatch>,
) -> std::result::Result<Store, ConfigError> {
    let memory = || Store::Memory(MemoryStore::new(policy.window_ms, policy.max_sessions));
    let Some(o) = opts else {
        return Ok(memory());
    };
    let timeout = Duration::from_millis(
        o.timeout_ms
            .map_or(nen_core::store::DEFAULT_TIMEOUT_MS, u64::from)
            .max(1),
    );
    let prefix = o
        .key_prefix
        .unwrap_or_else(|| nen_core::store::DEFAULT_KEY_PREFIX.into());
    let wrapping = || -> std::result::Result<WrappingKeys, ConfigError> {
        // `wrappingKeys` (the first wraps new entries), else `wrappingKey`, else the environment;
        // a comma-separated list in either string works the same.
        let list: Vec<String> = match (&o.wrapping_keys, &o.wrapping_key) {
            (Some(keys), _) => keys.clone(),
            (None, Some(k)) => k.split(',').map(String::from).collect(),
            (None, None) => std::env::var("NEN_WRAPPING_KEY")
                .map(|v| v.split(',').map(String::from).collect())
                .map_err(|_| {
                    bad(
                        "store.wrappingKey",
                        "is required for this store (or set NEN_WRAPPING_KEY): a base64 32-byte key",
                    )
                })?,
        };
        let keys = list
            .iter()
            .map(|k| unb64_array::<32>(k.trim()).map(AeadKey::from_bytes))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| {
                bad(
                    "store.wrappingKey",
                    "must be base64 32-byte keys (a list: the first wraps new sessions)",
                )
            })?;
        WrappingKeys::new(keys).map_err(|_| {
            bad(
                "store.wrappingKeys",
                "must hold at least one key, each once",
            )
        })
    };
    match o.kind.as_str() {
        "memory" => Ok(memory()),
        "redis" | "redis-cluster" => {
            let target = match (o.kind.as_str(), o.url.clone(), o.nodes.clone()) {
                ("redis", Some(url), _) => Target::Single(url),
                ("redis-cluster", _, Some(nodes)) if !nodes.is_empty() => Target::Cluster(nodes),
                ("redis", None, _) => {
                    return Err(bad("store.url", "is required for kind \"redis\""))
                }
                _ => {
                    return Err(bad(
                        "store.nodes",
                        "must list at least one node URL for kind \"redis-cluster\"",
                    ))
                }
            };
            let backend = match o.tls_ca.clone() {
                Some(pem) => RedisBackend::with_ca(target, timeout, Some(pem.into_bytes())),
                None => RedisBackend::new(target, timeout),
            }
            .map_err(|_| {
                bad(
                    "store.url",
                    "must be redis:// or rediss:// URLs (all of one kind), and store.tlsCa PEM CA certificates only with rediss://",
                )
            })?;
            Ok(Store::Redis(Box::new(RemoteStore::new(
                backend,
                prefix,
                timeout,
                wrapping()?,
            ))))
        }
        "js" => {
            let dispatch = dispatch.ok_or(bad("store.adapter", "is required for kind \"js\""))?;
            Ok(Store::Js(RemoteStore::new(
                JsBackend::new(dispatch),
                prefix,
                timeout,
                wrapping()?,
            )))
        }
        _ => Err(bad(
            "store.kind",
            "must be \"memory\", \"redis\", \"redis-cluster\" or \"js\"",
        )),
    }
}

#[cfg(not(feature = "test-hooks"))]
fn test_hooks(_: &NenServerOptions) -> std::result::Result<Option<TestHooks>, ConfigError> {
    Ok(None)
}

#[cfg(feature = "test-hooks")]
fn test_hooks(o: &NenServerOptions) -> std::result::Result<Option<TestHooks>, ConfigError> {
    if o.test_rng_seed.is_none() && o.test_now_ms.is_none() {
        return Ok(None);
    }
    let seed = match &o.test_rng_seed {
        Some(s) => unb64_array::<32>(s.trim())
            .map_err(|_| bad("testRngSeed", "must be a base64 32-byte seed"))?,
        None => return Err(bad("testNowMs", "needs testRngSeed")),
    };
    Ok(Some(TestHooks {
        rng: Mutex::new(ChaChaRng::from_seed(seed)),
        now_ms: o.test_now_ms.map_or_else(now_ms, |t| t as u64).into(),
    }))
}

fn policy_from(o: &NenServerOptions) -> std::result::Result<ServerPolicy, ConfigError> {
    ServerPolicy::new(&ServerOptions {
        modes: o.modes.clone(),
        session_ttl_ms: o.session_ttl_ms.map(u64::from),
        window_ms: o.window_ms.map(u64::from),
        rotation_grace_ms: o.rotation_grace_ms.map(u64::from),
        max_body_bytes: o.max_body_bytes.map(u64::from),
        max_handshake_bytes: o.max_handshake_bytes.map(u64::from),
        stream_padding: o.stream_padding.map(u64::from),
        max_clock_skew_ms: o.max_clock_skew_ms.map(u64::from),
        max_sessions: o.max_sessions.map(u64::from),
        handshakes_per_second: o.handshake_budget.as_ref().map(|b| u64::from(b.per_second)),
        handshake_burst: o
            .handshake_budget
            .as_ref()
            .and_then(|b| b.burst.map(u64::from)),
        identity_secret_key: o.identity_secret_key.clone(),
    })
}

fn parse(req: &NenRequest, max_body: usize) -> std::result::Result<ParsedRequest, NenErr> {
    let body = req.body.as_ref().map(bytes_of);
    let h = &req.headers;
    parse_request(
        &RequestParts {
            method: &req.method,
            target: target_of_url(&req.url),
            version: h.version.as_deref(),
            session: h.session.as_deref(),
            timestamp: h.timestamp.as_deref(),
            nonce: h.nonce.as_deref(),
            signature: h.signature.as_deref(),
            idempotency_key: h.idempotency_key.as_deref(),
            body,
        },
        max_body,
    )
}

fn json_reply(status: u32, body: String) -> NenReply {
    NenReply {
        status,
        headers: HashMap::from([
            ("content-type".into(), "application/json".into()),
            ("cache-control".into(), "no-store".into()),
        ]),
        body,
    }
}

/// A plain error answer (PROTOCOL.md §6.3), for failures before authentication.
fn plain_error(e: NenErr) -> NenReply {
    let mut r = json_reply(u32::from(e.status()), e.wire_body());
    r.headers.insert(HEADER_ERROR.into(), e.code().into());
    r
}

impl Inner {
    fn now(&self) -> u64 {
        self.test.as_ref().map_or_else(now_ms, |t| {
            t.now_ms.load(std::sync::atomic::Ordering::Relaxed)
        })
    }

    fn rng<T>(
        &self,
        f: impl FnOnce(&mut ChaChaRng) -> std::result::Result<T, NenErr>,
    ) -> std::result::Result<T, NenErr> {
        match &self.test {
            Some(t) => f(&mut t.rng.lock().unwrap_or_else(|p| p.into_inner())),
            None => with_rng(f),
        }
    }

    fn handshake_compute(
        &self,
        body: &[u8],
        now: u64,
    ) -> std::result::Result<(ServerSession, String), NenErr> {
        let mut budget = self
            .budget
            .as_ref()
            .map(|b| b.lock().unwrap_or_else(|p| p.into_inner()));
        self.rng(|rng| self.config.handshake(body, budget.as_deref_mut(), now, rng))
    }

    /// Verify, decrypt and record the nonce: the whole of `open`, for any store.
    async fn open(&self, parsed: ParsedRequest) -> std::result::Result<OpenedRequest, NenErr> {
        let now = self.now();
        let session = self.store.load(parsed.sid(), now).await?;
        let req = engine::verify(&self.config, &session, parsed, now)?;
        let outcome = self.store.record(&session, &req).await?;
        Ok(OpenedRequest::new(session, req.recorded(outcome)?))
    }

    fn open_sync(&self, parsed: ParsedRequest) -> std::result::Result<OpenedRequest, NenErr> {
        let mem = self.store.memory()?;
        let now = self.now();
        let session = mem.load(parsed.sid(), now)?;
        let req = engine::verify(&self.config, &session, parsed, now)?;
        let outcome = mem.record(&req)?;
        Ok(OpenedRequest::new(session, req.recorded(outcome)?))
    }

    fn seal(
        &self,
        opened: &OpenedRequest,
        json: &[u8],
        status: u16,
    ) -> std::result::Result<String, NenErr> {
        self.rng(|rng| {
            opened
                .session
                .seal_response(&opened.req.binding, status, json, rng)
        })
    }

    /// A sealed answer to `opened`: the JSON under `status`, or, for a failure, the sealed
    /// error under its code's status. HEAD answers carry it in `x-nen-response`.
    fn answer(
        &self,
        opened: &OpenedRequest,
        outcome: std::result::Result<(u16, String), NenErr>,
    ) -> std::result::Result<NenReply, NenErr> {
        let outcome = outcome
            .as_ref()
            .map(|(st, json)| (*st, json.as_bytes()))
            .map_err(|e| *e);
        let a = self.rng(|rng| {
            opened
                .session
                .seal_answer(&opened.req.binding, opened.req.method, outcome, rng)
        })?;
        let mut r = json_reply(u32::from(a.status), a.body);
        if let Some(h) = a.head {
            r.headers.remove("content-type");
            r.headers.insert(HEADER_RESPONSE.into(), h);
        }
        Ok(r)
    }

    /// One lifecycle route, always answered: plain errors before authentication, sealed ones
    /// after it (PROTOCOL.md §6.1, §8).
    async fn lifecycle(&self, action: Lifecycle, request: NenRequest) -> NenReply {
        let has_body = request
            .body
            .as_ref()
            .is_some_and(|b| !bytes_of(b).is_empty());
        let opened = match action.check(&request.method, has_body) {
            Err(e) => return plain_error(e),
            Ok(()) => match parse(&request, self.config.max_body) {
                Err(e) => return plain_error(e),
                Ok(parsed) => match self.open(parsed).await {
                    Err(e) => return plain_error(e),
                    Ok(o) => o,
                },
            },
        };
        let outcome = self.lifecycle_body(action, &opened).await.map(|b| (200, b));
        self.answer(&opened, outcome).unwrap_or_else(plain_error)
    }

    async fn lifecycle_body(
        &self,
        action: Lifecycle,
        opened: &OpenedRequest,
    ) -> std::result::Result<String, NenErr> {
        let now = self.now();
        let old = &opened.session;
        match action {
            Lifecycle::Rotate => {
                let rotation = self.rng(|rng| self.config.rotation(old, &opened.req, now, rng))?;
                // Claim the rotation first: a session has at most one successor.
                let outcome = self.store.retire(old.sid(), &rotation, now).await?;
                let (successor, response) = rotation.retired(outcome)?;
                self.store.put(successor, now).await?;
                Ok(response)
            }
            Lifecycle::Terminate => {
                self.store.delete(old.sid()).await?;
                Ok(String::from(TERMINATED_BODY))
            }
            Lifecycle::Status => {
                let retired_at = self.store.retired_at(old.sid(), now).await?;
                engine::status_reply(old, retired_at, now)
            }
        }
    }
}

/// The bytes of a text-or-binary argument (every body and chunk the JS side may pass).
pub(crate) fn bytes_of<B: AsRef<[u8]>>(value: &Either<String, B>) -> &[u8] {
    match value {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b.as_ref(),
    }
}

#[napi]
impl NenServer {
    /// Creates a server. Throws ISO-9001 for invalid options (unknown mode, bad identity key,
    /// Redis store without a wrapping key).
    #[napi(constructor, ts_args_type = "options?: NenServerOptions")]
    pub fn new(
        options: Option<NenServerOptions>,
        store_dispatch: Option<StoreDispatchFn<'_>>,
    ) -> Result<Self> {
        let o = options.unwrap_or_default();
        let config = policy_from(&o).map_err(config_error)?;
        // The JS-store dispatcher is built by nen.js from `store.adapter`; it is not public API.
        let dispatch = match store_dispatch {
            Some(f) => Some(
                f.build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()
                    .map_err(napi_failure)?,
            ),
            None => None,
        };
        let test = test_hooks(&o).map_err(config_error)?;
        let store = store_from(o.store, &config, dispatch).map_err(config_error)?;
        let budget = config.new_budget(now_ms()).map(Mutex::new);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                budget,
                store,
                test,
            }),
        })
    }

    /// Whether the `*Sync` methods are available (the memory store).
    #[napi(getter)]
    pub fn is_sync(&self) -> bool {
        matches!(self.inner.store, Store::Memory(_))
    }

    /// The server identity's public key (base64), or `null` without one. Clients pin it.
    #[napi(getter)]
    pub fn identity_public_key(&self) -> Option<String> {
        self.inner
            .config
            .identity
            .as_ref()
            .map(|i| b64(i.public_key()))
    }

    /// Answers `POST /api/nen/handshake` off the JS thread: creates and stores a session.
    /// Bodies over `maxHandshakeBytes` are refused (ISO-1008) before they are parsed.
    #[napi(ts_return_type = "Promise<NenReply>")]
    pub fn handshake<'e>(
        &self,
        env: &'e Env,
        body: Either<String, Buffer>,
    ) -> Result<PromiseRaw<'e, NenReply>> {
        let inner = self.inner.clone();
        settle(env, async move {
            let now = inner.now();
            let compute = inner.clone();
            let (session, response) =
                on_cpu_pool(move || compute.handshake_compute(bytes_of(&body), now)).await?;
            inner.store.put(session, now).await?;
            Ok(json_reply(200, response))
        })
    }

    /// `handshake()` inline on the JS thread (memory store only).
    #[napi]
    pub fn handshake_sync(&self, body: Either<String, &[u8]>) -> Result<NenReply> {
        let bytes = bytes_of(&body);
        let mem = self.inner.store.memory().or_js()?;
        let now = self.inner.now();
        let (session, response) = self.inner.handshake_compute(bytes, now).or_js()?;
        mem.put(session, now).or_js()?;
        Ok(json_reply(200, response))
    }

    /// Verifies and decrypts a request: signature, time window, replay (recorded atomically in
    /// the store after the signature verified), body. Rejects with a NenError otherwise.
    #[napi(ts_return_type = "Promise<OpenedRequest>")]
    pub fn open<'e>(
        &self,
        env: &'e Env,
        request: NenRequest,
    ) -> Result<PromiseRaw<'e, OpenedRequest>> {
        let inner = self.inner.clone();
        let parsed = parse(&request, inner.config.max_body);
        settle(env, async move { inner.open(parsed?).await })
    }

    /// `open()` inline on the JS thread (memory store only): no thread hop at all.
    #[napi]
    pub fn open_sync(&self, request: NenRequest) -> Result<OpenedRequest> {
        let parsed = parse(&request, self.inner.config.max_body).or_js()?;
        self.inner.open_sync(parsed).or_js()
    }

    /// Seals a JSON response body (text) for `opened`, bound to its request and `status`
    /// (default 200). Returns the `{"ct","n"}` body to send.
    #[napi]
    pub fn seal(
        &self,
        opened: &OpenedRequest,
        json: Either<String, &[u8]>,
        status: Option<u32>,
    ) -> Result<String> {
        let bytes = bytes_of(&json);
        self.inner.seal(opened, bytes, status_of(status)?).or_js()
    }

    /// The sealed answer failing `opened` with `code` (`ISO-xxxx`; anything else is ISO-9000),
    /// under the code's status: what a handler's failure after `open()` must be answered with,
    /// never a plain error. HEAD requests get the `x-nen-response` header and an empty body.
    #[napi]
    pub fn seal_error(&self, opened: &OpenedRequest, code: String) -> Result<NenReply> {
        let e = NenErr::from_code(&code).unwrap_or(NenErr::Internal);
        self.inner.answer(opened, Err(e)).or_js()
    }

    /// The `x-nen-response` header value answering a HEAD request.
    #[napi]
    pub fn seal_head(&self, opened: &OpenedRequest, status: Option<u32>) -> Result<String> {
        let status = status_of(status)?;
        self.inner
            .rng(|rng| opened.session.seal_head(&opened.req.binding, status, rng))
            .or_js()
    }

    /// Starts an encrypted SSE stream answering `opened`; `padBlock` overrides the server's
    /// `streamPadding`.
    #[napi]
    pub fn stream(&self, opened: &OpenedRequest, pad_block: Option<u32>) -> Result<NenStream> {
        let pad = self
            .inner
            .config
            .pad_block(pad_block.map(u64::from))
            .or_js()?;
        let (sealer, nonce) = self
            .inner
            .rng(|rng| opened.session.stream_sealer(&opened.req.binding, pad, rng))
            .or_js()?;
        Ok(NenStream { sealer, nonce })
    }

    /// Answers the authenticated `POST /api/nen/rotate`: a fresh key exchange bound to the old
    /// session, which keeps working for `rotationGraceMs`. Always resolves to the reply to send:
    /// a plain error before authentication, a sealed one after it (a failing inner handshake,
    /// a second rotation of the same session: ISO-2004).
    #[napi(ts_return_type = "Promise<NenReply>")]
    pub fn rotate<'e>(
        &self,
        env: &'e Env,
        request: NenRequest,
    ) -> Result<PromiseRaw<'e, NenReply>> {
        self.lifecycle(env, Lifecycle::Rotate, request)
    }

    /// Answers the authenticated `POST /api/nen/terminate`: deletes the session and its replay
    /// records everywhere. Always resolves to the reply to send.
    #[napi(ts_return_type = "Promise<NenReply>")]
    pub fn terminate<'e>(
        &self,
        env: &'e Env,
        request: NenRequest,
    ) -> Result<PromiseRaw<'e, NenReply>> {
        self.lifecycle(env, Lifecycle::Terminate, request)
    }

    /// Answers the authenticated `GET /api/nen/status`: the effective expiry (the end of the
    /// rotation grace once rotated). Always resolves to the reply to send.
    #[napi(ts_return_type = "Promise<NenReply>")]
    pub fn status<'e>(
        &self,
        env: &'e Env,
        request: NenRequest,
    ) -> Result<PromiseRaw<'e, NenReply>> {
        self.lifecycle(env, Lifecycle::Status, request)
    }

    /// Redis and JavaScript stores: unwrapped sessions cached in this process (filled only by
    /// requests whose MAC verified; at most 10 000). 0 for the memory store.
    #[napi(getter)]
    pub fn cached_sessions(&self) -> u32 {
        self.inner.store.cached() as u32
    }

    /// Memory store only: live sessions and remembered nonces (to check memory stays bounded).
    #[napi]
    pub fn memory_stats(&self) -> Result<MemoryStats> {
        let (sessions, nonces) = self.inner.store.memory().or_js()?.sizes(self.inner.now());
        Ok(MemoryStats {
            sessions: sessions as u32,
            nonces: nonces as u32,
        })
    }
}

impl NenServer {
    fn lifecycle<'e>(
        &self,
        env: &'e Env,
        action: Lifecycle,
        request: NenRequest,
    ) -> Result<PromiseRaw<'e, NenReply>> {
        let inner = self.inner.clone();
        settle(
            env,
            async move { Ok(inner.lifecycle(action, request).await) },
        )
    }
}

/// Sizes of the memory store.
#[napi(object)]
pub struct MemoryStats {
    /// Live sessions.
    pub sessions: u32,
    /// Replay nonces currently remembered.
    pub nonces: u32,
}

/// Runs CPU-bound work (a handshake's key exchange: 100-300 µs) on tokio's blocking pool, at
/// most one job per core at once. Never on the runtime's workers: they carry every store round
/// trip, and a burst of handshakes there would delay the requests of established sessions. The
/// permit makes a burst queue here instead of spawning a thread per handshake.
async fn on_cpu_pool<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, NenErr> + Send + 'static,
) -> std::result::Result<T, NenErr> {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    let _permit = permits.acquire().await.map_err(|_| NenErr::Internal)?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| NenErr::Internal)?
}

/// A promise settled with the future's value, or rejected with its coded error.
fn settle<'e, T: ToNapiValue + Send + 'static>(
    env: &'e Env,
    fut: impl std::future::Future<Output = std::result::Result<T, NenErr>> + Send + 'static,
) -> Result<PromiseRaw<'e, T>> {
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, r| {
        r.map_err(|e| rejection(env, js_error(e)))
    })
    .map_err(napi_failure)
}

fn status_of(status: Option<u32>) -> Result<u16> {
    match status.unwrap_or(200) {
        s @ 100..=599 => Ok(s as u16),
        _ => Err(js_error(NenErr::InvalidConfiguration)),
    }
}

#[cfg(feature = "test-hooks")]
#[napi]
impl NenServer {
    /// Test builds only (`testRngSeed` set): moves the fixed clock.
    #[napi]
    pub fn set_test_now(&self, now_ms: f64) -> Result<()> {
        let t = self
            .inner
            .test
            .as_ref()
            .ok_or(NenErr::InvalidConfiguration)
            .or_js()?;
        t.now_ms
            .store(now_ms as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
