//! The member's gRPC services: RaftPeer (Raft RPCs, forwarding), Kv and
//! Cluster. They live here, not in the API crate, because they are the
//! boundary where openraft messages are decoded; errors become tonic
//! statuses once, in `status_of`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;
use futures::StreamExt;
use raftplane_proto::MAX_MESSAGE_BYTES;
use raftplane_proto::v1 as pb;
use raftplane_proto::v1::cluster_client::ClusterClient;
use raftplane_proto::v1::cluster_server::Cluster;
use raftplane_proto::v1::cluster_server::ClusterServer;
use raftplane_proto::v1::kv_server::Kv;
use raftplane_proto::v1::kv_server::KvServer;
use raftplane_proto::v1::raft_peer_server::RaftPeer;
use raftplane_proto::v1::raft_peer_server::RaftPeerServer;
use tokio::io::AsyncWriteExt;
use tonic::Request;
use tonic::Response;
use tonic::Status;
use tonic::Streaming;

use crate::codec;
use crate::error::StoreError;
use crate::member::ForwardReply;
use crate::member::ForwardedWrite;
use crate::member::RaftMember;
use crate::raft_types::AppendEntriesRequest;
use crate::raft_types::Snapshot;
use crate::raft_types::SnapshotMeta;
use crate::raft_types::Vote;
use crate::types::Compare;
use crate::types::EventKind;
use crate::types::KeyRange;
use crate::types::KeyValue;
use crate::types::Member as Node;
use crate::types::Op;
use crate::types::RequestId;
use crate::types::Revision;
use crate::types::Txn;

/// Most bytes a snapshot transfer may carry (a bound, not an expectation).
const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Watch responses queued per gRPC stream before backpressure.
const WATCH_STREAM_BUFFER: usize = 64;

/// Converts a store error to a gRPC status, once, at the boundary.
pub fn status_of(e: StoreError) -> Status {
    match &e {
        StoreError::Compacted { compacted, .. } => {
            let mut s = Status::out_of_range(format!("compacted: {e}"));
            if let Ok(v) = compacted.0.to_string().parse() {
                s.metadata_mut().insert("compact-revision", v);
            }
            s
        }
        StoreError::FutureRevision { .. } | StoreError::Invalid(_) => {
            Status::invalid_argument(e.to_string())
        }
        StoreError::Fenced { .. } => Status::failed_precondition(e.to_string()),
        StoreError::NotLeader { .. }
        | StoreError::NoLeader(_)
        | StoreError::Rpc { .. }
        | StoreError::Stopped(_) => Status::unavailable(e.to_string()),
        StoreError::Timeout(_) => Status::deadline_exceeded(e.to_string()),
        StoreError::SlowWatcher { .. } => Status::resource_exhausted(e.to_string()),
        StoreError::Membership(_) => Status::failed_precondition(e.to_string()),
        StoreError::Io(_) => Status::internal(e.to_string()),
    }
}

fn decode<T: serde::de::DeserializeOwned>(p: pb::RaftPayload) -> Result<T, Status> {
    codec::decode(&p.data).map_err(|e| Status::invalid_argument(format!("bad payload: {e}")))
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Response<pb::RaftPayload>, Status> {
    codec::encode(v)
        .map(|data| Response::new(pb::RaftPayload { data }))
        .map_err(|e| Status::internal(e.to_string()))
}

/// All three services on one router, with message size bounds.
pub fn router(member: RaftMember) -> tonic::transport::server::Router {
    let peer = RaftPeerServer::new(PeerService {
        member: member.clone(),
    })
    .max_decoding_message_size(MAX_MESSAGE_BYTES)
    .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let kv = KvServer::new(KvService {
        member: member.clone(),
    })
    .max_decoding_message_size(MAX_MESSAGE_BYTES)
    .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let cluster = ClusterServer::new(ClusterService { member })
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(peer)
        .add_service(kv)
        .add_service(cluster)
}

/// Serves the gRPC services on `addr` until `shutdown` completes.
pub async fn serve(
    member: RaftMember,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    // Nagle off on accepted connections: with it, small Raft and client
    // replies wait for the peer's delayed ACK (~40 ms stalls). The server
    // builder's own tcp_nodelay applies only to listeners it binds itself.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    router(member)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

/// Binds the peer listener (separately, so bind errors are reported early).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

// ---------------------------------------------------------------- RaftPeer

struct PeerService {
    member: RaftMember,
}

fn fatal(e: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("raft: {e}"))
}

#[tonic::async_trait]
impl RaftPeer for PeerService {
    async fn vote(
        &self,
        req: Request<pb::RaftPayload>,
    ) -> Result<Response<pb::RaftPayload>, Status> {
        let r = self
            .member
            .raft()
            .vote(decode(req.into_inner())?)
            .await
            .map_err(fatal)?;
        encode(&r)
    }

    async fn pre_vote(
        &self,
        req: Request<pb::RaftPayload>,
    ) -> Result<Response<pb::RaftPayload>, Status> {
        let r = self
            .member
            .raft()
            .pre_vote(decode(req.into_inner())?)
            .await
            .map_err(fatal)?;
        encode(&r)
    }

    async fn append_entries(
        &self,
        req: Request<pb::RaftPayload>,
    ) -> Result<Response<pb::RaftPayload>, Status> {
        let r = self
            .member
            .raft()
            .append_entries(decode(req.into_inner())?)
            .await
            .map_err(fatal)?;
        encode(&r)
    }

    type StreamAppendStream = Pin<Box<dyn Stream<Item = Result<pb::RaftPayload, Status>> + Send>>;

    async fn stream_append(
        &self,
        req: Request<Streaming<pb::RaftPayload>>,
    ) -> Result<Response<Self::StreamAppendStream>, Status> {
        // A request that fails to decode ends the input; the leader sees the
        // stream close and re-establishes replication.
        let input = tokio_stream::StreamExt::map_while(req.into_inner(), |item| {
            let payload = item.ok()?;
            codec::decode::<AppendEntriesRequest>(&payload.data).ok()
        });
        let output = self
            .member
            .raft()
            .stream_append(input)
            .map(|result| match result {
                Ok(r) => codec::encode(&r)
                    .map(|data| pb::RaftPayload { data })
                    .map_err(|e| Status::internal(e.to_string())),
                Err(fatal) => Err(Status::unavailable(format!("raft: {fatal}"))),
            });
        Ok(Response::new(Box::pin(output)))
    }

    async fn transfer_leader(
        &self,
        req: Request<pb::RaftPayload>,
    ) -> Result<Response<pb::RaftPayload>, Status> {
        let r = self
            .member
            .raft()
            .handle_transfer_leader(decode(req.into_inner())?)
            .await
            .map_err(fatal)?;
        encode(&r)
    }

    async fn install_snapshot(
        &self,
        req: Request<Streaming<pb::SnapshotChunk>>,
    ) -> Result<Response<pb::RaftPayload>, Status> {
        let mut stream = req.into_inner();
        let first = stream
            .next()
            .await
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream"))??;
        let Some(pb::snapshot_chunk::Chunk::Meta(meta)) = first.chunk else {
            return Err(Status::invalid_argument(
                "first snapshot chunk must be metadata",
            ));
        };
        let (vote, meta): (Vote, SnapshotMeta) = codec::decode(&meta)
            .map_err(|e| Status::invalid_argument(format!("bad snapshot meta: {e}")))?;
        let dir = self.member.config().data_dir.join("snapshots");
        let path = dir.join(format!("incoming-{:032x}", rand::random::<u128>()));
        let result = async {
            let mut file = tokio::fs::File::create(&path).await?;
            let mut total: u64 = 0;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(std::io::Error::other)?;
                let Some(pb::snapshot_chunk::Chunk::Data(data)) = chunk.chunk else {
                    return Err(std::io::Error::other("snapshot data chunk expected"));
                };
                total += data.len() as u64;
                if total > MAX_SNAPSHOT_BYTES {
                    return Err(std::io::Error::other("snapshot exceeds MAX_SNAPSHOT_BYTES"));
                }
                file.write_all(&data).await?;
            }
            file.sync_all().await?;
            drop(file);
            std::fs::File::open(&path)
        }
        .await;
        // The open handle keeps the data; the name is not needed any more.
        let _ = std::fs::remove_file(&path);
        let file = result.map_err(|e| Status::internal(format!("receiving snapshot: {e}")))?;
        let r = self
            .member
            .raft()
            .install_full_snapshot(
                vote,
                Snapshot {
                    meta,
                    snapshot: file,
                },
            )
            .await
            .map_err(fatal)?;
        encode(&r)
    }

    async fn forward_write(
        &self,
        req: Request<pb::RaftPayload>,
    ) -> Result<Response<pb::RaftPayload>, Status> {
        let fw: ForwardedWrite = decode(req.into_inner())?;
        if let Err(e) = fw.txn.validate() {
            return Err(Status::invalid_argument(e));
        }
        let reply = if self.member.is_leader() {
            self.member.propose_write(&fw).await
        } else {
            ForwardReply::NotLeader {
                leader: self.member.current_leader(),
            }
        };
        encode(&reply)
    }

    async fn read_index(
        &self,
        _req: Request<pb::ReadIndexRequest>,
    ) -> Result<Response<pb::ReadIndexReply>, Status> {
        let index = self.member.leader_read_index().await.map_err(status_of)?;
        Ok(Response::new(pb::ReadIndexReply { index }))
    }
}

// ---------------------------------------------------------------------- Kv

struct KvService {
    member: RaftMember,
}

fn kv_to_pb(kv: &KeyValue) -> pb::KeyValue {
    pb::KeyValue {
        key: kv.key.to_vec(),
        value: kv.value.to_vec(),
        create_revision: kv.create_revision.0,
        mod_revision: kv.mod_revision.0,
        version: kv.version,
    }
}

fn op_from_pb(op: pb::Op) -> Result<Op, Status> {
    match op.op {
        Some(pb::op::Op::Put(p)) => Ok(Op::Put {
            key: Bytes::from(p.key),
            value: Bytes::from(p.value),
        }),
        Some(pb::op::Op::Delete(d)) => Ok(Op::Delete {
            key: Bytes::from(d.key),
        }),
        None => Err(Status::invalid_argument("op without put or delete")),
    }
}

fn txn_from_pb(req: pb::TxnRequest) -> Result<(Txn, Option<RequestId>), Status> {
    let compares = req
        .compares
        .into_iter()
        .map(|c| {
            let key = Bytes::from(c.key);
            match pb::compare::Kind::try_from(c.kind) {
                Ok(pb::compare::Kind::Absent) => Ok(Compare::Absent(key)),
                Ok(pb::compare::Kind::Present) => Ok(Compare::Present(key)),
                Ok(pb::compare::Kind::ModRevisionEquals) => {
                    Ok(Compare::ModRevisionEquals(key, Revision(c.mod_revision)))
                }
                Err(_) => Err(Status::invalid_argument(format!(
                    "unknown compare kind {}",
                    c.kind
                ))),
            }
        })
        .collect::<Result<Vec<_>, Status>>()?;
    let success = req
        .success
        .into_iter()
        .map(op_from_pb)
        .collect::<Result<Vec<_>, _>>()?;
    let failure = req
        .failure
        .into_iter()
        .map(op_from_pb)
        .collect::<Result<Vec<_>, _>>()?;
    let request_id = match req.request_id.len() {
        0 => None,
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(&req.request_id);
            Some(RequestId(u128::from_be_bytes(b)))
        }
        n => {
            return Err(Status::invalid_argument(format!(
                "request_id must be 16 bytes, got {n}"
            )));
        }
    };
    Ok((
        Txn {
            compares,
            success,
            failure,
        },
        request_id,
    ))
}

fn key_range(key: Vec<u8>, range_end: Vec<u8>) -> Result<KeyRange, Status> {
    if key.is_empty() {
        return Err(Status::invalid_argument("empty key"));
    }
    Ok(KeyRange {
        key: Bytes::from(key),
        range_end: Bytes::from(range_end),
    })
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Kv for KvService {
    async fn txn(&self, req: Request<pb::TxnRequest>) -> Result<Response<pb::TxnResponse>, Status> {
        let (txn, request_id) = txn_from_pb(req.into_inner())?;
        let r = self
            .member
            .write(txn, request_id, None)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::TxnResponse {
            succeeded: r.succeeded,
            revision: r.revision.0,
            results: r
                .results
                .iter()
                .map(|o| pb::OpResult {
                    prev: o.prev.as_ref().map(kv_to_pb),
                })
                .collect(),
            compared: r.compared.iter().map(kv_to_pb).collect(),
        }))
    }

    async fn range(
        &self,
        req: Request<pb::RangeRequest>,
    ) -> Result<Response<pb::RangeResponse>, Status> {
        let req = req.into_inner();
        let range = key_range(req.key, req.range_end)?;
        let limit =
            usize::try_from(req.limit).map_err(|_| Status::invalid_argument("limit too large"))?;
        let r = self
            .member
            .range(
                range,
                limit,
                Revision(req.revision),
                req.serializable,
                req.count_only,
            )
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RangeResponse {
            kvs: r.kvs.iter().map(kv_to_pb).collect(),
            more: r.more,
            count: r.count,
            revision: r.revision.0,
        }))
    }

    type WatchStream = WatchStream;

    async fn watch(&self, req: Request<pb::WatchRequest>) -> Result<Response<WatchStream>, Status> {
        let req = req.into_inner();
        let range = key_range(req.key, req.range_end)?;
        let mut watcher = self
            .member
            .watch(range, Revision(req.start_revision))
            .await
            .map_err(status_of)?;
        let (tx, rx) = tokio::sync::mpsc::channel(WATCH_STREAM_BUFFER);
        tokio::spawn(async move {
            while let Some(batch) = watcher.next_batch().await {
                match batch {
                    Ok(revs) => {
                        for rev in revs {
                            let resp = pb::WatchResponse {
                                revision: rev.revision.0,
                                events: rev
                                    .events
                                    .iter()
                                    .map(|e| pb::Event {
                                        r#type: match e.kind {
                                            EventKind::Put => pb::event::Type::Put as i32,
                                            EventKind::Delete => pb::event::Type::Delete as i32,
                                        },
                                        kv: Some(kv_to_pb(&e.kv)),
                                        prev_kv: e.prev_kv.as_ref().map(kv_to_pb),
                                    })
                                    .collect(),
                            };
                            if tx.send(Ok(resp)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(status_of(e))).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

// ----------------------------------------------------------------- Cluster

struct ClusterService {
    member: RaftMember,
}

fn members_reply(member: &RaftMember) -> pb::MembershipReply {
    pb::MembershipReply {
        members: member.status().members,
    }
}

impl ClusterService {
    /// Membership changes run on the leader; other members relay them.
    async fn leader_client(
        &self,
    ) -> Result<Option<ClusterClient<tonic::transport::Channel>>, Status> {
        if self.member.is_leader() {
            return Ok(None);
        }
        let status = self.member.status();
        let leader = status
            .leader
            .ok_or_else(|| Status::unavailable("no leader elected"))?;
        let addr = status
            .members
            .iter()
            .find(|m| m.id == leader)
            .map(|m| m.peer_addr.clone())
            .ok_or_else(|| Status::unavailable("leader address unknown"))?;
        let ch = self
            .member
            .peers()
            .channel(&addr)
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Some(ClusterClient::new(ch)))
    }
}

#[tonic::async_trait]
impl Cluster for ClusterService {
    async fn status(
        &self,
        _req: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        let s = self.member.status();
        let cfg = self.member.config();
        Ok(Response::new(pb::StatusResponse {
            id: s.id,
            role: s.role.into(),
            term: s.term,
            leader_id: s.leader,
            last_log_index: s.last_log_index,
            committed_index: s.committed_index,
            applied_index: s.applied_index,
            snapshot_index: s.snapshot_index,
            purged_index: s.purged_index,
            members: s.members,
            revision: s.revision.0,
            compacted_revision: s.compacted_revision.0,
            peer_addr: cfg.peer_addr.clone(),
            api_addr: cfg.api_addr.clone(),
        }))
    }

    async fn add_member(
        &self,
        req: Request<pb::AddMemberRequest>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        let req = req.into_inner();
        if let Some(mut leader) = self.leader_client().await? {
            return leader.add_member(req).await;
        }
        if req.id == 0 || req.peer_addr.is_empty() {
            return Err(Status::invalid_argument(
                "member id and peer address are required",
            ));
        }
        let node = Node {
            peer_addr: req.peer_addr,
            api_addr: req.api_addr,
        };
        self.member
            .add_member(req.id, node, req.promote)
            .await
            .map_err(status_of)?;
        Ok(Response::new(members_reply(&self.member)))
    }

    async fn promote_member(
        &self,
        req: Request<pb::MemberIdRequest>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        let req = req.into_inner();
        if let Some(mut leader) = self.leader_client().await? {
            return leader.promote_member(req).await;
        }
        self.member
            .promote_member(req.id)
            .await
            .map_err(status_of)?;
        Ok(Response::new(members_reply(&self.member)))
    }

    async fn remove_member(
        &self,
        req: Request<pb::MemberIdRequest>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        let req = req.into_inner();
        if let Some(mut leader) = self.leader_client().await? {
            return leader.remove_member(req).await;
        }
        self.member.remove_member(req.id).await.map_err(status_of)?;
        Ok(Response::new(members_reply(&self.member)))
    }

    async fn snapshot(
        &self,
        _req: Request<pb::SnapshotRequest>,
    ) -> Result<Response<pb::SnapshotReply>, Status> {
        let (snapshot_index, purged_index) = self.member.snapshot_now().await.map_err(status_of)?;
        Ok(Response::new(pb::SnapshotReply {
            snapshot_index,
            purged_index,
        }))
    }
}

/// Parses `1=127.0.0.1:7001,2=127.0.0.1:7002` into voters.
pub fn parse_initial_cluster(s: &str) -> Result<BTreeMap<u64, Node>, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part
            .split_once('=')
            .ok_or_else(|| format!("expected ID=HOST:PORT, got {part:?}"))?;
        let id: u64 = id
            .trim()
            .parse()
            .map_err(|_| format!("member id {id:?} is not a number"))?;
        if id == 0 {
            return Err("member id 0 is reserved".into());
        }
        let addr = addr.trim();
        addr.parse::<SocketAddr>()
            .map_err(|e| format!("member {id} address {addr:?}: {e}"))?;
        if out
            .insert(
                id,
                Node {
                    peer_addr: addr.to_string(),
                    api_addr: String::new(),
                },
            )
            .is_some()
        {
            return Err(format!("member id {id} appears twice"));
        }
    }
    if out.is_empty() {
        return Err("no members given".into());
    }
    Ok(out)
}
