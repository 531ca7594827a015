//! Fixtures shared by the fuzz targets: the sessions of docs/vectors, rebuilt from the vectors'
//! seeds, and the vectors' valid messages, which the targets' "nothing unauthenticated is
//! accepted" checks compare against.

use nen_core::crypto::AeadKey;
use nen_core::handshake::{
    server_handshake, ClientHandshake, IdentityPin, ServerConfig, ServerIdentity,
};
use nen_core::request::SignedRequest;
use nen_core::rng::ChaChaRng;
use nen_core::session::WrappingKeys;
use nen_core::{ClientSession, Mode, ServerSession};
use serde_json::Value;
use std::sync::OnceLock;

pub const CLIENT_SEED: [u8; 32] = [0x11; 32];
pub const SERVER_SEED: [u8; 32] = [0x22; 32];
pub const NOW: u64 = 1_767_225_600_000;
pub const TTL: u64 = 3_600_000;
pub const WINDOW: u64 = 30_000;
pub const MAX_BODY: usize = 1 << 20;

pub const REQUESTS: &str = include_str!("../../docs/vectors/requests.json");
pub const ROTATION: &str = include_str!("../../docs/vectors/rotation.json");
pub const STREAM: &str = include_str!("../../docs/vectors/stream.json");
pub const HANDSHAKES: [&str; 4] = [
    include_str!("../../docs/vectors/handshake-hybrid.json"),
    include_str!("../../docs/vectors/handshake-mlkem768.json"),
    include_str!("../../docs/vectors/handshake-hybrid-identity.json"),
    include_str!("../../docs/vectors/handshake-mlkem768-identity.json"),
];

pub fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("vector JSON")
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The handshake every vector session comes from (hybrid, no identity): the client's
/// generator is left where the handshake left it.
pub fn vector_session() -> (ClientSession, ServerSession, ChaChaRng, ChaChaRng) {
    let mut crng = ChaChaRng::from_seed(CLIENT_SEED);
    let mut srng = ChaChaRng::from_seed(SERVER_SEED);
    let hs = ClientHandshake::start(Mode::Hybrid, &mut crng).expect("start");
    let cfg = ServerConfig {
        modes: &[Mode::Hybrid, Mode::MlKem768],
        ttl_ms: TTL,
        identity: None,
    };
    let (server, resp) =
        server_handshake(hs.request_body().as_bytes(), &cfg, None, NOW, &mut srng).expect("server");
    let client = hs.finish(resp.as_bytes(), None).expect("finish");
    (client, server, crng, srng)
}

/// A valid request of the vectors, as the server must see it if it accepts it.
#[derive(Debug, Clone)]
pub struct KnownRequest {
    pub method: String,
    pub target: String,
    pub timestamp: u64,
    pub nonce: String,
    pub signature: String,
    pub idempotency_key: Option<String>,
    pub body: Option<String>,
    pub plaintext: Option<Vec<u8>>,
    pub now_ms: u64,
    pub status: u16,
    pub answer: String,
    pub response_body: Option<String>,
    pub response_header: Option<String>,
    pub plaintext_response: Option<Vec<u8>>,
}

fn known(e: &Value, headers: &Value) -> KnownRequest {
    let s = |v: &Value| v.as_str().map(String::from);
    KnownRequest {
        method: s(&e["method"]).expect("method"),
        target: s(&e["target"]).expect("target"),
        timestamp: headers["x-nen-timestamp"]
            .as_str()
            .expect("ts")
            .parse()
            .expect("ts"),
        nonce: s(&headers["x-nen-nonce"]).expect("nonce"),
        signature: s(&headers["x-nen-signature"]).expect("sig"),
        idempotency_key: s(&headers["x-nen-idempotency-key"]),
        body: s(&e["body"]),
        plaintext: s(&e["plaintext_body"])
            .or_else(|| s(&e["inner_request_body"]))
            .map(String::into_bytes),
        now_ms: e["now_ms"].as_u64().unwrap_or(NOW),
        status: e["status"].as_u64().unwrap_or(200) as u16,
        answer: s(&e["answer"]).unwrap_or_else(|| String::from("body")),
        response_body: s(&e["response_body"]),
        response_header: s(&e["response_headers"]["x-nen-response"]),
        plaintext_response: s(&e["plaintext_response"])
            .or_else(|| s(&e["inner_response_body"]))
            .map(String::into_bytes),
    }
}

/// Every valid request of requests.json (in order) and rotation.json, all on the vector session.
pub fn known_requests() -> &'static [KnownRequest] {
    static K: OnceLock<Vec<KnownRequest>> = OnceLock::new();
    K.get_or_init(|| {
        let r = json(REQUESTS);
        let mut v: Vec<KnownRequest> = r["exchanges"]
            .as_array()
            .expect("exchanges")
            .iter()
            .map(|e| known(e, &e["headers"]))
            .collect();
        let rot = json(ROTATION);
        v.push(known(&rot, &rot["headers"]));
        v
    })
}

/// A request as the HTTP layer hands it over, owned. Wire form for the fuzzer: the fields in
/// this order separated by 0x00; a field that is the single byte 0xFF is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedParts {
    pub method: String,
    pub target: String,
    pub version: Option<String>,
    pub session: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub signature: Option<String>,
    pub idempotency_key: Option<String>,
    pub body: Option<Vec<u8>>,
    pub now_ms: u64,
}

impl OwnedParts {
    pub fn parts(&self) -> nen_core::request::RequestParts<'_> {
        nen_core::request::RequestParts {
            method: &self.method,
            target: &self.target,
            version: self.version.as_deref(),
            session: self.session.as_deref(),
            timestamp: self.timestamp.as_deref(),
            nonce: self.nonce.as_deref(),
            signature: self.signature.as_deref(),
            idempotency_key: self.idempotency_key.as_deref(),
            body: self.body.as_deref(),
        }
    }

    pub fn decode(data: &[u8]) -> Self {
        let mut f = data.split(|&b| b == 0);
        let mut next = || -> Option<Vec<u8>> {
            match f.next() {
                None | Some([0xff]) => None,
                Some(x) => Some(x.to_vec()),
            }
        };
        let st = |v: Option<Vec<u8>>| v.map(|b| String::from_utf8_lossy(&b).into_owned());
        let method = st(next()).unwrap_or_default();
        let target = st(next()).unwrap_or_default();
        let version = st(next());
        let session = st(next());
        let timestamp = st(next());
        let nonce = st(next());
        let signature = st(next());
        let idempotency_key = st(next());
        let body = next();
        let now_ms = st(next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(NOW + 1_000);
        Self {
            method,
            target,
            version,
            session,
            timestamp,
            nonce,
            signature,
            idempotency_key,
            body,
            now_ms,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let fields: [Option<&[u8]>; 10] = [
            Some(self.method.as_bytes()),
            Some(self.target.as_bytes()),
            self.version.as_deref().map(str::as_bytes),
            self.session.as_deref().map(str::as_bytes),
            self.timestamp.as_deref().map(str::as_bytes),
            self.nonce.as_deref().map(str::as_bytes),
            self.signature.as_deref().map(str::as_bytes),
            self.idempotency_key.as_deref().map(str::as_bytes),
            self.body.as_deref(),
            None,
        ];
        for (i, x) in fields.iter().enumerate() {
            if i > 0 {
                out.push(0);
            }
            match x {
                Some(b) => out.extend_from_slice(b),
                None => out.push(0xff),
            }
        }
        out.extend_from_slice(format!("{}", self.now_ms).as_bytes());
        out
    }
}

impl KnownRequest {
    pub fn owned_parts(&self, sid: &str) -> OwnedParts {
        OwnedParts {
            method: self.method.clone(),
            target: self.target.clone(),
            version: Some(String::from("1")),
            session: Some(String::from(sid)),
            timestamp: Some(format!("{}", self.timestamp)),
            nonce: Some(self.nonce.clone()),
            signature: Some(self.signature.clone()),
            idempotency_key: self.idempotency_key.clone(),
            body: self.body.clone().map(String::into_bytes),
            now_ms: self.now_ms,
        }
    }
}

/// The vector server session, shared.
pub fn server_session() -> &'static ServerSession {
    static S: OnceLock<ServerSession> = OnceLock::new();
    S.get_or_init(|| vector_session().1)
}

/// The client session and, for each request of requests.json, the SignedRequest the client
/// made for it (re-signed from the same generator state, so its binding is the vector's).
pub fn client_requests() -> &'static (ClientSession, Vec<SignedRequest>) {
    static C: OnceLock<(ClientSession, Vec<SignedRequest>)> = OnceLock::new();
    C.get_or_init(|| {
        let (client, _, mut crng, _) = vector_session();
        let r = json(REQUESTS);
        let mut out = Vec::new();
        for e in r["exchanges"].as_array().expect("exchanges") {
            let signed = client
                .sign_request(
                    e["method"].as_str().expect("m"),
                    e["target"].as_str().expect("t"),
                    e["plaintext_body"].as_str().map(str::as_bytes),
                    e["idempotency_key"].as_str(),
                    e["now_ms"].as_u64().expect("now"),
                    &mut crng,
                )
                .expect("sign");
            let sig = signed
                .headers
                .iter()
                .find(|h| h.0 == "x-nen-signature")
                .expect("sig");
            assert_eq!(
                Some(sig.1.as_str()),
                e["headers"]["x-nen-signature"].as_str(),
                "vector drift"
            );
            out.push(signed);
        }
        (client, out)
    })
}

/// The stream vector's request, signed again from the same generator state.
pub fn stream_request() -> &'static (ClientSession, SignedRequest, Value) {
    static C: OnceLock<(ClientSession, SignedRequest, Value)> = OnceLock::new();
    C.get_or_init(|| {
        let (client, _, mut crng, _) = vector_session();
        let v = json(STREAM);
        let r = &v["request"];
        let signed = client
            .sign_request(
                r["method"].as_str().expect("m"),
                r["target"].as_str().expect("t"),
                r["plaintext_body"].as_str().map(str::as_bytes),
                None,
                v["now_ms"].as_u64().expect("now"),
                &mut crng,
            )
            .expect("sign");
        (client, signed, v)
    })
}

/// The pin of the identity vectors' server identity.
pub fn identity_pin(v: &Value) -> Option<IdentityPin> {
    let seed = v["handshake"]["identity_seed"].as_str()?;
    let seed: [u8; 32] = unhex(seed).try_into().ok()?;
    let id = ServerIdentity::from_seed(&nen_core::crypto::MlDsaSeed::from_bytes(seed));
    IdentityPin::new(id.public_key()).ok()
}

/// Two wrapping keys (the second one older) and an entry of the vector session wrapped under
/// the first.
pub fn wrapped() -> &'static (WrappingKeys, Vec<u8>) {
    static W: OnceLock<(WrappingKeys, Vec<u8>)> = OnceLock::new();
    W.get_or_init(|| {
        let keys = WrappingKeys::new(vec![
            AeadKey::from_bytes([7; 32]),
            AeadKey::from_bytes([8; 32]),
        ])
        .expect("keys");
        let entry = keys
            .wrap(server_session(), &mut ChaChaRng::from_seed([9; 32]))
            .expect("wrap");
        (keys, entry)
    })
}

pub fn vector_sid() -> String {
    json(REQUESTS)["handshake"]["sid"]
        .as_str()
        .expect("sid")
        .to_string()
}
