//! raftplane-api: the Kubernetes REST API every member serves from its
//! own replica — resource registry, discovery, OpenAPI, CRUD, patch,
//! watch, Table output — plus the health endpoints and `/version`.
//! Must not depend on the controllers crate or on clap.

pub mod actions;
pub mod bootstrap;
pub mod defaults;
pub mod discovery;
pub mod error;
pub mod handlers;
pub mod hooks;
pub mod managed_fields;
pub mod objects;
pub mod openapi;
pub mod params;
pub mod patch;
pub mod patching;
pub mod printing;
pub mod protobuf;
pub mod registry;
pub mod selectors;
pub mod table;
pub mod validation;
pub mod watch_stream;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::Method;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::any;
use axum::routing::get;
use raftplane_store::RaftMember;

use crate::error::ApiError;
use crate::handlers::Api;
use crate::objects::Objects;

/// The Kubernetes version the API reports (and will implement).
pub const KUBERNETES_VERSION: &str = "v1.33.0";

#[derive(Clone)]
struct AppState {
    member: RaftMember,
    api: Api,
    /// The default namespaces and the `kubernetes` Service exist.
    bootstrapped: Arc<std::sync::atomic::AtomicBool>,
}

/// Routes served on a member's API address. Also starts the creation of
/// the bootstrap objects (default namespaces, `kubernetes` Service).
pub fn router(member: RaftMember) -> Router {
    let api = Api {
        objects: Objects::new(member.clone()),
        extras: Arc::new(handlers::Extras::build()),
    };
    let api_port = member
        .config()
        .api_addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(6443);
    let bootstrapped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::spawn(bootstrap::run(api.clone(), api_port, bootstrapped.clone()));
    let state = AppState {
        member,
        api,
        bootstrapped,
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/version", get(version))
        .route("/version/", get(version))
        .route("/api", get(api_root))
        .route("/api/", get(api_root))
        .route("/api/v1", get(|| async { discovery::api_v1() }))
        .route("/api/v1/", get(|| async { discovery::api_v1() }))
        .route("/api/v1/{*rest}", any(core_api))
        .route("/apis", get(|headers: HeaderMap| async move { discovery::apis(&headers) }))
        .route("/apis/", get(|headers: HeaderMap| async move { discovery::apis(&headers) }))
        .route("/apis/{group}", get(|Path(g): Path<String>| async move { discovery::group(&g) }))
        .route("/apis/{group}/", get(|Path(g): Path<String>| async move { discovery::group(&g) }))
        .route(
            "/apis/{group}/{version}/",
            get(|Path((g, v)): Path<(String, String)>| async move { discovery::group_version(&g, &v) }),
        )
        .route(
            "/apis/{group}/{version}",
            get(|Path((g, v)): Path<(String, String)>| async move { discovery::group_version(&g, &v) }),
        )
        .route("/apis/{group}/{version}/{*rest}", any(group_api))
        .route("/openapi/v2", get(openapi_v2))
        .route("/openapi/v3", get(openapi_v3_index))
        .route("/openapi/v3/{*path}", get(openapi_v3))
        .fallback(|| async {
            ApiError::unknown_path()
        })
        .with_state(state)
}

fn json_bytes(body: bytes::Bytes) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    r
}

async fn openapi_v2(State(s): State<AppState>) -> Response {
    json_bytes(s.api.extras.openapi.v2())
}

async fn openapi_v3_index(State(s): State<AppState>) -> Response {
    json_bytes(s.api.extras.openapi.v3_index())
}

/// A v3 document; with a matching `?hash=` it is immutable (kube-apiserver
/// sends the same cache headers, which kubectl's disk cache relies on).
async fn openapi_v3(State(s): State<AppState>, Path(path): Path<String>, uri: Uri) -> Response {
    let openapi = &s.api.extras.openapi;
    let Some(doc) = openapi.v3_group_version(&path) else {
        return ApiError::unknown_path().into_response();
    };
    let hash = openapi.v3_hash(&path).unwrap_or("").to_string();
    let mut r = json_bytes(doc);
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("\"{hash}\"")) {
        r.headers_mut().insert(axum::http::header::ETAG, v);
    }
    let asked = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == format!("hash={hash}")));
    let cache = if asked {
        "public, immutable"
    } else {
        "no-cache, private"
    };
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static(cache),
    );
    r
}

async fn api_root(State(s): State<AppState>, headers: HeaderMap) -> Response {
    discovery::api(&headers, &s.member.config().api_addr)
}

async fn core_api(
    State(s): State<AppState>,
    Path(rest): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rest = rest.strip_suffix('/').unwrap_or(&rest);
    let segs: Vec<&str> = rest.split('/').collect();
    s.api
        .serve("", "v1", &segs, method, uri.query(), headers, body)
        .await
}

async fn group_api(
    State(s): State<AppState>,
    Path((group, version, rest)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rest = rest.strip_suffix('/').unwrap_or(&rest);
    let segs: Vec<&str> = rest.split('/').collect();
    s.api
        .serve(&group, &version, &segs, method, uri.query(), headers, body)
        .await
}

/// Ready when this member knows a leader and has applied everything it
/// knows to be committed. Failing checks answer 500, as kube-apiserver's
/// healthz handler does.
async fn readyz(State(s): State<AppState>, uri: Uri) -> impl IntoResponse {
    let member = &s.member;
    let verbose = uri.query().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv == "verbose" || kv.starts_with("verbose="))
    });
    let bootstrapped = s.bootstrapped.load(std::sync::atomic::Ordering::Acquire);
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
    body.push_str(if bootstrapped {
        "[+]poststarthook/bootstrap-objects ok\n"
    } else {
        "[-]poststarthook/bootstrap-objects failed: default namespaces not yet created\n"
    });
    if leader && caught_up && bootstrapped {
        if !verbose {
            return (StatusCode::OK, "ok".to_string());
        }
        body.push_str("readyz check passed\n");
        (StatusCode::OK, body)
    } else {
        body.push_str("readyz check failed\n");
        (StatusCode::INTERNAL_SERVER_ERROR, body)
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
