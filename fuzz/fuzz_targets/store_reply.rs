//! Store reply parsing (Recorded::parse, Retired::parse) and what the engine makes of it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::store::{Recorded, Retired};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(r) = Recorded::parse(s) {
        let expect = match s {
            "1" | "ok" => Recorded::Fresh,
            "0" | "gone" => Recorded::SessionGone,
            "-1" | "replay" => Recorded::Replay,
            _ => panic!("accepted store reply {s:?}"),
        };
        assert_eq!(r, expect);
    }
    if let Some(r) = Retired::parse(s) {
        let expect = match s {
            "1" | "ok" => Retired::Now,
            "0" | "gone" => Retired::SessionGone,
            "-1" | "rotated" => Retired::AlreadyRotated,
            _ => panic!("accepted store reply {s:?}"),
        };
        assert_eq!(r, expect);
    }
    let _ = nen_core::Error::from_code(s);
    let _ = nen_core::SessionId::parse(s);
    let _ = nen_core::types::parse_timestamp(s);
    let _ = nen_core::request::check_idempotency_key(s);
});
