//! Round trips: encode real objects with the k8s-pb (prost) types, wrap them in
//! the runtime.Unknown envelope, decode, compare with the expected JSON.
//!
//! Needs dev-dependencies `k8s-pb = "=0.9.0"` and `prost = "0.14"`; enable with
//! `#[cfg(test)] mod k8s_pb_tests;` in mod.rs once those are added.
use super::decode;
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::authentication::v1 as authn;
use k8s_pb::api::authorization::v1 as authz;
use k8s_pb::api::coordination::v1 as coord;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn wrap(api_version: &str, kind: &str, obj: &impl Message) -> Vec<u8> {
    let env = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(obj.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(env.encode_to_vec());
    body
}

fn roundtrip<T: Message + k8s_pb::Resource>(obj: &T) -> Value {
    decode(&wrap(T::API_VERSION, T::KIND, obj)).unwrap()
}

fn s(v: &str) -> Option<String> {
    Some(v.into())
}

fn map<V: Clone>(kv: &[(&str, V)]) -> BTreeMap<String, V> {
    kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn q(v: &str) -> Quantity {
    Quantity { string: s(v) }
}

fn meta(name: &str, ns: Option<&str>) -> Option<meta::ObjectMeta> {
    Some(meta::ObjectMeta {
        name: s(name),
        namespace: ns.map(Into::into),
        ..Default::default()
    })
}

#[test]
fn configmap() {
    let cm = core::ConfigMap {
        metadata: Some(meta::ObjectMeta {
            name: s("cm"),
            namespace: s("default"),
            // Go clients send these zero values; Go's JSON drops them.
            generate_name: s(""),
            resource_version: s(""),
            generation: Some(0),
            creation_timestamp: Some(meta::Time::default()),
            labels: map(&[("app", "x".to_string())]),
            ..Default::default()
        }),
        data: map(&[("a", "1".to_string()), ("empty", String::new())]),
        binary_data: map(&[("bin", vec![0u8, 1, 2, 255])]),
        immutable: Some(false), // *bool: kept
    };
    assert_eq!(
        roundtrip(&cm),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": "default", "labels": {"app": "x"},
                "creationTimestamp": null},
            "data": {"a": "1", "empty": ""},
            "binaryData": {"bin": "AAEC/w=="},
            "immutable": false
        })
    );
}

#[test]
fn secret() {
    let sec = core::Secret {
        metadata: meta("s", Some("ns")),
        data: map(&[("password", b"hunter2".to_vec())]),
        string_data: map(&[("user", "admin".to_string())]),
        r#type: s("Opaque"),
        immutable: None,
    };
    assert_eq!(
        roundtrip(&sec),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "ns"},
            "data": {"password": "aHVudGVyMg=="}, "stringData": {"user": "admin"},
            "type": "Opaque"})
    );
}

#[test]
fn namespace() {
    let ns = core::Namespace {
        metadata: meta("team-a", None),
        spec: Some(core::NamespaceSpec::default()),
        status: Some(core::NamespaceStatus::default()),
    };
    assert_eq!(
        roundtrip(&ns),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"},
            "spec": {}, "status": {}})
    );
}

#[test]
fn deployment() {
    let container = core::Container {
        name: s("nginx"),
        image: s("nginx:1.27"),
        ports: vec![core::ContainerPort {
            container_port: Some(80),
            protocol: s("TCP"),
            ..Default::default()
        }],
        resources: Some(core::ResourceRequirements {
            limits: map(&[("cpu", q("500m")), ("memory", q("128Mi"))]),
            requests: map(&[("cpu", q("250m"))]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let d = apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: s("web"),
            namespace: s("default"),
            creation_timestamp: Some(meta::Time {
                seconds: Some(1_700_000_000),
                nanos: Some(999),
            }),
            ..Default::default()
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(3),
            min_ready_seconds: Some(0),      // int32 omitempty: dropped
            revision_history_limit: Some(0), // *int32: kept
            selector: Some(meta::LabelSelector {
                match_labels: map(&[("app", "web".to_string())]),
                ..Default::default()
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: map(&[("app", "web".to_string())]),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![container],
                    volumes: vec![core::Volume {
                        name: s("cfg"),
                        volume_source: Some(core::VolumeSource {
                            config_map: Some(core::ConfigMapVolumeSource {
                                local_object_reference: Some(core::LocalObjectReference {
                                    name: s("cm"),
                                }),
                                default_mode: Some(0o644),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }),
                    }],
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_surge: Some(IntOrString {
                        r#type: Some(1),
                        int_val: Some(0),
                        str_val: s("25%"),
                    }),
                    max_unavailable: Some(IntOrString {
                        r#type: Some(0),
                        int_val: Some(1),
                        str_val: None,
                    }),
                }),
            }),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        roundtrip(&d),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default",
                "creationTimestamp": "2023-11-14T22:13:20Z"},
            "spec": {
                "replicas": 3,
                "revisionHistoryLimit": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{
                            "name": "nginx", "image": "nginx:1.27",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                "requests": {"cpu": "250m"}}
                        }],
                        "volumes": [{"name": "cfg",
                            "configMap": {"name": "cm", "defaultMode": 420}}]
                    }
                },
                "strategy": {"type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}
            }
        })
    );
}

#[test]
fn node_with_status() {
    let t = Some(meta::Time {
        seconds: Some(1_735_689_600),
        nanos: None,
    });
    let n = core::Node {
        metadata: Some(meta::ObjectMeta {
            name: s("node-1"),
            labels: map(&[("kubernetes.io/hostname", "node-1".to_string())]),
            ..Default::default()
        }),
        spec: Some(core::NodeSpec {
            pod_cidr: s("10.244.1.0/24"),
            pod_cid_rs: vec!["10.244.1.0/24".into()],
            unschedulable: Some(false), // bool omitempty: dropped
            taints: vec![core::Taint {
                key: s("node.kubernetes.io/not-ready"),
                effect: s("NoSchedule"),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(core::NodeStatus {
            capacity: map(&[("cpu", q("4")), ("memory", q("8Gi")), ("pods", q("110"))]),
            allocatable: map(&[("cpu", q("3800m"))]),
            conditions: vec![core::NodeCondition {
                r#type: s("Ready"),
                status: s("True"),
                last_heartbeat_time: t,
                last_transition_time: t,
                reason: s("KubeletReady"),
                message: s("kubelet is posting ready status"),
            }],
            addresses: vec![core::NodeAddress {
                r#type: s("InternalIP"),
                address: s("192.168.1.10"),
            }],
            daemon_endpoints: Some(core::NodeDaemonEndpoints {
                kubelet_endpoint: Some(core::DaemonEndpoint { port: Some(10250) }),
            }),
            node_info: Some(core::NodeSystemInfo {
                kubelet_version: s("v1.32.0"),
                operating_system: s("linux"),
                architecture: s("amd64"),
                ..Default::default()
            }),
            images: vec![core::ContainerImage {
                names: vec!["registry.k8s.io/pause:3.10".into()],
                size_bytes: Some(320_368),
            }],
            ..Default::default()
        }),
    };
    assert_eq!(
        roundtrip(&n),
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
            "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
                "taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]},
            "status": {
                "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                "allocatable": {"cpu": "3800m"},
                "conditions": [{"type": "Ready", "status": "True",
                    "lastHeartbeatTime": "2025-01-01T00:00:00Z",
                    "lastTransitionTime": "2025-01-01T00:00:00Z",
                    "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"kubeletVersion": "v1.32.0", "operatingSystem": "linux",
                    "architecture": "amd64"},
                "images": [{"names": ["registry.k8s.io/pause:3.10"], "sizeBytes": 320368}]
            }
        })
    );
}

#[test]
fn lease_microtime() {
    let l = coord::Lease {
        metadata: meta("node-1", Some("kube-node-lease")),
        spec: Some(coord::LeaseSpec {
            holder_identity: s("node-1"),
            lease_duration_seconds: Some(40),
            renew_time: Some(meta::MicroTime {
                seconds: Some(1_735_689_600),
                nanos: Some(123_456_789),
            }),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    assert_eq!(
        roundtrip(&l),
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40,
                "renewTime": "2025-01-01T00:00:00.123456Z", "leaseTransitions": 0}})
    );
}

#[test]
fn delete_options() {
    let d = meta::DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Some(meta::Preconditions {
            uid: s("6b2f3c1e-0000-4000-8000-000000000001"),
            resource_version: s("42"),
        }),
        propagation_policy: s("Background"),
        dry_run: vec!["All".into()],
        ..Default::default()
    };
    assert_eq!(
        decode(&wrap("v1", "DeleteOptions", &d)).unwrap(),
        json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
            "preconditions": {"uid": "6b2f3c1e-0000-4000-8000-000000000001",
                "resourceVersion": "42"},
            "propagationPolicy": "Background", "dryRun": ["All"]})
    );
}

#[test]
fn self_subject_access_review() {
    let r = authz::SelfSubjectAccessReview {
        metadata: Some(meta::ObjectMeta {
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        spec: Some(authz::SelfSubjectAccessReviewSpec {
            resource_attributes: Some(authz::ResourceAttributes {
                namespace: s("default"),
                verb: s("create"),
                group: s(""),
                version: s(""),
                resource: s("pods"),
                subresource: s(""),
                name: s(""),
                ..Default::default()
            }),
            non_resource_attributes: None,
        }),
        status: Some(authz::SubjectAccessReviewStatus {
            allowed: Some(false),
            ..Default::default()
        }),
    };
    assert_eq!(
        roundtrip(&r),
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "metadata": {"creationTimestamp": null},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "create",
                "resource": "pods"}},
            "status": {"allowed": false}})
    );
}

#[test]
fn subject_access_review_extra() {
    let r = authz::SubjectAccessReview {
        metadata: None,
        spec: Some(authz::SubjectAccessReviewSpec {
            user: s("alice"),
            groups: vec!["devs".into()],
            extra: map(&[(
                "scopes",
                authz::ExtraValue {
                    items: vec!["a".into(), "b".into()],
                },
            )]),
            non_resource_attributes: Some(authz::NonResourceAttributes {
                path: s("/healthz"),
                verb: s("get"),
            }),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        roundtrip(&r),
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": "alice", "groups": ["devs"], "extra": {"scopes": ["a", "b"]},
                "nonResourceAttributes": {"path": "/healthz", "verb": "get"}}})
    );
}

#[test]
fn token_request() {
    let t = authn::TokenRequest {
        metadata: meta("default", Some("default")),
        spec: Some(authn::TokenRequestSpec {
            audiences: vec!["https://kubernetes.default.svc".into()],
            expiration_seconds: Some(3600),
            bound_object_ref: Some(authn::BoundObjectReference {
                kind: s("Pod"),
                api_version: s("v1"),
                name: s("p"),
                u_id: s("1234"),
            }),
        }),
        status: None,
    };
    assert_eq!(
        decode(&wrap("authentication.k8s.io/v1", "TokenRequest", &t)).unwrap(),
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"name": "default", "namespace": "default"},
            "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3600,
                "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p",
                    "uid": "1234"}}})
    );
}

#[test]
fn service_int_or_string_and_events_microtime() {
    let svc = core::Service {
        metadata: meta("web", Some("default")),
        spec: Some(core::ServiceSpec {
            ports: vec![core::ServicePort {
                name: s("http"),
                port: Some(80),
                target_port: Some(IntOrString {
                    r#type: Some(1),
                    int_val: Some(0),
                    str_val: s("http"),
                }),
                ..Default::default()
            }],
            selector: map(&[("app", "web".to_string())]),
            r#type: s("ClusterIP"),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        roundtrip(&svc)["spec"],
        json!({"ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            "selector": {"app": "web"}, "type": "ClusterIP"})
    );
    let ev = k8s_pb::api::events::v1::Event {
        metadata: meta("e1", Some("default")),
        event_time: Some(meta::MicroTime {
            seconds: Some(1_735_689_600),
            nanos: Some(5_000),
        }),
        reporting_controller: s("kubelet"),
        action: s("Pulling"),
        regarding: Some(core::ObjectReference {
            kind: s("Pod"),
            name: s("p"),
            ..Default::default()
        }),
        ..Default::default()
    };
    let v = roundtrip(&ev);
    assert_eq!(v["eventTime"], json!("2025-01-01T00:00:00.000005Z"));
    assert_eq!(v["regarding"], json!({"kind": "Pod", "name": "p"}));
}

#[test]
fn malformed_inputs_do_not_panic() {
    let body = wrap("apps/v1", "Deployment", &apps::Deployment::default());
    assert!(decode(&body).is_ok());
    let cm = core::ConfigMap {
        metadata: meta("cm", Some("x")),
        data: map(&[("k", "v".to_string())]),
        ..Default::default()
    };
    let body = wrap("v1", "ConfigMap", &cm);
    for n in 0..body.len() {
        let _ = decode(&body[..n]); // any truncation: Ok or Err, never a panic
    }
    let mut bad = body.clone();
    bad[0] = b'x';
    assert!(decode(&bad).unwrap_err().contains("magic"));
    // flip every byte
    for i in 4..body.len() {
        let mut b = body.clone();
        b[i] ^= 0xff;
        let _ = decode(&b);
    }
    let e = decode(&wrap("example.com/v1", "Widget", &cm)).unwrap_err();
    assert!(e.contains("example.com/v1") && e.contains("Widget"), "{e}");
}

#[test]
fn csr_bytes_and_probe_inline() {
    use k8s_pb::api::certificates::v1 as certs;
    let csr = certs::CertificateSigningRequest {
        metadata: meta("node-csr-1", None),
        spec: Some(certs::CertificateSigningRequestSpec {
            request: Some(b"-----BEGIN CERTIFICATE REQUEST-----".to_vec()),
            signer_name: s("kubernetes.io/kube-apiserver-client-kubelet"),
            usages: vec!["digital signature".into(), "client auth".into()],
            extra: map(&[(
                "k",
                certs::ExtraValue {
                    items: vec!["v".into()],
                },
            )]),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        roundtrip(&csr)["spec"],
        json!({"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0=",
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"], "extra": {"k": ["v"]}})
    );
    let pod = core::Pod {
        metadata: meta("p", Some("default")),
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: s("c"),
                liveness_probe: Some(core::Probe {
                    handler: Some(core::ProbeHandler {
                        http_get: Some(core::HttpGetAction {
                            path: s("/healthz"),
                            port: Some(IntOrString {
                                r#type: Some(0),
                                int_val: Some(8080),
                                str_val: s(""),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    period_seconds: Some(10),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        roundtrip(&pod)["spec"]["containers"][0]["livenessProbe"],
        json!({"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10})
    );
}
