//! Differential test of the native provider against the RustCrypto reference: seeded random
//! inputs (the same every run) through both, which must give identical bytes and identical
//! failures for every primitive. Built only with `native-provider`, as a unit test so it can
//! reach both providers, which are private. The hash family is checked in AWS-LC's version
//! (`awslc_hash`, the provider's under `fips`) whichever the build selects.
#![allow(clippy::unwrap_used)]

use super::native::awslc_hash as awsh;
use super::{native as nat, rustcrypto as rc, MLKEM_CT_LEN, MLKEM_EK_LEN};
use alloc::{vec, vec::Vec};

/// SplitMix64: small, seeded, reproducible. Test inputs only.
struct TestRng(u64);

impl TestRng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let r = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        self.fill(&mut v);
        v
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        self.fill(&mut a);
        a
    }
    /// A length, mostly small, sometimes around block boundaries, now and then large.
    fn len(&mut self, max: usize) -> usize {
        match self.below(8) {
            0 => 0,
            1 => [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129][self.below(13)].min(max),
            2 => self.below(max + 1),
            _ => self.below(max.min(300) + 1),
        }
    }
    /// Random bytes of a length from [`TestRng::len`].
    fn some_bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.len(max);
        self.bytes(n)
    }
    /// `data` cut into 0 to 3 random pieces (some possibly empty).
    fn split<'a>(&mut self, data: &'a [u8]) -> Vec<&'a [u8]> {
        let mut parts = Vec::new();
        let mut rest = data;
        for _ in 0..self.below(3) {
            let at = self.below(rest.len() + 1);
            let (a, b) = rest.split_at(at);
            parts.push(a);
            rest = b;
        }
        parts.push(rest);
        parts
    }
}

#[test]
fn aead_seal_and_open_agree() {
    let mut r = TestRng::new(1);
    for i in 0..4000 {
        let key: [u8; 32] = r.array();
        let nonce: [u8; 12] = r.array();
        let ad = r.some_bytes(100);
        let max = if i % 100 == 0 { 70_000 } else { 2_000 };
        let msg = r.some_bytes(max);

        let mut a = msg.clone();
        let mut b = msg.clone();
        let tag_a = rc::aead_seal(&key, &nonce, &ad, &mut a).unwrap();
        let tag_b = nat::aead_seal(&key, &nonce, &ad, &mut b).unwrap();
        assert_eq!(a, b, "ciphertext, case {i}");
        assert_eq!(tag_a, tag_b, "tag, case {i}");

        let mut pa = a.clone();
        let mut pb = b.clone();
        rc::aead_open(&key, &nonce, &ad, &mut pa, &tag_a).unwrap();
        nat::aead_open(&key, &nonce, &ad, &mut pb, &tag_b).unwrap();
        assert_eq!(pa, msg);
        assert_eq!(pb, msg);

        // One change anywhere: both refuse.
        let (mut key2, mut nonce2, mut ad2, mut ct2, mut tag2) =
            (key, nonce, ad.clone(), a.clone(), tag_a);
        let bit = 1u8 << r.below(8);
        match r.below(5) {
            0 => key2[r.below(32)] ^= bit,
            1 => nonce2[r.below(12)] ^= bit,
            2 if !ad2.is_empty() => {
                let j = r.below(ad2.len());
                ad2[j] ^= bit;
            }
            2 => ad2.push(0),
            3 if !ct2.is_empty() => {
                let j = r.below(ct2.len());
                ct2[j] ^= bit;
            }
            _ => tag2[r.below(16)] ^= bit,
        }
        let mut ca = ct2.clone();
        let mut cb = ct2;
        assert!(
            rc::aead_open(&key2, &nonce2, &ad2, &mut ca, &tag2).is_err(),
            "case {i}"
        );
        assert!(
            nat::aead_open(&key2, &nonce2, &ad2, &mut cb, &tag2).is_err(),
            "case {i}"
        );
        // A random tag over the right ciphertext: both refuse.
        let forged: [u8; 16] = r.array();
        let (mut ca, mut cb) = (a.clone(), a);
        assert!(rc::aead_open(&key, &nonce, &ad, &mut ca, &forged).is_err());
        assert!(nat::aead_open(&key, &nonce, &ad, &mut cb, &forged).is_err());
    }
}

#[test]
fn hmac_sha256_and_digests_agree() {
    let mut r = TestRng::new(2);
    for i in 0..5000 {
        // Keys up to 200 bytes: longer than a block (64) they are hashed first.
        let key = r.some_bytes(200);
        let msg = r.some_bytes(1500);
        let parts = r.split(&msg);
        let a = rc::HmacState::new(&key);
        let b = awsh::HmacState::new(&key);
        assert_eq!(a.mac(&parts), b.mac(&parts), "hmac, case {i}");
        // The keyed state is reusable (and its clones are).
        assert_eq!(
            a.clone().mac(&[&msg]),
            b.clone().mac(&[&msg]),
            "hmac, case {i}"
        );

        assert_eq!(rc::sha256(&parts), awsh::sha256(&parts), "sha256, case {i}");
        assert_eq!(
            rc::sha3_256(&parts),
            awsh::sha3_256(&parts),
            "sha3, case {i}"
        );
    }
}

#[test]
fn hkdf_agrees() {
    let mut r = TestRng::new(3);
    for i in 0..5000 {
        let salt = r.some_bytes(150);
        let ikm = r.some_bytes(150);
        let prk_a = rc::hkdf_extract(&salt, &ikm);
        assert_eq!(prk_a, awsh::hkdf_extract(&salt, &ikm), "extract, case {i}");
        let info = r.some_bytes(120);
        let parts = r.split(&info);
        let prk: [u8; 32] = if i % 2 == 0 { prk_a } else { r.array() };
        assert_eq!(
            rc::hkdf_expand(&prk, &parts),
            awsh::hkdf_expand(&prk, &parts),
            "expand, case {i}"
        );
    }
}

/// u-coordinates of small order (0, 1, the two points of order 8, -1) and the non-canonical
/// p and p + 1, each also with the top bit set (RFC 7748 ignores it): X25519 with any scalar
/// gives zero, which both providers must report the same way (zeros; the door rejects them).
fn low_order_points() -> Vec<[u8; 32]> {
    let hex = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    let mut points = Vec::new();
    for h in hex {
        let mut u = [0u8; 32];
        for (o, pair) in u.iter_mut().zip(h.as_bytes().chunks(2)) {
            let s = core::str::from_utf8(pair).unwrap();
            *o = u8::from_str_radix(s, 16).unwrap();
        }
        points.push(u);
        u[31] |= 0x80;
        points.push(u);
    }
    points
}

#[test]
fn x25519_agrees() {
    let mut r = TestRng::new(4);
    let low = low_order_points();
    for i in 0..3000 {
        let sk: [u8; 32] = r.array();
        let pk = rc::x25519_public(&sk).unwrap();
        assert_eq!(pk, nat::x25519_public(&sk).unwrap(), "public, case {i}");

        // A peer key: a real public key, random bytes (with or without the ignored top bit),
        // or a point of small order.
        let peer: [u8; 32] = match r.below(4) {
            0 => rc::x25519_public(&r.array()).unwrap(),
            1 => r.array(),
            2 => {
                let mut p: [u8; 32] = r.array();
                p[31] |= 0x80;
                p
            }
            _ => low[r.below(low.len())],
        };
        let ss = rc::x25519(&sk, &peer);
        assert_eq!(ss, nat::x25519(&sk, &peer), "shared, case {i}");
    }
    for (j, p) in low.iter().enumerate() {
        let sk: [u8; 32] = r.array();
        assert_eq!(rc::x25519(&sk, p), [0u8; 32], "low-order point {j}");
        assert_eq!(nat::x25519(&sk, p), [0u8; 32], "low-order point {j}");
    }
}

/// An encapsulation key that passes the modulus check without coming from key generation.
fn random_valid_ek(r: &mut TestRng) -> [u8; MLKEM_EK_LEN] {
    let mut ek = [0u8; MLKEM_EK_LEN];
    for c in ek[..MLKEM_EK_LEN - 32].chunks_exact_mut(3) {
        let a = (r.next_u64() % 3329) as u16;
        let b = (r.next_u64() % 3329) as u16;
        c[0] = a as u8;
        c[1] = ((a >> 8) as u8) | ((b as u8 & 0x0f) << 4);
        c[2] = (b >> 4) as u8;
    }
    r.fill(&mut ek[MLKEM_EK_LEN - 32..]);
    ek
}

#[test]
fn mlkem768_agrees() {
    let mut r = TestRng::new(5);
    for i in 0..1500 {
        let seed: [u8; 64] = r.array();
        let dk_a = rc::MlKemDk::from_seed(&seed);
        let dk_b = nat::MlKemDk::from_seed(&seed);
        let ek = dk_a.ek_bytes();
        assert_eq!(ek, dk_b.ek_bytes(), "ek, case {i}");
        assert_eq!(dk_a.expanded_bytes(), dk_b.expanded_bytes(), "dk, case {i}");

        let m: [u8; 32] = r.array();
        let (ct, ss) = rc::mlkem_encapsulate(&ek, &m).unwrap();
        let (ct_b, ss_b) = nat::mlkem_encapsulate(&ek, &m).unwrap();
        assert_eq!(ct, ct_b, "ct, case {i}");
        assert_eq!(ss, ss_b, "ss, case {i}");
        assert_eq!(dk_a.decapsulate(&ct), ss, "decaps, case {i}");
        assert_eq!(dk_b.decapsulate(&ct), ss, "decaps, case {i}");

        // Implicit rejection: a modified ciphertext gives the same pseudorandom secret in both,
        // and not the real one.
        let mut bad = ct;
        for _ in 0..1 + r.below(3) {
            bad[r.below(MLKEM_CT_LEN)] ^= 1 << r.below(8);
        }
        let rej = dk_a.decapsulate(&bad);
        assert_ne!(rej, ss, "case {i}");
        assert_eq!(rej, dk_b.decapsulate(&bad), "rejection, case {i}");
        let noise: [u8; MLKEM_CT_LEN] = r.array();
        assert_eq!(
            dk_a.decapsulate(&noise),
            dk_b.decapsulate(&noise),
            "case {i}"
        );

        // Encapsulation to a key that no key generation produced.
        let ek2 = random_valid_ek(&mut r);
        assert!(super::mlkem_check_ek(&ek2).is_ok());
        let m2: [u8; 32] = r.array();
        assert_eq!(
            rc::mlkem_encapsulate(&ek2, &m2).unwrap(),
            nat::mlkem_encapsulate(&ek2, &m2).unwrap(),
            "foreign ek, case {i}"
        );
    }
}

/// With `fips`, AWS-LC runs as its FIPS module (power-on self tests passed).
#[cfg(feature = "fips")]
#[test]
fn fips_module_is_active() {
    assert_eq!(super::PROVIDER, "native-fips");
    assert!(aws_lc_rs::try_fips_mode().is_ok());
}
