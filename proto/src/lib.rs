//! raftplane-proto: the gRPC wire types, generated at build time from
//! `proto/*.proto` with protox + tonic-prost-build (no system protoc).
//!
//! Must not depend on any other raftplane crate.

/// Member-to-member Raft RPCs, the Kv store API and the Cluster API.
pub mod v1 {
    tonic::include_proto!("raftplane.v1");
}

/// The subset of etcd's v3 API used as a baseline client (bench) and,
/// later, served by members. Field numbers match etcd's rpc.proto.
pub mod etcd {
    tonic::include_proto!("etcdserverpb");
}

/// Largest gRPC message a member accepts or sends: a Raft append batch or a
/// transaction must fit. Snapshots are chunked well below it.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
