//! Wire encodings: base64, the JSON envelopes and length-prefixed transcript fields.

use crate::crypto::{Nonce, Tag, NONCE_LEN, TAG_LEN};
use crate::error::Error;
use crate::json::object;
use alloc::borrow::Cow;
use alloc::{string::String, vec::Vec};
use base64::{engine::general_purpose::STANDARD, Engine};

/// Lowercase hex: session ids, and nonces in store keys.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Appends the standard base64 of `bytes` to `out` (no intermediate string).
pub fn b64_append(bytes: &[u8], out: &mut String) {
    STANDARD.encode_string(bytes, out)
}

/// Strict standard base64: padding required, no whitespace, canonical trailing bits.
pub fn unb64(s: &str) -> Result<Vec<u8>, Error> {
    STANDARD.decode(s).map_err(|_| Error::DecodingFailed)
}

/// Decodes base64 that must be exactly `N` bytes.
pub fn unb64_array<const N: usize>(s: &str) -> Result<[u8; N], Error> {
    // Reject oversized input before decoding, so a huge header costs nothing.
    if s.len() > N.div_ceil(3) * 4 {
        return Err(Error::DecodingFailed);
    }
    unb64(s)?.try_into().map_err(|_| Error::DecodingFailed)
}

/// Decodes a base64 nonce.
pub fn nonce_from_b64(s: &str) -> Result<Nonce, Error> {
    Ok(Nonce::from_bytes(unb64_array::<NONCE_LEN>(s)?))
}

/// A JSON string literal for `s` (RFC 8259 escaping).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = core::fmt::Write::write_fmt(&mut out, format_args!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Appends `u32 big-endian length ‖ bytes` (the transcript's field encoding).
pub fn put_lp(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u32).to_be_bytes());
    out.extend_from_slice(field);
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestEnvelopeJson<'a> {
    #[serde(borrow)]
    ct: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseEnvelopeJson<'a> {
    #[serde(borrow)]
    ct: Cow<'a, str>,
    #[serde(borrow)]
    n: Cow<'a, str>,
}

/// A sealed payload: ciphertext with its tag split off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Ciphertext (same length as the plaintext).
    pub ct: Vec<u8>,
    /// Poly1305 tag.
    pub tag: Tag,
}

impl Sealed {
    /// Splits `ciphertext ‖ tag` as carried on the wire.
    pub fn from_wire(mut bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() < TAG_LEN {
            return Err(Error::DecodingFailed);
        }
        let split = bytes.len() - TAG_LEN;
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&bytes[split..]);
        bytes.truncate(split);
        Ok(Self { ct: bytes, tag })
    }
    /// `ciphertext ‖ tag`, base64.
    pub fn to_b64(&self) -> String {
        let mut v = Vec::with_capacity(self.ct.len() + TAG_LEN);
        v.extend_from_slice(&self.ct);
        v.extend_from_slice(&self.tag);
        b64(&v)
    }
}

/// Parses a request body `{"ct":"<base64 ciphertext‖tag>"}`.
pub fn parse_request_envelope(body: &[u8]) -> Result<Sealed, Error> {
    let env: RequestEnvelopeJson<'_> = object(body).ok_or(Error::InvalidEnvelope)?;
    Sealed::from_wire(unb64(&env.ct)?)
}

/// Serialises a request body envelope.
pub fn request_envelope(sealed: &Sealed) -> String {
    let mut s = String::from("{\"ct\":\"");
    s.push_str(&sealed.to_b64());
    s.push_str("\"}");
    s
}

/// Parses a response body `{"ct":"…","n":"…"}`.
pub fn parse_response_envelope(body: &[u8]) -> Result<(Sealed, Nonce), Error> {
    let env: ResponseEnvelopeJson<'_> = object(body).ok_or(Error::InvalidEnvelope)?;
    Ok((Sealed::from_wire(unb64(&env.ct)?)?, nonce_from_b64(&env.n)?))
}

/// Serialises a response body envelope.
pub fn response_envelope(sealed: &Sealed, n: &Nonce) -> String {
    let mut s = String::from("{\"ct\":\"");
    s.push_str(&sealed.to_b64());
    s.push_str("\",\"n\":\"");
    s.push_str(&b64(n.as_bytes()));
    s.push_str("\"}");
    s
}

/// Parses a wire error body `{"error":{"code":"ISO-xxxx","message":"…"}}` into its code.
/// Unknown codes and other shapes give `None`.
pub fn parse_error_body(body: &[u8]) -> Option<Error> {
    #[derive(serde::Deserialize)]
    struct Inner<'a> {
        #[serde(borrow)]
        code: Cow<'a, str>,
    }
    #[derive(serde::Deserialize)]
    struct Outer<'a> {
        #[serde(borrow)]
        error: Inner<'a>,
    }
    let o: Outer<'_> = object(body)?;
    Error::from_code(&o.error.code)
}
