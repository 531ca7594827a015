//! Randomness, injected: every protocol function that needs random bytes takes a `&mut impl Rng`,
//! so fixed seeds reproduce `docs/vectors` byte for byte and production draws from the OS.

use crate::error::Error;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use zeroize::Zeroize;

/// A source of cryptographically secure random bytes.
pub trait Rng {
    /// Fills `out` entirely, or fails (the OS source can fail; nothing is half-written then).
    fn fill(&mut self, out: &mut [u8]) -> Result<(), Error>;
}

/// A ChaCha20 generator with fast key erasure: the userspace CSPRNG behind every nonce.
///
/// `getrandom` costs 0.5-0.8 µs a call on the target machine, more than sealing a small
/// message, so production seeds this once from the OS ([`ChaChaRng::from_os`]) and reseeds
/// after [`ChaChaRng::RESEED_BYTES`]. Each refill draws 32 + 256 bytes of keystream and
/// immediately rekeys with the first 32, so a later read of the generator's state cannot
/// recompute anything it produced before (backtracking resistance). With a fixed seed it is the
/// deterministic RNG of the test vectors.
pub struct ChaChaRng {
    cipher: chacha20::ChaCha20,
    buf: [u8; 288],
    pos: usize,
    produced: u64,
    #[cfg_attr(not(feature = "getrandom"), allow(dead_code))]
    reseed_from_os: bool,
}

impl ChaChaRng {
    /// Bytes produced before an OS-seeded generator reseeds itself.
    pub const RESEED_BYTES: u64 = 1 << 30;

    /// A deterministic generator from a 32-byte seed (for vectors and tests only).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            cipher: chacha20::ChaCha20::new(&seed.into(), &[0u8; 12].into()),
            buf: [0; 288],
            pos: 288,
            produced: 0,
            reseed_from_os: false,
        }
    }

    /// A generator seeded from the operating system, reseeding itself periodically.
    #[cfg(feature = "getrandom")]
    pub fn from_os() -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|_| Error::Internal)?;
        let mut rng = Self::from_seed(seed);
        seed.zeroize();
        rng.reseed_from_os = true;
        Ok(rng)
    }

    fn refill(&mut self) -> Result<(), Error> {
        #[cfg(feature = "getrandom")]
        if self.reseed_from_os && self.produced >= Self::RESEED_BYTES {
            *self = Self::from_os()?;
        }
        self.buf.zeroize();
        self.cipher
            .try_apply_keystream(&mut self.buf)
            .map_err(|_| Error::Internal)?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.buf[..32]);
        self.cipher = chacha20::ChaCha20::new(&key.into(), &[0u8; 12].into());
        key.zeroize();
        self.buf[..32].zeroize();
        self.pos = 32;
        Ok(())
    }
}

impl Rng for ChaChaRng {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), Error> {
        let mut written = 0;
        while written < out.len() {
            if self.pos == self.buf.len() {
                self.refill()?;
            }
            let n = (out.len() - written).min(self.buf.len() - self.pos);
            out[written..written + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            // Bytes handed out are erased from the buffer: a later memory dump cannot replay them.
            self.buf[self.pos..self.pos + n].zeroize();
            self.pos += n;
            written += n;
        }
        self.produced = self.produced.saturating_add(out.len() as u64);
        Ok(())
    }
}

impl Drop for ChaChaRng {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl core::fmt::Debug for ChaChaRng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChaChaRng(<redacted>)")
    }
}

/// Draws a fixed-size array.
pub(crate) fn draw<const N: usize>(rng: &mut impl Rng) -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}
