//! The replicated store through real member processes: writes from any
//! member, linearizable reads everywhere, durability across kill -9 and
//! full restarts, membership changes through snapshots, watch replay and
//! compaction.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use raftplane_chaos::client::Error;
use raftplane_chaos::client::StoreClient;
use raftplane_chaos::client::prefix_end;
use raftplane_chaos::harness::Cluster;
use raftplane_chaos::harness::ClusterOptions;
use raftplane_proto::v1::KeyValue;
use raftplane_proto::v1::event::Type as EventType;

use crate::support::LEADER_TIMEOUT;
use crate::support::other_than;
use crate::support::put_eventually;
use crate::support::start;

/// The revision once the API's bootstrap objects (default namespaces, the
/// `kubernetes` Service, written by every member at start) exist: later
/// revisions are the test's own.
async fn bootstrapped_revision(client: &StoreClient) -> u64 {
    let deadline = tokio::time::Instant::now() + LEADER_TIMEOUT;
    loop {
        let svc = client
            .get("/registry/services/default/kubernetes", false)
            .await
            .ok()
            .flatten();
        if svc.is_some() {
            return client.status().await.expect("status").revision;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bootstrap objects never appeared"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every key under `prefix` as every member sees it with a linearizable
/// read, asserting they all agree; returns (kvs, revision).
async fn agreed_state(cluster: &Cluster, prefix: &str) -> (Vec<KeyValue>, u64) {
    let mut seen: Option<(Vec<KeyValue>, u64)> = None;
    for id in cluster.running_ids() {
        let client = cluster.client(id).expect("client");
        let r = client
            .range(prefix, prefix_end(prefix.as_bytes()), 0, 0)
            .await
            .expect("linearizable range");
        let revision = client.status().await.expect("status").revision;
        match &seen {
            None => seen = Some((r.kvs, revision)),
            Some((kvs, rev)) => {
                assert_eq!(
                    &r.kvs, kvs,
                    "member {id} disagrees on the data under {prefix}"
                );
                assert_eq!(revision, *rev, "member {id} is at another revision");
            }
        }
    }
    seen.expect("at least one member running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn write_via_follower_is_read_at_once_on_every_member() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let follower = other_than(&cluster, leader);
    let writer = cluster.client(follower).unwrap();
    bootstrapped_revision(&writer).await;
    let readers: Vec<(u64, StoreClient)> = cluster
        .running_ids()
        .into_iter()
        .map(|id| (id, cluster.client(id).unwrap()))
        .collect();
    let mut last_rev = 0;
    for i in 0..30 {
        let key = format!("/t/k{i}");
        let value = format!("v{i}");
        let rev = writer
            .put(key.as_str(), value.as_str())
            .await
            .expect("write via follower commits");
        assert!(
            rev > last_rev,
            "revision {rev} after {last_rev} must increase"
        );
        last_rev = rev;
        // Immediately after the write returns, every member must see it
        // (linearizable read: read index from the leader + local apply wait).
        for (id, r) in &readers {
            let kv = r
                .get(key.as_str(), false)
                .await
                .expect("read")
                .unwrap_or_else(|| panic!("member {id} misses {key}"));
            assert_eq!(kv.value, value.as_bytes(), "member {id} value of {key}");
            assert_eq!(kv.mod_revision, rev, "member {id} mod_revision of {key}");
        }
    }
    // A transaction with a failing compare changes nothing and keeps the revision.
    let r = writer
        .txn(raftplane_proto::v1::TxnRequest {
            compares: vec![raftplane_proto::v1::Compare {
                key: b"/t/k0".to_vec(),
                kind: raftplane_proto::v1::compare::Kind::Absent as i32,
                mod_revision: 0,
            }],
            success: vec![raftplane_proto::v1::Op {
                op: Some(raftplane_proto::v1::op::Op::Put(raftplane_proto::v1::Put {
                    key: b"/t/k0".to_vec(),
                    value: b"x".to_vec(),
                })),
            }],
            ..Default::default()
        })
        .await
        .expect("txn");
    assert!(!r.succeeded);
    assert_eq!(r.revision, last_rev);
    assert_eq!(r.compared.len(), 1);
    assert_eq!(r.compared[0].value, b"v0");
    cluster.check_alive().expect("no member crashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_leader_loses_no_acknowledged_write() {
    let (mut cluster, old_leader) = start(ClusterOptions::default()).await;
    let acked: Arc<Mutex<BTreeMap<String, (String, u64)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4u64 {
        // Writers talk to every member, the old leader included.
        let clients: Vec<StoreClient> = cluster
            .running_ids()
            .into_iter()
            .map(|id| cluster.client(id).unwrap())
            .collect();
        let acked = acked.clone();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = format!("/kill/w{w}/{n}");
                let value = format!("value-{w}-{n}");
                let client = &clients[(n as usize) % clients.len()];
                if let Ok(rev) = client.put(key.as_str(), value.as_str()).await {
                    acked.lock().unwrap().insert(key, (value, rev));
                }
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_kill = acked.lock().unwrap().len();
    assert!(before_kill > 0, "writes were acknowledged before the kill");
    cluster.kill(old_leader).await.expect("kill -9 the leader");
    let new_leader = cluster
        .wait_for_leader(LEADER_TIMEOUT)
        .await
        .expect("a new leader is elected");
    assert_ne!(new_leader, old_leader);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > before_kill,
        "writes kept being acknowledged after the failover"
    );
    let check = |kvs: Vec<KeyValue>, who: String| {
        let got: BTreeMap<String, (String, u64)> = kvs
            .into_iter()
            .map(|kv| {
                (
                    String::from_utf8(kv.key).unwrap(),
                    (String::from_utf8(kv.value).unwrap(), kv.mod_revision),
                )
            })
            .collect();
        for (key, (value, rev)) in &acked {
            assert_eq!(
                got.get(key),
                Some(&(value.clone(), *rev)),
                "{who}: acknowledged write {key} at revision {rev}"
            );
        }
    };
    let (kvs, _) = agreed_state(&cluster, "/kill/").await;
    check(kvs, "survivors".into());
    cluster
        .restart(old_leader)
        .await
        .expect("restart the killed member");
    let r = cluster
        .client(old_leader)
        .unwrap()
        .range("/kill/", prefix_end(b"/kill/"), 0, 0)
        .await
        .expect("linearizable read on the restarted member");
    check(r.kvs, format!("restarted member {old_leader}"));
    let (all, _) = agreed_state(&cluster, "/kill/").await;
    assert_eq!(all.len(), acked.len().max(all.len()), "no member lost keys");
    cluster.check_alive().expect("no member crashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_and_crash_all_members_then_restart_with_identical_state() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let client = cluster.client(leader).unwrap();
    let rev0 = bootstrapped_revision(&client).await;
    for i in 0..100 {
        client
            .put(format!("/r/{i:03}"), format!("v{i}"))
            .await
            .unwrap();
    }
    for i in (0..100).step_by(3) {
        client.delete(format!("/r/{i:03}")).await.unwrap();
    }
    for i in (0..100).step_by(5) {
        client
            .put(format!("/r/{i:03}"), format!("again{i}"))
            .await
            .unwrap();
    }
    let (before, rev_before) = agreed_state(&cluster, "/r/").await;
    assert_eq!(rev_before, rev0 + 100 + 34 + 20);

    // Clean stop of every member, then start again.
    for id in cluster.member_ids() {
        cluster.stop(id).await.expect("stop");
    }
    for id in cluster.member_ids() {
        cluster.restart(id).await.expect("restart");
    }
    cluster
        .wait_for_leader(LEADER_TIMEOUT)
        .await
        .expect("leader after restart");
    let (after, rev_after) = agreed_state(&cluster, "/r/").await;
    assert_eq!(
        after, before,
        "same keys, values and revisions after a full stop"
    );
    assert_eq!(rev_after, rev_before);

    // Crash every member (kill -9) right after more writes, then start again.
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await.unwrap();
    let client = cluster.client(leader).unwrap();
    let mut last = 0;
    for i in 0..50 {
        last = client.put(format!("/r/crash{i:02}"), "x").await.unwrap();
    }
    for id in cluster.member_ids() {
        cluster.kill(id).await.expect("kill -9");
    }
    for id in cluster.member_ids() {
        cluster.restart(id).await.expect("restart");
    }
    cluster
        .wait_for_leader(LEADER_TIMEOUT)
        .await
        .expect("leader after crash");
    let (after_crash, rev) = agreed_state(&cluster, "/r/").await;
    assert_eq!(rev, last, "the revision survives a crash of every member");
    assert_eq!(after_crash.len(), after.len() + 50);
    // A watch from revision 1 replays the whole history after the restarts
    // (the bootstrap revisions are outside /r/).
    let mut stream = cluster
        .client(leader)
        .unwrap()
        .watch("/r/", prefix_end(b"/r/"), 1)
        .await
        .unwrap();
    let mut expected_rev = rev0 + 1;
    while expected_rev <= last {
        let resp = stream
            .next()
            .await
            .expect("watch stream open")
            .expect("watch event");
        assert_eq!(
            resp.revision, expected_rev,
            "replayed revisions are consecutive"
        );
        expected_rev += 1;
    }
    cluster.check_alive().expect("no member crashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn learner_catches_up_from_snapshot_then_promoted_and_member_removed() {
    let options = ClusterOptions {
        snapshot_logs: Some(100),
        keep_logs: Some(10),
        ..ClusterOptions::default()
    };
    let (mut cluster, leader) = start(options).await;
    let client = cluster.client(leader).unwrap();
    for i in 0..400 {
        client
            .put(format!("/s/{i:04}"), format!("value-{i}"))
            .await
            .unwrap();
    }
    // Make sure every member has snapshotted and purged its log, so the new
    // member cannot be fed from the log.
    for id in cluster.member_ids() {
        let r = cluster
            .client(id)
            .unwrap()
            .snapshot()
            .await
            .expect("snapshot now");
        assert!(r.purged_index > 0, "member {id} purged its log");
    }
    let purged = cluster
        .client(leader)
        .unwrap()
        .status()
        .await
        .unwrap()
        .purged_index;
    assert!(purged >= 400, "leader log purged up to {purged}");

    cluster
        .add_member(4)
        .await
        .expect("member 4 joins as learner and is promoted to voter");
    // Member 4 could not be fed from the (purged) log: its snapshot metric
    // shows the installed snapshot (the metric may trail the install a bit).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let snapshot4 = cluster
            .client(4)
            .unwrap()
            .status()
            .await
            .unwrap()
            .snapshot_index;
        if snapshot4 >= purged {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "member 4 was fed a snapshot (its snapshot index {snapshot4}, leader purged {purged})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = cluster
        .client(4)
        .unwrap()
        .range("/s/", prefix_end(b"/s/"), 0, 0)
        .await
        .unwrap();
    assert_eq!(r.kvs.len(), 400, "member 4 has every key");
    let (state, _) = agreed_state(&cluster, "/s/").await;
    assert_eq!(state.len(), 400);

    // Writes after the join reach member 4 through the log.
    let rev = client.put("/s/after", "join").await.unwrap();
    let kv = cluster
        .client(4)
        .unwrap()
        .get("/s/after", false)
        .await
        .unwrap()
        .expect("member 4 sees later writes");
    assert_eq!(kv.mod_revision, rev);

    // Remove a voter that is not the leader.
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await.unwrap();
    let victim = [3u64, 2, 1].into_iter().find(|id| *id != leader).unwrap();
    let members = cluster
        .client(leader)
        .unwrap()
        .remove_member(victim)
        .await
        .expect("remove member");
    assert!(
        members.iter().all(|m| m.id != victim),
        "member {victim} is gone from {members:?}"
    );
    assert_eq!(members.iter().filter(|m| m.voter).count(), 3);
    cluster.stop(victim).await.expect("stop the removed member");
    let rev = put_eventually(
        &cluster.client(leader).unwrap(),
        "/s/after-remove",
        "ok",
        LEADER_TIMEOUT,
    )
    .await;
    let kv = cluster
        .client(4)
        .unwrap()
        .get("/s/after-remove", false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kv.mod_revision, rev);
    cluster.check_alive().expect("no member crashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_replays_exact_history_and_reports_compaction() {
    let options = ClusterOptions {
        compaction_keep_revisions: Some(100),
        ..ClusterOptions::default()
    };
    let (mut cluster, leader) = start(options).await;
    let follower = other_than(&cluster, leader);
    let writer = cluster.client(leader).unwrap();
    let watcher_client = cluster.client(follower).unwrap();

    // A live watch from "now" on a follower sees exactly the writes that follow.
    let live = watcher_client
        .watch("/w/", prefix_end(b"/w/"), 0)
        .await
        .unwrap();
    // (kind, key, value, revision) of every committed change, in order.
    let mut history: Vec<(EventType, String, String, u64)> = Vec::new();
    for i in 0..300u64 {
        let key = format!("/w/{}", i % 37);
        if i % 7 == 3 {
            let before = writer.get(key.as_str(), false).await.unwrap();
            let rev = writer.delete(key.as_str()).await.unwrap();
            if before.is_some() {
                history.push((EventType::Delete, key, String::new(), rev));
            }
        } else {
            let value = format!("v{i}");
            let rev = writer.put(key.as_str(), value.as_str()).await.unwrap();
            history.push((EventType::Put, key, value, rev));
        }
        // Writes outside the prefix must not show up.
        writer.put(format!("/other/{i}"), "x").await.unwrap();
    }
    let collect =
        |history_len: usize, mut stream: tonic::Streaming<raftplane_proto::v1::WatchResponse>| async move {
            let mut got = Vec::new();
            while got.len() < history_len {
                let resp = tokio::time::timeout(Duration::from_secs(10), stream.next())
                    .await
                    .expect("watch event within 10 s")
                    .expect("stream open")
                    .expect("no watch error");
                for e in resp.events {
                    let kv = e.kv.unwrap();
                    assert_eq!(kv.mod_revision, resp.revision);
                    got.push((
                        EventType::try_from(e.r#type).unwrap(),
                        String::from_utf8(kv.key).unwrap(),
                        String::from_utf8(kv.value).unwrap(),
                        resp.revision,
                    ));
                }
            }
            got
        };
    let got = collect(history.len(), live).await;
    assert_eq!(
        got, history,
        "live watch on a follower: every event, in order, once"
    );

    // Replay from an old revision, on another member, from the middle.
    let from = history[history.len() / 2].3;
    let expected: Vec<_> = history.iter().filter(|h| h.3 >= from).cloned().collect();
    let replay_from = cluster.client(other_than(&cluster, follower)).unwrap();
    let replay = replay_from
        .watch("/w/", prefix_end(b"/w/"), from)
        .await
        .unwrap();
    let got = collect(expected.len(), replay).await;
    assert_eq!(got, expected, "replay from revision {from}");

    // The leader compacts history beyond the newest 100 revisions (checked
    // every 5 s); then old revisions are gone with a distinct error.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let compacted = loop {
        let s = watcher_client.status().await.unwrap();
        if s.compacted_revision > 0 {
            break s.compacted_revision;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "history was never compacted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let last_rev = watcher_client.status().await.unwrap().revision;
    assert!(
        compacted >= last_rev - 100 - 1,
        "compacted {compacted} keeps at most ~100 of {last_rev} revisions"
    );
    let mut old = watcher_client
        .watch("/w/", prefix_end(b"/w/"), 1)
        .await
        .map(|s| s.boxed());
    let err = match &mut old {
        Err(e) => e.to_string(),
        Ok(stream) => match stream.next().await {
            Some(Err(status)) => {
                assert_eq!(status.code(), tonic::Code::OutOfRange);
                assert_eq!(
                    raftplane_chaos::client::compact_revision(&status),
                    Some(compacted)
                );
                status.to_string()
            }
            other => panic!("watch from a compacted revision must fail, got {other:?}"),
        },
    };
    assert!(err.contains("compacted"), "error says compacted: {err}");
    match watcher_client.range("/w/", prefix_end(b"/w/"), 0, 1).await {
        Err(Error::Compacted {
            compact_revision, ..
        }) => assert_eq!(compact_revision, compacted),
        other => panic!("read at a compacted revision must fail, got {other:?}"),
    }
    // Right above the compacted revision, history is still complete.
    let expected: Vec<_> = history
        .iter()
        .filter(|h| h.3 > compacted)
        .cloned()
        .collect();
    let replay = watcher_client
        .watch("/w/", prefix_end(b"/w/"), compacted + 1)
        .await
        .unwrap();
    let got = collect(expected.len(), replay).await;
    assert_eq!(got, expected, "replay from the first retained revision");
    cluster.check_alive().expect("no member crashed");
}
