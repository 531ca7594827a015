//! Established sessions, one type per side, and their wrapped form for session stores.
//!
//! A server session is only ever persisted wrapped: `wrap` seals its keys under a server-held
//! wrapping key with the session id as associated data, so a store dump yields nothing usable
//! and an entry cannot be moved to another session id.

use crate::crypto::{aead_open, aead_seal, AeadKey, Nonce, Tag, NONCE_LEN, TAG_LEN};
use crate::error::Error;
use crate::keys::{SessionKeys, EXPORTED_KEYS_LEN};
use crate::rng::{draw, Rng};
use crate::types::{Mode, SessionId};
use alloc::vec::Vec;
use zeroize::Zeroizing;

/// The state both sides share after a handshake.
#[derive(Debug)]
pub(crate) struct SessionState {
    pub sid: SessionId,
    pub mode: Mode,
    pub expires_at: u64,
    pub keys: SessionKeys,
    pub transcript_hash: [u8; 32],
}

macro_rules! session_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub(crate) SessionState);

        impl $name {
            pub(crate) fn new(
                sid: SessionId,
                mode: Mode,
                expires_at: u64,
                keys: SessionKeys,
                transcript_hash: [u8; 32],
            ) -> Self {
                Self(SessionState { sid, mode, expires_at, keys, transcript_hash })
            }
            /// The handshake transcript hash TH (public: both sides and any observer of the
            /// handshake can compute it).
            pub fn transcript_hash(&self) -> &[u8; 32] {
                &self.0.transcript_hash
            }
            /// The session keys, for the published test vectors only (feature `vectors`).
            #[cfg(feature = "vectors")]
            #[doc(hidden)]
            pub fn export_keys_for_vectors(&self) -> zeroize::Zeroizing<[u8; crate::keys::EXPORTED_KEYS_LEN]> {
                self.0.keys.export()
            }
            /// The session id.
            pub fn sid(&self) -> &SessionId {
                &self.0.sid
            }
            /// The key-exchange mode it was made with.
            pub fn mode(&self) -> Mode {
                self.0.mode
            }
            /// Expiry, Unix milliseconds.
            pub fn expires_at(&self) -> u64 {
                self.0.expires_at
            }
            /// Whether the session has expired at `now_ms`.
            pub fn is_expired(&self, now_ms: u64) -> bool {
                now_ms >= self.0.expires_at
            }
        }
    };
}

session_type!(
    /// The server's half of a session: verifies requests, seals responses and streams.
    ServerSession
);
session_type!(
    /// The client's half of a session: signs requests, opens responses and streams.
    ClientSession
);

impl ServerSession {
    /// Shortens the lifetime (rotation grace period); never extends it.
    pub fn expire_by(&mut self, at_ms: u64) {
        self.0.expires_at = self.0.expires_at.min(at_ms);
    }
}

const WRAP_VERSION: u8 = 1;
const WRAP_AD_LABEL: &[u8] = b"nen/1 wrap";
const WRAPPED_PLAIN_LEN: usize = 1 + 8 + 32 + EXPORTED_KEYS_LEN;
/// Length of a wrapped session entry.
pub const WRAPPED_LEN: usize = 1 + NONCE_LEN + WRAPPED_PLAIN_LEN + TAG_LEN;

/// Seals a server session for a store:
/// `0x01 ‖ nonce(12) ‖ AEAD(wrapping_key, nonce, ad = "nen/1 wrap" ‖ sid, mode ‖ u64 exp ‖ TH ‖ keys) ‖ tag`.
pub fn wrap(
    wrapping_key: &AeadKey,
    session: &ServerSession,
    rng: &mut impl Rng,
) -> Result<Vec<u8>, Error> {
    let s = &session.0;
    let nonce = Nonce::from_bytes(draw(rng)?);
    let mut plain = Zeroizing::new([0u8; WRAPPED_PLAIN_LEN]);
    plain[0] = s.mode.id();
    plain[1..9].copy_from_slice(&s.expires_at.to_be_bytes());
    plain[9..41].copy_from_slice(&s.transcript_hash);
    plain[41..].copy_from_slice(&*s.keys.export());
    let tag = aead_seal(wrapping_key, &nonce, &wrap_ad(&s.sid), &mut plain[..])?;
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.push(WRAP_VERSION);
    out.extend_from_slice(nonce.as_bytes());
    out.extend_from_slice(&plain[..]);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Opens a wrapped entry for `sid`. A wrong key, a wrong sid or any corruption is
/// [`Error::StoreCorrupt`].
pub fn unwrap(
    wrapping_key: &AeadKey,
    sid: &SessionId,
    entry: &[u8],
) -> Result<ServerSession, Error> {
    if entry.len() != WRAPPED_LEN || entry[0] != WRAP_VERSION {
        return Err(Error::StoreCorrupt);
    }
    let nonce = Nonce::try_from(&entry[1..1 + NONCE_LEN])?;
    let body = &entry[1 + NONCE_LEN..];
    let mut plain = Zeroizing::new([0u8; WRAPPED_PLAIN_LEN]);
    plain.copy_from_slice(&body[..WRAPPED_PLAIN_LEN]);
    let tag: Tag = body[WRAPPED_PLAIN_LEN..]
        .try_into()
        .map_err(|_| Error::StoreCorrupt)?;
    aead_open(wrapping_key, &nonce, &wrap_ad(sid), &mut plain[..], &tag)
        .map_err(|_| Error::StoreCorrupt)?;
    let mode = match plain[0] {
        1 => Mode::Hybrid,
        2 => Mode::MlKem768,
        _ => return Err(Error::StoreCorrupt),
    };
    let mut exp = [0u8; 8];
    exp.copy_from_slice(&plain[1..9]);
    let mut th = [0u8; 32];
    th.copy_from_slice(&plain[9..41]);
    let keys = SessionKeys::import(&plain[41..])?;
    Ok(ServerSession::new(
        *sid,
        mode,
        u64::from_be_bytes(exp),
        keys,
        th,
    ))
}

fn wrap_ad(sid: &SessionId) -> Vec<u8> {
    let mut ad = Vec::with_capacity(WRAP_AD_LABEL.len() + 16);
    ad.extend_from_slice(WRAP_AD_LABEL);
    ad.extend_from_slice(sid.as_bytes());
    ad
}
