//! Failures crossing into JavaScript.
//!
//! Exported functions return `Result<_, NenJsError>`; wasm-bindgen throws the `Err` as the
//! `Error` built here. The message is exactly `"ISO-xxxx: <catalogue message>"`, the form the
//! native addon throws, so one `/^(ISO-\d{4}): /` parser in the TypeScript client handles both;
//! `code` and `status` are also set as properties for callers that skip the parser. Only
//! catalogue text ever reaches JS: no Rust type names, key material or plaintext.

use nen_core::Error;
use wasm_bindgen::JsValue;

/// A protocol error on its way to JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NenJsError(pub Error);

impl From<Error> for NenJsError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<NenJsError> for JsValue {
    fn from(e: NenJsError) -> JsValue {
        let info = e.0.info();
        let err = js_sys::Error::new(&format!("{}: {}", info.code, info.message));
        // Reflect::set only fails on frozen objects or throwing setters; a fresh Error has
        // neither, and the message already carries the code should it ever fail.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &info.code.into());
        let _ = js_sys::Reflect::set(&err, &"status".into(), &f64::from(info.status).into());
        err.into()
    }
}

/// Shorthand for the exported functions' return type.
pub type JsResult<T> = Result<T, NenJsError>;
