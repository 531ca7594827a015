//! Server side of the handshake: any request body, through ServerPolicy::handshake.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::rng::ChaChaRng;
use nen_core::server::{ServerOptions, ServerPolicy};
use nen_fuzz::{NOW, SERVER_SEED};

fuzz_target!(|data: &[u8]| {
    let policy = ServerPolicy::new(&ServerOptions::default()).unwrap();
    let mut rng = ChaChaRng::from_seed(SERVER_SEED);
    if let Ok((session, body)) = policy.handshake(data, None, NOW, &mut rng) {
        assert!(policy.modes.contains(&session.mode()));
        assert!(data.len() <= policy.max_handshake);
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
    }
});
