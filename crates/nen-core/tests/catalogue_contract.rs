//! The error catalogue is a public contract: users match on `ISO-xxxx`, on its name and on
//! its HTTP status. This table is written by hand and never regenerated (unlike
//! docs/error-codes.md, which `NEN_BLESS` rewrites): a code that changes number, name or
//! status, or disappears, fails here, and so does a new code until it is appended below.
//! Appending is the only edit this table takes; changing a row is a breaking release.

use nen_core::error::CATALOGUE;

/// `(code, name, HTTP status)`, as released. Append new codes; never edit or remove a row.
const CONTRACT: &[(&str, &str, u16)] = &[
    ("ISO-1001", "HANDSHAKE_MISSING_PUBLIC_KEY", 400),
    ("ISO-1002", "HANDSHAKE_FAILED", 400),
    ("ISO-1003", "HANDSHAKE_NETWORK_FAILURE", 503),
    ("ISO-1004", "HANDSHAKE_BAD_RESPONSE", 502),
    ("ISO-1005", "PROTOCOL_VERSION_UNSUPPORTED", 400),
    ("ISO-1006", "KEY_CONFIRMATION_FAILED", 502),
    ("ISO-1007", "KEY_EXCHANGE_MODE_UNSUPPORTED", 400),
    ("ISO-1008", "HANDSHAKE_TOO_LARGE", 413),
    ("ISO-1009", "HANDSHAKE_RATE_LIMITED", 429),
    ("ISO-2001", "SESSION_NOT_INITIALIZED", 401),
    ("ISO-2002", "SESSION_EXPIRED", 401),
    ("ISO-2003", "SESSION_HEADER_MISSING", 401),
    ("ISO-2004", "SESSION_ALREADY_ROTATED", 409),
    ("ISO-3001", "SIGNATURE_MISSING", 401),
    ("ISO-3002", "SIGNATURE_INVALID", 401),
    ("ISO-3003", "TIMESTAMP_OUT_OF_WINDOW", 401),
    ("ISO-3004", "IDENTITY_SIGNATURE_INVALID", 502),
    ("ISO-3005", "NONCE_MISSING", 401),
    ("ISO-3006", "SERVER_IDENTITY_MISSING", 502),
    ("ISO-3007", "TRANSCRIPT_MISMATCH", 502),
    ("ISO-3008", "TIMESTAMP_MISSING", 401),
    ("ISO-4001", "DECRYPTION_FAILED", 400),
    ("ISO-4002", "ENCRYPTION_FAILED", 500),
    ("ISO-4003", "PAYLOAD_NOT_JSON", 400),
    ("ISO-4004", "RESPONSE_NOT_BOUND", 502),
    ("ISO-4005", "BODY_TOO_LARGE", 413),
    ("ISO-5001", "NONCE_REUSED", 401),
    ("ISO-6001", "INVALID_ENVELOPE", 400),
    ("ISO-6002", "DECODING_FAILED", 400),
    ("ISO-6003", "BODY_NOT_ALLOWED", 400),
    ("ISO-6004", "METHOD_NOT_SUPPORTED", 405),
    ("ISO-6005", "INVALID_REQUEST_TARGET", 400),
    ("ISO-6006", "IDEMPOTENCY_KEY_INVALID", 400),
    ("ISO-6007", "ENDPOINT_METHOD_NOT_ALLOWED", 405),
    ("ISO-6008", "ENDPOINT_BODY_NOT_ALLOWED", 400),
    ("ISO-7001", "STREAM_NONCE_MISSING", 502),
    ("ISO-7002", "STREAM_REQUEST_FAILED", 502),
    ("ISO-7003", "STREAM_TRUNCATED", 502),
    ("ISO-7004", "STREAM_CHUNK_INVALID", 502),
    ("ISO-8001", "STORE_UNAVAILABLE", 503),
    ("ISO-8002", "STORE_ENTRY_INVALID", 500),
    ("ISO-8003", "STORE_FULL", 503),
    ("ISO-9000", "INTERNAL_ERROR", 500),
    ("ISO-9001", "INVALID_CONFIGURATION", 500),
];

#[test]
fn every_released_code_keeps_its_number_name_and_status() {
    let mut broken = Vec::new();
    for &(code, name, status) in CONTRACT {
        match CATALOGUE.iter().find(|i| i.code == code) {
            None => broken.push(format!("{code} {name} disappeared")),
            Some(i) if i.name != name || i.status != status => broken.push(format!(
                "{code} was {name} {status}, is now {} {}",
                i.name, i.status
            )),
            Some(_) => {}
        }
    }
    assert!(
        broken.is_empty(),
        "the error catalogue broke its contract:\n{}",
        broken.join("\n")
    );
}

#[test]
fn every_code_is_in_the_contract_and_names_are_unique() {
    let missing: Vec<&str> = CATALOGUE
        .iter()
        .filter(|i| !CONTRACT.iter().any(|&(c, _, _)| c == i.code))
        .map(|i| i.code)
        .collect();
    assert!(
        missing.is_empty(),
        "codes not yet in the contract (append them to tests/catalogue_contract.rs): {missing:?}"
    );
    for (n, &(code, name, _)) in CONTRACT.iter().enumerate() {
        for &(other_code, other_name, _) in &CONTRACT[n + 1..] {
            assert!(
                code != other_code && name != other_name,
                "{code} {name} is listed twice"
            );
        }
    }
}
