//! Objects every cluster has from creation: the namespaces default,
//! kube-system, kube-public and kube-node-lease, and the `kubernetes`
//! Service in default (kube-apiserver's bootstrap controller creates the
//! same).
//!
//! Every member runs this at start; creates are conditional on absence,
//! so concurrent runs and reruns are harmless.

use std::time::Duration;

use serde_json::json;

use crate::actions::KUBERNETES_SERVICE_IP;
use crate::handlers::Api;
use crate::handlers::Target;
use crate::params::Params;
use crate::registry;

pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the bootstrap objects, retrying until the cluster has a leader;
/// sets `done` once they exist (a /readyz check, like kube-apiserver's
/// post-start hooks).
pub async fn run(api: Api, api_port: u16, done: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    loop {
        match ensure(&api, api_port).await {
            Ok(()) => {
                done.store(true, std::sync::atomic::Ordering::Release);
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e.message, "bootstrap objects not yet created; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn ensure(api: &Api, api_port: u16) -> Result<(), crate::error::ApiError> {
    let p = Params::default();
    let nsdef = registry::lookup("", "v1", "namespaces").expect("invariant: namespaces registered");
    for ns in SYSTEM_NAMESPACES {
        let t = Target {
            def: nsdef,
            namespace: None,
            name: None,
            sub: None,
            legacy_watch: false,
        };
        let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}, "spec": {"finalizers": ["kubernetes"]}});
        match api.create_object(&t, &p, obj).await {
            Ok(_) => {}
            Err(e) if e.reason == "AlreadyExists" => {}
            Err(e) => return Err(e),
        }
    }
    let svc = registry::lookup("", "v1", "services").expect("invariant: services registered");
    let t = Target {
        def: svc,
        namespace: Some("default".into()),
        name: None,
        sub: None,
        legacy_watch: false,
    };
    let obj = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": KUBERNETES_SERVICE_IP.to_string(),
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": api_port}],
            "sessionAffinity": "None",
        },
    });
    match api.create_object(&t, &p, obj).await {
        Ok(_) => Ok(()),
        Err(e) if e.reason == "AlreadyExists" => Ok(()),
        // The IP reservation exists but the service does not: a previous
        // run raced; nothing to do.
        Err(e) => Err(e),
    }
}
