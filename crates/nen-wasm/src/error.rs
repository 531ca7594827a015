//! Failures crossing into JavaScript.
//!
//! Exported functions return `Result<_, NenJsError>`; wasm-bindgen throws the `Err` as the
//! `Error` built here: `code` (`ISO-xxxx`), `status` and `authenticated` are set on it at the
//! source, as the native addon sets `code`, and the message is the catalogue message (for an
//! invalid option, which option and what it must be). The TypeScript packages read `code`, never
//! the message. `authenticated` is true only for a failure the server sealed for the request.
//! Only catalogue text ever reaches JS: no Rust type names, key material or plaintext.

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
            Some(c) => c.detail(),
            None => String::from(info.message),
        };
        let err = js_sys::Error::new(&message);
        // Reflect::set only fails on frozen objects or throwing setters; a fresh Error has
        // neither.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &info.code.into());
        let _ = js_sys::Reflect::set(&err, &"status".into(), &f64::from(info.status).into());
        let _ = js_sys::Reflect::set(&err, &"authenticated".into(), &e.authenticated.into());
        err.into()
    }
}

/// Shorthand for the exported functions' return type.
pub type JsResult<T> = Result<T, NenJsError>;
