//! The MVCC state machine on RocksDB.
//!
//! `apply` is deterministic: it reads only the state it is given and the
//! entries, never a clock or randomness. All effects of one `apply` call —
//! data, history, dedupe records, applied log id, membership and revision —
//! go into one `WriteBatch`, so a restart re-applies exactly the entries
//! above the recorded applied log id. The batch is not synced by itself:
//! the entries it applies are already synced in the Raft log (same WAL).
//!
//! Revision semantics (etcd's): a transaction that changes at least one key
//! gets the next revision; one that changes nothing (failed compare with an
//! empty failure branch, delete of an absent key) does not. History events
//! with revision <= `compacted` are gone; the state at any revision >=
//! `compacted` can be reconstructed from the current state and history.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::collections::VecDeque;
use std::fs;
use std::io;
use std::io::BufReader;
use std::io::BufWriter;
use std::io::Read;
use std::io::Seek;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::Stream;
use futures::TryStreamExt;
use openraft::EntryPayload;
use openraft::OptionalSend;
use openraft::RaftSnapshotBuilder;
use openraft::entry::RaftEntry;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;
use rocksdb::DB;
use rocksdb::Direction;
use rocksdb::IteratorMode;
use rocksdb::WriteBatch;
use rocksdb::WriteOptions;
use serde::Deserialize;
use serde::Serialize;

use crate::codec;
use crate::db;
use crate::db::CF_DEDUPE;
use crate::db::CF_EVENTS;
use crate::db::CF_KV;
use crate::db::CF_REVTIME;
use crate::db::CF_SM_META;
use crate::db::SM_CFS;
use crate::db::io_err;
use crate::error::Result;
use crate::error::StoreError;
use crate::raft_types::LogId;
use crate::raft_types::Snapshot;
use crate::raft_types::SnapshotMeta;
use crate::raft_types::StoredMembership;
use crate::raft_types::TypeConfig;
use crate::types::ApplyResult;
use crate::types::Command;
use crate::types::Compare;
use crate::types::Event;
use crate::types::EventKind;
use crate::types::KeyRange;
use crate::types::KeyValue;
use crate::types::LogIndex;
use crate::types::Op;
use crate::types::OpResult;
use crate::types::RequestId;
use crate::types::Revision;
use crate::types::RevisionEvents;
use crate::types::Term;
use crate::types::Txn;
use crate::types::TxnResult;
use crate::watch::WatchHub;
use crate::watch::Watcher;
use crate::watch::filter_history;

/// A request id is remembered for this many log entries after it was
/// applied; a retry later than that would be applied again. At 10,000
/// writes/s that is 20 s, far longer than a forwarding retry loop runs.
pub const DEDUPE_WINDOW_ENTRIES: u64 = 200_000;
/// Dedupe records evicted per applied transaction at most; > 1 so the table
/// shrinks back to the window after a burst.
const DEDUPE_EVICT_PER_ENTRY: usize = 2;

const META_APPLIED: &[u8] = b"applied";
const META_MEMBERSHIP: &[u8] = b"membership";
const META_REVISION: &[u8] = b"revision";
const META_COMPACTED: &[u8] = b"compacted";

const SNAPSHOT_MAGIC: &[u8; 8] = b"RPSNAP01";
const SNAPSHOT_FILE_PREFIX: &str = "snap-";
const SNAPSHOT_FILE_SUFFIX: &str = ".bin";

/// A key's latest value as stored in the `kv` column family.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredValue {
    create_revision: Revision,
    mod_revision: Revision,
    version: u64,
    value: Bytes,
}

impl StoredValue {
    fn to_kv(&self, key: Bytes) -> KeyValue {
        KeyValue {
            key,
            value: self.value.clone(),
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct DedupeRecord {
    succeeded: bool,
    revision: Revision,
}

/// Request ids applied within the window, in log order. Mirrors the
/// `dedupe` column family; rebuilt from it at open and snapshot install.
#[derive(Default)]
struct Dedupe {
    by_id: HashMap<RequestId, DedupeRecord>,
    order: VecDeque<(LogIndex, RequestId)>,
}

fn dedupe_key(index: LogIndex, id: RequestId) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&index.0.to_be_bytes());
    k[8..].copy_from_slice(&id.0.to_be_bytes());
    k
}

fn event_key(rev: Revision, seq: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&rev.0.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

struct SmState {
    applied: Option<LogId>,
    membership: StoredMembership,
    dedupe: Dedupe,
}

pub(crate) struct Shared {
    db: Arc<DB>,
    snapshot_dir: PathBuf,
    pub(crate) hub: WatchHub,
    /// Last applied log index; readers wait on it (read barrier).
    applied_index: tokio::sync::watch::Sender<u64>,
    revision: AtomicU64,
    /// Raised before the history it covers is deleted (see `Reader::history`).
    compacted: AtomicU64,
    state: Mutex<SmState>,
}

/// The state machine handed to openraft. Cheap to clone.
#[derive(Clone)]
pub struct StateMachine {
    shared: Arc<Shared>,
}

/// Read access to the applied state; cheap to clone, usable from any task.
#[derive(Clone)]
pub struct Reader {
    shared: Arc<Shared>,
}

/// Result of a range read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeResult {
    pub kvs: Vec<KeyValue>,
    /// More keys match than `limit` allowed.
    pub more: bool,
    /// Number of keys in the range (ignoring `limit`).
    pub count: u64,
    /// The revision the read observed.
    pub revision: Revision,
}

fn get_meta<T: serde::de::DeserializeOwned>(db: &DB, key: &[u8]) -> io::Result<Option<T>> {
    match db.get_cf(db::cf(db, CF_SM_META), key).map_err(io_err)? {
        Some(b) => Ok(Some(codec::decode(&b)?)),
        None => Ok(None),
    }
}

fn load_dedupe(db: &DB) -> io::Result<Dedupe> {
    let mut d = Dedupe::default();
    for item in db.iterator_cf(db::cf(db, CF_DEDUPE), IteratorMode::Start) {
        let (k, v) = item.map_err(io_err)?;
        if k.len() != 24 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "bad dedupe key"));
        }
        let index = LogIndex(db::read_u64_key(&k));
        let mut idb = [0u8; 16];
        idb.copy_from_slice(&k[8..]);
        let id = RequestId(u128::from_be_bytes(idb));
        d.by_id.insert(id, codec::decode(&v)?);
        d.order.push_back((index, id));
    }
    Ok(d)
}

impl StateMachine {
    pub fn open(db: Arc<DB>, snapshot_dir: &Path) -> io::Result<StateMachine> {
        fs::create_dir_all(snapshot_dir)?;
        let applied: Option<LogId> = get_meta::<Option<LogId>>(&db, META_APPLIED)?.flatten();
        let membership: StoredMembership = get_meta(&db, META_MEMBERSHIP)?.unwrap_or_default();
        let revision: Revision = get_meta(&db, META_REVISION)?.unwrap_or_default();
        let compacted: Revision = get_meta(&db, META_COMPACTED)?.unwrap_or_default();
        let dedupe = load_dedupe(&db)?;
        let (applied_index, _) =
            tokio::sync::watch::channel(applied.as_ref().map(|l| l.index()).unwrap_or(0));
        Ok(StateMachine {
            shared: Arc::new(Shared {
                db,
                snapshot_dir: snapshot_dir.to_path_buf(),
                hub: WatchHub::new(revision),
                applied_index,
                revision: AtomicU64::new(revision.0),
                compacted: AtomicU64::new(compacted.0),
                state: Mutex::new(SmState {
                    applied,
                    membership,
                    dedupe,
                }),
            }),
        })
    }

    pub fn reader(&self) -> Reader {
        Reader {
            shared: self.shared.clone(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SmState> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Effects of one `apply` call, accumulated before the single batch write.
struct ApplyCtx<'a> {
    db: &'a DB,
    batch: WriteBatch,
    /// Keys written earlier in this call: later entries must see them.
    overlay: HashMap<Bytes, Option<StoredValue>>,
    revision: Revision,
    compacted: Revision,
    compacted_changed: bool,
    published: Vec<RevisionEvents>,
}

impl ApplyCtx<'_> {
    fn current(&self, key: &Bytes) -> io::Result<Option<StoredValue>> {
        if let Some(v) = self.overlay.get(key) {
            return Ok(v.clone());
        }
        match self
            .db
            .get_cf(db::cf(self.db, CF_KV), key)
            .map_err(io_err)?
        {
            Some(b) => Ok(Some(codec::decode(&b)?)),
            None => Ok(None),
        }
    }

    fn apply_txn(&mut self, txn: &Txn, time_ms: u64) -> io::Result<TxnResult> {
        let mut compared = Vec::with_capacity(txn.compares.len());
        let mut ok = true;
        for c in &txn.compares {
            let cur = self.current(c.key())?;
            let holds = match (c, &cur) {
                (Compare::Absent(_), v) => v.is_none(),
                (Compare::Present(_), v) => v.is_some(),
                (Compare::ModRevisionEquals(_, rev), Some(v)) => v.mod_revision == *rev,
                (Compare::ModRevisionEquals(_, _), None) => false,
            };
            ok &= holds;
            if let Some(v) = cur {
                compared.push(v.to_kv(c.key().clone()));
            }
        }
        let ops = if ok { &txn.success } else { &txn.failure };
        let rev = self.revision.next();
        let mut events = Vec::new();
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                Op::Put { key, value } => {
                    let prev = self.current(key)?;
                    let new = StoredValue {
                        create_revision: prev.as_ref().map(|p| p.create_revision).unwrap_or(rev),
                        mod_revision: rev,
                        version: prev.as_ref().map(|p| p.version + 1).unwrap_or(1),
                        value: value.clone(),
                    };
                    let prev_kv = prev.map(|p| p.to_kv(key.clone()));
                    events.push(Event {
                        kind: EventKind::Put,
                        kv: new.to_kv(key.clone()),
                        prev_kv: prev_kv.clone(),
                    });
                    self.batch
                        .put_cf(db::cf(self.db, CF_KV), key, codec::encode(&new)?);
                    self.overlay.insert(key.clone(), Some(new));
                    results.push(OpResult { prev: prev_kv });
                }
                Op::Delete { key } => {
                    let prev = self.current(key)?;
                    let prev_kv = prev.map(|p| p.to_kv(key.clone()));
                    if let Some(p) = &prev_kv {
                        events.push(Event {
                            kind: EventKind::Delete,
                            kv: KeyValue {
                                key: key.clone(),
                                value: Bytes::new(),
                                create_revision: Revision::ZERO,
                                mod_revision: rev,
                                version: 0,
                            },
                            prev_kv: Some(p.clone()),
                        });
                        self.batch.delete_cf(db::cf(self.db, CF_KV), key);
                        self.overlay.insert(key.clone(), None);
                    }
                    results.push(OpResult { prev: prev_kv });
                }
            }
        }
        if !events.is_empty() {
            self.revision = rev;
            for (seq, ev) in events.iter().enumerate() {
                let seq =
                    u32::try_from(seq).expect("invariant: ops per txn are bounded by MAX_TXN_OPS");
                self.batch.put_cf(
                    db::cf(self.db, CF_EVENTS),
                    event_key(rev, seq),
                    codec::encode(ev)?,
                );
            }
            self.batch.put_cf(
                db::cf(self.db, CF_REVTIME),
                db::u64_key(rev.0),
                time_ms.to_be_bytes(),
            );
            self.published.push(RevisionEvents {
                revision: rev,
                events,
            });
        }
        Ok(TxnResult {
            succeeded: ok,
            revision: self.revision,
            results,
            compared,
            duplicate: false,
        })
    }

    fn compact(&mut self, revision: Revision) -> ApplyResult {
        let target = revision.min(self.revision);
        if target > self.compacted {
            self.compacted = target;
            self.compacted_changed = true;
            self.batch.delete_range_cf(
                db::cf(self.db, CF_EVENTS),
                event_key(Revision::ZERO, 0),
                event_key(target.next(), 0),
            );
            self.batch.delete_range_cf(
                db::cf(self.db, CF_REVTIME),
                db::u64_key(0),
                db::u64_key(target.0 + 1),
            );
        }
        ApplyResult::Compacted {
            revision: self.compacted,
        }
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = fs::File;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> std::result::Result<(Option<LogId>, StoredMembership), io::Error> {
        let st = self.state();
        Ok((st.applied, st.membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> std::result::Result<(), io::Error>
    where
        S: Stream<Item = std::result::Result<EntryResponder<TypeConfig>, io::Error>>
            + Unpin
            + OptionalSend,
    {
        let shared = self.shared.clone();
        let db = &*shared.db;
        let mut ctx = ApplyCtx {
            db,
            batch: WriteBatch::default(),
            overlay: HashMap::new(),
            revision: Revision(shared.revision.load(Ordering::Acquire)),
            compacted: Revision(shared.compacted.load(Ordering::Acquire)),
            compacted_changed: false,
            published: Vec::new(),
        };
        let mut responses = Vec::new();
        let mut last_applied = None;
        let mut last_membership = None;
        let mut dedupe_inserts: Vec<(LogIndex, RequestId, DedupeRecord)> = Vec::new();
        let mut dedupe_evicts: Vec<(LogIndex, RequestId)> = Vec::new();
        while let Some((entry, responder)) = entries.try_next().await? {
            let log_id = entry.log_id();
            let index = LogIndex(log_id.index());
            let entry_term = Term(log_id.leader_id.term);
            let result = match &entry.payload {
                EntryPayload::Blank => ApplyResult::None,
                EntryPayload::Membership(m) => {
                    last_membership = Some(StoredMembership::new(Some(log_id), m.clone()));
                    ApplyResult::None
                }
                EntryPayload::Normal(Command::Compact { revision }) => ctx.compact(*revision),
                EntryPayload::Normal(Command::Txn {
                    request_id,
                    fence_term,
                    time_ms,
                    txn,
                }) => {
                    let mut st = self.state();
                    // Expire old request ids (deterministic: by log index).
                    for _ in 0..DEDUPE_EVICT_PER_ENTRY {
                        match st.dedupe.order.front() {
                            Some(&(i, id)) if i.0 + DEDUPE_WINDOW_ENTRIES < index.0 => {
                                st.dedupe.order.pop_front();
                                st.dedupe.by_id.remove(&id);
                                dedupe_evicts.push((i, id));
                            }
                            _ => break,
                        }
                    }
                    if let Some(f) = fence_term.filter(|f| *f != entry_term) {
                        ApplyResult::Fenced {
                            fence_term: f,
                            entry_term,
                        }
                    } else if let Some(rec) = st.dedupe.by_id.get(request_id) {
                        ApplyResult::Txn(TxnResult {
                            succeeded: rec.succeeded,
                            revision: rec.revision,
                            results: Vec::new(),
                            compared: Vec::new(),
                            duplicate: true,
                        })
                    } else {
                        let r = ctx.apply_txn(txn, *time_ms)?;
                        let rec = DedupeRecord {
                            succeeded: r.succeeded,
                            revision: r.revision,
                        };
                        st.dedupe.by_id.insert(*request_id, rec);
                        st.dedupe.order.push_back((index, *request_id));
                        dedupe_inserts.push((index, *request_id, rec));
                        ApplyResult::Txn(r)
                    }
                }
            };
            last_applied = Some(log_id);
            if let Some(r) = responder {
                responses.push((r, result));
            }
        }
        let Some(applied) = last_applied else {
            return Ok(());
        };
        let cf_dedupe = db::cf(db, CF_DEDUPE);
        for (i, id) in dedupe_evicts {
            ctx.batch.delete_cf(cf_dedupe, dedupe_key(i, id));
        }
        for (i, id, rec) in dedupe_inserts {
            ctx.batch
                .put_cf(cf_dedupe, dedupe_key(i, id), codec::encode(&rec)?);
        }
        let cf_meta = db::cf(db, CF_SM_META);
        ctx.batch
            .put_cf(cf_meta, META_APPLIED, codec::encode(&Some(applied))?);
        ctx.batch
            .put_cf(cf_meta, META_REVISION, codec::encode(&ctx.revision)?);
        if let Some(m) = &last_membership {
            ctx.batch
                .put_cf(cf_meta, META_MEMBERSHIP, codec::encode(m)?);
        }
        if ctx.compacted_changed {
            ctx.batch
                .put_cf(cf_meta, META_COMPACTED, codec::encode(&ctx.compacted)?);
            // Announce before deleting: a history reader that finishes after
            // this store sees the new compacted revision and reports it.
            shared.compacted.store(ctx.compacted.0, Ordering::Release);
        }
        let old_rev = shared.revision.load(Ordering::Acquire);
        assert!(
            ctx.revision.0 >= old_rev,
            "invariant: revision never decreases"
        );
        // No WAL: a crash loses at most what the Raft log re-applies (the
        // log is only purged after `db::flush_state_machine`).
        let mut write_opts = WriteOptions::default();
        write_opts.disable_wal(true);
        db.write_opt(std::mem::take(&mut ctx.batch), &write_opts)
            .map_err(io_err)?;
        {
            let mut st = self.state();
            assert!(
                st.applied
                    .as_ref()
                    .is_none_or(|a| a.index() < applied.index()),
                "invariant: applied log index strictly increases"
            );
            st.applied = Some(applied);
            if let Some(m) = last_membership {
                st.membership = m;
            }
        }
        shared.revision.store(ctx.revision.0, Ordering::Release);
        shared.hub.publish(std::mem::take(&mut ctx.published));
        shared.applied_index.send_replace(applied.index());
        for (r, result) in responses {
            r.send(result);
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            shared: self.shared.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: fs::File,
    ) -> std::result::Result<(), io::Error> {
        let shared = self.shared.clone();
        let owned_meta = meta.clone();
        let (revision, compacted, dedupe) = tokio::task::spawn_blocking(move || {
            install_snapshot_blocking(&shared, &owned_meta, snapshot)
        })
        .await
        .map_err(io::Error::other)??;
        {
            let mut st = self.state();
            st.applied = meta.last_log_id;
            st.membership = meta.last_membership.clone();
            st.dedupe = dedupe;
        }
        let shared = &self.shared;
        shared.compacted.store(compacted.0, Ordering::Release);
        shared.revision.store(revision.0, Ordering::Release);
        shared.hub.reset(revision);
        let applied = self
            .state()
            .applied
            .as_ref()
            .map(|l| l.index())
            .unwrap_or(0);
        shared.applied_index.send_replace(applied);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> std::result::Result<Option<Snapshot>, io::Error> {
        let dir = self.shared.snapshot_dir.clone();
        tokio::task::spawn_blocking(move || current_snapshot(&dir))
            .await
            .map_err(io::Error::other)?
    }
}

/// Builds snapshots from a consistent RocksDB snapshot, off the apply path.
pub struct SnapshotBuilder {
    shared: Arc<Shared>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = fs::File;

    async fn build_snapshot(&mut self) -> std::result::Result<Snapshot, io::Error> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || build_snapshot_blocking(&shared))
            .await
            .map_err(io::Error::other)?
    }
}

// ------------------------------------------------------------- snapshot file
//
// Format: MAGIC (8) | meta_len u32 | bincode SnapshotMeta | records... |
// end tag 0xFF | record count u64 | crc32 u32 (over everything before it).
// A record is: cf tag u8 (index into SM_CFS) | key_len u32 | key |
// value_len u32 | value. Integers big-endian.

struct CrcWriter<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct CrcReader<R: Read> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

fn read_bytes(r: &mut impl Read, len: usize, limit: usize) -> io::Result<Vec<u8>> {
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("snapshot field of {len} bytes exceeds {limit}"),
        ));
    }
    let mut v = vec![0u8; len];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// Limit on any single key or value inside a snapshot file.
const SNAPSHOT_FIELD_LIMIT: usize = 64 * 1024 * 1024;

fn snapshot_file_name(meta: &SnapshotMeta) -> String {
    let (index, term, node) = match &meta.last_log_id {
        Some(l) => (l.index(), l.leader_id.term, l.leader_id.node_id),
        None => (0, 0, 0),
    };
    format!("{SNAPSHOT_FILE_PREFIX}{index:020}-{term}-{node}{SNAPSHOT_FILE_SUFFIX}")
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Writes `write_body` to `dir/name` atomically (temp file, fsync, rename,
/// fsync dir) and removes older snapshot files.
fn publish_snapshot_file(
    dir: &Path,
    name: &str,
    write_body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let tmp = dir.join(format!("tmp-{:032x}", rand::random::<u128>()));
    {
        let f = fs::File::create(&tmp)?;
        let mut w = BufWriter::new(f);
        write_body(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
    }
    let path = dir.join(name);
    fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    for entry in fs::read_dir(dir)? {
        let p = entry?.path();
        let Some(n) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if n != name && n.starts_with(SNAPSHOT_FILE_PREFIX) {
            // Open handles (a snapshot being sent) keep their data.
            let _ = fs::remove_file(&p);
        }
    }
    Ok(path)
}

fn build_snapshot_blocking(shared: &Shared) -> io::Result<Snapshot> {
    let db = &*shared.db;
    let snap = db.snapshot();
    let read_meta = |key: &[u8]| -> io::Result<Option<Vec<u8>>> {
        snap.get_cf(db::cf(db, CF_SM_META), key).map_err(io_err)
    };
    let applied: Option<LogId> = match read_meta(META_APPLIED)? {
        Some(b) => codec::decode::<Option<LogId>>(&b)?,
        None => None,
    };
    let membership: StoredMembership = match read_meta(META_MEMBERSHIP)? {
        Some(b) => codec::decode(&b)?,
        None => StoredMembership::default(),
    };
    let meta = SnapshotMeta {
        last_log_id: applied,
        last_membership: membership,
    };
    let meta_bytes = codec::encode(&meta)?;
    let name = snapshot_file_name(&meta);
    let path = publish_snapshot_file(&shared.snapshot_dir, &name, |w| {
        let mut w = CrcWriter {
            inner: w,
            crc: crc32fast::Hasher::new(),
        };
        w.write_all(SNAPSHOT_MAGIC)?;
        w.write_all(&(meta_bytes.len() as u32).to_be_bytes())?;
        w.write_all(&meta_bytes)?;
        let mut count: u64 = 0;
        for (tag, cf_name) in SM_CFS.iter().enumerate() {
            for item in snap.iterator_cf(db::cf(db, cf_name), IteratorMode::Start) {
                let (k, v) = item.map_err(io_err)?;
                w.write_all(&[tag as u8])?;
                w.write_all(&(k.len() as u32).to_be_bytes())?;
                w.write_all(&k)?;
                w.write_all(&(v.len() as u32).to_be_bytes())?;
                w.write_all(&v)?;
                count += 1;
            }
        }
        w.write_all(&[0xFF])?;
        w.write_all(&count.to_be_bytes())?;
        let crc = w.crc.clone().finalize();
        w.inner.write_all(&crc.to_be_bytes())?;
        Ok(())
    })?;
    tracing::info!(path = %path.display(), last_log_id = ?meta.last_log_id, "snapshot built");
    Ok(Snapshot {
        meta,
        snapshot: fs::File::open(&path)?,
    })
}

fn read_snapshot_header(r: &mut impl Read) -> io::Result<SnapshotMeta> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != SNAPSHOT_MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a raftplane snapshot file",
        ));
    }
    let len = read_u32(r)? as usize;
    codec::decode(&read_bytes(r, len, SNAPSHOT_FIELD_LIMIT)?)
}

fn current_snapshot(dir: &Path) -> io::Result<Option<Snapshot>> {
    let mut newest: Option<String> = None;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with(SNAPSHOT_FILE_PREFIX)
            && name.ends_with(SNAPSHOT_FILE_SUFFIX)
            && newest.as_ref().is_none_or(|n| name > *n)
        {
            newest = Some(name);
        }
    }
    let Some(name) = newest else { return Ok(None) };
    let path = dir.join(name);
    let mut f = fs::File::open(&path)?;
    let meta = read_snapshot_header(&mut BufReader::new(&mut f))?;
    f.rewind()?;
    Ok(Some(Snapshot { meta, snapshot: f }))
}

/// Replaces the whole state machine with the snapshot in one synced batch,
/// and keeps a copy of the file as this member's current snapshot.
fn install_snapshot_blocking(
    shared: &Shared,
    meta: &SnapshotMeta,
    mut file: fs::File,
) -> io::Result<(Revision, Revision, Dedupe)> {
    let db = &*shared.db;
    file.rewind()?;
    let mut r = CrcReader {
        inner: BufReader::new(&mut file),
        crc: crc32fast::Hasher::new(),
    };
    let file_meta = read_snapshot_header(&mut r)?;
    if file_meta.last_log_id != meta.last_log_id {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "snapshot file does not match its metadata",
        ));
    }
    let mut batch = WriteBatch::default();
    // Delete everything in the state machine column families. Keys are
    // bounded (MAX_KEY_BYTES for `kv`, fixed and short for the others), so
    // a run of 0xFF one byte longer than the longest key is past them all.
    let past_all = vec![0xFFu8; crate::types::MAX_KEY_BYTES + 1];
    for cf_name in SM_CFS {
        batch.delete_range_cf(db::cf(db, cf_name), &[][..], &past_all[..]);
    }
    let mut count: u64 = 0;
    loop {
        let mut tag = [0u8; 1];
        r.read_exact(&mut tag)?;
        if tag[0] == 0xFF {
            break;
        }
        let cf_name = SM_CFS.get(tag[0] as usize).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "bad column family tag in snapshot",
            )
        })?;
        let klen = read_u32(&mut r)? as usize;
        let k = read_bytes(&mut r, klen, SNAPSHOT_FIELD_LIMIT)?;
        let vlen = read_u32(&mut r)? as usize;
        let v = read_bytes(&mut r, vlen, SNAPSHOT_FIELD_LIMIT)?;
        batch.put_cf(db::cf(db, cf_name), k, v);
        count += 1;
    }
    let mut cb = [0u8; 8];
    r.read_exact(&mut cb)?;
    if u64::from_be_bytes(cb) != count {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "snapshot record count mismatch",
        ));
    }
    let computed = r.crc.clone().finalize();
    let stored = read_u32(&mut r.inner)?;
    if computed != stored {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "snapshot checksum mismatch",
        ));
    }
    let cf_meta = db::cf(db, CF_SM_META);
    batch.put_cf(cf_meta, META_APPLIED, codec::encode(&meta.last_log_id)?);
    batch.put_cf(
        cf_meta,
        META_MEMBERSHIP,
        codec::encode(&meta.last_membership)?,
    );
    let mut opts = WriteOptions::default();
    opts.set_sync(true);
    db.write_opt(batch, &opts).map_err(io_err)?;

    // Keep the file as our current snapshot (restart, and serving others).
    file.rewind()?;
    let name = snapshot_file_name(meta);
    publish_snapshot_file(&shared.snapshot_dir, &name, |w| {
        io::copy(&mut file, w)?;
        Ok(())
    })?;

    let revision: Revision = get_meta(db, META_REVISION)?.unwrap_or_default();
    let compacted: Revision = get_meta(db, META_COMPACTED)?.unwrap_or_default();
    let dedupe = load_dedupe(db)?;
    tracing::info!(last_log_id = ?meta.last_log_id, %revision, records = count, "snapshot installed");
    Ok((revision, compacted, dedupe))
}

// ------------------------------------------------------------------- reads

impl Reader {
    pub fn revision(&self) -> Revision {
        Revision(self.shared.revision.load(Ordering::Acquire))
    }

    pub fn compacted_revision(&self) -> Revision {
        Revision(self.shared.compacted.load(Ordering::Acquire))
    }

    pub fn applied_index(&self) -> u64 {
        *self.shared.applied_index.borrow()
    }

    /// Waits until the applied index reaches `index`.
    pub async fn wait_applied(&self, index: u64) -> Result<()> {
        let mut rx = self.shared.applied_index.subscribe();
        rx.wait_for(|applied| *applied >= index)
            .await
            .map(|_| ())
            .map_err(|_| StoreError::Stopped("state machine closed".into()))
    }

    /// Reads `range` at `revision` (`Revision::ZERO` = latest applied).
    /// Errors: `Compacted` below the compacted revision, `FutureRevision`
    /// above the current one. Blocking (RocksDB I/O).
    pub fn range(
        &self,
        range: &KeyRange,
        limit: usize,
        revision: Revision,
        count_only: bool,
    ) -> Result<RangeResult> {
        let db = &*self.shared.db;
        let snap = db.snapshot();
        let meta = |key: &[u8]| -> Result<Revision> {
            Ok(
                match snap.get_cf(db::cf(db, CF_SM_META), key).map_err(io_err)? {
                    Some(b) => codec::decode(&b)?,
                    None => Revision::ZERO,
                },
            )
        };
        let current = meta(META_REVISION)?;
        let compacted = meta(META_COMPACTED)?;
        let at = if revision == Revision::ZERO {
            current
        } else {
            revision
        };
        if at > current {
            return Err(StoreError::FutureRevision {
                requested: at,
                current,
            });
        }
        if at < compacted {
            return Err(StoreError::Compacted {
                requested: at,
                compacted,
            });
        }
        let cf_kv = db::cf(db, CF_KV);
        let mut iter = snap.iterator_cf(cf_kv, IteratorMode::From(&range.key, Direction::Forward));
        let in_range = |k: &[u8]| range.contains(k);
        if at == current {
            let mut kvs = Vec::new();
            let mut count = 0u64;
            for item in iter.by_ref() {
                let (k, v) = item.map_err(io_err)?;
                if !in_range(&k) {
                    break;
                }
                count += 1;
                if !count_only && (limit == 0 || kvs.len() < limit) {
                    let sv: StoredValue = codec::decode(&v)?;
                    kvs.push(sv.to_kv(Bytes::copy_from_slice(&k)));
                }
                if range.range_end.is_empty() {
                    break;
                }
            }
            let more = limit != 0 && count > limit as u64;
            return Ok(RangeResult {
                kvs,
                more,
                count,
                revision: at,
            });
        }
        // A past revision: current state, then undo newer events in reverse.
        let mut state: BTreeMap<Bytes, KeyValue> = BTreeMap::new();
        for item in iter {
            let (k, v) = item.map_err(io_err)?;
            if !in_range(&k) {
                break;
            }
            let sv: StoredValue = codec::decode(&v)?;
            let key = Bytes::copy_from_slice(&k);
            state.insert(key.clone(), sv.to_kv(key));
        }
        let mut newer = Vec::new();
        let start = event_key(at.next(), 0);
        for item in snap.iterator_cf(
            db::cf(db, CF_EVENTS),
            IteratorMode::From(&start, Direction::Forward),
        ) {
            let (_, v) = item.map_err(io_err)?;
            let ev: Event = codec::decode(&v)?;
            if in_range(&ev.kv.key) {
                newer.push(ev);
            }
        }
        for ev in newer.into_iter().rev() {
            match ev.prev_kv {
                Some(prev) => state.insert(ev.kv.key.clone(), prev),
                None => state.remove(&ev.kv.key),
            };
        }
        let count = state.len() as u64;
        let kvs: Vec<KeyValue> = if count_only {
            Vec::new()
        } else if limit == 0 {
            state.into_values().collect()
        } else {
            state.into_values().take(limit).collect()
        };
        let more = limit != 0 && count > limit as u64;
        Ok(RangeResult {
            kvs,
            more,
            count,
            revision: at,
        })
    }

    /// Events of revisions `from..=upto` in `range`, whole revisions, in
    /// order. Blocking. Fails with `Compacted` if any of them was compacted,
    /// including by a compaction racing with this read.
    pub fn history(
        &self,
        range: &KeyRange,
        from: Revision,
        upto: Revision,
    ) -> Result<Vec<RevisionEvents>> {
        let compacted = self.compacted_revision();
        if from <= compacted {
            return Err(StoreError::Compacted {
                requested: from,
                compacted,
            });
        }
        let db = &*self.shared.db;
        let start = event_key(from, 0);
        let mut events = Vec::new();
        for item in db.iterator_cf(
            db::cf(db, CF_EVENTS),
            IteratorMode::From(&start, Direction::Forward),
        ) {
            let (k, v) = item.map_err(io_err)?;
            let rev = Revision(db::read_u64_key(&k));
            if rev > upto {
                break;
            }
            events.push((rev, codec::decode::<Event>(&v)?));
        }
        let compacted = self.compacted_revision();
        if from <= compacted {
            return Err(StoreError::Compacted {
                requested: from,
                compacted,
            });
        }
        Ok(filter_history(range, events))
    }

    /// The proposer time of the newest revision at or below `before_ms`
    /// old, scanning at most `max_scan` revisions above `compacted`: the
    /// compaction task's age bound.
    pub fn newest_revision_older_than(
        &self,
        cutoff_ms: u64,
        max_scan: usize,
    ) -> Result<Option<Revision>> {
        let db = &*self.shared.db;
        let start = db::u64_key(self.compacted_revision().0 + 1);
        let mut found = None;
        for item in db
            .iterator_cf(
                db::cf(db, CF_REVTIME),
                IteratorMode::From(&start, Direction::Forward),
            )
            .take(max_scan)
        {
            let (k, v) = item.map_err(io_err)?;
            let t = db::read_u64_key(&v);
            if t >= cutoff_ms {
                break;
            }
            found = Some(Revision(db::read_u64_key(&k)));
        }
        Ok(found)
    }

    /// Subscribes to changes in `range` from revision `from` (0 = from now).
    pub fn watch(&self, range: KeyRange, from: Revision) -> Result<Watcher> {
        self.shared.hub.subscribe(range, from, self.clone())
    }
}
