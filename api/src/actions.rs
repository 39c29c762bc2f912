//! Subresource actions (pods/binding, pods/eviction, serviceaccounts/token),
//! service IP and node-port allocation, and namespace content cleanup.

use std::net::Ipv4Addr;

use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use bytes::Bytes;
use raftplane_store::Compare;
use raftplane_store::Op;
use raftplane_store::Revision;
use raftplane_store::Txn;
use serde_json::Value;
use serde_json::json;

use crate::error::ApiError;
use crate::error::ApiResult;
use crate::handlers::Api;
use crate::handlers::DeleteOptions;
use crate::handlers::Target;
use crate::objects;
use crate::objects::ReadMode;
use crate::params::Params;
use crate::registry;
use crate::registry::ResourceDef;
use crate::selectors::LabelSelector;

/// The service CIDR (kube-apiserver's default --service-cluster-ip-range).
pub const SERVICE_CIDR: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 96, 0, 0), 12);
/// The NodePort range (--service-node-port-range default).
pub const NODE_PORT_RANGE: (u16, u16) = (30000, 32767);
/// The address of the `kubernetes` Service: the first of the range.
pub const KUBERNETES_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);

const IP_KEY_PREFIX: &str = "/registry/ranges/serviceips/";
const PORT_KEY_PREFIX: &str = "/registry/ranges/servicenodeports/";

fn success(code: u16) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code});
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        axum::Json(body),
    )
        .into_response()
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    crate::handlers::decode_body(&crate::handlers::content_type(headers), body)
}

pub async fn post(
    api: &Api,
    t: &Target,
    p: &Params,
    headers: &HeaderMap,
    action: &str,
    body: &[u8],
) -> ApiResult<Response> {
    match action {
        "binding" => bind(api, t, p, &parse_body(headers, body)?).await,
        "eviction" => evict(api, t, p, &parse_body(headers, body)?).await,
        "token" => Err(ApiError::unavailable(
            "service account token signing is not configured on this server",
        )),
        _ => Err(ApiError::unknown_path()),
    }
}

/// pods/binding: sets spec.nodeName once (409 if already bound) and the
/// PodScheduled condition, as kube-apiserver's BindingREST does.
async fn bind(api: &Api, t: &Target, p: &Params, binding: &Value) -> ApiResult<Response> {
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "",
                "Binding",
                t.name.as_deref().unwrap_or(""),
                &[crate::hooks::Cause {
                    reason: "FieldValueRequired",
                    field: "target.name".into(),
                    message: "Required value".into(),
                }],
            )
        })?
        .to_string();
    let name = t.name.clone().unwrap_or_default();
    let mut main = t.clone();
    main.sub = Some("binding".into());
    api.guaranteed_update(&main, p, false, |cur| {
        let cur = cur.ok_or_else(|| ApiError::not_found("", "pods", &name))?;
        if cur.pointer("/metadata/deletionTimestamp").is_some() {
            return Err(ApiError::conflict("", "pods", &name, "pod is being deleted, cannot be assigned to a host"));
        }
        if let Some(n) = cur.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            return Err(ApiError::conflict("", "pods", &name, &format!("pod {name} is already assigned to node \"{n}\"")));
        }
        let mut n = cur.clone();
        n["spec"]["nodeName"] = json!(node);
        let cond = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": crate::handlers::now_rfc3339()});
        let conds = n["status"]["conditions"].as_array().cloned().unwrap_or_default();
        let mut conds: Vec<Value> = conds.into_iter().filter(|c| c["type"] != "PodScheduled").collect();
        conds.push(cond);
        n["status"]["conditions"] = json!(conds);
        Ok(Some(n))
    })
    .await?;
    Ok(success(201))
}

/// pods/eviction: deletes the pod unless a PodDisruptionBudget forbids it
/// (429, as the eviction REST handler answers).
async fn evict(api: &Api, t: &Target, p: &Params, eviction: &Value) -> ApiResult<Response> {
    let name = t.name.clone().unwrap_or_default();
    let ns = t.namespace.clone().unwrap_or_default();
    let mut pod_t = t.clone();
    pod_t.sub = None;
    let pod = api
        .read(&pod_t, ReadMode::Consistent)
        .await?
        .ok_or_else(|| ApiError::not_found("", "pods", &name))?;
    let pod = objects::decode(&pod)?;
    let finished = matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded") | Some("Failed")
    );
    if !finished {
        let pdbs = registry::lookup("policy", "v1", "poddisruptionbudgets")
            .expect("invariant: pdbs registered");
        let list = api
            .objects
            .list(&pdbs.list_prefix(Some(&ns)), None, 0, Revision::ZERO)
            .await?;
        let labels = pod.pointer("/metadata/labels").and_then(Value::as_object);
        for kv in &list.kvs {
            let pdb = objects::decode(kv)?;
            let Some(sel) = pdb.pointer("/spec/selector") else {
                continue;
            };
            let Ok(sel) = LabelSelector::from_object(sel) else {
                continue;
            };
            if sel.is_empty() || !sel.matches(labels) {
                continue;
            }
            let observed = pdb
                .pointer("/status/observedGeneration")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let generation = pdb
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let allowed = pdb
                .pointer("/status/disruptionsAllowed")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let pdb_name = pdb
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if observed < generation {
                return Err(disruption_error(format!(
                    "The disruption budget {pdb_name} is still being processed by the server."
                )));
            }
            if allowed <= 0 {
                let wanted = pdb
                    .pointer("/status/desiredHealthy")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let healthy = pdb
                    .pointer("/status/currentHealthy")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                return Err(disruption_error(format!(
                    "The disruption budget {pdb_name} needs {wanted} healthy pods and has {healthy} currently"
                )));
            }
        }
    }
    let opts = DeleteOptions {
        dry_run: p.dry_run
            || eviction
                .pointer("/deleteOptions/dryRun")
                .and_then(Value::as_array)
                .is_some_and(|d| !d.is_empty()),
        grace_period_seconds: eviction
            .pointer("/deleteOptions/gracePeriodSeconds")
            .and_then(Value::as_i64),
        propagation_policy: eviction
            .pointer("/deleteOptions/propagationPolicy")
            .and_then(Value::as_str)
            .map(String::from),
        uid: eviction
            .pointer("/deleteOptions/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        resource_version: eviction
            .pointer("/deleteOptions/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
    };
    api.delete_object(&pod_t, p, &opts).await?;
    Ok(success(201))
}

fn ip_in_cidr(ip: Ipv4Addr) -> bool {
    let (base, bits) = SERVICE_CIDR;
    let mask = u32::MAX << (32 - bits);
    (u32::from(ip) & mask) == u32::from(base)
}

fn random_service_ip() -> Ipv4Addr {
    let (base, bits) = SERVICE_CIDR;
    let size = 1u32 << (32 - bits);
    // Skip the network address, the kubernetes service's .1 and broadcast.
    let off = rand::random_range(2..size - 1);
    Ipv4Addr::from(u32::from(base) + off)
}

/// Allocates the cluster IP and node ports of a Service being created by
/// adding reservation keys (with absent compares) to its transaction.
pub async fn allocate_service(_api: &Api, svc: &mut Value, txn: &mut Txn) -> ApiResult<()> {
    let ty = svc
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty == "ExternalName" {
        return Ok(());
    }
    let requested = svc
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if requested != "None" {
        let ip = if requested.is_empty() {
            random_service_ip()
        } else {
            let ip: Ipv4Addr = requested.parse().map_err(|_| {
                ApiError::invalid("", "Service", "", &[crate::hooks::Cause {
                    reason: "FieldValueInvalid",
                    field: "spec.clusterIPs[0]".into(),
                    message: format!("Invalid value: \"{requested}\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                }])
            })?;
            if !ip_in_cidr(ip) {
                return Err(ApiError::invalid(
                    "",
                    "Service",
                    "",
                    &[crate::hooks::Cause {
                        reason: "FieldValueInvalid",
                        field: "spec.clusterIPs".into(),
                        message: format!(
                            "Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}/{}",
                            SERVICE_CIDR.0, SERVICE_CIDR.1
                        ),
                    }],
                ));
            }
            ip
        };
        let key = format!("{IP_KEY_PREFIX}{ip}");
        txn.compares.push(Compare::Absent(Bytes::from(key.clone())));
        txn.success.push(Op::Put {
            key: Bytes::from(key),
            value: Bytes::from_static(b"1"),
        });
        svc["spec"]["clusterIP"] = json!(ip.to_string());
        svc["spec"]["clusterIPs"] = json!([ip.to_string()]);
    } else {
        svc["spec"]["clusterIPs"] = json!(["None"]);
    }
    if (ty == "NodePort" || ty == "LoadBalancer")
        && let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut)
    {
        {
            for port in ports {
                let np = match port.get("nodePort").and_then(Value::as_u64) {
                    Some(n) if n > 0 => n as u16,
                    _ => rand::random_range(NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1),
                };
                let key = format!("{PORT_KEY_PREFIX}{np}");
                txn.compares.push(Compare::Absent(Bytes::from(key.clone())));
                txn.success.push(Op::Put {
                    key: Bytes::from(key),
                    value: Bytes::from_static(b"1"),
                });
                port["nodePort"] = json!(np);
            }
        }
    }
    Ok(())
}

/// Adds the deletes that free what `obj` holds (service IPs and ports).
pub fn release_allocations(def: &ResourceDef, obj: &Value, txn: &mut Txn) {
    if def.kind != "Service" {
        return;
    }
    if let Some(ips) = obj.pointer("/spec/clusterIPs").and_then(Value::as_array) {
        for ip in ips
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| *s != "None")
        {
            txn.success.push(Op::Delete {
                key: Bytes::from(format!("{IP_KEY_PREFIX}{ip}")),
            });
        }
    }
    if let Some(ports) = obj.pointer("/spec/ports").and_then(Value::as_array) {
        for np in ports
            .iter()
            .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        {
            txn.success.push(Op::Delete {
                key: Bytes::from(format!("{PORT_KEY_PREFIX}{np}")),
            });
        }
    }
}

/// Deletes everything in a terminating namespace, then the namespace.
/// Runs on the member that accepted the DELETE; idempotent, so a rerun
/// (the next DELETE of the namespace) finishes an interrupted cleanup.
pub fn spawn_namespace_cleanup(api: Api, ns: String) {
    tokio::spawn(async move {
        if let Err(e) = cleanup_namespace(&api, &ns).await {
            tracing::warn!(namespace = %ns, error = %e.message, "namespace cleanup failed");
        }
    });
}

async fn cleanup_namespace(api: &Api, ns: &str) -> ApiResult<()> {
    let p = Params::default();
    for def in registry::RESOURCES.iter().filter(|d| d.namespaced) {
        let list = api
            .objects
            .list(&def.list_prefix(Some(ns)), None, 0, Revision::ZERO)
            .await?;
        for kv in &list.kvs {
            let obj = objects::decode(kv)?;
            let t = Target {
                def,
                namespace: Some(ns.to_string()),
                name: obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(String::from),
                sub: None,
                legacy_watch: false,
            };
            let opts = DeleteOptions {
                grace_period_seconds: Some(0),
                ..Default::default()
            };
            match api.delete_object(&t, &p, &opts).await {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
    }
    let nsdef = registry::lookup("", "v1", "namespaces").expect("invariant: namespaces registered");
    let t = Target {
        def: nsdef,
        namespace: None,
        name: Some(ns.to_string()),
        sub: Some("finalize".into()),
        legacy_watch: false,
    };
    api.guaranteed_update(&t, &p, false, |cur| {
        let Some(cur) = cur else { return Ok(None) };
        let mut n = cur.clone();
        n["spec"]["finalizers"] = json!([]);
        Ok(Some(n))
    })
    .await
    .map(|_| ())
    .or_else(|e| if e.code == 404 { Ok(()) } else { Err(e) })
}

/// Answers a review. There is no authenticator or authorizer yet (the
/// security issue adds x509/token authentication and RBAC): every request
/// is served, and the reviews say so.
pub fn review(mut obj: Value) -> Value {
    const WHY: &str = "no authorizer is configured: every request is allowed";
    match obj.get("kind").and_then(Value::as_str).unwrap_or("") {
        "SelfSubjectAccessReview" | "SubjectAccessReview" => {
            obj["status"] = json!({"allowed": true, "reason": WHY});
        }
        "SelfSubjectRulesReview" => {
            obj["status"] = json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false,
                "evaluationError": WHY,
            });
        }
        "SelfSubjectReview" => {
            obj["status"] = json!({"userInfo": {"username": "system:anonymous", "groups": ["system:unauthenticated"]}});
        }
        _ => {}
    }
    if obj.get("metadata").is_none_or(|m| !m.is_object()) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]["creationTimestamp"] = Value::Null;
    obj
}

/// 429 for an eviction a PodDisruptionBudget forbids, shaped as the
/// eviction REST handler answers (the budget's state in the cause).
fn disruption_error(cause: String) -> ApiError {
    ApiError {
        details: Some(
            json!({"causes": [{"reason": "DisruptionBudget", "message": cause}], "retryAfterSeconds": 10}),
        ),
        ..ApiError::new(
            429,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
        )
    }
}
