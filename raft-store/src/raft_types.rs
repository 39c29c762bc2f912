//! The openraft type configuration. Every openraft type the rest of the
//! crate uses is named here, so an openraft upgrade starts in this file.

use crate::types::ApplyResult;
use crate::types::Command;
use crate::types::Member;

openraft::declare_raft_types!(
    /// raftplane's Raft types: u64 node ids and terms, `Command` entries.
    pub TypeConfig:
        D = Command,
        R = ApplyResult,
        NodeId = u64,
        Node = Member,
);

pub type Raft = openraft::Raft<TypeConfig, crate::state_machine::StateMachine>;
pub type Entry = openraft::alias::EntryOf<TypeConfig>;
pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, std::fs::File>;
pub type AppendEntriesRequest = openraft::raft::AppendEntriesRequest<TypeConfig>;
