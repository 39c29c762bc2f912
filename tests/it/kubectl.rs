//! Stock kubectl (1.32 and 1.33) against a 3-member cluster: every command
//! goes to a member chosen in turn, so a write through one member is read
//! back through another. Covers discovery, create/apply (client- and
//! server-side), get in every output format, describe, label, annotate,
//! the three patch types, replace, scale, watch, delete (with and without
//! finalizers), namespace deletion, cordon, paging, `--raw`, explain and
//! server-side dry run.
//!
//! kubectl is found next to the `kubectl` on PATH (gcloud's dispatcher,
//! which is never run itself: it sends a request of its own first) as
//! `kubectl.1.32` / `kubectl.1.33`, or in `$KUBECTL_DIR`.
//!
//! Assertions on content are collected in [`Checks`] and reported together
//! at the end of a test, so one server bug does not hide the others; a
//! command that must succeed for the rest of the flow to make sense
//! ([`Kubectl::ok`]) fails the test at once.

use std::fmt::Debug;
use std::path::PathBuf;
use std::process::Output;
use std::process::Stdio;
use std::time::Duration;

use raftplane_chaos::harness::Cluster;
use raftplane_chaos::harness::ClusterOptions;
use serde_json::Value;
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::io::BufReader;
use tokio::process::Child;
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::support::start;

/// Bound on one kubectl invocation (watches excepted).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on something asynchronous becoming visible (watch rows, namespace
/// cleanup, a waiting delete returning).
const EVENTUALLY: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// kubectl runner

/// Directory holding `kubectl.1.NN`.
fn kubectl_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUBECTL_DIR") {
        return PathBuf::from(dir);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("kubectl");
        if candidate.is_file() {
            let real = std::fs::canonicalize(&candidate).unwrap_or(candidate);
            return real
                .parent()
                .expect("kubectl has a parent dir")
                .to_path_buf();
        }
    }
    panic!("no kubectl on PATH and KUBECTL_DIR unset");
}

fn kubectl_bin(version: &str) -> PathBuf {
    let bin = kubectl_dir().join(format!("kubectl.{version}"));
    assert!(bin.is_file(), "{} is missing", bin.display());
    bin
}

/// Writes `<dir>/kubeconfig-<id>` pointing at member `id`'s API address:
/// plain HTTP, one context, an empty user.
fn write_kubeconfig(cluster: &Cluster, id: u64) -> PathBuf {
    let addr = cluster.api_addr(id).expect("api addr");
    let path = cluster.dir().join(format!("kubeconfig-{id}"));
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: member-{id}
  cluster:
    server: http://{addr}
contexts:
- name: member-{id}
  context:
    cluster: member-{id}
    user: anonymous
current-context: member-{id}
users:
- name: anonymous
  user: {{}}
"
    );
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

/// One kubectl binary pointed at one member.
struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    cache_dir: PathBuf,
    /// "kubectl 1.32 -> member 2", for messages.
    name: String,
}

/// One `Kubectl` per running member, in member-id order.
fn kubectls(cluster: &Cluster, version: &str) -> Vec<Kubectl> {
    let bin = kubectl_bin(version);
    cluster
        .running_ids()
        .into_iter()
        .map(|id| Kubectl {
            bin: bin.clone(),
            kubeconfig: write_kubeconfig(cluster, id),
            // Discovery is cached per host:port; keep it inside the
            // cluster dir so no run sees another cluster's cache.
            cache_dir: cluster.dir().join(format!("kube-cache-{version}")),
            name: format!("kubectl {version} -> member {id}"),
        })
        .collect()
}

fn show(args: &[&str], out: &Output) -> String {
    format!(
        "`kubectl {}` exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

impl Kubectl {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None).await
    }

    async fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        self.run_with(args, Some(input)).await
    }

    async fn run_with(&self, args: &[&str], input: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: spawning {}: {e}", self.name, self.bin.display()));
        if let Some(input) = input {
            let mut stdin = child.stdin.take().expect("stdin piped");
            stdin
                .write_all(input.as_bytes())
                .await
                .expect("write stdin");
            drop(stdin);
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output()).await {
            Ok(out) => out.expect("kubectl output"),
            Err(_) => panic!(
                "{}: `kubectl {}` did not finish within {COMMAND_TIMEOUT:?}",
                self.name,
                args.join(" ")
            ),
        }
    }

    /// Runs a command that must succeed; returns its stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(out.status.success(), "{}: {}", self.name, show(args, &out));
        stdout(&out)
    }

    /// [`Kubectl::ok`] with `input` on stdin (`-f -`).
    async fn ok_stdin(&self, args: &[&str], input: &str) -> String {
        let out = self.run_stdin(args, input).await;
        assert!(out.status.success(), "{}: {}", self.name, show(args, &out));
        stdout(&out)
    }

    /// `kubectl <args> -o json`, parsed.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.ok(&all).await;
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "{}: `kubectl {}`: bad JSON {e}: {text}",
                self.name,
                all.join(" ")
            )
        })
    }

    /// Starts a long-running kubectl (`get -w`); its stdout lines arrive
    /// on the returned [`Stream`].
    fn spawn(&self, args: &[&str]) -> Stream {
        let mut child = self
            .command(args)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: spawning {}: {e}", self.name, self.bin.display()));
        let out = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Stream {
            child,
            lines: rx,
            seen: Vec::new(),
            what: format!("{}: `kubectl {}`", self.name, args.join(" ")),
        }
    }
}

/// A running kubectl whose stdout is read line by line.
struct Stream {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
    what: String,
}

impl Stream {
    /// The next line (after those already consumed) matching `pred`, or
    /// None after `timeout` or when the process closed its stdout.
    async fn line_matching(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return Some(line);
                    }
                }
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Kills the process; returns everything it wrote (for messages).
    async fn kill(mut self) -> String {
        let _ = self.child.kill().await;
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err).await;
        }
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        format!(
            "{}\n--- stdout ---\n{}\n--- stderr ---\n{err}",
            self.what,
            self.seen.join("\n")
        )
    }

    /// Whether the process exited with success within `timeout`.
    async fn exits_ok_within(&mut self, timeout: Duration) -> Option<bool> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Some(status.expect("wait").success()),
            Err(_) => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Soft assertions

/// Failed checks of one test, reported together by [`Checks::finish`].
struct Checks {
    test: String,
    failures: Vec<String>,
}

impl Checks {
    fn new(test: impl Into<String>) -> Self {
        Self {
            test: test.into(),
            failures: Vec::new(),
        }
    }

    fn that(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            let what = what.into();
            eprintln!("[{}] CHECK FAILED: {what}", self.test);
            self.failures.push(what);
        }
    }

    fn eq<T: PartialEq + Debug>(&mut self, got: T, want: T, what: &str) {
        let ok = got == want;
        self.that(ok, format!("{what}: got {got:?}, want {want:?}"));
    }

    fn contains(&mut self, haystack: &str, needle: &str, what: &str) {
        self.that(
            haystack.contains(needle),
            format!("{what}: {needle:?} not in:\n{haystack}"),
        );
    }

    /// The command succeeded.
    fn succeeded(&mut self, args: &[&str], out: &Output, what: &str) {
        self.that(out.status.success(), format!("{what}: {}", show(args, out)));
    }

    /// The command failed and its stderr contains `needle`.
    fn failed_with(&mut self, args: &[&str], out: &Output, needle: &str, what: &str) {
        self.that(
            !out.status.success() && stderr(out).contains(needle),
            format!(
                "{what}: expected a failure mentioning {needle:?}; {}",
                show(args, out)
            ),
        );
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "[{}] {} check(s) failed:\n- {}",
            self.test,
            self.failures.len(),
            self.failures.join("\n- ")
        );
    }
}

// ---------------------------------------------------------------------------
// Output helpers

/// Whitespace-separated fields of each non-empty line.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// The table row whose first field is `name`.
fn row(text: &str, name: &str) -> Option<Vec<String>> {
    rows(text)
        .into_iter()
        .find(|r| r.first().is_some_and(|f| f == name))
}

/// Lines with runs of whitespace collapsed to one space.
fn normalized(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `-o name` output as a sorted list.
fn names(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// Polls `f` every 200 ms until it returns true or `timeout` passes.
async fn eventually<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn container_images(deploy: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = deploy["spec"]["template"]["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_owned(),
                        c["image"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------
// Manifests

const POD_AND_CONFIGMAP: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web-pod
  labels:
    app: web-pod
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, \"3600\"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: initial
";

fn deployment(image: &str, replicas: u32) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
"
    )
}

fn configmap(name: &str, namespace: &str, data: &[(&str, &str)]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n"
    );
    for (k, v) in data {
        s.push_str(&format!("  {k}: \"{v}\"\n"));
    }
    s
}

fn pod(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n    app: {name}\nspec:\n  containers:\n  - name: main\n    image: busybox:1.36\n"
    )
}

const NODE: &str = "\
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels:
    kubernetes.io/hostname: node-a
";

// ---------------------------------------------------------------------------
// The main flow, once per kubectl version

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kubectl_1_32_core_flow() {
    core_flow("1.32").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kubectl_1_33_core_flow() {
    core_flow("1.33").await;
}

async fn core_flow(version: &str) {
    let (cluster, _leader) = start(ClusterOptions::default()).await;
    let k = kubectls(&cluster, version);
    assert_eq!(k.len(), 3);
    let mut c = Checks::new(format!("kubectl {version} core flow"));

    discovery(&k, &mut c).await;
    create_and_apply(&k, &mut c).await;
    get_formats_and_describe(&k, &mut c).await;
    label_and_annotate(&k, &mut c).await;
    patches(&k, &mut c).await;
    replace(&k, &mut c).await;
    scale(&k, &mut c).await;
    watch(&k, &mut c).await;
    server_side_apply(&k, &mut c).await;
    deletes(&k, &mut c).await;
    namespace_deletion(&k, &mut c).await;

    c.finish();
    drop(cluster);
}

async fn discovery(k: &[Kubectl], c: &mut Checks) {
    let out = k[0].ok(&["api-resources", "--no-headers"]).await;
    c.eq(
        row(&out, "pods"),
        Some(strs(&["pods", "po", "v1", "true", "Pod"])),
        "api-resources: pods row",
    );
    c.eq(
        row(&out, "deployments"),
        Some(strs(&[
            "deployments",
            "deploy",
            "apps/v1",
            "true",
            "Deployment",
        ])),
        "api-resources: deployments row",
    );
    c.eq(
        row(&out, "nodes"),
        Some(strs(&["nodes", "no", "v1", "false", "Node"])),
        "api-resources: nodes row",
    );
    let apps = k[1]
        .ok(&["api-resources", "--api-group=apps", "-o", "name"])
        .await;
    c.contains(&apps, "deployments.apps", "api-resources --api-group=apps");
    let ns = k[2]
        .ok(&["api-resources", "--namespaced=false", "-o", "name"])
        .await;
    c.contains(&ns, "namespaces", "api-resources --namespaced=false");
    c.that(
        !names(&ns).contains(&"pods".to_owned()),
        format!("api-resources --namespaced=false lists pods:\n{ns}"),
    );
    // `get all` needs categories: ["all"]; the kubernetes Service exists
    // from the start.
    let all = k[1].ok(&["get", "all", "-o", "name"]).await;
    c.contains(&all, "service/kubernetes", "get all on a fresh cluster");
    let nss = k[2].ok(&["get", "ns", "-o", "name"]).await;
    for want in [
        "namespace/default",
        "namespace/kube-system",
        "namespace/kube-public",
    ] {
        c.contains(&nss, want, "get ns (shortname)");
    }
}

async fn create_and_apply(k: &[Kubectl], c: &mut Checks) {
    let out = k[0]
        .ok_stdin(&["create", "-f", "-"], POD_AND_CONFIGMAP)
        .await;
    c.eq(
        names(&out),
        strs(&["configmap/settings created", "pod/web-pod created"]),
        "create -f (pod + configmap)",
    );
    let args = ["create", "-f", "-"];
    let dup = k[1].run_stdin(&args, POD_AND_CONFIGMAP).await;
    c.failed_with(
        &args,
        &dup,
        "(AlreadyExists)",
        "create -f of existing objects via another member",
    );
    c.contains(
        &stderr(&dup),
        "pods \"web-pod\" already exists",
        "AlreadyExists message",
    );

    // Client-side apply: create, then change image and replicas through
    // another member, then an unchanged apply.
    let out = k[1]
        .ok_stdin(&["apply", "-f", "-"], &deployment("nginx:1.25", 2))
        .await;
    c.eq(out.trim(), "deployment.apps/web created", "first apply");
    let d = k[2].json(&["get", "deploy", "web"]).await;
    c.eq(
        d["spec"]["replicas"].as_i64(),
        Some(2),
        "replicas after first apply",
    );
    c.eq(
        d["metadata"]["generation"].as_i64(),
        Some(1),
        "generation after create",
    );
    c.that(
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .is_some_and(|a| a.contains("nginx:1.25")),
        format!(
            "last-applied-configuration after first apply: {}",
            d["metadata"]
        ),
    );
    let out = k[2]
        .ok_stdin(&["apply", "-f", "-"], &deployment("nginx:1.26", 3))
        .await;
    c.eq(out.trim(), "deployment.apps/web configured", "second apply");
    let d = k[0].json(&["get", "deployments.apps", "web"]).await;
    c.eq(
        d["spec"]["replicas"].as_i64(),
        Some(3),
        "replicas after second apply",
    );
    c.eq(
        container_images(&d),
        pairs(&[("nginx", "nginx:1.26")]),
        "containers after second apply",
    );
    c.eq(
        d["metadata"]["generation"].as_i64(),
        Some(2),
        "generation after a spec change",
    );
    c.that(
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .is_some_and(|a| a.contains("nginx:1.26") && !a.contains("nginx:1.25")),
        format!(
            "last-applied-configuration after second apply: {}",
            d["metadata"]
        ),
    );
    // Server-side defaults (apps/v1 Deployment defaulting).
    c.eq(
        d["spec"]["strategy"]["type"].as_str(),
        Some("RollingUpdate"),
        "defaulted spec.strategy.type",
    );
    c.eq(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"].as_str(),
        Some("TCP"),
        "defaulted container port protocol",
    );
    let out = k[0]
        .ok_stdin(&["apply", "-f", "-"], &deployment("nginx:1.26", 3))
        .await;
    c.eq(
        out.trim(),
        "deployment.apps/web unchanged",
        "third (identical) apply",
    );

    let all = k[1].ok(&["get", "all", "-o", "name"]).await;
    for want in ["pod/web-pod", "deployment.apps/web", "service/kubernetes"] {
        c.contains(&all, want, "get all after creating objects");
    }
}

async fn get_formats_and_describe(k: &[Kubectl], c: &mut Checks) {
    // JSON from every member agrees.
    let mut uids = Vec::new();
    for kc in k {
        let p = kc.json(&["get", "pod", "web-pod"]).await;
        c.eq(p["kind"].as_str(), Some("Pod"), "get -o json kind");
        c.eq(
            p["apiVersion"].as_str(),
            Some("v1"),
            "get -o json apiVersion",
        );
        c.eq(
            p["metadata"]["namespace"].as_str(),
            Some("default"),
            "pod namespace",
        );
        c.eq(
            p["spec"]["containers"][0]["image"].as_str(),
            Some("busybox:1.36"),
            "pod image",
        );
        c.that(
            p["metadata"]["resourceVersion"]
                .as_str()
                .is_some_and(|rv| rv.parse::<u64>().is_ok()),
            format!("resourceVersion is a decimal string: {}", p["metadata"]),
        );
        c.that(
            p["metadata"]["creationTimestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            format!("creationTimestamp: {}", p["metadata"]),
        );
        uids.push(p["metadata"]["uid"].as_str().unwrap_or_default().to_owned());
    }
    c.that(
        !uids[0].is_empty() && uids.iter().all(|u| *u == uids[0]),
        format!("same uid on every member: {uids:?}"),
    );

    let yaml = k[1].ok(&["get", "pod", "web-pod", "-o", "yaml"]).await;
    for want in [
        "kind: Pod",
        "name: web-pod",
        "image: busybox:1.36",
        "apiVersion: v1",
    ] {
        c.contains(&yaml, want, "get -o yaml");
    }
    let list = k[2].json(&["get", "pods"]).await;
    c.eq(list["kind"].as_str(), Some("List"), "get pods -o json kind");
    c.eq(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "get pods -o json items",
    );

    // Tables.
    let table = k[0].ok(&["get", "po"]).await;
    let lines = rows(&table);
    c.eq(
        lines.first().cloned(),
        Some(strs(&["NAME", "READY", "STATUS", "RESTARTS", "AGE"])),
        "get po header",
    );
    c.eq(
        row(&table, "web-pod").map(|r| r[..4].to_vec()),
        Some(strs(&["web-pod", "0/1", "Pending", "0"])),
        "get po row",
    );
    let wide = k[1].ok(&["get", "pods", "-o", "wide"]).await;
    c.contains(
        &normalized(&wide),
        "NOMINATED NODE",
        "get pods -o wide header",
    );
    c.that(
        row(&wide, "web-pod").is_some(),
        format!("get pods -o wide row:\n{wide}"),
    );
    let wide = k[2].ok(&["get", "deploy", "-o", "wide"]).await;
    c.contains(
        &normalized(&wide),
        "CONTAINERS IMAGES SELECTOR",
        "get deploy -o wide header",
    );
    let r = row(&wide, "web").unwrap_or_default();
    c.that(
        r.contains(&"nginx:1.26".to_owned()) && r.contains(&"app=web".to_owned()),
        format!("get deploy -o wide row (image, selector):\n{wide}"),
    );
    c.that(
        r.get(1).is_some_and(|ready| ready.ends_with("/3")),
        format!("get deploy READY column is x/3:\n{wide}"),
    );

    // describe
    let d = normalized(&k[0].ok(&["describe", "pod", "web-pod"]).await);
    for want in [
        "Name: web-pod",
        "Namespace: default",
        "Status: Pending",
        "Image: busybox:1.36",
        "Labels: app=web-pod",
    ] {
        c.contains(&d, want, "describe pod");
    }
    let d = normalized(&k[1].ok(&["describe", "deployment", "web"]).await);
    for want in [
        "Name: web",
        "Selector: app=web",
        "Replicas: 3 desired",
        "Image: nginx:1.26",
        "StrategyType: RollingUpdate",
    ] {
        c.contains(&d, want, "describe deployment");
    }
}

async fn label_and_annotate(k: &[Kubectl], c: &mut Checks) {
    let out = k[1].ok(&["label", "pod", "web-pod", "tier=backend"]).await;
    c.eq(out.trim(), "pod/web-pod labeled", "label");
    let out = k[2].ok(&["annotate", "pod", "web-pod", "note=hello"]).await;
    c.eq(out.trim(), "pod/web-pod annotated", "annotate");
    let p = k[0].json(&["get", "pod", "web-pod"]).await;
    c.eq(
        p["metadata"]["labels"]["tier"].as_str(),
        Some("backend"),
        "label landed",
    );
    c.eq(
        p["metadata"]["annotations"]["note"].as_str(),
        Some("hello"),
        "annotation landed",
    );

    let args = ["label", "pod", "web-pod", "tier=frontend"];
    let out = k[0].run(&args).await;
    c.failed_with(
        &args,
        &out,
        "--overwrite is false",
        "label without --overwrite",
    );
    k[0].ok(&["label", "pod", "web-pod", "tier=frontend", "--overwrite"])
        .await;
    k[1].ok(&["label", "pod", "web-pod", "app-"]).await;
    k[2].ok(&["annotate", "pod", "web-pod", "note-"]).await;
    let p = k[0].json(&["get", "pod", "web-pod"]).await;
    c.eq(
        p["metadata"]["labels"].clone(),
        json!({"tier": "frontend"}),
        "labels after overwrite and removal",
    );
    c.that(
        p["metadata"]["annotations"].get("note").is_none(),
        format!("annotation removed: {}", p["metadata"]),
    );
    // Label selectors and -L.
    let sel = k[1]
        .ok(&["get", "pods", "-l", "tier=frontend", "-o", "name"])
        .await;
    c.eq(names(&sel), strs(&["pod/web-pod"]), "get -l tier=frontend");
    let sel = k[2]
        .ok(&["get", "pods", "-l", "tier in (backend,nope)", "-o", "name"])
        .await;
    c.eq(
        names(&sel),
        Vec::<String>::new(),
        "get -l tier in (backend,nope)",
    );
    let cols = k[0]
        .ok(&["get", "pods", "-L", "tier", "--no-headers"])
        .await;
    c.eq(
        row(&cols, "web-pod").and_then(|r| r.last().cloned()),
        Some("frontend".to_owned()),
        "get -L tier column",
    );
}

async fn patches(k: &[Kubectl], c: &mut Checks) {
    // Strategic merge: containers merge by name.
    let out = k[0]
        .ok(&[
            "patch",
            "deploy",
            "web",
            "--type=strategic",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}"#,
        ])
        .await;
    c.eq(
        out.trim(),
        "deployment.apps/web patched",
        "strategic patch output",
    );
    let d = k[1].json(&["get", "deploy", "web"]).await;
    c.eq(
        container_images(&d),
        pairs(&[("nginx", "nginx:1.26"), ("sidecar", "busybox:1.36")]),
        "strategic patch adds a container, keeps the other",
    );
    k[1].ok(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}"#,
    ])
    .await;
    let d = k[2].json(&["get", "deploy", "web"]).await;
    c.eq(
        container_images(&d),
        pairs(&[("nginx", "nginx:1.27"), ("sidecar", "busybox:1.36")]),
        "strategic patch (default type) updates a container by name",
    );
    k[2].ok(&[
        "patch",
        "deploy",
        "web",
        "--type=strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#,
    ])
    .await;
    let d = k[0].json(&["get", "deploy", "web"]).await;
    c.eq(
        container_images(&d),
        pairs(&[("nginx", "nginx:1.27")]),
        "strategic patch $patch: delete",
    );

    // JSON merge patch: replaces lists, null deletes.
    k[0].ok(&[
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"patched":"merge"}},"spec":{"minReadySeconds":5}}"#,
    ])
    .await;
    let d = k[1].json(&["get", "deploy", "web"]).await;
    c.eq(
        d["spec"]["minReadySeconds"].as_i64(),
        Some(5),
        "merge patch minReadySeconds",
    );
    c.eq(
        d["metadata"]["labels"]["patched"].as_str(),
        Some("merge"),
        "merge patch label",
    );
    k[1].ok(&[
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"patched":null}}}"#,
    ])
    .await;
    let d = k[2].json(&["get", "deploy", "web"]).await;
    c.that(
        d["metadata"]["labels"].get("patched").is_none(),
        format!(
            "merge patch null removes the label: {}",
            d["metadata"]["labels"]
        ),
    );

    // JSON patch.
    k[2].ok(&[
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.28"},{"op":"add","path":"/metadata/labels/patched","value":"json"}]"#,
    ])
    .await;
    let d = k[0].json(&["get", "deploy", "web"]).await;
    c.eq(
        container_images(&d),
        pairs(&[("nginx", "nginx:1.28")]),
        "json patch replace image",
    );
    c.eq(
        d["metadata"]["labels"]["patched"].as_str(),
        Some("json"),
        "json patch add label",
    );
    let rv = d["metadata"]["resourceVersion"].clone();
    let args = [
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/spec/replicas","value":99},{"op":"replace","path":"/spec/replicas","value":1}]"#,
    ];
    let out = k[0].run(&args).await;
    c.that(
        !out.status.success(),
        format!("json patch with a failing test op: {}", show(&args, &out)),
    );
    let d = k[1].json(&["get", "deploy", "web"]).await;
    c.eq(
        d["spec"]["replicas"].as_i64(),
        Some(3),
        "failed json patch changed nothing",
    );
    c.eq(
        d["metadata"]["resourceVersion"].clone(),
        rv,
        "failed json patch: same resourceVersion",
    );
}

async fn replace(k: &[Kubectl], c: &mut Checks) {
    let mut cm = k[0].json(&["get", "cm", "settings"]).await;
    let stale = cm.to_string();
    cm["data"]["mode"] = json!("replaced");
    let out = k[1]
        .ok_stdin(&["replace", "-f", "-"], &cm.to_string())
        .await;
    c.eq(out.trim(), "configmap/settings replaced", "replace output");
    let got = k[2].json(&["get", "configmap", "settings"]).await;
    c.eq(
        got["data"]["mode"].as_str(),
        Some("replaced"),
        "replace landed",
    );
    // The first copy's resourceVersion is stale now: 409 Conflict.
    let args = ["replace", "-f", "-"];
    let out = k[2].run_stdin(&args, &stale).await;
    c.failed_with(
        &args,
        &out,
        "(Conflict)",
        "replace with a stale resourceVersion",
    );
    let got = k[0].json(&["get", "configmap", "settings"]).await;
    c.eq(
        got["data"]["mode"].as_str(),
        Some("replaced"),
        "conflicting replace changed nothing",
    );
    // --force: delete and re-create.
    let mut forced = got.clone();
    forced["data"]["mode"] = json!("forced");
    let out = k[0]
        .ok_stdin(&["replace", "--force", "-f", "-"], &forced.to_string())
        .await;
    c.contains(
        &out,
        "configmap/settings replaced",
        "replace --force output",
    );
    let after = k[1].json(&["get", "configmap", "settings"]).await;
    c.eq(
        after["data"]["mode"].as_str(),
        Some("forced"),
        "replace --force landed",
    );
    c.that(
        after["metadata"]["uid"] != got["metadata"]["uid"],
        "replace --force re-created the object (new uid)",
    );
}

async fn scale(k: &[Kubectl], c: &mut Checks) {
    let out = k[1].ok(&["scale", "deploy", "web", "--replicas=5"]).await;
    c.eq(out.trim(), "deployment.apps/web scaled", "scale output");
    let d = k[2].json(&["get", "deploy", "web"]).await;
    c.eq(
        d["spec"]["replicas"].as_i64(),
        Some(5),
        "replicas after scale",
    );
    let s = k[0]
        .json(&["get", "deploy", "web", "--subresource=scale"])
        .await;
    c.eq(s["kind"].as_str(), Some("Scale"), "scale subresource kind");
    c.eq(
        s["apiVersion"].as_str(),
        Some("autoscaling/v1"),
        "scale subresource apiVersion",
    );
    c.eq(
        s["spec"]["replicas"].as_i64(),
        Some(5),
        "scale subresource spec.replicas",
    );
    let args = [
        "scale",
        "deploy",
        "web",
        "--replicas=1",
        "--current-replicas=4",
    ];
    let out = k[0].run(&args).await;
    c.that(
        !out.status.success(),
        format!(
            "scale with a wrong --current-replicas: {}",
            show(&args, &out)
        ),
    );
    let d = k[1].json(&["get", "deploy", "web"]).await;
    c.eq(
        d["spec"]["replicas"].as_i64(),
        Some(5),
        "replicas after a refused scale",
    );
}

async fn watch(k: &[Kubectl], c: &mut Checks) {
    let mut w = k[1].spawn(&["get", "pods", "-w", "--output-watch-events", "-L", "stage"]);
    // The initial list.
    let first = w
        .line_matching(EVENTUALLY, |l| {
            l.split_whitespace().nth(1) == Some("web-pod")
        })
        .await;
    if first.is_none() {
        let log = w.kill().await;
        c.that(false, format!("get -w: no initial row for web-pod: {log}"));
        return;
    }
    // A change through another member shows as MODIFIED with the label.
    k[2].ok(&["label", "pod", "web-pod", "stage=watched"]).await;
    let modified = w
        .line_matching(EVENTUALLY, |l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.first() == Some(&"MODIFIED")
                && f.get(1) == Some(&"web-pod")
                && f.last() == Some(&"watched")
        })
        .await;
    // A new object through a third member shows as ADDED.
    k[0].ok_stdin(&["create", "-f", "-"], &pod("watched-pod", "default"))
        .await;
    let added = w
        .line_matching(EVENTUALLY, |l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.first() == Some(&"ADDED") && f.get(1) == Some(&"watched-pod")
        })
        .await;
    k[2].ok(&["delete", "pod", "watched-pod"]).await;
    let deleted = w
        .line_matching(EVENTUALLY, |l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.first() == Some(&"DELETED") && f.get(1) == Some(&"watched-pod")
        })
        .await;
    let log = w.kill().await;
    c.that(
        modified.is_some(),
        format!("get -w: MODIFIED row with stage=watched: {log}"),
    );
    c.that(
        added.is_some(),
        format!("get -w: ADDED row for watched-pod: {log}"),
    );
    c.that(
        deleted.is_some(),
        format!("get -w: DELETED row for watched-pod: {log}"),
    );

    // Plain `get -w` on a single object (no event column).
    let mut w = k[0].spawn(&["get", "deploy", "web", "-w", "--no-headers"]);
    let initial = w.line_matching(EVENTUALLY, |l| l.starts_with("web ")).await;
    k[1].ok(&["scale", "deploy", "web", "--replicas=6"]).await;
    let row = w
        .line_matching(EVENTUALLY, |l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|r| r.ends_with("/6"))
        })
        .await;
    let log = w.kill().await;
    c.that(
        initial.is_some() && row.is_some(),
        format!("get deploy web -w shows the scaled row (READY x/6): {log}"),
    );
}

async fn server_side_apply(k: &[Kubectl], c: &mut Checks) {
    let out = k[0]
        .ok_stdin(
            &["apply", "--server-side", "-f", "-"],
            &configmap("ssa", "default", &[("a", "1")]),
        )
        .await;
    c.eq(
        out.trim(),
        "configmap/ssa serverside-applied",
        "apply --server-side (create)",
    );
    let out = k[1]
        .ok_stdin(
            &["apply", "--server-side", "-f", "-"],
            &configmap("ssa", "default", &[("a", "2"), ("b", "3")]),
        )
        .await;
    c.eq(
        out.trim(),
        "configmap/ssa serverside-applied",
        "apply --server-side (update)",
    );
    let cm = k[2]
        .json(&["get", "cm", "ssa", "--show-managed-fields"])
        .await;
    c.eq(
        cm["data"].clone(),
        json!({"a": "2", "b": "3"}),
        "apply --server-side change landed",
    );
    let managers: Vec<(String, String)> = cm["metadata"]["managedFields"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap_or_default().to_owned(),
                        e["operation"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    c.eq(
        managers,
        pairs(&[("kubectl", "Apply")]),
        "managedFields after apply --server-side",
    );
    // A second manager changing a field the first owns: conflict.
    let args = ["apply", "--server-side", "--field-manager=other", "-f", "-"];
    let input = configmap("ssa", "default", &[("a", "other")]);
    let out = k[2].run_stdin(&args, &input).await;
    c.failed_with(
        &args,
        &out,
        "conflict",
        "apply --server-side by another manager on an owned field",
    );
    let cm = k[0].json(&["get", "cm", "ssa"]).await;
    c.eq(
        cm["data"]["a"].as_str(),
        Some("2"),
        "value after a conflicting apply",
    );
    let args = [
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        "-",
    ];
    let out = k[2].run_stdin(&args, &input).await;
    c.succeeded(&args, &out, "apply --server-side --force-conflicts");
    let cm = k[1].json(&["get", "cm", "ssa"]).await;
    c.eq(
        cm["data"]["a"].as_str(),
        Some("other"),
        "value after --force-conflicts",
    );
}

async fn deletes(k: &[Kubectl], c: &mut Checks) {
    let out = k[2].ok(&["delete", "pod", "web-pod", "--wait"]).await;
    c.eq(
        out.trim(),
        "pod \"web-pod\" deleted",
        "delete --wait output",
    );
    let args = ["get", "pod", "web-pod"];
    for kc in k {
        let out = kc.run(&args).await;
        c.failed_with(&args, &out, "(NotFound)", "deleted pod on every member");
    }
    let out = k[0].ok(&["delete", "deploy", "web"]).await;
    c.eq(
        out.trim(),
        "deployment.apps \"web\" deleted",
        "delete deployment",
    );
    let left = k[1].ok(&["get", "deploy", "-o", "name"]).await;
    c.eq(left.trim(), "", "no deployments left");

    // A finalizer holds the object: `delete` (waiting) returns only once
    // the finalizer is removed through another member.
    let held = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  finalizers: [example.com/hold]
data:
  a: \"1\"
";
    k[0].ok_stdin(&["create", "-f", "-"], held).await;
    let mut del = k[1].spawn(&["delete", "cm", "held", "--wait=true", "--timeout=60s"]);
    let exited_early = del.exits_ok_within(Duration::from_millis(1500)).await;
    c.that(
        exited_early.is_none(),
        format!("delete --wait returned while a finalizer holds the object: {exited_early:?}"),
    );
    let cm = k[2].json(&["get", "cm", "held"]).await;
    c.that(
        cm["metadata"]["deletionTimestamp"].is_string(),
        format!("deletionTimestamp set on a held object: {}", cm["metadata"]),
    );
    k[2].ok(&[
        "patch",
        "cm",
        "held",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ])
    .await;
    let exited = del.exits_ok_within(EVENTUALLY).await;
    let log = del.kill().await;
    c.eq(
        exited,
        Some(true),
        &format!("delete --wait returns after the finalizer goes: {log}"),
    );
    let args = ["get", "cm", "held"];
    let out = k[0].run(&args).await;
    c.failed_with(&args, &out, "(NotFound)", "finalized object is gone");
}

async fn namespace_deletion(k: &[Kubectl], c: &mut Checks) {
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n---\n{}---\n{}---\n{}",
        configmap("one", "team", &[("k", "1")]),
        configmap("two", "team", &[("k", "2")]),
        pod("worker", "team"),
    );
    let out = k[0].ok_stdin(&["apply", "-f", "-"], &manifest).await;
    c.eq(
        names(&out),
        strs(&[
            "configmap/one created",
            "configmap/two created",
            "namespace/team created",
            "pod/worker created",
        ]),
        "apply into a new namespace",
    );
    let cms = k[1].ok(&["get", "cm", "-n", "team", "-o", "name"]).await;
    c.eq(
        names(&cms),
        strs(&["configmap/one", "configmap/two"]),
        "configmaps in team",
    );
    let all = k[2].ok(&["get", "cm,pods", "-A", "-o", "name"]).await;
    c.contains(&all, "pod/worker", "get -A lists the namespaced pod");

    let out = k[2].ok(&["delete", "namespace", "team"]).await;
    c.eq(out.trim(), "namespace \"team\" deleted", "delete namespace");
    let gone = eventually(EVENTUALLY, || async {
        let out = k[0].run(&["get", "namespace", "team"]).await;
        !out.status.success() && stderr(&out).contains("(NotFound)")
    })
    .await;
    c.that(gone, "namespace team is eventually gone");
    let emptied = eventually(EVENTUALLY, || async {
        let out = k[1]
            .run(&["get", "cm,pods", "-n", "team", "-o", "name"])
            .await;
        out.status.success() && stdout(&out).trim().is_empty()
    })
    .await;
    let left = k[1]
        .run(&["get", "cm,pods", "-n", "team", "-o", "name"])
        .await;
    c.that(
        emptied,
        format!(
            "objects of a deleted namespace are eventually gone: {}",
            stdout(&left)
        ),
    );
    let other = k[2].ok(&["get", "cm", "-n", "default", "-o", "name"]).await;
    c.contains(
        &other,
        "configmap/ssa",
        "objects in other namespaces survive",
    );
}

// ---------------------------------------------------------------------------
// Nodes, paging, raw paths, imperative creates; both versions on one cluster

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kubectl_cordon_paging_raw() {
    let (cluster, _leader) = start(ClusterOptions::default()).await;
    let mut c = Checks::new("kubectl cordon/paging/raw");
    let v32 = kubectls(&cluster, "1.32");
    let v33 = kubectls(&cluster, "1.33");

    // A Node from a manifest, cordoned and uncordoned by each version
    // through different members.
    let out = v32[0].ok_stdin(&["create", "-f", "-"], NODE).await;
    c.eq(out.trim(), "node/node-a created", "create node");
    for (k, version) in [(&v32, "1.32"), (&v33, "1.33")] {
        let out = k[1].ok(&["cordon", "node-a"]).await;
        c.eq(
            out.trim(),
            "node/node-a cordoned",
            &format!("{version} cordon"),
        );
        let n = k[2].json(&["get", "node", "node-a"]).await;
        c.eq(
            n["spec"]["unschedulable"].as_bool(),
            Some(true),
            &format!("{version} spec.unschedulable after cordon"),
        );
        let t = k[0].ok(&["get", "nodes", "--no-headers"]).await;
        c.that(
            row(&t, "node-a").is_some_and(|r| r[1].split(',').any(|s| s == "SchedulingDisabled")),
            format!("{version} STATUS shows SchedulingDisabled:\n{t}"),
        );
        let out = k[0].ok(&["cordon", "node-a"]).await;
        c.contains(
            &out,
            "already cordoned",
            &format!("{version} second cordon"),
        );
        let out = k[2].ok(&["uncordon", "node-a"]).await;
        c.eq(
            out.trim(),
            "node/node-a uncordoned",
            &format!("{version} uncordon"),
        );
        let n = k[0].json(&["get", "no", "node-a"]).await;
        c.that(
            !n["spec"]["unschedulable"].as_bool().unwrap_or(false),
            format!("{version} spec.unschedulable after uncordon: {}", n["spec"]),
        );
        let t = k[1].ok(&["get", "nodes", "--no-headers"]).await;
        c.that(
            row(&t, "node-a").is_some_and(|r| !r[1].contains("SchedulingDisabled")),
            format!("{version} STATUS without SchedulingDisabled after uncordon:\n{t}"),
        );
    }

    // /readyz?verbose on every member.
    for (k, version) in [(&v32, "1.32"), (&v33, "1.33")] {
        for kc in k.iter() {
            let out = kc.ok(&["get", "--raw", "/readyz?verbose"]).await;
            c.contains(
                &out,
                "readyz check passed",
                &format!("{version} {}: /readyz?verbose", kc.name),
            );
        }
    }
    let raw = v33[1]
        .ok(&["get", "--raw", "/api/v1/namespaces/default"])
        .await;
    let ns: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    c.eq(
        ns["metadata"]["name"].as_str(),
        Some("default"),
        "get --raw of an object",
    );

    // Paging: 7 configmaps, chunks of 2.
    let mut manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: paging\n".to_owned();
    for i in 1..=7 {
        manifest.push_str("---\n");
        manifest.push_str(&configmap(
            &format!("cm{i}"),
            "paging",
            &[("k", &i.to_string())],
        ));
    }
    v33[0].ok_stdin(&["apply", "-f", "-"], &manifest).await;
    let want: Vec<String> = (1..=7).map(|i| format!("configmap/cm{i}")).collect();
    for (k, version) in [(&v32, "1.32"), (&v33, "1.33")] {
        for (i, kc) in k.iter().enumerate() {
            let args = [
                "get",
                "cm",
                "-n",
                "paging",
                "--chunk-size=2",
                "-o",
                "name",
                "-v=6",
            ];
            let out = kc.run(&args).await;
            let what = format!("{version} {}: paging", kc.name);
            c.succeeded(&args, &out, &what);
            c.eq(
                names(&stdout(&out)),
                want.clone(),
                &format!("{what}: all listed"),
            );
            let lists: Vec<String> = stderr(&out)
                .lines()
                .filter(|l| l.contains("/namespaces/paging/configmaps?"))
                .map(str::to_owned)
                .collect();
            c.eq(
                lists.len(),
                4,
                &format!("{what}: 4 list requests for 7 items: {lists:#?}"),
            );
            c.that(
                lists.iter().all(|l| l.contains("limit=2")),
                format!("{what}: every request has limit=2: {lists:#?}"),
            );
            c.eq(
                lists.iter().filter(|l| l.contains("continue=")).count(),
                3,
                &format!("{what}: continue tokens used: {lists:#?}"),
            );
            if i == 0 {
                // Table output over pages: one header, seven rows.
                let t = kc
                    .ok(&["get", "cm", "-n", "paging", "--chunk-size=2"])
                    .await;
                let r = rows(&t);
                c.eq(
                    r.iter().filter(|r| r[0] == "NAME").count(),
                    1,
                    &format!("{version}: one header over pages:\n{t}"),
                );
                c.eq(
                    r.len(),
                    8,
                    &format!("{version}: seven rows over pages:\n{t}"),
                );
            }
        }
    }

    // Imperative generators (typed clientset: protobuf request bodies).
    for (k, version) in [(&v32, "1.32"), (&v33, "1.33")] {
        let ns = format!("imperative-{}", version.replace('.', "-"));
        let args = ["create", "namespace", ns.as_str()];
        let out = k[1].run(&args).await;
        c.succeeded(
            &args,
            &out,
            &format!("{version}: imperative create namespace"),
        );
        let args = [
            "create",
            "configmap",
            "imperative",
            "-n",
            "default",
            "--from-literal=a=b",
        ];
        let out = k[2].run(&args).await;
        c.succeeded(
            &args,
            &out,
            &format!("{version}: imperative create configmap"),
        );
        if out.status.success() {
            k[0].ok(&["delete", "cm", "imperative"]).await;
        }
    }

    c.finish();
    drop(cluster);
}

// ---------------------------------------------------------------------------
// explain and server-side dry run; both versions on one cluster

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kubectl_explain_and_dry_run() {
    let (cluster, _leader) = start(ClusterOptions::default()).await;
    let mut c = Checks::new("kubectl explain/dry-run");
    let v32 = kubectls(&cluster, "1.32");
    let v33 = kubectls(&cluster, "1.33");

    for (k, version) in [(&v32, "1.32"), (&v33, "1.33")] {
        let e = normalized(&k[0].ok(&["explain", "pods.spec"]).await);
        for want in [
            "KIND: Pod",
            "VERSION: v1",
            "FIELD: spec <PodSpec>",
            "containers <[]Container> -required-",
            "restartPolicy <string>",
        ] {
            c.contains(&e, want, &format!("{version} explain pods.spec"));
        }
        let e = normalized(
            &k[1]
                .ok(&["explain", "deployments.spec.template.spec.containers"])
                .await,
        );
        for want in [
            "GROUP: apps",
            "KIND: Deployment",
            "VERSION: v1",
            "FIELD: containers <[]Container>",
            "image <string>",
            "name <string> -required-",
        ] {
            c.contains(
                &e,
                want,
                &format!("{version} explain deployments.spec.template.spec.containers"),
            );
        }
        let args = ["explain", "pods.spec.nosuchfield"];
        let out = k[2].run(&args).await;
        c.that(
            !out.status.success(),
            format!(
                "{version} explain of a missing field fails: {}",
                show(&args, &out)
            ),
        );
    }

    // Objects that exist before the dry runs.
    v32[0]
        .ok_stdin(
            &["create", "-f", "-"],
            &format!(
                "{}---\n{}",
                pod("keep", "default"),
                configmap("keep", "default", &[("a", "1")])
            ),
        )
        .await;
    v32[0]
        .ok_stdin(&["apply", "-f", "-"], &deployment("nginx:1.25", 2))
        .await;

    for (k, version) in [(&v32, "1.32"), (&v33, "1.33")] {
        // create: nothing persisted, on any member.
        let name = format!("dry-{}", version.replace('.', "-"));
        let out = k[0]
            .ok_stdin(
                &["create", "-f", "-", "--dry-run=server"],
                &pod(&name, "default"),
            )
            .await;
        c.eq(
            out.trim().to_owned(),
            format!("pod/{name} created (server dry run)"),
            &format!("{version} create --dry-run=server output"),
        );
        for kc in k.iter() {
            let args = ["get", "pod", name.as_str()];
            let out = kc.run(&args).await;
            c.failed_with(
                &args,
                &out,
                "(NotFound)",
                &format!("{version} dry-run create persisted nothing"),
            );
        }
        // A dry-run create returns the defaulted object.
        let d = k[1]
            .ok_stdin(
                &["create", "-f", "-", "--dry-run=server", "-o", "json"],
                &deployment("nginx:1.25", 1).replace("name: web", "name: dry-web"),
            )
            .await;
        let d: Value = serde_json::from_str(&d).unwrap_or(Value::Null);
        c.eq(
            d["spec"]["strategy"]["type"].as_str(),
            Some("RollingUpdate"),
            &format!("{version} dry-run create returns the defaulted object"),
        );
        let args = ["get", "deploy", "dry-web"];
        let out = k[2].run(&args).await;
        c.failed_with(
            &args,
            &out,
            "(NotFound)",
            &format!("{version} dry-run deployment not persisted"),
        );

        // create of an existing object: AlreadyExists even in dry run.
        let args = ["create", "-f", "-", "--dry-run=server"];
        let out = k[1].run_stdin(&args, &pod("keep", "default")).await;
        c.failed_with(
            &args,
            &out,
            "(AlreadyExists)",
            &format!("{version} dry-run create of an existing pod"),
        );

        // delete: still there afterwards.
        let before = k[0].json(&["get", "pod", "keep"]).await;
        let args = ["delete", "pod", "keep", "--dry-run=server"];
        let out = k[1].run(&args).await;
        c.succeeded(&args, &out, &format!("{version} delete --dry-run=server"));
        c.eq(
            stdout(&out).trim(),
            "pod \"keep\" deleted (server dry run)",
            &format!("{version} delete --dry-run=server output"),
        );
        for kc in k.iter() {
            let args = ["get", "pod", "keep", "-o", "json"];
            let out = kc.run(&args).await;
            let after: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            c.that(
                out.status.success() && after["metadata"]["uid"] == before["metadata"]["uid"],
                format!(
                    "{version} pod survives delete --dry-run=server ({}): {}",
                    kc.name,
                    show(&args, &out)
                ),
            );
        }
        // Recreate it if the dry run really deleted it, so later checks
        // test what they name.
        if !k[0].run(&["get", "pod", "keep"]).await.status.success() {
            k[0].ok_stdin(&["create", "-f", "-"], &pod("keep", "default"))
                .await;
        }

        // apply (client- and server-side), patch, scale, label: unchanged.
        let out = k[2]
            .ok_stdin(
                &["apply", "-f", "-", "--dry-run=server"],
                &deployment("nginx:9.9", 7),
            )
            .await;
        c.eq(
            out.trim(),
            "deployment.apps/web configured (server dry run)",
            &format!("{version} apply --dry-run=server output"),
        );
        // The configmap was made by `kubectl create`: its data belongs to
        // the kubectl-create manager, so taking it over needs
        // --force-conflicts (kube-apiserver answers a conflict otherwise).
        let args = [
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            "--dry-run=server",
        ];
        let out = k[0]
            .run_stdin(&args, &configmap("keep", "default", &[("a", "dry")]))
            .await;
        c.succeeded(
            &args,
            &out,
            &format!("{version} apply --server-side --dry-run=server"),
        );
        k[1].ok(&[
            "patch",
            "cm",
            "keep",
            "--type=merge",
            "-p",
            r#"{"data":{"a":"dry"}}"#,
            "--dry-run=server",
        ])
        .await;
        k[2].ok(&["label", "cm", "keep", "dry=yes", "--dry-run=server"])
            .await;
        k[0].ok(&["scale", "deploy", "web", "--replicas=9", "--dry-run=server"])
            .await;
        for kc in k.iter() {
            let d = kc.json(&["get", "deploy", "web"]).await;
            c.eq(
                d["spec"]["replicas"].as_i64(),
                Some(2),
                &format!("{version} replicas after dry runs ({})", kc.name),
            );
            c.eq(
                container_images(&d),
                pairs(&[("nginx", "nginx:1.25")]),
                &format!("{version} image after dry-run apply ({})", kc.name),
            );
            let cm = kc.json(&["get", "cm", "keep"]).await;
            c.eq(
                cm["data"]["a"].as_str(),
                Some("1"),
                &format!("{version} configmap after dry runs ({})", kc.name),
            );
            c.that(
                cm["metadata"]["labels"].get("dry").is_none(),
                format!(
                    "{version} label --dry-run=server persisted ({}): {}",
                    kc.name, cm["metadata"]
                ),
            );
        }
    }

    c.finish();
    drop(cluster);
}
