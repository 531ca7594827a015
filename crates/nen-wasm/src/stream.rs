//! `StreamReader`: decrypts an encrypted SSE response as its bytes arrive.

use crate::error::JsResult;
use nen_core::stream::{SseParser, StreamEvent, StreamOpener};
use nen_core::Error;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The stream key, shared with the session that derived it so `wipe()` can erase it.
pub(crate) type OpenerSlot = RefCell<Option<StreamOpener>>;

/// Longest SSE line accepted, as in the native reader: bounds memory when a hop never sends a
/// newline.
const MAX_LINE: usize = 1 << 24;

/// Decrypts an SSE stream as its bytes arrive.
#[wasm_bindgen]
pub struct StreamReader {
    opener: Rc<OpenerSlot>,
    parser: SseParser,
    ended: bool,
    /// Set when the SSE framing itself was bad: the parser's state is then unknown, so the
    /// stream yields nothing more (the opener poisons itself the same way on a bad chunk).
    broken: bool,
    /// A failure met after some chunks of the same read: those chunks are returned first, and
    /// the failure is reported by the next `push` or by `finish`, so no authentic data is lost.
    pending: Option<Error>,
}

impl StreamReader {
    pub(crate) fn new(opener: StreamOpener) -> Self {
        Self {
            opener: Rc::new(RefCell::new(Some(opener))),
            parser: SseParser::new(MAX_LINE),
            ended: false,
            broken: false,
            pending: None,
        }
    }

    pub(crate) fn slot(&self) -> &Rc<OpenerSlot> {
        &self.opener
    }

    /// `push` on raw bytes.
    pub fn push_bytes(&mut self, data: &[u8]) -> Result<Vec<String>, Error> {
        if let Some(e) = self.pending {
            return Err(e);
        }
        if self.broken {
            return Err(Error::StreamChunkInvalid);
        }
        let mut slot = self.opener.try_borrow_mut().map_err(|_| Error::Internal)?;
        let opener = slot.as_mut().ok_or(Error::SessionNotInitialized)?;
        let frames = self.parser.feed(data).inspect_err(|_| self.broken = true)?;
        let mut out = Vec::new();
        for f in frames {
            match opener.open_frame(f.event.as_deref(), &f.data) {
                // Lossy like the native reader: chunks are whatever the server's handler wrote.
                Ok(StreamEvent::Data(d)) => out.push(String::from_utf8_lossy(&d).into_owned()),
                Ok(StreamEvent::End) => self.ended = true,
                Err(e) if out.is_empty() => return Err(e),
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
        Ok(out)
    }
}

#[wasm_bindgen]
impl StreamReader {
    /// Feeds received bytes (a `Uint8Array`, or text as the native reader also accepts);
    /// returns the decrypted chunks they complete, as text. After any failure every call fails.
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] bytes: JsValue,
    ) -> JsResult<Vec<String>> {
        let data = match bytes.as_string() {
            Some(s) => s.into_bytes(),
            None => bytes
                .dyn_into::<js_sys::Uint8Array>()
                .map_err(|_| Error::StreamChunkInvalid)?
                .to_vec(),
        };
        Ok(self.push_bytes(&data)?)
    }

    /// Call at the end of the transport: ISO-7003 unless the authenticated end arrived.
    pub fn finish(&self) -> JsResult<()> {
        if let Some(e) = self.pending {
            return Err(e.into());
        }
        if self.broken {
            return Err(Error::StreamChunkInvalid.into());
        }
        let slot = self.opener.try_borrow().map_err(|_| Error::Internal)?;
        Ok(slot
            .as_ref()
            .ok_or(Error::SessionNotInitialized)?
            .finish()?)
    }

    /// Whether the authenticated end arrived.
    #[wasm_bindgen(getter)]
    pub fn ended(&self) -> bool {
        self.ended
    }
}
