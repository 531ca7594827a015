//! nen_core::json::is_json against serde_json, the check it replaced: the same verdict on every
//! input. Whatever one accepts and the other refuses is a body one side of a deployment would
//! take and the other refuse (the client and server may run different builds).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let serde = std::str::from_utf8(data)
        .is_ok_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
    assert_eq!(nen_core::json::is_json(data), serde, "{:?}", String::from_utf8_lossy(data));
});
