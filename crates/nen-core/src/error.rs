//! The error catalogue: every failure in Nen is one of these codes.
//!
//! Codes are a public contract: users match on `ISO-xxxx`, so a code is never renumbered and
//! never given a new meaning; new cases get new numbers in their category. The wire body of an
//! error is `{"error":{"code","message"}}` with the catalogue message only: no detail that could
//! help an attacker, and no plaintext or key material, ever.

use core::fmt;

/// Which side raises a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Raised by the server and sent on the wire with its HTTP status.
    Server,
    /// Raised by the client locally; never sent.
    Client,
    /// Raised by either side.
    Both,
}

impl Side {
    /// `"server"`, `"client"` or `"both"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Server => "server",
            Side::Client => "client",
            Side::Both => "both",
        }
    }
}

/// One entry of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    /// The error.
    pub error: Error,
    /// `ISO-xxxx`.
    pub code: &'static str,
    /// HTTP status the server answers with (client-side codes: the status a caller should map it to).
    pub status: u16,
    /// Stable SCREAMING_SNAKE name.
    pub name: &'static str,
    /// What happened; this exact text is the wire message.
    pub message: &'static str,
    /// What to do about it.
    pub fix: &'static str,
    /// Who raises it.
    pub side: Side,
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $num:literal, $status:literal, $side:ident, $name:literal, $msg:literal, $fix:literal; )*) => {
        /// A Nen failure. Each variant is one `ISO-xxxx` code; see [`CATALOGUE`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Error {
            $( $(#[$doc])* $variant, )*
        }

        /// The full catalogue, in code order.
        pub const CATALOGUE: &[CodeInfo] = &[
            $( CodeInfo {
                error: Error::$variant,
                code: concat!("ISO-", stringify!($num)),
                status: $status,
                name: $name,
                message: $msg,
                fix: $fix,
                side: Side::$side,
            }, )*
        ];

        impl Error {
            /// The catalogue entry for this error.
            pub const fn info(self) -> &'static CodeInfo {
                let mut i = 0;
                while i < CATALOGUE.len() {
                    if CATALOGUE[i].error as u8 == self as u8 {
                        return &CATALOGUE[i];
                    }
                    i += 1;
                }
                // Unreachable: the macro lists every variant in CATALOGUE.
                &CATALOGUE[CATALOGUE.len() - 1]
            }
            /// The number behind `ISO-`.
            pub const fn number(self) -> u16 {
                match self { $( Error::$variant => $num, )* }
            }
        }
    };
}

catalogue! {
    /// The handshake body has no usable public key.
    HandshakeMissingPublicKey = 1001, 400, Server, "HANDSHAKE_MISSING_PUBLIC_KEY",
        "Handshake request is missing the client public key",
        "Send the client's ML-KEM-768 encapsulation key (and X25519 key in hybrid mode) as base64 in the handshake body.";
    /// Encapsulation failed or a public key is invalid (modulus check, small-order X25519).
    HandshakeFailed = 1002, 400, Server, "HANDSHAKE_FAILED",
        "Handshake failed: a public key was rejected or encapsulation failed",
        "Generate a fresh key pair with a conforming ML-KEM-768 / X25519 implementation and retry.";
    /// The handshake request did not reach the server.
    HandshakeNetwork = 1003, 503, Client, "HANDSHAKE_NETWORK_FAILURE",
        "Handshake request failed at the network level",
        "Check connectivity and the handshake URL; the client retries on the next call.";
    /// The handshake response is malformed or inconsistent.
    HandshakeBadResponse = 1004, 502, Client, "HANDSHAKE_BAD_RESPONSE",
        "Handshake response is malformed",
        "Make sure the route answers with the Nen server and that no proxy rewrites the body.";
    /// The peer speaks another protocol version.
    VersionMismatch = 1005, 400, Both, "PROTOCOL_VERSION_UNSUPPORTED",
        "Unsupported Nen protocol version",
        "Upgrade the client or server so both speak a common protocol version.";
    /// The handshake key-confirmation MAC did not verify.
    KeyConfirmationFailed = 1006, 502, Client, "KEY_CONFIRMATION_FAILED",
        "Handshake key confirmation failed",
        "Something between client and server altered the handshake; do not use this session. Retry, and enable server identity if it persists.";
    /// The requested key-exchange mode is unknown or disabled on this server.
    UnsupportedMode = 1007, 400, Server, "KEY_EXCHANGE_MODE_UNSUPPORTED",
        "Key-exchange mode is not supported by this server",
        "Use a mode the server enables ('hybrid' by default, 'mlkem768' for FIPS-only deployments).";
    /// The handshake request is larger than the server accepts (`maxHandshakeBytes`).
    HandshakeTooLarge = 1008, 413, Server, "HANDSHAKE_TOO_LARGE",
        "Handshake request exceeds the maximum size",
        "A handshake request is under 2 KB; send it with the Nen client, or raise maxHandshakeBytes.";
    /// This instance's handshake budget is spent for now.
    HandshakeRateLimited = 1009, 429, Server, "HANDSHAKE_RATE_LIMITED",
        "Too many handshakes: try again shortly",
        "Retry after a short delay; the server limits new sessions (handshakeBudget or a per-client limit).";
    /// The client has no session yet.
    SessionNotInitialized = 2001, 401, Client, "SESSION_NOT_INITIALIZED",
        "No Nen session: call handshake() first",
        "Run the handshake (createNenFetch does it lazily) before sending requests.";
    /// The session id is unknown, expired, terminated or past its rotation grace period.
    SessionExpired = 2002, 401, Server, "SESSION_EXPIRED",
        "Session expired or unknown",
        "Handshake again; clients recover automatically for requests that are safe to retry.";
    /// The `X-Nen-Session` header is missing.
    SessionHeaderMissing = 2003, 401, Server, "SESSION_HEADER_MISSING",
        "X-Nen-Session header is missing",
        "Send requests through the Nen client, which sets every X-Nen-* header.";
    /// The session was already rotated; a session has at most one successor.
    SessionAlreadyRotated = 2004, 409, Server, "SESSION_ALREADY_ROTATED",
        "Session was already rotated",
        "Use the session the first rotation returned, or handshake again.";
    /// The `X-Nen-Signature` header is missing.
    SignatureMissing = 3001, 401, Server, "SIGNATURE_MISSING",
        "X-Nen-Signature header is missing",
        "Send requests through the Nen client; check that no proxy strips X-Nen-* headers.";
    /// The request MAC did not verify.
    SignatureInvalid = 3002, 401, Server, "SIGNATURE_INVALID",
        "Request signature is invalid",
        "The method, path, query, headers or body changed in transit, or the session keys differ; do not rewrite signed requests.";
    /// The request timestamp is outside the accepted window.
    TimestampOutOfWindow = 3003, 401, Server, "TIMESTAMP_OUT_OF_WINDOW",
        "Request timestamp is outside the accepted window",
        "Synchronise the client clock (NTP); the window is ±30 s by default.";
    /// The server's identity signature over the handshake transcript did not verify.
    IdentitySignatureInvalid = 3004, 502, Client, "IDENTITY_SIGNATURE_INVALID",
        "Server identity signature is invalid",
        "The handshake was altered or signed by another key: do not use this session. Check the pinned key if the server rotated its identity.";
    /// The `X-Nen-Nonce` header is missing.
    NonceMissing = 3005, 401, Server, "NONCE_MISSING",
        "X-Nen-Nonce header is missing",
        "Send requests through the Nen client; check that no proxy strips X-Nen-* headers.";
    /// Identity mode is on but the server sent no signature, or another key than the pinned one.
    IdentityMissing = 3006, 502, Client, "SERVER_IDENTITY_MISSING",
        "Server identity is missing or does not match the pinned key",
        "Configure the server with its ML-DSA-65 identity and pin the same public key in the client.";
    /// The handshake response does not echo what the client sent.
    TranscriptMismatch = 3007, 502, Client, "TRANSCRIPT_MISMATCH",
        "Handshake response does not match the request transcript",
        "Something rewrote the handshake; do not use this session.";
    /// The `X-Nen-Timestamp` header is missing or not a decimal millisecond count.
    TimestampMissing = 3008, 401, Server, "TIMESTAMP_MISSING",
        "X-Nen-Timestamp header is missing or malformed",
        "Send requests through the Nen client; the timestamp is Unix milliseconds in decimal.";
    /// AEAD authentication failed on a request body.
    DecryptionFailed = 4001, 400, Both, "DECRYPTION_FAILED",
        "Payload decryption failed",
        "The ciphertext was altered, moved from another request, or sealed under other keys.";
    /// AEAD encryption failed.
    EncryptionFailed = 4002, 500, Both, "ENCRYPTION_FAILED",
        "Payload encryption failed",
        "Internal failure; retry, and report it if it persists.";
    /// The decrypted payload is not JSON.
    PayloadNotJson = 4003, 400, Both, "PAYLOAD_NOT_JSON",
        "Decrypted payload is not valid JSON",
        "Send JSON-serialisable values.";
    /// A 2xx response was not encrypted, or not bound to this request.
    ResponseUnbound = 4004, 502, Client, "RESPONSE_NOT_BOUND",
        "Response is not encrypted or not bound to this request",
        "Something between client and server replaced or rewrote the response; it was discarded.";
    /// The request body is larger than the server accepts.
    BodyTooLarge = 4005, 413, Server, "BODY_TOO_LARGE",
        "Request body exceeds the configured maximum size",
        "Send a smaller body or raise the server's maxBodyBytes.";
    /// The nonce was already used in this session within the window.
    NonceReused = 5001, 401, Server, "NONCE_REUSED",
        "Request nonce was already used (replay)",
        "Never resend a signed request; let the client sign a fresh one.";
    /// A message is not the expected JSON shape.
    InvalidEnvelope = 6001, 400, Both, "INVALID_ENVELOPE",
        "Invalid envelope format",
        "Bodies must be {\"ct\"} for requests and {\"ct\",\"n\"} for responses.";
    /// Base64 or a fixed-length field failed to decode.
    DecodingFailed = 6002, 400, Both, "DECODING_FAILED",
        "A binary field failed to decode",
        "Binary fields are standard base64 with padding, of the exact lengths in PROTOCOL.md.";
    /// A body was sent with a method that does not allow one (GET, HEAD).
    BodyNotAllowed = 6003, 400, Server, "BODY_NOT_ALLOWED",
        "This method does not take a body",
        "Send GET and HEAD requests without a body.";
    /// The HTTP method is not one Nen signs.
    MethodNotSupported = 6004, 405, Server, "METHOD_NOT_SUPPORTED",
        "HTTP method is not supported",
        "Use GET, HEAD, POST, PUT, PATCH or DELETE.";
    /// The request target (path or query) is malformed.
    InvalidTarget = 6005, 400, Both, "INVALID_REQUEST_TARGET",
        "Request path or query is malformed",
        "Paths start with '/', and percent-escapes are '%' followed by two hex digits.";
    /// `X-Nen-Idempotency-Key` is empty, too long or not visible ASCII.
    IdempotencyKeyInvalid = 6006, 400, Both, "IDEMPOTENCY_KEY_INVALID",
        "Idempotency key is malformed",
        "Use 1 to 128 visible ASCII characters, for example a UUID.";
    /// A Nen lifecycle endpoint was called with a method it does not take.
    EndpointMethodNotAllowed = 6007, 405, Server, "ENDPOINT_METHOD_NOT_ALLOWED",
        "This Nen endpoint does not accept this method",
        "handshake, rotate and terminate take POST; status takes GET.";
    /// A body was sent to a Nen lifecycle endpoint that takes none (terminate, status).
    EndpointBodyNotAllowed = 6008, 400, Server, "ENDPOINT_BODY_NOT_ALLOWED",
        "This Nen endpoint does not take a body",
        "Send terminate and status without a body.";
    /// A stream response has no base nonce.
    StreamNonceMissing = 7001, 502, Client, "STREAM_NONCE_MISSING",
        "Stream response is missing its nonce",
        "Serve streams with the Nen stream sealer; check that no proxy strips X-Nen-* headers.";
    /// The stream request failed before streaming started.
    StreamRequestFailed = 7002, 502, Client, "STREAM_REQUEST_FAILED",
        "Stream request failed",
        "Check the endpoint and the network; the error body, if any, carries the server's code.";
    /// The stream ended without its authenticated final chunk.
    StreamTruncated = 7003, 502, Client, "STREAM_TRUNCATED",
        "Stream ended before its authenticated end",
        "The connection was cut or a hop dropped data; retry the request if it is safe to.";
    /// A stream chunk failed authentication or arrived out of order.
    StreamChunkInvalid = 7004, 502, Client, "STREAM_CHUNK_INVALID",
        "Stream chunk is invalid, reordered or tampered with",
        "Something altered the stream in transit; discard what it produced.";
    /// The session store is unreachable or timed out.
    StoreUnavailable = 8001, 503, Server, "STORE_UNAVAILABLE",
        "Session store unavailable",
        "Check the Redis / store connection; requests succeed again once it is back.";
    /// A stored session could not be unwrapped (wrong wrapping key or corrupted entry).
    StoreCorrupt = 8002, 500, Server, "STORE_ENTRY_INVALID",
        "Stored session could not be read",
        "Check that every instance uses the same NEN_WRAPPING_KEY; the session must be re-established.";
    /// The session store is full: no new session until one expires.
    StoreFull = 8003, 503, Server, "STORE_FULL",
        "Session store is full",
        "Raise maxSessions (each session costs about 1 KB), shorten sessionTtlMs, or limit handshakes (handshakeBudget, a per-client limit in front).";
    /// Unexpected internal failure.
    Internal = 9000, 500, Both, "INTERNAL_ERROR",
        "Internal error",
        "Retry; report it with the time and route if it persists.";
    /// The server or client configuration is invalid (bad key sizes, bad options).
    InvalidConfiguration = 9001, 500, Both, "INVALID_CONFIGURATION",
        "Invalid Nen configuration",
        "Check the options passed to the Nen server or client against the documentation.";
}

impl Error {
    /// `ISO-xxxx`.
    pub const fn code(self) -> &'static str {
        self.info().code
    }
    /// The HTTP status this error is answered with.
    pub const fn status(self) -> u16 {
        self.info().status
    }
    /// The catalogue message (also the wire message).
    pub const fn message(self) -> &'static str {
        self.info().message
    }
    /// Looks an error up by `ISO-xxxx` (or the bare number).
    pub fn from_code(code: &str) -> Option<Error> {
        let digits = code.strip_prefix("ISO-").unwrap_or(code);
        CATALOGUE
            .iter()
            .find(|i| &i.code[4..] == digits)
            .map(|i| i.error)
    }
    /// The wire body: `{"error":{"code":"ISO-xxxx","message":"..."}}`.
    pub fn wire_body(self) -> alloc::string::String {
        alloc::format!(
            "{{\"error\":{{\"code\":\"{}\",\"message\":{}}}}}",
            self.code(),
            crate::wire::json_string(self.message())
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
