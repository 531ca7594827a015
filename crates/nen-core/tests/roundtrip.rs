//! Every method in every mode, end to end through the public API.

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
        .sign_request(method, target, body.map(str::as_bytes), NOW, &mut crng)
        .unwrap();
    let parsed = parse_request(&parts(method, target, &req), 1 << 20).unwrap();
    let opened = server.open_request(parsed, NOW + 1000, WINDOW).unwrap();
    assert_eq!(opened.body.as_deref(), body.map(str::as_bytes));
    if method == "HEAD" {
        let h = server.seal_head(&opened.binding, 200, &mut srng).unwrap();
        client.open_head(&req, 200, Some(&h)).unwrap();
    } else {
        let reply = format!(
            "{{\"echo\":{},\"method\":\"{method}\"}}",
            body.unwrap_or("null")
        );
        let env = server
            .seal_response(&opened.binding, 201, reply.as_bytes(), &mut srng)
            .unwrap();
        assert!(!env.contains("echo"), "response envelope leaks plaintext");
        let got = client.open_response(&req, 201, env.as_bytes()).unwrap();
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
        .sign_request("POST", "/api/chat", Some(b"{\"q\":\"hi\"}"), NOW, &mut crng)
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
        .sign_request("POST", "/api/x", Some(b"{\"a\":1}"), NOW, &mut crng)
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
