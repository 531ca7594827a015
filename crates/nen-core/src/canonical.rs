//! Canonical request target: the path and query exactly as both sides must sign them.
//!
//! HTTP stacks re-encode URLs (`%7e` vs `~`, `%2f` vs `%2F`, parameter order). Normalisation
//! keeps every byte's meaning and only removes spelling differences, so a proxy that merely
//! re-spells the URL does not break signatures while one that changes it does.
//!
//! Rules (RFC 3986 §6.2.2): a percent-escape of an unreserved character is decoded; every other
//! escape keeps upper-case hex; a raw byte that is neither unreserved nor allowed literally in
//! that component is escaped. Query pairs are split on `&`, empty pairs dropped, and sorted by
//! key, stably: pairs with the same key keep their order, because frameworks differ in whether
//! the first or the last of them wins, and a hop must not be able to choose. `a` and `a=` stay
//! distinct for the same reason (some frameworks read them as null and "").

use crate::error::Error;
use alloc::{string::String, vec::Vec};

/// The canonical `(path, query)` of a request target `path[?query]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Normalised path, starting with `/`.
    pub path: String,
    /// Normalised, sorted query (without `?`); empty when there is none.
    pub query: String,
}

const PATH_LITERAL: &[u8] = b"/!$&'()*+,;=:@";
const QUERY_LITERAL: &[u8] = b"!$'()*+,;:@/?";

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn push_escaped(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

fn normalize(component: &[u8], literal: &[u8], out: &mut String) -> Result<(), Error> {
    let mut i = 0;
    while i < component.len() {
        let c = component[i];
        if c == b'%' {
            let (Some(&h), Some(&l)) = (component.get(i + 1), component.get(i + 2)) else {
                return Err(Error::InvalidTarget);
            };
            let (Some(h), Some(l)) = (hex_digit(h), hex_digit(l)) else {
                return Err(Error::InvalidTarget);
            };
            let b = (h << 4) | l;
            if is_unreserved(b) {
                out.push(b as char);
            } else {
                push_escaped(out, b);
            }
            i += 3;
        } else {
            if is_unreserved(c) || literal.contains(&c) {
                out.push(c as char);
            } else {
                push_escaped(out, c);
            }
            i += 1;
        }
    }
    Ok(())
}

/// Canonicalises a request target `path[?query]`. A fragment, an empty or relative path, or a
/// broken percent-escape is [`Error::InvalidTarget`].
pub fn canonical_target(target: &str) -> Result<Target, Error> {
    let bytes = target.as_bytes();
    if bytes.contains(&b'#') || bytes.first() != Some(&b'/') {
        return Err(Error::InvalidTarget);
    }
    let (raw_path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };
    let mut path = String::with_capacity(raw_path.len());
    normalize(raw_path.as_bytes(), PATH_LITERAL, &mut path)?;
    Ok(Target {
        path,
        query: canonical_query(raw_query)?,
    })
}

/// The request target (`path?query`) of an absolute URL (`https://host/path?query`), or the
/// input itself when it is already a target. An authority followed directly by `?` is handed
/// over as is, so [`canonical_target`] rejects it rather than guessing a path.
pub fn target_of_url(url: &str) -> &str {
    match url.find("://") {
        None => url,
        Some(i) => {
            let rest = &url[i + 3..];
            match rest.find(['/', '?']) {
                Some(j) => &rest[j..],
                None => "/",
            }
        }
    }
}

/// Canonicalises a raw query string (without the leading `?`).
pub fn canonical_query(raw: &str) -> Result<String, Error> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    // (normalised key length, normalised pair): the key is the pair's prefix.
    let mut pairs: Vec<(usize, String)> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let mut s = String::with_capacity(pair.len() + 1);
        let key_len = match pair.split_once('=') {
            Some((k, v)) => {
                normalize(k.as_bytes(), QUERY_LITERAL, &mut s)?;
                let key_len = s.len();
                s.push('=');
                // '=' inside a value is data, not a separator.
                normalize(v.as_bytes(), b"!$'()*+,;:@/?=", &mut s)?;
                key_len
            }
            None => {
                normalize(pair.as_bytes(), QUERY_LITERAL, &mut s)?;
                s.len()
            }
        };
        pairs.push((key_len, s));
    }
    // Stable: same-key pairs keep their order.
    pairs.sort_by(|(ka, a), (kb, b)| a[..*ka].cmp(&b[..*kb]));
    let mut out = String::with_capacity(raw.len());
    for (i, (_, p)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respellings_agree() {
        let a = canonical_target("/api/%7euser/x?b=2&a=1&&c").unwrap();
        let b = canonical_target("/api/~user/x?c&a=1&b=2").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.path, "/api/~user/x");
        assert_eq!(a.query, "a=1&b=2&c");
    }

    #[test]
    fn meaning_is_kept() {
        // An encoded slash is not a path separator; '+' is not '%2B'.
        assert_ne!(
            canonical_target("/a%2fb").unwrap(),
            canonical_target("/a/b").unwrap()
        );
        assert_eq!(canonical_target("/a%2fb").unwrap().path, "/a%2Fb");
        assert_ne!(
            canonical_query("q=a+b").unwrap(),
            canonical_query("q=a%2Bb").unwrap()
        );
        assert_eq!(canonical_query("q=a b").unwrap(), "q=a%20b");
        assert_eq!(canonical_query("x=1=2").unwrap(), "x=1=2");
        // Which duplicate comes first is meaning; so is `a` versus `a=`.
        assert_ne!(
            canonical_query("role=user&role=admin").unwrap(),
            canonical_query("role=admin&role=user").unwrap()
        );
        assert_eq!(
            canonical_query("b=1&role=user&a=0&role=admin").unwrap(),
            "a=0&b=1&role=user&role=admin"
        );
        assert_ne!(
            canonical_query("a").unwrap(),
            canonical_query("a=").unwrap()
        );
    }

    #[test]
    fn targets_of_urls() {
        assert_eq!(target_of_url("https://h.example:8443/a/b?x=1"), "/a/b?x=1");
        assert_eq!(target_of_url("http://h"), "/");
        assert_eq!(target_of_url("/a?b"), "/a?b");
        assert_eq!(target_of_url("https://h?q"), "?q");
        assert_eq!(
            canonical_target(target_of_url("https://h?q")),
            Err(Error::InvalidTarget)
        );
    }

    #[test]
    fn rejects_broken_targets() {
        for t in ["", "api", "/a#frag", "/a%2", "/a%zz", "/a?b=%g0"] {
            assert_eq!(canonical_target(t), Err(Error::InvalidTarget), "{t}");
        }
    }
}
