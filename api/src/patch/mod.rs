//! PATCH support for the Kubernetes REST API, following kube-apiserver:
//!
//! * `application/merge-patch+json` — [`merge_patch`] (RFC 7386, as
//!   `gopkg.in/evanphx/json-patch.v4` `MergePatch` applies it);
//! * `application/json-patch+json` — [`json_patch`] (RFC 6902, as
//!   `gopkg.in/evanphx/json-patch.v4` `Patch.Apply` applies it);
//! * `application/strategic-merge-patch+json` — [`strategic_merge_patch`]
//!   (k8s.io/apimachinery `strategicpatch.StrategicMergeMapPatch`), driven by
//!   the generated Kubernetes 1.33 type table in `schema.rs`.
//!
//! Every function works on already parsed JSON. A request body that is not
//! valid JSON must be answered by the caller with 400 `BadRequest`, as
//! kube-apiserver does for all three patch types.
//!
//! Errors carry the HTTP code and `Status.reason` kube-apiserver answers with
//! for the same failure (see [`PatchError`]).

use serde_json::Value;

mod json_patch;
mod merge;
#[rustfmt::skip]
mod schema;
mod strategic;

pub use json_patch::MAX_JSON_PATCH_OPERATIONS;

/// Why a patch failed; the caller turns it into a Kubernetes Status.
///
/// The codes used, as kube-apiserver 1.33 returns them:
/// * 400 `"BadRequest"`: the patch document is malformed (not the expected
///   JSON shape, a bad `$retainKeys`/`$setElementOrder`/
///   `$deleteFromPrimitiveList` directive, ...). `message` is the decoder's text.
/// * 413 `"RequestEntityTooLarge"`: a JSON patch with more than
///   [`MAX_JSON_PATCH_OPERATIONS`] operations.
/// * 422 `"Invalid"`: a JSON patch operation that cannot be applied (a `test`
///   that fails, a path that does not exist, an unknown `op`, ...), or a
///   strategic merge patch with a list of lists. kube-apiserver builds these
///   with `NewGenericServerResponse(422)`, so `message` is always
///   "the server rejected our request due to an error in our request".
/// * 500 `""` (`StatusReasonUnknown`; omit `reason` from the Status): other
///   strategic merge patch errors that kube-apiserver passes through
///   unconverted, e.g. a list item missing its merge key
///   (`map: map[image:x] does not contain declared merge key: name`),
///   `$patch: merge`, an unknown `$patch` value. `message` is the Go error text.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

/// Message kube-apiserver puts in 422 responses built by
/// `NewGenericServerResponse`.
pub const INVALID_REQUEST_MESSAGE: &str =
    "the server rejected our request due to an error in our request";

impl PatchError {
    /// 400 BadRequest with the given message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        PatchError {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
        }
    }

    /// 422 Invalid, as `NewGenericServerResponse(422, ...)` builds it.
    pub fn invalid() -> Self {
        PatchError {
            code: 422,
            reason: "Invalid",
            message: INVALID_REQUEST_MESSAGE.to_string(),
        }
    }

    /// 413 RequestEntityTooLarge.
    pub fn too_large(message: impl Into<String>) -> Self {
        PatchError {
            code: 413,
            reason: "RequestEntityTooLarge",
            message: format!("Request entity too large: {}", message.into()),
        }
    }

    /// 500 with an empty (unknown) reason: an error kube-apiserver does not
    /// convert into a Status.
    pub fn internal(message: impl Into<String>) -> Self {
        PatchError {
            code: 500,
            reason: "",
            message: message.into(),
        }
    }
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for PatchError {}

/// Applies an RFC 7386 JSON merge patch (`application/merge-patch+json`).
pub fn merge_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    merge::merge_patch(original, patch)
}

/// Applies an RFC 6902 JSON patch (`application/json-patch+json`).
pub fn json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    json_patch::apply(original, patch)
}

/// Applies a strategic merge patch (`application/strategic-merge-patch+json`)
/// to an object of the given OpenAPI definition (see [`definition_for`]).
/// Unknown definitions get no patch metadata: lists are replaced, maps merged.
pub fn strategic_merge_patch(
    original: &Value,
    patch: &Value,
    definition: &str,
) -> Result<Value, PatchError> {
    strategic::strategic_merge_patch(schema::TYPES, original, patch, definition)
}

/// The OpenAPI definition name of a built-in kind, e.g.
/// `("apps", "v1", "Deployment")` -> `"io.k8s.api.apps.v1.Deployment"`.
pub fn definition_for(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    schema::KINDS
        .binary_search_by(|(g, v, k, _)| (*g, *v, *k).cmp(&(group, version, kind)))
        .ok()
        .map(|i| schema::KINDS[i].3)
}

/// Patch metadata of one field, for the OpenAPI generator
/// (x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key /
/// x-kubernetes-list-type / x-kubernetes-list-map-keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldPatchMeta {
    /// "merge", "retainKeys", "merge,retainKeys", "replace"
    pub strategy: Option<&'static str>,
    pub merge_key: Option<&'static str>,
    pub list_type: Option<&'static str>,
    pub list_map_keys: &'static [&'static str],
}

/// Patch metadata of `field` in `definition`, if it carries any.
pub fn field_patch_meta(definition: &str, field: &str) -> Option<FieldPatchMeta> {
    let def = strategic::find_type(schema::TYPES, definition)?;
    let f = def.field(field)?;
    let opt = |s: &'static str| (!s.is_empty()).then_some(s);
    let meta = FieldPatchMeta {
        strategy: opt(f.strategy),
        merge_key: opt(f.merge_key),
        list_type: opt(f.list_type),
        list_map_keys: f.list_map_keys,
    };
    let empty = meta.strategy.is_none()
        && meta.merge_key.is_none()
        && meta.list_type.is_none()
        && meta.list_map_keys.is_empty();
    (!empty).then_some(meta)
}

/// Formats a value as Go's `%v` prints the decoded `interface{}`, for error
/// messages that match kube-apiserver's.
fn go_fmt(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_fmt).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", k, go_fmt(&m[k])))
                .collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn definitions_of_builtin_kinds() {
        assert_eq!(
            definition_for("", "v1", "Pod"),
            Some("io.k8s.api.core.v1.Pod")
        );
        assert_eq!(
            definition_for("apps", "v1", "Deployment"),
            Some("io.k8s.api.apps.v1.Deployment")
        );
        assert_eq!(
            definition_for("", "v1", "Node"),
            Some("io.k8s.api.core.v1.Node")
        );
        assert_eq!(
            definition_for("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            Some(
                "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
            )
        );
        assert_eq!(
            definition_for("coordination.k8s.io", "v1", "Lease"),
            Some("io.k8s.api.coordination.v1.Lease")
        );
        assert_eq!(definition_for("example.com", "v1", "Widget"), None);
        assert_eq!(definition_for("", "v1", "Deployment"), None);
    }

    #[test]
    fn kinds_table_is_sorted() {
        assert!(
            schema::KINDS
                .windows(2)
                .all(|w| (w[0].0, w[0].1, w[0].2) < (w[1].0, w[1].1, w[1].2))
        );
        assert!(schema::TYPES.windows(2).all(|w| w[0].name < w[1].name));
        for t in schema::TYPES {
            assert!(
                t.fields.windows(2).all(|w| w[0].name < w[1].name),
                "{}",
                t.name
            );
            for f in t.fields {
                assert!(
                    f.target.is_empty() || strategic::find_type(schema::TYPES, f.target).is_some(),
                    "{}.{} -> {}",
                    t.name,
                    f.name,
                    f.target
                );
            }
        }
    }

    #[test]
    fn field_meta_from_schema() {
        let m = field_patch_meta("io.k8s.api.core.v1.PodSpec", "containers").unwrap();
        assert_eq!(m.strategy, Some("merge"));
        assert_eq!(m.merge_key, Some("name"));
        assert_eq!(m.list_type, Some("map"));
        assert_eq!(m.list_map_keys, &["name"]);
        let m = field_patch_meta("io.k8s.api.core.v1.Container", "ports").unwrap();
        assert_eq!(m.merge_key, Some("containerPort"));
        assert_eq!(m.list_map_keys, &["containerPort", "protocol"]);
        let m = field_patch_meta("io.k8s.api.core.v1.PodSpec", "volumes").unwrap();
        assert_eq!(m.strategy, Some("merge,retainKeys"));
        let m = field_patch_meta("io.k8s.api.apps.v1.DeploymentSpec", "strategy").unwrap();
        assert_eq!(m.strategy, Some("retainKeys"));
        assert_eq!(m.list_type, None);
        let m = field_patch_meta("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector");
        assert_eq!(m.unwrap().strategy, Some("replace"));
        let m = field_patch_meta(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
        );
        let m = m.unwrap();
        assert_eq!(
            (m.strategy, m.merge_key, m.list_type),
            (Some("merge"), None, Some("set"))
        );
        let m = field_patch_meta("io.k8s.api.core.v1.PodSpec", "tolerations").unwrap();
        assert_eq!((m.strategy, m.list_type), (None, Some("atomic")));
        // Object fields without extensions have no metadata.
        assert_eq!(field_patch_meta("io.k8s.api.core.v1.Pod", "spec"), None);
        assert_eq!(
            field_patch_meta("io.k8s.api.core.v1.PodSpec", "nodeName"),
            None
        );
        assert_eq!(field_patch_meta("io.example.Unknown", "x"), None);
    }

    #[test]
    fn go_formatting() {
        let v = json!({"b": [1, "x", null], "a": {"c": true}});
        assert_eq!(go_fmt(&v), "map[a:map[c:true] b:[1 x <nil>]]");
    }

    #[test]
    fn error_constructors() {
        assert_eq!(PatchError::invalid().code, 422);
        assert_eq!(PatchError::invalid().reason, "Invalid");
        assert_eq!(PatchError::bad_request("x").reason, "BadRequest");
        assert_eq!(
            PatchError::too_large("x").message,
            "Request entity too large: x"
        );
        assert_eq!(PatchError::internal("x").reason, "");
        assert_eq!(
            PatchError::invalid().to_string(),
            format!("422 Invalid: {INVALID_REQUEST_MESSAGE}")
        );
    }
}

/// What the generated table knows about one field, for field ownership.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    pub is_list: bool,
    /// The definition of the value (object) or items (list), when known.
    pub target: Option<&'static str>,
    pub strategy: Option<&'static str>,
    pub merge_key: Option<&'static str>,
    pub list_type: Option<&'static str>,
    pub list_map_keys: &'static [&'static str],
}

/// The table entry of `field` in `definition`.
pub fn field_info(definition: &str, field: &str) -> Option<FieldInfo> {
    let def = strategic::find_type(schema::TYPES, definition)?;
    let f = def.field(field)?;
    let opt = |s: &'static str| (!s.is_empty()).then_some(s);
    Some(FieldInfo {
        is_list: matches!(f.kind, strategic::FieldKind::A),
        target: opt(f.target),
        strategy: opt(f.strategy),
        merge_key: opt(f.merge_key),
        list_type: opt(f.list_type),
        list_map_keys: f.list_map_keys,
    })
}
