//! [`StoreClient`]: a typed client for one member's `Kv` and `Cluster`
//! gRPC services, and [`Error`], the one error type of every RPC made by
//! this crate.
//!
//! The client talks to exactly one endpoint and never retries or follows
//! the leader by itself: chaos tests need to know which member answered
//! and whether a request may have been applied, so those policies belong
//! to the caller.
//!
//! Every unary call is bounded by [`ClientOptions::request_timeout`]; a
//! paused (SIGSTOPped) member accepts TCP connections but never answers,
//! and a test must not hang on it.

use std::future::Future;
use std::time::Duration;

use raftplane_proto::MAX_MESSAGE_BYTES;
use raftplane_proto::v1::cluster_client::ClusterClient;
use raftplane_proto::v1::kv_client::KvClient;
use raftplane_proto::v1::{
    AddMemberRequest, KeyValue, MemberIdRequest, MemberInfo, Op, Put, RangeRequest, RangeResponse,
    SnapshotReply, SnapshotRequest, StatusRequest, StatusResponse, TxnRequest, TxnResponse,
    WatchRequest, WatchResponse, op,
};
use tonic::transport::{Channel, Endpoint};

/// TCP connect timeout of a fresh or re-established channel.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Upper bound on one unary call (and on the first response of a watch).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// gRPC metadata key carrying the compacted revision on an OUT_OF_RANGE
/// status (see `Kv.Watch` in raftplane.proto).
pub const COMPACT_REVISION_METADATA: &str = "compact-revision";

/// Connection settings of a [`StoreClient`] (and of [`channel`]).
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// An RPC failure, naming the endpoint and the operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid endpoint {endpoint:?}: {source}")]
    InvalidEndpoint {
        endpoint: String,
        #[source]
        source: tonic::transport::Error,
    },
    /// The member answered with a gRPC error (or the connection failed,
    /// which tonic reports as UNAVAILABLE).
    #[error("{endpoint}: {op}: {:?}: {}", .status.code(), .status.message())]
    Rpc {
        endpoint: String,
        op: &'static str,
        // Boxed: tonic::Status is large and Result<_, Error> is everywhere.
        status: Box<tonic::Status>,
    },
    /// The requested revision is below the member's retained history.
    #[error("{endpoint}: {op}: revision compacted (compacted revision {compact_revision})")]
    Compacted {
        endpoint: String,
        op: &'static str,
        compact_revision: u64,
    },
    /// No answer in time. The request may or may not have been applied.
    #[error("{endpoint}: {op}: no reply within {timeout_ms} ms")]
    Timeout {
        endpoint: String,
        op: &'static str,
        timeout_ms: u64,
    },
}

impl Error {
    /// Classifies a status: OUT_OF_RANGE with a parseable
    /// `compact-revision` metadata entry becomes [`Error::Compacted`],
    /// anything else [`Error::Rpc`]. Use it on statuses read from a watch
    /// stream too.
    pub fn from_status(endpoint: &str, op: &'static str, status: tonic::Status) -> Self {
        if status.code() == tonic::Code::OutOfRange
            && let Some(compact_revision) = compact_revision(&status)
        {
            return Error::Compacted {
                endpoint: endpoint.to_owned(),
                op,
                compact_revision,
            };
        }
        Error::Rpc {
            endpoint: endpoint.to_owned(),
            op,
            status: Box::new(status),
        }
    }

    /// The gRPC code, if the member answered (or the transport failed).
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            Error::Rpc { status, .. } => Some(status.code()),
            Error::Compacted { .. } => Some(tonic::Code::OutOfRange),
            Error::InvalidEndpoint { .. } | Error::Timeout { .. } => None,
        }
    }
}

/// The `compact-revision` metadata of a status, if present and a decimal
/// u64.
pub fn compact_revision(status: &tonic::Status) -> Option<u64> {
    status
        .metadata()
        .get(COMPACT_REVISION_METADATA)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// etcd's range end for "every key starting with `prefix`": the prefix with
/// trailing 0xff bytes dropped and the last remaining byte incremented. A
/// prefix of only 0xff bytes (or an empty one) has no upper bound; etcd
/// spells that `[0]` ("to the end of the keyspace"), and so does this.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// `http://` + `addr` unless `addr` already has a scheme.
pub fn endpoint_uri(addr: &str) -> String {
    if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    }
}

/// A lazily connected channel to `addr` (`host:port` or a URI): nothing is
/// dialled until the first request, and a dropped connection is re-dialled
/// on the next one.
pub fn channel(addr: &str, options: &ClientOptions) -> Result<Channel, Error> {
    let uri = endpoint_uri(addr);
    let endpoint = Endpoint::from_shared(uri.clone()).map_err(|source| Error::InvalidEndpoint {
        endpoint: uri,
        source,
    })?;
    Ok(endpoint
        .connect_timeout(options.connect_timeout)
        .tcp_nodelay(true)
        .connect_lazy())
}

/// Client of one member. Cheap to clone; clones share the connection.
#[derive(Clone, Debug)]
pub struct StoreClient {
    endpoint: String,
    kv: KvClient<Channel>,
    cluster: ClusterClient<Channel>,
    request_timeout: Duration,
}

impl StoreClient {
    /// A client for the member whose gRPC services listen on `addr`
    /// (its `--peer-addr`, e.g. `127.0.0.1:7001`), with default options.
    pub fn new(addr: &str) -> Result<Self, Error> {
        Self::with_options(addr, ClientOptions::default())
    }

    pub fn with_options(addr: &str, options: ClientOptions) -> Result<Self, Error> {
        let channel = channel(addr, &options)?;
        Ok(Self {
            endpoint: endpoint_uri(addr),
            kv: KvClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            cluster: ClusterClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            request_timeout: options.request_timeout,
        })
    }

    /// The URI this client talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Unconditional put; returns the revision of the write.
    pub async fn put(
        &self,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> Result<u64, Error> {
        let request = TxnRequest {
            success: vec![Op {
                op: Some(op::Op::Put(Put {
                    key: key.into(),
                    value: value.into(),
                })),
            }],
            ..TxnRequest::default()
        };
        Ok(self.txn(request).await?.revision)
    }

    /// Unconditional delete of one key; returns the cluster revision after
    /// it (unchanged if the key did not exist).
    pub async fn delete(&self, key: impl Into<Vec<u8>>) -> Result<u64, Error> {
        let request = TxnRequest {
            success: vec![Op {
                op: Some(op::Op::Delete(raftplane_proto::v1::Delete {
                    key: key.into(),
                })),
            }],
            ..TxnRequest::default()
        };
        Ok(self.txn(request).await?.revision)
    }

    pub async fn txn(&self, request: TxnRequest) -> Result<TxnResponse, Error> {
        let mut kv = self.kv.clone();
        self.unary("Txn", kv.txn(request)).await
    }

    /// One key. `serializable` skips the read barrier (local state, may be
    /// stale).
    pub async fn get(
        &self,
        key: impl Into<Vec<u8>>,
        serializable: bool,
    ) -> Result<Option<KeyValue>, Error> {
        let response = self
            .range_request(RangeRequest {
                key: key.into(),
                serializable,
                ..RangeRequest::default()
            })
            .await?;
        Ok(response.kvs.into_iter().next())
    }

    /// Linearizable range `[key, range_end)`; `limit` 0 = unlimited,
    /// `revision` 0 = latest, otherwise the state as of that revision
    /// ([`Error::Compacted`] below the compacted revision).
    pub async fn range(
        &self,
        key: impl Into<Vec<u8>>,
        range_end: impl Into<Vec<u8>>,
        limit: u64,
        revision: u64,
    ) -> Result<RangeResponse, Error> {
        self.range_request(RangeRequest {
            key: key.into(),
            range_end: range_end.into(),
            limit,
            revision,
            ..RangeRequest::default()
        })
        .await
    }

    /// A range with every field of the request under the caller's control.
    pub async fn range_request(&self, request: RangeRequest) -> Result<RangeResponse, Error> {
        let mut kv = self.kv.clone();
        self.unary("Range", kv.range(request)).await
    }

    /// Events on `[key, range_end)` from `start_revision` (0 = changes after
    /// now). Only opening the stream is bounded by the request timeout.
    /// Classify a status read from the stream with [`Error::from_status`].
    pub async fn watch(
        &self,
        key: impl Into<Vec<u8>>,
        range_end: impl Into<Vec<u8>>,
        start_revision: u64,
    ) -> Result<tonic::Streaming<WatchResponse>, Error> {
        let mut kv = self.kv.clone();
        let request = WatchRequest {
            key: key.into(),
            range_end: range_end.into(),
            start_revision,
        };
        self.unary("Watch", kv.watch(request)).await
    }

    pub async fn status(&self) -> Result<StatusResponse, Error> {
        let mut cluster = self.cluster.clone();
        self.unary("Status", cluster.status(StatusRequest {})).await
    }

    /// Adds member `id` as a learner; with `promote`, waits for it to catch
    /// up and makes it a voter. Returns the resulting membership.
    pub async fn add_member(
        &self,
        id: u64,
        peer_addr: &str,
        api_addr: &str,
        promote: bool,
    ) -> Result<Vec<MemberInfo>, Error> {
        let mut cluster = self.cluster.clone();
        let request = AddMemberRequest {
            id,
            peer_addr: peer_addr.to_owned(),
            api_addr: api_addr.to_owned(),
            promote,
        };
        let reply = self.unary("AddMember", cluster.add_member(request)).await?;
        Ok(reply.members)
    }

    pub async fn promote_member(&self, id: u64) -> Result<Vec<MemberInfo>, Error> {
        let mut cluster = self.cluster.clone();
        let reply = self
            .unary(
                "PromoteMember",
                cluster.promote_member(MemberIdRequest { id }),
            )
            .await?;
        Ok(reply.members)
    }

    pub async fn remove_member(&self, id: u64) -> Result<Vec<MemberInfo>, Error> {
        let mut cluster = self.cluster.clone();
        let reply = self
            .unary(
                "RemoveMember",
                cluster.remove_member(MemberIdRequest { id }),
            )
            .await?;
        Ok(reply.members)
    }

    /// Builds a snapshot on this member now and purges the log behind it.
    pub async fn snapshot(&self) -> Result<SnapshotReply, Error> {
        let mut cluster = self.cluster.clone();
        self.unary("Snapshot", cluster.snapshot(SnapshotRequest {}))
            .await
    }

    async fn unary<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.request_timeout, call).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(Error::from_status(&self.endpoint, op, status)),
            Err(_elapsed) => Err(Error::Timeout {
                endpoint: self.endpoint.clone(),
                op,
                timeout_ms: millis(self.request_timeout),
            }),
        }
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end(b"/registry/pods/"), b"/registry/pods0".to_vec());
        assert_eq!(prefix_end(b"a"), b"b".to_vec());
        assert_eq!(prefix_end(&[0x00]), vec![0x01]);
        assert_eq!(prefix_end(&[0x01, 0xfe]), vec![0x01, 0xff]);
    }

    #[test]
    fn prefix_end_drops_trailing_ff() {
        assert_eq!(prefix_end(&[0x61, 0xff]), vec![0x62]);
        assert_eq!(prefix_end(&[0x61, 0xff, 0xff]), vec![0x62]);
        assert_eq!(
            prefix_end(&[0x61, 0xff, 0x61, 0xff]),
            vec![0x61, 0xff, 0x62]
        );
    }

    #[test]
    fn prefix_end_without_upper_bound_is_zero_byte() {
        assert_eq!(prefix_end(&[0xff]), vec![0]);
        assert_eq!(prefix_end(&[0xff, 0xff]), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }

    #[test]
    fn prefix_end_covers_exactly_the_prefix() {
        let prefix = b"/bench/";
        let end = prefix_end(prefix);
        for key in [&b"/bench/"[..], b"/bench/0", b"/bench/\xff\xff"] {
            assert!(key >= &prefix[..] && key < &end[..], "{key:?}");
        }
        for key in [&b"/bench"[..], b"/bench0", b"/benci"] {
            assert!(!(key >= &prefix[..] && key < &end[..]), "{key:?}");
        }
    }

    #[test]
    fn out_of_range_with_metadata_is_compacted() {
        let mut status = tonic::Status::out_of_range("compacted");
        status.metadata_mut().insert(
            COMPACT_REVISION_METADATA,
            "42".parse().expect("invariant: ascii metadata value"),
        );
        match Error::from_status("http://x", "Range", status) {
            Error::Compacted {
                compact_revision, ..
            } => assert_eq!(compact_revision, 42),
            other => panic!("expected Compacted, got {other:?}"),
        }
    }

    #[test]
    fn other_statuses_stay_rpc_errors() {
        let plain = Error::from_status("http://x", "Range", tonic::Status::out_of_range("x"));
        assert!(matches!(plain, Error::Rpc { .. }));
        assert_eq!(plain.code(), Some(tonic::Code::OutOfRange));
        let unavailable = Error::from_status("http://x", "Txn", tonic::Status::unavailable("down"));
        assert_eq!(unavailable.to_string(), "http://x: Txn: Unavailable: down");
    }

    #[test]
    fn endpoint_uri_adds_scheme_once() {
        assert_eq!(endpoint_uri("127.0.0.1:1"), "http://127.0.0.1:1");
        assert_eq!(endpoint_uri("http://127.0.0.1:1"), "http://127.0.0.1:1");
    }
}
