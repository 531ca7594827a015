//! Every method in every mode, end to end through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

mod common;
use common::*;
use nen_core::request::parse_request;
use nen_core::stream::StreamEvent;
use nen_core::{ClientSession, Mode, ServerSession};

fn exchange(client: &ClientSession, server: &ServerSession, method: &str, body: Option<&str>) {
    let mut crng = rng(3);
    let mut srng = rng(4);
    let target = "/api/items/42?b=2&a=1";
    let req = client
        .sign_request(
            method,
            target,
            body.map(str::as_bytes),
            None,
            NOW,
            &mut crng,
        )
        .unwrap();
    let parsed = parse_request(&parts(method, target, &req), 1 << 20).unwrap();
    let opened = server.open_request(parsed, NOW + 1000, WINDOW).unwrap();
    assert_eq!(opened.body.as_deref(), body.map(str::as_bytes));
    if method == "HEAD" {
        let h = server.seal_head(&opened.binding, 200, &mut srng).unwrap();
        client
            .open_head(&req, 200, Some(&h))
            .and_then(nen_core::response::Answer::into_body)
            .unwrap();
    } else {
        let reply = format!(
            "{{\"echo\":{},\"method\":\"{method}\"}}",
            body.unwrap_or("null")
        );
        let env = server
            .seal_response(&opened.binding, 201, reply.as_bytes(), &mut srng)
            .unwrap();
        assert!(!env.contains("echo"), "response envelope leaks plaintext");
        let got = client
            .open_response(&req, 201, env.as_bytes())
            .and_then(nen_core::response::Answer::into_body)
            .unwrap();
        assert_eq!(got, reply.as_bytes());
    }
}

#[test]
fn every_method_in_every_mode() {
    for mode in [Mode::Hybrid, Mode::MlKem768] {
        for identity in [None, Some(identity())] {
            let (c, s) = pair(mode, identity.as_ref());
            assert_eq!(c.sid(), s.sid());
            assert_eq!(c.mode(), mode);
            exchange(&c, &s, "GET", None);
            exchange(&c, &s, "HEAD", None);
            exchange(&c, &s, "DELETE", None);
            exchange(&c, &s, "DELETE", Some("{\"hard\":true}"));
            for m in ["POST", "PUT", "PATCH"] {
                exchange(&c, &s, m, Some("{\"name\":\"widget\",\"qty\":3}"));
            }
        }
    }
}

#[test]
fn stream_round_trip_with_padding() {
    let (c, s) = pair(Mode::Hybrid, None);
    let mut crng = rng(5);
    let mut srng = rng(6);
    let req = c
        .sign_request(
            "POST",
            "/api/chat",
            Some(b"{\"q\":\"hi\"}"),
            None,
            NOW,
            &mut crng,
        )
        .unwrap();
    let opened = s
        .open_request(
            parse_request(&parts("POST", "/api/chat", &req), 1 << 20).unwrap(),
            NOW,
            WINDOW,
        )
        .unwrap();
    let (mut sealer, nonce) = s.stream_sealer(&opened.binding, 32, &mut srng).unwrap();
    let mut wire = String::new();
    for tok in ["Hel", "lo", " world"] {
        wire.push_str(&sealer.chunk(tok.as_bytes()).unwrap());
    }
    wire.push_str(&sealer.finish().unwrap());
    assert!(!wire.contains("Hel") && !wire.contains("world"));
    let mut parser = nen_core::stream::SseParser::new(1 << 20);
    let frames = parser.feed(wire.as_bytes()).unwrap();
    assert_eq!(frames.len(), 4);
    // Padding: every data frame has the same length whatever the token length.
    assert_eq!(frames[0].data.len(), frames[2].data.len());
    let mut opener = c.stream_opener(&req, Some(&nonce)).unwrap();
    let mut text = Vec::new();
    for f in &frames {
        match opener.open_frame(f.event.as_deref(), &f.data).unwrap() {
            StreamEvent::Data(d) => text.extend(d),
            StreamEvent::End => {}
        }
    }
    opener.finish().unwrap();
    assert_eq!(text, b"Hello world");
}

#[test]
fn json_escapes_added_by_a_reserialising_hop_are_accepted() {
    // Some gateways re-serialise JSON and escape '/' (or use \u escapes): same value, other bytes.
    let escape = |s: &str| s.replace('/', "\\/").replace('=', "\\u003d");
    let mut crng = rng(9);
    let mut srng = rng(10);
    let hs = nen_core::handshake::ClientHandshake::start(Mode::Hybrid, &mut crng).unwrap();
    let (server, body) = nen_core::handshake::server_handshake(
        escape(&hs.request_body()).as_bytes(),
        &config(None),
        None,
        NOW,
        &mut srng,
    )
    .unwrap();
    assert!(
        body.contains('/') || body.contains('='),
        "the test needs something to escape"
    );
    let client = hs.finish(escape(&body).as_bytes(), None).unwrap();
    let req = client
        .sign_request("POST", "/api/x", Some(b"{\"a\":1}"), None, NOW, &mut crng)
        .unwrap();
    let escaped_body = escape(req.body.as_deref().unwrap());
    let mut p = parts("POST", "/api/x", &req);
    p.body = Some(escaped_body.as_bytes());
    let opened = server
        .open_request(parse_request(&p, 1 << 20).unwrap(), NOW, WINDOW)
        .unwrap();
    let env = server
        .seal_response(&opened.binding, 200, b"{\"ok\":true}", &mut srng)
        .unwrap();
    assert_eq!(
        client
            .open_response(&req, 200, escape(&env).as_bytes())
            .and_then(nen_core::response::Answer::into_body)
            .unwrap(),
        b"{\"ok\":true}"
    );
}

#[test]
fn a_wrapped_session_holds_none_of_its_keys() {
    // What a session store (Redis, Upstash) sees: without the wrapping key, no key material.
    let (_, server) = pair(Mode::Hybrid, None);
    let wrapping = nen_core::crypto::AeadKey::from_bytes([9; 32]);
    let entry = nen_core::session::wrap(&wrapping, &server, &mut rng(11)).unwrap();
    let keys = server.export_keys_for_vectors();
    for key in keys.chunks(32) {
        assert!(
            !entry.windows(8).any(|w| key.windows(8).any(|k| k == w)),
            "a key fragment is in the clear"
        );
    }
    let back = nen_core::session::unwrap(&wrapping, server.sid(), &entry).unwrap();
    assert_eq!(*back.export_keys_for_vectors(), *keys);
}

#[test]
fn idempotency_key_is_signed_and_only_the_verified_one_is_handed_on() {
    let (c, s) = pair(Mode::Hybrid, None);
    let req = c
        .sign_request(
            "POST",
            "/api/pay",
            Some(b"{\"eur\":5}"),
            Some("pay-7f3a"),
            NOW,
            &mut rng(3),
        )
        .unwrap();
    assert_eq!(header(&req, "x-nen-idempotency-key"), Some("pay-7f3a"));
    let opened = s
        .open_request(
            parse_request(&parts("POST", "/api/pay", &req), 1 << 20).unwrap(),
            NOW,
            WINDOW,
        )
        .unwrap();
    assert_eq!(opened.idempotency_key.as_deref(), Some("pay-7f3a"));
    // A hop that rewrites or drops the key (to make a retry look like a new payment) breaks the MAC.
    for key in [Some("pay-7f3b"), None] {
        let mut p = OwnedParts::from_signed("POST", "/api/pay", &req);
        p.idempotency_key = key.map(str::to_owned);
        let r = parse_request(&p.as_parts(), 1 << 20).and_then(|p| s.open_request(p, NOW, WINDOW));
        assert_eq!(
            r.map(|_| ()),
            Err(nen_core::Error::SignatureInvalid),
            "{key:?}"
        );
    }
    assert_eq!(
        c.sign_request("POST", "/api/pay", None, Some(""), NOW, &mut rng(3))
            .map(|_| ()),
        Err(nen_core::Error::IdempotencyKeyInvalid)
    );
}

#[test]
fn failures_after_authentication_are_sealed_and_distinct_from_handler_errors() {
    use nen_core::response::Answer;
    use nen_core::Error;
    let (c, s) = pair(Mode::Hybrid, None);
    let req = c
        .sign_request("POST", "/api/x", Some(b"{}"), None, NOW, &mut rng(3))
        .unwrap();
    let opened = s
        .open_request(
            parse_request(&parts("POST", "/api/x", &req), 1 << 20).unwrap(),
            NOW,
            WINDOW,
        )
        .unwrap();
    let (status, env) = s
        .seal_error(&opened.binding, Error::Internal, &mut rng(4))
        .unwrap();
    assert_eq!(status, 500);
    assert!(!env.contains("ISO-"), "the code travels sealed");
    assert_eq!(
        c.open_response(&req, 500, env.as_bytes()),
        Ok(Answer::Failed(Error::Internal))
    );
    // Bound to its status like any response.
    assert_eq!(
        c.open_response(&req, 502, env.as_bytes()),
        Err(Error::ResponseUnbound)
    );
    // A handler's own 4xx with the same JSON is a body, never a Nen failure.
    let own = Error::Internal.wire_body();
    let env = s
        .seal_response(&opened.binding, 500, own.as_bytes(), &mut rng(5))
        .unwrap();
    assert_eq!(
        c.open_response(&req, 500, env.as_bytes()),
        Ok(Answer::Body(own.into_bytes()))
    );
    // A plain error body is never taken for an authenticated one.
    assert_eq!(
        c.open_response(&req, 500, Error::Internal.wire_body().as_bytes()),
        Err(Error::ResponseUnbound)
    );

    let head = c
        .sign_request("HEAD", "/api/x", None, None, NOW, &mut rng(6))
        .unwrap();
    let opened = s
        .open_request(
            parse_request(&parts("HEAD", "/api/x", &head), 1 << 20).unwrap(),
            NOW,
            WINDOW,
        )
        .unwrap();
    let (status, h) = s
        .seal_head_error(&opened.binding, Error::SessionAlreadyRotated, &mut rng(7))
        .unwrap();
    assert_eq!(status, 409);
    assert_eq!(
        c.open_head(&head, 409, Some(&h)),
        Ok(Answer::Failed(Error::SessionAlreadyRotated))
    );
    assert_eq!(
        c.open_head(&head, 401, Some(&h)),
        Err(Error::ResponseUnbound)
    );
}

#[test]
fn a_rotate_request_fits_the_smallest_body_limit() {
    use nen_core::handshake::ClientHandshake;
    use nen_core::server::MIN_BODY_BYTES;
    let (c, _) = pair(Mode::Hybrid, None);
    let body = ClientHandshake::start_rotation(Mode::Hybrid, *c.sid(), &mut rng(8))
        .unwrap()
        .request_body();
    let req = c
        .sign_request(
            "POST",
            "/api/nen/rotate",
            Some(body.as_bytes()),
            None,
            NOW,
            &mut rng(9),
        )
        .unwrap();
    let sealed = req.body.unwrap().len();
    assert!(
        sealed < MIN_BODY_BYTES as usize / 2 + 512,
        "sealed rotate request is {sealed} bytes"
    );
    assert!((2_200..2_300).contains(&sealed), "{sealed}");
}

#[test]
fn handshake_request_shape_is_strict() {
    use nen_core::handshake::{server_handshake, ClientHandshake};
    use nen_core::Error;
    let body = ClientHandshake::start(Mode::Hybrid, &mut rng(1))
        .unwrap()
        .request_body();
    let serve =
        |b: &str| server_handshake(b.as_bytes(), &config(None), None, NOW, &mut rng(2)).map(|_| ());
    assert_eq!(serve(&body), Ok(()));
    let extra = body.replacen('{', "{\"admin\":true,", 1);
    assert_eq!(serve(&extra), Err(Error::InvalidEnvelope));
    let dup = body.replacen("{\"v\":1,", "{\"v\":1,\"v\":1,", 1);
    assert_eq!(serve(&dup), Err(Error::InvalidEnvelope));
    assert_eq!(
        serve(&body.replacen("\"v\":1", "\"v\":1.0", 1)),
        Err(Error::VersionMismatch)
    );
    assert_eq!(
        serve(&body.replacen("\"mode\":\"hybrid\",", "", 1)),
        Err(Error::UnsupportedMode)
    );
    let ml = ClientHandshake::start(Mode::MlKem768, &mut rng(1))
        .unwrap()
        .request_body();
    let x = body
        .split("\"x25519\":")
        .nth(1)
        .unwrap()
        .trim_end_matches('}')
        .to_owned();
    let ml_with_x = ml.replacen('}', &format!(",\"x25519\":{x}}}"), 1);
    assert_eq!(serve(&ml_with_x), Err(Error::InvalidEnvelope));
}

#[test]
fn sse_frames_are_bounded_and_keep_alives_ignored() {
    use nen_core::stream::SseParser;
    // Many short data lines add up to one frame: bounded like a line.
    let mut p = SseParser::new(64);
    let many = "data: aaaaaaaaaa\n".repeat(10);
    assert_eq!(
        p.feed(many.as_bytes()),
        Err(nen_core::Error::StreamChunkInvalid)
    );
    let mut p = SseParser::new(64);
    let frames = p
        .feed(b": keep-alive\nid: 7\nretry: 1000\n\n: ping\ndata: x\n\n")
        .unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data, "x");
    assert_eq!(frames[0].event, None);
}

#[test]
fn wrapping_key_rotation_add_deploy_drop() {
    use nen_core::crypto::AeadKey;
    use nen_core::session::{UnwrapFailure, WrappingKeys};
    let (_, server) = pair(Mode::Hybrid, None);
    let old = || AeadKey::from_bytes([1; 32]);
    let new = || AeadKey::from_bytes([2; 32]);
    let before = WrappingKeys::new(vec![old()]).unwrap();
    let during = WrappingKeys::new(vec![new(), old()]).unwrap();
    let after = WrappingKeys::new(vec![new()]).unwrap();
    let sid = *server.sid();
    let e_old = before.wrap(&server, &mut rng(1)).unwrap();
    // During the rotation new entries use the first key, old ones still open.
    let e_new = during.wrap(&server, &mut rng(2)).unwrap();
    assert_eq!(&e_new[1..9], after.current_id());
    assert_eq!(&e_old[1..9], before.current_id());
    assert!(during.unwrap(&sid, &e_old).is_ok());
    assert!(during.unwrap(&sid, &e_new).is_ok());
    // An instance not yet redeployed opens what it made; what it cannot open it names.
    assert_eq!(
        before.unwrap(&sid, &e_new).err(),
        Some(UnwrapFailure::UnknownKey(*after.current_id()))
    );
    // Old key dropped: old entries answer ISO-8002 (their owners handshake again).
    assert_eq!(
        after.unwrap(&sid, &e_old).err(),
        Some(UnwrapFailure::UnknownKey(*before.current_id()))
    );
    assert_eq!(
        nen_core::Error::from(UnwrapFailure::Malformed),
        nen_core::Error::StoreCorrupt
    );
    // No two keys with one id, and never none.
    assert!(WrappingKeys::new(vec![old(), old()]).is_err());
    assert!(WrappingKeys::new(vec![]).is_err());
    // A flipped tag under a known id does not open.
    let mut bad = e_new.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        after.unwrap(&sid, &bad).err(),
        Some(UnwrapFailure::DoesNotOpen(*after.current_id()))
    );
}
