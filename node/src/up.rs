//! `raftplane up`: a local N-member cluster of real `raftplane serve`
//! processes on 127.0.0.1. The layout (ids, ports) is saved in
//! `<data-dir>/cluster.json`, so running `up` again resumes the same
//! cluster from the same data.

use std::path::Path;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use anyhow::bail;
use clap::Args;
use raftplane_proto::v1 as pb;
use raftplane_proto::v1::cluster_client::ClusterClient;
use serde::Deserialize;
use serde::Serialize;
use tokio::process::Child;
use tokio::process::Command;

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Number of members (odd: 3 or 5 for a quorum that survives failures).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=7))]
    pub members: u64,
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    pub data_dir: PathBuf,
    /// Peer (gRPC) port of member 1; member N uses this + N - 1.
    #[arg(long, default_value_t = 7001)]
    pub peer_port: u16,
    /// API (HTTP) port of member 1; member N uses this + N - 1.
    #[arg(long, default_value_t = 6443)]
    pub api_port: u16,
    /// Seconds to wait for a leader.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayoutMember {
    pub id: u64,
    pub peer_addr: String,
    pub api_addr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterLayout {
    pub members: Vec<LayoutMember>,
}

impl ClusterLayout {
    fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("cluster.json")
    }

    pub fn load(data_dir: &Path) -> anyhow::Result<Option<ClusterLayout>> {
        let path = Self::path(data_dir);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(
                serde_json::from_slice(&b)
                    .with_context(|| format!("corrupt {}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn save(&self, data_dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let path = Self::path(data_dir);
        std::fs::write(&path, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    fn initial_cluster(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("{}={}", m.id, m.peer_addr))
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = std::path::absolute(&args.data_dir).context("bad --data-dir")?;
    let layout = match ClusterLayout::load(&data_dir)? {
        Some(l) => {
            if l.members.len() as u64 != args.members {
                eprintln!(
                    "note: {} holds a {}-member cluster; resuming it as it is",
                    data_dir.display(),
                    l.members.len()
                );
            }
            l
        }
        None => {
            let l = ClusterLayout {
                members: (1..=args.members)
                    .map(|id| {
                        let off = u16::try_from(id - 1).expect("invariant: at most 7 members");
                        LayoutMember {
                            id,
                            peer_addr: format!("127.0.0.1:{}", args.peer_port + off),
                            api_addr: format!("127.0.0.1:{}", args.api_port + off),
                        }
                    })
                    .collect(),
            };
            l.save(&data_dir)?;
            l
        }
    };
    for m in &layout.members {
        for addr in [&m.peer_addr, &m.api_addr] {
            if std::net::TcpListener::bind(addr.as_str()).is_err() {
                bail!(
                    "{addr} is in use: is a cluster already running from {}? (or pick other ports)",
                    data_dir.display()
                );
            }
        }
    }
    let exe = std::env::current_exe().context("cannot find the raftplane executable")?;
    let initial = layout.initial_cluster();
    let mut children: Vec<(u64, Child)> = Vec::new();
    for m in &layout.members {
        children.push((m.id, spawn_member(&exe, &data_dir, m, &initial)?));
    }
    let result = wait_and_report(
        &layout,
        &data_dir,
        Duration::from_secs(args.timeout_secs),
        &mut children,
    )
    .await;
    if let Err(e) = result {
        stop_all(&mut children).await;
        return Err(e);
    }
    // Supervise: a member that dies (killed by a chaos test, say) is
    // restarted from its data after a pause, like a service manager would.
    use tokio::signal::unix::SignalKind;
    use tokio::signal::unix::signal;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = hangup.recv() => break,
            (idx, status) = first_exit(&mut children) => {
                let id = children[idx].0;
                eprintln!("member {id} exited ({status}); restarting it in 1s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                let m = layout.members.iter().find(|m| m.id == id).context("invariant: child has a layout entry")?;
                children[idx].1 = spawn_member(&exe, &data_dir, m, &initial)?;
            }
        }
    }
    println!("\nstopping...");
    stop_all(&mut children).await;
    println!(
        "stopped; `raftplane up --data-dir {}` resumes the cluster",
        data_dir.display()
    );
    Ok(())
}

fn spawn_member(
    exe: &Path,
    data_dir: &Path,
    m: &LayoutMember,
    initial: &str,
) -> anyhow::Result<Child> {
    let dir = data_dir.join(format!("member-{}", m.id));
    std::fs::create_dir_all(&dir)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("member.log"))?;
    let mut command = Command::new(exe);
    command
        .arg("serve")
        .args(["--id", &m.id.to_string()])
        .arg("--data-dir")
        .arg(&dir)
        .args([
            "--peer-addr",
            &m.peer_addr,
            "--api-addr",
            &m.api_addr,
            "--initial-cluster",
            initial,
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Ctrl-C reaches the whole process group; members get SIGTERM from
        // stop_all instead, in order.
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
    // If `up` itself dies (even by SIGKILL), its members get SIGTERM.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    command
        .spawn()
        .with_context(|| format!("cannot start member {}", m.id))
}

async fn wait_and_report(
    layout: &ClusterLayout,
    data_dir: &Path,
    timeout: Duration,
    children: &mut [(u64, Child)],
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    let leader = loop {
        for (id, child) in children.iter_mut() {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "member {id} exited during start-up ({status}); see {}",
                    data_dir.join(format!("member-{id}/member.log")).display()
                );
            }
        }
        let mut found = None;
        for m in &layout.members {
            if let Ok(Ok(mut c)) = tokio::time::timeout(
                Duration::from_millis(500),
                ClusterClient::connect(format!("http://{}", m.peer_addr)),
            )
            .await
                && let Ok(s) = c.status(pb::StatusRequest {}).await
                && let Some(l) = s.into_inner().leader_id
            {
                found = Some(l);
                break;
            }
        }
        if let Some(l) = found {
            break l;
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "no leader elected within {}s; see the member logs in {}",
                timeout.as_secs(),
                data_dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "raftplane: {}-member cluster running, leader is member {leader}",
        layout.members.len()
    );
    println!();
    println!(
        "{:<4} {:<8} {:<22} {:<22} DATA",
        "ID", "PID", "PEER (gRPC)", "API (HTTP)"
    );
    for (m, (_, child)) in layout.members.iter().zip(children.iter()) {
        println!(
            "{:<4} {:<8} {:<22} {:<22} {}",
            m.id,
            child.id().map(|p| p.to_string()).unwrap_or_default(),
            m.peer_addr,
            m.api_addr,
            data_dir.join(format!("member-{}", m.id)).display()
        );
    }
    let kubeconfig = write_kubeconfig(layout, data_dir)?;
    println!();
    println!("Point kubectl at it:");
    println!("  export KUBECONFIG={}", kubeconfig.display());
    println!("  kubectl get namespaces");
    println!("(plain HTTP on 127.0.0.1 and no authentication until TLS and RBAC land.)");
    println!();
    println!(
        "Cluster status:   raftplane status --data-dir {}",
        data_dir.display()
    );
    println!("Ctrl-C stops every member.");
    Ok(())
}

fn write_kubeconfig(layout: &ClusterLayout, data_dir: &Path) -> anyhow::Result<PathBuf> {
    let first = layout.members.first().context("empty cluster layout")?;
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: raftplane\n  cluster:\n    server: http://{}\ncontexts:\n- name: raftplane\n  context:\n    cluster: raftplane\n    user: admin\ncurrent-context: raftplane\nusers:\n- name: admin\n  user: {{}}\n",
        first.api_addr
    );
    let path = data_dir.join("admin.kubeconfig");
    std::fs::write(&path, yaml).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

async fn first_exit(children: &mut [(u64, Child)]) -> (usize, std::process::ExitStatus) {
    loop {
        for (idx, (_, child)) in children.iter_mut().enumerate() {
            if let Ok(Some(status)) = child.try_wait() {
                return (idx, status);
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// SIGTERM every member, then SIGKILL whatever is left after 10 s.
async fn stop_all(children: &mut [(u64, Child)]) {
    for (_, child) in children.iter() {
        if let Some(pid) = child.id() {
            // SAFETY: kill(2) with a pid we spawned and have not reaped.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
        }
    }
    for (_, child) in children.iter_mut() {
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
}
