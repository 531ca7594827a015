//! The native provider (feature `native-provider`): the same functions as the RustCrypto
//! reference, byte for byte (`differential.rs` holds it to that), from faster code.
//!
//! - ChaCha20-Poly1305 and X25519: AWS-LC through aws-lc-rs (assembly for the host CPU; with
//!   feature `fips`, AWS-LC's FIPS 140-3 module).
//! - HMAC-SHA256, HKDF-SHA256, SHA-256, SHA3-256: the RustCrypto reference (faster here for the
//!   protocol's small inputs, see [`awslc_hash`]); with `fips`, AWS-LC's.
//! - ML-KEM-768: libcrux-ml-kem (formally verified; AVX2 on x86_64 and NEON on aarch64, chosen
//!   at run time, else portable). It, unlike aws-lc-rs, exposes exactly what the protocol needs:
//!   key generation from the 64-byte seed `d ‖ z` and encapsulation with the caller's 32-byte
//!   `m` (FIPS 203 `KeyGen_internal` / `Encaps_internal`), which keep handshakes reproducible
//!   from a seeded [`crate::rng::Rng`] and the published vectors exact. aws-lc-rs generates both
//!   from its own DRBG only (its deterministic entry points are reachable through unsafe FFI
//!   alone, and nen-core forbids unsafe code).
//! - ML-DSA-65: the RustCrypto reference (no faster provider takes the explicit `rnd` of
//!   hedged signing that the vectors need; a server signs once per handshake).
//!
//! Under `fips` only HMAC, HKDF and the SHA-2/SHA-3 digests come from the validated module:
//! ChaCha20-Poly1305 and X25519 are not FIPS-approved algorithms, and ML-KEM here is libcrux with
//! caller randomness, outside the module.
//!
//! Secrets: AWS-LC keeps keys in its own heap objects and cleanses them when they are freed;
//! the libcrux decapsulation key is zeroized on drop here.

use crate::error::Error;
use aws_lc_rs::{aead, agreement};
use libcrux_ml_kem::mlkem768;
use zeroize::Zeroize;

use super::{MLKEM_CT_LEN, MLKEM_DK_LEN, MLKEM_EK_LEN, TAG_LEN};

pub(super) use super::rustcrypto::{mldsa_verify, MlDsaSk};

/// Copies a fixed-size library output into an array. Every caller's output has exactly `N`
/// bytes by its algorithm's definition; written with `zip` so that even a mismatch cannot panic.
fn to_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

fn chacha_key(key: &[u8; 32]) -> Option<aead::LessSafeKey> {
    aead::UnboundKey::new(&aead::CHACHA20_POLY1305, key)
        .ok()
        .map(aead::LessSafeKey::new)
}

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

/// AWS-LC's prepared AEAD context for one key (`EVP_AEAD_CTX`, cleaned up on drop).
pub(super) struct AeadCipher(aead::LessSafeKey);

impl AeadCipher {
    pub(super) fn new(key: &[u8; 32]) -> Result<Self, Error> {
        chacha_key(key).map(Self).ok_or(Error::EncryptionFailed)
    }

    pub(super) fn seal(
        &self,
        nonce: &[u8; 12],
        ad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        let tag = self
            .0
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(ad),
                buf,
            )
            .map_err(|_| Error::EncryptionFailed)?;
        Ok(to_array(tag.as_ref()))
    }

    pub(super) fn open(
        &self,
        nonce: &[u8; 12],
        ad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        self.0
            .open_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(ad),
                tag,
                buf,
            )
            .map(|_| ())
            .map_err(|_| Error::DecryptionFailed)
    }
}

/// HMAC-SHA256, HKDF-SHA256, SHA-256 and SHA3-256 from AWS-LC. Under `fips` these are the
/// provider's (the FIPS module's approved services); otherwise the RustCrypto ones are, because
/// they measured faster here for the protocol's small inputs (HMAC over 100 bytes with a keyed
/// state: 0.15 µs against 0.22 µs, the difference being the call into C and `HMAC_CTX_copy`;
/// SHA-256 runs on SHA-NI in both). Built either way, so the differential test checks them.
#[cfg_attr(not(feature = "fips"), allow(dead_code))]
pub(super) mod awslc_hash {
    use super::to_array;
    use aws_lc_rs::{digest, hkdf, hmac};

    /// A keyed HMAC-SHA256 state (AWS-LC's `HMAC_CTX` with the padded key already absorbed).
    #[derive(Clone)]
    pub(in crate::crypto) struct HmacState(hmac::Key);

    impl HmacState {
        pub(in crate::crypto) fn new(key: &[u8]) -> Self {
            Self(hmac::Key::new(hmac::HMAC_SHA256, key))
        }
        pub(in crate::crypto) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
            let mut ctx = hmac::Context::with_key(&self.0);
            for p in parts {
                ctx.update(p);
            }
            to_array(ctx.sign().as_ref())
        }
    }

    fn digest_parts(alg: &'static digest::Algorithm, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = digest::Context::new(alg);
        for p in parts {
            ctx.update(p);
        }
        to_array(ctx.finish().as_ref())
    }

    pub(in crate::crypto) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
        digest_parts(&digest::SHA256, parts)
    }

    pub(in crate::crypto) fn sha3_256(parts: &[&[u8]]) -> [u8; 32] {
        digest_parts(&digest::SHA3_256, parts)
    }

    /// HKDF-Extract is HMAC(salt, IKM) (RFC 5869 §2.2); aws-lc-rs's `Salt::extract` keeps the PRK
    /// inside an opaque `Prk`, and the door returns it.
    pub(in crate::crypto) fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> [u8; 32] {
        to_array(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), ikm).as_ref())
    }

    struct Len32;

    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }

    pub(in crate::crypto) fn hkdf_expand(prk: &[u8; 32], info: &[&[u8]]) -> [u8; 32] {
        let mut okm = [0u8; 32];
        // A 32-byte PRK and a 32-byte output are always within HKDF's limits.
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk);
        if let Ok(out) = prk.expand(info, Len32) {
            let _ = out.fill(&mut okm);
        }
        okm
    }
}

#[cfg(not(feature = "fips"))]
pub(super) use super::rustcrypto::{hkdf_expand, hkdf_extract, sha256, sha3_256, HmacState};
#[cfg(feature = "fips")]
pub(super) use awslc_hash::{hkdf_expand, hkdf_extract, sha256, sha3_256, HmacState};

/// An ML-KEM-768 decapsulation key: libcrux's expanded private key, zeroized on drop, and the
/// encapsulation key.
pub(super) struct MlKemDk {
    sk: mlkem768::MlKem768PrivateKey,
    ek: mlkem768::MlKem768PublicKey,
}

impl MlKemDk {
    pub(super) fn from_seed(seed: &[u8; 64]) -> Self {
        let (sk, ek) = mlkem768::generate_key_pair(*seed).into_parts();
        Self { sk, ek }
    }
    pub(super) fn ek_bytes(&self) -> [u8; MLKEM_EK_LEN] {
        *self.ek.as_slice()
    }
    pub(super) fn decapsulate(&self, ct: &[u8; MLKEM_CT_LEN]) -> [u8; 32] {
        mlkem768::decapsulate(&self.sk, &mlkem768::MlKem768Ciphertext::from(ct))
    }
    pub(super) fn expanded_bytes(&self) -> [u8; MLKEM_DK_LEN] {
        *self.sk.as_slice()
    }
}

impl Drop for MlKemDk {
    fn drop(&mut self) {
        self.sk[0..].zeroize();
    }
}

/// Encapsulation with the caller's `m`. The door has already run the FIPS 203 §7.2 modulus
/// check on `ek` (libcrux's `encapsulate` expects a checked key).
pub(super) fn mlkem_encapsulate(
    ek: &[u8; MLKEM_EK_LEN],
    m: &[u8; 32],
) -> Result<([u8; MLKEM_CT_LEN], [u8; 32]), Error> {
    let (ct, ss) = mlkem768::encapsulate(&mlkem768::MlKem768PublicKey::from(ek), *m);
    Ok((*ct.as_slice(), ss))
}

fn x25519_key(secret: &[u8; 32]) -> Result<agreement::PrivateKey, Error> {
    agreement::PrivateKey::from_private_key(&agreement::X25519, secret)
        .map_err(|_| Error::HandshakeFailed)
}

pub(super) fn x25519_public(secret: &[u8; 32]) -> Result<[u8; 32], Error> {
    let public = x25519_key(secret)?
        .compute_public_key()
        .map_err(|_| Error::HandshakeFailed)?;
    Ok(to_array(public.as_ref()))
}

/// X25519 (RFC 7748; the scalar is clamped and the peer's top bit ignored, as in the reference).
/// AWS-LC refuses an all-zero result; that is returned as zeros, which the door rejects, exactly
/// as it rejects the reference's all-zero output.
pub(super) fn x25519(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    let Ok(key) = x25519_key(secret) else {
        return [0u8; 32];
    };
    let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, peer);
    agreement::agree(&key, peer, (), |ss| Ok(to_array::<32>(ss))).unwrap_or([0u8; 32])
}
