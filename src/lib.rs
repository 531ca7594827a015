//! `@withnen/server-native`: the napi-rs binding of the Nen protocol core.
//!
//! Thin by design: the protocol lives in `nen-core`; this crate holds sessions (keys never
//! enter JavaScript), talks to the session store, and converts values at the boundary.
#![deny(clippy::all)]

mod client;
mod error;
mod options;
mod rng;
mod server;
mod store;

use napi_derive::napi;
use nen_core::handshake::ServerIdentity;
use nen_core::wire::b64;

pub use options::{NenServerOptions, StoreOptions};
pub use server::{NenServer, NenStream, OpenedRequest};

/// One entry of the error catalogue.
#[napi(object)]
pub struct NenCodeInfo {
    /// `ISO-xxxx`.
    pub code: String,
    /// HTTP status the server answers with.
    pub status: u32,
    /// Stable name, e.g. `SIGNATURE_INVALID`.
    pub name: String,
    /// What happened (the wire message).
    pub message: String,
    /// What to do about it.
    pub fix: String,
    /// `"server"`, `"client"` or `"both"`.
    pub side: String,
}

fn info(i: &nen_core::error::CodeInfo) -> NenCodeInfo {
    NenCodeInfo {
        code: i.code.into(),
        status: u32::from(i.status),
        name: i.name.into(),
        message: i.message.into(),
        fix: i.fix.into(),
        side: i.side.as_str().into(),
    }
}

/// Describes an error code (`ISO-3002` or `3002`); `null` for unknown codes.
#[napi]
pub fn describe_nen_code(code: String) -> Option<NenCodeInfo> {
    nen_core::Error::from_code(&code).map(|e| info(e.info()))
}

/// The whole error catalogue, in code order.
#[napi]
pub fn nen_catalogue() -> Vec<NenCodeInfo> {
    nen_core::CATALOGUE.iter().map(info).collect()
}

/// A server identity key pair.
#[napi(object)]
pub struct NenIdentity {
    /// ML-DSA-65 public key (base64, 1952 bytes): give it to clients to pin.
    pub public_key: String,
    /// The secret seed (base64, 32 bytes): pass as `identitySecretKey`; keep it secret.
    pub secret_key: String,
}

/// Generates a new ML-DSA-65 server identity.
#[napi]
pub fn generate_identity() -> error::Result<NenIdentity> {
    let (id, seed) = rng::with_rng(ServerIdentity::generate).map_err(error::js_error)?;
    Ok(NenIdentity {
        public_key: b64(id.public_key()),
        secret_key: b64(seed.as_bytes()),
    })
}

/// The protocol version this addon speaks.
#[napi]
pub const PROTOCOL_VERSION: u32 = nen_core::PROTOCOL_VERSION as u32;

/// The session-store layout (`nen_core::store`), for JavaScript adapters that implement it over
/// another transport (the Upstash REST store): generated into @withnen/server, never retyped.
#[napi(object)]
pub struct NenStoreLayout {
    /// Default key prefix.
    pub default_key_prefix: String,
    /// The record's entry field.
    pub entry_field: String,
    /// The record's retired-at field.
    pub retired_field: String,
    /// How often, at most, the record script prunes expired nonce fields, ms.
    pub prune_every_ms: u32,
    /// Lua: store a new record.
    pub put_script: String,
    /// Lua: record a nonce (check and record in one step).
    pub record_script: String,
    /// Lua: retire a session at rotation, once.
    pub retire_script: String,
}

/// The session-store layout every store shares.
#[napi]
pub fn nen_store_layout() -> NenStoreLayout {
    use nen_core::store as s;
    NenStoreLayout {
        default_key_prefix: s::DEFAULT_KEY_PREFIX.into(),
        entry_field: s::FIELD_ENTRY.into(),
        retired_field: s::FIELD_RETIRED.into(),
        prune_every_ms: s::PRUNE_EVERY_MS as u32,
        put_script: s::SCRIPT_PUT.into(),
        record_script: s::SCRIPT_RECORD.into(),
        retire_script: s::SCRIPT_RETIRE.into(),
    }
}

/// The protocol's header names (`nen_core`), generated into the TypeScript packages so no
/// wire literal is retyped there.
#[napi(object)]
pub struct NenProtocolNames {
    /// The request headers the engines read, in the order PROTOCOL.md §3 lists them.
    pub request_headers: Vec<String>,
    /// `X-Nen-Response`.
    pub response_header: String,
    /// `X-Nen-Stream-Nonce`.
    pub stream_nonce_header: String,
    /// `X-Nen-Error`.
    pub error_header: String,
}

/// The protocol's header names.
#[napi]
pub fn nen_protocol_names() -> NenProtocolNames {
    use nen_core::request as r;
    NenProtocolNames {
        request_headers: [
            r::HEADER_VERSION,
            r::HEADER_SESSION,
            r::HEADER_TIMESTAMP,
            r::HEADER_NONCE,
            r::HEADER_SIGNATURE,
            r::HEADER_IDEMPOTENCY_KEY,
        ]
        .map(String::from)
        .to_vec(),
        response_header: nen_core::response::HEADER_RESPONSE.into(),
        stream_nonce_header: nen_core::stream::HEADER_STREAM_NONCE.into(),
        error_header: nen_core::server::HEADER_ERROR.into(),
    }
}
