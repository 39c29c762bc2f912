//! `raftplane`: the member process and the operator CLI.
//!
//! `serve` runs one member; `up` runs a local N-member cluster of `serve`
//! processes; `status`, `member`, `snapshot` and `kv` talk to members over
//! gRPC. Errors are printed as one line (no backtrace) and exit 1.

mod admin;
mod serve;
mod up;

use std::path::PathBuf;

/// mimalloc for Rust allocations: the API builds and drops many small JSON
/// values per request, and glibc malloc spent a quarter of a pod-create
/// load in malloc/free/consolidate (RocksDB keeps its own allocator use).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use clap::Subcommand;

#[derive(Parser)]
#[command(
    name = "raftplane",
    version,
    about = "Raft-native highly available Kubernetes control plane"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one member.
    Serve(serve::ServeArgs),
    /// Start a local cluster of N members on 127.0.0.1 and keep it running
    /// until Ctrl-C. Running it again resumes from the same data.
    Up(up::UpArgs),
    /// Show every member's role, term, log progress and lag.
    Status(admin::EndpointArgs),
    /// Add, promote, remove or list members.
    #[command(subcommand)]
    Member(admin::MemberCommand),
    /// Build a snapshot on a member now and purge its log behind it.
    Snapshot(admin::SnapshotArgs),
    /// Read and write the replicated key/value store directly (debugging).
    #[command(subcommand)]
    Kv(admin::KvCommand),
}

/// Default data directory of `up` and of the admin commands' discovery.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(".raftplane")
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Up(args) => up::run(args).await,
            Command::Status(args) => admin::status(args).await,
            Command::Member(cmd) => admin::member(cmd).await,
            Command::Snapshot(args) => admin::snapshot(args).await,
            Command::Kv(cmd) => admin::kv(cmd).await,
        }
    });
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
