//! Outgoing Raft RPCs over gRPC, one cached channel per peer address.
//!
//! openraft messages travel as bincode inside `RaftPayload`; snapshots are
//! streamed from their file in `SNAPSHOT_CHUNK_BYTES` chunks.

use std::collections::HashMap;
use std::fs;
use std::future::Future;
use std::io::Read;
use std::io::Seek;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use futures::Stream;
use futures::StreamExt;
use openraft::OptionalSend;
use openraft::RaftNetworkFactory;
use openraft::base::BoxFuture;
use openraft::base::BoxStream;
use openraft::errors::NetworkError;
use openraft::errors::RPCError;
use openraft::errors::ReplicationClosed;
use openraft::errors::StreamingError;
use openraft::errors::Unreachable;
use openraft::network::RPCOption;
use openraft::network::v2::RaftNetworkV2;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::StreamAppendResult;
use openraft::raft::TransferLeaderRequest;
use openraft::raft::TransferLeaderResponse;
use openraft::raft::VoteRequest;
use openraft::raft::VoteResponse;
use raftplane_proto::MAX_MESSAGE_BYTES;
use raftplane_proto::v1::RaftPayload;
use raftplane_proto::v1::SnapshotChunk;
use raftplane_proto::v1::raft_peer_client::RaftPeerClient;
use raftplane_proto::v1::snapshot_chunk;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::transport::Channel;
use tonic::transport::Endpoint;

use crate::codec;
use crate::raft_types::Snapshot;
use crate::raft_types::TypeConfig;
use crate::raft_types::Vote;
use crate::types::Member;

/// Size of one snapshot chunk on the wire.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1024 * 1024;
/// Snapshot chunks read ahead of the network.
const SNAPSHOT_CHUNKS_IN_FLIGHT: usize = 4;
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// Channels to peers, by address. Shared by Raft replication and by the
/// forwarding of writes and read-index requests.
#[derive(Clone, Default)]
pub struct Peers {
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl Peers {
    pub fn channel(&self, addr: &str) -> Result<Channel, tonic::transport::Error> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ch) = map.get(addr) {
            return Ok(ch.clone());
        }
        let ch = Endpoint::from_shared(format!("http://{addr}"))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(5))
            .keep_alive_timeout(Duration::from_secs(5))
            .connect_lazy();
        map.insert(addr.to_string(), ch.clone());
        Ok(ch)
    }

    pub fn raft_client(
        &self,
        addr: &str,
    ) -> Result<RaftPeerClient<Channel>, tonic::transport::Error> {
        Ok(RaftPeerClient::new(self.channel(addr)?)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES))
    }
}

/// openraft's network factory.
pub struct Network {
    pub peers: Peers,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: u64, node: &Member) -> PeerConnection {
        PeerConnection {
            target,
            addr: node.peer_addr.clone(),
            client: self.peers.raft_client(&node.peer_addr),
        }
    }
}

pub struct PeerConnection {
    target: u64,
    addr: String,
    client: Result<RaftPeerClient<Channel>, tonic::transport::Error>,
}

fn status_to_rpc(target: u64, addr: &str, s: tonic::Status) -> RPCError<TypeConfig> {
    let err = std::io::Error::other(format!("member {target} at {addr}: {s}"));
    match s.code() {
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
            RPCError::Unreachable(Unreachable::new(&err))
        }
        _ => RPCError::Network(NetworkError::new(&err)),
    }
}

fn io_to_rpc(e: std::io::Error) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::new(&e))
}

impl PeerConnection {
    fn client(&self) -> Result<RaftPeerClient<Channel>, RPCError<TypeConfig>> {
        match &self.client {
            Ok(c) => Ok(c.clone()),
            Err(e) => Err(RPCError::Unreachable(Unreachable::new(
                &std::io::Error::other(format!(
                    "bad address {} of member {}: {e}",
                    self.addr, self.target
                )),
            ))),
        }
    }

    async fn unary<Req, Resp, F, Fut>(
        &self,
        req: &Req,
        option: &RPCOption,
        call: F,
    ) -> Result<Resp, RPCError<TypeConfig>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        F: FnOnce(RaftPeerClient<Channel>, RaftPayload) -> Fut,
        Fut: Future<Output = Result<tonic::Response<RaftPayload>, tonic::Status>>,
    {
        let payload = RaftPayload {
            data: codec::encode(req).map_err(io_to_rpc)?,
        };
        let client = self.client()?;
        let reply = tokio::time::timeout(option.hard_ttl(), call(client, payload))
            .await
            .map_err(|_| {
                status_to_rpc(
                    self.target,
                    &self.addr,
                    tonic::Status::deadline_exceeded("rpc timeout"),
                )
            })?
            .map_err(|s| status_to_rpc(self.target, &self.addr, s))?;
        codec::decode(&reply.into_inner().data).map_err(io_to_rpc)
    }
}

impl RaftNetworkV2<TypeConfig> for PeerConnection {
    type SnapshotData = fs::File;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, &option, |mut c, p| async move {
            c.append_entries(p).await
        })
        .await
    }

    fn stream_append<'s, S>(
        &'s mut self,
        input: S,
        _option: RPCOption,
    ) -> BoxFuture<
        's,
        Result<
            BoxStream<'s, Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>>,
            RPCError<TypeConfig>,
        >,
    >
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + OptionalSend + Unpin + 'static,
    {
        Box::pin(async move {
            let mut client = self.client()?;
            // Encoding an in-memory request cannot fail short of a bug; an
            // empty payload would make the follower end the stream.
            let requests = input.map(|req| RaftPayload {
                data: codec::encode(&req).unwrap_or_default(),
            });
            let target = self.target;
            let addr = self.addr.clone();
            let response = client
                .stream_append(requests)
                .await
                .map_err(|s| status_to_rpc(target, &addr, s))?;
            let output = response.into_inner().map(move |item| {
                let payload = item.map_err(|s| status_to_rpc(target, &addr, s))?;
                codec::decode::<StreamAppendResult<TypeConfig>>(&payload.data).map_err(io_to_rpc)
            });
            Ok(Box::pin(output) as BoxStream<'s, _>)
        })
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, &option, |mut c, p| async move { c.vote(p).await })
            .await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, &option, |mut c, p| async move { c.pre_vote(p).await })
            .await
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&req, &option, |mut c, p| async move {
            c.transfer_leader(p).await
        })
        .await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let mut client = self.client().map_err(rpc_to_streaming)?;
        let meta = codec::encode(&(vote, snapshot.meta.clone()))
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        let (tx, rx) = tokio::sync::mpsc::channel::<SnapshotChunk>(SNAPSHOT_CHUNKS_IN_FLIGHT);
        let mut file = snapshot.snapshot;
        // The reader runs on a blocking thread and stops when the receiver
        // goes away (RPC failed or cancelled).
        let reader = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            file.rewind()?;
            if tx
                .blocking_send(SnapshotChunk {
                    chunk: Some(snapshot_chunk::Chunk::Meta(meta)),
                })
                .is_err()
            {
                return Ok(());
            }
            loop {
                let mut buf = vec![0u8; SNAPSHOT_CHUNK_BYTES];
                let mut filled = 0;
                while filled < buf.len() {
                    let n = file.read(&mut buf[filled..])?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if filled == 0 {
                    return Ok(());
                }
                buf.truncate(filled);
                if tx
                    .blocking_send(SnapshotChunk {
                        chunk: Some(snapshot_chunk::Chunk::Data(buf)),
                    })
                    .is_err()
                {
                    return Ok(());
                }
            }
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        let target = self.target;
        let addr = self.addr.clone();
        let send = async move { client.install_snapshot(stream).await };
        let reply = tokio::select! {
            r = send => r,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        let reply = reply.map_err(|s| rpc_to_streaming(status_to_rpc(target, &addr, s)))?;
        match reader.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(StreamingError::Network(NetworkError::new(&e))),
            Err(e) => {
                return Err(StreamingError::Network(NetworkError::new(
                    &std::io::Error::other(e),
                )));
            }
        }
        codec::decode(&reply.into_inner().data)
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))
    }
}

fn rpc_to_streaming(e: RPCError<TypeConfig>) -> StreamingError<TypeConfig> {
    match e {
        RPCError::Unreachable(u) => StreamingError::Unreachable(u),
        RPCError::Timeout(t) => StreamingError::Timeout(t),
        RPCError::Network(n) => StreamingError::Network(n),
        other => {
            StreamingError::Network(NetworkError::new(&std::io::Error::other(other.to_string())))
        }
    }
}
