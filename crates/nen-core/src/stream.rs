//! Encrypted server-sent event streams with an authenticated end.
//!
//! ```text
//! X-Nen-Stream-Nonce = B64(base)                   12 random bytes per stream
//! k        = HKDF-Expand(k_stream, "nen/1 stream" ‖ sid ‖ request nonce ‖ base, 32)
//! nonce_i  = base XOR i                            i = 0, 1, 2, … (u64 in the last 8 bytes)
//! ad_i     = "nen/1 chunk" ‖ u64 i ‖ u8 final
//! plain_i  = u8 kind ‖ u32 len ‖ data ‖ zero padding      kind 0 data, 1 end, 2 error
//! frame    = "data: " B64(ct ‖ tag) "\n\n"                 (final: "event: end\n" first)
//! ```
//! Every chunk opens on its own; the stream key is bound to the request; a stream that stops
//! before a valid final chunk is [`Error::StreamTruncated`].

use crate::crypto::{hkdf_expand, AeadCipher, AeadKey, Nonce, TAG_LEN};
use crate::error::Error;
use crate::request::{ResponseBinding, SignedRequest};
use crate::rng::{draw, Rng};
use crate::session::{ClientSession, ServerSession, SessionState};
use crate::wire::{b64, b64_append, nonce_from_b64, unb64, Sealed};
use alloc::{string::String, vec::Vec};

/// `X-Nen-Stream-Nonce`.
pub const HEADER_STREAM_NONCE: &str = "x-nen-stream-nonce";
/// Largest chunk payload (16 MiB): the length field never needs more.
pub const MAX_CHUNK: usize = 16 << 20;
const FINAL_EVENT: &str = "end";

const KIND_DATA: u8 = 0;
const KIND_END: u8 = 1;
const KIND_ERROR: u8 = 2;

/// The stream's cipher, keyed once for all its chunks.
fn stream_cipher(
    s: &SessionState,
    binding: &ResponseBinding,
    base: &Nonce,
) -> Result<AeadCipher, Error> {
    let k = hkdf_expand(
        &s.keys.stream.0,
        &[
            b"nen/1 stream",
            s.sid.as_bytes(),
            binding.nonce.as_bytes(),
            base.as_bytes(),
        ],
    );
    AeadCipher::new(&AeadKey::from_bytes(*k.as_bytes()))
}

fn chunk_ad(index: u64, last: bool) -> [u8; 20] {
    let mut ad = [0u8; 20];
    ad[..11].copy_from_slice(b"nen/1 chunk");
    ad[11..19].copy_from_slice(&index.to_be_bytes());
    ad[19] = last as u8;
    ad
}

/// Seals the chunks of one stream, in order.
#[derive(Debug)]
pub struct StreamSealer {
    cipher: AeadCipher,
    base: Nonce,
    index: u64,
    finished: bool,
    pad_block: usize,
}

impl ServerSession {
    /// Starts a stream answering the request `binding` came from. `pad_block` > 0 pads every
    /// chunk's plaintext up to a multiple of that many bytes, hiding token lengths. Returns the
    /// sealer and the `X-Nen-Stream-Nonce` header value.
    pub fn stream_sealer(
        &self,
        binding: &ResponseBinding,
        pad_block: usize,
        rng: &mut impl Rng,
    ) -> Result<(StreamSealer, String), Error> {
        let base = Nonce::from_bytes(draw(rng)?);
        let sealer = StreamSealer {
            cipher: stream_cipher(&self.0, binding, &base)?,
            base,
            index: 0,
            finished: false,
            pad_block: pad_block.min(MAX_CHUNK),
        };
        Ok((sealer, b64(base.as_bytes())))
    }
}

impl StreamSealer {
    fn seal(&mut self, kind: u8, data: &[u8]) -> Result<String, Error> {
        if self.finished {
            return Err(Error::Internal);
        }
        if data.len() > MAX_CHUNK {
            return Err(Error::BodyTooLarge);
        }
        // One buffer for plaintext, ciphertext and tag, one for the frame: a 16-byte token is
        // a few hundred nanoseconds of work, and every allocation showed in its profile.
        let mut len = 5 + data.len();
        if self.pad_block > 0 {
            len = len.div_ceil(self.pad_block) * self.pad_block;
        }
        let mut sealed = Vec::with_capacity(len + TAG_LEN);
        sealed.push(kind);
        sealed.extend_from_slice(&(data.len() as u32).to_be_bytes());
        sealed.extend_from_slice(data);
        sealed.resize(len, 0);
        let last = kind != KIND_DATA;
        let tag = self.cipher.seal(
            &self.base.xor_index(self.index),
            &chunk_ad(self.index, last),
            &mut sealed,
        )?;
        sealed.extend_from_slice(&tag);
        self.index += 1;
        self.finished = last;
        let mut frame = String::with_capacity(sealed.len().div_ceil(3) * 4 + 24);
        if last {
            frame.push_str("event: ");
            frame.push_str(FINAL_EVENT);
            frame.push('\n');
        }
        frame.push_str("data: ");
        b64_append(&sealed, &mut frame);
        frame.push_str("\n\n");
        Ok(frame)
    }

    /// One data chunk, as a complete SSE frame.
    pub fn chunk(&mut self, data: &[u8]) -> Result<String, Error> {
        self.seal(KIND_DATA, data)
    }

    /// The authenticated end of the stream.
    pub fn finish(&mut self) -> Result<String, Error> {
        self.seal(KIND_END, &[])
    }

    /// An authenticated end that reports `error` to the client.
    pub fn fail(&mut self, error: Error) -> Result<String, Error> {
        self.seal(KIND_ERROR, error.code().as_bytes())
    }

    /// Whether the final frame has been written.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// What an opened frame carried.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// A chunk of data.
    Data(Vec<u8>),
    /// The authenticated end.
    End,
}

/// Opens the chunks of one stream, in order.
#[derive(Debug)]
pub struct StreamOpener {
    cipher: AeadCipher,
    base: Nonce,
    index: u64,
    state: OpenerState,
}

#[derive(Debug, PartialEq, Eq)]
enum OpenerState {
    Open,
    Ended,
    Failed,
}

impl ClientSession {
    /// Starts opening the stream that answers `request`; `header` is `X-Nen-Stream-Nonce`.
    pub fn stream_opener(
        &self,
        request: &SignedRequest,
        header: Option<&str>,
    ) -> Result<StreamOpener, Error> {
        let base = nonce_from_b64(header.ok_or(Error::StreamNonceMissing)?.trim())
            .map_err(|_| Error::StreamNonceMissing)?;
        Ok(StreamOpener {
            cipher: stream_cipher(&self.0, &request.binding, &base)?,
            base,
            index: 0,
            state: OpenerState::Open,
        })
    }
}

impl StreamOpener {
    /// Opens the next frame (`event` is its SSE event name, `data` its data field). After the
    /// first failure every call fails: a stream that went wrong yields nothing more.
    pub fn open_frame(&mut self, event: Option<&str>, data: &str) -> Result<StreamEvent, Error> {
        let was_open = self.state == OpenerState::Open;
        let r = self.open_inner(event, data);
        // An authenticated error frame ends the stream (state `Ended`, the server's code as the
        // error); every other failure poisons it.
        if r.is_err() && !(was_open && self.state == OpenerState::Ended) {
            self.state = OpenerState::Failed;
        }
        r
    }

    fn open_inner(&mut self, event: Option<&str>, data: &str) -> Result<StreamEvent, Error> {
        if self.state != OpenerState::Open {
            return Err(Error::StreamChunkInvalid);
        }
        let last = match event {
            None | Some("message") => false,
            Some(FINAL_EVENT) => true,
            Some(_) => return Err(Error::StreamChunkInvalid),
        };
        let bad = |_: Error| Error::StreamChunkInvalid;
        let Sealed { ct: mut plain, tag } =
            Sealed::from_wire(unb64(data.trim()).map_err(bad)?).map_err(bad)?;
        self.cipher
            .open(
                &self.base.xor_index(self.index),
                &chunk_ad(self.index, last),
                &mut plain,
                &tag,
            )
            .map_err(bad)?;
        self.index += 1;
        if plain.len() < 5 {
            return Err(Error::StreamChunkInvalid);
        }
        let kind = plain[0];
        let len = u32::from_be_bytes([plain[1], plain[2], plain[3], plain[4]]) as usize;
        if len > plain.len() - 5 || plain[5 + len..].iter().any(|&b| b != 0) {
            return Err(Error::StreamChunkInvalid);
        }
        plain.truncate(5 + len);
        plain.drain(..5);
        match (kind, last) {
            (KIND_DATA, false) => Ok(StreamEvent::Data(plain)),
            (KIND_END, true) if plain.is_empty() => {
                self.state = OpenerState::Ended;
                Ok(StreamEvent::End)
            }
            (KIND_ERROR, true) => {
                self.state = OpenerState::Ended;
                let code = core::str::from_utf8(&plain).ok().and_then(Error::from_code);
                Err(code.unwrap_or(Error::StreamRequestFailed))
            }
            _ => Err(Error::StreamChunkInvalid),
        }
    }

    /// Call when the transport ends: without the authenticated final chunk the stream was
    /// truncated.
    pub fn finish(&self) -> Result<(), Error> {
        match self.state {
            OpenerState::Ended => Ok(()),
            OpenerState::Failed => Err(Error::StreamChunkInvalid),
            OpenerState::Open => Err(Error::StreamTruncated),
        }
    }
}

/// One SSE frame (only the fields Nen uses).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseFrame {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` field (multiple lines joined with `\n`).
    pub data: String,
}

/// An incremental SSE parser (WHATWG HTML §9.2.6, the subset Nen emits): feed bytes as they
/// arrive, get complete frames out. Bounded: a line longer than `max_line`, or a frame whose
/// `data` lines add up to more than `max_line`, is [`Error::StreamChunkInvalid`]. Comment lines
/// (`:` keep-alives), `id:` and `retry:` are ignored; a frame without `data` is no frame.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    frame: SseFrame,
    has_data: bool,
    max_line: usize,
}

impl SseParser {
    /// A parser that refuses lines longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        Self {
            max_line,
            ..Self::default()
        }
    }

    /// Feeds bytes; returns the frames they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseFrame>, Error> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let line = core::mem::take(&mut self.line);
                let line = line.strip_suffix(b"\r").unwrap_or(&line);
                self.line_done(line, &mut out)?;
            } else {
                if self.line.len() >= self.max_line {
                    return Err(Error::StreamChunkInvalid);
                }
                self.line.push(b);
            }
        }
        Ok(out)
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseFrame>) -> Result<(), Error> {
        if line.is_empty() {
            if self.has_data {
                out.push(core::mem::take(&mut self.frame));
            }
            self.frame = SseFrame::default();
            self.has_data = false;
            return Ok(());
        }
        let line = core::str::from_utf8(line).map_err(|_| Error::StreamChunkInvalid)?;
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                // Bounded per frame, not only per line: many short data lines are one frame.
                if self.frame.data.len() + value.len() + 1 > self.max_line {
                    return Err(Error::StreamChunkInvalid);
                }
                if self.has_data {
                    self.frame.data.push('\n');
                }
                self.frame.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.frame.event = Some(String::from(value)),
            _ => {} // comments (":"), id, retry: not used by Nen
        }
        Ok(())
    }
}
