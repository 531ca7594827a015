//! Per-operation cost of the crypto provider this build uses, through nen-core's crypto door
//! (and the server handshake end to end). No benchmark framework: batches of calls timed with
//! `Instant`, the median of the batches printed, one `op<TAB>µs` line each.
//!
//! One provider per build; `scripts/bench-crypto.sh` builds both and prints them side by side:
//!
//! ```sh
//! cargo run --release -p nen-core --example crypto_bench                              # RustCrypto
//! cargo run --release -p nen-core --example crypto_bench --features native-provider   # native
//! ```
//!
//! `--quick` runs each operation a few times only (checks that it works; numbers meaningless).

use nen_core::crypto::{
    aead_seal, hkdf_expand, hkdf_extract, mlkem_encapsulate, sha256, x25519_agree, x25519_public,
    AeadKey, HmacKey, MlKemDecapsKey, MlKemSeed, Nonce, Secret32, X25519Secret, PROVIDER,
};
use nen_core::handshake::{server_handshake, ClientHandshake, ServerConfig};
use nen_core::rng::{ChaChaRng, Rng};
use nen_core::{Error, Mode};
use std::hint::black_box;
use std::time::{Duration, Instant};

const BATCHES: usize = 15;

/// Median over [`BATCHES`] batches of the per-call time of `f`, in µs. A batch lasts about
/// `target`; the batch size is found by a first, untimed, calibration run.
fn median_us(target: Duration, mut f: impl FnMut() -> Result<(), Error>) -> Result<f64, Error> {
    let mut n = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f()?;
        }
        if t.elapsed() >= target / 4 || n >= 1 << 24 {
            break;
        }
        n *= 2;
    }
    let n = n.saturating_mul(4);
    let mut samples = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let t = Instant::now();
        for _ in 0..n {
            f()?;
        }
        samples.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[BATCHES / 2])
}

fn main() -> Result<(), Error> {
    let quick = std::env::args().any(|a| a == "--quick");
    let target = if quick {
        Duration::from_micros(200)
    } else {
        Duration::from_millis(20)
    };
    let mut rng = ChaChaRng::from_seed([42; 32]);
    let mut draw32 = move || -> Result<[u8; 32], Error> {
        let mut b = [0u8; 32];
        rng.fill(&mut b)?;
        Ok(b)
    };
    let row = |name: &str, us: f64| println!("{name}\t{us:.3}");
    println!("# provider\t{PROVIDER}");

    // ML-KEM-768.
    let seed = MlKemSeed::from_bytes([7; 64]);
    row(
        "ML-KEM-768 keygen (from seed, + ek)",
        median_us(target, || {
            let dk = MlKemDecapsKey::from_seed(black_box(&seed));
            black_box(dk.encapsulation_key());
            Ok(())
        })?,
    );
    let dk = MlKemDecapsKey::from_seed(&seed);
    let ek = dk.encapsulation_key();
    let m = Secret32::from_bytes(draw32()?);
    row(
        "ML-KEM-768 encaps (ek bytes, checked)",
        median_us(target, || {
            black_box(mlkem_encapsulate(black_box(&ek), &m)?);
            Ok(())
        })?,
    );
    let (ct, _) = mlkem_encapsulate(&ek, &m)?;
    row(
        "ML-KEM-768 decaps",
        median_us(target, || {
            black_box(dk.decapsulate(black_box(&ct))?);
            Ok(())
        })?,
    );

    // X25519.
    let sk = X25519Secret::from_bytes(draw32()?);
    let peer = x25519_public(&X25519Secret::from_bytes(draw32()?))?;
    row(
        "X25519 public key (fixed base)",
        median_us(target, || {
            black_box(x25519_public(black_box(&sk))?);
            Ok(())
        })?,
    );
    row(
        "X25519 shared secret",
        median_us(target, || {
            black_box(x25519_agree(black_box(&sk), &peer)?);
            Ok(())
        })?,
    );

    // The server handshake, end to end (parse, encapsulate, X25519, transcript, key schedule,
    // confirmation, JSON answer), without an identity signature.
    for (mode, name) in [
        (Mode::Hybrid, "server handshake, hybrid"),
        (Mode::MlKem768, "server handshake, mlkem768"),
    ] {
        let mut crng = ChaChaRng::from_seed([1; 32]);
        let request = ClientHandshake::start(mode, &mut crng)?.request_body();
        let config = ServerConfig {
            modes: &[Mode::Hybrid, Mode::MlKem768],
            ttl_ms: 3_600_000,
            identity: None,
        };
        let mut srng = ChaChaRng::from_seed([2; 32]);
        row(
            name,
            median_us(target, || {
                black_box(server_handshake(
                    request.as_bytes(),
                    &config,
                    None,
                    1_767_225_600_000,
                    &mut srng,
                )?);
                Ok(())
            })?,
        );
    }

    // ChaCha20-Poly1305, sealing in place.
    let key = AeadKey::from_bytes(draw32()?);
    let nonce = Nonce::from_bytes([3; 12]);
    for (len, name) in [
        (64, "AEAD seal 64 B"),
        (1024, "AEAD seal 1 KiB"),
        (16 * 1024, "AEAD seal 16 KiB"),
        (1 << 20, "AEAD seal 1 MiB"),
    ] {
        let mut buf = vec![0u8; len];
        row(
            name,
            median_us(target, || {
                black_box(aead_seal(&key, &nonce, b"ad", black_box(&mut buf))?);
                Ok(())
            })?,
        );
    }

    // The JSON check every body gets (request and response, on each side): records, then a
    // padding string, like benchmark/'s bodies.
    for (len, name) in [
        (1024, "JSON check 1 KiB"),
        (16 * 1024, "JSON check 16 KiB"),
        (1 << 20, "JSON check 1 MiB"),
    ] {
        let mut doc = String::from("{\"items\":[");
        let mut i = 0;
        while doc.len() + 60 < len {
            if i > 0 {
                doc.push(',');
            }
            doc.push_str(&format!(
                "{{\"id\":{i},\"name\":\"item-{i}\",\"qty\":{}}}",
                i % 7
            ));
            i += 1;
        }
        doc.push_str("],\"pad\":\"");
        while doc.len() + 2 < len {
            doc.push('x');
        }
        doc.push_str("\"}");
        row(
            name,
            median_us(target, || {
                if nen_core::json::is_json(black_box(doc.as_bytes())) {
                    Ok(())
                } else {
                    Err(Error::PayloadNotJson)
                }
            })?,
        );
    }

    // HMAC-SHA256 over 100 bytes with the session's keyed state (what request signing does),
    // and keying it (once per session).
    let mac_key = draw32()?;
    let hmac = HmacKey::new(&mac_key);
    let msg = [0x5a; 100];
    row(
        "HMAC-SHA256 100 B (keyed state)",
        median_us(target, || {
            black_box(hmac.mac(&[black_box(&msg)]));
            Ok(())
        })?,
    );
    row(
        "HMAC-SHA256 keying",
        median_us(target, || {
            black_box(HmacKey::new(black_box(&mac_key)));
            Ok(())
        })?,
    );

    // What the key schedule does once per handshake: the transcript hash (about 2.5 KiB in
    // hybrid mode), HKDF-Extract, and one of its five 32-byte HKDF-Expands.
    let transcript = [0x33; 2560];
    row(
        "SHA-256 2.5 KiB",
        median_us(target, || {
            black_box(sha256(&[black_box(&transcript)]));
            Ok(())
        })?,
    );
    let th = sha256(&[&transcript]);
    row(
        "HKDF-SHA256 extract",
        median_us(target, || {
            black_box(hkdf_extract(black_box(&th), &mac_key));
            Ok(())
        })?,
    );
    let prk = hkdf_extract(&th, &mac_key);
    row(
        "HKDF-SHA256 expand (32 B)",
        median_us(target, || {
            black_box(hkdf_expand(black_box(&prk), &[b"nen/1 key c2s"]));
            Ok(())
        })?,
    );
    Ok(())
}
