//! Redis and Redis Cluster stores.
//!
//! Keys, all under one hash tag per session so a session and its nonces share a cluster slot:
//!
//! ```text
//! {prefix}{<sid>}:s            wrapped session (PROTOCOL.md §9), PX = time to expiry
//! {prefix}{<sid>}:n:<nonce>    "1", SET NX PX = until the request leaves the time window
//! ```
//!
//! One round trip per request: sessions are cached unwrapped in this process, so a request costs
//! only the replay script, which checks that the session still exists (a terminate or expiry on
//! another instance is seen at once) and records the nonce with `SET NX PX`, atomically, after
//! the MAC has verified. A cache miss adds one `GET`.
//!
//! Every operation is bounded by the configured timeout and fails closed with ISO-8001; the
//! connection is re-established in the background, so requests succeed again once Redis is back.

use nen_core::crypto::{AeadKey, Nonce};
use nen_core::session::{unwrap, wrap};
use nen_core::{Error, ServerSession, SessionId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Script};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

use crate::rng::with_rng;

/// Sessions cached unwrapped per process, at most.
const CACHE_MAX: usize = 10_000;

/// `KEYS[1]` session, `KEYS[2]` nonce, `ARGV[1]` nonce TTL ms.
/// Returns 1 when recorded, 0 when the session is gone, -1 on replay.
const RECORD_NONCE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return -1
";

pub enum Target {
    Single(String),
    Cluster(Vec<String>),
}

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    async fn run<T: redis::FromRedisValue>(&mut self, cmd: &Cmd) -> redis::RedisResult<T> {
        match self {
            Conn::Single(c) => cmd.query_async(c).await,
            Conn::Cluster(c) => cmd.query_async(c).await,
        }
    }

    async fn script<T: redis::FromRedisValue>(
        &mut self,
        script: &Script,
        keys: &[&str],
        args: &[u64],
    ) -> redis::RedisResult<T> {
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(*k);
        }
        for a in args {
            inv.arg(*a);
        }
        match self {
            Conn::Single(c) => inv.invoke_async(c).await,
            Conn::Cluster(c) => inv.invoke_async(c).await,
        }
    }
}

pub struct RedisStore {
    target: Target,
    prefix: String,
    timeout: Duration,
    wrapping_key: AeadKey,
    conn: OnceCell<Conn>,
    cache: Mutex<HashMap<SessionId, Arc<ServerSession>>>,
    record: Script,
}

impl RedisStore {
    pub fn new(target: Target, prefix: String, timeout: Duration, wrapping_key: AeadKey) -> Result<Self, Error> {
        let urls: Vec<&String> = match &target {
            Target::Single(u) => vec![u],
            Target::Cluster(nodes) if nodes.is_empty() => return Err(Error::InvalidConfiguration),
            Target::Cluster(nodes) => nodes.iter().collect(),
        };
        for u in urls {
            redis::Client::open(u.as_str()).map_err(|_| Error::InvalidConfiguration)?;
        }
        Ok(Self {
            target,
            prefix,
            timeout,
            wrapping_key,
            conn: OnceCell::new(),
            cache: Mutex::new(HashMap::new()),
            record: Script::new(RECORD_NONCE),
        })
    }

    fn session_key(&self, sid: &SessionId) -> String {
        format!("{}{{{}}}:s", self.prefix, sid)
    }

    fn nonce_key(&self, sid: &SessionId, nonce: &Nonce) -> String {
        let mut k = format!("{}{{{}}}:n:", self.prefix, sid);
        for b in nonce.as_bytes() {
            k.push_str(&format!("{b:02x}"));
        }
        k
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Arc<ServerSession>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shared connection, created on first use (and retried on the next call if Redis was
    /// down then).
    async fn conn(&self) -> Result<Conn, Error> {
        let timeout = self.timeout;
        let make = async {
            match &self.target {
                Target::Single(url) => {
                    let client = redis::Client::open(url.as_str()).map_err(|_| Error::InvalidConfiguration)?;
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(timeout))
                        .set_response_timeout(Some(timeout))
                        .set_number_of_retries(1)
                        .set_max_delay(Duration::from_millis(200));
                    ConnectionManager::new_lazy_with_config(client, config)
                        .map(Conn::Single)
                        .map_err(|_| Error::StoreUnavailable)
                }
                Target::Cluster(nodes) => {
                    let client = ClusterClientBuilder::new(nodes.clone())
                        .connection_timeout(timeout)
                        .response_timeout(timeout)
                        .retries(1)
                        .build()
                        .map_err(|_| Error::InvalidConfiguration)?;
                    match tokio::time::timeout(timeout, client.get_async_connection()).await {
                        Ok(Ok(c)) => Ok(Conn::Cluster(c)),
                        _ => Err(Error::StoreUnavailable),
                    }
                }
            }
        };
        self.conn.get_or_try_init(|| make).await.cloned()
    }

    /// Runs one store operation under the timeout; any failure is ISO-8001.
    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            _ => Err(Error::StoreUnavailable),
        }
    }

    pub async fn put(&self, session: ServerSession, now_ms: u64) -> Result<(), Error> {
        let entry = with_rng(|rng| wrap(&self.wrapping_key, &session, rng))?;
        let ttl = session.expires_at().saturating_sub(now_ms).max(1);
        let key = self.session_key(session.sid());
        let mut conn = self.conn().await?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(&key).arg(entry).arg("PX").arg(ttl);
        self.bounded(conn.run::<()>(&cmd)).await?;
        let mut cache = self.cache();
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, s| !s.is_expired(now_ms));
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(*session.sid(), Arc::new(session));
        Ok(())
    }

    pub async fn load(&self, sid: &SessionId, now_ms: u64) -> Result<Arc<ServerSession>, Error> {
        if let Some(s) = self.cache().get(sid).cloned() {
            if !s.is_expired(now_ms) {
                return Ok(s);
            }
        }
        let mut conn = self.conn().await?;
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.session_key(sid));
        let entry: Option<Vec<u8>> = self.bounded(conn.run(&cmd)).await?;
        let session = unwrap(&self.wrapping_key, sid, &entry.ok_or(Error::SessionExpired)?)?;
        if session.is_expired(now_ms) {
            return Err(Error::SessionExpired);
        }
        let session = Arc::new(session);
        self.cache().insert(*sid, session.clone());
        Ok(session)
    }

    pub async fn record_nonce(
        &self,
        sid: &SessionId,
        nonce: &Nonce,
        timestamp: u64,
        window_ms: u64,
        now_ms: u64,
    ) -> Result<(), Error> {
        // Remember the nonce until its request can no longer pass the window.
        let ttl = timestamp.saturating_add(window_ms).saturating_sub(now_ms).max(1) + 1_000;
        let (skey, nkey) = (self.session_key(sid), self.nonce_key(sid, nonce));
        let mut conn = self.conn().await?;
        let r: i64 = self.bounded(conn.script(&self.record, &[&skey, &nkey], &[ttl])).await?;
        match r {
            1 => Ok(()),
            0 => {
                self.cache().remove(sid);
                Err(Error::SessionExpired)
            }
            _ => Err(Error::NonceReused),
        }
    }

    pub async fn delete(&self, sid: &SessionId) -> Result<(), Error> {
        self.cache().remove(sid);
        let mut conn = self.conn().await?;
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.session_key(sid));
        // Nonce keys expire on their own within the window and are useless without the session.
        self.bounded(conn.run::<()>(&cmd)).await
    }

    pub async fn expire_by(&self, sid: &SessionId, at_ms: u64, now_ms: u64) -> Result<(), Error> {
        self.cache().remove(sid);
        let mut conn = self.conn().await?;
        let mut cmd = redis::cmd("PEXPIRE");
        // LT: only ever shorten.
        cmd.arg(self.session_key(sid)).arg(at_ms.saturating_sub(now_ms).max(1)).arg("LT");
        self.bounded(conn.run::<()>(&cmd)).await
    }
}
