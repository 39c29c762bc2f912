//! PATCH: content types and the four patch kinds.

use serde_json::Value;

use crate::error::ApiError;
use crate::error::ApiResult;
use crate::registry::ResourceDef;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchKind {
    pub fn from_content_type(ct: &str) -> ApiResult<PatchKind> {
        match ct {
            "application/json-patch+json" => Ok(PatchKind::Json),
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(PatchKind::Apply),
            other => Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {other:?})"
                ),
            )),
        }
    }
}

pub fn parse_patch(kind: PatchKind, body: &[u8]) -> ApiResult<Value> {
    let v: Value = match kind {
        PatchKind::Apply => serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?,
        _ => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?,
    };
    match (kind, &v) {
        (PatchKind::Json, Value::Array(_)) => Ok(v),
        (PatchKind::Json, _) => Err(ApiError::bad_request(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
        )),
        (_, Value::Object(_)) => Ok(v),
        _ => Err(ApiError::bad_request("the patch is not a JSON object")),
    }
}

fn from_patch_error(e: crate::patch::PatchError) -> ApiError {
    ApiError::new(e.code, e.reason, e.message)
}

/// The result must still be an object (kube-apiserver fails to decode
/// anything else and answers 422).
fn object_result(v: Value) -> ApiResult<Value> {
    if v.is_object() {
        Ok(v)
    } else {
        Err(ApiError::new(
            422,
            "Invalid",
            crate::patch::INVALID_REQUEST_MESSAGE,
        ))
    }
}

/// Applies a patch of `kind` to the current object of resource `def`.
/// Server-side apply merges the applied configuration as a strategic
/// merge patch (field ownership is not tracked yet).
pub fn apply(
    kind: PatchKind,
    def: &ResourceDef,
    current: &Value,
    patch: &Value,
) -> ApiResult<Value> {
    let definition = crate::patch::definition_for(def.group, def.version, def.kind).unwrap_or("");
    let out = match kind {
        PatchKind::Json => crate::patch::json_patch(current, patch),
        PatchKind::Merge => crate::patch::merge_patch(current, patch),
        PatchKind::Strategic | PatchKind::Apply => {
            crate::patch::strategic_merge_patch(current, patch, definition)
        }
    }
    .map_err(from_patch_error)?;
    object_result(out)
}

/// Applies a patch to an autoscaling/v1 Scale.
pub fn apply_scale(kind: PatchKind, scale: &Value, patch: &Value) -> ApiResult<Value> {
    let out = match kind {
        PatchKind::Json => crate::patch::json_patch(scale, patch),
        PatchKind::Merge => crate::patch::merge_patch(scale, patch),
        PatchKind::Strategic | PatchKind::Apply => {
            crate::patch::strategic_merge_patch(scale, patch, "io.k8s.api.autoscaling.v1.Scale")
        }
    }
    .map_err(from_patch_error)?;
    object_result(out)
}
