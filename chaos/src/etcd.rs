//! [`EtcdCluster`]: a local etcd cluster (the Debian `etcd-server` build,
//! 3.4) started as the baseline of the benchmarks, with the same process
//! supervision as raftplane members (see [`crate::process`]).
//!
//! etcd's leader is found with `etcdctl endpoint status`, because etcd's
//! Maintenance service is not part of our proto subset.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use raftplane_proto::etcd::RangeRequest;
use raftplane_proto::etcd::kv_client::KvClient;

use crate::client::{ClientOptions, channel, millis};
use crate::harness::{HarnessError, pick_ports};
use crate::process::{ChildProcess, ProcessSpec, Spawner, mentions_addr_in_use};

/// etcd's backend quota for the bench: the default 2 GiB can fill up in a
/// long run, and hitting it turns every put into an alarm error.
pub const QUOTA_BACKEND_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Bound on one `etcdctl` invocation.
const ETCDCTL_TIMEOUT: Duration = Duration::from_secs(5);
const START_ATTEMPTS: usize = 3;
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The first `name` found on `$PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[derive(Debug)]
pub struct EtcdMember {
    pub name: String,
    pub client_addr: SocketAddr,
    pub peer_addr: SocketAddr,
    process: ChildProcess,
}

/// A running etcd cluster on 127.0.0.1. Dropping it kills every member.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<EtcdMember>,
    etcdctl: Option<PathBuf>,
    // Declared after `members`: the spawner thread must outlive them.
    _spawner: Spawner,
}

impl EtcdCluster {
    /// Starts `count` members named m1..mN with data dirs and logs
    /// (`<dir>/etcd-mN.log`) under `dir`, and waits until each serves a
    /// linearizable read (so a leader exists). Retries on fresh ports if a
    /// port was taken.
    pub async fn start(
        etcd: &Path,
        count: usize,
        dir: &Path,
        startup_timeout: Duration,
    ) -> Result<Self, HarnessError> {
        let spawner = Spawner::new().map_err(|source| HarnessError::Io {
            context: "starting the spawner thread".to_owned(),
            source,
        })?;
        let mut reserved = std::collections::HashSet::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let attempt_dir = dir.join(format!("etcd-{attempt}"));
            let mut members = spawn_members(&spawner, etcd, count, &attempt_dir, &mut reserved)?;
            match wait_ready(&mut members, startup_timeout).await {
                Ok(()) => {
                    return Ok(EtcdCluster {
                        members,
                        etcdctl: which("etcdctl"),
                        _spawner: spawner,
                    });
                }
                Err(HarnessError::StartFailed {
                    addr_in_use: true,
                    name,
                    ..
                }) if attempt < START_ATTEMPTS => {
                    tracing::info!(%name, attempt, "etcd port taken; retrying on fresh ports");
                    // Dropping the members kills them.
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub fn members(&self) -> &[EtcdMember] {
        &self.members
    }

    pub fn client_addrs(&self) -> Vec<SocketAddr> {
        self.members.iter().map(|m| m.client_addr).collect()
    }

    /// The leader's client address per `etcdctl endpoint status`; `None`
    /// when etcdctl is not installed.
    pub async fn leader(&self) -> Result<Option<SocketAddr>, HarnessError> {
        let Some(etcdctl) = &self.etcdctl else {
            return Ok(None);
        };
        let endpoints = self
            .members
            .iter()
            .map(|m| format!("http://{}", m.client_addr))
            .collect::<Vec<_>>()
            .join(",");
        let output = tokio::time::timeout(
            ETCDCTL_TIMEOUT,
            tokio::process::Command::new(etcdctl)
                .env("ETCDCTL_API", "3")
                .arg(format!("--endpoints={endpoints}"))
                .args(["endpoint", "status", "-w", "json"])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .map_err(|_| HarnessError::Io {
            context: format!("etcdctl endpoint status ({endpoints})"),
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"),
        })?
        .map_err(|source| HarnessError::Io {
            context: format!("running {}", etcdctl.display()),
            source,
        })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let leader = leader_endpoint(&stdout).ok_or_else(|| HarnessError::Io {
            context: format!(
                "etcdctl endpoint status: no agreed leader in {stdout:?} (stderr {:?})",
                String::from_utf8_lossy(&output.stderr)
            ),
            source: std::io::Error::other("no leader"),
        })?;
        let addr = leader.trim_start_matches("http://");
        self.members
            .iter()
            .find(|m| m.client_addr.to_string() == addr)
            .map(|m| Some(m.client_addr))
            .ok_or_else(|| HarnessError::Io {
                context: format!("etcdctl named leader {leader}, not one of {endpoints}"),
                source: std::io::Error::other("unknown leader endpoint"),
            })
    }
}

async fn wait_ready(members: &mut [EtcdMember], timeout: Duration) -> Result<(), HarnessError> {
    let deadline = Instant::now() + timeout;
    let options = ClientOptions {
        connect_timeout: PROBE_TIMEOUT,
        request_timeout: PROBE_TIMEOUT,
    };
    let mut ready = vec![false; members.len()];
    loop {
        for (member, ready) in members.iter_mut().zip(ready.iter_mut()) {
            let exited = member
                .process
                .try_wait()
                .map_err(|source| HarnessError::Io {
                    context: format!("waiting for {}", member.process.name()),
                    source,
                })?;
            if let Some(status) = exited {
                return Err(HarnessError::StartFailed {
                    name: member.process.name().to_owned(),
                    reason: format!("exited with {status}"),
                    log: member.process.log_path().to_path_buf(),
                    tail: member.process.output_tail(),
                    addr_in_use: mentions_addr_in_use(&member.process.output()),
                });
            }
            if !*ready {
                *ready = linearizable_read(&member.client_addr.to_string(), &options).await;
            }
        }
        if ready.iter().all(|r| *r) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let pending = members
                .iter()
                .zip(&ready)
                .find(|(_, r)| !**r)
                .map(|(m, _)| m)
                .expect("invariant: not all members are ready");
            return Err(HarnessError::StartFailed {
                name: pending.process.name().to_owned(),
                reason: format!("no linearizable read within {} ms", millis(timeout)),
                log: pending.process.log_path().to_path_buf(),
                tail: pending.process.output_tail(),
                addr_in_use: false,
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn spawn_members(
    spawner: &Spawner,
    etcd: &Path,
    count: usize,
    dir: &Path,
    reserved: &mut std::collections::HashSet<u16>,
) -> Result<Vec<EtcdMember>, HarnessError> {
    std::fs::create_dir_all(dir).map_err(|source| HarnessError::Io {
        context: format!("creating {}", dir.display()),
        source,
    })?;
    let ports = pick_ports(count * 2, reserved).map_err(|source| HarnessError::Io {
        context: "picking free ports".to_owned(),
        source,
    })?;
    let addrs: Vec<(SocketAddr, SocketAddr)> = ports
        .chunks_exact(2)
        .map(|p| {
            (
                SocketAddr::from(([127, 0, 0, 1], p[0])),
                SocketAddr::from(([127, 0, 0, 1], p[1])),
            )
        })
        .collect();
    let initial_cluster = addrs
        .iter()
        .enumerate()
        .map(|(i, (_, peer))| format!("m{}=http://{peer}", i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let mut members = Vec::with_capacity(count);
    for (i, (client_addr, peer_addr)) in addrs.into_iter().enumerate() {
        let name = format!("m{}", i + 1);
        let client_url = format!("http://{client_addr}");
        let peer_url = format!("http://{peer_addr}");
        let data_dir = dir.join(&name);
        let args: Vec<OsString> = [
            "--name",
            &name,
            "--data-dir",
            &data_dir.to_string_lossy(),
            "--listen-client-urls",
            &client_url,
            "--advertise-client-urls",
            &client_url,
            "--listen-peer-urls",
            &peer_url,
            "--initial-advertise-peer-urls",
            &peer_url,
            "--initial-cluster",
            &initial_cluster,
            "--initial-cluster-state",
            "new",
            "--quota-backend-bytes",
            &QUOTA_BACKEND_BYTES.to_string(),
            "--logger",
            "zap",
            "--log-outputs",
            "stderr",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let spec = ProcessSpec {
            name: format!("etcd {name}"),
            program: etcd.to_path_buf(),
            args,
            env: Vec::new(),
            log_path: dir.join(format!("etcd-{name}.log")),
        };
        let process = ChildProcess::spawn(spawner, &spec).map_err(|source| HarnessError::Io {
            context: format!("starting {}", spec.name),
            source,
        })?;
        members.push(EtcdMember {
            name,
            client_addr,
            peer_addr,
            process,
        });
    }
    Ok(members)
}

async fn linearizable_read(addr: &str, options: &ClientOptions) -> bool {
    let Ok(channel) = channel(addr, options) else {
        return false;
    };
    let mut kv = KvClient::new(channel);
    let read = kv.range(RangeRequest {
        key: b"/bench/ready".to_vec(),
        ..RangeRequest::default()
    });
    matches!(
        tokio::time::timeout(options.request_timeout, read).await,
        Ok(Ok(_))
    )
}

/// The endpoint of the leader in `etcdctl endpoint status -w json` output:
/// the entry whose own member id is the leader every entry names.
pub fn leader_endpoint(json: &str) -> Option<String> {
    let entries: Vec<serde_json::Value> = serde_json::from_str(json).ok()?;
    let mut leader = None;
    let mut leader_endpoint = None;
    for entry in &entries {
        let status = entry.get("Status")?;
        let named = status.get("leader")?.as_u64()?;
        if named == 0 || leader.is_some_and(|l| l != named) {
            return None;
        }
        leader = Some(named);
        let member_id = status.get("header")?.get("member_id")?.as_u64()?;
        if member_id == named {
            leader_endpoint = Some(entry.get("Endpoint")?.as_str()?.to_owned());
        }
    }
    leader_endpoint
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = r#"[{"Endpoint":"http://127.0.0.1:40001","Status":{"header":{"cluster_id":17237436991929493444,"member_id":9372538179322589801,"revision":1,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":10501334649042878790,"raftIndex":8,"raftTerm":2,"raftAppliedIndex":8,"dbSizeInUse":16384}},{"Endpoint":"http://127.0.0.1:40003","Status":{"header":{"cluster_id":17237436991929493444,"member_id":10501334649042878790,"revision":1,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":10501334649042878790,"raftIndex":8,"raftTerm":2,"raftAppliedIndex":8,"dbSizeInUse":16384}}]"#;

    #[test]
    fn leader_endpoint_is_the_self_named_leader() {
        assert_eq!(
            leader_endpoint(STATUS).as_deref(),
            Some("http://127.0.0.1:40003")
        );
    }

    #[test]
    fn no_leader_without_agreement_or_self_report() {
        let disagree = STATUS.replacen("\"leader\":10501334649042878790", "\"leader\":1", 1);
        assert_eq!(leader_endpoint(&disagree), None);
        let absent = STATUS.replace("\"member_id\":10501334649042878790", "\"member_id\":5");
        assert_eq!(leader_endpoint(&absent), None);
        assert_eq!(leader_endpoint("not json"), None);
    }
}
