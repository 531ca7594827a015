//! # nen-core
//!
//! The Nen protocol as pure functions and types: post-quantum (X25519 + ML-KEM-768, or ML-KEM-768
//! alone) application-layer encryption of HTTP API payloads, so that every hop after TLS
//! termination sees only ciphertext. No I/O, no clocks, no globals: time and randomness are
//! parameters, which is what lets the same code run in the napi server addon, in WebAssembly and
//! in reproducible test vectors. `docs/PROTOCOL.md` is the normative description.
//!
//! Flow: [`handshake::ClientHandshake`] → [`handshake::server_handshake`] →
//! [`ClientSession::sign_request`] → [`request::parse_request`] + [`ServerSession::open_request`]
//! → [`ServerSession::seal_response`] → [`ClientSession::open_response`]; streams through
//! [`ServerSession::stream_sealer`] and [`ClientSession::stream_opener`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod crypto;
pub mod engine;
pub mod error;
pub mod handshake;
pub mod json;
pub mod keys;
pub mod replay;
pub mod request;
pub mod response;
pub mod rng;
pub mod server;
pub mod session;
pub mod store;
pub mod stream;
pub mod target;
pub mod types;
pub mod wire;

pub use error::{Error, CATALOGUE};
pub use session::{ClientSession, ServerSession};
pub use types::{Method, Mode, SessionId, DEFAULT_WINDOW_MS, PROTOCOL_VERSION};
