//! raftplane-api: the HTTP API every member serves from its own replica.
//!
//! Today: the health endpoints (`/healthz`, `/livez`, `/readyz`) and
//! `/version`. The Kubernetes REST API (resource registry, discovery,
//! OpenAPI, CRUD, watch) lands here next. Must not depend on the
//! controllers crate or on clap.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use raftplane_store::RaftMember;

/// The Kubernetes version the API reports (and will implement).
pub const KUBERNETES_VERSION: &str = "v1.33.0";

/// Routes served on a member's API address.
pub fn router(member: RaftMember) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/version", get(version))
        .with_state(member)
}

/// Ready when this member knows a leader and has applied everything it
/// knows to be committed.
async fn readyz(State(member): State<RaftMember>) -> impl IntoResponse {
    let s = member.status();
    let leader = s.leader.is_some();
    let caught_up = s.applied_index >= s.committed_index;
    let mut body = String::new();
    body.push_str(if leader {
        "[+]raft-leader ok\n"
    } else {
        "[-]raft-leader failed: no leader\n"
    });
    body.push_str(if caught_up {
        "[+]raft-applied ok\n"
    } else {
        "[-]raft-applied failed: applying committed log\n"
    });
    if leader && caught_up {
        body.push_str("readyz check passed\n");
        (StatusCode::OK, body)
    } else {
        body.push_str("readyz check failed\n");
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}

async fn version() -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "major": "1",
        "minor": "33",
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "raftplane",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "n/a",
        "compiler": "rustc",
        "platform": "linux/amd64",
    }))
}
