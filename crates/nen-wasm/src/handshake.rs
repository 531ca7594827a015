//! `ClientHandshake`: one handshake in progress.

use crate::error::JsResult;
use crate::rng::with_rng;
use crate::session::ClientSession;
use nen_core::handshake::{ClientHandshake as CoreHandshake, IdentityPin};
use nen_core::wire::unb64;
use nen_core::{Error, Mode, SessionId};
use wasm_bindgen::prelude::*;

/// A handshake in progress: post `body`, then `finish` with the server's answer.
#[wasm_bindgen]
pub struct ClientHandshake {
    /// The ephemeral secrets; `None` once `finish` has been called.
    state: Option<CoreHandshake>,
    body: String,
}

/// `"hybrid"` unless told otherwise, as the native client and the server default.
pub(crate) fn parse_mode(mode: Option<String>) -> Result<Mode, Error> {
    Mode::parse(mode.as_deref().unwrap_or("hybrid"))
}

impl ClientHandshake {
    pub(crate) fn begin(mode: Mode, rotating: Option<SessionId>) -> Result<Self, Error> {
        let hs = with_rng(|rng| match rotating {
            None => CoreHandshake::start(mode, rng),
            Some(prev) => CoreHandshake::start_rotation(mode, prev, rng),
        })?;
        Ok(Self {
            body: hs.request_body(),
            state: Some(hs),
        })
    }
}

#[wasm_bindgen]
impl ClientHandshake {
    /// Starts a handshake in `mode` (`"hybrid"`, the default, or `"mlkem768"`).
    pub fn start(mode: Option<String>) -> JsResult<ClientHandshake> {
        Ok(Self::begin(parse_mode(mode)?, None)?)
    }

    /// The JSON body to post to `/api/nen/handshake`.
    #[wasm_bindgen(getter)]
    pub fn body(&self) -> String {
        self.body.clone()
    }

    /// Checks the server's answer (and, with `pinnedIdentityKey`, the base64 ML-DSA-65 public
    /// key, its identity signature) and returns the session. A handshake can be finished once:
    /// the ephemeral secrets are consumed by the first attempt, whatever its outcome, so a
    /// failed answer cannot be retried against the same keys.
    pub fn finish(
        &mut self,
        response: &str,
        #[wasm_bindgen(js_name = pinnedIdentityKey)] pinned_identity_key: Option<String>,
    ) -> JsResult<ClientSession> {
        let hs = self.state.take().ok_or(Error::SessionNotInitialized)?;
        let pin = match pinned_identity_key {
            None => None,
            Some(k) => Some(
                unb64(k.trim())
                    .and_then(|b| IdentityPin::new(&b))
                    .map_err(|_| Error::InvalidConfiguration)?,
            ),
        };
        let session = hs.finish(response.as_bytes(), pin.as_ref())?;
        Ok(ClientSession::new(session))
    }
}
