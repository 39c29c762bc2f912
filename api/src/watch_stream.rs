//! WATCH: newline-delimited JSON events, flushed per event, served by every
//! member from its own applied stream.
//!
//! Start points follow kube-apiserver: resourceVersion unset = a
//! linearizable list sent as ADDED events, then changes; "0" = the same
//! from local state; N = every change strictly after N. A start below the
//! retained history is one in-stream ERROR event (410 Expired), as the
//! watch cache answers. Selectors turn transitions into ADDED/DELETED as
//! kube-apiserver's filtered watchers do.

use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::Response;
use bytes::Bytes;
use raftplane_store::EventKind;
use raftplane_store::KeyRange;
use raftplane_store::Revision;
use raftplane_store::StoreError;
use serde_json::Value;
use serde_json::json;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::error::ApiResult;
use crate::handlers::Api;
use crate::handlers::Selection;
use crate::handlers::Target;
use crate::handlers::wants_table;
use crate::objects;
use crate::objects::ReadMode;
use crate::params::Params;
use crate::registry::ResourceDef;

/// Encoded events queued per watch stream before the producer waits for
/// the client to read.
const STREAM_BUFFER_EVENTS: usize = 256;
/// Interval of progress BOOKMARKs (kube-apiserver sends them about once a
/// minute; reflectors only need them to resume after compaction).
pub const BOOKMARK_INTERVAL: Duration = Duration::from_secs(20);
/// A watch without timeoutSeconds ends after this (kube-apiserver's
/// min-request-timeout, 1800 s).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// Renders one watch event line.
fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(def: &ResourceDef, rev: Revision, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rev.0.to_string(), "creationTimestamp": null});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let obj = json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta});
    event_line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
}

/// The in-stream error of a failed watch; a start below the retained
/// history is the watch cache's "too old resource version" 410.
fn watch_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Compacted {
            requested,
            compacted,
        } => ApiError::expired(format!(
            "too old resource version: {} ({})",
            requested.0.saturating_sub(1),
            compacted.0
        )),
        other => ApiError::from(other),
    }
}

fn error_line(e: &ApiError) -> Bytes {
    event_line(
        "ERROR",
        &serde_json::to_vec(&e.status()).unwrap_or_default(),
    )
}

/// How objects are rendered on the stream.
struct Render {
    def: &'static ResourceDef,
    table: bool,
    params: Params,
}

impl Render {
    fn object(&self, stored: &[u8], rev: Revision) -> Vec<u8> {
        let bytes = objects::with_rv(stored, rev);
        if !self.table {
            return bytes;
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => serde_json::to_vec(&crate::printing::table(
                self.def,
                &[v],
                json!({"resourceVersion": rev.0.to_string()}),
                &self.params,
            ))
            .unwrap_or_default(),
            Err(_) => bytes,
        }
    }
}

pub async fn watch(api: &Api, t: &Target, p: &Params, headers: &HeaderMap) -> ApiResult<Response> {
    let def = t.def;
    let sel = Selection::parse(p, def)?;
    let send_initial = p.send_initial_events;
    if send_initial.is_some() && p.resource_version_match.as_deref() != Some("NotOlderThan") {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            &[crate::hooks::Cause {
                reason: "FieldValueForbidden",
                field: "sendInitialEvents".into(),
                message: "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled and resourceVersionMatch is set to NotOlderThan".into(),
            }],
        ));
    }
    if send_initial == Some(true) && !p.allow_watch_bookmarks {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            &[crate::hooks::Cause {
                reason: "FieldValueForbidden",
                field: "allowWatchBookmarks".into(),
                message:
                    "Forbidden: allowWatchBookmarks must be true when sendInitialEvents is true"
                        .into(),
            }],
        ));
    }
    // (initial events wanted, read mode of the initial list, start after)
    let (initial, mode, after) = match p.resource_version.as_deref() {
        None => (send_initial.unwrap_or(true), ReadMode::Consistent, None),
        Some("0") => (send_initial.unwrap_or(true), ReadMode::Any, None),
        Some(s) => {
            let n = s
                .parse::<u64>()
                .map(Revision)
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s:?}")))?;
            if send_initial == Some(true) {
                (true, ReadMode::NotOlderThan(n), None)
            } else {
                (false, ReadMode::Any, Some(n))
            }
        }
    };
    let timeout = p
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let prefix = def.list_prefix(t.namespace.as_deref());
    let range = KeyRange::prefix(Bytes::from(prefix.clone()));
    let render = Render {
        def,
        table: wants_table(headers),
        params: p.clone(),
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(STREAM_BUFFER_EVENTS);
    let member = api.objects.member().clone();
    let objects = api.objects.clone();
    let bookmarks = p.allow_watch_bookmarks;
    // The initial list (and the barrier) happen before the response
    // starts, so errors are plain HTTP errors.
    let mut initial_events: Vec<Bytes> = Vec::new();
    let start = match after {
        Some(n) => n.next(),
        None => {
            objects.prepare(mode).await?;
            if !initial {
                objects.revision().next()
            } else {
                let r = objects.list(&prefix, None, 0, Revision::ZERO).await?;
                for kv in &r.kvs {
                    if sel.matches_stored(&kv.value) {
                        initial_events.push(event_line(
                            "ADDED",
                            &render.object(&kv.value, kv.mod_revision),
                        ));
                    }
                }
                if send_initial == Some(true) {
                    initial_events.push(bookmark(def, r.revision, true));
                }
                r.revision.next()
            }
        }
    };
    let watcher = member.watch(range, start).await;
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        for line in initial_events {
            if tx.send(Ok(line)).await.is_err() {
                return;
            }
        }
        let mut watcher = match watcher {
            Ok(w) => w,
            Err(e) => {
                let _ = tx.send(Ok(error_line(&watch_error(e)))).await;
                return;
            }
        };
        let mut tick = tokio::time::interval(BOOKMARK_INTERVAL);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
                _ = tick.tick(), if bookmarks => {
                    if let Some(rev) = watcher.progress()
                        && tx.send(Ok(bookmark(render.def, rev, false))).await.is_err()
                    {
                        return;
                    }
                }
                batch = watcher.next_batch() => {
                    let revisions = match batch {
                        None => return,
                        Some(Ok(r)) => r,
                        Some(Err(e @ StoreError::Compacted { .. })) => {
                            let _ = tx.send(Ok(error_line(&watch_error(e)))).await;
                            return;
                        }
                        // A slow watcher is cut; the client resumes from its
                        // last resourceVersion.
                        Some(Err(_)) => return,
                    };
                    for rev in revisions {
                        for ev in &rev.events {
                            let line = match ev.kind {
                                EventKind::Put => {
                                    let new_match = sel.matches_stored(&ev.kv.value);
                                    let old_match = ev.prev_kv.as_ref().is_some_and(|p| sel.matches_stored(&p.value));
                                    match (ev.prev_kv.is_some() && old_match, new_match) {
                                        (false, true) => event_line("ADDED", &render.object(&ev.kv.value, ev.kv.mod_revision)),
                                        (true, true) => event_line("MODIFIED", &render.object(&ev.kv.value, ev.kv.mod_revision)),
                                        (true, false) => event_line("DELETED", &render.object(&ev.kv.value, ev.kv.mod_revision)),
                                        (false, false) => continue,
                                    }
                                }
                                EventKind::Delete => {
                                    let Some(prev) = &ev.prev_kv else { continue };
                                    if !sel.matches_stored(&prev.value) {
                                        continue;
                                    }
                                    event_line("DELETED", &render.object(&prev.value, ev.kv.mod_revision))
                                }
                            };
                            if tx.send(Ok(line)).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}
