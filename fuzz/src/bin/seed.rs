//! Writes the seed corpora (fuzz/seeds/<target>/) from docs/vectors: valid messages, in each
//! target's input format. `cargo run --bin seed` from fuzz/ (see fuzz/seed.sh).
use nen_fuzz::*;
use std::fs;
use std::path::Path;

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new("seeds").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), data).unwrap();
}

fn main() {
    let sid = vector_sid();
    for (i, h) in HANDSHAKES.iter().enumerate() {
        let v = json(h);
        let hs = &v["handshake"];
        write(
            "handshake_request",
            &format!("vector-{i}"),
            hs["request_body"].as_str().unwrap().as_bytes(),
        );
        let mut r = vec![i as u8];
        r.extend_from_slice(hs["response_body"].as_str().unwrap().as_bytes());
        write("handshake_response", &format!("vector-{i}"), &r);
        write(
            "wire_decode",
            &format!("hs-{i}"),
            hs["response_body"].as_str().unwrap().as_bytes(),
        );
    }
    let rot = json(ROTATION);
    write(
        "handshake_request",
        "rotation-inner",
        rot["inner_request_body"].as_str().unwrap().as_bytes(),
    );
    for (i, k) in known_requests().iter().enumerate() {
        write(
            "request_open",
            &format!("exchange-{i:02}"),
            &k.owned_parts(&sid).encode(),
        );
        if let Some(b) = &k.body {
            write("wire_decode", &format!("req-{i:02}"), b.as_bytes());
        }
        let resp = k.response_body.as_deref().or(k.response_header.as_deref());
        if let Some(resp) = resp {
            if i < client_requests().1.len() {
                let mut r = vec![i as u8];
                r.extend_from_slice(&k.status.to_be_bytes());
                r.extend_from_slice(resp.as_bytes());
                write("response_open", &format!("exchange-{i:02}"), &r);
            }
            write("wire_decode", &format!("resp-{i:02}"), resp.as_bytes());
        }
        write(
            "wire_decode",
            &format!("sig-{i:02}"),
            k.signature.as_bytes(),
        );
        write("target", &format!("exchange-{i:02}"), k.target.as_bytes());
    }
    for (i, u) in [
        "https://h.example:8443/a/b?x=1",
        "http://h",
        "/a?next=https://b/c",
        "/a#frag",
    ]
    .iter()
    .enumerate()
    {
        write("target", &format!("url-{i}"), u.as_bytes());
    }
    let st = json(STREAM);
    let mut s = vec![255u8, 40];
    s.extend_from_slice(st["sse_body"].as_str().unwrap().as_bytes());
    write("sse_stream", "vector", &s);
    let (_, entry) = wrapped();
    for flag in [0u8, 1] {
        let mut e = vec![flag, 0, 0];
        e.extend_from_slice(server_session().sid().as_bytes());
        e.extend_from_slice(entry);
        write("session_unwrap", &format!("entry-{flag}"), &e);
    }
    for a in [
        "1", "0", "-1", "ok", "gone", "replay", "rotated", "ISO-2002",
    ] {
        write("store_reply", a, a.as_bytes());
    }
    // session_flow reads its input through `arbitrary`: a few byte patterns.
    for (i, n) in [64usize, 256, 1024].iter().enumerate() {
        let d: Vec<u8> = (0..*n).map(|j| (j * 37 + i * 11) as u8).collect();
        write("session_flow", &format!("pattern-{i}"), &d);
    }
}
