//! Helpers shared by the end-to-end tests.

use std::time::Duration;

use raftplane_chaos::client::StoreClient;
use raftplane_chaos::harness::Cluster;
use raftplane_chaos::harness::ClusterOptions;

pub const LEADER_TIMEOUT: Duration = Duration::from_secs(20);

pub async fn start(options: ClusterOptions) -> (Cluster, u64) {
    let cluster = Cluster::start(options).await.expect("cluster starts");
    let leader = cluster
        .wait_for_leader(LEADER_TIMEOUT)
        .await
        .expect("a leader is elected");
    // Ready = leader known, caught up, bootstrap objects (default
    // namespaces) created: what a client waits for before using the API.
    let deadline = tokio::time::Instant::now() + LEADER_TIMEOUT;
    for id in cluster.running_ids() {
        let addr = cluster.api_addr(id).expect("api address");
        while !readyz(addr).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "member {id} never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    (cluster, leader)
}

/// `GET /readyz` answered 200.
pub async fn readyz(addr: std::net::SocketAddr) -> bool {
    use tokio::io::AsyncReadExt;
    use tokio::io::AsyncWriteExt;
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut reply = Vec::new();
        (&mut stream)
            .take(4096)
            .read_to_end(&mut reply)
            .await
            .ok()?;
        Some(reply.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Some(true))
    )
}

/// A member other than `not`.
pub fn other_than(cluster: &Cluster, not: u64) -> u64 {
    cluster
        .running_ids()
        .into_iter()
        .find(|id| *id != not)
        .expect("another running member")
}

/// Retries `put` on `client` until it succeeds or `timeout` passes.
pub async fn put_eventually(
    client: &StoreClient,
    key: &str,
    value: &str,
    timeout: Duration,
) -> u64 {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match client.put(key, value).await {
            Ok(rev) => return rev,
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("put {key} via {}: {e}; retrying", client.endpoint());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("put {key} via {} never succeeded: {e}", client.endpoint()),
        }
    }
}
