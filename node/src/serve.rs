//! `raftplane serve`: one member process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use anyhow::bail;
use clap::Args;
use raftplane_proto::v1 as pb;
use raftplane_proto::v1::cluster_client::ClusterClient;
use raftplane_store::MemberConfig;
use raftplane_store::RaftMember;
use raftplane_store::grpc;
use tokio::sync::watch;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// This member's id (a positive integer, never reused).
    #[arg(long)]
    pub id: u64,
    /// Directory for the Raft log, state and snapshots.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Address for member-to-member and admin gRPC.
    #[arg(long)]
    pub peer_addr: SocketAddr,
    /// Address of the HTTP API (health endpoints, Kubernetes API).
    #[arg(long)]
    pub api_addr: SocketAddr,
    /// Voters of a new cluster: ID=HOST:PORT,... (peer addresses). The
    /// member with the lowest id initializes the cluster if its data
    /// directory is empty.
    #[arg(long, conflicts_with = "join")]
    pub initial_cluster: Option<String>,
    /// Join an existing cluster through any member's peer address.
    #[arg(long)]
    pub join: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub heartbeat_ms: u64,
    #[arg(long, default_value_t = 1000)]
    pub election_timeout_ms: u64,
    /// Build a snapshot after this many log entries (etcd's default
    /// snapshot-count).
    #[arg(long, default_value_t = 100_000)]
    pub snapshot_logs: u64,
    /// Log entries kept behind a snapshot.
    #[arg(long, default_value_t = 5_000)]
    pub keep_logs: u64,
    /// Drop watch history older than this.
    #[arg(long, default_value_t = 300)]
    pub compaction_age_secs: u64,
    /// Keep at most this many revisions of watch history.
    #[arg(long, default_value_t = 1_000_000)]
    pub compaction_keep_revisions: u64,
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    if args.id == 0 {
        bail!("--id must be a positive integer");
    }
    if args.initial_cluster.is_none() && args.join.is_none() && !args.data_dir.join("db").exists() {
        bail!("a new member needs --initial-cluster or --join");
    }
    let initial = match &args.initial_cluster {
        Some(s) => {
            let m = grpc::parse_initial_cluster(s)
                .map_err(|e| anyhow::anyhow!("--initial-cluster: {e}"))?;
            if !m.contains_key(&args.id) {
                bail!(
                    "--initial-cluster does not name this member's id {}",
                    args.id
                );
            }
            Some(m)
        }
        None => None,
    };
    // Bind both listeners first: a taken port is a clear error, not a panic.
    let peer_listener = grpc::bind(args.peer_addr)
        .await
        .with_context(|| format!("cannot listen on peer address {}", args.peer_addr))?;
    let api_listener = tokio::net::TcpListener::bind(args.api_addr)
        .await
        .with_context(|| format!("cannot listen on API address {}", args.api_addr))?;

    let mut config = MemberConfig::new(
        args.id,
        args.data_dir.clone(),
        args.peer_addr.to_string(),
        args.api_addr.to_string(),
    );
    config.heartbeat_ms = args.heartbeat_ms;
    config.election_timeout_ms = args.election_timeout_ms;
    config.snapshot_logs = args.snapshot_logs;
    config.keep_logs = args.keep_logs;
    config.compaction_age_secs = args.compaction_age_secs;
    config.compaction_keep_revisions = args.compaction_keep_revisions;
    let member = RaftMember::open(config)
        .await
        .context("cannot open the member's store")?;
    tracing::info!(id = args.id, peer = %args.peer_addr, api = %args.api_addr, "member started");

    let (stop_tx, stop_rx) = watch::channel(false);
    let grpc_task = tokio::spawn(grpc::serve(
        member.clone(),
        peer_listener,
        wait_stop(stop_rx.clone()),
    ));
    let api_router = raftplane_api::router(member.clone());
    let api_task = tokio::spawn(async move {
        axum::serve(api_listener, api_router)
            .with_graceful_shutdown(wait_stop(stop_rx))
            .await
    });

    if let Some(initial) = initial {
        let lowest = *initial
            .keys()
            .next()
            .expect("invariant: parse_initial_cluster rejects an empty list");
        if lowest == args.id
            && member
                .initialize(initial)
                .await
                .context("cannot initialize the cluster")?
        {
            tracing::info!("initialized a new cluster");
        }
    } else if let Some(target) = &args.join
        && !member.is_initialized().await?
    {
        join(&member, target, &args).await?;
    }

    shutdown_signal().await;
    tracing::info!("stopping");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), grpc_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), api_task).await;
    member.shutdown().await;
    Ok(())
}

/// Asks the cluster to add this member as a learner, wait for it to catch
/// up, and promote it. Retries while the cluster has no leader.
async fn join(member: &RaftMember, target: &str, args: &ServeArgs) -> anyhow::Result<()> {
    let endpoint = format!("http://{target}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let req = pb::AddMemberRequest {
        id: member.id(),
        peer_addr: args.peer_addr.to_string(),
        api_addr: args.api_addr.to_string(),
        promote: true,
    };
    loop {
        let attempt = async {
            let mut client = ClusterClient::connect(endpoint.clone()).await?;
            client.add_member(req.clone()).await?;
            anyhow::Ok(())
        }
        .await;
        match attempt {
            Ok(()) => {
                tracing::info!(%target, "joined the cluster as a voter");
                return Ok(());
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(%target, error = %e, "join failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e.context(format!("cannot join the cluster through {target}"))),
        }
    }
}

async fn wait_stop(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn shutdown_signal() {
    use tokio::signal::unix::SignalKind;
    use tokio::signal::unix::signal;
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers, run until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
