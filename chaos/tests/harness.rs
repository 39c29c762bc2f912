//! Smoke test of the harness against the real member binary (`./dev test`
//! builds it first and sets RAFTPLANE_BIN).

use std::time::Duration;

use futures::StreamExt;
use raftplane_chaos::{Cluster, ClusterOptions, prefix_end};

const LEADER_TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_survives_kill_pause_restart_and_join() {
    let mut cluster = Cluster::start(ClusterOptions::default())
        .await
        .expect("start");
    assert_eq!(cluster.member_ids(), vec![1, 2, 3]);
    let leader = cluster
        .wait_for_leader(LEADER_TIMEOUT)
        .await
        .expect("leader");
    let client = cluster.client(leader).expect("client");

    let first = client.put("/smoke/a", "1").await.expect("put");
    let mut watch = client
        .watch("/smoke/", prefix_end(b"/smoke/"), first)
        .await
        .expect("watch");
    let event = watch.next().await.expect("an event").expect("no error");
    assert_eq!(event.revision, first);
    let kv = client
        .get("/smoke/a", false)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(kv.value, b"1");

    // SIGKILL the leader: the others elect a new one and keep the data.
    cluster.kill(leader).await.expect("kill");
    let next = cluster
        .wait_for_leader(LEADER_TIMEOUT)
        .await
        .expect("new leader");
    assert_ne!(next, leader);
    let survivor = cluster.client(next).expect("client");
    let second = survivor.put("/smoke/b", "2").await.expect("put");
    assert!(second > first);

    // Same ports, same data dir: it catches up.
    cluster.restart(leader).await.expect("restart");
    let restarted = cluster.client(leader).expect("client");
    let deadline = tokio::time::Instant::now() + LEADER_TIMEOUT;
    loop {
        if let Ok(Some(kv)) = restarted.get("/smoke/b", true).await {
            assert_eq!(kv.value, b"2");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "restarted member never caught up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A paused follower does not stop the cluster.
    let follower = cluster
        .member_ids()
        .into_iter()
        .find(|id| *id != next)
        .expect("a follower");
    cluster.pause(follower).expect("pause");
    survivor
        .put("/smoke/c", "3")
        .await
        .expect("put while paused");
    cluster.resume(follower).expect("resume");

    cluster.add_member(4).await.expect("join");
    assert_eq!(cluster.member_ids(), vec![1, 2, 3, 4]);

    let status = cluster.stop(4).await.expect("stop");
    assert!(status.success(), "SIGTERM exit {status}");
    cluster.check_alive().expect("no member crashed");
}
