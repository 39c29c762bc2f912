//! The OpenAPI documents kube-apiserver serves, generated at startup:
//! `/openapi/v2` (Swagger 2.0 JSON), the `/openapi/v3` index and the per
//! group-version OpenAPI 3.0 documents (`/openapi/v3/api/v1`,
//! `/openapi/v3/apis/<group>/<version>`, plus `api`, `apis` and
//! `apis/<group>` as kube-apiserver lists them).
//!
//! Schemas come from the `k8s-openapi` types (their `schemars::JsonSchema`
//! impls carry the upstream definition names and descriptions); paths come
//! from the resource registry, laid out like kube-apiserver's installer:
//! collection (list, create, deletecollection), item (read, replace, patch,
//! delete), `/status`, `/scale`, the POST-only actions (binding, eviction,
//! token) and the deprecated `/watch/` paths.
//!
//! Client-visible details this module keeps on purpose:
//! - every PATCH operation lists `fieldValidation` among its own (not the
//!   path's) parameters and carries `x-kubernetes-group-version-kind`:
//!   kubectl's query-param verifier takes the first PATCH operation whose GVK
//!   matches and decides from its parameters alone;
//! - every kind's schema carries `x-kubernetes-group-version-kind` as a list
//!   of `{group, kind, version}` maps: `kubectl explain` finds the schema by
//!   comparing that list against the GVK of the resource's operations;
//! - v3 `$ref`s with sibling keys (descriptions) are wrapped in a one-element
//!   `allOf` as kube-openapi's builder3 does; v2 keeps `$ref` plus siblings;
//! - patch-strategy / merge-key extensions come from the caller's table.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use bytes::Bytes;
use k8s_openapi::api;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use super::registry::{self, Action, ResourceDef};

/// `(definition, field) -> (x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key)`,
/// e.g. `("io.k8s.api.core.v1.PodSpec", "containers") -> (Some("merge"), Some("name"))`.
pub type PatchMetaFn = dyn Fn(&str, &str) -> Option<(Option<&'static str>, Option<&'static str>)>;

/// The prebuilt, serialized documents.
pub struct OpenApi {
    v2: Bytes,
    v3_index: Bytes,
    /// name -> (document, uppercase hex SHA-512 of it)
    v3: BTreeMap<String, (Bytes, String)>,
    /// Every definition, in its v3 form (unknown-field checks walk these).
    definitions: BTreeMap<String, Value>,
}

impl OpenApi {
    /// Builds every document once.
    pub fn build(patch_meta: &PatchMetaFn) -> OpenApi {
        let schemas = Schemas::build(patch_meta);
        let docs = build_paths(&schemas);

        let mut v3 = BTreeMap::new();
        let mut index = Map::new();
        let mut all_paths = BTreeMap::new();
        for (name, paths) in docs {
            let doc = v3_document(&paths, &schemas);
            let body = serde_json::to_vec(&doc).expect("serializable");
            let hash = hex_upper(&Sha512::digest(&body));
            index.insert(
                name.clone(),
                json!({ "serverRelativeURL": format!("/openapi/v3/{name}?hash={hash}") }),
            );
            v3.insert(name, (Bytes::from(body), hash));
            all_paths.extend(paths);
        }
        let v3_index =
            Bytes::from(serde_json::to_vec(&json!({ "paths": index })).expect("serializable"));
        let v2 = Bytes::from(
            serde_json::to_vec(&v2_document(&all_paths, &schemas)).expect("serializable"),
        );
        OpenApi {
            v2,
            v3_index,
            v3,
            definitions: schemas.defs,
        }
    }

    /// Every definition by name, in its v3 form.
    pub fn definitions(&self) -> &BTreeMap<String, Value> {
        &self.definitions
    }

    /// The Swagger 2.0 document (`/openapi/v2`, JSON).
    pub fn v2(&self) -> Bytes {
        self.v2.clone()
    }

    /// The `/openapi/v3` index: `{"paths": {"api/v1": {"serverRelativeURL": ...}, ...}}`.
    pub fn v3_index(&self) -> Bytes {
        self.v3_index.clone()
    }

    /// The document of `path` ("api/v1", "apis/apps/v1", "api", "apis",
    /// "apis/apps"); a leading slash is tolerated.
    pub fn v3_group_version(&self, path: &str) -> Option<Bytes> {
        self.v3
            .get(path.trim_matches('/'))
            .map(|(doc, _)| doc.clone())
    }

    /// The hash the index puts in the document's `?hash=` (kube-apiserver
    /// also sends it as the ETag, and `Cache-Control: public, immutable`
    /// when the request's `hash` matches).
    pub fn v3_hash(&self, path: &str) -> Option<&str> {
        self.v3
            .get(path.trim_matches('/'))
            .map(|(_, hash)| hash.as_str())
    }

    /// The names listed in the v3 index, in order.
    pub fn v3_paths(&self) -> impl Iterator<Item = &str> {
        self.v3.keys().map(String::as_str)
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

// ---------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------

const V3_REF: &str = "#/components/schemas/";
const V2_REF: &str = "#/definitions/";

const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const API_RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";
const API_GROUP: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup";
const API_GROUP_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList";
const API_VERSIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// A group/version/kind as the `x-kubernetes-group-version-kind` extension spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Gvk {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
}

impl Gvk {
    fn to_json(self) -> Value {
        json!({ "group": self.group, "version": self.version, "kind": self.kind })
    }
}

const SCALE_GVK: Gvk = Gvk {
    group: "autoscaling",
    version: "v1",
    kind: "Scale",
};

/// The definition name and GVK of an action's request/response type.
fn action_type(action: Action) -> (&'static str, Gvk, &'static str) {
    match action {
        Action::Binding => (
            "io.k8s.api.core.v1.Binding",
            Gvk {
                group: "",
                version: "v1",
                kind: "Binding",
            },
            "binding",
        ),
        Action::Eviction => (
            "io.k8s.api.policy.v1.Eviction",
            Gvk {
                group: "policy",
                version: "v1",
                kind: "Eviction",
            },
            "eviction",
        ),
        Action::Token => (
            "io.k8s.api.authentication.v1.TokenRequest",
            Gvk {
                group: "authentication.k8s.io",
                version: "v1",
                kind: "TokenRequest",
            },
            "token",
        ),
    }
}

/// Adds `T`'s schema (and everything it references) to the generator and
/// returns its definition name.
fn add<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

/// The definition of a registry kind, added to the generator.
fn kind_schema(
    generator: &mut SchemaGenerator,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<String> {
    use api::core::v1 as core;
    let g = generator;
    Some(match (group, version, kind) {
        ("", "v1", "Namespace") => add::<core::Namespace>(g),
        ("", "v1", "Pod") => add::<core::Pod>(g),
        ("", "v1", "Node") => add::<core::Node>(g),
        ("", "v1", "Service") => add::<core::Service>(g),
        ("", "v1", "Endpoints") => add::<core::Endpoints>(g),
        ("", "v1", "ConfigMap") => add::<core::ConfigMap>(g),
        ("", "v1", "Secret") => add::<core::Secret>(g),
        ("", "v1", "ServiceAccount") => add::<core::ServiceAccount>(g),
        ("", "v1", "Event") => add::<core::Event>(g),
        ("", "v1", "LimitRange") => add::<core::LimitRange>(g),
        ("", "v1", "ResourceQuota") => add::<core::ResourceQuota>(g),
        ("", "v1", "PersistentVolume") => add::<core::PersistentVolume>(g),
        ("", "v1", "PersistentVolumeClaim") => add::<core::PersistentVolumeClaim>(g),
        ("", "v1", "ReplicationController") => add::<core::ReplicationController>(g),
        ("", "v1", "PodTemplate") => add::<core::PodTemplate>(g),
        ("", "v1", "Binding") => add::<core::Binding>(g),
        ("apps", "v1", "Deployment") => add::<api::apps::v1::Deployment>(g),
        ("apps", "v1", "ReplicaSet") => add::<api::apps::v1::ReplicaSet>(g),
        ("apps", "v1", "DaemonSet") => add::<api::apps::v1::DaemonSet>(g),
        ("apps", "v1", "StatefulSet") => add::<api::apps::v1::StatefulSet>(g),
        ("apps", "v1", "ControllerRevision") => add::<api::apps::v1::ControllerRevision>(g),
        ("batch", "v1", "Job") => add::<api::batch::v1::Job>(g),
        ("batch", "v1", "CronJob") => add::<api::batch::v1::CronJob>(g),
        ("coordination.k8s.io", "v1", "Lease") => add::<api::coordination::v1::Lease>(g),
        ("discovery.k8s.io", "v1", "EndpointSlice") => {
            add::<api::discovery::v1::EndpointSlice>(g)
        }
        ("events.k8s.io", "v1", "Event") => add::<api::events::v1::Event>(g),
        ("certificates.k8s.io", "v1", "CertificateSigningRequest") => {
            add::<api::certificates::v1::CertificateSigningRequest>(g)
        }
        ("rbac.authorization.k8s.io", "v1", "Role") => add::<api::rbac::v1::Role>(g),
        ("rbac.authorization.k8s.io", "v1", "RoleBinding") => add::<api::rbac::v1::RoleBinding>(g),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => add::<api::rbac::v1::ClusterRole>(g),
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => {
            add::<api::rbac::v1::ClusterRoleBinding>(g)
        }
        ("policy", "v1", "PodDisruptionBudget") => add::<api::policy::v1::PodDisruptionBudget>(g),
        ("policy", "v1", "Eviction") => add::<api::policy::v1::Eviction>(g),
        ("scheduling.k8s.io", "v1", "PriorityClass") => {
            add::<api::scheduling::v1::PriorityClass>(g)
        }
        ("networking.k8s.io", "v1", "Ingress") => add::<api::networking::v1::Ingress>(g),
        ("networking.k8s.io", "v1", "NetworkPolicy") => {
            add::<api::networking::v1::NetworkPolicy>(g)
        }
        ("networking.k8s.io", "v1", "IngressClass") => add::<api::networking::v1::IngressClass>(g),
        ("storage.k8s.io", "v1", "StorageClass") => add::<api::storage::v1::StorageClass>(g),
        ("storage.k8s.io", "v1", "CSIDriver") => add::<api::storage::v1::CSIDriver>(g),
        ("storage.k8s.io", "v1", "CSINode") => add::<api::storage::v1::CSINode>(g),
        ("storage.k8s.io", "v1", "VolumeAttachment") => add::<api::storage::v1::VolumeAttachment>(g),
        ("autoscaling", "v1", "Scale") => add::<api::autoscaling::v1::Scale>(g),
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => {
            add::<api::autoscaling::v2::HorizontalPodAutoscaler>(g)
        }
        ("authorization.k8s.io", "v1", "SelfSubjectAccessReview") => {
            add::<api::authorization::v1::SelfSubjectAccessReview>(g)
        }
        ("authorization.k8s.io", "v1", "SubjectAccessReview") => {
            add::<api::authorization::v1::SubjectAccessReview>(g)
        }
        ("authorization.k8s.io", "v1", "SelfSubjectRulesReview") => {
            add::<api::authorization::v1::SelfSubjectRulesReview>(g)
        }
        ("authentication.k8s.io", "v1", "SelfSubjectReview") => {
            add::<api::authentication::v1::SelfSubjectReview>(g)
        }
        ("authentication.k8s.io", "v1", "TokenRequest") => {
            add::<api::authentication::v1::TokenRequest>(g)
        }
        ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration") => {
            add::<api::admissionregistration::v1::ValidatingWebhookConfiguration>(g)
        }
        ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration") => {
            add::<api::admissionregistration::v1::MutatingWebhookConfiguration>(g)
        }
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => add::<
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        >(g),
        _ => return None,
    })
}

/// The definitions shared by every document, in their v3 form.
struct Schemas {
    defs: BTreeMap<String, Value>,
    /// Registry kind (group, version, kind) -> (definition, list definition).
    kinds: BTreeMap<(&'static str, &'static str, &'static str), (String, String)>,
}

impl Schemas {
    fn build(patch_meta: &PatchMetaFn) -> Schemas {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        let mut generator = SchemaGenerator::new(settings);
        let mut gvks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut kinds = BTreeMap::new();
        let mut lists: Vec<(String, String, &'static str)> = Vec::new();

        for r in registry::RESOURCES {
            let Some(name) = kind_schema(&mut generator, r.group, r.version, r.kind) else {
                // A kind without a k8s-openapi type: served without a schema
                // (the unit tests insist this never happens).
                continue;
            };
            let gvk = Gvk {
                group: r.group,
                version: r.version,
                kind: r.kind,
            };
            push_gvk(&mut gvks, &name, gvk.to_json());
            let list_name = format!("{name}List");
            let list_gvk = json!({ "group": r.group, "version": r.version, "kind": r.list_kind() });
            push_gvk(&mut gvks, &list_name, list_gvk);
            lists.push((name.clone(), list_name.clone(), r.kind));
            kinds.insert((r.group, r.version, r.kind), (name, list_name));
            if r.scale {
                let scale = add::<api::autoscaling::v1::Scale>(&mut generator);
                push_gvk(&mut gvks, &scale, SCALE_GVK.to_json());
            }
            for action in r.actions {
                let (_, gvk, _) = action_type(*action);
                if let Some(name) = kind_schema(&mut generator, gvk.group, gvk.version, gvk.kind) {
                    push_gvk(&mut gvks, &name, gvk.to_json());
                }
            }
        }

        add::<meta::Status>(&mut generator);
        push_gvk(
            &mut gvks,
            STATUS,
            Gvk {
                group: "",
                version: "v1",
                kind: "Status",
            }
            .to_json(),
        );
        add::<meta::DeleteOptions>(&mut generator);
        add::<meta::WatchEvent<()>>(&mut generator);
        for (group, version) in registry::group_versions() {
            let delete_options = Gvk {
                group,
                version,
                kind: "DeleteOptions",
            };
            push_gvk(&mut gvks, DELETE_OPTIONS, delete_options.to_json());
            let watch_event = Gvk {
                group,
                version,
                kind: "WatchEvent",
            };
            push_gvk(&mut gvks, WATCH_EVENT, watch_event.to_json());
        }
        add::<meta::Patch>(&mut generator);
        add::<meta::ListMeta>(&mut generator);
        for (name, kind) in [
            (
                add::<meta::APIResourceList>(&mut generator),
                "APIResourceList",
            ),
            (add::<meta::APIGroup>(&mut generator), "APIGroup"),
            (add::<meta::APIGroupList>(&mut generator), "APIGroupList"),
            (add::<meta::APIVersions>(&mut generator), "APIVersions"),
        ] {
            push_gvk(
                &mut gvks,
                &name,
                Gvk {
                    group: "",
                    version: "v1",
                    kind,
                }
                .to_json(),
            );
        }

        let mut defs: BTreeMap<String, Value> =
            generator.take_definitions(false).into_iter().collect();

        for (item, list, kind) in lists {
            let schema = list_schema(&defs, &item, kind);
            defs.insert(list, schema);
        }

        for (name, schema) in defs.iter_mut() {
            fix_special(name, schema);
            if let Some(Value::Object(props)) = schema.get_mut("properties") {
                for (field, prop) in props.iter_mut() {
                    if let (Some((strategy, key)), Value::Object(p)) =
                        (patch_meta(name, field), prop)
                    {
                        if let Some(s) = strategy {
                            p.insert("x-kubernetes-patch-strategy".into(), s.into());
                        }
                        if let Some(k) = key {
                            p.insert("x-kubernetes-patch-merge-key".into(), k.into());
                        }
                    }
                }
            }
            wrap_ref_siblings(schema);
            if let Some(list) = gvks.remove(name) {
                schema
                    .as_object_mut()
                    .expect("definitions are objects")
                    .insert("x-kubernetes-group-version-kind".into(), Value::Array(list));
            }
        }
        Schemas { defs, kinds }
    }
}

fn push_gvk(gvks: &mut BTreeMap<String, Vec<Value>>, name: &str, gvk: Value) {
    let list = gvks.entry(name.to_string()).or_default();
    if !list.contains(&gvk) {
        list.push(gvk);
    }
}

/// The `<Kind>List` definition (k8s-openapi has a generic `List<T>` without
/// a schema), shaped like upstream's.
fn list_schema(defs: &BTreeMap<String, Value>, item: &str, kind: &str) -> Value {
    let prop = |field: &str| {
        defs.get(item)
            .and_then(|d| d.pointer(&format!("/properties/{field}")))
            .cloned()
            .unwrap_or_else(|| json!({ "type": "string" }))
    };
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "properties": {
            "apiVersion": prop("apiVersion"),
            "kind": prop("kind"),
            "items": {
                "description": format!("List of {kind} objects."),
                "type": "array",
                "items": { "$ref": format!("{V3_REF}{item}") },
            },
            "metadata": {
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
                "$ref": format!("{V3_REF}{LIST_META}"),
            },
        },
        "required": ["items"],
    })
}

/// Aligns k8s-openapi's renderings of a few apimachinery types and the
/// top-level kinds with upstream's v3 form.
fn fix_special(name: &str, schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    match name {
        INT_OR_STRING => {
            obj.remove("x-kubernetes-int-or-string");
            obj.insert("format".into(), "int-or-string".into());
            obj.insert(
                "oneOf".into(),
                json!([{ "type": "integer" }, { "type": "string" }]),
            );
        }
        QUANTITY => {
            obj.remove("x-kubernetes-int-or-string");
            obj.insert(
                "oneOf".into(),
                json!([{ "type": "string" }, { "type": "number" }]),
            );
        }
        _ => {}
    }
    // k8s-openapi derives `required` from its Rust types: `metadata` on
    // every top-level kind (the API requires it only of core/v1 Event) and a
    // few fields that are optional (or required) upstream.
    let is_kind = obj
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key("apiVersion") && p.contains_key("kind"));
    let mut remove: Vec<&str> = Vec::new();
    if is_kind && name != "io.k8s.api.core.v1.Event" {
        remove.push("metadata");
    }
    let mut add: Vec<&str> = Vec::new();
    for (def, field, required) in REQUIRED_FIXES {
        if *def == name {
            if *required {
                add.push(field)
            } else {
                remove.push(field)
            }
        }
    }
    let mut req: Vec<Value> = match obj.remove("required") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    req.retain(|f| !remove.iter().any(|r| f == r));
    for f in add {
        if !req.iter().any(|r| r == f) {
            req.push(f.into());
        }
    }
    if !req.is_empty() {
        obj.insert("required".into(), Value::Array(req));
    }
}

/// `(definition, field, required)` where k8s-openapi's `required` differs
/// from kube-apiserver's (fields with a `""` default upstream are optional).
const REQUIRED_FIXES: &[(&str, &str, bool)] = &[
    ("io.k8s.api.core.v1.ConfigMapEnvSource", "name", false),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "name", false),
    ("io.k8s.api.core.v1.ConfigMapProjection", "name", false),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "name", false),
    ("io.k8s.api.core.v1.LocalObjectReference", "name", false),
    ("io.k8s.api.core.v1.SecretEnvSource", "name", false),
    ("io.k8s.api.core.v1.SecretKeySelector", "name", false),
    ("io.k8s.api.core.v1.SecretProjection", "name", false),
    ("io.k8s.api.events.v1.Event", "eventTime", true),
    (
        "io.k8s.api.networking.v1.NetworkPolicySpec",
        "podSelector",
        true,
    ),
];

/// Recursively rewrites `{"$ref": X, <siblings>}` to `{"allOf": [{"$ref": X}], <siblings>}`.
fn wrap_ref_siblings(node: &mut Value) {
    let Value::Object(m) = node else {
        return;
    };
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = m.get_mut(key) {
            wrap_ref_siblings(v);
        }
    }
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(props)) = m.get_mut(key) {
            props.values_mut().for_each(wrap_ref_siblings);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(list)) = m.get_mut(key) {
            list.iter_mut().for_each(wrap_ref_siblings);
        }
    }
    if m.len() > 1
        && let Some(r) = m.remove("$ref")
    {
        m.insert("allOf".into(), json!([{ "$ref": r }]));
    }
}

/// Every `$ref` target (definition name) under `node`.
fn collect_refs(node: &Value, prefix: &str, out: &mut Vec<String>) {
    match node {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    if let Some(name) = v.as_str().and_then(|s| s.strip_prefix(prefix)) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(v, prefix, out);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| collect_refs(v, prefix, out)),
        _ => {}
    }
}

/// The definitions reachable from `roots` (closed under `$ref`).
fn reachable(schemas: &Schemas, roots: Vec<String>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut stack = roots;
    while let Some(name) = stack.pop() {
        if out.contains_key(&name) {
            continue;
        }
        if let Some(def) = schemas.defs.get(&name) {
            collect_refs(def, V3_REF, &mut stack);
            out.insert(name, def.clone());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct Param {
    name: &'static str,
    location: &'static str,
    ty: &'static str,
    required: bool,
    description: Cow<'static, str>,
}

const fn query(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: "query",
        ty,
        required: false,
        description: Cow::Borrowed(description),
    }
}

const P_PRETTY: Param = query(
    "pretty",
    "string",
    "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
);
const P_NAMESPACE: Param = Param {
    name: "namespace",
    location: "path",
    ty: "string",
    required: true,
    description: Cow::Borrowed("object name and auth scope, such as for teams and projects"),
};
const P_DRY_RUN: Param = query(
    "dryRun",
    "string",
    "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
);
const P_FIELD_MANAGER: Param = query(
    "fieldManager",
    "string",
    "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
);
const P_FIELD_MANAGER_PATCH: Param = query(
    "fieldManager",
    "string",
    "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).",
);
const P_FIELD_VALIDATION: Param = query(
    "fieldValidation",
    "string",
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
);
const P_FORCE: Param = query(
    "force",
    "boolean",
    "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
);
const P_GRACE: Param = query(
    "gracePeriodSeconds",
    "integer",
    "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
);
const P_IGNORE_READ_ERROR: Param = query(
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "boolean",
    "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it",
);
const P_ORPHAN: Param = query(
    "orphanDependents",
    "boolean",
    "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
);
const P_PROPAGATION: Param = query(
    "propagationPolicy",
    "string",
    "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
);
const P_BOOKMARKS: Param = query(
    "allowWatchBookmarks",
    "boolean",
    "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
);
const P_CONTINUE: Param = query(
    "continue",
    "string",
    "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the \"next key\".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.",
);
const P_FIELD_SELECTOR: Param = query(
    "fieldSelector",
    "string",
    "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
);
const P_LABEL_SELECTOR: Param = query(
    "labelSelector",
    "string",
    "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
);
const P_LIMIT: Param = query(
    "limit",
    "integer",
    "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.",
);
const P_RESOURCE_VERSION: Param = query(
    "resourceVersion",
    "string",
    "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
);
const P_RESOURCE_VERSION_MATCH: Param = query(
    "resourceVersionMatch",
    "string",
    "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
);
const P_SEND_INITIAL_EVENTS: Param = query(
    "sendInitialEvents",
    "boolean",
    "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event  will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `\"k8s.io/initial-events-end\": \"true\"` annotation. Afterwards, the watch stream will proceed as usual, sending watch events corresponding to changes (subsequent to the RV) to objects watched.\n\nWhen `sendInitialEvents` option is set, we require `resourceVersionMatch` option to also be set. The semantic of the watch request is as following: - `resourceVersionMatch` = NotOlderThan\n  is interpreted as \"data at least as new as the provided `resourceVersion`\"\n  and the bookmark event is send when the state is synced\n  to a `resourceVersion` at least as fresh as the one provided by the ListOptions.\n  If `resourceVersion` is unset, this is interpreted as \"consistent read\" and the\n  bookmark event is send when the state is synced at least to the moment\n  when request started being processed.\n- `resourceVersionMatch` set to any other value or unset\n  Invalid error is returned.\n\nDefaults to true if `resourceVersion=\"\"` or `resourceVersion=\"0\"` (for backward compatibility reasons) and to false otherwise.",
);
const P_TIMEOUT: Param = query(
    "timeoutSeconds",
    "integer",
    "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
);
const P_WATCH: Param = query(
    "watch",
    "boolean",
    "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
);

const LIST_PARAMS: &[Param] = &[
    P_BOOKMARKS,
    P_CONTINUE,
    P_FIELD_SELECTOR,
    P_LABEL_SELECTOR,
    P_LIMIT,
    P_RESOURCE_VERSION,
    P_RESOURCE_VERSION_MATCH,
    P_SEND_INITIAL_EVENTS,
    P_TIMEOUT,
    P_WATCH,
];
const WRITE_PARAMS: &[Param] = &[P_DRY_RUN, P_FIELD_MANAGER, P_FIELD_VALIDATION];
const PATCH_PARAMS: &[Param] = &[
    P_DRY_RUN,
    P_FIELD_MANAGER_PATCH,
    P_FIELD_VALIDATION,
    P_FORCE,
];
const DELETE_PARAMS: &[Param] = &[
    P_DRY_RUN,
    P_GRACE,
    P_IGNORE_READ_ERROR,
    P_ORPHAN,
    P_PROPAGATION,
];
const DELETE_COLLECTION_PARAMS: &[Param] = &[
    P_CONTINUE,
    P_DRY_RUN,
    P_FIELD_SELECTOR,
    P_GRACE,
    P_IGNORE_READ_ERROR,
    P_LABEL_SELECTOR,
    P_LIMIT,
    P_ORPHAN,
    P_PROPAGATION,
    P_RESOURCE_VERSION,
    P_RESOURCE_VERSION_MATCH,
    P_SEND_INITIAL_EVENTS,
    P_TIMEOUT,
];

const PRODUCES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
];
const PRODUCES_WATCH: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/cbor-seq",
];
const PRODUCES_DISCOVERY: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];
const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// Kinds whose DELETE returns the deleted object rather than a Status
/// (kube-apiserver's ReturnDeletedObject stores).
const DELETE_RETURNS_OBJECT: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "ResourceQuota"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("", "PodTemplate"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
];

enum Body {
    /// `*/*` with the given definition, required.
    Object(String),
    /// The PATCH content types with meta.v1.Patch, required.
    Patch,
    /// `*/*` with DeleteOptions, optional.
    Delete,
}

struct Op {
    method: &'static str,
    id: String,
    description: String,
    /// None for the discovery endpoints.
    action: Option<&'static str>,
    gvk: Option<Gvk>,
    params: Vec<Param>,
    body: Option<Body>,
    produces: &'static [&'static str],
    /// (status code, description, response definition)
    responses: Vec<(&'static str, &'static str, String)>,
    tag: String,
}

#[derive(Default)]
struct PathItem {
    params: Vec<Param>,
    ops: Vec<Op>,
}

type Paths = BTreeMap<String, PathItem>;

/// "rbac.authorization.k8s.io" -> "rbacAuthorization", "" -> "core".
fn group_tag(group: &str) -> String {
    if group.is_empty() {
        return "core".into();
    }
    let trimmed = group.strip_suffix(".k8s.io").unwrap_or(group);
    let mut out = String::new();
    for (i, part) in trimmed.split(['.', '-']).enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            out.push_str(&upper_first(part));
        }
    }
    out
}

/// " a Pod", " an Event", " Endpoints" (plural-looking kinds take no article),
/// as kube-apiserver words its operation descriptions.
fn article(kind: &str) -> &'static str {
    if kind.ends_with('s') && !kind.ends_with("ss") {
        " "
    } else if kind.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        " an "
    } else {
        " a "
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn ok(definition: &str) -> (&'static str, &'static str, String) {
    ("200", "OK", definition.to_string())
}
fn created(definition: &str) -> (&'static str, &'static str, String) {
    ("201", "Created", definition.to_string())
}
fn accepted(definition: &str) -> (&'static str, &'static str, String) {
    ("202", "Accepted", definition.to_string())
}

/// Every document's paths: "api", "apis", "api/v1", "apis/<g>", "apis/<g>/<v>".
fn build_paths(schemas: &Schemas) -> BTreeMap<String, Paths> {
    let mut docs: BTreeMap<String, Paths> = BTreeMap::new();

    let discovery = |path: &str, id: &str, tag: &str, definition: &str, produces| {
        let mut paths = Paths::new();
        paths.insert(
            path.to_string(),
            PathItem {
                params: Vec::new(),
                ops: vec![Op {
                    method: "get",
                    id: id.to_string(),
                    description: "get available resources".into(),
                    action: None,
                    gvk: None,
                    params: Vec::new(),
                    body: None,
                    produces,
                    responses: vec![ok(definition)],
                    tag: tag.to_string(),
                }],
            },
        );
        paths
    };

    let mut core = discovery(
        "/api/",
        "getCoreAPIVersions",
        "core",
        API_VERSIONS,
        PRODUCES_DISCOVERY,
    );
    if let Some(item) = core.get_mut("/api/") {
        item.ops[0].description = "get available API versions".into();
    }
    docs.insert("api".into(), core);
    let mut apis = discovery(
        "/apis/",
        "getAPIVersions",
        "apis",
        API_GROUP_LIST,
        PRODUCES_DISCOVERY,
    );
    if let Some(item) = apis.get_mut("/apis/") {
        item.ops[0].description = "get available API versions".into();
    }
    docs.insert("apis".into(), apis);

    for (group, version) in registry::group_versions() {
        let tag = group_tag(group);
        let gv_tag = format!("{tag}_{version}");
        let gv_id = format!("{}{}", upper_first(&tag), upper_first(version));
        let (doc, prefix) = if group.is_empty() {
            (format!("api/{version}"), format!("/api/{version}"))
        } else {
            let mut g = discovery(
                &format!("/apis/{group}/"),
                &format!("get{}APIGroup", upper_first(&tag)),
                &tag,
                API_GROUP,
                PRODUCES_DISCOVERY,
            );
            if let Some(item) = g.values_mut().next() {
                item.ops[0].description = "get information of a group".into();
            }
            docs.insert(format!("apis/{group}"), g);
            (
                format!("apis/{group}/{version}"),
                format!("/apis/{group}/{version}"),
            )
        };
        let mut paths = discovery(
            &format!("{prefix}/"),
            &format!("get{gv_id}APIResources"),
            &gv_tag,
            API_RESOURCE_LIST,
            PRODUCES,
        );
        for r in registry::resources_of(group, version) {
            if let Some((def, list_def)) = schemas.kinds.get(&(r.group, r.version, r.kind)) {
                if r.create_only {
                    // Reviews: POST on the collection only.
                    let mut own = Paths::new();
                    resource_paths(r, &prefix, &gv_id, &gv_tag, def, list_def, &mut own);
                    for (path, mut item) in own {
                        if path.contains("/watch/") || path.ends_with("{name}") {
                            continue;
                        }
                        item.ops.retain(|op| op.method == "post");
                        if !item.ops.is_empty() {
                            paths.insert(path, item);
                        }
                    }
                    continue;
                }
                resource_paths(r, &prefix, &gv_id, &gv_tag, def, list_def, &mut paths);
            }
        }
        docs.insert(doc, paths);
    }
    docs
}

fn resource_paths(
    r: &ResourceDef,
    prefix: &str,
    gv_id: &str,
    tag: &str,
    def: &str,
    list_def: &str,
    paths: &mut Paths,
) {
    let gvk = Gvk {
        group: r.group,
        version: r.version,
        kind: r.kind,
    };
    let kind = r.kind;
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let ns_segment = if r.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{prefix}{ns_segment}/{}", r.plural);
    let item = format!("{collection}/{{name}}");
    let watch_collection = format!("{prefix}/watch{ns_segment}/{}", r.plural);
    let watch_item = format!("{watch_collection}/{{name}}");
    let ns_param: Vec<Param> = if r.namespaced {
        vec![P_NAMESPACE]
    } else {
        Vec::new()
    };
    let name_of = |kind: &str| Param {
        name: "name",
        location: "path",
        ty: "string",
        required: true,
        description: Cow::Owned(format!("name of the {kind}")),
    };
    let name_param = name_of(kind);
    // Subresource paths name the subresource's kind: "name of the Scale".
    let sub_params = |sub_kind: &str| {
        let mut p = vec![name_of(sub_kind)];
        p.extend(ns_param.iter().cloned());
        p.push(P_PRETTY);
        p
    };

    let op = |method: &'static str,
              id: String,
              description: String,
              action: &'static str,
              gvk: Gvk,
              params: &[Param],
              body: Option<Body>,
              produces: &'static [&'static str],
              responses: Vec<(&'static str, &'static str, String)>| Op {
        method,
        id,
        description,
        action: Some(action),
        gvk: Some(gvk),
        params: params.to_vec(),
        body,
        produces,
        responses,
        tag: tag.to_string(),
    };

    // Collection.
    let mut coll_ops = vec![
        op(
            "get",
            format!("list{gv_id}{scope}{kind}"),
            format!("list or watch objects of kind {kind}"),
            "list",
            gvk,
            LIST_PARAMS,
            None,
            PRODUCES_WATCH,
            vec![ok(list_def)],
        ),
        op(
            "post",
            format!("create{gv_id}{scope}{kind}"),
            format!("create{}{kind}", article(kind)),
            "post",
            gvk,
            WRITE_PARAMS,
            Some(Body::Object(def.to_string())),
            PRODUCES,
            vec![ok(def), created(def), accepted(def)],
        ),
    ];
    // kube-apiserver serves no deletecollection for namespaces.
    if !(r.group.is_empty() && r.kind == "Namespace") {
        coll_ops.push(op(
            "delete",
            format!("delete{gv_id}Collection{scope}{kind}"),
            format!("delete collection of {kind}"),
            "deletecollection",
            gvk,
            DELETE_COLLECTION_PARAMS,
            Some(Body::Delete),
            PRODUCES,
            vec![ok(STATUS)],
        ));
    }
    let mut base_params = ns_param.clone();
    base_params.push(P_PRETTY);
    paths.insert(
        collection,
        PathItem {
            params: base_params.clone(),
            ops: coll_ops,
        },
    );

    // Item.
    let mut item_params = vec![name_param.clone()];
    item_params.extend(ns_param.iter().cloned());
    item_params.push(P_PRETTY);
    let deleted = if DELETE_RETURNS_OBJECT.contains(&(r.group, r.kind)) {
        def
    } else {
        STATUS
    };
    paths.insert(
        item.clone(),
        PathItem {
            params: item_params.clone(),
            ops: vec![
                op(
                    "get",
                    format!("read{gv_id}{scope}{kind}"),
                    format!("read the specified {kind}"),
                    "get",
                    gvk,
                    &[],
                    None,
                    PRODUCES,
                    vec![ok(def)],
                ),
                op(
                    "put",
                    format!("replace{gv_id}{scope}{kind}"),
                    format!("replace the specified {kind}"),
                    "put",
                    gvk,
                    WRITE_PARAMS,
                    Some(Body::Object(def.to_string())),
                    PRODUCES,
                    vec![ok(def), created(def)],
                ),
                op(
                    "patch",
                    format!("patch{gv_id}{scope}{kind}"),
                    format!("partially update the specified {kind}"),
                    "patch",
                    gvk,
                    PATCH_PARAMS,
                    Some(Body::Patch),
                    PRODUCES,
                    vec![ok(def), created(def)],
                ),
                op(
                    "delete",
                    format!("delete{gv_id}{scope}{kind}"),
                    format!("delete{}{kind}", article(kind)),
                    "delete",
                    gvk,
                    DELETE_PARAMS,
                    Some(Body::Delete),
                    PRODUCES,
                    vec![ok(deleted), accepted(deleted)],
                ),
            ],
        },
    );

    // get/put/patch subresources: status (same kind) and scale (autoscaling/v1 Scale).
    let mut subresources = Vec::new();
    if r.status {
        subresources.push(("status", "Status", gvk, def.to_string()));
    }
    if r.scale {
        subresources.push((
            "scale",
            "Scale",
            SCALE_GVK,
            "io.k8s.api.autoscaling.v1.Scale".into(),
        ));
    }
    for (sub, suffix, sub_gvk, sub_def) in subresources {
        paths.insert(
            format!("{item}/{sub}"),
            PathItem {
                params: sub_params(sub_gvk.kind),
                ops: vec![
                    op(
                        "get",
                        format!("read{gv_id}{scope}{kind}{suffix}"),
                        format!("read {sub} of the specified {kind}"),
                        "get",
                        sub_gvk,
                        &[],
                        None,
                        PRODUCES,
                        vec![ok(&sub_def)],
                    ),
                    op(
                        "put",
                        format!("replace{gv_id}{scope}{kind}{suffix}"),
                        format!("replace {sub} of the specified {kind}"),
                        "put",
                        sub_gvk,
                        WRITE_PARAMS,
                        Some(Body::Object(sub_def.clone())),
                        PRODUCES,
                        vec![ok(&sub_def), created(&sub_def)],
                    ),
                    op(
                        "patch",
                        format!("patch{gv_id}{scope}{kind}{suffix}"),
                        format!("partially update {sub} of the specified {kind}"),
                        "patch",
                        sub_gvk,
                        PATCH_PARAMS,
                        Some(Body::Patch),
                        PRODUCES,
                        vec![ok(&sub_def), created(&sub_def)],
                    ),
                ],
            },
        );
    }

    // POST-only actions: kube-apiserver puts the write options on the path.
    for action in r.actions {
        let (action_def, action_gvk, sub) = action_type(*action);
        let mut params = WRITE_PARAMS.to_vec();
        params.extend(sub_params(action_gvk.kind));
        paths.insert(
            format!("{item}/{sub}"),
            PathItem {
                params,
                ops: vec![op(
                    "post",
                    format!("create{gv_id}{scope}{kind}{}", upper_first(sub)),
                    format!("create {sub} of{}{kind}", article(kind)),
                    "post",
                    action_gvk,
                    &[],
                    Some(Body::Object(action_def.to_string())),
                    PRODUCES,
                    vec![ok(action_def), created(action_def), accepted(action_def)],
                )],
            },
        );
    }

    let with_list = |extra: &[Param]| {
        let mut p = LIST_PARAMS.to_vec();
        p.extend(extra.iter().cloned());
        p.push(P_PRETTY);
        p
    };

    // Across namespaces.
    if r.namespaced {
        paths.insert(
            format!("{prefix}/{}", r.plural),
            PathItem {
                params: with_list(&[]),
                ops: vec![op(
                    "get",
                    format!("list{gv_id}{kind}ForAllNamespaces"),
                    format!("list or watch objects of kind {kind}"),
                    "list",
                    gvk,
                    &[],
                    None,
                    PRODUCES_WATCH,
                    vec![ok(list_def)],
                )],
            },
        );
        paths.insert(
            format!("{prefix}/watch/{}", r.plural),
            PathItem {
                params: with_list(&[]),
                ops: vec![op(
                    "get",
                    format!("watch{gv_id}{kind}ListForAllNamespaces"),
                    format!(
                        "watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."
                    ),
                    "watchlist",
                    gvk,
                    &[],
                    None,
                    PRODUCES_WATCH,
                    vec![ok(WATCH_EVENT)],
                )],
            },
        );
    }

    // Deprecated watch paths.
    paths.insert(
        watch_collection,
        PathItem {
            params: with_list(&ns_param),
            ops: vec![op(
                "get",
                format!("watch{gv_id}{scope}{kind}List"),
                format!(
                    "watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."
                ),
                "watchlist",
                gvk,
                &[],
                None,
                PRODUCES_WATCH,
                vec![ok(WATCH_EVENT)],
            )],
        },
    );
    let mut watch_item_params = vec![name_param];
    watch_item_params.extend(ns_param.iter().cloned());
    paths.insert(
        watch_item,
        PathItem {
            params: with_list(&watch_item_params),
            ops: vec![op(
                "get",
                format!("watch{gv_id}{scope}{kind}"),
                format!(
                    "watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
                ),
                "watch",
                gvk,
                &[],
                None,
                PRODUCES_WATCH,
                vec![ok(WATCH_EVENT)],
            )],
        },
    );
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

fn sorted(params: &[Param]) -> Vec<Param> {
    let mut p = params.to_vec();
    p.sort_by_key(|p| p.name);
    p
}

fn info() -> Value {
    json!({ "title": "Kubernetes", "version": "unversioned" })
}

fn bearer() -> Value {
    json!({
        "description": "Bearer Token authentication",
        "in": "header",
        "name": "authorization",
        "type": "apiKey",
    })
}

fn v3_param(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": p.location,
        "description": p.description,
        "schema": { "type": p.ty, "uniqueItems": true },
    });
    if p.required {
        v["required"] = true.into();
    }
    v
}

fn v2_param(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": p.location,
        "description": p.description,
        "type": p.ty,
        "uniqueItems": true,
    });
    if p.required {
        v["required"] = true.into();
    }
    v
}

fn extensions(op: &Op, out: &mut Map<String, Value>) {
    out.insert("tags".into(), json!([op.tag]));
    if let Some(a) = op.action {
        out.insert("x-kubernetes-action".into(), a.into());
    }
    if let Some(g) = op.gvk {
        out.insert("x-kubernetes-group-version-kind".into(), g.to_json());
    }
}

fn v3_paths(paths: &Paths) -> Value {
    let mut out = Map::new();
    for (path, item) in paths {
        let mut p = Map::new();
        if !item.params.is_empty() {
            p.insert(
                "parameters".into(),
                sorted(&item.params).iter().map(v3_param).collect(),
            );
        }
        for op in &item.ops {
            let mut o = Map::new();
            o.insert("operationId".into(), op.id.clone().into());
            o.insert("description".into(), op.description.clone().into());
            if !op.params.is_empty() {
                o.insert(
                    "parameters".into(),
                    sorted(&op.params).iter().map(v3_param).collect(),
                );
            }
            let schema_ref =
                |name: &str| json!({ "schema": { "$ref": format!("{V3_REF}{name}") } });
            match &op.body {
                Some(Body::Object(def)) => {
                    o.insert(
                        "requestBody".into(),
                        json!({ "content": { "*/*": schema_ref(def) }, "required": true }),
                    );
                }
                Some(Body::Patch) => {
                    let content: Map<String, Value> = PATCH_TYPES
                        .iter()
                        .map(|t| (t.to_string(), schema_ref(PATCH)))
                        .collect();
                    o.insert(
                        "requestBody".into(),
                        json!({ "content": content, "required": true }),
                    );
                }
                Some(Body::Delete) => {
                    o.insert(
                        "requestBody".into(),
                        json!({ "content": { "*/*": schema_ref(DELETE_OPTIONS) } }),
                    );
                }
                None => {}
            }
            let mut responses = Map::new();
            for (code, description, def) in &op.responses {
                let content: Map<String, Value> = op
                    .produces
                    .iter()
                    .map(|t| (t.to_string(), schema_ref(def)))
                    .collect();
                responses.insert(
                    code.to_string(),
                    json!({ "description": description, "content": content }),
                );
            }
            responses.insert("401".into(), json!({ "description": "Unauthorized" }));
            o.insert("responses".into(), Value::Object(responses));
            extensions(op, &mut o);
            p.insert(op.method.into(), Value::Object(o));
        }
        out.insert(path.clone(), Value::Object(p));
    }
    Value::Object(out)
}

fn v3_document(paths: &Paths, schemas: &Schemas) -> Value {
    let paths = v3_paths(paths);
    let mut roots = Vec::new();
    collect_refs(&paths, V3_REF, &mut roots);
    let defs: Map<String, Value> = reachable(schemas, roots).into_iter().collect();
    json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": { "BearerToken": bearer() },
        },
        "security": [{ "BearerToken": [] }],
    })
}

/// A v3 schema in v2 form: `#/definitions/` refs, one-element `allOf`
/// unwrapped back to `$ref` plus siblings, no `oneOf`.
fn to_v2_schema(node: &Value) -> Value {
    match node {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let name = r.strip_prefix(V3_REF).unwrap_or(r);
                        out.insert(k.clone(), format!("{V2_REF}{name}").into());
                    }
                    ("allOf", Value::Array(list))
                        if list.len() == 1 && list[0].get("$ref").is_some() =>
                    {
                        if let Some(Value::Object(inner)) = Some(to_v2_schema(&list[0])) {
                            out.extend(inner);
                        }
                    }
                    ("oneOf", _) => {}
                    _ => {
                        out.insert(k.clone(), to_v2_schema(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(list) => Value::Array(list.iter().map(to_v2_schema).collect()),
        other => other.clone(),
    }
}

fn v2_definition(name: &str, schema: &Value) -> Value {
    let mut v = to_v2_schema(schema);
    if (name == INT_OR_STRING || name == QUANTITY)
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert("type".into(), "string".into());
    }
    v
}

fn v2_document(paths: &Paths, schemas: &Schemas) -> Value {
    let mut out = Map::new();
    for (path, item) in paths {
        let mut p = Map::new();
        if !item.params.is_empty() {
            p.insert(
                "parameters".into(),
                sorted(&item.params).iter().map(v2_param).collect(),
            );
        }
        for op in &item.ops {
            let mut o = Map::new();
            o.insert("operationId".into(), op.id.clone().into());
            o.insert("description".into(), op.description.clone().into());
            let schema_ref = |name: &str| json!({ "$ref": format!("{V2_REF}{name}") });
            let mut params = Vec::new();
            let consumes: Vec<&str> = match &op.body {
                Some(Body::Object(def)) => {
                    params.push(json!({
                        "name": "body", "in": "body", "required": true, "schema": schema_ref(def),
                    }));
                    vec!["*/*"]
                }
                Some(Body::Patch) => {
                    params.push(json!({
                        "name": "body", "in": "body", "required": true, "schema": schema_ref(PATCH),
                    }));
                    PATCH_TYPES.to_vec()
                }
                Some(Body::Delete) => {
                    params.push(json!({
                        "name": "body", "in": "body", "schema": schema_ref(DELETE_OPTIONS),
                    }));
                    vec!["*/*"]
                }
                None if op.action.is_none() => op.produces.to_vec(),
                None => vec!["*/*"],
            };
            params.extend(sorted(&op.params).iter().map(v2_param));
            if !params.is_empty() {
                o.insert("parameters".into(), Value::Array(params));
            }
            o.insert("consumes".into(), json!(consumes));
            o.insert("produces".into(), json!(op.produces));
            o.insert("schemes".into(), json!(["https"]));
            let mut responses = Map::new();
            for (code, description, def) in &op.responses {
                responses.insert(
                    code.to_string(),
                    json!({ "description": description, "schema": schema_ref(def) }),
                );
            }
            responses.insert("401".into(), json!({ "description": "Unauthorized" }));
            o.insert("responses".into(), Value::Object(responses));
            extensions(op, &mut o);
            p.insert(op.method.into(), Value::Object(o));
        }
        out.insert(path.clone(), Value::Object(p));
    }
    let paths = Value::Object(out);
    let mut roots = Vec::new();
    collect_refs(&paths, V2_REF, &mut roots);
    let definitions: Map<String, Value> = reachable(schemas, roots)
        .iter()
        .map(|(name, schema)| (name.clone(), v2_definition(name, schema)))
        .collect();
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": { "BearerToken": bearer() },
        "security": [{ "BearerToken": [] }],
    })
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::OnceLock;
    use std::time::Instant;

    fn patch_meta(def: &str, field: &str) -> Option<(Option<&'static str>, Option<&'static str>)> {
        match (def, field) {
            ("io.k8s.api.core.v1.PodSpec", "containers") => Some((Some("merge"), Some("name"))),
            ("io.k8s.api.core.v1.Container", "ports") => {
                Some((Some("merge"), Some("containerPort")))
            }
            ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers") => {
                Some((Some("merge"), None))
            }
            _ => None,
        }
    }

    fn built() -> &'static OpenApi {
        static API: OnceLock<OpenApi> = OnceLock::new();
        API.get_or_init(|| {
            let start = Instant::now();
            let api = OpenApi::build(&patch_meta);
            println!("OpenApi::build took {:?}", start.elapsed());
            api
        })
    }

    fn parse(b: &Bytes) -> Value {
        serde_json::from_slice(b).expect("valid JSON")
    }

    fn gv_path(r: &ResourceDef) -> String {
        if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        }
    }

    fn gvk_json(group: &str, version: &str, kind: &str) -> Value {
        json!({ "group": group, "version": version, "kind": kind })
    }

    /// kubectl's query-param verifier: the first PATCH operation with the
    /// GVK decides; every one must therefore list the parameter.
    fn patch_ops_with_gvk<'a>(doc: &'a Value, gvk: &Value) -> Vec<&'a Value> {
        doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|item| item.get("patch"))
            .filter(|op| &op["x-kubernetes-group-version-kind"] == gvk)
            .collect()
    }

    fn has_param(op: &Value, name: &str) -> bool {
        op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == name))
    }

    #[test]
    fn pod_patch_lists_field_validation_with_pod_gvk() {
        let doc = parse(&built().v3_group_version("api/v1").unwrap());
        let op = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
        assert_eq!(op["operationId"], "patchCoreV1NamespacedPod");
        assert_eq!(op["x-kubernetes-action"], "patch");
        assert_eq!(
            op["x-kubernetes-group-version-kind"],
            gvk_json("", "v1", "Pod")
        );
        for p in ["fieldValidation", "fieldManager", "dryRun", "force"] {
            assert!(has_param(op, p), "{p}");
        }
        let content = op["requestBody"]["content"].as_object().unwrap();
        for t in PATCH_TYPES {
            assert!(content.contains_key(*t), "{t}");
        }
        assert_eq!(
            doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
                ["x-kubernetes-patch-merge-key"],
            "name"
        );
    }

    #[test]
    fn every_registry_kind_has_schema_gvk_and_field_validation() {
        let api = built();
        let v2 = parse(&api.v2());
        for r in registry::RESOURCES {
            let doc = parse(&api.v3_group_version(&gv_path(r)).unwrap());
            let gvk = gvk_json(r.group, r.version, r.kind);
            let schemas = doc["components"]["schemas"].as_object().unwrap();
            let with_gvk: Vec<&String> = schemas
                .iter()
                .filter(|(_, s)| {
                    s["x-kubernetes-group-version-kind"]
                        .as_array()
                        .is_some_and(|l| l.contains(&gvk))
                })
                .map(|(n, _)| n)
                .collect();
            assert_eq!(
                with_gvk.len(),
                1,
                "{} schemas with GVK {gvk}",
                with_gvk.len()
            );
            if r.create_only {
                // Reviews have a POST and nothing else.
                continue;
            }
            let ops = patch_ops_with_gvk(&doc, &gvk);
            assert!(!ops.is_empty(), "no PATCH for {gvk}");
            for op in ops {
                assert!(has_param(op, "fieldValidation"), "{}", op["operationId"]);
            }
            // Scale and actions as well.
            if r.scale {
                let scale = gvk_json("autoscaling", "v1", "Scale");
                for op in patch_ops_with_gvk(&doc, &scale) {
                    assert!(has_param(op, "fieldValidation"));
                }
            }
            // v2 carries the same operation.
            let ops = patch_ops_with_gvk(&v2, &gvk);
            assert!(!ops.is_empty() && ops.iter().all(|op| has_param(op, "fieldValidation")));
        }
    }

    fn assert_refs_resolve(doc: &Value, prefix: &str, defs: &Value) {
        let mut refs = Vec::new();
        collect_refs(doc, prefix, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            assert!(defs.get(&r).is_some(), "unresolved {prefix}{r}");
        }
        // Nothing referenced under another prefix.
        let mut all = Vec::new();
        collect_refs(doc, "", &mut all);
        assert!(all.iter().all(|r| r.starts_with(prefix)), "foreign ref");
    }

    #[test]
    fn refs_resolve_in_every_document() {
        let api = built();
        for name in api.v3_paths() {
            let doc = parse(&api.v3_group_version(name).unwrap());
            assert_eq!(doc["openapi"], "3.0.0");
            assert_refs_resolve(&doc, V3_REF, &doc["components"]["schemas"]);
        }
        let v2 = parse(&api.v2());
        assert_eq!(v2["swagger"], "2.0");
        assert_refs_resolve(&v2, V2_REF, &v2["definitions"]);
        // v2 has no allOf-wrapped refs, v3 no $ref with siblings.
        assert!(
            v2["definitions"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["$ref"].is_string()
        );
        let v1 = parse(&api.v3_group_version("api/v1").unwrap());
        let spec = &v1["components"]["schemas"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"];
        assert_eq!(
            spec["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.PodSpec"
        );
        assert!(spec["description"].is_string());
    }

    #[test]
    fn v3_index_lists_every_group_version() {
        let api = built();
        let index = parse(&api.v3_index());
        let paths = index["paths"].as_object().unwrap();
        let mut expected: BTreeSet<String> = ["api".to_string(), "apis".to_string()].into();
        for (group, version) in registry::group_versions() {
            if group.is_empty() {
                expected.insert(format!("api/{version}"));
            } else {
                expected.insert(format!("apis/{group}"));
                expected.insert(format!("apis/{group}/{version}"));
            }
        }
        let got: BTreeSet<String> = paths.keys().cloned().collect();
        assert_eq!(got, expected);
        for (name, entry) in paths {
            let url = entry["serverRelativeURL"].as_str().unwrap();
            let (path, hash) = url.split_once("?hash=").unwrap();
            assert_eq!(path, format!("/openapi/v3/{name}"));
            let body = api.v3_group_version(name).unwrap();
            assert_eq!(hash, hex_upper(&Sha512::digest(&body)));
            assert_eq!(api.v3_hash(name), Some(hash));
        }
        assert!(api.v3_group_version("/apis/apps/v1").is_some());
        assert!(api.v3_group_version("apis/nope/v1").is_none());
    }

    #[test]
    fn paths_follow_kube_apiserver_layout() {
        let api = built();
        let v1 = parse(&api.v3_group_version("api/v1").unwrap());
        let paths = v1["paths"].as_object().unwrap();
        for (path, methods) in [
            ("/api/v1/", &["get"][..]),
            ("/api/v1/namespaces", &["get", "post"][..]),
            (
                "/api/v1/namespaces/{name}",
                &["get", "put", "patch", "delete"][..],
            ),
            (
                "/api/v1/namespaces/{name}/status",
                &["get", "put", "patch"][..],
            ),
            (
                "/api/v1/namespaces/{namespace}/pods",
                &["get", "post", "delete"][..],
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/binding",
                &["post"][..],
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
                &["post"][..],
            ),
            (
                "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                &["post"][..],
            ),
            (
                "/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale",
                &["get", "put", "patch"][..],
            ),
            ("/api/v1/pods", &["get"][..]),
            ("/api/v1/watch/pods", &["get"][..]),
            ("/api/v1/watch/namespaces/{namespace}/pods", &["get"][..]),
            (
                "/api/v1/watch/namespaces/{namespace}/pods/{name}",
                &["get"][..],
            ),
            ("/api/v1/watch/nodes/{name}", &["get"][..]),
        ] {
            let item = paths.get(path).unwrap_or_else(|| panic!("{path}"));
            let got: BTreeSet<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "parameters")
                .collect();
            assert_eq!(got, methods.iter().cloned().collect(), "{path}");
        }
        assert!(paths["/api/v1/namespaces"].get("delete").is_none());
        let list = &paths["/api/v1/namespaces/{namespace}/pods"]["get"];
        assert_eq!(list["operationId"], "listCoreV1NamespacedPod");
        assert_eq!(list["x-kubernetes-action"], "list");
        for p in [
            "labelSelector",
            "fieldSelector",
            "limit",
            "continue",
            "resourceVersion",
            "resourceVersionMatch",
            "watch",
            "allowWatchBookmarks",
            "timeoutSeconds",
            "sendInitialEvents",
        ] {
            assert!(has_param(list, p), "{p}");
        }
        let eviction = &paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"];
        assert_eq!(
            eviction["x-kubernetes-group-version-kind"],
            gvk_json("policy", "v1", "Eviction")
        );
        assert_eq!(
            paths["/api/v1/watch/namespaces/{namespace}/pods/{name}"]["get"]["x-kubernetes-action"],
            "watch"
        );
        assert_eq!(
            paths["/api/v1/watch/pods"]["get"]["x-kubernetes-action"],
            "watchlist"
        );

        let rbac = parse(
            &api.v3_group_version("apis/rbac.authorization.k8s.io/v1")
                .unwrap(),
        );
        assert_eq!(
            rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles"]["get"]["operationId"],
            "listRbacAuthorizationV1ClusterRole"
        );
        let apps = parse(&api.v3_group_version("apis/apps/v1").unwrap());
        let scale = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
            ["patch"];
        assert_eq!(scale["operationId"], "patchAppsV1NamespacedDeploymentScale");
        assert_eq!(
            scale["x-kubernetes-group-version-kind"],
            gvk_json("autoscaling", "v1", "Scale")
        );
        assert!(
            apps["components"]["schemas"]["io.k8s.api.core.v1.Pod"].is_null(),
            "only reachable schemas"
        );
    }

    /// What `kubectl explain deployments.spec.template.spec.containers` walks.
    #[test]
    fn explain_path_resolves() {
        let api = built();
        let apps = parse(&api.v3_group_version("apis/apps/v1").unwrap());
        let schemas = &apps["components"]["schemas"];
        let resolve = |s: &Value| -> Value {
            let r = s.get("$ref").or_else(|| s.pointer("/allOf/0/$ref"));
            match r.and_then(Value::as_str) {
                Some(r) => schemas[r.strip_prefix(V3_REF).unwrap()].clone(),
                None => s.clone(),
            }
        };
        let gvk = gvk_json("apps", "v1", "Deployment");
        let (_, root) = schemas
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, s)| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|l| l.contains(&gvk))
            })
            .unwrap();
        let mut cur = root.clone();
        for field in ["spec", "template", "spec", "containers"] {
            let next = resolve(&cur)["properties"][field].clone();
            assert!(!next.is_null(), "{field}");
            cur = next;
        }
        let item = resolve(&cur["items"]);
        assert!(item["properties"]["image"]["description"].is_string());
        assert!(!item["description"].as_str().unwrap().is_empty());
    }
}
