//! `raftplane-chaos`: benchmarks (and, later, chaos runs) over real member
//! processes. Thin: the work is in the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use raftplane_chaos::bench::{self, LoadReport, LoadSpec};
use raftplane_chaos::bench_api::{self, ApiBenchSpec, ApiRow, Targets};
use raftplane_chaos::client::{ClientOptions, DEFAULT_CONNECT_TIMEOUT, channel};
use raftplane_chaos::etcd::{EtcdCluster, which};
use raftplane_chaos::{Cluster, ClusterOptions, StoreClient};
use raftplane_proto::MAX_MESSAGE_BYTES;
use raftplane_proto::etcd::PutRequest;
use raftplane_proto::etcd::kv_client::KvClient as EtcdKvClient;

/// Members per cluster, for both systems.
const CLUSTER_MEMBERS: usize = 3;
/// Bounds on the bench's inputs: every writer holds one request in flight.
const MAX_WRITERS: usize = 4096;
const MAX_DURATION_SECS: u64 = 3600;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const LEADER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(
    name = "raftplane-chaos",
    about = "Chaos harness and benchmarks for raftplane"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmarks.
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Subcommand)]
enum Bench {
    /// Closed-loop puts against the leader of a 3-member raftplane cluster,
    /// then of a 3-member etcd cluster, same workload, same disk.
    Store(StoreArgs),
    /// Kubernetes REST API loads (pod create, consistent get, selector
    /// list, watch fan-out) against a 3-member raftplane cluster.
    Api(ApiArgs),
}

#[derive(Args, Clone, Debug)]
struct ApiArgs {
    /// Measured seconds per load (create, get, each list, watch writes).
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Warm-up seconds before each closed-loop measurement.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Closed-loop clients (one HTTP/1.1 connection each) of the create
    /// and get loads, spread over the members.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Skip the create variant with every client on the leader.
    #[arg(long)]
    no_leader_create: bool,
    /// Pods in the listed namespace.
    #[arg(long, default_value_t = 5_000)]
    list_pods: usize,
    /// Closed-loop clients of the list load.
    #[arg(long, default_value_t = 1)]
    list_clients: usize,
    /// Watch streams, spread over the members (0: skip the watch load).
    #[arg(long, default_value_t = 1_000)]
    watchers: usize,
    /// Watch writer rate, writes per second (half creates, half patches).
    #[arg(long, default_value_t = 20)]
    watch_rate: u32,
    /// Seconds before one request counts as failed.
    #[arg(long, default_value_t = 5)]
    op_timeout_secs: u64,
    /// Parent of the run's data dir (default: the system temp dir).
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Keep data dirs and logs after the run.
    #[arg(long)]
    keep_data: bool,
}

#[derive(Args, Clone, Debug)]
struct StoreArgs {
    /// Measured seconds per writer count.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Warm-up seconds before each measurement.
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Writer counts to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,256")]
    writers: Vec<usize>,
    /// Bytes per value.
    #[arg(long, default_value_t = 256)]
    value_size: usize,
    /// Size of the key space (`/bench/<n>`, n uniform).
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// gRPC connections to the leader per system (writers spread over
    /// them), so that per-connection stream limits do not cap 256 writers.
    #[arg(long, default_value_t = 16)]
    conns: usize,
    /// Seconds before one put counts as failed.
    #[arg(long, default_value_t = 5)]
    op_timeout_secs: u64,
    /// Skip the etcd baseline.
    #[arg(long)]
    no_etcd: bool,
    /// Skip raftplane (e.g. to check the etcd half alone).
    #[arg(long)]
    no_raftplane: bool,
    /// Parent of the run's data dirs (default: the system temp dir). Both
    /// systems use it, so they share a disk.
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Keep data dirs and logs after the run.
    #[arg(long)]
    keep_data: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Bench(Bench::Store(args)) => bench_store(args).await,
        Command::Bench(Bench::Api(args)) => bench_api(args).await,
    }
}

async fn bench_store(args: StoreArgs) -> anyhow::Result<()> {
    validate(&args)?;
    let root_parent = args.data_root.clone().unwrap_or_else(std::env::temp_dir);
    let root = tempfile::Builder::new()
        .prefix("raftplane-bench-")
        .tempdir_in(&root_parent)
        .with_context(|| format!("creating a run dir in {}", root_parent.display()))?;
    println!(
        "store bench: {CLUSTER_MEMBERS} members per system, closed loop against the leader, \
         {} B values, {} keys, {} s warm-up + {} s measured per writer count, \
         up to {} connections; data in {}",
        args.value_size,
        args.keys,
        args.warmup_secs,
        args.duration_secs,
        args.conns,
        root.path().display()
    );

    let result = run_systems(&args, root.path()).await;
    if args.keep_data || result.is_err() {
        let kept = root.keep();
        eprintln!("kept data dirs and logs in {}", kept.display());
    }
    let (raftplane, etcd) = result?;

    println!();
    let mut rows: Vec<(&str, &LoadReport)> = Vec::new();
    rows.extend(raftplane.iter().map(|r| ("raftplane", r)));
    rows.extend(etcd.iter().map(|r| ("etcd", r)));
    print!("{}", bench::results_table(&rows));
    for (system, report) in &rows {
        if let Some(error) = &report.first_error {
            println!(
                "{system} writers={}: {} errors, {} writers aborted; first error: {error}",
                report.writers, report.errors, report.aborted_writers
            );
        }
    }
    if !raftplane.is_empty() && !etcd.is_empty() {
        println!("\nraftplane / etcd (same run):");
        print!(
            "{}",
            bench::ratio_table(&raftplane, &etcd, ("raftplane", "etcd"))
        );
    }
    Ok(())
}

async fn bench_api(args: ApiArgs) -> anyhow::Result<()> {
    if !(1..=MAX_DURATION_SECS).contains(&args.duration_secs)
        || args.warmup_secs > MAX_DURATION_SECS
        || !(1..=MAX_DURATION_SECS).contains(&args.op_timeout_secs)
    {
        bail!(
            "--duration-secs, --warmup-secs and --op-timeout-secs must be at most {MAX_DURATION_SECS} (and positive but for warm-up)"
        );
    }
    let spec = ApiBenchSpec {
        warmup: Duration::from_secs(args.warmup_secs),
        duration: Duration::from_secs(args.duration_secs),
        clients: args.clients,
        leader_create: !args.no_leader_create,
        list_pods: args.list_pods,
        list_clients: args.list_clients,
        watchers: args.watchers,
        watch_rate: args.watch_rate,
        op_timeout: Duration::from_secs(args.op_timeout_secs),
    };
    spec.validate().map_err(anyhow::Error::msg)?;
    // Before the members start: they inherit the limit, and each holds
    // about a third of the watch streams.
    let nofile = bench_api::raise_nofile_limit(spec.fds_needed()).map_err(anyhow::Error::msg)?;

    let root_parent = args.data_root.clone().unwrap_or_else(std::env::temp_dir);
    let root = tempfile::Builder::new()
        .prefix("raftplane-bench-api-")
        .tempdir_in(&root_parent)
        .with_context(|| format!("creating a run dir in {}", root_parent.display()))?;
    println!(
        "api bench: {CLUSTER_MEMBERS} members, HTTP/1.1, {} s warm-up + {} s measured per load, \
         {} clients (create, get), {} list clients over {} pods, {} watchers at {} writes/s; \
         RLIMIT_NOFILE {nofile}; data in {}",
        args.warmup_secs,
        args.duration_secs,
        spec.clients,
        spec.list_clients,
        spec.list_pods,
        spec.watchers,
        spec.watch_rate,
        root.path().display()
    );
    println!(
        "note: the bench runs on the same {} CPUs as the members and competes with them",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let result = run_api_bench(&spec, &root.path().join("raftplane")).await;
    if args.keep_data || result.is_err() {
        let kept = root.keep();
        eprintln!("kept data dirs and logs in {}", kept.display());
    }
    let rows = result?;
    println!();
    print!("{}", bench_api::results_table(&rows));
    for row in &rows {
        if let Some(error) = &row.first_error {
            println!("{}: {} errors; first error: {error}", row.load, row.errors);
        }
    }
    Ok(())
}

async fn run_api_bench(spec: &ApiBenchSpec, dir: &Path) -> anyhow::Result<Vec<ApiRow>> {
    eprintln!("starting raftplane cluster in {}", dir.display());
    let mut cluster = Cluster::start(ClusterOptions {
        members: CLUSTER_MEMBERS as u64,
        dir: Some(dir.to_path_buf()),
        startup_timeout: STARTUP_TIMEOUT,
        ..ClusterOptions::default()
    })
    .await
    .context("starting the raftplane cluster")?;
    let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await?;
    let members = cluster
        .member_ids()
        .into_iter()
        .map(|id| cluster.api_addr(id))
        .collect::<Result<Vec<_>, _>>()?;
    let targets = Targets {
        members,
        leader: cluster.api_addr(leader)?,
    };
    eprintln!(
        "leader is member {leader} (API {}); members' APIs: {:?}",
        targets.leader, targets.members
    );
    let rows = bench_api::run(&targets, spec, &|line: &str| eprintln!("  {line}"))
        .await
        .map_err(anyhow::Error::msg)?;
    cluster
        .check_alive()
        .context("a raftplane member died during the bench")?;
    Ok(rows)
}

fn validate(args: &StoreArgs) -> anyhow::Result<()> {
    if args.writers.is_empty() || args.writers.iter().any(|w| !(1..=MAX_WRITERS).contains(w)) {
        bail!("--writers: each count must be in 1..={MAX_WRITERS}");
    }
    if !(1..=MAX_DURATION_SECS).contains(&args.duration_secs) {
        bail!("--duration-secs must be in 1..={MAX_DURATION_SECS}");
    }
    if args.warmup_secs > MAX_DURATION_SECS {
        bail!("--warmup-secs must be at most {MAX_DURATION_SECS}");
    }
    if args.keys == 0 || args.conns == 0 || args.op_timeout_secs == 0 {
        bail!("--keys, --conns and --op-timeout-secs must be positive");
    }
    if args.value_size > MAX_MESSAGE_BYTES / 2 {
        bail!("--value-size must be at most {}", MAX_MESSAGE_BYTES / 2);
    }
    Ok(())
}

async fn run_systems(
    args: &StoreArgs,
    root: &Path,
) -> anyhow::Result<(Vec<LoadReport>, Vec<LoadReport>)> {
    let mut raftplane = Vec::new();
    if !args.no_raftplane {
        raftplane = bench_raftplane(args, &root.join("raftplane")).await?;
    }
    let mut etcd = Vec::new();
    if !args.no_etcd {
        match which("etcd") {
            None => println!("etcd not installed: skipping baseline (apt-get install etcd-server)"),
            Some(bin) => etcd = bench_etcd(args, &bin, &root.join("etcd")).await?,
        }
    }
    Ok((raftplane, etcd))
}

fn load_spec(args: &StoreArgs, writers: usize) -> LoadSpec {
    LoadSpec {
        writers,
        warmup: Duration::from_secs(args.warmup_secs),
        duration: Duration::from_secs(args.duration_secs),
        keys: args.keys,
        value_size: args.value_size,
        op_timeout: Duration::from_secs(args.op_timeout_secs),
        ..LoadSpec::default()
    }
}

fn client_options(args: &StoreArgs) -> ClientOptions {
    ClientOptions {
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        // The driver's op timeout is the one that counts; this only keeps
        // the client from waiting forever on its own.
        request_timeout: Duration::from_secs(args.op_timeout_secs + 1),
    }
}

fn progress(system: &str, report: &LoadReport) {
    eprintln!(
        "  {system} writers={}: {:.1} ops/s, p99 {:?}, {} errors",
        report.writers,
        report.ops_per_sec(),
        report.latencies.percentile(0.99),
        report.errors
    );
}

async fn bench_raftplane(args: &StoreArgs, dir: &Path) -> anyhow::Result<Vec<LoadReport>> {
    eprintln!("starting raftplane cluster in {}", dir.display());
    let mut cluster = Cluster::start(ClusterOptions {
        members: CLUSTER_MEMBERS as u64,
        dir: Some(dir.to_path_buf()),
        startup_timeout: STARTUP_TIMEOUT,
        ..ClusterOptions::default()
    })
    .await
    .context("starting the raftplane cluster")?;
    let mut reports = Vec::new();
    for &writers in &args.writers {
        let leader = cluster.wait_for_leader(LEADER_TIMEOUT).await?;
        let addr = cluster.peer_addr(leader)?.to_string();
        eprintln!("raftplane: leader is member {leader} ({addr}); {writers} writers");
        let clients = (0..args.conns.min(writers))
            .map(|_| StoreClient::with_options(&addr, client_options(args)))
            .collect::<Result<Vec<_>, _>>()?;
        let clients = Arc::new(clients);
        let report = bench::closed_loop(&load_spec(args, writers), move |writer, key, value| {
            let client = clients[writer % clients.len()].clone();
            async move { client.put(key, value).await.map(|_revision| ()) }
        })
        .await;
        progress("raftplane", &report);
        reports.push(report);
    }
    cluster
        .check_alive()
        .context("a raftplane member died during the bench")?;
    Ok(reports)
}

async fn bench_etcd(args: &StoreArgs, bin: &Path, dir: &Path) -> anyhow::Result<Vec<LoadReport>> {
    eprintln!(
        "starting etcd cluster ({}) in {}",
        bin.display(),
        dir.display()
    );
    let cluster = EtcdCluster::start(bin, CLUSTER_MEMBERS, dir, STARTUP_TIMEOUT)
        .await
        .context("starting the etcd cluster")?;
    let mut reports = Vec::new();
    for &writers in &args.writers {
        let leader = match cluster.leader().await? {
            Some(leader) => leader,
            None => {
                let first = cluster.members()[0].client_addr;
                eprintln!("etcdctl not installed: sending to {first}; etcd forwards to its leader");
                first
            }
        };
        eprintln!("etcd: leader at {leader}; {writers} writers");
        let options = client_options(args);
        let clients = (0..args.conns.min(writers))
            .map(|_| {
                channel(&leader.to_string(), &options).map(|channel| {
                    EtcdKvClient::new(channel)
                        .max_decoding_message_size(MAX_MESSAGE_BYTES)
                        .max_encoding_message_size(MAX_MESSAGE_BYTES)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let clients = Arc::new(clients);
        let report = bench::closed_loop(&load_spec(args, writers), move |writer, key, value| {
            let mut client = clients[writer % clients.len()].clone();
            async move {
                client
                    .put(PutRequest {
                        key,
                        value,
                        ..PutRequest::default()
                    })
                    .await
                    .map(|_response| ())
            }
        })
        .await;
        progress("etcd", &report);
        reports.push(report);
    }
    Ok(reports)
}
