//! WebAssembly build of `nen-core` for browsers and edge runtimes.
//!
//! This crate is a placeholder that proves the core builds for `wasm32-unknown-unknown`;
//! the wasm-bindgen surface arrives with the client package.
#![no_std]

pub use nen_core::PROTOCOL_VERSION;
