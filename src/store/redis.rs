//! The Redis and Redis Cluster backend (`redis` crate on tokio).
//!
//! A single server goes through a `ConnectionManager`, which reconnects in the background; a
//! cluster through `cluster_async`. The connection is made on first use and retried on the next
//! operation if Redis was down, so requests succeed again once it is back, without a restart.

use super::remote::{Backend, Loaded};
use nen_core::store::{
    Recorded, Retired, FIELD_ENTRY, FIELD_RETIRED, SCRIPT_RECORD, SCRIPT_RETIRE,
};
use nen_core::Error;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Script, ScriptInvocation};
use std::time::Duration;
use tokio::sync::OnceCell;

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

pub struct RedisBackend {
    target: Target,
    timeout: Duration,
    conn: OnceCell<Conn>,
    record: Script,
    retire: Script,
}

impl RedisBackend {
    pub fn new(target: Target, timeout: Duration) -> Result<Self, Error> {
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
            timeout,
            conn: OnceCell::new(),
            record: Script::new(SCRIPT_RECORD),
            retire: Script::new(SCRIPT_RETIRE),
        })
    }

    async fn conn(&self) -> Result<Conn, ()> {
        let timeout = self.timeout;
        let make = async {
            match &self.target {
                Target::Single(url) => {
                    let client = redis::Client::open(url.as_str()).map_err(|_| ())?;
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(timeout))
                        .set_response_timeout(Some(timeout))
                        .set_number_of_retries(1)
                        .set_max_delay(Duration::from_millis(200));
                    ConnectionManager::new_lazy_with_config(client, config)
                        .map(Conn::Single)
                        .map_err(|_| ())
                }
                Target::Cluster(nodes) => {
                    let client = ClusterClientBuilder::new(nodes.clone())
                        .connection_timeout(timeout)
                        .response_timeout(timeout)
                        .retries(1)
                        .build()
                        .map_err(|_| ())?;
                    client
                        .get_async_connection()
                        .await
                        .map(Conn::Cluster)
                        .map_err(|_| ())
                }
            }
        };
        let conn = self.conn.get_or_try_init(|| async {
            let conn = make.await?;
            warn_on_eviction(&conn).await;
            Ok::<_, ()>(conn)
        });
        conn.await.cloned()
    }

    async fn invoke<T: FromRedisValue>(&self, inv: ScriptInvocation<'_>) -> Result<T, ()> {
        match self.conn().await? {
            Conn::Single(mut c) => inv.invoke_async(&mut c).await,
            Conn::Cluster(mut c) => inv.invoke_async(&mut c).await,
        }
        .map_err(|_| ())
    }

    async fn run<T: FromRedisValue>(&self, cmd: Cmd) -> Result<T, ()> {
        let r = match self.conn().await? {
            Conn::Single(mut c) => cmd.query_async(&mut c).await,
            Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
        };
        r.map_err(|_| ())
    }
}

/// Reads `maxmemory-policy` once per connection and says what it means for Nen (a hint on
/// stderr; managed services that refuse `CONFIG` are skipped). With the one-record layout any
/// eviction drops a session together with its replay records, so it can only log users out
/// (ISO-2002), never let a replay through; `noeviction` refuses writes instead (ISO-8001).
async fn warn_on_eviction(conn: &Conn) {
    let mut cmd = redis::cmd("CONFIG");
    cmd.arg("GET").arg("maxmemory-policy");
    let r: Result<Vec<String>, _> = match conn.clone() {
        Conn::Single(mut c) => cmd.query_async(&mut c).await,
        Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
    };
    if let Ok(v) = r {
        if let Some(policy) = v.get(1).filter(|p| p.as_str() != "noeviction") {
            eprintln!(
                "[nen] Redis maxmemory-policy is {policy}: under memory pressure Redis evicts whole sessions (their replay records go with them, so requests fail closed with ISO-2002 and users must handshake again). Set maxmemory-policy noeviction to refuse new sessions instead (ISO-8001), or size maxmemory for your sessions."
            );
        }
    }
}

impl Backend for RedisBackend {
    async fn load(&self, key: String) -> Result<Option<Loaded>, ()> {
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(key).arg(FIELD_ENTRY).arg(FIELD_RETIRED);
        let (entry, retired): (Option<Vec<u8>>, Option<String>) = self.run(cmd).await?;
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
        match self.conn().await? {
            Conn::Single(mut c) => pipe.query_async::<()>(&mut c).await,
            Conn::Cluster(mut c) => pipe.query_async::<()>(&mut c).await,
        }
        .map_err(|_| ())
    }

    async fn delete(&self, key: String) -> Result<(), ()> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(key);
        self.run::<i64>(cmd).await.map(|_| ())
    }

    async fn retire(&self, key: String, at_ms: u64, ttl_ms: u64) -> Result<Retired, ()> {
        let mut inv = self.retire.prepare_invoke();
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
        let mut inv = self.record.prepare_invoke();
        inv.key(key).arg(field).arg(now_ms).arg(until_ms);
        let r: i64 = self.invoke(inv).await?;
        Recorded::parse(&r.to_string()).ok_or(())
    }
}
