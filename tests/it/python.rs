//! The Kubernetes API through the official Python client (`kubernetes`
//! from PyPI, pinned): tests/python/e2e.py runs one scenario per process
//! against a 3-member cluster, with a kubeconfig per member.
//!
//! The virtualenv is cached outside the repo in
//! `$HOME/.cache/raftplane/pyvenv-kubernetes-<version>` (or
//! `$RAFTPLANE_PYVENV`): the first run creates it with `python3 -m venv`
//! and `pip install`, later runs reuse it when it imports the pinned
//! version.

use std::path::Path;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;
use std::time::Instant;

use raftplane_chaos::harness::Cluster;
use raftplane_chaos::harness::ClusterOptions;
use tokio::process::Command;

use crate::support::start;

/// The pinned client version.
const KUBERNETES_PY: &str = "33.1.0";
/// Overrides the venv location.
const PYVENV_ENV: &str = "RAFTPLANE_PYVENV";
/// Bound on creating the venv and installing the client.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
/// Bound on one scenario.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);
/// Scenarios in tests/python/e2e.py.
const SCENARIOS: [&str; 5] = ["crud", "selectors_patch", "watch", "errors", "discovery"];

/// The script, found at run time: `cargo test` runs this binary in the
/// package directory (tests/). A path baked in at compile time goes stale
/// when a shared target dir serves checkouts at other paths (CI clones).
fn script() -> PathBuf {
    let here = std::env::current_dir()
        .map(|d| d.join("python/e2e.py"))
        .unwrap_or_default();
    if here.is_file() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("python/e2e.py")
    }
}

fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(PYVENV_ENV) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    PathBuf::from(home)
        .join(".cache/raftplane")
        .join(format!("pyvenv-kubernetes-{KUBERNETES_PY}"))
}

async fn run(cmd: &mut Command, timeout: Duration, what: &str) -> Output {
    cmd.kill_on_drop(true);
    tokio::time::timeout(timeout, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what}: no exit within {timeout:?}"))
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"))
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The venv's python, if it imports the pinned client.
async fn healthy_python(venv: &Path) -> Option<PathBuf> {
    let python = venv.join("bin/python");
    if !python.is_file() {
        return None;
    }
    let check =
        format!("import kubernetes, sys; sys.exit(kubernetes.__version__ != '{KUBERNETES_PY}')");
    let output = run(
        Command::new(&python).args(["-c", &check]),
        Duration::from_secs(60),
        "checking the cached venv",
    )
    .await;
    output.status.success().then_some(python)
}

/// The python of a venv with `kubernetes==KUBERNETES_PY`, creating it if
/// needed. Built in a sibling dir and renamed into place, so a concurrent
/// or interrupted run never leaves a half-built venv at the cached path.
async fn python_with_client() -> PathBuf {
    let venv = venv_dir();
    if let Some(python) = healthy_python(&venv).await {
        return python;
    }
    let parent = venv.parent().expect("venv dir has a parent");
    std::fs::create_dir_all(parent).expect("create the venv cache dir");
    let building = parent.join(format!(
        ".{}-building-{}",
        venv.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&building);
    eprintln!(
        "python: creating {} (kubernetes=={KUBERNETES_PY})",
        venv.display()
    );
    let started = Instant::now();
    let output = run(
        Command::new("python3").arg("-m").arg("venv").arg(&building),
        INSTALL_TIMEOUT,
        "python3 -m venv",
    )
    .await;
    assert!(
        output.status.success(),
        "python3 -m venv failed: {}",
        describe(&output)
    );
    let output = run(
        Command::new(building.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("kubernetes=={KUBERNETES_PY}"),
        ]),
        INSTALL_TIMEOUT,
        "pip install kubernetes",
    )
    .await;
    assert!(
        output.status.success(),
        "pip install failed: {}",
        describe(&output)
    );
    // Only bin/python is used after the move: it finds its venv through
    // pyvenv.cfg beside it, so the rename keeps it working (the scripts in
    // bin/ name the old path, but nothing runs them).
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::rename(&building, &venv).expect("move the venv into place");
    let python = healthy_python(&venv).await.unwrap_or_else(|| {
        panic!(
            "the new venv at {} does not import kubernetes",
            venv.display()
        )
    });
    eprintln!("python: venv ready in {:?}", started.elapsed());
    python
}

/// One kubeconfig per running member in the cluster dir, ordered so that
/// the first is a follower, the second the leader, the third a follower.
fn write_kubeconfigs(cluster: &Cluster, leader: u64) -> Vec<PathBuf> {
    let mut ids = cluster.running_ids();
    ids.sort_by_key(|id| *id == leader);
    // [followers..., leader] -> [follower, leader, follower...]
    let leader_id = ids.pop().expect("leader");
    ids.insert(1.min(ids.len()), leader_id);
    ids.into_iter()
        .map(|id| {
            let addr = cluster.api_addr(id).expect("api addr");
            let path = cluster.dir().join(format!("kubeconfig-{id}"));
            let text = format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: m{id}\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: m{id}\n  context:\n    cluster: m{id}\n    user: admin\ncurrent-context: m{id}\nusers:\n- name: admin\n  user: {{}}\n"
            );
            std::fs::write(&path, text).expect("write kubeconfig");
            path
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn python_client_scenarios() {
    let python = python_with_client().await;
    let (mut cluster, leader) = start(ClusterOptions::default()).await;
    let kubeconfigs = write_kubeconfigs(&cluster, leader);
    let mut failures = Vec::new();
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        // Rotate the members so each scenario gives each role (writer,
        // reader, watcher) to another member.
        let mut configs = kubeconfigs.clone();
        let n = configs.len();
        configs.rotate_left(i % n);
        let started = Instant::now();
        let output = run(
            Command::new(&python)
                .arg(script())
                .arg(scenario)
                .args(&configs)
                .env("PYTHONUNBUFFERED", "1"),
            SCENARIO_TIMEOUT,
            &format!("python scenario {scenario}"),
        )
        .await;
        eprintln!(
            "python scenario {scenario}: {} in {:?}",
            output.status,
            started.elapsed()
        );
        if !output.status.success() {
            failures.push(format!("scenario {scenario}: {}", describe(&output)));
        }
    }
    cluster.check_alive().expect("members stay up");
    assert!(
        failures.is_empty(),
        "{} python scenario(s) failed (logs in {}):\n{}",
        failures.len(),
        cluster.dir().display(),
        failures.join("\n\n")
    );
}
