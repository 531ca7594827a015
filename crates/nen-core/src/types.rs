//! Small protocol values with their wire forms. Each parses strictly and fails with its code.

use crate::error::Error;
use core::fmt;

/// The protocol version this crate speaks, on the wire as `"v": 1` and `X-Nen-Version: 1`.
pub const PROTOCOL_VERSION: u8 = 1;

/// Default accepted clock skew either side of the server's clock, in milliseconds.
pub const DEFAULT_WINDOW_MS: u64 = 30_000;

/// Parses a version field or header; anything but the version we speak is [`Error::VersionMismatch`].
pub fn check_version(v: &str) -> Result<(), Error> {
    if v.trim() == "1" {
        Ok(())
    } else {
        Err(Error::VersionMismatch)
    }
}

/// Key-exchange mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// X25519 + ML-KEM-768 with the X-Wing combiner (the default).
    Hybrid,
    /// ML-KEM-768 alone, for FIPS-only deployments.
    MlKem768,
}

impl Mode {
    /// The wire name: `"hybrid"` or `"mlkem768"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Hybrid => "hybrid",
            Mode::MlKem768 => "mlkem768",
        }
    }
    /// The byte that stands for the mode in the transcript.
    pub const fn id(self) -> u8 {
        match self {
            Mode::Hybrid => 1,
            Mode::MlKem768 => 2,
        }
    }
    /// Parses a wire name; unknown modes are [`Error::UnsupportedMode`].
    pub fn parse(s: &str) -> Result<Mode, Error> {
        match s {
            "hybrid" => Ok(Mode::Hybrid),
            "mlkem768" => Ok(Mode::MlKem768),
            _ => Err(Error::UnsupportedMode),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A session id: 16 random bytes chosen by the server, on the wire as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// Wraps raw bytes.
    pub const fn from_bytes(b: [u8; 16]) -> Self {
        Self(b)
    }
    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
    /// Parses the 32-hex-digit wire form (lowercase only, so each id has one spelling).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return Err(Error::SessionExpired);
        }
        let mut out = [0u8; 16];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or(Error::SessionExpired)?;
            let lo = hex_val(pair[1]).ok_or(Error::SessionExpired)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }
    /// The wire form.
    pub fn to_hex(&self) -> alloc::string::String {
        crate::wire::hex(&self.0)
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.to_hex())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An HTTP method Nen signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET: no body.
    Get,
    /// HEAD: no body; the response is metadata only.
    Head,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE: body optional.
    Delete,
}

impl Method {
    /// Parses a method name exactly as it crossed the wire: upper case only. HTTP methods are
    /// case-sensitive (RFC 9110 §9.1) and a router may treat `get` as another method than
    /// `GET`, so a hop must not be able to re-spell one; anything else is
    /// [`Error::MethodNotSupported`].
    pub fn parse(s: &str) -> Result<Method, Error> {
        Ok(match s {
            "GET" => Method::Get,
            "PUT" => Method::Put,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return Err(Error::MethodNotSupported),
        })
    }
    /// The canonical upper-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
    /// Whether a request body is permitted.
    pub const fn allows_body(self) -> bool {
        !matches!(self, Method::Get | Method::Head)
    }
}

/// Parses `X-Nen-Timestamp`: decimal Unix milliseconds, digits only, at most 16 of them, and no
/// leading zero (so each time has one spelling and the MAC covers the header's own bytes).
pub fn parse_timestamp(s: &str) -> Result<u64, Error> {
    let b = s.as_bytes();
    if b.is_empty()
        || b.len() > 16
        || !b.iter().all(u8::is_ascii_digit)
        || (b.len() > 1 && b[0] == b'0')
    {
        return Err(Error::TimestampMissing);
    }
    s.parse().map_err(|_| Error::TimestampMissing)
}
