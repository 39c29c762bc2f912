//! End-to-end tests: real `raftplane serve` processes on 127.0.0.1, driven
//! through the chaos crate's harness and gRPC client. One test binary
//! (rust-analyzer's habit); one module per capability.
//!
//! The member binary comes from `RAFTPLANE_BIN` or sits next to the test
//! executable's directory (`./dev test` builds it first).

mod api_errors;
mod api_watch;
mod http;
mod kube_rs;
mod kubectl;
mod python;
mod store;
mod support;
