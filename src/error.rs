//! Crossing into JavaScript, a failure is an `Error` whose message is `"ISO-xxxx: <catalogue
//! message>"`: never a stack trace, a Rust type name, key material or plaintext. The same form
//! works for thrown errors and rejected promises; `nen.js` turns it into a `NenError` with
//! `code`, `status` and `message`.

use nen_core::Error;

/// Converts a protocol error.
pub fn js_error(e: Error) -> napi::Error {
    napi::Error::from_reason(format!("{}: {}", e.code(), e.message()))
}

/// Runs a protocol step, converting its error.
pub trait OrJs<T> {
    /// `Result<T, nen_core::Error>` → `napi::Result<T>`.
    fn or_js(self) -> napi::Result<T>;
}

impl<T> OrJs<T> for Result<T, Error> {
    fn or_js(self) -> napi::Result<T> {
        self.map_err(js_error)
    }
}
