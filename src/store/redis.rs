//! The Redis and Redis Cluster backend (`redis` crate on tokio).
//!
//! A single server goes through a `ConnectionManager`, which reconnects in the background; a
//! cluster through `cluster_async`. The connection is made on first use and retried on the next
//! operation if Redis was down, so requests succeed again once it is back, without a restart.

use super::remote::{Backend, Recorded};
use nen_core::Error;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Script};
use std::time::Duration;
use tokio::sync::OnceCell;

/// `KEYS[1]` session, `KEYS[2]` nonce, `ARGV[1]` nonce TTL in ms.
/// 1: recorded; 0: the session is gone; -1: replay.
const RECORD_NONCE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return -1
";

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
            record: Script::new(RECORD_NONCE),
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
        self.conn.get_or_try_init(|| make).await.cloned()
    }

    async fn run<T: FromRedisValue>(&self, cmd: Cmd) -> Result<T, ()> {
        let r = match self.conn().await? {
            Conn::Single(mut c) => cmd.query_async(&mut c).await,
            Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
        };
        r.map_err(|_| ())
    }
}

impl Backend for RedisBackend {
    async fn get(&self, key: String) -> Result<Option<Vec<u8>>, ()> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        self.run(cmd).await
    }

    async fn set(&self, key: String, value: Vec<u8>, ttl_ms: u64) -> Result<(), ()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("PX").arg(ttl_ms);
        self.run(cmd).await
    }

    async fn del(&self, key: String) -> Result<(), ()> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(key);
        self.run(cmd).await
    }

    async fn shorten(&self, key: String, ttl_ms: u64) -> Result<(), ()> {
        let mut cmd = redis::cmd("PEXPIRE");
        // LT: only ever shorten.
        cmd.arg(key).arg(ttl_ms).arg("LT");
        self.run(cmd).await
    }

    async fn record(
        &self,
        session_key: String,
        nonce_key: String,
        ttl_ms: u64,
    ) -> Result<Recorded, ()> {
        let mut inv = self.record.prepare_invoke();
        inv.key(session_key).key(nonce_key).arg(ttl_ms);
        let r: i64 = match self.conn().await? {
            Conn::Single(mut c) => inv.invoke_async(&mut c).await,
            Conn::Cluster(mut c) => inv.invoke_async(&mut c).await,
        }
        .map_err(|_| ())?;
        Ok(match r {
            1 => Recorded::Fresh,
            0 => Recorded::SessionGone,
            _ => Recorded::Replay,
        })
    }
}
