//! A native Nen client on the same core: for Node services that call a Nen-protected API
//! (server to server) and for this package's own tests. Browsers use `@withnen/client` (WASM).
//! As on the server, session keys stay in Rust.

use crate::error::{js_error, OrJs, Result};
use crate::rng::{now_ms, with_rng};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use nen_core::handshake::{ClientHandshake, IdentityPin};
use nen_core::request::SignedRequest;
use nen_core::response::Answer;
use nen_core::stream::{SseParser, StreamEvent, StreamOpener};
use nen_core::wire::unb64;
use nen_core::{ClientSession, Error as NenErr, Mode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A handshake in progress: post `body`, then `finish` with the server's answer.
#[napi]
pub struct NenClientHandshake {
    state: Mutex<Option<ClientHandshake>>,
    body: String,
}

#[napi]
impl NenClientHandshake {
    /// Starts a handshake in `mode` (`"hybrid"`, the default, or `"mlkem768"`).
    #[napi(factory)]
    pub fn start(
        #[napi(ts_arg_type = "'hybrid' | 'mlkem768'")] mode: Option<String>,
    ) -> Result<Self> {
        let mode = Mode::parse(mode.as_deref().unwrap_or("hybrid")).or_js()?;
        let hs = with_rng(|rng| ClientHandshake::start(mode, rng)).or_js()?;
        Ok(Self {
            body: hs.request_body(),
            state: Mutex::new(Some(hs)),
        })
    }

    /// The JSON body to post to `/api/nen/handshake`.
    #[napi(getter)]
    pub fn body(&self) -> String {
        self.body.clone()
    }

    /// Checks the server's answer (and, with `pinnedIdentityKey`, its ML-DSA-65 signature) and
    /// returns the session. A handshake can be finished once.
    #[napi]
    pub fn finish(
        &self,
        response: String,
        pinned_identity_key: Option<String>,
    ) -> Result<NenClientSession> {
        let hs = self
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or(NenErr::SessionNotInitialized)
            .or_js()?;
        let pin = match pinned_identity_key {
            None => None,
            Some(k) => Some(
                unb64(k.trim())
                    .and_then(|b| IdentityPin::new(&b))
                    .map_err(|_| NenErr::InvalidConfiguration)
                    .or_js()?,
            ),
        };
        let session = hs.finish(response.as_bytes(), pin.as_ref()).or_js()?;
        Ok(NenClientSession {
            inner: Arc::new(session),
        })
    }
}

/// An established client session.
#[napi]
pub struct NenClientSession {
    inner: Arc<ClientSession>,
}

/// A signed request: send `headers` and `body`, then open the answer with it.
#[napi]
pub struct NenSignedRequest {
    req: SignedRequest,
}

#[napi]
impl NenSignedRequest {
    /// The `x-nen-*` headers to send.
    #[napi(getter)]
    pub fn headers(&self) -> HashMap<String, String> {
        self.req
            .headers
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }
    /// The `{"ct"}` body to send, or `null`.
    #[napi(getter)]
    pub fn body(&self) -> Option<String> {
        self.req.body.clone()
    }
}

/// What an authenticated answer said: exactly one of the two is set.
#[napi(object)]
pub struct NenAnswer {
    /// The handler's JSON text (empty for HEAD).
    pub body: Option<String>,
    /// `ISO-xxxx` of a failure the server sealed for this request.
    pub error_code: Option<String>,
}

fn answer_to_js(a: Answer) -> Result<NenAnswer> {
    Ok(match a {
        Answer::Body(b) => NenAnswer {
            body: Some(
                String::from_utf8(b)
                    .map_err(|_| NenErr::PayloadNotJson)
                    .or_js()?,
            ),
            error_code: None,
        },
        Answer::Failed(e) => NenAnswer {
            body: None,
            error_code: Some(e.code().into()),
        },
    })
}

#[napi]
impl NenClientSession {
    /// Session id.
    #[napi(getter)]
    pub fn sid(&self) -> String {
        self.inner.sid().to_hex()
    }
    /// Expiry, Unix ms.
    #[napi(getter)]
    pub fn expires_at(&self) -> f64 {
        self.inner.expires_at() as f64
    }
    /// Signs (and with a JSON body, encrypts) a request to `target`: the origin-form
    /// `path?query` exactly as it will be sent. `idempotencyKey` is signed and sent as
    /// `x-nen-idempotency-key`.
    #[napi]
    pub fn sign(
        &self,
        method: String,
        target: String,
        json: Option<String>,
        timestamp_ms: Option<f64>,
        idempotency_key: Option<String>,
    ) -> Result<NenSignedRequest> {
        let now = timestamp_ms.map(|t| t as u64).unwrap_or_else(now_ms);
        let req = with_rng(|rng| {
            self.inner.sign_request(
                &method,
                &target,
                json.as_deref().map(str::as_bytes),
                idempotency_key.as_deref(),
                now,
                rng,
            )
        })
        .or_js()?;
        Ok(NenSignedRequest { req })
    }
    /// Opens the response to `request`: the handler's JSON text, or the code of a sealed
    /// failure (authenticated). ISO-4004 if it is neither.
    #[napi]
    pub fn open_answer(
        &self,
        request: &NenSignedRequest,
        status: u32,
        body: String,
    ) -> Result<NenAnswer> {
        let a = self
            .inner
            .open_response(&request.req, status as u16, body.as_bytes())
            .or_js()?;
        answer_to_js(a)
    }
    /// Checks a HEAD response's `x-nen-response` header: an empty body, or the code of a
    /// sealed failure.
    #[napi]
    pub fn open_head_answer(
        &self,
        request: &NenSignedRequest,
        status: u32,
        header: Option<String>,
    ) -> Result<NenAnswer> {
        let a = self
            .inner
            .open_head(&request.req, status as u16, header.as_deref())
            .or_js()?;
        answer_to_js(a)
    }
    /// Starts reading the stream answering `request`; `nonceHeader` is `x-nen-stream-nonce`.
    #[napi]
    pub fn open_stream(
        &self,
        request: &NenSignedRequest,
        nonce_header: Option<String>,
    ) -> Result<NenStreamReader> {
        let opener = self
            .inner
            .stream_opener(&request.req, nonce_header.as_deref())
            .or_js()?;
        Ok(NenStreamReader {
            opener,
            parser: SseParser::new(1 << 24),
            ended: false,
            pending: None,
        })
    }
    /// Starts a rotation of this session: post the returned handshake's `body` sealed to
    /// `/api/nen/rotate`, then `finish` it with the opened answer.
    #[napi]
    pub fn begin_rotation(
        &self,
        #[napi(ts_arg_type = "'hybrid' | 'mlkem768'")] mode: Option<String>,
    ) -> Result<NenClientHandshake> {
        let mode = Mode::parse(mode.as_deref().unwrap_or("hybrid")).or_js()?;
        let sid = *self.inner.sid();
        let hs = with_rng(|rng| ClientHandshake::start_rotation(mode, sid, rng)).or_js()?;
        Ok(NenClientHandshake {
            body: hs.request_body(),
            state: Mutex::new(Some(hs)),
        })
    }
}

/// Decrypts an SSE stream as its bytes arrive.
#[napi]
pub struct NenStreamReader {
    opener: StreamOpener,
    parser: SseParser,
    ended: bool,
    /// A failure met after some chunks of the same read: those chunks are returned first and the
    /// failure is reported by the next `push` or by `finish`, so no authentic data is lost.
    pending: Option<NenErr>,
}

#[napi]
impl NenStreamReader {
    /// Feeds received bytes; returns the decrypted chunks they complete (as text).
    #[napi]
    pub fn push(&mut self, bytes: Either<String, &[u8]>) -> Result<Vec<String>> {
        let data = crate::server::bytes_of(&bytes);
        if let Some(e) = self.pending {
            return Err(js_error(e));
        }
        let mut out = Vec::new();
        for f in self.parser.feed(data).or_js()? {
            match self.opener.open_frame(f.event.as_deref(), &f.data) {
                Ok(StreamEvent::Data(d)) => out.push(String::from_utf8_lossy(&d).into_owned()),
                Ok(StreamEvent::End) => self.ended = true,
                Err(e) if out.is_empty() => return Err(js_error(e)),
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
        Ok(out)
    }
    /// Call at the end of the transport: ISO-7003 unless the authenticated end arrived.
    #[napi]
    pub fn finish(&self) -> Result<()> {
        match self.pending {
            Some(e) => Err(js_error(e)),
            None => self.opener.finish().or_js(),
        }
    }
    /// Whether the authenticated end arrived.
    #[napi(getter)]
    pub fn ended(&self) -> bool {
        self.ended
    }
}
