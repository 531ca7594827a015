//! The error catalogue, for clients that explain a code to their users
//! (`describeNenCode`, `nenCatalogue`: the same shapes as the native addon's).

use js_sys::{Array, Object, Reflect};
use nen_core::error::CodeInfo;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** One entry of the Nen error catalogue. */
export interface NenCodeInfo {
  /** `ISO-xxxx`. */
  code: string;
  /** HTTP status the server answers with (client-side codes: the status to map it to). */
  status: number;
  /** Stable name, e.g. `SIGNATURE_INVALID`. */
  name: string;
  /** What happened (the wire message). */
  message: string;
  /** What to do about it. */
  fix: string;
  /** Who raises it. */
  side: "server" | "client" | "both";
}
"#;

fn to_js(i: &CodeInfo) -> JsValue {
    let o = Object::new();
    let fields: [(&str, JsValue); 6] = [
        ("code", i.code.into()),
        ("status", f64::from(i.status).into()),
        ("name", i.name.into()),
        ("message", i.message.into()),
        ("fix", i.fix.into()),
        ("side", i.side.as_str().into()),
    ];
    for (k, v) in fields {
        // Defining a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &k.into(), &v);
    }
    o.into()
}

/// Describes an error code (`ISO-3002` or `3002`); `null` for unknown codes.
#[wasm_bindgen(js_name = describeNenCode, unchecked_return_type = "NenCodeInfo | null")]
pub fn describe_nen_code(code: &str) -> JsValue {
    match nen_core::Error::from_code(code) {
        Some(e) => to_js(e.info()),
        None => JsValue::NULL,
    }
}

/// The whole error catalogue, in code order.
#[wasm_bindgen(js_name = nenCatalogue, unchecked_return_type = "NenCodeInfo[]")]
pub fn nen_catalogue() -> Array {
    nen_core::CATALOGUE.iter().map(to_js).collect()
}
