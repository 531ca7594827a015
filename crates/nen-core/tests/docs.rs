//! The documents that must agree with the code: `docs/error-codes.md` is generated from the
//! catalogue, and `docs/vectors/*.json` from fixed seeds. These tests regenerate both and fail
//! on any difference; run with `NEN_BLESS=1` to rewrite them after an intended change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

mod common;
use common::*;
use nen_core::error::{Side, CATALOGUE};
use nen_core::handshake::{
    server_handshake, ClientHandshake, IdentityPin, ServerConfig, ServerIdentity,
};
use nen_core::request::{parse_request, SignedRequest};
use nen_core::rng::ChaChaRng;
use nen_core::stream::{SseParser, StreamEvent};
use nen_core::wire::b64;
use nen_core::{ClientSession, Mode, ServerSession};
use serde_json::{json, Value};
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compares `content` with the committed file, or rewrites it under `NEN_BLESS=1`.
fn check_generated(rel: &str, content: &str) {
    let path = repo_root().join(rel);
    if std::env::var_os("NEN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{rel} is missing ({e}); run with NEN_BLESS=1"));
    assert!(
        committed == content,
        "{rel} disagrees with the code; run `NEN_BLESS=1 cargo test -p nen-core --test docs` and review the diff"
    );
}

#[test]
fn error_codes_doc_matches_catalogue() {
    let mut md = String::from(
        "# Nen error codes\n\n\
         <!-- Generated from crates/nen-core/src/error.rs by `NEN_BLESS=1 cargo test -p nen-core --test docs`; do not edit. -->\n\n\
         Every failure in Nen carries one of these codes. Codes are never renumbered and never change meaning; \
         new cases get new numbers in their category. On the wire an error is \
         `{\"error\":{\"code\":\"ISO-xxxx\",\"message\":\"…\"}}` with exactly the message below: no detail, no plaintext, \
         no key material. *Side* says who raises it: `server` codes travel on the wire with their HTTP status; \
         `client` codes are raised locally by the client (the status column is what a client maps them to).\n\n\
         | Category | Range |\n|---|---|\n\
         | Handshake | 1xxx |\n| Session | 2xxx |\n| Authentication | 3xxx |\n| AEAD and payload | 4xxx |\n\
         | Replay | 5xxx |\n| Wire format | 6xxx |\n| Streaming | 7xxx |\n| Store and availability | 8xxx |\n| Internal | 9xxx |\n\n\
         | Code | HTTP | Side | Name | Meaning | Fix |\n|---|---|---|---|---|---|\n",
    );
    for c in CATALOGUE {
        md.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} | {} |\n",
            c.code,
            c.status,
            c.side.as_str(),
            c.name,
            c.message,
            c.fix.replace('|', "\\|")
        ));
    }
    check_generated("docs/error-codes.md", &md);
}

#[test]
fn catalogue_is_well_formed() {
    let mut seen = std::collections::BTreeSet::new();
    let mut last = 0;
    for c in CATALOGUE {
        let n = c.error.number();
        assert!(n > last, "catalogue out of order at {}", c.code);
        last = n;
        assert_eq!(c.code, format!("ISO-{n}"));
        assert!(seen.insert(c.name), "duplicate name {}", c.name);
        assert!((400..600).contains(&c.status), "{} status", c.code);
        assert_eq!(nen_core::Error::from_code(c.code), Some(c.error));
        assert_eq!(c.error.info().code, c.code);
        // The wire body carries the code and the catalogue message, nothing else.
        let body: Value = serde_json::from_str(&c.error.wire_body()).unwrap();
        assert_eq!(
            body,
            json!({"error": {"code": c.code, "message": c.message}})
        );
        if c.side == Side::Client {
            assert!(c.code != "ISO-9000");
        }
    }
    // The codes users already match on keep their numbers and meanings.
    for (code, name) in [
        ("ISO-1001", "HANDSHAKE_MISSING_PUBLIC_KEY"),
        ("ISO-1002", "HANDSHAKE_FAILED"),
        ("ISO-1003", "HANDSHAKE_NETWORK_FAILURE"),
        ("ISO-1004", "HANDSHAKE_BAD_RESPONSE"),
        ("ISO-2001", "SESSION_NOT_INITIALIZED"),
        ("ISO-2002", "SESSION_EXPIRED"),
        ("ISO-2003", "SESSION_HEADER_MISSING"),
        ("ISO-3001", "SIGNATURE_MISSING"),
        ("ISO-3002", "SIGNATURE_INVALID"),
        ("ISO-3003", "TIMESTAMP_OUT_OF_WINDOW"),
        ("ISO-3004", "IDENTITY_SIGNATURE_INVALID"),
        ("ISO-3005", "NONCE_MISSING"),
        ("ISO-3006", "SERVER_IDENTITY_MISSING"),
        ("ISO-3007", "TRANSCRIPT_MISMATCH"),
        ("ISO-4001", "DECRYPTION_FAILED"),
        ("ISO-4002", "ENCRYPTION_FAILED"),
        ("ISO-4003", "PAYLOAD_NOT_JSON"),
        ("ISO-5001", "NONCE_REUSED"),
        ("ISO-6001", "INVALID_ENVELOPE"),
        ("ISO-6002", "DECODING_FAILED"),
        ("ISO-7001", "STREAM_NONCE_MISSING"),
        ("ISO-7002", "STREAM_REQUEST_FAILED"),
        ("ISO-9000", "INTERNAL_ERROR"),
    ] {
        let e = nen_core::Error::from_code(code).unwrap_or_else(|| panic!("{code} vanished"));
        assert_eq!(e.info().name, name);
    }
}

// ---- docs/vectors ---------------------------------------------------------------------------

const CLIENT_SEED: [u8; 32] = [0x11; 32];
const SERVER_SEED: [u8; 32] = [0x22; 32];
const IDENTITY_SEED: [u8; 32] = [0x33; 32];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn keys_json(c: &ClientSession, s: &ServerSession) -> Value {
    let k = c.export_keys_for_vectors();
    assert_eq!(
        *k,
        *s.export_keys_for_vectors(),
        "client and server keys differ"
    );
    json!({
        "k_c2s": hex(&k[..32]), "k_s2c": hex(&k[32..64]),
        "k_mac": hex(&k[64..96]), "k_stream": hex(&k[96..]),
    })
}

struct Run {
    crng: ChaChaRng,
    srng: ChaChaRng,
}

impl Run {
    fn new() -> Self {
        Self {
            crng: ChaChaRng::from_seed(CLIENT_SEED),
            srng: ChaChaRng::from_seed(SERVER_SEED),
        }
    }

    fn handshake(
        &mut self,
        mode: Mode,
        identity: Option<&ServerIdentity>,
    ) -> (ClientSession, ServerSession, Value) {
        let hs = ClientHandshake::start(mode, &mut self.crng).unwrap();
        let request = hs.request_body();
        let cfg = ServerConfig {
            modes: &[Mode::Hybrid, Mode::MlKem768],
            ttl_ms: TTL,
            identity,
        };
        let (server, response) =
            server_handshake(request.as_bytes(), &cfg, None, NOW, &mut self.srng).unwrap();
        let pin = identity.map(|i| IdentityPin::new(i.public_key()).unwrap());
        let client = hs.finish(response.as_bytes(), pin.as_ref()).unwrap();
        let v = json!({
            "mode": mode.as_str(),
            "now_ms": NOW,
            "ttl_ms": TTL,
            "identity_seed": identity.map(|_| hex(&IDENTITY_SEED)),
            "identity_public_key": identity.map(|i| b64(i.public_key())),
            "request_body": request,
            "response_body": response,
            "sid": client.sid().to_hex(),
            "transcript_hash": hex(client.transcript_hash()),
            "keys": keys_json(&client, &server),
        });
        (client, server, v)
    }
}

fn headers_json(req: &SignedRequest) -> Value {
    Value::Object(
        req.headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    )
}

fn vectors_doc(description: &str, body: Value) -> String {
    let mut v = json!({
        "description": description,
        "generator": "crates/nen-core/tests/docs.rs (NEN_BLESS=1 cargo test -p nen-core --test docs)",
        "client_rng_seed": hex(&CLIENT_SEED),
        "server_rng_seed": hex(&SERVER_SEED),
        "rng": "fast-key-erasure ChaCha20 (PROTOCOL.md §10): key = seed; each refill takes 288 keystream bytes (RFC 8439, nonce 0, counter from 0), rekeys with the first 32 and hands out the other 256 in order",
    });
    v.as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

#[test]
fn handshake_vectors() {
    let id = ServerIdentity::from_seed(&nen_core::crypto::MlDsaSeed::from_bytes(IDENTITY_SEED));
    for (file, mode, identity) in [
        ("docs/vectors/handshake-hybrid.json", Mode::Hybrid, None),
        ("docs/vectors/handshake-mlkem768.json", Mode::MlKem768, None),
        (
            "docs/vectors/handshake-hybrid-identity.json",
            Mode::Hybrid,
            Some(&id),
        ),
        (
            "docs/vectors/handshake-mlkem768-identity.json",
            Mode::MlKem768,
            Some(&id),
        ),
    ] {
        let (_, _, v) = Run::new().handshake(mode, identity);
        check_generated(file, &vectors_doc("A complete handshake: the client's request body, the server's response body, and what both derive.", json!({ "handshake": v })));
    }
}

/// How a vector's request is answered.
#[derive(Clone, Copy)]
enum Reply {
    /// The handler's JSON under this status.
    Body(u16),
    /// A failure after authentication, sealed with its code.
    Failed(nen_core::Error),
}

#[test]
fn request_vectors() {
    use nen_core::response::Answer;
    use nen_core::Error;
    let mut run = Run::new();
    let (client, server, hs) = run.handshake(Mode::Hybrid, None);
    // Fifteen exchanges: the client draws 96 + 15 × 12 = 276 bytes and the server 80 + 15 × 12 =
    // 260, so both generators pass their first 256-byte refill (PROTOCOL.md §10).
    /// Method, target, body, idempotency key, answer.
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Reply,
    );
    #[rustfmt::skip]
    let cases: [Case; 15] = [
        ("GET", "/api/items?limit=10&sort=name", None, None, Reply::Body(200)),
        ("HEAD", "/api/items/42", None, None, Reply::Body(200)),
        ("POST", "/api/items", Some(r#"{"name":"widget","qty":3}"#), None, Reply::Body(201)),
        ("PUT", "/api/items/42", Some(r#"{"name":"widget","qty":4}"#), None, Reply::Body(200)),
        ("PATCH", "/api/items/42", Some(r#"{"qty":5}"#), None, Reply::Body(200)),
        ("DELETE", "/api/items/42", None, None, Reply::Body(200)),
        ("DELETE", "/api/items?older_than=30d", Some(r#"{"confirm":true}"#), None, Reply::Body(200)),
        ("POST", "/api/payments", Some(r#"{"eur":25}"#), Some("5f0c1d2e-pay-0001"), Reply::Body(201)),
        ("GET", "/api/search?next=https://example.com/a%2Fb&q=a+b&q=c%20d&empty=&flag", None, None, Reply::Body(200)),
        ("GET", "/api/items/caf%C3%A9?tag=%E2%9C%93&x=%27", None, None, Reply::Body(200)),
        ("PUT", "/api/items/404", Some(r#"{"qty":1}"#), None, Reply::Body(404)),
        ("POST", "/api/items", Some(r#"{"name":"boom"}"#), None, Reply::Failed(Error::Internal)),
        ("HEAD", "/api/items/43", None, None, Reply::Failed(Error::Internal)),
        ("PATCH", "/api/items/42", Some("{}"), None, Reply::Body(200)),
        ("GET", "/api/items/42/tags?sort=&page=2", None, None, Reply::Body(200)),
    ];
    let mut out = Vec::new();
    for (i, (method, target, body, idem, answer)) in cases.into_iter().enumerate() {
        let now = NOW + 1000 * (i as u64 + 1);
        let req = client
            .sign_request(
                method,
                target,
                body.map(str::as_bytes),
                idem,
                now,
                &mut run.crng,
            )
            .unwrap();
        let opened = server
            .open_request(
                parse_request(&parts(method, target, &req), 1 << 20).unwrap(),
                now,
                WINDOW,
            )
            .unwrap();
        assert_eq!(opened.body.as_deref(), body.map(str::as_bytes));
        assert_eq!(opened.idempotency_key.as_deref(), idem);
        let reply = format!(r#"{{"ok":true,"case":{i}}}"#);
        let mut v = json!({
            "method": method, "target": target, "now_ms": now,
            "plaintext_body": body, "idempotency_key": idem, "headers": headers_json(&req), "body": req.body,
        });
        match (method, answer) {
            ("HEAD", Reply::Body(status)) => {
                let h = server
                    .seal_head(&opened.binding, status, &mut run.srng)
                    .unwrap();
                assert_eq!(
                    client.open_head(&req, status, Some(&h)),
                    Ok(Answer::Body(Vec::new()))
                );
                v["status"] = json!(status);
                v["response_headers"] = json!({ "x-nen-response": h });
            }
            ("HEAD", Reply::Failed(e)) => {
                let (status, h) = server
                    .seal_head_error(&opened.binding, e, &mut run.srng)
                    .unwrap();
                assert_eq!(
                    client.open_head(&req, status, Some(&h)),
                    Ok(Answer::Failed(e))
                );
                v["status"] = json!(status);
                v["error_code"] = json!(e.code());
                v["plaintext_response"] = json!(e.wire_body());
                v["response_headers"] = json!({ "x-nen-response": h });
            }
            (_, Reply::Body(status)) => {
                let env = server
                    .seal_response(&opened.binding, status, reply.as_bytes(), &mut run.srng)
                    .unwrap();
                assert_eq!(
                    client.open_response(&req, status, env.as_bytes()),
                    Ok(Answer::Body(reply.clone().into_bytes()))
                );
                v["status"] = json!(status);
                v["plaintext_response"] = json!(reply);
                v["response_body"] = json!(env);
            }
            (_, Reply::Failed(e)) => {
                let (status, env) = server
                    .seal_error(&opened.binding, e, &mut run.srng)
                    .unwrap();
                assert_eq!(
                    client.open_response(&req, status, env.as_bytes()),
                    Ok(Answer::Failed(e))
                );
                v["status"] = json!(status);
                v["error_code"] = json!(e.code());
                v["plaintext_response"] = json!(e.wire_body());
                v["response_body"] = json!(env);
            }
        }
        v["answer"] = json!(match answer {
            Reply::Body(_) => "body",
            Reply::Failed(_) => "error",
        });
        out.push(v);
    }
    check_generated(
        "docs/vectors/requests.json",
        &vectors_doc(
            "Requests and their responses in one hybrid session: every method, a signed idempotency key, targets kept byte for byte (://, %2F, +, %20, an empty value, a bare key, non-ASCII escapes, ' as fetch escapes it in a query), a handler's own 404, and failures after authentication sealed as errors (answer \"error\", also on HEAD). The handshake comes first and consumes the RNGs first; the 15 exchanges take both generators past their first 256-byte refill.",
            json!({ "handshake": hs, "window_ms": WINDOW, "exchanges": out }),
        ),
    );
}

#[test]
fn stream_vector() {
    let mut run = Run::new();
    let (client, server, hs) = run.handshake(Mode::Hybrid, None);
    let body = r#"{"prompt":"Say hello"}"#;
    let now = NOW + 1000;
    let req = client
        .sign_request(
            "POST",
            "/api/chat",
            Some(body.as_bytes()),
            None,
            now,
            &mut run.crng,
        )
        .unwrap();
    let opened = server
        .open_request(
            parse_request(&parts("POST", "/api/chat", &req), 1 << 20).unwrap(),
            now,
            WINDOW,
        )
        .unwrap();
    let (mut sealer, stream_nonce) = server
        .stream_sealer(&opened.binding, 32, &mut run.srng)
        .unwrap();
    let tokens = ["Hel", "lo", ", world"];
    let mut sse = String::new();
    for t in tokens {
        sse.push_str(&sealer.chunk(t.as_bytes()).unwrap());
    }
    sse.push_str(&sealer.finish().unwrap());
    let mut opener = client.stream_opener(&req, Some(&stream_nonce)).unwrap();
    let mut got = Vec::new();
    for f in SseParser::new(1 << 20).feed(sse.as_bytes()).unwrap() {
        if let StreamEvent::Data(d) = opener.open_frame(f.event.as_deref(), &f.data).unwrap() {
            got.push(String::from_utf8(d).unwrap());
        }
    }
    opener.finish().unwrap();
    assert_eq!(got, tokens);
    check_generated(
        "docs/vectors/stream.json",
        &vectors_doc(
            "A 3-chunk stream with 32-byte padding and its authenticated end, answering one POST.",
            json!({
                "handshake": hs, "now_ms": now, "request": { "method": "POST", "target": "/api/chat",
                "plaintext_body": body, "headers": headers_json(&req), "body": req.body },
                "pad_block": 32, "response_headers": { "x-nen-stream-nonce": stream_nonce },
                "chunks": tokens, "sse_body": sse,
            }),
        ),
    );
}

#[test]
fn rotation_vector() {
    let mut run = Run::new();
    let (client, mut server, hs) = run.handshake(Mode::Hybrid, None);
    let now = NOW + 60_000;
    let rot = ClientHandshake::start_rotation(Mode::Hybrid, *client.sid(), &mut run.crng).unwrap();
    let inner = rot.request_body();
    let req = client
        .sign_request(
            "POST",
            "/api/nen/rotate",
            Some(inner.as_bytes()),
            None,
            now,
            &mut run.crng,
        )
        .unwrap();
    let opened = server
        .open_request(
            parse_request(&parts("POST", "/api/nen/rotate", &req), 1 << 20).unwrap(),
            now,
            WINDOW,
        )
        .unwrap();
    let cfg = ServerConfig {
        modes: &[Mode::Hybrid, Mode::MlKem768],
        ttl_ms: TTL,
        identity: None,
    };
    let (new_server, inner_resp) = server_handshake(
        opened.body.as_deref().unwrap(),
        &cfg,
        Some(server.sid()),
        now,
        &mut run.srng,
    )
    .unwrap();
    server.expire_by(now + 10_000);
    let env = server
        .seal_response(&opened.binding, 200, inner_resp.as_bytes(), &mut run.srng)
        .unwrap();
    let plain = client
        .open_response(&req, 200, env.as_bytes())
        .and_then(nen_core::response::Answer::into_body)
        .unwrap();
    let new_client = rot.finish(&plain, None).unwrap();
    assert_ne!(new_client.sid(), client.sid());
    // A rotation response replayed as a fresh handshake does not verify: it is bound to the old sid.
    let fresh =
        ClientHandshake::start(Mode::Hybrid, &mut ChaChaRng::from_seed(CLIENT_SEED)).unwrap();
    assert!(fresh.finish(inner_resp.as_bytes(), None).is_err());
    check_generated(
        "docs/vectors/rotation.json",
        &vectors_doc(
            "A rotation: a fresh key exchange sealed inside an authenticated POST /api/nen/rotate of the old session; the new transcript binds the old sid.",
            json!({
                "handshake": hs, "now_ms": now, "grace_ms": 10_000,
                "method": "POST", "target": "/api/nen/rotate", "status": 200,
                "draw_order": "after the handshake: client 64-byte ML-KEM seed d‖z, 32-byte X25519 scalar (the rotation's ClientHandshake), then the 12-byte request nonce; server 32-byte m, 32-byte X25519 scalar, 16-byte new sid (the rotation's handshake), then the 12-byte response nonce n",
                "inner_request_body": inner, "headers": headers_json(&req), "body": req.body,
                "inner_response_body": inner_resp, "response_body": env,
                "new_sid": new_client.sid().to_hex(),
                "new_transcript_hash": hex(new_client.transcript_hash()),
                "new_keys": keys_json(&new_client, &new_server),
            }),
        ),
    );
}
