//! The session-store layout that every out-of-process store shares (Redis, Redis Cluster, the
//! Upstash and JavaScript adapters), so native and edge instances can share one store.
//!
//! ```text
//! key  = {prefix}{<sid>}               one hash per session; TTL = the session's remaining life
//!   s          wrapped session entry (PROTOCOL.md §9)
//!   r          decimal Unix ms: the end of the rotation grace, once rotated (set once)
//!   n:<nonce>  decimal Unix ms until which the nonce (24 lowercase hex) must be remembered
//!   p          decimal Unix ms: the next prune of expired n: fields
//! ```
//!
//! A session's replay records live inside the session's own key, so nothing can evict one
//! without the other: a store under memory pressure that drops the key drops the session too,
//! and the next request fails closed with ISO-2002; it can never replay. Terminate is one `DEL`.
//! A nonce is remembered until `ts + window + maxClockSkew`; its field is pruned, by timestamp,
//! inside the record script at most once per [`PRUNE_EVERY_MS`], so a session's hash holds at
//! most its request rate × (2 × window + skew + 1 s) nonces. The braces are a Redis Cluster hash
//! tag: the whole record lives in one slot. Every script runs on Redis 6.2 and later (no
//! `PEXPIRE … LT`, no hash-field TTLs).

use crate::crypto::Nonce;
use crate::types::SessionId;
use crate::wire::hex;
use alloc::{format, string::String};

/// The hash field holding the wrapped session.
pub const FIELD_ENTRY: &str = "s";
/// The hash field holding the end of the rotation grace.
pub const FIELD_RETIRED: &str = "r";
/// How often, at most, a record script prunes the session's expired nonce fields.
pub const PRUNE_EVERY_MS: u64 = 1_000;
/// Default `store.keyPrefix`.
pub const DEFAULT_KEY_PREFIX: &str = "nen:";
/// Default `store.timeoutMs`: the bound on each store operation.
pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;

/// The key of a session's record.
pub fn session_key(prefix: &str, sid: &SessionId) -> String {
    format!("{prefix}{{{sid}}}")
}

/// The hash field of a nonce's replay record.
pub fn nonce_field(nonce: &Nonce) -> String {
    format!("n:{}", hex(nonce.as_bytes()))
}

/// Until when a request's nonce must be remembered: past its window on every instance's clock.
pub fn remember_until(timestamp: u64, window_ms: u64, skew_ms: u64) -> u64 {
    timestamp.saturating_add(window_ms).saturating_add(skew_ms)
}

/// Storing a new session is two plain commands in one pipeline, `HSET key s <entry>` then
/// `PEXPIRE key <ttl>` (the key is a fresh random sid, so there is nothing to replace). Not a
/// script: Redis lets a script's writes through when it is out of memory, but refuses `HSET`
/// under `noeviction`, so a full store refuses new sessions instead of growing past its limit.
pub const PUT_COMMANDS: [&str; 2] = ["HSET", "PEXPIRE"];

/// The same in one call, for adapters that reach Redis through a one-command REST API
/// (Upstash): `KEYS[1]` key, `ARGV[1]` wrapped entry, `ARGV[2]` TTL ms.
pub const SCRIPT_PUT: &str = "redis.call('HSET', KEYS[1], 's', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1";

/// `KEYS[1]` key, `ARGV[1]` nonce field, `ARGV[2]` now ms, `ARGV[3]` remember-until ms.
/// 1: recorded; 0: the session is gone; -1: replay. Check and record are one step.
pub const SCRIPT_RECORD: &str = "if redis.call('HEXISTS', KEYS[1], 's') == 0 then return 0 end
local now = tonumber(ARGV[2])
local seen = redis.call('HGET', KEYS[1], ARGV[1])
if seen and tonumber(seen) > now then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local p = tonumber(redis.call('HGET', KEYS[1], 'p') or '0')
if now >= p then
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'n:' and tonumber(all[i + 1]) <= now then
      redis.call('HDEL', KEYS[1], all[i])
    end
  end
  redis.call('HSET', KEYS[1], 'p', tostring(now + 1000))
end
return 1";

/// `KEYS[1]` key, `ARGV[1]` end of grace (Unix ms), `ARGV[2]` grace TTL ms.
/// 1: retired now; 0: the session is gone; -1: it was already rotated. Shortens, never extends.
pub const SCRIPT_RETIRE: &str = "if redis.call('HEXISTS', KEYS[1], 's') == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'r', ARGV[1]) == 0 then return -1 end
local t = redis.call('PTTL', KEYS[1])
if t < 0 or t > tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1";

/// Outcome of the atomic replay check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The nonce was new and is now recorded.
    Fresh,
    /// The session no longer exists.
    SessionGone,
    /// The nonce was already recorded: a replay.
    Replay,
}

/// Outcome of retiring a session at rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retired {
    /// Marked rotated, life shortened to the grace.
    Now,
    /// The session no longer exists.
    SessionGone,
    /// It was rotated before: a session has at most one successor.
    AlreadyRotated,
}

impl Recorded {
    /// From a script's answer (1, 0, -1) or an adapter's (`ok`, `gone`, `replay`).
    pub fn parse(answer: &str) -> Option<Self> {
        match answer {
            "1" | "ok" => Some(Self::Fresh),
            "0" | "gone" => Some(Self::SessionGone),
            "-1" | "replay" => Some(Self::Replay),
            _ => None,
        }
    }
}

impl Retired {
    /// From a script's answer (1, 0, -1) or an adapter's (`ok`, `gone`, `rotated`).
    pub fn parse(answer: &str) -> Option<Self> {
        match answer {
            "1" | "ok" => Some(Self::Now),
            "0" | "gone" => Some(Self::SessionGone),
            "-1" | "rotated" => Some(Self::AlreadyRotated),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let sid = SessionId::from_bytes([0xab; 16]);
        assert_eq!(
            session_key("nen:", &sid),
            "nen:{abababababababababababababababab}"
        );
        assert_eq!(
            nonce_field(&Nonce::from_bytes([1; 12])),
            "n:010101010101010101010101"
        );
        assert_eq!(remember_until(1_000, 30_000, 5_000), 36_000);
        assert_eq!(Recorded::parse("-1"), Some(Recorded::Replay));
        assert_eq!(Retired::parse("rotated"), Some(Retired::AlreadyRotated));
        assert_eq!(Retired::parse("2"), None);
        // The prune interval in the script is the constant.
        assert!(SCRIPT_RECORD.contains(&format!("now + {PRUNE_EVERY_MS}")));
    }
}
