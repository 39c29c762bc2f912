//! Operator commands that talk to members over gRPC: status, member
//! changes, snapshots, and direct key/value access for debugging.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use anyhow::bail;
use clap::Args;
use clap::Subcommand;
use futures::StreamExt;
use raftplane_proto::MAX_MESSAGE_BYTES;
use raftplane_proto::v1 as pb;
use raftplane_proto::v1::cluster_client::ClusterClient;
use raftplane_proto::v1::kv_client::KvClient;
use tonic::transport::Channel;
use tonic::transport::Endpoint;

use crate::up::ClusterLayout;

#[derive(Args, Debug, Clone)]
pub struct EndpointArgs {
    /// Members' peer addresses (comma-separated). Default: the members of
    /// the cluster `raftplane up` runs in --data-dir.
    #[arg(long, value_delimiter = ',')]
    pub endpoints: Vec<String>,
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    pub data_dir: PathBuf,
}

impl EndpointArgs {
    fn endpoints(&self) -> anyhow::Result<Vec<String>> {
        if !self.endpoints.is_empty() {
            return Ok(self.endpoints.clone());
        }
        match ClusterLayout::load(&self.data_dir)? {
            Some(layout) => Ok(layout.members.iter().map(|m| m.peer_addr.clone()).collect()),
            None => bail!(
                "no --endpoints given and no cluster in {} (start one with `raftplane up`)",
                self.data_dir.display()
            ),
        }
    }
}

async fn channel(addr: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(format!("http://{addr}"))
        .with_context(|| format!("bad endpoint {addr:?}"))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("cannot reach member at {addr}"))
}

async fn cluster_client(addr: &str) -> anyhow::Result<ClusterClient<Channel>> {
    Ok(ClusterClient::new(channel(addr).await?))
}

/// The first endpoint that answers.
async fn any_cluster_client(args: &EndpointArgs) -> anyhow::Result<ClusterClient<Channel>> {
    let mut last = None;
    for addr in args.endpoints()? {
        match cluster_client(&addr).await {
            Ok(c) => return Ok(c),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no endpoints")))
}

pub async fn status(args: EndpointArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for addr in args.endpoints()? {
        let s = async {
            let mut c = cluster_client(&addr).await?;
            anyhow::Ok(c.status(pb::StatusRequest {}).await?.into_inner())
        }
        .await;
        rows.push((addr, s));
    }
    let leader_last = rows
        .iter()
        .filter_map(|(_, s)| s.as_ref().ok())
        .find(|s| s.role == "leader")
        .map(|s| s.last_log_index);
    println!(
        "{:<4} {:<10} {:>5} {:>6} {:>9} {:>9} {:>9} {:>6} {:>9} {:<21} {:<21}",
        "ID",
        "ROLE",
        "TERM",
        "LEADER",
        "LAST-LOG",
        "COMMITTED",
        "APPLIED",
        "LAG",
        "REVISION",
        "PEER",
        "API"
    );
    let mut reachable = 0;
    for (addr, s) in &rows {
        match s {
            Ok(s) => {
                reachable += 1;
                let lag = leader_last
                    .map(|l| l.saturating_sub(s.applied_index).to_string())
                    .unwrap_or_else(|| "?".into());
                println!(
                    "{:<4} {:<10} {:>5} {:>6} {:>9} {:>9} {:>9} {:>6} {:>9} {:<21} {:<21}",
                    s.id,
                    s.role,
                    s.term,
                    s.leader_id
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "-".into()),
                    s.last_log_index,
                    s.committed_index,
                    s.applied_index,
                    lag,
                    s.revision,
                    s.peer_addr,
                    s.api_addr
                );
            }
            Err(e) => println!("?    {:<10} {addr}: {e:#}", "unreachable"),
        }
    }
    if reachable == 0 {
        bail!("no member reachable");
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Add a member as a learner, wait for it to catch up, and (unless
    /// --learner) promote it to voter. Start its process with --join first.
    Add {
        #[command(flatten)]
        endpoints: EndpointArgs,
        #[arg(long)]
        id: u64,
        #[arg(long)]
        peer_addr: String,
        #[arg(long, default_value = "")]
        api_addr: String,
        #[arg(long)]
        learner: bool,
    },
    /// Promote a learner to voter.
    Promote {
        #[command(flatten)]
        endpoints: EndpointArgs,
        #[arg(long)]
        id: u64,
    },
    /// Remove a member (voter or learner).
    Remove {
        #[command(flatten)]
        endpoints: EndpointArgs,
        #[arg(long)]
        id: u64,
    },
    /// List the members.
    List {
        #[command(flatten)]
        endpoints: EndpointArgs,
    },
}

fn print_members(reply: pb::MembershipReply) {
    println!("{:<4} {:<7} {:<21} {:<21}", "ID", "VOTER", "PEER", "API");
    for m in reply.members {
        println!(
            "{:<4} {:<7} {:<21} {:<21}",
            m.id, m.voter, m.peer_addr, m.api_addr
        );
    }
}

pub async fn member(cmd: MemberCommand) -> anyhow::Result<()> {
    let reply = match cmd {
        MemberCommand::Add {
            endpoints,
            id,
            peer_addr,
            api_addr,
            learner,
        } => {
            let mut c = any_cluster_client(&endpoints).await?;
            c.add_member(pb::AddMemberRequest {
                id,
                peer_addr,
                api_addr,
                promote: !learner,
            })
            .await?
            .into_inner()
        }
        MemberCommand::Promote { endpoints, id } => any_cluster_client(&endpoints)
            .await?
            .promote_member(pb::MemberIdRequest { id })
            .await?
            .into_inner(),
        MemberCommand::Remove { endpoints, id } => any_cluster_client(&endpoints)
            .await?
            .remove_member(pb::MemberIdRequest { id })
            .await?
            .into_inner(),
        MemberCommand::List { endpoints } => {
            let s = any_cluster_client(&endpoints)
                .await?
                .status(pb::StatusRequest {})
                .await?
                .into_inner();
            pb::MembershipReply { members: s.members }
        }
    };
    print_members(reply);
    Ok(())
}

#[derive(Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    endpoints: EndpointArgs,
}

pub async fn snapshot(args: SnapshotArgs) -> anyhow::Result<()> {
    let r = any_cluster_client(&args.endpoints)
        .await?
        .snapshot(pb::SnapshotRequest {})
        .await?
        .into_inner();
    println!(
        "snapshot at log index {}; log purged up to {}",
        r.snapshot_index, r.purged_index
    );
    Ok(())
}

#[derive(Subcommand)]
pub enum KvCommand {
    /// Put a value.
    Put {
        #[command(flatten)]
        endpoints: EndpointArgs,
        key: String,
        value: String,
    },
    /// Get a key, or every key under a prefix.
    Get {
        #[command(flatten)]
        endpoints: EndpointArgs,
        key: String,
        #[arg(long)]
        prefix: bool,
        /// Read at this revision (0 = latest).
        #[arg(long, default_value_t = 0)]
        revision: u64,
    },
    /// Delete a key.
    Del {
        #[command(flatten)]
        endpoints: EndpointArgs,
        key: String,
    },
    /// Print changes to a key or prefix until interrupted.
    Watch {
        #[command(flatten)]
        endpoints: EndpointArgs,
        key: String,
        #[arg(long)]
        prefix: bool,
        /// Start at this revision (0 = now).
        #[arg(long, default_value_t = 0)]
        revision: u64,
    },
}

async fn kv_client(args: &EndpointArgs) -> anyhow::Result<KvClient<Channel>> {
    let mut last = None;
    for addr in args.endpoints()? {
        match channel(&addr).await {
            Ok(ch) => {
                return Ok(KvClient::new(ch)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no endpoints")))
}

fn range_end(key: &str, prefix: bool) -> Vec<u8> {
    if prefix {
        raftplane_store::prefix_end(key.as_bytes()).to_vec()
    } else {
        Vec::new()
    }
}

pub async fn kv(cmd: KvCommand) -> anyhow::Result<()> {
    match cmd {
        KvCommand::Put {
            endpoints,
            key,
            value,
        } => {
            let op = pb::Op {
                op: Some(pb::op::Op::Put(pb::Put {
                    key: key.into_bytes(),
                    value: value.into_bytes(),
                })),
            };
            let r = kv_client(&endpoints)
                .await?
                .txn(pb::TxnRequest {
                    success: vec![op],
                    ..Default::default()
                })
                .await?;
            println!("revision {}", r.into_inner().revision);
        }
        KvCommand::Del { endpoints, key } => {
            let op = pb::Op {
                op: Some(pb::op::Op::Delete(pb::Delete {
                    key: key.into_bytes(),
                })),
            };
            let r = kv_client(&endpoints)
                .await?
                .txn(pb::TxnRequest {
                    success: vec![op],
                    ..Default::default()
                })
                .await?;
            println!("revision {}", r.into_inner().revision);
        }
        KvCommand::Get {
            endpoints,
            key,
            prefix,
            revision,
        } => {
            let end = range_end(&key, prefix);
            let r = kv_client(&endpoints)
                .await?
                .range(pb::RangeRequest {
                    key: key.into_bytes(),
                    range_end: end,
                    revision,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for kv in r.kvs {
                println!(
                    "{} (mod {} create {} version {})\n{}",
                    String::from_utf8_lossy(&kv.key),
                    kv.mod_revision,
                    kv.create_revision,
                    kv.version,
                    String::from_utf8_lossy(&kv.value)
                );
            }
            eprintln!("# revision {}", r.revision);
        }
        KvCommand::Watch {
            endpoints,
            key,
            prefix,
            revision,
        } => {
            let end = range_end(&key, prefix);
            let mut stream = kv_client(&endpoints)
                .await?
                .watch(pb::WatchRequest {
                    key: key.into_bytes(),
                    range_end: end,
                    start_revision: revision,
                })
                .await?
                .into_inner();
            while let Some(resp) = stream.next().await {
                let resp = resp?;
                for e in resp.events {
                    let kind = if e.r#type == pb::event::Type::Delete as i32 {
                        "DELETE"
                    } else {
                        "PUT"
                    };
                    let kv = e.kv.unwrap_or_default();
                    println!(
                        "{} {kind} {} {}",
                        resp.revision,
                        String::from_utf8_lossy(&kv.key),
                        String::from_utf8_lossy(&kv.value)
                    );
                }
            }
        }
    }
    Ok(())
}
