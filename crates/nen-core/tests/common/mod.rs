//! Shared helpers for the integration tests: a fixed clock, seeded RNGs, one-call handshakes.
#![allow(dead_code)]

use nen_core::handshake::{
    server_handshake, ClientHandshake, IdentityPin, ServerConfig, ServerIdentity,
};
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
    let mut crng = rng(1);
    let mut srng = rng(2);
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
    ServerIdentity::from_seed(&nen_core::crypto::MlDsaSeed::from_bytes([7; 32]))
}
