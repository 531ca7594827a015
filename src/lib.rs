//! `@withnen/server-native`: the napi-rs binding of the Nen protocol core.
//!
//! A placeholder until the server addon lands: it links the core so the workspace builds.

pub use nen_core::PROTOCOL_VERSION;
