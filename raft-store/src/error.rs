//! The store's error type. Variants carry the ids a caller needs to act
//! (leader to retry on, revision that was compacted); the gRPC and HTTP
//! boundaries convert them once.

use crate::types::Revision;
use crate::types::Term;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The requested revision was compacted away.
    #[error("required revision {requested} has been compacted (compacted revision {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current revision.
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    /// A write carried a fence term that is no longer the leader's term.
    #[error("write fenced: proposed for term {fence_term}, entry has term {entry_term}")]
    Fenced { fence_term: u64, entry_term: u64 },
    /// No leader is known, or it could not be reached, within the deadline.
    #[error("no leader available: {0}")]
    NoLeader(String),
    /// This member is not the leader (for operations that do not forward).
    #[error("not the leader; leader is {leader:?}")]
    NotLeader { leader: Option<u64> },
    /// The operation did not complete within its deadline.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The request is malformed (oversized key or value, bad range).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A watcher fell behind by more than its buffer and was cut off.
    #[error("watcher fell behind by more than {buffered} revisions and was cut off")]
    SlowWatcher { buffered: usize },
    /// Membership change rejected.
    #[error("membership: {0}")]
    Membership(String),
    /// Raft stopped (fatal) or the member is shutting down.
    #[error("raft stopped: {0}")]
    Stopped(String),
    /// The message is in Display, not in `source()`, so error chains print it once.
    #[error("storage: {0}")]
    Io(std::io::Error),
    #[error("rpc to {target}: {message}")]
    Rpc { target: String, message: String },
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> StoreError {
        StoreError::Io(e)
    }
}

impl StoreError {
    pub fn fenced(fence_term: Term, entry_term: Term) -> StoreError {
        StoreError::Fenced {
            fence_term: fence_term.0,
            entry_term: entry_term.0,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
