//! The Redis and Redis Cluster backend (`redis` crate on tokio).
//!
//! A single server goes through a `ConnectionManager`, which reconnects in the background; a
//! cluster through `cluster_async`. The connection is made on first use and retried on the next
//! operation if Redis was down, so requests succeed again once it is back, without a restart.
//!
//! Neither reconnects on its own when a connection stops answering without closing (a
//! blackholed connection after a failover or a NAT timeout: a response timeout does not count
//! as a broken connection to them), nor when it reaches a primary that a failover demoted
//! (`READONLY` replies). So the backend watches its operations: when they have kept failing for
//! [`replace_after`] with none answered in between, it dials a replacement in the background
//! and swaps it in once it answers. Requests keep one round trip each and fail closed
//! (ISO-8001) within `timeoutMs` meanwhile.
//!
//! `rediss://` URLs (single or cluster) use rustls (ring): the server certificate is checked
//! against the Mozilla roots (as Node does), or against a private CA given as PEM. A wrong CA
//! fails closed like an unreachable Redis (ISO-8001), with one hint on stderr.

use super::remote::{Backend, Loaded};
use nen_core::store::{
    Recorded, Retired, FIELD_ENTRY, FIELD_RETIRED, SCRIPT_RECORD, SCRIPT_RETIRE,
};
use nen_core::Error;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ConnectionAddr, ErrorKind, FromRedisValue, RedisError, RedisResult, Script};
use redis::{ScriptInvocation, ServerErrorKind, TlsCertificates, TlsMode};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Where the store lives.
pub enum Target {
    Single(String),
    Cluster(Vec<String>),
}

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// The environment variable naming a PEM file of the CA(s) that signed the Redis server
/// certificates, for `rediss://` URLs (until a store option carries it).
pub const CA_FILE_ENV: &str = "NEN_REDIS_CA_FILE";

pub struct RedisBackend {
    inner: Arc<Inner>,
}

struct Inner {
    target: Target,
    timeout: Duration,
    /// The private CA for `rediss://`, if any (otherwise the Mozilla roots).
    certs: Option<TlsCertificates>,
    /// The connection in use, made on first use.
    conn: Mutex<Option<Conn>>,
    /// Held while the first connection is made, so concurrent first requests make one.
    first: tokio::sync::Mutex<()>,
    health: Mutex<Health>,
    record: Script,
    retire: Script,
    /// The TLS hint has been printed.
    tls_warned: AtomicBool,
    /// `maxmemory-policy` has been read (or refused by the server).
    eviction_checked: AtomicBool,
}

/// What the backend knows of its connection from the operations it ran.
#[derive(Default)]
struct Health {
    /// The first failure of the current run of failures (`None`: the connection answers).
    failing_since: Option<Instant>,
    last_failure: Option<Instant>,
    /// The run includes `READONLY` replies: reads that succeed do not end it.
    demoted: bool,
    /// When a replacement connection was last dialled, and whether it is still being dialled.
    last_replacement: Option<Instant>,
    replacing: bool,
}

/// How long operations must have kept failing before the connection is replaced (and at most
/// how often it is): twice the operation timeout, at least a second.
fn replace_after(timeout: Duration) -> Duration {
    (timeout * 2).max(Duration::from_secs(1))
}

impl RedisBackend {
    /// A backend for `target`; a `rediss://` target trusts the CA in the file named by
    /// `NEN_REDIS_CA_FILE` if it is set, the Mozilla roots otherwise.
    pub fn new(target: Target, timeout: Duration) -> Result<Self, Error> {
        let ca = match std::env::var_os(CA_FILE_ENV) {
            Some(path) if is_tls(&target)? => match std::fs::read(&path) {
                Ok(pem) => Some(pem),
                Err(e) => {
                    eprintln!(
                        "[nen] {CA_FILE_ENV}={}: cannot read it ({e})",
                        path.to_string_lossy()
                    );
                    return Err(Error::InvalidConfiguration);
                }
            },
            _ => None,
        };
        Self::with_ca(target, timeout, ca)
    }

    /// A backend for `target` that trusts only the CA certificate(s) in `ca_pem` (PEM), when
    /// given; then every URL must be `rediss://`.
    pub fn with_ca(
        target: Target,
        timeout: Duration,
        ca_pem: Option<Vec<u8>>,
    ) -> Result<Self, Error> {
        let tls = is_tls(&target)?;
        let certs = match ca_pem {
            None => None,
            Some(_) if !tls => {
                eprintln!("[nen] a Redis CA was given for a redis:// URL: use rediss://");
                return Err(Error::InvalidConfiguration);
            }
            Some(pem) => {
                let n = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map(|c| c.len());
                if !matches!(n, Ok(n) if n > 0) {
                    eprintln!("[nen] the Redis CA holds no PEM certificate");
                    return Err(Error::InvalidConfiguration);
                }
                Some(TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                })
            }
        };
        if tls {
            install_tls_provider();
        }
        let inner = Inner {
            target,
            timeout,
            certs,
            conn: Mutex::new(None),
            first: tokio::sync::Mutex::new(()),
            health: Mutex::new(Health::default()),
            record: Script::new(SCRIPT_RECORD),
            retire: Script::new(SCRIPT_RETIRE),
            tls_warned: AtomicBool::new(false),
            eviction_checked: AtomicBool::new(false),
        };
        // Parse every URL (and the CA) now: a bad one is a configuration error, not an outage.
        match &inner.target {
            Target::Single(url) => inner.single_client(url).map(|_| ()),
            Target::Cluster(_) => inner.cluster_client().map(|_| ()),
        }
        .map_err(|_| Error::InvalidConfiguration)?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Runs one operation (`write`: one that only a primary can do), noting what it says of the
    /// connection. The operation may be dropped unfinished (the store's timeout): that counts as
    /// a failure too.
    async fn watched<T>(
        &self,
        write: bool,
        op: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, ()> {
        let mut watch = Watch {
            inner: &self.inner,
            settled: false,
        };
        let r = op.await;
        watch.settled = true;
        match r {
            Ok(v) => {
                self.inner.answered(write);
                Ok(v)
            }
            Err(e) => {
                if is_reply(&e) {
                    self.inner.answered(write);
                } else {
                    self.inner.hint(&e);
                    self.inner.failed(is_demoted(&e));
                }
                Err(())
            }
        }
    }

    async fn invoke<T: FromRedisValue>(&self, inv: ScriptInvocation<'_>) -> Result<T, ()> {
        self.watched(true, async {
            match self.inner.conn().await? {
                Conn::Single(mut c) => inv.invoke_async(&mut c).await,
                Conn::Cluster(mut c) => inv.invoke_async(&mut c).await,
            }
        })
        .await
    }

    async fn run<T: FromRedisValue>(&self, write: bool, cmd: Cmd) -> Result<T, ()> {
        self.watched(write, async {
            match self.inner.conn().await? {
                Conn::Single(mut c) => cmd.query_async(&mut c).await,
                Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
            }
        })
        .await
    }
}

/// Notes an operation dropped before it settled.
struct Watch<'a> {
    inner: &'a Arc<Inner>,
    settled: bool,
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.inner.failed(false);
        }
    }
}

impl Inner {
    fn single_client(&self, url: &str) -> RedisResult<redis::Client> {
        match &self.certs {
            Some(certs) => redis::Client::build_with_tls(url, certs.clone()),
            None => redis::Client::open(url),
        }
    }

    fn cluster_client(&self) -> RedisResult<ClusterClient> {
        let Target::Cluster(nodes) = &self.target else {
            unreachable!("cluster_client on a single target")
        };
        let mut builder = ClusterClientBuilder::new(nodes.clone())
            .connection_timeout(self.timeout)
            .response_timeout(self.timeout)
            .retries(1);
        if let Some(certs) = &self.certs {
            builder = builder.tls(TlsMode::Secure).certs(certs.clone());
        }
        builder.build()
    }

    /// A new connection. `lazy`: a single server's is dialled on first use (the first request
    /// waits for it, under its own timeout); otherwise it has answered once it is returned.
    async fn connect(&self, lazy: bool) -> RedisResult<Conn> {
        match &self.target {
            Target::Single(url) => {
                let client = self.single_client(url)?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                if lazy {
                    ConnectionManager::new_lazy_with_config(client, config).map(Conn::Single)
                } else {
                    ConnectionManager::new_with_config(client, config)
                        .await
                        .map(Conn::Single)
                }
            }
            Target::Cluster(_) => self
                .cluster_client()?
                .get_async_connection()
                .await
                .map(Conn::Cluster),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Conn>> {
        // Every critical section is one assignment or clone, so a poisoned lock is consistent.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection in use, made now if there is none yet.
    async fn conn(&self) -> RedisResult<Conn> {
        let current = self.slot().clone();
        let conn = match current {
            Some(c) => c,
            None => {
                let _first = self.first.lock().await;
                let existing = self.slot().clone();
                match existing {
                    Some(c) => c,
                    None => {
                        let c = self.connect(true).await?;
                        *self.slot() = Some(c.clone());
                        // Once, on the first request (as a replacement does in the background).
                        self.check_eviction(&c).await;
                        c
                    }
                }
            }
        };
        Ok(conn)
    }

    /// The connection answered (a result, or an error reply from Redis itself). After
    /// `READONLY`, only a write that succeeds shows the connection reaches a primary again.
    fn answered(&self, write: bool) {
        let mut h = self.health();
        if h.demoted && !write {
            return;
        }
        // A cluster's connection spans nodes: one that answers says nothing of another that
        // does not. There the run ends only once nothing has failed for a while.
        let ended = match (&self.target, h.last_failure) {
            (Target::Single(_), _) | (_, None) => true,
            (Target::Cluster(_), Some(at)) => at.elapsed() >= replace_after(self.timeout),
        };
        if ended {
            h.failing_since = None;
            h.demoted = false;
        }
    }

    /// An operation failed without an answer from Redis (network, TLS, timeout), or with
    /// `READONLY` (`demoted`). After [`replace_after`] of that, a replacement connection is
    /// dialled in the background.
    fn failed(self: &Arc<Self>, demoted: bool) {
        let now = Instant::now();
        let after = replace_after(self.timeout);
        let mut h = self.health();
        h.last_failure = Some(now);
        h.demoted |= demoted;
        let since = *h.failing_since.get_or_insert(now);
        let due = now.duration_since(since) >= after
            && !h.replacing
            && h.last_replacement
                .is_none_or(|t| now.duration_since(t) >= after);
        // Nothing to replace before the first connection: the next request makes it.
        if !due || self.slot().is_none() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        h.replacing = true;
        h.last_replacement = Some(now);
        drop(h);
        let inner = self.clone();
        runtime.spawn(async move { inner.replace().await });
    }

    /// Dials a new connection and, once it has answered, puts it in place of the current one
    /// (operations still running on the old one finish there; it closes after them).
    async fn replace(self: Arc<Self>) {
        let bound = self.timeout * 3 + Duration::from_millis(200);
        match tokio::time::timeout(bound, self.connect(false)).await {
            Ok(Ok(conn)) => {
                *self.slot() = Some(conn.clone());
                {
                    let mut h = self.health();
                    h.failing_since = None;
                    h.demoted = false;
                    h.replacing = false;
                }
                if !self.eviction_checked.load(Ordering::Relaxed) {
                    let _ = tokio::time::timeout(self.timeout, self.check_eviction(&conn)).await;
                }
            }
            Ok(Err(e)) => {
                self.hint(&e);
                self.health().replacing = false;
            }
            Err(_) => self.health().replacing = false,
        }
    }

    /// One hint on stderr if TLS is what failed (a wrong CA, a certificate that does not name
    /// the host, a server that wants a client certificate). It holds no secret.
    fn hint(&self, e: &RedisError) {
        if is_tls_error(e) && !self.tls_warned.swap(true, Ordering::Relaxed) {
            eprintln!(
                "[nen] Redis TLS handshake failed ({e}): check the CA (NEN_REDIS_CA_FILE), that the server certificate names the host of the URL, and that Redis asks for no client certificate (tls-auth-clients no). Requests fail closed with ISO-8001 until it succeeds."
            );
        }
    }

    /// Reads `maxmemory-policy` once and says what it means for Nen (a hint on stderr; managed
    /// services that refuse `CONFIG` are skipped). With the one-record layout any eviction drops
    /// a session together with its replay records, so it can only log users out (ISO-2002),
    /// never let a replay through; `noeviction` refuses writes instead (ISO-8001). Tried again
    /// after a replacement connection if Redis did not answer.
    async fn check_eviction(&self, conn: &Conn) {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("GET").arg("maxmemory-policy");
        let r: RedisResult<Vec<String>> = match conn.clone() {
            Conn::Single(mut c) => cmd.query_async(&mut c).await,
            Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
        };
        if r.as_ref().is_err_and(|e| !is_reply(e)) {
            return;
        }
        if self.eviction_checked.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some(policy) = r.ok().as_ref().and_then(|v| v.get(1)) {
            if policy != "noeviction" {
                eprintln!(
                    "[nen] Redis maxmemory-policy is {policy}: under memory pressure Redis evicts whole sessions (their replay records go with them, so requests fail closed with ISO-2002 and users must handshake again). Set maxmemory-policy noeviction to refuse new sessions instead (ISO-8001), or size maxmemory for your sessions."
                );
            }
        }
    }
}

/// Whether the target's URLs are `rediss://` (all of them: a cluster cannot mix).
fn is_tls(target: &Target) -> Result<bool, Error> {
    let urls: Vec<&String> = match target {
        Target::Single(u) => vec![u],
        Target::Cluster(nodes) if nodes.is_empty() => return Err(Error::InvalidConfiguration),
        Target::Cluster(nodes) => nodes.iter().collect(),
    };
    let mut tls = Vec::with_capacity(urls.len());
    for u in urls {
        let client = redis::Client::open(u.as_str()).map_err(|_| Error::InvalidConfiguration)?;
        tls.push(matches!(
            client.get_connection_info().addr(),
            ConnectionAddr::TcpTls { .. }
        ));
    }
    if tls.iter().any(|&t| t != tls[0]) {
        eprintln!("[nen] Redis Cluster nodes mix redis:// and rediss:// URLs");
        return Err(Error::InvalidConfiguration);
    }
    Ok(tls[0])
}

/// rustls needs one crypto provider per process: ring, installed once (a provider already
/// installed by another part of this addon is kept).
fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Whether Redis itself answered with this error (the connection works). `READONLY` does not
/// count: the connection reaches a primary that was demoted in a failover (the address it was
/// dialled at now leads elsewhere), so it is replaced like one that does not answer.
fn is_reply(e: &RedisError) -> bool {
    !is_demoted(e)
        && matches!(
            e.kind(),
            ErrorKind::Server(_) | ErrorKind::Extension | ErrorKind::UnexpectedReturnType
        )
}

fn is_demoted(e: &RedisError) -> bool {
    e.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly)
}

/// Whether `e` comes from the TLS layer (certificate, name or protocol), as opposed to the
/// network or Redis itself.
fn is_tls_error(e: &RedisError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if inner.is::<rustls::Error>() {
                return true;
            }
        }
        source = s.source();
    }
    // The cluster reports its initial connections' failures as text.
    let text = e.to_string();
    text.contains("invalid peer certificate") || text.contains("received fatal alert")
}

impl Backend for RedisBackend {
    async fn load(&self, key: String) -> Result<Option<Loaded>, ()> {
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(key).arg(FIELD_ENTRY).arg(FIELD_RETIRED);
        let (entry, retired): (Option<Vec<u8>>, Option<String>) = self.run(false, cmd).await?;
        let retired_at = match retired {
            None => None,
            Some(r) => Some(r.parse::<u64>().map_err(|_| ())?),
        };
        Ok(entry.map(|entry| Loaded { entry, retired_at }))
    }

    async fn put(&self, key: String, entry: Vec<u8>, ttl_ms: u64) -> Result<(), ()> {
        // Plain commands, not a script: Redis refuses HSET when it is out of memory under
        // noeviction (a script's writes are let through), so a full store refuses new sessions
        // with ISO-8001. One pipeline, one slot; the key is a fresh random sid.
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(&key)
            .arg(FIELD_ENTRY)
            .arg(entry)
            .ignore();
        pipe.cmd("PEXPIRE").arg(&key).arg(ttl_ms).ignore();
        self.watched(true, async {
            match self.inner.conn().await? {
                Conn::Single(mut c) => pipe.query_async::<()>(&mut c).await,
                Conn::Cluster(mut c) => pipe.query_async::<()>(&mut c).await,
            }
        })
        .await
    }

    async fn delete(&self, key: String) -> Result<(), ()> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(key);
        self.run::<i64>(true, cmd).await.map(|_| ())
    }

    async fn retire(&self, key: String, at_ms: u64, ttl_ms: u64) -> Result<Retired, ()> {
        let mut inv = self.inner.retire.prepare_invoke();
        inv.key(key).arg(at_ms).arg(ttl_ms);
        let r: i64 = self.invoke(inv).await?;
        Retired::parse(&r.to_string()).ok_or(())
    }

    async fn record(
        &self,
        key: String,
        field: String,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<Recorded, ()> {
        let mut inv = self.inner.record.prepare_invoke();
        inv.key(key).arg(field).arg(now_ms).arg(until_ms);
        let r: i64 = self.invoke(inv).await?;
        Recorded::parse(&r.to_string()).ok_or(())
    }
}
