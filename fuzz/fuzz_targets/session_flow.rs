//! A whole session through nen_core's server flow (ServerPolicy, engine::verify,
//! Unrecorded::recorded, ServerPolicy::rotation, Rotation::retired), an in-memory map as the
//! store, and an attacker who mutates or replays requests between the steps. Invariants: a
//! mutated request is never accepted, a replay is never accepted, an honest request on a live
//! session always is, a session has at most one successor, nothing panics.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nen_core::engine::{unwrap_record, verify, StoredRecord};
use nen_core::handshake::ClientHandshake;
use nen_core::request::{parse_request, OpenedRequest, SignedRequest};
use nen_core::rng::ChaChaRng;
use nen_core::server::{ServerOptions, ServerPolicy};
use nen_core::session::WrappingKeys;
use nen_core::store::{Recorded, Retired};
use nen_core::wire::{b64, unb64};
use nen_core::{ClientSession, Error, Mode, ServerSession, SessionId};
use nen_fuzz::{OwnedParts, NOW};
use std::collections::BTreeMap;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Mutation {
    Signature(u8, u8),
    Nonce(u8, u8),
    Timestamp(i16),
    Target(u8),
    Method(u8),
    Body(u16, u8),
    Session(u8),
    Header(u8),
}

#[derive(Arbitrary, Debug)]
enum Step {
    Request {
        method: u8,
        target: u8,
        body: bool,
        idem: bool,
        dt: u16,
        mutation: Option<Mutation>,
    },
    Replay {
        which: u8,
        dt: u16,
    },
    Rotate {
        dt: u16,
    },
    RotateOld,
    OldRequest {
        dt: u16,
    },
    Terminate,
    Wait {
        secs: u16,
    },
}

#[derive(Arbitrary, Debug)]
struct Plan {
    mlkem: bool,
    seed: u8,
    steps: Vec<Step>,
}

const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const TARGETS: [&str; 4] = ["/api/items", "/api/items/42?x=1&y=", "/a%2Fb", "/"];

struct Record {
    entry: Vec<u8>,
    retired_at: Option<u64>,
    nonces: BTreeMap<String, u64>,
    expires: u64,
}

struct World {
    policy: ServerPolicy,
    keys: WrappingKeys,
    store: BTreeMap<SessionId, Record>,
    now: u64,
    crng: ChaChaRng,
    srng: ChaChaRng,
    mode: Mode,
}

fn parts_of(s: &SignedRequest, target: &str, now: u64) -> OwnedParts {
    let h = |n: &str| s.headers.iter().find(|h| h.0 == n).map(|h| h.1.clone());
    OwnedParts {
        method: String::from(s.method.as_str()),
        target: String::from(target),
        version: h("x-nen-version"),
        session: h("x-nen-session"),
        timestamp: h("x-nen-timestamp"),
        nonce: h("x-nen-nonce"),
        signature: h("x-nen-signature"),
        idempotency_key: h("x-nen-idempotency-key"),
        body: s.body.clone().map(String::into_bytes),
        now_ms: now,
    }
}

fn flip_b64(s: &mut Option<String>, i: u8, bit: u8) {
    if let Some(v) = s.as_mut() {
        let mut b = unb64(v).unwrap();
        let at = i as usize % b.len();
        b[at] ^= 1 << (bit % 8);
        *v = b64(&b);
    }
}

fn mutate(p: &mut OwnedParts, m: Mutation) {
    match m {
        Mutation::Signature(i, bit) => flip_b64(&mut p.signature, i, bit),
        Mutation::Nonce(i, bit) => flip_b64(&mut p.nonce, i, bit),
        Mutation::Timestamp(d) => {
            let ts: u64 = p.timestamp.as_deref().unwrap().parse().unwrap();
            let d = if d == 0 { 1 } else { d };
            p.timestamp = Some(format!("{}", ts.wrapping_add_signed(i64::from(d))));
        }
        Mutation::Target(c) => p.target.push(b"abc/%?=&.~"[c as usize % 10] as char),
        Mutation::Method(m) => {
            let others: Vec<&str> = METHODS.iter().copied().filter(|x| *x != p.method).collect();
            p.method = String::from(others[m as usize % others.len()]);
        }
        Mutation::Body(i, bit) => match p.body.as_ref() {
            Some(b) => {
                let env: serde_json::Value = serde_json::from_slice(b).unwrap();
                let mut ct = unb64(env["ct"].as_str().unwrap()).unwrap();
                let at = i as usize % ct.len();
                ct[at] ^= 1 << (bit % 8);
                p.body = Some(format!("{{\"ct\":\"{}\"}}", b64(&ct)).into_bytes());
            }
            None => p.body = Some(format!("{{\"ct\":\"{}\"}}", b64(&[i as u8; 24])).into_bytes()),
        },
        Mutation::Session(i) => {
            let s = p.session.as_mut().unwrap();
            let at = i as usize % s.len();
            let c = s.as_bytes()[at];
            let n = if c == b'0' { '1' } else { '0' };
            s.replace_range(at..at + 1, &n.to_string());
        }
        Mutation::Header(w) => match w % 6 {
            0 => p.version = None,
            1 => p.session = None,
            2 => p.timestamp = None,
            3 => p.nonce = None,
            4 => p.signature = None,
            _ => {
                p.idempotency_key = match p.idempotency_key {
                    Some(_) => None,
                    None => Some(String::from("attacker-key")),
                }
            }
        },
    }
}

impl World {
    fn put(&mut self, s: &ServerSession) {
        let entry = self.keys.wrap(s, &mut self.srng).unwrap();
        self.store.insert(
            *s.sid(),
            Record {
                entry,
                retired_at: None,
                nonces: BTreeMap::new(),
                expires: s.expires_at(),
            },
        );
    }

    /// The open flow of a binding: parse, load, unwrap, verify, record.
    fn serve(&mut self, p: &OwnedParts) -> Result<(OpenedRequest, ServerSession), Error> {
        let now = p.now_ms;
        let parsed = parse_request(&p.parts(), self.policy.max_body)?;
        let rec = self
            .store
            .get(parsed.sid())
            .filter(|r| r.expires > now)
            .ok_or(Error::SessionExpired)?;
        let record = StoredRecord {
            entry: &rec.entry,
            retired_at: rec.retired_at,
        };
        let session = unwrap_record(&self.keys, parsed.sid(), record, now).map_err(Error::from)?;
        let un = verify(&self.policy, &session, parsed, now)?;
        let field = un.nonce_field();
        let answer = match self.store.get_mut(un.sid()) {
            None => "0",
            Some(r) if r.nonces.get(&field).is_some_and(|&u| u > now) => "-1",
            Some(r) => {
                r.nonces.insert(field, un.until_ms());
                "1"
            }
        };
        let opened = un.recorded(Recorded::parse(answer).unwrap())?;
        Ok((opened, session))
    }

    fn handshake(&mut self) -> ClientSession {
        let hs = ClientHandshake::start(self.mode, &mut self.crng).unwrap();
        let (s, resp) = self
            .policy
            .handshake(hs.request_body().as_bytes(), None, self.now, &mut self.srng)
            .unwrap();
        self.put(&s);
        hs.finish(resp.as_bytes(), None).unwrap()
    }

    /// A rotation of `client`: the successor, or why there is none.
    fn rotate(&mut self, client: &ClientSession) -> Result<ClientSession, Error> {
        let rot = ClientHandshake::start_rotation(self.mode, *client.sid(), &mut self.crng)?;
        let body = rot.request_body();
        let signed = client.sign_request(
            "POST",
            "/api/nen/rotate",
            Some(body.as_bytes()),
            None,
            self.now,
            &mut self.crng,
        )?;
        let (opened, session) = self.serve(&parts_of(&signed, "/api/nen/rotate", self.now))?;
        let rotation = self
            .policy
            .rotation(&session, &opened, self.now, &mut self.srng)?;
        let answer = match self.store.get_mut(session.sid()) {
            None => "0",
            Some(r) if r.retired_at.is_some() => "-1",
            Some(r) => {
                r.retired_at = Some(rotation.retire_at_ms());
                r.expires = r.expires.min(rotation.retire_at_ms());
                "1"
            }
        };
        let (successor, response) = rotation.retired(Retired::parse(answer).unwrap())?;
        self.put(&successor);
        let env =
            session.seal_response(&opened.binding, 200, response.as_bytes(), &mut self.srng)?;
        let plain = client
            .open_response(&signed, 200, env.as_bytes())?
            .into_body()?;
        let new = rot
            .finish(&plain, None)
            .expect("the client refused an honest rotation");
        assert_eq!(new.sid(), successor.sid());
        Ok(new)
    }
}

fuzz_target!(|plan: Plan| {
    let mut w = World {
        policy: ServerPolicy::new(&ServerOptions::default()).unwrap(),
        keys: WrappingKeys::new(vec![nen_core::crypto::AeadKey::from_bytes([5; 32])]).unwrap(),
        store: BTreeMap::new(),
        now: NOW,
        crng: ChaChaRng::from_seed([plan.seed; 32]),
        srng: ChaChaRng::from_seed([plan.seed ^ 0x5a; 32]),
        mode: if plan.mlkem {
            Mode::MlKem768
        } else {
            Mode::Hybrid
        },
    };
    let mut client = w.handshake();
    let mut live = true;
    let mut old: Option<(ClientSession, u64)> = None;
    let mut accepted: Vec<OwnedParts> = Vec::new();
    for step in plan.steps.into_iter().take(12) {
        match step {
            Step::Request {
                method,
                target,
                body,
                idem,
                dt,
                mutation,
            } => {
                w.now += u64::from(dt);
                let m = METHODS[method as usize % METHODS.len()];
                let t = TARGETS[target as usize % TARGETS.len()];
                let body = (body && !matches!(m, "GET" | "HEAD")).then_some(&b"{\"a\":[1,2]}"[..]);
                let idem = idem.then_some("order-7");
                let signed = client
                    .sign_request(m, t, body, idem, w.now, &mut w.crng)
                    .unwrap();
                let mut p = parts_of(&signed, t, w.now);
                let honest = mutation.is_none();
                if let Some(mu) = mutation {
                    mutate(&mut p, mu);
                }
                let r = w.serve(&p);
                if honest {
                    if live && w.now < client.expires_at() {
                        let (opened, _) =
                            r.expect("an honest request on a live session was refused");
                        assert_eq!(opened.body.as_deref(), body);
                        assert_eq!(opened.idempotency_key.as_deref(), idem);
                        accepted.push(p);
                    }
                } else {
                    assert!(r.is_err(), "accepted a mutated request: {mutation:?}");
                }
            }
            Step::Replay { which, dt } => {
                w.now += u64::from(dt);
                if accepted.is_empty() {
                    continue;
                }
                let mut p = accepted[which as usize % accepted.len()].clone();
                p.now_ms = w.now;
                assert!(w.serve(&p).is_err(), "accepted a replay");
            }
            Step::Rotate { dt } => {
                w.now += u64::from(dt);
                match w.rotate(&client) {
                    Ok(new) => {
                        assert!(live);
                        old = Some((
                            std::mem::replace(&mut client, new),
                            w.now + w.policy.grace_ms,
                        ));
                    }
                    Err(_) => assert!(!live || w.now >= client.expires_at()),
                }
            }
            Step::RotateOld => {
                if let Some((o, _)) = old.as_ref() {
                    assert!(w.rotate(o).is_err(), "a session got a second successor");
                }
            }
            Step::OldRequest { dt } => {
                w.now += u64::from(dt);
                if let Some((o, until)) = old.as_ref() {
                    let signed = o
                        .sign_request("GET", "/api/items", None, None, w.now, &mut w.crng)
                        .unwrap();
                    if w.serve(&parts_of(&signed, "/api/items", w.now)).is_ok() {
                        assert!(w.now < *until, "a rotated session answered past its grace");
                    }
                }
            }
            Step::Terminate => {
                let signed = client
                    .sign_request("POST", "/api/nen/terminate", None, None, w.now, &mut w.crng)
                    .unwrap();
                if let Ok((opened, _)) = w.serve(&parts_of(&signed, "/api/nen/terminate", w.now)) {
                    w.store.remove(opened.binding.sid());
                    live = false;
                }
            }
            Step::Wait { secs } => w.now += u64::from(secs) * 1_000,
        }
    }
});
