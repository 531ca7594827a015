//! `nen-wasm`: the Nen client compiled to WebAssembly for browsers and edge runtimes.
//!
//! The exported classes mirror the native client of `@withnen/server-native` (`src/client.rs`)
//! name for name, so `@withnen/client` drives either through one code path. As there, session
//! keys live in Rust memory only: JavaScript holds handles, never key bytes.
//!
//! Every failure throws an `Error` whose message is `"ISO-xxxx: <catalogue message>"` (the
//! native addon's convention) and which also carries `code` and `status`; see [`error`].
//!
//! The wasm-bindgen attributes only generate exports on wasm32. On the host the same types are
//! plain Rust, which is how `cargo test` exercises them against the server half of `nen-core`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalogue;
pub mod error;
pub mod handshake;
pub mod rng;
pub mod session;
pub mod stream;

#[cfg(test)]
mod tests;

pub use error::NenJsError;
pub use handshake::ClientHandshake;
pub use session::{ClientSession, SignedRequest};
pub use stream::StreamReader;

/// The protocol version this build speaks.
pub use nen_core::PROTOCOL_VERSION;
