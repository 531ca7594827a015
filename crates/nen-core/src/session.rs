//! Established sessions, one type per side, and their wrapped form for session stores.
//!
//! A server session is only ever persisted wrapped: `wrap` seals its keys under a server-held
//! wrapping key with the session id as associated data, so a store dump yields nothing usable
//! and an entry cannot be moved to another session id.

use crate::crypto::{aead_open, aead_seal, ct_eq, AeadKey, Nonce, Tag, NONCE_LEN, TAG_LEN};
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

const WRAP_VERSION: u8 = 2;
const WRAP_AD_LABEL: &[u8] = b"nen/1 wrap";
const WRAP_ID_LABEL: &[u8] = b"nen/1 wrap id";
const WRAPPED_PLAIN_LEN: usize = 1 + 8 + 32 + EXPORTED_KEYS_LEN;
/// Length of a wrapping key's id.
pub const WRAP_KEY_ID_LEN: usize = 8;
/// Length of a wrapped session entry.
pub const WRAPPED_LEN: usize = 1 + WRAP_KEY_ID_LEN + NONCE_LEN + WRAPPED_PLAIN_LEN + TAG_LEN;

/// A wrapping key and its id, `SHA-256("nen/1 wrap id" ‖ K_w)[..8]`: entries name the key that
/// wrapped them, so several keys can be held during a rotation; the id reveals nothing of the key.
pub struct WrappingKey {
    key: AeadKey,
    id: [u8; WRAP_KEY_ID_LEN],
}

impl WrappingKey {
    /// Wraps a 32-byte key.
    pub fn new(key: AeadKey) -> Self {
        let digest = crate::crypto::sha256(&[WRAP_ID_LABEL, key.as_bytes()]);
        let mut id = [0u8; WRAP_KEY_ID_LEN];
        id.copy_from_slice(&digest[..WRAP_KEY_ID_LEN]);
        Self { key, id }
    }

    /// The key's id.
    pub fn id(&self) -> &[u8; WRAP_KEY_ID_LEN] {
        &self.id
    }
}

/// The wrapping keys a server holds: the first wraps new entries, every one opens entries it
/// wrapped. Rotation: add the new key first, deploy everywhere, then drop the old one.
pub struct WrappingKeys(Vec<WrappingKey>);

/// Why an entry did not unwrap (all of them are [`Error::StoreCorrupt`] on the wire). Holds no
/// key material: ids only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnwrapFailure {
    /// The entry is not a wrapped session of this format.
    Malformed,
    /// No configured key has the entry's key id (a key was dropped, or another deployment).
    UnknownKey([u8; WRAP_KEY_ID_LEN]),
    /// The key with that id does not open it (corrupted, or moved to another session id).
    DoesNotOpen([u8; WRAP_KEY_ID_LEN]),
}

impl From<UnwrapFailure> for Error {
    fn from(_: UnwrapFailure) -> Error {
        Error::StoreCorrupt
    }
}

impl WrappingKeys {
    /// At least one key, no two with the same id; anything else is [`Error::InvalidConfiguration`].
    pub fn new(keys: Vec<AeadKey>) -> Result<Self, Error> {
        let keys: Vec<WrappingKey> = keys.into_iter().map(WrappingKey::new).collect();
        if keys.is_empty() {
            return Err(Error::InvalidConfiguration);
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| ct_eq(&o.id, &k.id)) {
                return Err(Error::InvalidConfiguration);
            }
        }
        Ok(Self(keys))
    }

    /// The id new entries are wrapped under.
    pub fn current_id(&self) -> &[u8; WRAP_KEY_ID_LEN] {
        &self.0[0].id
    }

    /// Seals a server session for a store under the first key:
    /// `0x02 ‖ kid(8) ‖ nonce(12) ‖ AEAD(K, nonce, ad = "nen/1 wrap" ‖ kid ‖ sid,
    /// mode ‖ u64 exp ‖ TH ‖ keys) ‖ tag`.
    pub fn wrap(&self, session: &ServerSession, rng: &mut impl Rng) -> Result<Vec<u8>, Error> {
        let k = &self.0[0];
        let s = &session.0;
        let nonce = Nonce::from_bytes(draw(rng)?);
        let mut plain = Zeroizing::new([0u8; WRAPPED_PLAIN_LEN]);
        plain[0] = s.mode.id();
        plain[1..9].copy_from_slice(&s.expires_at.to_be_bytes());
        plain[9..41].copy_from_slice(&s.transcript_hash);
        plain[41..].copy_from_slice(&*s.keys.export());
        let tag = aead_seal(&k.key, &nonce, &wrap_ad(&k.id, &s.sid), &mut plain[..])?;
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.push(WRAP_VERSION);
        out.extend_from_slice(&k.id);
        out.extend_from_slice(nonce.as_bytes());
        out.extend_from_slice(&plain[..]);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens a wrapped entry for `sid` with the key its id names.
    pub fn unwrap(&self, sid: &SessionId, entry: &[u8]) -> Result<ServerSession, UnwrapFailure> {
        if entry.len() != WRAPPED_LEN || entry[0] != WRAP_VERSION {
            return Err(UnwrapFailure::Malformed);
        }
        let mut id = [0u8; WRAP_KEY_ID_LEN];
        id.copy_from_slice(&entry[1..1 + WRAP_KEY_ID_LEN]);
        let k = self
            .0
            .iter()
            .find(|k| ct_eq(&k.id, &id))
            .ok_or(UnwrapFailure::UnknownKey(id))?;
        let at = 1 + WRAP_KEY_ID_LEN;
        let nonce =
            Nonce::try_from(&entry[at..at + NONCE_LEN]).map_err(|_| UnwrapFailure::Malformed)?;
        let body = &entry[at + NONCE_LEN..];
        let mut plain = Zeroizing::new([0u8; WRAPPED_PLAIN_LEN]);
        plain.copy_from_slice(&body[..WRAPPED_PLAIN_LEN]);
        let tag: Tag = body[WRAPPED_PLAIN_LEN..]
            .try_into()
            .map_err(|_| UnwrapFailure::Malformed)?;
        aead_open(&k.key, &nonce, &wrap_ad(&id, sid), &mut plain[..], &tag)
            .map_err(|_| UnwrapFailure::DoesNotOpen(id))?;
        let mode = match plain[0] {
            1 => Mode::Hybrid,
            2 => Mode::MlKem768,
            _ => return Err(UnwrapFailure::DoesNotOpen(id)),
        };
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&plain[1..9]);
        let mut th = [0u8; 32];
        th.copy_from_slice(&plain[9..41]);
        let keys = SessionKeys::import(&plain[41..]).map_err(|_| UnwrapFailure::DoesNotOpen(id))?;
        Ok(ServerSession::new(
            *sid,
            mode,
            u64::from_be_bytes(exp),
            keys,
            th,
        ))
    }
}

/// [`WrappingKeys::wrap`] with one key.
pub fn wrap(
    wrapping_key: &AeadKey,
    session: &ServerSession,
    rng: &mut impl Rng,
) -> Result<Vec<u8>, Error> {
    WrappingKeys::new(alloc::vec![wrapping_key.clone()])?.wrap(session, rng)
}

/// [`WrappingKeys::unwrap`] with one key. A wrong key, a wrong sid or any corruption is
/// [`Error::StoreCorrupt`].
pub fn unwrap(
    wrapping_key: &AeadKey,
    sid: &SessionId,
    entry: &[u8],
) -> Result<ServerSession, Error> {
    Ok(WrappingKeys::new(alloc::vec![wrapping_key.clone()])?.unwrap(sid, entry)?)
}

fn wrap_ad(id: &[u8; WRAP_KEY_ID_LEN], sid: &SessionId) -> Vec<u8> {
    let mut ad = Vec::with_capacity(WRAP_AD_LABEL.len() + WRAP_KEY_ID_LEN + 16);
    ad.extend_from_slice(WRAP_AD_LABEL);
    ad.extend_from_slice(id);
    ad.extend_from_slice(sid.as_bytes());
    ad
}
