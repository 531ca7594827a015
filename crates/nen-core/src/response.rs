//! Responses, bound to their request.
//!
//! ```text
//! ad   = "nen/1 response\n" sid "\n" B64(request nonce) "\n" status "\n" kind
//! body = {"ct": B64(ChaCha20-Poly1305(k_s2c, n, ad, JSON)), "n": B64(n)}      kind = "body"
//! HEAD: header X-Nen-Response = B64(n) "." B64(tag of the empty plaintext)    kind = "head"
//! ```
//! A response sealed for one request does not open for another, nor under another status.

use crate::crypto::{aead_open, aead_seal, Nonce, Tag, TAG_LEN};
use crate::error::Error;
use crate::request::{check_json, ResponseBinding, SignedRequest};
use crate::rng::{draw, Rng};
use crate::session::{ClientSession, ServerSession};
use crate::types::Method;
use crate::wire::{
    b64, nonce_from_b64, parse_response_envelope, response_envelope, unb64_array, Sealed,
};
use alloc::{string::String, vec::Vec};
use core::fmt::Write;

/// `X-Nen-Response`: the authenticated metadata of a HEAD response.
pub const HEADER_RESPONSE: &str = "x-nen-response";

#[derive(Clone, Copy)]
enum Kind {
    Body,
    Head,
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

    /// The `X-Nen-Response` header value for a HEAD response.
    pub fn seal_head(
        &self,
        binding: &ResponseBinding,
        status: u16,
        rng: &mut impl Rng,
    ) -> Result<String, Error> {
        let n = Nonce::from_bytes(draw(rng)?);
        let tag = aead_seal(
            &self.0.keys.s2c.0,
            &n,
            &response_ad(binding, status, Kind::Head),
            &mut [],
        )?;
        let mut s = b64(n.as_bytes());
        s.push('.');
        s.push_str(&b64(&tag));
        Ok(s)
    }
}

impl ClientSession {
    /// Opens the response to `request`. Anything that is not an envelope sealed for this very
    /// request and status is [`Error::ResponseUnbound`]: an unencrypted 2xx is never passed on.
    pub fn open_response(
        &self,
        request: &SignedRequest,
        status: u16,
        body: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let (Sealed { mut ct, tag }, n) =
            parse_response_envelope(body).map_err(|_| Error::ResponseUnbound)?;
        let ad = response_ad(&request.binding, status, Kind::Body);
        aead_open(&self.0.keys.s2c.0, &n, &ad, &mut ct, &tag)
            .map_err(|_| Error::ResponseUnbound)?;
        check_json(&ct)?;
        Ok(ct)
    }

    /// Checks the `X-Nen-Response` header of a HEAD response.
    pub fn open_head(
        &self,
        request: &SignedRequest,
        status: u16,
        header: Option<&str>,
    ) -> Result<(), Error> {
        if request.method != Method::Head {
            return Err(Error::ResponseUnbound);
        }
        let (n, tag) = header
            .and_then(|h| h.trim().split_once('.'))
            .ok_or(Error::ResponseUnbound)?;
        let n = nonce_from_b64(n).map_err(|_| Error::ResponseUnbound)?;
        let tag: Tag = unb64_array::<TAG_LEN>(tag).map_err(|_| Error::ResponseUnbound)?;
        let ad = response_ad(&request.binding, status, Kind::Head);
        aead_open(&self.0.keys.s2c.0, &n, &ad, &mut [], &tag).map_err(|_| Error::ResponseUnbound)
    }
}
