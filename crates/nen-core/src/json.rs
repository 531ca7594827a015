//! JSON as the protocol reads it (RFC 8259).
//!
//! ```text
//! payload  = ws value ws                       exactly one value, any type, UTF-8
//! value    = object / array / string / number / "true" / "false" / "null"
//! object   = "{" ws [ member *( ws "," ws member ) ws ] "}"     member = string ws ":" ws value
//! array    = "[" ws [ value *( ws "," ws value ) ws ] "]"
//! string   = %x22 *( unescaped / "\" ( %x22 / "\" / "/" / "b" / "f" / "n" / "r" / "t" / "u" 4HEXDIG ) ) %x22
//!            unescaped: any UTF-8 but %x00-1F, %x22 and "\"; \u escapes are not paired
//! number   = [ "-" ] ( "0" / %x31-39 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
//! ws       = *( %x20 / %x09 / %x0A / %x0D )
//! nesting  unbounded (one bit of state per open container, so at most 1/8 of the body)
//! ```
//!
//! [`is_json`] accepts exactly what serde_json accepts as one ignored value (the previous check;
//! a test keeps the two equal), but in one pass over the bytes, allocating only past 64 levels of
//! nesting: every request and response body is checked (twice per request on each
//! side), and serde_json's check measured 2-8 µs per KiB here, more than the encryption
//! (`benchmark/`). Envelopes are parsed with serde through [`object`], which first requires that
//! they are objects: a serde struct also reads a JSON array of its fields.

use alloc::vec::Vec;
use serde::Deserialize;

/// Bytes that end a run of plain string content: the quote, the backslash and control bytes.
const STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Whether `bytes` are UTF-8 holding exactly one JSON value, surrounded by optional whitespace.
pub fn is_json(bytes: &[u8]) -> bool {
    core::str::from_utf8(bytes).is_ok() && Checker { b: bytes, i: 0 }.document().is_some()
}

/// Parses `bytes` as `T` when they are a JSON object (after optional whitespace); `None`
/// otherwise, arrays included, which serde would read as a struct's fields in order.
pub(crate) fn object<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

struct Checker<'a> {
    b: &'a [u8],
    i: usize,
}

/// What the innermost open container is.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Array,
    Object,
}

/// The open containers, a bit each (set: object): 64 levels inline, deeper ones spilled.
#[derive(Default)]
struct Stack {
    inline: u64,
    spill: Vec<u64>,
    depth: usize,
}

impl Stack {
    fn push(&mut self, kind: Open) {
        let bit = u64::from(kind == Open::Object);
        let d = self.depth;
        if d < 64 {
            self.inline = (self.inline & !(1 << d)) | (bit << d);
        } else {
            let (word, at) = ((d - 64) / 64, (d - 64) % 64);
            if word == self.spill.len() {
                self.spill.push(0);
            }
            if let Some(w) = self.spill.get_mut(word) {
                *w = (*w & !(1 << at)) | (bit << at);
            }
        }
        self.depth += 1;
    }

    /// The innermost container, if any.
    fn top(&self) -> Option<Open> {
        let d = self.depth.checked_sub(1)?;
        let bit = if d < 64 {
            self.inline >> d
        } else {
            self.spill.get((d - 64) / 64)? >> ((d - 64) % 64)
        };
        Some(if bit & 1 == 1 {
            Open::Object
        } else {
            Open::Array
        })
    }

    fn pop(&mut self) {
        self.depth -= 1;
    }
}

impl Checker<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    fn document(&mut self) -> Option<()> {
        self.ws();
        self.value()?;
        self.ws();
        (self.i == self.b.len()).then_some(())
    }

    /// One value; containers iteratively, on an explicit stack (no recursion on any input).
    fn value(&mut self) -> Option<()> {
        let mut stack = Stack::default();
        loop {
            // At the start of a value.
            self.ws();
            let opened = match self.peek()? {
                b'[' => Some(Open::Array),
                b'{' => Some(Open::Object),
                _ => None,
            };
            if let Some(kind) = opened {
                self.i += 1;
                stack.push(kind);
                self.ws();
                let close = if kind == Open::Array { b']' } else { b'}' };
                if self.eat(close).is_none() {
                    if kind == Open::Object {
                        self.key()?;
                    }
                    continue;
                }
                stack.pop();
            } else {
                self.scalar()?;
            }
            // After a value: close containers, or go on to the next element or member.
            loop {
                let Some(kind) = stack.top() else {
                    return Some(());
                };
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        if kind == Open::Object {
                            self.ws();
                            self.key()?;
                        }
                        break;
                    }
                    b']' if kind == Open::Array => {}
                    b'}' if kind == Open::Object => {}
                    _ => return None,
                }
                self.i += 1;
                stack.pop();
            }
        }
    }

    /// A member's name and its colon.
    fn key(&mut self) -> Option<()> {
        self.eat(b'"')?;
        self.string_rest()?;
        self.ws();
        self.eat(b':')
    }

    fn scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.string_rest()
            }
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        let end = self.i.checked_add(w.len())?;
        (self.b.get(self.i..end)? == w).then(|| self.i = end)
    }

    /// The rest of a string after its opening quote.
    fn string_rest(&mut self) -> Option<()> {
        loop {
            self.skip_plain();
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => {
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.b.get(self.i + 1..self.i + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control byte
            }
        }
    }

    /// Skips plain string content: eight bytes at a time while none of them can stop it (most
    /// of a body is long strings: 1 MiB of them went from 2.9 ms to 1.2 ms), then byte by byte.
    fn skip_plain(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        /// High bit set in every byte of `x` that is zero (and maybe above one that is).
        const fn zero_bytes(x: u64) -> u64 {
            x.wrapping_sub(ONES) & !x & HIGH
        }
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let Ok(word) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let x = u64::from_le_bytes(word);
            let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
            if control | zero_bytes(x ^ (ONES * 0x22)) | zero_bytes(x ^ (ONES * 0x5c)) != 0 {
                break;
            }
            self.i += 8;
        }
        while let Some(&c) = self.b.get(self.i) {
            if STOP[usize::from(c)] {
                break;
            }
            self.i += 1;
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && self.digits() == 0 {
            return None;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::String, vec::Vec};

    /// serde_json's verdict, the check this module replaced.
    fn serde_says(b: &[u8]) -> bool {
        core::str::from_utf8(b)
            .ok()
            .is_some_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok())
    }

    const CASES: &[&str] = &[
        "",
        " ",
        "{}",
        "[]",
        " {} ",
        "\t[\n]\r",
        "{",
        "}",
        "[",
        "]",
        "[}",
        "{]",
        "{}{}",
        "{} x",
        "null",
        "true",
        "false",
        "nul",
        "truee",
        "True",
        "NULL",
        "0",
        "-0",
        "01",
        "-01",
        "1.",
        ".5",
        "1.5",
        "1e5",
        "1E+5",
        "1e-5",
        "1e",
        "1e+",
        "-",
        "--1",
        "+1",
        "1.5e3.2",
        "0x10",
        "123456789012345678901234567890",
        "1e400",
        "-1.0e-400",
        "\"\"",
        "\"a\"",
        "\"\\\"\"",
        "\"\\/\"",
        "\"\\u00e9\"",
        "\"\\u00G9\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "\"\\x\"",
        "\"a",
        "\"\u{1}\"",
        "\"\t\"",
        "\"\u{7f}\"",
        "\"é\"",
        "[1,2]",
        "[1,]",
        "[,1]",
        "[1 2]",
        "{\"a\":1}",
        "{\"a\":1,}",
        "{\"a\"}",
        "{\"a\":}",
        "{a:1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1,\"a\":2}",
        "{1:2}",
        "{\"a\" : [ {\"b\" : null } ] }",
        "[[[]]]",
        "[[[]]",
        "{\"ct\":\"AAAA\"}",
        "[\"ct\"]",
        " \u{a0}1",
        "1 2",
        "[1]x",
        "\u{feff}{}",
    ];

    #[test]
    fn agrees_with_serde_json_on_the_edge_cases() {
        for c in CASES {
            assert_eq!(is_json(c.as_bytes()), serde_says(c.as_bytes()), "{c:?}");
        }
        for bad in [&b"\"\xff\""[..], b"\"\xc3\"", b"{\"a\":\"\xed\xa0\x80\"}"] {
            assert!(!is_json(bad) && !serde_says(bad));
        }
    }

    #[test]
    fn agrees_at_any_depth() {
        for depth in [1, 63, 64, 65, 127, 128, 129, 500, 100_000] {
            let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            let mixed: String = (0..depth)
                .map(|d| if d % 2 == 0 { "[" } else { "{\"k\":" })
                .collect::<String>()
                + "0"
                + &(0..depth)
                    .rev()
                    .map(|d| if d % 2 == 0 { "]" } else { "}" })
                    .collect::<String>();
            for doc in [arrays, objects, mixed] {
                assert_eq!(
                    is_json(doc.as_bytes()),
                    serde_says(doc.as_bytes()),
                    "depth {depth}"
                );
            }
        }
        // Closing one container too many or too few, at depths either side of the spill.
        for depth in [64, 65, 129] {
            let open = "[".repeat(depth);
            assert!(!is_json(
                format!("{open}{}", "]".repeat(depth - 1)).as_bytes()
            ));
            assert!(!is_json(
                format!("{open}{}", "]".repeat(depth + 1)).as_bytes()
            ));
            assert!(!is_json(format!("{open}{}", "}".repeat(depth)).as_bytes()));
        }
    }

    #[test]
    fn agrees_on_every_truncation_of_valid_documents() {
        let doc = "{\"items\":[{\"id\":1,\"name\":\"a\\u00e9\\n\",\"q\":-1.5e-3},true,false,null,[]],\"pad\":\"xé\"}";
        for end in 0..=doc.len() {
            let b = &doc.as_bytes()[..end];
            assert_eq!(is_json(b), serde_says(b), "{:?}", core::str::from_utf8(b));
        }
    }

    #[test]
    fn agrees_on_every_single_byte_change() {
        let doc = b"{\"a\":[1,-2.5e3,\"x\\\"y\",{\"b\":null}],\"c\":true}";
        for i in 0..doc.len() {
            for v in [
                b'"', b'\\', b',', b':', b'[', b']', b'{', b'}', b'0', b'e', b'-', b' ', 0, 0x1f,
                b'x', 0xc3,
            ] {
                let mut d: Vec<u8> = doc.to_vec();
                d[i] = v;
                assert_eq!(
                    is_json(&d),
                    serde_says(&d),
                    "{:?}",
                    String::from_utf8_lossy(&d)
                );
            }
        }
    }

    #[test]
    fn object_refuses_arrays_and_other_values() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Env {
            ct: String,
        }
        let ok: Option<Env> = object(b" {\"ct\":\"x\"}");
        assert_eq!(ok, Some(Env { ct: "x".into() }));
        // serde alone reads a struct from an array of its fields:
        assert!(serde_json::from_slice::<Env>(b"[\"x\"]").is_ok());
        assert_eq!(object::<Env>(b"[\"x\"]"), None);
        assert_eq!(object::<Env>(b" [\"x\"]"), None);
        assert_eq!(object::<Env>(b""), None);
        assert_eq!(object::<Env>(b"\"x\""), None);
    }
}
