//! Target handling (nen_core::target): what check_target accepts is exactly its grammar.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::target::{check_target, target_of_url, MAX_TARGET_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let b = s.as_bytes();
    let grammar = b.first() == Some(&b'/')
        && b.len() <= MAX_TARGET_LEN
        && b.iter().all(|&c| (0x21..=0x7e).contains(&c) && c != b'#');
    match check_target(s) {
        Ok(t) => {
            assert!(grammar);
            assert_eq!(t.as_str(), s);
        }
        Err(_) => assert!(!grammar),
    }
    let t = target_of_url(s);
    assert!(t == "/" || s.ends_with(t));
    if !s.contains("://") {
        assert_eq!(t, s);
    }
});
