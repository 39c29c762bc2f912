//! Every error class of the Kubernetes API, sent as raw HTTP requests to
//! real members: the Status (kind, code, reason, message shape) must be
//! kube-apiserver's, and a refused request must leave the store as it was.
//!
//! Unauthorized (401) is not covered: the API has no authentication yet
//! (the security issue adds it).
//!
//! Each test collects every mismatch and fails once at the end with the
//! full list, so one wrong message does not hide the other classes.

use std::time::Duration;
use std::time::Instant;

use raftplane_chaos::harness::Cluster;
use raftplane_chaos::harness::ClusterOptions;
use serde_json::Value;
use serde_json::json;

use crate::http::Http;
use crate::http::JSON;
use crate::http::JSON_PATCH;
use crate::http::MERGE_PATCH;
use crate::http::Response;
use crate::http::STRATEGIC_PATCH;
use crate::http::rv_of;
use crate::support::start;

const CM: &str = "/api/v1/namespaces/default/configmaps";
const PODS: &str = "/api/v1/namespaces/default/pods";

/// Mismatches found so far; `finish` fails with all of them.
#[derive(Default)]
struct Checks {
    failures: Vec<String>,
}

impl Checks {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let w = what();
            eprintln!("MISMATCH: {w}");
            self.failures.push(w);
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        self.check(got == want, || {
            format!("{what}: got {got:?}, want {want:?}")
        });
    }

    /// A Status as kube-apiserver sends it: HTTP code = Status.code,
    /// kind Status, apiVersion v1, status Failure, the reason, and a
    /// Content-Type of application/json. Returns the Status.
    fn status(&mut self, what: &str, resp: &Response, code: u16, reason: &str) -> Value {
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or_else(|_| {
            json!({"unparsed": String::from_utf8_lossy(&resp.body[..resp.body.len().min(500)])})
        });
        self.check(resp.status == code, || {
            format!("{what}: HTTP {} (want {code}): {body}", resp.status)
        });
        self.check(
            resp.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            || format!("{what}: content-type {:?}", resp.header("content-type")),
        );
        self.check(
            body["kind"] == "Status"
                && body["apiVersion"] == "v1"
                && body["status"] == "Failure"
                && body["code"] == json!(code)
                && body["reason"] == reason
                && body["message"].as_str().is_some_and(|m| !m.is_empty()),
            || format!("{what}: want Status code {code} reason {reason}, got {body}"),
        );
        body
    }

    fn message(&mut self, what: &str, status: &Value, want: &str) {
        let got = status["message"].as_str().unwrap_or("");
        self.check(got == want, || {
            format!("{what}: message {got:?}, want {want:?}")
        });
    }

    fn message_starts(&mut self, what: &str, status: &Value, prefix: &str) {
        let got = status["message"].as_str().unwrap_or("");
        self.check(got.starts_with(prefix), || {
            format!("{what}: message {got:?} should start with {prefix:?}")
        });
    }

    fn message_contains(&mut self, what: &str, status: &Value, part: &str) {
        let got = status["message"].as_str().unwrap_or("");
        self.check(got.contains(part), || {
            format!("{what}: message {got:?} should contain {part:?}")
        });
    }

    /// details.causes has one with this reason (and field, if given).
    fn cause(&mut self, what: &str, status: &Value, reason: &str, field: Option<&str>) {
        let causes = status
            .pointer("/details/causes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let found = causes.iter().any(|c| {
            c["reason"] == reason
                && field.is_none_or(|f| c["field"] == f)
                && c["message"].as_str().is_some_and(|m| !m.is_empty())
        });
        self.check(found, || {
            format!("{what}: no cause reason {reason} field {field:?} in {status}")
        });
    }

    fn finish(self, test: &str) {
        assert!(
            self.failures.is_empty(),
            "{test}: {} mismatches with kube-apiserver:\n  - {}",
            self.failures.len(),
            self.failures.join("\n  - ")
        );
    }
}

/// The items of a list, reduced to what a refused request must not
/// change: name, resourceVersion and the whole object.
async fn items(api: &Http, collection: &str) -> Vec<(String, u64, Value)> {
    let r = api.get(collection).await;
    assert_eq!(r.status, 200, "list {collection}: {}", r.text());
    let v = r.json();
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap_or("").to_string(),
                rv_of(o),
                o.clone(),
            )
        })
        .collect()
}

async fn create(api: &Http, collection: &str, obj: Value) -> Value {
    let r = api.post(collection, &obj).await;
    assert_eq!(r.status, 201, "create in {collection}: {}", r.text());
    r.json()
}

fn pod(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}
    })
}

async fn api_of(cluster: &Cluster, id: u64) -> Http {
    Http::new(cluster.api_addr(id).expect("api addr"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_errors_status_classes() {
    let t0 = Instant::now();
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    // Requests go to a follower: writes are forwarded, errors must survive it.
    let follower = crate::support::other_than(&cluster, leader);
    let api = api_of(&cluster, follower).await;
    let leader_api = api_of(&cluster, leader).await;
    let mut c = Checks::default();

    let c1 = create(
        &api,
        CM,
        json!({"metadata": {"name": "c1", "labels": {"app": "x"}}, "data": {"k": "v"}}),
    )
    .await;
    let uid = c1["metadata"]["uid"].as_str().unwrap().to_string();
    let p1 = create(&api, PODS, pod("p1", json!({"app": "ev"}))).await;
    let cms_before = items(&api, CM).await;
    let pods_before = items(&api, PODS).await;

    // --- 404 NotFound
    let r = api.get(&format!("{PODS}/missing")).await;
    let s = c.status("GET missing pod", &r, 404, "NotFound");
    c.message("GET missing pod", &s, "pods \"missing\" not found");
    c.eq(
        "GET missing pod details",
        s["details"].clone(),
        json!({"name": "missing", "kind": "pods"}),
    );
    let r = api.get("/api/v1/namespaces/default/frobnicators").await;
    let s = c.status("GET unknown resource", &r, 404, "NotFound");
    c.message(
        "GET unknown resource",
        &s,
        "the server could not find the requested resource",
    );
    let r = api.get("/apis/nosuch.example.com/v1/widgets").await;
    c.status("GET unknown group", &r, 404, "NotFound");

    // --- 409 AlreadyExists
    let r = api
        .post(
            CM,
            &json!({"metadata": {"name": "c1"}, "data": {"other": "1"}}),
        )
        .await;
    let s = c.status("create twice", &r, 409, "AlreadyExists");
    c.message("create twice", &s, "configmaps \"c1\" already exists");
    c.eq(
        "create twice details",
        s["details"].clone(),
        json!({"name": "c1", "kind": "configmaps"}),
    );

    // --- 409 Conflict: PUT with a stale resourceVersion
    let stale = rv_of(&c1);
    let r = api
        .put(
            &format!("{CM}/c1"),
            &json!({"metadata": {"name": "c1", "resourceVersion": "1"}, "data": {"k": "stale"}}),
        )
        .await;
    let s = c.status("PUT stale rv", &r, 409, "Conflict");
    c.message(
        "PUT stale rv",
        &s,
        "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified; please apply your changes to the latest version and try again",
    );
    // DELETE with a uid precondition that does not match.
    let r = api
        .delete(
            &format!("{CM}/c1"),
            Some(&json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}})),
        )
        .await;
    let s = c.status("DELETE uid precondition", &r, 409, "Conflict");
    c.message(
        "DELETE uid precondition",
        &s,
        &format!(
            "Operation cannot be fulfilled on configmaps \"c1\": Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: {uid}"
        ),
    );
    // DELETE with a stale resourceVersion precondition.
    let r = api
        .delete(
            &format!("{CM}/c1"),
            Some(&json!({"preconditions": {"resourceVersion": "1"}})),
        )
        .await;
    let s = c.status("DELETE rv precondition", &r, 409, "Conflict");
    c.message_starts(
        "DELETE rv precondition",
        &s,
        "Operation cannot be fulfilled on configmaps \"c1\": ",
    );
    // PATCH carrying a metadata.uid precondition (the kubelet's status patch).
    for ct in [STRATEGIC_PATCH, MERGE_PATCH] {
        let r = api
            .patch(
                &format!("{CM}/c1"),
                ct,
                &json!({"metadata": {"uid": "00000000-0000-0000-0000-000000000000"}, "data": {"k": "patched"}}),
            )
            .await;
        let what = format!("PATCH ({ct}) uid precondition");
        let s = c.status(&what, &r, 409, "Conflict");
        c.message_starts(
            &what,
            &s,
            "Operation cannot be fulfilled on configmaps \"c1\": ",
        );
    }
    // PATCH carrying a stale resourceVersion.
    let r = api
        .patch(
            &format!("{CM}/c1"),
            MERGE_PATCH,
            &json!({"metadata": {"resourceVersion": "1"}, "data": {"k": "patched"}}),
        )
        .await;
    let s = c.status("PATCH stale rv", &r, 409, "Conflict");
    c.message(
        "PATCH stale rv",
        &s,
        "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified; please apply your changes to the latest version and try again",
    );

    // --- 422 Invalid with details.causes
    let r = api
        .post(
            PODS,
            &json!({"metadata": {"name": "nocontainers"}, "spec": {"containers": []}}),
        )
        .await;
    let s = c.status("pod without containers", &r, 422, "Invalid");
    c.message(
        "pod without containers",
        &s,
        "Pod \"nocontainers\" is invalid: spec.containers: Required value",
    );
    c.cause(
        "pod without containers",
        &s,
        "FieldValueRequired",
        Some("spec.containers"),
    );
    c.eq(
        "pod without containers details.kind/name",
        (s["details"]["kind"].clone(), s["details"]["name"].clone()),
        (json!("Pod"), json!("nocontainers")),
    );
    let r = api
        .post(CM, &json!({"metadata": {"name": "Bad_Name"}}))
        .await;
    let s = c.status("bad DNS-1123 name", &r, 422, "Invalid");
    c.message_starts(
        "bad DNS-1123 name",
        &s,
        "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    );
    c.cause(
        "bad DNS-1123 name",
        &s,
        "FieldValueInvalid",
        Some("metadata.name"),
    );
    let r = api
        .post(
            "/apis/apps/v1/namespaces/default/deployments",
            &json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d1"},
                "spec": {
                    "selector": {"matchLabels": {"app": "a"}},
                    "template": {"metadata": {"labels": {"app": "b"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
                }
            }),
        )
        .await;
    let s = c.status("deployment selector mismatch", &r, 422, "Invalid");
    c.message_starts(
        "deployment selector mismatch",
        &s,
        "Deployment.apps \"d1\" is invalid: spec.template.metadata.labels: Invalid value: ",
    );
    c.message_contains(
        "deployment selector mismatch",
        &s,
        "`selector` does not match template `labels`",
    );
    c.cause(
        "deployment selector mismatch",
        &s,
        "FieldValueInvalid",
        Some("spec.template.metadata.labels"),
    );
    c.eq(
        "deployment selector mismatch details.group",
        s["details"]["group"].clone(),
        json!("apps"),
    );

    // --- 400 BadRequest
    let r = api
        .send("POST", CM, Some(JSON), br#"{"metadata":{"name":"x""#)
        .await;
    let s = c.status("malformed JSON", &r, 400, "BadRequest");
    c.message_starts(
        "malformed JSON",
        &s,
        "couldn't get version/kind; json parse error: ",
    );
    let r = api
        .post(
            CM,
            &json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        )
        .await;
    let s = c.status("wrong apiVersion", &r, 400, "BadRequest");
    c.message(
        "wrong apiVersion",
        &s,
        "the API version in the data (apps/v1) does not match the expected API version (v1)",
    );
    let r = api
        .post(
            CM,
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
        )
        .await;
    let s = c.status("wrong kind", &r, 400, "BadRequest");
    c.message_contains("wrong kind", &s, "Secret");
    let r = api
        .post(
            CM,
            &json!({"metadata": {"name": "x", "namespace": "kube-system"}}),
        )
        .await;
    let s = c.status("namespace mismatch", &r, 400, "BadRequest");
    c.message(
        "namespace mismatch",
        &s,
        "the namespace of the provided object does not match the namespace sent on the request",
    );
    let r = api
        .put(
            &format!("{CM}/c1"),
            &json!({"metadata": {"name": "c1", "namespace": "kube-system"}, "data": {}}),
        )
        .await;
    let s = c.status("PUT namespace mismatch", &r, 400, "BadRequest");
    c.message(
        "PUT namespace mismatch",
        &s,
        "the namespace of the provided object does not match the namespace sent on the request",
    );
    let r = api
        .put(
            &format!("{CM}/c1"),
            &json!({"metadata": {"name": "c2"}, "data": {}}),
        )
        .await;
    let s = c.status("PUT name mismatch", &r, 400, "BadRequest");
    c.message(
        "PUT name mismatch",
        &s,
        "the name of the object (c2) does not match the name on the URL (c1)",
    );
    for sel in ["app%20in%20(x", "app%3D%3D%3Dx", "!"] {
        let r = api.get(&format!("{CM}?labelSelector={sel}")).await;
        c.status(&format!("bad labelSelector {sel}"), &r, 400, "BadRequest");
    }
    let r = api.get(&format!("{CM}?fieldSelector=spec.foo%3Dx")).await;
    let s = c.status("unsupported fieldSelector", &r, 400, "BadRequest");
    c.message(
        "unsupported fieldSelector",
        &s,
        "field label not supported: spec.foo",
    );
    let r = api
        .get(&format!("{CM}?watch=true&fieldSelector=spec.foo%3Dx"))
        .await;
    c.status("unsupported fieldSelector on watch", &r, 400, "BadRequest");
    let r = api.get(&format!("{CM}?resourceVersion=abc")).await;
    c.status("non-numeric resourceVersion", &r, 400, "BadRequest");
    // fieldValidation=Strict: an unknown field is refused and named.
    let mut bogus = pod("strict", json!({}));
    bogus["spec"]["bogus"] = json!(true);
    let r = api
        .post(&format!("{PODS}?fieldValidation=Strict"), &bogus)
        .await;
    let s = c.status("fieldValidation=Strict", &r, 400, "BadRequest");
    c.message(
        "fieldValidation=Strict",
        &s,
        "strict decoding error: unknown field \"spec.bogus\"",
    );
    // fieldValidation=Warn: created, with a Warning header naming the field,
    // and the unknown field dropped (it is not part of the schema).
    let mut warn = pod("warn", json!({}));
    warn["spec"]["bogus"] = json!(true);
    let r = api
        .post(&format!("{PODS}?fieldValidation=Warn"), &warn)
        .await;
    c.eq("fieldValidation=Warn code", r.status, 201);
    let warnings = r.headers_named("warning");
    c.check(
        warnings
            .iter()
            .any(|w| w.starts_with("299 ") && w.contains("unknown field \\\"spec.bogus\\\"")),
        || format!("fieldValidation=Warn: Warning headers {warnings:?}"),
    );
    let stored = api.get(&format!("{PODS}/warn")).await.json();
    c.check(stored.pointer("/spec/bogus").is_none(), || {
        format!("fieldValidation=Warn stored the unknown field spec.bogus: {stored}")
    });
    // Without the parameter (kube-apiserver's default is Warn) an unknown
    // field is dropped too: it is not part of the stored object.
    let r = api
        .post(
            CM,
            &json!({"metadata": {"name": "unknownfield"}, "data": {"a": "b"}, "bogus": {"x": 1}}),
        )
        .await;
    c.eq("create with unknown top-level field", r.status, 201);
    let stored = api.get(&format!("{CM}/unknownfield")).await.json();
    c.check(stored.get("bogus").is_none(), || {
        format!("unknown top-level field stored: {stored}")
    });

    // --- 405 MethodNotAllowed
    let r = api.put(CM, &json!({"metadata": {"name": "c1"}})).await;
    let s = c.status("PUT on a collection", &r, 405, "MethodNotAllowed");
    c.message_starts(
        "PUT on a collection",
        &s,
        "the server does not allow this method on the requested resource",
    );
    let r = api
        .patch(CM, MERGE_PATCH, &json!({"metadata": {"labels": {}}}))
        .await;
    c.status("PATCH on a collection", &r, 405, "MethodNotAllowed");

    // --- 415 UnsupportedMediaType
    let r = api
        .send("PATCH", &format!("{CM}/c1"), Some("text/plain"), b"{}")
        .await;
    let s = c.status("PATCH text/plain", &r, 415, "UnsupportedMediaType");
    c.message_starts(
        "PATCH text/plain",
        &s,
        "the body of the request was in an unknown format - accepted media types include: ",
    );
    // kube-apiserver lists the patch types here (that is what the client
    // has to switch to), not application/json.
    for t in [
        JSON_PATCH,
        MERGE_PATCH,
        STRATEGIC_PATCH,
        "application/apply-patch+yaml",
    ] {
        c.message_contains("PATCH text/plain accepted types", &s, t);
    }
    let r = api
        .send(
            "POST",
            CM,
            Some("text/plain"),
            br#"{"metadata":{"name":"tp"}}"#,
        )
        .await;
    c.status("POST text/plain", &r, 415, "UnsupportedMediaType");

    // --- 413 RequestEntityTooLarge
    let huge = json!({"metadata": {"name": "huge"}, "data": {"a": "x".repeat(4 << 20)}});
    let r = api
        .send("POST", CM, Some(JSON), huge.to_string().as_bytes())
        .await;
    let s = c.status("body > 3 MiB", &r, 413, "RequestEntityTooLarge");
    c.message(
        "body > 3 MiB",
        &s,
        "Request entity too large: limit is 3145728",
    );
    // A ConfigMap with a 2 MiB value: kube-apiserver's validation limits
    // ConfigMap data to 1 MiB, so this is 422 before storage is reached.
    let big_cm = json!({"metadata": {"name": "bigcm"}, "data": {"a": "x".repeat(2 << 20)}});
    let r = api.post(CM, &big_cm).await;
    let s = c.status("ConfigMap with 2 MiB data", &r, 422, "Invalid");
    c.cause("ConfigMap with 2 MiB data", &s, "FieldValueTooLong", None);
    // An object of > 1.5 MiB JSON (body < 3 MiB) that passes validation: a
    // pod with a 2 MiB argument. etcd refuses it ("request is too large"),
    // which kube-apiserver answers with 413.
    let mut big_pod = pod("bigpod", json!({}));
    big_pod["spec"]["containers"][0]["args"] = json!(["x".repeat(2 << 20)]);
    let r = api.post(PODS, &big_pod).await;
    let s = c.status("pod JSON > 1.5 MiB", &r, 413, "RequestEntityTooLarge");
    c.message_starts("pod JSON > 1.5 MiB", &s, "Request entity too large");

    // --- 504 Timeout: a resourceVersion the store will not reach
    for path in [format!("{CM}/c1"), CM.to_string()] {
        let started = Instant::now();
        let r = api.get(&format!("{path}?resourceVersion=99999999")).await;
        let took = started.elapsed();
        let what = format!("GET {path} resourceVersion far ahead");
        let s = c.status(&what, &r, 504, "Timeout");
        c.message_starts(&what, &s, "Too large resource version: 99999999, current: ");
        c.cause(&what, &s, "ResourceVersionTooLarge", None);
        c.eq(
            &format!("{what} retryAfterSeconds"),
            s["details"]["retryAfterSeconds"].clone(),
            json!(1),
        );
        c.check(
            took >= Duration::from_millis(2500) && took <= Duration::from_secs(6),
            || format!("{what}: answered after {took:?}, want ~3 s"),
        );
    }

    // --- 403 Forbidden: create in a terminating namespace (its deletion is
    // held by a finalizer in its metadata).
    let ns = create(
        &api,
        "/api/v1/namespaces",
        json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
    )
    .await;
    assert_eq!(ns["status"]["phase"], "Active");
    let r = api.delete("/api/v1/namespaces/held", None).await;
    assert!(
        r.status == 200 || r.status == 202,
        "delete namespace: {}",
        r.text()
    );
    let held_cm = "/api/v1/namespaces/held/configmaps";
    let r = api
        .post(held_cm, &json!({"metadata": {"name": "late"}}))
        .await;
    let s = c.status("create in terminating namespace", &r, 403, "Forbidden");
    c.message(
        "create in terminating namespace",
        &s,
        "configmaps \"late\" is forbidden: unable to create new content in namespace held because it is being terminated",
    );
    c.cause(
        "create in terminating namespace",
        &s,
        "NamespaceTerminating",
        Some("metadata.namespace"),
    );
    c.eq(
        "create in terminating namespace details",
        (s["details"]["name"].clone(), s["details"]["kind"].clone()),
        (json!("late"), json!("configmaps")),
    );
    let r = api.get(&format!("{held_cm}/late")).await;
    c.eq("nothing created in terminating namespace", r.status, 404);
    // Creating in a namespace that does not exist is 404 for the namespace.
    let r = api
        .post(
            "/api/v1/namespaces/nosuchns/configmaps",
            &json!({"metadata": {"name": "x"}}),
        )
        .await;
    let s = c.status("create in missing namespace", &r, 404, "NotFound");
    c.message(
        "create in missing namespace",
        &s,
        "namespaces \"nosuchns\" not found",
    );

    // --- dryRun=All persists nothing
    let before = api.get(&format!("{CM}/c1")).await.json();
    let r = api
        .post(
            &format!("{CM}?dryRun=All"),
            &json!({"metadata": {"name": "dry"}, "data": {"a": "1"}}),
        )
        .await;
    c.eq("dryRun create code", r.status, 201);
    c.eq(
        "dryRun create answers the object",
        r.json()["data"].clone(),
        json!({"a": "1"}),
    );
    c.eq(
        "dryRun create not stored",
        api.get(&format!("{CM}/dry")).await.status,
        404,
    );
    let r = api
        .put(
            &format!("{CM}/c1?dryRun=All"),
            &json!({"metadata": {"name": "c1"}, "data": {"k": "dry-put"}}),
        )
        .await;
    c.eq("dryRun PUT code", r.status, 200);
    c.eq(
        "dryRun PUT answers the new object",
        r.json()["data"].clone(),
        json!({"k": "dry-put"}),
    );
    let r = api
        .patch(
            &format!("{CM}/c1?dryRun=All"),
            MERGE_PATCH,
            &json!({"data": {"p": "dry-patch"}}),
        )
        .await;
    c.eq("dryRun PATCH code", r.status, 200);
    c.eq(
        "dryRun PATCH answers the patched object",
        r.json()["data"].clone(),
        json!({"k": "v", "p": "dry-patch"}),
    );
    let r = api.delete(&format!("{CM}/c1?dryRun=All"), None).await;
    c.eq("dryRun DELETE code", r.status, 200);
    let r = api
        .delete(&format!("{CM}?dryRun=All&labelSelector=app%3Dx"), None)
        .await;
    c.eq("dryRun DELETE collection code", r.status, 200);
    let after = leader_api.get(&format!("{CM}/c1")).await;
    c.eq("c1 after dryRun writes: code", after.status, 200);
    c.eq("c1 after dryRun writes", after.json(), before);
    c.eq("c1 rv never moved", rv_of(&after.json()), stale);

    // --- 429 TooManyRequests: eviction blocked by a PDB the disruption
    // controller has not processed (no status.observedGeneration).
    create(
        &api,
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        json!({"metadata": {"name": "pdb1"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ev"}}}}),
    )
    .await;
    let r = api
        .post(
            &format!("{PODS}/p1/eviction"),
            &json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p1", "namespace": "default"}}),
        )
        .await;
    let s = c.status("eviction blocked by PDB", &r, 429, "TooManyRequests");
    c.message(
        "eviction blocked by PDB",
        &s,
        "Cannot evict pod as it would violate the pod's disruption budget.",
    );
    c.cause("eviction blocked by PDB", &s, "DisruptionBudget", None);
    c.eq(
        "eviction blocked by PDB Retry-After",
        r.header("retry-after"),
        Some("10"),
    );
    c.eq(
        "eviction blocked by PDB retryAfterSeconds",
        s["details"]["retryAfterSeconds"].clone(),
        json!(10),
    );
    let after = api.get(&format!("{PODS}/p1")).await;
    c.eq("pod after refused eviction: code", after.status, 200);
    c.eq(
        "pod after refused eviction: rv",
        rv_of(&after.json()),
        rv_of(&p1),
    );
    c.check(
        after.json()["metadata"].get("deletionTimestamp").is_none(),
        || "refused eviction set deletionTimestamp".into(),
    );

    // --- the store is as it was: only c1 and the objects this test meant
    // to create (warn pod, unknownfield configmap) exist, unchanged.
    let cms_after: Vec<_> = items(&leader_api, CM)
        .await
        .into_iter()
        .filter(|(n, _, _)| n != "unknownfield")
        .collect();
    c.eq("configmaps after refused requests", cms_after, cms_before);
    let pods_after: Vec<_> = items(&leader_api, PODS)
        .await
        .into_iter()
        .filter(|(n, _, _)| n != "warn")
        .collect();
    c.eq("pods after refused requests", pods_after, pods_before);

    cluster.check_alive().expect("no member crashed");
    eprintln!("api_errors_status_classes took {:?}", t0.elapsed());
    c.finish("api_errors_status_classes");
}

/// 410 Expired below the compacted revision: a list at an exact old
/// resourceVersion, a paginated continue, and a watch from it (an in-stream
/// ERROR event, as the watch cache sends).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_errors_expired_after_compaction() {
    let t0 = Instant::now();
    let (mut cluster, leader) = start(ClusterOptions {
        compaction_keep_revisions: Some(10),
        ..ClusterOptions::default()
    })
    .await;
    let api = api_of(&cluster, crate::support::other_than(&cluster, leader)).await;
    let mut c = Checks::default();

    let first = create(
        &api,
        CM,
        json!({"metadata": {"name": "e0"}, "data": {"n": "0"}}),
    )
    .await;
    let old_rv = rv_of(&first);
    let mut old_continue = String::new();
    for i in 1..40 {
        create(
            &api,
            CM,
            json!({"metadata": {"name": format!("e{i}")}, "data": {"n": i.to_string()}}),
        )
        .await;
        if i == 3 {
            // A first page taken now; its token expires with compaction.
            let page = api.get(&format!("{CM}?limit=2")).await.json();
            old_continue = page["metadata"]["continue"]
                .as_str()
                .unwrap_or_default()
                .to_string();
        }
    }
    assert!(
        !old_continue.is_empty(),
        "a first page carries a continue token"
    );
    let before = items(&api, CM).await;
    // The leader compacts every 5 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let r = loop {
        let r = api
            .get(&format!(
                "{CM}?resourceVersion={old_rv}&resourceVersionMatch=Exact"
            ))
            .await;
        if r.status != 200 || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let s = c.status("list Exact below compaction", &r, 410, "Expired");
    c.message_starts(
        "list Exact below compaction",
        &s,
        "The resourceVersion for the provided list is too old",
    );
    // resourceVersion + limit is Exact too.
    let r = api
        .get(&format!("{CM}?resourceVersion={old_rv}&limit=5"))
        .await;
    c.status("list rv+limit below compaction", &r, 410, "Expired");
    // An expired continue token: 410 with a fresh token in the Status's
    // metadata, which continues (inconsistently) from the same key.
    let r = api
        .get(&format!("{CM}?limit=2&continue={old_continue}"))
        .await;
    let s = c.status("continue below compaction", &r, 410, "Expired");
    c.message_starts(
        "continue below compaction",
        &s,
        "The provided continue parameter is too old",
    );
    let fresh = s["metadata"]["continue"].as_str().unwrap_or_default();
    c.check(!fresh.is_empty() && fresh != old_continue, || {
        format!("continue below compaction: fresh token in {s}")
    });
    let r = api.get(&format!("{CM}?limit=2&continue={fresh}")).await;
    c.eq("continue with the fresh token", r.status, 200);
    let names: Vec<String> = r.json()["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    c.eq(
        "the fresh token resumes after the first page",
        names,
        vec!["e10".to_string(), "e11".to_string()],
    );
    // NotOlderThan an old revision is fine: served at the current one.
    let r = api
        .get(&format!(
            "{CM}?resourceVersion={old_rv}&resourceVersionMatch=NotOlderThan"
        ))
        .await;
    c.eq("list NotOlderThan old rv", r.status, 200);

    // A watch from the compacted revision: 200, then one ERROR event.
    let mut w = api
        .watch(&format!("{CM}?watch=true&resourceVersion={old_rv}"))
        .await
        .expect("open watch");
    c.eq("watch below compaction: HTTP status", w.status, 200);
    match w.next(Duration::from_secs(10)).await {
        Ok(Some(ev)) => {
            c.eq(
                "watch below compaction: event type",
                ev.kind.as_str(),
                "ERROR",
            );
            let s = &ev.object;
            c.check(
                s["kind"] == "Status"
                    && s["code"] == 410
                    && s["reason"] == "Expired"
                    && s["status"] == "Failure",
                || format!("watch below compaction: ERROR object {s}"),
            );
            c.message_starts(
                "watch below compaction",
                s,
                &format!("too old resource version: {old_rv} ("),
            );
            // The stream ends after the error.
            let end = w.next(Duration::from_secs(5)).await;
            c.check(matches!(end, Ok(None)), || {
                format!("watch below compaction: stream after ERROR: {end:?}")
            });
        }
        other => c.check(false, || {
            format!("watch below compaction: want an ERROR event, got {other:?}")
        }),
    }
    // Nothing changed.
    c.eq("store after 410s", items(&api, CM).await, before);
    cluster.check_alive().expect("no member crashed");
    eprintln!(
        "api_errors_expired_after_compaction took {:?}",
        t0.elapsed()
    );
    c.finish("api_errors_expired_after_compaction");
}
