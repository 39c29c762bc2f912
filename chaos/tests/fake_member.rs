//! The harness's process handling, against fake members (a Python script
//! that only serves /healthz), so it is tested without the real binary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use raftplane_chaos::harness::healthz;
use raftplane_chaos::{Cluster, ClusterOptions, HarnessError};

/// Serves GET /healthz on --api-addr; exits 0 on SIGTERM.
const FAKE_MEMBER: &str = r#"#!/usr/bin/env python3
import http.server, signal, sys
args = sys.argv[1:]
host, port = args[args.index("--api-addr") + 1].rsplit(":", 1)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *_):
        pass
print("fake member", " ".join(args), flush=True)
http.server.HTTPServer((host, int(port)), Health).serve_forever()
"#;

const PORT_TAKEN: &str = "#!/bin/sh
echo 'Error: cannot listen on peer address: Address already in use (os error 98)' >&2
exit 1
";

fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn options(dir: &Path, binary: PathBuf) -> ClusterOptions {
    ClusterOptions {
        members: 3,
        heartbeat_ms: Some(50),
        dir: Some(dir.join("cluster")),
        binary: Some(binary),
        startup_timeout: Duration::from_secs(20),
        ..ClusterOptions::default()
    }
}

/// Whether `pid` names a live, non-zombie process.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_of_fake_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = script(dir.path(), "fake-raftplane", FAKE_MEMBER);
    let mut cluster = Cluster::start(options(dir.path(), binary))
        .await
        .expect("start");
    assert_eq!(cluster.member_ids(), vec![1, 2, 3]);
    let pids: Vec<u32> = (1..=3).map(|id| cluster.pid(id).expect("pid")).collect();

    // Arguments reach the member, and its output reaches its log.
    let log = std::fs::read_to_string(cluster.log_path(2)).expect("log");
    assert!(log.contains("--id 2 --data-dir"), "{log}");
    assert!(log.contains("--initial-cluster 1=127.0.0.1:"), "{log}");
    assert!(log.contains("--heartbeat-ms 50"), "{log}");
    assert!(cluster.data_dir(2).expect("dir").is_dir());

    // No gRPC in the fake: no leader, and the error says where logs are.
    assert_eq!(cluster.leader().await, None);
    match cluster.wait_for_leader(Duration::from_millis(300)).await {
        Err(HarnessError::NoLeader { dir, .. }) => assert_eq!(dir, cluster.dir()),
        other => panic!("expected NoLeader, got {other:?}"),
    }

    // SIGSTOP: the socket accepts but nobody answers.
    let api = cluster.api_addr(1).expect("addr");
    cluster.pause(1).expect("pause");
    assert!(!healthz(api).await);
    cluster.resume(1).expect("resume");
    assert!(healthz(api).await);

    // SIGKILL, then a restart on the same ports.
    cluster.kill(2).await.expect("kill");
    assert!(!cluster.is_running(2));
    assert!(!alive(pids[1]));
    assert!(matches!(
        cluster.kill(2).await,
        Err(HarnessError::NotRunning { id: 2, .. })
    ));
    let api2 = cluster.api_addr(2).expect("addr");
    cluster.restart(2).await.expect("restart");
    assert!(healthz(api2).await);
    assert!(matches!(
        cluster.restart(2).await,
        Err(HarnessError::StillRunning { id: 2, .. })
    ));

    // SIGTERM: a clean exit.
    let status = cluster.stop(3).await.expect("stop");
    assert!(status.success(), "{status}");

    // A member that dies on its own is reported, with its log.
    let pid1 = cluster.pid(1).expect("pid");
    // SAFETY: plain syscall on our own unreaped child.
    unsafe { libc::kill(pid1 as i32, libc::SIGKILL) };
    tokio::time::sleep(Duration::from_millis(200)).await;
    match cluster.check_alive() {
        Err(HarnessError::Exited { name, log, .. }) => {
            assert_eq!(name, "raftplane member 1");
            assert_eq!(log, cluster.log_path(1));
        }
        other => panic!("expected Exited, got {other:?}"),
    }

    let pid2 = cluster.pid(2).expect("pid");
    drop(cluster);
    assert!(!alive(pid2), "drop must kill every member");
}

#[tokio::test]
async fn failed_start_names_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = script(dir.path(), "crash", "#!/bin/sh\necho boom >&2\nexit 3\n");
    match Cluster::start(options(dir.path(), binary)).await {
        Err(error @ HarnessError::StartFailed { .. }) => {
            let text = error.to_string();
            assert!(text.contains("member-"), "{text}");
            assert!(text.contains("boom"), "{text}");
            assert!(text.contains("exit status: 3"), "{text}");
        }
        other => panic!("expected StartFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn taken_ports_are_retried_on_fresh_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = script(dir.path(), "taken", PORT_TAKEN);
    let error = Cluster::start(options(dir.path(), binary))
        .await
        .expect_err("every attempt fails");
    assert!(
        matches!(
            error,
            HarnessError::StartFailed {
                addr_in_use: true,
                ..
            }
        ),
        "{error}"
    );
    let log = std::fs::read_to_string(dir.path().join("cluster/member-1.log")).expect("log");
    let attempts = log
        .matches("=== chaos: spawning raftplane member 1")
        .count();
    assert_eq!(attempts, 5, "{log}");
}
