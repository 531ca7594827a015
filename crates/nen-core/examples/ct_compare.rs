//! The constant-time comparison under callgrind (scripts/ct-check.sh): compares a 32-byte tag
//! with `ct_eq` and checks a request MAC with `HmacKey::verify` (the path every MAC, tag,
//! confirmation and key-id check in nen-core takes), 1000 times each, against an input chosen
//! by the argument: `match`, `first` (differs in the first byte) or `last` (in the last byte).
//! Only `compare` is counted (`--toggle-collect`), so the instruction counts must be equal.
//! `leaky-first` and `leaky-last` run an early-exit comparison instead, the control that shows
//! the measurement sees a data-dependent comparison (their counts must differ).
//!
//! `cargo run --release -p nen-core --example ct_compare -- match|first|last|leaky-first|leaky-last`

use nen_core::crypto::{ct_eq, HmacKey};
use std::hint::black_box;

#[inline(never)]
fn compare(key: &HmacKey, msg: &[u8], expected: &[u8; 32], got: &[u8; 32]) -> u32 {
    let mut ok = 0u32;
    for _ in 0..1000 {
        ok += u32::from(ct_eq(black_box(expected), black_box(got)));
        ok += u32::from(key.verify(&[black_box(msg)], black_box(got)));
    }
    ok
}

/// The comparison `ct_eq` replaces: stops at the first differing byte.
#[inline(never)]
fn compare_leaky(expected: &[u8; 32], got: &[u8; 32]) -> u32 {
    let mut ok = 0u32;
    for _ in 0..1000 {
        let (a, b) = (black_box(expected), black_box(got));
        let mut eq = true;
        for (x, y) in a.iter().zip(b) {
            if x != y {
                eq = false;
                break;
            }
        }
        ok += u32::from(eq);
    }
    ok
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let key = HmacKey::new(&[0x42; 32]);
    let msg = b"GET /api/items 1767225600000 nonce";
    let expected = key.mac(&[msg]);
    let mut got = expected;
    match which.as_str() {
        "match" => {}
        "first" => got[0] ^= 0x80,
        "last" => got[31] ^= 0x01,
        "leaky-first" | "leaky-last" => {
            got[if which == "leaky-first" { 0 } else { 31 }] ^= 0x01;
            let ok = compare_leaky(&expected, &got);
            println!("{which}: {ok} of 1000 comparisons equal");
            return;
        }
        _ => {
            eprintln!("usage: ct_compare match|first|last|leaky-first|leaky-last");
            std::process::exit(2);
        }
    }
    let ok = compare(&key, msg, &expected, &got);
    println!("{which}: {ok} of 2000 comparisons equal");
}
