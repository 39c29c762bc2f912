//! The API's error type and its one conversion to a Kubernetes `Status`.
//!
//! Reasons and codes follow apimachinery's pkg/api/errors: clients classify
//! `AlreadyExists` and `Expired` by reason only, the rest by code too.

use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use raftplane_store::StoreError;
use serde_json::Value;
use serde_json::json;

use crate::hooks::Cause;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details` of the Status (name, group, kind, causes, retryAfterSeconds).
    pub details: Option<Value>,
    /// `metadata` (ListMeta) of the Status, e.g. a fresh continue token.
    pub metadata: Option<Value>,
}

/// The qualified resource as kube-apiserver names it in messages:
/// "pods", "deployments.apps".
pub fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

fn details(group: &str, plural: &str, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": plural});
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            metadata: None,
        }
    }

    pub fn not_found(group: &str, plural: &str, name: &str) -> ApiError {
        ApiError {
            details: Some(details(group, plural, name)),
            ..ApiError::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", qualified(group, plural)),
            )
        }
    }

    pub fn already_exists(group: &str, plural: &str, name: &str) -> ApiError {
        ApiError {
            details: Some(details(group, plural, name)),
            ..ApiError::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", qualified(group, plural)),
            )
        }
    }

    pub fn conflict(group: &str, plural: &str, name: &str, why: &str) -> ApiError {
        ApiError {
            details: Some(details(group, plural, name)),
            ..ApiError::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    qualified(group, plural)
                ),
            )
        }
    }

    pub fn modified(group: &str, plural: &str, name: &str) -> ApiError {
        ApiError::conflict(
            group,
            plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 Invalid with field causes, rendered as kube-apiserver does.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: &[Cause]) -> ApiError {
        let gk = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let list: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let message = if list.len() == 1 {
            format!("{gk} \"{name}\" is invalid: {}", list[0])
        } else {
            format!("{gk} \"{name}\" is invalid: [{}]", list.join(", "))
        };
        let mut d = json!({"name": name, "kind": kind, "causes": causes});
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        ApiError {
            details: Some(d),
            ..ApiError::new(422, "Invalid", message)
        }
    }

    /// 404 for a path that names no resource (kube's NotFound with empty
    /// details).
    pub fn unknown_path() -> ApiError {
        ApiError {
            details: Some(json!({})),
            ..ApiError::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "Forbidden", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(405, "MethodNotAllowed", message)
    }

    pub fn not_acceptable(message: impl Into<String>) -> ApiError {
        ApiError::new(406, "NotAcceptable", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {content_type:?})"
            ),
        )
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(413, "RequestEntityTooLarge", message)
    }

    /// 410 Expired: a resource version or continue token below the
    /// compacted revision.
    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    pub fn timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(504, "Timeout", message)
    }

    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        ApiError {
            details: Some(json!({"retryAfterSeconds": retry_after_secs})),
            ..ApiError::new(429, "TooManyRequests", message)
        }
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(503, "ServiceUnavailable", message)
    }

    /// The Status object.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": self.metadata.clone().unwrap_or_else(|| json!({})),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        if self.reason.is_empty()
            && let Some(m) = s.as_object_mut()
        {
            m.remove("reason");
        }
        s
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::Compacted {
                requested,
                compacted,
            } => ApiError::expired(format!(
                "The resourceVersion for the provided list is too old: {requested} (compacted {compacted})"
            )),
            StoreError::FutureRevision { requested, current } => ApiError {
                details: Some(
                    json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1}),
                ),
                ..ApiError::timeout(format!(
                    "Too large resource version: {requested}, current: {current}"
                ))
            },
            StoreError::Timeout(m) => ApiError::timeout(format!("request timed out: {m}")),
            StoreError::NoLeader(_) | StoreError::NotLeader { .. } | StoreError::Rpc { .. } => {
                ApiError {
                    details: Some(json!({"retryAfterSeconds": 1})),
                    ..ApiError::unavailable(format!(
                        "the control plane has no reachable leader: {e}"
                    ))
                }
            }
            StoreError::Invalid(m) if m.contains("too many watchers") => {
                ApiError::too_many_requests(m.clone(), 1)
            }
            StoreError::Invalid(m) if m.contains("too large") || m.contains("exceeds") => {
                ApiError::too_large(format!("Request entity too large: {m}"))
            }
            _ => ApiError::internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self
            .details
            .as_ref()
            .and_then(|d| d.get("retryAfterSeconds"))
            .and_then(Value::as_u64);
        if code.is_server_error() {
            tracing::warn!(code = self.code, reason = self.reason, message = %self.message, "request failed");
        }
        let mut resp = (code, axum::Json(self.status())).into_response();
        if let Some(secs) = retry
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
