//! Client side of the handshake: input = [vector selector] ‖ response body. The client is the
//! vector's (same seed); it may accept only the session of the vector's transcript.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::handshake::ClientHandshake;
use nen_core::rng::ChaChaRng;
use nen_core::Mode;
use nen_fuzz::{identity_pin, json, unhex, CLIENT_SEED, HANDSHAKES};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, resp)) = data.split_first() else {
        return;
    };
    let v = json(HANDSHAKES[sel as usize % HANDSHAKES.len()]);
    let h = &v["handshake"];
    let mode = Mode::parse(h["mode"].as_str().unwrap()).unwrap();
    let pin = identity_pin(&v);
    let hs = ClientHandshake::start(mode, &mut ChaChaRng::from_seed(CLIENT_SEED)).unwrap();
    if let Ok(s) = hs.finish(resp, pin.as_ref()) {
        // Accepted: it must be the vector's session, nothing an attacker chose.
        assert_eq!(s.sid().to_hex(), h["sid"].as_str().unwrap());
        assert_eq!(
            &s.transcript_hash()[..],
            &unhex(h["transcript_hash"].as_str().unwrap())[..]
        );
        assert_eq!(s.mode(), mode);
    }
});
