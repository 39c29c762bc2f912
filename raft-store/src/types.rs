//! The store's data model: revisions, key/values, transactions, events.
//!
//! Nothing here knows about Kubernetes: keys and values are opaque bytes.

use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::Serialize;

/// A cluster revision: incremented by one for every committed transaction
/// that changed at least one key. Identical on every member because every
/// member applies the same log in the same order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Revision(pub u64);

impl Revision {
    pub const ZERO: Revision = Revision(0);

    pub fn next(self) -> Revision {
        Revision(self.0 + 1)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Raft log index (not a revision: blank and membership entries, failed
/// compares and compactions consume log indexes but no revision).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogIndex(pub u64);

/// A Raft term.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Term(pub u64);

/// Largest key the store accepts; Kubernetes keys are far shorter.
pub const MAX_KEY_BYTES: usize = 4096;
/// Largest value the store accepts (etcd's default request limit).
pub const MAX_VALUE_BYTES: usize = 3 * 512 * 1024;
/// Most compares or ops in one transaction.
pub const MAX_TXN_OPS: usize = 1024;

/// A key's current value and its MVCC metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: Bytes,
    pub value: Bytes,
    /// Revision of the put that created the key (since its last delete).
    pub create_revision: Revision,
    /// Revision of the last put (or, in a delete event, of the delete).
    pub mod_revision: Revision,
    /// Number of puts since creation; 1 after the first.
    pub version: u64,
}

/// A condition of a transaction, checked against the state the transaction
/// sees (after every earlier committed transaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compare {
    Absent(Bytes),
    Present(Bytes),
    ModRevisionEquals(Bytes, Revision),
}

impl Compare {
    pub fn key(&self) -> &Bytes {
        match self {
            Compare::Absent(k) | Compare::Present(k) | Compare::ModRevisionEquals(k, _) => k,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Put { key: Bytes, value: Bytes },
    Delete { key: Bytes },
}

impl Op {
    pub fn key(&self) -> &Bytes {
        match self {
            Op::Put { key, .. } | Op::Delete { key } => key,
        }
    }
}

/// If every compare holds, apply `success`, else `failure`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Txn {
    pub compares: Vec<Compare>,
    pub success: Vec<Op>,
    pub failure: Vec<Op>,
}

impl Txn {
    /// An unconditional put.
    pub fn put(key: impl Into<Bytes>, value: impl Into<Bytes>) -> Txn {
        Txn {
            success: vec![Op::Put {
                key: key.into(),
                value: value.into(),
            }],
            ..Txn::default()
        }
    }

    /// An unconditional delete.
    pub fn delete(key: impl Into<Bytes>) -> Txn {
        Txn {
            success: vec![Op::Delete { key: key.into() }],
            ..Txn::default()
        }
    }

    /// Checks sizes before proposing, so that nothing oversized reaches the log.
    pub fn validate(&self) -> Result<(), String> {
        let ops = self.compares.len() + self.success.len() + self.failure.len();
        if ops > MAX_TXN_OPS {
            return Err(format!(
                "transaction has {ops} compares and ops, more than {MAX_TXN_OPS}"
            ));
        }
        let keys = self
            .compares
            .iter()
            .map(Compare::key)
            .chain(self.success.iter().chain(&self.failure).map(Op::key));
        for key in keys {
            if key.is_empty() {
                return Err("empty key".into());
            }
            if key.len() > MAX_KEY_BYTES {
                return Err(format!(
                    "key of {} bytes exceeds {MAX_KEY_BYTES}",
                    key.len()
                ));
            }
        }
        for op in self.success.iter().chain(&self.failure) {
            if let Op::Put { value, .. } = op
                && value.len() > MAX_VALUE_BYTES
            {
                return Err(format!(
                    "value of {} bytes exceeds {MAX_VALUE_BYTES}",
                    value.len()
                ));
            }
        }
        Ok(())
    }
}

/// Identifies one logical client write across retries (dedupe key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u128);

impl RequestId {
    pub fn random() -> RequestId {
        RequestId(rand::random::<u128>())
    }
}

/// One application entry of the Raft log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Txn {
        request_id: RequestId,
        /// If set, the entry is applied only if it was proposed in this Raft
        /// term (controllers of a deposed leader cannot write).
        fence_term: Option<Term>,
        /// Proposing leader's wall clock, ms since the epoch. Apply never reads
        /// a clock; history age and dedupe expiry use this value.
        time_ms: u64,
        txn: Txn,
    },
    /// Drop watch history at and below `revision`.
    Compact { revision: Revision },
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Txn {
                request_id, txn, ..
            } => write!(
                f,
                "txn(id={:032x}, compares={}, success={}, failure={})",
                request_id.0,
                txn.compares.len(),
                txn.success.len(),
                txn.failure.len()
            ),
            Command::Compact { revision } => write!(f, "compact({revision})"),
        }
    }
}

impl fmt::Display for ApplyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Per-op result of a successful branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    pub prev: Option<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnResult {
    pub succeeded: bool,
    /// Cluster revision after the transaction.
    pub revision: Revision,
    pub results: Vec<OpResult>,
    /// The compared keys' values as the compares saw them.
    pub compared: Vec<KeyValue>,
    /// True if this request id was already applied: the transaction was not
    /// applied again and `results`/`compared` are empty.
    pub duplicate: bool,
}

/// What applying one log entry produced; the response type of the Raft log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApplyResult {
    Txn(TxnResult),
    /// The entry carried a fence term that is not the entry's term.
    Fenced {
        fence_term: Term,
        entry_term: Term,
    },
    Compacted {
        revision: Revision,
    },
    /// Blank and membership entries.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    Put,
    Delete,
}

/// One change of one key at one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// For Delete: key, empty value, mod_revision = the delete's revision.
    pub kv: KeyValue,
    pub prev_kv: Option<KeyValue>,
}

/// All events of one revision, in op order. Never split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionEvents {
    pub revision: Revision,
    pub events: Vec<Event>,
}

/// A half-open key range `[key, range_end)`; an empty `range_end` means the
/// single key `key`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    pub key: Bytes,
    pub range_end: Bytes,
}

impl KeyRange {
    pub fn single(key: impl Into<Bytes>) -> KeyRange {
        KeyRange {
            key: key.into(),
            range_end: Bytes::new(),
        }
    }

    /// Every key starting with `prefix`.
    pub fn prefix(prefix: impl Into<Bytes>) -> KeyRange {
        let key: Bytes = prefix.into();
        let range_end = prefix_end(&key);
        KeyRange { key, range_end }
    }

    pub fn contains(&self, k: &[u8]) -> bool {
        if self.range_end.is_empty() {
            return k == self.key.as_ref();
        }
        k >= self.key.as_ref() && (self.range_end.as_ref() == [0] || k < self.range_end.as_ref())
    }
}

/// The smallest key greater than every key with this prefix (etcd's
/// convention); `[0]` means "no upper bound".
pub fn prefix_end(prefix: &[u8]) -> Bytes {
    let mut end = prefix.to_vec();
    while let Some(last) = end.last_mut() {
        if *last < 0xff {
            *last += 1;
            return Bytes::from(end);
        }
        end.pop();
    }
    Bytes::from_static(&[0])
}

/// Member address book entry: the Raft node type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// gRPC address (Raft, Kv, Cluster services).
    pub peer_addr: String,
    /// Kubernetes API address; empty if not known yet.
    pub api_addr: String,
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.peer_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_byte_and_drops_ff() {
        assert_eq!(prefix_end(b"/a/"), Bytes::from_static(b"/a0"));
        assert_eq!(prefix_end(b"a\xff"), Bytes::from_static(b"b"));
        assert_eq!(prefix_end(b"\xff\xff"), Bytes::from_static(&[0]));
    }

    #[test]
    fn key_range_contains() {
        let r = KeyRange::prefix(&b"/registry/pods/"[..]);
        assert!(r.contains(b"/registry/pods/default/a"));
        assert!(!r.contains(b"/registry/podsx"));
        assert!(!r.contains(b"/registry/nodes/a"));
        let s = KeyRange::single(&b"k"[..]);
        assert!(s.contains(b"k"));
        assert!(!s.contains(b"k2"));
    }

    #[test]
    fn txn_validate_rejects_oversize() {
        assert!(
            Txn::put(vec![b'k'; MAX_KEY_BYTES + 1], "v")
                .validate()
                .is_err()
        );
        assert!(
            Txn::put("k", vec![0u8; MAX_VALUE_BYTES + 1])
                .validate()
                .is_err()
        );
        assert!(Txn::put("", "v").validate().is_err());
        assert!(Txn::put("k", "v").validate().is_ok());
    }
}
