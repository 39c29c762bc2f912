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
    (cluster, leader)
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
