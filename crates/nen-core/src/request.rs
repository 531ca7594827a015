//! Request signing (client) and verification (server).
//!
//! ```text
//! head = "nen/1 request\n" METHOD "\n" target "\n" sid "\n" ts "\n" B64(nonce) "\n" idem "\n"
//! body = "-"                                  no body
//!      | "ct " len " " B64(tag)               len = ciphertext length without the tag
//! X-Nen-Signature = B64(HMAC-SHA256(k_mac, head ‖ body))
//! request body    = {"ct": B64(ChaCha20-Poly1305(k_c2s, nonce, ad = head, JSON))}
//! ```
//! `target` is the origin-form target exactly as sent ([`crate::target`]); `idem` is the
//! `X-Nen-Idempotency-Key` value, empty when the request has none. The MAC covers the method,
//! the target, the session, the time, the nonce, the idempotency key and the body's presence,
//! length and tag; the body's AEAD binds the same head, so a ciphertext cannot be moved to
//! another request nor a body added or stripped, and a hop cannot add, drop or change the key
//! that licenses a retry.

use crate::crypto::{aead_open, aead_seal, Nonce, MAC_LEN};
use crate::error::Error;
use crate::rng::{draw, Rng};
use crate::session::{ClientSession, ServerSession};
use crate::target::{check_target, Target};
use crate::types::{check_version, parse_timestamp, Method, SessionId};
use crate::wire::{
    b64, nonce_from_b64, parse_request_envelope, request_envelope, unb64_array, Sealed,
};
use alloc::{format, string::String, vec::Vec};
use core::fmt::Write;

/// `X-Nen-Version`.
pub const HEADER_VERSION: &str = "x-nen-version";
/// `X-Nen-Session`.
pub const HEADER_SESSION: &str = "x-nen-session";
/// `X-Nen-Timestamp`.
pub const HEADER_TIMESTAMP: &str = "x-nen-timestamp";
/// `X-Nen-Nonce`.
pub const HEADER_NONCE: &str = "x-nen-nonce";
/// `X-Nen-Signature`.
pub const HEADER_SIGNATURE: &str = "x-nen-signature";
/// `X-Nen-Idempotency-Key`: signed, so a hop cannot forge the licence to retry a request.
pub const HEADER_IDEMPOTENCY_KEY: &str = "x-nen-idempotency-key";

/// Longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;

/// An idempotency key is 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] visible ASCII bytes
/// (`0x21..=0x7E`); anything else is [`Error::IdempotencyKeyInvalid`].
pub fn check_idempotency_key(key: &str) -> Result<&str, Error> {
    let b = key.as_bytes();
    if b.is_empty()
        || b.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !b.iter().all(|c| (0x21..=0x7e).contains(c))
    {
        return Err(Error::IdempotencyKeyInvalid);
    }
    Ok(key)
}

/// What a response must be bound to: the request's session and nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseBinding {
    pub(crate) sid: SessionId,
    pub(crate) nonce: Nonce,
}

impl ResponseBinding {
    /// The session id.
    pub fn sid(&self) -> &SessionId {
        &self.sid
    }
    /// The request nonce.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }
}

/// What the head is built from; every field already checked.
struct Head<'a> {
    method: Method,
    target: Target<'a>,
    sid: &'a SessionId,
    ts: u64,
    nonce: &'a Nonce,
    idempotency_key: Option<&'a str>,
}

impl Head<'_> {
    fn bytes(&self) -> Vec<u8> {
        let target = self.target.as_str();
        let idem = self.idempotency_key.unwrap_or("");
        let mut s = String::with_capacity(96 + target.len() + idem.len());
        // Writing to a String cannot fail.
        let _ = write!(
            s,
            "nen/1 request\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.method.as_str(),
            target,
            self.sid,
            self.ts,
            b64(self.nonce.as_bytes()),
            idem
        );
        s.into_bytes()
    }
}

fn body_descriptor(body: Option<&Sealed>) -> String {
    match body {
        None => String::from("-"),
        Some(s) => format!("ct {} {}", s.ct.len(), b64(&s.tag)),
    }
}

/// A request signed by the client, ready to send.
#[derive(Debug)]
pub struct SignedRequest {
    /// The `X-Nen-*` headers, lower-case names.
    pub headers: Vec<(&'static str, String)>,
    /// The body envelope `{"ct"}`, when the request has a body.
    pub body: Option<String>,
    /// What the response must be bound to.
    pub binding: ResponseBinding,
    /// The method, for choosing how to open the response (HEAD is metadata only).
    pub method: Method,
}

impl ClientSession {
    /// Signs (and, with a body, encrypts) a request. `target` is the origin-form `path[?query]`
    /// exactly as the HTTP stack will send it (PROTOCOL.md §5.1); `body` is the JSON plaintext;
    /// `idempotency_key`, when given, is signed and sent as `X-Nen-Idempotency-Key`.
    pub fn sign_request(
        &self,
        method: &str,
        target: &str,
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Result<SignedRequest, Error> {
        let method = Method::parse(method)?;
        let idempotency_key = idempotency_key.map(check_idempotency_key).transpose()?;
        let body = body.filter(|b| !b.is_empty());
        if body.is_some() && !method.allows_body() {
            return Err(Error::BodyNotAllowed);
        }
        if let Some(b) = body {
            check_json(b)?;
        }
        let target = check_target(target)?;
        let s = &self.0;
        let nonce = Nonce::from_bytes(draw(rng)?);
        let head = Head {
            method,
            target,
            sid: &s.sid,
            ts: now_ms,
            nonce: &nonce,
            idempotency_key,
        }
        .bytes();
        let sealed = match body {
            Some(plain) => {
                let mut ct = plain.to_vec();
                let tag = aead_seal(&s.keys.c2s.0, &nonce, &head, &mut ct)?;
                Some(Sealed { ct, tag })
            }
            None => None,
        };
        let sig = s
            .keys
            .mac
            .0
            .mac(&[&head, body_descriptor(sealed.as_ref()).as_bytes()]);
        let mut headers = alloc::vec![
            (HEADER_VERSION, String::from("1")),
            (HEADER_SESSION, s.sid.to_hex()),
            (HEADER_TIMESTAMP, format!("{now_ms}")),
            (HEADER_NONCE, b64(nonce.as_bytes())),
            (HEADER_SIGNATURE, b64(&sig)),
        ];
        if let Some(k) = idempotency_key {
            headers.push((HEADER_IDEMPOTENCY_KEY, String::from(k)));
        }
        Ok(SignedRequest {
            headers,
            body: sealed.as_ref().map(request_envelope),
            binding: ResponseBinding { sid: s.sid, nonce },
            method,
        })
    }
}

/// An incoming request as the HTTP layer hands it over: header values as received
/// (`None` when absent) and the raw body.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestParts<'a> {
    /// HTTP method, exactly as received (upper case).
    pub method: &'a str,
    /// The origin-form `path[?query]` exactly as received: the bytes the router dispatches on.
    pub target: &'a str,
    /// `X-Nen-Version`.
    pub version: Option<&'a str>,
    /// `X-Nen-Session`.
    pub session: Option<&'a str>,
    /// `X-Nen-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-Nen-Nonce`.
    pub nonce: Option<&'a str>,
    /// `X-Nen-Signature`.
    pub signature: Option<&'a str>,
    /// `X-Nen-Idempotency-Key`.
    pub idempotency_key: Option<&'a str>,
    /// Raw body; empty means none.
    pub body: Option<&'a [u8]>,
}

/// A request whose shape is valid, before its session is looked up.
#[derive(Debug, Clone)]
pub struct ParsedRequest {
    sid: SessionId,
    method: Method,
    /// Passed [`check_target`] in [`parse_request`].
    target: String,
    idempotency_key: Option<String>,
    timestamp: u64,
    nonce: Nonce,
    signature: [u8; MAC_LEN],
    body: Option<Sealed>,
}

impl ParsedRequest {
    /// The session to load.
    pub fn sid(&self) -> &SessionId {
        &self.sid
    }
    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }
}

/// Checks a request's shape, cheapest checks first, before any session lookup or crypto.
/// `max_body` bounds the raw body in bytes.
pub fn parse_request(parts: &RequestParts<'_>, max_body: usize) -> Result<ParsedRequest, Error> {
    let method = Method::parse(parts.method)?;
    check_version(parts.version.ok_or(Error::VersionMismatch)?)?;
    let sid = parts.session.ok_or(Error::SessionHeaderMissing)?;
    let signature = parts.signature.ok_or(Error::SignatureMissing)?;
    let nonce = parts.nonce.ok_or(Error::NonceMissing)?;
    let timestamp = parse_timestamp(parts.timestamp.ok_or(Error::TimestampMissing)?)?;
    let idempotency_key = parts
        .idempotency_key
        .map(|k| check_idempotency_key(k.trim()).map(String::from))
        .transpose()?;
    let signature = unb64_array::<MAC_LEN>(signature.trim())?;
    let nonce = nonce_from_b64(nonce.trim())?;
    let sid = SessionId::parse(sid.trim())?;
    let body = match parts.body.filter(|b| !b.is_empty()) {
        None => None,
        Some(_) if !method.allows_body() => return Err(Error::BodyNotAllowed),
        Some(b) if b.len() > max_body => return Err(Error::BodyTooLarge),
        Some(b) => Some(parse_request_envelope(b)?),
    };
    Ok(ParsedRequest {
        sid,
        method,
        target: String::from(check_target(parts.target)?.as_str()),
        idempotency_key,
        timestamp,
        nonce,
        signature,
        body,
    })
}

/// A verified, decrypted request. Its nonce must still be recorded by the replay guard of the
/// session store before it is acted on.
#[derive(Debug)]
pub struct OpenedRequest {
    /// The method.
    pub method: Method,
    /// The request's timestamp (Unix ms).
    pub timestamp: u64,
    /// The decrypted JSON body, if any.
    pub body: Option<Vec<u8>>,
    /// The verified `X-Nen-Idempotency-Key`, if the request carried one. Trust only this one:
    /// a plain `Idempotency-Key` header is outside the MAC and any hop may have set it.
    pub idempotency_key: Option<String>,
    /// What the response must be bound to (session and nonce, the replay key).
    pub binding: ResponseBinding,
}

impl ServerSession {
    /// Verifies the signature, then the time window, then decrypts the body.
    pub fn open_request(
        &self,
        req: ParsedRequest,
        now_ms: u64,
        window_ms: u64,
    ) -> Result<OpenedRequest, Error> {
        let s = &self.0;
        if req.sid != s.sid {
            return Err(Error::SessionExpired);
        }
        let head = Head {
            method: req.method,
            target: Target::checked(&req.target),
            sid: &req.sid,
            ts: req.timestamp,
            nonce: &req.nonce,
            idempotency_key: req.idempotency_key.as_deref(),
        }
        .bytes();
        let desc = body_descriptor(req.body.as_ref());
        if !s
            .keys
            .mac
            .0
            .verify(&[&head, desc.as_bytes()], &req.signature)
        {
            return Err(Error::SignatureInvalid);
        }
        if req.timestamp.abs_diff(now_ms) > window_ms {
            return Err(Error::TimestampOutOfWindow);
        }
        let body = match req.body {
            Some(Sealed { mut ct, tag }) => {
                aead_open(&s.keys.c2s.0, &req.nonce, &head, &mut ct, &tag)?;
                check_json(&ct)?;
                Some(ct)
            }
            None => None,
        };
        Ok(OpenedRequest {
            method: req.method,
            timestamp: req.timestamp,
            body,
            idempotency_key: req.idempotency_key,
            binding: ResponseBinding {
                sid: s.sid,
                nonce: req.nonce,
            },
        })
    }
}

/// Payloads are JSON: anything else is [`Error::PayloadNotJson`].
pub(crate) fn check_json(bytes: &[u8]) -> Result<(), Error> {
    if crate::json::is_json(bytes) {
        Ok(())
    } else {
        Err(Error::PayloadNotJson)
    }
}
