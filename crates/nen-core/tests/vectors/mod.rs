//! Shared plumbing for the published-vector suites: loading the JSON files under `tests/data/`
//! (see `tests/data/PROVENANCE.md`) and decoding their hex fields.

use serde_json::Value;

/// Parses `tests/data/<rel>`. Panics with the path if the file is missing or not JSON, so a
/// moved data file fails loudly instead of testing nothing.
pub fn load(rel: &str) -> Value {
    let path = format!("{}/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes the hex string field `name` of `obj` (either case, as Wycheproof and ACVP differ).
pub fn hex_field(obj: &Value, name: &str) -> Vec<u8> {
    let s = obj[name]
        .as_str()
        .unwrap_or_else(|| panic!("field {name:?} missing or not a string in {obj}"));
    hex::decode(s).unwrap_or_else(|e| panic!("field {name:?}: {e}"))
}

/// The `tcId` of a case, for failure messages.
pub fn tc_id(case: &Value) -> u64 {
    case["tcId"].as_u64().expect("tcId")
}

/// Asserts two byte strings are equal, printing hex (not a 2400-element array) when they differ.
pub fn assert_bytes(id: u64, what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "tcId {id}: {what} differs\n got:  {}\n want: {}",
        hex::encode(got),
        hex::encode(want)
    );
}

/// The array field `name` of `obj`, panicking on anything else (a renamed field must fail).
pub fn array<'a>(obj: &'a Value, name: &str) -> &'a [Value] {
    obj[name]
        .as_array()
        .unwrap_or_else(|| panic!("field {name:?} missing or not an array"))
}
