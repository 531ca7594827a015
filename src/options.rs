//! Constructor options. Their doc comments are what TypeScript users read in `index.d.ts`.

use napi_derive::napi;

/// The options struct, once per build: napi-derive does not see `#[cfg]` on fields, so the test
/// build's extra fields are spliced in here and the published addon never has them.
macro_rules! server_options {
    ($($test_only:tt)*) => {
        /// Options for `new NenServer(options)`. Every field is optional.
        #[napi(object)]
        #[derive(Default)]
        pub struct NenServerOptions {
            /// Where sessions live. Default: in this process's memory (one instance, development).
            pub store: Option<StoreOptions>,
            /// Session lifetime in milliseconds. Default 3 600 000 (one hour); at least 1 000.
            pub session_ttl_ms: Option<u32>,
            /// Accepted clock skew either side, in milliseconds. Default 30 000; 1 000 to 3 600 000.
            pub window_ms: Option<u32>,
            /// How long a rotated-away session keeps answering in-flight requests, in milliseconds.
            /// Default 10 000; at most `sessionTtlMs`.
            pub rotation_grace_ms: Option<u32>,
            /// Largest request body accepted, in bytes (larger: ISO-4005, 413). Default 1 048 576;
            /// at least 4 096, since a rotate request carries a sealed handshake (about 2.3 KB).
            pub max_body_bytes: Option<u32>,
            /// Largest handshake request accepted, in bytes (larger: ISO-1008, 413), checked before it
            /// is parsed: handshakes are unauthenticated. Default 65 536; at least 4 096.
            pub max_handshake_bytes: Option<u32>,
            /// The largest clock difference between instances sharing a store, in milliseconds:
        /// replay records are kept this much longer than the window, so no instance whose clock
        /// lags accepts a replay another instance has already forgotten. Default 5 000.
        pub max_clock_skew_ms: Option<u32>,
        /// Most sessions the memory store holds (about 1 KB each). When full, new handshakes
        /// are refused with ISO-8003 (503), never by evicting a live session. Default 200 000.
        pub max_sessions: Option<u32>,
        /// A per-instance budget for handshakes (which are unauthenticated and cost ML-KEM and
        /// store space): past it, ISO-1009 (429). Default: none; put a per-client limit in front
        /// as well (see the README).
        pub handshake_budget: Option<HandshakeBudget>,
        /// Pad every stream chunk to a multiple of this many bytes to hide token lengths; 0 turns
            /// padding off. Default 0 (`@withnen/ai` sets 32).
            pub stream_padding: Option<u32>,
            /// Key-exchange modes accepted: `"hybrid"` (X25519 + ML-KEM-768) and/or `"mlkem768"`
            /// (FIPS-only). Default both.
            #[napi(ts_type = "Array<'hybrid' | 'mlkem768'>")]
            pub modes: Option<Vec<String>>,
            /// The server's ML-DSA-65 identity: the base64 secret seed from `generateIdentity()`.
            /// When set, every handshake is signed and clients can pin the public key.
            pub identity_secret_key: Option<String>,
            $($test_only)*
        }
    };
}

#[cfg(not(feature = "test-hooks"))]
server_options!();

#[cfg(feature = "test-hooks")]
server_options!(
    /// Test builds only (cargo feature `test-hooks`; absent from the published addon): a
    /// base64 32-byte seed for a deterministic generator, so an end-to-end run reproduces
    /// `docs/vectors`. Every key would be predictable.
    pub test_rng_seed: Option<String>,
    /// Test builds only, with `testRngSeed`: a fixed clock (Unix ms).
    pub test_now_ms: Option<f64>,
);

/// A token bucket for handshakes on this instance.
#[napi(object)]
#[derive(Default)]
pub struct HandshakeBudget {
    /// Sustained handshakes per second.
    pub per_second: u32,
    /// Handshakes allowed at once. Default `perSecond`.
    pub burst: Option<u32>,
}

/// Session-store selection.
#[napi(object)]
#[derive(Default)]
pub struct StoreOptions {
    /// `"memory"`, `"redis"`, `"redis-cluster"` or `"js"` (a `NenStoreAdapter` given as
    /// `store.adapter` to the `NenServer` exported by the package).
    #[napi(ts_type = "'memory' | 'redis' | 'redis-cluster' | 'js'")]
    pub kind: String,
    /// Redis URL for `"redis"`, e.g. `redis://127.0.0.1:6379/0`.
    pub url: Option<String>,
    /// Seed node URLs for `"redis-cluster"`.
    pub nodes: Option<Vec<String>>,
    /// Prefix of every Redis key. Default `"nen:"`.
    pub key_prefix: Option<String>,
    /// Bound on every store operation, in milliseconds; past it the request fails closed with
    /// ISO-8001 (503). Default 1 000.
    pub timeout_ms: Option<u32>,
    /// The 32-byte key (base64) that wraps session keys before they reach Redis. Default: the
    /// `NEN_WRAPPING_KEY` environment variable. Required for Redis stores; every instance
    /// sharing a store needs the same one. Also required for `"js"` stores. A comma-separated
    /// list works like `wrappingKeys`.
    pub wrapping_key: Option<String>,
    /// For `rediss://` URLs: the PEM certificate(s) of the CA that signed the Redis server
    /// certificates, trusted instead of the Mozilla roots (a private CA, a self-managed Redis).
    /// Default: the PEM file named by the `NEN_REDIS_CA_FILE` environment variable, if set.
    pub tls_ca: Option<String>,
    /// Several wrapping keys, for rotating it without logging anyone out: the first wraps new
    /// sessions, every one opens sessions it wrapped. Add the new key first on every instance,
    /// then, once the old sessions have expired (`sessionTtlMs`), drop the old one.
    pub wrapping_keys: Option<Vec<String>>,
}
