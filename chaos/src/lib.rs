//! raftplane-chaos: drive real raftplane members from the outside.
//!
//! The crate starts `raftplane serve` processes on 127.0.0.1, hurts them
//! (SIGKILL, SIGTERM, SIGSTOP/SIGCONT, restart, join), talks to them through
//! the same gRPC API an operator tool would use, and measures them. It is
//! the base for chaos tests (nemeses, history recording, linearizability and
//! watch checkers) and for benchmarks against an etcd baseline.
//!
//! Codemap:
//! - [`client`]: [`StoreClient`], a typed client for one member's `Kv` and
//!   `Cluster` services, and the crate's RPC error type.
//! - [`harness`]: [`Cluster`], N member processes with free ports, their own
//!   data dirs and log files, and the faults above.
//! - [`process`]: one supervised child process (log redirection, signals by
//!   PID, killed with the harness, even on panic or when the harness itself
//!   is SIGKILLed).
//! - [`etcd`]: a local etcd cluster, the benchmarks' baseline.
//! - [`bench`]: the closed-loop write workload shared by every system under
//!   test, latency percentiles, and the store benchmark against etcd.
//! - [`bench_api`]: Kubernetes REST API loads (pod create, get, list,
//!   watch fan-out) over HTTP/1.1 against a running cluster.
//!
//! Invariant: this crate sits on top. It may depend on `raftplane-proto`
//! and nothing else of raftplane; it never links `raft-store` or the member
//! code, so everything it observes crossed a process and a gRPC boundary,
//! exactly as it would in production.
//!
//! Linux only: processes are signalled with `libc::kill` and bound to the
//! harness with `PR_SET_PDEATHSIG`.

pub mod bench;
pub mod bench_api;
pub mod client;
pub mod etcd;
pub mod harness;
pub mod process;

pub use client::{Error, StoreClient, prefix_end};
pub use harness::{Cluster, ClusterOptions, HarnessError, raftplane_bin};
