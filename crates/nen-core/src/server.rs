//! Server policy that every binding shares: the options with their defaults and bounds, the
//! lifecycle routes' rules and bodies. The native addon and the WASM engine read their
//! JavaScript options into [`ServerOptions`] and call [`ServerPolicy::new`]; neither carries a
//! default or a bound of its own.
//!
//! ```text
//! POST /api/nen/handshake   unauthenticated, body = handshake request (≤ maxHandshakeBytes)
//! POST /api/nen/rotate      authenticated,   body = sealed handshake request
//! POST /api/nen/terminate   authenticated,   no body   → sealed {"terminated":true}
//! GET  /api/nen/status      authenticated,   no body   → sealed {"sid","mode","exp","v":1}
//! ```
//! A wrong method is ISO-6007 (405) and a body where none is taken ISO-6008, both checked
//! before authentication, so they answer in plain JSON (PROTOCOL.md §8).

use crate::crypto::MlDsaSeed;
use crate::error::Error;
use crate::handshake::{ServerConfig, ServerIdentity};
use crate::types::{Method, Mode, SessionId, DEFAULT_WINDOW_MS};
use crate::wire::unb64_array;
use alloc::{format, string::String, vec::Vec};

/// Default session lifetime: one hour.
pub const DEFAULT_SESSION_TTL_MS: u64 = 3_600_000;
/// Default time a rotated-away session keeps answering requests already in flight.
pub const DEFAULT_ROTATION_GRACE_MS: u64 = 10_000;
/// Default largest request body.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1 << 20;
/// Default largest handshake request. A real one is under 2 KB (an ML-KEM-768 key and an
/// X25519 key in base64); it is unauthenticated, so nobody may make the server buffer and
/// parse more than this without a session.
pub const DEFAULT_MAX_HANDSHAKE_BYTES: u64 = 64 * 1024;
/// Smallest `maxBodyBytes` and `maxHandshakeBytes` accepted. A rotate request carries a sealed
/// hybrid handshake request: 1 663 bytes of JSON, 2 249 bytes once sealed and base64'd in
/// `{"ct"}`. Below this floor rotation would fail with ISO-4005 on every call.
pub const MIN_BODY_BYTES: u64 = 4096;
/// Largest stream padding block.
pub const MAX_STREAM_PADDING: u64 = 64 * 1024;
/// Shortest session lifetime and window accepted.
pub const MIN_TIME_MS: u64 = 1_000;
/// Default `maxSessions` of the in-process store: about 1 KB each with its bookkeeping, so the
/// store stays under about 256 MiB however many handshakes arrive.
pub const DEFAULT_MAX_SESSIONS: u64 = 200_000;

/// Default `maxClockSkewMs`: the largest clock difference between instances sharing a store.
/// Replay records are kept this much longer than the window, so an instance whose clock lags
/// never sees a record already pruned by one whose clock leads (threat model §2.6).
pub const DEFAULT_MAX_CLOCK_SKEW_MS: u64 = 5_000;

/// The options as the bindings read them from JavaScript (`NenServerOptions`), before checks.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// `modes`.
    pub modes: Option<Vec<String>>,
    /// `sessionTtlMs`.
    pub session_ttl_ms: Option<u64>,
    /// `windowMs`.
    pub window_ms: Option<u64>,
    /// `rotationGraceMs`.
    pub rotation_grace_ms: Option<u64>,
    /// `maxBodyBytes`.
    pub max_body_bytes: Option<u64>,
    /// `maxHandshakeBytes`.
    pub max_handshake_bytes: Option<u64>,
    /// `streamPadding`.
    pub stream_padding: Option<u64>,
    /// `maxClockSkewMs`.
    pub max_clock_skew_ms: Option<u64>,
    /// `maxSessions` (in-process store).
    pub max_sessions: Option<u64>,
    /// `handshakeBudget.perSecond`: sustained handshakes per second per instance; absent: none.
    pub handshakes_per_second: Option<u64>,
    /// `handshakeBudget.burst`: handshakes allowed at once; default `perSecond`.
    pub handshake_burst: Option<u64>,
    /// `identitySecretKey`.
    pub identity_secret_key: Option<String>,
}

/// An invalid option: which one, and what it must be. Shown as
/// `ISO-9001: Invalid Nen configuration: <option> <must>`; never holds the option's value (it
/// may be a key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The option's JavaScript name, e.g. `maxBodyBytes`.
    pub option: &'static str,
    /// What it must be, e.g. `must be at least 4096`.
    pub must: &'static str,
}

impl ConfigError {
    /// The message thrown to JavaScript.
    pub fn message(&self) -> String {
        format!("{}: {}", Error::InvalidConfiguration.code(), self.detail())
    }

    /// The same without the code: `"Invalid Nen configuration: <option> <what it must be>"`.
    pub fn detail(&self) -> String {
        format!(
            "{}: {} {}",
            Error::InvalidConfiguration.message(),
            self.option,
            self.must
        )
    }
}

impl From<ConfigError> for Error {
    fn from(_: ConfigError) -> Error {
        Error::InvalidConfiguration
    }
}

/// The checked server policy.
pub struct ServerPolicy {
    /// Accepted modes, at least one.
    pub modes: Vec<Mode>,
    /// Session lifetime, ms.
    pub ttl_ms: u64,
    /// Accepted clock skew either side, ms.
    pub window_ms: u64,
    /// Rotation grace, ms.
    pub grace_ms: u64,
    /// Largest request body, bytes.
    pub max_body: usize,
    /// Largest handshake request, bytes.
    pub max_handshake: usize,
    /// Default stream padding block, bytes (0: none).
    pub pad_block: usize,
    /// Largest clock difference between instances, ms: added to replay-record lifetimes.
    pub skew_ms: u64,
    /// Most sessions the in-process store holds.
    pub max_sessions: usize,
    /// The per-instance handshake budget, if any: (per second, burst).
    pub handshake_budget: Option<(u64, u64)>,
    /// The identity that signs every transcript, if any.
    pub identity: Option<ServerIdentity>,
}

impl core::fmt::Debug for ServerPolicy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerPolicy")
            .field("modes", &self.modes)
            .field("ttl_ms", &self.ttl_ms)
            .field("window_ms", &self.window_ms)
            .field("identity", &self.identity.is_some())
            .finish_non_exhaustive()
    }
}

fn bounded(
    v: Option<u64>,
    default: u64,
    min: u64,
    max: u64,
    option: &'static str,
    must: &'static str,
) -> Result<u64, ConfigError> {
    match v.unwrap_or(default) {
        x if (min..=max).contains(&x) => Ok(x),
        _ => Err(ConfigError { option, must }),
    }
}

impl ServerPolicy {
    /// Checks every option, naming the first one at fault.
    pub fn new(o: &ServerOptions) -> Result<Self, ConfigError> {
        let modes = match &o.modes {
            None => alloc::vec![Mode::Hybrid, Mode::MlKem768],
            Some(m) if m.is_empty() => {
                return Err(ConfigError {
                    option: "modes",
                    must: "must name at least one of \"hybrid\", \"mlkem768\"",
                })
            }
            Some(m) => m
                .iter()
                .map(|s| Mode::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| ConfigError {
                    option: "modes",
                    must: "may only hold \"hybrid\" and \"mlkem768\"",
                })?,
        };
        let identity = match &o.identity_secret_key {
            None => None,
            Some(k) => {
                let seed = unb64_array::<32>(k.trim()).map_err(|_| ConfigError {
                    option: "identitySecretKey",
                    must: "must be the base64 32-byte seed from generateIdentity()",
                })?;
                Some(ServerIdentity::from_seed(&MlDsaSeed::from_bytes(seed)))
            }
        };
        const U32: u64 = u32::MAX as u64;
        let ttl_ms = bounded(
            o.session_ttl_ms,
            DEFAULT_SESSION_TTL_MS,
            MIN_TIME_MS,
            U32,
            "sessionTtlMs",
            "must be an integer from 1000 to 4294967295",
        )?;
        let window_ms = bounded(
            o.window_ms,
            DEFAULT_WINDOW_MS,
            MIN_TIME_MS,
            3_600_000,
            "windowMs",
            "must be an integer from 1000 to 3600000",
        )?;
        let grace_ms = bounded(
            o.rotation_grace_ms,
            DEFAULT_ROTATION_GRACE_MS,
            0,
            ttl_ms,
            "rotationGraceMs",
            "must be an integer from 0 to sessionTtlMs",
        )?;
        let max_body = bounded(
            o.max_body_bytes,
            DEFAULT_MAX_BODY_BYTES,
            MIN_BODY_BYTES,
            U32,
            "maxBodyBytes",
            "must be an integer of at least 4096 (a rotate request carries a sealed handshake)",
        )?;
        let max_handshake = bounded(
            o.max_handshake_bytes,
            DEFAULT_MAX_HANDSHAKE_BYTES,
            MIN_BODY_BYTES,
            U32,
            "maxHandshakeBytes",
            "must be an integer of at least 4096",
        )?;
        let pad_block = bounded(
            o.stream_padding,
            0,
            0,
            MAX_STREAM_PADDING,
            "streamPadding",
            "must be an integer from 0 to 65536",
        )?;
        let skew_ms = bounded(
            o.max_clock_skew_ms,
            DEFAULT_MAX_CLOCK_SKEW_MS,
            0,
            300_000,
            "maxClockSkewMs",
            "must be an integer from 0 to 300000",
        )?;
        let max_sessions = bounded(
            o.max_sessions,
            DEFAULT_MAX_SESSIONS,
            1,
            u32::MAX as u64,
            "maxSessions",
            "must be an integer of at least 1",
        )?;
        let handshake_budget = match o.handshakes_per_second {
            None if o.handshake_burst.is_some() => {
                return Err(ConfigError {
                    option: "handshakeBudget.perSecond",
                    must: "is required with handshakeBudget.burst",
                })
            }
            None => None,
            Some(rate) => {
                let rate = bounded(
                    Some(rate),
                    0,
                    1,
                    1_000_000,
                    "handshakeBudget.perSecond",
                    "must be an integer from 1 to 1000000",
                )?;
                let burst = bounded(
                    o.handshake_burst,
                    rate,
                    1,
                    10_000_000,
                    "handshakeBudget.burst",
                    "must be an integer from 1 to 10000000",
                )?;
                Some((rate, burst))
            }
        };
        Ok(Self {
            modes,
            ttl_ms,
            window_ms,
            grace_ms,
            skew_ms,
            max_sessions: max_sessions as usize,
            handshake_budget,
            max_body: max_body as usize,
            max_handshake: max_handshake as usize,
            pad_block: pad_block as usize,
            identity,
        })
    }

    /// What [`crate::handshake::server_handshake`] needs.
    pub fn handshake_config(&self) -> ServerConfig<'_> {
        ServerConfig {
            modes: &self.modes,
            ttl_ms: self.ttl_ms,
            identity: self.identity.as_ref(),
        }
    }

    /// Until when the nonce of a request with this timestamp must be remembered.
    pub fn remember_until(&self, timestamp: u64) -> u64 {
        crate::store::remember_until(timestamp, self.window_ms, self.skew_ms)
    }

    /// Bounds an unauthenticated handshake request before it is parsed: ISO-1008 past
    /// `maxHandshakeBytes`.
    pub fn check_handshake_size(&self, len: usize) -> Result<(), Error> {
        if len > self.max_handshake {
            Err(Error::HandshakeTooLarge)
        } else {
            Ok(())
        }
    }

    /// Answers a handshake request: size first (ISO-1008, so an oversized body spends no
    /// budget), then the instance's budget (`budget`, the bucket built from `handshake_budget`;
    /// ISO-1009), then PROTOCOL.md §4.2. Returns the new session and the response body.
    pub fn handshake(
        &self,
        body: &[u8],
        budget: Option<&mut TokenBucket>,
        now_ms: u64,
        rng: &mut impl crate::rng::Rng,
    ) -> Result<(crate::ServerSession, String), Error> {
        self.check_handshake_size(body.len())?;
        if let Some(b) = budget {
            b.take(now_ms)?;
        }
        crate::handshake::server_handshake(body, &self.handshake_config(), None, now_ms, rng)
    }

    /// The bucket for `handshake_budget`, full at `now_ms`; `None` without a budget.
    pub fn new_budget(&self, now_ms: u64) -> Option<TokenBucket> {
        self.handshake_budget
            .map(|(rate, burst)| TokenBucket::new(rate, burst, now_ms))
    }

    /// The inner handshake of an authenticated rotate request of `old` (§8): its body is
    /// required (ISO-1001) and bounded like a handshake (ISO-1008); the new transcript binds the
    /// old session id. The successor is released once the store retired `old`
    /// ([`crate::engine::Rotation::retired`]).
    pub fn rotation(
        &self,
        old: &crate::ServerSession,
        request: &crate::request::OpenedRequest,
        now_ms: u64,
        rng: &mut impl crate::rng::Rng,
    ) -> Result<crate::engine::Rotation, Error> {
        let inner = request
            .body
            .as_deref()
            .ok_or(Error::HandshakeMissingPublicKey)?;
        self.check_handshake_size(inner.len())?;
        let (successor, response) = crate::handshake::server_handshake(
            inner,
            &self.handshake_config(),
            Some(old.sid()),
            now_ms,
            rng,
        )?;
        Ok(crate::engine::Rotation::new(
            successor,
            response,
            self.grace_ms.max(1),
            now_ms,
        ))
    }

    /// The stream padding block to use: the request's override or the default.
    pub fn pad_block(&self, requested: Option<u64>) -> Result<usize, Error> {
        match requested {
            None => Ok(self.pad_block),
            Some(p) if p <= MAX_STREAM_PADDING => Ok(p as usize),
            Some(_) => Err(Error::InvalidConfiguration),
        }
    }
}

/// A token bucket: `burst` handshakes at once, refilled at `per_second`. Pure: the caller gives
/// the time (a clock that never steps back).
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    per_second: u64,
    burst: u64,
    /// Tokens, in thousandths, so refills at any rate are exact to the millisecond.
    milli_tokens: u64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(per_second: u64, burst: u64, now_ms: u64) -> Self {
        Self {
            per_second,
            burst,
            milli_tokens: burst.saturating_mul(1000),
            last_ms: now_ms,
        }
    }

    /// Takes one token: `Err(HandshakeRateLimited)` when the budget is spent.
    pub fn take(&mut self, now_ms: u64) -> Result<(), Error> {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        let cap = self.burst.saturating_mul(1000);
        self.milli_tokens = self
            .milli_tokens
            .saturating_add(elapsed.saturating_mul(self.per_second))
            .min(cap);
        if self.milli_tokens < 1000 {
            return Err(Error::HandshakeRateLimited);
        }
        self.milli_tokens -= 1000;
        Ok(())
    }
}

/// The authenticated lifecycle routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// `POST /api/nen/rotate`.
    Rotate,
    /// `POST /api/nen/terminate`.
    Terminate,
    /// `GET /api/nen/status`.
    Status,
}

impl Lifecycle {
    /// The one method the route takes.
    pub const fn method(self) -> Method {
        match self {
            Lifecycle::Rotate | Lifecycle::Terminate => Method::Post,
            Lifecycle::Status => Method::Get,
        }
    }

    /// Checks the method (exactly, ISO-6007) and the body's presence (ISO-6008; rotate
    /// requires one, ISO-1001) before anything else is read.
    pub fn check(self, method: &str, has_body: bool) -> Result<(), Error> {
        if method != self.method().as_str() {
            return Err(Error::EndpointMethodNotAllowed);
        }
        match (self, has_body) {
            (Lifecycle::Rotate, false) => Err(Error::HandshakeMissingPublicKey),
            (Lifecycle::Terminate | Lifecycle::Status, true) => Err(Error::EndpointBodyNotAllowed),
            _ => Ok(()),
        }
    }
}

/// `X-Nen-Error`: the code of a plain (unauthenticated) error answer, so that a HEAD, which has
/// no body, carries it too. A hint only: a client never treats it as authenticated.
pub const HEADER_ERROR: &str = "x-nen-error";

/// The plaintext answering a terminate.
pub const TERMINATED_BODY: &str = "{\"terminated\":true}";

/// The plaintext answering a status request. `effective_exp` is when the session really ends:
/// its handshake `exp`, or the end of its rotation grace if it was rotated.
pub fn status_body(sid: &SessionId, mode: Mode, effective_exp: u64) -> String {
    format!("{{\"sid\":\"{sid}\",\"mode\":\"{mode}\",\"exp\":{effective_exp},\"v\":1}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_and_each_bad_option_is_named() {
        let p = ServerPolicy::new(&ServerOptions::default()).unwrap();
        assert_eq!(
            (
                p.ttl_ms,
                p.window_ms,
                p.grace_ms,
                p.max_body,
                p.max_handshake,
                p.pad_block
            ),
            (3_600_000, 30_000, 10_000, 1 << 20, 65_536, 0)
        );
        let cases: &[(ServerOptions, &str)] = &[
            (
                ServerOptions {
                    modes: Some(alloc::vec![]),
                    ..Default::default()
                },
                "modes",
            ),
            (
                ServerOptions {
                    modes: Some(alloc::vec!["x25519".into()]),
                    ..Default::default()
                },
                "modes",
            ),
            (
                ServerOptions {
                    max_body_bytes: Some(4095),
                    ..Default::default()
                },
                "maxBodyBytes",
            ),
            (
                ServerOptions {
                    max_handshake_bytes: Some(10),
                    ..Default::default()
                },
                "maxHandshakeBytes",
            ),
            (
                ServerOptions {
                    session_ttl_ms: Some(0),
                    ..Default::default()
                },
                "sessionTtlMs",
            ),
            (
                ServerOptions {
                    window_ms: Some(10),
                    ..Default::default()
                },
                "windowMs",
            ),
            (
                ServerOptions {
                    session_ttl_ms: Some(5_000),
                    rotation_grace_ms: Some(6_000),
                    ..Default::default()
                },
                "rotationGraceMs",
            ),
            (
                ServerOptions {
                    stream_padding: Some(1 << 20),
                    ..Default::default()
                },
                "streamPadding",
            ),
            (
                ServerOptions {
                    identity_secret_key: Some("nope".into()),
                    ..Default::default()
                },
                "identitySecretKey",
            ),
        ];
        for (o, option) in cases {
            let e = ServerPolicy::new(o).unwrap_err();
            assert_eq!(e.option, *option);
            assert!(
                e.message()
                    .starts_with("ISO-9001: Invalid Nen configuration: "),
                "{}",
                e.message()
            );
        }
        assert!(ServerPolicy::new(&ServerOptions {
            max_body_bytes: Some(4096),
            ..Default::default()
        })
        .is_ok());
    }

    #[test]
    fn token_bucket() {
        let mut b = TokenBucket::new(10, 3, 1_000);
        for _ in 0..3 {
            assert_eq!(b.take(1_000), Ok(()));
        }
        assert_eq!(b.take(1_000), Err(Error::HandshakeRateLimited));
        // 10 per second: one token every 100 ms, never more than the burst.
        assert_eq!(b.take(1_099), Err(Error::HandshakeRateLimited));
        assert_eq!(b.take(1_100), Ok(()));
        assert_eq!(
            b.take(500),
            Err(Error::HandshakeRateLimited),
            "a clock stepping back refills nothing"
        );
        for _ in 0..3 {
            assert_eq!(b.take(100_000), Ok(()));
        }
        assert_eq!(b.take(100_000), Err(Error::HandshakeRateLimited));
    }

    #[test]
    fn lifecycle_rules() {
        use Lifecycle::*;
        assert_eq!(
            Status.check("POST", false),
            Err(Error::EndpointMethodNotAllowed)
        );
        assert_eq!(
            Terminate.check("GET", false),
            Err(Error::EndpointMethodNotAllowed)
        );
        assert_eq!(
            Terminate.check("post", false),
            Err(Error::EndpointMethodNotAllowed)
        );
        assert_eq!(
            Terminate.check("POST", true),
            Err(Error::EndpointBodyNotAllowed)
        );
        assert_eq!(
            Status.check("GET", true),
            Err(Error::EndpointBodyNotAllowed)
        );
        assert_eq!(
            Rotate.check("POST", false),
            Err(Error::HandshakeMissingPublicKey)
        );
        assert_eq!(Rotate.check("POST", true), Ok(()));
        assert_eq!(Status.check("GET", false), Ok(()));
    }
}
