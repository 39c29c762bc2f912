//! Kubernetes watch semantics through real members: every member's watch
//! stream equals the committed history (strictly increasing
//! resourceVersions, no duplicates, no gaps) while the leader is killed
//! mid-stream and watchers resume from their last resourceVersion on
//! another member, as client-go's reflector does; plus the start points,
//! timeouts, bookmarks and selector transitions of a watch.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use raftplane_chaos::harness::ClusterOptions;
use serde_json::Value;
use serde_json::json;

use crate::http::Event;
use crate::http::Http;
use crate::http::MERGE_PATCH;
use crate::http::Response;
use crate::http::Watch;
use crate::http::request;
use crate::http::rv_of;
use crate::support::LEADER_TIMEOUT;
use crate::support::start;

const NS: &str = "wt";
const NAMES: usize = 8;

fn cm_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps")
}

/// An event as compared between watchers and the committed history.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    kind: String,
    name: String,
    rv: u64,
    seq: Option<u64>,
}

fn seq_of(obj: &Value) -> Option<u64> {
    obj.pointer("/data/seq")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn seen(ev: &Event) -> Seen {
    Seen {
        kind: ev.kind.clone(),
        name: ev.name().to_string(),
        rv: ev.rv(),
        seq: seq_of(&ev.object),
    }
}

/// One intended write of the writer and what became of it.
#[derive(Debug, Clone)]
struct Write {
    seq: u64,
    name: String,
    /// The watch event type it must produce.
    kind: &'static str,
    /// resourceVersion of the write when the server told us (create and
    /// update, directly or via a read after an ambiguous retry).
    rv: Option<u64>,
    /// Acknowledged by a 2xx answer (not only found committed afterwards).
    acked: bool,
    attempts: u32,
}

/// Sends one request to the members in turn (starting at `first`) until
/// one answers without a transport error or 5xx.
async fn send_any(
    addrs: &[SocketAddr],
    first: usize,
    method: &str,
    path: &str,
    ct: Option<&str>,
    body: &[u8],
    attempts: &mut u32,
) -> Response {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut i = first;
    loop {
        *attempts += 1;
        let addr = addrs[i % addrs.len()];
        match request(addr, method, path, ct, body).await {
            Ok(r) if r.status < 500 => return r,
            Ok(r) => eprintln!("{method} {path} via {addr}: {} {}", r.status, r.text()),
            Err(e) => eprintln!("{method} {path} via {addr}: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "{method} {path}: no member answered for 60 s"
        );
        i += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The writer: create, update twice, delete each name in turn, every
/// request retried with the same intended change until its outcome is
/// known. Updates and deletes carry the last resourceVersion as a
/// precondition, so a late duplicate of a retried request cannot apply.
async fn writer(addrs: Vec<SocketAddr>, stop: Arc<AtomicBool>) -> Vec<Write> {
    let base = cm_path(NS);
    // name -> (resourceVersion, updates done) while it exists
    let mut live: BTreeMap<String, (u64, u32)> = BTreeMap::new();
    let mut writes = Vec::new();
    let mut seq = 0u64;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        // The last write is a fence whose rv every watcher must reach.
        let name = if stopping {
            "fence".to_string()
        } else {
            format!("w{}", seq % NAMES as u64)
        };
        let data = json!({"seq": seq.to_string()});
        let mut attempts = 0;
        let first = seq as usize;
        let w = match live.get(&name).copied() {
            None => {
                let body = json!({"metadata": {"name": name}, "data": data}).to_string();
                let r = send_any(
                    &addrs,
                    first,
                    "POST",
                    &base,
                    Some("application/json"),
                    body.as_bytes(),
                    &mut attempts,
                )
                .await;
                let (rv, acked) = match r.status {
                    201 => (rv_of(&r.json()), true),
                    409 if attempts > 1 => {
                        // An earlier attempt committed; confirm it was ours.
                        let g = send_any(
                            &addrs,
                            first,
                            "GET",
                            &format!("{base}/{name}"),
                            None,
                            b"",
                            &mut 0,
                        )
                        .await;
                        let o = g.json();
                        assert_eq!(seq_of(&o), Some(seq), "create {name} retry: {o}");
                        (rv_of(&o), false)
                    }
                    _ => panic!("create {name} (seq {seq}): {} {}", r.status, r.text()),
                };
                live.insert(name.clone(), (rv, 0));
                Write {
                    seq,
                    name: name.clone(),
                    kind: "ADDED",
                    rv: Some(rv),
                    acked,
                    attempts,
                }
            }
            Some((rv, updates)) if updates < 2 => {
                let body = json!({"metadata": {"name": name, "resourceVersion": rv.to_string()}, "data": data}).to_string();
                let r = send_any(
                    &addrs,
                    first,
                    "PUT",
                    &format!("{base}/{name}"),
                    Some("application/json"),
                    body.as_bytes(),
                    &mut attempts,
                )
                .await;
                let (new_rv, acked) = match r.status {
                    200 => (rv_of(&r.json()), true),
                    409 if attempts > 1 => {
                        let g = send_any(
                            &addrs,
                            first,
                            "GET",
                            &format!("{base}/{name}"),
                            None,
                            b"",
                            &mut 0,
                        )
                        .await;
                        let o = g.json();
                        assert_eq!(seq_of(&o), Some(seq), "update {name} retry: {o}");
                        (rv_of(&o), false)
                    }
                    _ => panic!("update {name} (seq {seq}): {} {}", r.status, r.text()),
                };
                live.insert(name.clone(), (new_rv, updates + 1));
                Write {
                    seq,
                    name: name.clone(),
                    kind: "MODIFIED",
                    rv: Some(new_rv),
                    acked,
                    attempts,
                }
            }
            Some((rv, _)) => {
                let body =
                    json!({"preconditions": {"resourceVersion": rv.to_string()}}).to_string();
                let r = send_any(
                    &addrs,
                    first,
                    "DELETE",
                    &format!("{base}/{name}"),
                    Some("application/json"),
                    body.as_bytes(),
                    &mut attempts,
                )
                .await;
                let acked = match r.status {
                    200 | 202 => true,
                    404 if attempts > 1 => false,
                    _ => panic!("delete {name} (seq {seq}): {} {}", r.status, r.text()),
                };
                live.remove(&name);
                Write {
                    seq,
                    name: name.clone(),
                    kind: "DELETED",
                    rv: None,
                    acked,
                    attempts,
                }
            }
        };
        writes.push(w);
        seq += 1;
        if stopping {
            return writes;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// What one watcher saw, and how its streams went.
#[derive(Debug, Default)]
struct WatcherLog {
    events: Vec<Seen>,
    /// (member index, from rv, how the stream ended)
    streams: Vec<(usize, u64, String)>,
    errors: Vec<String>,
}

/// A reflector-style watcher: watches from `from` on member `first`; when
/// its stream breaks it re-watches from its last seen resourceVersion on
/// the next member. Ends once it has seen `target` (set at the end).
async fn watcher(
    addrs: Vec<SocketAddr>,
    first: usize,
    from: u64,
    target: Arc<AtomicU64>,
) -> WatcherLog {
    let mut log = WatcherLog::default();
    let mut last = from;
    let mut member = first;
    let deadline = Instant::now() + Duration::from_secs(180);
    'streams: loop {
        assert!(
            Instant::now() < deadline,
            "watcher {first} never reached the end: {log:?}"
        );
        let path = format!(
            "{}?watch=1&resourceVersion={last}&allowWatchBookmarks=true",
            cm_path(NS)
        );
        let mut w = match Watch::open(addrs[member], &path).await {
            Ok(w) if w.status == 200 => w,
            Ok(w) => {
                log.streams
                    .push((member, last, format!("HTTP {} {:?}", w.status, w.error)));
                member = (member + 1) % addrs.len();
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) => {
                log.streams.push((member, last, format!("open: {e}")));
                member = (member + 1) % addrs.len();
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        loop {
            let t = target.load(Ordering::Relaxed);
            if t != 0 && last >= t {
                log.streams.push((member, last, "done".into()));
                return log;
            }
            match w.next(Duration::from_millis(300)).await {
                Ok(Some(ev)) => match ev.kind.as_str() {
                    "BOOKMARK" => {
                        if ev.rv() < last {
                            log.errors
                                .push(format!("bookmark {} behind {last}", ev.rv()));
                        }
                        last = last.max(ev.rv());
                    }
                    "ERROR" => {
                        log.errors.push(format!("ERROR event: {}", ev.object));
                        log.streams.push((member, last, "ERROR".into()));
                        member = (member + 1) % addrs.len();
                        continue 'streams;
                    }
                    _ => {
                        last = ev.rv();
                        log.events.push(seen(&ev));
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Ok(None) => {
                    // A clean end (timeout): re-watch on the same member.
                    log.streams.push((member, last, "ended".into()));
                    continue 'streams;
                }
                Err(e) => {
                    log.streams.push((member, last, format!("broke: {e}")));
                    member = (member + 1) % addrs.len();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue 'streams;
                }
            }
        }
    }
}

/// Strictly increasing resourceVersions.
fn check_order(who: &str, events: &[Seen]) {
    for pair in events.windows(2) {
        assert!(
            pair[1].rv > pair[0].rv,
            "{who}: resourceVersion {} after {} (duplicate or out of order): {:?} then {:?}",
            pair[1].rv,
            pair[0].rv,
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 6)]
async fn api_watch_every_member_through_leader_kill() {
    let t0 = Instant::now();
    let (mut cluster, old_leader) = start(ClusterOptions::default()).await;
    let ids = cluster.member_ids();
    let addrs: Vec<SocketAddr> = ids
        .iter()
        .map(|id| cluster.api_addr(*id).unwrap())
        .collect();
    let api = Http::new(addrs[0]);
    let r = api
        .post("/api/v1/namespaces", &json!({"metadata": {"name": NS}}))
        .await;
    assert_eq!(r.status, 201, "create namespace: {}", r.text());
    let list = api.get(&cm_path(NS)).await;
    assert_eq!(list.status, 200);
    let rv0 = rv_of(&list.json());
    assert!(rv0 > 0, "list resourceVersion: {}", list.text());

    let target = Arc::new(AtomicU64::new(0));
    let watchers: Vec<_> = (0..addrs.len())
        .map(|i| tokio::spawn(watcher(addrs.clone(), i, rv0, target.clone())))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(writer(addrs.clone(), stop.clone()));

    tokio::time::sleep(Duration::from_secs(2)).await;
    let leader = cluster.leader().await.unwrap_or(old_leader);
    eprintln!("killing leader {leader}");
    cluster.kill(leader).await.expect("kill -9 the leader");
    let new_leader = cluster
        .wait_for_leader(LEADER_TIMEOUT)
        .await
        .expect("a new leader");
    assert_ne!(new_leader, leader);
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("restarting member {leader}");
    cluster
        .restart(leader)
        .await
        .expect("restart the killed member");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.expect("writer");
    let fence_rv = writes.last().and_then(|w| w.rv).expect("fence rv");
    target.store(fence_rv, Ordering::Relaxed);
    let logs: Vec<WatcherLog> = futures::future::join_all(watchers)
        .await
        .into_iter()
        .map(|r| r.expect("watcher"))
        .collect();
    eprintln!(
        "{} writes ({} retried, {} acknowledged, {} found committed after a retry), fence rv {fence_rv}",
        writes.len(),
        writes.iter().filter(|w| w.attempts > 1).count(),
        writes.iter().filter(|w| w.acked).count(),
        writes.iter().filter(|w| !w.acked).count()
    );

    // The committed history: a fresh watch from rv0 on the new leader.
    let mut truth = Vec::new();
    let mut w = Watch::open(
        cluster.api_addr(new_leader).unwrap(),
        &format!("{}?watch=1&resourceVersion={rv0}", cm_path(NS)),
    )
    .await
    .expect("history watch");
    assert_eq!(w.status, 200);
    while truth.last().is_none_or(|s: &Seen| s.rv < fence_rv) {
        let ev = w
            .next(Duration::from_secs(10))
            .await
            .expect("history event")
            .expect("history stream open");
        assert_ne!(ev.kind, "ERROR", "history watch: {}", ev.object);
        truth.push(seen(&ev));
    }
    drop(w);
    check_order("history", &truth);

    // The history is exactly the intended writes, in order, each once.
    assert_eq!(
        truth.len(),
        writes.len(),
        "history has {} events for {} writes",
        truth.len(),
        writes.len()
    );
    for (h, w) in truth.iter().zip(&writes) {
        let want_seq = if w.kind == "DELETED" {
            // A DELETED event carries the last state of the object.
            h.seq
        } else {
            Some(w.seq)
        };
        assert!(
            h.kind == w.kind && h.name == w.name && h.seq == want_seq,
            "history event {h:?} for write {w:?}"
        );
        if let Some(rv) = w.rv {
            assert_eq!(h.rv, rv, "write {w:?} committed at another revision");
        }
    }

    // Each watcher saw exactly the history.
    for (i, log) in logs.iter().enumerate() {
        eprintln!("watcher {i} streams: {:?}", log.streams);
        assert!(log.errors.is_empty(), "watcher {i}: {:?}", log.errors);
        check_order(&format!("watcher {i}"), &log.events);
        if log.events != truth {
            let first_diff = log
                .events
                .iter()
                .zip(&truth)
                .position(|(a, b)| a != b)
                .unwrap_or(log.events.len().min(truth.len()));
            panic!(
                "watcher {i} saw {} events, history has {}; first difference at {first_diff}: saw {:?}, history {:?}; streams {:?}",
                log.events.len(),
                truth.len(),
                log.events.get(first_diff),
                truth.get(first_diff),
                log.streams
            );
        }
    }
    // A fresh watch from rv0 on every member, the restarted one included,
    // replays the same history.
    for id in cluster.running_ids() {
        let mut w = Watch::open(
            cluster.api_addr(id).unwrap(),
            &format!("{}?watch=1&resourceVersion={rv0}", cm_path(NS)),
        )
        .await
        .expect("replay watch");
        assert_eq!(w.status, 200, "replay watch on member {id}: {:?}", w.error);
        let mut replay = Vec::new();
        while replay.len() < truth.len() {
            let ev = w
                .next(Duration::from_secs(10))
                .await
                .unwrap_or_else(|e| panic!("replay on member {id}: {e}"))
                .unwrap_or_else(|| panic!("replay on member {id} ended"));
            replay.push(seen(&ev));
        }
        assert_eq!(replay, truth, "replay from rv0 on member {id}");
    }
    // The watchers whose member was killed resumed elsewhere.
    let killed_index = ids.iter().position(|id| *id == leader).unwrap();
    assert!(
        logs[killed_index].streams.len() > 1,
        "the watcher on the killed member never resumed: {:?}",
        logs[killed_index].streams
    );

    // The final list matches the replayed history.
    let mut state: BTreeMap<String, (u64, Option<u64>)> = BTreeMap::new();
    for h in &truth {
        if h.kind == "DELETED" {
            state.remove(&h.name);
        } else {
            state.insert(h.name.clone(), (h.rv, h.seq));
        }
    }
    for id in cluster.running_ids() {
        let l = Http::new(cluster.api_addr(id).unwrap())
            .get(&cm_path(NS))
            .await
            .json();
        let listed: BTreeMap<String, (u64, Option<u64>)> = l["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["metadata"]["name"].as_str().unwrap().to_string(),
                    (rv_of(o), seq_of(o)),
                )
            })
            .collect();
        assert_eq!(listed, state, "member {id}'s list differs from the history");
    }
    cluster.check_alive().expect("no member crashed");
    eprintln!(
        "api_watch_every_member_through_leader_kill: {} events, took {:?}",
        truth.len(),
        t0.elapsed()
    );
}

async fn next_event(w: &mut Watch, what: &str) -> Event {
    match w.next(Duration::from_secs(10)).await {
        Ok(Some(ev)) => ev,
        other => panic!("{what}: want an event, got {other:?}"),
    }
}

/// The next event that is not a BOOKMARK.
async fn next_change(w: &mut Watch, what: &str) -> Event {
    loop {
        let ev = next_event(w, what).await;
        if ev.kind != "BOOKMARK" {
            return ev;
        }
    }
}

async fn no_event(w: &mut Watch, what: &str) {
    match w.next(Duration::from_millis(700)).await {
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
        other => panic!("{what}: want no event, got {other:?}"),
    }
}

async fn cm_create(api: &Http, ns: &str, name: &str, labels: Value) -> Value {
    let r = api
        .post(
            &cm_path(ns),
            &json!({"metadata": {"name": name, "labels": labels}, "data": {"v": "1"}}),
        )
        .await;
    assert_eq!(r.status, 201, "create {name}: {}", r.text());
    r.json()
}

async fn cm_patch(api: &Http, ns: &str, name: &str, patch: Value) -> Value {
    let r = api
        .patch(&format!("{}/{name}", cm_path(ns)), MERGE_PATCH, &patch)
        .await;
    assert_eq!(r.status, 200, "patch {name}: {}", r.text());
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_watch_start_points_timeouts_bookmarks_selectors() {
    let t0 = Instant::now();
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let follower = crate::support::other_than(&cluster, leader);
    let api = Http::new(cluster.api_addr(follower).unwrap());
    let ns = "ws";
    let r = api
        .post("/api/v1/namespaces", &json!({"metadata": {"name": ns}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let a = cm_create(&api, ns, "a", json!({})).await;
    let b = cm_create(&api, ns, "b", json!({})).await;

    // resourceVersion unset: synthetic ADDED for the current state, then
    // changes. The wire format is chunked JSON lines.
    let mut w = api
        .watch(&format!("{}?watch=1", cm_path(ns)))
        .await
        .unwrap();
    assert_eq!(w.status, 200);
    assert!(
        w.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "watch content-type {:?}",
        w.header("content-type")
    );
    assert_eq!(w.header("transfer-encoding"), Some("chunked"));
    let mut initial = [
        next_event(&mut w, "initial 1").await,
        next_event(&mut w, "initial 2").await,
    ];
    initial.sort_by_key(|e| e.name().to_string());
    assert_eq!(
        initial
            .iter()
            .map(|e| (e.kind.as_str(), e.name(), e.rv()))
            .collect::<Vec<_>>(),
        vec![("ADDED", "a", rv_of(&a)), ("ADDED", "b", rv_of(&b))]
    );
    assert_eq!(initial[0].object["data"], json!({"v": "1"}));
    no_event(&mut w, "after the initial events").await;
    let c = cm_create(&api, ns, "c", json!({})).await;
    let ev = next_event(&mut w, "create c").await;
    assert_eq!(
        (ev.kind.as_str(), ev.name(), ev.rv()),
        ("ADDED", "c", rv_of(&c))
    );
    let a2 = cm_patch(&api, ns, "a", json!({"data": {"v": "2"}})).await;
    let ev = next_event(&mut w, "update a").await;
    assert_eq!(
        (ev.kind.as_str(), ev.name(), ev.rv()),
        ("MODIFIED", "a", rv_of(&a2))
    );
    assert_eq!(ev.object["data"], json!({"v": "2"}));
    let r = api.delete(&format!("{}/b", cm_path(ns)), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let ev = next_event(&mut w, "delete b").await;
    assert_eq!((ev.kind.as_str(), ev.name()), ("DELETED", "b"));
    assert!(
        ev.rv() > rv_of(&a2),
        "DELETED rv {} is the deletion's",
        ev.rv()
    );
    drop(w);

    // resourceVersion=N: only changes after N, none replayed at or before.
    let mut w = api
        .watch(&format!(
            "{}?watch=1&resourceVersion={}",
            cm_path(ns),
            rv_of(&c)
        ))
        .await
        .unwrap();
    let ev = next_event(&mut w, "from rv of c").await;
    assert_eq!(
        (ev.kind.as_str(), ev.name(), ev.rv()),
        ("MODIFIED", "a", rv_of(&a2))
    );
    let ev = next_event(&mut w, "from rv of c").await;
    assert_eq!((ev.kind.as_str(), ev.name()), ("DELETED", "b"));
    no_event(&mut w, "from rv of c, caught up").await;
    drop(w);

    // timeoutSeconds=2: the server ends the stream cleanly after ~2 s.
    let started = Instant::now();
    let mut w = api
        .watch(&format!(
            "{}?watch=1&resourceVersion={}&timeoutSeconds=2",
            cm_path(ns),
            rv_of(&a2)
        ))
        .await
        .unwrap();
    let end = loop {
        match w.next(Duration::from_secs(10)).await {
            Ok(Some(ev)) if ev.kind == "BOOKMARK" || ev.kind == "DELETED" => continue,
            other => break other,
        }
    };
    let took = started.elapsed();
    assert!(matches!(end, Ok(None)), "timeoutSeconds=2 watch: {end:?}");
    assert!(
        took >= Duration::from_millis(1800) && took <= Duration::from_millis(3500),
        "timeoutSeconds=2 watch ended after {took:?}"
    );

    // WatchList: sendInitialEvents=true + NotOlderThan + bookmarks: the
    // ADDED events end with a BOOKMARK annotated initial-events-end.
    let list = api.get(&cm_path(ns)).await.json();
    let list_rv = rv_of(&list);
    for rv_param in ["", "&resourceVersion=0"] {
        let mut w = api
            .watch(&format!(
                "{}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true{rv_param}",
                cm_path(ns)
            ))
            .await
            .unwrap();
        assert_eq!(w.status, 200, "sendInitialEvents{rv_param}: {:?}", w.error);
        let mut names = Vec::new();
        let bookmark = loop {
            let ev = next_event(&mut w, "initial events").await;
            match ev.kind.as_str() {
                "ADDED" => names.push(ev.name().to_string()),
                "BOOKMARK" => break ev,
                other => panic!(
                    "sendInitialEvents{rv_param}: unexpected {other}: {}",
                    ev.object
                ),
            }
        };
        names.sort();
        assert_eq!(names, vec!["a", "c"], "sendInitialEvents{rv_param}");
        assert_eq!(
            bookmark
                .object
                .pointer("/metadata/annotations/k8s.io~1initial-events-end"),
            Some(&json!("true")),
            "initial-events-end bookmark: {}",
            bookmark.object
        );
        assert_eq!(bookmark.object["kind"], "ConfigMap");
        assert_eq!(bookmark.object["apiVersion"], "v1");
        assert!(
            bookmark.rv() >= list_rv,
            "initial-events-end bookmark rv {} < list rv {list_rv}",
            bookmark.rv()
        );
        // Then changes.
        let a3 = cm_patch(
            &api,
            ns,
            "a",
            json!({"data": {"v": format!("3{rv_param}")}}),
        )
        .await;
        let ev = next_change(&mut w, "change after initial events").await;
        assert_eq!(
            (ev.kind.as_str(), ev.name(), ev.rv()),
            ("MODIFIED", "a", rv_of(&a3))
        );
    }
    // sendInitialEvents without resourceVersionMatch=NotOlderThan is invalid.
    let w = api
        .watch(&format!(
            "{}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true",
            cm_path(ns)
        ))
        .await
        .unwrap();
    assert_eq!(
        w.status, 422,
        "sendInitialEvents without NotOlderThan: {:?}",
        w.error
    );

    // A label-selector watch: leaving the selector is DELETED, entering
    // it is ADDED, changes while matching are MODIFIED.
    let list_rv = rv_of(&api.get(&cm_path(ns)).await.json());
    let mut w = api
        .watch(&format!(
            "{}?watch=1&labelSelector=app%3Dx&resourceVersion={list_rv}",
            cm_path(ns)
        ))
        .await
        .unwrap();
    assert_eq!(w.status, 200);
    let l1 = cm_create(&api, ns, "l1", json!({"app": "x"})).await;
    cm_create(&api, ns, "other", json!({"app": "y"})).await;
    let ev = next_event(&mut w, "labelled create").await;
    assert_eq!(
        (ev.kind.as_str(), ev.name(), ev.rv()),
        ("ADDED", "l1", rv_of(&l1))
    );
    let l1b = cm_patch(&api, ns, "l1", json!({"data": {"v": "2"}})).await;
    let ev = next_event(&mut w, "matching update").await;
    assert_eq!(
        (ev.kind.as_str(), ev.name(), ev.rv()),
        ("MODIFIED", "l1", rv_of(&l1b))
    );
    let l1c = cm_patch(
        &api,
        ns,
        "l1",
        json!({"metadata": {"labels": {"app": "y"}}}),
    )
    .await;
    let ev = next_event(&mut w, "label no longer matches").await;
    assert_eq!(
        (ev.kind.as_str(), ev.name(), ev.rv()),
        ("DELETED", "l1", rv_of(&l1c))
    );
    cm_patch(&api, ns, "other", json!({"data": {"v": "9"}})).await;
    let l1d = cm_patch(
        &api,
        ns,
        "l1",
        json!({"metadata": {"labels": {"app": "x"}}}),
    )
    .await;
    let ev = next_event(&mut w, "label matches again").await;
    assert_eq!(
        (ev.kind.as_str(), ev.name(), ev.rv()),
        ("ADDED", "l1", rv_of(&l1d))
    );
    let r = api.delete(&format!("{}/l1", cm_path(ns)), None).await;
    assert_eq!(r.status, 200);
    let ev = next_event(&mut w, "delete while matching").await;
    assert_eq!((ev.kind.as_str(), ev.name()), ("DELETED", "l1"));
    assert!(ev.rv() > rv_of(&l1d));
    no_event(&mut w, "label watch, done").await;

    cluster.check_alive().expect("no member crashed");
    eprintln!(
        "api_watch_start_points_timeouts_bookmarks_selectors took {:?}",
        t0.elapsed()
    );
}
