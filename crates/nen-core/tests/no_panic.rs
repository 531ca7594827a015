//! Property tests: no input makes the protocol panic, every failure is a catalogued code from
//! the set the function documents, and nothing tampered opens as if it were genuine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

mod common;
use common::*;
use nen_core::crypto::{sha256, AeadKey, MLDSA_SIG_LEN, MLDSA_VK_LEN};
use nen_core::handshake::{server_handshake, ClientHandshake, IdentityPin, ServerConfig};
use nen_core::request::{parse_request, RequestParts, SignedRequest};
use nen_core::session::{unwrap, wrap, WRAPPED_LEN};
use nen_core::stream::{SseFrame, SseParser, StreamEvent};
use nen_core::target::check_target;
use nen_core::types::{check_version, parse_timestamp, Method};
use nen_core::wire::{self, b64, unb64};
use nen_core::{ClientSession, Error, Mode, ServerSession, SessionId, CATALOGUE};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use std::sync::OnceLock;

const CASES: u32 = 256;
const TARGET: &str = "/api/items/42?b=2&a=1";
const BODY: &[u8] = br#"{"name":"widget","qty":3}"#;
const MAX_BODY: usize = 1 << 16;

// ---------------------------------------------------------------------------------------------
// Allowed failures, per function
// ---------------------------------------------------------------------------------------------

const SERVER_HANDSHAKE: &[Error] = &[
    Error::InvalidEnvelope,
    Error::VersionMismatch,
    Error::UnsupportedMode,
    Error::HandshakeMissingPublicKey,
    Error::DecodingFailed,
    Error::HandshakeFailed,
];
const CLIENT_FINISH: &[Error] = &[
    Error::HandshakeBadResponse,
    Error::VersionMismatch,
    Error::TranscriptMismatch,
    Error::IdentityMissing,
    Error::IdentitySignatureInvalid,
    Error::KeyConfirmationFailed,
];
const PARSE_REQUEST: &[Error] = &[
    Error::MethodNotSupported,
    Error::VersionMismatch,
    Error::SessionHeaderMissing,
    Error::SignatureMissing,
    Error::NonceMissing,
    Error::TimestampMissing,
    Error::DecodingFailed,
    Error::SessionExpired,
    Error::BodyNotAllowed,
    Error::BodyTooLarge,
    Error::InvalidEnvelope,
    Error::InvalidTarget,
];
const OPEN_REQUEST: &[Error] = &[
    Error::SessionExpired,
    Error::SignatureInvalid,
    Error::TimestampOutOfWindow,
    Error::DecryptionFailed,
    Error::PayloadNotJson,
];

/// `e` is in the catalogue, its code maps back to it, and it is one `allowed` documents.
fn check_err(e: Error, allowed: &[Error], what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        CATALOGUE.iter().any(|i| i.error == e),
        "{what}: {e:?} not catalogued"
    );
    prop_assert_eq!(Error::from_code(e.code()), Some(e));
    prop_assert!(allowed.contains(&e), "{}: unexpected {:?}", what, e);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Fixtures, built once
// ---------------------------------------------------------------------------------------------

struct World {
    client: ClientSession,
    server: ServerSession,
    /// A signed POST with a body, and what the server receives for it.
    req: SignedRequest,
    parts: OwnedParts,
    head_req: SignedRequest,
    /// The sealed 200 response to `req`, and the HEAD header for `head_req`.
    envelope: String,
    head_header: String,
    /// A stream answering `req`: its nonce header, its wire and its frames.
    stream_nonce: String,
    stream_wire: String,
    frames: Vec<SseFrame>,
    wrap_key: AeadKey,
    wrapped: Vec<u8>,
    /// The answers to `ClientHandshake::start(Hybrid, rng(1))`, without and with identity.
    hs_request: String,
    hs_response: String,
    hs_response_signed: String,
    pin: IdentityPin,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let (client, server) = pair(Mode::Hybrid, None);
        let req = client
            .sign_request("POST", TARGET, Some(BODY), None, NOW, &mut rng(3))
            .unwrap();
        let parts = OwnedParts::from_signed("POST", TARGET, &req);
        let opened = server
            .open_request(
                parse_request(&parts.as_parts(), MAX_BODY).unwrap(),
                NOW,
                WINDOW,
            )
            .unwrap();
        let head_req = client
            .sign_request("HEAD", TARGET, None, None, NOW, &mut rng(4))
            .unwrap();
        let head_opened = server
            .open_request(
                parse_request(
                    &OwnedParts::from_signed("HEAD", TARGET, &head_req).as_parts(),
                    MAX_BODY,
                )
                .unwrap(),
                NOW,
                WINDOW,
            )
            .unwrap();
        let envelope = server
            .seal_response(&opened.binding, 200, br#"{"ok":true}"#, &mut rng(5))
            .unwrap();
        let head_header = server
            .seal_head(&head_opened.binding, 200, &mut rng(5))
            .unwrap();
        let (mut sealer, stream_nonce) = server
            .stream_sealer(&opened.binding, 0, &mut rng(6))
            .unwrap();
        let mut stream_wire = String::new();
        for tok in ["alpha", "beta", "gamma"] {
            stream_wire.push_str(&sealer.chunk(tok.as_bytes()).unwrap());
        }
        stream_wire.push_str(&sealer.finish().unwrap());
        let frames = SseParser::new(1 << 16)
            .feed(stream_wire.as_bytes())
            .unwrap();
        let wrap_key = AeadKey::from_bytes([0x42; 32]);
        let wrapped = wrap(&wrap_key, &server, &mut rng(7)).unwrap();

        let hs = ClientHandshake::start(Mode::Hybrid, &mut rng(1)).unwrap();
        let hs_request = hs.request_body();
        let id = identity();
        let answer = |identity| {
            server_handshake(
                hs_request.as_bytes(),
                &config(identity),
                None,
                NOW,
                &mut rng(2),
            )
            .unwrap()
            .1
        };
        let hs_response = answer(None);
        let hs_response_signed = answer(Some(&id));
        World {
            client,
            server,
            req,
            parts,
            head_req,
            envelope,
            head_header,
            stream_nonce,
            stream_wire,
            frames,
            wrap_key,
            wrapped,
            hs_request,
            hs_response,
            hs_response_signed,
            pin: IdentityPin::new(id.public_key()).unwrap(),
        }
    })
}

/// The client handshake `World::hs_response*` answer (regenerated: `finish` consumes it).
fn client_handshake() -> ClientHandshake {
    ClientHandshake::start(Mode::Hybrid, &mut rng(1)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Up to four byte flips (XOR with a non-zero byte) at arbitrary positions.
fn flips() -> impl Strategy<Value = Vec<(Index, u8)>> {
    prop::collection::vec((any::<Index>(), 1u8..=255), 1..4)
}

fn apply_flips(base: &[u8], flips: &[(Index, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    if !v.is_empty() {
        for (i, x) in flips {
            let k = i.index(v.len());
            v[k] ^= x;
        }
    }
    v
}

fn flip_str(base: &str, flips: &[(Index, u8)]) -> String {
    String::from_utf8_lossy(&apply_flips(base.as_bytes(), flips)).into_owned()
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

/// Strings that are mostly near the alphabets the protocol uses, sometimes anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9+/=]{0,64}",
        "[0-9a-f]{30,34}",
        "[0-9]{0,18}",
        "[ -~]{0,40}",
    ]
}

/// An ML-KEM-768 encapsulation key that passes the modulus check: 768 coefficients below q
/// and a random ρ.
fn valid_ek() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(0u16..3329, 768),
        prop::array::uniform32(any::<u8>()),
    )
        .prop_map(|(coeffs, rho)| {
            let mut ek = Vec::with_capacity(1184);
            for p in coeffs.chunks_exact(2) {
                ek.push(p[0] as u8);
                ek.push((p[0] >> 8) as u8 | ((p[1] & 0x0f) << 4) as u8);
                ek.push((p[1] >> 4) as u8);
            }
            ek.extend_from_slice(&rho);
            ek
        })
}

fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<bool>().prop_map(|b| json!(b)),
        text().prop_map(Value::String),
    ]
}

/// An optional JSON field: absent, the given valid value, or some other scalar.
fn field(valid: BoxedStrategy<Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        3 => valid.prop_map(Some),
        1 => json_scalar().prop_map(Some),
    ]
}

fn b64_of(s: impl Strategy<Value = Vec<u8>> + 'static) -> BoxedStrategy<Value> {
    s.prop_map(|b| Value::String(b64(&b))).boxed()
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Vec<u8> {
    let map: serde_json::Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    serde_json::to_vec(&Value::Object(map)).unwrap()
}

/// A header value: the genuine one, absent, or something else.
fn header_value(valid: Option<String>) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => Just(valid.clone()),
        1 => Just(None),
        1 => text().prop_map(Some),
        1 => (Just(valid.unwrap_or_default()), flips()).prop_map(|(v, f)| Some(flip_str(&v, &f))),
    ]
}

/// URL-ish targets, often valid, sometimes broken.
fn any_target() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(TARGET.to_owned()),
        2 => "/[a-zA-Z0-9~._%!$&'()*+,;=:@/? #-]{0,40}",
        1 => "(/|%|\\?)[0-9a-fA-FgG%?&=/]{0,20}",
        1 => any::<String>(),
        1 => (Just(TARGET.to_owned()), flips()).prop_map(|(t, f)| flip_str(&t, &f)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------------

fn serve(body: &[u8]) -> Result<(), Error> {
    let config = ServerConfig {
        modes: &[Mode::Hybrid, Mode::MlKem768],
        ttl_ms: TTL,
        identity: None,
    };
    server_handshake(body, &config, None, NOW, &mut rng(2)).map(|_| ())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn server_handshake_raw_bytes(body in bytes(2048)) {
        if let Err(e) = serve(&body) {
            check_err(e, SERVER_HANDSHAKE, "server_handshake(bytes)")?;
        }
    }

    #[test]
    fn server_handshake_flipped_request(f in flips()) {
        let body = apply_flips(world().hs_request.as_bytes(), &f);
        if let Err(e) = serve(&body) {
            check_err(e, SERVER_HANDSHAKE, "server_handshake(flipped)")?;
        }
    }

    #[test]
    fn server_handshake_structured(
        v in field(prop_oneof![Just(json!(1)), any::<u8>().prop_map(|n| json!(n))].boxed()),
        mode in field(prop_oneof![Just(json!("hybrid")), Just(json!("mlkem768"))].boxed()),
        ek in field(prop_oneof![
            3 => b64_of(valid_ek()),
            1 => b64_of(prop::collection::vec(any::<u8>(), 1180..1190)),
        ].boxed()),
        x in field(prop_oneof![
            3 => b64_of(prop::collection::vec(any::<u8>(), 32)),
            1 => b64_of(bytes(40)),
        ].boxed()),
    ) {
        let body = object(vec![("v", v), ("mode", mode), ("ek", ek), ("x25519", x)]);
        if let Err(e) = serve(&body) {
            check_err(e, SERVER_HANDSHAKE, "server_handshake(structured)")?;
        }
    }

    #[test]
    fn client_finish_raw_bytes(body in bytes(4096), pinned: bool) {
        let pin = pinned.then_some(&world().pin);
        if let Err(e) = client_handshake().finish(&body, pin) {
            check_err(e, CLIENT_FINISH, "finish(bytes)")?;
        }
    }

    #[test]
    fn client_finish_flipped_response(f in flips(), signed: bool) {
        let w = world();
        let (genuine, pin) = if signed {
            (&w.hs_response_signed, Some(&w.pin))
        } else {
            (&w.hs_response, None)
        };
        let body = apply_flips(genuine.as_bytes(), &f);
        match client_handshake().finish(&body, pin) {
            Ok(_) => prop_assert_eq!(&body[..], genuine.as_bytes(), "a tampered response was accepted"),
            Err(e) => check_err(e, CLIENT_FINISH, "finish(flipped)")?,
        }
    }

    #[test]
    fn client_finish_forged_signature(
        sig_flips in prop::collection::vec((any::<Index>(), 1u8..=255), 1..4),
        tail: bool,
    ) {
        // Flip bytes of a genuine signature, biased towards its tail (the hint encoding).
        let w = world();
        let mut v: Value = serde_json::from_str(&w.hs_response_signed).unwrap();
        let mut sig = unb64(v["sig"].as_str().unwrap()).unwrap();
        assert_eq!(sig.len(), MLDSA_SIG_LEN);
        let start = if tail { MLDSA_SIG_LEN - 64 } else { 0 };
        let mut changed = sig.clone();
        for (i, x) in &sig_flips {
            changed[start + i.index(MLDSA_SIG_LEN - start)] ^= x;
        }
        let unchanged = changed == sig;
        sig = changed;
        v["sig"] = json!(b64(&sig));
        let r = client_handshake().finish(&serde_json::to_vec(&v).unwrap(), Some(&w.pin));
        if unchanged {
            prop_assert!(r.is_ok());
        } else {
            prop_assert_eq!(r.map(|_| ()), Err(Error::IdentitySignatureInvalid));
        }
    }

    #[test]
    fn client_finish_arbitrary_pin_and_signature(
        vk in prop::collection::vec(any::<u8>(), MLDSA_VK_LEN),
        sig in prop::collection::vec(any::<u8>(), MLDSA_SIG_LEN),
    ) {
        // A pin of arbitrary bytes, a response whose kid matches it and an arbitrary signature:
        // the verifier must reject (and not panic on) whatever key and signature it decodes.
        let w = world();
        let pin = IdentityPin::new(&vk).unwrap();
        let mut v: Value = serde_json::from_str(&w.hs_response_signed).unwrap();
        v["kid"] = json!(b64(&sha256(&[&vk])));
        v["sig"] = json!(b64(&sig));
        let r = client_handshake().finish(&serde_json::to_vec(&v).unwrap(), Some(&pin));
        prop_assert_eq!(r.map(|_| ()), Err(Error::IdentitySignatureInvalid));
    }

    #[test]
    fn client_finish_structured(
        fields in prop::collection::vec((
            prop::sample::select(vec!["v", "mode", "sid", "ct", "x25519", "exp", "kid", "sig", "confirm"]),
            json_scalar(),
        ), 0..4),
        drop in prop::collection::vec(
            prop::sample::select(vec!["v", "mode", "sid", "ct", "x25519", "exp", "kid", "sig", "confirm"]),
            0..2,
        ),
        pinned: bool,
    ) {
        let w = world();
        let mut v: Value = serde_json::from_str(&w.hs_response_signed).unwrap();
        let obj = v.as_object_mut().unwrap();
        for k in &drop {
            obj.remove(*k);
        }
        for (k, val) in &fields {
            obj.insert((*k).to_owned(), val.clone());
        }
        let body = serde_json::to_vec(&v).unwrap();
        let pin = pinned.then_some(&w.pin);
        match client_handshake().finish(&body, pin) {
            Ok(_) => {
                let mut genuine: Value = serde_json::from_str(&w.hs_response_signed).unwrap();
                if !pinned {
                    // Without a pin there is no key to check `sig` against: it is not part of
                    // the transcript (it signs it), so only its presence and base64 matter.
                    genuine.as_object_mut().unwrap().remove("sig");
                    v.as_object_mut().unwrap().remove("sig");
                }
                prop_assert_eq!(v, genuine, "a changed response was accepted");
            }
            Err(e) => check_err(e, CLIENT_FINISH, "finish(structured)")?,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Parses and opens `p`; whatever opens must be the genuine request, byte for byte.
fn parse_and_open(p: &OwnedParts, what: &str) -> Result<(), TestCaseError> {
    let w = world();
    match parse_request(&p.as_parts(), MAX_BODY) {
        Err(e) => check_err(e, PARSE_REQUEST, what),
        Ok(parsed) => match w.server.open_request(parsed, NOW, WINDOW) {
            Err(e) => check_err(e, OPEN_REQUEST, what),
            Ok(opened) => {
                prop_assert_eq!(opened.body.as_deref(), Some(BODY), "{}: forged body", what);
                prop_assert_eq!(&opened.binding, &w.req.binding, "{}: forged binding", what);
                prop_assert_eq!(opened.timestamp, NOW);
                prop_assert_eq!(&p.target, &w.parts.target, "{}: target", what);
                prop_assert_eq!(&p.method, &w.parts.method, "{}: method", what);
                Ok(())
            }
        },
    }
}

fn any_method() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("POST".to_owned()),
        2 => "(?i)(get|head|post|put|patch|delete)",
        1 => any::<String>(),
    ]
}

fn any_body() -> impl Strategy<Value = Option<Vec<u8>>> {
    let genuine = world().parts.body.clone();
    prop_oneof![
        3 => Just(genuine.clone()),
        1 => Just(None),
        1 => bytes(256).prop_map(Some),
        1 => (Just(genuine.unwrap()), flips()).prop_map(|(b, f)| Some(apply_flips(&b, &f))),
        1 => b64_of(bytes(64)).prop_map(|ct| Some(serde_json::to_vec(&json!({ "ct": ct })).unwrap())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn parse_request_arbitrary_strings(
        method in any::<String>(),
        target in any::<String>(),
        version in prop::option::of(any::<String>()),
        session in prop::option::of(any::<String>()),
        timestamp in prop::option::of(any::<String>()),
        nonce in prop::option::of(any::<String>()),
        signature in prop::option::of(any::<String>()),
        body in prop::option::of(bytes(512)),
        max_body in 0usize..1024,
    ) {
        let parts = RequestParts {
            method: &method,
            target: &target,
            version: version.as_deref(),
            session: session.as_deref(),
            timestamp: timestamp.as_deref(),
            nonce: nonce.as_deref(),
            signature: signature.as_deref(),
            idempotency_key: None,
            body: body.as_deref(),
        };
        if let Err(e) = parse_request(&parts, max_body) {
            check_err(e, PARSE_REQUEST, "parse_request(arbitrary)")?;
        }
    }

    #[test]
    fn request_near_genuine(
        method in any_method(),
        target in any_target(),
        version in header_value(Some("1".to_owned())),
        session in header_value(world().parts.session.clone()),
        timestamp in header_value(world().parts.timestamp.clone()),
        nonce in header_value(world().parts.nonce.clone()),
        signature in header_value(world().parts.signature.clone()),
        body in any_body(),
    ) {
        let p = OwnedParts { method, target, version, session, timestamp, nonce, signature, idempotency_key: None, body };
        parse_and_open(&p, "request(near genuine)")?;
    }

    #[test]
    fn request_one_field_flipped(field in 0usize..8, f in flips()) {
        let mut p = world().parts.clone();
        let flip_opt = |s: &mut Option<String>| *s = s.as_deref().map(|s| flip_str(s, &f));
        match field {
            0 => p.method = flip_str(&p.method, &f),
            1 => p.target = flip_str(&p.target, &f),
            2 => flip_opt(&mut p.version),
            3 => flip_opt(&mut p.session),
            4 => flip_opt(&mut p.timestamp),
            5 => flip_opt(&mut p.nonce),
            6 => flip_opt(&mut p.signature),
            _ => p.body = p.body.as_deref().map(|b| apply_flips(b, &f)),
        }
        parse_and_open(&p, "request(one field flipped)")?;
    }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn open_response_arbitrary(status: u16, body in bytes(512)) {
        let w = world();
        prop_assert_eq!(w.client.open_response(&w.req, status, &body).and_then(nen_core::response::Answer::into_body), Err(Error::ResponseUnbound));
    }

    #[test]
    fn open_response_arbitrary_envelope(ct in bytes(128), n in bytes(16), status: u16) {
        let w = world();
        let body = serde_json::to_vec(&json!({ "ct": b64(&ct), "n": b64(&n) })).unwrap();
        prop_assert_eq!(w.client.open_response(&w.req, status, &body).and_then(nen_core::response::Answer::into_body), Err(Error::ResponseUnbound));
    }

    #[test]
    fn open_response_flipped(f in flips()) {
        let w = world();
        let body = apply_flips(w.envelope.as_bytes(), &f);
        let r = w.client.open_response(&w.req, 200, &body).and_then(nen_core::response::Answer::into_body);
        if body == w.envelope.as_bytes() {
            prop_assert!(r.is_ok());
        } else {
            prop_assert_eq!(r, Err(Error::ResponseUnbound));
        }
    }

    #[test]
    fn open_head_arbitrary(header in prop::option::of(text()), status: u16, head: bool) {
        let w = world();
        let req = if head { &w.head_req } else { &w.req };
        prop_assert_eq!(w.client.open_head(req, status, header.as_deref()).and_then(nen_core::response::Answer::into_body), Err(Error::ResponseUnbound));
    }

    #[test]
    fn open_head_flipped(f in flips()) {
        let w = world();
        let h = flip_str(&w.head_header, &f);
        let r = w.client.open_head(&w.head_req, 200, Some(&h)).and_then(nen_core::response::Answer::into_body);
        if h == w.head_header {
            prop_assert_eq!(r, Ok(Vec::new()));
        } else {
            prop_assert_eq!(r, Err(Error::ResponseUnbound));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

/// A transport-level edit of a stream.
#[derive(Clone, Debug)]
enum Edit {
    Drop(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Flip(Index, Vec<(Index, u8)>),
    Event(Index, Option<String>),
    Insert(Index, Option<String>, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let event = prop::option::of(prop_oneof![
        Just("end".to_owned()),
        Just("message".to_owned()),
        text()
    ]);
    prop_oneof![
        any::<Index>().prop_map(Edit::Drop),
        any::<Index>().prop_map(Edit::Duplicate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<Index>(), flips()).prop_map(|(i, f)| Edit::Flip(i, f)),
        (any::<Index>(), event.clone()).prop_map(|(i, e)| Edit::Event(i, e)),
        (any::<Index>(), event, text()).prop_map(|(i, e, d)| Edit::Insert(i, e, d)),
    ]
}

fn apply_edit(frames: &mut Vec<SseFrame>, e: &Edit) {
    if frames.is_empty() {
        if let Edit::Insert(_, event, data) = e {
            frames.push(SseFrame {
                event: event.clone(),
                data: data.clone(),
            });
        }
        return;
    }
    let n = frames.len();
    match e {
        Edit::Drop(i) => {
            frames.remove(i.index(n));
        }
        Edit::Duplicate(i) => {
            let f = frames[i.index(n)].clone();
            frames.insert(i.index(n), f);
        }
        Edit::Swap(a, b) => frames.swap(a.index(n), b.index(n)),
        Edit::Flip(i, f) => {
            let fr = &mut frames[i.index(n)];
            fr.data = flip_str(&fr.data, f);
        }
        Edit::Event(i, ev) => frames[i.index(n)].event = ev.clone(),
        Edit::Insert(i, event, data) => frames.insert(
            i.index(n + 1),
            SseFrame {
                event: event.clone(),
                data: data.clone(),
            },
        ),
    }
}

/// Splits `bytes` at the given cut points.
fn pieces<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for c in at {
        out.push(&bytes[prev..c]);
        prev = c;
    }
    out.push(&bytes[prev..]);
    out
}

/// Feeds `pieces` one by one; the frames, or the first error.
fn feed_all(parser: &mut SseParser, pieces: &[&[u8]]) -> Result<Vec<SseFrame>, Error> {
    let mut frames = Vec::new();
    for p in pieces {
        frames.extend(parser.feed(p)?);
    }
    Ok(frames)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn stream_edits_never_yield_forged_data(edits in prop::collection::vec(edit(), 1..4)) {
        let w = world();
        let genuine: Vec<&[u8]> = vec![b"alpha", b"beta", b"gamma"];
        let mut frames = w.frames.clone();
        for e in &edits {
            apply_edit(&mut frames, e);
        }
        let mut opener = w.client.stream_opener(&w.req, Some(&w.stream_nonce)).unwrap();
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut ended = false;
        let mut failed = false;
        for f in &frames {
            match opener.open_frame(f.event.as_deref(), &f.data) {
                Ok(StreamEvent::Data(d)) => {
                    prop_assert!(!failed && !ended, "data after the end or after a failure");
                    got.push(d);
                }
                Ok(StreamEvent::End) => {
                    prop_assert!(!failed && !ended);
                    ended = true;
                }
                Err(e) => {
                    prop_assert_eq!(e, Error::StreamChunkInvalid);
                    failed = true;
                }
            }
        }
        // Whatever was delivered is a prefix of what the server sent, in order.
        prop_assert!(got.len() <= genuine.len());
        prop_assert!(got.iter().zip(&genuine).all(|(a, b)| a == b), "forged or reordered data");
        let complete = ended && !failed;
        match opener.finish() {
            Ok(()) => {
                prop_assert!(complete);
                prop_assert_eq!(got.len(), genuine.len(), "end accepted with data missing");
                // Only a spelling the SSE format treats as equal may differ.
                let norm = |f: &[SseFrame]| -> Vec<(Option<String>, String)> {
                    f.iter()
                        .map(|f| (f.event.clone().filter(|e| e != "message"), f.data.clone()))
                        .collect()
                };
                prop_assert_eq!(norm(&frames), norm(&w.frames), "an edited stream was accepted whole");
            }
            Err(e) => {
                prop_assert!(!complete);
                prop_assert!(
                    e == if failed { Error::StreamChunkInvalid } else { Error::StreamTruncated },
                    "finish: {:?}", e
                );
            }
        }
    }

    #[test]
    fn stream_arbitrary_frames(
        header in prop::option::of(text()),
        frames in prop::collection::vec((prop::option::of(text()), text()), 0..4),
    ) {
        let w = world();
        match w.client.stream_opener(&w.req, header.as_deref()) {
            Err(e) => prop_assert_eq!(e, Error::StreamNonceMissing),
            Ok(mut opener) => {
                for (event, data) in &frames {
                    prop_assert_eq!(
                        opener.open_frame(event.as_deref(), data),
                        Err(Error::StreamChunkInvalid)
                    );
                }
                prop_assert!(opener.finish().is_err());
            }
        }
    }

    #[test]
    fn sse_parser_arbitrary(input in bytes(512), cuts in prop::collection::vec(any::<Index>(), 0..6), max_line in 0usize..64) {
        let pieces = pieces(&input, &cuts);
        if let Err(e) = feed_all(&mut SseParser::new(max_line), &pieces) {
            prop_assert_eq!(e, Error::StreamChunkInvalid);
        }
        // With no line limit in play, how the bytes are cut does not matter.
        let whole = SseParser::new(1024).feed(&input);
        let cut = feed_all(&mut SseParser::new(1024), &pieces);
        prop_assert_eq!(whole, cut);
    }

    #[test]
    fn sse_parser_genuine_stream_any_cut(cuts in prop::collection::vec(any::<Index>(), 0..12), crlf: bool) {
        let w = world();
        let wire = if crlf { w.stream_wire.replace('\n', "\r\n") } else { w.stream_wire.clone() };
        let frames = feed_all(&mut SseParser::new(1 << 16), &pieces(wire.as_bytes(), &cuts));
        prop_assert_eq!(frames, Ok(w.frames.clone()));
    }
}

// ---------------------------------------------------------------------------------------------
// Request targets: verified byte for byte
// ---------------------------------------------------------------------------------------------

/// How a hop holding no key might re-send a signed target: each edit keeps what some router or
/// normaliser would call "the same URL", and each must fail.
fn respell(t: &str, how: u8, at: usize) -> String {
    // After the leading '/', so every edit keeps an origin-form target.
    let at = 1 + at % t.len();
    let (head, tail) = t.split_at(
        t.char_indices()
            .map(|(i, _)| i)
            .find(|&i| i >= at)
            .unwrap_or(t.len()),
    );
    match how % 8 {
        // Percent-encode one unreserved byte (`%70urge` for `purge`).
        0 => match tail.bytes().next() {
            Some(c) if c.is_ascii_alphanumeric() => format!("{head}%{c:02X}{}", &tail[1..]),
            _ => format!("{t}%7E"),
        },
        1 => format!("{head}/.{tail}"),
        2 => format!("{head}/{tail}"),
        3 => format!("{t}{}", "&".repeat(1000)),
        4 => t.to_ascii_uppercase(),
        5 => format!("{head};x{tail}"),
        6 => format!("{t}?x=a://b{t}"),
        _ => format!("/admin{t}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn check_target_arbitrary(t in prop_oneof![any::<String>(), any_target()]) {
        match check_target(&t) {
            Err(e) => prop_assert_eq!(e, Error::InvalidTarget),
            Ok(c) => {
                prop_assert_eq!(c.as_str(), t.as_str());
                prop_assert!(t.starts_with('/') && t.bytes().all(|b| b.is_ascii_graphic() && b != b'#'));
            }
        }
    }

    #[test]
    fn only_the_signed_bytes_verify(
        signed_as in "/[a-zA-Z0-9~._%!$&'()*+,;=:@/?-]{0,40}",
        how: u8,
        at: usize,
    ) {
        let w = world();
        let req = w.client.sign_request("GET", &signed_as, None, None, NOW, &mut rng(9)).unwrap();
        let open = |sent: &str| {
            parse_request(&parts("GET", sent, &req), MAX_BODY)
                .and_then(|p| w.server.open_request(p, NOW, WINDOW))
                .map(|_| ())
        };
        prop_assert_eq!(open(&signed_as), Ok(()));
        let sent_as = respell(&signed_as, how, at);
        if sent_as != signed_as {
            prop_assert_eq!(open(&sent_as), Err(Error::SignatureInvalid), "{} signed, {} sent", signed_as, sent_as);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire decoders, wrapped sessions, small types, the catalogue
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn wire_base64(s in text(), raw in bytes(64)) {
        if let Err(e) = unb64(&s) {
            prop_assert_eq!(e, Error::DecodingFailed);
        }
        prop_assert_eq!(unb64(&b64(&raw)), Ok(raw.clone()));
        if let Ok(d) = unb64(&s) {
            // Strict: one spelling per byte string.
            prop_assert_eq!(b64(&d), s.clone());
        }
        for r in [wire::unb64_array::<12>(&s).map(|_| ()), wire::unb64_array::<32>(&s).map(|_| ()),
                  wire::nonce_from_b64(&s).map(|_| ())] {
            if let Err(e) = r {
                prop_assert_eq!(e, Error::DecodingFailed);
            }
        }
        prop_assert_eq!(wire::unb64_array::<12>(&b64(&raw)).is_ok(), raw.len() == 12);
    }

    #[test]
    fn wire_envelopes(body in bytes(256), ct in bytes(64), n: [u8; 12]) {
        for r in [wire::parse_request_envelope(&body).map(|_| ()),
                  wire::parse_response_envelope(&body).map(|_| ())] {
            if let Err(e) = r {
                prop_assert!(matches!(e, Error::InvalidEnvelope | Error::DecodingFailed), "{:?}", e);
            }
        }
        let _ = wire::parse_error_body(&body);
        match wire::Sealed::from_wire(ct.clone()) {
            Err(e) => {
                prop_assert_eq!(e, Error::DecodingFailed);
                prop_assert!(ct.len() < 16);
            }
            Ok(sealed) => {
                prop_assert_eq!(unb64(&sealed.to_b64()), Ok(ct.clone()));
                let env = wire::request_envelope(&sealed);
                prop_assert_eq!(wire::parse_request_envelope(env.as_bytes()), Ok(sealed.clone()));
                let nonce = nen_core::crypto::Nonce::from_bytes(n);
                let env = wire::response_envelope(&sealed, &nonce);
                prop_assert_eq!(wire::parse_response_envelope(env.as_bytes()), Ok((sealed, nonce)));
            }
        }
    }

    #[test]
    fn wire_json_string(s in any::<String>(), code in any::<String>()) {
        let lit = wire::json_string(&s);
        prop_assert_eq!(serde_json::from_str::<String>(&lit).unwrap(), s);
        let body = format!("{{\"error\":{{\"code\":{},\"message\":\"x\"}}}}", wire::json_string(&code));
        prop_assert_eq!(wire::parse_error_body(body.as_bytes()), Error::from_code(&code));
        let mut out = Vec::new();
        wire::put_lp(&mut out, code.as_bytes());
        prop_assert_eq!(out.len(), 4 + code.len());
    }

    #[test]
    fn session_unwrap_arbitrary(entry in prop_oneof![bytes(256), prop::collection::vec(any::<u8>(), WRAPPED_LEN)],
                                sid: [u8; 16], versioned: bool) {
        let mut entry = entry;
        if versioned && !entry.is_empty() {
            entry[0] = 1;
        }
        let w = world();
        let r = unwrap(&w.wrap_key, &SessionId::from_bytes(sid), &entry);
        prop_assert_eq!(r.map(|_| ()), Err(Error::StoreCorrupt));
    }

    #[test]
    fn session_unwrap_flipped(f in flips(), cut in any::<Index>(), truncate: bool) {
        let w = world();
        let mut entry = apply_flips(&w.wrapped, &f);
        if truncate {
            entry.truncate(cut.index(entry.len()));
        }
        let r = unwrap(&w.wrap_key, w.server.sid(), &entry).map(|_| ());
        if entry == w.wrapped {
            prop_assert_eq!(r, Ok(()));
        } else {
            prop_assert_eq!(r, Err(Error::StoreCorrupt));
        }
    }

    #[test]
    fn types_parsers(s in text(), id: [u8; 16], ts in 0u64..10_000_000_000_000_000) {
        prop_assert_eq!(check_version(&s).is_ok(), s.trim() == "1");
        if let Err(e) = check_version(&s) {
            prop_assert_eq!(e, Error::VersionMismatch);
        }
        match Mode::parse(&s) {
            Ok(m) => prop_assert_eq!(m.as_str(), s.as_str()),
            Err(e) => prop_assert_eq!(e, Error::UnsupportedMode),
        }
        match SessionId::parse(&s) {
            Ok(sid) => prop_assert_eq!(sid.to_hex(), s.clone()),
            Err(e) => prop_assert_eq!(e, Error::SessionExpired),
        }
        let sid = SessionId::from_bytes(id);
        prop_assert_eq!(SessionId::parse(&sid.to_hex()), Ok(sid));
        match Method::parse(&s) {
            Ok(m) => prop_assert!(m.as_str().eq_ignore_ascii_case(&s)),
            Err(e) => prop_assert_eq!(e, Error::MethodNotSupported),
        }
        match parse_timestamp(&s) {
            Ok(t) => prop_assert_eq!(s.parse::<u64>().ok(), Some(t)),
            Err(e) => prop_assert_eq!(e, Error::TimestampMissing),
        }
        prop_assert_eq!(parse_timestamp(&ts.to_string()), Ok(ts));
    }

    #[test]
    fn error_from_code(s in any::<String>(), n in 0u32..100_000) {
        if let Some(e) = Error::from_code(&s) {
            prop_assert!(s == e.code() || s == e.code()[4..], "{} -> {:?}", s, e);
        }
        let known = CATALOGUE.iter().find(|i| u32::from(i.error.number()) == n);
        prop_assert_eq!(Error::from_code(&format!("ISO-{n}")), known.map(|i| i.error));
        prop_assert_eq!(Error::from_code(&n.to_string()), known.map(|i| i.error));
    }
}

#[test]
fn catalogue_is_consistent() {
    let mut seen = std::collections::HashSet::new();
    for i in CATALOGUE {
        assert!(seen.insert(i.code), "duplicate {}", i.code);
        assert_eq!(i.code, format!("ISO-{}", i.error.number()));
        assert_eq!(i.error.code(), i.code);
        assert_eq!(Error::from_code(i.code), Some(i.error));
        assert!((400..600).contains(&i.status), "{}", i.code);
    }
    for m in [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ] {
        assert_eq!(Method::parse(m.as_str()), Ok(m));
        assert_eq!(
            Method::parse(&m.as_str().to_lowercase()),
            Err(Error::MethodNotSupported)
        );
    }
    for m in [Mode::Hybrid, Mode::MlKem768] {
        assert_eq!(Mode::parse(m.as_str()), Ok(m));
    }
}
