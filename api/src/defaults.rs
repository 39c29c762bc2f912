//! Defaulting of Kubernetes objects, modelled on kube-apiserver's
//! `pkg/apis/core/v1/defaults.go`, `pkg/apis/apps/v1/defaults.go` and
//! `pkg/apis/batch/v1/defaults.go` (plus the few registry-strategy defaults
//! that `kubectl get -o yaml` shows on a fresh object, e.g. namespace
//! finalizers and service IP families).
//!
//! Defaulting only fills in absent (or null) fields and is idempotent.

use serde_json::{Map, Value, json};

/// Applies the defaults kube-apiserver applies on create and update
/// (idempotent). `group` is "" for core.
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (group, kind) {
        ("", "Pod") => default_pod(obj),
        ("", "PodTemplate") => {
            if let Some(spec) = child(obj, &["template", "spec"]) {
                default_pod_spec(spec);
            }
        }
        ("", "ReplicationController") => default_replication_controller(obj),
        ("", "Service") => default_service(obj),
        ("", "Secret") => default_secret(obj),
        ("", "Namespace") => default_namespace(obj),
        ("", "Endpoints") => {
            for subset in arr_mut(obj, "subsets") {
                for port in arr_mut(subset, "ports") {
                    set(port, "protocol", json!("TCP"));
                }
            }
        }
        ("", "PersistentVolume") => {
            let spec = ensure_obj(obj, "spec");
            set(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
            set(spec, "volumeMode", json!("Filesystem"));
        }
        ("", "PersistentVolumeClaim") => {
            set(ensure_obj(obj, "spec"), "volumeMode", json!("Filesystem"));
        }
        ("apps", "Deployment") => default_deployment(obj),
        ("apps", "ReplicaSet") => {
            let spec = ensure_obj(obj, "spec");
            set(spec, "replicas", json!(1));
            default_template(spec);
        }
        ("apps", "StatefulSet") => default_stateful_set(obj),
        ("apps", "DaemonSet") => default_daemon_set(obj),
        ("batch", "Job") => default_job_spec(ensure_obj(obj, "spec")),
        ("batch", "CronJob") => default_cron_job(obj),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------

fn is_unset(v: Option<&Value>) -> bool {
    v.is_none_or(Value::is_null)
}

/// Sets `obj[key] = value` when absent or null.
fn set(obj: &mut Value, key: &str, value: Value) {
    if let Some(m) = obj.as_object_mut()
        && is_unset(m.get(key))
    {
        m.insert(key.to_string(), value);
    }
}

/// `obj[key]`, created as `{}` when absent or null.
fn ensure_obj<'a>(obj: &'a mut Value, key: &str) -> &'a mut Value {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let m = obj.as_object_mut().expect("object");
    let slot = m
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot
}

/// Existing object at `path`, if every step is an object.
fn child<'a>(obj: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut cur = obj;
    for p in path {
        cur = cur.get_mut(*p)?;
    }
    cur.is_object().then_some(cur)
}

/// Elements of the array at `obj[key]` (empty when absent).
fn arr_mut<'a>(obj: &'a mut Value, key: &str) -> std::slice::IterMut<'a, Value> {
    match obj.get_mut(key).and_then(Value::as_array_mut) {
        Some(a) => a.iter_mut(),
        None => [].iter_mut(),
    }
}

fn str_at<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------
// core/v1: pods
// ---------------------------------------------------------------------------

/// The tag the docker reference parser sees (`latest` when untagged and
/// undigested, "" for digest-only references).
fn image_tag(image: &str) -> &str {
    let (name, has_digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag,
        None if has_digest => "",
        None => "latest",
    }
}

fn default_http_get(handler: Option<&mut Value>) {
    if let Some(h) = handler.and_then(|h| h.get_mut("httpGet"))
        && h.is_object()
    {
        set(h, "path", json!("/"));
        set(h, "scheme", json!("HTTP"));
    }
}

fn default_container(c: &mut Value) {
    if !c.is_object() {
        return;
    }
    if is_unset(c.get("imagePullPolicy")) || str_at(c, "imagePullPolicy").is_empty() {
        let policy = if image_tag(str_at(c, "image")) == "latest" {
            "Always"
        } else {
            "IfNotPresent"
        };
        c["imagePullPolicy"] = json!(policy);
    }
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    for port in arr_mut(c, "ports") {
        set(port, "protocol", json!("TCP"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) {
            set(p, "timeoutSeconds", json!(1));
            set(p, "periodSeconds", json!(10));
            set(p, "successThreshold", json!(1));
            set(p, "failureThreshold", json!(3));
            default_http_get(Some(p));
        }
    }
    if let Some(l) = c.get_mut("lifecycle") {
        for hook in ["postStart", "preStop"] {
            default_http_get(l.get_mut(hook));
        }
    }
    for env in arr_mut(c, "env") {
        if let Some(vf) = env.get_mut("valueFrom") {
            if let Some(fr) = vf.get_mut("fieldRef").filter(|v| v.is_object()) {
                set(fr, "apiVersion", json!("v1"));
            }
            if let Some(rr) = vf.get_mut("resourceFieldRef").filter(|v| v.is_object()) {
                set(rr, "divisor", json!("0"));
            }
        }
    }
}

fn default_volume(v: &mut Value) {
    let Some(m) = v.as_object_mut() else {
        return;
    };
    if !m.iter().any(|(k, v)| k != "name" && !v.is_null()) {
        m.insert("emptyDir".into(), json!({}));
    }
    for src in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = m.get_mut(src).filter(|s| s.is_object()) {
            set(s, "defaultMode", json!(420));
        }
    }
    if let Some(h) = m.get_mut("hostPath").filter(|s| s.is_object()) {
        set(h, "type", json!(""));
    }
    if let Some(d) = m.get_mut("downwardAPI") {
        for item in arr_mut(d, "items") {
            if let Some(fr) = item.get_mut("fieldRef").filter(|v| v.is_object()) {
                set(fr, "apiVersion", json!("v1"));
            }
        }
    }
    if let Some(p) = m.get_mut("projected") {
        for source in arr_mut(p, "sources") {
            if let Some(t) = source
                .get_mut("serviceAccountToken")
                .filter(|v| v.is_object())
            {
                set(t, "expirationSeconds", json!(3600));
            }
            if let Some(d) = source.get_mut("downwardAPI") {
                for item in arr_mut(d, "items") {
                    if let Some(fr) = item.get_mut("fieldRef").filter(|v| v.is_object()) {
                        set(fr, "apiVersion", json!("v1"));
                    }
                }
            }
        }
    }
}

/// `SetDefaults_PodSpec` plus the container and volume defaults: what every
/// pod template gets.
fn default_pod_spec(spec: &mut Value) {
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "securityContext", json!({}));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "schedulerName", json!("default-scheduler"));
    for v in arr_mut(spec, "volumes") {
        default_volume(v);
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in arr_mut(spec, list) {
            default_container(c);
        }
    }
}

/// `SetDefaults_Pod`: pod-only defaults on top of the pod spec defaults.
fn default_pod(obj: &mut Value) {
    let spec = ensure_obj(obj, "spec");
    default_pod_spec(spec);
    set(spec, "enableServiceLinks", json!(true));
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    for list in ["initContainers", "containers"] {
        for c in arr_mut(spec, list) {
            // Requests default to limits.
            let limits = c
                .get("resources")
                .and_then(|r| r.get("limits"))
                .and_then(Value::as_object)
                .cloned();
            if let Some(limits) = limits.filter(|l| !l.is_empty()) {
                let requests = ensure_obj(ensure_obj(c, "resources"), "requests");
                for (k, v) in limits {
                    set(requests, &k, v);
                }
            }
            if host_network {
                for port in arr_mut(c, "ports") {
                    let cp = port.get("containerPort").cloned();
                    let hp = port.get("hostPort");
                    if let Some(cp) = cp
                        && (is_unset(hp) || hp.and_then(Value::as_i64) == Some(0))
                    {
                        port["hostPort"] = cp;
                    }
                }
            }
        }
    }
}

fn default_template(spec: &mut Value) {
    if let Some(ps) = child(spec, &["template", "spec"]) {
        default_pod_spec(ps);
    }
}

fn default_replication_controller(obj: &mut Value) {
    let labels = obj
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = labels {
        set(ensure_obj(obj, "spec"), "selector", labels.clone());
        let meta = ensure_obj(obj, "metadata");
        if meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
        {
            meta["labels"] = labels;
        }
    }
    let spec = ensure_obj(obj, "spec");
    set(spec, "replicas", json!(1));
    default_template(spec);
}

// ---------------------------------------------------------------------------
// core/v1: services, secrets, namespaces
// ---------------------------------------------------------------------------

fn default_service(obj: &mut Value) {
    let has_selector = obj
        .get("spec")
        .and_then(|s| s.get("selector"))
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    let spec = ensure_obj(obj, "spec");
    set(spec, "sessionAffinity", json!("None"));
    if str_at(spec, "type").is_empty() {
        spec["type"] = json!("ClusterIP");
    }
    let stype = str_at(spec, "type").to_string();
    for port in arr_mut(spec, "ports") {
        set(port, "protocol", json!("TCP"));
        let tp = port.get("targetPort");
        let unset = is_unset(tp)
            || tp.and_then(Value::as_i64) == Some(0)
            || tp.and_then(Value::as_str) == Some("");
        if unset && let Some(p) = port.get("port").cloned() {
            port["targetPort"] = p;
        }
    }
    if str_at(spec, "sessionAffinity") == "ClientIP" {
        let cfg = ensure_obj(ensure_obj(spec, "sessionAffinityConfig"), "clientIP");
        set(cfg, "timeoutSeconds", json!(10800));
    }
    if stype == "NodePort" || stype == "LoadBalancer" {
        set(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if stype == "LoadBalancer" {
        set(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if stype == "ExternalName" {
        return;
    }
    set(spec, "internalTrafficPolicy", json!("Cluster"));
    let cluster_ip = str_at(spec, "clusterIP").to_string();
    if !cluster_ip.is_empty() {
        set(spec, "clusterIPs", json!([cluster_ip]));
    }
    let headless = cluster_ip == "None";
    // Registry defaults (single-stack cluster): headless services without a
    // selector require dual-stack, everything else is single-stack.
    let policy = if headless && !has_selector {
        "RequireDualStack"
    } else {
        "SingleStack"
    };
    set(spec, "ipFamilyPolicy", json!(policy));
    let family = if cluster_ip.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    };
    set(spec, "ipFamilies", json!([family]));
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn default_secret(obj: &mut Value) {
    if str_at(obj, "type").is_empty() {
        obj["type"] = json!("Opaque");
    }
    // v1 -> internal conversion: stringData is merged into data (and wins).
    let string_data = obj
        .as_object_mut()
        .and_then(|m| m.remove("stringData"))
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        });
    if let Some(sd) = string_data.filter(|m| !m.is_empty()) {
        let data = ensure_obj(obj, "data");
        for (k, v) in sd {
            let s = v.as_str().unwrap_or_default();
            data[k.as_str()] = json!(base64_encode(s.as_bytes()));
        }
    }
}

fn default_namespace(obj: &mut Value) {
    let name = obj
        .get("metadata")
        .map(|m| str_at(m, "name").to_string())
        .unwrap_or_default();
    if !name.is_empty() {
        let labels = ensure_obj(ensure_obj(obj, "metadata"), "labels");
        labels["kubernetes.io/metadata.name"] = json!(name);
    }
    let spec = ensure_obj(obj, "spec");
    set(spec, "finalizers", json!(["kubernetes"]));
    set(ensure_obj(obj, "status"), "phase", json!("Active"));
}

// ---------------------------------------------------------------------------
// apps/v1
// ---------------------------------------------------------------------------

fn default_deployment(obj: &mut Value) {
    let spec = ensure_obj(obj, "spec");
    set(spec, "replicas", json!(1));
    let strategy = ensure_obj(spec, "strategy");
    if str_at(strategy, "type").is_empty() {
        strategy["type"] = json!("RollingUpdate");
    }
    if str_at(strategy, "type") == "RollingUpdate" {
        let ru = ensure_obj(strategy, "rollingUpdate");
        set(ru, "maxUnavailable", json!("25%"));
        set(ru, "maxSurge", json!("25%"));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    default_template(spec);
}

fn default_stateful_set(obj: &mut Value) {
    let spec = ensure_obj(obj, "spec");
    set(spec, "podManagementPolicy", json!("OrderedReady"));
    let us = ensure_obj(spec, "updateStrategy");
    if str_at(us, "type").is_empty() {
        us["type"] = json!("RollingUpdate");
    }
    if str_at(us, "type") == "RollingUpdate" {
        set(ensure_obj(us, "rollingUpdate"), "partition", json!(0));
    }
    let retention = ensure_obj(spec, "persistentVolumeClaimRetentionPolicy");
    set(retention, "whenDeleted", json!("Retain"));
    set(retention, "whenScaled", json!("Retain"));
    set(spec, "replicas", json!(1));
    set(spec, "revisionHistoryLimit", json!(10));
    for pvc in arr_mut(spec, "volumeClaimTemplates") {
        if pvc.is_object() {
            set(ensure_obj(pvc, "spec"), "volumeMode", json!("Filesystem"));
        }
    }
    default_template(spec);
}

fn default_daemon_set(obj: &mut Value) {
    let spec = ensure_obj(obj, "spec");
    let us = ensure_obj(spec, "updateStrategy");
    if str_at(us, "type").is_empty() {
        us["type"] = json!("RollingUpdate");
    }
    if str_at(us, "type") == "RollingUpdate" {
        let ru = ensure_obj(us, "rollingUpdate");
        set(ru, "maxUnavailable", json!(1));
        set(ru, "maxSurge", json!(0));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    default_template(spec);
}

// ---------------------------------------------------------------------------
// batch/v1
// ---------------------------------------------------------------------------

fn default_job_spec(spec: &mut Value) {
    if is_unset(spec.get("completions")) && is_unset(spec.get("parallelism")) {
        spec["completions"] = json!(1);
    }
    set(spec, "parallelism", json!(1));
    let backoff = if is_unset(spec.get("backoffLimitPerIndex")) {
        6
    } else {
        i64::from(i32::MAX)
    };
    set(spec, "backoffLimit", json!(backoff));
    set(spec, "completionMode", json!("NonIndexed"));
    set(spec, "suspend", json!(false));
    let replacement = if is_unset(spec.get("podFailurePolicy")) {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    set(spec, "podReplacementPolicy", json!(replacement));
    set(spec, "manualSelector", json!(false));
    default_template(spec);
}

fn default_cron_job(obj: &mut Value) {
    let spec = ensure_obj(obj, "spec");
    set(spec, "concurrencyPolicy", json!("Allow"));
    set(spec, "suspend", json!(false));
    set(spec, "successfulJobsHistoryLimit", json!(3));
    set(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(js) = child(spec, &["jobTemplate", "spec"]) {
        default_template(js);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaulted(group: &str, kind: &str, v: Value) -> Value {
        let mut v = v;
        apply_defaults(group, kind, &mut v);
        let once = v.clone();
        apply_defaults(group, kind, &mut v);
        assert_eq!(v, once, "defaulting must be idempotent");
        v
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx"), "latest");
        assert_eq!(image_tag("nginx:latest"), "latest");
        assert_eq!(image_tag("nginx:1.25"), "1.25");
        assert_eq!(image_tag("localhost:5000/nginx"), "latest");
        assert_eq!(image_tag("localhost:5000/nginx:v1"), "v1");
        assert_eq!(image_tag("nginx@sha256:abc"), "");
        assert_eq!(image_tag("nginx:1.2@sha256:abc"), "1.2");
    }

    #[test]
    fn pod_defaults_match_kubectl_run() {
        // `kubectl run nginx --image=nginx` then `kubectl get pod -o yaml`
        // (admission-added fields such as serviceAccountName, tolerations,
        // priority and the kube-api-access volume left out).
        let pod = defaulted(
            "",
            "Pod",
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "nginx", "namespace": "default", "labels": {"run": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}
            }),
        );
        assert_eq!(
            pod["spec"],
            json!({
                "containers": [{
                    "image": "nginx",
                    "imagePullPolicy": "Always",
                    "name": "nginx",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30
            })
        );
    }

    #[test]
    fn pod_container_details() {
        let pod = defaulted(
            "",
            "Pod",
            json!({"spec": {
                "hostNetwork": true,
                "volumes": [{"name": "a"}, {"name": "b", "secret": {"secretName": "s"}},
                            {"name": "c", "configMap": {"name": "cm"}}],
                "containers": [{
                    "name": "c", "image": "nginx:1.25",
                    "ports": [{"containerPort": 80}],
                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}},
                    "livenessProbe": {"httpGet": {"port": 80}},
                    "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
                }]
            }}),
        );
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(
            c["ports"][0],
            json!({"containerPort": 80, "hostPort": 80, "protocol": "TCP"})
        );
        assert_eq!(
            c["resources"]["requests"],
            json!({"cpu": "500m", "memory": "1Gi"})
        );
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                   "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        let vols = &pod["spec"]["volumes"];
        assert_eq!(vols[0], json!({"name": "a", "emptyDir": {}}));
        assert_eq!(vols[1]["secret"]["defaultMode"], 420);
        assert_eq!(vols[2]["configMap"]["defaultMode"], 420);
    }

    #[test]
    fn deployment_defaults_match_kubectl_create() {
        // `kubectl create deployment web --image=nginx:1.25`
        let d = defaulted(
            "apps",
            "Deployment",
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
                "spec": {
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}
                    }
                }
            }),
        );
        assert_eq!(
            d["spec"],
            json!({
                "progressDeadlineSeconds": 600,
                "replicas": 1,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    "type": "RollingUpdate"
                },
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{
                            "image": "nginx:1.25",
                            "imagePullPolicy": "IfNotPresent",
                            "name": "nginx",
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"
                        }],
                        "dnsPolicy": "ClusterFirst",
                        "restartPolicy": "Always",
                        "schedulerName": "default-scheduler",
                        "securityContext": {},
                        "terminationGracePeriodSeconds": 30
                    }
                }
            })
        );
    }

    #[test]
    fn recreate_strategy_gets_no_rolling_update() {
        let d = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
        );
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn service_defaults_match_kubectl_create() {
        // `kubectl create service clusterip web --tcp=80:8080`, after IP
        // allocation (clusterIP set by the caller).
        let s = defaulted(
            "",
            "Service",
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "clusterIP": "10.96.12.34",
                    "ports": [{"name": "80-8080", "port": 80, "targetPort": 8080}],
                    "selector": {"app": "web"}
                }
            }),
        );
        assert_eq!(
            s["spec"],
            json!({
                "clusterIP": "10.96.12.34",
                "clusterIPs": ["10.96.12.34"],
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "ports": [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}],
                "selector": {"app": "web"},
                "sessionAffinity": "None",
                "type": "ClusterIP"
            })
        );
    }

    #[test]
    fn service_type_specific_defaults() {
        let s = defaulted(
            "",
            "Service",
            json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 443}], "sessionAffinity": "ClientIP"}}),
        );
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 443);
        assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(s["spec"]["allocateLoadBalancerNodePorts"], true);
        assert_eq!(
            s["spec"]["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
        let e = defaulted(
            "",
            "Service",
            json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
        );
        assert_eq!(
            e["spec"],
            json!({"type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"})
        );
        let h = defaulted(
            "",
            "Service",
            json!({"spec": {"clusterIP": "None", "ports": [{"port": 80}]}}),
        );
        assert_eq!(h["spec"]["ipFamilyPolicy"], "RequireDualStack");
        assert_eq!(h["spec"]["clusterIPs"], json!(["None"]));
    }

    #[test]
    fn job_defaults_match_kubectl_create() {
        // `kubectl create job pi --image=perl -- perl -e 1` (selector and
        // controller-uid labels are added by the registry, not here).
        let j = defaulted(
            "batch",
            "Job",
            json!({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "pi", "namespace": "default"},
                "spec": {"template": {"spec": {
                    "containers": [{"name": "pi", "image": "perl:5.34", "command": ["perl", "-e", "1"]}],
                    "restartPolicy": "Never"
                }}}
            }),
        );
        assert_eq!(
            j["spec"],
            json!({
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "completions": 1,
                "manualSelector": false,
                "parallelism": 1,
                "podReplacementPolicy": "TerminatingOrFailed",
                "suspend": false,
                "template": {"spec": {
                    "containers": [{
                        "command": ["perl", "-e", "1"],
                        "image": "perl:5.34",
                        "imagePullPolicy": "IfNotPresent",
                        "name": "pi",
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File"
                    }],
                    "dnsPolicy": "ClusterFirst",
                    "restartPolicy": "Never",
                    "schedulerName": "default-scheduler",
                    "securityContext": {},
                    "terminationGracePeriodSeconds": 30
                }}
            })
        );
        // Explicit parallelism leaves completions unset.
        let j = defaulted("batch", "Job", json!({"spec": {"parallelism": 3}}));
        assert!(j["spec"].get("completions").is_none());
    }

    #[test]
    fn cron_job_defaults() {
        let c = defaulted(
            "batch",
            "CronJob",
            json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"}}}}}}),
        );
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["suspend"], false);
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
        let js = &c["spec"]["jobTemplate"]["spec"];
        assert!(js.get("backoffLimit").is_none());
        assert_eq!(js["template"]["spec"]["dnsPolicy"], "ClusterFirst");
        assert_eq!(
            js["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "Always"
        );
    }

    #[test]
    fn namespace_defaults_match_kubectl_create() {
        let ns = defaulted(
            "",
            "Namespace",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
        );
        assert_eq!(
            ns,
            json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}
            })
        );
    }

    #[test]
    fn statefulset_and_daemonset_defaults() {
        let s = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {"serviceName": "db"}}),
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(s["spec"]["replicas"], 1);
        assert_eq!(s["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        let d = defaulted("apps", "DaemonSet", json!({"spec": {}}));
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let r = defaulted("apps", "ReplicaSet", json!({"spec": {}}));
        assert_eq!(r["spec"]["replicas"], 1);
    }

    #[test]
    fn secret_defaults() {
        let s = defaulted(
            "",
            "Secret",
            json!({"stringData": {"user": "admin", "pw": "hunter2"}, "data": {"user": "eA=="}}),
        );
        assert_eq!(s["type"], "Opaque");
        assert!(s.get("stringData").is_none());
        assert_eq!(s["data"], json!({"user": "YWRtaW4=", "pw": "aHVudGVyMg=="}));
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
    }

    #[test]
    fn defaulted_objects_validate_cleanly() {
        use super::super::validation::validate;
        let mut pod = json!({"metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}});
        apply_defaults("", "Pod", &mut pod);
        assert_eq!(validate("", "Pod", &pod, None, true), vec![]);
        let old = pod.clone();
        pod["spec"]["containers"][0]["image"] = json!("nginx:1.25");
        apply_defaults("", "Pod", &mut pod);
        assert_eq!(validate("", "Pod", &pod, Some(&old), true), vec![]);
    }
}
