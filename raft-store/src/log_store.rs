//! The Raft log on RocksDB, with group commit.
//!
//! `append` writes the entries into the memtable+WAL (readable at once) and
//! hands its completion callback to the flusher thread. The flusher takes
//! every callback queued so far, syncs the WAL once (`flush_wal(true)`) and
//! only then completes them all: one fsync acknowledges many appends, and no
//! callback fires before its entries are on disk.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::io;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::mpsc;

use openraft::OptionalSend;
use openraft::RaftLogReader;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::LogState;
use openraft::storage::RaftLogStorage;
use rocksdb::DB;
use rocksdb::Direction;
use rocksdb::IteratorMode;
use rocksdb::WriteBatch;
use rocksdb::WriteOptions;

use crate::codec;
use crate::db;
use crate::db::CF_LOG;
use crate::db::CF_RAFT_META;
use crate::db::io_err;
use crate::raft_types::Entry;
use crate::raft_types::LogId;
use crate::raft_types::TypeConfig;
use crate::raft_types::Vote;

/// Most append callbacks waiting for the flusher; openraft keeps far fewer
/// appends in flight, so a full queue means the flusher is wedged.
const FLUSH_QUEUE_CAPACITY: usize = 65_536;

/// A WAL sync slower than this is logged (etcd warns at 1 s; on local
/// disks 100 ms already means trouble).
const SLOW_SYNC: std::time::Duration = std::time::Duration::from_millis(100);

const KEY_VOTE: &[u8] = b"vote";
const KEY_COMMITTED: &[u8] = b"committed";
const KEY_PURGED: &[u8] = b"purged";

/// Recent entries kept in memory so replication to followers does not read
/// and decode them back from RocksDB (each follower reads every entry).
const LOG_CACHE_ENTRIES: usize = 16_384;

/// The newest log entries, contiguous by index. Shared by the log store and
/// its readers (replication streams).
#[derive(Default)]
struct LogCache {
    entries: VecDeque<Entry>,
}

impl LogCache {
    fn first_index(&self) -> Option<u64> {
        self.entries.front().map(|e| e.index())
    }

    fn push(&mut self, entry: Entry) {
        let contiguous = self
            .entries
            .back()
            .is_none_or(|last| last.index() + 1 == entry.index());
        if !contiguous {
            self.entries.clear();
        }
        self.entries.push_back(entry);
        if self.entries.len() > LOG_CACHE_ENTRIES {
            self.entries.pop_front();
        }
    }

    /// Entries in `[start, end)` if the cache holds all of them.
    fn get(&self, start: u64, end: u64) -> Option<Vec<Entry>> {
        let first = self.first_index()?;
        let last = self.entries.back()?.index();
        if start < first || end > last + 1 || start > end {
            return None;
        }
        let from = usize::try_from(start - first).ok()?;
        let to = usize::try_from(end - first).ok()?;
        Some(self.entries.range(from..to).cloned().collect())
    }

    fn truncate_from(&mut self, index: u64) {
        while self.entries.back().is_some_and(|e| e.index() >= index) {
            self.entries.pop_back();
        }
    }

    fn purge_upto(&mut self, index: u64) {
        while self.entries.front().is_some_and(|e| e.index() <= index) {
            self.entries.pop_front();
        }
    }
}

#[derive(Clone)]
pub struct LogStore {
    db: Arc<DB>,
    flusher: mpsc::SyncSender<IOFlushed<TypeConfig>>,
    cache: Arc<Mutex<LogCache>>,
}

impl LogStore {
    pub fn new(db: Arc<DB>) -> LogStore {
        let (tx, rx) = mpsc::sync_channel::<IOFlushed<TypeConfig>>(FLUSH_QUEUE_CAPACITY);
        let flush_db = db.clone();
        std::thread::Builder::new()
            .name("raft-log-flush".into())
            .spawn(move || flusher(flush_db, rx))
            .expect("invariant: the flusher thread can be spawned");
        LogStore {
            db,
            flusher: tx,
            cache: Arc::default(),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, LogCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        match self
            .db
            .get_cf(db::cf(&self.db, CF_RAFT_META), key)
            .map_err(io_err)?
        {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    fn last_purged(&self) -> io::Result<Option<LogId>> {
        self.get_meta(KEY_PURGED)
    }
}

/// Syncs the WAL once per batch of queued callbacks, then completes them.
fn flusher(db: Arc<DB>, rx: mpsc::Receiver<IOFlushed<TypeConfig>>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let started = std::time::Instant::now();
        let result = db.flush_wal(true);
        let took = started.elapsed();
        if took > SLOW_SYNC {
            tracing::warn!(
                took_ms = took.as_millis() as u64,
                appends = batch.len(),
                "slow WAL sync"
            );
        }
        for callback in batch {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::other(format!("WAL sync failed: {e}"))),
            };
            callback.io_completed(r);
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let start = match range.start_bound() {
            Bound::Included(&n) => n,
            Bound::Excluded(&n) => n + 1,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&n) => Some(n + 1),
            Bound::Excluded(&n) => Some(n),
            Bound::Unbounded => None,
        };
        if let Some(end) = end
            && let Some(hit) = self.cache().get(start, end)
        {
            return Ok(hit);
        }
        let cf = db::cf(&self.db, CF_LOG);
        let mut out = Vec::new();
        let key = db::u64_key(start);
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&key, Direction::Forward))
        {
            let (k, v) = item.map_err(io_err)?;
            let index = db::read_u64_key(&k);
            if !range.contains(&index) {
                break;
            }
            out.push(codec::decode::<Entry>(&v)?);
        }
        Ok(out)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        self.get_meta(KEY_VOTE)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let last_purged_log_id = self.last_purged()?;
        let cf = db::cf(&self.db, CF_LOG);
        let last = match self.db.iterator_cf(cf, IteratorMode::End).next() {
            Some(item) => {
                let (_, v) = item.map_err(io_err)?;
                Some(codec::decode::<Entry>(&v)?.log_id())
            }
            None => None,
        };
        let last_log_id = last.or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db
            .put_cf_opt(
                db::cf(&self.db, CF_RAFT_META),
                KEY_VOTE,
                codec::encode(vote)?,
                &opts,
            )
            .map_err(io_err)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        // Not synced: losing it only makes a restarted member wait for the
        // leader before re-applying; the next WAL sync persists it anyway.
        self.db
            .put_cf(
                db::cf(&self.db, CF_RAFT_META),
                KEY_COMMITTED,
                codec::encode(&committed)?,
            )
            .map_err(io_err)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.get_meta::<Option<LogId>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let cf = db::cf(&self.db, CF_LOG);
        let mut batch = WriteBatch::default();
        let entries: Vec<Entry> = entries.into_iter().collect();
        for entry in &entries {
            batch.put_cf(cf, db::u64_key(entry.index()), codec::encode(entry)?);
        }
        self.db.write(batch).map_err(io_err)?;
        {
            let mut cache = self.cache();
            for entry in entries {
                cache.push(entry);
            }
        }
        self.flusher
            .send(callback)
            .map_err(|_| io::Error::other("log flusher thread has stopped"))?;
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map(|l| l.index() + 1).unwrap_or(0);
        self.cache().truncate_from(from);
        let cf = db::cf(&self.db, CF_LOG);
        // Not synced on its own: the appends that follow a truncation are
        // synced, and the WAL keeps this delete ordered before them.
        self.db
            .delete_range_cf(cf, db::u64_key(from), db::u64_key(u64::MAX))
            .map_err(io_err)?;
        // The last possible index is not covered by the exclusive range end.
        self.db.delete_cf(cf, db::u64_key(u64::MAX)).map_err(io_err)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        // Record the purge point first: a crash between the two writes leaves
        // a few extra entries below it, which are never read.
        // The state machine is written without WAL: make everything applied
        // so far durable before dropping the log entries that could replay it.
        db::flush_state_machine(&self.db).map_err(io_err)?;
        self.cache().purge_upto(log_id.index());
        self.db
            .put_cf(
                db::cf(&self.db, CF_RAFT_META),
                KEY_PURGED,
                codec::encode(&log_id)?,
            )
            .map_err(io_err)?;
        self.db
            .delete_range_cf(
                db::cf(&self.db, CF_LOG),
                db::u64_key(0),
                db::u64_key(log_id.index() + 1),
            )
            .map_err(io_err)
    }
}
