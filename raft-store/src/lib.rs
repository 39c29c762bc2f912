//! raftplane-store: the Raft-replicated MVCC key/value store every member
//! runs — openraft on RocksDB, the watch hub, snapshots, compaction, the
//! linearizable read barrier, write forwarding, and the member's gRPC
//! services.
//!
//! Keys and values are opaque bytes: this crate knows nothing about
//! Kubernetes. Every openraft type stays behind this crate's API
//! (`raft_types` names them all). Must not depend on axum, kube or
//! k8s-openapi types, or clap.

pub mod codec;
mod db;
pub mod error;
pub mod grpc;
mod log_store;
pub mod member;
mod network;
mod raft_types;
mod state_machine;
pub mod types;
pub mod watch;

pub use error::StoreError;
pub use member::MemberConfig;
pub use member::MemberStatus;
pub use member::RaftMember;
pub use state_machine::RangeResult;
pub use state_machine::Reader;
pub use types::*;
pub use watch::Watcher;

#[cfg(test)]
mod tests;
