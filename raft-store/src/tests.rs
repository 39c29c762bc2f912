//! openraft's storage conformance suite against the RocksDB log store and
//! state machine, plus state machine unit tests.

use openraft::StorageError;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use openraft::type_config::TypeConfigExt;
use tempfile::TempDir;

use crate::db;
use crate::log_store::LogStore;
use crate::raft_types::TypeConfig;
use crate::state_machine::StateMachine;

struct RocksBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for RocksBuilder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError<TypeConfig>> {
        let dir = TempDir::new().map_err(|e| StorageError::read(TypeConfig::err_from_error(&e)))?;
        let rdb = db::open(&dir.path().join("db"))
            .map_err(|e| StorageError::read(TypeConfig::err_from_error(&db::io_err(e))))?;
        let log = LogStore::new(rdb.clone());
        let sm = StateMachine::open(rdb, &dir.path().join("snapshots"))
            .map_err(|e| StorageError::read(TypeConfig::err_from_error(&e)))?;
        Ok((dir, log, sm))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openraft_storage_conformance_suite() {
    Suite::test_all(RocksBuilder).await.expect("storage suite");
}

// ------------------------------------------------------ state machine tests

use bytes::Bytes;
use openraft::entry::RaftEntry;
use openraft::storage::RaftStateMachine;

use crate::error::StoreError;
use crate::raft_types::Entry;
use crate::raft_types::LogId;
use crate::state_machine::Reader;
use crate::types::Command;
use crate::types::Compare;
use crate::types::EventKind;
use crate::types::KeyRange;
use crate::types::Op;
use crate::types::RequestId;
use crate::types::Revision;
use crate::types::Term;
use crate::types::Txn;

struct Sm {
    _dir: TempDir,
    sm: StateMachine,
    reader: Reader,
    next_index: u64,
}

impl Sm {
    fn new() -> Sm {
        let dir = TempDir::new().unwrap();
        let rdb = db::open(&dir.path().join("db")).unwrap();
        let sm = StateMachine::open(rdb, &dir.path().join("snapshots")).unwrap();
        let reader = sm.reader();
        Sm {
            _dir: dir,
            sm,
            reader,
            next_index: 1,
        }
    }

    fn log_id(&mut self, term: u64) -> LogId {
        let index = self.next_index;
        self.next_index += 1;
        LogId::new(
            openraft::impls::leader_id_adv::LeaderId { term, node_id: 1 },
            index,
        )
    }

    async fn apply(&mut self, term: u64, commands: Vec<Command>) {
        let entries: Vec<Entry> = commands
            .into_iter()
            .map(|c| Entry::new_normal(self.log_id(term), c))
            .collect();
        let stream = futures::stream::iter(entries.into_iter().map(|e| Ok((e, None))));
        self.sm.apply(stream).await.unwrap();
    }

    async fn txn(&mut self, txn: Txn) {
        self.apply(1, vec![cmd(txn)]).await
    }

    fn get(&self, key: &str) -> Option<crate::types::KeyValue> {
        self.reader
            .range(&KeyRange::single(key.to_owned()), 0, Revision::ZERO, false)
            .unwrap()
            .kvs
            .pop()
    }
}

fn cmd(txn: Txn) -> Command {
    Command::Txn {
        request_id: RequestId::random(),
        fence_term: None,
        time_ms: 0,
        txn,
    }
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[tokio::test]
async fn revisions_versions_and_compares_follow_etcd_rules() {
    let mut sm = Sm::new();
    sm.txn(Txn::put("a", "1")).await;
    assert_eq!(sm.reader.revision(), Revision(1));
    sm.txn(Txn::put("a", "2")).await;
    let a = sm.get("a").unwrap();
    assert_eq!(
        (a.create_revision, a.mod_revision, a.version),
        (Revision(1), Revision(2), 2)
    );
    // Deleting an absent key changes nothing and takes no revision.
    sm.txn(Txn::delete("nope")).await;
    assert_eq!(sm.reader.revision(), Revision(2));
    // A failed compare applies the (empty) failure branch: no revision.
    let guarded = Txn {
        compares: vec![Compare::ModRevisionEquals(b("a"), Revision(1))],
        success: vec![Op::Put {
            key: b("a"),
            value: b("3"),
        }],
        failure: vec![],
    };
    sm.txn(guarded.clone()).await;
    assert_eq!(sm.get("a").unwrap().value, b("2"));
    assert_eq!(sm.reader.revision(), Revision(2));
    // The same compare at the right revision succeeds.
    let ok = Txn {
        compares: vec![Compare::ModRevisionEquals(b("a"), Revision(2))],
        ..guarded
    };
    sm.txn(ok).await;
    assert_eq!(sm.get("a").unwrap().value, b("3"));
    assert_eq!(sm.reader.revision(), Revision(3));
    // Delete then re-create: a new create_revision and version 1.
    sm.txn(Txn::delete("a")).await;
    assert!(sm.get("a").is_none());
    sm.txn(Txn::put("a", "4")).await;
    let a = sm.get("a").unwrap();
    assert_eq!(
        (a.create_revision, a.mod_revision, a.version),
        (Revision(5), Revision(5), 1)
    );
    // Absent/Present compares; several ops in one txn share one revision.
    sm.txn(Txn {
        compares: vec![Compare::Absent(b("b")), Compare::Present(b("a"))],
        success: vec![
            Op::Put {
                key: b("b"),
                value: b("x"),
            },
            Op::Put {
                key: b("c"),
                value: b("y"),
            },
        ],
        failure: vec![],
    })
    .await;
    assert_eq!(sm.get("b").unwrap().mod_revision, Revision(6));
    assert_eq!(sm.get("c").unwrap().mod_revision, Revision(6));
    assert_eq!(sm.reader.revision(), Revision(6));
}

#[tokio::test]
async fn entries_in_one_batch_see_each_other() {
    let mut sm = Sm::new();
    let guarded = |v: &str| Txn {
        compares: vec![Compare::Absent(b("k"))],
        success: vec![Op::Put {
            key: b("k"),
            value: b(v),
        }],
        failure: vec![],
    };
    // Two create-if-absent in one apply call: only the first may win.
    sm.apply(1, vec![cmd(guarded("first")), cmd(guarded("second"))])
        .await;
    assert_eq!(sm.get("k").unwrap().value, b("first"));
    assert_eq!(sm.reader.revision(), Revision(1));
}

#[tokio::test]
async fn duplicate_request_id_is_applied_once() {
    let mut sm = Sm::new();
    let id = RequestId::random();
    let c = |v: &str| Command::Txn {
        request_id: id,
        fence_term: None,
        time_ms: 0,
        txn: Txn::put("k", v.to_owned()),
    };
    sm.apply(1, vec![c("once")]).await;
    sm.apply(2, vec![c("twice")]).await;
    assert_eq!(sm.get("k").unwrap().value, b("once"));
    assert_eq!(sm.reader.revision(), Revision(1));
}

#[tokio::test]
async fn fenced_write_from_an_old_term_is_rejected() {
    let mut sm = Sm::new();
    let fenced = |term: u64| Command::Txn {
        request_id: RequestId::random(),
        fence_term: Some(Term(term)),
        time_ms: 0,
        txn: Txn::put("k", format!("t{term}")),
    };
    sm.apply(3, vec![fenced(2)]).await;
    assert!(
        sm.get("k").is_none(),
        "a write fenced to term 2 in a term-3 entry is dropped"
    );
    sm.apply(3, vec![fenced(3)]).await;
    assert_eq!(sm.get("k").unwrap().value, b("t3"));
}

#[tokio::test]
async fn past_revisions_are_readable_until_compacted() {
    let mut sm = Sm::new();
    sm.txn(Txn::put("/p/a", "a1")).await; // 1
    sm.txn(Txn::put("/p/b", "b1")).await; // 2
    sm.txn(Txn::put("/p/a", "a2")).await; // 3
    sm.txn(Txn::delete("/p/b")).await; // 4
    sm.txn(Txn::put("/q/x", "x")).await; // 5
    let prefix = KeyRange::prefix(b("/p/"));
    let reader = sm.reader.clone();
    let at = |rev: u64| {
        let r = reader.range(&prefix, 0, Revision(rev), false).unwrap();
        r.kvs
            .iter()
            .map(|kv| {
                format!(
                    "{}={}",
                    String::from_utf8_lossy(&kv.key),
                    String::from_utf8_lossy(&kv.value)
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(at(1), vec!["/p/a=a1"]);
    assert_eq!(at(2), vec!["/p/a=a1", "/p/b=b1"]);
    assert_eq!(at(3), vec!["/p/a=a2", "/p/b=b1"]);
    assert_eq!(at(4), vec!["/p/a=a2"]);
    assert_eq!(at(0), vec!["/p/a=a2"]);
    let limited = sm.reader.range(&prefix, 1, Revision(2), false).unwrap();
    assert_eq!(
        (limited.kvs.len(), limited.more, limited.count),
        (1, true, 2)
    );
    assert!(matches!(
        sm.reader.range(&prefix, 0, Revision(9), false),
        Err(StoreError::FutureRevision { .. })
    ));
    // History replays whole revisions in order.
    let hist = sm
        .reader
        .history(&prefix, Revision(2), Revision(5))
        .unwrap();
    let kinds: Vec<(u64, EventKind)> = hist
        .iter()
        .flat_map(|r| r.events.iter().map(move |e| (r.revision.0, e.kind)))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (2, EventKind::Put),
            (3, EventKind::Put),
            (4, EventKind::Delete)
        ]
    );
    assert_eq!(hist[2].events[0].prev_kv.as_ref().unwrap().value, b("b1"));

    sm.apply(
        1,
        vec![Command::Compact {
            revision: Revision(3),
        }],
    )
    .await;
    assert_eq!(sm.reader.compacted_revision(), Revision(3));
    assert_eq!(
        at(3),
        vec!["/p/a=a2", "/p/b=b1"],
        "the compacted revision itself is still readable"
    );
    assert!(matches!(
        sm.reader.range(&prefix, 0, Revision(2), false),
        Err(StoreError::Compacted { .. })
    ));
    assert!(matches!(
        sm.reader.history(&prefix, Revision(3), Revision(5)),
        Err(StoreError::Compacted { .. })
    ));
    assert_eq!(
        sm.reader
            .history(&prefix, Revision(4), Revision(5))
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        sm.reader.watch(prefix.clone(), Revision(2)),
        Err(StoreError::Compacted { .. })
    ));
}

#[tokio::test]
async fn watch_replays_history_then_continues_live_without_gaps() {
    let mut sm = Sm::new();
    for i in 0..300 {
        sm.txn(Txn::put(format!("/w/{}", i % 10), format!("v{i}")))
            .await;
    }
    let mut w = sm
        .reader
        .watch(KeyRange::prefix(b("/w/")), Revision(5))
        .unwrap();
    for i in 300..310 {
        sm.txn(Txn::put(format!("/w/{}", i % 10), format!("v{i}")))
            .await;
    }
    let mut seen = Vec::new();
    while seen.len() < 306 {
        for rev in w.next_batch().await.unwrap().unwrap() {
            seen.push(rev.revision.0);
        }
    }
    assert_eq!(seen, (5..=310).collect::<Vec<_>>());
}

#[tokio::test]
async fn slow_watcher_is_cut_off_without_blocking_apply() {
    let mut sm = Sm::new();
    let mut w = sm
        .reader
        .watch(KeyRange::prefix(b("/s/")), Revision::ZERO)
        .unwrap();
    let n = crate::watch::WATCH_BUFFER_REVISIONS + 10;
    for i in 0..n {
        sm.txn(Txn::put(format!("/s/{i}"), "x")).await;
    }
    // Apply went on; the watcher finds its buffered revisions, then the cut.
    assert_eq!(sm.reader.revision(), Revision(n as u64));
    let mut delivered = 0;
    let err = loop {
        match w.next_batch().await {
            Some(Ok(revs)) => delivered += revs.len(),
            Some(Err(e)) => break e,
            None => panic!("watcher ended without an error"),
        }
    };
    assert!(matches!(err, StoreError::SlowWatcher { .. }), "{err}");
    assert_eq!(delivered, crate::watch::WATCH_BUFFER_REVISIONS);
}
