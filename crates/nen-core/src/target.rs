//! The signed request target: the origin-form `path[?query]` exactly as it crossed the wire.
//!
//! ```text
//! target = "/" *( %x21-22 / %x24-7E )          visible ASCII, no "#", at most 8 KiB
//! ```
//!
//! Nothing is normalised. Routers and query parsers read re-spellings differently (Express
//! matches the raw path, so `/items/%70urge` is not `/items/purge`; `qs` builds other objects
//! from reordered pairs; Node's `querystring` stops after 1000 pieces, empty ones included), so
//! the only target a server can safely verify is the one its router dispatches on, byte for
//! byte. A hop that re-spells a target therefore breaks the signature (ISO-3002): that is the
//! point. A client obtains the bytes from the URL it hands to fetch (PROTOCOL.md §5.1).

use crate::error::Error;

/// Longest accepted target, in bytes. Node's default header limit (16 KiB) holds the whole
/// request line and headers; 8 KiB of target is far past any API route.
pub const MAX_TARGET_LEN: usize = 8 * 1024;

/// A request target that passed [`check_target`]: origin-form, visible ASCII, no fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a>(&'a str);

impl<'a> Target<'a> {
    /// A target that already passed [`check_target`] (kept as an owned string between parsing
    /// and verification), so it is not checked twice on the request path.
    pub(crate) fn checked(raw: &'a str) -> Self {
        Self(raw)
    }

    /// The target's bytes, as signed.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Checks that `raw` is an origin-form target Nen signs: it starts with `/`, holds only visible
/// ASCII (`0x21..=0x7E`) other than `#`, and is at most [`MAX_TARGET_LEN`] bytes. Anything else
/// is [`Error::InvalidTarget`]. Spaces, controls and non-ASCII never appear in a request line
/// that fetch or an HTTP/1.1 stack sent, so accepting them would only accept a second spelling.
pub fn check_target(raw: &str) -> Result<Target<'_>, Error> {
    let b = raw.as_bytes();
    if b.first() != Some(&b'/') || b.len() > MAX_TARGET_LEN {
        return Err(Error::InvalidTarget);
    }
    if b.iter().any(|&c| !(0x21..=0x7e).contains(&c) || c == b'#') {
        return Err(Error::InvalidTarget);
    }
    Ok(Target(raw))
}

/// The origin-form target of a URL: for absolute-form input (`scheme://authority/path?query`,
/// recognised only when the input *starts* with `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) "://"`,
/// RFC 3986 §3.1) the part from the first `/` or `?` after the authority (`/` when there is
/// none); any other input is returned unchanged, so `/a?next=https://b/c` stays itself.
/// An authority followed directly by `?` yields `?…`, which [`check_target`] refuses.
pub fn target_of_url(url: &str) -> &str {
    let Some(after_scheme) = scheme_end(url) else {
        return url;
    };
    let rest = &url[after_scheme..];
    match rest.find(['/', '?']) {
        Some(j) => &rest[j..],
        None => "/",
    }
}

/// Byte offset just past `scheme://` when `url` starts with one.
fn scheme_end(url: &str) -> Option<usize> {
    let b = url.as_bytes();
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let len = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))?;
    b[len..].starts_with(b"://").then_some(len + 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_form_only_with_a_leading_scheme() {
        assert_eq!(target_of_url("https://h.example:8443/a/b?x=1"), "/a/b?x=1");
        assert_eq!(target_of_url("http://h"), "/");
        assert_eq!(target_of_url("web+nen.x-1://h/p"), "/p");
        assert_eq!(target_of_url("https://h?q"), "?q");
        assert_eq!(
            check_target(target_of_url("https://h?q")),
            Err(Error::InvalidTarget)
        );
        // `://` later in a relative target is data, never a scheme.
        for t in [
            "/api/admin/delete-all?x=a://b/api/items",
            "/a?next=https://b.example/c",
            "/a://b",
            "//h/p",
            "1a://h/p",
        ] {
            assert_eq!(target_of_url(t), t);
        }
    }

    #[test]
    fn targets_are_kept_byte_for_byte() {
        for t in [
            "/",
            "/a%2fb",
            "/a/%7euser?b=2&a=1&&c",
            "/a/./b/../c",
            "/a;x=1?q=a+b&q=%2B",
        ] {
            assert_eq!(check_target(t).map(|t| t.as_str()), Ok(t));
        }
    }

    #[test]
    fn rejects_what_no_http_stack_sends() {
        let long = alloc::format!("/{}", "a".repeat(MAX_TARGET_LEN));
        for t in [
            "",
            "api",
            "?q",
            "/a#frag",
            "/a b",
            "/a\tb",
            "/a\nb",
            "/é",
            "/a\x7f",
            long.as_str(),
        ] {
            assert_eq!(check_target(t), Err(Error::InvalidTarget), "{t:?}");
        }
        assert!(check_target(&long[..MAX_TARGET_LEN]).is_ok());
    }
}
