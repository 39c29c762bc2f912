//! `raftplane-chaos bench api`: Kubernetes REST API loads against a running
//! cluster (pod create, consistent get, selector list, watch fan-out), over
//! plain HTTP/1.1 keep-alive connections, one per client.
//!
//! Every load is closed loop (each client waits for its reply before the
//! next request) except the watch writer, which sends at a fixed modest
//! rate. Create and get reuse [`bench::closed_loop`], so warm-up, window
//! edges and percentiles match the store bench.
//!
//! Namespaces: `bench` takes the create load; `bench-list` holds exactly
//! `list_pods` pods (half with `parity=even`), which the get and list loads
//! read; `bench-watch` takes the watch writer's pods, so the watchers see
//! only those.
//!
//! Bounds: clients <= [`MAX_CLIENTS`], watchers <= [`MAX_WATCHERS`], list
//! size <= [`MAX_LIST_PODS`], bodies <= [`MAX_BODY_BYTES`], watch lines <=
//! [`MAX_WATCH_LINE_BYTES`], watch writes in flight <=
//! [`WATCH_WRITERS_IN_FLIGHT`]; every request is cut off after the op
//! timeout. One process holds one socket per client and per watcher, and so
//! do the members: [`raise_nofile_limit`] lifts the soft RLIMIT_NOFILE to
//! what the run needs before the members are spawned (they inherit it).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::bench::{self, Latencies, LatencyRecorder, LoadReport, LoadSpec};

/// Bound on closed-loop clients per load (one connection each).
pub const MAX_CLIENTS: usize = 1024;
/// Bound on concurrent watch streams.
pub const MAX_WATCHERS: usize = 10_000;
/// Bound on the listed namespace's size.
pub const MAX_LIST_PODS: usize = 100_000;
/// Bound on the watch writer's rate (writes per second).
pub const MAX_WATCH_RATE: u32 = 1_000;
/// Bound on one response body held in memory (a 100,000-pod list is
/// ~300 MB).
pub const MAX_BODY_BYTES: usize = 512 << 20;
/// Bound on one watch event line (one pod is a few KiB).
pub const MAX_WATCH_LINE_BYTES: usize = 1 << 20;
/// Watch writes in flight at once (each on its own connection).
pub const WATCH_WRITERS_IN_FLIGHT: usize = 8;
/// Sockets beyond clients and watchers: members' peer links, the harness's
/// gRPC probes, logs, the runtime.
const FD_HEADROOM: u64 = 1024;
/// Bound on opening one TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on every watcher having its response headers.
const WATCH_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Watchers still owed events this long after the last write count them
/// as lost.
const WATCH_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on the members becoming ready and the namespaces appearing.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const READY_POLL: Duration = Duration::from_millis(100);
/// Annotation carrying the watch writer's send time (ns since the epoch).
pub const SENT_ANNOTATION: &str = "bench.raftplane.io/sent-unix-nanos";
/// What precedes the stamp in an event line (compact JSON).
const SENT_NEEDLE: &str = "\"bench.raftplane.io/sent-unix-nanos\":\"";
const NAME_SLOT: &str = "@@NAME@@";
const SENT_SLOT: &str = "@@SENT@@";
const LABELS_SLOT: &str = "\"@@LABELS@@\":\"\"";

pub const CREATE_NAMESPACE: &str = "bench";
pub const LIST_NAMESPACE: &str = "bench-list";
pub const WATCH_NAMESPACE: &str = "bench-watch";

/// The loads' knobs; see `raftplane-chaos bench api --help`.
#[derive(Clone, Debug)]
pub struct ApiBenchSpec {
    pub warmup: Duration,
    pub duration: Duration,
    /// Closed-loop clients of the create and get loads.
    pub clients: usize,
    /// Also run the create load with every client on the leader.
    pub leader_create: bool,
    pub list_pods: usize,
    /// Closed-loop clients of the list load.
    pub list_clients: usize,
    pub watchers: usize,
    /// Watch writer rate, writes per second (half creates, half patches).
    pub watch_rate: u32,
    pub op_timeout: Duration,
}

impl Default for ApiBenchSpec {
    fn default() -> Self {
        Self {
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
            clients: 64,
            leader_create: true,
            list_pods: 5_000,
            list_clients: 1,
            watchers: 1_000,
            watch_rate: 20,
            op_timeout: Duration::from_secs(5),
        }
    }
}

impl ApiBenchSpec {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_CLIENTS).contains(&self.clients)
            || !(1..=MAX_CLIENTS).contains(&self.list_clients)
        {
            return Err(format!("clients must be in 1..={MAX_CLIENTS}"));
        }
        if self.watchers > MAX_WATCHERS {
            return Err(format!("watchers must be at most {MAX_WATCHERS}"));
        }
        if !(2..=MAX_LIST_PODS).contains(&self.list_pods) {
            return Err(format!("list pods must be in 2..={MAX_LIST_PODS}"));
        }
        if !(1..=MAX_WATCH_RATE).contains(&self.watch_rate) {
            return Err(format!("watch rate must be in 1..={MAX_WATCH_RATE}"));
        }
        if self.duration.is_zero() || self.op_timeout.is_zero() {
            return Err("duration and op timeout must be positive".to_owned());
        }
        Ok(())
    }

    /// File descriptors this process needs (the members need about a
    /// third of the watchers each, plus the clients).
    pub fn fds_needed(&self) -> u64 {
        (self.watchers + 2 * self.clients.max(self.list_clients) + WATCH_WRITERS_IN_FLIGHT) as u64
            + FD_HEADROOM
    }
}

/// Raises the soft RLIMIT_NOFILE to at least `needed` (capped by the hard
/// limit). Returns the soft limit now in force; an error if it is still
/// below `needed`.
pub fn raise_nofile_limit(needed: u64) -> Result<u64, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!(
            "getrlimit(RLIMIT_NOFILE): {}",
            std::io::Error::last_os_error()
        ));
    }
    // rlim_t is u64 on the 64-bit targets but not everywhere.
    #[allow(clippy::unnecessary_cast)]
    let (current, hard) = (limit.rlim_cur as u64, limit.rlim_max as u64);
    if current >= needed {
        return Ok(current);
    }
    let target = needed.min(hard);
    limit.rlim_cur = target as libc::rlim_t;
    // SAFETY: setrlimit reads the struct we own; only the soft limit moves,
    // within the hard limit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(format!(
            "setrlimit(RLIMIT_NOFILE, {target}): {}",
            std::io::Error::last_os_error()
        ));
    }
    if target < needed {
        return Err(format!(
            "RLIMIT_NOFILE hard limit {hard} is below the {needed} descriptors this run needs \
             (raise it with `ulimit -Hn`, or use fewer --watchers)"
        ));
    }
    Ok(target)
}

// ---------------------------------------------------------------------
// HTTP/1.1 client: one keep-alive connection, reopened after any error.

/// One HTTP/1.1 keep-alive connection to one member.
pub struct HttpConn {
    addr: SocketAddr,
    host: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    driver: Option<JoinHandle<()>>,
}

impl Drop for HttpConn {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            driver.abort();
        }
    }
}

impl HttpConn {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            host: addr.to_string(),
            sender: None,
            driver: None,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn reset(&mut self) {
        self.sender = None;
        if let Some(driver) = self.driver.take() {
            driver.abort();
        }
    }

    async fn ready_sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.reset();
        }
        if self.sender.is_none() {
            let (sender, driver) = connect(self.addr).await?;
            self.sender = Some(sender);
            self.driver = Some(driver);
        }
        let sender = self.sender.as_mut().expect("connected above");
        sender
            .ready()
            .await
            .map_err(|e| format!("{}: connection not ready: {e}", self.addr))?;
        Ok(sender)
    }

    /// Sends one request and reads the whole reply, within `timeout`. Any
    /// failure drops the connection (the next call reconnects).
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Bytes,
        timeout: Duration,
    ) -> Result<(StatusCode, Bytes), String> {
        let outcome = tokio::time::timeout(timeout, async {
            let request = build_request(&self.host, method, path, content_type, body)?;
            let sender = self.ready_sender().await?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the body: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, body))
        })
        .await;
        let result = match outcome {
            Ok(result) => result,
            Err(_elapsed) => Err(format!("no reply within {} ms", timeout.as_millis())),
        };
        if result.is_err() {
            self.reset();
        }
        result.map_err(|e| format!("{} {path}: {e}", self.addr))
    }

    /// Like [`HttpConn::request`], but a non-2xx status is an error.
    pub async fn expect_ok(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, String> {
        let (status, body) = self
            .request(method, path, content_type, body, timeout)
            .await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(status_error(status, &body))
        }
    }
}

fn status_error(status: StatusCode, body: &[u8]) -> String {
    const EXCERPT: usize = 300;
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT)]);
    format!("HTTP {status}: {text}")
}

fn build_request(
    host: &str,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, String> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, host)
        .header(hyper::header::ACCEPT, "application/json");
    if let Some(content_type) = content_type {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    builder
        .body(Full::new(body))
        .map_err(|e| format!("building the request: {e}"))
}

async fn connect(addr: SocketAddr) -> Result<(SendRequest<Full<Bytes>>, JoinHandle<()>), String> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| format!("{addr}: connect timed out"))?
        .map_err(|e| format!("{addr}: connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("{addr}: TCP_NODELAY: {e}"))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("{addr}: HTTP/1.1 handshake: {e}"))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, driver))
}

// ---------------------------------------------------------------------
// Objects.

/// A realistic pod (labels, annotations, two containers with env, ports,
/// resources and volume mounts, volumes, tolerations), ~2.5 KiB of JSON,
/// with slots for its name, extra labels and the send-time annotation.
#[derive(Clone, Debug)]
pub struct PodTemplate {
    namespace: String,
    text: String,
}

impl PodTemplate {
    pub fn new(namespace: &str) -> Self {
        let env = |prefix: &str| -> Vec<serde_json::Value> {
            (0..6)
                .map(|i| {
                    serde_json::json!({
                        "name": format!("{prefix}_SETTING_{i}"),
                        "value": format!("value-{i}-for-the-{}-container", prefix.to_lowercase()),
                    })
                })
                .collect()
        };
        let pod = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": NAME_SLOT,
                "namespace": namespace,
                "labels": {
                    "app": "bench",
                    "tier": "backend",
                    "release": "stable",
                    "pod-template-hash": "7d9c6b5f4d",
                    "@@LABELS@@": "",
                },
                "annotations": {
                    SENT_ANNOTATION: SENT_SLOT,
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": "9090",
                    "kubernetes.io/change-cause": "raftplane-chaos bench api: realistic pod body",
                    "checksum/config": "3f7b1a9c0e2d4b6a8c1e3f5a7b9d0c2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a0b2c",
                },
            },
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "registry.example.com/bench/app:1.27.3",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["/app/server"],
                        "args": ["--listen=:8080", "--metrics=:9090", "--log-level=info"],
                        "env": env("APP"),
                        "ports": [
                            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
                        ],
                        "resources": {
                            "requests": {"cpu": "250m", "memory": "256Mi"},
                            "limits": {"cpu": "1", "memory": "512Mi"},
                        },
                        "volumeMounts": [
                            {"name": "config", "mountPath": "/etc/app", "readOnly": true},
                            {"name": "data", "mountPath": "/var/lib/app"},
                        ],
                    },
                    {
                        "name": "sidecar",
                        "image": "registry.example.com/bench/proxy:2.4.0",
                        "imagePullPolicy": "IfNotPresent",
                        "env": env("PROXY"),
                        "ports": [{"name": "proxy", "containerPort": 15001, "protocol": "TCP"}],
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                            "limits": {"cpu": "200m", "memory": "128Mi"},
                        },
                        "volumeMounts": [
                            {"name": "config", "mountPath": "/etc/proxy", "readOnly": true},
                        ],
                    },
                ],
                "volumes": [
                    {"name": "config", "configMap": {"name": "bench-config"}},
                    {"name": "data", "emptyDir": {}},
                ],
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                     "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                     "effect": "NoExecute", "tolerationSeconds": 300},
                ],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
            },
        });
        Self {
            namespace: namespace.to_owned(),
            text: pod.to_string(),
        }
    }

    /// The pod's JSON. `labels` are extra `key=value` labels; `sent_ns` is
    /// the send-time annotation (0 when not measured).
    pub fn render(&self, name: &str, labels: &[(&str, &str)], sent_ns: u64) -> Bytes {
        let extra: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("\"{k}\":\"{v}\""))
            .collect();
        let mut labels_text = extra.join(",");
        if labels_text.is_empty() {
            labels_text = "\"bench\":\"true\"".to_owned();
        }
        Bytes::from(
            self.text
                .replacen(NAME_SLOT, name, 1)
                .replacen(SENT_SLOT, &sent_ns.to_string(), 1)
                .replacen(LABELS_SLOT, &labels_text, 1),
        )
    }

    pub fn collection_path(&self) -> String {
        format!("/api/v1/namespaces/{}/pods", self.namespace)
    }
}

/// Nanoseconds since the epoch (the watch latency clock: writer and
/// watchers share this host).
pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The send-time annotation's value in one watch event line, if present
/// and non-zero. A byte search, not a JSON parse: 1,000 watchers parse
/// every event, and this process shares the CPUs with the members.
pub fn sent_nanos(line: &[u8]) -> Option<u64> {
    let at = find(line, SENT_NEEDLE.as_bytes())? + SENT_NEEDLE.len();
    let digits = &line[at..];
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    let value: u64 = std::str::from_utf8(&digits[..end]).ok()?.parse().ok()?;
    (value > 0).then_some(value)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[derive(Deserialize)]
struct ListItems {
    items: Vec<IgnoredAny>,
}

/// Items in a list reply.
pub fn count_items(body: &[u8]) -> Result<usize, String> {
    serde_json::from_slice::<ListItems>(body)
        .map(|l| l.items.len())
        .map_err(|e| format!("not a list: {e}"))
}

// ---------------------------------------------------------------------
// Results.

/// One row of the results table.
#[derive(Clone, Debug)]
pub struct ApiRow {
    pub load: String,
    pub clients: usize,
    pub ops: u64,
    pub errors: u64,
    pub measured: Duration,
    pub latencies: Latencies,
    /// Load-specific count (items per list, delivered/expected events).
    pub extra: String,
    pub target: Target,
    pub first_error: Option<String>,
    /// CPU this bench process used during the load, in cores (it shares
    /// the machine with the members).
    pub bench_cpu_cores: Option<f64>,
}

impl ApiRow {
    fn from_report(load: &str, report: LoadReport, target: Target) -> Self {
        Self {
            load: load.to_owned(),
            clients: report.writers,
            ops: report.ops,
            errors: report.errors,
            measured: report.measured,
            latencies: report.latencies,
            extra: if report.aborted_writers > 0 {
                format!("{} clients hung", report.aborted_writers)
            } else {
                String::new()
            },
            target,
            first_error: report.first_error,
            bench_cpu_cores: None,
        }
    }

    pub fn ops_per_sec(&self) -> f64 {
        let secs = self.measured.as_secs_f64();
        if secs > 0.0 {
            self.ops as f64 / secs
        } else {
            0.0
        }
    }

    /// Whether every target is met; `None` without samples.
    pub fn met(&self) -> Option<bool> {
        let p99 = self.latencies.percentile(0.99)?;
        let throughput = self
            .target
            .min_ops_per_sec
            .is_none_or(|min| self.ops_per_sec() >= min);
        let latency = self.target.max_p99.is_none_or(|max| p99 < max);
        let complete = self.target.min_delivered.is_none_or(|min| {
            self.delivered_fraction()
                .is_some_and(|fraction| fraction >= min)
        });
        Some(throughput && latency && complete && self.errors == 0)
    }

    fn delivered_fraction(&self) -> Option<f64> {
        let (delivered, expected) = self.extra.split_once('/')?;
        let delivered: f64 = delivered.trim().parse().ok()?;
        let expected: f64 = expected.trim().parse().ok()?;
        (expected > 0.0).then(|| delivered / expected)
    }
}

/// What a load should reach.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub min_ops_per_sec: Option<f64>,
    pub max_p99: Option<Duration>,
    /// Fraction of expected watch events delivered.
    pub min_delivered: Option<f64>,
}

impl Target {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(min) = self.min_ops_per_sec {
            parts.push(format!(">={min:.0}/s"));
        }
        if let Some(max) = self.max_p99 {
            parts.push(format!("p99<{}ms", max.as_millis()));
        }
        if let Some(min) = self.min_delivered {
            parts.push(format!("deliv>={:.0}%", min * 100.0));
        }
        parts.join(" ")
    }
}

fn ms(duration: Option<Duration>) -> String {
    match duration {
        Some(d) => format!("{:.2}", d.as_secs_f64() * 1e3),
        None => "-".to_owned(),
    }
}

/// The results table, targets next to the measured numbers.
pub fn results_table(rows: &[ApiRow]) -> String {
    let mut out = format!(
        "{:<28} {:>7} {:>9} {:>8} {:>8} {:>8} {:>6} {:>15}  {:<24} {}\n",
        "load",
        "clients",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "items/events",
        "target",
        "met"
    );
    for row in rows {
        let l = &row.latencies;
        let met = match row.met() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let _ = writeln!(
            out,
            "{:<28} {:>7} {:>9.1} {:>8} {:>8} {:>8} {:>6} {:>15} {:>9}  {:<24} {}",
            row.load,
            row.clients,
            row.ops_per_sec(),
            ms(l.percentile(0.50)),
            ms(l.percentile(0.99)),
            ms(l.max()),
            row.errors,
            row.extra,
            row.bench_cpu_cores
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.2}")),
            row.target.describe(),
            met,
        );
    }
    out
}

// ---------------------------------------------------------------------
// The run.

/// Where the loads go: every member's API address, and the leader's.
#[derive(Clone, Debug)]
pub struct Targets {
    pub members: Vec<SocketAddr>,
    pub leader: SocketAddr,
}

/// Runs every load in turn; `progress` gets one line per step.
pub async fn run(
    targets: &Targets,
    spec: &ApiBenchSpec,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<ApiRow>, String> {
    spec.validate()?;
    if targets.members.is_empty() {
        return Err("no members to load".to_owned());
    }
    for &addr in &targets.members {
        wait_ready(addr).await?;
    }
    for namespace in [CREATE_NAMESPACE, LIST_NAMESPACE, WATCH_NAMESPACE] {
        create_namespace(&targets.members, namespace, spec.op_timeout).await?;
    }
    progress(&format!(
        "members ready, namespaces created; pod body {} bytes",
        PodTemplate::new(CREATE_NAMESPACE)
            .render("bench-0000000", &[], 0)
            .len()
    ));

    let mut rows = Vec::new();
    let create_target = Target {
        min_ops_per_sec: Some(3_000.0),
        max_p99: Some(Duration::from_millis(100)),
        min_delivered: None,
    };
    let names = Arc::new(AtomicU64::new(0));
    let meter = CpuMeter::start();
    let report = create_load(&targets.members, spec, Arc::clone(&names)).await;
    let mut row = ApiRow::from_report("pod create (all members)", report, create_target.clone());
    row.bench_cpu_cores = meter.cores();
    progress(&row_summary(&row));
    rows.push(row);
    if spec.leader_create {
        let meter = CpuMeter::start();
        let report = create_load(&[targets.leader], spec, Arc::clone(&names)).await;
        let mut row = ApiRow::from_report("pod create (leader only)", report, create_target);
        row.bench_cpu_cores = meter.cores();
        progress(&row_summary(&row));
        rows.push(row);
    }

    let began = Instant::now();
    populate_list_namespace(&targets.members, spec).await?;
    let took = began.elapsed();
    progress(&format!(
        "{} pods created in {LIST_NAMESPACE} in {:.1} s ({:.0}/s, {} clients)",
        spec.list_pods,
        took.as_secs_f64(),
        spec.list_pods as f64 / took.as_secs_f64().max(1e-9),
        spec.clients
    ));

    let meter = CpuMeter::start();
    let report = get_load(&targets.members, spec).await;
    let mut row = ApiRow::from_report(
        "get (consistent)",
        report,
        Target {
            max_p99: Some(Duration::from_millis(10)),
            ..Target::default()
        },
    );
    row.bench_cpu_cores = meter.cores();
    progress(&row_summary(&row));
    rows.push(row);

    for (label, selector, expect) in [
        ("app=bench", "app%3Dbench", spec.list_pods),
        (
            "app=bench,parity=even",
            "app%3Dbench%2Cparity%3Deven",
            spec.list_pods.div_ceil(2),
        ),
    ] {
        let meter = CpuMeter::start();
        let mut row = list_load(&targets.members, spec, label, selector, expect).await;
        row.bench_cpu_cores = meter.cores();
        progress(&row_summary(&row));
        rows.push(row);
    }

    if spec.watchers > 0 {
        let meter = CpuMeter::start();
        let mut row = watch_load(&targets.members, spec, progress).await?;
        row.bench_cpu_cores = meter.cores();
        progress(&row_summary(&row));
        rows.push(row);
    }
    Ok(rows)
}

/// This process's CPU use over a stretch of wall time.
struct CpuMeter {
    wall: Instant,
    cpu: Option<Duration>,
}

impl CpuMeter {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: process_cpu_time(),
        }
    }

    /// Average cores used since [`CpuMeter::start`].
    fn cores(&self) -> Option<f64> {
        let used = process_cpu_time()?.checked_sub(self.cpu?)?;
        let wall = self.wall.elapsed().as_secs_f64();
        (wall > 0.0).then(|| used.as_secs_f64() / wall)
    }
}

/// User + system CPU time of this process so far.
fn process_cpu_time() -> Option<Duration> {
    // SAFETY: an all-zero rusage is a valid value; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(t.tv_usec).ok()?))
    };
    time(usage.ru_utime)?.checked_add(time(usage.ru_stime)?)
}

fn row_summary(row: &ApiRow) -> String {
    let mut line = format!(
        "{}: {:.1} ops/s, p50 {} ms, p99 {} ms, {} errors{}; bench process used {} cores",
        row.load,
        row.ops_per_sec(),
        ms(row.latencies.percentile(0.5)),
        ms(row.latencies.percentile(0.99)),
        row.errors,
        if row.extra.is_empty() {
            String::new()
        } else {
            format!(", {}", row.extra)
        },
        row.bench_cpu_cores
            .map_or_else(|| "?".to_owned(), |c| format!("{c:.2}")),
    );
    if let Some(error) = &row.first_error {
        let _ = write!(line, "; first error: {error}");
    }
    line
}

async fn wait_ready(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut conn = HttpConn::new(addr);
    let mut last = String::new();
    while Instant::now() < deadline {
        match conn
            .request(Method::GET, "/readyz", None, Bytes::new(), READY_POLL * 10)
            .await
        {
            Ok((status, _)) if status.is_success() => return Ok(()),
            Ok((status, body)) => last = status_error(status, &body),
            Err(e) => last = e,
        }
        tokio::time::sleep(READY_POLL).await;
    }
    Err(format!("{addr} not ready after {READY_TIMEOUT:?}: {last}"))
}

/// Creates `name` (409 is fine: a rerun against the same cluster) and
/// waits until every member serves it to a consistent read.
async fn create_namespace(
    members: &[SocketAddr],
    name: &str,
    timeout: Duration,
) -> Result<(), String> {
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name},
    })
    .to_string();
    let mut conn = HttpConn::new(members[0]);
    let (status, reply) = conn
        .request(
            Method::POST,
            "/api/v1/namespaces",
            Some("application/json"),
            Bytes::from(body),
            timeout,
        )
        .await?;
    if !status.is_success() && status != StatusCode::CONFLICT {
        return Err(format!(
            "creating namespace {name}: {}",
            status_error(status, &reply)
        ));
    }
    for &addr in members {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut conn = HttpConn::new(addr);
        loop {
            let (status, reply) = conn
                .request(
                    Method::GET,
                    &format!("/api/v1/namespaces/{name}"),
                    None,
                    Bytes::new(),
                    timeout,
                )
                .await?;
            let active = status.is_success()
                && serde_json::from_slice::<serde_json::Value>(&reply)
                    .ok()
                    .and_then(|v| {
                        v.pointer("/status/phase")
                            .and_then(|p| p.as_str())
                            .map(|p| p == "Active")
                    })
                    .unwrap_or(true);
            if active {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "namespace {name} not active on {addr}: {}",
                    status_error(status, &reply)
                ));
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }
    Ok(())
}

/// One connection per client, client `i` on `members[i % len]`.
fn client_pool(members: &[SocketAddr], clients: usize) -> Arc<Vec<Mutex<HttpConn>>> {
    Arc::new(
        (0..clients)
            .map(|i| Mutex::new(HttpConn::new(members[i % members.len()])))
            .collect(),
    )
}

fn load_spec(spec: &ApiBenchSpec, clients: usize, keys: u64) -> LoadSpec {
    LoadSpec {
        writers: clients,
        warmup: spec.warmup,
        duration: spec.duration,
        keys,
        key_prefix: String::new(),
        value_size: 0,
        // The request carries the op timeout; this only catches a hang in
        // the client itself.
        op_timeout: spec.op_timeout + Duration::from_secs(1),
        ..LoadSpec::default()
    }
}

async fn create_load(
    members: &[SocketAddr],
    spec: &ApiBenchSpec,
    names: Arc<AtomicU64>,
) -> LoadReport {
    let pool = client_pool(members, spec.clients);
    let template = Arc::new(PodTemplate::new(CREATE_NAMESPACE));
    let path: Arc<str> = template.collection_path().into();
    let timeout = spec.op_timeout;
    bench::closed_loop(
        &load_spec(spec, spec.clients, 1),
        move |client, _key, _value| {
            let (pool, template, path) =
                (Arc::clone(&pool), Arc::clone(&template), Arc::clone(&path));
            let n = names.fetch_add(1, Ordering::Relaxed);
            async move {
                let body = template.render(&format!("bench-{n:07}"), &[], 0);
                let mut conn = pool[client].lock().await;
                conn.expect_ok(Method::POST, &path, Some("application/json"), body, timeout)
                    .await
                    .map(|_| ())
            }
        },
    )
    .await
}

fn list_pod_name(i: usize) -> String {
    format!("list-{i:06}")
}

/// Creates `list_pods` pods in [`LIST_NAMESPACE`], even ones labelled
/// `parity=even`, with `clients` concurrent creators over every member.
async fn populate_list_namespace(
    members: &[SocketAddr],
    spec: &ApiBenchSpec,
) -> Result<(), String> {
    let template = Arc::new(PodTemplate::new(LIST_NAMESPACE));
    let path: Arc<str> = template.collection_path().into();
    let next = Arc::new(AtomicUsize::new(0));
    let mut creators = JoinSet::new();
    for client in 0..spec.clients {
        let mut conn = HttpConn::new(members[client % members.len()]);
        let (template, path, next) = (Arc::clone(&template), Arc::clone(&path), Arc::clone(&next));
        let (count, timeout) = (spec.list_pods, spec.op_timeout);
        creators.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), String>(());
                }
                let parity = if i.is_multiple_of(2) { "even" } else { "odd" };
                let body = template.render(&list_pod_name(i), &[("parity", parity)], 0);
                let (status, reply) = conn
                    .request(Method::POST, &path, Some("application/json"), body, timeout)
                    .await?;
                // 409: left by an earlier run against this cluster.
                if !status.is_success() && status != StatusCode::CONFLICT {
                    return Err(format!(
                        "creating {}: {}",
                        list_pod_name(i),
                        status_error(status, &reply)
                    ));
                }
            }
        });
    }
    let mut first_error = None;
    while let Some(result) = creators.join_next().await {
        let error = match result {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(join) => format!("creator task failed: {join}"),
        };
        first_error.get_or_insert(error);
    }
    first_error.map_or(Ok(()), Err)
}

async fn get_load(members: &[SocketAddr], spec: &ApiBenchSpec) -> LoadReport {
    let pool = client_pool(members, spec.clients);
    let timeout = spec.op_timeout;
    bench::closed_loop(
        &load_spec(spec, spec.clients, spec.list_pods as u64),
        move |client, key, _value| {
            let pool = Arc::clone(&pool);
            async move {
                // The driver's key is the decimal index of an existing pod.
                let i: usize = std::str::from_utf8(&key)
                    .ok()
                    .and_then(|k| k.parse().ok())
                    .ok_or_else(|| "bad key from the driver".to_owned())?;
                let path = format!(
                    "/api/v1/namespaces/{LIST_NAMESPACE}/pods/{}",
                    list_pod_name(i)
                );
                let mut conn = pool[client].lock().await;
                conn.expect_ok(Method::GET, &path, None, Bytes::new(), timeout)
                    .await
                    .map(|_| ())
            }
        },
    )
    .await
}

/// Closed-loop LISTs (consistent: no resourceVersion) of
/// [`LIST_NAMESPACE`] with `selector`; items are counted outside the timed
/// part.
async fn list_load(
    members: &[SocketAddr],
    spec: &ApiBenchSpec,
    label: &str,
    selector: &str,
    expect: usize,
) -> ApiRow {
    let path: Arc<str> =
        format!("/api/v1/namespaces/{LIST_NAMESPACE}/pods?labelSelector={selector}").into();
    let measure_start = Instant::now() + spec.warmup;
    let measure_end = measure_start + spec.duration;
    let mut clients = JoinSet::new();
    for client in 0..spec.list_clients {
        let mut conn = HttpConn::new(members[client % members.len()]);
        let path = Arc::clone(&path);
        let timeout = spec.op_timeout;
        clients.spawn(async move {
            let mut latencies = LatencyRecorder::default();
            let (mut ops, mut errors, mut first_error) = (0u64, 0u64, None);
            let (mut min_items, mut max_items) = (usize::MAX, 0usize);
            while Instant::now() < measure_end {
                let began = Instant::now();
                let outcome = conn
                    .expect_ok(Method::GET, &path, None, Bytes::new(), timeout)
                    .await;
                let done = Instant::now();
                let counted = done >= measure_start && done < measure_end;
                let outcome = outcome.and_then(|body| {
                    let items = count_items(&body)?;
                    if items == expect {
                        Ok(items)
                    } else {
                        Err(format!("{items} items, expected {expect}"))
                    }
                });
                match outcome {
                    Ok(items) => {
                        min_items = min_items.min(items);
                        max_items = max_items.max(items);
                        if counted {
                            ops += 1;
                            latencies.record(done - began);
                        }
                    }
                    Err(e) => {
                        if counted {
                            errors += 1;
                        }
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, ops, errors, first_error, min_items, max_items)
        });
    }
    let mut latencies = LatencyRecorder::default();
    let (mut ops, mut errors, mut first_error) = (0, 0, None);
    let (mut min_items, mut max_items) = (usize::MAX, 0);
    while let Some(result) = clients.join_next().await {
        match result {
            Ok((l, o, e, f, lo, hi)) => {
                latencies.merge(l);
                ops += o;
                errors += e;
                if first_error.is_none() {
                    first_error = f;
                }
                min_items = min_items.min(lo);
                max_items = max_items.max(hi);
            }
            Err(join) => {
                errors += 1;
                first_error.get_or_insert(format!("list client failed: {join}"));
            }
        }
    }
    let extra = if max_items == 0 {
        "0 items".to_owned()
    } else if min_items == max_items {
        format!("{max_items} items")
    } else {
        format!("{min_items}-{max_items} items")
    };
    ApiRow {
        load: format!("list {label}"),
        clients: spec.list_clients,
        ops,
        errors,
        measured: spec.duration,
        latencies: latencies.into_latencies(),
        extra,
        target: Target {
            max_p99: Some(Duration::from_millis(100)),
            ..Target::default()
        },
        first_error,
        bench_cpu_cores: None,
    }
}

// ---------------------------------------------------------------------
// Watch fan-out.

struct WatcherResult {
    latencies: LatencyRecorder,
    delivered: u64,
    errors: u64,
    first_error: Option<String>,
}

/// One watch stream; `ready` is signalled once the response headers are
/// in (the server registered the watch before answering).
async fn watcher(
    addr: SocketAddr,
    path: Arc<str>,
    ready: tokio::sync::mpsc::Sender<Result<(), String>>,
    delivered_total: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> WatcherResult {
    let mut result = WatcherResult {
        latencies: LatencyRecorder::default(),
        delivered: 0,
        errors: 0,
        first_error: None,
    };
    let opened = async {
        let (mut sender, driver) = connect(addr).await?;
        let request = build_request(&addr.to_string(), Method::GET, &path, None, Bytes::new())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{addr}: watch request: {e}"))?;
        if !response.status().is_success() {
            let status = response.status();
            let body = Limited::new(response.into_body(), 64 << 10)
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            driver.abort();
            return Err(status_error(status, &body));
        }
        Ok::<(Response<Incoming>, JoinHandle<()>, SendRequest<Full<Bytes>>), String>((
            response, driver, sender,
        ))
    };
    let opened = tokio::time::timeout(WATCH_READY_TIMEOUT, opened)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "{addr}: watch not open within {WATCH_READY_TIMEOUT:?}"
            ))
        });
    let (response, driver, _sender) = match opened {
        Ok(opened) => {
            let _ = ready.send(Ok(())).await;
            opened
        }
        Err(e) => {
            let _ = ready.send(Err(e.clone())).await;
            result.errors += 1;
            result.first_error = Some(e);
            return result;
        }
    };
    drop(ready);
    let mut body = response.into_body();
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let frame = tokio::select! {
            frame = body.frame() => frame,
            _ = stop.changed() => break,
        };
        let arrived = unix_nanos();
        let data = match frame {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                Err(_trailers) => continue,
            },
            Some(Err(e)) => {
                result.errors += 1;
                result.first_error = Some(format!("{addr}: watch stream: {e}"));
                break;
            }
            None => {
                if !*stop.borrow() {
                    result.errors += 1;
                    result.first_error = Some(format!("{addr}: watch stream ended early"));
                }
                break;
            }
        };
        buffer.extend_from_slice(&data);
        let mut consumed = 0;
        while let Some(newline) = buffer[consumed..].iter().position(|b| *b == b'\n') {
            let line = &buffer[consumed..consumed + newline];
            consumed += newline + 1;
            if line.starts_with(b"{\"type\":\"ERROR\"") {
                result.errors += 1;
                result
                    .first_error
                    .get_or_insert_with(|| String::from_utf8_lossy(line).into_owned());
                continue;
            }
            if let Some(sent) = sent_nanos(line) {
                result
                    .latencies
                    .record(Duration::from_nanos(arrived.saturating_sub(sent)));
                result.delivered += 1;
                delivered_total.fetch_add(1, Ordering::Relaxed);
            }
        }
        buffer.drain(..consumed);
        if buffer.len() > MAX_WATCH_LINE_BYTES {
            result.errors += 1;
            result.first_error = Some(format!(
                "{addr}: watch line over {MAX_WATCH_LINE_BYTES} bytes"
            ));
            break;
        }
    }
    driver.abort();
    result
}

/// `watchers` streams on [`WATCH_NAMESPACE`] spread over the members, from
/// the namespace's current revision; then `watch_rate` writes per second
/// for the measured window (half creates, half merge patches of the
/// send-time annotation of a pod created earlier), each stamped with its
/// send time; latency is arrival minus stamp, per watcher per event.
async fn watch_load(
    members: &[SocketAddr],
    spec: &ApiBenchSpec,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ApiRow, String> {
    let template = Arc::new(PodTemplate::new(WATCH_NAMESPACE));
    let collection = template.collection_path();
    // Start revision: the namespace's list revision now.
    let mut conn = HttpConn::new(members[0]);
    let reply = conn
        .expect_ok(
            Method::GET,
            &format!("{collection}?limit=1"),
            None,
            Bytes::new(),
            spec.op_timeout,
        )
        .await?;
    let list: serde_json::Value =
        serde_json::from_slice(&reply).map_err(|e| format!("list reply: {e}"))?;
    let start_rv = list
        .pointer("/metadata/resourceVersion")
        .and_then(|v| v.as_str())
        .ok_or("list reply without metadata.resourceVersion")?
        .to_owned();
    let path: Arc<str> = format!("{collection}?watch=1&resourceVersion={start_rv}").into();

    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(spec.watchers.max(1));
    let (stop_tx, stop_rx) = watch::channel(false);
    let delivered_total = Arc::new(AtomicU64::new(0));
    let mut watchers = JoinSet::new();
    let opening = Instant::now();
    for i in 0..spec.watchers {
        watchers.spawn(watcher(
            members[i % members.len()],
            Arc::clone(&path),
            ready_tx.clone(),
            Arc::clone(&delivered_total),
            stop_rx.clone(),
        ));
    }
    drop(ready_tx);
    let (mut open, mut failed, mut first_error) = (0usize, 0usize, None);
    while let Some(outcome) = ready_rx.recv().await {
        match outcome {
            Ok(()) => open += 1,
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
        if open + failed == spec.watchers {
            break;
        }
    }
    progress(&format!(
        "{open} watchers open ({failed} failed) in {:.1} s from resourceVersion {start_rv}",
        opening.elapsed().as_secs_f64()
    ));

    // The writer: open loop at watch_rate, at most WATCH_WRITERS_IN_FLIGHT
    // writes outstanding, each on a connection of its own.
    let pool = client_pool(members, WATCH_WRITERS_IN_FLIGHT);
    let permits = Arc::new(Semaphore::new(WATCH_WRITERS_IN_FLIGHT));
    let writes_ok = Arc::new(AtomicU64::new(0));
    let write_errors = Arc::new(AtomicU64::new(0));
    let write_error: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let mut ticker =
        tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(spec.watch_rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let writing = Instant::now();
    let write_end = writing + spec.duration;
    let mut writes = JoinSet::new();
    let mut n: u64 = 0;
    while ticker.tick().await < write_end {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .map_err(|_| "writer semaphore closed")?;
        let slot = (n as usize) % WATCH_WRITERS_IN_FLIGHT;
        // Even writes create pod n; odd ones patch pod n - 1 (created by
        // the write before, or failed and counted as such).
        let (method, path, content_type, body) = if n.is_multiple_of(2) {
            let body = template.render(&format!("watch-{n:07}"), &[], unix_nanos());
            (Method::POST, collection.clone(), "application/json", body)
        } else {
            let body = serde_json::json!({
                "metadata": {"annotations": {SENT_ANNOTATION: unix_nanos().to_string()}}
            })
            .to_string();
            (
                Method::PATCH,
                format!("{collection}/watch-{:07}", n - 1),
                "application/merge-patch+json",
                Bytes::from(body),
            )
        };
        let (pool, ok, errors, error) = (
            Arc::clone(&pool),
            Arc::clone(&writes_ok),
            Arc::clone(&write_errors),
            Arc::clone(&write_error),
        );
        let timeout = spec.op_timeout;
        writes.spawn(async move {
            let mut conn = pool[slot].lock().await;
            match conn
                .expect_ok(method, &path, Some(content_type), body, timeout)
                .await
            {
                Ok(_) => {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    error.lock().expect("not poisoned").get_or_insert(e);
                }
            }
            drop(permit);
        });
        n += 1;
        while writes.try_join_next().is_some() {}
    }
    while writes.join_next().await.is_some() {}
    let writes_ok = writes_ok.load(Ordering::Relaxed);
    let expected = writes_ok * open as u64;
    let drain_deadline = Instant::now() + WATCH_DRAIN_TIMEOUT;
    while delivered_total.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(READY_POLL).await;
    }
    let _ = stop_tx.send(true);

    let mut latencies = LatencyRecorder::default();
    let (mut delivered, mut errors) = (0u64, failed as u64);
    while let Some(result) = watchers.join_next().await {
        match result {
            Ok(r) => {
                latencies.merge(r.latencies);
                delivered += r.delivered;
                errors += r.errors;
                if first_error.is_none() {
                    first_error = r.first_error;
                }
            }
            Err(join) => {
                errors += 1;
                first_error.get_or_insert(format!("watcher task failed: {join}"));
            }
        }
    }
    let write_errors = write_errors.load(Ordering::Relaxed);
    errors += write_errors;
    if first_error.is_none() {
        first_error = write_error.lock().expect("not poisoned").take();
    }
    progress(&format!(
        "watch writer: {writes_ok} writes ok, {write_errors} failed, at {} /s",
        spec.watch_rate
    ));
    Ok(ApiRow {
        load: format!("watch fan-out ({} w/s)", spec.watch_rate),
        clients: spec.watchers,
        ops: delivered,
        errors,
        measured: writing.elapsed(),
        latencies: latencies.into_latencies(),
        extra: format!("{delivered}/{expected}"),
        target: Target {
            max_p99: Some(Duration::from_millis(50)),
            min_delivered: Some(1.0),
            ..Target::default()
        },
        first_error,
        bench_cpu_cores: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_body_is_realistic_json_with_slots_filled() {
        let template = PodTemplate::new("bench");
        let body = template.render("p-1", &[("parity", "even")], 1234);
        assert!((2048..=3072).contains(&body.len()), "{} bytes", body.len());
        let pod: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(pod["metadata"]["name"], "p-1");
        assert_eq!(pod["metadata"]["labels"]["parity"], "even");
        assert_eq!(pod["metadata"]["labels"]["app"], "bench");
        assert_eq!(pod["metadata"]["annotations"][SENT_ANNOTATION], "1234");
        assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 2);
        let plain: serde_json::Value =
            serde_json::from_slice(&template.render("p-2", &[], 0)).unwrap();
        assert_eq!(plain["metadata"]["labels"]["bench"], "true");
        assert_eq!(sent_nanos(&template.render("p", &[], 0)), None);
    }

    #[test]
    fn sent_stamp_is_found_in_an_event_line() {
        assert_eq!(SENT_NEEDLE, format!("\"{SENT_ANNOTATION}\":\""));
        let line = format!(
            "{{\"type\":\"ADDED\",\"object\":{{\"metadata\":{{\"annotations\":{{\"{SENT_ANNOTATION}\":\"987654321\"}}}}}}}}"
        );
        assert_eq!(sent_nanos(line.as_bytes()), Some(987_654_321));
        assert_eq!(sent_nanos(b"{\"type\":\"BOOKMARK\"}"), None);
    }

    #[test]
    fn list_items_are_counted() {
        assert_eq!(
            count_items(br#"{"kind":"PodList","items":[{"a":1},{},{"b":[1,2]}]}"#),
            Ok(3)
        );
        assert!(count_items(b"{}").is_err());
    }

    #[test]
    fn targets_are_judged() {
        let mut recorder = LatencyRecorder::default();
        recorder.record(Duration::from_millis(20));
        let row = ApiRow {
            load: "watch".into(),
            clients: 1,
            ops: 10,
            errors: 0,
            measured: Duration::from_secs(1),
            latencies: recorder.into_latencies(),
            extra: "10/10".into(),
            target: Target {
                max_p99: Some(Duration::from_millis(50)),
                min_delivered: Some(1.0),
                ..Target::default()
            },
            first_error: None,
            bench_cpu_cores: Some(0.5),
        };
        assert_eq!(row.met(), Some(true));
        let short = ApiRow {
            extra: "9/10".into(),
            ..row.clone()
        };
        assert_eq!(short.met(), Some(false));
        let table = results_table(&[row]);
        assert!(
            table.contains("p99<50ms") && table.contains("yes"),
            "{table}"
        );
    }

    #[test]
    fn nofile_limit_is_at_least_what_is_asked_when_allowed() {
        let now = raise_nofile_limit(64).unwrap();
        assert!(now >= 64);
    }
}
