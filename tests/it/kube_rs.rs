//! The Kubernetes API through kube-rs (`kube` 5.0, plain HTTP): CRUD on
//! every member, the four patch types, label and field selectors,
//! pagination, watch resume without gaps or duplicates, 410 for a watch
//! from a compacted resourceVersion, and `kube::runtime::watcher` on a
//! follower.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::Client;
use kube::Config;
use kube::ResourceExt;
use kube::api::DeleteParams;
use kube::api::GroupVersionKind;
use kube::api::ListParams;
use kube::api::Patch;
use kube::api::PatchParams;
use kube::api::PostParams;
use kube::api::VersionMatch;
use kube::api::WatchEvent;
use kube::api::WatchParams;
use kube::core::Status;
use kube::core::response::StatusSummary;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use raftplane_chaos::harness::Cluster;
use raftplane_chaos::harness::ClusterOptions;
use serde_json::json;

use crate::support::other_than;
use crate::support::start;

/// Bound on waiting for one watch event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

fn client(cluster: &Cluster, id: u64) -> Client {
    let addr = cluster.api_addr(id).expect("api addr");
    let url = format!("http://{addr}").parse().expect("url");
    let mut config = Config::new(url);
    config.default_namespace = "default".to_owned();
    Client::try_from(config).expect("kube client")
}

/// A client per running member, the leader first.
fn clients(cluster: &Cluster, leader: u64) -> Vec<(u64, Client)> {
    let mut ids = cluster.running_ids();
    ids.sort_by_key(|id| *id != leader);
    ids.into_iter()
        .map(|id| (id, client(cluster, id)))
        .collect()
}

async fn create_namespace(client: &Client, prefix: &str) -> String {
    let name = format!("{prefix}-{:08x}", rand::random::<u32>());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
    name
}

fn config_map(name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> ConfigMap {
    let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
    let data: BTreeMap<&str, &str> = data.iter().copied().collect();
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    }))
    .unwrap()
}

fn pod(name: &str, labels: &[(&str, &str)]) -> Pod {
    let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{
            "name": "app",
            "image": "nginx:1.27",
            "env": [{"name": "A", "value": "1"}],
            "ports": [{"containerPort": 80, "name": "http"}],
        }]},
    }))
    .unwrap()
}

fn data(cm: &ConfigMap) -> BTreeMap<String, String> {
    cm.data.clone().unwrap_or_default()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn rv<K: ResourceExt>(obj: &K) -> u64 {
    obj.resource_version()
        .expect("object has a resourceVersion")
        .parse()
        .expect("resourceVersion is a decimal integer")
}

/// The Status of an API error; panics on any other error.
fn api_status<T: std::fmt::Debug>(result: Result<T, kube::Error>, what: &str) -> Box<Status> {
    match result {
        Err(kube::Error::Api(status)) => status,
        Err(other) => panic!("{what}: want an API error Status, got {other}"),
        Ok(value) => panic!("{what}: want an API error, got success: {value:?}"),
    }
}

fn assert_status(status: &Status, code: u16, reason: &str, what: &str) {
    assert_eq!(
        (status.code, status.reason.as_str()),
        (code, reason),
        "{what}: {status:?}"
    );
}

fn names<K: ResourceExt>(items: &[K]) -> Vec<String> {
    items.iter().map(ResourceExt::name_any).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_crud_on_every_member() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let clients = clients(&cluster, leader);
    let ns = create_namespace(&clients[0].1, "kube-crud").await;
    let n = clients.len();
    for i in 0..n {
        let (id, c) = &clients[i];
        let next = &clients[(i + 1) % n].1;
        let third = &clients[(i + 2) % n].1;
        let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
        let cms_next: Api<ConfigMap> = Api::namespaced(next.clone(), &ns);
        let cms_third: Api<ConfigMap> = Api::namespaced(third.clone(), &ns);
        let pp = PostParams::default();

        // ConfigMap: create here, read on the next member, replace on the
        // third, delete on the next.
        let name = format!("cm-{id}");
        let created = cms
            .create(&pp, &config_map(&name, &[("via", "kube")], &[("k", "v")]))
            .await
            .unwrap_or_else(|e| panic!("create {name} via member {id}: {e}"));
        assert_eq!(created.namespace().as_deref(), Some(ns.as_str()));
        assert!(created.uid().is_some(), "uid set: {created:?}");
        assert!(
            created.creation_timestamp().is_some(),
            "creationTimestamp set"
        );
        let read = cms_next.get(&name).await.expect("get on the next member");
        assert_eq!(data(&read), map(&[("k", "v")]));
        assert_eq!(read.resource_version(), created.resource_version());
        assert_eq!(read.uid(), created.uid());
        assert_status(
            &api_status(cms_next.create(&pp, &created).await, "create again"),
            409,
            "AlreadyExists",
            "create of an existing name",
        );

        let mut update = read.clone();
        update.data = Some(map(&[("k", "v2"), ("more", "x")]));
        let replaced = cms_third
            .replace(&name, &pp, &update)
            .await
            .expect("replace on the third member");
        assert_eq!(data(&replaced), map(&[("k", "v2"), ("more", "x")]));
        assert!(rv(&replaced) > rv(&created), "replace bumps the RV");
        assert_eq!(replaced.uid(), created.uid(), "uid survives replace");
        // `read` carries the old resourceVersion: a stale write.
        let mut stale = read.clone();
        stale.data = Some(map(&[("k", "stale")]));
        assert_status(
            &api_status(cms.replace(&name, &pp, &stale).await, "stale replace"),
            409,
            "Conflict",
            "replace with a stale resourceVersion",
        );
        assert_eq!(data(&cms.get(&name).await.unwrap()), data(&replaced));

        // kube-apiserver answers a ConfigMap delete with a Status
        // (Success, details name/uid); pods answer with the object.
        cms_next
            .delete(&name, &DeleteParams::default())
            .await
            .expect("delete on the next member");
        assert!(cms_third.get_opt(&name).await.unwrap().is_none(), "gone");
        assert_status(
            &api_status(cms.get(&name).await, "get deleted"),
            404,
            "NotFound",
            "get of a deleted configmap",
        );
        assert_status(
            &api_status(
                cms.delete(&name, &DeleteParams::default()).await,
                "delete again",
            ),
            404,
            "NotFound",
            "delete of an absent configmap",
        );

        // Pod: same rotation.
        let pods: Api<Pod> = Api::namespaced(c.clone(), &ns);
        let pods_next: Api<Pod> = Api::namespaced(next.clone(), &ns);
        let pods_third: Api<Pod> = Api::namespaced(third.clone(), &ns);
        let pname = format!("pod-{id}");
        let created = pods
            .create(&pp, &pod(&pname, &[("app", "crud")]))
            .await
            .unwrap_or_else(|e| panic!("create {pname} via member {id}: {e}"));
        assert!(created.uid().is_some());
        let mut read = pods_next.get(&pname).await.expect("get pod");
        assert_eq!(
            read.spec.as_ref().unwrap().containers[0].image.as_deref(),
            Some("nginx:1.27")
        );
        read.labels_mut()
            .insert("extra".to_owned(), "yes".to_owned());
        let replaced = pods_third
            .replace(&pname, &pp, &read)
            .await
            .expect("replace pod");
        assert_eq!(
            replaced.labels(),
            &map(&[("app", "crud"), ("extra", "yes")])
        );
        assert_eq!(
            pods.get(&pname).await.unwrap().labels(),
            &map(&[("app", "crud"), ("extra", "yes")])
        );
        let listed = pods_next
            .list(&ListParams::default().labels("extra=yes"))
            .await
            .unwrap();
        assert_eq!(names(&listed.items), [pname.as_str()]);
        pods_next
            .delete(&pname, &DeleteParams::default().grace_period(0))
            .await
            .expect("delete pod");
        wait_gone(&pods_third, &pname).await;
    }
    cluster.check_alive().expect("members stay up");
}

/// Polls until `name` is 404 (a pod delete may be graceful).
async fn wait_gone(api: &Api<Pod>, name: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while api.get_opt(name).await.expect("get").is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} still exists 10 s after delete"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_patch_merge_json_strategic_apply() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let clients = clients(&cluster, leader);
    let ns = create_namespace(&clients[1].1, "kube-patch").await;
    let pp = PatchParams::default();
    for (i, (id, c)) in clients.iter().enumerate() {
        let other = &clients[(i + 1) % clients.len()].1;
        let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
        let cms_other: Api<ConfigMap> = Api::namespaced(other.clone(), &ns);
        let name = format!("p-{id}");
        cms_other
            .create(
                &PostParams::default(),
                &config_map(&name, &[("a", "1")], &[("k", "v"), ("keep", "x")]),
            )
            .await
            .expect("create");

        // JSON merge patch (RFC 7386): null deletes, maps merge.
        let merged = cms
            .patch(
                &name,
                &pp,
                &Patch::Merge(json!({
                    "metadata": {"labels": {"m": "1"}},
                    "data": {"k": null, "new": "v"},
                })),
            )
            .await
            .expect("merge patch");
        assert_eq!(data(&merged), map(&[("keep", "x"), ("new", "v")]));
        assert_eq!(merged.labels(), &map(&[("a", "1"), ("m", "1")]));

        // JSON patch (RFC 6902).
        let ops: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/data/keep", "value": "x"},
            {"op": "add", "path": "/data/j", "value": "jp"},
            {"op": "replace", "path": "/metadata/labels/a", "value": "2"},
            {"op": "remove", "path": "/data/new"},
        ]))
        .unwrap();
        let patched = cms_other
            .patch(&name, &pp, &Patch::Json::<()>(ops))
            .await
            .expect("json patch");
        assert_eq!(data(&patched), map(&[("j", "jp"), ("keep", "x")]));
        assert_eq!(patched.labels(), &map(&[("a", "2"), ("m", "1")]));
        let failing: json_patch::Patch =
            serde_json::from_value(json!([{"op": "test", "path": "/data/j", "value": "no"}]))
                .unwrap();
        assert_eq!(
            api_status(
                cms.patch(&name, &pp, &Patch::Json::<()>(failing)).await,
                "failing json patch test op",
            )
            .code,
            422
        );
        assert_eq!(data(&cms.get(&name).await.unwrap()), data(&patched));

        // Strategic merge patch: a pod's containers merge by name (the
        // image is one of the few mutable pod spec fields).
        let pods: Api<Pod> = Api::namespaced(c.clone(), &ns);
        let pname = format!("sp-{id}");
        Api::<Pod>::namespaced(other.clone(), &ns)
            .create(&PostParams::default(), &pod(&pname, &[("app", "smp")]))
            .await
            .expect("create pod");
        let smp = pods
            .patch(
                &pname,
                &pp,
                &Patch::Strategic(json!({
                    "metadata": {"labels": {"v": "2"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]},
                })),
            )
            .await
            .expect("strategic merge patch on a pod");
        let containers = &smp.spec.as_ref().unwrap().containers;
        assert_eq!(containers.len(), 1, "merged by name: {containers:?}");
        assert_eq!(containers[0].image.as_deref(), Some("nginx:1.28"));
        assert_eq!(
            containers[0].env.as_ref().map(|e| e.len()),
            Some(1),
            "env kept"
        );
        assert_eq!(smp.labels(), &map(&[("app", "smp"), ("v", "2")]));

        // Strategic merge patch on a Deployment: add a container by name,
        // then delete one with the $patch directive.
        let deployments: Api<Deployment> = Api::namespaced(c.clone(), &ns);
        let dname = format!("d-{id}");
        let deployment: Deployment = serde_json::from_value(json!({
            "metadata": {"name": dname},
            "spec": {
                "selector": {"matchLabels": {"app": dname}},
                "template": {
                    "metadata": {"labels": {"app": dname}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }))
        .unwrap();
        Api::<Deployment>::namespaced(other.clone(), &ns)
            .create(&PostParams::default(), &deployment)
            .await
            .expect("create deployment");
        let added = deployments
            .patch(
                &dname,
                &pp,
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "sidecar", "image": "busybox:1.36"}
                ]}}}})),
            )
            .await
            .expect("strategic merge patch on a deployment");
        let mut container_names: Vec<String> = added
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers
            .iter()
            .map(|c| c.name.clone())
            .collect();
        container_names.sort();
        assert_eq!(container_names, ["sidecar", "web"]);
        assert_eq!(added.metadata.generation, Some(2));
        let removed = deployments
            .patch(
                &dname,
                &pp,
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "web", "$patch": "delete"}
                ]}}}})),
            )
            .await
            .expect("strategic merge patch with $patch: delete");
        let left: Vec<String> = removed
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(left, ["sidecar"]);

        // Server-side apply: creates when absent, then merges the fields
        // of another manager.
        let aname = format!("ssa-{id}");
        let applied = cms
            .patch(
                &aname,
                &PatchParams::apply("mgr"),
                &Patch::Apply(config_map(&aname, &[], &[("a", "1")])),
            )
            .await
            .expect("apply creates");
        assert_eq!(data(&applied), map(&[("a", "1")]));
        assert!(applied.uid().is_some());
        let applied = cms_other
            .patch(
                &aname,
                &PatchParams::apply("mgr2"),
                &Patch::Apply(config_map(&aname, &[("l", "2")], &[("b", "2")])),
            )
            .await
            .expect("apply by another manager");
        assert_eq!(data(&applied), map(&[("a", "1"), ("b", "2")]));
        assert_eq!(applied.labels(), &map(&[("l", "2")]));
        let applied = cms
            .patch(
                &aname,
                &PatchParams::apply("mgr"),
                &Patch::Apply(config_map(&aname, &[], &[("a", "3")])),
            )
            .await
            .expect("apply again");
        assert_eq!(data(&applied), map(&[("a", "3"), ("b", "2")]));

        // Patch of an absent object (other than apply) is 404.
        assert_status(
            &api_status(
                cms.patch("absent", &pp, &Patch::Merge(json!({"data": {"x": "y"}})))
                    .await,
                "merge patch of an absent object",
            ),
            404,
            "NotFound",
            "merge patch of an absent object",
        );
    }
    cluster.check_alive().expect("members stay up");
}

/// Server-side apply field ownership, as kube-apiserver does it:
/// managedFields per manager, 409 when another manager changes an owned
/// field without force, and removal of fields a manager stops applying.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_server_side_apply_field_ownership() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let clients = clients(&cluster, leader);
    let ns = create_namespace(&clients[0].1, "kube-ssa").await;
    let a: Api<ConfigMap> = Api::namespaced(clients[1].1.clone(), &ns);
    let b: Api<ConfigMap> = Api::namespaced(clients[2].1.clone(), &ns);
    let apply = |manager: &str| PatchParams::apply(manager);
    // Every deviation is collected, so one gap does not hide the next.
    let mut failures: Vec<String> = Vec::new();
    let created = a
        .patch(
            "own",
            &apply("mgr"),
            &Patch::Apply(config_map("own", &[], &[("a", "1"), ("c", "1")])),
        )
        .await
        .expect("apply creates");
    let managers: Vec<(String, String)> = created
        .managed_fields()
        .iter()
        .map(|m| {
            (
                m.manager.clone().unwrap_or_default(),
                m.operation.clone().unwrap_or_default(),
            )
        })
        .collect();
    if managers != [("mgr".to_owned(), "Apply".to_owned())] {
        failures.push(format!(
            "PATCH (apply-patch+yaml, fieldManager=mgr) creating a ConfigMap: managedFields \
             {:?}, want one entry {{manager: mgr, operation: Apply, fieldsV1: ...}}",
            created.managed_fields()
        ));
    }
    b.patch(
        "own",
        &apply("mgr2"),
        &Patch::Apply(config_map("own", &[], &[("b", "2")])),
    )
    .await
    .expect("apply of a disjoint field by another manager");
    match b
        .patch(
            "own",
            &apply("mgr2"),
            &Patch::Apply(config_map("own", &[], &[("a", "9")])),
        )
        .await
    {
        Err(kube::Error::Api(s)) if s.code == 409 && s.reason == "Conflict" => {}
        other => failures.push(format!(
            "apply by mgr2 of data.a (owned by mgr) without force: want 409 Conflict \
             (conflict with \"mgr\"), got {:?}",
            other.map(|cm| data(&cm))
        )),
    }
    // Undo a wrongly accepted conflicting apply, so the next check stands
    // on its own.
    a.patch(
        "own",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "1"}})),
    )
    .await
    .expect("reset data.a");
    // mgr stops applying `c`: it is removed; `b` (mgr2's) stays.
    let dropped = a
        .patch(
            "own",
            &apply("mgr"),
            &Patch::Apply(config_map("own", &[], &[("a", "1")])),
        )
        .await
        .expect("apply without c");
    if data(&dropped) != map(&[("a", "1"), ("b", "2")]) {
        failures.push(format!(
            "mgr re-applies without data.c (which only mgr owned): want data {{a: 1, b: 2}}, got {:?}",
            data(&dropped)
        ));
    }
    let forced = b
        .patch(
            "own",
            &apply("mgr2").force(),
            &Patch::Apply(config_map("own", &[], &[("a", "9"), ("b", "2")])),
        )
        .await
        .expect("forced apply takes ownership");
    assert_eq!(data(&forced).get("a").map(String::as_str), Some("9"));
    cluster.check_alive().expect("members stay up");
    assert!(
        failures.is_empty(),
        "server-side apply field ownership:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_list_selectors_and_pagination() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let clients = clients(&cluster, leader);
    let ns = create_namespace(&clients[0].1, "kube-list").await;
    let writer: Api<ConfigMap> = Api::namespaced(clients[1].1.clone(), &ns);
    let mut all = Vec::new();
    for i in 0..7 {
        let name = format!("cm-{i}");
        let parity = if i % 2 == 0 { "even" } else { "odd" };
        let group = format!("g{}", i % 3);
        writer
            .create(
                &PostParams::default(),
                &config_map(&name, &[("parity", parity), ("group", &group)], &[]),
            )
            .await
            .expect("create");
        all.push(name);
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let expect = |idx: &[usize]| -> Vec<String> { idx.iter().map(|i| format!("cm-{i}")).collect() };
    for (id, c) in &clients {
        let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
        let list = |lp: ListParams| {
            let api = api.clone();
            async move {
                let l = api
                    .list(&lp)
                    .await
                    .unwrap_or_else(|e| panic!("list {lp:?} via member {id}: {e}"));
                sorted(names(&l.items))
            }
        };
        assert_eq!(list(ListParams::default()).await, all);
        assert_eq!(
            list(ListParams::default().labels("parity=even")).await,
            expect(&[0, 2, 4, 6])
        );
        assert_eq!(
            list(ListParams::default().labels("parity=odd,group=g1")).await,
            expect(&[1])
        );
        assert_eq!(
            list(ListParams::default().labels("group in (g0,g2)")).await,
            expect(&[0, 2, 3, 5, 6])
        );
        assert_eq!(
            list(ListParams::default().labels("group notin (g0),parity!=odd")).await,
            expect(&[2, 4])
        );
        assert_eq!(list(ListParams::default().labels("parity")).await, all);
        assert_eq!(
            list(ListParams::default().labels("!parity")).await,
            Vec::<String>::new()
        );
        assert_eq!(
            list(ListParams::default().fields("metadata.name=cm-3")).await,
            expect(&[3])
        );
        assert_eq!(
            list(ListParams::default().fields("metadata.name!=cm-3")).await,
            expect(&[0, 1, 2, 4, 5, 6])
        );
        assert_eq!(
            list(
                ListParams::default()
                    .fields(&format!("metadata.namespace={ns},metadata.name!=cm-0"))
                    .labels("parity=even")
            )
            .await,
            expect(&[2, 4, 6])
        );
        assert_status(
            &api_status(
                api.list(&ListParams::default().fields("data.k=v")).await,
                "unsupported field selector",
            ),
            400,
            "BadRequest",
            "list with an unsupported field selector",
        );
    }

    // Pagination: limit 2, each page asked of the next member with the
    // previous member's continue token. Writes between pages do not show:
    // every page is read at the first page's resourceVersion.
    let mut pages = 0;
    let mut seen: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    let mut snapshot_rv: Option<String> = None;
    loop {
        let (id, c) = &clients[pages % clients.len()];
        let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
        let mut lp = ListParams::default().limit(2);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api
            .list(&lp)
            .await
            .unwrap_or_else(|e| panic!("page {pages} via member {id}: {e}"));
        assert!(page.items.len() <= 2, "page of {} items", page.items.len());
        match &snapshot_rv {
            None => {
                snapshot_rv = page.metadata.resource_version.clone();
                assert_eq!(
                    page.metadata.remaining_item_count,
                    Some(5),
                    "remainingItemCount of the first page"
                );
                // After the first page: a new object sorting last and a
                // deleted one; the snapshot has neither change.
                writer
                    .create(&PostParams::default(), &config_map("cm-9", &[], &[]))
                    .await
                    .unwrap();
                writer
                    .delete("cm-5", &DeleteParams::default())
                    .await
                    .unwrap();
            }
            Some(first) => assert_eq!(
                page.metadata.resource_version.as_ref(),
                Some(first),
                "every page is at the first page's resourceVersion"
            ),
        }
        seen.extend(names(&page.items));
        pages += 1;
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
        assert!(pages < 20, "pagination does not end: {seen:?}");
    }
    assert_eq!(seen, all, "every item once, in key order");
    assert_eq!(pages, 4);

    // With a label selector, pages may hold fewer items but still see
    // every match once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for page_no in 0.. {
        let api: Api<ConfigMap> = Api::namespaced(clients[page_no % clients.len()].1.clone(), &ns);
        let mut lp = ListParams::default().labels("parity=even").limit(1);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await.expect("labelled page");
        seen.extend(names(&page.items));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
        assert!(page_no < 20, "pagination does not end: {seen:?}");
    }
    assert_eq!(seen, expect(&[0, 2, 4, 6]));
    cluster.check_alive().expect("members stay up");
}

/// (type, name, resourceVersion) of the next `count` non-bookmark events.
async fn next_events<S>(stream: &mut S, count: usize) -> Vec<(String, String, u64)>
where
    S: futures::Stream<Item = Result<WatchEvent<ConfigMap>, kube::Error>> + Unpin,
{
    let mut out = Vec::new();
    while out.len() < count {
        let event = tokio::time::timeout(EVENT_TIMEOUT, stream.try_next())
            .await
            .unwrap_or_else(|_| panic!("no watch event within {EVENT_TIMEOUT:?}; got {out:?}"))
            .expect("watch stream error")
            .unwrap_or_else(|| panic!("watch stream ended; got {out:?}"));
        let (kind, obj) = match event {
            WatchEvent::Added(o) => ("ADDED", o),
            WatchEvent::Modified(o) => ("MODIFIED", o),
            WatchEvent::Deleted(o) => ("DELETED", o),
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(s) => panic!("watch ERROR event: {s:?}; got {out:?}"),
        };
        out.push((kind.to_owned(), obj.name_any(), rv(&obj)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_watch_resume_without_gaps_or_duplicates() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let clients = clients(&cluster, leader);
    let ns = create_namespace(&clients[0].1, "kube-watch").await;
    // Writes through a follower, watches on the leader and the other
    // follower.
    let writer: Api<ConfigMap> = Api::namespaced(clients[1].1.clone(), &ns);
    let watch_a: Api<ConfigMap> = Api::namespaced(clients[0].1.clone(), &ns);
    let watch_b: Api<ConfigMap> = Api::namespaced(clients[2].1.clone(), &ns);
    let pp = PostParams::default();
    let start_rv = writer
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .expect("list RV");

    let wp = WatchParams::default().timeout(120);
    let mut stream = watch_a.watch(&wp, &start_rv).await.expect("watch").boxed();
    let mut expected = Vec::new();
    for i in 0..5 {
        let cm = writer
            .create(&pp, &config_map(&format!("w{i}"), &[], &[("v", "0")]))
            .await
            .unwrap();
        expected.push(("ADDED".to_owned(), cm.name_any(), rv(&cm)));
    }
    let first = next_events(&mut stream, 5).await;
    assert_eq!(first, expected, "events after the list RV");
    let last_rv = first.last().unwrap().2;
    drop(stream);

    // While nobody watches: a mix of writes through the leader.
    let leader_api: Api<ConfigMap> = Api::namespaced(clients[0].1.clone(), &ns);
    let mut missed = Vec::new();
    let m = leader_api
        .patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": "1"}})),
        )
        .await
        .unwrap();
    missed.push(("MODIFIED".to_owned(), "w1".to_owned(), rv(&m)));
    leader_api
        .delete("w2", &DeleteParams::default())
        .await
        .unwrap();
    missed.push(("DELETED".to_owned(), "w2".to_owned(), 0));
    for name in ["w5", "w6"] {
        let cm = leader_api
            .create(&pp, &config_map(name, &[], &[]))
            .await
            .unwrap();
        missed.push(("ADDED".to_owned(), name.to_owned(), rv(&cm)));
    }
    let mut w3 = writer.get("w3").await.unwrap();
    w3.data = Some(map(&[("v", "3")]));
    let r = leader_api.replace("w3", &pp, &w3).await.unwrap();
    missed.push(("MODIFIED".to_owned(), "w3".to_owned(), rv(&r)));

    // Resume from the last seen RV on another member: exactly the missed
    // events, in order.
    let mut resumed = watch_b
        .watch(&wp, &last_rv.to_string())
        .await
        .expect("resume")
        .boxed();
    let got = next_events(&mut resumed, missed.len()).await;
    let shape = |v: &[(String, String, u64)]| -> Vec<(String, String)> {
        v.iter().map(|(t, n, _)| (t.clone(), n.clone())).collect()
    };
    assert_eq!(shape(&got), shape(&missed), "resumed events: {got:?}");
    for ((_, _, got_rv), (kind, name, want_rv)) in got.iter().zip(&missed) {
        if kind != "DELETED" {
            assert_eq!(got_rv, want_rv, "RV of {kind} {name}");
        }
    }
    let rvs: Vec<u64> = got.iter().map(|e| e.2).collect();
    assert!(
        rvs.first().is_some_and(|r| *r > last_rv) && rvs.windows(2).all(|w| w[0] < w[1]),
        "resumed RVs strictly increase after {last_rv}: {rvs:?}"
    );

    // The resumed stream then goes live.
    let cm = writer
        .create(&pp, &config_map("w7", &[], &[]))
        .await
        .unwrap();
    assert_eq!(
        next_events(&mut resumed, 1).await,
        [("ADDED".to_owned(), "w7".to_owned(), rv(&cm))]
    );

    // A second resume from the same RV (on the writer member) replays the
    // same events.
    let mut again = writer
        .watch(&wp, &last_rv.to_string())
        .await
        .expect("resume again")
        .boxed();
    let replay = next_events(&mut again, missed.len() + 1).await;
    assert_eq!(replay[..missed.len()], got[..], "replay is identical");
    cluster.check_alive().expect("members stay up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_watch_from_compacted_revision_is_gone() {
    let options = ClusterOptions {
        compaction_keep_revisions: Some(20),
        ..ClusterOptions::default()
    };
    let (mut cluster, leader) = start(options).await;
    let follower = other_than(&cluster, leader);
    let writer: Api<ConfigMap> = Api::namespaced(client(&cluster, leader), "default");
    for i in 0..60 {
        writer
            .create(
                &PostParams::default(),
                &config_map(&format!("c{i}"), &[], &[]),
            )
            .await
            .expect("create");
    }
    let head = rv(&writer
        .create(&PostParams::default(), &config_map("last", &[], &[]))
        .await
        .unwrap());
    let api: Api<ConfigMap> = Api::namespaced(client(&cluster, follower), "default");
    // The leader compacts every 5 s; wait until RV 1 is gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        let outcome = match api.watch(&WatchParams::default(), "1").await {
            // kube-apiserver answers 200 and an ERROR event; an HTTP 410
            // is accepted as well.
            Err(kube::Error::Api(s)) => Some(s),
            Err(e) => panic!("watch from RV 1: {e}"),
            Ok(stream) => {
                let mut stream = stream.boxed();
                match tokio::time::timeout(EVENT_TIMEOUT, stream.next()).await {
                    Ok(Some(Ok(WatchEvent::Error(s)))) => Some(s),
                    Ok(Some(Err(kube::Error::Api(s)))) => Some(s),
                    Ok(Some(Ok(_))) => None, // history still there
                    other => panic!("watch from RV 1: {other:?}"),
                }
            }
        };
        if let Some(status) = outcome {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "RV 1 not compacted 30 s after {head} revisions with keep 20"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(status.code, 410, "watch from a compacted RV: {status:?}");
    assert!(
        status.reason == "Expired" || status.reason == "Gone",
        "reason Expired (or Gone): {status:?}"
    );

    // A list at an exact compacted RV is 410 too.
    let list = api
        .list(&ListParams::default().at("1").matching(VersionMatch::Exact))
        .await;
    assert_eq!(
        api_status(list, "list at a compacted RV").code,
        410,
        "list with resourceVersion=1&resourceVersionMatch=Exact"
    );

    // A watch from a recent RV still works.
    let mut stream = api
        .watch(&WatchParams::default(), &head.to_string())
        .await
        .expect("watch from the head")
        .boxed();
    let cm = writer
        .create(&PostParams::default(), &config_map("after", &[], &[]))
        .await
        .unwrap();
    assert_eq!(
        next_events(&mut stream, 1).await,
        [("ADDED".to_owned(), "after".to_owned(), rv(&cm))]
    );
    cluster.check_alive().expect("members stay up");
}

/// What a watcher reported, reduced to (kind, pod name, label "v").
type Seen = (String, String, Option<String>);

async fn next_seen(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Seen>, what: &str) -> Seen {
    tokio::time::timeout(EVENT_TIMEOUT, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {EVENT_TIMEOUT:?}"))
        .unwrap_or_else(|| panic!("{what}: watcher ended"))
}

fn spawn_watcher(
    api: Api<Pod>,
    config: watcher::Config,
) -> tokio::sync::mpsc::UnboundedReceiver<Seen> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        // Backoff: after the cluster is gone, errors must not spin (a task
        // that never yields blocks the runtime's shutdown).
        let mut stream = watcher(api, config).default_backoff().boxed();
        while let Some(event) = stream.next().await {
            let seen = match event {
                Ok(watcher::Event::Apply(p)) => ("Apply", Some(p)),
                Ok(watcher::Event::Delete(p)) => ("Delete", Some(p)),
                Ok(watcher::Event::InitApply(p)) => ("InitApply", Some(p)),
                Ok(watcher::Event::Init) => ("Init", None),
                Ok(watcher::Event::InitDone) => ("InitDone", None),
                Err(e) => {
                    if tx.send(("Error".to_owned(), e.to_string(), None)).is_err() {
                        return;
                    }
                    continue;
                }
            };
            let (kind, pod) = seen;
            let name = pod.as_ref().map(ResourceExt::name_any).unwrap_or_default();
            let label = pod.and_then(|p| p.labels().get("v").cloned());
            if tx.send((kind.to_owned(), name, label)).is_err() {
                return;
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_watcher_on_follower_sees_leader_writes() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let follower = other_than(&cluster, leader);
    let leader_client = client(&cluster, leader);
    let ns = create_namespace(&leader_client, "kube-watcher").await;
    let leader_pods: Api<Pod> = Api::namespaced(leader_client, &ns);
    leader_pods
        .create(&PostParams::default(), &pod("pre", &[("app", "w")]))
        .await
        .unwrap();
    let follower_pods: Api<Pod> = Api::namespaced(client(&cluster, follower), &ns);
    // The classic list+watch strategy and the streaming list
    // (sendInitialEvents) one.
    let strategies = [
        ("list-watch", watcher::Config::default().labels("app=w")),
        (
            "streaming-list",
            watcher::Config::default().labels("app=w").streaming_lists(),
        ),
    ];
    let mut receivers = Vec::new();
    for (name, config) in strategies {
        let mut rx = spawn_watcher(follower_pods.clone(), config);
        let mut init = Vec::new();
        loop {
            let seen = next_seen(&mut rx, name).await;
            if seen.0 == "InitDone" {
                break;
            }
            init.push(seen);
        }
        assert_eq!(
            init,
            [
                ("Init".to_owned(), String::new(), None),
                ("InitApply".to_owned(), "pre".to_owned(), None)
            ],
            "{name}: initial list"
        );
        receivers.push((name, rx));
    }

    leader_pods
        .create(&PostParams::default(), &pod("p1", &[("app", "w")]))
        .await
        .unwrap();
    leader_pods
        .create(&PostParams::default(), &pod("other", &[("app", "x")]))
        .await
        .unwrap();
    leader_pods
        .patch(
            "p1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"v": "2"}}})),
        )
        .await
        .unwrap();
    leader_pods
        .delete("p1", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    for (name, rx) in &mut receivers {
        assert_eq!(
            next_seen(rx, name).await,
            ("Apply".to_owned(), "p1".to_owned(), None),
            "{name}: create"
        );
        assert_eq!(
            next_seen(rx, name).await,
            ("Apply".to_owned(), "p1".to_owned(), Some("2".to_owned())),
            "{name}: label patch"
        );
        // A pod delete may be graceful (MODIFIED with deletionTimestamp
        // first); skip Applies until the Delete.
        loop {
            let seen = next_seen(rx, name).await;
            if seen.0 == "Delete" {
                assert_eq!(seen.1, "p1", "{name}: delete");
                break;
            }
            assert_eq!(
                (seen.0.as_str(), seen.1.as_str()),
                ("Apply", "p1"),
                "{name}: before the delete"
            );
        }
    }
    cluster.check_alive().expect("members stay up");
}

/// What DELETE answers, as kube-apiserver does: a Status (Success, details
/// name/kind/uid) for resources whose registry does not return the deleted
/// object (ConfigMap, Deployment), the object for pods, and the object with
/// deletionTimestamp while finalizers hold it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_delete_answers() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let clients = clients(&cluster, leader);
    let ns = create_namespace(&clients[0].1, "kube-delete").await;
    let cms: Api<ConfigMap> = Api::namespaced(clients[1].1.clone(), &ns);
    let pp = PostParams::default();
    let mut failures = Vec::new();

    let created = cms
        .create(&pp, &config_map("plain", &[], &[]))
        .await
        .unwrap();
    let answer = cms
        .delete("plain", &DeleteParams::default())
        .await
        .expect("delete configmap");
    match answer.as_ref().right() {
        Some(status) => {
            let details = status.details.as_ref();
            let got = (
                status.status,
                details.map(|d| d.name.clone()),
                details.map(|d| d.kind.clone()),
                details.map(|d| d.uid.clone()),
            );
            let want = (
                Some(StatusSummary::Success),
                Some("plain".to_owned()),
                Some("configmaps".to_owned()),
                created.uid(),
            );
            if got != want {
                failures.push(format!(
                    "configmap DELETE Status: got {got:?}, want {want:?}"
                ));
            }
        }
        None => failures.push(format!(
            "DELETE /api/v1/namespaces/{ns}/configmaps/plain answered the object, want a Status \
             {{status: Success, details: {{name, kind: configmaps, uid}}}}: {answer:?}"
        )),
    }

    let pods: Api<Pod> = Api::namespaced(clients[2].1.clone(), &ns);
    pods.create(&pp, &pod("p", &[])).await.unwrap();
    let answer = pods
        .delete("p", &DeleteParams::default().grace_period(0))
        .await
        .expect("delete pod");
    if answer.as_ref().left().is_none_or(|p| p.name_any() != "p") {
        failures.push(format!("pod DELETE answers the pod, got {answer:?}"));
    }

    let finalized = cms
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let answer = cms
        .delete("held", &DeleteParams::default())
        .await
        .expect("delete a configmap with a finalizer");
    match answer.as_ref().left() {
        Some(held) if held.metadata.deletion_timestamp.is_some() => {
            assert!(rv(held) > rv(&finalized), "delete with finalizers is a write");
        }
        _ => failures.push(format!(
            "DELETE of a configmap with finalizers answers it with deletionTimestamp, got {answer:?}"
        )),
    }
    // Removing the last finalizer deletes it.
    let other: Api<ConfigMap> = Api::namespaced(clients[0].1.clone(), &ns);
    other
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .expect("remove the finalizer");
    assert!(
        other.get_opt("held").await.unwrap().is_none(),
        "gone with its finalizers"
    );

    cluster.check_alive().expect("members stay up");
    assert!(
        failures.is_empty(),
        "DELETE answers:\n{}",
        failures.join("\n")
    );
}

/// `/version` and legacy discovery as kube-rs reads them, on every member.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_version_and_discovery() {
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    for (id, c) in clients(&cluster, leader) {
        let version = c
            .apiserver_version()
            .await
            .unwrap_or_else(|e| panic!("GET /version via member {id}: {e}"));
        assert_eq!(
            (version.major.as_str(), version.minor.as_str()),
            ("1", "33")
        );
        let discovery = kube::Discovery::new(c.clone())
            .run()
            .await
            .unwrap_or_else(|e| panic!("legacy discovery via member {id}: {e}"));
        for (group, version, kind, plural, namespaced) in [
            ("", "v1", "ConfigMap", "configmaps", true),
            ("", "v1", "Pod", "pods", true),
            ("", "v1", "Namespace", "namespaces", false),
            ("apps", "v1", "Deployment", "deployments", true),
        ] {
            let gvk = GroupVersionKind::gvk(group, version, kind);
            let (resource, caps) = discovery
                .resolve_gvk(&gvk)
                .unwrap_or_else(|| panic!("member {id}: discovery misses {gvk:?}"));
            assert_eq!(resource.plural, plural);
            assert_eq!(
                caps.scope == kube::discovery::Scope::Namespaced,
                namespaced,
                "{kind} scope"
            );
            for verb in [
                "get", "list", "watch", "create", "update", "patch", "delete",
            ] {
                assert!(
                    caps.supports_operation(verb),
                    "{kind} supports {verb}: {caps:?}"
                );
            }
        }
        // A DynamicObject round trip through the discovered resource.
        let (resource, _) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
            .unwrap();
        let dynamic: Api<kube::core::DynamicObject> =
            Api::namespaced_with(c.clone(), "default", &resource);
        let name = format!("dyn-{id}");
        let mut obj = kube::core::DynamicObject::new(&name, &resource);
        obj.data = json!({"data": {"x": "1"}});
        dynamic
            .create(&PostParams::default(), &obj)
            .await
            .expect("dynamic create");
        let got = dynamic.get(&name).await.expect("dynamic get");
        assert_eq!(got.data["data"]["x"], "1");
    }
    cluster.check_alive().expect("members stay up");
}
