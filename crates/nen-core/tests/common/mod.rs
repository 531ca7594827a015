//! Shared helpers for the integration tests: a fixed clock, seeded RNGs, one-call handshakes,
//! and request parts that tests can take apart and tamper with.
#![allow(dead_code)]

use nen_core::handshake::{
    server_handshake, ClientHandshake, IdentityPin, ServerConfig, ServerIdentity,
};
use nen_core::request::{RequestParts, SignedRequest};
use nen_core::rng::ChaChaRng;
use nen_core::{ClientSession, Mode, ServerSession};

/// The fixed "now" of every test, Unix ms.
pub const NOW: u64 = 1_767_225_600_000;
pub const TTL: u64 = 3_600_000;
pub const WINDOW: u64 = 30_000;

pub fn rng(tag: u8) -> ChaChaRng {
    ChaChaRng::from_seed([tag; 32])
}

pub fn config(identity: Option<&ServerIdentity>) -> ServerConfig<'_> {
    ServerConfig {
        modes: &[Mode::Hybrid, Mode::MlKem768],
        ttl_ms: TTL,
        identity,
    }
}

/// A full handshake in `mode`, optionally with an identity the client pins.
pub fn pair(mode: Mode, identity: Option<&ServerIdentity>) -> (ClientSession, ServerSession) {
    pair_seeded(mode, identity, 1, 2)
}

/// Like [`pair`], with the client's and the server's RNG seeds chosen by the caller, so that
/// tests can hold several distinct sessions.
pub fn pair_seeded(
    mode: Mode,
    identity: Option<&ServerIdentity>,
    client_seed: u8,
    server_seed: u8,
) -> (ClientSession, ServerSession) {
    let mut crng = rng(client_seed);
    let mut srng = rng(server_seed);
    let hs = ClientHandshake::start(mode, &mut crng).unwrap();
    let (server, body) = server_handshake(
        hs.request_body().as_bytes(),
        &config(identity),
        None,
        NOW,
        &mut srng,
    )
    .unwrap();
    let pin = identity.map(|i| IdentityPin::new(i.public_key()).unwrap());
    let client = hs.finish(body.as_bytes(), pin.as_ref()).unwrap();
    (client, server)
}

pub fn identity() -> ServerIdentity {
    identity_from(7)
}

pub fn identity_from(seed: u8) -> ServerIdentity {
    ServerIdentity::from_seed(&nen_core::crypto::MlDsaSeed::from_bytes([seed; 32]))
}

/// The value of header `name` of a signed request.
pub fn header<'a>(req: &'a SignedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// The parts a server receives for `req`, sent as `method target`.
pub fn parts<'a>(method: &'a str, target: &'a str, req: &'a SignedRequest) -> RequestParts<'a> {
    RequestParts {
        method,
        target,
        version: header(req, "x-nen-version"),
        session: header(req, "x-nen-session"),
        timestamp: header(req, "x-nen-timestamp"),
        nonce: header(req, "x-nen-nonce"),
        signature: header(req, "x-nen-signature"),
        idempotency_key: header(req, "x-nen-idempotency-key"),
        body: req.body.as_deref().map(str::as_bytes),
    }
}

/// Owned request parts, for tampering: mutate the fields, then borrow them with
/// [`OwnedParts::as_parts`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedParts {
    pub method: String,
    pub target: String,
    pub version: Option<String>,
    pub session: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub signature: Option<String>,
    pub idempotency_key: Option<String>,
    pub body: Option<Vec<u8>>,
}

impl OwnedParts {
    /// What the server receives for `req` sent untouched as `method target`.
    pub fn from_signed(method: &str, target: &str, req: &SignedRequest) -> Self {
        let p = parts(method, target, req);
        Self {
            method: p.method.to_owned(),
            target: p.target.to_owned(),
            version: p.version.map(str::to_owned),
            session: p.session.map(str::to_owned),
            timestamp: p.timestamp.map(str::to_owned),
            nonce: p.nonce.map(str::to_owned),
            signature: p.signature.map(str::to_owned),
            idempotency_key: p.idempotency_key.map(str::to_owned),
            body: p.body.map(<[u8]>::to_vec),
        }
    }

    pub fn as_parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            target: &self.target,
            version: self.version.as_deref(),
            session: self.session.as_deref(),
            timestamp: self.timestamp.as_deref(),
            nonce: self.nonce.as_deref(),
            signature: self.signature.as_deref(),
            idempotency_key: self.idempotency_key.as_deref(),
            body: self.body.as_deref(),
        }
    }
}

/// Decodes standard base64, flips bit `bit` of byte `index` (negative: from the end), re-encodes.
pub fn flip_b64(s: &str, index: isize, bit: u8) -> String {
    let mut bytes = nen_core::wire::unb64(s).expect("test input is base64");
    let i = if index < 0 {
        bytes.len() - index.unsigned_abs()
    } else {
        index as usize
    };
    bytes[i] ^= 1 << bit;
    nen_core::wire::b64(&bytes)
}
