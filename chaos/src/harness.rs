//! [`Cluster`]: N `raftplane serve` processes on 127.0.0.1, each with its
//! own ports, data dir and log file, plus the faults chaos tests inject:
//! SIGKILL, SIGTERM, SIGSTOP/SIGCONT, restart on the same data dir, and
//! joining a new member.
//!
//! Layout of the cluster dir (a fresh temp dir unless
//! [`ClusterOptions::dir`] is given):
//!
//! ```text
//! <dir>/member-<id>/      data dir of member <id> (--data-dir)
//! <dir>/member-<id>.log   stdout+stderr of every process of member <id>,
//!                         appended across restarts, each start marked
//! ```
//!
//! Errors name the member's log file. When the owning thread is panicking,
//! dropping the cluster keeps a temp dir on disk and prints its path.
//!
//! Invariant: every process the cluster starts dies with it: `Drop` kills
//! by PID, and members carry PDEATHSIG (see [`crate::process`]).

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use raftplane_proto::v1::StatusResponse;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::{ClientOptions, StoreClient, millis};
use crate::process::{ChildProcess, ProcessSpec, Spawner, mentions_addr_in_use};

/// Default bound on a member becoming healthy after its process started.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// SIGTERM grace period of [`Cluster::stop`] before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// Tries at starting processes when a picked port turned out to be taken.
const PORT_ATTEMPTS: usize = 5;
/// Tries at picking one port that is distinct from those already reserved.
const PICK_ATTEMPTS: usize = 100;
/// Bound on one Status or /healthz probe.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1000);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Largest /healthz reply read.
const HEALTHZ_MAX_BYTES: u64 = 4096;
/// Environment variable naming the member binary.
pub const RAFTPLANE_BIN_ENV: &str = "RAFTPLANE_BIN";

/// Operating errors of the harness. Each names what failed and where its
/// log is.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "raftplane binary not found (looked at {}); build it with `cargo build -p raftplane` or set {RAFTPLANE_BIN_ENV}",
        display_paths(.searched)
    )]
    BinaryNotFound { searched: Vec<PathBuf> },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("invalid cluster options: {0}")]
    InvalidOptions(String),
    #[error("no member {id}")]
    NoSuchMember { id: u64 },
    #[error("member {id} already exists")]
    MemberExists { id: u64 },
    #[error("member {id} is not running (log: {})", .log.display())]
    NotRunning { id: u64, log: PathBuf },
    #[error("member {id} is still running (pid {pid}); kill or stop it first")]
    StillRunning { id: u64, pid: u32 },
    #[error("{name} exited on its own with {status} (log: {})\n--- last output ---\n{tail}", .log.display())]
    Exited {
        name: String,
        status: ExitStatus,
        log: PathBuf,
        tail: String,
    },
    #[error("{name} did not start: {reason} (log: {})\n--- last output ---\n{tail}", .log.display())]
    StartFailed {
        name: String,
        reason: String,
        log: PathBuf,
        tail: String,
        /// The output says a port was taken; starting again on other ports
        /// may work.
        addr_in_use: bool,
    },
    #[error("no agreed leader within {timeout_ms} ms; last statuses: {statuses}; logs in {}", .dir.display())]
    NoLeader {
        timeout_ms: u64,
        statuses: String,
        dir: PathBuf,
    },
    #[error("{what} not reached within {timeout_ms} ms: {detail}; logs in {}", .dir.display())]
    Timeout {
        what: String,
        timeout_ms: u64,
        detail: String,
        dir: PathBuf,
    },
    #[error(transparent)]
    Client(#[from] crate::client::Error),
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> HarnessError {
    let context = context.into();
    move |source| HarnessError::Io { context, source }
}

/// The `raftplane` member binary: `$RAFTPLANE_BIN` if set, else next to the
/// current executable or in its parent dir (test executables live in
/// `target/<profile>/deps/`, the binary in `target/<profile>/`).
pub fn raftplane_bin() -> Result<PathBuf, HarnessError> {
    if let Some(path) = std::env::var_os(RAFTPLANE_BIN_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(HarnessError::BinaryNotFound {
                searched: vec![path],
            })
        };
    }
    let exe = std::env::current_exe().map_err(io_error("locating the current executable"))?;
    let mut searched = Vec::new();
    for dir in exe.ancestors().skip(1).take(2) {
        let candidate = dir.join("raftplane");
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(candidate);
    }
    Err(HarnessError::BinaryNotFound { searched })
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0 and
/// released). Another process may take it before we use it; callers retry.
pub fn pick_free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// `count` free ports, distinct from each other and from `reserved`, which
/// they are added to.
pub fn pick_ports(count: usize, reserved: &mut HashSet<u16>) -> io::Result<Vec<u16>> {
    let mut ports = Vec::with_capacity(count);
    for _ in 0..count {
        let mut picked = None;
        for _ in 0..PICK_ATTEMPTS {
            let port = pick_free_port()?;
            if reserved.insert(port) {
                picked = Some(port);
                break;
            }
        }
        ports.push(picked.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("no fresh free port after {PICK_ATTEMPTS} tries"),
            )
        })?);
    }
    Ok(ports)
}

/// How to start a cluster. `None` leaves a setting at the member's default.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Number of initial members, with ids 1..=members.
    pub members: u64,
    pub heartbeat_ms: Option<u64>,
    pub election_timeout_ms: Option<u64>,
    pub snapshot_logs: Option<u64>,
    pub keep_logs: Option<u64>,
    pub compaction_age_secs: Option<u64>,
    pub compaction_keep_revisions: Option<u64>,
    /// Appended to every member's `serve` arguments.
    pub extra_args: Vec<String>,
    /// Where data dirs and logs go; `None`: a fresh temp dir, removed when
    /// the cluster is dropped (kept if the thread is panicking). A given
    /// dir must not hold data of another cluster: member dirs in it are
    /// wiped if a start is retried on other ports.
    pub dir: Option<PathBuf>,
    /// The member binary; `None`: [`raftplane_bin`].
    pub binary: Option<PathBuf>,
    /// Bound on each member becoming healthy.
    pub startup_timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            members: 3,
            heartbeat_ms: None,
            election_timeout_ms: None,
            snapshot_logs: None,
            keep_logs: None,
            compaction_age_secs: None,
            compaction_keep_revisions: None,
            extra_args: Vec::new(),
            dir: None,
            binary: None,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        }
    }
}

impl ClusterOptions {
    /// The `serve` flags shared by every member (not id, dirs, addresses).
    fn tuning_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        let mut flag = |name: &str, value: Option<u64>| {
            if let Some(value) = value {
                args.push(OsString::from(name));
                args.push(OsString::from(value.to_string()));
            }
        };
        flag("--heartbeat-ms", self.heartbeat_ms);
        flag("--election-timeout-ms", self.election_timeout_ms);
        flag("--snapshot-logs", self.snapshot_logs);
        flag("--keep-logs", self.keep_logs);
        flag("--compaction-age-secs", self.compaction_age_secs);
        flag(
            "--compaction-keep-revisions",
            self.compaction_keep_revisions,
        );
        args.extend(self.extra_args.iter().map(OsString::from));
        args
    }
}

/// How a member finds its cluster on a pristine data dir.
enum Bootstrap {
    /// `--initial-cluster 1=addr,2=addr,...`
    Initial(String),
    /// `--join <peer addr of a member>`
    Join(SocketAddr),
}

#[derive(Debug)]
struct Member {
    id: u64,
    peer_addr: SocketAddr,
    api_addr: SocketAddr,
    data_dir: PathBuf,
    spec: ProcessSpec,
    process: Option<ChildProcess>,
    client: StoreClient,
    /// Short timeouts, for leader and health probes.
    probe: StoreClient,
}

impl Member {
    fn name(id: u64) -> String {
        format!("raftplane member {id}")
    }

    fn running(&self) -> Option<&ChildProcess> {
        self.process.as_ref()
    }

    /// Running and not paused: expected to answer.
    fn live(&self) -> bool {
        self.process.as_ref().is_some_and(|p| !p.is_paused())
    }
}

/// A cluster of `raftplane serve` processes on 127.0.0.1.
///
/// Methods that wait are async; they need a tokio runtime with the time
/// and io drivers enabled.
pub struct Cluster {
    members: BTreeMap<u64, Member>,
    options: ClusterOptions,
    binary: PathBuf,
    dir: PathBuf,
    reserved_ports: HashSet<u16>,
    tempdir: Option<TempDir>,
    spawner: Spawner,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("dir", &self.dir)
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Starts `options.members` members with `--initial-cluster` and waits
    /// until each is healthy (not for a leader: see
    /// [`Cluster::wait_for_leader`]). Retries on fresh ports when a picked
    /// port was taken meanwhile.
    pub async fn start(options: ClusterOptions) -> Result<Self, HarnessError> {
        if options.members == 0 {
            return Err(HarnessError::InvalidOptions(
                "members must be at least 1".to_owned(),
            ));
        }
        let binary = match &options.binary {
            Some(binary) => binary.clone(),
            None => raftplane_bin()?,
        };
        let (tempdir, dir) = match &options.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(io_error(format!("creating {}", dir.display())))?;
                (None, dir.clone())
            }
            None => {
                let tempdir = tempfile::Builder::new()
                    .prefix("raftplane-cluster-")
                    .tempdir()
                    .map_err(io_error("creating the cluster temp dir"))?;
                let dir = tempdir.path().to_path_buf();
                (Some(tempdir), dir)
            }
        };
        let spawner = Spawner::new().map_err(io_error("starting the spawner thread"))?;
        let mut cluster = Cluster {
            members: BTreeMap::new(),
            options,
            binary,
            dir,
            reserved_ports: HashSet::new(),
            tempdir,
            spawner,
        };
        let ids: Vec<u64> = (1..=cluster.options.members).collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match cluster.start_initial(&ids).await {
                Ok(()) => return Ok(cluster),
                Err(HarnessError::StartFailed {
                    addr_in_use: true,
                    name,
                    ..
                }) if attempt < PORT_ATTEMPTS => {
                    tracing::info!(%name, attempt, "port taken; restarting the cluster on fresh ports");
                    cluster.discard_members()?;
                }
                Err(e) => {
                    // The error names member logs: keep them readable.
                    if let Some(tempdir) = cluster.tempdir.take() {
                        let _ = tempdir.keep();
                    }
                    return Err(e);
                }
            }
        }
    }

    async fn start_initial(&mut self, ids: &[u64]) -> Result<(), HarnessError> {
        let count = ids.len() * 2;
        let ports =
            pick_ports(count, &mut self.reserved_ports).map_err(io_error("picking free ports"))?;
        let addrs: Vec<(SocketAddr, SocketAddr)> = ports
            .chunks_exact(2)
            .map(|pair| (localhost(pair[0]), localhost(pair[1])))
            .collect();
        let initial_cluster = ids
            .iter()
            .zip(&addrs)
            .map(|(id, (peer, _))| format!("{id}={peer}"))
            .collect::<Vec<_>>()
            .join(",");
        for (&id, &(peer_addr, api_addr)) in ids.iter().zip(&addrs) {
            let member = self.new_member(
                id,
                peer_addr,
                api_addr,
                Bootstrap::Initial(initial_cluster.clone()),
            )?;
            self.members.insert(id, member);
        }
        for &id in ids {
            self.spawn(id)?;
        }
        self.wait_healthy(ids).await
    }

    /// Kills and forgets every member and wipes its data dir (a failed
    /// start attempt).
    fn discard_members(&mut self) -> Result<(), HarnessError> {
        for (_, member) in std::mem::take(&mut self.members) {
            let data_dir = member.data_dir.clone();
            drop(member); // ChildProcess::drop kills and reaps.
            if data_dir.exists() {
                std::fs::remove_dir_all(&data_dir)
                    .map_err(io_error(format!("wiping {}", data_dir.display())))?;
            }
        }
        Ok(())
    }

    fn new_member(
        &self,
        id: u64,
        peer_addr: SocketAddr,
        api_addr: SocketAddr,
        bootstrap: Bootstrap,
    ) -> Result<Member, HarnessError> {
        let data_dir = self.dir.join(format!("member-{id}"));
        let log_path = self.log_path(id);
        let mut args: Vec<OsString> = vec![
            "serve".into(),
            "--id".into(),
            id.to_string().into(),
            "--data-dir".into(),
            data_dir.clone().into(),
            "--peer-addr".into(),
            peer_addr.to_string().into(),
            "--api-addr".into(),
            api_addr.to_string().into(),
        ];
        match bootstrap {
            Bootstrap::Initial(initial_cluster) => {
                args.push("--initial-cluster".into());
                args.push(initial_cluster.into());
            }
            Bootstrap::Join(target) => {
                args.push("--join".into());
                args.push(target.to_string().into());
            }
        }
        args.extend(self.options.tuning_args());
        let mut env = Vec::new();
        if std::env::var_os("RUST_BACKTRACE").is_none() {
            env.push(("RUST_BACKTRACE".into(), "1".into()));
        }
        let addr = peer_addr.to_string();
        let probe_options = ClientOptions {
            connect_timeout: PROBE_TIMEOUT,
            request_timeout: PROBE_TIMEOUT,
        };
        Ok(Member {
            id,
            peer_addr,
            api_addr,
            data_dir,
            spec: ProcessSpec {
                name: Member::name(id),
                program: self.binary.clone(),
                args,
                env,
                log_path,
            },
            process: None,
            client: StoreClient::new(&addr)?,
            probe: StoreClient::with_options(&addr, probe_options)?,
        })
    }

    fn spawn(&mut self, id: u64) -> Result<(), HarnessError> {
        let member = self
            .members
            .get_mut(&id)
            .ok_or(HarnessError::NoSuchMember { id })?;
        if let Some(process) = &member.process {
            return Err(HarnessError::StillRunning {
                id,
                pid: process.pid(),
            });
        }
        std::fs::create_dir_all(&member.data_dir)
            .map_err(io_error(format!("creating {}", member.data_dir.display())))?;
        let process = ChildProcess::spawn(&self.spawner, &member.spec)
            .map_err(io_error(format!("starting {}", member.spec.name)))?;
        tracing::info!(id, pid = process.pid(), peer_addr = %member.peer_addr, "member started");
        member.process = Some(process);
        Ok(())
    }

    /// Waits until every member in `ids` answers /healthz (or Status). A
    /// member whose process exits meanwhile fails the wait.
    async fn wait_healthy(&mut self, ids: &[u64]) -> Result<(), HarnessError> {
        let timeout = self.options.startup_timeout;
        let deadline = Instant::now() + timeout;
        let mut pending: Vec<u64> = ids.to_vec();
        while !pending.is_empty() {
            let mut still_pending = Vec::new();
            for id in pending {
                let member = self
                    .members
                    .get_mut(&id)
                    .ok_or(HarnessError::NoSuchMember { id })?;
                let process = member
                    .process
                    .as_mut()
                    .ok_or_else(|| HarnessError::NotRunning {
                        id,
                        log: member.spec.log_path.clone(),
                    })?;
                let exited = process
                    .try_wait()
                    .map_err(io_error(format!("waiting for {}", member.spec.name)))?;
                if let Some(status) = exited {
                    let output = process.output();
                    let failure = HarnessError::StartFailed {
                        name: member.spec.name.clone(),
                        reason: format!("exited with {status}"),
                        log: member.spec.log_path.clone(),
                        tail: process.output_tail(),
                        addr_in_use: mentions_addr_in_use(&output),
                    };
                    member.process = None;
                    return Err(failure);
                }
                if !is_healthy(member).await {
                    still_pending.push(id);
                }
            }
            pending = still_pending;
            if pending.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                let id = pending[0];
                let member = &self.members[&id];
                return Err(HarnessError::StartFailed {
                    name: member.spec.name.clone(),
                    reason: format!(
                        "not healthy within {} ms (members still pending: {pending:?})",
                        millis(timeout)
                    ),
                    log: member.spec.log_path.clone(),
                    tail: member
                        .process
                        .as_ref()
                        .map(ChildProcess::output_tail)
                        .unwrap_or_default(),
                    addr_in_use: false,
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Ok(())
    }

    /// The member every live (running, not paused) member that answers
    /// names as leader, if they agree, a majority of live members answered,
    /// and the leader itself answers as leader.
    pub async fn leader(&self) -> Option<u64> {
        let (live, statuses) = self.live_statuses().await;
        agreed_leader(live, &statuses)
    }

    /// Polls [`Cluster::leader`] until there is one.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<u64, HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            let (live, statuses) = self.live_statuses().await;
            if let Some(leader) = agreed_leader(live, &statuses) {
                return Ok(leader);
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::NoLeader {
                    timeout_ms: millis(timeout),
                    statuses: summarize(&statuses),
                    dir: self.dir.clone(),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Status of every live member (`Err` text for those that failed), and
    /// the number of live members.
    async fn live_statuses(&self) -> (usize, Vec<(u64, Result<StatusResponse, String>)>) {
        let live: Vec<&Member> = self.members.values().filter(|m| m.live()).collect();
        let probes = live.iter().map(|member| async move {
            let status = member.probe.status().await.map_err(|e| e.to_string());
            (member.id, status)
        });
        let statuses = futures::future::join_all(probes).await;
        (live.len(), statuses)
    }

    /// A client for member `id` (its peer address). The connection is
    /// shared by all clients of the member and survives restarts.
    pub fn client(&self, id: u64) -> Result<StoreClient, HarnessError> {
        Ok(self.member(id)?.client.clone())
    }

    /// SIGKILL member `id` and reap it. Fails with [`HarnessError::Exited`]
    /// if it had already exited on its own (a crash worth reporting).
    pub async fn kill(&mut self, id: u64) -> Result<(), HarnessError> {
        let member = self.member_mut(id)?;
        let mut process = take_running(member)?;
        if let Some(status) = process
            .try_wait()
            .map_err(io_error(format!("checking {}", process.name())))?
        {
            return Err(exited(&process, status));
        }
        process
            .kill()
            .await
            .map_err(io_error(format!("killing {}", process.name())))?;
        tracing::info!(id, "member killed");
        Ok(())
    }

    /// SIGTERM member `id`, wait up to [`STOP_GRACE`], then SIGKILL.
    /// Returns how it exited (a clean stop exits 0).
    pub async fn stop(&mut self, id: u64) -> Result<ExitStatus, HarnessError> {
        let member = self.member_mut(id)?;
        let mut process = take_running(member)?;
        let status = process
            .terminate(STOP_GRACE)
            .await
            .map_err(io_error(format!("stopping {}", process.name())))?;
        tracing::info!(id, %status, "member stopped");
        Ok(status)
    }

    /// Starts member `id` again after [`Cluster::kill`] or
    /// [`Cluster::stop`]: same arguments, ports and data dir. Waits until
    /// it is healthy.
    pub async fn restart(&mut self, id: u64) -> Result<(), HarnessError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.spawn(id)?;
            match self.wait_healthy(&[id]).await {
                Ok(()) => return Ok(()),
                // Same ports are required; the taker may let go soon.
                Err(HarnessError::StartFailed {
                    addr_in_use: true, ..
                }) if attempt < PORT_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// SIGSTOP member `id`: it keeps its sockets but answers nothing.
    pub fn pause(&mut self, id: u64) -> Result<(), HarnessError> {
        let member = self.member_mut(id)?;
        let log = member.spec.log_path.clone();
        let process = member
            .process
            .as_mut()
            .ok_or(HarnessError::NotRunning { id, log })?;
        process
            .pause()
            .map_err(io_error(format!("pausing {}", process.name())))
    }

    /// SIGCONT member `id`.
    pub fn resume(&mut self, id: u64) -> Result<(), HarnessError> {
        let member = self.member_mut(id)?;
        let log = member.spec.log_path.clone();
        let process = member
            .process
            .as_mut()
            .ok_or(HarnessError::NotRunning { id, log })?;
        process
            .resume()
            .map_err(io_error(format!("resuming {}", process.name())))
    }

    /// Starts a new member `id` with `--join` to a live member (the leader
    /// if there is one), with the cluster's option set, and waits until it
    /// is healthy and the leader lists it as a voter.
    pub async fn add_member(&mut self, id: u64) -> Result<(), HarnessError> {
        if self.members.contains_key(&id) {
            return Err(HarnessError::MemberExists { id });
        }
        let target = match self.leader().await {
            Some(leader) => self.member(leader)?.peer_addr,
            None => self
                .members
                .values()
                .find(|m| m.live())
                .map(|m| m.peer_addr)
                .ok_or_else(|| HarnessError::InvalidOptions("no live member to join".to_owned()))?,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let ports =
                pick_ports(2, &mut self.reserved_ports).map_err(io_error("picking free ports"))?;
            let member = self.new_member(
                id,
                localhost(ports[0]),
                localhost(ports[1]),
                Bootstrap::Join(target),
            )?;
            self.members.insert(id, member);
            self.spawn(id)?;
            match self.wait_healthy(&[id]).await {
                Ok(()) => break,
                Err(HarnessError::StartFailed {
                    addr_in_use: true, ..
                }) if attempt < PORT_ATTEMPTS => {
                    self.members.remove(&id);
                }
                Err(e) => return Err(e),
            }
        }
        self.wait_for_voter(id, self.options.startup_timeout).await
    }

    /// Waits until the agreed leader's Status lists `id` as a voter.
    pub async fn wait_for_voter(&self, id: u64, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("no leader");
        loop {
            if let Some(leader) = self.leader().await {
                match self.member(leader)?.probe.status().await {
                    Ok(status) => {
                        if status.members.iter().any(|m| m.id == id && m.voter) {
                            return Ok(());
                        }
                        last = format!("leader {leader} lists members {:?}", status.members);
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!("member {id} as voter"),
                    timeout_ms: millis(timeout),
                    detail: last,
                    dir: self.dir.clone(),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Fails with [`HarnessError::Exited`] for the first member that should
    /// be running but exited on its own. Call it at the end of a test.
    pub fn check_alive(&mut self) -> Result<(), HarnessError> {
        for member in self.members.values_mut() {
            if let Some(process) = member.process.as_mut() {
                let exit = process
                    .try_wait()
                    .map_err(io_error(format!("checking {}", process.name())))?;
                if let Some(status) = exit {
                    let error = exited(process, status);
                    member.process = None;
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Every member ever started, running or not, ascending.
    pub fn member_ids(&self) -> Vec<u64> {
        self.members.keys().copied().collect()
    }

    /// Members whose process the harness believes is running (paused
    /// included).
    pub fn running_ids(&self) -> Vec<u64> {
        self.members
            .values()
            .filter(|m| m.running().is_some())
            .map(|m| m.id)
            .collect()
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.members.get(&id).is_some_and(|m| m.running().is_some())
    }

    pub fn pid(&self, id: u64) -> Option<u32> {
        self.members.get(&id)?.running().map(ChildProcess::pid)
    }

    /// `<dir>/member-<id>.log`, whether or not the member exists.
    pub fn log_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("member-{id}.log"))
    }

    pub fn peer_addr(&self, id: u64) -> Result<SocketAddr, HarnessError> {
        Ok(self.member(id)?.peer_addr)
    }

    pub fn api_addr(&self, id: u64) -> Result<SocketAddr, HarnessError> {
        Ok(self.member(id)?.api_addr)
    }

    pub fn data_dir(&self, id: u64) -> Result<&Path, HarnessError> {
        Ok(&self.member(id)?.data_dir)
    }

    /// The cluster dir (data dirs and logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn member(&self, id: u64) -> Result<&Member, HarnessError> {
        self.members
            .get(&id)
            .ok_or(HarnessError::NoSuchMember { id })
    }

    fn member_mut(&mut self, id: u64) -> Result<&mut Member, HarnessError> {
        self.members
            .get_mut(&id)
            .ok_or(HarnessError::NoSuchMember { id })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Kill every member before the spawner thread exits (which would
        // SIGKILL them anyway via PDEATHSIG) and before the dir goes.
        for member in self.members.values_mut() {
            drop(member.process.take());
        }
        if std::thread::panicking()
            && let Some(tempdir) = self.tempdir.take()
        {
            let dir = tempdir.keep();
            eprintln!("chaos: kept cluster dir {} (member logs)", dir.display());
        }
    }
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn take_running(member: &mut Member) -> Result<ChildProcess, HarnessError> {
    member
        .process
        .take()
        .ok_or_else(|| HarnessError::NotRunning {
            id: member.id,
            log: member.spec.log_path.clone(),
        })
}

fn exited(process: &ChildProcess, status: ExitStatus) -> HarnessError {
    HarnessError::Exited {
        name: process.name().to_owned(),
        status,
        log: process.log_path().to_path_buf(),
        tail: process.output_tail(),
    }
}

async fn is_healthy(member: &Member) -> bool {
    healthz(member.api_addr).await || member.probe.status().await.is_ok()
}

/// `GET /healthz` answered 200.
pub async fn healthz(addr: SocketAddr) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut reply = Vec::new();
        (&mut stream)
            .take(HEALTHZ_MAX_BYTES)
            .read_to_end(&mut reply)
            .await
            .ok()?;
        Some(reply.starts_with(b"HTTP/1.1 200") || reply.starts_with(b"HTTP/1.0 200"))
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, probe).await,
        Ok(Some(true))
    )
}

/// The leader every answering member names, if (1) a majority of the
/// `live` members answered, (2) they all name the same leader, and (3) the
/// leader answered and calls itself leader.
fn agreed_leader(live: usize, statuses: &[(u64, Result<StatusResponse, String>)]) -> Option<u64> {
    let answers: Vec<(u64, &StatusResponse)> = statuses
        .iter()
        .filter_map(|(id, status)| status.as_ref().ok().map(|s| (*id, s)))
        .collect();
    if answers.is_empty() || answers.len() < live / 2 + 1 {
        return None;
    }
    let leader = answers[0].1.leader_id?;
    if answers.iter().any(|(_, s)| s.leader_id != Some(leader)) {
        return None;
    }
    answers
        .iter()
        .any(|(id, s)| *id == leader && s.role == "leader")
        .then_some(leader)
}

fn summarize(statuses: &[(u64, Result<StatusResponse, String>)]) -> String {
    let mut out = String::new();
    for (id, status) in statuses {
        let _ = match status {
            Ok(s) => write!(
                out,
                "[{id}: role={} term={} leader={:?} applied={}] ",
                s.role, s.term, s.leader_id, s.applied_index
            ),
            Err(e) => write!(out, "[{id}: {e}] "),
        };
    }
    if out.is_empty() {
        out.push_str("no live members");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: u64, role: &str, leader: Option<u64>) -> (u64, Result<StatusResponse, String>) {
        (
            id,
            Ok(StatusResponse {
                id,
                role: role.to_owned(),
                leader_id: leader,
                ..StatusResponse::default()
            }),
        )
    }

    #[test]
    fn picked_ports_are_distinct() {
        let mut reserved = HashSet::new();
        let ports = pick_ports(8, &mut reserved).expect("ports");
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), 8);
        assert_eq!(reserved, distinct);
        // Not asserted: that each port is still free. Anything on the
        // machine may take it meanwhile (that race is why starts retry).
        assert!(ports.iter().all(|p| *p != 0));
        let more = pick_ports(4, &mut reserved).expect("ports");
        assert!(more.iter().all(|p| !distinct.contains(p)));
    }

    #[test]
    fn leader_needs_agreement() {
        let agreed = [
            status(1, "follower", Some(2)),
            status(2, "leader", Some(2)),
            status(3, "follower", Some(2)),
        ];
        assert_eq!(agreed_leader(3, &agreed), Some(2));

        let split = [
            status(1, "leader", Some(1)),
            status(2, "leader", Some(2)),
            status(3, "follower", Some(2)),
        ];
        assert_eq!(agreed_leader(3, &split), None);

        // The named leader did not answer (or is paused): not usable.
        let absent = [
            status(1, "follower", Some(3)),
            status(2, "follower", Some(3)),
        ];
        assert_eq!(agreed_leader(3, &absent), None);

        // Still a candidate.
        let unsure = [status(1, "candidate", None), status(2, "leader", Some(2))];
        assert_eq!(agreed_leader(2, &unsure), None);
    }

    #[test]
    fn leader_needs_a_majority_of_live_members() {
        let one = [
            status(1, "leader", Some(1)),
            (2, Err("timeout".to_owned())),
            (3, Err("timeout".to_owned())),
        ];
        assert_eq!(agreed_leader(3, &one), None);
        let two = [
            status(1, "leader", Some(1)),
            status(2, "follower", Some(1)),
            (3, Err("timeout".to_owned())),
        ];
        assert_eq!(agreed_leader(3, &two), Some(1));
        assert_eq!(agreed_leader(0, &[]), None);
    }

    #[test]
    fn tuning_args_only_name_set_options() {
        let options = ClusterOptions {
            heartbeat_ms: Some(50),
            keep_logs: Some(7),
            extra_args: vec!["--foo".to_owned()],
            ..ClusterOptions::default()
        };
        let args: Vec<String> = options
            .tuning_args()
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["--heartbeat-ms", "50", "--keep-logs", "7", "--foo"]);
    }

    #[test]
    fn missing_binary_error_says_how_to_build_it() {
        let error = HarnessError::BinaryNotFound {
            searched: vec![PathBuf::from("/x/raftplane")],
        };
        let text = error.to_string();
        assert!(text.contains("cargo build -p raftplane"), "{text}");
        assert!(text.contains("/x/raftplane"), "{text}");
    }
}
