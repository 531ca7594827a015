//! The Nen server on WebAssembly, for runtimes that cannot load the native addon (Next.js Edge,
//! Cloudflare Workers, Deno): the protocol steps of `src/server.rs` in the root crate, with
//! the session store left to JavaScript.
//!
//! The split mirrors the native `RemoteStore` (`src/store/remote.rs`): JavaScript owns the
//! store and its key names, this module owns every key. A session crosses the boundary only
//! wrapped (`nen_core::session::wrap`, base64), under the wrapping key held here; what JS gets
//! back from [`ServerEngine::open`] is a handle whose keys stay in wasm memory.
//!
//! One request, as `@withnen/server`'s WASM engine drives it:
//!
//! ```text
//! parsed = engine.parse(request)                 shape checks, no I/O (ISO-6xxx, 3001, …)
//! wrapped = store.get(`${prefix}{${parsed.sid}}:s`)          missing → ISO-2002
//! opened = engine.open(parsed, wrapped)          unwrap, MAC, window, decrypt (nonce NOT recorded)
//! store.recordNonce(key, opened.nonceField, opened.openedAt, opened.rememberUntil)
//! engine.seal(opened, json, status) / sealHead / stream / rotate / statusBody / terminateBody
//! ```
//!
//! Every failure throws the crate's coded error (`"ISO-xxxx: message"`, with `code` and
//! `status`). The clock is `Date.now()` made monotonic, as the native addon's.

use crate::error::JsResult;
use crate::rng::{monotonic_now_ms, with_rng};
use js_sys::{Array, Object, Reflect, Uint8Array};
use nen_core::crypto::AeadKey;
use nen_core::engine::{self, SessionCache, StoredRecord, Unrecorded};
use nen_core::request::{
    parse_request, ParsedRequest, RequestParts, HEADER_IDEMPOTENCY_KEY, HEADER_NONCE,
    HEADER_SESSION, HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_VERSION,
};
use nen_core::response::{SealedAnswer, HEADER_RESPONSE};
use nen_core::rng::ChaChaRng;
use nen_core::server::{
    ConfigError, Lifecycle, ServerOptions, ServerPolicy, TokenBucket, TERMINATED_BODY,
};
use nen_core::session::WrappingKeys;
use nen_core::store::{Recorded, Retired};
use nen_core::stream::{StreamSealer as CoreSealer, HEADER_STREAM_NONCE};
use nen_core::target::target_of_url;
use nen_core::wire::{b64, unb64, unb64_array};
use nen_core::{Error, Method, ServerSession};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Configuration of `new ServerEngine(config)`; the same names as `NenServerOptions`. */
export interface ServerEngineConfig {
  /** Accepted key-exchange modes: "hybrid" and/or "mlkem768". Default both. */
  modes?: string[];
  /** Session lifetime, ms. Default 3 600 000. */
  sessionTtlMs?: number;
  /** Accepted clock skew either side, ms. Default 30 000. */
  windowMs?: number;
  /** How long a rotated-away session keeps working, ms. Default 10 000. */
  rotationGraceMs?: number;
  /** Largest request body, bytes (larger: ISO-4005). Default 1 048 576; at least 4 096. */
  maxBodyBytes?: number;
  /** Largest handshake request, bytes (larger: ISO-1008), checked before parsing. Default 65 536. */
  maxHandshakeBytes?: number;
  /** Largest clock difference between instances, ms, added to replay-record lifetimes. Default 5 000. */
  maxClockSkewMs?: number;
  /** Most sessions the built-in memory store holds; past it ISO-8003. Default 200 000. */
  maxSessions?: number;
  /** A per-instance handshake budget: past it ISO-1009 (429). Default none. */
  handshakeBudget?: { perSecond: number; burst?: number };
  /** Default stream chunk padding block, bytes; 0 = none. Default 0. */
  streamPadding?: number;
  /** The ML-DSA-65 identity: base64 32-byte seed. */
  identitySecretKey?: string;
  /** The 32-byte key (base64) that wraps sessions for the store. Required. */
  wrappingKey: string;
  /** Several wrapping keys (base64), the first wraps new sessions: replaces `wrappingKey`. */
  wrappingKeys?: string[];
  /**
   * Test builds only (cargo feature `test-hooks`; the published engine refuses it): a base64
   * 32-byte seed for a deterministic generator. Never in a product.
   */
  testRngSeed?: string;
  /** Tests only, with `testRngSeed`: a fixed clock (Unix ms). */
  testNowMs?: number;
}

/** An incoming request; `headers` holds the lower-case `x-nen-*` names (others are ignored). */
export interface ServerEngineRequest {
  /** The method exactly as received. */
  method: string;
  /** The target exactly as received (`path?query`), or an absolute URL starting with a scheme. */
  url: string;
  headers: Record<string, string | undefined>;
  /** The `{"ct"}` envelope; absent or empty for none. */
  body?: string | Uint8Array | null;
}

/** A new session: answer with `response`, store `wrapped` under the sid for `ttlMs`. */
export interface ServerEngineHandshake {
  /** The handshake answer (JSON text, sent in clear). */
  response: string;
  sid: string;
  /** The wrapped session, base64: the store value. */
  wrapped: string;
  /** Store TTL: time to expiry, at least 1. */
  ttlMs: number;
  /** Expiry, Unix ms. */
  expiresAt: number;
}

/** A reply ready to send. */
export interface ServerEngineReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A rotation once the old session is retired: store `newWrapped` for `ttlMs`, answer with `response`. */
export interface ServerEngineSuccessor {
  /** The new handshake answer, sealed for the rotate request (status 200). */
  response: string;
  newSid: string;
  newWrapped: string;
  ttlMs: number;
  expiresAt: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ServerEngineConfig` in the generated types.
    #[wasm_bindgen(typescript_type = "ServerEngineConfig")]
    pub type JsEngineConfig;
    /// `ServerEngineRequest` in the generated types.
    #[wasm_bindgen(typescript_type = "ServerEngineRequest")]
    pub type JsServerRequest;
}

/// Server configuration as plain Rust values (what the JS config object is read into).
#[derive(Clone, Debug, Default)]
pub struct EngineInit {
    /// `modes`.
    pub modes: Option<Vec<String>>,
    /// `sessionTtlMs`.
    pub session_ttl_ms: Option<f64>,
    /// `windowMs`.
    pub window_ms: Option<f64>,
    /// `rotationGraceMs`.
    pub rotation_grace_ms: Option<f64>,
    /// `maxBodyBytes`.
    pub max_body_bytes: Option<f64>,
    /// `maxHandshakeBytes`.
    pub max_handshake_bytes: Option<f64>,
    /// `maxClockSkewMs`.
    pub max_clock_skew_ms: Option<f64>,
    /// `maxSessions` (enforced by the JS memory adapter).
    pub max_sessions: Option<f64>,
    /// `handshakeBudget.perSecond`.
    pub handshakes_per_second: Option<f64>,
    /// `handshakeBudget.burst`.
    pub handshake_burst: Option<f64>,
    /// `streamPadding`.
    pub stream_padding: Option<f64>,
    /// `identitySecretKey`.
    pub identity_secret_key: Option<String>,
    /// `wrappingKey` (or a comma-separated list).
    pub wrapping_key: Option<String>,
    /// `wrappingKeys`.
    pub wrapping_keys: Option<Vec<String>>,
    /// `testRngSeed`.
    pub test_rng_seed: Option<String>,
    /// `testNowMs`.
    pub test_now_ms: Option<f64>,
}

/// A fixed clock and a seeded generator, so an end-to-end run reproduces `docs/vectors` byte
/// for byte (the native `TestHooks`). As natively, wrapping a session for the store still
/// draws from the OS-seeded generator: the seeded stream covers exactly what the native
/// server's covers.
struct TestHooks {
    rng: RefCell<ChaChaRng>,
    now_ms: Cell<u64>,
}

/// The server: handshakes, request verification, sealing, rotation, over a JS-held store.
#[wasm_bindgen]
pub struct ServerEngine {
    policy: ServerPolicy,
    /// The per-instance handshake budget (`handshakeBudget`), if configured.
    budget: Option<RefCell<TokenBucket>>,
    wrapping_keys: WrappingKeys,
    /// Unwrapped sessions, filled only once a request verified and its nonce was recorded.
    cache: RefCell<SessionCache<Rc<ServerSession>>>,
    test: Option<TestHooks>,
}

impl core::fmt::Debug for ServerEngine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerEngine")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A request whose shape is valid, before its session is loaded. Single use: `open` consumes
/// it once verification starts.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Parsed {
    sid: String,
    method: Method,
    req: Option<ParsedRequest>,
}

/// A verified request whose nonce the store has not recorded yet: record `nonceField` until
/// `untilMs` (`now` = `nowMs`), then hand the store's answer to `recorded`, which alone gives
/// the request up.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verified {
    session: Rc<ServerSession>,
    req: Unrecorded,
}

/// A verified, decrypted request whose nonce is recorded: bound to its session.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Opened {
    session: Rc<ServerSession>,
    req: nen_core::request::OpenedRequest,
}

/// A rotation whose successor exists once the store retired the old session: `retire` the old
/// record at `retireAtMs` with `retireTtlMs`, then hand the store's answer to `retired`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct RotationStep {
    step: engine::Rotation,
}

/// An encrypted server-sent-event stream answering one request (the native `NenStream`).
#[wasm_bindgen(js_name = StreamSealer)]
#[derive(Debug)]
pub struct ServerStream {
    pub(crate) sealer: CoreSealer,
    pub(crate) nonce: String,
}

/// What `handshake` produces.
#[derive(Debug)]
pub struct Established {
    /// The handshake answer.
    pub response: String,
    /// Session id (hex).
    pub sid: String,
    /// `wrap` of the session, base64.
    pub wrapped: String,
    /// Time to expiry, at least 1 ms.
    pub ttl_ms: u64,
    /// Expiry, Unix ms.
    pub expires_at: u64,
}

/// An incoming request as plain Rust values.
#[derive(Clone, Debug, Default)]
pub struct RequestInput {
    /// HTTP method.
    pub method: String,
    /// Absolute URL or `path?query`.
    pub url: String,
    /// `x-nen-version`.
    pub version: Option<String>,
    /// `x-nen-session`.
    pub session: Option<String>,
    /// `x-nen-timestamp`.
    pub timestamp: Option<String>,
    /// `x-nen-nonce`.
    pub nonce: Option<String>,
    /// `x-nen-signature`.
    pub signature: Option<String>,
    /// `x-nen-idempotency-key`.
    pub idempotency_key: Option<String>,
    /// Raw body.
    pub body: Option<Vec<u8>>,
}

/// A u32 option as the native addon takes it; anything else is ISO-9001 naming `option`.
fn u32_option(v: Option<f64>, option: &'static str) -> Result<Option<u64>, ConfigError> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) => {
            Ok(Some(x as u64))
        }
        Some(_) => Err(ConfigError {
            option,
            must: "must be an integer from 0 to 4294967295",
        }),
    }
}

/// An HTTP status for sealing: an integer in 100..=599, 200 when absent.
fn status_of(status: Option<f64>) -> Result<u16, Error> {
    match status {
        None => Ok(200),
        Some(s) if s.fract() == 0.0 && (100.0..=599.0).contains(&s) => Ok(s as u16),
        Some(_) => Err(Error::InvalidConfiguration),
    }
}

fn bad(option: &'static str, must: &'static str) -> ConfigError {
    ConfigError { option, must }
}

/// The seeded generator and fixed clock of a test build (cargo feature `test-hooks`); the
/// published engine refuses the options, and has no `setTestNow`.
#[cfg(any(test, feature = "test-hooks"))]
fn test_hooks(init: &EngineInit) -> Result<Option<TestHooks>, ConfigError> {
    Ok(match (&init.test_rng_seed, init.test_now_ms) {
        (None, None) => None,
        (None, Some(_)) => return Err(bad("testNowMs", "needs testRngSeed")),
        (Some(seed), now) => Some(TestHooks {
            rng: RefCell::new(ChaChaRng::from_seed(
                unb64_array::<32>(seed.trim())
                    .map_err(|_| bad("testRngSeed", "must be a base64 32-byte seed"))?,
            )),
            now_ms: Cell::new(match now {
                None => monotonic_now_ms(),
                Some(t) if t.is_finite() && t >= 0.0 => t as u64,
                Some(_) => return Err(bad("testNowMs", "must be a time in Unix ms")),
            }),
        }),
    })
}

#[cfg(not(any(test, feature = "test-hooks")))]
fn test_hooks(init: &EngineInit) -> Result<Option<TestHooks>, ConfigError> {
    match (&init.test_rng_seed, init.test_now_ms) {
        (None, None) => Ok(None),
        _ => Err(bad(
            "testRngSeed",
            "exists only in test builds of the engine",
        )),
    }
}

impl ServerEngine {
    /// Builds the engine from plain values; ISO-9001 naming the option at fault.
    pub fn from_init(init: &EngineInit) -> Result<Self, ConfigError> {
        let policy = ServerPolicy::new(&ServerOptions {
            modes: init.modes.clone(),
            session_ttl_ms: u32_option(init.session_ttl_ms, "sessionTtlMs")?,
            window_ms: u32_option(init.window_ms, "windowMs")?,
            rotation_grace_ms: u32_option(init.rotation_grace_ms, "rotationGraceMs")?,
            max_body_bytes: u32_option(init.max_body_bytes, "maxBodyBytes")?,
            max_handshake_bytes: u32_option(init.max_handshake_bytes, "maxHandshakeBytes")?,
            stream_padding: u32_option(init.stream_padding, "streamPadding")?,
            max_clock_skew_ms: u32_option(init.max_clock_skew_ms, "maxClockSkewMs")?,
            max_sessions: u32_option(init.max_sessions, "maxSessions")?,
            handshakes_per_second: u32_option(
                init.handshakes_per_second,
                "handshakeBudget.perSecond",
            )?,
            handshake_burst: u32_option(init.handshake_burst, "handshakeBudget.burst")?,
            identity_secret_key: init.identity_secret_key.clone(),
        })?;
        let list: Vec<String> = match (&init.wrapping_keys, &init.wrapping_key) {
            (Some(keys), _) => keys.clone(),
            (None, Some(k)) => k.split(',').map(String::from).collect(),
            (None, None) => {
                return Err(bad(
                    "wrappingKey",
                    "is required: a base64 32-byte key (or NEN_WRAPPING_KEY)",
                ))
            }
        };
        let keys = list
            .iter()
            .map(|k| unb64_array::<32>(k.trim()).map(AeadKey::from_bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad("wrappingKey", "must be base64 32-byte keys"))?;
        let wrapping_keys = WrappingKeys::new(keys)
            .map_err(|_| bad("wrappingKeys", "must hold at least one key, each once"))?;
        let test = test_hooks(init)?;
        let budget = policy.new_budget(monotonic_now_ms()).map(RefCell::new);
        Ok(Self {
            budget,
            policy,
            wrapping_keys,
            cache: RefCell::new(SessionCache::default()),
            test,
        })
    }

    /// The clock: the fixed test clock, else `Date.now()` made monotonic.
    pub fn now(&self) -> u64 {
        self.test
            .as_ref()
            .map_or_else(monotonic_now_ms, |t| t.now_ms.get())
    }

    /// Runs `f` with the generator: the seeded test one, else the module's OS-seeded one.
    fn rng<T>(&self, f: impl FnOnce(&mut ChaChaRng) -> Result<T, Error>) -> Result<T, Error> {
        match &self.test {
            Some(t) => f(&mut *t.rng.try_borrow_mut().map_err(|_| Error::Internal)?),
            None => with_rng(f),
        }
    }

    /// Moves the fixed test clock; ISO-9001 without test hooks.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn set_test_now_ms(&self, now_ms: u64) -> Result<(), Error> {
        let t = self.test.as_ref().ok_or(Error::InvalidConfiguration)?;
        t.now_ms.set(now_ms);
        Ok(())
    }

    /// The identity's public key, base64.
    pub fn identity_public_key_b64(&self) -> Option<String> {
        self.policy.identity.as_ref().map(|i| b64(i.public_key()))
    }

    fn established(
        &self,
        session: &ServerSession,
        response: String,
        now: u64,
    ) -> Result<Established, Error> {
        // The OS-seeded generator even under test hooks, as the native store's `put`.
        let wrapped = with_rng(|rng| self.wrapping_keys.wrap(session, rng))?;
        Ok(Established {
            response,
            sid: session.sid().to_hex(),
            wrapped: b64(&wrapped),
            ttl_ms: engine::ttl_ms(session.expires_at(), now),
            expires_at: session.expires_at(),
        })
    }

    /// `handshake` at a given time.
    pub fn handshake_at(&self, body: &[u8], now: u64) -> Result<Established, Error> {
        let mut budget = match &self.budget {
            Some(b) => Some(b.try_borrow_mut().map_err(|_| Error::Internal)?),
            None => None,
        };
        let (session, response) =
            self.rng(|rng| self.policy.handshake(body, budget.as_deref_mut(), now, rng))?;
        self.established(&session, response, now)
    }

    /// `parse` on plain values.
    pub fn parse_input(&self, input: &RequestInput) -> Result<Parsed, Error> {
        let req = parse_request(
            &RequestParts {
                method: &input.method,
                target: target_of_url(&input.url),
                version: input.version.as_deref(),
                session: input.session.as_deref(),
                timestamp: input.timestamp.as_deref(),
                nonce: input.nonce.as_deref(),
                signature: input.signature.as_deref(),
                idempotency_key: input.idempotency_key.as_deref(),
                body: input.body.as_deref(),
            },
            self.policy.max_body,
        )?;
        Ok(Parsed {
            sid: req.sid().to_hex(),
            method: req.method(),
            req: Some(req),
        })
    }

    /// `open` of a store record at a given time: unwrap (ISO-8001 for an entry that is not
    /// base64, ISO-8002 for one that does not unwrap, ISO-2002 once expired or past its rotation
    /// grace), then MAC, window and body. The nonce is not recorded yet.
    pub fn open_at(
        &self,
        parsed: &mut Parsed,
        wrapped: &str,
        retired_at: Option<u64>,
        now: u64,
    ) -> Result<Verified, Error> {
        let sid = *parsed.req.as_ref().ok_or(Error::Internal)?.sid();
        // The native JS store decodes the adapter's value in its backend: a failure there is
        // a store failure, not a corrupt entry.
        let entry = unb64(wrapped).map_err(|_| Error::StoreUnavailable)?;
        let record = StoredRecord {
            entry: &entry,
            retired_at,
        };
        let session = Rc::new(engine::unwrap_record(
            &self.wrapping_keys,
            &sid,
            record,
            now,
        )?);
        self.verify(parsed, session, now)
    }

    /// `open` from the cache, at a given time: `None` on a miss (then load the record).
    pub fn open_cached_at(&self, parsed: &mut Parsed, now: u64) -> Result<Option<Verified>, Error> {
        let sid = *parsed.req.as_ref().ok_or(Error::Internal)?.sid();
        let hit = self
            .cache
            .try_borrow_mut()
            .map_err(|_| Error::Internal)?
            .get(&sid);
        match hit.filter(|s| !s.is_expired(now)) {
            Some(session) => self.verify(parsed, session, now).map(Some),
            None => Ok(None),
        }
    }

    fn verify(
        &self,
        parsed: &mut Parsed,
        session: Rc<ServerSession>,
        now: u64,
    ) -> Result<Verified, Error> {
        let req = parsed.req.take().ok_or(Error::Internal)?;
        let req = engine::verify(&self.policy, &session, req, now)?;
        Ok(Verified { session, req })
    }

    /// The request, once the store answered `record` (`ok`/`gone`/`replay` or 1/0/-1; anything
    /// else ISO-8001). A fresh nonce caches the session; a gone session leaves the cache.
    pub fn recorded_as(&self, verified: Verified, outcome: &str) -> Result<Opened, Error> {
        let outcome = Recorded::parse(outcome).ok_or(Error::StoreUnavailable)?;
        let sid = *verified.session.sid();
        let mut cache = self.cache.try_borrow_mut().map_err(|_| Error::Internal)?;
        match outcome {
            Recorded::Fresh => cache.insert(sid, verified.session.clone()),
            Recorded::SessionGone => cache.remove(&sid),
            Recorded::Replay => {}
        }
        Ok(Opened {
            req: verified.req.recorded(outcome)?,
            session: verified.session,
        })
    }

    fn forget(&self, sid: &nen_core::SessionId) -> Result<(), Error> {
        self.cache
            .try_borrow_mut()
            .map_err(|_| Error::Internal)?
            .remove(sid);
        Ok(())
    }

    /// `seal` on bytes.
    pub fn seal_bytes(&self, opened: &Opened, json: &[u8], status: u16) -> Result<String, Error> {
        self.rng(|rng| {
            opened
                .session
                .seal_response(&opened.req.binding, status, json, rng)
        })
    }

    /// `sealHead` with a checked status.
    pub fn seal_head_status(&self, opened: &Opened, status: u16) -> Result<String, Error> {
        self.rng(|rng| opened.session.seal_head(&opened.req.binding, status, rng))
    }

    /// `stream` with a resolved padding block.
    pub fn stream_with(&self, opened: &Opened, pad_block: usize) -> Result<ServerStream, Error> {
        let (sealer, nonce) = self.rng(|rng| {
            opened
                .session
                .stream_sealer(&opened.req.binding, pad_block, rng)
        })?;
        Ok(ServerStream { sealer, nonce })
    }

    /// `rotate` at a given time: the inner handshake (ISO-1008 past `maxHandshakeBytes`). The
    /// old session leaves the cache: from now on the store's record decides.
    pub fn rotate_at(&self, opened: &Opened, now: u64) -> Result<RotationStep, Error> {
        let step = self.rng(|rng| self.policy.rotation(&opened.session, &opened.req, now, rng))?;
        self.forget(opened.session.sid())?;
        Ok(RotationStep { step })
    }

    /// The successor once the store answered `retire` (`ok`/`gone`/`rotated` or 1/0/-1;
    /// anything else ISO-8001): wrapped for the store, its answer sealed under the old session.
    pub fn retired_as(
        &self,
        opened: &Opened,
        step: RotationStep,
        outcome: &str,
    ) -> Result<(Established, String), Error> {
        let outcome = Retired::parse(outcome).ok_or(Error::StoreUnavailable)?;
        // The successor's TTL counts from the rotation, as natively (`put(successor, now)`).
        let at = step.step.now_ms();
        let (successor, response) = step.step.retired(outcome)?;
        let new = self.established(&successor, response, at)?;
        let sealed = self.seal_bytes(opened, new.response.as_bytes(), 200)?;
        Ok((new, sealed))
    }

    /// The sealed answer failing `opened` with `error`.
    pub fn seal_error_reply(&self, opened: &Opened, error: Error) -> Result<SealedAnswer, Error> {
        self.rng(|rng| {
            opened
                .session
                .seal_answer(&opened.req.binding, opened.req.method, Err(error), rng)
        })
    }

    /// The sealed `{"sid","mode","exp","v":1}` answering `GET /api/nen/status`, with the
    /// effective expiry: the end of the rotation grace the store's record holds, if any.
    pub fn status_sealed(
        &self,
        opened: &Opened,
        retired_at: Option<u64>,
        now: u64,
    ) -> Result<String, Error> {
        let body = engine::status_reply(&opened.session, retired_at, now)?;
        self.seal_bytes(opened, body.as_bytes(), 200)
    }

    /// The sealed `{"terminated":true}` answering `POST /api/nen/terminate`, once the store
    /// deleted the record.
    pub fn terminate_sealed(&self, opened: &Opened) -> Result<String, Error> {
        self.forget(opened.session.sid())?;
        self.seal_bytes(opened, TERMINATED_BODY.as_bytes(), 200)
    }
}

/// A lifecycle route by name.
fn lifecycle_of(name: &str) -> Result<Lifecycle, Error> {
    match name {
        "rotate" => Ok(Lifecycle::Rotate),
        "terminate" => Ok(Lifecycle::Terminate),
        "status" => Ok(Lifecycle::Status),
        _ => Err(Error::InvalidConfiguration),
    }
}

// ---- JS glue: reading arguments and building result objects ----

/// A property, `None` when absent (`undefined` or `null`).
fn prop(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn string_prop(obj: &JsValue, key: &str, err: Error) -> Result<Option<String>, Error> {
    prop(obj, key).map(|v| v.as_string().ok_or(err)).transpose()
}

fn number_prop(obj: &JsValue, key: &str) -> Result<Option<f64>, Error> {
    prop(obj, key)
        .map(|v| v.as_f64().ok_or(Error::InvalidConfiguration))
        .transpose()
}

/// Text or bytes (`Uint8Array`, `ArrayBuffer`); anything else is `err`.
fn bytes_of(v: &JsValue, err: Error) -> Result<Vec<u8>, Error> {
    if let Some(s) = v.as_string() {
        return Ok(s.into_bytes());
    }
    if v.is_instance_of::<Uint8Array>() {
        return Ok(Uint8Array::unchecked_from_js_ref(v).to_vec());
    }
    if v.is_instance_of::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(v).to_vec());
    }
    Err(err)
}

/// An array of strings, `None` when absent; anything else is ISO-9001.
fn string_array_prop(obj: &JsValue, key: &str) -> Result<Option<Vec<String>>, Error> {
    match prop(obj, key) {
        None => Ok(None),
        Some(m) if Array::is_array(&m) => m
            .unchecked_into::<Array>()
            .iter()
            .map(|v| v.as_string().ok_or(Error::InvalidConfiguration))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(Error::InvalidConfiguration),
    }
}

fn init_from_js(config: &JsValue) -> Result<EngineInit, Error> {
    if !config.is_object() {
        return Err(Error::InvalidConfiguration);
    }
    let s = |k| string_prop(config, k, Error::InvalidConfiguration);
    Ok(EngineInit {
        modes: string_array_prop(config, "modes")?,
        session_ttl_ms: number_prop(config, "sessionTtlMs")?,
        window_ms: number_prop(config, "windowMs")?,
        rotation_grace_ms: number_prop(config, "rotationGraceMs")?,
        max_body_bytes: number_prop(config, "maxBodyBytes")?,
        max_handshake_bytes: number_prop(config, "maxHandshakeBytes")?,
        max_clock_skew_ms: number_prop(config, "maxClockSkewMs")?,
        max_sessions: number_prop(config, "maxSessions")?,
        handshakes_per_second: match prop(config, "handshakeBudget") {
            None => None,
            Some(b) => Some(number_prop(&b, "perSecond")?.ok_or(Error::InvalidConfiguration)?),
        },
        handshake_burst: match prop(config, "handshakeBudget") {
            None => None,
            Some(b) => number_prop(&b, "burst")?,
        },
        stream_padding: number_prop(config, "streamPadding")?,
        identity_secret_key: s("identitySecretKey")?,
        wrapping_key: s("wrappingKey")?,
        wrapping_keys: string_array_prop(config, "wrappingKeys")?,
        test_rng_seed: s("testRngSeed")?,
        test_now_ms: number_prop(config, "testNowMs")?,
    })
}

fn request_from_js(request: &JsValue) -> Result<RequestInput, Error> {
    // Missing pieces fail the way parse_request reports them: no method is ISO-6004, no URL
    // ISO-6005, no headers ISO-1005 (the first header checked).
    let method = prop(request, "method")
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let url = prop(request, "url")
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let headers = prop(request, "headers").unwrap_or(JsValue::UNDEFINED);
    // A header that is not a string (a Node array for a repeated header) counts as absent.
    let h = |k: &str| prop(&headers, k).and_then(|v| v.as_string());
    let body = match prop(request, "body") {
        None => None,
        Some(b) => Some(bytes_of(&b, Error::InvalidEnvelope)?),
    };
    Ok(RequestInput {
        method,
        url,
        version: h(HEADER_VERSION),
        session: h(HEADER_SESSION),
        timestamp: h(HEADER_TIMESTAMP),
        nonce: h(HEADER_NONCE),
        signature: h(HEADER_SIGNATURE),
        idempotency_key: h(HEADER_IDEMPOTENCY_KEY),
        body,
    })
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        // Defining a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

impl Established {
    fn to_js(&self) -> Object {
        object(&[
            ("response", self.response.as_str().into()),
            ("sid", self.sid.as_str().into()),
            ("wrapped", self.wrapped.as_str().into()),
            ("ttlMs", (self.ttl_ms as f64).into()),
            ("expiresAt", (self.expires_at as f64).into()),
        ])
    }
}

#[wasm_bindgen]
impl ServerEngine {
    /// Creates the engine. Throws ISO-9001 for an invalid config (unknown mode, bad identity
    /// key, missing or malformed wrapping key, a number that is not a u32).
    #[wasm_bindgen(constructor)]
    pub fn new(config: &JsEngineConfig) -> JsResult<ServerEngine> {
        Ok(Self::from_init(&init_from_js(config)?)?)
    }

    /// Checks a lifecycle route's method and body before anything else (`action`: `"rotate"`,
    /// `"terminate"` or `"status"`): ISO-6007 for another method, ISO-6008 for a body where none
    /// is taken, ISO-1001 for a rotate without one.
    #[wasm_bindgen(js_name = checkLifecycle)]
    pub fn check_lifecycle(
        &self,
        action: &str,
        method: &str,
        #[wasm_bindgen(js_name = hasBody)] has_body: bool,
    ) -> JsResult<()> {
        Ok(lifecycle_of(action)?.check(method, has_body)?)
    }

    /// The sealed reply failing `opened` with `code` (`ISO-xxxx`, anything else ISO-9000),
    /// under the code's status: every failure after authentication is answered with it.
    #[wasm_bindgen(js_name = sealError, unchecked_return_type = "ServerEngineReply")]
    pub fn seal_error(&self, opened: &Opened, code: &str) -> JsResult<Object> {
        let e = Error::from_code(code).unwrap_or(Error::Internal);
        let a = self.seal_error_reply(opened, e)?;
        let headers = object(&[("cache-control", "no-store".into())]);
        let _ = match a.head {
            Some(h) => Reflect::set(&headers, &HEADER_RESPONSE.into(), &h.into()),
            None => Reflect::set(&headers, &"content-type".into(), &"application/json".into()),
        };
        Ok(object(&[
            ("status", f64::from(a.status).into()),
            ("headers", headers.into()),
            ("body", a.body.into()),
        ]))
    }

    /// The identity's public key (base64), or `null` without one. Clients pin it.
    #[wasm_bindgen(getter = identityPublicKey, unchecked_return_type = "string | null")]
    pub fn identity_public_key(&self) -> JsValue {
        self.identity_public_key_b64()
            .map_or(JsValue::NULL, |k| JsValue::from_str(&k))
    }

    /// Accepted clock skew, ms.
    #[wasm_bindgen(getter = windowMs)]
    pub fn window_ms(&self) -> f64 {
        self.policy.window_ms as f64
    }

    /// Largest request body, bytes.
    #[wasm_bindgen(getter = maxBodyBytes)]
    pub fn max_body_bytes(&self) -> f64 {
        self.policy.max_body as f64
    }

    /// Largest handshake request, bytes.
    #[wasm_bindgen(getter = maxHandshakeBytes)]
    pub fn max_handshake_bytes(&self) -> f64 {
        self.policy.max_handshake as f64
    }

    /// Answers a handshake body (text or bytes): the answer to send and the wrapped session to
    /// store under its sid.
    #[wasm_bindgen(unchecked_return_type = "ServerEngineHandshake")]
    pub fn handshake(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] body: JsValue,
    ) -> JsResult<Object> {
        let body = bytes_of(&body, Error::InvalidEnvelope)?;
        Ok(self.handshake_at(&body, self.now())?.to_js())
    }

    /// Checks a request's shape (no session lookup, no crypto yet).
    pub fn parse(&self, request: &JsServerRequest) -> JsResult<Parsed> {
        Ok(self.parse_input(&request_from_js(request)?)?)
    }

    /// Unwraps the stored session (`wrapped`: the record's base64 entry for `parsed.sid`;
    /// `retiredAt`: the record's end of rotation grace, if any) and verifies and decrypts the
    /// request. Its nonce is not recorded yet: see `Verified`.
    pub fn open(
        &self,
        parsed: &mut Parsed,
        wrapped: &str,
        #[wasm_bindgen(js_name = retiredAt)] retired_at: Option<f64>,
    ) -> JsResult<Verified> {
        Ok(self.open_at(parsed, wrapped, time_of(retired_at), self.now())?)
    }

    /// `open` with the session this engine cached; `undefined` on a miss (then load the record
    /// and call `open`).
    #[wasm_bindgen(js_name = openCached)]
    pub fn open_cached(&self, parsed: &mut Parsed) -> JsResult<Option<Verified>> {
        Ok(self.open_cached_at(parsed, self.now())?)
    }

    /// The opened request, given the store's answer to `recordNonce` for `verified` (consumed):
    /// ISO-2002 for `gone`, ISO-5001 for `replay`, ISO-8001 for anything else.
    pub fn recorded(&self, verified: Verified, outcome: &str) -> JsResult<Opened> {
        Ok(self.recorded_as(verified, outcome)?)
    }

    /// Unwrapped sessions cached by this engine (at most 10 000).
    #[wasm_bindgen(getter = cachedSessions)]
    pub fn cached_sessions(&self) -> f64 {
        self.cache.try_borrow().map_or(0.0, |c| c.len() as f64)
    }

    /// Seals a JSON response (text or bytes) for `opened` under `status` (default 200).
    pub fn seal(
        &self,
        opened: &Opened,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] json: JsValue,
        status: Option<f64>,
    ) -> JsResult<String> {
        let status = status_of(status)?;
        let json = bytes_of(&json, Error::PayloadNotJson)?;
        Ok(self.seal_bytes(opened, &json, status)?)
    }

    /// The `x-nen-response` header value answering a HEAD request.
    #[wasm_bindgen(js_name = sealHead)]
    pub fn seal_head(&self, opened: &Opened, status: Option<f64>) -> JsResult<String> {
        Ok(self.seal_head_status(opened, status_of(status)?)?)
    }

    /// Starts an encrypted SSE stream answering `opened`; `padBlock` overrides `streamPadding`.
    pub fn stream(
        &self,
        opened: &Opened,
        #[wasm_bindgen(js_name = padBlock)] pad_block: Option<f64>,
    ) -> JsResult<ServerStream> {
        let pad = self.policy.pad_block(u32_option(pad_block, "padBlock")?)?;
        Ok(self.stream_with(opened, pad)?)
    }

    /// Starts answering an opened `POST /api/nen/rotate` (its body is the inner handshake
    /// request): the successor, bound to the old session, exists once the old one is retired.
    pub fn rotate(&self, opened: &Opened) -> JsResult<RotationStep> {
        Ok(self.rotate_at(opened, self.now())?)
    }

    /// The successor, given the store's answer to `retire` for `step` (consumed): ISO-2002 for
    /// `gone`, ISO-2004 for `rotated`, ISO-8001 for anything else.
    #[wasm_bindgen(unchecked_return_type = "ServerEngineSuccessor")]
    pub fn retired(&self, opened: &Opened, step: RotationStep, outcome: &str) -> JsResult<Object> {
        let (new, response) = self.retired_as(opened, step, outcome)?;
        Ok(object(&[
            ("response", response.into()),
            ("newSid", new.sid.into()),
            ("newWrapped", new.wrapped.into()),
            ("ttlMs", (new.ttl_ms as f64).into()),
            ("expiresAt", (new.expires_at as f64).into()),
        ]))
    }

    /// The sealed body answering an opened `GET /api/nen/status`; `retiredAt` is the end of the
    /// rotation grace in the store's record (read from the store, not a cache), if any.
    #[wasm_bindgen(js_name = statusBody)]
    pub fn status_body(
        &self,
        opened: &Opened,
        #[wasm_bindgen(js_name = retiredAt)] retired_at: Option<f64>,
    ) -> JsResult<String> {
        Ok(self.status_sealed(opened, time_of(retired_at), self.now())?)
    }

    /// The sealed body answering an opened `POST /api/nen/terminate` (delete the record first).
    #[wasm_bindgen(js_name = terminateBody)]
    pub fn terminate_body(&self, opened: &Opened) -> JsResult<String> {
        Ok(self.terminate_sealed(opened)?)
    }
}

/// A time argument: finite and non-negative, else absent.
fn time_of(t: Option<f64>) -> Option<u64> {
    t.filter(|t| t.is_finite() && *t >= 0.0).map(|t| t as u64)
}

#[wasm_bindgen]
impl Parsed {
    /// Session id (32 hex digits): the store key to load.
    #[wasm_bindgen(getter)]
    pub fn sid(&self) -> String {
        self.sid.clone()
    }

    /// Upper-case HTTP method.
    #[wasm_bindgen(getter)]
    pub fn method(&self) -> String {
        self.method.as_str().into()
    }
}

impl Opened {
    /// The decrypted body as text (checked JSON, hence UTF-8).
    pub fn body_text(&self) -> Option<String> {
        self.req
            .body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

#[wasm_bindgen]
impl Opened {
    /// Session id (32 hex digits).
    #[wasm_bindgen(getter)]
    pub fn sid(&self) -> String {
        self.req.binding.sid().to_hex()
    }

    /// Upper-case HTTP method.
    #[wasm_bindgen(getter)]
    pub fn method(&self) -> String {
        self.req.method.as_str().into()
    }

    /// Request timestamp, Unix ms.
    #[wasm_bindgen(getter)]
    pub fn timestamp(&self) -> f64 {
        self.req.timestamp as f64
    }

    /// The decrypted body as JSON text, or `null` when the request had none.
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn body(&self) -> JsValue {
        self.body_text()
            .map_or(JsValue::NULL, |b| JsValue::from_str(&b))
    }

    /// The session's expiry, Unix ms.
    #[wasm_bindgen(getter = expiresAt)]
    pub fn expires_at(&self) -> f64 {
        self.session.expires_at() as f64
    }

    /// The verified `x-nen-idempotency-key`, or `null`. Deduplicate on this one only.
    #[wasm_bindgen(getter = idempotencyKey, unchecked_return_type = "string | null")]
    pub fn idempotency_key(&self) -> JsValue {
        self.req
            .idempotency_key
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str)
    }

    /// The session's key-exchange mode.
    #[wasm_bindgen(getter, unchecked_return_type = "\"hybrid\" | \"mlkem768\"")]
    pub fn mode(&self) -> String {
        self.session.mode().as_str().into()
    }
}

#[wasm_bindgen]
impl Verified {
    /// Session id (32 hex digits).
    #[wasm_bindgen(getter)]
    pub fn sid(&self) -> String {
        self.req.sid().to_hex()
    }

    /// The nonce's field in the session's store record (`n:<hex>`, `nen_core::store`).
    #[wasm_bindgen(getter = nonceField)]
    pub fn nonce_field(&self) -> String {
        self.req.nonce_field()
    }

    /// The `now` of `recordNonce`, Unix ms: when the request was verified.
    #[wasm_bindgen(getter = nowMs)]
    pub fn now_ms(&self) -> f64 {
        self.req.now_ms() as f64
    }

    /// Until when the nonce must be remembered: the request's time + window + `maxClockSkewMs`.
    #[wasm_bindgen(getter = untilMs)]
    pub fn until_ms(&self) -> f64 {
        self.req.until_ms() as f64
    }
}

#[wasm_bindgen]
impl RotationStep {
    /// The end of the old session's grace: what `retire` marks it with.
    #[wasm_bindgen(getter = retireAtMs)]
    pub fn retire_at_ms(&self) -> f64 {
        self.step.retire_at_ms() as f64
    }

    /// The TTL to shorten the old record to.
    #[wasm_bindgen(getter = retireTtlMs)]
    pub fn retire_ttl_ms(&self) -> f64 {
        self.step.retire_ttl_ms() as f64
    }
}

#[wasm_bindgen(js_class = StreamSealer)]
impl ServerStream {
    /// Headers to send before the first frame (`content-type`, `x-nen-stream-nonce`, no caching).
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, string>")]
    pub fn headers(&self) -> Object {
        object(&[
            ("content-type", "text/event-stream".into()),
            ("cache-control", "no-cache, no-transform".into()),
            (HEADER_STREAM_NONCE, self.nonce.as_str().into()),
        ])
    }

    /// Seals one chunk (text or bytes) into a complete SSE frame.
    pub fn chunk(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] data: JsValue,
    ) -> JsResult<String> {
        let data = bytes_of(&data, Error::InvalidConfiguration)?;
        Ok(self.sealer.chunk(&data)?)
    }

    /// The authenticated final frame. Without it the client reports truncation (ISO-7003).
    pub fn finish(&mut self) -> JsResult<String> {
        Ok(self.sealer.finish()?)
    }

    /// An authenticated final frame carrying an error code (`ISO-xxxx`) to the client.
    pub fn fail(&mut self, code: &str) -> JsResult<String> {
        let e = Error::from_code(code).unwrap_or(Error::StreamRequestFailed);
        Ok(self.sealer.fail(e)?)
    }

    /// Whether the final frame was written.
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> bool {
        self.sealer.is_finished()
    }
}

#[cfg(feature = "test-hooks")]
#[wasm_bindgen]
impl ServerEngine {
    /// Test builds only (`testRngSeed` set): moves the fixed clock. ISO-9001 otherwise.
    #[wasm_bindgen(js_name = setTestNow)]
    pub fn set_test_now(&self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<()> {
        if !(now_ms.is_finite() && now_ms >= 0.0) {
            return Err(Error::InvalidConfiguration.into());
        }
        Ok(self.set_test_now_ms(now_ms as u64)?)
    }
}
