//! Failures crossing into JavaScript.
//!
//! Exported functions return `Result<_, NenJsError>`; wasm-bindgen throws the `Err` as the
//! `Error` built here. The message is exactly `"ISO-xxxx: <catalogue message>"` (for an invalid
//! option, followed by `": <option> <what it must be>"`), the form the native addon throws, so
//! one `/^(ISO-\d{4}): /` parser in the TypeScript client handles both; `code`, `status` and
//! `authenticated` are also set as properties. `authenticated` is true only for a failure the
//! server sealed for the request. Only catalogue text ever reaches JS: no Rust type names, key
//! material or plaintext.

use nen_core::server::ConfigError;
use nen_core::Error;
use wasm_bindgen::JsValue;

/// A protocol error on its way to JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NenJsError {
    /// The code.
    pub error: Error,
    /// The option at fault, for ISO-9001.
    pub config: Option<ConfigError>,
    /// Sealed by the server for this request.
    pub authenticated: bool,
}

impl NenJsError {
    /// A failure the server sealed for the request.
    pub fn authenticated(error: Error) -> Self {
        Self {
            error,
            config: None,
            authenticated: true,
        }
    }
}

impl From<Error> for NenJsError {
    fn from(error: Error) -> Self {
        Self {
            error,
            config: None,
            authenticated: false,
        }
    }
}

impl From<ConfigError> for NenJsError {
    fn from(c: ConfigError) -> Self {
        Self {
            error: Error::InvalidConfiguration,
            config: Some(c),
            authenticated: false,
        }
    }
}

impl From<NenJsError> for JsValue {
    fn from(e: NenJsError) -> JsValue {
        let info = e.error.info();
        let message = match e.config {
            Some(c) => c.message(),
            None => format!("{}: {}", info.code, info.message),
        };
        let err = js_sys::Error::new(&message);
        // Reflect::set only fails on frozen objects or throwing setters; a fresh Error has
        // neither, and the message already carries the code should it ever fail.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &info.code.into());
        let _ = js_sys::Reflect::set(&err, &"status".into(), &f64::from(info.status).into());
        let _ = js_sys::Reflect::set(&err, &"authenticated".into(), &e.authenticated.into());
        err.into()
    }
}

/// Shorthand for the exported functions' return type.
pub type JsResult<T> = Result<T, NenJsError>;
