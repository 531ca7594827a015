//! `nen-wasm`: the Nen client, and the Nen server, compiled to WebAssembly for browsers and
//! edge runtimes.
//!
//! The client classes mirror the native client of `@withnen/server-native` (`src/client.rs`)
//! name for name, so `@withnen/client` drives either through one code path. The server half
//! ([`server`]) is the native `NenServer` for runtimes that cannot load addons, with the
//! session store left to JavaScript. As natively, session keys live in Rust memory only:
//! JavaScript holds handles and wrapped (encrypted) sessions, never key bytes.
//!
//! Every failure throws an `Error` whose message is `"ISO-xxxx: <catalogue message>"` (the
//! native addon's convention) and which also carries `code` and `status`; see [`error`].
//!
//! The wasm-bindgen attributes only generate exports on wasm32. On the host the same types are
//! plain Rust, which is how `cargo test` exercises them against the server half of `nen-core`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod catalogue;
pub mod error;
pub mod handshake;
pub mod rng;
#[cfg(feature = "server")]
pub mod server;
pub mod session;
pub mod stream;

#[cfg(all(test, feature = "server"))]
mod server_tests;
#[cfg(test)]
mod tests;

pub use error::NenJsError;
pub use handshake::ClientHandshake;
#[cfg(feature = "server")]
pub use server::{Opened, Parsed, ServerEngine, ServerStream};
pub use session::{ClientSession, SignedRequest};
pub use stream::StreamReader;

/// The protocol version this build speaks.
pub use nen_core::PROTOCOL_VERSION;
