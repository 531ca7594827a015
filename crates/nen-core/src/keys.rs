//! The key schedule and the session keys, one type per direction and purpose.
//!
//! ```text
//! PRK       = HKDF-Extract(salt = TH, IKM = ss)
//! k_c2s     = HKDF-Expand(PRK, "nen/1 key c2s", 32)      client→server body AEAD
//! k_s2c     = HKDF-Expand(PRK, "nen/1 key s2c", 32)      server→client response AEAD
//! k_mac     = HKDF-Expand(PRK, "nen/1 key mac", 32)      request HMAC
//! k_stream  = HKDF-Expand(PRK, "nen/1 key stream", 32)   per-stream key derivation
//! k_confirm = HKDF-Expand(PRK, "nen/1 key confirm", 32)  handshake key confirmation
//! ```
//! A key for one purpose cannot be passed where another is expected: each is its own type.

use crate::crypto::{hkdf_expand, hkdf_extract, AeadKey, HmacKey, Secret32};
use crate::error::Error;
use zeroize::Zeroizing;

/// Client-to-server AEAD key (request bodies).
#[derive(Debug)]
pub struct C2sKey(pub(crate) AeadKey);
/// Server-to-client AEAD key (responses).
#[derive(Debug)]
pub struct S2cKey(pub(crate) AeadKey);
/// Request-signature HMAC key, kept as a keyed HMAC state.
#[derive(Clone, Debug)]
pub struct MacKey(pub(crate) HmacKey);
/// Stream key: the PRK from which each stream's own key is expanded.
#[derive(Debug)]
pub struct StreamKey(pub(crate) Secret32);

/// The four session keys. Zeroized on drop (every field is).
#[derive(Debug)]
pub struct SessionKeys {
    pub(crate) c2s: C2sKey,
    pub(crate) s2c: S2cKey,
    pub(crate) mac: MacKey,
    pub(crate) stream: StreamKey,
    /// Kept raw so the session can be exported; the HMAC state above is derived from it.
    mac_raw: Secret32,
}

/// Length of [`SessionKeys::export`].
pub const EXPORTED_KEYS_LEN: usize = 128;

impl SessionKeys {
    fn from_parts(c2s: Secret32, s2c: Secret32, mac: Secret32, stream: Secret32) -> Self {
        Self {
            c2s: C2sKey(AeadKey::from_bytes(*c2s.as_bytes())),
            s2c: S2cKey(AeadKey::from_bytes(*s2c.as_bytes())),
            mac: MacKey(HmacKey::new(mac.as_bytes())),
            stream: StreamKey(stream),
            mac_raw: mac,
        }
    }

    /// Exports `k_c2s ‖ k_s2c ‖ k_mac ‖ k_stream` for a session store, which must encrypt it
    /// (see `session::wrap`). The buffer is zeroized when dropped.
    pub fn export(&self) -> Zeroizing<[u8; EXPORTED_KEYS_LEN]> {
        let mut out = Zeroizing::new([0u8; EXPORTED_KEYS_LEN]);
        out[..32].copy_from_slice(self.c2s.0.as_bytes());
        out[32..64].copy_from_slice(self.s2c.0.as_bytes());
        out[64..96].copy_from_slice(self.mac_raw.as_bytes());
        out[96..].copy_from_slice(self.stream.0.as_bytes());
        out
    }

    /// Inverse of [`SessionKeys::export`].
    pub fn import(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != EXPORTED_KEYS_LEN {
            return Err(Error::StoreCorrupt);
        }
        let part = |i: usize| Secret32::try_from(&bytes[i * 32..(i + 1) * 32]);
        Ok(Self::from_parts(part(0)?, part(1)?, part(2)?, part(3)?))
    }
}

/// Everything the handshake derives: the session keys and the key-confirmation key.
pub(crate) struct Schedule {
    pub keys: SessionKeys,
    pub confirm: Secret32,
}

/// Runs the key schedule over the combined shared secret and the transcript hash.
pub(crate) fn schedule(ss: &Secret32, transcript_hash: &[u8; 32]) -> Schedule {
    let prk = hkdf_extract(transcript_hash, ss.as_bytes());
    let expand = |label: &[u8]| hkdf_expand(&prk, &[label]);
    Schedule {
        keys: SessionKeys::from_parts(
            expand(b"nen/1 key c2s"),
            expand(b"nen/1 key s2c"),
            expand(b"nen/1 key mac"),
            expand(b"nen/1 key stream"),
        ),
        confirm: expand(b"nen/1 key confirm"),
    }
}
