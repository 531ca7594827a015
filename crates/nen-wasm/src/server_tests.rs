//! Host tests of the server exports, driven by this crate's own client. The JS-facing wrappers
//! (argument objects, result objects, thrown errors) are covered end to end by
//! `packages/server/test/wasm-engine.test.mjs`.

use crate::server::{EngineInit, Established, Opened, Parsed, RequestInput, ServerEngine};
use crate::{rng, ClientHandshake, ClientSession, SignedRequest};
use nen_core::handshake::ServerIdentity;
use nen_core::rng::ChaChaRng;
use nen_core::wire::b64;
use nen_core::Error;

const NOW: u64 = 1_767_225_600_000;
const WRAPPING_KEY: [u8; 32] = [9; 32];

fn init() -> EngineInit {
    EngineInit {
        wrapping_key: Some(b64(&WRAPPING_KEY)),
        ..EngineInit::default()
    }
}

fn engine() -> ServerEngine {
    ServerEngine::from_init(&init()).unwrap()
}

fn connect(engine: &ServerEngine, mode: &str) -> (ClientSession, Established) {
    let mut hs = ClientHandshake::start(Some(mode.into())).unwrap();
    let est = engine.handshake_at(hs.body().as_bytes(), NOW).unwrap();
    (hs.finish(&est.response, None).unwrap(), est)
}

fn header(signed: &SignedRequest, name: &str) -> Option<String> {
    let h = &signed.req.headers;
    h.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
}

fn input(signed: &SignedRequest, method: &str, url: &str) -> RequestInput {
    RequestInput {
        method: method.into(),
        url: url.into(),
        version: header(signed, "x-nen-version"),
        session: header(signed, "x-nen-session"),
        timestamp: header(signed, "x-nen-timestamp"),
        nonce: header(signed, "x-nen-nonce"),
        signature: header(signed, "x-nen-signature"),
        idempotency_key: header(signed, "x-nen-idempotency-key"),
        body: signed.req.body.clone().map(String::into_bytes),
    }
}

fn sign(client: &ClientSession, method: &str, target: &str, json: Option<&str>) -> SignedRequest {
    client
        .sign(
            method,
            target,
            json.map(String::from),
            Some(NOW as f64),
            None,
        )
        .unwrap()
}

fn parse(engine: &ServerEngine, signed: &SignedRequest, method: &str, url: &str) -> Parsed {
    engine.parse_input(&input(signed, method, url)).unwrap()
}

fn err<T: core::fmt::Debug>(r: Result<T, Error>) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn requests_round_trip_through_the_wrapped_session() {
    let engine = engine();
    for mode in ["hybrid", "mlkem768"] {
        let (client, est) = connect(&engine, mode);
        assert_eq!(est.sid, client.sid().unwrap());
        assert_eq!(est.ttl_ms, 3_600_000);
        assert_eq!(est.expires_at, NOW + 3_600_000);
        assert_eq!(
            est.wrapped.len(),
            4 * nen_core::session::WRAPPED_LEN.div_ceil(3)
        );

        let signed = sign(&client, "POST", "/api/items?b=2&a=1", Some("{\"q\":1}"));
        let mut parsed = parse(
            &engine,
            &signed,
            "POST",
            "https://example.com/api/items?b=2&a=1",
        );
        assert_eq!(parsed.sid(), est.sid);
        assert_eq!(parsed.method(), "POST");
        let verified = engine
            .open_at(&mut parsed, &est.wrapped, None, NOW)
            .unwrap();
        // The nonce as the native RemoteStore spells it in the replay key.
        let nonce = nen_core::wire::unb64(&header(&signed, "x-nen-nonce").unwrap()).unwrap();
        let hex: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(verified.nonce_field(), format!("n:{hex}"));
        assert_eq!(verified.until_ms(), (NOW + 30_000 + 5_000) as f64);
        assert_eq!(verified.now_ms(), NOW as f64);
        assert_eq!(verified.sid(), est.sid);
        let opened = engine.recorded_as(verified, "ok").unwrap();
        assert_eq!(opened.sid(), est.sid);
        assert_eq!(opened.method(), "POST");
        assert_eq!(opened.timestamp(), NOW as f64);
        assert_eq!(opened.body_text().as_deref(), Some("{\"q\":1}"));
        assert_eq!(opened.mode(), mode);
        assert_eq!(opened.expires_at(), (NOW + 3_600_000) as f64);

        let sealed = engine.seal_bytes(&opened, b"{\"ok\":true}", 201).unwrap();
        assert_eq!(
            client.open(&signed, 201.0, &sealed).unwrap(),
            "{\"ok\":true}"
        );
        assert_eq!(err(engine.seal_bytes(&opened, b"{", 200)), "ISO-4003");

        // Single use once verification started.
        assert_eq!(
            err(open(&engine, &mut parsed, &est.wrapped, NOW)),
            "ISO-9000"
        );
    }
}

/// `open` and a fresh `record`: the request as a handler gets it.
fn open(
    engine: &ServerEngine,
    parsed: &mut Parsed,
    wrapped: &str,
    now: u64,
) -> Result<Opened, Error> {
    let verified = engine.open_at(parsed, wrapped, None, now)?;
    engine.recorded_as(verified, "ok")
}

#[test]
fn record_outcomes_decide_and_fill_the_cache() {
    let engine = engine();
    let (client, est) = connect(&engine, "hybrid");
    let outcome = |o: &str| {
        let signed = sign(&client, "GET", "/x", None);
        let mut parsed = parse(&engine, &signed, "GET", "/x");
        let v = engine
            .open_at(&mut parsed, &est.wrapped, None, NOW)
            .unwrap();
        engine.recorded_as(v, o).map(|_| ())
    };
    assert_eq!(err(outcome("replay")), "ISO-5001");
    assert_eq!(err(outcome("-1")), "ISO-5001");
    assert_eq!(err(outcome("maybe")), "ISO-8001");
    assert_eq!(engine.cached_sessions() as usize, 0);
    outcome("ok").unwrap();
    assert_eq!(engine.cached_sessions() as usize, 1);
    // Cached: no record needed to verify the next request, and a gone session leaves the cache.
    let signed = sign(&client, "GET", "/x", None);
    let mut parsed = parse(&engine, &signed, "GET", "/x");
    let v = engine.open_cached_at(&mut parsed, NOW).unwrap().unwrap();
    assert_eq!(err(engine.recorded_as(v, "gone")), "ISO-2002");
    assert_eq!(engine.cached_sessions() as usize, 0);
    let signed = sign(&client, "GET", "/x", None);
    let mut parsed = parse(&engine, &signed, "GET", "/x");
    assert!(engine.open_cached_at(&mut parsed, NOW).unwrap().is_none());
    // A miss did not consume the request.
    open(&engine, &mut parsed, &est.wrapped, NOW).unwrap();
    // A retired record past its grace is expired.
    let signed = sign(&client, "GET", "/x", None);
    let mut parsed = parse(&engine, &signed, "GET", "/x");
    assert_eq!(
        err(engine.open_at(&mut parsed, &est.wrapped, Some(NOW), NOW)),
        "ISO-2002"
    );
}

#[test]
fn replay_records_follow_the_request_time() {
    let engine = engine();
    let (client, est) = connect(&engine, "hybrid");
    let signed = client
        .sign("GET", "/x", None, Some((NOW - 5_000) as f64), None)
        .unwrap();
    let mut parsed = parse(&engine, &signed, "GET", "/x");
    let verified = engine
        .open_at(&mut parsed, &est.wrapped, None, NOW)
        .unwrap();
    assert_eq!(verified.until_ms(), (NOW - 5_000 + 35_000) as f64);
    let opened = engine.recorded_as(verified, "ok").unwrap();
    assert_eq!(opened.body_text(), None);
    // A request from the edge of the window: still its time + window + skew.
    let signed = client
        .sign("GET", "/x", None, Some((NOW - 30_000) as f64), None)
        .unwrap();
    let mut parsed = parse(&engine, &signed, "GET", "/x");
    let verified = engine
        .open_at(&mut parsed, &est.wrapped, None, NOW)
        .unwrap();
    assert_eq!(verified.until_ms(), (NOW + 5_000) as f64);
}

#[test]
fn open_fails_in_the_native_order_with_the_native_codes() {
    let engine = engine();
    let (client, est) = connect(&engine, "hybrid");
    let (_, other) = connect(&engine, "hybrid");
    let signed = sign(&client, "PUT", "/api/x?y=1", Some("[1]"));

    // The store value: not base64 is a store failure, another session's entry is corrupt.
    let mut parsed = parse(&engine, &signed, "PUT", "/api/x?y=1");
    assert_eq!(err(open(&engine, &mut parsed, "%%%", NOW)), "ISO-8001");
    assert_eq!(
        err(open(&engine, &mut parsed, &other.wrapped, NOW)),
        "ISO-8002"
    );
    // Under another wrapping key too.
    let foreign = ServerEngine::from_init(&EngineInit {
        wrapping_key: Some(b64(&[1; 32])),
        ..init()
    })
    .unwrap();
    assert_eq!(
        err(open(&foreign, &mut parsed, &est.wrapped, NOW)),
        "ISO-8002"
    );
    // Expired.
    assert_eq!(
        err(open(&engine, &mut parsed, &est.wrapped, NOW + 3_600_000)),
        "ISO-2002"
    );
    // None of these consumed the request.
    open(&engine, &mut parsed, &est.wrapped, NOW).unwrap();

    // Another target: the MAC fails before the window is looked at.
    let mut parsed = parse(&engine, &signed, "PUT", "/api/x?y=2");
    assert_eq!(
        err(open(&engine, &mut parsed, &est.wrapped, NOW + 60_000)),
        "ISO-3002"
    );
    let mut parsed = parse(&engine, &signed, "PUT", "/api/x?y=1");
    assert_eq!(
        err(open(&engine, &mut parsed, &est.wrapped, NOW + 30_001)),
        "ISO-3003"
    );
    let mut parsed = parse(&engine, &signed, "PUT", "/api/x?y=1");
    open(&engine, &mut parsed, &est.wrapped, NOW + 30_000).unwrap();

    // Shape errors come from parse, before any session is needed.
    let mut bad = input(&signed, "PUT", "/api/x?y=1");
    bad.signature = None;
    assert_eq!(err(engine.parse_input(&bad)), "ISO-3001");
    let mut bad = input(&signed, "TRACE", "/");
    bad.body = None;
    assert_eq!(err(engine.parse_input(&bad)), "ISO-6004");
    let get = sign(&client, "GET", "/", None);
    let mut bad = input(&get, "GET", "/");
    bad.body = Some(b"{\"ct\":\"AAAA\"}".to_vec());
    assert_eq!(err(engine.parse_input(&bad)), "ISO-6003");
    let small = ServerEngine::from_init(&EngineInit {
        max_body_bytes: Some(4096.0),
        ..init()
    })
    .unwrap();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096));
    let big = sign(&client, "PUT", "/api/x?y=1", Some(&big));
    assert_eq!(
        err(small.parse_input(&input(&big, "PUT", "/api/x?y=1"))),
        "ISO-4005"
    );
}

#[test]
fn head_and_streams() {
    let engine = ServerEngine::from_init(&EngineInit {
        stream_padding: Some(32.0),
        ..init()
    })
    .unwrap();
    let (mut client, est) = connect(&engine, "hybrid");

    let signed = sign(&client, "HEAD", "/api/x", None);
    let mut parsed = parse(&engine, &signed, "HEAD", "/api/x");
    let opened = open(&engine, &mut parsed, &est.wrapped, NOW).unwrap();
    let h = engine.seal_head_status(&opened, 404).unwrap();
    client.open_head(&signed, 404.0, Some(h)).unwrap();

    let signed = sign(&client, "POST", "/api/chat", Some("{}"));
    let mut parsed = parse(&engine, &signed, "POST", "/api/chat");
    let opened = open(&engine, &mut parsed, &est.wrapped, NOW).unwrap();
    let mut stream = engine.stream_with(&opened, 32).unwrap();
    assert!(!stream.finished());
    let mut wire = String::new();
    for t in ["The ", "quick ", "fox"] {
        wire.push_str(&stream.sealer.chunk(t.as_bytes()).unwrap());
    }
    wire.push_str(&stream.finish().unwrap());
    assert!(stream.finished());
    assert_eq!(err(stream.finish().map_err(|e| e.error)), "ISO-9000");
    let mut reader = client
        .open_stream(&signed, Some(stream.nonce.clone()))
        .unwrap();
    assert_eq!(
        reader.push_bytes(wire.as_bytes()).unwrap().concat(),
        "The quick fox"
    );
    reader.finish().unwrap();

    // An authenticated error end carries its code.
    let mut failing = engine.stream_with(&opened, 0).unwrap();
    let frame = failing.fail("ISO-8001").unwrap();
    let mut reader = client.open_stream(&signed, Some(failing.nonce)).unwrap();
    assert_eq!(
        reader.push_bytes(frame.as_bytes()).unwrap_err(),
        Error::StoreUnavailable
    );
}

#[test]
fn rotation_status_and_terminate() {
    let engine = ServerEngine::from_init(&EngineInit {
        rotation_grace_ms: Some(5_000.0),
        session_ttl_ms: Some(60_000.0),
        ..init()
    })
    .unwrap();
    let (client, est) = connect(&engine, "hybrid");

    let mut hs = client.begin_rotation(Some("mlkem768".into())).unwrap();
    let signed = sign(&client, "POST", "/api/nen/rotate", Some(hs.body().as_str()));
    let mut parsed = parse(&engine, &signed, "POST", "/api/nen/rotate");
    let opened = open(&engine, &mut parsed, &est.wrapped, NOW).unwrap();
    let step = engine.rotate_at(&opened, NOW + 10).unwrap();
    assert_eq!(step.retire_at_ms(), (NOW + 10 + 5_000) as f64);
    assert_eq!(step.retire_ttl_ms(), 5_000.0);
    // The successor exists only once the old session is retired, once.
    let again = engine.rotate_at(&opened, NOW + 10).unwrap();
    assert_eq!(
        err(engine.retired_as(&opened, again, "rotated")),
        "ISO-2004"
    );
    let gone = engine.rotate_at(&opened, NOW + 10).unwrap();
    assert_eq!(err(engine.retired_as(&opened, gone, "gone")), "ISO-2002");
    let odd = engine.rotate_at(&opened, NOW + 10).unwrap();
    assert_eq!(err(engine.retired_as(&opened, odd, "yes")), "ISO-8001");
    let (new, response) = engine.retired_as(&opened, step, "ok").unwrap();
    assert_eq!(new.ttl_ms, 60_000);
    assert_eq!(new.expires_at, NOW + 10 + 60_000);
    assert_ne!(new.sid, est.sid);
    // The answer is sealed under the old session, for the rotate request.
    let inner = client.open(&signed, 200.0, &response).unwrap();
    let rotated = hs.finish(&inner, None).unwrap();
    assert_eq!(rotated.sid().unwrap(), new.sid);
    assert_eq!(rotated.mode().unwrap(), "mlkem768");
    // The new session opens from its own wrapped entry, and only under its sid.
    let signed = sign(&rotated, "GET", "/api/nen/status", None);
    let mut parsed = parse(&engine, &signed, "GET", "/api/nen/status");
    assert_eq!(
        err(open(&engine, &mut parsed, &est.wrapped, NOW)),
        "ISO-8002"
    );
    let opened_new = open(&engine, &mut parsed, &new.wrapped, NOW).unwrap();
    let status = engine.status_sealed(&opened_new, None, NOW).unwrap();
    assert_eq!(
        rotated.open(&signed, 200.0, &status).unwrap(),
        format!(
            "{{\"sid\":\"{}\",\"mode\":\"mlkem768\",\"exp\":{},\"v\":1}}",
            new.sid,
            NOW + 10 + 60_000
        )
    );
    // Rotation needs the inner handshake (method and body rules: nen_core::server::Lifecycle).
    assert_eq!(err(engine.rotate_at(&opened_new, NOW)), "ISO-1001");
    let signed = sign(&rotated, "POST", "/api/nen/terminate", None);
    let mut parsed = parse(&engine, &signed, "POST", "/api/nen/terminate");
    let term = open(&engine, &mut parsed, &new.wrapped, NOW).unwrap();
    assert_eq!(err(engine.rotate_at(&term, NOW)), "ISO-1001");
    let body = engine.terminate_sealed(&term).unwrap();
    assert_eq!(
        rotated.open(&signed, 200.0, &body).unwrap(),
        "{\"terminated\":true}"
    );
}

#[test]
fn identity_signs_every_handshake() {
    let (id, seed) = ServerIdentity::generate(&mut ChaChaRng::from_seed([3; 32])).unwrap();
    let engine = ServerEngine::from_init(&EngineInit {
        identity_secret_key: Some(b64(seed.as_bytes())),
        ..init()
    })
    .unwrap();
    let pk = b64(id.public_key());
    assert_eq!(engine.identity_public_key_b64(), Some(pk.clone()));
    let mut hs = ClientHandshake::start(None).unwrap();
    let est = engine.handshake_at(hs.body().as_bytes(), NOW).unwrap();
    hs.finish(&est.response, Some(pk)).unwrap();
    assert_eq!(self::engine().identity_public_key_b64(), None);
}

#[test]
fn configuration_is_checked() {
    let bad =
        |i: EngineInit| nen_core::Error::from(ServerEngine::from_init(&i).unwrap_err()).code();
    assert_eq!(
        bad(EngineInit {
            wrapping_key: None,
            ..init()
        }),
        "ISO-9001"
    );
    assert_eq!(
        bad(EngineInit {
            wrapping_key: Some(b64(&[1; 31])),
            ..init()
        }),
        "ISO-9001"
    );
    assert_eq!(
        bad(EngineInit {
            modes: Some(vec![]),
            ..init()
        }),
        "ISO-9001"
    );
    assert_eq!(
        bad(EngineInit {
            modes: Some(vec!["rsa".into()]),
            ..init()
        }),
        "ISO-9001"
    );
    assert_eq!(
        bad(EngineInit {
            identity_secret_key: Some("nope".into()),
            ..init()
        }),
        "ISO-9001"
    );
    for n in [-1.0, 1.5, f64::NAN, f64::INFINITY, 5e9] {
        assert_eq!(
            bad(EngineInit {
                window_ms: Some(n),
                ..init()
            }),
            "ISO-9001"
        );
    }
    // A mode the server does not accept is refused at handshake time, as natively.
    let only = ServerEngine::from_init(&EngineInit {
        modes: Some(vec!["mlkem768".into()]),
        ..init()
    })
    .unwrap();
    let hs = ClientHandshake::start(Some("hybrid".into())).unwrap();
    assert_eq!(
        err(only.handshake_at(hs.body().as_bytes(), NOW)),
        "ISO-1007"
    );
    assert_eq!(err(only.handshake_at(b"{", NOW)), "ISO-6001");
}

#[test]
fn the_server_clock_never_steps_back() {
    let a = rng::monotonic_now_ms();
    let b = rng::monotonic_now_ms();
    assert!(b >= a && a >= rng::now_ms().saturating_sub(1_000));
}
