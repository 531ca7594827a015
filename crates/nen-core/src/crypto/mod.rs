//! The one door to cryptographic primitives.
//!
//! Protocol code never names a crypto crate: it calls the functions below, which take and return
//! fixed-size types. Behind them sits one provider, chosen at build time, one module each:
//!
//! - `rustcrypto.rs`: the reference, portable and `no_std`; the WASM build's provider and the
//!   default.
//! - `native.rs` (feature `native-provider`, which the addon enables): AWS-LC and libcrux-ml-kem,
//!   with ML-DSA-65 from the reference. `differential.rs` requires both to give the same bytes.
//!
//! Every function here is total: malformed input is an [`Error`], never a panic.

// With the native provider the reference still builds: the differential test compares against
// it, and the native provider takes ML-DSA-65 from it.
#[cfg_attr(feature = "native-provider", allow(dead_code))]
mod rustcrypto;

#[cfg(feature = "native-provider")]
mod native;

#[cfg(all(test, feature = "native-provider"))]
mod differential;

use crate::error::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

#[cfg(feature = "native-provider")]
use native as backend;
#[cfg(not(feature = "native-provider"))]
use rustcrypto as backend;

/// The provider this build of nen-core uses: `"rustcrypto"`, `"native"`, or `"native-fips"`
/// (the native provider on AWS-LC's FIPS module).
pub const PROVIDER: &str = if cfg!(feature = "fips") {
    "native-fips"
} else if cfg!(feature = "native-provider") {
    "native"
} else {
    "rustcrypto"
};

/// ChaCha20-Poly1305 key length.
pub const AEAD_KEY_LEN: usize = 32;
/// ChaCha20-Poly1305 nonce length (96 bits; the only size the protocol accepts).
pub const NONCE_LEN: usize = 12;
/// ChaCha20-Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// HMAC-SHA256 output length.
pub const MAC_LEN: usize = 32;
/// SHA-256 output length.
pub const HASH_LEN: usize = 32;
/// ML-KEM-768 encapsulation key length.
pub const MLKEM_EK_LEN: usize = 1184;
/// ML-KEM-768 ciphertext length.
pub const MLKEM_CT_LEN: usize = 1088;
/// ML-KEM-768 decapsulation key seed length (d ‖ z).
pub const MLKEM_SEED_LEN: usize = 64;
/// ML-KEM-768 expanded decapsulation key length (FIPS 203 encoding; Nen stores seeds instead).
pub const MLKEM_DK_LEN: usize = 2400;
/// X25519 public key and scalar length.
pub const X25519_LEN: usize = 32;
/// ML-DSA-65 verifying key length.
pub const MLDSA_VK_LEN: usize = 1952;
/// ML-DSA-65 signature length.
pub const MLDSA_SIG_LEN: usize = 3309;
/// ML-DSA-65 key-generation seed length (ξ).
pub const MLDSA_SEED_LEN: usize = 32;

macro_rules! secret_bytes {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Wraps raw bytes. The caller hands over ownership of the secret.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
            /// Borrows the secret bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = Error;
            fn try_from(bytes: &[u8]) -> Result<Self, Error> {
                let arr: [u8; $len] = bytes.try_into().map_err(|_| Error::DecodingFailed)?;
                Ok(Self(arr))
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_bytes!(
    /// A ChaCha20-Poly1305 key.
    AeadKey,
    AEAD_KEY_LEN
);
secret_bytes!(
    /// A 32-byte secret (shared secrets, pseudorandom keys, MAC keys).
    Secret32,
    32
);
secret_bytes!(
    /// An ML-KEM-768 decapsulation key seed `d ‖ z` (FIPS 203 §7.1).
    MlKemSeed,
    MLKEM_SEED_LEN
);
secret_bytes!(
    /// An X25519 scalar.
    X25519Secret,
    X25519_LEN
);
secret_bytes!(
    /// An ML-DSA-65 key-generation seed ξ (FIPS 204 §6.1).
    MlDsaSeed,
    MLDSA_SEED_LEN
);

/// A 96-bit AEAD nonce. Not secret, but never a bare `Vec<u8>`: its size is its type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// Wraps 12 bytes.
    pub const fn from_bytes(bytes: [u8; NONCE_LEN]) -> Self {
        Self(bytes)
    }
    /// The nonce bytes.
    pub const fn as_bytes(&self) -> &[u8; NONCE_LEN] {
        &self.0
    }
    /// `self XOR index`, with the index big-endian in the last eight bytes (stream chunks).
    pub fn xor_index(&self, index: u64) -> Self {
        let mut out = self.0;
        for (o, i) in out[4..].iter_mut().zip(index.to_be_bytes()) {
            *o ^= i;
        }
        Self(out)
    }
}

impl TryFrom<&[u8]> for Nonce {
    type Error = Error;
    fn try_from(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Self(bytes.try_into().map_err(|_| Error::DecodingFailed)?))
    }
}

impl core::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Nonce(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// A Poly1305 tag.
pub type Tag = [u8; TAG_LEN];

/// Encrypts `buf` in place and returns the tag.
pub fn aead_seal(key: &AeadKey, nonce: &Nonce, ad: &[u8], buf: &mut [u8]) -> Result<Tag, Error> {
    backend::aead_seal(key.as_bytes(), nonce.as_bytes(), ad, buf)
}

/// Checks `tag` and decrypts `buf` in place. On failure `buf` is zeroed, so no unauthenticated
/// plaintext is ever left behind.
pub fn aead_open(
    key: &AeadKey,
    nonce: &Nonce,
    ad: &[u8],
    buf: &mut [u8],
    tag: &Tag,
) -> Result<(), Error> {
    let r = backend::aead_open(key.as_bytes(), nonce.as_bytes(), ad, buf, tag);
    if r.is_err() {
        buf.zeroize();
    }
    r
}

/// A ChaCha20-Poly1305 key with the provider's key setup done once, for the many messages of
/// one stream: AWS-LC builds an `EVP_AEAD_CTX` per key, which per 16-byte chunk cost more than
/// the encryption itself. Single messages (request and response bodies) use [`aead_seal`].
pub struct AeadCipher(backend::AeadCipher);

impl AeadCipher {
    /// Prepares `key`.
    pub fn new(key: &AeadKey) -> Result<Self, Error> {
        backend::AeadCipher::new(key.as_bytes()).map(Self)
    }
    /// Encrypts `buf` in place and returns the tag.
    pub fn seal(&self, nonce: &Nonce, ad: &[u8], buf: &mut [u8]) -> Result<Tag, Error> {
        self.0.seal(nonce.as_bytes(), ad, buf)
    }
    /// Checks `tag` and decrypts `buf` in place; on failure `buf` is zeroed.
    pub fn open(&self, nonce: &Nonce, ad: &[u8], buf: &mut [u8], tag: &Tag) -> Result<(), Error> {
        let r = self.0.open(nonce.as_bytes(), ad, buf, tag);
        if r.is_err() {
            buf.zeroize();
        }
        r
    }
}

impl core::fmt::Debug for AeadCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AeadCipher(<redacted>)")
    }
}

/// A keyed HMAC-SHA256 state. Keying once and cloning per message is what makes request
/// signing cost well under a microsecond.
#[derive(Clone)]
pub struct HmacKey(backend::HmacState);

impl HmacKey {
    /// Keys HMAC-SHA256 with any key length (RFC 2104).
    pub fn new(key: &[u8]) -> Self {
        Self(backend::HmacState::new(key))
    }
    /// HMAC over the concatenation of `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; MAC_LEN] {
        self.0.mac(parts)
    }
    /// Constant-time check of a full or truncated (at least 16 bytes) tag.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        if tag.len() < 16 || tag.len() > MAC_LEN {
            return false;
        }
        let full = self.mac(parts);
        ct_eq(&full[..tag.len()], tag)
    }
}

impl core::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HmacKey(<redacted>)")
    }
}

/// SHA-256 over the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; HASH_LEN] {
    backend::sha256(parts)
}

/// HKDF-Extract (RFC 5869) with SHA-256.
pub fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> Secret32 {
    Secret32::from_bytes(backend::hkdf_extract(salt, ikm))
}

/// HKDF-Expand (RFC 5869) with SHA-256, to exactly 32 bytes.
pub fn hkdf_expand(prk: &Secret32, info: &[&[u8]]) -> Secret32 {
    Secret32::from_bytes(backend::hkdf_expand(prk.as_bytes(), info))
}

/// The X-Wing combiner (draft-connolly-cfrg-xwing-kem §5.3): SHA3-256 over the ML-KEM shared
/// secret, the X25519 shared secret, the X25519 ciphertext (sender's public key), the X25519
/// recipient public key and the X-Wing label.
pub fn xwing_combine(
    ss_kem: &Secret32,
    ss_x: &Secret32,
    x_ct: &[u8; X25519_LEN],
    x_pk: &[u8; X25519_LEN],
) -> Secret32 {
    const XWING_LABEL: &[u8] = b"\\.//^\\";
    Secret32::from_bytes(backend::sha3_256(&[
        ss_kem.as_bytes(),
        ss_x.as_bytes(),
        x_ct,
        x_pk,
        XWING_LABEL,
    ]))
}

/// An ML-KEM-768 decapsulation key (held by whoever started the handshake).
pub struct MlKemDecapsKey(backend::MlKemDk);

impl MlKemDecapsKey {
    /// Deterministic key generation from the 64-byte seed `d ‖ z` (FIPS 203 ML-KEM.KeyGen_internal).
    pub fn from_seed(seed: &MlKemSeed) -> Self {
        Self(backend::MlKemDk::from_seed(seed.as_bytes()))
    }
    /// The encapsulation key to send to the peer.
    pub fn encapsulation_key(&self) -> [u8; MLKEM_EK_LEN] {
        self.0.ek_bytes()
    }
    /// Decapsulates. Only the length is checked here: a wrong ciphertext of the right length
    /// yields the implicit-rejection secret (FIPS 203), which then fails key confirmation.
    pub fn decapsulate(&self, ct: &[u8]) -> Result<Secret32, Error> {
        let ct: &[u8; MLKEM_CT_LEN] = ct.try_into().map_err(|_| Error::HandshakeBadResponse)?;
        Ok(Secret32::from_bytes(self.0.decapsulate(ct)))
    }
    /// The FIPS 203 expanded encoding `dk_PKE ‖ ek ‖ H(ek) ‖ z` of this key. Secret. Nen never
    /// stores or accepts this form (only seeds); it exists so that published vectors, which list
    /// `dk` expanded, can be checked byte for byte.
    pub fn expanded_bytes(&self) -> [u8; MLKEM_DK_LEN] {
        self.0.expanded_bytes()
    }
}

impl core::fmt::Debug for MlKemDecapsKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MlKemDecapsKey(<redacted>)")
    }
}

/// FIPS 203 §7.2 encapsulation-key check: right length, and every 12-bit coefficient of the
/// encoded vector is below q = 3329 (ByteEncode12 ∘ ByteDecode12 is the identity).
pub fn mlkem_check_ek(ek: &[u8]) -> Result<&[u8; MLKEM_EK_LEN], Error> {
    let ek: &[u8; MLKEM_EK_LEN] = ek.try_into().map_err(|_| Error::HandshakeFailed)?;
    const Q: u16 = 3329;
    let mut bad = 0u16;
    for c in ek[..MLKEM_EK_LEN - 32].chunks_exact(3) {
        let a = u16::from(c[0]) | (u16::from(c[1] & 0x0f) << 8);
        let b = u16::from(c[1] >> 4) | (u16::from(c[2]) << 4);
        // Branch-free: the key is public, but there is no reason to leak which coefficient failed.
        bad |= (a >= Q) as u16 | (b >= Q) as u16;
    }
    if bad != 0 {
        return Err(Error::HandshakeFailed);
    }
    Ok(ek)
}

/// ML-KEM-768 encapsulation with explicit randomness `m` (FIPS 203 ML-KEM.Encaps_internal).
/// Rejects encapsulation keys that fail the modulus check.
pub fn mlkem_encapsulate(ek: &[u8], m: &Secret32) -> Result<([u8; MLKEM_CT_LEN], Secret32), Error> {
    let ek = mlkem_check_ek(ek)?;
    let (ct, ss) = backend::mlkem_encapsulate(ek, m.as_bytes())?;
    Ok((ct, Secret32::from_bytes(ss)))
}

/// X25519 public key for a scalar (fails only if the provider does).
pub fn x25519_public(secret: &X25519Secret) -> Result<[u8; X25519_LEN], Error> {
    backend::x25519_public(secret.as_bytes())
}

/// X25519 Diffie-Hellman. An all-zero result (a small-order peer key) is rejected, as RFC 7748
/// §6.1 allows and the protocol requires.
pub fn x25519_agree(secret: &X25519Secret, peer: &[u8]) -> Result<Secret32, Error> {
    let peer: &[u8; X25519_LEN] = peer.try_into().map_err(|_| Error::HandshakeFailed)?;
    let ss = Secret32::from_bytes(backend::x25519(secret.as_bytes(), peer));
    if ct_eq(ss.as_bytes(), &[0u8; 32]) {
        return Err(Error::HandshakeFailed);
    }
    Ok(ss)
}

/// An ML-DSA-65 signing key (the server's long-term identity).
pub struct MlDsaSigningKey(backend::MlDsaSk);

impl MlDsaSigningKey {
    /// Deterministic key generation from ξ (FIPS 204 ML-DSA.KeyGen_internal).
    pub fn from_seed(seed: &MlDsaSeed) -> Self {
        Self(backend::MlDsaSk::from_seed(seed.as_bytes()))
    }
    /// The encoded verifying key (what clients pin).
    pub fn verifying_key(&self) -> [u8; MLDSA_VK_LEN] {
        self.0.vk_bytes()
    }
    /// Hedged ML-DSA.Sign (FIPS 204 Algorithm 2) with context string `ctx` and fresh `rnd`.
    pub fn sign(
        &self,
        msg: &[u8],
        ctx: &[u8],
        rnd: &Secret32,
    ) -> Result<[u8; MLDSA_SIG_LEN], Error> {
        if ctx.len() > 255 {
            return Err(Error::Internal);
        }
        Ok(self.0.sign(msg, ctx, rnd.as_bytes()))
    }
}

impl core::fmt::Debug for MlDsaSigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MlDsaSigningKey(<redacted>)")
    }
}

/// ML-DSA.Verify (FIPS 204 Algorithm 3) with context string `ctx`. Any malformed key or
/// signature is simply "not valid".
pub fn mldsa_verify(vk: &[u8], msg: &[u8], ctx: &[u8], sig: &[u8]) -> bool {
    let (Ok(vk), Ok(sig)) = (
        <&[u8; MLDSA_VK_LEN]>::try_from(vk),
        <&[u8; MLDSA_SIG_LEN]>::try_from(sig),
    ) else {
        return false;
    };
    ctx.len() <= 255 && backend::mldsa_verify(vk, msg, ctx, sig)
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
