use super::*;

/// 2024-05-01T12:00:00Z
const NOW: i64 = 1_714_564_800;

fn ts(secs_ago: i64) -> String {
    format_rfc3339(NOW - secs_ago)
}

fn table(group: &str, kind: &str, objs: &[Value]) -> Value {
    to_table(group, kind, objs, json!({}), IncludeObject::None, NOW)
}

fn cells(group: &str, kind: &str, obj: Value) -> Vec<Value> {
    let t = table(group, kind, &[obj]);
    t["rows"][0]["cells"].as_array().cloned().unwrap()
}

fn col_names(t: &Value) -> Vec<String> {
    t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn human_duration_matches_kube() {
    let cases = [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (150, "2m30s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 20 * 60, "3h20m"),
        (8 * 3600, "8h"),
        (47 * 3600 + 59 * 60, "47h"),
        (48 * 3600, "2d"),
        (3 * 86_400 + 5 * 3600, "3d5h"),
        (8 * 86_400, "8d"),
        (400 * 86_400, "400d"),
        (2 * 365 * 86_400, "2y"),
        (3 * 365 * 86_400 + 10 * 86_400, "3y10d"),
        (9 * 365 * 86_400, "9y"),
    ];
    for (secs, want) in cases {
        assert_eq!(human_duration(secs), want, "{secs}s");
    }
}

#[test]
fn time_parsing_and_formatting() {
    assert_eq!(format_rfc3339(NOW), "2024-05-01T12:00:00Z");
    assert_eq!(parse_time(Some(&json!("2024-05-01T12:00:00Z"))), Some(NOW));
    assert_eq!(
        parse_time(Some(&json!("2024-05-01T12:00:00.123456Z"))),
        Some(NOW)
    );
    assert_eq!(
        parse_time(Some(&json!("2024-05-01T14:00:00+02:00"))),
        Some(NOW)
    );
    assert_eq!(parse_time(Some(&json!("0001-01-01T00:00:00Z"))), None);
    assert_eq!(parse_time(Some(&json!("garbage"))), None);
    assert_eq!(parse_time(Some(&json!(12))), None);
    assert_eq!(parse_time(Some(&json!("2024-05-01T12:00:00Zjunk"))), None);
    assert_eq!(format_rfc3339(ZERO_TIME), "0001-01-01T00:00:00Z");
    assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
}

#[test]
fn running_pod_with_restarts() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-7d4b9c8f5-x2x9q", "namespace": "default", "creationTimestamp": ts(3 * 86_400 + 4 * 3600)},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "nginx", "image": "nginx:1.25"}, {"name": "sidecar", "image": "busybox"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}],
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}],
            "containerStatuses": [
                {"name": "nginx", "ready": true, "restartCount": 2, "state": {"running": {"startedAt": ts(300)}},
                 "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": ts(301)}}},
                {"name": "sidecar", "ready": true, "restartCount": 1, "state": {"running": {"startedAt": ts(4000)}},
                 "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts(4000)}}}
            ]
        }
    });
    assert_eq!(
        cells("", "Pod", pod),
        vec![
            json!("web-7d4b9c8f5-x2x9q"),
            json!("2/2"),
            json!("Running"),
            json!("3 (5m1s ago)"),
            json!("3d4h"),
            json!("10.244.1.7"),
            json!("worker-1"),
            json!("<none>"),
            json!("<none>"),
        ]
    );
}

#[test]
fn pod_statuses() {
    let status_of = |pod: Value| cells("", "Pod", pod)[2].clone();
    let ready_of = |pod: Value| cells("", "Pod", pod)[1].clone();

    // Pending, unscheduled: phase as status, no node.
    let pending = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}});
    let c = cells("", "Pod", pending);
    assert_eq!(c[1..4], [json!("0/1"), json!("Pending"), json!("0")]);
    assert_eq!(c[4], json!("<unknown>"));
    assert_eq!(c[6], json!("<none>"));

    // ContainerCreating.
    let creating = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "a", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}}}]}});
    assert_eq!(status_of(creating), json!("ContainerCreating"));

    // CrashLoopBackOff with restarts.
    let crash = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "a", "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(30)}}}]}});
    let c = cells("", "Pod", crash);
    assert_eq!(
        c[1..4],
        [
            json!("0/1"),
            json!("CrashLoopBackOff"),
            json!("5 (30s ago)")
        ]
    );

    // Completed (Succeeded) carries the Completed row condition.
    let done = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "a", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
    let t = table("", "Pod", &[done]);
    assert_eq!(t["rows"][0]["cells"][2], json!("Completed"));
    assert_eq!(t["rows"][0]["conditions"][0]["type"], json!("Completed"));
    assert_eq!(t["rows"][0]["conditions"][0]["reason"], json!("Succeeded"));

    // Terminated without a reason.
    let sig = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "a", "restartCount": 0,
                "state": {"terminated": {"exitCode": 2, "signal": 9}}}]}});
    assert_eq!(status_of(sig), json!("Signal:9"));
    let code = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "a", "restartCount": 0,
                "state": {"terminated": {"exitCode": 3}}}]}});
    assert_eq!(status_of(code), json!("ExitCode:3"));

    // Terminating: deletionTimestamp on a non-terminal pod.
    let term = json!({"metadata": {"name": "p", "deletionTimestamp": ts(5)}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
    assert_eq!(status_of(term), json!("Terminating"));
    // ...but NodeLost becomes Unknown.
    let lost = json!({"metadata": {"name": "p", "deletionTimestamp": ts(5)}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "reason": "NodeLost"}});
    assert_eq!(status_of(lost), json!("Unknown"));
    // ...and a terminal pod keeps its status.
    let gone = json!({"metadata": {"name": "p", "deletionTimestamp": ts(5)}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Failed", "reason": "Evicted"}});
    assert_eq!(status_of(gone), json!("Evicted"));

    // Completed container but another still running → Running / NotReady.
    let mixed = |ready_cond: &str| {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready_cond}],
                "containerStatuses": [
                    {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                    {"name": "b", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}})
    };
    assert_eq!(status_of(mixed("True")), json!("Running"));
    assert_eq!(status_of(mixed("False")), json!("NotReady"));

    // SchedulingGated.
    let gated = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}});
    assert_eq!(status_of(gated), json!("SchedulingGated"));

    // Running but not ready.
    let unready = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "a", "ready": false, "restartCount": 0, "state": {"running": {}}}]}});
    assert_eq!(ready_of(unready), json!("0/1"));
}

#[test]
fn pod_init_containers() {
    let status_of = |pod: &Value| cells("", "Pod", pod.clone())[2].clone();
    let spec =
        json!({"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]});

    let running_first = json!({"metadata": {"name": "p"}, "spec": spec, "status": {"phase": "Pending",
            "initContainerStatuses": [
                {"name": "i1", "restartCount": 0, "state": {"running": {}}},
                {"name": "i2", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]}});
    assert_eq!(status_of(&running_first), json!("Init:0/2"));

    let second = json!({"metadata": {"name": "p"}, "spec": spec, "status": {"phase": "Pending",
            "initContainerStatuses": [
                {"name": "i1", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "i2", "restartCount": 0, "state": {"running": {}}}]}});
    assert_eq!(status_of(&second), json!("Init:1/2"));

    let failed = json!({"metadata": {"name": "p"}, "spec": spec, "status": {"phase": "Pending",
            "initContainerStatuses": [
                {"name": "i1", "restartCount": 3, "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(90)}}}]}});
    let c = cells("", "Pod", failed);
    assert_eq!(c[2], json!("Init:Error"));
    assert_eq!(c[3], json!("3 (90s ago)"));

    let backoff = json!({"metadata": {"name": "p"}, "spec": spec, "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "i1", "restartCount": 0, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
    assert_eq!(status_of(&backoff), json!("Init:CrashLoopBackOff"));

    let exit = json!({"metadata": {"name": "p"}, "spec": spec, "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "i1", "restartCount": 0, "state": {"terminated": {"exitCode": 4}}}]}});
    assert_eq!(status_of(&exit), json!("Init:ExitCode:4"));

    // A native sidecar (restartPolicy Always) counts toward READY/total.
    let sidecar = json!({"metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true, "restartCount": 1, "state": {"running": {}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(7200)}}}],
                "containerStatuses": [{"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
    let c = cells("", "Pod", sidecar);
    assert_eq!(
        c[1..4],
        [json!("2/2"), json!("Running"), json!("1 (120m ago)")]
    );
}

#[test]
fn pod_wide_columns() {
    let pod = json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}], "readinessGates": [{"conditionType": "x/ready"}, {"conditionType": "y/ready"}]},
            "status": {"phase": "Pending", "nominatedNodeName": "n2", "podIPs": [{"ip": "fd00::5"}, {"ip": "10.0.0.5"}],
                "conditions": [{"type": "x/ready", "status": "True"}, {"type": "y/ready", "status": "False"}]}});
    let c = cells("", "Pod", pod);
    assert_eq!(
        c[5..],
        [json!("fd00::5"), json!("<none>"), json!("n2"), json!("1/2")]
    );
}

#[test]
fn node_cells() {
    let node = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "cp-1", "creationTimestamp": ts(45 * 86_400),
            "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "", "kubernetes.io/hostname": "cp-1"}},
        "spec": {"unschedulable": true},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "cp-1"}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Ubuntu 24.04 LTS", "kernelVersion": "6.8.0-31-generic",
                "containerRuntimeVersion": "containerd://1.7.27"}
        }
    });
    assert_eq!(
        cells("", "Node", node),
        vec![
            json!("cp-1"),
            json!("Ready,SchedulingDisabled"),
            json!("control-plane,etcd"),
            json!("45d"),
            json!("v1.33.1"),
            json!("192.168.1.10"),
            json!("<none>"),
            json!("Ubuntu 24.04 LTS"),
            json!("6.8.0-31-generic"),
            json!("containerd://1.7.27"),
        ]
    );

    let worker = json!({"metadata": {"name": "w", "labels": {"kubernetes.io/role": "worker"}},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
    let c = cells("", "Node", worker);
    assert_eq!(c[1..3], [json!("NotReady"), json!("worker")]);
    assert_eq!(
        c[7..],
        [json!("<unknown>"), json!("<unknown>"), json!("<unknown>")]
    );

    let bare = json!({"metadata": {"name": "x"}});
    let c = cells("", "Node", bare);
    assert_eq!(c[1..3], [json!("Unknown"), json!("<none>")]);
}

#[test]
fn deployment_cells() {
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ts(10 * 3600)},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "tier": "frontend"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "canary"]}, {"key": "legacy", "operator": "DoesNotExist"}]},
            "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}, {"name": "exporter", "image": "nginx/exporter:1.1"}]}}
        },
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}
    });
    let t = table("apps", "Deployment", &[d]);
    assert_eq!(
        col_names(&t),
        [
            "Name",
            "Ready",
            "Up-to-date",
            "Available",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!([
            "web",
            "2/3",
            3,
            2,
            "10h",
            "nginx,exporter",
            "nginx:1.25,nginx/exporter:1.1",
            "app=web,env in (canary,prod),!legacy,tier=frontend"
        ])
    );

    // Defaults: replicas 1; empty selector prints "" for deployments.
    let bare = json!({"metadata": {"name": "d"}});
    assert_eq!(
        cells("apps", "Deployment", bare),
        vec![
            json!("d"),
            json!("0/1"),
            json!(0),
            json!(0),
            json!("<unknown>"),
            json!(""),
            json!(""),
            json!("")
        ]
    );
    let invalid = json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}});
    assert_eq!(cells("apps", "Deployment", invalid)[7], json!("<invalid>"));
}

#[test]
fn service_cells() {
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "creationTimestamp": ts(200)},
        "spec": {"type": "NodePort", "clusterIP": "10.96.12.34", "clusterIPs": ["10.96.12.34"],
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30080},
                      {"name": "dns", "port": 53, "protocol": "UDP"}],
            "selector": {"app": "web", "tier": "fe"}}
    });
    assert_eq!(
        cells("", "Service", svc),
        vec![
            json!("web"),
            json!("NodePort"),
            json!("10.96.12.34"),
            json!("<none>"),
            json!("80:30080/TCP,53/UDP"),
            json!("3m20s"),
            json!("app=web,tier=fe"),
        ]
    );

    let kubernetes = json!({"metadata": {"name": "kubernetes", "creationTimestamp": ts(30 * 86_400)},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}});
    assert_eq!(
        cells("", "Service", kubernetes),
        vec![
            json!("kubernetes"),
            json!("ClusterIP"),
            json!("10.96.0.1"),
            json!("<none>"),
            json!("443/TCP"),
            json!("30d"),
            json!("<none>")
        ]
    );

    let lb = |status: Value, ext: Value| {
        json!({"metadata": {"name": "lb"},
            "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.9"], "externalIPs": ext, "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]},
            "status": {"loadBalancer": status}})
    };
    assert_eq!(
        cells("", "Service", lb(json!({}), json!(null)))[3],
        json!("<pending>")
    );
    assert_eq!(
        cells(
            "",
            "Service",
            lb(
                json!({"ingress": [{"ip": "203.0.113.9"}, {"hostname": "a-very-long-hostname.elb.example.com"}]}),
                json!(null)
            )
        )[3],
        json!("203.0.113.9,a-very-long-hostname.elb.example.com")
    );
    assert_eq!(
        cells(
            "",
            "Service",
            lb(
                json!({"ingress": [{"ip": "203.0.113.9"}]}),
                json!(["198.51.100.1"])
            )
        )[3],
        json!("203.0.113.9,198.51.100.1")
    );

    let headless =
        json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
    assert_eq!(
        cells("", "Service", headless)[2..5],
        [json!("None"), json!("<none>"), json!("<none>")]
    );
    let ext = json!({"metadata": {"name": "e"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
    assert_eq!(
        cells("", "Service", ext)[2..4],
        [json!("<none>"), json!("db.example.com")]
    );
}

#[test]
fn endpoints_and_slices() {
    let ep = json!({"metadata": {"name": "web"}, "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]});
    assert_eq!(
        cells("", "Endpoints", ep)[1],
        json!("10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...")
    );
    let v6 = json!({"metadata": {"name": "web"}, "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]});
    assert_eq!(cells("", "Endpoints", v6)[1], json!("[fd00::1]:80"));
    let empty = json!({"metadata": {"name": "web"}});
    assert_eq!(cells("", "Endpoints", empty)[1], json!("<none>"));

    let es = json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80}, {"name": "named"}, {}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}]});
    assert_eq!(
        cells("discovery.k8s.io", "EndpointSlice", es)[1..4],
        [
            json!("IPv4"),
            json!("80,named,*"),
            json!("10.0.0.1,10.0.0.2")
        ]
    );
    let bare = json!({"metadata": {"name": "x"}});
    assert_eq!(
        cells("discovery.k8s.io", "EndpointSlice", bare)[2..4],
        [json!("<unset>"), json!("<unset>")]
    );
}

#[test]
fn simple_kinds() {
    let cm = json!({"metadata": {"name": "cfg", "creationTimestamp": ts(61)}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(
        cells("", "ConfigMap", cm),
        vec![json!("cfg"), json!(3), json!("61s")]
    );

    let secret = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        cells("", "Secret", secret)[1..3],
        [json!("kubernetes.io/tls"), json!(2)]
    );
    assert_eq!(
        cells("", "Secret", json!({"metadata": {"name": "s"}}))[1..3],
        [json!("Opaque"), json!(0)]
    );

    let sa = json!({"metadata": {"name": "default"}});
    assert_eq!(cells("", "ServiceAccount", sa)[1], json!(0));

    let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": ts(90 * 86_400)}, "status": {"phase": "Active"}});
    assert_eq!(
        cells("", "Namespace", ns),
        vec![json!("kube-system"), json!("Active"), json!("90d")]
    );
    let ns = json!({"metadata": {"name": "old", "deletionTimestamp": ts(1)}, "status": {"phase": "Terminating"}});
    assert_eq!(cells("", "Namespace", ns)[1], json!("Terminating"));

    let lease =
        json!({"metadata": {"name": "kube-scheduler"}, "spec": {"holderIdentity": "cp-1_abc"}});
    assert_eq!(
        cells("coordination.k8s.io", "Lease", lease)[1],
        json!("cp-1_abc")
    );

    let pc = json!({"metadata": {"name": "system-node-critical"}, "value": 2_000_001_000});
    assert_eq!(
        cells("scheduling.k8s.io", "PriorityClass", pc)[1..],
        [
            json!(2_000_001_000),
            json!(false),
            json!("<unknown>"),
            json!("PreemptLowerPriority")
        ]
    );

    let pdb = json!({"metadata": {"name": "pdb"}, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}});
    assert_eq!(
        cells("policy", "PodDisruptionBudget", pdb)[1..4],
        [json!("50%"), json!("N/A"), json!(1)]
    );
    let pdb = json!({"metadata": {"name": "pdb"}, "spec": {"maxUnavailable": 1}});
    assert_eq!(
        cells("policy", "PodDisruptionBudget", pdb)[1..4],
        [json!("N/A"), json!("1"), json!(0)]
    );
}

#[test]
fn workload_kinds() {
    let tmpl = json!({"spec": {"containers": [{"name": "c", "image": "img:1"}]}});
    let rs = json!({"metadata": {"name": "rs"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}}, "template": tmpl},
            "status": {"replicas": 2, "readyReplicas": 1}});
    assert_eq!(
        cells("apps", "ReplicaSet", rs)[1..],
        [
            json!(2),
            json!(2),
            json!(1),
            json!("<unknown>"),
            json!("c"),
            json!("img:1"),
            json!("app=a")
        ]
    );

    let rc =
        json!({"metadata": {"name": "rc"}, "spec": {"selector": {"app": "a"}, "template": tmpl}});
    assert_eq!(
        cells("", "ReplicationController", rc)[1..],
        [
            json!(1),
            json!(0),
            json!(0),
            json!("<unknown>"),
            json!("c"),
            json!("img:1"),
            json!("app=a")
        ]
    );

    let ds = json!({"metadata": {"name": "ds"}, "spec": {"selector": {"matchLabels": {"k": "v"}},
            "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "c", "image": "img:1"}]}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}});
    assert_eq!(
        cells("apps", "DaemonSet", ds)[1..],
        [
            json!(3),
            json!(3),
            json!(2),
            json!(3),
            json!(2),
            json!("kubernetes.io/os=linux"),
            json!("<unknown>"),
            json!("c"),
            json!("img:1"),
            json!("k=v")
        ]
    );

    let ss = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3, "template": tmpl}, "status": {"readyReplicas": 3}});
    assert_eq!(
        cells("apps", "StatefulSet", ss)[1..],
        [json!("3/3"), json!("<unknown>"), json!("c"), json!("img:1")]
    );

    let cr = json!({"metadata": {"name": "db-5d9f", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": true}]}, "revision": 4});
    assert_eq!(
        cells("apps", "ControllerRevision", cr)[1..3],
        [json!("statefulset.apps/db"), json!(4)]
    );
    let cr = json!({"metadata": {"name": "x"}});
    assert_eq!(
        cells("apps", "ControllerRevision", cr)[1..3],
        [json!("<none>"), json!(0)]
    );
}

#[test]
fn jobs_and_cronjobs() {
    let job = json!({"metadata": {"name": "pi", "creationTimestamp": ts(600)},
            "spec": {"completions": 1, "parallelism": 1, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}}},
            "status": {"succeeded": 1, "startTime": ts(600), "completionTime": ts(555),
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}});
    assert_eq!(
        cells("batch", "Job", job),
        vec![
            json!("pi"),
            json!("Complete"),
            json!("1/1"),
            json!("45s"),
            json!("10m"),
            json!("pi"),
            json!("perl:5.34"),
            json!("batch.kubernetes.io/controller-uid=u1")
        ]
    );

    let running = json!({"metadata": {"name": "w"}, "spec": {"parallelism": 3}, "status": {"startTime": ts(125)}});
    assert_eq!(
        cells("batch", "Job", running)[1..4],
        [json!("Running"), json!("0/1 of 3"), json!("2m5s")]
    );
    let failed = json!({"metadata": {"name": "w"}, "status": {"conditions": [{"type": "Failed", "status": "True"}]}});
    assert_eq!(
        cells("batch", "Job", failed)[1..4],
        [json!("Failed"), json!("0/1"), json!("")]
    );
    let suspended = json!({"metadata": {"name": "w"}, "status": {"conditions": [{"type": "Suspended", "status": "True"}]}});
    assert_eq!(cells("batch", "Job", suspended)[1], json!("Suspended"));

    let cj = json!({"metadata": {"name": "hello", "creationTimestamp": ts(86_400)},
            "spec": {"schedule": "*/5 * * * *", "timeZone": "Etc/UTC",
                "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox:1.36"}]}}}}},
            "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": ts(62)}});
    assert_eq!(
        cells("batch", "CronJob", cj),
        vec![
            json!("hello"),
            json!("*/5 * * * *"),
            json!("Etc/UTC"),
            json!("False"),
            json!(1),
            json!("62s"),
            json!("24h"),
            json!("hello"),
            json!("busybox:1.36"),
            json!("<none>")
        ]
    );
    let cj = json!({"metadata": {"name": "c"}, "spec": {"suspend": true}});
    assert_eq!(
        cells("batch", "CronJob", cj)[2..6],
        [json!("<none>"), json!("True"), json!(0), json!("<none>")]
    );
}

#[test]
fn events_core_and_events_v1() {
    let core = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.17c1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{nginx}"},
            "reason": "Pulled", "type": "Normal", "message": "Successfully pulled image \"nginx\"\n",
            "source": {"component": "kubelet", "host": "worker-1"},
            "firstTimestamp": ts(3600), "lastTimestamp": ts(120), "count": 4});
    assert_eq!(
        cells("", "Event", core),
        vec![
            json!("2m"),
            json!("Normal"),
            json!("Pulled"),
            json!("pod/web-1"),
            json!("spec.containers{nginx}"),
            json!("kubelet, worker-1"),
            json!("Successfully pulled image \"nginx\""),
            json!("60m"),
            json!(4),
            json!("web.17c1")
        ]
    );

    let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e2"}, "eventTime": "2024-05-01T11:59:00.000000Z",
            "regarding": {"kind": "Node", "name": "n1"}, "note": "Starting kubelet.", "reason": "Starting", "type": "Normal",
            "reportingController": "kubelet", "reportingInstance": "n1"});
    assert_eq!(
        cells("events.k8s.io", "Event", v1),
        vec![
            json!("60s"),
            json!("Normal"),
            json!("Starting"),
            json!("node/n1"),
            json!(""),
            json!("kubelet, n1"),
            json!("Starting kubelet."),
            json!("60s"),
            json!(1),
            json!("e2")
        ]
    );

    let series = json!({"metadata": {"name": "e3"}, "eventTime": ts(600),
            "involvedObject": {"kind": "Pod"}, "series": {"count": 7, "lastObservedTime": ts(10)}});
    let c = cells("", "Event", series);
    assert_eq!(c[0], json!("10s"));
    assert_eq!(c[3], json!("pod"));
    assert_eq!(c[7], json!("10m"));
    assert_eq!(c[8], json!(7));

    let bare = json!({"metadata": {"name": "e4"}});
    assert_eq!(cells("", "Event", bare)[..1], [json!("<unknown>")]);
}

#[test]
fn storage_kinds() {
    let pv = json!({"metadata": {"name": "pv1", "creationTimestamp": ts(7200)},
            "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "standard", "volumeMode": "Filesystem",
                "claimRef": {"namespace": "default", "name": "data"}},
            "status": {"phase": "Bound"}});
    assert_eq!(
        cells("", "PersistentVolume", pv),
        vec![
            json!("pv1"),
            json!("10Gi"),
            json!("RWO,RWX"),
            json!("Delete"),
            json!("Bound"),
            json!("default/data"),
            json!("standard"),
            json!("<unset>"),
            json!(""),
            json!("120m"),
            json!("Filesystem")
        ]
    );

    let pvc = json!({"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}, "storageClassName": "standard", "volumeName": "pv1"},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}}});
    assert_eq!(
        cells("", "PersistentVolumeClaim", pvc)[1..],
        [
            json!("Bound"),
            json!("pv1"),
            json!("10Gi"),
            json!("RWO"),
            json!("standard"),
            json!("<unset>"),
            json!("<unknown>"),
            json!("Filesystem")
        ]
    );
    let pending = json!({"metadata": {"name": "d2", "annotations": {"volume.beta.kubernetes.io/storage-class": "fast"}},
            "spec": {"storageClassName": "slow"}, "status": {"phase": "Pending"}});
    assert_eq!(
        cells("", "PersistentVolumeClaim", pending)[1..6],
        [
            json!("Pending"),
            json!(""),
            json!(""),
            json!(""),
            json!("fast")
        ]
    );

    let sc = json!({"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_eq!(
        cells("storage.k8s.io", "StorageClass", sc)[..5],
        [
            json!("standard (default)"),
            json!("rancher.io/local-path"),
            json!("Delete"),
            json!("WaitForFirstConsumer"),
            json!(false)
        ]
    );

    let rq = json!({"metadata": {"name": "q"}, "status": {
            "hard": {"requests.cpu": "2", "limits.memory": "4Gi", "pods": "10", "limits.cpu": "4"},
            "used": {"requests.cpu": "500m", "limits.memory": "1Gi", "pods": "3"}}});
    assert_eq!(
        cells("", "ResourceQuota", rq)[1..3],
        [
            json!("pods: 3/10, requests.cpu: 500m/2"),
            json!("limits.cpu: 0/4, limits.memory: 1Gi/4Gi")
        ]
    );
}

#[test]
fn rbac_networking_certificates() {
    let rb = json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "User", "name": "bob"}, {"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}]});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "RoleBinding", rb.clone())[..],
        [
            json!("rb"),
            json!("ClusterRole/view"),
            json!("<unknown>"),
            json!("alice, bob"),
            json!("devs"),
            json!("tools/ci")
        ]
    );
    let t = table("rbac.authorization.k8s.io", "ClusterRoleBinding", &[rb]);
    assert_eq!(
        t["columnDefinitions"][3]["description"],
        json!("Users in the clusterRoleBinding")
    );

    let ing = json!({"metadata": {"name": "ing"}, "spec": {"ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}, {}, {"host": "c.example.com"}, {"host": "d.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}});
    assert_eq!(
        cells("networking.k8s.io", "Ingress", ing)[1..5],
        [
            json!("nginx"),
            json!("a.example.com,b.example.com,c.example.com + 2 more..."),
            json!("192.0.2.10"),
            json!("80, 443")
        ]
    );
    let bare = json!({"metadata": {"name": "i"}});
    assert_eq!(
        cells("networking.k8s.io", "Ingress", bare)[1..5],
        [json!("<none>"), json!("*"), json!(""), json!("80")]
    );

    let np = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
    assert_eq!(
        cells("networking.k8s.io", "NetworkPolicy", np)[1],
        json!("<none>")
    );
    let np = json!({"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}});
    assert_eq!(
        cells("networking.k8s.io", "NetworkPolicy", np)[1],
        json!("app=web")
    );

    let csr = json!({"metadata": {"name": "csr-x", "creationTimestamp": ts(30)},
            "spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet", "username": "system:node:n1", "expirationSeconds": 86_400},
            "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0tLS1C"}});
    assert_eq!(
        cells("certificates.k8s.io", "CertificateSigningRequest", csr),
        vec![
            json!("csr-x"),
            json!("30s"),
            json!("kubernetes.io/kube-apiserver-client-kubelet"),
            json!("system:node:n1"),
            json!("24h"),
            json!("Approved,Issued")
        ]
    );
    let csr = json!({"metadata": {"name": "c"}});
    assert_eq!(
        cells("certificates.k8s.io", "CertificateSigningRequest", csr)[2..],
        [
            json!("<none>"),
            json!(""),
            json!("<none>"),
            json!("Pending")
        ]
    );
}

#[test]
fn default_table_for_unknown_kinds() {
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader", "namespace": "default", "creationTimestamp": "2024-04-30T08:15:00Z"}});
    let t = to_table(
        "rbac.authorization.k8s.io",
        "Role",
        std::slice::from_ref(&role),
        json!({"resourceVersion": "42"}),
        IncludeObject::None,
        NOW,
    );
    assert_eq!(t["kind"], json!("Table"));
    assert_eq!(t["apiVersion"], json!("meta.k8s.io/v1"));
    assert_eq!(t["metadata"], json!({"resourceVersion": "42"}));
    assert_eq!(col_names(&t), ["Name", "Created At"]);
    assert_eq!(t["columnDefinitions"][0]["format"], json!("name"));
    assert_eq!(t["columnDefinitions"][1]["type"], json!("date"));
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["reader", "2024-04-30T08:15:00Z"])
    );
    assert_eq!(t["rows"][0]["object"], Value::Null);

    // LimitRange and ClusterRole have no printer in kube either.
    for (g, k) in [
        ("", "LimitRange"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("example.com", "Widget"),
    ] {
        let t = table(g, k, &[json!({"metadata": {"name": "x"}})]);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["x", "0001-01-01T00:00:00Z"]),
            "{k}"
        );
    }

    // An empty default table has `rows: null`, as kube serializes it.
    let t = table("", "LimitRange", &[]);
    assert_eq!(t["rows"], Value::Null);
    assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 2);
    // An empty printed list has `rows: []`.
    assert_eq!(table("", "Pod", &[])["rows"], json!([]));
}

#[test]
fn include_object_variants() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "uid": "u-1", "resourceVersion": "9", "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running"}});

    let t = to_table(
        "",
        "Pod",
        std::slice::from_ref(&pod),
        json!({}),
        IncludeObject::Metadata,
        NOW,
    );
    assert_eq!(
        t["rows"][0]["object"],
        json!({
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"name": "p", "namespace": "ns", "uid": "u-1", "resourceVersion": "9", "labels": {"a": "b"}}
        })
    );
    assert!(t["rows"][0].get("conditions").is_none());

    let t = to_table(
        "",
        "Pod",
        std::slice::from_ref(&pod),
        json!({}),
        IncludeObject::Object,
        NOW,
    );
    assert_eq!(t["rows"][0]["object"], pod);

    let t = to_table("", "Pod", &[pod], json!({}), IncludeObject::None, NOW);
    assert_eq!(t["rows"][0]["object"], Value::Null);

    // Default table honours includeObject too; missing metadata → {}.
    let t = to_table(
        "example.com",
        "Thing",
        &[json!({"kind": "Thing"})],
        json!({}),
        IncludeObject::Metadata,
        NOW,
    );
    assert_eq!(t["rows"][0]["object"]["metadata"], json!({}));
    assert_eq!(t["rows"][0]["cells"], json!(["", "0001-01-01T00:00:00Z"]));
}

#[test]
fn list_metadata_is_copied() {
    let t = to_table(
        "",
        "ConfigMap",
        &[],
        json!({"resourceVersion": "100", "continue": "tok", "remainingItemCount": 5, "selfLink": "/x"}),
        IncludeObject::None,
        NOW,
    );
    assert_eq!(
        t["metadata"],
        json!({"resourceVersion": "100", "continue": "tok", "remainingItemCount": 5})
    );
    let t = to_table("", "ConfigMap", &[], Value::Null, IncludeObject::None, NOW);
    assert_eq!(t["metadata"], json!({}));
}

#[test]
fn every_row_matches_column_count_and_partial_objects_never_panic() {
    let kinds: &[(&str, &str)] = &[
        ("", "Pod"),
        ("", "PodTemplate"),
        ("", "Node"),
        ("", "Namespace"),
        ("", "Service"),
        ("", "Endpoints"),
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "ServiceAccount"),
        ("", "Event"),
        ("events.k8s.io", "Event"),
        ("", "ResourceQuota"),
        ("", "PersistentVolume"),
        ("", "PersistentVolumeClaim"),
        ("", "ReplicationController"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "DaemonSet"),
        ("apps", "StatefulSet"),
        ("apps", "ControllerRevision"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("coordination.k8s.io", "Lease"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("policy", "PodDisruptionBudget"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("networking.k8s.io", "Ingress"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("storage.k8s.io", "StorageClass"),
        ("", "LimitRange"),
    ];
    let odd = [
        json!({}),
        json!(null),
        json!("string"),
        json!({"metadata": null, "spec": null, "status": null}),
        json!({"metadata": {"name": 5, "creationTimestamp": "nope", "labels": "x", "ownerReferences": [1]},
                   "spec": {"containers": "x", "replicas": "3", "ports": [null, 1], "selector": {"matchLabels": {"a": 1}},
                            "podSelector": [], "rules": [1], "readinessGates": [null], "initContainers": [{}]},
                   "status": {"conditions": [null, {"type": 1}], "containerStatuses": [{}, null], "initContainerStatuses": [{"state": {"terminated": {}}}],
                              "hard": {"cpu": null}, "addresses": [{}], "loadBalancer": {"ingress": [{}]}},
                   "subsets": [{"addresses": [{}], "ports": [{}]}], "endpoints": [{"addresses": [1]}], "series": {}}),
    ];
    for (g, k) in kinds {
        for obj in &odd {
            let t = to_table(
                g,
                k,
                std::slice::from_ref(obj),
                json!({}),
                IncludeObject::Metadata,
                NOW,
            );
            let ncols = t["columnDefinitions"].as_array().unwrap().len();
            let row = &t["rows"][0];
            assert_eq!(row["cells"].as_array().unwrap().len(), ncols, "{g}/{k}");
            assert_eq!(row["object"]["kind"], json!("PartialObjectMetadata"));
        }
    }
}

#[test]
fn pod_and_node_column_definitions() {
    let t = table("", "Pod", &[]);
    assert_eq!(
        col_names(&t),
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ]
    );
    let prios: Vec<i64> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["priority"].as_i64().unwrap())
        .collect();
    assert_eq!(prios, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(
        t["columnDefinitions"][0],
        json!({"name": "Name", "type": "string", "format": "name", "description": D_NAME, "priority": 0})
    );
    assert_eq!(t["columnDefinitions"][3]["type"], json!("string"));

    let t = table("", "Node", &[]);
    assert_eq!(
        col_names(&t),
        [
            "Name",
            "Status",
            "Roles",
            "Age",
            "Version",
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
    let t = table("", "Service", &[]);
    assert_eq!(
        col_names(&t),
        [
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age",
            "Selector"
        ]
    );
    let t = table("", "Event", &[]);
    assert_eq!(
        col_names(&t),
        [
            "Last Seen",
            "Type",
            "Reason",
            "Object",
            "Subobject",
            "Source",
            "Message",
            "First Seen",
            "Count",
            "Name"
        ]
    );
}
