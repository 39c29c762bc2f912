//! raftplane-controllers: the controller manager and scheduler, run only on
//! the Raft leader and writing through a term-fenced client.
//!
//! Empty for now; the dependency direction is fixed: this crate sits on
//! raftplane-api and must not depend on rocksdb.
