//! The one RocksDB instance of a member and its column families.
//!
//! On-disk layout (all integers big-endian so byte order is numeric order):
//!
//! | column family | key | value |
//! | --- | --- | --- |
//! | `raft_log` | log index u64 | bincode `Entry` |
//! | `raft_meta` | `vote`, `committed`, `purged` | bincode `Vote` / `LogId` |
//! | `kv` | user key | bincode `StoredValue` (latest value of the key) |
//! | `events` | revision u64 ++ op seq u32 | bincode `Event` (history for watches and past reads) |
//! | `revtime` | revision u64 | proposer time ms u64 (history age for compaction) |
//! | `dedupe` | log index u64 ++ request id u128 | bincode `DedupeRecord` |
//! | `sm_meta` | `applied`, `membership`, `revision`, `compacted` | bincode |
//!
//! The Raft log (and vote) go through the RocksDB WAL, synced by the log
//! store's flusher. State machine batches skip the WAL: the Raft log is
//! their WAL. `atomic_flush` writes all column families' memtables to disk
//! together, so on-disk state machine data always matches its recorded
//! applied log id.

use std::path::Path;
use std::sync::Arc;

use rocksdb::ColumnFamily;
use rocksdb::ColumnFamilyDescriptor;
use rocksdb::DB;
use rocksdb::Options;

pub const CF_LOG: &str = "raft_log";
pub const CF_RAFT_META: &str = "raft_meta";
pub const CF_KV: &str = "kv";
pub const CF_EVENTS: &str = "events";
pub const CF_REVTIME: &str = "revtime";
pub const CF_DEDUPE: &str = "dedupe";
pub const CF_SM_META: &str = "sm_meta";

/// State machine column families: replaced wholesale by a snapshot install.
pub const SM_CFS: [&str; 5] = [CF_KV, CF_EVENTS, CF_REVTIME, CF_DEDUPE, CF_SM_META];

const ALL_CFS: [&str; 7] = [
    CF_LOG,
    CF_RAFT_META,
    CF_KV,
    CF_EVENTS,
    CF_REVTIME,
    CF_DEDUPE,
    CF_SM_META,
];

pub fn open(path: &Path) -> Result<Arc<DB>, rocksdb::Error> {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_max_background_jobs(2);
    // State machine writes skip the WAL (the Raft log is their WAL, as
    // etcd's raft WAL is for bbolt); atomic flush keeps the column families
    // of one apply batch together when memtables reach disk, so the
    // recorded applied log id always matches the data.
    opts.set_atomic_flush(true);
    opts.set_compression_type(rocksdb::DBCompressionType::None);
    let cfs = ALL_CFS.iter().map(|name| {
        let mut cf_opts = Options::default();
        cf_opts.set_compression_type(rocksdb::DBCompressionType::None);
        ColumnFamilyDescriptor::new(*name, cf_opts)
    });
    Ok(Arc::new(DB::open_cf_descriptors(&opts, path, cfs)?))
}

/// Flushes the state machine's memtables to disk (all column families
/// atomically) and waits. After it, the applied state survives a crash
/// without the Raft log entries behind it.
pub fn flush_state_machine(db: &DB) -> Result<(), rocksdb::Error> {
    let cfs: Vec<&ColumnFamily> = SM_CFS.iter().map(|name| cf(db, name)).collect();
    let mut opts = rocksdb::FlushOptions::default();
    opts.set_wait(true);
    db.flush_cfs_opt(&cfs, &opts)
}

pub fn cf<'a>(db: &'a DB, name: &str) -> &'a ColumnFamily {
    db.cf_handle(name)
        .expect("invariant: every column family is created at open")
}

pub fn u64_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn read_u64_key(k: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&k[..8]);
    u64::from_be_bytes(b)
}

pub fn io_err(e: rocksdb::Error) -> std::io::Error {
    std::io::Error::other(e)
}
