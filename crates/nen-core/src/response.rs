//! Responses, bound to their request.
//!
//! ```text
//! ad   = "nen/1 response\n" sid "\n" B64(request nonce) "\n" status "\n" kind
//! body = {"ct": B64(ChaCha20-Poly1305(k_s2c, n, ad, plaintext)), "n": B64(n)}
//!        kind = "body":  plaintext = the handler's JSON
//!        kind = "error": plaintext = {"error":{"code","message"}}, status = the code's status
//! HEAD: header X-Nen-Response = B64(n) "." B64(ct ‖ tag)
//!        kind = "head":  plaintext empty (so ct is empty)
//!        kind = "error": plaintext = {"error":{"code","message"}}
//! ```
//! A response sealed for one request does not open for another, nor under another status, nor
//! as another kind: a handler's own 4xx JSON can never pass for a Nen failure or back.

use crate::crypto::{aead_open, aead_seal, Nonce, Tag, TAG_LEN};
use crate::error::Error;
use crate::request::{check_json, ResponseBinding, SignedRequest};
use crate::rng::{draw, Rng};
use crate::session::{ClientSession, ServerSession};
use crate::types::Method;
use crate::wire::{
    b64, nonce_from_b64, parse_error_body, parse_response_envelope, response_envelope, unb64,
    Sealed,
};
use alloc::{string::String, vec::Vec};
use core::fmt::Write;

/// `X-Nen-Response`: the authenticated metadata of a HEAD response.
pub const HEADER_RESPONSE: &str = "x-nen-response";

#[derive(Clone, Copy)]
enum Kind {
    Body,
    Head,
    Error,
}

/// What an authenticated answer said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The handler's JSON (empty for HEAD).
    Body(Vec<u8>),
    /// The server failed the authenticated request with this code (sealed, so it is genuine).
    Failed(Error),
}

impl Answer {
    /// The body, or the sealed failure's code as the error.
    pub fn into_body(self) -> Result<Vec<u8>, Error> {
        match self {
            Answer::Body(b) => Ok(b),
            Answer::Failed(e) => Err(e),
        }
    }
}

fn response_ad(binding: &ResponseBinding, status: u16, kind: Kind) -> Vec<u8> {
    let mut s = String::with_capacity(96);
    let _ = write!(
        s,
        "nen/1 response\n{}\n{}\n{}\n{}",
        binding.sid,
        b64(binding.nonce.as_bytes()),
        status,
        match kind {
            Kind::Body => "body",
            Kind::Head => "head",
            Kind::Error => "error",
        }
    );
    s.into_bytes()
}

impl ServerSession {
    /// Seals a JSON response body for the request `binding` came from, with its HTTP status.
    pub fn seal_response(
        &self,
        binding: &ResponseBinding,
        status: u16,
        json: &[u8],
        rng: &mut impl Rng,
    ) -> Result<String, Error> {
        check_json(json)?;
        let n = Nonce::from_bytes(draw(rng)?);
        let mut ct = json.to_vec();
        let tag = aead_seal(
            &self.0.keys.s2c.0,
            &n,
            &response_ad(binding, status, Kind::Body),
            &mut ct,
        )?;
        Ok(response_envelope(&Sealed { ct, tag }, &n))
    }

    /// Seals a failure of an authenticated request: `{"error":{"code","message"}}` under the
    /// code's status, kind `error`. Returns the status and the `{"ct","n"}` body.
    pub fn seal_error(
        &self,
        binding: &ResponseBinding,
        error: Error,
        rng: &mut impl Rng,
    ) -> Result<(u16, String), Error> {
        let n = Nonce::from_bytes(draw(rng)?);
        let status = error.status();
        let mut ct = error.wire_body().into_bytes();
        let tag = aead_seal(
            &self.0.keys.s2c.0,
            &n,
            &response_ad(binding, status, Kind::Error),
            &mut ct,
        )?;
        Ok((status, response_envelope(&Sealed { ct, tag }, &n)))
    }

    /// The `X-Nen-Response` header value for a HEAD response.
    pub fn seal_head(
        &self,
        binding: &ResponseBinding,
        status: u16,
        rng: &mut impl Rng,
    ) -> Result<String, Error> {
        self.head_value(binding, status, Kind::Head, Vec::new(), rng)
    }

    /// The `X-Nen-Response` header value failing an authenticated HEAD request with `error`;
    /// returns the status to answer with.
    pub fn seal_head_error(
        &self,
        binding: &ResponseBinding,
        error: Error,
        rng: &mut impl Rng,
    ) -> Result<(u16, String), Error> {
        let status = error.status();
        let v = self.head_value(
            binding,
            status,
            Kind::Error,
            error.wire_body().into_bytes(),
            rng,
        )?;
        Ok((status, v))
    }

    fn head_value(
        &self,
        binding: &ResponseBinding,
        status: u16,
        kind: Kind,
        mut plain: Vec<u8>,
        rng: &mut impl Rng,
    ) -> Result<String, Error> {
        let n = Nonce::from_bytes(draw(rng)?);
        let tag = aead_seal(
            &self.0.keys.s2c.0,
            &n,
            &response_ad(binding, status, kind),
            &mut plain,
        )?;
        plain.extend_from_slice(&tag);
        let mut s = b64(n.as_bytes());
        s.push('.');
        s.push_str(&b64(&plain));
        Ok(s)
    }
}

/// A sealed answer ready to send: the status, the `{"ct","n"}` body (empty answering HEAD) and,
/// answering HEAD, the `X-Nen-Response` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedAnswer {
    /// HTTP status.
    pub status: u16,
    /// The body; empty answering HEAD.
    pub body: String,
    /// `X-Nen-Response`, answering HEAD only.
    pub head: Option<String>,
}

impl ServerSession {
    /// Seals the outcome of an authenticated request, the one way every binding answers one: a
    /// result is `(status, JSON)`, a failure its code (kind `error`, under the code's status);
    /// answering HEAD, either goes in `X-Nen-Response` and the body is empty.
    pub fn seal_answer(
        &self,
        binding: &ResponseBinding,
        method: Method,
        outcome: Result<(u16, &[u8]), Error>,
        rng: &mut impl Rng,
    ) -> Result<SealedAnswer, Error> {
        let head = method == Method::Head;
        Ok(match (outcome, head) {
            (Ok((status, json)), false) => SealedAnswer {
                status,
                body: self.seal_response(binding, status, json, rng)?,
                head: None,
            },
            (Ok((status, _)), true) => SealedAnswer {
                status,
                body: String::new(),
                head: Some(self.seal_head(binding, status, rng)?),
            },
            (Err(e), false) => {
                let (status, body) = self.seal_error(binding, e, rng)?;
                SealedAnswer {
                    status,
                    body,
                    head: None,
                }
            }
            (Err(e), true) => {
                let (status, h) = self.seal_head_error(binding, e, rng)?;
                SealedAnswer {
                    status,
                    body: String::new(),
                    head: Some(h),
                }
            }
        })
    }
}

/// The code inside a sealed error plaintext (`wire::parse_error_body`); a code the client does
/// not know is ISO-9000.
fn failed(plain: &[u8]) -> Result<Answer, Error> {
    Ok(Answer::Failed(
        parse_error_body(plain).unwrap_or(Error::Internal),
    ))
}

impl ClientSession {
    /// Opens the response to `request`. A body sealed for this very request and status is
    /// [`Answer::Body`]; under an error status (4xx, 5xx) a sealed Nen failure is
    /// [`Answer::Failed`]. Anything else is [`Error::ResponseUnbound`]: an unencrypted 2xx is
    /// never passed on, and a plain error body is never taken for an authenticated one.
    pub fn open_response(
        &self,
        request: &SignedRequest,
        status: u16,
        body: &[u8],
    ) -> Result<Answer, Error> {
        let (Sealed { ct, tag }, n) =
            parse_response_envelope(body).map_err(|_| Error::ResponseUnbound)?;
        let key = &self.0.keys.s2c.0;
        if status >= 400 {
            let mut plain = ct.clone();
            let ad = response_ad(&request.binding, status, Kind::Error);
            if aead_open(key, &n, &ad, &mut plain, &tag).is_ok() {
                return failed(&plain);
            }
        }
        let mut plain = ct;
        let ad = response_ad(&request.binding, status, Kind::Body);
        aead_open(key, &n, &ad, &mut plain, &tag).map_err(|_| Error::ResponseUnbound)?;
        check_json(&plain)?;
        Ok(Answer::Body(plain))
    }

    /// Checks the `X-Nen-Response` header of a HEAD response: [`Answer::Body`] (empty) for a
    /// result, [`Answer::Failed`] for a sealed failure.
    pub fn open_head(
        &self,
        request: &SignedRequest,
        status: u16,
        header: Option<&str>,
    ) -> Result<Answer, Error> {
        if request.method != Method::Head {
            return Err(Error::ResponseUnbound);
        }
        let (n, sealed) = header
            .and_then(|h| h.trim().split_once('.'))
            .ok_or(Error::ResponseUnbound)?;
        let n = nonce_from_b64(n).map_err(|_| Error::ResponseUnbound)?;
        let mut plain = unb64(sealed).map_err(|_| Error::ResponseUnbound)?;
        if plain.len() < TAG_LEN {
            return Err(Error::ResponseUnbound);
        }
        let tag: Tag = plain
            .split_off(plain.len() - TAG_LEN)
            .try_into()
            .map_err(|_| Error::ResponseUnbound)?;
        let kind = if plain.is_empty() {
            Kind::Head
        } else {
            Kind::Error
        };
        let ad = response_ad(&request.binding, status, kind);
        aead_open(&self.0.keys.s2c.0, &n, &ad, &mut plain, &tag)
            .map_err(|_| Error::ResponseUnbound)?;
        match kind {
            Kind::Error => failed(&plain),
            _ => Ok(Answer::Body(Vec::new())),
        }
    }
}
