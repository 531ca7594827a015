//! `ClientSession` and the `SignedRequest`s it produces.

use crate::error::{JsResult, NenJsError};
use crate::handshake::{parse_mode, ClientHandshake};
use crate::rng::{now_ms, timestamp_from_js, with_rng};
use crate::stream::{OpenerSlot, StreamReader};
use js_sys::{Object, Reflect};
use nen_core::request::SignedRequest as CoreSignedRequest;
use nen_core::response::Answer;
use nen_core::{ClientSession as CoreSession, Error};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// An established client session. The keys stay in wasm memory; `wipe()` (or `free()`)
/// erases them.
#[wasm_bindgen]
pub struct ClientSession {
    /// `None` after `wipe()`.
    inner: Option<CoreSession>,
    /// The stream keys derived from this session, held weakly so `wipe()` can erase those too
    /// without keeping finished readers alive.
    streams: Vec<Weak<OpenerSlot>>,
}

/// A signed request: send `headers` and `body`, then open the answer with it.
#[wasm_bindgen]
pub struct SignedRequest {
    pub(crate) req: CoreSignedRequest,
}

/// An HTTP status from JS: an integer that fits the u16 the response AD is bound to. Anything
/// else cannot be the status a response was sealed for, so it is "not bound", exactly what
/// the AEAD check would have said; refusing it up front avoids silently truncating 65736 to 200.
fn status_from_js(status: f64) -> Result<u16, Error> {
    if status.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&status) {
        Ok(status as u16)
    } else {
        Err(Error::ResponseUnbound)
    }
}

/// The body of an answer; a sealed failure becomes an authenticated error.
fn body_of(answer: Answer) -> JsResult<Vec<u8>> {
    match answer {
        Answer::Body(b) => Ok(b),
        Answer::Failed(e) => Err(NenJsError::authenticated(e)),
    }
}

impl ClientSession {
    pub(crate) fn new(inner: CoreSession) -> Self {
        Self {
            inner: Some(inner),
            streams: Vec::new(),
        }
    }

    /// The live session, or ISO-2001 once wiped.
    fn live(&self) -> Result<&CoreSession, Error> {
        self.inner.as_ref().ok_or(Error::SessionNotInitialized)
    }
}

#[wasm_bindgen]
impl ClientSession {
    /// Session id (32 lowercase hex digits).
    #[wasm_bindgen(getter)]
    pub fn sid(&self) -> JsResult<String> {
        Ok(self.live()?.sid().to_hex())
    }

    /// Expiry, Unix ms.
    #[wasm_bindgen(getter = expiresAt)]
    pub fn expires_at(&self) -> JsResult<f64> {
        Ok(self.live()?.expires_at() as f64)
    }

    /// The key-exchange mode: `"hybrid"` or `"mlkem768"`.
    #[wasm_bindgen(getter, unchecked_return_type = "\"hybrid\" | \"mlkem768\"")]
    pub fn mode(&self) -> JsResult<String> {
        Ok(self.live()?.mode().as_str().into())
    }

    /// Signs (and with a JSON body, encrypts) a request to `target`: the origin-form
    /// `path?query` exactly as fetch will send it (`url.pathname + url.search`).
    /// `timestampMs` defaults to `Date.now()`; `idempotencyKey`, when given, is signed and sent
    /// as `x-nen-idempotency-key`.
    pub fn sign(
        &self,
        method: &str,
        target: &str,
        json: Option<String>,
        #[wasm_bindgen(js_name = timestampMs)] timestamp_ms: Option<f64>,
        #[wasm_bindgen(js_name = idempotencyKey)] idempotency_key: Option<String>,
    ) -> JsResult<SignedRequest> {
        let session = self.live()?;
        let now = timestamp_ms.map(timestamp_from_js).transpose()?;
        let now = now.unwrap_or_else(now_ms);
        let req = with_rng(|rng| {
            session.sign_request(
                method,
                target,
                json.as_deref().map(str::as_bytes),
                idempotency_key.as_deref(),
                now,
                rng,
            )
        })?;
        Ok(SignedRequest { req })
    }

    /// Opens the response to `signed`: the handler's JSON text. A failure the server sealed for
    /// this request throws its code with `authenticated: true`; anything not sealed for it is
    /// ISO-4004.
    pub fn open(&self, signed: &SignedRequest, status: f64, body: &str) -> JsResult<String> {
        let answer =
            self.live()?
                .open_response(&signed.req, status_from_js(status)?, body.as_bytes())?;
        // open_response has checked the plaintext is JSON, hence UTF-8.
        Ok(String::from_utf8(body_of(answer)?).map_err(|_| Error::PayloadNotJson)?)
    }

    /// Checks a HEAD response's `x-nen-response` header; a sealed failure throws its code with
    /// `authenticated: true`.
    #[wasm_bindgen(js_name = openHead)]
    pub fn open_head(
        &self,
        signed: &SignedRequest,
        status: f64,
        header: Option<String>,
    ) -> JsResult<()> {
        let answer =
            self.live()?
                .open_head(&signed.req, status_from_js(status)?, header.as_deref())?;
        body_of(answer).map(|_| ())
    }

    /// Starts reading the stream answering `signed`; `nonceHeader` is `x-nen-stream-nonce`.
    #[wasm_bindgen(js_name = openStream)]
    pub fn open_stream(
        &mut self,
        signed: &SignedRequest,
        #[wasm_bindgen(js_name = nonceHeader)] nonce_header: Option<String>,
    ) -> JsResult<StreamReader> {
        let opener = self
            .live()?
            .stream_opener(&signed.req, nonce_header.as_deref())?;
        let reader = StreamReader::new(opener);
        // Forget readers that JS has already freed, so a long session does not accumulate them.
        self.streams.retain(|w| w.strong_count() > 0);
        self.streams.push(Rc::downgrade(reader.slot()));
        Ok(reader)
    }

    /// Starts a rotation of this session: post the returned handshake's `body` sealed to
    /// `/api/nen/rotate`, then `finish` it with the opened answer.
    #[wasm_bindgen(js_name = beginRotation)]
    pub fn begin_rotation(&self, mode: Option<String>) -> JsResult<ClientHandshake> {
        let sid = *self.live()?.sid();
        Ok(ClientHandshake::begin(parse_mode(mode)?, Some(sid))?)
    }

    /// Erases the session keys now, and those of every stream reader opened from it, instead
    /// of whenever JS garbage-collects this object. Afterwards every method throws ISO-2001.
    pub fn wipe(&mut self) {
        // Dropping zeroizes: SessionKeys and the stream AEAD keys are ZeroizeOnDrop.
        self.inner = None;
        for slot in self.streams.drain(..).filter_map(|w| w.upgrade()) {
            // Readers never hold the borrow across a call into JS, so this always succeeds.
            if let Ok(mut opener) = slot.try_borrow_mut() {
                *opener = None;
            }
        }
    }
}

#[wasm_bindgen]
impl SignedRequest {
    /// The lower-case `x-nen-*` headers to send, as a plain object.
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, string>")]
    pub fn headers(&self) -> Object {
        let o = Object::new();
        for (k, v) in &self.req.headers {
            // Defining a data property on a fresh plain object cannot fail.
            let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
        }
        o
    }

    /// The `{"ct"}` body to send, or `undefined` for a request without one.
    #[wasm_bindgen(getter)]
    pub fn body(&self) -> Option<String> {
        self.req.body.clone()
    }

    /// The canonical upper-case method.
    #[wasm_bindgen(getter)]
    pub fn method(&self) -> String {
        self.req.method.as_str().into()
    }
}
