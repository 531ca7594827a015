//! Tampering with every field of every message, each asserting the exact error code.
//!
//! Each section builds one valid message, checks that it is accepted untouched (so a case can
//! only pass because its mutation is caught), then runs a table of named mutations against it.
//! The tables are kept one case per line (`#[rustfmt::skip]`) so they read as tables.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

mod common;
use common::*;
use nen_core::crypto::AeadKey;
use nen_core::handshake::{server_handshake, ClientHandshake, IdentityPin};
use nen_core::replay::ReplayWindow;
use nen_core::request::{parse_request, OpenedRequest, SignedRequest};
use nen_core::response::HEADER_RESPONSE;
use nen_core::session::{unwrap, wrap};
use nen_core::stream::{SseFrame, SseParser, StreamEvent};
use nen_core::wire::{b64, parse_error_body, unb64};
use nen_core::{ClientSession, Error, Mode, ServerSession, SessionId, CATALOGUE};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------------

fn parse_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn set(v: &mut Value, field: &str, value: Value) {
    v.as_object_mut().unwrap().insert(field.to_owned(), value);
}

fn remove(v: &mut Value, field: &str) {
    assert!(
        v.as_object_mut().unwrap().remove(field).is_some(),
        "no field {field} to remove"
    );
}

fn field_str(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string"))
        .to_owned()
}

/// Decodes base64 field `field`, lets `f` edit the bytes, writes them back.
fn map_b64(v: &mut Value, field: &str, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = unb64(&field_str(v, field)).unwrap();
    f(&mut bytes);
    set(v, field, Value::String(b64(&bytes)));
}

/// Edits string field `field`.
fn map_str(v: &mut Value, field: &str, f: impl FnOnce(&str) -> String) {
    let s = f(&field_str(v, field));
    set(v, field, Value::String(s));
}

// Passed where `FnOnce(&mut Vec<u8>)` is expected, hence `&mut Vec`.
#[allow(clippy::ptr_arg)]
fn flip_first(b: &mut Vec<u8>) {
    b[0] ^= 0x01;
}

#[allow(clippy::ptr_arg)]
fn flip_last(b: &mut Vec<u8>) {
    let i = b.len() - 1;
    b[i] ^= 0x80;
}

fn pop(b: &mut Vec<u8>) {
    b.pop();
}

/// Another valid session id: the first hex digit changed.
fn other_sid(s: &str) -> String {
    let first = if s.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &s[1..])
}

/// Sets 12-bit coefficient `index` of the encoded ML-KEM vector of an encapsulation key.
fn set_coefficient(ek: &mut [u8], index: usize, value: u16) {
    let c = &mut ek[index / 2 * 3..index / 2 * 3 + 3];
    if index.is_multiple_of(2) {
        c[0] = value as u8;
        c[1] = (c[1] & 0xf0) | (value >> 8) as u8;
    } else {
        c[1] = (c[1] & 0x0f) | ((value as u8 & 0x0f) << 4);
        c[2] = (value >> 4) as u8;
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake request (server side)
// ---------------------------------------------------------------------------------------------

fn handshake_request(mode: Mode) -> Value {
    let hs = ClientHandshake::start(mode, &mut rng(1)).unwrap();
    parse_json(&hs.request_body())
}

fn serve(body: &[u8], modes: &[Mode]) -> Result<(), Error> {
    let config = nen_core::handshake::ServerConfig {
        modes,
        ttl_ms: TTL,
        identity: None,
    };
    server_handshake(body, &config, None, NOW, &mut rng(2)).map(|_| ())
}

/// X25519 public keys of small order (and non-canonical encodings of them).
#[rustfmt::skip]
const SMALL_ORDER_X25519: [(&str, &str); 5] = [
    ("zero", "0000000000000000000000000000000000000000000000000000000000000000"),
    ("one", "0100000000000000000000000000000000000000000000000000000000000000"),
    ("order 8", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    ("p - 1", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ("p (zero, non-canonical)", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
];

#[test]
fn handshake_request_tampering() {
    const BOTH: &[Mode] = &[Mode::Hybrid, Mode::MlKem768];
    /// Name, the client's mode, the modes the server enables, the edit, the outcome.
    type Case = (
        &'static str,
        Mode,
        &'static [Mode],
        fn(&mut Value),
        Result<(), Error>,
    );
    use Error::*;
    use Mode::{Hybrid, MlKem768};
    #[rustfmt::skip]
    let cases: &[Case] = &[
        // Controls: untouched, and changes that must be accepted.
        ("untouched hybrid", Hybrid, BOTH, |_| {}, Ok(())),
        ("untouched mlkem768", MlKem768, BOTH, |_| {}, Ok(())),
        ("ek coefficient 0 = q-1", Hybrid, BOTH,
            |v| map_b64(v, "ek", |ek| set_coefficient(ek, 0, 3328)), Ok(())),
        ("ek rho flipped (not range-checked)", Hybrid, BOTH, |v| map_b64(v, "ek", flip_last), Ok(())),
        // Version.
        ("v missing", Hybrid, BOTH, |v| remove(v, "v"), Err(VersionMismatch)),
        ("v = 2", Hybrid, BOTH, |v| set(v, "v", json!(2)), Err(VersionMismatch)),
        ("v = 0", Hybrid, BOTH, |v| set(v, "v", json!(0)), Err(VersionMismatch)),
        ("v = \"1\"", Hybrid, BOTH, |v| set(v, "v", json!("1")), Err(VersionMismatch)),
        ("v = 1.5", Hybrid, BOTH, |v| set(v, "v", json!(1.5)), Err(VersionMismatch)),
        ("v = null", Hybrid, BOTH, |v| set(v, "v", Value::Null), Err(VersionMismatch)),
        // Mode.
        ("mode missing", Hybrid, BOTH, |v| remove(v, "mode"), Err(UnsupportedMode)),
        ("mode null", Hybrid, BOTH, |v| set(v, "mode", Value::Null), Err(UnsupportedMode)),
        ("mode unknown", Hybrid, BOTH, |v| set(v, "mode", json!("x448")), Err(UnsupportedMode)),
        ("mode upper-case", Hybrid, BOTH, |v| set(v, "mode", json!("Hybrid")), Err(UnsupportedMode)),
        ("hybrid not enabled", Hybrid, &[MlKem768], |_| {}, Err(UnsupportedMode)),
        ("mlkem768 not enabled", MlKem768, &[Hybrid], |_| {}, Err(UnsupportedMode)),
        // Missing keys.
        ("ek missing", Hybrid, BOTH, |v| remove(v, "ek"), Err(HandshakeMissingPublicKey)),
        ("ek null", Hybrid, BOTH, |v| set(v, "ek", Value::Null), Err(HandshakeMissingPublicKey)),
        ("ek missing (mlkem768)", MlKem768, BOTH, |v| remove(v, "ek"), Err(HandshakeMissingPublicKey)),
        ("x25519 missing (hybrid)", Hybrid, BOTH, |v| remove(v, "x25519"), Err(HandshakeMissingPublicKey)),
        ("x25519 null (hybrid)", Hybrid, BOTH,
            |v| set(v, "x25519", Value::Null), Err(HandshakeMissingPublicKey)),
        // Base64.
        ("ek not base64", Hybrid, BOTH,
            |v| map_str(v, "ek", |s| format!("!{}", &s[1..])), Err(DecodingFailed)),
        ("ek padding stripped", Hybrid, BOTH,
            |v| map_str(v, "ek", |s| s.trim_end_matches('=').to_owned()), Err(DecodingFailed)),
        ("ek url-safe alphabet", Hybrid, BOTH,
            |v| map_str(v, "ek", |s| s.replace('+', "-").replace('/', "_")), Err(DecodingFailed)),
        ("ek with a space inside", Hybrid, BOTH,
            |v| map_str(v, "ek", |s| format!("{} {}", &s[..76], &s[76..])), Err(DecodingFailed)),
        ("x25519 not base64", Hybrid, BOTH, |v| set(v, "x25519", json!("*not base64*")), Err(DecodingFailed)),
        // Invalid ML-KEM encapsulation keys.
        ("ek empty", Hybrid, BOTH, |v| set(v, "ek", json!("")), Err(HandshakeFailed)),
        ("ek 1183 bytes", Hybrid, BOTH, |v| map_b64(v, "ek", pop), Err(HandshakeFailed)),
        ("ek 1185 bytes", Hybrid, BOTH, |v| map_b64(v, "ek", |ek| ek.push(0)), Err(HandshakeFailed)),
        ("ek coefficient 0 = q", Hybrid, BOTH,
            |v| map_b64(v, "ek", |ek| set_coefficient(ek, 0, 3329)), Err(HandshakeFailed)),
        ("ek coefficient 0 = 4095", Hybrid, BOTH,
            |v| map_b64(v, "ek", |ek| set_coefficient(ek, 0, 4095)), Err(HandshakeFailed)),
        ("ek last coefficient = q", MlKem768, BOTH,
            |v| map_b64(v, "ek", |ek| set_coefficient(ek, 767, 3329)), Err(HandshakeFailed)),
        // Invalid X25519 keys (small-order ones below).
        ("x25519 31 bytes", Hybrid, BOTH, |v| map_b64(v, "x25519", pop), Err(HandshakeFailed)),
        ("x25519 33 bytes", Hybrid, BOTH, |v| map_b64(v, "x25519", |x| x.push(0)), Err(HandshakeFailed)),
        ("x25519 empty", Hybrid, BOTH, |v| set(v, "x25519", json!("")), Err(HandshakeFailed)),
        // Shape.
        ("x25519 sent in mlkem768 mode", MlKem768, BOTH,
            |v| set(v, "x25519", json!(b64(&[9; 32]))), Err(InvalidEnvelope)),
        ("ek is a number", Hybrid, BOTH, |v| set(v, "ek", json!(1)), Err(InvalidEnvelope)),
        ("mode is a number", Hybrid, BOTH, |v| set(v, "mode", json!(1)), Err(InvalidEnvelope)),
        ("body is an array", Hybrid, BOTH, |v| *v = json!([1, "hybrid"]), Err(InvalidEnvelope)),
        ("body is a string", Hybrid, BOTH, |v| *v = json!("hybrid"), Err(InvalidEnvelope)),
    ];
    for (name, mode, modes, mutate, want) in cases {
        let mut v = handshake_request(*mode);
        mutate(&mut v);
        assert_eq!(
            serve(&to_bytes(&v), modes),
            *want,
            "handshake request: {name}"
        );
    }

    for (name, hex_key) in SMALL_ORDER_X25519 {
        let mut v = handshake_request(Hybrid);
        set(&mut v, "x25519", json!(b64(&hex::decode(hex_key).unwrap())));
        assert_eq!(
            serve(&to_bytes(&v), BOTH),
            Err(HandshakeFailed),
            "handshake request: small-order x25519 {name}"
        );
    }

    let valid = to_bytes(&handshake_request(Hybrid));
    let trailing = [&valid[..], b"x"].concat();
    let raw: [(&str, &[u8]); 6] = [
        ("empty body", b""),
        ("not JSON", b"hello"),
        ("truncated JSON", &valid[..valid.len() - 1]),
        ("trailing garbage", &trailing),
        ("not UTF-8", b"{\"v\":1,\"mode\":\"\xff\"}"),
        ("null", b"null"),
    ];
    for (name, body) in raw {
        assert_eq!(
            serve(body, BOTH),
            Err(InvalidEnvelope),
            "handshake request: {name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake response (client side)
// ---------------------------------------------------------------------------------------------

/// One handshake response case: the server (with identity seed `server_id`) answers the
/// client's request, `mutate` edits the answer, and the client (pinning identity seed `pin`)
/// finishes.
struct ResponseCase {
    name: &'static str,
    mode: Mode,
    server_id: Option<u8>,
    pin: Option<u8>,
    mutate: fn(&mut Value),
    want: Result<(), Error>,
}

fn case(
    name: &'static str,
    mode: Mode,
    server_id: Option<u8>,
    pin: Option<u8>,
    mutate: fn(&mut Value),
    want: Result<(), Error>,
) -> ResponseCase {
    ResponseCase {
        name,
        mode,
        server_id,
        pin,
        mutate,
        want,
    }
}

fn finish_case(c: &ResponseCase) -> Result<(), Error> {
    let hs = ClientHandshake::start(c.mode, &mut rng(1)).unwrap();
    let identity = c.server_id.map(identity_from);
    let (_, body) = server_handshake(
        hs.request_body().as_bytes(),
        &config(identity.as_ref()),
        None,
        NOW,
        &mut rng(2),
    )
    .unwrap();
    let mut v = parse_json(&body);
    (c.mutate)(&mut v);
    let pin = c
        .pin
        .map(|s| IdentityPin::new(identity_from(s).public_key()).unwrap());
    hs.finish(&to_bytes(&v), pin.as_ref()).map(|_| ())
}

#[test]
fn handshake_response_tampering() {
    use Error::*;
    use Mode::{Hybrid, MlKem768};
    const ID: Option<u8> = Some(7);
    #[rustfmt::skip]
    let cases = [
        // Controls.
        case("untouched hybrid", Hybrid, None, None, |_| {}, Ok(())),
        case("untouched mlkem768", MlKem768, None, None, |_| {}, Ok(())),
        case("untouched, pinned", Hybrid, ID, ID, |_| {}, Ok(())),
        case("untouched, identity not pinned", Hybrid, ID, None, |_| {}, Ok(())),
        // ct.
        case("ct first byte flipped", Hybrid, None, None,
            |v| map_b64(v, "ct", flip_first), Err(KeyConfirmationFailed)),
        case("ct last byte flipped", Hybrid, None, None,
            |v| map_b64(v, "ct", flip_last), Err(KeyConfirmationFailed)),
        case("ct flipped (mlkem768)", MlKem768, None, None,
            |v| map_b64(v, "ct", flip_first), Err(KeyConfirmationFailed)),
        case("ct one byte short", Hybrid, None, None, |v| map_b64(v, "ct", pop), Err(HandshakeBadResponse)),
        case("ct not base64", Hybrid, None, None, |v| set(v, "ct", json!("%%%%")), Err(HandshakeBadResponse)),
        // x25519.
        case("x25519 low bit flipped", Hybrid, None, None,
            |v| map_b64(v, "x25519", flip_first), Err(KeyConfirmationFailed)),
        case("x25519 ignored top bit flipped", Hybrid, None, None,
            |v| map_b64(v, "x25519", flip_last), Err(KeyConfirmationFailed)),
        case("x25519 small order", Hybrid, None, None,
            |v| set(v, "x25519", json!(b64(&[0; 32]))), Err(HandshakeBadResponse)),
        case("x25519 31 bytes", Hybrid, None, None, |v| map_b64(v, "x25519", pop), Err(HandshakeBadResponse)),
        case("x25519 added (mlkem768)", MlKem768, None, None,
            |v| set(v, "x25519", json!(b64(&[9; 32]))), Err(TranscriptMismatch)),
        // sid.
        case("sid other id", Hybrid, None, None, |v| map_str(v, "sid", other_sid), Err(KeyConfirmationFailed)),
        case("sid upper-case", Hybrid, None, None,
            |v| map_str(v, "sid", str::to_uppercase), Err(HandshakeBadResponse)),
        case("sid short", Hybrid, None, None,
            |v| map_str(v, "sid", |s| s[1..].to_owned()), Err(HandshakeBadResponse)),
        // exp.
        case("exp + 1", Hybrid, None, None,
            |v| set(v, "exp", json!(v["exp"].as_u64().unwrap() + 1)), Err(KeyConfirmationFailed)),
        case("exp extended by a day", Hybrid, None, None,
            |v| set(v, "exp", json!(v["exp"].as_u64().unwrap() + 86_400_000)), Err(KeyConfirmationFailed)),
        case("exp is a string", Hybrid, None, None,
            |v| set(v, "exp", json!(v["exp"].to_string())), Err(HandshakeBadResponse)),
        // confirm.
        case("confirm flipped", Hybrid, None, None,
            |v| map_b64(v, "confirm", flip_first), Err(KeyConfirmationFailed)),
        case("confirm truncated", Hybrid, None, None,
            |v| map_b64(v, "confirm", pop), Err(HandshakeBadResponse)),
        // Missing fields.
        case("v dropped", Hybrid, None, None, |v| remove(v, "v"), Err(VersionMismatch)),
        case("mode dropped", Hybrid, None, None, |v| remove(v, "mode"), Err(HandshakeBadResponse)),
        case("sid dropped", Hybrid, None, None, |v| remove(v, "sid"), Err(HandshakeBadResponse)),
        case("ct dropped", Hybrid, None, None, |v| remove(v, "ct"), Err(HandshakeBadResponse)),
        case("x25519 dropped", Hybrid, None, None, |v| remove(v, "x25519"), Err(HandshakeBadResponse)),
        case("exp dropped", Hybrid, None, None, |v| remove(v, "exp"), Err(HandshakeBadResponse)),
        case("confirm dropped", Hybrid, None, None, |v| remove(v, "confirm"), Err(HandshakeBadResponse)),
        case("not JSON", Hybrid, None, None, |v| *v = json!("nope"), Err(HandshakeBadResponse)),
        // Version and mode.
        case("v = 2", Hybrid, None, None, |v| set(v, "v", json!(2)), Err(VersionMismatch)),
        case("v = \"1\"", Hybrid, None, None, |v| set(v, "v", json!("1")), Err(VersionMismatch)),
        case("mode mlkem768 for a hybrid handshake", Hybrid, None, None,
            |v| set(v, "mode", json!("mlkem768")), Err(TranscriptMismatch)),
        case("mode hybrid for an mlkem768 handshake", MlKem768, None, None,
            |v| set(v, "mode", json!("hybrid")), Err(TranscriptMismatch)),
        case("mode unknown", Hybrid, None, None, |v| set(v, "mode", json!("x448")), Err(TranscriptMismatch)),
        // Identity fields are in the transcript even when the client pins nothing.
        case("kid injected, no identity", Hybrid, None, None,
            |v| set(v, "kid", json!(b64(identity().key_id()))), Err(KeyConfirmationFailed)),
        case("kid and sig stripped, unpinned client", Hybrid, ID, None,
            |v| { remove(v, "kid"); remove(v, "sig"); }, Err(KeyConfirmationFailed)),
        // Pinned identity.
        case("pinned: server has no identity", Hybrid, None, ID, |_| {}, Err(IdentityMissing)),
        case("pinned: sig dropped", Hybrid, ID, ID, |v| remove(v, "sig"), Err(IdentityMissing)),
        case("pinned: kid dropped", Hybrid, ID, ID, |v| remove(v, "kid"), Err(IdentityMissing)),
        case("pinned: kid of another key", Hybrid, ID, ID,
            |v| set(v, "kid", json!(b64(identity_from(8).key_id()))), Err(IdentityMissing)),
        case("pinned: kid not base64", Hybrid, ID, ID, |v| set(v, "kid", json!("?")), Err(HandshakeBadResponse)),
        case("pinned: signed by another identity", Hybrid, Some(8), ID, |_| {}, Err(IdentityMissing)),
        case("pinned: another identity's sig under the pinned kid", Hybrid, Some(8), ID,
            |v| set(v, "kid", json!(b64(identity().key_id()))), Err(IdentitySignatureInvalid)),
        case("pinned: sig first byte flipped", Hybrid, ID, ID,
            |v| map_b64(v, "sig", flip_first), Err(IdentitySignatureInvalid)),
        case("pinned: sig last byte flipped", Hybrid, ID, ID,
            |v| map_b64(v, "sig", flip_last), Err(IdentitySignatureInvalid)),
        case("pinned: sig truncated", Hybrid, ID, ID, |v| map_b64(v, "sig", pop), Err(IdentitySignatureInvalid)),
        case("pinned: sig empty", Hybrid, ID, ID, |v| set(v, "sig", json!("")), Err(IdentitySignatureInvalid)),
        case("pinned: sig not base64", Hybrid, ID, ID, |v| set(v, "sig", json!("-")), Err(HandshakeBadResponse)),
        // The signature covers the whole transcript, ct included.
        case("pinned: ct altered under a valid sig", Hybrid, ID, ID,
            |v| map_b64(v, "ct", flip_first), Err(IdentitySignatureInvalid)),
        case("pinned: ct altered under a valid sig (mlkem768)", MlKem768, ID, ID,
            |v| map_b64(v, "ct", flip_last), Err(IdentitySignatureInvalid)),
        case("pinned: x25519 altered under a valid sig", Hybrid, ID, ID,
            |v| map_b64(v, "x25519", flip_first), Err(IdentitySignatureInvalid)),
        case("pinned: sid altered under a valid sig", Hybrid, ID, ID,
            |v| map_str(v, "sid", other_sid), Err(IdentitySignatureInvalid)),
        case("pinned: exp altered under a valid sig", Hybrid, ID, ID,
            |v| set(v, "exp", json!(v["exp"].as_u64().unwrap() - 1)), Err(IdentitySignatureInvalid)),
        case("pinned: confirm altered under a valid sig", Hybrid, ID, ID,
            |v| map_b64(v, "confirm", flip_first), Err(KeyConfirmationFailed)),
    ];
    for c in &cases {
        assert_eq!(finish_case(c), c.want, "handshake response: {}", c.name);
    }
}

#[test]
fn handshake_response_for_another_client() {
    let pin = IdentityPin::new(identity().public_key()).unwrap();
    for mode in [Mode::Hybrid, Mode::MlKem768] {
        for (id, pinned, want) in [
            (None, None, Error::KeyConfirmationFailed),
            (
                Some(identity()),
                Some(&pin),
                Error::IdentitySignatureInvalid,
            ),
        ] {
            let alice = ClientHandshake::start(mode, &mut rng(1)).unwrap();
            let mallory = ClientHandshake::start(mode, &mut rng(11)).unwrap();
            let (_, body) = server_handshake(
                alice.request_body().as_bytes(),
                &config(id.as_ref()),
                None,
                NOW,
                &mut rng(2),
            )
            .unwrap();
            assert_eq!(
                mallory.finish(body.as_bytes(), pinned).map(|_| ()),
                Err(want),
                "{mode}: answer for another client, pinned = {}",
                pinned.is_some()
            );
            alice.finish(body.as_bytes(), pinned).unwrap();
        }
    }
}

#[test]
fn rotation_is_bound_to_the_previous_session() {
    let prev = SessionId::from_bytes([0xa5; 16]);
    let other = SessionId::from_bytes([0x5a; 16]);
    let pin = IdentityPin::new(identity().public_key()).unwrap();
    let id = identity();
    /// Name, the `prev` the server binds, whether the identity is pinned, the outcome.
    type Case<'a> = (&'a str, Option<&'a SessionId>, bool, Result<(), Error>);
    #[rustfmt::skip]
    let cases: [Case; 5] = [
        ("server binds the same prev", Some(&prev), false, Ok(())),
        ("server binds no prev", None, false, Err(Error::KeyConfirmationFailed)),
        ("server binds another prev", Some(&other), false, Err(Error::KeyConfirmationFailed)),
        ("pinned: server binds the same prev", Some(&prev), true, Ok(())),
        ("pinned: server binds no prev", None, true, Err(Error::IdentitySignatureInvalid)),
    ];
    for (name, server_prev, pinned, want) in cases {
        let hs = ClientHandshake::start_rotation(Mode::Hybrid, prev, &mut rng(1)).unwrap();
        let (_, body) = server_handshake(
            hs.request_body().as_bytes(),
            &config(pinned.then_some(&id)),
            server_prev,
            NOW,
            &mut rng(2),
        )
        .unwrap();
        let got = hs.finish(body.as_bytes(), pinned.then_some(&pin));
        assert_eq!(got.map(|_| ()), want, "rotation: {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

const TARGET: &str = "/api/items/~42?b=2&a=1&q=x~y";
const BODY: &[u8] = br#"{"name":"widget","qty":3}"#;
const MAX_BODY: usize = 1 << 16;

fn sign(
    client: &ClientSession,
    method: &str,
    target: &str,
    body: Option<&[u8]>,
    ts: u64,
    seed: u8,
) -> SignedRequest {
    client
        .sign_request(method, target, body, None, ts, &mut rng(seed))
        .unwrap()
}

fn receive(server: &ServerSession, p: &OwnedParts, now: u64) -> Result<OpenedRequest, Error> {
    let parsed = parse_request(&p.as_parts(), MAX_BODY)?;
    server.open_request(parsed, now, WINDOW)
}

/// Edits the raw `ciphertext ‖ tag` inside a request envelope `{"ct"}`.
fn map_request_ct(p: &mut OwnedParts, f: impl FnOnce(&mut Vec<u8>)) {
    let mut v: Value = serde_json::from_slice(p.body.as_ref().unwrap()).unwrap();
    map_b64(&mut v, "ct", f);
    p.body = Some(to_bytes(&v));
}

fn map_header(h: &mut Option<String>, f: impl FnOnce(&str) -> String) {
    *h = Some(f(h.as_deref().expect("header present")));
}

type PartsMutation<'a> = Box<dyn Fn(&mut OwnedParts) + 'a>;

struct RequestCase<'a> {
    name: &'static str,
    mutate: PartsMutation<'a>,
    /// `None`: the tampered request must still open, with the original body.
    want: Option<Error>,
}

fn rc<'a>(
    name: &'static str,
    mutate: impl Fn(&mut OwnedParts) + 'a,
    want: Option<Error>,
) -> RequestCase<'a> {
    RequestCase {
        name,
        mutate: Box::new(mutate),
        want,
    }
}

/// Runs `cases` against `req` (sent as `method TARGET`), received by `server` at `NOW`.
fn run_request_cases(
    server: &ServerSession,
    method: &str,
    req: &SignedRequest,
    body: Option<&[u8]>,
    cases: &[RequestCase<'_>],
) {
    let original = OwnedParts::from_signed(method, TARGET, req);
    let opened = receive(server, &original, NOW).expect("untouched request opens");
    assert_eq!(opened.body.as_deref(), body);
    for c in cases {
        let mut p = original.clone();
        (c.mutate)(&mut p);
        assert_ne!(
            p, original,
            "{method} {}: the mutation changed nothing",
            c.name
        );
        match (receive(server, &p, NOW), c.want) {
            (Err(got), Some(want)) => assert_eq!(got, want, "{method} request: {}", c.name),
            (Ok(o), None) => assert_eq!(o.body.as_deref(), body, "{method} request: {}", c.name),
            (got, want) => panic!(
                "{method} request: {}: got {:?}, want {want:?}",
                c.name,
                got.map(|o| o.body)
            ),
        }
    }
}

/// Mutations that apply to any request, whatever its method and body.
#[rustfmt::skip]
fn header_cases(other_session: &ClientSession) -> Vec<RequestCase<'static>> {
    use Error::*;
    let foreign_sid = other_session.sid().to_hex();
    vec![
        // Version.
        rc("version missing", |p| p.version = None, Some(VersionMismatch)),
        rc("version 2", |p| p.version = Some("2".into()), Some(VersionMismatch)),
        rc("version empty", |p| p.version = Some(String::new()), Some(VersionMismatch)),
        rc("version 1.0", |p| p.version = Some("1.0".into()), Some(VersionMismatch)),
        rc("version padded", |p| p.version = Some(" 1 ".into()), None),
        // Session.
        rc("session missing", |p| p.session = None, Some(SessionHeaderMissing)),
        rc("session empty", |p| p.session = Some(String::new()), Some(SessionExpired)),
        rc("session upper-case", |p| map_header(&mut p.session, str::to_uppercase), Some(SessionExpired)),
        rc("session one digit short", |p| map_header(&mut p.session, |s| s[1..].into()), Some(SessionExpired)),
        rc("session not hex", |p| p.session = Some("z".repeat(32)), Some(SessionExpired)),
        rc("session of another live session", move |p| p.session = Some(foreign_sid.clone()),
            Some(SessionExpired)),
        rc("session other valid id", |p| map_header(&mut p.session, other_sid), Some(SessionExpired)),
        // Signature.
        rc("signature missing", |p| p.signature = None, Some(SignatureMissing)),
        rc("signature not base64", |p| p.signature = Some("not base64!".into()), Some(DecodingFailed)),
        rc("signature empty", |p| p.signature = Some(String::new()), Some(DecodingFailed)),
        rc("signature 31 bytes", |p| p.signature = Some(b64(&[0; 31])), Some(DecodingFailed)),
        rc("signature 33 bytes", |p| p.signature = Some(b64(&[0; 33])), Some(DecodingFailed)),
        rc("signature truncated to 16 bytes",
            |p| map_header(&mut p.signature, |s| b64(&unb64(s).unwrap()[..16])), Some(DecodingFailed)),
        rc("signature first bit flipped",
            |p| map_header(&mut p.signature, |s| flip_b64(s, 0, 0)), Some(SignatureInvalid)),
        rc("signature last bit flipped",
            |p| map_header(&mut p.signature, |s| flip_b64(s, -1, 7)), Some(SignatureInvalid)),
        rc("signature padded", |p| map_header(&mut p.signature, |s| format!(" {s} ")), None),
        // Nonce.
        rc("nonce missing", |p| p.nonce = None, Some(NonceMissing)),
        rc("nonce not base64", |p| p.nonce = Some("@@@@@@@@@@@@@@@@".into()), Some(DecodingFailed)),
        rc("nonce 11 bytes", |p| p.nonce = Some(b64(&[1; 11])), Some(DecodingFailed)),
        rc("nonce 13 bytes", |p| p.nonce = Some(b64(&[1; 13])), Some(DecodingFailed)),
        rc("nonce other valid value", |p| map_header(&mut p.nonce, |s| flip_b64(s, 5, 3)),
            Some(SignatureInvalid)),
        // Timestamp.
        rc("timestamp missing", |p| p.timestamp = None, Some(TimestampMissing)),
        rc("timestamp empty", |p| p.timestamp = Some(String::new()), Some(TimestampMissing)),
        rc("timestamp not decimal", |p| p.timestamp = Some("0x1f".into()), Some(TimestampMissing)),
        rc("timestamp negative", |p| p.timestamp = Some("-1".into()), Some(TimestampMissing)),
        rc("timestamp with sign", |p| p.timestamp = Some(format!("+{NOW}")), Some(TimestampMissing)),
        rc("timestamp with fraction", |p| p.timestamp = Some(format!("{NOW}.0")), Some(TimestampMissing)),
        rc("timestamp 17 digits", |p| p.timestamp = Some("1".repeat(17)), Some(TimestampMissing)),
        rc("timestamp + 1 ms", |p| p.timestamp = Some(format!("{}", NOW + 1)), Some(SignatureInvalid)),
        rc("timestamp - 1 s", |p| p.timestamp = Some(format!("{}", NOW - 1000)), Some(SignatureInvalid)),
        // Method.
        rc("method unsupported", |p| p.method = "OPTIONS".into(), Some(MethodNotSupported)),
        rc("method empty", |p| p.method = String::new(), Some(MethodNotSupported)),
        rc("method CONNECT", |p| p.method = "CONNECT".into(), Some(MethodNotSupported)),
        rc("method lower-case", |p| p.method = p.method.to_lowercase(), Some(MethodNotSupported)),
        rc("method mixed case", |p| p.method = p.method[..1].to_owned() + &p.method[1..].to_lowercase(),
            Some(MethodNotSupported)),
        rc("timestamp leading zero", |p| p.timestamp = Some(format!("0{NOW}")), Some(TimestampMissing)),
        // Idempotency key: signed, so a hop can neither add one nor send a malformed one.
        rc("idempotency key added", |p| p.idempotency_key = Some("k-1".into()), Some(SignatureInvalid)),
        rc("idempotency key empty", |p| p.idempotency_key = Some(String::new()), Some(IdempotencyKeyInvalid)),
        rc("idempotency key too long", |p| p.idempotency_key = Some("k".repeat(129)), Some(IdempotencyKeyInvalid)),
        rc("idempotency key with space", |p| p.idempotency_key = Some("a b".into()), Some(IdempotencyKeyInvalid)),
        // Target.
        rc("path changed", |p| p.target = p.target.replace("~42", "~43"), Some(SignatureInvalid)),
        rc("path prefix changed", |p| p.target = p.target.replace("/api/", "/admin/"), Some(SignatureInvalid)),
        rc("path trailing slash", |p| p.target = p.target.replace('?', "/?"), Some(SignatureInvalid)),
        rc("path upper-case", |p| p.target = p.target.replace("items", "Items"), Some(SignatureInvalid)),
        rc("path slash encoded", |p| p.target = p.target.replace("items/", "items%2F"), Some(SignatureInvalid)),
        rc("query value changed", |p| p.target = p.target.replace("a=1", "a=2"), Some(SignatureInvalid)),
        rc("query key changed", |p| p.target = p.target.replace("a=1", "c=1"), Some(SignatureInvalid)),
        rc("query param added", |p| p.target.push_str("&admin=1"), Some(SignatureInvalid)),
        rc("query flag added", |p| p.target.push_str("&admin"), Some(SignatureInvalid)),
        rc("query param removed", |p| p.target = p.target.replace("b=2&", ""), Some(SignatureInvalid)),
        rc("query param duplicated", |p| p.target.push_str("&a=1"), Some(SignatureInvalid)),
        rc("query removed", |p| p.target.truncate(p.target.find('?').unwrap()), Some(SignatureInvalid)),
        rc("query '+' for '~'", |p| p.target = p.target.replace("x~y", "x+y"), Some(SignatureInvalid)),
        // Re-spellings that some normaliser calls "the same URL": each is another target.
        rc("query respelled: %7E for ~", |p| p.target = p.target.replace('~', "%7E"), Some(SignatureInvalid)),
        rc("query respelled: %7e for ~", |p| p.target = p.target.replace('~', "%7e"), Some(SignatureInvalid)),
        rc("query respelled: reordered",
            |p| p.target = p.target.replace("b=2&a=1&q=x~y", "q=x~y&a=1&b=2"), Some(SignatureInvalid)),
        rc("query respelled: %61 for a, empty pairs",
            |p| p.target = p.target.replace("&a=1", "&&%61=1&"), Some(SignatureInvalid)),
        rc("query: 1000 empty pairs", |p| p.target = p.target.replacen('?', &format!("?{}", "&".repeat(1000)), 1),
            Some(SignatureInvalid)),
        rc("path respelled: %69 for i", |p| p.target = p.target.replacen("items", "%69tems", 1), Some(SignatureInvalid)),
        rc("path dot segment", |p| p.target = p.target.replacen("/api/", "/api/./", 1), Some(SignatureInvalid)),
        rc("path double slash", |p| p.target = p.target.replacen("/api/", "/api//", 1), Some(SignatureInvalid)),
        rc("path ;parameter", |p| p.target = p.target.replace('?', ";x=1?"), Some(SignatureInvalid)),
        rc("scheme in query", |p| p.target = format!("/api/admin/delete-all?x=a://b{}", p.target),
            Some(SignatureInvalid)),
        rc("query broken escape", |p| p.target.push_str("%zz"), Some(SignatureInvalid)),
        rc("invalid target: space", |p| p.target.push_str("a b"), Some(InvalidTarget)),
        rc("invalid target: non-ASCII", |p| p.target.push('é'), Some(InvalidTarget)),
        rc("invalid target: fragment", |p| p.target.push_str("#top"), Some(InvalidTarget)),
        rc("invalid target: relative", |p| { p.target.remove(0); }, Some(InvalidTarget)),
        rc("invalid target: absolute URI", |p| p.target.insert_str(0, "https://api.example"),
            Some(InvalidTarget)),
        rc("invalid target: empty", |p| p.target.clear(), Some(InvalidTarget)),
    ]
}

#[test]
fn post_request_tampering() {
    use Error::*;
    let (client, server) = pair(Mode::Hybrid, None);
    let (other_client, _) = pair_seeded(Mode::Hybrid, None, 21, 22);
    let req = sign(&client, "POST", TARGET, Some(BODY), NOW, 3);
    let sibling = sign(&client, "POST", TARGET, Some(BODY), NOW, 4);
    let sibling_body = sibling.body.clone().unwrap().into_bytes();
    let mut cases = header_cases(&other_client);
    #[rustfmt::skip]
    cases.extend([
        rc("method POST -> PUT", |p| p.method = "PUT".into(), Some(SignatureInvalid)),
        rc("method POST -> PATCH", |p| p.method = "PATCH".into(), Some(SignatureInvalid)),
        rc("method POST -> DELETE", |p| p.method = "DELETE".into(), Some(SignatureInvalid)),
        rc("method POST -> GET", |p| p.method = "GET".into(), Some(BodyNotAllowed)),
        rc("method POST -> HEAD", |p| p.method = "HEAD".into(), Some(BodyNotAllowed)),
        rc("body stripped", |p| p.body = None, Some(SignatureInvalid)),
        rc("body emptied", |p| p.body = Some(Vec::new()), Some(SignatureInvalid)),
        rc("body swapped with another request's (same session, same plaintext)",
            move |p| p.body = Some(sibling_body.clone()), Some(SignatureInvalid)),
        rc("ciphertext bit flipped, tag kept", |p| map_request_ct(p, flip_first), Some(DecryptionFailed)),
        rc("tag bit flipped", |p| map_request_ct(p, flip_last), Some(SignatureInvalid)),
        rc("ciphertext truncated", |p| map_request_ct(p, |b| { b.remove(0); }), Some(SignatureInvalid)),
        rc("ciphertext extended", |p| map_request_ct(p, |b| b.insert(0, 0)), Some(SignatureInvalid)),
        rc("ciphertext shorter than a tag", |p| map_request_ct(p, |b| b.truncate(15)), Some(DecodingFailed)),
        rc("envelope not JSON", |p| p.body = Some(b"ct=abc".to_vec()), Some(InvalidEnvelope)),
        rc("envelope is the plaintext JSON", |p| p.body = Some(BODY.to_vec()), Some(InvalidEnvelope)),
        rc("envelope extra field", |p| {
            let mut v: Value = serde_json::from_slice(p.body.as_ref().unwrap()).unwrap();
            set(&mut v, "n", json!("AAAA"));
            p.body = Some(to_bytes(&v));
        }, Some(InvalidEnvelope)),
        rc("envelope ct missing", |p| p.body = Some(b"{}".to_vec()), Some(InvalidEnvelope)),
        rc("envelope ct not base64", |p| p.body = Some(br##"{"ct":"#$%"}"##.to_vec()), Some(DecodingFailed)),
        rc("body over the maximum", |p| p.body = Some(vec![b' '; MAX_BODY + 1]), Some(BodyTooLarge)),
    ]);
    run_request_cases(&server, "POST", &req, Some(BODY), &cases);
}

#[test]
fn bodyless_request_tampering() {
    use Error::*;
    let (client, server) = pair(Mode::MlKem768, None);
    let (other_client, _) = pair_seeded(Mode::MlKem768, None, 21, 22);
    let with_body = sign(&client, "POST", TARGET, Some(BODY), NOW, 4);
    let foreign_body = with_body.body.clone().unwrap().into_bytes();
    for method in ["GET", "HEAD", "DELETE", "POST"] {
        let req = sign(&client, method, TARGET, None, NOW, 3);
        let (added, plain_added) = if method == "GET" || method == "HEAD" {
            (BodyNotAllowed, BodyNotAllowed)
        } else {
            (SignatureInvalid, InvalidEnvelope)
        };
        let b = foreign_body.clone();
        let other = if method == "GET" { "HEAD" } else { "GET" };
        let mut cases = header_cases(&other_client);
        #[rustfmt::skip]
        cases.extend([
            rc("body added (another request's)", move |p| p.body = Some(b.clone()), Some(added)),
            rc("body added (plaintext)", |p| p.body = Some(BODY.to_vec()), Some(plain_added)),
            rc("empty body added", |p| p.body = Some(Vec::new()), None),
            rc("method changed", move |p| p.method = other.into(), Some(SignatureInvalid)),
        ]);
        run_request_cases(&server, method, &req, None, &cases);
    }
}

#[test]
fn request_sessions_do_not_mix() {
    let (alice, alice_server) = pair(Mode::Hybrid, None);
    let (_, bob_server) = pair_seeded(Mode::Hybrid, None, 21, 22);
    assert_ne!(alice_server.sid(), bob_server.sid());
    let req = sign(&alice, "POST", TARGET, Some(BODY), NOW, 3);
    let p = OwnedParts::from_signed("POST", TARGET, &req);
    // Alice's request handed to Bob's session.
    assert_eq!(
        receive(&bob_server, &p, NOW).map(|o| o.body),
        Err(Error::SessionExpired)
    );
    // Alice's request relabelled with Bob's session id and opened by Bob's session.
    let mut relabelled = p.clone();
    relabelled.session = Some(bob_server.sid().to_hex());
    assert_eq!(
        receive(&bob_server, &relabelled, NOW).map(|o| o.body),
        Err(Error::SignatureInvalid)
    );
    assert!(receive(&alice_server, &p, NOW).is_ok());
}

#[test]
fn request_limits_and_time_window() {
    let (client, server) = pair(Mode::Hybrid, None);
    // The body limit is inclusive.
    let req = sign(&client, "PUT", TARGET, Some(BODY), NOW, 3);
    let p = OwnedParts::from_signed("PUT", TARGET, &req);
    let len = p.body.as_ref().unwrap().len();
    assert!(parse_request(&p.as_parts(), len).is_ok());
    assert_eq!(
        parse_request(&p.as_parts(), len - 1).map(|_| ()),
        Err(Error::BodyTooLarge)
    );

    // ±WINDOW around the server's clock: the edges are inside, one ms further is not.
    #[rustfmt::skip]
    let cases = [
        ("exactly WINDOW old", NOW - WINDOW, Ok(())),
        ("exactly WINDOW ahead", NOW + WINDOW, Ok(())),
        ("WINDOW + 1 ms old", NOW - WINDOW - 1, Err(Error::TimestampOutOfWindow)),
        ("WINDOW + 1 ms ahead", NOW + WINDOW + 1, Err(Error::TimestampOutOfWindow)),
        ("an hour old", NOW - 3_600_000, Err(Error::TimestampOutOfWindow)),
        ("epoch", 0, Err(Error::TimestampOutOfWindow)),
    ];
    for (name, ts, want) in cases {
        let req = sign(&client, "POST", TARGET, Some(BODY), ts, 3);
        let got = receive(&server, &OwnedParts::from_signed("POST", TARGET, &req), NOW);
        assert_eq!(got.map(|_| ()), want, "timestamp {name}");
    }
}

#[test]
fn client_refuses_to_sign_bad_requests() {
    let (client, _) = pair(Mode::Hybrid, None);
    /// Name, method, target, body, the error.
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static [u8]>,
        Error,
    );
    #[rustfmt::skip]
    let cases: [Case; 9] = [
        ("non-JSON body", "POST", TARGET, Some(b"hello"), Error::PayloadNotJson),
        ("JSON with trailing bytes", "POST", TARGET, Some(b"{} {}"), Error::PayloadNotJson),
        ("truncated JSON", "PUT", TARGET, Some(b"{\"a\":"), Error::PayloadNotJson),
        ("JSON string that is not UTF-8", "PATCH", TARGET, Some(b"\"\xff\""), Error::PayloadNotJson),
        ("GET with a body", "GET", TARGET, Some(b"{}"), Error::BodyNotAllowed),
        ("HEAD with a body", "HEAD", TARGET, Some(b"{}"), Error::BodyNotAllowed),
        ("unsupported method", "TRACE", TARGET, None, Error::MethodNotSupported),
        ("relative target", "GET", "api/items", None, Error::InvalidTarget),
        ("space in target", "GET", "/api/a b", None, Error::InvalidTarget),
    ];
    for (name, method, target, body, want) in cases {
        let got = client.sign_request(method, target, body, None, NOW, &mut rng(3));
        assert_eq!(got.map(|_| ()), Err(want), "client signing: {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

#[test]
fn replay_is_caught_then_forgotten_with_the_window() {
    let (client, server) = pair(Mode::Hybrid, None);
    let first = sign(&client, "POST", TARGET, Some(BODY), NOW, 3);
    let first = OwnedParts::from_signed("POST", TARGET, &first);
    let later = sign(&client, "POST", TARGET, Some(BODY), NOW + 5_000, 4);
    let later = OwnedParts::from_signed("POST", TARGET, &later);
    let mut guard = ReplayWindow::new(WINDOW);
    let mut admit = |p: &OwnedParts, now: u64| -> Result<(), Error> {
        let o = receive(&server, p, now)?;
        guard.check_and_record(o.binding.sid(), o.binding.nonce(), o.timestamp, now)
    };

    assert_eq!(admit(&first, NOW), Ok(()));
    assert_eq!(
        admit(&first, NOW),
        Err(Error::NonceReused),
        "same request twice"
    );
    assert_eq!(
        admit(&later, NOW + 5_000),
        Ok(()),
        "a different nonce passes"
    );
    assert_eq!(admit(&later, NOW + 6_000), Err(Error::NonceReused));
    // Still remembered at the last instant the request can pass the window…
    assert_eq!(
        admit(&first, NOW + WINDOW),
        Err(Error::NonceReused),
        "replay at the edge"
    );
    assert_eq!(guard.len(), 2);
    // …and forgotten one ms later, when the window rejects it on its own.
    guard.evict(NOW + WINDOW + 1);
    assert_eq!(guard.len(), 1, "the first nonce is evicted");
    assert_eq!(
        receive(&server, &first, NOW + WINDOW + 1).map(|_| ()),
        Err(Error::TimestampOutOfWindow)
    );
    guard.evict(NOW + 5_000 + WINDOW + 1);
    assert!(guard.is_empty());
}

#[test]
fn replay_guard_keys_by_session_and_forgets_sessions() {
    let a = SessionId::from_bytes([1; 16]);
    let b = SessionId::from_bytes([2; 16]);
    let n = nen_core::crypto::Nonce::from_bytes([9; 12]);
    let mut guard = ReplayWindow::new(WINDOW);
    guard.check_and_record(&a, &n, NOW, NOW).unwrap();
    // The same nonce in another session is not a replay.
    guard.check_and_record(&b, &n, NOW, NOW).unwrap();
    assert_eq!(
        guard.check_and_record(&a, &n, NOW, NOW + 1),
        Err(Error::NonceReused)
    );
    guard.forget_session(&a);
    assert_eq!(guard.len(), 1);
    assert_eq!(
        guard.check_and_record(&b, &n, NOW, NOW + 2),
        Err(Error::NonceReused)
    );
    guard.check_and_record(&a, &n, NOW, NOW + 3).unwrap();
}

#[test]
fn replay_memory_is_bounded_by_rate_times_two_windows() {
    const REQUESTS: u64 = 100_000;
    const RATE_PER_MS: u64 = 1;
    let sessions: Vec<SessionId> = (0..10u8).map(|i| SessionId::from_bytes([i; 16])).collect();
    let mut guard = ReplayWindow::new(WINDOW);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut max_len = 0;
    let mut recent = Vec::new();
    for i in 0..REQUESTS {
        let now = NOW + i / RATE_PER_MS;
        // xorshift: clock skew anywhere in ±WINDOW, a random session.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let ts = now - WINDOW + x % (2 * WINDOW + 1);
        let sid = &sessions[(x >> 40) as usize % sessions.len()];
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&i.to_be_bytes());
        let nonce = nen_core::crypto::Nonce::from_bytes(nonce);
        guard.check_and_record(sid, &nonce, ts, now).unwrap();
        max_len = max_len.max(guard.len());
        if i >= REQUESTS - 3 {
            recent.push((*sid, nonce, ts));
        }
    }
    let bound = (RATE_PER_MS * 2 * WINDOW + 1) as usize;
    assert!(
        max_len <= bound,
        "replay guard held {max_len} nonces, bound {bound}"
    );
    // Eviction did not forget nonces that could still pass the window.
    assert!(max_len > (WINDOW / 2) as usize, "held only {max_len}");
    let end = NOW + (REQUESTS - 1) / RATE_PER_MS;
    for (sid, nonce, ts) in recent {
        assert_eq!(
            guard.check_and_record(&sid, &nonce, ts, end),
            Err(Error::NonceReused)
        );
    }
    guard.evict(end + 2 * WINDOW + 1);
    assert!(guard.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

fn map_envelope(env: &str, f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = parse_json(env);
    f(&mut v);
    to_bytes(&v)
}

#[test]
fn response_tampering() {
    let (client, server) = pair(Mode::Hybrid, None);
    let (_, other_server) = pair_seeded(Mode::Hybrid, None, 21, 22);
    let a = sign(&client, "POST", TARGET, Some(BODY), NOW, 3);
    let b = sign(&client, "POST", TARGET, Some(BODY), NOW, 4);
    let opened_a = receive(&server, &OwnedParts::from_signed("POST", TARGET, &a), NOW).unwrap();
    let opened_b = receive(&server, &OwnedParts::from_signed("POST", TARGET, &b), NOW).unwrap();
    let reply = br#"{"id":42,"ok":true}"#;
    let seal = |s: &ServerSession, binding, seed| {
        s.seal_response(binding, 200, reply, &mut rng(seed))
            .unwrap()
    };
    let env = seal(&server, &opened_a.binding, 5);
    let env_b = seal(&server, &opened_b.binding, 6);
    let foreign = seal(&other_server, &opened_a.binding, 5);
    assert_eq!(
        client
            .open_response(&a, 200, env.as_bytes())
            .and_then(nen_core::response::Answer::into_body)
            .unwrap(),
        reply
    );
    assert_eq!(
        client
            .open_response(&b, 200, env_b.as_bytes())
            .and_then(nen_core::response::Answer::into_body)
            .unwrap(),
        reply
    );

    let edit = |f: fn(&mut Value)| map_envelope(&env, f);
    let n_b = parse_json(&env_b)["n"].clone();
    #[rustfmt::skip]
    let cases: Vec<(&str, &SignedRequest, u16, Vec<u8>)> = vec![
        ("response for A given to B (response swap)", &b, 200, env.clone().into_bytes()),
        ("B's response given to A", &a, 200, env_b.clone().into_bytes()),
        ("status 200 -> 201", &a, 201, env.clone().into_bytes()),
        ("status 200 -> 500", &a, 500, env.clone().into_bytes()),
        ("sealed by another session", &a, 200, foreign.into_bytes()),
        ("ct first bit flipped", &a, 200, edit(|v| map_b64(v, "ct", flip_first))),
        ("tag last bit flipped", &a, 200, edit(|v| map_b64(v, "ct", flip_last))),
        ("ct truncated", &a, 200, edit(|v| map_b64(v, "ct", |b| { b.remove(0); }))),
        ("n flipped", &a, 200, edit(|v| map_b64(v, "n", flip_first))),
        ("n of B's response", &a, 200, map_envelope(&env, |v| set(v, "n", n_b))),
        ("n 11 bytes", &a, 200, edit(|v| map_b64(v, "n", pop))),
        ("n missing", &a, 200, edit(|v| remove(v, "n"))),
        ("ct missing", &a, 200, edit(|v| remove(v, "ct"))),
        ("extra field", &a, 200, edit(|v| set(v, "plain", json!(1)))),
        ("plaintext JSON 2xx", &a, 200, reply.to_vec()),
        ("empty body", &a, 200, Vec::new()),
        ("error body", &a, 401, Error::SignatureInvalid.wire_body().into_bytes()),
    ];
    for (name, req, status, body) in cases {
        assert_eq!(
            client
                .open_response(req, status, &body)
                .and_then(nen_core::response::Answer::into_body),
            Err(Error::ResponseUnbound),
            "response: {name}"
        );
    }

    // The client reads the server's code out of an error body instead.
    for info in CATALOGUE {
        assert_eq!(
            parse_error_body(info.error.wire_body().as_bytes()),
            Some(info.error),
            "{}",
            info.code
        );
    }
    assert_eq!(parse_error_body(br#"{"error":{"code":"ISO-0000"}}"#), None);
    assert_eq!(parse_error_body(reply), None);
}

#[test]
fn head_response_tampering() {
    let (client, server) = pair(Mode::MlKem768, None);
    let head = sign(&client, "HEAD", TARGET, None, NOW, 3);
    let head2 = sign(&client, "HEAD", TARGET, None, NOW, 4);
    // Same seed, same nonce: only the method tells this GET from `head`.
    let get = sign(&client, "GET", TARGET, None, NOW, 3);
    assert_eq!(header(&head, "x-nen-nonce"), header(&get, "x-nen-nonce"));
    let opened = receive(
        &server,
        &OwnedParts::from_signed("HEAD", TARGET, &head),
        NOW,
    )
    .unwrap();
    let opened_get = receive(&server, &OwnedParts::from_signed("GET", TARGET, &get), NOW).unwrap();
    let h = server.seal_head(&opened.binding, 204, &mut rng(5)).unwrap();
    let h_get = server
        .seal_head(&opened_get.binding, 204, &mut rng(5))
        .unwrap();
    client
        .open_head(&head, 204, Some(&h))
        .and_then(nen_core::response::Answer::into_body)
        .unwrap();
    assert_eq!(HEADER_RESPONSE, "x-nen-response");

    let (n, tag) = h.split_once('.').unwrap();
    #[rustfmt::skip]
    let cases: Vec<(&str, &SignedRequest, u16, Option<String>)> = vec![
        ("header missing", &head, 204, None),
        ("header empty", &head, 204, Some(String::new())),
        ("no separator", &head, 204, Some(h.replace('.', ""))),
        ("n flipped", &head, 204, Some(format!("{}.{tag}", flip_b64(n, 0, 0)))),
        ("tag flipped", &head, 204, Some(format!("{n}.{}", flip_b64(tag, -1, 7)))),
        ("tag truncated", &head, 204, Some(format!("{n}.{}", &tag[..tag.len() - 4]))),
        ("halves swapped", &head, 204, Some(format!("{tag}.{n}"))),
        ("status changed", &head, 200, Some(h.clone())),
        ("for another HEAD request", &head2, 204, Some(h.clone())),
        ("used for a GET request", &get, 204, Some(h.clone())),
        ("GET's own header on a GET", &get, 204, Some(h_get.clone())),
    ];
    for (name, req, status, value) in cases {
        assert_eq!(
            client
                .open_head(req, status, value.as_deref())
                .and_then(nen_core::response::Answer::into_body),
            Err(Error::ResponseUnbound),
            "HEAD response: {name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

struct StreamFixture {
    client: ClientSession,
    server: ServerSession,
    req: SignedRequest,
    other_req: SignedRequest,
    nonce_header: String,
    frames: Vec<SseFrame>,
}

fn stream_fixture() -> StreamFixture {
    let (client, server) = pair(Mode::Hybrid, None);
    let req = sign(&client, "POST", "/api/chat", Some(br#"{"q":"hi"}"#), NOW, 3);
    let other_req = sign(&client, "POST", "/api/chat", Some(br#"{"q":"hi"}"#), NOW, 4);
    let parts = OwnedParts::from_signed("POST", "/api/chat", &req);
    let opened = receive(&server, &parts, NOW).unwrap();
    let (mut sealer, nonce_header) = server
        .stream_sealer(&opened.binding, 0, &mut rng(6))
        .unwrap();
    let mut wire = String::new();
    for tok in ["zero", "one", "two"] {
        wire.push_str(&sealer.chunk(tok.as_bytes()).unwrap());
    }
    wire.push_str(&sealer.finish().unwrap());
    assert_eq!(
        sealer.chunk(b"late"),
        Err(Error::Internal),
        "sealer after finish"
    );
    let frames = SseParser::new(1 << 16).feed(wire.as_bytes()).unwrap();
    assert_eq!(frames.len(), 4);
    StreamFixture {
        client,
        server,
        req,
        other_req,
        nonce_header,
        frames,
    }
}

/// What the client makes of `frames`: each frame's result, then `finish()`.
type StreamOutcome = (Vec<Result<StreamEvent, Error>>, Result<(), Error>);

fn open_stream(
    client: &ClientSession,
    req: &SignedRequest,
    nonce_header: &str,
    frames: &[SseFrame],
) -> StreamOutcome {
    let mut opener = client.stream_opener(req, Some(nonce_header)).unwrap();
    let results = frames
        .iter()
        .map(|f| opener.open_frame(f.event.as_deref(), &f.data))
        .collect();
    (results, opener.finish())
}

fn data(s: &str) -> Result<StreamEvent, Error> {
    Ok(StreamEvent::Data(s.as_bytes().to_vec()))
}

fn end() -> Result<StreamEvent, Error> {
    Ok(StreamEvent::End)
}

/// Every frame and `finish()` fail.
fn all_bad() -> StreamOutcome {
    let bad = Error::StreamChunkInvalid;
    (vec![Err(bad), Err(bad), Err(bad), Err(bad)], Err(bad))
}

fn flip_frame(f: &mut SseFrame) {
    f.data = flip_b64(&f.data, 0, 0);
}

#[test]
fn stream_tampering() {
    use Error::{StreamChunkInvalid as Bad, StreamTruncated};
    let fx = stream_fixture();
    let ok = open_stream(&fx.client, &fx.req, &fx.nonce_header, &fx.frames);
    assert_eq!(
        ok,
        (vec![data("zero"), data("one"), data("two"), end()], Ok(()))
    );

    type Edit = fn(&mut Vec<SseFrame>);
    #[rustfmt::skip]
    let cases: Vec<(&str, Edit, StreamOutcome)> = vec![
        ("first chunk flipped", |f| flip_frame(&mut f[0]), all_bad()),
        ("middle chunk flipped", |f| flip_frame(&mut f[1]),
            (vec![data("zero"), Err(Bad), Err(Bad), Err(Bad)], Err(Bad))),
        ("end frame flipped", |f| flip_frame(&mut f[3]),
            (vec![data("zero"), data("one"), data("two"), Err(Bad)], Err(Bad))),
        ("tag of a chunk flipped", |f| f[1].data = flip_b64(&f[1].data, -1, 7),
            (vec![data("zero"), Err(Bad), Err(Bad), Err(Bad)], Err(Bad))),
        ("two chunks reordered", |f| f.swap(1, 2),
            (vec![data("zero"), Err(Bad), Err(Bad), Err(Bad)], Err(Bad))),
        ("middle chunk dropped", |f| { f.remove(1); },
            (vec![data("zero"), Err(Bad), Err(Bad)], Err(Bad))),
        ("chunk duplicated", |f| f.insert(1, f[0].clone()),
            (vec![data("zero"), Err(Bad), Err(Bad), Err(Bad), Err(Bad)], Err(Bad))),
        ("truncated before the end frame", |f| { f.pop(); },
            (vec![data("zero"), data("one"), data("two")], Err(StreamTruncated))),
        ("truncated to nothing", |f| f.clear(), (vec![], Err(StreamTruncated))),
        ("`event: end` stripped from the final frame", |f| f[3].event = None,
            (vec![data("zero"), data("one"), data("two"), Err(Bad)], Err(Bad))),
        ("`event: end` added to a data frame", |f| f[2].event = Some("end".into()),
            (vec![data("zero"), data("one"), Err(Bad), Err(Bad)], Err(Bad))),
        ("unknown event name", |f| f[0].event = Some("update".into()), all_bad()),
        ("`event: message` is a data frame", |f| f[0].event = Some("message".into()),
            (vec![data("zero"), data("one"), data("two"), end()], Ok(()))),
        ("frame after the end", |f| f.push(f[0].clone()),
            (vec![data("zero"), data("one"), data("two"), end(), Err(Bad)], Err(Bad))),
        ("data not base64", |f| f[0].data = "not base64".into(), all_bad()),
        ("data shorter than a tag", |f| f[0].data = b64(&[0; 15]), all_bad()),
        ("data empty", |f| f[0].data.clear(), all_bad()),
    ];
    for (name, edit, want) in cases {
        let mut frames = fx.frames.clone();
        edit(&mut frames);
        let got = open_stream(&fx.client, &fx.req, &fx.nonce_header, &frames);
        assert_eq!(got, want, "stream: {name}");
    }

    // The stream answering one request does not open for another, nor under another nonce.
    assert_eq!(
        open_stream(&fx.client, &fx.other_req, &fx.nonce_header, &fx.frames),
        all_bad(),
        "stream replayed under another request"
    );
    let (other_client, _) = pair_seeded(Mode::Hybrid, None, 21, 22);
    assert_eq!(
        open_stream(&other_client, &fx.req, &fx.nonce_header, &fx.frames),
        all_bad(),
        "stream opened by another session"
    );
    let other_nonce = flip_b64(&fx.nonce_header, 11, 0);
    assert_eq!(
        open_stream(&fx.client, &fx.req, &other_nonce, &fx.frames),
        all_bad(),
        "stream under another X-Nen-Stream-Nonce"
    );

    for (name, header) in [
        ("missing", None),
        ("empty", Some(String::new())),
        ("not base64", Some("!!!!!!!!!!!!!!!!".to_owned())),
        ("11 bytes", Some(b64(&[0; 11]))),
        ("13 bytes", Some(b64(&[0; 13]))),
    ] {
        assert_eq!(
            fx.client
                .stream_opener(&fx.req, header.as_deref())
                .map(|_| ()),
            Err(Error::StreamNonceMissing),
            "X-Nen-Stream-Nonce {name}"
        );
    }
}

#[test]
fn stream_failure_is_reported_and_authenticated() {
    let fx = stream_fixture();
    let parts = OwnedParts::from_signed("POST", "/api/chat", &fx.req);
    let opened = receive(&fx.server, &parts, NOW).unwrap();
    let (mut sealer, nonce) = fx
        .server
        .stream_sealer(&opened.binding, 64, &mut rng(7))
        .unwrap();
    let mut wire = sealer.chunk(b"partial").unwrap();
    wire.push_str(&sealer.fail(Error::StoreUnavailable).unwrap());
    assert!(sealer.is_finished());
    assert_eq!(sealer.finish(), Err(Error::Internal));
    let frames = SseParser::new(1 << 16).feed(wire.as_bytes()).unwrap();

    let (results, finish) = open_stream(&fx.client, &fx.req, &nonce, &frames);
    assert_eq!(results, vec![data("partial"), Err(Error::StoreUnavailable)]);
    assert_eq!(
        finish,
        Ok(()),
        "an authenticated failure is a complete stream"
    );

    // The error frame is as authenticated as any other.
    let mut flipped = frames.clone();
    flip_frame(&mut flipped[1]);
    let (results, finish) = open_stream(&fx.client, &fx.req, &nonce, &flipped);
    assert_eq!(
        results,
        vec![data("partial"), Err(Error::StreamChunkInvalid)]
    );
    assert_eq!(finish, Err(Error::StreamChunkInvalid));

    // A frame after the failure poisons the stream.
    let mut extra = frames.clone();
    extra.push(frames[0].clone());
    let (results, finish) = open_stream(&fx.client, &fx.req, &nonce, &extra);
    assert_eq!(results[2], Err(Error::StreamChunkInvalid));
    assert_eq!(finish, Err(Error::StreamChunkInvalid));
}

// ---------------------------------------------------------------------------------------------
// Wrapped sessions
// ---------------------------------------------------------------------------------------------

#[test]
fn session_wrap_tampering() {
    let (client, server) = pair(Mode::Hybrid, None);
    let key = AeadKey::from_bytes([0x42; 32]);
    let wrapped = wrap(&key, &server, &mut rng(8)).unwrap();
    assert_eq!(wrapped.len(), nen_core::session::WRAPPED_LEN);

    // Round trip: the unwrapped session is the same session.
    let restored = unwrap(&key, server.sid(), &wrapped).unwrap();
    assert_eq!(restored.sid(), server.sid());
    assert_eq!(restored.mode(), server.mode());
    assert_eq!(restored.expires_at(), server.expires_at());
    let req = sign(&client, "POST", TARGET, Some(BODY), NOW, 3);
    let parts = OwnedParts::from_signed("POST", TARGET, &req);
    let opened = receive(&restored, &parts, NOW).unwrap();
    assert_eq!(opened.body.as_deref(), Some(BODY));
    let env = restored
        .seal_response(&opened.binding, 200, b"[1]", &mut rng(5))
        .unwrap();
    assert_eq!(
        client
            .open_response(&req, 200, env.as_bytes())
            .and_then(nen_core::response::Answer::into_body)
            .unwrap(),
        b"[1]"
    );

    let sid = *server.sid();
    let other_sid = SessionId::from_bytes([0; 16]);
    let other_key = AeadKey::from_bytes([0x43; 32]);
    let changed = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut w = wrapped.clone();
        f(&mut w);
        w
    };
    #[rustfmt::skip]
    let cases: Vec<(String, &AeadKey, &SessionId, Vec<u8>)> = vec![
        ("wrong wrapping key".into(), &other_key, &sid, wrapped.clone()),
        ("wrong sid".into(), &key, &other_sid, wrapped.clone()),
        ("truncated by one byte".into(), &key, &sid, changed(&|w| { w.pop(); })),
        ("extended by one byte".into(), &key, &sid, changed(&|w| w.push(0))),
        ("empty".into(), &key, &sid, Vec::new()),
        ("version 1".into(), &key, &sid, changed(&|w| w[0] = 1)),
        ("version 3".into(), &key, &sid, changed(&|w| w[0] = 3)),
    ];
    let flips = (0..wrapped.len()).map(|i| {
        let name = format!("byte {i} flipped");
        (name, &key, &sid, changed(&|w| w[i] ^= 1))
    });
    for (name, k, s, entry) in cases.into_iter().chain(flips) {
        assert_eq!(
            unwrap(k, s, &entry).map(|_| ()),
            Err(Error::StoreCorrupt),
            "wrapped session: {name}"
        );
    }

    // Nothing of the session is in the clear: two wraps share no 16-byte run, and the expiry
    // (a known plaintext field) does not appear.
    let again = wrap(&key, &server, &mut rng(9)).unwrap();
    assert_ne!(again, wrapped);
    let runs: std::collections::HashSet<&[u8]> = wrapped[1..].windows(16).collect();
    assert!(
        again[1..].windows(16).all(|w| !runs.contains(w)),
        "two wraps of one session share plaintext"
    );
    let exp = server.expires_at().to_be_bytes();
    assert!(!wrapped.windows(8).any(|w| w == exp), "expiry in the clear");
    assert!(unwrap(&key, &sid, &again).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Envelopes written as arrays (serde reads a struct from an array of its fields): every one of
// them must be refused as not an object, with the code malformed JSON gets. Found by the
// adversarial suite over HTTP (packages/server/test/adversarial.test.mjs).
// ---------------------------------------------------------------------------------------------

/// `{"a":x,"b":y}` → `[x,y]`: the values in the order of the struct's `fields`, which is the
/// order serde reads them from an array.
fn as_array(body: &[u8], fields: &[&str]) -> Vec<u8> {
    let v: Value = serde_json::from_slice(body).unwrap();
    serde_json::to_vec(&fields.iter().map(|f| v[*f].clone()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn envelopes_written_as_arrays_are_refused() {
    // Handshake request.
    let hs = to_bytes(&handshake_request(Mode::Hybrid));
    assert!(serve(&hs, &[Mode::Hybrid]).is_ok());
    assert_eq!(
        serve(
            &as_array(&hs, &["v", "mode", "ek", "x25519"]),
            &[Mode::Hybrid]
        ),
        Err(Error::InvalidEnvelope)
    );

    // Request body, on a session whose honest request opens.
    let (c, s) = pair(Mode::Hybrid, None);
    let req = c
        .sign_request("POST", "/api/x", Some(b"{\"a\":1}"), None, NOW, &mut rng(3))
        .unwrap();
    let honest = OwnedParts::from_signed("POST", "/api/x", &req);
    let opened = s
        .open_request(
            parse_request(&honest.as_parts(), 1 << 20).unwrap(),
            NOW,
            WINDOW,
        )
        .unwrap();
    let mut arrayed = OwnedParts::from_signed("POST", "/api/x", &req);
    arrayed.body = arrayed.body.as_deref().map(|b| as_array(b, &["ct"]));
    assert_eq!(
        parse_request(&arrayed.as_parts(), 1 << 20).err(),
        Some(Error::InvalidEnvelope)
    );

    // Response body: the client refuses the array form of a genuine answer.
    let sealed = s
        .seal_response(&opened.binding, 200, b"{\"ok\":true}", &mut rng(4))
        .unwrap();
    assert!(c.open_response(&req, 200, sealed.as_bytes()).is_ok());
    assert_eq!(
        c.open_response(&req, 200, &as_array(sealed.as_bytes(), &["ct", "n"]))
            .err(),
        Some(Error::ResponseUnbound)
    );

    // Error body.
    let err = Error::SignatureInvalid.wire_body();
    assert_eq!(
        parse_error_body(err.as_bytes()),
        Some(Error::SignatureInvalid)
    );
    assert_eq!(
        parse_error_body(&as_array(err.as_bytes(), &["error"])),
        None
    );
}
