//! Crossing into JavaScript, a failure is an `Error` whose `code` is its `ISO-xxxx` code, set
//! here (napi's custom status), and whose message is the catalogue message (for an invalid
//! option, which option and what it must be): never a stack trace, a Rust type name, key material
//! or plaintext. Thrown errors and rejected promises carry the same `code`; `nen.js` only
//! re-classes them as `NenError` (adding `status`), reading `code`, never parsing the message.

use napi::bindgen_prelude::{JsError, Unknown};
use napi::Env;
use nen_core::server::ConfigError;
use nen_core::Error;

/// The `code` of a JavaScript error: an ISO code.
#[derive(Clone, Copy, Debug)]
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// What every fallible export returns.
pub type Result<T> = std::result::Result<T, napi::Error<Code>>;

/// Converts a protocol error.
pub fn js_error(e: Error) -> napi::Error<Code> {
    napi::Error::new(Code(e.code()), e.message())
}

/// An invalid option: ISO-9001 naming the option and what it must be.
pub fn config_error(e: ConfigError) -> napi::Error<Code> {
    napi::Error::new(Code(Error::InvalidConfiguration.code()), e.detail())
}

/// A failure of napi itself (creating a value, a promise): ISO-9000, with napi's reason.
pub fn napi_failure(e: napi::Error) -> napi::Error<Code> {
    napi::Error::new(Code(Error::Internal.code()), e.reason.clone())
}

/// The rejection of a promise with a coded error. `Env::spawn_future`'s error type is fixed to
/// napi's `Status`, so the error object is made here, on the JS thread, and the promise rejects
/// with that very object (napi reuses a referenced error value as it is).
pub fn rejection(env: &Env, e: napi::Error<Code>) -> napi::Error {
    // SAFETY: `env` is the live environment of the JS thread this callback runs on, and the
    // value `into_value` returns belongs to it.
    let value = unsafe { JsError::from(e).into_value(env.raw()) };
    napi::Error::from(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Runs a protocol step, converting its error.
pub trait OrJs<T> {
    /// `Result<T, nen_core::Error>` → a coded `Result<T>`.
    fn or_js(self) -> Result<T>;
}

impl<T> OrJs<T> for std::result::Result<T, Error> {
    fn or_js(self) -> Result<T> {
        self.map_err(js_error)
    }
}
