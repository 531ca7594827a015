//! Stored-session unwrapping: input = [retired flag] [now offset u16] ‖ sid(16) ‖ entry. Only
//! the entry the server wrapped, under its own sid, opens.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::engine::{unwrap_cause, unwrap_record, StoredRecord};
use nen_core::SessionId;
use nen_fuzz::{server_session, wrapped, NOW};

fuzz_target!(|data: &[u8]| {
    if data.len() < 19 {
        return;
    }
    let (keys, valid) = wrapped();
    let retired = data[0] & 1 == 1;
    let now = NOW + u64::from(u16::from_be_bytes([data[1], data[2]])) * 100_000;
    let sid = SessionId::from_bytes(data[3..19].try_into().unwrap());
    let entry = &data[19..];
    let s = server_session();
    match keys.unwrap(&sid, entry) {
        Ok(got) => {
            assert_eq!(
                entry,
                &valid[..],
                "unwrapped an entry the server never wrapped"
            );
            assert_eq!(got.sid(), s.sid());
            assert_eq!(got.transcript_hash(), s.transcript_hash());
        }
        Err(f) => {
            let _ = unwrap_cause(f);
        }
    }
    let record = StoredRecord {
        entry,
        retired_at: retired.then_some(NOW + 10_000),
    };
    if let Ok(got) = unwrap_record(keys, &sid, record, now) {
        assert_eq!(entry, &valid[..]);
        assert!(!got.is_expired(now));
        assert!(!retired || now < NOW + 10_000);
    }
    let _ = nen_core::session::unwrap(&nen_core::crypto::AeadKey::from_bytes([7; 32]), &sid, entry);
});
