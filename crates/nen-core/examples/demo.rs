//! An encrypted round trip in one process, printing what would cross the wire.
//!
//! `cargo run -p nen-core --example demo`

use nen_core::handshake::{server_handshake, ClientHandshake, ServerConfig};
use nen_core::request::{parse_request, RequestParts};
use nen_core::rng::ChaChaRng;
use nen_core::{Mode, DEFAULT_WINDOW_MS};
use std::time::{SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn short(s: &str) -> String {
    if s.len() <= 120 {
        s.to_string()
    } else {
        format!("{}… ({} bytes)", &s[..110], s.len())
    }
}

fn main() -> Result<(), nen_core::Error> {
    let mut client_rng = ChaChaRng::from_os()?;
    let mut server_rng = ChaChaRng::from_os()?;
    let config = ServerConfig {
        modes: &[Mode::Hybrid, Mode::MlKem768],
        ttl_ms: 3_600_000,
        identity: None,
    };

    println!("== handshake (X25519 + ML-KEM-768) ==");
    let hs = ClientHandshake::start(Mode::Hybrid, &mut client_rng)?;
    let hs_req = hs.request_body();
    println!("client → POST /api/nen/handshake {}", short(&hs_req));
    let (server, hs_resp) =
        server_handshake(hs_req.as_bytes(), &config, None, now_ms(), &mut server_rng)?;
    println!("server → 200 {}", short(&hs_resp));
    let client = hs.finish(hs_resp.as_bytes(), None)?;
    println!(
        "session {} established; key confirmation checked\n",
        client.sid()
    );

    println!("== encrypted POST ==");
    let plaintext = r#"{"card":"4111 1111 1111 1111","amount":4200}"#;
    println!("handler input (plaintext, never on the wire): {plaintext}");
    let target = "/api/payments?currency=EUR";
    let req = client.sign_request(
        "POST",
        target,
        Some(plaintext.as_bytes()),
        None,
        now_ms(),
        &mut client_rng,
    )?;
    println!("client → POST {target}");
    for (name, value) in &req.headers {
        println!("    {name}: {value}");
    }
    let body = req.body.clone().unwrap_or_default();
    println!("    body: {}", short(&body));
    assert!(!body.contains("4111"));

    let header = |n: &str| {
        req.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    };
    let parts = RequestParts {
        method: "POST",
        target,
        version: header("x-nen-version"),
        session: header("x-nen-session"),
        timestamp: header("x-nen-timestamp"),
        nonce: header("x-nen-nonce"),
        signature: header("x-nen-signature"),
        idempotency_key: None,
        body: Some(body.as_bytes()),
    };
    let opened =
        server.open_request(parse_request(&parts, 1 << 20)?, now_ms(), DEFAULT_WINDOW_MS)?;
    let seen = String::from_utf8_lossy(opened.body.as_deref().unwrap_or_default()).into_owned();
    println!("server handler sees: {seen}");

    let reply = r#"{"status":"approved","id":"pay_123"}"#;
    let env = server.seal_response(&opened.binding, 201, reply.as_bytes(), &mut server_rng)?;
    println!("server → 201 {}", short(&env));
    let got = client
        .open_response(&req, 201, env.as_bytes())
        .and_then(nen_core::response::Answer::into_body)?;
    println!("client reads: {}", String::from_utf8_lossy(&got));
    assert_eq!(got, reply.as_bytes());
    Ok(())
}
