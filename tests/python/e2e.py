"""End-to-end scenarios for raftplane through the official Python client.

Usage: e2e.py SCENARIO KUBECONFIG [KUBECONFIG...]

Each kubeconfig points at one member of the same cluster; scenarios spread
their operations over the members (writes on one, reads and watches on
another). Exit status 0 means every check passed; a failed check raises
with a message naming what was expected and what was seen.

Driven by tests/it/python.rs, which creates the virtualenv with the pinned
`kubernetes` package and a 3-member cluster.
"""

import sys
import threading
import time
import uuid

from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

# Per-request timeout (connect, read) so a hung member fails the scenario
# instead of the whole test run.
TIMEOUT = (5, 30)


def api_client(kubeconfig):
    return config.new_client_from_config(config_file=kubeconfig)


class Members:
    """One ApiClient per member; `m[i]` wraps around."""

    def __init__(self, kubeconfigs):
        self.clients = [api_client(k) for k in kubeconfigs]
        self.hosts = [c.configuration.host for c in self.clients]

    def __getitem__(self, i):
        return self.clients[i % len(self.clients)]

    def core(self, i):
        return client.CoreV1Api(self[i])

    def apps(self, i):
        return client.AppsV1Api(self[i])


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def check_eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def expect_status(code, fn, *args, **kwargs):
    """Calls fn and asserts it raises ApiException with HTTP status `code`."""
    try:
        result = fn(*args, **kwargs)
    except ApiException as e:
        check_eq(e.status, code, f"{fn.__name__} HTTP status (body {e.body})")
        return e
    raise AssertionError(f"{fn.__name__} succeeded ({result!r:.300}); want HTTP {code}")


# Failed checks that did not stop their scenario (see `soft`).
FAILURES = []


def soft(what, fn, *args, **kwargs):
    """Runs a self-contained check; a failure is recorded (the scenario
    fails at the end) and the scenario goes on, so one deviation does not
    hide the next."""
    try:
        return fn(*args, **kwargs)
    except ApiException as e:
        failure = f"{what}: HTTP {e.status} {(e.body or '')[:300]}"
    except AssertionError as e:
        failure = f"{what}: {e}"
    print(f"FAILED: {failure}", flush=True)
    FAILURES.append(failure)
    return None


def step(name):
    print(f"--- {name}", flush=True)


def fresh_namespace(m, prefix):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    m.core(0).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name)),
        _request_timeout=TIMEOUT,
    )
    # Linearizable reads: every member sees the namespace at once.
    for i in range(len(m.clients)):
        m.core(i).read_namespace(name, _request_timeout=TIMEOUT)
    return name


def pod_body(name, labels=None, image="nginx:1.27"):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="app",
                    image=image,
                    ports=[client.V1ContainerPort(container_port=80, name="http")],
                    env=[client.V1EnvVar(name="A", value="1")],
                )
            ]
        ),
    )


def deployment_body(name, replicas=1):
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="web", image="nginx:1.27")]
                ),
            ),
        ),
    )


def wait_gone(read, *args, timeout=10.0):
    """Polls until read(*args) answers 404 (deletion may be graceful)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            read(*args, _request_timeout=TIMEOUT)
        except ApiException as e:
            if e.status == 404:
                return
            raise
        if time.monotonic() > deadline:
            raise AssertionError(f"{read.__name__}{args} still exists after {timeout}s")
        time.sleep(0.1)


# ---------------------------------------------------------------- scenarios


def scenario_crud(m):
    """Create/read/replace/delete of Namespace, ConfigMap, Pod, Deployment,
    each step on a different member."""
    step("namespace create (member 0) and read everywhere")
    ns = fresh_namespace(m, "py-crud")
    got = m.core(1).read_namespace(ns, _request_timeout=TIMEOUT)
    check_eq(got.metadata.name, ns, "namespace name")
    check(got.metadata.uid, "namespace has a uid")
    check(got.metadata.resource_version, "namespace has a resourceVersion")
    check(got.metadata.creation_timestamp is not None, "namespace has a creationTimestamp")
    check_eq(got.status.phase, "Active", "namespace phase")

    step("configmap create/read/replace/delete")
    cm = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm1", labels={"tier": "a"}),
        data={"k": "v"},
    )
    created = m.core(0).create_namespaced_config_map(ns, cm, _request_timeout=TIMEOUT)
    check_eq(created.metadata.namespace, ns, "created configmap namespace")
    check_eq(created.data, {"k": "v"}, "created configmap data")
    check(created.metadata.uid, "configmap uid")
    read = m.core(1).read_namespaced_config_map("cm1", ns, _request_timeout=TIMEOUT)
    check_eq(read.data, {"k": "v"}, "configmap read from member 1")
    check_eq(read.metadata.resource_version, created.metadata.resource_version, "configmap RV")
    check_eq(read.metadata.uid, created.metadata.uid, "configmap uid on member 1")
    read.data = {"k": "v2", "new": "x"}
    replaced = m.core(2).replace_namespaced_config_map("cm1", ns, read, _request_timeout=TIMEOUT)
    check_eq(replaced.data, {"k": "v2", "new": "x"}, "replaced configmap data")
    check(
        int(replaced.metadata.resource_version) > int(created.metadata.resource_version),
        f"replace bumps resourceVersion ({created.metadata.resource_version} -> "
        f"{replaced.metadata.resource_version})",
    )
    check_eq(replaced.metadata.uid, created.metadata.uid, "uid survives replace")
    again = m.core(0).read_namespaced_config_map("cm1", ns, _request_timeout=TIMEOUT)
    check_eq(again.data, {"k": "v2", "new": "x"}, "replaced data read from member 0")
    expect_status(409, m.core(1).create_namespaced_config_map, ns, cm, _request_timeout=TIMEOUT)
    # kube-apiserver answers a ConfigMap DELETE with a Status (Success,
    # details name/kind/uid); only some resources (pods, services)
    # return the deleted object.
    st = m.core(1).delete_namespaced_config_map("cm1", ns, _request_timeout=TIMEOUT)
    soft(
        "DELETE configmap answers a Status", check_eq,
        (st.kind, st.status, st.details and st.details.name, st.details and st.details.uid),
        ("Status", "Success", "cm1", created.metadata.uid),
        "DELETE configmap answer",
    )
    expect_status(404, m.core(2).read_namespaced_config_map, "cm1", ns, _request_timeout=TIMEOUT)

    step("pod create/read/replace/delete")
    pod = m.core(1).create_namespaced_pod(ns, pod_body("p1", {"app": "p"}), _request_timeout=TIMEOUT)
    check_eq(pod.spec.containers[0].image, "nginx:1.27", "pod image")
    read = m.core(2).read_namespaced_pod("p1", ns, _request_timeout=TIMEOUT)
    check_eq(read.metadata.labels, {"app": "p"}, "pod labels")
    read.metadata.labels["extra"] = "yes"
    replaced = m.core(0).replace_namespaced_pod("p1", ns, read, _request_timeout=TIMEOUT)
    check_eq(replaced.metadata.labels, {"app": "p", "extra": "yes"}, "replaced pod labels")
    check_eq(
        m.core(1).read_namespaced_pod("p1", ns, _request_timeout=TIMEOUT).metadata.labels,
        {"app": "p", "extra": "yes"},
        "replaced pod labels on member 1",
    )
    m.core(2).delete_namespaced_pod("p1", ns, grace_period_seconds=0, _request_timeout=TIMEOUT)
    wait_gone(m.core(0).read_namespaced_pod, "p1", ns)

    step("deployment create/read/replace/delete (apps/v1)")
    dep = m.apps(2).create_namespaced_deployment(ns, deployment_body("web", 1), _request_timeout=TIMEOUT)
    check_eq(dep.spec.replicas, 1, "deployment replicas")
    check_eq(dep.metadata.generation, 1, "deployment generation on create")
    read = m.apps(0).read_namespaced_deployment("web", ns, _request_timeout=TIMEOUT)
    read.spec.replicas = 3
    replaced = m.apps(1).replace_namespaced_deployment("web", ns, read, _request_timeout=TIMEOUT)
    check_eq(replaced.spec.replicas, 3, "replaced deployment replicas")
    check_eq(replaced.metadata.generation, 2, "generation bumps on spec change")
    listed = m.apps(2).list_namespaced_deployment(ns, _request_timeout=TIMEOUT)
    check_eq([d.metadata.name for d in listed.items], ["web"], "deployments listed")
    m.apps(0).delete_namespaced_deployment("web", ns, _request_timeout=TIMEOUT)
    wait_gone(m.apps(1).read_namespaced_deployment, "web", ns)

    step("namespace delete")
    m.core(2).delete_namespace(ns, _request_timeout=TIMEOUT)
    # Namespace deletion is graceful (phase Terminating, then gone once the
    # namespace controller empties it); accept either.
    try:
        gone = m.core(0).read_namespace(ns, _request_timeout=TIMEOUT)
        check(
            gone.metadata.deletion_timestamp is not None or gone.status.phase == "Terminating",
            f"namespace after delete is neither gone nor terminating: {gone.status}",
        )
    except ApiException as e:
        check_eq(e.status, 404, "namespace read after delete")


def scenario_selectors_patch(m):
    """list with label_selector; strategic-merge and JSON patches."""
    ns = fresh_namespace(m, "py-sel")
    step("list with label selectors")
    for name, labels in [
        ("a1", {"app": "a", "tier": "front"}),
        ("a2", {"app": "a", "tier": "back"}),
        ("b1", {"app": "b", "tier": "front"}),
    ]:
        m.core(0).create_namespaced_config_map(
            ns,
            client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data={"n": name}),
            _request_timeout=TIMEOUT,
        )

    def names(member, **kw):
        lst = m.core(member).list_namespaced_config_map(ns, _request_timeout=TIMEOUT, **kw)
        return sorted(i.metadata.name for i in lst.items)

    check_eq(names(1, label_selector="app=a"), ["a1", "a2"], "app=a")
    check_eq(names(2, label_selector="app=a,tier=front"), ["a1"], "app=a,tier=front")
    check_eq(names(1, label_selector="app!=a"), ["b1"], "app!=a")
    check_eq(names(2, label_selector="tier in (front)"), ["a1", "b1"], "tier in (front)")
    check_eq(names(0, label_selector="app notin (a,b)"), [], "app notin (a,b)")
    check_eq(names(1, label_selector="tier"), ["a1", "a2", "b1"], "exists tier")
    check_eq(names(2, label_selector="!tier"), [], "!tier")
    check_eq(names(0, field_selector="metadata.name=b1"), ["b1"], "field selector metadata.name")
    lst = m.core(1).list_namespaced_config_map(ns, _request_timeout=TIMEOUT)
    check(lst.metadata.resource_version, "list has a resourceVersion")

    step("strategic merge patch on a configmap (dict body)")
    patched = m.core(1).patch_namespaced_config_map(
        "a1", ns, {"metadata": {"labels": {"patched": "yes"}}, "data": {"extra": "1"}},
        _request_timeout=TIMEOUT,
    )
    check_eq(patched.metadata.labels, {"app": "a", "tier": "front", "patched": "yes"}, "merged labels")
    check_eq(patched.data, {"n": "a1", "extra": "1"}, "merged data")
    check_eq(
        m.core(2).read_namespaced_config_map("a1", ns, _request_timeout=TIMEOUT).data,
        {"n": "a1", "extra": "1"},
        "patched data on member 2",
    )
    patched = m.core(2).patch_namespaced_config_map(
        "a1", ns, {"data": {"extra": None}}, _request_timeout=TIMEOUT
    )
    check_eq(patched.data, {"n": "a1"}, "null deletes a key")

    step("strategic merge patch on a pod: containers merge by name")
    m.core(0).create_namespaced_pod(ns, pod_body("p1", {"app": "p"}), _request_timeout=TIMEOUT)
    # Pod spec is immutable except images (and a few fields), as in
    # kube-apiserver: change the image by container name.
    patched = m.core(1).patch_namespaced_pod(
        "p1", ns,
        {"metadata": {"labels": {"v": "2"}},
         "spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}},
        _request_timeout=TIMEOUT,
    )
    check_eq(len(patched.spec.containers), 1, "containers after SMP (merged by name, not replaced)")
    c = patched.spec.containers[0]
    check_eq(c.image, "nginx:1.28", "image changed by SMP")
    check_eq([(e.name, e.value) for e in c.env], [("A", "1")], "env kept by SMP")
    check_eq([p.container_port for p in c.ports], [80], "ports kept")
    check_eq(patched.metadata.labels, {"app": "p", "v": "2"}, "pod labels merged")
    e = expect_status(
        422, m.core(2).patch_namespaced_pod, "p1", ns,
        {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]}},
        _request_timeout=TIMEOUT,
    )
    check('"Invalid"' in e.body, f"pod spec change other than image is Invalid: {e.body}")

    step("json patch (list body)")
    patched = m.core(2).patch_namespaced_config_map(
        "a2", ns,
        [
            {"op": "add", "path": "/data/j", "value": "jp"},
            {"op": "replace", "path": "/metadata/labels/tier", "value": "mid"},
            {"op": "remove", "path": "/data/n"},
        ],
        _request_timeout=TIMEOUT,
    )
    check_eq(patched.data, {"j": "jp"}, "json patch data")
    check_eq(patched.metadata.labels, {"app": "a", "tier": "mid"}, "json patch labels")
    check_eq(names(0, label_selector="tier=mid"), ["a2"], "selector sees patched label")
    expect_status(
        422, m.core(0).patch_namespaced_config_map, "a2", ns,
        [{"op": "test", "path": "/data/j", "value": "other"}], _request_timeout=TIMEOUT,
    )

    step("deployment strategic merge patch (AppsV1Api)")
    m.apps(0).create_namespaced_deployment(ns, deployment_body("web", 1), _request_timeout=TIMEOUT)
    d = m.apps(1).patch_namespaced_deployment("web", ns, {"spec": {"replicas": 4}}, _request_timeout=TIMEOUT)
    check_eq(d.spec.replicas, 4, "patched replicas")
    check_eq(d.spec.template.spec.containers[0].image, "nginx:1.27", "template kept")
    check_eq(d.metadata.generation, 2, "generation after spec patch")


def scenario_watch(m):
    """watch.Watch().stream(list_namespaced_config_map) on member 1 sees
    ADDED/MODIFIED/DELETED for changes made through members 0 and 2."""
    ns = fresh_namespace(m, "py-watch")
    start = m.core(1).list_namespaced_config_map(ns, _request_timeout=TIMEOUT)
    start_rv = start.metadata.resource_version
    check(start_rv, "list resourceVersion")

    events = []
    errors = []
    ready = threading.Event()
    w = watch.Watch()

    def run():
        try:
            ready.set()
            for ev in w.stream(
                m.core(1).list_namespaced_config_map,
                ns,
                resource_version=start_rv,
                timeout_seconds=30,
                _request_timeout=(5, 60),
            ):
                obj = ev["object"]
                events.append((ev["type"], obj.metadata.name, dict(obj.data or {}),
                               obj.metadata.resource_version))
                if ev["type"] == "DELETED" and obj.metadata.name == "w1":
                    w.stop()
        except Exception as e:  # reported by the main thread
            errors.append(repr(e))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    ready.wait()
    time.sleep(0.5)

    step("changes through members 0 and 2")
    c = m.core(0).create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w1"), data={"v": "1"}),
        _request_timeout=TIMEOUT,
    )
    c.data = {"v": "2"}
    u = m.core(2).replace_namespaced_config_map("w1", ns, c, _request_timeout=TIMEOUT)
    p = m.core(0).patch_namespaced_config_map("w1", ns, {"data": {"v": "3"}}, _request_timeout=TIMEOUT)
    m.core(2).delete_namespaced_config_map("w1", ns, _request_timeout=TIMEOUT)

    t.join(timeout=20)
    check(not t.is_alive(), f"watch did not see DELETED within 20 s; events so far: {events}")
    check(not errors, f"watch failed: {errors}")
    step(f"events: {events}")
    check_eq(
        [(e[0], e[1], e[2]) for e in events],
        [
            ("ADDED", "w1", {"v": "1"}),
            ("MODIFIED", "w1", {"v": "2"}),
            ("MODIFIED", "w1", {"v": "3"}),
            ("DELETED", "w1", {"v": "3"}),
        ],
        "watch events",
    )
    check_eq(events[0][3], c.metadata.resource_version, "ADDED carries the create RV")
    check_eq(events[1][3], u.metadata.resource_version, "MODIFIED carries the replace RV")
    check_eq(events[2][3], p.metadata.resource_version, "MODIFIED carries the patch RV")
    rvs = [int(e[3]) for e in events]
    check(rvs == sorted(rvs) and len(set(rvs)) == len(rvs), f"event RVs strictly increase: {rvs}")

    step("watch without resourceVersion: synthetic ADDED for existing objects")
    m.core(2).create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w2"), data={"v": "x"}),
        _request_timeout=TIMEOUT,
    )
    w2 = watch.Watch()
    seen = []
    for ev in w2.stream(m.core(0).list_namespaced_config_map, ns, timeout_seconds=5,
                        _request_timeout=(5, 30)):
        seen.append((ev["type"], ev["object"].metadata.name))
        w2.stop()
    check_eq(seen, [("ADDED", "w2")], "initial events of a watch without RV")


def scenario_errors(m):
    """409 on a stale resourceVersion replace, 404 reads, 409 on create of
    an existing name."""
    ns = fresh_namespace(m, "py-err")
    step("409 Conflict on stale resourceVersion")
    cm = m.core(0).create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"), data={"v": "0"}),
        _request_timeout=TIMEOUT,
    )
    stale_rv = cm.metadata.resource_version
    cm.data = {"v": "1"}
    m.core(1).replace_namespaced_config_map("c", ns, cm, _request_timeout=TIMEOUT)
    cm.data = {"v": "stale"}
    cm.metadata.resource_version = stale_rv
    e = expect_status(409, m.core(2).replace_namespaced_config_map, "c", ns, cm, _request_timeout=TIMEOUT)
    check('"Conflict"' in e.body, f"409 body has reason Conflict: {e.body}")
    check_eq(
        m.core(0).read_namespaced_config_map("c", ns, _request_timeout=TIMEOUT).data,
        {"v": "1"}, "stale replace left the object alone",
    )

    step("409 AlreadyExists on create of an existing name")
    e = expect_status(
        409, m.core(1).create_namespaced_config_map, ns,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")), _request_timeout=TIMEOUT,
    )
    check('"AlreadyExists"' in e.body, f"409 body has reason AlreadyExists: {e.body}")

    step("404 reads")
    e = expect_status(404, m.core(1).read_namespaced_config_map, "absent", ns, _request_timeout=TIMEOUT)
    check('"NotFound"' in e.body, f"404 body has reason NotFound: {e.body}")
    expect_status(404, m.core(2).read_namespaced_pod, "absent", ns, _request_timeout=TIMEOUT)
    expect_status(404, m.apps(0).read_namespaced_deployment, "absent", ns, _request_timeout=TIMEOUT)
    expect_status(404, m.core(0).read_namespace, "no-such-ns-" + uuid.uuid4().hex[:6],
                  _request_timeout=TIMEOUT)
    expect_status(404, m.core(1).delete_namespaced_config_map, "absent", ns, _request_timeout=TIMEOUT)
    expect_status(404, m.core(2).replace_namespaced_config_map, "absent", ns,
                  client.V1ConfigMap(metadata=client.V1ObjectMeta(name="absent")),
                  _request_timeout=TIMEOUT)


def scenario_discovery(m):
    """/version, /api, /apis through the client's own paths, and the
    DynamicClient's legacy discovery."""
    for i in range(len(m.clients)):
        def version():
            v = client.VersionApi(m[i]).get_code(_request_timeout=TIMEOUT)
            check(v.git_version and v.major and v.minor, f"version info: {v}")

        def api_versions():
            versions = client.CoreApi(m[i]).get_api_versions(_request_timeout=TIMEOUT)
            check("v1" in versions.versions, f"/api versions: {versions.versions}")

        def apis():
            groups = client.ApisApi(m[i]).get_api_versions(_request_timeout=TIMEOUT)
            check("apps" in [g.name for g in groups.groups], f"/apis groups: {groups.groups}")

        def apps_group():
            apps = client.AppsApi(m[i]).get_api_group(_request_timeout=TIMEOUT)
            check_eq(apps.preferred_version.group_version, "apps/v1", "apps preferred version")

        def core_resources():
            res = client.CoreV1Api(m[i]).get_api_resources(_request_timeout=TIMEOUT)
            check("configmaps" in [r.name for r in res.resources], "configmaps in /api/v1")

        for what, fn in [
            ("VersionApi.get_code (GET /version/)", version),
            ("CoreApi.get_api_versions (GET /api/)", api_versions),
            ("ApisApi.get_api_versions (GET /apis/)", apis),
            ("AppsApi.get_api_group (GET /apis/apps/)", apps_group),
            ("CoreV1Api.get_api_resources (GET /api/v1/)", core_resources),
        ]:
            step(f"member {i}: {what}")
            soft(f"member {i}: {what}", fn)

    step("DynamicClient: discovery and CRUD by kind")
    dyn = dynamic.DynamicClient(m[1])
    ns = fresh_namespace(m, "py-dyn")
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    cms.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d1"},
                     "data": {"x": "1"}}, namespace=ns)
    got = dyn.resources.get(api_version="v1", kind="ConfigMap").get(name="d1", namespace=ns)
    check_eq(got.data.x, "1", "dynamic get")
    deps = dynamic.DynamicClient(m[2]).resources.get(api_version="apps/v1", kind="Deployment")
    deps.create(body=client.ApiClient().sanitize_for_serialization(deployment_body("dd")), namespace=ns)
    check_eq([d.metadata.name for d in deps.get(namespace=ns).items], ["dd"], "dynamic list deployments")


SCENARIOS = {
    "crud": scenario_crud,
    "selectors_patch": scenario_selectors_patch,
    "watch": scenario_watch,
    "errors": scenario_errors,
    "discovery": scenario_discovery,
}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} {{{'|'.join(SCENARIOS)}}} KUBECONFIG...", file=sys.stderr)
        return 2
    m = Members(sys.argv[2:])
    print(f"scenario {sys.argv[1]} against {m.hosts}", flush=True)
    started = time.monotonic()
    SCENARIOS[sys.argv[1]](m)
    elapsed = time.monotonic() - started
    if FAILURES:
        print(f"scenario {sys.argv[1]} FAILED ({len(FAILURES)} check(s)) in {elapsed:.1f}s:", flush=True)
        for f in FAILURES:
            print(f"  - {f}", flush=True)
        return 1
    print(f"scenario {sys.argv[1]} passed in {elapsed:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
