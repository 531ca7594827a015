//! Host tests: the exported types against the server half of `nen-core`. JS-only surfaces
//! (error objects, header objects, the catalogue) are covered by the smoke test in Node.

use crate::{rng, ClientHandshake, ClientSession, NenJsError, SignedRequest};
use nen_core::handshake::{server_handshake, ServerConfig, ServerIdentity};
use nen_core::request::{parse_request, RequestParts};
use nen_core::rng::ChaChaRng;
use nen_core::wire::b64;
use nen_core::{Error, Mode, ServerSession};

const NOW: u64 = 1_767_225_600_000;
const MODES: &[Mode] = &[Mode::Hybrid, Mode::MlKem768];

fn server_rng() -> ChaChaRng {
    ChaChaRng::from_seed([7; 32])
}

fn connect(mode: &str, identity: Option<&ServerIdentity>) -> (ClientSession, ServerSession) {
    let mut hs = ClientHandshake::start(Some(mode.into())).unwrap();
    let config = ServerConfig {
        modes: MODES,
        ttl_ms: 3_600_000,
        identity,
    };
    let (server, reply) =
        server_handshake(hs.body().as_bytes(), &config, None, NOW, &mut server_rng()).unwrap();
    let pin = identity.map(|i| b64(i.public_key()));
    (hs.finish(&reply, pin).unwrap(), server)
}

fn header<'a>(signed: &'a SignedRequest, name: &str) -> Option<&'a str> {
    let h = &signed.req.headers;
    h.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
}

fn server_open(
    server: &ServerSession,
    method: &str,
    target: &str,
    signed: &SignedRequest,
) -> nen_core::request::OpenedRequest {
    let parts = RequestParts {
        method,
        target,
        version: header(signed, "x-nen-version"),
        session: header(signed, "x-nen-session"),
        timestamp: header(signed, "x-nen-timestamp"),
        nonce: header(signed, "x-nen-nonce"),
        signature: header(signed, "x-nen-signature"),
        idempotency_key: None,
        body: signed.req.body.as_deref().map(str::as_bytes),
    };
    let parsed = parse_request(&parts, 1 << 20).unwrap();
    // The window is the server's business: check at the request's own time.
    let at = parts.timestamp.unwrap().parse().unwrap();
    server.open_request(parsed, at, 30_000).unwrap()
}

fn code<T>(r: Result<T, NenJsError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.error.code(),
    }
}

#[test]
fn post_round_trip_in_both_modes_with_and_without_identity() {
    let (id, _) = ServerIdentity::generate(&mut server_rng()).unwrap();
    for mode in ["hybrid", "mlkem768"] {
        for identity in [None, Some(&id)] {
            let (client, server) = connect(mode, identity);
            assert_eq!(client.mode().unwrap(), mode);
            assert_eq!(client.sid().unwrap(), server.sid().to_hex());
            assert_eq!(client.expires_at().unwrap(), (NOW + 3_600_000) as f64);
            let signed = client
                .sign(
                    "POST",
                    "/api/items?b=2&a=1",
                    Some("{\"q\":1}".into()),
                    Some(NOW as f64),
                    None,
                )
                .unwrap();
            assert_eq!(signed.method(), "POST");
            let opened = server_open(&server, "POST", "/api/items?b=2&a=1", &signed);
            assert_eq!(opened.body.as_deref(), Some(&b"{\"q\":1}"[..]));
            let sealed = server
                .seal_response(&opened.binding, 201, b"{\"ok\":true}", &mut server_rng())
                .unwrap();
            assert_eq!(
                client.open(&signed, 201.0, &sealed).unwrap(),
                "{\"ok\":true}"
            );
            // Bound to the status: the same envelope under another one is refused.
            assert_eq!(code(client.open(&signed, 200.0, &sealed)), "ISO-4004");
            assert_eq!(code(client.open(&signed, 65_737.0, &sealed)), "ISO-4004");
            assert_eq!(code(client.open(&signed, 201.5, &sealed)), "ISO-4004");
            assert_eq!(code(client.open(&signed, f64::NAN, &sealed)), "ISO-4004");
        }
    }
}

#[test]
fn head_and_bodyless_requests() {
    let (client, server) = connect("hybrid", None);
    let signed = client.sign("HEAD", "/api/x", None, None, None).unwrap();
    assert_eq!(signed.body(), None);
    let opened = server_open(&server, "HEAD", "/api/x", &signed);
    let h = server
        .seal_head(&opened.binding, 204, &mut server_rng())
        .unwrap();
    client.open_head(&signed, 204.0, Some(h.clone())).unwrap();
    assert_eq!(code(client.open_head(&signed, 200.0, Some(h))), "ISO-4004");
    assert_eq!(code(client.open_head(&signed, 204.0, None)), "ISO-4004");
    assert_eq!(
        code(client.sign("GET", "/x", Some("{}".into()), None, None)),
        "ISO-6003"
    );
}

#[test]
fn stream_reads_in_pieces_and_needs_its_end() {
    let (mut client, server) = connect("hybrid", None);
    let signed = client
        .sign("POST", "/api/chat", Some("{}".into()), None, None)
        .unwrap();
    let opened = server_open(&server, "POST", "/api/chat", &signed);
    let (mut sealer, nonce) = server
        .stream_sealer(&opened.binding, 32, &mut server_rng())
        .unwrap();
    let mut wire = String::new();
    for chunk in ["Hel", "lo, ", "wörld"] {
        wire.push_str(&sealer.chunk(chunk.as_bytes()).unwrap());
    }
    let end = sealer.finish().unwrap();

    assert_eq!(code(client.open_stream(&signed, None)), "ISO-7001");
    let mut reader = client.open_stream(&signed, Some(nonce.clone())).unwrap();
    let mut got = Vec::new();
    // Bytes arrive in arbitrary pieces, splitting frames and UTF-8 sequences.
    for piece in wire.as_bytes().chunks(7) {
        got.extend(reader.push_bytes(piece).unwrap());
    }
    assert_eq!(got.concat(), "Hello, wörld");
    assert!(!reader.ended());
    assert_eq!(code(reader.finish()), "ISO-7003");
    reader.push_bytes(end.as_bytes()).unwrap();
    assert!(reader.ended());
    reader.finish().unwrap();

    // A tampered chunk poisons the reader for good.
    let mut bad = client.open_stream(&signed, Some(nonce)).unwrap();
    let tampered = wire.replacen("data: ", "data: A", 1);
    assert_eq!(
        bad.push_bytes(tampered.as_bytes()).unwrap_err(),
        Error::StreamChunkInvalid
    );
    assert_eq!(
        bad.push_bytes(end.as_bytes()).unwrap_err(),
        Error::StreamChunkInvalid
    );
}

#[test]
fn chunks_read_together_with_an_error_end_are_all_delivered() {
    let (mut client, server) = connect("hybrid", None);
    let signed = client
        .sign("POST", "/api/chat", Some("{}".into()), None, None)
        .unwrap();
    let opened = server_open(&server, "POST", "/api/chat", &signed);
    let (mut sealer, nonce) = server
        .stream_sealer(&opened.binding, 0, &mut server_rng())
        .unwrap();
    // Two data frames and the authenticated error end arrive in one network read.
    let mut wire = sealer.chunk(b"last ").unwrap();
    wire.push_str(&sealer.chunk(b"tokens").unwrap());
    wire.push_str(&sealer.fail(Error::StreamRequestFailed).unwrap());
    let mut reader = client.open_stream(&signed, Some(nonce)).unwrap();
    assert_eq!(
        reader.push_bytes(wire.as_bytes()).unwrap(),
        ["last ", "tokens"]
    );
    // The error is reported next, by push and by finish alike.
    assert_eq!(
        reader.push_bytes(b"").unwrap_err(),
        Error::StreamRequestFailed
    );
    assert_eq!(code(reader.finish()), "ISO-7002");
}

#[test]
fn wipe_drops_the_session_and_its_streams() {
    let (mut client, server) = connect("mlkem768", None);
    let signed = client
        .sign("POST", "/s", Some("1".into()), None, None)
        .unwrap();
    let opened = server_open(&server, "POST", "/s", &signed);
    let (_, nonce) = server
        .stream_sealer(&opened.binding, 0, &mut server_rng())
        .unwrap();
    let mut reader = client.open_stream(&signed, Some(nonce)).unwrap();
    client.wipe();
    assert_eq!(code(client.sid()), "ISO-2001");
    assert_eq!(code(client.expires_at()), "ISO-2001");
    assert_eq!(code(client.mode()), "ISO-2001");
    assert_eq!(code(client.sign("GET", "/", None, None, None)), "ISO-2001");
    assert_eq!(code(client.open(&signed, 200.0, "{}")), "ISO-2001");
    assert_eq!(code(client.open_head(&signed, 200.0, None)), "ISO-2001");
    assert_eq!(code(client.open_stream(&signed, None)), "ISO-2001");
    assert_eq!(code(client.begin_rotation(None)), "ISO-2001");
    assert_eq!(
        reader.push_bytes(b"data: x\n\n").unwrap_err(),
        Error::SessionNotInitialized
    );
    assert_eq!(code(reader.finish()), "ISO-2001");
    client.wipe(); // idempotent
}

#[test]
fn rotation_is_bound_to_the_old_session() {
    let (client, server) = connect("hybrid", None);
    let mut hs = client.begin_rotation(Some("mlkem768".into())).unwrap();
    let config = ServerConfig {
        modes: MODES,
        ttl_ms: 1000,
        identity: None,
    };
    let (_, reply) = server_handshake(
        hs.body().as_bytes(),
        &config,
        Some(server.sid()),
        NOW,
        &mut server_rng(),
    )
    .unwrap();
    let rotated = hs.finish(&reply, None).unwrap();
    assert_eq!(rotated.mode().unwrap(), "mlkem768");

    // The same answer without the old session in the transcript does not confirm.
    let mut fresh = client.begin_rotation(None).unwrap();
    let (_, unbound) = server_handshake(
        fresh.body().as_bytes(),
        &config,
        None,
        NOW,
        &mut server_rng(),
    )
    .unwrap();
    assert_eq!(code(fresh.finish(&unbound, None)), "ISO-1006");
}

#[test]
fn handshake_errors_and_single_use() {
    assert_eq!(code(ClientHandshake::start(Some("rsa".into()))), "ISO-1007");
    let (id, _) = ServerIdentity::generate(&mut server_rng()).unwrap();
    let mut hs = ClientHandshake::start(None).unwrap();
    let config = ServerConfig {
        modes: MODES,
        ttl_ms: 1000,
        identity: None,
    };
    let (_, reply) =
        server_handshake(hs.body().as_bytes(), &config, None, NOW, &mut server_rng()).unwrap();
    // Pinned identity but the server signs nothing.
    assert_eq!(
        code(hs.finish(&reply, Some(b64(id.public_key())))),
        "ISO-3006"
    );
    // Consumed by the first attempt.
    assert_eq!(code(hs.finish(&reply, None)), "ISO-2001");

    let mut hs = ClientHandshake::start(None).unwrap();
    assert_eq!(
        code(hs.finish(&reply, Some("not base64".into()))),
        "ISO-9001"
    );
    let mut hs = ClientHandshake::start(None).unwrap();
    assert_eq!(code(hs.finish("{", None)), "ISO-1004");
}

#[test]
fn caller_timestamps_are_checked() {
    let (client, _) = connect("hybrid", None);
    for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300] {
        assert_eq!(
            code(client.sign("GET", "/", None, Some(bad), None)),
            "ISO-3008"
        );
    }
    let signed = client.sign("GET", "/", None, Some(1234.9), None).unwrap();
    assert_eq!(header(&signed, "x-nen-timestamp"), Some("1234"));
}

#[test]
fn seeded_handshake_reproduces_the_published_vector() {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/vectors/handshake-hybrid.json")).unwrap();
    let seed_hex = v["client_rng_seed"].as_str().unwrap();
    let seed: Vec<u8> = (0..seed_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&seed_hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(rng::set_seed(&seed[..31]), Err(Error::InvalidConfiguration));
    rng::set_seed(&seed).unwrap();
    let hs = ClientHandshake::start(Some("hybrid".into())).unwrap();
    assert_eq!(hs.body(), v["handshake"]["request_body"].as_str().unwrap());
}
