//! The handshake: one round trip that establishes a session, and the same exchange again,
//! authenticated by the old session, to rotate it.
//!
//! ```text
//! client → server  {"v":1,"mode":"hybrid","ek":B64(ek_c),"x25519":B64(x_c)}
//! server → client  {"v":1,"mode":"hybrid","sid":HEX,"ct":B64(ct),"x25519":B64(x_s),
//!                   "exp":ms,["kid":B64,"sig":B64,]"confirm":B64}
//! ```
//! The transcript hash TH covers every field both sides see; the key schedule is salted with it,
//! the key-confirmation MAC and the optional ML-DSA-65 identity signature are over it.

use crate::crypto::{
    ct_eq, mldsa_verify, mlkem_encapsulate, sha256, x25519_agree, x25519_public, xwing_combine,
    HmacKey, MlDsaSeed, MlDsaSigningKey, MlKemDecapsKey, MlKemSeed, Secret32, X25519Secret,
    MLDSA_SIG_LEN, MLDSA_VK_LEN, MLKEM_CT_LEN, X25519_LEN,
};
use crate::error::Error;
use crate::json::object;
use crate::keys::schedule;
use crate::rng::{draw, Rng};
use crate::session::{ClientSession, ServerSession};
use crate::types::{Mode, SessionId, PROTOCOL_VERSION};
use crate::wire::{b64, put_lp, unb64, unb64_array};
use alloc::borrow::Cow;
use alloc::{string::String, vec::Vec};

/// Context string of the identity signature (FIPS 204 `ctx`).
pub const IDENTITY_CONTEXT: &[u8] = b"nen/1 server identity";
const TRANSCRIPT_LABEL: &[u8] = b"nen/1 transcript";
const CONFIRM_LABEL: &[u8] = b"nen/1 confirm";

/// The inputs of the transcript hash, in their wire order.
struct Transcript<'a> {
    mode: Mode,
    ek_c: &'a [u8],
    x_c: &'a [u8],
    ct: &'a [u8],
    x_s: &'a [u8],
    sid: &'a SessionId,
    exp: u64,
    prev: Option<&'a SessionId>,
    kid: &'a [u8],
}

impl Transcript<'_> {
    fn hash(&self) -> [u8; 32] {
        let mut t = Vec::with_capacity(2600);
        put_lp(&mut t, TRANSCRIPT_LABEL);
        t.push(PROTOCOL_VERSION);
        t.push(self.mode.id());
        put_lp(&mut t, self.ek_c);
        put_lp(&mut t, self.x_c);
        put_lp(&mut t, self.ct);
        put_lp(&mut t, self.x_s);
        put_lp(&mut t, self.sid.as_bytes());
        t.extend_from_slice(&self.exp.to_be_bytes());
        put_lp(&mut t, self.prev.map(|p| &p.as_bytes()[..]).unwrap_or(&[]));
        put_lp(&mut t, self.kid);
        sha256(&[&t])
    }
}

fn confirm_tag(confirm_key: &Secret32, th: &[u8; 32]) -> [u8; 32] {
    HmacKey::new(confirm_key.as_bytes()).mac(&[CONFIRM_LABEL, th])
}

/// The server's long-term ML-DSA-65 identity.
pub struct ServerIdentity {
    sk: MlDsaSigningKey,
    vk: [u8; MLDSA_VK_LEN],
    kid: [u8; 32],
}

impl ServerIdentity {
    /// Rebuilds the identity from its 32-byte secret seed ξ (the only form the secret is kept in).
    pub fn from_seed(seed: &MlDsaSeed) -> Self {
        let sk = MlDsaSigningKey::from_seed(seed);
        let vk = sk.verifying_key();
        let kid = sha256(&[&vk]);
        Self { sk, vk, kid }
    }
    /// A new identity; returns it with its seed, which the operator stores as a secret.
    pub fn generate(rng: &mut impl Rng) -> Result<(Self, MlDsaSeed), Error> {
        let seed = MlDsaSeed::from_bytes(draw(rng)?);
        Ok((Self::from_seed(&seed), seed))
    }
    /// The public key clients pin.
    pub fn public_key(&self) -> &[u8; MLDSA_VK_LEN] {
        &self.vk
    }
    /// SHA-256 of the public key: the `kid` the handshake carries.
    pub fn key_id(&self) -> &[u8; 32] {
        &self.kid
    }
}

impl core::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ServerIdentity(<redacted>)")
    }
}

/// A pinned server identity on the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityPin {
    vk: Vec<u8>,
    kid: [u8; 32],
}

impl IdentityPin {
    /// Pins an encoded ML-DSA-65 public key.
    pub fn new(public_key: &[u8]) -> Result<Self, Error> {
        if public_key.len() != MLDSA_VK_LEN {
            return Err(Error::InvalidConfiguration);
        }
        Ok(Self {
            vk: public_key.to_vec(),
            kid: sha256(&[public_key]),
        })
    }
}

/// The server's handshake policy.
#[derive(Debug)]
pub struct ServerConfig<'a> {
    /// Modes the server accepts.
    pub modes: &'a [Mode],
    /// Session lifetime in milliseconds.
    pub ttl_ms: u64,
    /// Optional identity that signs every transcript.
    pub identity: Option<&'a ServerIdentity>,
}

// Strict shape: an unknown or repeated field is ISO-6001 (serde reports both), so a hop cannot
// add fields an implementation might read and this one ignores.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestJson<'a> {
    v: Option<serde_json::Value>,
    #[serde(borrow)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ek: Option<Cow<'a, str>>,
    #[serde(borrow)]
    x25519: Option<Cow<'a, str>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseJson<'a> {
    v: u8,
    #[serde(borrow)]
    mode: Cow<'a, str>,
    #[serde(borrow)]
    sid: Cow<'a, str>,
    #[serde(borrow)]
    ct: Cow<'a, str>,
    #[serde(borrow, skip_serializing_if = "Option::is_none", default)]
    x25519: Option<Cow<'a, str>>,
    exp: u64,
    #[serde(borrow, skip_serializing_if = "Option::is_none", default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none", default)]
    sig: Option<Cow<'a, str>>,
    #[serde(borrow)]
    confirm: Cow<'a, str>,
}

fn version_of(v: &Option<serde_json::Value>) -> Result<(), Error> {
    match v {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => {
            Ok(())
        }
        _ => Err(Error::VersionMismatch),
    }
}

/// The server side of a handshake (or of a rotation, with `prev` = the authenticated old
/// session). Returns the new session and the JSON body to answer with.
pub fn server_handshake(
    request: &[u8],
    config: &ServerConfig<'_>,
    prev: Option<&SessionId>,
    now_ms: u64,
    rng: &mut impl Rng,
) -> Result<(ServerSession, String), Error> {
    let req: RequestJson<'_> = object(request).ok_or(Error::InvalidEnvelope)?;
    version_of(&req.v)?;
    let mode = Mode::parse(&req.mode.ok_or(Error::UnsupportedMode)?)?;
    if !config.modes.contains(&mode) {
        return Err(Error::UnsupportedMode);
    }
    let ek_c = unb64(&req.ek.ok_or(Error::HandshakeMissingPublicKey)?)?;
    let x_c = match mode {
        // Like `ek`: bad base64 is DecodingFailed, a key of the wrong length HandshakeFailed.
        Mode::Hybrid => {
            let x_c = unb64(&req.x25519.ok_or(Error::HandshakeMissingPublicKey)?)?;
            if x_c.len() != X25519_LEN {
                return Err(Error::HandshakeFailed);
            }
            x_c
        }
        Mode::MlKem768 if req.x25519.is_some() => return Err(Error::InvalidEnvelope),
        Mode::MlKem768 => Vec::new(),
    };

    let m = Secret32::from_bytes(draw(rng)?);
    let (ct, ss_kem) = mlkem_encapsulate(&ek_c, &m)?;
    let (ss, x_s) = match mode {
        Mode::Hybrid => {
            let x_sk = X25519Secret::from_bytes(draw(rng)?);
            let x_s = x25519_public(&x_sk)?;
            let ss_x = x25519_agree(&x_sk, &x_c)?;
            let x_c: &[u8; 32] = x_c
                .as_slice()
                .try_into()
                .map_err(|_| Error::HandshakeFailed)?;
            (xwing_combine(&ss_kem, &ss_x, &x_s, x_c), x_s.to_vec())
        }
        Mode::MlKem768 => (ss_kem, Vec::new()),
    };
    let sid = SessionId::from_bytes(draw(rng)?);
    let exp = now_ms.saturating_add(config.ttl_ms);
    let kid: &[u8] = config.identity.map(|i| &i.kid[..]).unwrap_or(&[]);
    let th = Transcript {
        mode,
        ek_c: &ek_c,
        x_c: &x_c,
        ct: &ct,
        x_s: &x_s,
        sid: &sid,
        exp,
        prev,
        kid,
    }
    .hash();
    let sched = schedule(&ss, &th);
    let confirm = confirm_tag(&sched.confirm, &th);
    let sig = match config.identity {
        Some(id) => Some(b64(&id.sk.sign(
            &th,
            IDENTITY_CONTEXT,
            &Secret32::from_bytes(draw(rng)?),
        )?)),
        None => None,
    };
    let body = serde_json::to_string(&ResponseJson {
        v: PROTOCOL_VERSION,
        mode: mode.as_str().into(),
        sid: sid.to_hex().into(),
        ct: b64(&ct).into(),
        x25519: (mode == Mode::Hybrid).then(|| b64(&x_s).into()),
        exp,
        kid: config.identity.map(|i| b64(&i.kid).into()),
        sig: sig.map(Cow::Owned),
        confirm: b64(&confirm).into(),
    })
    .map_err(|_| Error::Internal)?;
    Ok((ServerSession::new(sid, mode, exp, sched.keys, th), body))
}

/// The client side of a handshake in progress: the ephemeral secrets, kept until the answer.
pub struct ClientHandshake {
    mode: Mode,
    dk: MlKemDecapsKey,
    ek: Vec<u8>,
    x_sk: Option<X25519Secret>,
    x_c: Vec<u8>,
    prev: Option<SessionId>,
}

impl core::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl ClientHandshake {
    /// Generates the ephemeral key pairs for `mode`.
    pub fn start(mode: Mode, rng: &mut impl Rng) -> Result<Self, Error> {
        let dk = MlKemDecapsKey::from_seed(&MlKemSeed::from_bytes(draw(rng)?));
        let ek = dk.encapsulation_key().to_vec();
        let (x_sk, x_c) = match mode {
            Mode::Hybrid => {
                let sk = X25519Secret::from_bytes(draw(rng)?);
                let pk = x25519_public(&sk)?.to_vec();
                (Some(sk), pk)
            }
            Mode::MlKem768 => (None, Vec::new()),
        };
        Ok(Self {
            mode,
            dk,
            ek,
            x_sk,
            x_c,
            prev: None,
        })
    }

    /// Like [`ClientHandshake::start`], for rotating the session `prev`: the new transcript is
    /// bound to the old session id.
    pub fn start_rotation(mode: Mode, prev: SessionId, rng: &mut impl Rng) -> Result<Self, Error> {
        let mut hs = Self::start(mode, rng)?;
        hs.prev = Some(prev);
        Ok(hs)
    }

    /// The key-exchange mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The JSON body to post to `/api/nen/handshake` (or to seal into `/api/nen/rotate`).
    pub fn request_body(&self) -> String {
        let mut s = String::with_capacity(1700);
        s.push_str("{\"v\":1,\"mode\":\"");
        s.push_str(self.mode.as_str());
        s.push_str("\",\"ek\":\"");
        s.push_str(&b64(&self.ek));
        s.push('"');
        if self.mode == Mode::Hybrid {
            s.push_str(",\"x25519\":\"");
            s.push_str(&b64(&self.x_c));
            s.push('"');
        }
        s.push('}');
        s
    }

    /// Checks the server's answer and derives the session. With `pin`, the answer must carry a
    /// valid identity signature by the pinned key over the transcript.
    pub fn finish(
        self,
        response: &[u8],
        pin: Option<&IdentityPin>,
    ) -> Result<ClientSession, Error> {
        #[derive(serde::Deserialize)]
        struct Version {
            v: Option<serde_json::Value>,
        }
        let v: Version = object(response).ok_or(Error::HandshakeBadResponse)?;
        version_of(&v.v)?;
        let r: ResponseJson<'_> = object(response).ok_or(Error::HandshakeBadResponse)?;
        if Mode::parse(&r.mode) != Ok(self.mode) {
            return Err(Error::TranscriptMismatch);
        }
        let bad = |_: Error| Error::HandshakeBadResponse;
        let sid = SessionId::parse(&r.sid).map_err(bad)?;
        let ct = unb64_array::<MLKEM_CT_LEN>(&r.ct).map_err(bad)?;
        let confirm = unb64_array::<32>(&r.confirm).map_err(bad)?;
        let kid = r
            .kid
            .as_deref()
            .map(unb64_array::<32>)
            .transpose()
            .map_err(bad)?;
        let sig = r.sig.as_deref().map(unb64).transpose().map_err(bad)?;
        let x_s = match (self.mode, r.x25519.as_deref()) {
            (Mode::Hybrid, Some(x)) => unb64_array::<X25519_LEN>(x).map_err(bad)?.to_vec(),
            (Mode::Hybrid, None) => return Err(Error::HandshakeBadResponse),
            (Mode::MlKem768, None) => Vec::new(),
            (Mode::MlKem768, Some(_)) => return Err(Error::TranscriptMismatch),
        };

        let th = Transcript {
            mode: self.mode,
            ek_c: &self.ek,
            x_c: &self.x_c,
            ct: &ct,
            x_s: &x_s,
            sid: &sid,
            exp: r.exp,
            prev: self.prev.as_ref(),
            kid: kid.as_ref().map(|k| &k[..]).unwrap_or(&[]),
        }
        .hash();

        if let Some(pin) = pin {
            let (Some(kid), Some(sig)) = (kid, sig.as_ref()) else {
                return Err(Error::IdentityMissing);
            };
            if !ct_eq(&kid, &pin.kid) {
                return Err(Error::IdentityMissing);
            }
            if sig.len() != MLDSA_SIG_LEN || !mldsa_verify(&pin.vk, &th, IDENTITY_CONTEXT, sig) {
                return Err(Error::IdentitySignatureInvalid);
            }
        }

        let ss_kem = self.dk.decapsulate(&ct)?;
        let ss = match &self.x_sk {
            Some(x_sk) => {
                let ss_x = x25519_agree(x_sk, &x_s).map_err(bad)?;
                let x_s: &[u8; 32] = x_s
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::HandshakeBadResponse)?;
                let x_c: &[u8; 32] = self
                    .x_c
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::HandshakeBadResponse)?;
                xwing_combine(&ss_kem, &ss_x, x_s, x_c)
            }
            None => ss_kem,
        };
        let sched = schedule(&ss, &th);
        if !ct_eq(&confirm_tag(&sched.confirm, &th), &confirm) {
            return Err(Error::KeyConfirmationFailed);
        }
        Ok(ClientSession::new(sid, self.mode, r.exp, sched.keys, th))
    }
}
