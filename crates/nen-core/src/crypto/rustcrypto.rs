//! The RustCrypto backend: portable, `no_std`, constant-time, builds for wasm32.

use crate::error::Error;
use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit};
use hmac::{Hmac, Mac};
use ml_kem::{
    kem::{Decapsulate, KeyExport},
    ml_kem_768, EncapsulationKey768,
};
use sha2::{Digest, Sha256};

use super::{MLDSA_SIG_LEN, MLDSA_VK_LEN, MLKEM_CT_LEN, MLKEM_DK_LEN, MLKEM_EK_LEN, TAG_LEN};

pub(super) fn aead_seal(
    key: &[u8; 32],
    nonce: &[u8; 12],
    ad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], Error> {
    AeadCipher::new(key)?.seal(nonce, ad, buf)
}

pub(super) fn aead_open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), Error> {
    AeadCipher::new(key)
        .map_err(|_| Error::DecryptionFailed)?
        .open(nonce, ad, buf, tag)
}

/// The key schedule of ChaCha20-Poly1305 is the key itself here; kept for the provider
/// interface. `ChaCha20Poly1305` zeroizes its key on drop (crate feature `zeroize`).
pub(super) struct AeadCipher(ChaCha20Poly1305);

impl AeadCipher {
    pub(super) fn new(key: &[u8; 32]) -> Result<Self, Error> {
        Ok(Self(ChaCha20Poly1305::new(key.into())))
    }

    pub(super) fn seal(
        &self,
        nonce: &[u8; 12],
        ad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        let tag = self
            .0
            .encrypt_inout_detached(nonce.into(), ad, buf.into())
            .map_err(|_| Error::EncryptionFailed)?;
        Ok(tag.into())
    }

    pub(super) fn open(
        &self,
        nonce: &[u8; 12],
        ad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        self.0
            .decrypt_inout_detached(nonce.into(), ad, buf.into(), tag.into())
            .map_err(|_| Error::DecryptionFailed)
    }
}

#[derive(Clone)]
pub(super) struct HmacState(Hmac<Sha256>);

impl HmacState {
    pub(super) fn new(key: &[u8]) -> Self {
        // HMAC accepts keys of any length; the error arm cannot happen.
        Self(
            Hmac::<Sha256>::new_from_slice(key)
                .unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default())),
        )
    }
    pub(super) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.0.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

pub(super) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

pub(super) fn sha3_256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = sha3::Sha3_256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

pub(super) fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> [u8; 32] {
    let (prk, _) = hkdf::Hkdf::<Sha256>::extract(Some(salt), ikm);
    prk.into()
}

pub(super) fn hkdf_expand(prk: &[u8; 32], info: &[&[u8]]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    // A 32-byte PRK and a 32-byte output are always within HKDF's limits.
    if let Ok(h) = hkdf::Hkdf::<Sha256>::from_prk(prk) {
        let _ = h.expand_multi_info(info, &mut okm);
    }
    okm
}

pub(super) struct MlKemDk(ml_kem_768::DecapsulationKey);

impl MlKemDk {
    pub(super) fn from_seed(seed: &[u8; 64]) -> Self {
        Self(ml_kem_768::DecapsulationKey::from_seed((*seed).into()))
    }
    pub(super) fn ek_bytes(&self) -> [u8; MLKEM_EK_LEN] {
        self.0.encapsulation_key().to_bytes().into()
    }
    pub(super) fn decapsulate(&self, ct: &[u8; MLKEM_CT_LEN]) -> [u8; 32] {
        self.0.decapsulate(&(*ct).into()).into()
    }
    // ml-kem deprecates the expanded form in favour of seeds, as Nen does; exporting it is only
    // used to compare against vectors that list the expanded dk.
    #[allow(deprecated)]
    pub(super) fn expanded_bytes(&self) -> [u8; MLKEM_DK_LEN] {
        use ml_kem::ExpandedKeyEncoding;
        self.0.to_expanded_bytes().into()
    }
}

pub(super) fn mlkem_encapsulate(
    ek: &[u8; MLKEM_EK_LEN],
    m: &[u8; 32],
) -> Result<([u8; MLKEM_CT_LEN], [u8; 32]), Error> {
    let ek = EncapsulationKey768::new(&(*ek).into()).map_err(|_| Error::HandshakeFailed)?;
    let (ct, ss) = ek.encapsulate_deterministic(&(*m).into());
    Ok((ct.into(), ss.into()))
}

pub(super) fn x25519_public(secret: &[u8; 32]) -> Result<[u8; 32], Error> {
    let s = x25519_dalek::StaticSecret::from(*secret);
    Ok(x25519_dalek::PublicKey::from(&s).to_bytes())
}

pub(super) fn x25519(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    let s = x25519_dalek::StaticSecret::from(*secret);
    s.diffie_hellman(&x25519_dalek::PublicKey::from(*peer))
        .to_bytes()
}

pub(super) struct MlDsaSk(ml_dsa::SigningKey<ml_dsa::MlDsa65>);

impl MlDsaSk {
    pub(super) fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ml_dsa::SigningKey::from_seed(&(*seed).into()))
    }
    pub(super) fn vk_bytes(&self) -> [u8; MLDSA_VK_LEN] {
        self.0.expanded_key().verifying_key().encode().into()
    }
    pub(super) fn sign(&self, msg: &[u8], ctx: &[u8], rnd: &[u8; 32]) -> [u8; MLDSA_SIG_LEN] {
        // FIPS 204 Algorithm 2: M' = 0 ‖ |ctx| ‖ ctx ‖ M, then Sign_internal with fresh rnd.
        let prefix = [0u8, ctx.len() as u8];
        self.0
            .expanded_key()
            .sign_internal(&[&prefix, ctx, msg], &(*rnd).into())
            .encode()
            .into()
    }
}

pub(super) fn mldsa_verify(
    vk: &[u8; MLDSA_VK_LEN],
    msg: &[u8],
    ctx: &[u8],
    sig: &[u8; MLDSA_SIG_LEN],
) -> bool {
    let vk = ml_dsa::VerifyingKey::<ml_dsa::MlDsa65>::decode(&(*vk).into());
    match ml_dsa::Signature::<ml_dsa::MlDsa65>::decode(&(*sig).into()) {
        Some(sig) => vk.verify_with_context(msg, ctx, &sig),
        None => false,
    }
}
