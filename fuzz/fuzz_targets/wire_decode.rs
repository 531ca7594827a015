//! Base64 and the JSON envelopes (nen_core::wire): strict decoding round-trips exactly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::wire;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(b) = wire::unb64(s) {
            assert_eq!(wire::b64(&b), s, "base64 is not canonical");
        }
        if let Ok(n) = wire::nonce_from_b64(s) {
            assert_eq!(wire::b64(n.as_bytes()), s);
        }
        let _ = wire::unb64_array::<32>(s);
        let j = wire::json_string(s);
        assert_eq!(serde_json::from_str::<String>(&j).unwrap(), s);
    }
    if let Ok(sealed) = wire::parse_request_envelope(data) {
        let again =
            wire::parse_request_envelope(wire::request_envelope(&sealed).as_bytes()).unwrap();
        assert_eq!(again, sealed);
    }
    if let Ok((sealed, n)) = wire::parse_response_envelope(data) {
        let e = wire::response_envelope(&sealed, &n);
        let (s2, n2) = wire::parse_response_envelope(e.as_bytes()).unwrap();
        assert_eq!((s2, n2.as_bytes()), (sealed, n.as_bytes()));
    }
    let _ = wire::parse_error_body(data);
    let _ = wire::Sealed::from_wire(data.to_vec());
});
