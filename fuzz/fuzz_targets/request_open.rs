//! Request parse + open against the vector session (headers, target, body envelope). An
//! accepted request must be one the client signed, field for field.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::request::parse_request;
use nen_core::wire::unb64;
use nen_fuzz::{known_requests, server_session, OwnedParts, MAX_BODY, WINDOW};

fuzz_target!(|data: &[u8]| {
    let p = OwnedParts::decode(data);
    let Ok(parsed) = parse_request(&p.parts(), MAX_BODY) else {
        return;
    };
    let _ = (parsed.sid(), parsed.method());
    let Ok(opened) = server_session().open_request(parsed, p.now_ms, WINDOW) else {
        return;
    };
    let sig = unb64(p.signature.as_deref().unwrap().trim()).unwrap();
    let k = known_requests()
        .iter()
        .find(|k| unb64(&k.signature).unwrap() == sig)
        .expect("accepted a request the client never signed");
    assert_eq!(opened.method.as_str(), k.method);
    assert_eq!(p.target, k.target);
    assert_eq!(opened.timestamp, k.timestamp);
    assert_eq!(
        opened.binding.nonce().as_bytes()[..],
        unb64(&k.nonce).unwrap()[..]
    );
    assert_eq!(opened.idempotency_key, k.idempotency_key);
    assert_eq!(opened.body, k.plaintext);
    assert!(opened.timestamp.abs_diff(p.now_ms) <= WINDOW);
});
