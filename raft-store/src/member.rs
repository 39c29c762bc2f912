//! A member: one Raft node with its RocksDB store, plus the operations the
//! API layer and the gRPC services call — writes from any member (forwarded
//! to the leader), linearizable reads on any member (read barrier), watches,
//! status and membership changes.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

use openraft::ChangeMembers;
use openraft::Config;
use openraft::ReadPolicy;
use openraft::ServerState;
use openraft::SnapshotPolicy;
use openraft::async_runtime::WatchReceiver;
use raftplane_proto::v1 as pb;
use serde::Deserialize;
use serde::Serialize;

use crate::codec;
use crate::db;
use crate::error::Result;
use crate::error::StoreError;
use crate::log_store::LogStore;
use crate::network::Network;
use crate::network::Peers;
use crate::raft_types::Raft;
use crate::state_machine::RangeResult;
use crate::state_machine::Reader;
use crate::state_machine::StateMachine;
use crate::types::ApplyResult;
use crate::types::Command;
use crate::types::KeyRange;
use crate::types::Member as Node;
use crate::types::RequestId;
use crate::types::Revision;
use crate::types::Term;
use crate::types::Txn;
use crate::types::TxnResult;
use crate::watch::Watcher;

/// How long a write may keep retrying (leader election, forwarding) before
/// it fails with `NoLeader`.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// How long a read barrier may wait for a leader and for local apply.
pub const READ_DEADLINE: Duration = Duration::from_secs(10);
/// Proposals slower than this are logged (etcd's warning-apply-duration);
/// lower values log on every queued write under heavy load.
const SLOW_PROPOSAL: Duration = Duration::from_millis(100);
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// How often the leader considers compacting history.
const COMPACTION_CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// Revisions the compaction task scans per check to find the age bound.
const COMPACTION_SCAN_LIMIT: usize = 1_000_000;

#[derive(Debug, Clone)]
pub struct MemberConfig {
    pub id: u64,
    pub data_dir: PathBuf,
    pub peer_addr: String,
    pub api_addr: String,
    pub heartbeat_ms: u64,
    pub election_timeout_ms: u64,
    /// Build a snapshot after this many log entries since the last one.
    pub snapshot_logs: u64,
    /// Log entries kept behind a snapshot when purging.
    pub keep_logs: u64,
    /// History older than this is compacted (kube-apiserver: 5 minutes).
    pub compaction_age_secs: u64,
    /// At most this many revisions of history are kept.
    pub compaction_keep_revisions: u64,
}

impl MemberConfig {
    pub fn new(id: u64, data_dir: PathBuf, peer_addr: String, api_addr: String) -> MemberConfig {
        MemberConfig {
            id,
            data_dir,
            peer_addr,
            api_addr,
            heartbeat_ms: 100,
            election_timeout_ms: 1000,
            // etcd's defaults: --snapshot-count 100,000 and 5,000 entries
            // kept for slow followers. A snapshot holds the whole state and
            // the watch history, so building one often costs real CPU.
            snapshot_logs: 100_000,
            keep_logs: 5_000,
            compaction_age_secs: 300,
            compaction_keep_revisions: 1_000_000,
        }
    }

    fn raft_config(&self) -> Result<Config> {
        let config = Config {
            cluster_name: "raftplane".into(),
            heartbeat_interval: self.heartbeat_ms,
            election_timeout_min: self.election_timeout_ms,
            election_timeout_max: self.election_timeout_ms * 2,
            install_snapshot_timeout: 10_000,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_logs),
            max_in_snapshot_log_to_keep: self.keep_logs,
            purge_batch_size: 256,
            enable_pre_vote: Some(true),
            ..Config::default()
        };
        config
            .validate()
            .map_err(|e| StoreError::Invalid(format!("raft config: {e}")))
    }
}

/// A write forwarded from a follower to the leader.
#[derive(Serialize, Deserialize)]
pub(crate) struct ForwardedWrite {
    pub request_id: RequestId,
    pub fence_term: Option<Term>,
    pub txn: Txn,
}

/// The leader's answer to a forwarded write.
#[derive(Serialize, Deserialize)]
pub(crate) enum ForwardReply {
    Applied(ApplyResult),
    NotLeader { leader: Option<u64> },
    Failed(String),
}

/// Role and progress of one member, as `raftplane status` shows it.
#[derive(Debug, Clone)]
pub struct MemberStatus {
    pub id: u64,
    pub role: &'static str,
    pub term: u64,
    pub leader: Option<u64>,
    pub last_log_index: u64,
    pub committed_index: u64,
    pub applied_index: u64,
    pub snapshot_index: u64,
    pub purged_index: u64,
    pub revision: Revision,
    pub compacted_revision: Revision,
    pub members: Vec<pb::MemberInfo>,
}

struct Inner {
    config: MemberConfig,
    raft: Raft,
    reader: Reader,
    peers: Peers,
    reads: ReadBatch,
}

/// Concurrent read barriers share read-index requests (etcd's
/// linearizableReadLoop does the same): a caller joins the next request,
/// one that starts after it arrived, so every caller still gets an index
/// taken after its read began.
#[derive(Default)]
struct ReadBatch {
    state: std::sync::Mutex<ReadBatchState>,
}

#[derive(Default)]
struct ReadBatchState {
    waiting: Vec<tokio::sync::oneshot::Sender<std::result::Result<u64, String>>>,
    running: bool,
}

/// Read-barrier callers queued for one read-index request, at most.
const MAX_READ_BATCH: usize = 65_536;

/// Handle to a running member. Cheap to clone.
#[derive(Clone)]
pub struct RaftMember {
    inner: Arc<Inner>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl RaftMember {
    /// Opens (or creates) the member's store under `config.data_dir` and
    /// starts Raft. Does not initialize or join a cluster.
    pub async fn open(config: MemberConfig) -> Result<RaftMember> {
        let raft_config = Arc::new(config.raft_config()?);
        std::fs::create_dir_all(&config.data_dir)?;
        let rdb = db::open(&config.data_dir.join("db")).map_err(|e| {
            StoreError::Io(std::io::Error::other(format!(
                "open RocksDB in {}: {e}",
                config.data_dir.display()
            )))
        })?;
        let log = LogStore::new(rdb.clone());
        let sm = StateMachine::open(rdb, &config.data_dir.join("snapshots"))?;
        let reader = sm.reader();
        let peers = Peers::default();
        let network = Network {
            peers: peers.clone(),
        };
        let raft = Raft::new(config.id, raft_config, network, log, sm)
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))?;
        let member = RaftMember {
            inner: Arc::new(Inner {
                config,
                raft,
                reader,
                peers,
                reads: ReadBatch::default(),
            }),
        };
        member.spawn_compaction();
        Ok(member)
    }

    pub fn id(&self) -> u64 {
        self.inner.config.id
    }

    pub fn config(&self) -> &MemberConfig {
        &self.inner.config
    }

    pub fn reader(&self) -> &Reader {
        &self.inner.reader
    }

    pub(crate) fn raft(&self) -> &Raft {
        &self.inner.raft
    }

    pub(crate) fn peers(&self) -> &Peers {
        &self.inner.peers
    }

    /// Initializes a new cluster with these voters if this store is
    /// pristine. Returns whether it did.
    pub async fn initialize(&self, members: BTreeMap<u64, Node>) -> Result<bool> {
        if self.is_initialized().await? {
            return Ok(false);
        }
        self.inner
            .raft
            .initialize(members)
            .await
            .map_err(|e| StoreError::Membership(e.to_string()))?;
        Ok(true)
    }

    pub async fn is_initialized(&self) -> Result<bool> {
        self.inner
            .raft
            .is_initialized()
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))
    }

    pub fn current_leader(&self) -> Option<u64> {
        self.inner.raft.metrics().borrow_watched().current_leader
    }

    pub fn is_leader(&self) -> bool {
        self.inner.raft.metrics().borrow_watched().state == ServerState::Leader
    }

    /// The current term if this member is the leader.
    pub fn leader_term(&self) -> Option<Term> {
        let m = self.inner.raft.metrics();
        let m = m.borrow_watched();
        (m.state == ServerState::Leader).then_some(Term(m.current_term))
    }

    fn leader_addr(&self) -> Option<(u64, String)> {
        let m = self.inner.raft.metrics();
        let m = m.borrow_watched();
        let leader = m.current_leader?;
        let node = m.membership_config.membership().get_node(&leader)?;
        Some((leader, node.peer_addr.clone()))
    }

    /// Proposes a client write on this member, which must be the leader; the
    /// leader stamps it with its clock (history age, see `Command::Txn`).
    pub(crate) async fn propose_write(&self, fw: &ForwardedWrite) -> ForwardReply {
        self.propose_local(Command::Txn {
            request_id: fw.request_id,
            fence_term: fw.fence_term,
            time_ms: now_ms(),
            txn: fw.txn.clone(),
        })
        .await
    }

    /// Proposes on this member, which must be the leader.
    pub(crate) async fn propose_local(&self, command: Command) -> ForwardReply {
        let started = std::time::Instant::now();
        let result = self.inner.raft.client_write(command).await;
        let took = started.elapsed();
        if took > SLOW_PROPOSAL {
            tracing::warn!(
                took_ms = took.as_millis() as u64,
                "slow proposal (append, replicate, commit, apply)"
            );
        }
        match result {
            Ok(resp) => ForwardReply::Applied(resp.data),
            Err(e) => match e.forward_to_leader() {
                Some(f) => ForwardReply::NotLeader {
                    leader: f.leader_id,
                },
                None => ForwardReply::Failed(e.to_string()),
            },
        }
    }

    /// Commits `txn` through the leader, from any member. Retries across
    /// leader changes with the same request id, so it is applied at most
    /// once. `fence_term`: see `Command::Txn`.
    pub async fn write(
        &self,
        txn: Txn,
        request_id: Option<RequestId>,
        fence_term: Option<Term>,
    ) -> Result<TxnResult> {
        txn.validate().map_err(StoreError::Invalid)?;
        let fw = ForwardedWrite {
            request_id: request_id.unwrap_or_else(RequestId::random),
            fence_term,
            txn,
        };
        match self.submit(fw).await? {
            ApplyResult::Txn(r) => Ok(r),
            ApplyResult::Fenced {
                fence_term,
                entry_term,
            } => Err(StoreError::fenced(fence_term, entry_term)),
            other => Err(StoreError::Stopped(format!(
                "unexpected apply result {other:?}"
            ))),
        }
    }

    async fn submit(&self, fw: ForwardedWrite) -> Result<ApplyResult> {
        let deadline = tokio::time::Instant::now() + WRITE_DEADLINE;
        let mut last_err = String::from("no leader elected");
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::NoLeader(last_err));
            }
            let reply = match self.leader_addr() {
                Some((leader, _)) if leader == self.id() => self.propose_write(&fw).await,
                Some((leader, addr)) => match self.forward(&addr, &fw, deadline).await {
                    Ok(r) => r,
                    Err(e) => {
                        last_err = format!("forward to leader {leader} at {addr}: {e}");
                        ForwardReply::NotLeader { leader: None }
                    }
                },
                None => ForwardReply::NotLeader { leader: None },
            };
            match reply {
                ForwardReply::Applied(r) => return Ok(r),
                ForwardReply::NotLeader { .. } => tokio::time::sleep(RETRY_PAUSE).await,
                ForwardReply::Failed(e) => {
                    last_err = e;
                    tokio::time::sleep(RETRY_PAUSE).await
                }
            }
        }
    }

    fn peer_client(
        &self,
        addr: &str,
    ) -> Result<raftplane_proto::v1::raft_peer_client::RaftPeerClient<tonic::transport::Channel>>
    {
        self.inner
            .peers
            .raft_client(addr)
            .map_err(|e| StoreError::Rpc {
                target: addr.into(),
                message: e.to_string(),
            })
    }

    async fn forward(
        &self,
        addr: &str,
        fw: &ForwardedWrite,
        deadline: tokio::time::Instant,
    ) -> Result<ForwardReply> {
        let mut client = self.peer_client(addr)?;
        let payload = pb::RaftPayload {
            data: codec::encode(fw)?,
        };
        let reply = tokio::time::timeout_at(deadline, client.forward_write(payload))
            .await
            .map_err(|_| StoreError::Timeout(format!("forwarded write to {addr}")))?
            .map_err(|s| StoreError::Rpc {
                target: addr.into(),
                message: s.to_string(),
            })?;
        Ok(codec::decode(&reply.into_inner().data)?)
    }

    /// The read index of a linearizable read, obtained on the leader.
    pub(crate) async fn leader_read_index(&self) -> Result<u64> {
        let lin = self
            .inner
            .raft
            .get_read_linearizer(ReadPolicy::ReadIndex)
            .await
            .map_err(|e| match e.forward_to_leader() {
                Some(f) => StoreError::NotLeader {
                    leader: f.leader_id,
                },
                None => StoreError::NoLeader(e.to_string()),
            })?;
        Ok(lin.read_log_id().index())
    }

    /// One read-index request, leader-local or remote.
    async fn read_index_once(&self, deadline: tokio::time::Instant) -> Result<u64> {
        match self.leader_addr() {
            Some((leader, _)) if leader == self.id() => self.leader_read_index().await,
            Some((_, addr)) => self.remote_read_index(&addr, deadline).await,
            None => Err(StoreError::NoLeader("no leader elected".into())),
        }
    }

    /// A read index taken after this call began, shared with the callers
    /// that arrived while the previous request was in flight.
    async fn batched_read_index(&self, deadline: tokio::time::Instant) -> Result<u64> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let start = {
            let mut st = self
                .inner
                .reads
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if st.waiting.len() >= MAX_READ_BATCH {
                return Err(StoreError::Timeout("too many queued read barriers".into()));
            }
            st.waiting.push(tx);
            !std::mem::replace(&mut st.running, true)
        };
        if start {
            let member = self.clone();
            tokio::spawn(async move {
                loop {
                    let batch = {
                        let mut st = member
                            .inner
                            .reads
                            .state
                            .lock()
                            .unwrap_or_else(|p| p.into_inner());
                        if st.waiting.is_empty() {
                            st.running = false;
                            break;
                        }
                        std::mem::take(&mut st.waiting)
                    };
                    let deadline = tokio::time::Instant::now() + READ_DEADLINE;
                    let r = member
                        .read_index_once(deadline)
                        .await
                        .map_err(|e| e.to_string());
                    for tx in batch {
                        let _ = tx.send(r.clone());
                    }
                }
            });
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(Ok(i))) => Ok(i),
            Ok(Ok(Err(e))) => Err(StoreError::NoLeader(e)),
            Ok(Err(_)) => Err(StoreError::Stopped("read batch dropped".into())),
            Err(_) => Err(StoreError::Timeout("read index".into())),
        }
    }

    /// Linearizable read barrier: after it returns, this member's state
    /// machine reflects every write acknowledged before it was called.
    pub async fn read_barrier(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + READ_DEADLINE;
        let index = loop {
            let attempt = self.batched_read_index(deadline).await;
            match attempt {
                Ok(i) => break i,
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(RETRY_PAUSE).await,
            }
        };
        tokio::time::timeout_at(deadline, self.inner.reader.wait_applied(index))
            .await
            .map_err(|_| {
                StoreError::Timeout(format!("waiting for local apply to reach index {index}"))
            })?
    }

    async fn remote_read_index(&self, addr: &str, deadline: tokio::time::Instant) -> Result<u64> {
        let mut client = self.peer_client(addr)?;
        let reply = tokio::time::timeout_at(deadline, client.read_index(pb::ReadIndexRequest {}))
            .await
            .map_err(|_| StoreError::Timeout(format!("read index from {addr}")))?
            .map_err(|s| StoreError::Rpc {
                target: addr.into(),
                message: s.to_string(),
            })?;
        Ok(reply.into_inner().index)
    }

    /// Range read. `serializable`: serve local state without the barrier.
    pub async fn range(
        &self,
        range: KeyRange,
        limit: usize,
        revision: Revision,
        serializable: bool,
        count_only: bool,
    ) -> Result<RangeResult> {
        if !serializable {
            self.read_barrier().await?;
        }
        let reader = self.inner.reader.clone();
        tokio::task::spawn_blocking(move || reader.range(&range, limit, revision, count_only))
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))?
    }

    /// Watches `range` from revision `from` (inclusive). `Revision::ZERO`
    /// means "from now": after a read barrier, so no write acknowledged
    /// before this call is missed or replayed.
    pub async fn watch(&self, range: KeyRange, from: Revision) -> Result<Watcher> {
        let from = if from == Revision::ZERO {
            self.read_barrier().await?;
            self.inner.reader.revision().next()
        } else {
            from
        };
        self.inner.reader.watch(range, from)
    }

    pub fn status(&self) -> MemberStatus {
        let m = self.inner.raft.metrics();
        let m = m.borrow_watched();
        let role = match m.state {
            ServerState::Leader => "leader",
            ServerState::Follower => "follower",
            ServerState::Candidate => "candidate",
            ServerState::Learner => "learner",
            ServerState::Shutdown => "shutdown",
        };
        let membership = m.membership_config.membership();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let matched: BTreeMap<u64, u64> = m
            .replication
            .as_ref()
            .map(|r| {
                r.iter()
                    .map(|(id, l)| (*id, l.as_ref().map(|l| l.index()).unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        let members = membership
            .nodes()
            .map(|(id, node)| pb::MemberInfo {
                id: *id,
                peer_addr: node.peer_addr.clone(),
                api_addr: node.api_addr.clone(),
                voter: voters.contains(id),
                matched_index: matched.get(id).copied(),
            })
            .collect();
        MemberStatus {
            id: self.id(),
            role,
            term: m.current_term,
            leader: m.current_leader,
            last_log_index: m.last_log_index.unwrap_or(0),
            committed_index: m.local_committed.as_ref().map(|l| l.index()).unwrap_or(0),
            applied_index: m.last_applied.as_ref().map(|l| l.index()).unwrap_or(0),
            snapshot_index: m.snapshot.as_ref().map(|l| l.index()).unwrap_or(0),
            purged_index: m.purged.as_ref().map(|l| l.index()).unwrap_or(0),
            revision: self.inner.reader.revision(),
            compacted_revision: self.inner.reader.compacted_revision(),
            members,
        }
    }

    /// Adds a learner and waits until it has caught up; then promotes it to
    /// voter if `promote`. Must run on the leader.
    pub async fn add_member(&self, id: u64, node: Node, promote: bool) -> Result<()> {
        let raft = &self.inner.raft;
        raft.add_learner(id, node, true)
            .await
            .map_err(membership_err)?;
        if promote {
            self.promote_member(id).await?;
        }
        Ok(())
    }

    pub async fn promote_member(&self, id: u64) -> Result<()> {
        self.inner
            .raft
            .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
            .await
            .map_err(membership_err)?;
        Ok(())
    }

    /// Removes a voter or learner. Must run on the leader.
    pub async fn remove_member(&self, id: u64) -> Result<()> {
        let is_voter = {
            let m = self.inner.raft.metrics();
            let m = m.borrow_watched();
            m.membership_config
                .membership()
                .voter_ids()
                .any(|v| v == id)
        };
        let change = if is_voter {
            ChangeMembers::RemoveVoters(BTreeSet::from([id]))
        } else {
            ChangeMembers::RemoveNodes(BTreeSet::from([id]))
        };
        self.inner
            .raft
            .change_membership(change, false)
            .await
            .map_err(membership_err)?;
        Ok(())
    }

    /// Builds a snapshot of the applied state now and purges the log up to
    /// it (keeping nothing behind). Returns (snapshot index, purged index).
    pub async fn snapshot_now(&self) -> Result<(u64, u64)> {
        let raft = &self.inner.raft;
        let applied = self.inner.reader.applied_index();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        // A trigger that arrives while a policy-driven build is running is
        // dropped by openraft, and that build may end below `applied`:
        // trigger again until a snapshot covers `applied`.
        let snap = loop {
            raft.trigger()
                .snapshot()
                .await
                .map_err(|e| StoreError::Stopped(e.to_string()))?;
            let built = raft
                .wait(Some(Duration::from_secs(2)))
                .metrics(
                    |m| m.snapshot.as_ref().is_some_and(|s| s.index() >= applied),
                    "snapshot built",
                )
                .await;
            match built {
                Ok(m) => break m.snapshot.as_ref().map(|s| s.index()).unwrap_or(0),
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    return Err(StoreError::Timeout(e.to_string()));
                }
                Err(_) => continue,
            }
        };
        raft.trigger()
            .purge_log(snap)
            .await
            .map_err(|e| StoreError::Stopped(e.to_string()))?;
        let m = raft
            .wait(Some(Duration::from_secs(10)))
            .metrics(
                |m| m.purged.as_ref().is_some_and(|p| p.index() >= snap),
                "log purged",
            )
            .await
            .map_err(|e| StoreError::Timeout(e.to_string()))?;
        Ok((snap, m.purged.as_ref().map(|p| p.index()).unwrap_or(0)))
    }

    /// Leader-driven history compaction: time-based decisions are made here
    /// and proposed as `Command::Compact`, so apply stays deterministic.
    fn spawn_compaction(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(COMPACTION_CHECK_INTERVAL).await;
                let Some(inner) = weak.upgrade() else { return };
                let member = RaftMember { inner };
                if !member.is_leader() {
                    continue;
                }
                if let Err(e) = member.compact_once().await {
                    tracing::warn!(error = %e, "history compaction failed");
                }
            }
        });
    }

    async fn compact_once(&self) -> Result<()> {
        let reader = self.inner.reader.clone();
        let cfg = &self.inner.config;
        let current = reader.revision();
        let by_count = Revision(current.0.saturating_sub(cfg.compaction_keep_revisions));
        let cutoff = now_ms().saturating_sub(cfg.compaction_age_secs * 1000);
        let by_age = tokio::task::spawn_blocking(move || {
            reader.newest_revision_older_than(cutoff, COMPACTION_SCAN_LIMIT)
        })
        .await
        .map_err(|e| StoreError::Stopped(e.to_string()))??
        .unwrap_or(Revision::ZERO);
        let target = by_count.max(by_age);
        if target > self.inner.reader.compacted_revision() {
            tracing::info!(revision = %target, "compacting history");
            self.compact(target).await?;
        }
        Ok(())
    }

    /// Compacts history at and below `revision` (through the log).
    pub async fn compact(&self, revision: Revision) -> Result<Revision> {
        match self.propose_local(Command::Compact { revision }).await {
            ForwardReply::Applied(ApplyResult::Compacted { revision }) => Ok(revision),
            ForwardReply::Applied(other) => Err(StoreError::Stopped(format!(
                "unexpected apply result {other:?}"
            ))),
            ForwardReply::NotLeader { leader } => Err(StoreError::NotLeader { leader }),
            ForwardReply::Failed(e) => Err(StoreError::Stopped(e)),
        }
    }

    pub async fn shutdown(&self) {
        if let Err(e) = self.inner.raft.shutdown().await {
            tracing::warn!(error = %e, "raft shutdown");
        }
    }
}

fn membership_err<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Membership(e.to_string())
}
